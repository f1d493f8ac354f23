//! Plate text: normalisation and the New Zealand format profile.

use crate::DomainError;
use serde::{Deserialize, Serialize};
use std::fmt;

/// Longest normalised plate accepted. The longest plates in use worldwide are 10 characters;
/// anything longer is not a plate read but garbage from the camera.
pub const MAX_PLATE_LEN: usize = 10;

/// A plate reduced to uppercase `A-Z0-9`, the form every index and comparison uses.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct NormalisedPlate(String);

/// Which plate format a normalised plate fits. Plates that fit no known format are stored and
/// flagged (`Unknown`), never rejected: foreign vehicles are real.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PlateFormat {
    /// Current standard issue: three letters, three digits (`ABC123`).
    NzStandard,
    /// Older standard issue: two letters, four digits (`AB1234`), or two letters, three digits.
    NzOld,
    /// Personalised: one to six letters and digits.
    NzPersonalised,
    /// Fits no New Zealand format (foreign, trade, or misread).
    Unknown,
}

impl PlateFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            PlateFormat::NzStandard => "nz_standard",
            PlateFormat::NzOld => "nz_old",
            PlateFormat::NzPersonalised => "nz_personalised",
            PlateFormat::Unknown => "unknown",
        }
    }

    pub fn is_known(self) -> bool {
        self != PlateFormat::Unknown
    }
}

impl NormalisedPlate {
    /// Normalises plate text as a camera reported it: separators (space, dash, dot, middle dot)
    /// are dropped and letters upper-cased. Anything else that is not `A-Z0-9` is refused, since
    /// no plate carries it and accepting it would pollute the dictionary.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let mut out = String::with_capacity(raw.len().min(16));
        for ch in raw.chars() {
            match ch {
                ' ' | '-' | '.' | '·' | '\t' => continue,
                'a'..='z' => out.push(ch.to_ascii_uppercase()),
                'A'..='Z' | '0'..='9' => out.push(ch),
                other => {
                    return Err(DomainError::invalid(
                        "plate",
                        format!("character {other:?} cannot appear on a plate (only A-Z and 0-9)"),
                    ))
                }
            }
            if out.len() > MAX_PLATE_LEN {
                return Err(DomainError::invalid(
                    "plate",
                    format!("longer than {MAX_PLATE_LEN} characters"),
                ));
            }
        }
        if out.is_empty() {
            return Err(DomainError::invalid("plate", "is empty"));
        }
        Ok(NormalisedPlate(out))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    pub fn into_string(self) -> String {
        self.0
    }

    /// The New Zealand format this plate fits, most specific first.
    pub fn format(&self) -> PlateFormat {
        nz_format(self.0.as_bytes())
    }
}

fn nz_format(p: &[u8]) -> PlateFormat {
    let letters = p.iter().take_while(|c| c.is_ascii_uppercase()).count();
    let digits_after = p[letters..].iter().all(|c| c.is_ascii_digit());
    match (p.len(), letters, digits_after) {
        (6, 3, true) => PlateFormat::NzStandard,
        (6, 2, true) | (5, 2, true) => PlateFormat::NzOld,
        (1..=6, _, _) => PlateFormat::NzPersonalised,
        _ => PlateFormat::Unknown,
    }
}

impl fmt::Display for NormalisedPlate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl TryFrom<String> for NormalisedPlate {
    type Error = DomainError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        NormalisedPlate::parse(&s)
    }
}

impl From<NormalisedPlate> for String {
    fn from(p: NormalisedPlate) -> String {
        p.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn normalises_separators_and_case() {
        assert_eq!(
            NormalisedPlate::parse("abc-123").unwrap().as_str(),
            "ABC123"
        );
        assert_eq!(
            NormalisedPlate::parse(" AB 1234 ").unwrap().as_str(),
            "AB1234"
        );
    }

    #[test]
    fn classifies_nz_formats() {
        let f = |s: &str| NormalisedPlate::parse(s).unwrap().format();
        assert_eq!(f("ABC123"), PlateFormat::NzStandard);
        assert_eq!(f("AB1234"), PlateFormat::NzOld);
        assert_eq!(f("COOL1"), PlateFormat::NzPersonalised);
        assert_eq!(f("Z"), PlateFormat::NzPersonalised);
        assert_eq!(f("ABCD1234"), PlateFormat::Unknown);
    }

    #[test]
    fn refuses_absurd_plates() {
        assert!(NormalisedPlate::parse("").is_err());
        assert!(NormalisedPlate::parse(" - ").is_err());
        assert!(NormalisedPlate::parse("🚗🚗").is_err());
        assert!(NormalisedPlate::parse(&"A".repeat(40)).is_err());
        assert!(NormalisedPlate::parse("AB'; DROP TABLE").is_err());
        assert_eq!(NormalisedPlate::parse("ÄBC").unwrap_err().field(), "plate");
    }

    proptest! {
        #[test]
        fn normalised_output_is_always_clean(s in "\\PC{0,30}") {
            if let Ok(p) = NormalisedPlate::parse(&s) {
                prop_assert!(!p.as_str().is_empty() && p.as_str().len() <= MAX_PLATE_LEN);
                prop_assert!(p.as_str().bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit()));
                prop_assert_eq!(NormalisedPlate::parse(p.as_str()).unwrap(), p.clone());
            }
        }
    }
}

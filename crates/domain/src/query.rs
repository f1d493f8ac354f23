//! The historical-search query language: which plates, when, where.

use crate::confusion::{class_key, edit_distance_within};
use crate::geo::Area;
use crate::model::{CameraId, NetworkId, SiteId};
use crate::plate::{NormalisedPlate, MAX_PLATE_LEN};
use crate::DomainError;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Most edits a fuzzy query may allow: beyond two, a six-character plate matches half the
/// country and the search stops being targeted.
pub const MAX_FUZZY_EDITS: u8 = 2;
/// Most results one page may hold.
pub const MAX_PAGE_SIZE: u32 = 1000;
pub const DEFAULT_PAGE_SIZE: u32 = 50;

/// Which plates a search is about.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlatePattern {
    /// One plate, exactly.
    Exact(NormalisedPlate),
    /// `?` stands for one character, `*` for any run of characters (uppercase, separators dropped).
    Wildcard(String),
    /// Plates equal up to OCR confusions (0/O/D/Q, 1/I/L/T/7, 2/Z, 3/8/B, 4/A, 5/S, 6/G; see
    /// [`crate::confusion`]) and at most `max_edits` further insertions, deletions or
    /// substitutions.
    Fuzzy {
        plate: NormalisedPlate,
        max_edits: u8,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MatchMode {
    Exact,
    Wildcard,
    Fuzzy,
}

impl PlatePattern {
    /// Parses a plate query. Without an explicit mode, text holding `?` or `*` is a wildcard
    /// query and anything else an exact one.
    pub fn parse(
        text: &str,
        mode: Option<MatchMode>,
        max_edits: Option<u8>,
    ) -> Result<Self, DomainError> {
        let has_wildcards = text.contains(['?', '*']);
        let mode = mode.unwrap_or(if has_wildcards {
            MatchMode::Wildcard
        } else {
            MatchMode::Exact
        });
        match mode {
            MatchMode::Exact => Ok(PlatePattern::Exact(NormalisedPlate::parse(text)?)),
            MatchMode::Fuzzy => {
                let max_edits = max_edits.unwrap_or(1);
                if max_edits > MAX_FUZZY_EDITS {
                    return Err(DomainError::invalid(
                        "max_edits",
                        format!("at most {MAX_FUZZY_EDITS}"),
                    ));
                }
                let plate = NormalisedPlate::parse(text)?;
                let known = plate.as_str().chars().count();
                let needed = usize::from(max_edits) + 2;
                if known < needed {
                    return Err(DomainError::invalid(
                        "plate",
                        format!(
                            "a fuzzy search for {} allowing {max_edits} edit{} would match \
                             plates that share almost nothing with it: give at least {needed} \
                             characters of the plate, or allow fewer edits",
                            plate.as_str(),
                            if max_edits == 1 { "" } else { "s" }
                        ),
                    ));
                }
                Ok(PlatePattern::Fuzzy { plate, max_edits })
            }
            MatchMode::Wildcard => parse_wildcard(text).map(PlatePattern::Wildcard),
        }
    }

    pub fn mode(&self) -> MatchMode {
        match self {
            PlatePattern::Exact(_) => MatchMode::Exact,
            PlatePattern::Wildcard(_) => MatchMode::Wildcard,
            PlatePattern::Fuzzy { .. } => MatchMode::Fuzzy,
        }
    }

    /// The pattern as text (`ABC123`, `AB?12*`, `ABC123~1`).
    pub fn describe(&self) -> String {
        match self {
            PlatePattern::Exact(p) => p.to_string(),
            PlatePattern::Wildcard(w) => w.clone(),
            PlatePattern::Fuzzy { plate, max_edits } => format!("{plate}~{max_edits}"),
        }
    }
}

impl PlatePattern {
    /// Whether a search by this pattern could return reads of `plate` (normalised), counting
    /// OCR confusions as the same character: a fuzzy pattern covers what its edits reach from
    /// its class key, a wildcard what it matches over class keys (`AJC7S?` covers AJC758, a
    /// plate a camera may read as AJC7S8). The one answer to "would this query have reached
    /// that vehicle", for the policy's exclusions and the integrity rules alike.
    pub fn covers(&self, plate: &str) -> bool {
        match self {
            PlatePattern::Exact(p) => p.as_str() == plate,
            PlatePattern::Wildcard(w) => wildcard_matches(&class_key(w), &class_key(plate)),
            PlatePattern::Fuzzy {
                plate: p,
                max_edits,
            } => edit_distance_within(
                &class_key(p.as_str()),
                &class_key(plate),
                usize::from(*max_edits),
            ),
        }
    }

    /// How many characters of a plate the pattern leaves open: 0 for an exact plate, the `?`s
    /// of a wildcard (a `*` counts as three), a fuzzy pattern's edits. A small number means a
    /// query aimed at very few plates.
    pub fn openness(&self) -> u32 {
        match self {
            PlatePattern::Exact(_) => 0,
            PlatePattern::Wildcard(w) => w
                .chars()
                .map(|c| match c {
                    '?' => 1,
                    '*' => 3,
                    _ => 0,
                })
                .sum(),
            PlatePattern::Fuzzy { max_edits, .. } => u32::from(*max_edits),
        }
    }
}

/// Fewest literal characters a wildcard pattern needs: `*` alone would ask for every plate.
pub const MIN_WILDCARD_LITERALS: usize = 2;

fn parse_wildcard(text: &str) -> Result<String, DomainError> {
    let mut out = String::new();
    let mut literals = 0;
    for ch in text.chars() {
        match ch {
            ' ' | '-' | '.' => continue,
            '?' => out.push('?'),
            '*' => {
                if !out.ends_with('*') {
                    out.push('*')
                }
            }
            'a'..='z' | 'A'..='Z' | '0'..='9' => {
                literals += 1;
                out.push(ch.to_ascii_uppercase());
            }
            other => {
                return Err(DomainError::invalid(
                    "plate",
                    format!(
                    "character {other:?} is not allowed in a wildcard pattern (A-Z, 0-9, ? and *)"
                ),
                ))
            }
        }
    }
    if out.chars().filter(|c| *c != '*').count() > MAX_PLATE_LEN {
        return Err(DomainError::invalid(
            "plate",
            format!("pattern is longer than a plate ({MAX_PLATE_LEN} characters)"),
        ));
    }
    if literals < MIN_WILDCARD_LITERALS {
        return Err(DomainError::invalid(
            "plate",
            format!("a wildcard pattern needs at least {MIN_WILDCARD_LITERALS} known characters"),
        ));
    }
    Ok(out)
}

/// Whether `plate` matches a wildcard pattern made by [`PlatePattern::parse`]. The reference
/// semantics that indexed matching must agree with.
pub fn wildcard_matches(pattern: &str, plate: &str) -> bool {
    fn go(p: &[u8], s: &[u8]) -> bool {
        match p.split_first() {
            None => s.is_empty(),
            Some((b'*', rest)) => (0..=s.len()).any(|i| go(rest, &s[i..])),
            Some((b'?', rest)) => !s.is_empty() && go(rest, &s[1..]),
            Some((c, rest)) => s.first() == Some(c) && go(rest, &s[1..]),
        }
    }
    go(pattern.as_bytes(), plate.as_bytes())
}

/// A half-open time window `[from, to)`; either end may be open.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct TimeRange {
    pub from: Option<DateTime<Utc>>,
    pub to: Option<DateTime<Utc>>,
}

impl TimeRange {
    pub fn validate(&self) -> Result<(), DomainError> {
        if let (Some(f), Some(t)) = (self.from, self.to) {
            if f > t {
                return Err(DomainError::invalid("time.from", "is after time.to"));
            }
        }
        Ok(())
    }
}

/// Where the previous page ended: results are ordered newest first by (captured_at, id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub captured_at_ms: i64,
    pub read_id: i64,
}

impl Cursor {
    pub fn encode(&self) -> String {
        format!("{}.{}", self.captured_at_ms, self.read_id)
    }

    pub fn decode(s: &str) -> Result<Cursor, DomainError> {
        let bad = || DomainError::invalid("cursor", "is not a cursor returned by a previous page");
        let (ms, id) = s.split_once('.').ok_or_else(bad)?;
        Ok(Cursor {
            captured_at_ms: ms.parse().map_err(|_| bad())?,
            read_id: id.parse().map_err(|_| bad())?,
        })
    }
}

/// A historical search, validated.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub plate: PlatePattern,
    pub time: TimeRange,
    pub area: Option<Area>,
    pub network_ids: Vec<NetworkId>,
    pub site_ids: Vec<SiteId>,
    pub camera_ids: Vec<CameraId>,
    pub limit: u32,
    pub cursor: Option<Cursor>,
    /// Normalised plates whose reads must not be returned (the access policy's own-vehicle
    /// block): they are dropped, each with every plate confusable with it (the same
    /// confusion-class key: a misread of the vehicle), before any read is fetched.
    pub exclude_plates: Vec<String>,
    /// Networks whose reads older than a time of their own must not be returned (their
    /// owners' maximum look-back, as the access policy's grant states it).
    pub network_floors: Vec<(NetworkId, DateTime<Utc>)>,
}

impl SearchQuery {
    pub fn for_plate(plate: PlatePattern) -> Self {
        SearchQuery {
            plate,
            time: TimeRange::default(),
            area: None,
            network_ids: vec![],
            site_ids: vec![],
            camera_ids: vec![],
            limit: DEFAULT_PAGE_SIZE,
            cursor: None,
            exclude_plates: vec![],
            network_floors: vec![],
        }
    }

    pub fn validate(&self) -> Result<(), DomainError> {
        self.time.validate()?;
        if let Some(area) = &self.area {
            area.validate()?;
        }
        if self.limit == 0 || self.limit > MAX_PAGE_SIZE {
            return Err(DomainError::invalid(
                "limit",
                format!("must be between 1 and {MAX_PAGE_SIZE}"),
            ));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_pattern_covers_the_plates_it_could_return_up_to_confusions() {
        let p = |t: &str, m, e| PlatePattern::parse(t, m, e).unwrap();
        assert!(p("AJC7S?", None, None).covers("AJC758"));
        assert!(!p("AJC7S?", None, None).covers("XJC758"));
        assert!(p("AB*", None, None).covers("AB1234"));
        assert!(p("ABC124", Some(MatchMode::Fuzzy), Some(1)).covers("A8C123"));
        assert!(!p("ABC124", Some(MatchMode::Fuzzy), Some(0)).covers("ABC123"));
        assert!(p("ABC123", None, None).covers("ABC123"));
        assert!(!p("ABC123", None, None).covers("A8C123"));
        assert_eq!(p("AB?12*", None, None).openness(), 4);
        assert_eq!(p("ABC123", Some(MatchMode::Fuzzy), Some(2)).openness(), 2);
    }
    use proptest::prelude::*;

    #[test]
    fn mode_is_inferred() {
        assert_eq!(
            PlatePattern::parse("abc 123", None, None).unwrap(),
            PlatePattern::Exact(NormalisedPlate::parse("ABC123").unwrap())
        );
        assert_eq!(
            PlatePattern::parse("ab?12*", None, None).unwrap(),
            PlatePattern::Wildcard("AB?12*".into())
        );
    }

    #[test]
    fn wildcard_rules() {
        assert!(PlatePattern::parse("*", None, None).is_err());
        assert!(PlatePattern::parse("A*", None, None).is_err());
        assert!(PlatePattern::parse("A%B_*", None, None).is_err());
        assert_eq!(
            PlatePattern::parse("AB**1", None, None).unwrap(),
            PlatePattern::Wildcard("AB*1".into())
        );
        assert!(wildcard_matches("AB?12*", "ABC123"));
        assert!(wildcard_matches("AB?12*", "ABX12"));
        assert!(!wildcard_matches("AB?12*", "AB12"));
        assert!(wildcard_matches("*123", "ABC123"));
    }

    #[test]
    fn a_fuzzy_pattern_needs_two_more_known_characters_than_edits() {
        let fuzzy =
            |text: &str, edits: u8| PlatePattern::parse(text, Some(MatchMode::Fuzzy), Some(edits));
        let e = fuzzy("AB", 2).unwrap_err();
        assert!(e.to_string().contains("at least 4 characters"), "{e}");
        assert!(fuzzy("ABC", 2).is_err());
        assert!(fuzzy("ABCD", 2).is_ok());
        assert!(fuzzy("AB", 1).is_err());
        assert!(fuzzy("ABC", 1).is_ok());
        assert!(fuzzy("AB", 0).is_ok());
    }

    #[test]
    fn fuzzy_edits_are_bounded() {
        assert!(PlatePattern::parse("ABC123", Some(MatchMode::Fuzzy), Some(3)).is_err());
        assert_eq!(
            PlatePattern::parse("ABC123", Some(MatchMode::Fuzzy), None)
                .unwrap()
                .describe(),
            "ABC123~1"
        );
    }

    #[test]
    fn cursor_round_trips_and_rejects_garbage() {
        let c = Cursor {
            captured_at_ms: 1_700_000_000_000,
            read_id: 42,
        };
        assert_eq!(Cursor::decode(&c.encode()).unwrap(), c);
        assert!(Cursor::decode("zzz").is_err());
        assert!(Cursor::decode("1.x").is_err());
    }

    proptest! {
        #[test]
        fn wildcard_parser_never_panics(s in "\\PC{0,20}") {
            let _ = PlatePattern::parse(&s, None, None);
            let _ = PlatePattern::parse(&s, Some(MatchMode::Fuzzy), Some(2));
        }

        #[test]
        fn literal_pattern_matches_itself(s in "[A-Z0-9]{2,8}") {
            prop_assert!(wildcard_matches(&s, &s));
        }
    }
}

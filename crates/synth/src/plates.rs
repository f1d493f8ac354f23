//! Plausible New Zealand plates: mostly the current `ABC123` series, some older `AB1234`
//! plates, a few personalised ones.

use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashSet;

/// Letters on standard-issue plates. I, O and Q are left out, as plate issuers commonly do,
/// so that plates are not mistaken for 1 and 0.
const SERIES_LETTERS: &[u8] = b"ABCDEFGHJKLMNPRSTUVWXYZ";

/// Words people put on personalised plates.
const WORDS: &[&str] = &[
    "KIWI", "TUI", "FERN", "SURF", "BACH", "CHUR", "JANDAL", "ZOOM", "PAUA", "KAKA", "RUGBY",
    "HAKA", "MOTU", "SWEET", "NANA", "KORU", "WAKA", "TRAMP", "BEACH", "FISHN", "MUM", "DAD",
    "BRO", "TAXI", "FARMER", "SHEEP", "VROOM", "EV", "TESLA", "LUCKY", "DREAM", "HOIHO", "KEA",
    "RIMU", "TOTARA", "ROAD", "WHANAU",
];

/// The share of each kind of plate, in per cent: standard, old, personalised.
const MIX: (u32, u32) = (85, 95);

/// A random plate.
pub fn random_plate<R: Rng>(rng: &mut R) -> String {
    let roll = rng.gen_range(0..100);
    if roll < MIX.0 {
        standard(rng)
    } else if roll < MIX.1 {
        old(rng)
    } else {
        personalised(rng)
    }
}

/// `n` distinct plates from `seed`, in a fixed order.
pub fn plate_population(n: usize, seed: u64) -> Vec<String> {
    let mut rng = StdRng::seed_from_u64(seed);
    let mut seen = HashSet::with_capacity(n);
    let mut out = Vec::with_capacity(n);
    while out.len() < n {
        let plate = random_plate(&mut rng);
        if seen.insert(plate.clone()) {
            out.push(plate);
        }
    }
    out
}

fn letter<R: Rng>(rng: &mut R) -> char {
    SERIES_LETTERS[rng.gen_range(0..SERIES_LETTERS.len())] as char
}

fn standard<R: Rng>(rng: &mut R) -> String {
    // Number 000 is never issued.
    format!(
        "{}{}{}{:03}",
        letter(rng),
        letter(rng),
        letter(rng),
        rng.gen_range(1..1000)
    )
}

fn old<R: Rng>(rng: &mut R) -> String {
    if rng.gen_bool(0.9) {
        format!(
            "{}{}{}",
            letter(rng),
            letter(rng),
            rng.gen_range(1000..10000)
        )
    } else {
        format!("{}{}{}", letter(rng), letter(rng), rng.gen_range(100..1000))
    }
}

fn personalised<R: Rng>(rng: &mut R) -> String {
    if rng.gen_bool(0.6) {
        let word = WORDS[rng.gen_range(0..WORDS.len())];
        if word.len() < 6 && rng.gen_bool(0.5) {
            let room = 6 - word.len() as u32;
            return format!("{word}{}", rng.gen_range(1..10u32.pow(room.min(2))));
        }
        return word.to_string();
    }
    // Initials and a number, or a made-up word.
    let len = rng.gen_range(2..=6);
    (0..len)
        .map(|i| {
            if i >= len - 1 && rng.gen_bool(0.4) {
                char::from(b'0' + rng.gen_range(0..10))
            } else {
                char::from(b'A' + rng.gen_range(0..26))
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::{NormalisedPlate, PlateFormat};

    #[test]
    fn population_is_distinct_deterministic_and_mostly_standard() {
        let a = plate_population(20_000, 42);
        assert_eq!(a, plate_population(20_000, 42));
        assert_ne!(a[..100], plate_population(100, 43)[..]);
        assert_eq!(a.iter().collect::<HashSet<_>>().len(), a.len());
        let mut counts = std::collections::HashMap::new();
        for p in &a {
            let parsed = NormalisedPlate::parse(p).unwrap_or_else(|e| panic!("{p}: {e}"));
            assert_eq!(parsed.as_str(), p, "already normalised");
            *counts.entry(parsed.format()).or_insert(0usize) += 1;
        }
        let share = |f| counts.get(&f).copied().unwrap_or(0) as f64 / a.len() as f64;
        assert!(share(PlateFormat::NzStandard) > 0.8, "{counts:?}");
        assert!(share(PlateFormat::NzOld) > 0.05, "{counts:?}");
        assert!(share(PlateFormat::NzPersonalised) > 0.02, "{counts:?}");
        assert_eq!(share(PlateFormat::Unknown), 0.0, "{counts:?}");
    }
}

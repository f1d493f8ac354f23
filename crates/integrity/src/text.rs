//! Near-duplicate justification text: normalised word shingles, MinHash, and banded keys
//! (locality-sensitive hashing), so two texts whose shingle sets are about 75% alike share a key
//! with high probability and unrelated texts almost never do — found by hash lookups, never by
//! comparing every pair.

use crate::hash::{hash_bytes, hash_str, mix};

/// MinHash functions (rows x bands).
const ROWS: usize = 4;
pub(crate) const BANDS: usize = 3;

/// Lower case, words only; numbers, plates and file numbers (any word holding a digit) and
/// very short words dropped, since boilerplate differs exactly there.
pub fn normalise_justification(text: &str) -> Vec<String> {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().count() > 2 && !w.chars().any(|c| c.is_ascii_digit()))
        .map(str::to_lowercase)
        .collect()
}

/// Calls `visit` with the hash of each word [`normalise_justification`] keeps, in order,
/// without building the words: ASCII words (nearly all) are lower-cased in a buffer on the
/// stack, so a justification costs no allocation per word. `hash_str` of the same lower-cased
/// word, so the keys are unchanged.
fn word_hashes(text: &str, mut visit: impl FnMut(u64)) {
    for w in text.split(|c: char| !c.is_alphanumeric()) {
        if w.is_ascii() {
            if w.len() <= 2 || w.bytes().any(|b| b.is_ascii_digit()) {
                continue;
            }
            let mut buf = [0u8; 64];
            if w.len() <= buf.len() {
                let lower = &mut buf[..w.len()];
                lower.copy_from_slice(w.as_bytes());
                lower.make_ascii_lowercase();
                visit(hash_bytes(lower));
                continue;
            }
        } else if w.chars().count() <= 2 || w.chars().any(|c| c.is_ascii_digit()) {
            continue;
        }
        visit(hash_str(&w.to_lowercase()));
    }
}

/// The band keys of a text, with no allocation: `None` for texts with fewer than three words.
/// Each pair of consecutive words is a shingle, hashed as it is met.
pub(crate) fn band_keys(text: &str) -> Option<[u64; BANDS]> {
    let mut mins = [u64::MAX; ROWS * BANDS];
    let mut words = 0usize;
    let mut prev = 0u64;
    word_hashes(text, |w| {
        words += 1;
        if words >= 2 {
            let s = prev ^ w.rotate_left(17);
            for (i, m) in mins.iter_mut().enumerate() {
                let h = mix(s ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1)));
                if h < *m {
                    *m = h;
                }
            }
        }
        prev = w;
    });
    if words < 3 {
        return None;
    }
    let mut keys = [0u64; BANDS];
    for (band, rows) in mins.chunks(ROWS).enumerate() {
        keys[band] = rows
            .iter()
            .fold(mix(band as u64 + 1), |acc, r| mix(acc ^ r));
    }
    Some(keys)
}

/// The band keys of a text: two texts sharing any key are near-duplicates. Empty for texts
/// with fewer than three words (too short to call boilerplate).
pub fn near_duplicate_keys(text: &str) -> Vec<u64> {
    band_keys(text).map_or_else(Vec::new, |k| k.to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn share_key(a: &str, b: &str) -> bool {
        let ka = near_duplicate_keys(a);
        near_duplicate_keys(b).iter().any(|k| ka.contains(k))
    }

    #[test]
    fn boilerplate_with_other_numbers_is_a_near_duplicate() {
        assert!(share_key(
            "Routine enquiry re vehicle of interest, file 24/1187, plate ABC123",
            "routine enquiry re vehicle of interest - file 25/0042 plate XYZ987"
        ));
    }

    /// The allocation-free word hashing keys texts exactly as hashing the normalised words does.
    #[test]
    fn keys_match_the_normalised_words() {
        fn reference(text: &str) -> Vec<u64> {
            let words = normalise_justification(text);
            if words.len() < 3 {
                return Vec::new();
            }
            let shingles: Vec<u64> = words
                .windows(2)
                .map(|w| hash_str(&w[0]) ^ hash_str(&w[1]).rotate_left(17))
                .collect();
            let mut mins = [u64::MAX; ROWS * BANDS];
            for s in shingles {
                for (i, m) in mins.iter_mut().enumerate() {
                    let h = mix(s ^ (0x9e37_79b9_7f4a_7c15u64.wrapping_mul(i as u64 + 1)));
                    *m = (*m).min(h);
                }
            }
            mins.chunks(ROWS)
                .enumerate()
                .map(|(band, rows)| {
                    rows.iter()
                        .fold(mix(band as u64 + 1), |acc, r| mix(acc ^ r))
                })
                .collect()
        }
        let long = "x".repeat(70);
        for text in [
            "Routine enquiry re vehicle of interest, file 24/1187, plate ABC123",
            "ÉCOLE Straße Ärger über den Wagen, Fall 12 — Zeuge sah ihn",
            "ab cd ef gh",
            "Suspect VEHICLE seen near the DAIRY on Tuesday",
            &format!("one two three {long} four Ünïcode wörds x1y ÀB"),
            "",
        ] {
            assert_eq!(near_duplicate_keys(text), reference(text), "{text}");
        }
    }

    #[test]
    fn different_accounts_are_not() {
        assert!(!share_key(
            "Burglary at Hamilton dairy, suspect vehicle seen leaving on CCTV",
            "Missing person last seen driving north from Taupo on Tuesday evening"
        ));
        assert!(near_duplicate_keys("ok 123").is_empty());
    }
}

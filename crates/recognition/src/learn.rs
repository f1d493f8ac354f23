//! Plate formats learned from the plates a deployment reads surely.
//!
//! Region profiles only know the formats someone wrote down. A camera network also sees plates
//! of formats no profile knows (another country's, a new series, a state whose pattern is
//! missing), and for those the confusable pairs (O/0, I/1) go unresolved and a shorter foreign
//! pattern may pull a read out of shape. But most plates of any format are read surely, with
//! no confusable character in them: their letter/digit layout is evidence of a format in use.
//! A layout seen often enough among them is then fitted like a profile's pattern, so the
//! unsure reads of the same format are settled by position as well.

use std::collections::HashMap;
use std::sync::Arc;

use crate::choose::plate_shaped;
use crate::read::ReadChar;

/// A layout is used once this many sure reads have shown it...
const MIN_SEEN: u32 = 3;
/// ...and they are at least this share of all sure reads, so that a few misreads of one
/// plate (or a sign read in several photos) do not teach a format.
const MIN_SHARE: f32 = 0.05;
/// Every character of a read taught from is at least this sure.
const SURE_PROB: f32 = 0.9;

/// Whether `c` is one of the characters that many plates print alike, so that the recogniser's
/// class for it says little about the format.
fn ambiguous(c: char) -> bool {
    matches!(c, '0' | 'O' | '1' | 'I')
}

/// The letter/digit layout (`L`, `D`) of a read that can teach a format: plate-shaped, every
/// character sure and none of them ambiguous. `None` for any other read.
pub fn sure_layout(chars: &[ReadChar]) -> Option<String> {
    let text: String = chars.iter().map(|c| c.ch).collect();
    let sure = chars
        .iter()
        .all(|c| c.prob >= SURE_PROB && !ambiguous(c.ch));
    (sure && plate_shaped(&text) && text.len() <= crate::choose::MAX_LEN).then(|| {
        text.chars()
            .map(|c| if c.is_ascii_digit() { 'D' } else { 'L' })
            .collect()
    })
}

/// Counts of the layouts of sure reads, and the layouts learned from them.
#[derive(Debug, Default, Clone)]
pub struct LearnedFormats {
    seen: HashMap<String, u32>,
    total: u32,
    /// Kept up to date as reads are counted, so that every photo read can take the list
    /// without recounting.
    learned: Arc<[String]>,
}

impl LearnedFormats {
    /// Counts one sure read's layout. There are at most a few hundred layouts of plate length,
    /// so the counts stay small however long a server runs.
    pub fn record(&mut self, layout: String) {
        let seen = self.seen.entry(layout).or_default();
        *seen = seen.saturating_add(1);
        self.total = self.total.saturating_add(1);
        let mut learned: Vec<(&String, u32)> = self
            .seen
            .iter()
            .filter(|(_, &n)| n >= MIN_SEEN && n as f32 >= MIN_SHARE * self.total as f32)
            .map(|(p, &n)| (p, n))
            .collect();
        learned.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(b.0)));
        self.learned = learned.into_iter().map(|(p, _)| p.clone()).collect();
    }

    /// The layouts seen often enough to fit reads to, most seen first.
    pub fn patterns(&self) -> Arc<[String]> {
        self.learned.clone()
    }

    /// How many sure reads have been counted.
    pub fn observed(&self) -> u32 {
        self.total
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sure(text: &str, prob: f32) -> Vec<ReadChar> {
        text.chars()
            .map(|ch| ReadChar {
                ch,
                prob,
                letter: ch,
                letter_prob: prob,
                digit: ch,
                digit_prob: prob,
                steps: (0, 0),
            })
            .collect()
    }

    #[test]
    fn only_sure_plate_shaped_reads_without_ambiguous_characters_teach() {
        assert_eq!(
            sure_layout(&sure("RK896AE", 0.99)).as_deref(),
            Some("LLDDDLL")
        );
        assert_eq!(sure_layout(&sure("RK896AE", 0.8)), None, "unsure");
        assert_eq!(sure_layout(&sure("RK890AE", 0.99)), None, "a 0 may be an O");
        assert_eq!(sure_layout(&sure("PROPERTY", 0.99)), None, "a word");
        assert_eq!(sure_layout(&sure("K8F5", 0.99)), None, "part of a plate");
    }

    #[test]
    fn a_layout_is_learned_once_seen_often_enough() {
        let mut learned = LearnedFormats::default();
        for _ in 0..MIN_SEEN - 1 {
            learned.record("LLDDDLL".into());
        }
        assert!(learned.patterns().is_empty());
        learned.record("LLDDDLL".into());
        assert_eq!(learned.patterns().to_vec(), vec!["LLDDDLL".to_string()]);
    }

    #[test]
    fn a_rare_layout_among_many_is_not_learned() {
        let mut learned = LearnedFormats::default();
        for _ in 0..100 {
            learned.record("LLDDDLL".into());
        }
        for _ in 0..4 {
            learned.record("LLLLDDD".into());
        }
        assert_eq!(learned.patterns().to_vec(), vec!["LLDDDLL".to_string()]);
        assert_eq!(learned.observed(), 104);
    }
}

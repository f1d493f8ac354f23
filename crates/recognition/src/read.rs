//! Reading one text region: the crop resized to the recogniser's height, and CTC decoding of
//! its output restricted to the characters plates use.

use image::{imageops, RgbImage};

use crate::detect::{normalise_bgr, TextBox};
use crate::resample::resampled;

/// The recogniser was trained on lines 48 pixels high.
pub const LINE_HEIGHT: u32 = 48;
/// Widths for which a plan is optimised; a crop is padded to the next one. Plates are at most
/// about 12 times as wide as high, so 640 is the widest needed.
pub const LINE_WIDTHS: [u32; 3] = [320, 480, 640];

const LETTERS: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZ";
const DIGITS: &str = "0123456789";

/// One decoded character with its alternatives: the best letter and the best digit at the same
/// time step, so that plate formats can settle O/0, I/1, B/8 by position.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadChar {
    pub ch: char,
    pub prob: f32,
    pub letter: char,
    pub letter_prob: f32,
    pub digit: char,
    pub digit_prob: f32,
    /// Where the character sits along the line: the recogniser's output time steps it spans,
    /// first and last. Strays show in the spacing.
    pub steps: (u16, u16),
}

/// Where each plate character sits in the recogniser's output classes.
#[derive(Debug, Clone)]
pub struct Alphabet {
    /// Class indices of `0`-`9`.
    digits: [usize; 10],
    /// Class indices of `A`-`Z` and, where present, `a`-`z` (summed into the capital).
    letters: [(usize, Option<usize>); 26],
    pub classes: usize,
}

impl Alphabet {
    /// Builds the table from the model's character list (one per line; class 0 is the CTC
    /// blank, and a space follows the list).
    pub fn from_character_list(list: &str) -> Option<Alphabet> {
        let chars: Vec<&str> = list.split('\n').collect();
        let index = |c: char| {
            let s = c.to_string();
            chars.iter().position(|x| *x == s).map(|i| i + 1)
        };
        let mut digits = [0; 10];
        for (slot, c) in digits.iter_mut().zip(DIGITS.chars()) {
            *slot = index(c)?;
        }
        let mut letters = [(0, None); 26];
        for (slot, c) in letters.iter_mut().zip(LETTERS.chars()) {
            *slot = (index(c)?, index(c.to_ascii_lowercase()));
        }
        Some(Alphabet {
            digits,
            letters,
            classes: chars.len() + 2,
        })
    }

    fn best_digit(&self, row: &[f32]) -> (char, f32) {
        best(DIGITS.chars().zip(self.digits.iter().map(|&i| row[i])))
    }

    fn best_letter(&self, row: &[f32]) -> (char, f32) {
        best(
            LETTERS.chars().zip(
                self.letters
                    .iter()
                    .map(|&(u, l)| row[u] + l.map_or(0.0, |l| row[l])),
            ),
        )
    }
}

fn best(options: impl Iterator<Item = (char, f32)>) -> (char, f32) {
    options.fold((' ', f32::MIN), |acc, o| if o.1 > acc.1 { o } else { acc })
}

/// The crop of `region`, resized to [`LINE_HEIGHT`] and normalised, padded to a plan width.
/// Returns the data and the plan width, or `None` for a degenerate region.
pub fn line_input(photo: &RgbImage, region: &TextBox) -> Option<(Vec<f32>, u32)> {
    let x0 = region.x0.round().max(0.0) as u32;
    let y0 = region.y0.round().max(0.0) as u32;
    let x1 = (region.x1.round() as u32).min(photo.width());
    let y1 = (region.y1.round() as u32).min(photo.height());
    if x1 < x0 + 4 || y1 < y0 + 4 {
        return None;
    }
    let (cw, ch) = (x1 - x0, y1 - y0);
    let widest = *LINE_WIDTHS.last().expect("widths");
    let natural = (LINE_HEIGHT * cw).div_ceil(ch).clamp(1, widest);
    let plan_width = LINE_WIDTHS
        .iter()
        .copied()
        .find(|&w| w >= natural)
        .unwrap_or(widest);
    let crop = imageops::crop_imm(photo, x0, y0, cw, ch).to_image();
    let line = resampled(&crop, natural, LINE_HEIGHT);
    Some((normalise_bgr(&line, plan_width, LINE_HEIGHT), plan_width))
}

/// Greedy CTC decoding over blank + plate characters; `probs` is time steps × classes.
pub fn decode(probs: &[f32], alphabet: &Alphabet) -> Vec<ReadChar> {
    let mut out = Vec::new();
    let mut previous: Option<char> = None;
    for (step, row) in probs.chunks_exact(alphabet.classes).enumerate() {
        let step = step as u16;
        let (digit, digit_prob) = alphabet.best_digit(row);
        let (letter, letter_prob) = alphabet.best_letter(row);
        let blank = row[0];
        let (ch, prob) = if blank >= digit_prob && blank >= letter_prob {
            previous = None;
            continue;
        } else if digit_prob >= letter_prob {
            (digit, digit_prob)
        } else {
            (letter, letter_prob)
        };
        if previous != Some(ch) {
            out.push(ReadChar {
                ch,
                prob,
                letter,
                letter_prob,
                digit,
                digit_prob,
                steps: (step, step),
            });
        } else if let Some(last) = out.last_mut() {
            last.steps.1 = step;
        }
        previous = Some(ch);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn alphabet() -> Alphabet {
        // A model list: punctuation, digits, capitals, small letters.
        let mut list = vec!["!".to_string()];
        list.extend(DIGITS.chars().map(String::from));
        list.extend(LETTERS.chars().map(String::from));
        list.extend(LETTERS.to_lowercase().chars().map(String::from));
        Alphabet::from_character_list(&list.join("\n")).unwrap()
    }

    fn step(alphabet: &Alphabet, class: usize, p: f32) -> Vec<f32> {
        let mut row = vec![(1.0 - p) / (alphabet.classes - 1) as f32; alphabet.classes];
        row[class] = p;
        row
    }

    #[test]
    fn collapses_repeats_and_splits_on_blanks() {
        let a = alphabet();
        let (one, b) = (a.digits[1], a.letters[1].0);
        let rows: Vec<f32> = [
            step(&a, one, 0.9),
            step(&a, one, 0.9),
            step(&a, 0, 0.9),
            step(&a, one, 0.8),
            step(&a, b, 0.7),
        ]
        .concat();
        let read = decode(&rows, &a);
        let text: String = read.iter().map(|c| c.ch).collect();
        assert_eq!(text, "11B");
        assert_eq!(read[2].letter, 'B');
    }

    #[test]
    fn small_letters_count_for_their_capital() {
        let a = alphabet();
        let mut row = vec![0.0; a.classes];
        row[a.letters[14].0] = 0.3; // O
        row[a.letters[14].1.unwrap()] = 0.3; // o
        row[a.digits[0]] = 0.4;
        let read = decode(&row, &a);
        assert_eq!(read[0].ch, 'O');
        assert!((read[0].letter_prob - 0.6).abs() < 1e-6);
        assert_eq!(read[0].digit, '0');
    }
}

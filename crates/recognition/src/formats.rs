//! Plate-format knowledge: each region's plate layouts as letter/digit slot patterns, and
//! fitting a read to them, which settles the confusable pairs (O/0, I/1, B/8, S/5, Z/2, G/6)
//! by position, as OpenALPR's region patterns did.
//!
//! Pattern letters: `L` a letter slot, `D` a digit slot.

use crate::read::ReadChar;

#[derive(Debug, Clone, Copy)]
pub struct Profile {
    pub code: &'static str,
    pub name: &'static str,
    pub patterns: &'static [&'static str],
}

pub const PROFILES: &[Profile] = &[
    Profile {
        code: "nz",
        name: "New Zealand",
        // Standard issue ABC123 and the older AB1234; personalised plates (1-6 of either)
        // fit no pattern and are taken as read.
        patterns: &["LLLDDD", "LLDDDD"],
    },
    Profile {
        code: "au",
        name: "Australia",
        patterns: &["LLLDDD", "DLLLDD", "LLLDDL", "DLLDLL", "DDDLLL", "LLDDLL"],
    },
    Profile {
        code: "uk",
        name: "United Kingdom",
        patterns: &["LLDDLLL", "LDDDLLL", "LLLDDDL"],
    },
    Profile {
        code: "us",
        name: "United States",
        patterns: &[
            "DLLLDDD", "LLLDDDD", "LLLDDD", "DDDLLL", "LLDLDL", "DLLDDD", "LDDDDDD", "LLDDDDD",
            "DDLLDDD", "DDDDLLL", "DLLDDDD", "LDLDDDD",
        ],
    },
    Profile {
        code: "eu",
        name: "Europe",
        patterns: &[
            "LLDDDLL", "DLDDDDD", "DLLDDDD", "LLLDDDD", "LLDDDD", "DDDDLLL", "LLDDLLL", "LLLDLLD",
        ],
    },
    Profile {
        code: "br",
        name: "Brazil",
        patterns: &["LLLDLDD", "LLLDDDD"],
    },
];

/// A read fitted to a profile's pattern, or taken as read.
#[derive(Debug, Clone, PartialEq)]
pub struct Fitted {
    pub text: String,
    /// Product of the per-character probabilities of the chosen characters, less for a read
    /// fitting no pattern or trimmed to fit: what candidates are ranked by.
    pub score: f32,
    /// Product of the per-character probabilities of the chosen characters, 0-1: what is
    /// reported.
    pub confidence: f32,
    pub profile: Option<&'static str>,
}

/// How much a character read as the other class still counts for the slot's class: the
/// recogniser's second choice for a confusable glyph is often only a few percent, so it is
/// taken at this many times its probability (up to [`SUBSTITUTION_CAP`]). At 50 a second
/// choice of 2 % was enough to force a sure read into another region's pattern (`08E6CK`, read
/// at 0.69, became the Australian-format `0BE6CK`); 10 read one US plate more and the same EU
/// plates.
const SLOT_BOOST: f32 = 10.0;
/// A character read against its first choice counts at most this share of that choice.
const SUBSTITUTION_CAP: f32 = 0.9;
/// Many plates print O and 0 alike (UK, Slovak, Czech plates), so a 0 in a letter slot, or an O
/// in a digit slot, is read by position at this share of the character's probability, however
/// little the recogniser left the other. (For the other confusable pairs the recogniser's own
/// second choice decides: taking them as freely turned US reads such as `GT679A` into patterns
/// they are not.)
const ROUND_SHARE: f32 = 0.6;

fn round_pair(a: char, b: char) -> bool {
    matches!((a, b), ('0', 'O') | ('O', '0'))
}

/// A read fitting no pattern keeps half its score: formats are evidence, not a gate, so that
/// personalised plates and unknown formats can still win.
const UNFITTED_FACTOR: f32 = 0.5;

/// A read with one character too many (a state outline or a flag strip at an end, a bolt or a
/// character read twice between the others) that fits no pattern may fit one without it, at
/// this cost.
const TRIM_FACTOR: f32 = 0.8;
/// A character read at least this surely is never dropped to fit a pattern: it is the plate's
/// own (`VW4X4WP`, a plate of a format no profile knows, lost its `P` to a US pattern).
const TRIM_KEEP_PROB: f32 = 0.95;
/// A character between two others is a stray only if they close up without it: the gap it
/// leaves is under this many times the read's character pitch. A stray squeezed in leaves
/// about 1.5 pitches (`SHOLR7X`, `HKORE7C`); a real character leaves two or more
/// (`BA268IM` lost its `2` to an Australian pattern when inner drops were free).
const SQUEEZED_GAP: f32 = 1.75;

/// Fits `chars` to every pattern of the given profiles (all if `profiles` is empty) and
/// returns the best, or the raw read when that scores higher.
///
/// A read fitting no pattern is also tried without one character the recogniser was unsure
/// of, but only where something says that character is a stray: the read is longer than any
/// plate the profiles know, or the character is squeezed between its neighbours. A read of
/// plate length is never shortened at an end just because a shorter pattern exists: its
/// unsure first character is far more often the plate's own (the leading digit of `4GLS168`,
/// the last `0` of `RK340AO`) than a mark that happens to complete another region's format.
///
/// `learned` are layouts learned from this deployment's sure reads ([`crate::learn`]); a read
/// fitting one reports [`LEARNED`] as its profile.
pub fn fit(chars: &[ReadChar], profiles: &[&str], learned: &[String]) -> Fitted {
    let mut best = fit_exact(chars, profiles, learned);
    if best.profile.is_some() || chars.len() < 6 {
        return best;
    }
    let overlong = chars.len() > longest_pattern(profiles, learned);
    for (i, dropped) in chars.iter().enumerate() {
        let inner = i > 0 && i + 1 < chars.len();
        if dropped.prob >= TRIM_KEEP_PROB || !(overlong || inner && squeezed(chars, i)) {
            continue;
        }
        let mut trimmed = chars.to_vec();
        trimmed.remove(i);
        let mut fitted = fit_exact(&trimmed, profiles, learned);
        fitted.score *= TRIM_FACTOR;
        if fitted.profile.is_some() && fitted.score > best.score {
            best = fitted;
        }
    }
    best
}

fn selected<'a>(profiles: &'a [&'a str]) -> impl Iterator<Item = &'static Profile> + 'a {
    PROFILES
        .iter()
        .filter(move |p| profiles.is_empty() || profiles.contains(&p.code))
}

/// The profile reported for a read fitting a learned layout.
pub const LEARNED: &str = "learned";

/// Every pattern to fit to, with the profile it belongs to.
fn patterns<'a>(
    profiles: &'a [&'a str],
    learned: &'a [String],
) -> impl Iterator<Item = (&'static str, &'a str)> + 'a {
    selected(profiles)
        .flat_map(|p| p.patterns.iter().map(move |pattern| (p.code, *pattern)))
        .chain(learned.iter().map(|pattern| (LEARNED, pattern.as_str())))
}

fn longest_pattern(profiles: &[&str], learned: &[String]) -> usize {
    patterns(profiles, learned)
        .map(|(_, pattern)| pattern.len())
        .max()
        .unwrap_or(0)
}

/// Whether the inner character `i` sits closer to its neighbours than the read's characters
/// sit to each other.
fn squeezed(chars: &[ReadChar], i: usize) -> bool {
    let centre = |c: &ReadChar| (f32::from(c.steps.0) + f32::from(c.steps.1)) / 2.0;
    let (first, last) = (&chars[0], &chars[chars.len() - 1]);
    let pitch = (centre(last) - centre(first)) / (chars.len() - 1) as f32;
    let gap = centre(&chars[i + 1]) - centre(&chars[i - 1]);
    pitch > 0.0 && gap < SQUEEZED_GAP * pitch
}

fn fit_exact(chars: &[ReadChar], profiles: &[&str], learned: &[String]) -> Fitted {
    let raw: String = chars.iter().map(|c| c.ch).collect();
    let raw_score: f32 = chars.iter().map(|c| c.prob).product();
    let mut best = Fitted {
        text: raw,
        score: raw_score * UNFITTED_FACTOR,
        confidence: raw_score,
        profile: None,
    };
    for (code, pattern) in patterns(profiles, learned) {
        if pattern.len() != chars.len() {
            continue;
        }
        let mut text = String::with_capacity(chars.len());
        let mut score = 1.0f32;
        for (c, slot) in chars.iter().zip(pattern.bytes()) {
            let (ch, p, as_read) = if slot == b'L' {
                (c.letter, c.letter_prob, c.ch.is_ascii_alphabetic())
            } else {
                (c.digit, c.digit_prob, c.ch.is_ascii_digit())
            };
            let p = p.max(1e-4);
            // Reading against the recogniser's first choice costs something even when the
            // alternative is plausible, so a pattern needing fewer changes wins.
            score *= if as_read {
                p
            } else if round_pair(c.ch, ch) {
                (p * SLOT_BOOST)
                    .max(ROUND_SHARE * c.prob)
                    .min(SUBSTITUTION_CAP * c.prob)
            } else {
                (p * SLOT_BOOST).min(SUBSTITUTION_CAP * c.prob)
            };
            text.push(ch);
        }
        if score > best.score {
            best = Fitted {
                text,
                score,
                confidence: score,
                profile: Some(code),
            };
        }
    }
    best
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A read character with its confusable alternative at `alt` probability.
    fn rc(ch: char, alt: char, alt_prob: f32) -> ReadChar {
        let (letter, letter_prob, digit, digit_prob) = if ch.is_ascii_digit() {
            (alt, alt_prob, ch, 0.95)
        } else {
            (ch, 0.95, alt, alt_prob)
        };
        ReadChar {
            ch,
            prob: 0.95,
            letter,
            letter_prob,
            digit,
            digit_prob,
            steps: (0, 0),
        }
    }

    fn read(text: &str) -> Vec<ReadChar> {
        text.chars()
            .map(|c| match c {
                '0' => rc('0', 'O', 0.1),
                'O' => rc('O', '0', 0.1),
                '1' => rc('1', 'I', 0.1),
                'I' => rc('I', '1', 0.1),
                '8' => rc('8', 'B', 0.1),
                'B' => rc('B', '8', 0.1),
                c if c.is_ascii_digit() => rc(c, 'Z', 0.0),
                c => rc(c, '0', 0.0),
            })
            .enumerate()
            .map(|(i, c)| ReadChar {
                steps: (2 * i as u16, 2 * i as u16),
                ..c
            })
            .collect()
    }

    #[test]
    fn a_digit_in_a_letter_slot_becomes_its_letter() {
        let f = fit(&read("PP587A0"), &[], &[]);
        assert_eq!(f.text, "PP587AO");
        assert_eq!(f.profile, Some("eu"));
        let f = fit(&read("LM298A1"), &["eu"], &[]);
        assert_eq!(f.text, "LM298AI");
    }

    #[test]
    fn a_letter_in_a_digit_slot_becomes_its_digit() {
        let f = fit(&read("ABCI23"), &["nz"], &[]);
        assert_eq!(f.text, "ABC123");
        assert_eq!(f.profile, Some("nz"));
    }

    #[test]
    fn a_read_fitting_no_pattern_is_kept_as_read_with_less_weight() {
        let f = fit(&read("GWAGEN"), &["nz"], &[]);
        assert_eq!(f.text, "GWAGEN");
        assert_eq!(f.profile, None);
        assert!(f.score < 0.95f32.powi(6));
    }

    #[test]
    fn a_stray_character_at_an_end_is_trimmed_to_fit() {
        let mut chars = read("4ASC7399");
        chars[0].prob = 0.7;
        let f = fit(&chars, &["us"], &[]);
        assert_eq!(f.text, "ASC7399");
        assert_eq!(f.profile, Some("us"));
    }

    #[test]
    fn a_character_squeezed_in_between_two_others_is_dropped_to_fit() {
        let mut chars = read("SHOLR7X");
        chars[3].prob = 0.6;
        chars[3].steps = (5, 5);
        chars[4].steps = (6, 6);
        let f = fit(&chars, &["us"], &[]);
        assert_eq!(f.text, "SH0R7X");
        assert_eq!(f.profile, Some("us"));
    }

    #[test]
    fn an_evenly_spaced_inner_character_is_not_dropped_to_fit_a_shorter_format() {
        let mut chars = read("BA268IM");
        chars[2].prob = 0.9;
        // Brazilian plates are seven characters long, so BA268IM is of plate length.
        let f = fit(&chars, &["au", "br"], &[]);
        assert_eq!(f.text, "BA268IM", "not the Australian-format BA68IM");
        assert_eq!(f.profile, None);
    }

    #[test]
    fn a_read_of_plate_length_is_not_shortened_at_an_end_to_fit_a_shorter_format() {
        let mut chars = read("4GLS168");
        chars[0].prob = 0.7;
        let f = fit(&chars, &["nz", "br"], &[]);
        assert_eq!(f.text, "4GLS168", "not the New Zealand-format GLS168");
        let mut chars = read("RK340A0");
        chars[6].prob = 0.8;
        assert_eq!(fit(&chars, &["au", "br"], &[]).text, "RK340A0");
        // Where no format is that long, it has a stray and is trimmed.
        assert_eq!(fit(&chars, &["au"], &[]).profile, Some("au"));
    }

    #[test]
    fn a_confusion_the_reader_barely_saw_does_not_force_a_pattern() {
        let mut chars = read("08E6CK");
        chars[1].letter_prob = 0.02;
        let f = fit(&chars, &["au"], &[]);
        assert_eq!(f.text, "08E6CK", "not the Australian-format 0BE6CK");
        assert_eq!(f.profile, None);
        chars[1].letter_prob = 0.3;
        assert_eq!(fit(&chars, &["au"], &[]).text, "0BE6CK");
    }

    #[test]
    fn a_sure_character_is_never_trimmed_to_fit() {
        let mut chars = read("VW4X4WP");
        for c in &mut chars {
            c.prob = 0.99;
        }
        let f = fit(&chars, &[], &[]);
        assert_eq!(f.text, "VW4X4WP", "not the US pattern's VW4X4W");
        assert_eq!(f.profile, None);
    }

    #[test]
    fn a_round_zero_in_a_letter_slot_is_an_o_however_sure_the_reader_was() {
        let mut chars = read("BA3020Z");
        chars[5].letter_prob = 0.0001;
        let f = fit(&chars, &["eu"], &[]);
        assert_eq!(f.text, "BA302OZ");
        assert_eq!(f.profile, Some("eu"));
        // Not so for the other confusable pairs: 6 stays a 6 unless the reader saw a G too.
        let mut chars = read("GT679A");
        chars[2].letter = 'G';
        chars[2].letter_prob = 0.0001;
        assert_eq!(fit(&chars, &["au"], &[]).text, "GT679A");
    }

    #[test]
    fn a_read_fitting_as_read_keeps_an_unsure_first_character() {
        let mut chars = read("4GLS168");
        chars[0].prob = 0.5;
        chars[0].digit_prob = 0.5;
        let f = fit(&chars, &["us"], &[]);
        assert_eq!(f.text, "4GLS168");
    }

    #[test]
    fn a_learned_layout_settles_a_format_no_profile_knows() {
        let f = fit(&read("PP587A0"), &["nz"], &[]);
        assert_eq!(f.profile, None);
        let f = fit(&read("PP587A0"), &["nz"], &["LLDDDLL".into()]);
        assert_eq!(f.text, "PP587AO");
        assert_eq!(f.profile, Some(LEARNED));
    }

    #[test]
    fn only_the_named_profiles_are_used() {
        let f = fit(&read("AB12CDE"), &["nz"], &[]);
        assert_eq!(f.profile, None);
        let f = fit(&read("AB12CDE"), &["uk"], &[]);
        assert_eq!(f.profile, Some("uk"));
    }
}

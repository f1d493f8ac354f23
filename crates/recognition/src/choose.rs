//! Choosing the plate among the text lines read in a photo. A photo holds dealer frames,
//! slogans, shop signs and timestamps besides the plate; the plate is the line that fits a
//! plate format, holds digits, is about plate length, and is tall.

use crate::formats::Fitted;

/// Plates have 2 to 8 characters in every profile we know.
pub const MIN_LEN: usize = 2;
pub const MAX_LEN: usize = 8;

/// Whether `text` looks like a whole plate whatever its format: six or more characters,
/// letters and digits. Parts of plates (`6MD`, `K8F5L` of `DK8F5L`), words and numbers do not.
pub fn plate_shaped(text: &str) -> bool {
    text.chars().count() >= 6
        && text.chars().any(|c| c.is_ascii_digit())
        && text.chars().any(|c| c.is_ascii_alphabetic())
}

/// How plate-like a fitted line is, from 0; `line_height` and `photo_height` in pixels.
pub fn plate_likeness(fitted: &Fitted, line_height: f32, photo_height: f32) -> f32 {
    let len = fitted.text.chars().count();
    if !(MIN_LEN..=MAX_LEN).contains(&len) {
        return 0.0;
    }
    // A format is strong evidence, but a sure read of a format no profile knows (many US
    // states' plates) must still beat a poor read squeezed into one: at 0.3 a `CN2245` fitted
    // at 0.19 beat the plate `DD4C591` read at 0.94. 0.6 read no more plates than 0.45.
    let format = if fitted.profile.is_some() { 1.0 } else { 0.45 };
    // Dealer frames and slogans are words, and phone numbers and timestamps are digits;
    // almost every plate has both.
    let has_digit = fitted.text.chars().any(|c| c.is_ascii_digit());
    let has_letter = fitted.text.chars().any(|c| c.is_ascii_alphabetic());
    let digits = match (has_digit, has_letter) {
        (true, true) => 1.0,
        (true, false) => 0.6,
        _ => 0.5,
    };
    let length = if len >= 5 { 1.0 } else { 0.5 };
    // The plate's characters are the tallest text on most vehicles.
    let height = (line_height / photo_height.max(1.0)).sqrt();
    fitted.score * format * digits * length * height
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fitted(text: &str, profile: Option<&'static str>) -> Fitted {
        Fitted {
            text: text.into(),
            score: 0.9,
            confidence: 0.9,
            profile,
        }
    }

    #[test]
    fn a_formatted_plate_beats_a_slogan_of_the_same_height() {
        let plate = plate_likeness(&fitted("ABC123", Some("nz")), 40.0, 400.0);
        let slogan = plate_likeness(&fitted("CHEVROL", None), 40.0, 400.0);
        assert!(plate > slogan * 3.0);
    }

    #[test]
    fn a_sure_read_of_an_unknown_format_beats_a_poor_fit() {
        let poor = Fitted {
            score: 0.19,
            confidence: 0.19,
            ..fitted("CN2245", Some("nz"))
        };
        // `fit` halves the score of a read fitting no pattern.
        let sure = Fitted {
            score: 0.94 * 0.5,
            confidence: 0.94,
            ..fitted("DD4C591", None)
        };
        assert!(plate_likeness(&sure, 30.0, 400.0) > plate_likeness(&poor, 30.0, 400.0));
    }

    #[test]
    fn overlong_and_single_characters_are_not_plates() {
        assert_eq!(
            plate_likeness(&fitted("20140428065455", None), 40.0, 400.0),
            0.0
        );
        assert_eq!(plate_likeness(&fitted("A", None), 40.0, 400.0), 0.0);
    }

    #[test]
    fn whole_plates_of_any_format_are_plate_shaped_and_parts_are_not() {
        assert!(plate_shaped("DD4C591"));
        assert!(plate_shaped("HL0KTY1"));
        assert!(!plate_shaped("K8F5L"));
        assert!(!plate_shaped("PROPERTY"));
        assert!(!plate_shaped("201450"));
    }

    #[test]
    fn taller_text_wins_between_equals() {
        let small = plate_likeness(&fitted("ABC123", Some("nz")), 10.0, 400.0);
        let tall = plate_likeness(&fitted("ABC123", Some("nz")), 40.0, 400.0);
        assert!(tall > small);
    }
}

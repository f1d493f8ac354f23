//! Characters that plate cameras confuse with one another.
//!
//! OCR-fuzzy search and fuzzy watches treat every character of a class as the same character.
//! Mapping each plate to its *class key* (each character replaced by its class representative)
//! turns "equal up to confusions" into plain equality of keys, so it can be indexed.

/// The confusion classes; the first character of each is its representative.
pub const CONFUSION_CLASSES: &[&str] = &["0ODQ", "1ILT", "2Z", "5S", "6G", "8B"];

/// The representative of `c`'s confusion class (`c` itself when it is in none).
pub fn class_of(c: char) -> char {
    match c {
        '0' | 'O' | 'D' | 'Q' => '0',
        '1' | 'I' | 'L' | 'T' => '1',
        '2' | 'Z' => '2',
        '5' | 'S' => '5',
        '6' | 'G' => '6',
        '8' | 'B' => '8',
        other => other,
    }
}

/// The class key of a normalised plate: every character replaced by its class representative.
pub fn class_key(plate: &str) -> String {
    plate.chars().map(class_of).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn confusable_plates_share_a_key() {
        assert_eq!(class_key("B0O1"), class_key("8OD1"));
        assert_eq!(class_key("SZ6"), class_key("526"));
        assert_ne!(class_key("ABC"), class_key("XBC"));
    }

    #[test]
    fn classes_are_consistent() {
        for class in CONFUSION_CLASSES {
            let rep = class.chars().next().unwrap();
            for c in class.chars() {
                assert_eq!(class_of(c), rep);
            }
        }
    }
}

//! Characters that plate cameras confuse with one another.
//!
//! OCR-fuzzy search and fuzzy watches treat every character of a class as the same character.
//! Mapping each plate to its *class key* (each character replaced by its class representative)
//! turns "equal up to confusions" into plain equality of keys, so it can be indexed.
//!
//! Every user of OCR-fuzzy matching goes through [`class_key`]: historical search (the store's
//! plate dictionary indexes plates by key), fuzzy watches (the real-time matcher looks reads
//! up by key), the reports that find the queries touching a plate, and the access policy's
//! own-vehicle block, which refuses a fuzzy watch or search whose key is that of a vehicle
//! connected to the requester. So the classes below are the one definition of "confusable".
//!
//! The classes are the confusions plate cameras actually make on plate fonts: round shapes
//! (0/O/D/Q), vertical strokes (1/I/L/T/7), 2/Z, 3/8/B, 4/A, 5/S and 6/G. A class is an
//! equivalence: every pair in it counts as confusable, so a class is only as wide as the
//! confusions warrant (a wider class makes fuzzy search and watches match more plates).

/// The confusion classes; the first character of each is its representative.
pub const CONFUSION_CLASSES: &[&str] = &["0ODQ", "1ILT7", "2Z", "4A", "5S", "6G", "8B3"];

/// The representative of `c`'s confusion class (`c` itself when it is in none).
pub fn class_of(c: char) -> char {
    match c {
        '0' | 'O' | 'D' | 'Q' => '0',
        '1' | 'I' | 'L' | 'T' | '7' => '1',
        '2' | 'Z' => '2',
        '4' | 'A' => '4',
        '5' | 'S' => '5',
        '6' | 'G' => '6',
        '8' | 'B' | '3' => '8',
        other => other,
    }
}

/// Whether two normalised plates are equal up to OCR confusions (the same class key): a
/// camera reading one may well have been looking at the other.
pub fn confusable(a: &str, b: &str) -> bool {
    a.len() == b.len()
        && a.chars()
            .zip(b.chars())
            .all(|(x, y)| class_of(x) == class_of(y))
}

/// The class key of a normalised plate: every character replaced by its class representative.
pub fn class_key(plate: &str) -> String {
    plate.chars().map(class_of).collect()
}

/// Levenshtein distance of two short ASCII strings is at most `max`. Plates are short, so the
/// two rows live on the stack (a query runs this once per distinct key in the delta).
pub fn edit_distance_within(a: &str, b: &str, max: usize) -> bool {
    const ROW: usize = 64;
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len().abs_diff(b.len()) > max {
        return false;
    }
    if b.len() >= ROW {
        return edit_distance(a, b, &mut vec![0; b.len() + 1], &mut vec![0; b.len() + 1]) <= max;
    }
    edit_distance(a, b, &mut [0; ROW], &mut [0; ROW]) <= max
}

fn edit_distance(a: &[u8], b: &[u8], prev: &mut [usize], cur: &mut [usize]) -> usize {
    let (mut prev, mut cur) = (prev, cur);
    for (j, p) in prev.iter_mut().enumerate().take(b.len() + 1) {
        *p = j;
    }
    for i in 1..=a.len() {
        cur[0] = i;
        for j in 1..=b.len() {
            let cost = usize::from(a[i - 1] != b[j - 1]);
            cur[j] = (prev[j] + 1).min(cur[j - 1] + 1).min(prev[j - 1] + cost);
        }
        std::mem::swap(&mut prev, &mut cur);
    }
    prev[b.len()]
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
        // Every character maps into the class listing it, or to itself when none does: the
        // list and the function cannot drift apart.
        for c in ('A'..='Z').chain('0'..='9') {
            match CONFUSION_CLASSES.iter().find(|k| k.contains(c)) {
                Some(k) => assert_eq!(class_of(c), k.chars().next().unwrap(), "{c}"),
                None => assert_eq!(class_of(c), c, "{c}"),
            }
        }
        let all: String = CONFUSION_CLASSES.concat();
        let mut sorted: Vec<char> = all.chars().collect();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), all.len(), "no character is in two classes");
    }

    #[test]
    fn realistic_ocr_confusions_share_a_key() {
        // The red team's plate: 5 read as S.
        assert_eq!(class_key("AJC7S8"), class_key("AJC758"));
        for (a, b) in [
            ("S", "5"),
            ("B", "8"),
            ("3", "8"),
            ("B", "3"),
            ("O", "0"),
            ("D", "0"),
            ("Q", "O"),
            ("I", "1"),
            ("L", "1"),
            ("T", "1"),
            ("7", "1"),
            ("T", "7"),
            ("Z", "2"),
            ("G", "6"),
            ("A", "4"),
        ] {
            assert_eq!(class_key(a), class_key(b), "{a}/{b}");
            assert!(confusable(a, b), "{a}/{b}");
        }
        // Not confusions: distinct shapes stay apart.
        for (a, b) in [("A", "B"), ("X", "K"), ("9", "0"), ("M", "N"), ("C", "G")] {
            assert_ne!(class_key(a), class_key(b), "{a}/{b}");
        }
        assert!(confusable("AJC7S8", "AJC758"));
        assert!(!confusable("AJC758", "AJC75"));
        assert!(!confusable("AJC758", "AJC759"));
    }

    #[test]
    fn edit_distance_of_long_strings_is_exact() {
        let a = "A".repeat(70);
        let b = format!("{}B", "A".repeat(69));
        assert!(edit_distance_within(&a, &b, 1));
        assert!(!edit_distance_within(&a, &b, 0));
        assert!(edit_distance_within("KITTEN", "SITTING", 3));
        assert!(!edit_distance_within("KITTEN", "SITTING", 2));
    }
}

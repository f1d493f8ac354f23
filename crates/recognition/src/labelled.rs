//! Labelled photo sets in the OpenALPR benchmark layout: each `NAME.jpg` beside `NAME.txt`
//! holding one tab-separated line `NAME.jpg x y width height PLATE`.

use std::fs;
use std::path::{Path, PathBuf};

use crate::{RecognitionError, Result};

#[derive(Debug, Clone, PartialEq)]
pub struct LabelledPhoto {
    pub image: PathBuf,
    pub plate: String,
}

/// Upper-case, A-Z and 0-9 only: how the benchmark scores a reading as exact.
pub fn normalise(text: &str) -> String {
    text.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

/// Reads every labelled photo in `dir`, sorted by name.
pub fn read_dir(dir: &Path) -> Result<Vec<LabelledPhoto>> {
    let mut labels: Vec<PathBuf> = fs::read_dir(dir)
        .map_err(RecognitionError::from_io(dir))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "txt"))
        .collect();
    labels.sort();
    let mut out = Vec::new();
    for label in labels {
        let text = fs::read_to_string(&label).map_err(RecognitionError::from_io(&label))?;
        let fields: Vec<&str> = text.split_whitespace().collect();
        if fields.len() < 6 {
            return Err(RecognitionError::Decode(format!(
                "{}: expected `NAME x y width height PLATE`",
                label.display()
            )));
        }
        out.push(LabelledPhoto {
            image: dir.join(fields[0]),
            plate: normalise(fields[5]),
        });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_benchmark_layout() {
        let dir = tempfile::tempdir().unwrap();
        fs::write(dir.path().join("b.txt"), "b.jpg\t1\t2\t3\t4\tab-12 3\n").unwrap();
        fs::write(dir.path().join("a.txt"), "a.jpg\t1\t2\t3\t4\tXYZ789\n").unwrap();
        fs::write(dir.path().join("a.jpg"), b"").unwrap();
        let set = read_dir(dir.path()).unwrap();
        assert_eq!(set.len(), 2);
        assert_eq!(set[0].plate, "XYZ789");
        assert_eq!(set[1].plate, "AB12");
        assert_eq!(set[1].image, dir.path().join("b.jpg"));
        fs::write(dir.path().join("c.txt"), "c.jpg 1 2").unwrap();
        assert!(read_dir(dir.path()).is_err());
    }
}

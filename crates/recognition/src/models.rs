//! The pinned recognition models: which files, from which wheel, with which checksums.
//!
//! The weights come from the PyPI wheel `rapidocr==3.10.0` (Apache-2.0). They are fetched from
//! the package registry by `anpr models install` (pip) and extracted here; nothing is ever
//! downloaded at run time.

use sha2::{Digest, Sha256};
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};

use crate::{RecognitionError, Result};

/// The pip requirement that ships the models.
pub const WHEEL_REQUIREMENT: &str = "rapidocr==3.10.0";
pub const WEIGHTS_LICENCE: &str = "Apache-2.0 (PaddleOCR PP-OCRv6 models, via the rapidocr wheel)";

pub struct ModelFile {
    /// Path of the file inside the wheel.
    pub wheel_path: &'static str,
    /// Name in the model directory.
    pub file_name: &'static str,
    pub sha256: &'static str,
}

pub const DETECTOR: ModelFile = ModelFile {
    wheel_path: "rapidocr/models/PP-OCRv6_det_small.onnx",
    file_name: "PP-OCRv6_det_small.onnx",
    sha256: "090f04abcd9d9a7498bc4ebf677e4cb9bdce1fe4197ddb7e529f1ef44e1ff94f",
};

pub const RECOGNISER: ModelFile = ModelFile {
    wheel_path: "rapidocr/models/PP-OCRv6_rec_small.onnx",
    file_name: "PP-OCRv6_rec_small.onnx",
    sha256: "6f327246b50388f3c176ae304bd95767ea6dc0c9ae92153ef8cbe210b3c14884",
};

pub const ALL: [&ModelFile; 2] = [&DETECTOR, &RECOGNISER];

/// The conventional model directory under a data directory.
pub fn model_dir(data_dir: &Path) -> PathBuf {
    data_dir.join("models")
}

/// Checks that every model file is present with its pinned checksum.
pub fn verify(dir: &Path) -> Result<()> {
    for model in ALL {
        let path = dir.join(model.file_name);
        if !path.exists() {
            return Err(RecognitionError::ModelsMissing {
                dir: dir.to_path_buf(),
            });
        }
        let bytes = fs::read(&path).map_err(RecognitionError::from_io(&path))?;
        check_digest(model, &bytes)?;
    }
    Ok(())
}

/// Whether the models look installed (present; checksums are checked when they are loaded).
pub fn installed(dir: &Path) -> bool {
    ALL.iter().all(|m| dir.join(m.file_name).is_file())
}

fn check_digest(model: &ModelFile, bytes: &[u8]) -> Result<()> {
    let actual = hex::encode(Sha256::digest(bytes));
    if actual != model.sha256 {
        return Err(RecognitionError::ModelChecksum {
            file: model.file_name.to_string(),
            expected: model.sha256.to_string(),
            actual,
        });
    }
    Ok(())
}

/// Extracts the pinned models from a downloaded wheel into `dir`, checking each checksum
/// before the file takes its final name, so a bad wheel never leaves a half-installed model.
pub fn install_from_wheel(wheel: &Path, dir: &Path) -> Result<()> {
    let io = RecognitionError::from_io;
    let file = fs::File::open(wheel).map_err(io(wheel))?;
    let mut archive =
        zip::ZipArchive::new(file).map_err(|e| RecognitionError::Archive(e.to_string()))?;
    fs::create_dir_all(dir).map_err(io(dir))?;
    for model in ALL {
        let mut entry = archive
            .by_name(model.wheel_path)
            .map_err(|e| RecognitionError::Archive(format!("{}: {e}", model.wheel_path)))?;
        let mut bytes = Vec::with_capacity(entry.size() as usize);
        entry.read_to_end(&mut bytes).map_err(io(wheel))?;
        check_digest(model, &bytes)?;
        let final_path = dir.join(model.file_name);
        let partial = dir.join(format!("{}.partial", model.file_name));
        fs::write(&partial, &bytes).map_err(io(&partial))?;
        fs::rename(&partial, &final_path).map_err(io(&final_path))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn a_wheel_with_wrong_weights_installs_nothing() {
        let tmp = tempfile::tempdir().unwrap();
        let wheel = tmp.path().join("fake.whl");
        let mut zip = zip::ZipWriter::new(fs::File::create(&wheel).unwrap());
        for model in ALL {
            zip.start_file(model.wheel_path, zip::write::SimpleFileOptions::default())
                .unwrap();
            zip.write_all(b"not the weights").unwrap();
        }
        zip.finish().unwrap();
        let dir = tmp.path().join("models");
        let err = install_from_wheel(&wheel, &dir).unwrap_err();
        assert!(
            matches!(err, RecognitionError::ModelChecksum { .. }),
            "{err}"
        );
        assert!(!installed(&dir));
        assert!(matches!(
            verify(&dir),
            Err(RecognitionError::ModelsMissing { .. })
        ));
    }
}

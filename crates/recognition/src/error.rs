use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum RecognitionError {
    #[error("recognition models are not installed in {dir}: run `anpr models install`")]
    ModelsMissing { dir: PathBuf },
    #[error("model file {file} has SHA-256 {actual}, expected {expected}: reinstall with `anpr models install`")]
    ModelChecksum {
        file: String,
        expected: String,
        actual: String,
    },
    #[error("the image could not be decoded: {0}")]
    Decode(String),
    #[error("the image is too large: {width}x{height} pixels (at most {max_pixels} pixels)")]
    TooLarge {
        width: u32,
        height: u32,
        max_pixels: u64,
    },
    #[error("model error: {0}")]
    Model(String),
    #[error("model archive: {0}")]
    Archive(String),
    #[error("I/O error on {path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

impl From<tract_onnx::prelude::TractError> for RecognitionError {
    fn from(e: tract_onnx::prelude::TractError) -> Self {
        RecognitionError::Model(format!("{e:#}"))
    }
}

impl RecognitionError {
    /// For `map_err` on reading a file.
    pub fn from_io(path: &std::path::Path) -> impl FnOnce(std::io::Error) -> RecognitionError {
        let path = path.to_path_buf();
        move |source| RecognitionError::Io { path, source }
    }
}

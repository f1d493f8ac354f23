//! Plate recognition from photos, in pure Rust.
//!
//! A photo goes through four steps: [`decode`] (bounded, EXIF-oriented), text detection on a
//! downscaled copy ([`detect`]), reading each plate-shaped region at full resolution ([`read`]),
//! and choosing the plate with plate-format knowledge ([`formats`], [`choose`]), including
//! layouts learned from the plates read surely so far ([`learn`]). The neural
//! models are PaddleOCR's PP-OCRv6 detector and recogniser, shipped in the `rapidocr` wheel and
//! installed by [`models`]; they run with `tract-onnx`.
//!
//! Nothing here does I/O beyond reading the model files: callers hand in bytes.

pub mod choose;
pub mod decode;
pub mod detect;
pub mod direct_conv;
mod error;
pub mod formats;
pub mod labelled;
pub mod learn;
pub mod models;
pub mod read;
mod recogniser;
pub mod resample;

pub use error::RecognitionError;
pub use recogniser::{Candidate, PlateBox, PlateResult, Recogniser, RecogniserOptions};

pub type Result<T, E = RecognitionError> = std::result::Result<T, E>;

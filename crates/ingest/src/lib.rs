//! Ingestion: turning what ANPR cameras send into validated plate reads.
//!
//! Cameras from different vendors speak different JSON (ours, OpenALPR's `alpr_group` and
//! `alpr_results`, Plate Recognizer's webhook), with images inline as base64 or as multipart
//! parts, and import dumps arrive as JSONL or CSV. All of it ends here as [`IncomingRead`]s
//! that obey the same rules: a plate that normalises, a confidence between 0 and 1, a capture
//! time a working camera could report, images that really are complete JPEGs or PNGs of a sane
//! size. Anything else is refused with an [`IngestError`] that names the field, and a batch is
//! all or nothing.
//!
//! This crate does no I/O and knows nothing of HTTP or storage, so the whole of it can be
//! tested, and fuzzed, on bytes alone. It is on the ingest hot path (50,000 reads/s), so it
//! parses into typed, borrowing structs and never decodes image pixels.

#![forbid(unsafe_code)]

mod checks;
mod error;
mod formats;
mod images;
pub mod import;
mod json;
mod limits;
mod multipart;
mod read;

pub use error::IngestError;
pub use formats::{detect_format, InputFormat};
pub use images::{validate_image, ImageFormat, ValidatedImage};
pub use limits::{ImageLimits, IngestLimits};
pub use multipart::{parse_multipart, Part};
pub use read::{IncomingRead, ReadImages};

use chrono::{DateTime, Utc};

/// Detects the format of a JSON `body` and maps it to reads, checked against `now` and
/// `limits`. All the reads, or the first error; never a part of a batch.
///
/// An OpenALPR heartbeat and an empty batch yield no reads.
pub fn parse_reads(
    body: &[u8],
    now: DateTime<Utc>,
    limits: &IngestLimits,
) -> Result<Vec<IncomingRead>, IngestError> {
    parse_reads_as(body, now, limits).map(|(_, reads)| reads)
}

/// [`parse_reads`], also saying which format the body was in (for metrics and logs).
pub fn parse_reads_as(
    body: &[u8],
    now: DateTime<Utc>,
    limits: &IngestLimits,
) -> Result<(InputFormat, Vec<IncomingRead>), IngestError> {
    formats::parse(body, checks::Ctx { now, limits })
}

/// Entry point for coverage-guided fuzzers (`cargo fuzz`, AFL): runs every parser in this
/// crate over `data` with default limits. It must never panic; whatever it returns is fine.
pub fn fuzz_one(data: &[u8]) {
    let now = DateTime::<Utc>::from_timestamp(1_714_550_400, 0).unwrap_or_default();
    let limits = IngestLimits::default();
    if let Ok(reads) = parse_reads(data, now, &limits) {
        for read in reads {
            debug_assert!((0.0..=1.0).contains(&read.confidence));
            let _ = read.into_new_read(1);
        }
    }
    let _ = validate_image(data.to_vec(), &limits.image);
    let (head, tail) = data.split_at(data.len() / 2);
    let _ = parse_multipart(
        vec![Part::new("json", head), Part::new("upload", tail)],
        now,
        &limits,
    );
    for format in [import::DumpFormat::Jsonl, import::DumpFormat::Csv] {
        for item in import::reads(data, format, now, limits.clone()).take(1000) {
            let _ = item;
        }
    }
}

//! Recognising which format a JSON body is in, and handing it to the right mapper.
//!
//! Detection is a first pass over the body that looks only at top-level key names (values
//! are skipped without being built), so the typed parse that follows stays the only real work.

mod openalpr;
pub(crate) mod own;
mod platerecognizer;

use crate::checks::Ctx;
use crate::json::Str;
use crate::{IncomingRead, IngestError};
use serde::de::IgnoredAny;
use serde::Deserialize;

/// The JSON formats cameras send.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum InputFormat {
    /// Our own single read object.
    Read,
    /// Our own `{"reads": [...]}`.
    Batch,
    /// OpenALPR `data_type: alpr_group`.
    OpenAlprGroup,
    /// OpenALPR `data_type: alpr_results` (or an old agent's result without `data_type`).
    OpenAlprResults,
    /// OpenALPR `data_type: heartbeat`: carries no reads.
    OpenAlprHeartbeat,
    /// Plate Recognizer webhook (`{"hook", "data": {...}}`).
    PlateRecognizerWebhook,
    /// Plate Recognizer recognition response (`{"timestamp", "results"}`).
    PlateRecognizerResponse,
}

impl InputFormat {
    pub fn as_str(self) -> &'static str {
        match self {
            InputFormat::Read => "read",
            InputFormat::Batch => "batch",
            InputFormat::OpenAlprGroup => "openalpr_group",
            InputFormat::OpenAlprResults => "openalpr_results",
            InputFormat::OpenAlprHeartbeat => "openalpr_heartbeat",
            InputFormat::PlateRecognizerWebhook => "platerecognizer_webhook",
            InputFormat::PlateRecognizerResponse => "platerecognizer_response",
        }
    }
}

/// The top-level keys that tell the formats apart.
#[derive(Deserialize)]
struct Sniff<'a> {
    #[serde(borrow)]
    data_type: Option<Str<'a>>,
    #[serde(default)]
    reads: Present,
    #[serde(default)]
    plate: Present,
    /// Our read's capture time: a read object without its plate is still a read object (told
    /// that the plate is missing, not that the format is unknown).
    #[serde(default)]
    captured_at: Present,
    #[serde(default)]
    data: Present,
    #[serde(default)]
    results: Present,
    #[serde(default)]
    epoch_time: Present,
    #[serde(default)]
    timestamp: Present,
}

/// Whether a key is there, whatever its value (even `null`, so that `"plate": null` is
/// reported as a bad plate rather than as an unknown format). The value is skipped unbuilt.
#[derive(Default)]
struct Present(bool);

impl<'de> Deserialize<'de> for Present {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        IgnoredAny::deserialize(d).map(|_| Present(true))
    }
}

/// Which format `body` is in. The body must be a JSON object.
pub fn detect_format(body: &[u8]) -> Result<InputFormat, IngestError> {
    let body = json_object(body)?;
    let s: Sniff = crate::json::parse(body)?;
    if let Some(kind) = &s.data_type {
        return match kind.as_str() {
            "alpr_group" => Ok(InputFormat::OpenAlprGroup),
            "alpr_results" => Ok(InputFormat::OpenAlprResults),
            "heartbeat" => Ok(InputFormat::OpenAlprHeartbeat),
            other => Err(IngestError::unknown_format(format!(
                "data_type {other:?} is not one we accept (alpr_group, alpr_results, heartbeat)"
            ))),
        };
    }
    let has = |p: &Present| p.0;
    Ok(if has(&s.reads) {
        InputFormat::Batch
    } else if has(&s.plate) || has(&s.captured_at) {
        InputFormat::Read
    } else if has(&s.data) {
        InputFormat::PlateRecognizerWebhook
    } else if has(&s.results) && has(&s.timestamp) {
        InputFormat::PlateRecognizerResponse
    } else if has(&s.results) && has(&s.epoch_time) {
        InputFormat::OpenAlprResults
    } else {
        return Err(IngestError::unknown_format(
            "is none of the formats we accept: a read object (with \"plate\"), a batch \
             (\"reads\"), OpenALPR (\"data_type\") or a Plate Recognizer webhook (\"data\")",
        ));
    })
}

/// Detects the format of `body` and maps it to reads; all of them or an error.
pub(crate) fn parse(
    body: &[u8],
    ctx: Ctx,
) -> Result<(InputFormat, Vec<IncomingRead>), IngestError> {
    let format = detect_format(body)?;
    let body = json_object(body)?;
    let reads = match format {
        InputFormat::Read => own::single(body, ctx),
        InputFormat::Batch => own::batch(body, ctx),
        InputFormat::OpenAlprGroup => openalpr::group(body, ctx),
        InputFormat::OpenAlprResults => openalpr::results(body, ctx),
        InputFormat::OpenAlprHeartbeat => Ok(Vec::new()),
        InputFormat::PlateRecognizerWebhook => platerecognizer::webhook(body, ctx),
        InputFormat::PlateRecognizerResponse => platerecognizer::response(body, ctx),
    }?;
    Ok((format, reads))
}

/// The body without a byte-order mark, if it starts like a JSON object.
fn json_object(body: &[u8]) -> Result<&[u8], IngestError> {
    let body = body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(body);
    match body.iter().find(|b| !b.is_ascii_whitespace()) {
        None => Err(IngestError::malformed("body", "is empty")),
        Some(b'{') => Ok(body),
        Some(_) => Err(IngestError::malformed("body", "must be a JSON object")),
    }
}

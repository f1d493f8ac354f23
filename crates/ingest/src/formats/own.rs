//! Our own JSON: one read object, or `{"reads": [...]}`.
//!
//! This is the hot path of the benchmark (1,000-read batches at 50,000 reads/s), so it
//! deserialises straight into typed structs that borrow the body's strings.

use crate::checks::{self, Ctx};
use crate::json::{At, Str};
use crate::{IncomingRead, IngestError};
use serde::Deserialize;

/// One read as our API and our import dumps carry it. Unknown fields are ignored so that a
/// newer camera firmware does not break an older server.
#[derive(Deserialize)]
pub(crate) struct OwnRead<'a> {
    #[serde(borrow)]
    pub plate: Str<'a>,
    #[serde(borrow)]
    pub captured_at: Str<'a>,
    pub confidence: f64,
    #[serde(borrow)]
    pub external_id: Option<Str<'a>>,
    pub plate_box: Option<BoxIn>,
    #[serde(borrow)]
    pub vehicle: Option<VehicleIn<'a>>,
    #[serde(borrow)]
    pub overview_image: Option<Str<'a>>,
    #[serde(borrow)]
    pub plate_image: Option<Str<'a>>,
    /// Only meaningful in an import dump; the API takes the camera from the key.
    pub camera_id: Option<i64>,
}

#[derive(Deserialize)]
pub(crate) struct BoxIn {
    x: u32,
    y: u32,
    width: u32,
    height: u32,
}

#[derive(Deserialize)]
pub(crate) struct VehicleIn<'a> {
    #[serde(borrow)]
    make: Option<Str<'a>>,
    #[serde(borrow, alias = "color")]
    colour: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Batch<'a> {
    #[serde(borrow)]
    reads: Vec<OwnRead<'a>>,
}

pub(crate) fn single(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let read: OwnRead = crate::json::parse(body)?;
    Ok(vec![read.validate(At::ROOT, ctx)?])
}

pub(crate) fn batch(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let batch: Batch = crate::json::parse(body)?;
    let max = ctx.limits.max_batch;
    if batch.reads.len() > max {
        return Err(IngestError::too_large(
            "reads",
            format!(
                "holds {} reads; a batch holds at most {max}",
                batch.reads.len()
            ),
        ));
    }
    batch
        .reads
        .into_iter()
        .enumerate()
        .map(|(i, r)| r.validate(At::item("reads", i), ctx))
        .collect()
}

impl OwnRead<'_> {
    pub(crate) fn validate(self, at: At, ctx: Ctx) -> Result<IncomingRead, IngestError> {
        let (plate_raw, plate) = ctx.plate(self.plate.as_str(), at, "plate")?;
        let plate_box = self
            .plate_box
            .map(|b| checks::plate_box(b.x, b.y, b.width, b.height, at, "plate_box"))
            .transpose()?;
        let (make, colour) = self.vehicle.map_or((None, None), |v| (v.make, v.colour));
        Ok(IncomingRead {
            external_id: ctx.external_id(
                self.external_id.as_ref().map(Str::as_str),
                at,
                "external_id",
            )?,
            captured_at: ctx.rfc3339(self.captured_at.as_str(), at, "captured_at")?,
            plate_raw,
            plate,
            confidence: ctx.confidence(self.confidence, 1.0, at, "confidence")?,
            plate_box,
            vehicle_make: ctx.text(make.as_ref().map(Str::as_str), at, "vehicle.make")?,
            vehicle_colour: ctx.text(colour.as_ref().map(Str::as_str), at, "vehicle.colour")?,
            overview_image: ctx.image_b64(
                self.overview_image.as_ref().map(Str::as_str),
                at,
                "overview_image",
            )?,
            plate_image: ctx.image_b64(
                self.plate_image.as_ref().map(Str::as_str),
                at,
                "plate_image",
            )?,
        })
    }
}

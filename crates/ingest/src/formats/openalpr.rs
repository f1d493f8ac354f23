//! OpenALPR agent output: `alpr_group` (one vehicle, the best of several frames) and
//! `alpr_results` (every plate found in one frame).
//!
//! Confidences are percentages (0-100). Times are Unix milliseconds, though older agents sent
//! `epoch_time` in seconds. Plates come with four corner points, not a box.

use crate::checks::{self, Ctx};
use crate::json::{At, Str};
use crate::{IncomingRead, IngestError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Group<'a> {
    #[serde(borrow)]
    best_plate_number: Option<Str<'a>>,
    best_confidence: Option<f64>,
    epoch_start: f64,
    #[serde(borrow)]
    best_uuid: Option<Str<'a>>,
    #[serde(borrow)]
    best_plate: Option<BestPlate<'a>>,
    #[serde(borrow)]
    vehicle: Option<Vehicle<'a>>,
    /// The full frame, sent by newer agents when configured to.
    #[serde(borrow)]
    overview_jpeg: Option<Str<'a>>,
    #[serde(borrow)]
    vehicle_crop_jpeg: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct BestPlate<'a> {
    #[serde(borrow)]
    plate: Option<Str<'a>>,
    confidence: Option<f64>,
    coordinates: Option<Vec<Point>>,
    #[serde(borrow)]
    plate_crop_jpeg: Option<Str<'a>>,
}

#[derive(Deserialize)]
struct Point {
    x: f64,
    y: f64,
}

/// Vehicle attributes: for each, candidate names with confidences, best first.
#[derive(Deserialize)]
struct Vehicle<'a> {
    #[serde(borrow)]
    make: Option<Vec<Candidate<'a>>>,
    #[serde(borrow)]
    color: Option<Vec<Candidate<'a>>>,
}

#[derive(Deserialize)]
struct Candidate<'a> {
    #[serde(borrow)]
    name: Str<'a>,
    confidence: Option<f64>,
}

#[derive(Deserialize)]
struct Results<'a> {
    #[serde(borrow)]
    uuid: Option<Str<'a>>,
    epoch_time: Option<f64>,
    #[serde(borrow)]
    results: Vec<Plate<'a>>,
}

#[derive(Deserialize)]
struct Plate<'a> {
    #[serde(borrow)]
    plate: Str<'a>,
    confidence: f64,
    epoch_time: Option<f64>,
    coordinates: Option<Vec<Point>>,
    #[serde(borrow)]
    vehicle: Option<Vehicle<'a>>,
    #[serde(borrow)]
    plate_crop_jpeg: Option<Str<'a>>,
}

pub(crate) fn group(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let g: Group = crate::json::parse(body)?;
    let at = At::ROOT;
    let best = g.best_plate.as_ref();
    let (plate_text, plate_field) =
        match (&g.best_plate_number, best.and_then(|b| b.plate.as_ref())) {
            (Some(p), _) => (p.as_str(), "best_plate_number"),
            (None, Some(p)) => (p.as_str(), "best_plate.plate"),
            (None, None) => return Err(IngestError::invalid("best_plate_number", "is required")),
        };
    let (plate_raw, plate) = ctx.plate(plate_text, at, plate_field)?;
    let confidence = match (g.best_confidence, best.and_then(|b| b.confidence)) {
        (Some(c), _) => ctx.confidence(c, 100.0, at, "best_confidence")?,
        (None, Some(c)) => ctx.confidence(c, 100.0, at, "best_plate.confidence")?,
        (None, None) => return Err(IngestError::invalid("best_confidence", "is required")),
    };
    let plate_box = match best.and_then(|b| b.coordinates.as_ref()) {
        Some(points) => checks::box_around(
            points.iter().map(|p| (p.x, p.y)),
            At::new("best_plate"),
            "coordinates",
        )?,
        None => None,
    };
    let (make, colour) = vehicle(g.vehicle.as_ref(), at, ctx)?;
    let (overview, overview_field) = match &g.overview_jpeg {
        Some(s) => (Some(s), "overview_jpeg"),
        None => (g.vehicle_crop_jpeg.as_ref(), "vehicle_crop_jpeg"),
    };
    Ok(vec![IncomingRead {
        external_id: ctx.external_id(g.best_uuid.as_ref().map(Str::as_str), at, "best_uuid")?,
        captured_at: ctx.epoch(g.epoch_start, at, "epoch_start")?,
        plate_raw,
        plate,
        confidence,
        plate_box,
        vehicle_make: make,
        vehicle_colour: colour,
        overview_image: ctx.image_b64(overview.map(Str::as_str), at, overview_field)?,
        plate_image: ctx.image_b64(
            best.and_then(|b| b.plate_crop_jpeg.as_ref())
                .map(Str::as_str),
            At::new("best_plate"),
            "plate_crop_jpeg",
        )?,
    }])
}

pub(crate) fn results(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let r: Results = crate::json::parse(body)?;
    let uuid = r
        .uuid
        .as_ref()
        .map(Str::as_str)
        .filter(|u| !u.trim().is_empty());
    let several = r.results.len() > 1;
    r.results
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let at = At::item("results", i);
            let (plate_raw, plate) = ctx.plate(p.plate.as_str(), at, "plate")?;
            let captured_at = match (p.epoch_time, r.epoch_time) {
                (Some(t), _) => ctx.epoch(t, at, "epoch_time")?,
                (None, Some(t)) => ctx.epoch(t, At::ROOT, "epoch_time")?,
                (None, None) => return Err(IngestError::invalid("epoch_time", "is required")),
            };
            // One frame, one uuid: a frame with several plates needs an id per plate, or a
            // retried upload would be taken for one read.
            let external_id = match uuid {
                Some(u) if several => Some(format!("{u}#{i}")),
                other => other.map(str::to_string),
            };
            let (make, colour) = vehicle(p.vehicle.as_ref(), at, ctx)?;
            Ok(IncomingRead {
                external_id: ctx.external_id(external_id.as_deref(), At::ROOT, "uuid")?,
                captured_at,
                plate_raw,
                plate,
                confidence: ctx.confidence(p.confidence, 100.0, at, "confidence")?,
                plate_box: match &p.coordinates {
                    Some(points) => {
                        checks::box_around(points.iter().map(|p| (p.x, p.y)), at, "coordinates")?
                    }
                    None => None,
                },
                vehicle_make: make,
                vehicle_colour: colour,
                overview_image: None,
                plate_image: ctx.image_b64(
                    p.plate_crop_jpeg.as_ref().map(Str::as_str),
                    at,
                    "plate_crop_jpeg",
                )?,
            })
        })
        .collect()
}

/// The most confident make and colour (the first on a tie: lists come best first).
fn vehicle(
    v: Option<&Vehicle>,
    at: At,
    ctx: Ctx,
) -> Result<(Option<String>, Option<String>), IngestError> {
    let Some(v) = v else { return Ok((None, None)) };
    let field = |name: &str| format!("{}.{name}", at.field("vehicle"));
    Ok((
        ctx.text(top(v.make.as_deref()), At::ROOT, &field("make"))?,
        ctx.text(top(v.color.as_deref()), At::ROOT, &field("color"))?,
    ))
}

fn top<'s>(list: Option<&'s [Candidate]>) -> Option<&'s str> {
    let score = |c: &Candidate| c.confidence.unwrap_or(0.0);
    let mut best: Option<&Candidate> = None;
    for c in list.into_iter().flatten() {
        if best.is_none_or(|b| score(c) > score(b)) {
            best = Some(c);
        }
    }
    best.map(|c| c.name.as_str())
}

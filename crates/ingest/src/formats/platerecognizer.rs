//! Plate Recognizer: the Stream/Snapshot webhook (`{"hook": {...}, "data": {...}}`) and the
//! bare recognition response (`{"timestamp", "results", ...}`) that some integrations forward.
//!
//! Scores are 0 to 1; boxes are `xmin`/`ymin`/`xmax`/`ymax`; timestamps are RFC 3339 or a
//! zone-less UTC time. Make and colour come as ranked lists, either on the result
//! (`model_make`, `color`) or, in newer versions, under `vehicle.props`.

use crate::checks::{self, Ctx};
use crate::json::{At, Str};
use crate::{IncomingRead, IngestError};
use serde::Deserialize;

#[derive(Deserialize)]
struct Webhook<'a> {
    #[serde(borrow)]
    data: Data<'a>,
}

#[derive(Deserialize)]
struct Data<'a> {
    #[serde(borrow)]
    timestamp: Str<'a>,
    #[serde(borrow)]
    results: Vec<Result_<'a>>,
}

#[derive(Deserialize)]
struct Result_<'a> {
    #[serde(borrow)]
    plate: Str<'a>,
    score: f64,
    #[serde(rename = "box")]
    plate_box: Option<Corners>,
    #[serde(borrow)]
    model_make: Option<Vec<MakeModel<'a>>>,
    #[serde(borrow)]
    color: Option<Vec<Colour<'a>>>,
    #[serde(borrow)]
    vehicle: Option<Vehicle<'a>>,
}

#[derive(Deserialize)]
struct Corners {
    xmin: f64,
    ymin: f64,
    xmax: f64,
    ymax: f64,
}

#[derive(Deserialize)]
struct MakeModel<'a> {
    #[serde(borrow)]
    make: Str<'a>,
}

/// Older versions call the colour `color`, newer ones `value`.
#[derive(Deserialize)]
struct Colour<'a> {
    #[serde(borrow, alias = "value")]
    color: Str<'a>,
}

#[derive(Deserialize)]
struct Vehicle<'a> {
    #[serde(borrow)]
    props: Option<Props<'a>>,
}

#[derive(Deserialize)]
struct Props<'a> {
    #[serde(borrow)]
    make_model: Option<Vec<MakeModel<'a>>>,
    #[serde(borrow)]
    color: Option<Vec<Colour<'a>>>,
}

/// The webhook: everything under `data`.
pub(crate) fn webhook(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let w: Webhook = crate::json::parse(body)?;
    map(w.data, "data", ctx)
}

/// The bare recognition response, the same fields at the top level.
pub(crate) fn response(body: &[u8], ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let d: Data = crate::json::parse(body)?;
    map(d, "", ctx)
}

fn map(d: Data, base: &str, ctx: Ctx) -> Result<Vec<IncomingRead>, IngestError> {
    let captured_at = ctx.lenient_time(d.timestamp.as_str(), At::new(base), "timestamp")?;
    let list = if base.is_empty() {
        "results".to_string()
    } else {
        format!("{base}.results")
    };
    d.results
        .into_iter()
        .enumerate()
        .map(|(i, r)| {
            let at = At::item(&list, i);
            let (plate_raw, plate) = ctx.plate(r.plate.as_str(), at, "plate")?;
            let props = r.vehicle.and_then(|v| v.props);
            let (props_make, props_colour) =
                props.map_or((None, None), |p| (p.make_model, p.color));
            let (make, make_field) = match (
                first(&r.model_make, |m| m.make.as_str()),
                first(&props_make, |m| m.make.as_str()),
            ) {
                (Some(m), _) => (Some(m), "model_make"),
                (None, m) => (m, "vehicle.props.make_model"),
            };
            let (colour, colour_field) = match (
                first(&r.color, |c| c.color.as_str()),
                first(&props_colour, |c| c.color.as_str()),
            ) {
                (Some(c), _) => (Some(c), "color"),
                (None, c) => (c, "vehicle.props.color"),
            };
            Ok(IncomingRead {
                external_id: None,
                captured_at,
                plate_raw,
                plate,
                confidence: ctx.confidence(r.score, 1.0, at, "score")?,
                plate_box: match r.plate_box {
                    Some(b) => checks::box_between(b.xmin, b.ymin, b.xmax, b.ymax, at, "box")?,
                    None => None,
                },
                vehicle_make: ctx.text(make, at, make_field)?,
                vehicle_colour: ctx.text(colour, at, colour_field)?,
                overview_image: None,
                plate_image: None,
            })
        })
        .collect()
}

/// The top-ranked entry's text (lists come best first).
fn first<T>(list: &Option<Vec<T>>, text: impl Fn(&T) -> &str) -> Option<&str> {
    list.as_ref().and_then(|l| l.first()).map(text)
}

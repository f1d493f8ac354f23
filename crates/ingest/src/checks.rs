//! The rules every read obeys, whatever format it came in. Each check takes the place of the
//! value in the request so that its error names the field the sender used.

use crate::images::{validate_image, ValidatedImage};
use crate::json::At;
use crate::{IngestError, IngestLimits};
use anpr_domain::{BoundingBox, DomainError, NormalisedPlate};
use base64::engine::general_purpose::{GeneralPurpose, GeneralPurposeConfig};
use base64::engine::DecodePaddingMode;
use base64::{alphabet, Engine};
use chrono::{DateTime, NaiveDateTime, TimeDelta, Utc};

/// Longest plate text accepted as sent, separators included. Normalisation allows ten
/// characters; this bounds what is stored as `plate_raw`.
const MAX_RAW_PLATE_CHARS: usize = 32;
/// Larger than any camera frame (40 megapixels is about 8000 wide); beyond it a box is garbage.
const MAX_COORDINATE: f64 = 100_000.0;

/// Standard and URL-safe alphabets, padding optional: cameras send all four variants.
const B64: GeneralPurpose = GeneralPurpose::new(
    &alphabet::STANDARD,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);
const B64_URL: GeneralPurpose = GeneralPurpose::new(
    &alphabet::URL_SAFE,
    GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
);

/// What the checks need besides the value: the clock and the limits.
#[derive(Clone, Copy)]
pub(crate) struct Ctx<'l> {
    pub now: DateTime<Utc>,
    pub limits: &'l IngestLimits,
}

impl Ctx<'_> {
    /// The plate as sent (trimmed) and normalised.
    pub fn plate(
        &self,
        raw: &str,
        at: At,
        name: &str,
    ) -> Result<(String, NormalisedPlate), IngestError> {
        let raw = raw.trim();
        if raw.chars().count() > MAX_RAW_PLATE_CHARS {
            return Err(IngestError::invalid(
                at.field(name),
                format!(
                    "is {} characters long; no plate is longer than 10",
                    raw.chars().count()
                ),
            ));
        }
        let plate = NormalisedPlate::parse(raw).map_err(|e| domain_error(e, at.field(name)))?;
        Ok((raw.to_string(), plate))
    }

    /// A confidence on the scale `0..=scale` (1 or 100), returned on the scale 0 to 1.
    pub fn confidence(
        &self,
        value: f64,
        scale: f64,
        at: At,
        name: &str,
    ) -> Result<f32, IngestError> {
        if !(0.0..=scale).contains(&value) {
            let hint = if scale == 1.0 && value > 1.0 && value <= 100.0 {
                format!(" (send {} for {value}%)", value / 100.0)
            } else {
                String::new()
            };
            return Err(IngestError::invalid(
                at.field(name),
                format!("must be between 0 and {scale}, got {value}{hint}"),
            ));
        }
        Ok((value / scale) as f32)
    }

    /// An RFC 3339 timestamp with its time zone, as our own format requires.
    pub fn rfc3339(&self, s: &str, at: At, name: &str) -> Result<DateTime<Utc>, IngestError> {
        let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|e| {
            IngestError::invalid(
                at.field(name),
                format!("{} is not an RFC 3339 timestamp with a time zone, e.g. 2024-05-01T08:30:00Z ({e})", quoted(s)),
            )
        })?;
        self.time(t.to_utc(), at, name)
    }

    /// A timestamp as Plate Recognizer writes it: RFC 3339, or `2021-10-11 05:43:58.514896`
    /// without a zone, which their API documents as UTC.
    pub fn lenient_time(&self, s: &str, at: At, name: &str) -> Result<DateTime<Utc>, IngestError> {
        let s = s.trim();
        let parsed = DateTime::parse_from_rfc3339(s)
            .map(|t| t.to_utc())
            .or_else(|_| {
                NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                    .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
                    .map(|t| t.and_utc())
            });
        let t = parsed.map_err(|_| {
            IngestError::invalid(
                at.field(name),
                format!("{} is not a timestamp we can read", quoted(s)),
            )
        })?;
        self.time(t, at, name)
    }

    /// Unix time in milliseconds, or in seconds when the value is too small to be
    /// milliseconds since 1973: OpenALPR's agents have sent both.
    pub fn epoch(&self, value: f64, at: At, name: &str) -> Result<DateTime<Utc>, IngestError> {
        let millis = if value.abs() < 1e11 {
            value * 1000.0
        } else {
            value
        };
        let t = (millis.is_finite() && millis.abs() < 1e16)
            .then(|| DateTime::from_timestamp_millis(millis as i64))
            .flatten()
            .ok_or_else(|| {
                IngestError::invalid(at.field(name), format!("{value} is not a time"))
            })?;
        self.time(t, at, name)
    }

    /// A capture time that a working camera could have reported just now.
    pub fn time(&self, t: DateTime<Utc>, at: At, name: &str) -> Result<DateTime<Utc>, IngestError> {
        if t > self.now + self.limits.max_clock_skew {
            return Err(IngestError::invalid(
                at.field(name),
                format!(
                    "is {} in the future (is the camera's clock set?)",
                    human(t - self.now)
                ),
            ));
        }
        if let Some(max_age) = self.limits.max_age.filter(|age| t < self.now - *age) {
            return Err(IngestError::invalid(
                at.field(name),
                format!(
                    "is {} ago, older than any network keeps reads ({} days with the margin), \
                     so it would be deleted at once; check the camera's clock, or leave such \
                     old reads out",
                    human(self.now - t),
                    max_age.num_days()
                ),
            ));
        }
        if t < self.limits.earliest {
            return Err(IngestError::invalid(
                at.field(name),
                format!(
                    "is before {} (is the camera's clock set?)",
                    self.limits.earliest.format("%Y-%m-%d")
                ),
            ));
        }
        Ok(t)
    }

    /// A short free-text value such as a make or colour; blank means absent.
    pub fn text(&self, s: Option<&str>, at: At, name: &str) -> Result<Option<String>, IngestError> {
        bounded_text(s, self.limits.max_text_chars, at, name)
    }

    pub fn external_id(
        &self,
        s: Option<&str>,
        at: At,
        name: &str,
    ) -> Result<Option<String>, IngestError> {
        bounded_text(s, self.limits.max_external_id_chars, at, name)
    }

    /// A base64 image (optionally a `data:` URL), decoded and validated.
    pub fn image_b64(
        &self,
        s: Option<&str>,
        at: At,
        name: &str,
    ) -> Result<Option<ValidatedImage>, IngestError> {
        let Some(s) = s else { return Ok(None) };
        let s = s.trim();
        if s.is_empty() {
            return Ok(None);
        }
        let s = match s.strip_prefix("data:") {
            Some(url) => url.split_once(";base64,").map_or(s, |(_, data)| data),
            None => s,
        };
        let max = self.limits.image.max_bytes;
        // Refuse before decoding: base64 is 4 characters for every 3 bytes.
        if s.len() / 4 * 3 > max + 3 {
            return Err(IngestError::too_large(
                at.field(name),
                format!(
                    "decodes to about {} bytes; the limit is {max} bytes",
                    s.len() / 4 * 3
                ),
            ));
        }
        let bytes = decode_b64(s).map_err(|e| {
            IngestError::invalid(at.field(name), format!("is not valid base64: {e}"))
        })?;
        validate_image(bytes, &self.limits.image)
            .map(Some)
            .map_err(|e| e.with_field(at.field(name)))
    }
}

fn decode_b64(s: &str) -> Result<Vec<u8>, base64::DecodeError> {
    // MIME encoders wrap lines; strip that only when present so the common case copies nothing.
    if s.bytes().any(|b| b.is_ascii_whitespace()) {
        let compact: String = s.chars().filter(|c| !c.is_ascii_whitespace()).collect();
        return decode_b64(&compact);
    }
    B64.decode(s).or_else(|e| {
        if s.contains(['-', '_']) {
            B64_URL.decode(s)
        } else {
            Err(e)
        }
    })
}

fn bounded_text(
    s: Option<&str>,
    max: usize,
    at: At,
    name: &str,
) -> Result<Option<String>, IngestError> {
    let Some(s) = s.map(str::trim).filter(|s| !s.is_empty()) else {
        return Ok(None);
    };
    if s.chars().count() > max {
        return Err(IngestError::invalid(
            at.field(name),
            format!("is longer than {max} characters"),
        ));
    }
    if s.chars().any(char::is_control) {
        return Err(IngestError::invalid(
            at.field(name),
            "contains control characters",
        ));
    }
    Ok(Some(s.to_string()))
}

/// Our own box: all four numbers given, non-empty, within any real frame.
pub(crate) fn plate_box(
    x: u32,
    y: u32,
    width: u32,
    height: u32,
    at: At,
    name: &str,
) -> Result<BoundingBox, IngestError> {
    if width == 0 || height == 0 {
        return Err(IngestError::invalid(
            at.field(name),
            "width and height must be positive",
        ));
    }
    let far = |a: u32, b: u32| f64::from(a) + f64::from(b) > MAX_COORDINATE;
    if far(x, width) || far(y, height) {
        return Err(IngestError::invalid(
            at.field(name),
            "lies outside any camera frame",
        ));
    }
    Ok(BoundingBox {
        x,
        y,
        width,
        height,
    })
}

/// The box around a plate's corner points (OpenALPR). Degenerate boxes are dropped, not
/// refused: the read is still good without one.
pub(crate) fn box_around(
    points: impl IntoIterator<Item = (f64, f64)>,
    at: At,
    name: &str,
) -> Result<Option<BoundingBox>, IngestError> {
    let (mut min_x, mut min_y, mut max_x, mut max_y) = (f64::MAX, f64::MAX, f64::MIN, f64::MIN);
    for (x, y) in points {
        if !(x.abs() <= MAX_COORDINATE && y.abs() <= MAX_COORDINATE) {
            return Err(IngestError::invalid(
                at.field(name),
                "lies outside any camera frame",
            ));
        }
        (min_x, min_y) = (min_x.min(x), min_y.min(y));
        (max_x, max_y) = (max_x.max(x), max_y.max(y));
    }
    Ok(corners(min_x, min_y, max_x, max_y))
}

/// The box between two corners (Plate Recognizer's `xmin`..`ymax`).
pub(crate) fn box_between(
    xmin: f64,
    ymin: f64,
    xmax: f64,
    ymax: f64,
    at: At,
    name: &str,
) -> Result<Option<BoundingBox>, IngestError> {
    box_around([(xmin, ymin), (xmax, ymax)], at, name)
}

fn corners(min_x: f64, min_y: f64, max_x: f64, max_y: f64) -> Option<BoundingBox> {
    // Corner points a little outside the frame are normal for a plate at the edge.
    let (x0, y0) = (min_x.max(0.0).round(), min_y.max(0.0).round());
    let (x1, y1) = (max_x.max(0.0).round(), max_y.max(0.0).round());
    (x1 > x0 && y1 > y0).then_some(BoundingBox {
        x: x0 as u32,
        y: y0 as u32,
        width: (x1 - x0) as u32,
        height: (y1 - y0) as u32,
    })
}

/// A value quoted for an error message, cut short: errors echo what was sent, not megabytes
/// of it.
pub(crate) fn quoted(s: &str) -> String {
    const MAX: usize = 40;
    match s.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{:?}…", &s[..cut]),
        None => format!("{s:?}"),
    }
}

fn domain_error(e: DomainError, field: String) -> IngestError {
    match e {
        DomainError::Invalid { message, .. } => IngestError::invalid(field, message),
    }
}

/// "2 days", "1 hour", "12 minutes", "40 seconds".
fn human(d: TimeDelta) -> String {
    let s = d.num_seconds().max(0);
    let (n, unit) = match s {
        86_400.. => (s / 86_400, "day"),
        3_600.. => (s / 3_600, "hour"),
        60.. => (s / 60, "minute"),
        _ => (s, "second"),
    };
    format!("{n} {unit}{}", if n == 1 { "" } else { "s" })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ctx(limits: &IngestLimits) -> Ctx<'_> {
        Ctx {
            now: DateTime::parse_from_rfc3339("2024-05-01T12:00:00Z")
                .unwrap()
                .to_utc(),
            limits,
        }
    }

    #[test]
    fn reads_older_than_any_retention_are_refused() {
        let l = IngestLimits {
            max_age: Some(TimeDelta::days(97)),
            ..Default::default()
        };
        let c = ctx(&l);
        let e = c
            .rfc3339("2010-05-01T12:00:00Z", At::item("reads", 0), "captured_at")
            .unwrap_err();
        assert_eq!(e.field(), "reads[0].captured_at");
        assert_eq!(e.http_status(), 422);
        assert!(
            e.message()
                .contains("older than any network keeps reads (97 days"),
            "{e}"
        );
        assert!(c.rfc3339("2024-02-01T12:00:00Z", At::ROOT, "t").is_ok());
    }

    #[test]
    fn times() {
        let l = IngestLimits::default();
        let c = ctx(&l);
        let e = c
            .rfc3339("2024-05-03T12:00:00Z", At::item("reads", 3), "captured_at")
            .unwrap_err();
        assert_eq!(
            e.to_string(),
            "reads[3].captured_at: is 2 days in the future (is the camera's clock set?)"
        );
        assert!(c.rfc3339("2024-05-01T12:04:00Z", At::ROOT, "t").is_ok());
        assert!(c.rfc3339("2024-05-01T12:06:00Z", At::ROOT, "t").is_err());
        assert!(c
            .rfc3339("1999-12-31T23:59:59Z", At::ROOT, "t")
            .unwrap_err()
            .message()
            .contains("before 2000-01-01"));
        assert!(c.rfc3339("2024-05-01 10:00:00", At::ROOT, "t").is_err());
        assert!(c
            .rfc3339("2024-05-01T22:00:00+12:00", At::ROOT, "t")
            .is_ok());
        assert_eq!(
            c.lenient_time("2024-05-01 10:00:00.514896", At::ROOT, "t")
                .unwrap()
                .to_rfc3339(),
            "2024-05-01T10:00:00.514896+00:00"
        );
        assert!(c
            .lenient_time("2024-05-01T10:00:00.5Z", At::ROOT, "t")
            .is_ok());
        assert!(c
            .lenient_time("2024-05-01 10:00:00+00:00", At::ROOT, "t")
            .is_ok());
        assert!(c.lenient_time("yesterday", At::ROOT, "t").is_err());
        let secs = c.epoch(1_714_550_000.0, At::ROOT, "t").unwrap();
        let millis = c.epoch(1_714_550_000_000.0, At::ROOT, "t").unwrap();
        assert_eq!(secs, millis);
        assert!(c.epoch(-5.0, At::ROOT, "t").is_err());
        assert!(c.epoch(1e300, At::ROOT, "t").is_err());
    }

    #[test]
    fn confidences() {
        let l = IngestLimits::default();
        let c = ctx(&l);
        assert_eq!(c.confidence(93.0, 100.0, At::ROOT, "c").unwrap(), 0.93);
        let e = c.confidence(93.0, 1.0, At::ROOT, "confidence").unwrap_err();
        assert!(e.message().contains("send 0.93"), "{e}");
        assert!(c.confidence(-0.1, 1.0, At::ROOT, "c").is_err());
    }

    #[test]
    fn plates_and_text() {
        let l = IngestLimits::default();
        let c = ctx(&l);
        assert_eq!(
            c.plate(" abc-123 ", At::ROOT, "plate").unwrap().1.as_str(),
            "ABC123"
        );
        assert_eq!(
            c.plate("🚗", At::ROOT, "plate").unwrap_err().field(),
            "plate"
        );
        assert!(c.plate(&"A".repeat(40), At::ROOT, "plate").is_err());
        assert!(c.plate(&"A ".repeat(40), At::ROOT, "plate").is_err());
        assert_eq!(c.text(Some("  "), At::ROOT, "make").unwrap(), None);
        assert!(c.text(Some(&"x".repeat(65)), At::ROOT, "make").is_err());
        assert!(c.text(Some("a\u{0}b"), At::ROOT, "make").is_err());
    }

    #[test]
    fn boxes() {
        let b = box_around(
            [
                (218.0, 342.0),
                (407.0, 325.0),
                (407.0, 413.0),
                (218.0, 431.0),
            ],
            At::ROOT,
            "c",
        )
        .unwrap()
        .unwrap();
        assert_eq!((b.x, b.y, b.width, b.height), (218, 325, 189, 106));
        assert_eq!(
            box_around([(1.0, 1.0), (1.0, 1.0)], At::ROOT, "c").unwrap(),
            None
        );
        assert_eq!(box_around([], At::ROOT, "c").unwrap(), None);
        assert!(box_between(0.0, 0.0, 1e9, 1.0, At::ROOT, "box").is_err());
        assert!(plate_box(1, 1, 0, 5, At::ROOT, "plate_box").is_err());
    }

    #[test]
    fn quotes_are_short() {
        assert_eq!(quoted("abc"), "\"abc\"");
        assert_eq!(quoted(&"x".repeat(1000)).chars().count(), 43);
    }

    #[test]
    fn base64_variants() {
        assert_eq!(decode_b64("aGVsbG8=").unwrap(), b"hello");
        assert_eq!(decode_b64("aGVsbG8").unwrap(), b"hello");
        assert_eq!(decode_b64("aGVs\nbG8=").unwrap(), b"hello");
        assert_eq!(decode_b64("-_8").unwrap(), decode_b64("+/8").unwrap());
        assert!(decode_b64("not base64!").is_err());
    }
}

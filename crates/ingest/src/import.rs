//! Reading an export dump for `anpr import FILE`.
//!
//! Two formats, both one read per line so that a bad line is reported and skipped rather
//! than failing a file of millions:
//! - JSONL: one of our read objects per line, plus `camera_id` (a dump has no camera key);
//! - CSV with a header: `camera_id,captured_at,plate,confidence[,external_id,make,colour]`,
//!   columns in any order.
//!
//! [`reads`] yields `(line_number, result)` so the CLI can show progress and say which lines
//! were refused and why.

use crate::checks::{quoted, Ctx};
use crate::formats::own::OwnRead;
use crate::json::At;
use crate::{IncomingRead, IngestError, IngestLimits};
use anpr_domain::CameraId;
use chrono::{DateTime, Utc};
use std::io::{BufRead, ErrorKind};
use std::path::Path;

/// One line of a dump: its 1-based line number and the read for a camera, or why not.
pub type ImportItem = (u64, Result<(CameraId, IncomingRead), IngestError>);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DumpFormat {
    Jsonl,
    Csv,
}

impl DumpFormat {
    /// By file extension: `.jsonl`, `.ndjson`, `.json` or `.csv`.
    pub fn from_path(path: &Path) -> Option<DumpFormat> {
        let ext = path.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "json" => Some(DumpFormat::Jsonl),
            "csv" => Some(DumpFormat::Csv),
            _ => None,
        }
    }

    /// By content: a dump whose first non-blank byte opens a JSON object is JSONL.
    pub fn sniff(start: &[u8]) -> DumpFormat {
        let start = start.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(start);
        match start.iter().find(|b| !b.is_ascii_whitespace()) {
            Some(b'{') => DumpFormat::Jsonl,
            _ => DumpFormat::Csv,
        }
    }
}

/// The reads of a dump, line by line.
pub fn reads<R: BufRead>(
    reader: R,
    format: DumpFormat,
    now: DateTime<Utc>,
    limits: IngestLimits,
) -> DumpReads<R> {
    let inner = match format {
        DumpFormat::Jsonl => Inner::Jsonl(Jsonl {
            reader,
            line: 0,
            buf: Vec::new(),
            done: false,
        }),
        DumpFormat::Csv => Inner::Csv(Box::new(Csv::new(reader))),
    };
    DumpReads { inner, now, limits }
}

/// Iterator over a dump; see [`reads`].
pub struct DumpReads<R> {
    inner: Inner<R>,
    now: DateTime<Utc>,
    limits: IngestLimits,
}

enum Inner<R> {
    Jsonl(Jsonl<R>),
    Csv(Box<Csv<R>>),
}

impl<R: BufRead> Iterator for DumpReads<R> {
    type Item = ImportItem;

    fn next(&mut self) -> Option<ImportItem> {
        let ctx = Ctx {
            now: self.now,
            limits: &self.limits,
        };
        match &mut self.inner {
            Inner::Jsonl(j) => j.next(ctx),
            Inner::Csv(c) => c.next(ctx),
        }
    }
}

struct Jsonl<R> {
    reader: R,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

impl<R: BufRead> Jsonl<R> {
    fn next(&mut self, ctx: Ctx) -> Option<ImportItem> {
        // A line may carry two base64 images; anything much longer is not a read.
        let max_line = ctx.limits.image.max_bytes * 3 + 64 * 1024;
        while !self.done {
            self.line += 1;
            self.buf.clear();
            let fits = match read_line(&mut self.reader, &mut self.buf, max_line) {
                Ok(None) => {
                    self.done = true;
                    return None;
                }
                Ok(Some(fits)) => fits,
                Err(e) => {
                    self.done = true;
                    return Some((self.line, Err(IngestError::io("file", e.to_string()))));
                }
            };
            if !fits {
                let e = IngestError::too_large("line", format!("is longer than {max_line} bytes"));
                return Some((self.line, Err(e)));
            }
            let text = self.buf.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&self.buf);
            if text.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some((self.line, jsonl_read(text, ctx)));
        }
        None
    }
}

fn jsonl_read(line: &[u8], ctx: Ctx) -> Result<(CameraId, IncomingRead), IngestError> {
    let raw: OwnRead = crate::json::parse(line)?;
    let camera = raw
        .camera_id
        .ok_or_else(|| IngestError::invalid("camera_id", "is required in an import dump"))?;
    Ok((camera, raw.validate(At::ROOT, ctx)?))
}

/// Reads one line into `buf` (without its end), keeping at most `max` bytes. `None` at the
/// end of input; `Some(false)` when the line was longer than `max` (the rest is skipped).
fn read_line<R: BufRead>(
    reader: &mut R,
    buf: &mut Vec<u8>,
    max: usize,
) -> std::io::Result<Option<bool>> {
    let mut seen_any = false;
    let mut fits = true;
    loop {
        let available = match reader.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok(seen_any.then_some(fits));
        }
        seen_any = true;
        let (chunk, used, end) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (&available[..i], i + 1, true),
            None => (available, available.len(), false),
        };
        if fits && buf.len() + chunk.len() <= max {
            buf.extend_from_slice(chunk);
        } else {
            fits = false;
            buf.clear();
        }
        reader.consume(used);
        if end {
            if buf.last() == Some(&b'\r') {
                buf.pop();
            }
            return Ok(Some(fits));
        }
    }
}

/// Column positions in a CSV dump.
struct Columns {
    camera_id: usize,
    captured_at: usize,
    plate: usize,
    confidence: usize,
    external_id: Option<usize>,
    make: Option<usize>,
    colour: Option<usize>,
}

const REQUIRED: [&str; 4] = ["camera_id", "captured_at", "plate", "confidence"];
const OPTIONAL: [&str; 4] = ["external_id", "make", "colour", "color"];

impl Columns {
    fn from_header(header: &csv::StringRecord) -> Result<Columns, IngestError> {
        let find = |name: &str| {
            header
                .iter()
                .position(|h| h.trim().eq_ignore_ascii_case(name))
        };
        if let Some(unknown) = header.iter().find(|h| {
            let h = h.trim().to_ascii_lowercase();
            !REQUIRED.contains(&h.as_str()) && !OPTIONAL.contains(&h.as_str())
        }) {
            return Err(IngestError::invalid(
                "header",
                format!("has an unknown column {unknown:?} (expected {} and optionally external_id, make, colour)", REQUIRED.join(",")),
            ));
        }
        let need = |name: &str| {
            find(name)
                .ok_or_else(|| IngestError::invalid("header", format!("lacks the column {name}")))
        };
        Ok(Columns {
            camera_id: need("camera_id")?,
            captured_at: need("captured_at")?,
            plate: need("plate")?,
            confidence: need("confidence")?,
            external_id: find("external_id"),
            make: find("make"),
            colour: find("colour").or_else(|| find("color")),
        })
    }
}

struct Csv<R> {
    reader: csv::Reader<R>,
    columns: Option<Columns>,
    record: csv::StringRecord,
    done: bool,
}

impl<R: BufRead> Csv<R> {
    fn new(reader: R) -> Self {
        let reader = csv::ReaderBuilder::new()
            .has_headers(true)
            .flexible(false)
            .trim(csv::Trim::All)
            .from_reader(reader);
        Csv {
            reader,
            columns: None,
            record: csv::StringRecord::new(),
            done: false,
        }
    }

    fn next(&mut self, ctx: Ctx) -> Option<ImportItem> {
        if self.done {
            return None;
        }
        if self.columns.is_none() {
            let columns = self
                .reader
                .headers()
                .map_err(|e| IngestError::malformed("header", e.to_string()))
                .and_then(Columns::from_header);
            match columns {
                Ok(c) => self.columns = Some(c),
                Err(e) => {
                    // Without a header no line can be read.
                    self.done = true;
                    return Some((1, Err(e)));
                }
            }
        }
        let columns = self.columns.as_ref()?;
        match self.reader.read_record(&mut self.record) {
            Ok(false) => {
                self.done = true;
                None
            }
            Ok(true) => {
                let line = self.record.position().map_or(0, |p| p.line());
                Some((line, csv_read(&self.record, columns, ctx)))
            }
            Err(e) => {
                let line = e.position().map_or(0, |p| p.line());
                if matches!(e.kind(), csv::ErrorKind::Io(_)) {
                    self.done = true;
                    return Some((line, Err(IngestError::io("file", e.to_string()))));
                }
                let message = match e.kind() {
                    // The csv crate's wording ("found record with 3 fields, but the previous
                    // record has 4 fields") names neither the header nor the usual cause.
                    csv::ErrorKind::UnequalLengths {
                        expected_len, len, ..
                    } => format!(
                        "has {len} fields where the header has {expected_len}; \
                         quote a value that contains a comma"
                    ),
                    _ => e.to_string(),
                };
                Some((line, Err(IngestError::malformed("line", message))))
            }
        }
    }
}

fn csv_read(
    r: &csv::StringRecord,
    c: &Columns,
    ctx: Ctx,
) -> Result<(CameraId, IncomingRead), IngestError> {
    let get = |i: usize| r.get(i).unwrap_or("");
    let opt = |i: Option<usize>| i.map(get).filter(|s| !s.is_empty());
    let at = At::ROOT;
    let camera: CameraId = get(c.camera_id).parse().map_err(|_| {
        IngestError::invalid(
            "camera_id",
            format!("{} is not a camera id", quoted(get(c.camera_id))),
        )
    })?;
    let confidence: f64 = get(c.confidence).parse().map_err(|_| {
        IngestError::invalid(
            "confidence",
            format!("{} is not a number", quoted(get(c.confidence))),
        )
    })?;
    let (plate_raw, plate) = ctx.plate(get(c.plate), at, "plate")?;
    let read = IncomingRead {
        external_id: ctx.external_id(opt(c.external_id), at, "external_id")?,
        captured_at: ctx.rfc3339(get(c.captured_at), at, "captured_at")?,
        plate_raw,
        plate,
        confidence: ctx.confidence(confidence, 1.0, at, "confidence")?,
        plate_box: None,
        vehicle_make: ctx.text(opt(c.make), at, "make")?,
        vehicle_colour: ctx.text(opt(c.colour), at, "colour")?,
        overview_image: None,
        plate_image: None,
    };
    Ok((camera, read))
}

//! `multipart/form-data` uploads: JSON metadata plus raw image parts, so cameras need not
//! base64 their JPEGs (a third larger, and slower to decode than to copy).
//!
//! The server reads the parts (axum's `Multipart`) into [`Part`]s and hands them here; this
//! crate stays free of HTTP. Accepted part names:
//! - `metadata` or `json` (Plate Recognizer's name): any JSON body [`crate::parse_reads`] accepts;
//! - `overview_image`, `plate_image`: images of the one read the metadata holds;
//! - `reads[i].overview_image`, `reads[i].plate_image`: images of read `i` of a batch;
//! - `upload` (Plate Recognizer): the frame the plates were read from, the overview of every read.

use crate::checks::Ctx;
use crate::images::{validate_image, ValidatedImage};
use crate::{IncomingRead, IngestError, IngestLimits};
use chrono::{DateTime, Utc};

/// One part of a multipart body, as the server read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Part {
    pub name: String,
    pub bytes: Vec<u8>,
}

impl Part {
    pub fn new(name: impl Into<String>, bytes: impl Into<Vec<u8>>) -> Self {
        Part {
            name: name.into(),
            bytes: bytes.into(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Slot {
    Overview,
    Plate,
}

/// Where an image part goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Target {
    /// The only read; an error if there are several.
    Single(Slot),
    /// Read `i` of a batch.
    Indexed(usize, Slot),
    /// Every read: one frame with several plates in it.
    Frame,
}

const ACCEPTED: &str =
    "metadata, json, overview_image, plate_image, upload, reads[i].overview_image, reads[i].plate_image";

/// Maps the parts of a multipart upload to reads: all of them or an error.
pub fn parse_multipart(
    parts: Vec<Part>,
    now: DateTime<Utc>,
    limits: &IngestLimits,
) -> Result<Vec<IncomingRead>, IngestError> {
    let mut metadata: Option<Part> = None;
    let mut images: Vec<(Target, String, Vec<u8>)> = Vec::new();
    for part in parts {
        if part.name == "metadata" || part.name == "json" {
            if metadata.is_some() {
                return Err(IngestError::invalid(
                    part.name,
                    "is given twice (send one metadata or json part)",
                ));
            }
            metadata = Some(part);
            continue;
        }
        let target = target(&part.name).ok_or_else(|| {
            IngestError::invalid(&part.name, format!("is not a part we accept ({ACCEPTED})"))
        })?;
        if images.iter().any(|(t, _, _)| *t == target) {
            return Err(IngestError::invalid(part.name, "is given twice"));
        }
        // Browsers send an empty part for a file input left blank.
        if !part.bytes.is_empty() {
            images.push((target, part.name, part.bytes));
        }
    }
    let metadata = metadata.ok_or_else(|| {
        IngestError::malformed(
            "metadata",
            "is required: a part named metadata (or json) holding the reads as JSON",
        )
    })?;
    let ctx = Ctx { now, limits };
    let (_, mut reads) = crate::formats::parse(&metadata.bytes, ctx)?;
    for (target, name, bytes) in images {
        let image = validate_image(bytes, &limits.image).map_err(|e| e.with_field(&name))?;
        attach(&mut reads, target, &name, image)?;
    }
    Ok(reads)
}

fn attach(
    reads: &mut [IncomingRead],
    target: Target,
    name: &str,
    image: ValidatedImage,
) -> Result<(), IngestError> {
    let n = reads.len();
    match target {
        Target::Frame => {
            if n == 0 {
                return Err(IngestError::invalid(name, "comes with no read"));
            }
            for read in reads.iter_mut() {
                put(read, Slot::Overview, name, image.clone())?;
            }
            Ok(())
        }
        Target::Single(slot) => match reads {
            [read] => put(read, slot, name, image),
            _ => Err(IngestError::invalid(
                name,
                format!("belongs to a single read but the metadata holds {n}; name the part reads[i].{name}"),
            )),
        },
        Target::Indexed(i, slot) => match reads.get_mut(i) {
            Some(read) => put(read, slot, name, image),
            None => Err(IngestError::invalid(name, format!("names read {i} but the metadata holds {n}"))),
        },
    }
}

fn put(
    read: &mut IncomingRead,
    slot: Slot,
    name: &str,
    image: ValidatedImage,
) -> Result<(), IngestError> {
    let place = match slot {
        Slot::Overview => &mut read.overview_image,
        Slot::Plate => &mut read.plate_image,
    };
    if place.is_some() {
        return Err(IngestError::invalid(
            name,
            "is given both in the JSON and as a part",
        ));
    }
    *place = Some(image);
    Ok(())
}

fn target(name: &str) -> Option<Target> {
    let slot = |s: &str| match s {
        "overview_image" => Some(Slot::Overview),
        "plate_image" => Some(Slot::Plate),
        _ => None,
    };
    if name == "upload" {
        return Some(Target::Frame);
    }
    if let Some(s) = slot(name) {
        return Some(Target::Single(s));
    }
    let rest = name.strip_prefix("reads[")?;
    let (index, field) = rest.split_once("].")?;
    if index.is_empty() || index.len() > 6 || !index.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(Target::Indexed(index.parse().ok()?, slot(field)?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn part_names() {
        assert_eq!(target("upload"), Some(Target::Frame));
        assert_eq!(target("plate_image"), Some(Target::Single(Slot::Plate)));
        assert_eq!(
            target("reads[12].overview_image"),
            Some(Target::Indexed(12, Slot::Overview))
        );
        assert_eq!(target("reads[].plate_image"), None);
        assert_eq!(target("reads[-1].plate_image"), None);
        assert_eq!(target("reads[1].plate"), None);
        assert_eq!(target("image"), None);
    }
}

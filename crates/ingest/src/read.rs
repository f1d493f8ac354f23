//! What every input format is turned into.

use crate::images::ValidatedImage;
use anpr_domain::{BoundingBox, CameraId, ImageHash, NewRead, NormalisedPlate};
use chrono::{DateTime, Utc};

/// One plate read, validated, with its images, not yet tied to a camera (the server knows the
/// camera from the API key; the importer from the dump).
#[derive(Debug, Clone, PartialEq)]
pub struct IncomingRead {
    /// The camera's own id for the read, used to recognise a retried upload.
    pub external_id: Option<String>,
    /// When the camera saw the plate, by the camera's clock.
    pub captured_at: DateTime<Utc>,
    /// The plate text as the camera sent it (trimmed).
    pub plate_raw: String,
    pub plate: NormalisedPlate,
    /// OCR confidence, 0 to 1, whatever scale the camera used.
    pub confidence: f32,
    pub plate_box: Option<BoundingBox>,
    pub vehicle_make: Option<String>,
    pub vehicle_colour: Option<String>,
    pub overview_image: Option<ValidatedImage>,
    pub plate_image: Option<ValidatedImage>,
}

/// The images of a read, each with the content hash it is stored under.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct ReadImages {
    pub overview: Option<(ImageHash, ValidatedImage)>,
    pub plate: Option<(ImageHash, ValidatedImage)>,
}

impl ReadImages {
    pub fn is_empty(&self) -> bool {
        self.overview.is_none() && self.plate.is_none()
    }

    /// Both images, for writing them to the blob store.
    pub fn iter(&self) -> impl Iterator<Item = &(ImageHash, ValidatedImage)> {
        self.overview.iter().chain(self.plate.iter())
    }
}

impl IncomingRead {
    /// Splits the read into the row to store for `camera_id` and the images to write, hashing
    /// each image once so the row and the blob agree on the address.
    pub fn into_new_read(self, camera_id: CameraId) -> (NewRead, ReadImages) {
        let hashed = |img: ValidatedImage| (img.content_hash(), img);
        let images = ReadImages {
            overview: self.overview_image.map(hashed),
            plate: self.plate_image.map(hashed),
        };
        let read = NewRead {
            camera_id,
            external_id: self.external_id,
            captured_at: self.captured_at,
            plate_raw: self.plate_raw,
            plate: self.plate,
            confidence: self.confidence,
            plate_box: self.plate_box,
            vehicle_make: self.vehicle_make,
            vehicle_colour: self.vehicle_colour,
            overview_image: images.overview.as_ref().map(|(h, _)| h.clone()),
            plate_image: images.plate.as_ref().map(|(h, _)| h.clone()),
        };
        (read, images)
    }
}

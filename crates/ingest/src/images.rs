//! Cheap validation of camera images.
//!
//! This runs for every image at ingest (thousands a second), so it never decodes pixels: it
//! checks the magic bytes, that the file ends where a complete file ends (a cheap catch for
//! uploads cut short), and reads the dimensions from the header to refuse decompression bombs
//! before anyone decodes them.

use crate::{limits::ImageLimits, IngestError};
use anpr_domain::ImageHash;
use sha2::{Digest, Sha256};
use std::io::Cursor;

pub use anpr_domain::ImageFormat;

/// An image that passed [`validate_image`]. The fields are private so that holding one is
/// proof the bytes were checked.
#[derive(Clone, PartialEq, Eq)]
pub struct ValidatedImage {
    bytes: Vec<u8>,
    format: ImageFormat,
    width: u32,
    height: u32,
}

impl ValidatedImage {
    pub fn bytes(&self) -> &[u8] {
        &self.bytes
    }
    pub fn into_bytes(self) -> Vec<u8> {
        self.bytes
    }
    pub fn format(&self) -> ImageFormat {
        self.format
    }
    pub fn width(&self) -> u32 {
        self.width
    }
    pub fn height(&self) -> u32 {
        self.height
    }
    pub fn len(&self) -> usize {
        self.bytes.len()
    }
    pub fn is_empty(&self) -> bool {
        self.bytes.is_empty()
    }

    /// SHA-256 of the bytes: the content address the image is stored under.
    pub fn content_hash(&self) -> ImageHash {
        ImageHash(hex::encode(Sha256::digest(&self.bytes)))
    }
}

// Hand-written so that logging a read never dumps megabytes of image bytes.
impl std::fmt::Debug for ValidatedImage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ValidatedImage")
            .field("format", &self.format)
            .field("width", &self.width)
            .field("height", &self.height)
            .field("len", &self.bytes.len())
            .finish()
    }
}

/// Checks that `bytes` are a complete JPEG or PNG within `limits`, without decoding pixels.
/// Errors name the field `image`; callers rename it with [`IngestError::with_field`].
pub fn validate_image(bytes: Vec<u8>, limits: &ImageLimits) -> Result<ValidatedImage, IngestError> {
    const FIELD: &str = "image";
    if bytes.is_empty() {
        return Err(IngestError::invalid(FIELD, "is empty"));
    }
    if bytes.len() > limits.max_bytes {
        return Err(IngestError::too_large(
            FIELD,
            format!(
                "is {} bytes; the limit is {} bytes",
                bytes.len(),
                limits.max_bytes
            ),
        ));
    }
    let format = ImageFormat::sniff(&bytes)
        .ok_or_else(|| IngestError::invalid(FIELD, "is not a JPEG or PNG image"))?;
    if !format.is_complete(&bytes) {
        return Err(IngestError::invalid(
            FIELD,
            format!(
                "is a truncated {} (no end marker)",
                format.extension().to_uppercase()
            ),
        ));
    }
    let decoder_format = match format {
        ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        ImageFormat::Png => image::ImageFormat::Png,
    };
    let (width, height) = image::ImageReader::with_format(Cursor::new(&bytes), decoder_format)
        .into_dimensions()
        .map_err(|e| IngestError::invalid(FIELD, format!("is a corrupt image: {e}")))?;
    if width == 0 || height == 0 {
        return Err(IngestError::invalid(FIELD, "has no pixels"));
    }
    let pixels = u64::from(width) * u64::from(height);
    if pixels > limits.max_pixels {
        return Err(IngestError::too_large(
            FIELD,
            format!(
                "is {width}x{height} pixels; the limit is {} megapixels",
                limits.max_pixels as f64 / 1e6
            ),
        ));
    }
    Ok(ValidatedImage {
        bytes,
        format,
        width,
        height,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_garbage_cheaply() {
        let limits = ImageLimits::default();
        let e = validate_image(b"hello".to_vec(), &limits).unwrap_err();
        assert_eq!(e.field(), "image");
        assert!(e.message().contains("not a JPEG or PNG"));
        let e = validate_image(vec![], &limits).unwrap_err();
        assert!(e.message().contains("empty"));
        // Right magic and end marker, nothing in between.
        let e = validate_image(b"\xFF\xD8\xFF\xFF\xD9".to_vec(), &limits).unwrap_err();
        assert!(e.message().contains("corrupt"), "{e}");
    }
}

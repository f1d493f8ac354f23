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

const JPEG_MAGIC: &[u8] = &[0xFF, 0xD8, 0xFF];
const JPEG_EOI: &[u8] = &[0xFF, 0xD9];
const PNG_MAGIC: &[u8] = &[0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
/// A PNG's last chunk: zero length, type `IEND`, and the CRC of `IEND`.
const PNG_IEND: &[u8] = &[0, 0, 0, 0, b'I', b'E', b'N', b'D', 0xAE, 0x42, 0x60, 0x82];

/// The image formats cameras send and browsers show; nothing else is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImageFormat {
    Jpeg,
    Png,
}

impl ImageFormat {
    pub fn mime_type(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "image/jpeg",
            ImageFormat::Png => "image/png",
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            ImageFormat::Jpeg => "jpg",
            ImageFormat::Png => "png",
        }
    }

    /// The format announced by the first bytes, if it is one we accept.
    pub fn sniff(bytes: &[u8]) -> Option<ImageFormat> {
        if bytes.starts_with(PNG_MAGIC) {
            Some(ImageFormat::Png)
        } else if bytes.starts_with(JPEG_MAGIC) {
            Some(ImageFormat::Jpeg)
        } else {
            None
        }
    }
}

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
    // Cameras and some HTTP clients pad files with zeros; a file cut short does not end in
    // its terminator at all. Neither terminator ends in a zero byte, so the trim never cuts
    // into one.
    let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
    let complete = bytes[..end].ends_with(match format {
        ImageFormat::Jpeg => JPEG_EOI,
        ImageFormat::Png => PNG_IEND,
    });
    if !complete {
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
    fn sniffs_only_jpeg_and_png() {
        assert_eq!(
            ImageFormat::sniff(b"\xFF\xD8\xFF\xE0"),
            Some(ImageFormat::Jpeg)
        );
        assert_eq!(ImageFormat::sniff(PNG_MAGIC), Some(ImageFormat::Png));
        assert_eq!(ImageFormat::sniff(b"GIF89a"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }

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

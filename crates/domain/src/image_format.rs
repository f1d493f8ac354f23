//! The image formats the platform stores, told apart by their bytes alone.
//!
//! Both ingest (which never decodes pixels) and recognition (which does) need the same two
//! answers about a file — which format it claims to be, and whether it ends where a complete
//! file ends — so they are answered once, here.

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

    /// Whether `bytes` end with this format's terminator, ignoring zero padding.
    ///
    /// A camera upload cut short (an FTP transfer broken off) does not end in its terminator,
    /// and a JPEG decoder would fill the missing rows with grey and report success. Cameras and
    /// some HTTP clients pad files with zeros; neither terminator ends in a zero byte, so the
    /// trim never cuts into one.
    pub fn is_complete(self, bytes: &[u8]) -> bool {
        let end = bytes.iter().rposition(|&b| b != 0).map_or(0, |i| i + 1);
        bytes[..end].ends_with(match self {
            ImageFormat::Jpeg => JPEG_EOI,
            ImageFormat::Png => PNG_IEND,
        })
    }
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
        assert_eq!(
            ImageFormat::sniff(b"\x89PNG\r\n\x1a\n...."),
            Some(ImageFormat::Png)
        );
        assert_eq!(ImageFormat::sniff(b"GIF89a"), None);
        assert_eq!(ImageFormat::sniff(b""), None);
    }

    #[test]
    fn a_file_is_complete_only_with_its_terminator_allowing_zero_padding() {
        let jpeg = [0xFF, 0xD8, 0xFF, 0xE0, 1, 2, 3, 0xFF, 0xD9];
        assert!(ImageFormat::Jpeg.is_complete(&jpeg));
        let mut padded = jpeg.to_vec();
        padded.extend_from_slice(&[0; 16]);
        assert!(ImageFormat::Jpeg.is_complete(&padded));
        assert!(!ImageFormat::Jpeg.is_complete(&jpeg[..6]));
        assert!(!ImageFormat::Jpeg.is_complete(&[]));
        let mut png = PNG_MAGIC.to_vec();
        png.extend_from_slice(PNG_IEND);
        assert!(ImageFormat::Png.is_complete(&png));
        assert!(!ImageFormat::Png.is_complete(&png[..png.len() - 1]));
    }
}

//! Image decoding with limits: a decompression bomb or a truncated file is an error, never an
//! allocation of gigabytes or a panic.

use anpr_domain::ImageFormat;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use std::io::Cursor;

use crate::{RecognitionError, Result};

/// Photos from plate cameras are at most a few megapixels; 40 MP leaves room for 8K stills.
pub const MAX_PIXELS: u64 = 40_000_000;
const MAX_ALLOC_BYTES: u64 = 512 * 1024 * 1024;

/// Decodes a JPEG or PNG and applies its EXIF orientation.
pub fn decode_photo(bytes: &[u8]) -> Result<RgbImage> {
    let reader = ImageReader::new(Cursor::new(bytes))
        .with_guessed_format()
        .map_err(|e| RecognitionError::Decode(e.to_string()))?;
    if reader.format().is_none() {
        return Err(RecognitionError::Decode(
            "not a JPEG or PNG image".to_string(),
        ));
    }
    // The JPEG decoder fills a truncated scan with grey and reports success; a photo cut short
    // must be refused as damaged, not read as a half-grey photo with "no plate".
    if let Some(format) = ImageFormat::sniff(bytes).filter(|f| !f.is_complete(bytes)) {
        return Err(RecognitionError::Decode(format!(
            "the {} is truncated: it does not end with its end marker",
            format.extension().to_uppercase()
        )));
    }
    let mut decoder = reader
        .into_decoder()
        .map_err(|e| RecognitionError::Decode(e.to_string()))?;
    let (width, height) = decoder.dimensions();
    if u64::from(width) * u64::from(height) > MAX_PIXELS {
        return Err(RecognitionError::TooLarge {
            width,
            height,
            max_pixels: MAX_PIXELS,
        });
    }
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    decoder
        .set_limits(limits)
        .map_err(|e| RecognitionError::Decode(e.to_string()))?;
    // A photo whose EXIF block is unreadable is still a photo: read it upright as stored.
    let orientation = decoder.orientation().ok();
    let mut image =
        DynamicImage::from_decoder(decoder).map_err(|e| RecognitionError::Decode(e.to_string()))?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image.into_rgb8())
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::ImageFormat;

    fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
        let mut out = Cursor::new(Vec::new());
        img.write_to(&mut out, format).unwrap();
        out.into_inner()
    }

    #[test]
    fn decodes_png_and_jpeg() {
        let img = RgbImage::from_pixel(40, 20, image::Rgb([200, 10, 10]));
        for format in [ImageFormat::Png, ImageFormat::Jpeg] {
            let back = decode_photo(&encode(&img, format)).unwrap();
            assert_eq!(back.dimensions(), (40, 20));
        }
    }

    #[test]
    fn refuses_non_images_and_truncated_files() {
        assert!(matches!(
            decode_photo(b"hello, not an image"),
            Err(RecognitionError::Decode(_))
        ));
        let img = RgbImage::from_pixel(64, 64, image::Rgb([1, 2, 3]));
        let jpeg = encode(&img, ImageFormat::Jpeg);
        assert!(decode_photo(&jpeg[..jpeg.len() / 3]).is_err());
        assert!(decode_photo(&[]).is_err());
    }

    #[test]
    fn refuses_a_jpeg_cut_off_inside_its_image_data() {
        // Noise keeps the scan long, so two thirds of the file ends inside it: the decoder alone
        // would fill the rest with grey and succeed.
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let img = RgbImage::from_fn(320, 240, |_, _| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            image::Rgb([state as u8, (state >> 8) as u8, (state >> 16) as u8])
        });
        let jpeg = encode(&img, ImageFormat::Jpeg);
        assert!(decode_photo(&jpeg).is_ok());
        match decode_photo(&jpeg[..jpeg.len() * 2 / 3]) {
            Err(RecognitionError::Decode(message)) => assert!(message.contains("truncated")),
            other => panic!("expected a decode error, got {other:?}"),
        }
        // Zero padding after the end-of-image marker (some cameras pad their files) is harmless.
        let mut padded = jpeg.clone();
        padded.extend_from_slice(&[0; 64]);
        assert!(decode_photo(&padded).is_ok());
    }

    #[test]
    fn refuses_a_decompression_bomb_before_decoding() {
        // A 20000x20000 PNG compresses to a few hundred kilobytes but would need 1.2 GB.
        let mut png = Vec::new();
        {
            let mut encoder = png_header_only(20_000, 20_000);
            png.append(&mut encoder);
        }
        match decode_photo(&png) {
            Err(RecognitionError::TooLarge { width, height, .. }) => {
                assert_eq!((width, height), (20_000, 20_000))
            }
            other => panic!("expected TooLarge, got {other:?}"),
        }
    }

    /// The signature and IHDR chunk of a PNG: enough for a decoder to learn the dimensions.
    fn png_header_only(width: u32, height: u32) -> Vec<u8> {
        let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        let mut ihdr = Vec::new();
        ihdr.extend_from_slice(b"IHDR");
        ihdr.extend_from_slice(&width.to_be_bytes());
        ihdr.extend_from_slice(&height.to_be_bytes());
        ihdr.extend_from_slice(&[8, 2, 0, 0, 0]);
        // An IDAT holding an empty zlib stream, then IEND: decoders read up to the first IDAT
        // before they report dimensions.
        let idat: &[u8] = &[
            b'I', b'D', b'A', b'T', 0x78, 0x9C, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01,
        ];
        for chunk in [&ihdr[..], idat, b"IEND"] {
            out.extend_from_slice(&(chunk.len() as u32 - 4).to_be_bytes());
            out.extend_from_slice(chunk);
            out.extend_from_slice(&crc32(chunk).to_be_bytes());
        }
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xFFFF_FFFFu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xEDB8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}

//! Image decoding with limits: a decompression bomb or a truncated file is an error, never an
//! allocation of gigabytes or a panic.
//!
//! [`decode_cost`] says from the header alone how much memory decoding a photo will hold, so
//! that a caller running many decodes at once can admit each against a budget before any pixel
//! is decoded; [`decode_photo`] decodes in the order that estimate assumes.

use anpr_domain::ImageFormat;
use image::metadata::Orientation;
use image::{ColorType, DynamicImage, ImageDecoder, ImageReader, Limits, RgbImage};
use std::io::Cursor;

use crate::{RecognitionError, Result};

/// Photos from plate cameras are at most a few megapixels; 40 MP leaves room for 8K stills.
pub const MAX_PIXELS: u64 = 40_000_000;
const MAX_ALLOC_BYTES: u64 = 512 * 1024 * 1024;

/// Memory one recognition thread holds besides its decoded photo, whatever the photo's size:
/// the detection copy (at most 1920 pixels on the longer side, and its `f32` form while a
/// canvas is resampled from it), the canvases, the networks' activations at the largest canvas,
/// and its share of the optimised plans. A stated upper bound, not a limit enforced: with one
/// thread, a server grew by 300 MiB at most beyond the 40-megapixel photo it was decoding
/// (`anpr bench image-bomb --decode-concurrency 1`), and a second thread adds less.
pub const WORKING_BYTES: u64 = 320 << 20;

/// The memory decoding one photo holds at its peak, known from its header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DecodeCost {
    pub width: u32,
    pub height: u32,
    /// Bytes held at the peak of decoding: see [`decode_cost`].
    pub bytes: u64,
}

/// What decoding `bytes` will cost, read from the header without decoding a pixel; the same
/// refusals as [`decode_photo`] (not a JPEG or PNG, truncated, over [`MAX_PIXELS`]).
///
/// Decoding goes through phases that each hold, per pixel: the decoder's own buffer in the
/// file's colour type (a progressive JPEG also keeps every DCT coefficient, two bytes per
/// channel, until its last scan); then that buffer and the 8-bit RGB copy recognition works on
/// (none when the file is 8-bit RGB already); then, for an EXIF rotation by a quarter turn,
/// two RGB copies. The cost is the largest phase. Recognition's other memory (its detection
/// copy, at most twice the largest detection side, and the networks' activations) does not
/// grow with the photo.
pub fn decode_cost(bytes: &[u8]) -> Result<DecodeCost> {
    let mut decoder = checked_decoder(bytes)?;
    let (width, height) = decoder.dimensions();
    let color = decoder.color_type();
    let native = u64::from(color.bytes_per_pixel());
    let coefficients = if is_progressive_jpeg(bytes) {
        2 * u64::from(color.channel_count())
    } else {
        0
    };
    let rgb_copy = if color == ColorType::Rgb8 { 0 } else { 3 };
    let rotation = match decoder.orientation().unwrap_or(Orientation::NoTransforms) {
        Orientation::Rotate90
        | Orientation::Rotate270
        | Orientation::Rotate90FlipH
        | Orientation::Rotate270FlipH => 6,
        _ => 3,
    };
    let per_pixel = (native + coefficients).max(native + rgb_copy).max(rotation);
    Ok(DecodeCost {
        width,
        height,
        bytes: u64::from(width) * u64::from(height) * per_pixel,
    })
}

/// Decodes a JPEG or PNG and applies its EXIF orientation.
pub fn decode_photo(bytes: &[u8]) -> Result<RgbImage> {
    let mut decoder = checked_decoder(bytes)?;
    let mut limits = Limits::default();
    limits.max_alloc = Some(MAX_ALLOC_BYTES);
    decoder
        .set_limits(limits)
        .map_err(|e| RecognitionError::Decode(e.to_string()))?;
    // A photo whose EXIF block is unreadable is still a photo: read it upright as stored.
    let orientation = decoder.orientation().ok();
    let image =
        DynamicImage::from_decoder(decoder).map_err(|e| RecognitionError::Decode(e.to_string()))?;
    // Converted before it is turned, so that a quarter turn copies 8-bit RGB, as
    // [`decode_cost`] counts, whatever the file's colour type.
    let mut image = DynamicImage::ImageRgb8(to_rgb8(image));
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image.into_rgb8())
}

/// `image` as 8-bit RGB. Grey (infrared cameras) and RGBA are widened or narrowed byte by
/// byte: `image`'s general conversion goes through floating point per channel, which took a
/// fifth of the time of recognising a 40-megapixel grey PNG.
fn to_rgb8(image: DynamicImage) -> RgbImage {
    let (width, height) = (image.width(), image.height());
    let bytes: Vec<u8> = match image {
        DynamicImage::ImageRgb8(rgb) => return rgb,
        DynamicImage::ImageLuma8(grey) => grey.as_raw().iter().flat_map(|&v| [v, v, v]).collect(),
        DynamicImage::ImageRgba8(rgba) => rgba
            .as_raw()
            .chunks_exact(4)
            .flat_map(|p| [p[0], p[1], p[2]])
            .collect(),
        other => return other.into_rgb8(),
    };
    RgbImage::from_raw(width, height, bytes).expect("three bytes for every pixel")
}

/// The decoder of a complete JPEG or PNG of at most [`MAX_PIXELS`], its header read.
fn checked_decoder(bytes: &[u8]) -> Result<impl ImageDecoder + '_> {
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
    let decoder = reader
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
    Ok(decoder)
}

/// Whether `bytes` are a JPEG whose frame is progressive (SOF2, SOF6, SOF10 or SOF14), found by
/// walking the marker segments up to the first scan.
fn is_progressive_jpeg(bytes: &[u8]) -> bool {
    if !bytes.starts_with(&[0xFF, 0xD8]) {
        return false;
    }
    let mut at = 2;
    while at + 4 <= bytes.len() {
        if bytes[at] != 0xFF {
            return false;
        }
        let marker = bytes[at + 1];
        match marker {
            // Fill bytes before a marker.
            0xFF => {
                at += 1;
                continue;
            }
            0xC2 | 0xC6 | 0xCA | 0xCE => return true,
            // Start of scan: the frame header, if any, came before it.
            0xDA => return false,
            _ => {}
        }
        let length = usize::from(u16::from_be_bytes([bytes[at + 2], bytes[at + 3]]));
        at += 2 + length;
    }
    false
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
    fn the_cost_is_read_from_the_header_and_counts_the_rgb_copy() {
        let rgb = RgbImage::from_pixel(40, 20, image::Rgb([200, 10, 10]));
        let cost = decode_cost(&encode(&rgb, ImageFormat::Png)).unwrap();
        assert_eq!((cost.width, cost.height, cost.bytes), (40, 20, 40 * 20 * 3));
        let grey = image::GrayImage::from_pixel(40, 20, image::Luma([7]));
        let mut png = Cursor::new(Vec::new());
        grey.write_to(&mut png, ImageFormat::Png).unwrap();
        // The grey buffer and its RGB copy are held together.
        assert_eq!(decode_cost(png.get_ref()).unwrap().bytes, 40 * 20 * 4);
        let jpeg = encode(&rgb, ImageFormat::Jpeg);
        assert!(!is_progressive_jpeg(&jpeg));
        assert_eq!(decode_cost(&jpeg).unwrap().bytes, 40 * 20 * 3);
        // The header is enough: a bomb's cost is known without decoding it.
        let bomb = png_header_only(6_000, 6_000);
        assert_eq!(decode_cost(&bomb).unwrap().bytes, 6_000 * 6_000 * 3);
        assert!(matches!(
            decode_cost(&png_header_only(20_000, 20_000)),
            Err(RecognitionError::TooLarge { .. })
        ));
    }

    #[test]
    fn a_progressive_jpeg_is_told_from_its_frame_header() {
        // SOI, an APP0 segment, then SOF2.
        let progressive = [
            0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x04, 0x00, 0x00, 0xFF, 0xC2, 0x00, 0x02,
        ];
        assert!(is_progressive_jpeg(&progressive));
        let baseline = [0xFF, 0xD8, 0xFF, 0xC0, 0x00, 0x02, 0xFF, 0xDA, 0x00, 0x02];
        assert!(!is_progressive_jpeg(&baseline));
        assert!(!is_progressive_jpeg(b"\x89PNG"));
        assert!(!is_progressive_jpeg(&[0xFF, 0xD8, 0xFF, 0xE0, 0xFF]));
    }

    #[test]
    fn grey_and_rgba_become_the_rgb_that_image_makes_of_them() {
        let grey = image::GrayImage::from_fn(17, 9, |x, y| image::Luma([(x * 15 + y) as u8]));
        let rgba = image::RgbaImage::from_fn(17, 9, |x, y| image::Rgba([x as u8, y as u8, 200, 7]));
        for photo in [
            DynamicImage::ImageLuma8(grey),
            DynamicImage::ImageRgba8(rgba),
        ] {
            assert_eq!(to_rgb8(photo.clone()), photo.into_rgb8());
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

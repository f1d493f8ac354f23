//! Image validation on real JPEGs and PNGs made by the `image` crate.

mod common;

use anpr_ingest::{validate_image, ImageFormat, ImageLimits};
use common::{jpeg, png, png_claiming};
use std::time::Instant;

fn limits() -> ImageLimits {
    ImageLimits::default()
}

#[test]
fn accepts_real_jpeg_and_png_with_dimensions() {
    let img = validate_image(jpeg(321, 123), &limits()).unwrap();
    assert_eq!(
        (img.format(), img.width(), img.height()),
        (ImageFormat::Jpeg, 321, 123)
    );
    assert_eq!(img.format().mime_type(), "image/jpeg");
    let img = validate_image(png(17, 250), &limits()).unwrap();
    assert_eq!(
        (img.format(), img.width(), img.height()),
        (ImageFormat::Png, 17, 250)
    );
    assert_eq!(img.format().extension(), "png");
    assert_eq!(img.content_hash().as_str().len(), 64);
    assert!(
        format!("{img:?}").contains("len"),
        "Debug must not dump the bytes"
    );
}

#[test]
fn zero_padding_after_the_end_marker_is_fine() {
    let mut bytes = jpeg(40, 30);
    bytes.extend_from_slice(&[0; 512]);
    assert!(validate_image(bytes, &limits()).is_ok());
    let mut bytes = png(40, 30);
    bytes.extend_from_slice(&[0; 3]);
    assert!(validate_image(bytes, &limits()).is_ok());
}

#[test]
fn truncated_files_are_refused() {
    let full = jpeg(200, 100);
    for cut in [full.len() - 1, full.len() - 2, full.len() / 2, 3, 10] {
        let e = validate_image(full[..cut].to_vec(), &limits()).unwrap_err();
        assert_eq!(e.http_status(), 422, "{e}");
    }
    let full = png(200, 100);
    for cut in [full.len() - 1, full.len() - 12, full.len() / 2, 8, 20] {
        let e = validate_image(full[..cut].to_vec(), &limits()).unwrap_err();
        assert_eq!(e.http_status(), 422, "{e}");
    }
}

#[test]
fn corrupt_headers_are_refused() {
    let mut bytes = png(20, 20);
    bytes[20] ^= 0xFF; // height, now with a wrong CRC
    let e = validate_image(bytes, &limits()).unwrap_err();
    assert!(e.message().contains("corrupt"), "{e}");
    // JPEG magic, a garbage middle and an end marker.
    let mut bytes = vec![0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x02];
    bytes.extend_from_slice(&[0x55; 100]);
    bytes.extend_from_slice(&[0xFF, 0xD9]);
    assert_eq!(
        validate_image(bytes, &limits()).unwrap_err().http_status(),
        422
    );
}

#[test]
fn decompression_bomb_is_refused_cheaply() {
    let bomb = png_claiming(20_000, 20_000);
    assert!(bomb.len() < 200, "the header alone: {} bytes", bomb.len());
    let started = Instant::now();
    let e = validate_image(bomb, &limits()).unwrap_err();
    let took = started.elapsed();
    assert_eq!(e.http_status(), 413, "{e}");
    assert!(e.message().contains("20000x20000"), "{e}");
    assert!(took.as_millis() < 50, "took {took:?}: it must not decode");
    // Just under the limit is fine: dimensions alone decide.
    assert!(validate_image(png_claiming(8000, 5000), &limits()).is_ok());
    assert!(validate_image(png_claiming(8000, 5001), &limits()).is_err());
}

#[test]
fn byte_limit_is_413() {
    let small = ImageLimits {
        max_bytes: 1000,
        ..limits()
    };
    let e = validate_image(jpeg(300, 300), &small).unwrap_err();
    assert_eq!(e.http_status(), 413);
    assert_eq!(e.field(), "image");
}

#[test]
fn validation_is_cheap() {
    let bytes = jpeg(640, 480);
    let rounds = 2000;
    let started = Instant::now();
    for _ in 0..rounds {
        validate_image(bytes.clone(), &limits()).unwrap();
    }
    let per = started.elapsed() / rounds;
    // Generous, for an unoptimised build on a shared machine: a full decode takes milliseconds.
    assert!(per.as_micros() < 2000, "{per:?} per image");
}

#[test]
fn jpeg_claiming_a_huge_canvas_is_refused() {
    let mut bytes = jpeg(16, 16);
    // The baseline start-of-frame segment: FFC0, length (2), precision (1), height (2), width (2).
    let sof = bytes
        .windows(2)
        .position(|w| w == [0xFF, 0xC0])
        .expect("a baseline JPEG");
    bytes[sof + 5..sof + 7].copy_from_slice(&60_000u16.to_be_bytes());
    bytes[sof + 7..sof + 9].copy_from_slice(&60_000u16.to_be_bytes());
    let started = Instant::now();
    let e = validate_image(bytes, &limits()).unwrap_err();
    assert_eq!(e.http_status(), 413, "{e}");
    assert!(started.elapsed().as_millis() < 50);
}

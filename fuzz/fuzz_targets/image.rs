//! Image validation and decoding over arbitrary bytes. Validation must never panic and never
//! accept more pixels than the limit; an image it accepts is then decoded (under a memory
//! limit, as anything that shows or recognises it would) and must have the dimensions the
//! validator read from its header.
#![no_main]

use anpr_ingest::{validate_image, IngestLimits};
use std::io::Cursor;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let limits = IngestLimits::default().image;
    let Ok(valid) = validate_image(data.to_vec(), &limits) else {
        return;
    };
    let pixels = u64::from(valid.width()) * u64::from(valid.height());
    assert!(pixels > 0 && pixels <= limits.max_pixels);
    let format = match valid.format() {
        anpr_ingest::ImageFormat::Jpeg => image::ImageFormat::Jpeg,
        anpr_ingest::ImageFormat::Png => image::ImageFormat::Png,
    };
    let mut reader = image::ImageReader::with_format(Cursor::new(valid.bytes()), format);
    let mut decode_limits = image::Limits::default();
    decode_limits.max_alloc = Some(256 * 1024 * 1024);
    reader.limits(decode_limits);
    if let Ok(img) = reader.decode() {
        assert_eq!(
            (img.width(), img.height()),
            (valid.width(), valid.height()),
            "the decoder disagrees with the validated header"
        );
    }
});

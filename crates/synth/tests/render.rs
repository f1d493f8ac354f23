//! Rendered images decode to what was asked for and pass the platform's own ingest checks.

use anpr_ingest::{validate_image, ImageFormat, ImageLimits};
use anpr_synth::render::{
    jpeg_with_comment, render_overview_jpeg, render_plate_crop_sized, render_plate_jpeg,
    render_plate_png, PlateCropCache, PlateRenderer,
};
use std::sync::Arc;
use std::time::Instant;

#[test]
fn plate_jpeg_and_png_decode_to_the_requested_size() {
    for width in [60, 200, 372, 800] {
        let jpeg = render_plate_jpeg("ABC123", width, 85, 1).unwrap();
        let img = image::load_from_memory(&jpeg).unwrap();
        assert_eq!(img.width(), width);
        assert_eq!(
            img.height(),
            (f64::from(width) * 134.0 / 372.0).round() as u32
        );
        let png = render_plate_png("XY1234", width, 1).unwrap();
        let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
        assert_eq!(img.width(), width);
    }
    assert_eq!(
        render_plate_jpeg("ABC123", 300, 80, 4).unwrap(),
        render_plate_jpeg("ABC123", 300, 80, 4).unwrap()
    );
    assert!(render_plate_jpeg("ABC 123", 300, 80, 4).is_err());
}

#[test]
fn sized_crops_are_near_the_target_and_valid() {
    for target in [8_000, 30_000, 60_000] {
        let jpeg = render_plate_crop_sized("FJM493", target, 2).unwrap();
        let off = (jpeg.len() as f64 / target as f64 - 1.0).abs();
        assert!(off < 0.15, "{target}: got {} bytes", jpeg.len());
        let v = validate_image(jpeg, &ImageLimits::default()).unwrap();
        assert_eq!(v.format(), ImageFormat::Jpeg);
    }
    assert!(render_plate_crop_sized("FJM493", 10, 2).is_err());
}

#[test]
fn overview_has_the_plate_where_the_box_says() {
    let o = render_overview_jpeg("ABC123", Some("blue"), 640, 480, 85, 3).unwrap();
    let img = image::load_from_memory(&o.jpeg).unwrap().to_rgb8();
    assert_eq!(img.dimensions(), (640, 480));
    let b = o.plate_box;
    assert!(b.x + b.width <= 640 && b.y + b.height <= 480 && b.width > 40);
    // The plate is white-ish and the car body around it blue.
    let centre_row = b.y + b.height / 8;
    let plate_px = img.get_pixel(b.x + b.width / 30 + 3, centre_row + 2);
    assert!(plate_px[0] > 150 && plate_px[2] > 150, "{plate_px:?}");
    let body_px = img.get_pixel(b.x.saturating_sub(30), b.y);
    assert!(body_px[2] > body_px[0] + 40, "{body_px:?}");
    assert!(validate_image(o.jpeg, &ImageLimits::default()).is_ok());
    assert!(render_overview_jpeg("ABC123", None, 10, 10, 85, 3).is_err());
}

#[test]
fn comment_variants_are_distinct_valid_jpegs() {
    let base = render_plate_jpeg("ABC123", 300, 85, 1).unwrap();
    let a = jpeg_with_comment(&base, b"read 1").unwrap();
    let b = jpeg_with_comment(&base, b"read 2").unwrap();
    assert_ne!(a, b);
    assert_eq!(image::load_from_memory(&a).unwrap().width(), 300);
    let v = validate_image(b, &ImageLimits::default()).unwrap();
    assert_eq!(v.width(), 300);
    assert!(jpeg_with_comment(b"not a jpeg", b"x").is_err());
}

#[test]
fn crop_cache_renders_once_and_stays_bounded() {
    let mut cache = PlateCropCache::new(5_000, 2, 1);
    let a = cache.get("ABC123").unwrap();
    assert!(Arc::ptr_eq(&a, &cache.get("ABC123").unwrap()));
    cache.get("DEF456").unwrap();
    cache.get("GHI789").unwrap();
    assert_eq!(cache.len(), 2);
    assert!(
        !Arc::ptr_eq(&a, &cache.get("ABC123").unwrap()),
        "the oldest was evicted"
    );
}

#[test]
fn rendering_is_fast_with_a_renderer_per_size() {
    let renderer = PlateRenderer::new(240).unwrap();
    let plates = anpr_synth::plates::plate_population(200, 9);
    let started = Instant::now();
    for (i, p) in plates.iter().enumerate() {
        let img = renderer.render(p, 6, i as u64).unwrap();
        anpr_synth::render::encode_gray_jpeg(&img, 85).unwrap();
    }
    let per = started.elapsed() / plates.len() as u32;
    // Unoptimised build on a shared machine; in release this is well under a millisecond.
    assert!(per.as_millis() < 50, "{per:?} per plate");
}

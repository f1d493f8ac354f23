//! Recognition on real photos and rendered plates, with the real models.
//!
//! The models are large and installed by `anpr models install`, not committed: these tests
//! read them from `ANPR_MODELS_DIR` and skip, saying so, where they are not installed.
//! The real photos are the shared OpenALPR benchmark sets (`../shared/testdata/plates`, or
//! `ANPR_SHARED_DIR`), never copied into the repository.

use anpr_recognition::{labelled, models, Recogniser, RecogniserOptions, RecognitionError};
use image::{Rgb, RgbImage};
use std::path::PathBuf;
use std::sync::OnceLock;

fn recogniser() -> Option<&'static Recogniser> {
    static RECOGNISER: OnceLock<Option<Recogniser>> = OnceLock::new();
    RECOGNISER
        .get_or_init(|| {
            let dir = anpr_testkit::models_dir(models::installed)?;
            Some(Recogniser::load(&dir, RecogniserOptions::default()).expect("models load"))
        })
        .as_ref()
        .or_else(|| {
            // Said once when the models were looked for; every later caller skips too.
            anpr_testkit::skip("the recognition models are not installed (see above)");
            None
        })
}

fn shared_plates() -> Option<PathBuf> {
    anpr_testkit::shared("testdata/plates")
}

/// Reads the first photos of a shared set and returns (exact, total).
fn read_set(set: &str, count: usize) -> Option<(usize, usize)> {
    let recogniser = recogniser()?;
    let dir = shared_plates()?.join(set);
    let photos = labelled::read_dir(&dir).unwrap();
    let mut exact = 0;
    for photo in photos.iter().take(count) {
        let bytes = std::fs::read(&photo.image).unwrap();
        let plates = recogniser.recognise_bytes(&bytes).unwrap();
        if plates.first().is_some_and(|p| p.plate == photo.plate) {
            exact += 1;
        }
    }
    Some((exact, count.min(photos.len())))
}

#[test]
fn reads_european_photos() {
    if let Some((exact, total)) = read_set("eu", 16) {
        assert!(exact * 10 >= total * 8, "{exact} of {total} read exactly");
    }
}

#[test]
fn reads_us_photos() {
    if let Some((exact, total)) = read_set("us", 16) {
        assert!(exact * 8 >= total * 3, "{exact} of {total} read exactly");
    }
}

#[test]
fn a_known_photo_gives_plate_box_and_candidates() {
    let (Some(recogniser), Some(dir)) = (recogniser(), shared_plates()) else {
        return;
    };
    let photo = dir.join("eu/eu1.jpg");
    let plates = recogniser
        .recognise_bytes(&std::fs::read(photo).unwrap())
        .unwrap();
    let best = &plates[0];
    assert_eq!(best.plate, "M5XSX");
    assert!(best.confidence > 50.0 && best.confidence <= 100.0);
    // Labelled box: x 396, y 340, 203 x 46; the read line lies on the plate.
    let b = best.plate_box;
    assert!(b.x < 396 + 203 && b.x + b.width > 396, "{b:?}");
    assert!(b.y < 340 + 46 && b.y + b.height > 340, "{b:?}");
    assert_eq!(best.candidates[0].plate, best.plate);
}

/// A 7000x5250 photo is detected on a copy shrunk once to 1920 pixels, and its plate is read
/// from the full-resolution photo: the same plate, in the same place, as at its own size.
#[test]
fn a_huge_photo_reads_like_the_photo_at_its_own_size() {
    let (Some(recogniser), Some(dir)) = (recogniser(), shared_plates()) else {
        return;
    };
    let photo = image::open(dir.join("eu/eu1.jpg")).unwrap().into_rgb8();
    let huge = image::imageops::resize(&photo, 7000, 5250, image::imageops::FilterType::Triangle);
    let plates = recogniser.recognise(&huge).unwrap();
    let best = &plates[0];
    assert_eq!(best.plate, "M5XSX");
    // Labelled box at 1000x750: x 396, y 340, 203 x 46; seven times that here.
    let b = best.plate_box;
    assert!(b.x < 7 * (396 + 203) && b.x + b.width > 7 * 396, "{b:?}");
    assert!(b.y < 7 * (340 + 46) && b.y + b.height > 7 * 340, "{b:?}");
}

/// Slovak plates (`LLDDDLL`) under the New Zealand profile alone: a format it does not know.
/// The last character of `PP587AO` is read as a 0 at first; once the recogniser has read
/// other photos of the set, whose sure reads show the layout, it is read by position.
#[test]
fn a_layout_learned_from_sure_reads_settles_a_format_no_profile_knows() {
    let Some(models_dir) = anpr_testkit::models_dir(models::installed) else {
        return;
    };
    let Some(dir) = shared_plates() else {
        return;
    };
    let options = RecogniserOptions {
        profiles: vec!["nz".into()],
        ..RecogniserOptions::default()
    };
    let recogniser = Recogniser::load(&models_dir, options).unwrap();
    let read = |name: &str| {
        let bytes = std::fs::read(dir.join("eu").join(name)).unwrap();
        recogniser.recognise_bytes(&bytes).unwrap().remove(0)
    };
    recogniser.set_learning(false);
    let before = read("test_001.jpg");
    assert_eq!(before.plate, "PP587A0");
    assert_eq!(before.region, None);

    recogniser.set_learning(true);
    for n in 2..=25 {
        read(&format!("test_{n:03}.jpg"));
    }
    assert!(recogniser
        .learned_formats()
        .contains(&"LLDDDLL".to_string()));
    recogniser.set_learning(false);
    let after = read("test_001.jpg");
    assert_eq!(after.plate, "PP587AO");
    assert_eq!(after.region.as_deref(), Some("learned"));

    recogniser.forget_learned();
    assert!(recogniser.learned_formats().is_empty());
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let Some(recogniser) = recogniser() else {
        return;
    };
    assert!(matches!(
        recogniser.recognise_bytes(b"GIF89a not really"),
        Err(RecognitionError::Decode(_))
    ));
    let empty = RgbImage::from_pixel(300, 200, Rgb([128, 128, 128]));
    assert!(recogniser.recognise(&empty).unwrap().is_empty());
    let tiny = RgbImage::from_pixel(1, 1, Rgb([0, 0, 0]));
    assert!(recogniser.recognise(&tiny).unwrap().is_empty());
}

/// A plate drawn with a blocky 5x7 font: black characters on a white plate with a border,
/// placed on a grey background.
fn render_plate(text: &str) -> RgbImage {
    const CELL: u32 = 7;
    let (glyph_w, glyph_h, gap) = (5 * CELL, 7 * CELL, 2 * CELL);
    let plate_w = text.len() as u32 * (glyph_w + gap) + 2 * gap;
    let plate_h = glyph_h + 2 * gap;
    let mut img = RgbImage::from_pixel(plate_w + 200, plate_h + 200, Rgb([90, 90, 90]));
    let (px, py) = (100, 100);
    for y in 0..plate_h {
        for x in 0..plate_w {
            let border = x < 4 || y < 4 || x >= plate_w - 4 || y >= plate_h - 4;
            let c = if border { 0 } else { 250 };
            img.put_pixel(px + x, py + y, Rgb([c, c, c]));
        }
    }
    for (i, ch) in text.chars().enumerate() {
        let rows = glyph(ch);
        let gx = px + gap + i as u32 * (glyph_w + gap);
        for (r, row) in rows.iter().enumerate() {
            for c in 0..5 {
                if row & (1 << (4 - c)) != 0 {
                    for dy in 0..CELL {
                        for dx in 0..CELL {
                            img.put_pixel(
                                gx + c * CELL + dx,
                                py + gap + r as u32 * CELL + dy,
                                Rgb([10, 10, 10]),
                            );
                        }
                    }
                }
            }
        }
    }
    img
}

/// Rows of a 5x7 font, most significant bit on the left.
fn glyph(ch: char) -> [u8; 7] {
    match ch {
        'A' => [0x0E, 0x11, 0x11, 0x1F, 0x11, 0x11, 0x11],
        'B' => [0x1E, 0x11, 0x11, 0x1E, 0x11, 0x11, 0x1E],
        'C' => [0x0E, 0x11, 0x10, 0x10, 0x10, 0x11, 0x0E],
        'K' => [0x11, 0x12, 0x14, 0x18, 0x14, 0x12, 0x11],
        'M' => [0x11, 0x1B, 0x15, 0x15, 0x11, 0x11, 0x11],
        'T' => [0x1F, 0x04, 0x04, 0x04, 0x04, 0x04, 0x04],
        'X' => [0x11, 0x11, 0x0A, 0x04, 0x0A, 0x11, 0x11],
        'Z' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x10, 0x1F],
        '1' => [0x04, 0x0C, 0x04, 0x04, 0x04, 0x04, 0x0E],
        '2' => [0x0E, 0x11, 0x01, 0x02, 0x04, 0x08, 0x1F],
        '3' => [0x1F, 0x02, 0x04, 0x02, 0x01, 0x11, 0x0E],
        '4' => [0x02, 0x06, 0x0A, 0x12, 0x1F, 0x02, 0x02],
        '5' => [0x1F, 0x10, 0x1E, 0x01, 0x01, 0x11, 0x0E],
        '7' => [0x1F, 0x01, 0x02, 0x04, 0x08, 0x08, 0x08],
        '8' => [0x0E, 0x11, 0x11, 0x0E, 0x11, 0x11, 0x0E],
        '9' => [0x0E, 0x11, 0x11, 0x0F, 0x01, 0x02, 0x0C],
        other => panic!("no glyph for {other}"),
    }
}

#[test]
fn reads_rendered_plates_in_several_formats() {
    let Some(recogniser) = recogniser() else {
        return;
    };
    // New Zealand standard, UK, US (California), Brazil (Mercosul): formats the profiles know.
    for plate in ["ABC123", "BC12XTZ", "7MTB582", "BCA2C19"] {
        let img = render_plate(plate);
        let read = recogniser.recognise(&img).unwrap();
        assert_eq!(
            read.first().map(|p| p.plate.as_str()),
            Some(plate),
            "rendered {plate}: {read:?}"
        );
    }
}

#[test]
fn direct_convolutions_give_the_detectors_own_map() {
    use anpr_recognition::{detect, direct_conv};
    use tract_onnx::prelude::*;
    let Some(dir) = anpr_testkit::models_dir(models::installed) else {
        return;
    };
    let canvas = detect::canvas(&render_plate("BC12XTZ"), 256);
    let (w, h) = (canvas.width as usize, canvas.height as usize);
    let tract_only = tract_onnx::onnx()
        .with_ignore_output_shapes(true)
        .with_ignore_value_info(true)
        .model_for_path(dir.join(models::DETECTOR.file_name))
        .unwrap()
        .with_input_fact(0, f32::fact([1, 3, h, w]).into())
        .unwrap()
        .into_typed()
        .unwrap()
        .into_decluttered()
        .unwrap();
    let direct = direct_conv::with_direct_convs(tract_only.clone()).unwrap();
    let replaced = direct
        .nodes()
        .iter()
        .filter(|n| n.op().name() == "DirectConv")
        .count();
    if direct_conv::fast_kernel_available() {
        // The stem's four convolutions.
        assert!(replaced >= 4, "{replaced} convolutions replaced");
    } else {
        assert_eq!(replaced, 0);
    }
    let map = |model: TypedModel| {
        let input = Tensor::from_shape(&[1, 3, h, w], &canvas.data).unwrap();
        let output = model
            .into_optimized()
            .unwrap()
            .into_runnable()
            .unwrap()
            .run(tvec!(input.into()))
            .unwrap();
        let plain = output[0].try_as_plain_ram().unwrap();
        plain.as_slice::<f32>().unwrap().to_vec()
    };
    let (expected, got) = (map(tract_only), map(direct));
    assert_eq!(expected.len(), got.len());
    let worst = expected
        .iter()
        .zip(&got)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst < 1e-4, "probability maps differ by up to {worst}");
    assert!(
        expected.iter().any(|&p| p > 0.3),
        "the plate's text is found"
    );
}

//! The decode budget through the real HTTP server: photos without plate text are admitted from
//! their headers against the memory the server may spend decoding; a burst beyond it is turned
//! away with 503 and Retry-After before anything is decoded or stored, a photo beyond the whole
//! budget is a 413 naming its field, reads that need no decoding are never held up, and a
//! failed decode gives its room back.

mod common;

use anpr_app::decoding::DecodeConfig;
use anpr_recognition::decode::DecodeCost;
use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

/// The photo every test sends, scaled to 1600x1200 (8-bit RGB: 5.76 MB to decode).
const WIDTH: u32 = 1600;
const HEIGHT: u32 = 1200;
const PHOTO_COST: u64 = WIDTH as u64 * HEIGHT as u64 * 3;

/// The models and the labelled photo `eu1` as a 1600x1200 PNG with its plate, or `None`
/// (saying why) when either is missing here.
fn prerequisites() -> Option<(PathBuf, Vec<u8>, String)> {
    let models = std::env::var_os("ANPR_MODELS_DIR").map(PathBuf::from);
    let Some(models) = models.filter(|d| anpr_recognition::models::installed(d)) else {
        skip(
            "recognition models not installed (run `anpr models install` and set ANPR_MODELS_DIR)",
        );
        return None;
    };
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../../shared/testdata/plates/eu");
    let (Ok(jpeg), Ok(label)) = (
        std::fs::read(dir.join("eu1.jpg")),
        std::fs::read_to_string(dir.join("eu1.txt")),
    ) else {
        skip(&format!("test photos not found under {}", dir.display()));
        return None;
    };
    let photo = image::load_from_memory(&jpeg).unwrap().into_rgb8();
    let photo =
        image::imageops::resize(&photo, WIDTH, HEIGHT, image::imageops::FilterType::Triangle);
    let plate = label.split_whitespace().last()?.to_string();
    Some((models, png(&photo), plate))
}

fn png(image: &image::RgbImage) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    image.write_to(&mut out, image::ImageFormat::Png).unwrap();
    out.into_inner()
}

/// A server with the models, `workers` recognition threads and a decode budget of
/// `budget_bytes` that images wait `wait_ms` for.
async fn server(models: PathBuf, budget_bytes: u64, wait_ms: u64, workers: usize) -> TestServer {
    let recogniser = tokio::task::spawn_blocking(move || {
        anpr_recognition::Recogniser::load(&models, Default::default()).unwrap()
    })
    .await
    .unwrap();
    let mut config = anpr_server::ServerConfig::default();
    config.app.decode = DecodeConfig {
        budget_bytes,
        concurrency: workers,
        wait: Duration::from_millis(wait_ms),
    };
    start_custom(config, |state| {
        state.app.recognition = Some(Arc::new(anpr_app::recognition::RecognitionPool::start(
            Arc::new(recogniser),
            workers,
            32,
        )));
    })
    .await
}

/// Photos the server's recognition threads have started to decode.
fn decodes_started(s: &TestServer) -> u64 {
    s.state.recognition.as_ref().unwrap().started()
}

/// A read with the photo and no plate text, as a multipart upload.
async fn post_photo(s: &TestServer, external_id: &str, photo: Vec<u8>) -> reqwest::Response {
    let metadata = json!({"captured_at": now_rfc3339(1), "external_id": external_id});
    let form = reqwest::multipart::Form::new()
        .text("metadata", metadata.to_string())
        .part(
            "overview_image",
            reqwest::multipart::Part::bytes(photo).file_name("photo.png"),
        );
    s.http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

async fn error_of(resp: reqwest::Response) -> Value {
    resp.json::<Value>().await.unwrap()["error"].clone()
}

#[tokio::test]
async fn a_burst_beyond_the_budget_gets_503_and_retry_after_before_any_decoding() {
    let Some((models, photo, plate)) = prerequisites() else {
        return;
    };
    // Room for one photo at a time; a photo waits 20 ms for room, far less than one takes.
    let s = Arc::new(server(models, PHOTO_COST + 1024, 20, 1).await);
    let mut tasks = Vec::new();
    for i in 0..10 {
        let (s, photo) = (s.clone(), photo.clone());
        tasks.push(tokio::spawn(async move {
            let resp = post_photo(&s, &format!("burst-{i}"), photo).await;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .map(|v| v.to_str().unwrap().to_string());
            (i, status, retry_after, resp.json::<Value>().await.unwrap())
        }));
    }
    let mut stored = Vec::new();
    let mut refused = Vec::new();
    for task in tasks {
        match task.await.unwrap() {
            (i, 201, _, body) => stored.push((i, body["id"].as_i64().unwrap())),
            (i, 503, retry_after, body) => {
                assert_eq!(retry_after.as_deref(), Some("2"), "{body}");
                assert_eq!(body["error"]["code"], "decode_busy", "{body}");
                let message = body["error"]["message"].as_str().unwrap();
                assert!(
                    message.contains("busy decoding") && message.contains("again in 2 seconds"),
                    "{message}"
                );
                refused.push(i);
            }
            (i, status, _, body) => panic!("photo {i}: unexpected {status}: {body}"),
        }
    }
    assert!(!stored.is_empty(), "nothing was recognised");
    assert!(refused.len() >= 3, "only {} of 10 refused", refused.len());
    // The refused photos never reached a decoding thread, and nothing of them was stored.
    assert_eq!(decodes_started(&s), stored.len() as u64);
    assert_eq!(s.read_count().await, stored.len() as u64);
    assert_eq!(s.state.decode_budget.in_flight_bytes(), 0);
    assert!(s.state.metrics.render().contains("anpr_decode_busy_total"));

    // The camera sends the refused reads again, and each is stored once.
    for i in &refused {
        let resp = post_photo(&s, &format!("burst-{i}"), photo.clone()).await;
        assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    }
    assert_eq!(s.read_count().await, 10);
    let first = s.state.store.read(stored[0].1).await.unwrap().unwrap();
    assert_eq!(first.plate.as_str(), plate);
}

#[tokio::test]
async fn reads_wait_for_room_and_never_half_store_a_batch() {
    let Some((models, photo, plate)) = prerequisites() else {
        return;
    };
    let s = server(models, 2 * PHOTO_COST, 20, 1).await;
    // Everything the budget holds is taken, as by photos being decoded.
    let whole = DecodeCost {
        width: 1,
        height: 1,
        bytes: s.state.decode_budget.capacity_bytes(),
    };
    let held = s.state.decode_budget.admit(&whole, "test").await.unwrap();

    // A read with plate text needs no decoding: a huge overview is stored all the same.
    let huge = png(&image::RgbImage::from_pixel(
        5000,
        4000,
        image::Rgb([90, 90, 90]),
    ));
    let b64 = |bytes: &[u8]| base64::engine::general_purpose::STANDARD.encode(bytes);
    let with_plate = json!({"captured_at": now_rfc3339(2), "plate": "ABC123",
        "confidence": 0.9, "external_id": "with-plate", "overview_image": b64(&huge)});
    let resp = s.ingest("/api/v1/reads", &with_plate).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());

    // A batch whose second read needs decoding is refused whole: its first read is not kept.
    let batch = json!({"reads": [
        {"captured_at": now_rfc3339(3), "plate": "XYZ789", "confidence": 0.9,
         "external_id": "batch-0"},
        {"captured_at": now_rfc3339(3), "external_id": "batch-1", "overview_image": b64(&photo)},
    ]});
    let resp = s.ingest("/api/v1/reads:batch", &batch).await;
    assert_eq!(resp.status(), 503);
    assert!(resp.headers().contains_key("retry-after"));
    assert_eq!(error_of(resp).await["code"], "decode_busy");
    assert_eq!(s.read_count().await, 1);
    assert_eq!(decodes_started(&s), 0);

    // Once the room is back the camera's resend is stored, both reads of it.
    drop(held);
    let resp = s.ingest("/api/v1/reads:batch", &batch).await;
    let status = resp.status();
    let body = resp.json::<Value>().await.unwrap();
    assert_eq!(status, 201, "{body}");
    assert_eq!(s.read_count().await, 3);
    let recognised = body["reads"][1]["id"].as_i64().unwrap();
    let recognised = s.state.store.read(recognised).await.unwrap().unwrap();
    assert_eq!(recognised.plate.as_str(), plate);
    let resp = s.ingest("/api/v1/reads:batch", &batch).await;
    assert_eq!(resp.status(), 200, "a resend is recognised as a duplicate");
    assert_eq!(s.read_count().await, 3);
}

#[tokio::test]
async fn a_photo_beyond_the_whole_budget_is_413_naming_its_field() {
    let Some((models, photo, _)) = prerequisites() else {
        return;
    };
    let s = server(models, PHOTO_COST / 2, 20, 1).await;
    let resp = post_photo(&s, "too-big", photo.clone()).await;
    assert_eq!(resp.status(), 413);
    let error = error_of(resp).await;
    assert_eq!(error["code"], "payload_too_large", "{error}");
    assert_eq!(error["field"], "overview_image", "{error}");
    let message = error["message"].as_str().unwrap();
    assert!(
        message.contains("1600x1200") && message.contains("smaller image"),
        "{message}"
    );

    let b64 = base64::engine::general_purpose::STANDARD.encode(&photo);
    let batch = json!({"reads": [
        {"captured_at": now_rfc3339(3), "plate": "XYZ789", "confidence": 0.9},
        {"captured_at": now_rfc3339(3), "overview_image": b64},
    ]});
    let resp = s.ingest("/api/v1/reads:batch", &batch).await;
    assert_eq!(resp.status(), 413);
    assert_eq!(error_of(resp).await["field"], "reads[1].overview_image");
    assert_eq!(decodes_started(&s), 0);
    assert_eq!(s.read_count().await, 0);
}

#[tokio::test]
async fn a_photo_that_fails_to_decode_gives_its_room_back() {
    let Some((models, photo, plate)) = prerequisites() else {
        return;
    };
    // Room for one photo: a failure that kept its room would leave the next one waiting.
    let s = server(models, PHOTO_COST + 1024, 20, 1).await;
    let corrupt = corrupt_after_header(&photo);
    for i in 0..4 {
        let resp = post_photo(&s, &format!("corrupt-{i}"), corrupt.clone()).await;
        assert_eq!(resp.status(), 422, "attempt {i}");
        let error = error_of(resp).await;
        assert_eq!(error["field"], "overview_image", "{error}");
        assert!(
            error["message"].as_str().unwrap().contains("decoded"),
            "{error}"
        );
    }
    assert_eq!(decodes_started(&s), 4);
    assert_eq!(s.state.decode_budget.in_flight_bytes(), 0);
    let resp = post_photo(&s, "good", photo).await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    let read = s.state.store.read(id).await.unwrap().unwrap();
    assert_eq!(read.plate.as_str(), plate);
    assert_eq!(s.read_count().await, 1);
}

/// `png` with its header, chunk layout and end marker intact and the compressed pixels
/// overwritten: it passes every check made from the header and fails only when decoded.
fn corrupt_after_header(png: &[u8]) -> Vec<u8> {
    let mut bytes = png.to_vec();
    let idat = bytes
        .windows(4)
        .position(|w| w == b"IDAT")
        .expect("a PNG has an IDAT chunk");
    let length = u32::from_be_bytes(bytes[idat - 4..idat].try_into().unwrap()) as usize;
    // Past the two-byte zlib header, so the stream starts and then breaks.
    for b in &mut bytes[idat + 6..idat + 4 + length.min(4096)] {
        *b = 0xFF;
    }
    bytes
}

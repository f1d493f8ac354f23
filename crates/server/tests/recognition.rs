//! Server-side recognition through the real HTTP server: a read with a photo and no plate
//! text is read by the server; without models, with a corrupt photo and with a full queue it
//! is refused with a clear status.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::sync::Arc;

/// The installed models, or `None` (the test then says why it skips).
fn models() -> Option<PathBuf> {
    anpr_testkit::models_dir(anpr_recognition::models::installed)
}

/// A real photo of the OpenALPR benchmark and its plate, or `None` when the photos are absent.
fn photo(name: &str) -> Option<(Vec<u8>, String)> {
    let dir = anpr_testkit::shared("testdata/plates/eu")?;
    let bytes = std::fs::read(dir.join(format!("{name}.jpg"))).expect("the photo");
    let label = std::fs::read_to_string(dir.join(format!("{name}.txt"))).expect("its label");
    Some((bytes, label.split_whitespace().last()?.to_string()))
}

async fn with_models(workers: usize, queue: usize) -> Option<TestServer> {
    let dir = models()?;
    let recogniser = tokio::task::spawn_blocking(move || {
        anpr_recognition::Recogniser::load(&dir, Default::default()).unwrap()
    })
    .await
    .unwrap();
    Some(
        start_custom(anpr_server::ServerConfig::default(), |state| {
            state.app.recognition = Some(Arc::new(anpr_app::recognition::RecognitionPool::start(
                Arc::new(recogniser),
                workers,
                queue,
            )));
        })
        .await,
    )
}

async fn post_photo(s: &TestServer, metadata: Value, photo: Vec<u8>) -> reqwest::Response {
    let form = reqwest::multipart::Form::new()
        .text("metadata", metadata.to_string())
        .part(
            "overview_image",
            reqwest::multipart::Part::bytes(photo).file_name("photo.jpg"),
        );
    s.http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .multipart(form)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn without_models_a_read_without_plate_text_is_refused_clearly() {
    let s = start().await;
    let b64 = base64::engine::general_purpose::STANDARD.encode(jpeg(64, 48));
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"captured_at": now_rfc3339(1), "overview_image": b64}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    let message = body["error"]["message"].as_str().unwrap();
    assert!(message.contains("anpr models install"), "{body}");

    let resp = post_photo(&s, json!({"captured_at": now_rfc3339(1)}), jpeg(64, 48)).await;
    assert_eq!(resp.status(), 422);
    // Without a photo there is nothing to recognise: the plain refusal stands.
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"captured_at": now_rfc3339(1), "confidence": 0.5}),
        )
        .await;
    assert!(resp.status().is_client_error());
    assert_eq!(s.read_count().await, 0);
}

#[tokio::test]
async fn a_photo_without_plate_text_is_recognised_and_stored() {
    let Some((bytes, plate)) = photo("eu1") else {
        return;
    };
    let Some(s) = with_models(2, 8).await else {
        return;
    };
    let resp = post_photo(
        &s,
        json!({"captured_at": now_rfc3339(1), "external_id": "photo-1"}),
        bytes.clone(),
    )
    .await;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap();
    assert_eq!(status, 201, "{body}");
    let id = body["id"].as_i64().unwrap();
    let read = s.state.store.read(id).await.unwrap().unwrap();
    assert_eq!(read.plate.as_str(), plate);
    assert!(read.confidence > 0.0 && read.confidence <= 1.0);
    let b = read.plate_box.expect("the recognised box is stored");
    let label = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../../../shared/testdata/plates/eu/eu1.txt"),
    )
    .unwrap();
    let x: i64 = label.split_whitespace().nth(1).unwrap().parse().unwrap();
    assert!(
        (i64::from(b.x) - x).abs() < 60,
        "box {b:?} far from the labelled x {x}"
    );
    assert!(read.overview_image.is_some());

    // Inline base64 in our JSON works the same way.
    let b64 = base64::engine::general_purpose::STANDARD.encode(&bytes);
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"captured_at": now_rfc3339(2), "plate": "", "overview_image": b64}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    assert_eq!(
        s.state
            .store
            .read(id)
            .await
            .unwrap()
            .unwrap()
            .plate
            .as_str(),
        plate
    );

    // A corrupt photo is a 4xx, and the server goes on.
    let truncated = bytes[..bytes.len() / 3].to_vec();
    let resp = post_photo(&s, json!({"captured_at": now_rfc3339(1)}), truncated).await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    let resp = post_photo(
        &s,
        json!({"captured_at": now_rfc3339(1)}),
        b"not a photo".to_vec(),
    )
    .await;
    assert!(resp.status().is_client_error(), "{}", resp.status());
    assert_eq!(s.read_count().await, 2);
}

#[tokio::test]
async fn a_full_recognition_queue_answers_503_with_retry_after() {
    let Some((bytes, _)) = photo("eu1") else {
        return;
    };
    // One worker, one waiting place: of eight photos at once some must be turned away.
    let Some(s) = with_models(1, 1).await else {
        return;
    };
    let s = Arc::new(s);
    let mut tasks = Vec::new();
    for i in 0..8 {
        let s = s.clone();
        let bytes = bytes.clone();
        tasks.push(tokio::spawn(async move {
            let resp = post_photo(
                &s,
                json!({"captured_at": now_rfc3339(1), "external_id": format!("burst-{i}")}),
                bytes,
            )
            .await;
            let retry_after = resp.headers().get("retry-after").cloned();
            (resp.status().as_u16(), retry_after)
        }));
    }
    let mut stored = 0;
    let mut refused = 0;
    for t in tasks {
        match t.await.unwrap() {
            (201, _) => stored += 1,
            (503, retry_after) => {
                assert!(retry_after.is_some(), "503 without Retry-After");
                refused += 1;
            }
            (other, _) => panic!("unexpected status {other}"),
        }
    }
    assert!(stored >= 1, "nothing was recognised");
    assert!(refused >= 1, "a full queue refused nothing");
    assert_eq!(s.read_count().await, stored);
}

//! Ingestion through the real HTTP server: every accepted format, images, batches, and every
//! kind of bad input.

mod common;

use base64::Engine;
use common::*;
use serde_json::{json, Value};

fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

#[tokio::test]
async fn our_json_read_is_acknowledged_and_searchable() {
    let s = start().await;
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "abc-123", "captured_at": now_rfc3339(45), "confidence": 0.91,
                    "external_id": "cam-1", "vehicle": {"make": "Toyota", "colour": "white"}}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    let id = body["id"].as_i64().unwrap();
    assert_eq!(body["reads"][0]["duplicate"], false);

    let token = s.login("searcher").await;
    let page: Value = s
        .search(&token, json!({"plate": "ABC123"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1);
    assert_eq!(page["hits"][0]["id"], id);
    assert_eq!(page["hits"][0]["site_name"], "Fuel stop Te Rapa");
    assert_eq!(page["hits"][0]["vehicle_make"], "Toyota");
    assert!(
        page["hits"][0].get("plate_url").is_none(),
        "no image, no link"
    );

    // A retried upload is acknowledged with the same id and stored once.
    let again = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "ABC123", "captured_at": now_rfc3339(45), "confidence": 0.91,
                    "external_id": "cam-1"}),
        )
        .await;
    assert_eq!(again.status(), 200);
    let again: Value = again.json().await.unwrap();
    assert_eq!(again["id"].as_i64().unwrap(), id);
    assert_eq!(again["reads"][0]["duplicate"], true);
    assert_eq!(s.read_count().await, 1);
}

#[tokio::test]
async fn openalpr_and_platerecognizer_formats_are_accepted() {
    let s = start().await;
    // Older than the near-live window, so a search without a tracking authorisation shows them.
    let now_ms = chrono::Utc::now().timestamp_millis() - 45 * 60_000;
    let group = json!({
        "version": 1, "data_type": "alpr_group", "epoch_start": now_ms, "epoch_end": now_ms + 900,
        "company_id": "x", "site_id": "te-rapa", "camera_id": 1, "uuids": ["u1"],
        "best_plate": {"plate": "GRP123", "confidence": 92.0,
            "coordinates": [{"x": 204, "y": 134}, {"x": 709, "y": 222}, {"x": 658, "y": 500}, {"x": 167, "y": 383}],
            "candidates": []},
        "best_confidence": 92.0, "best_uuid": "te-rapa-cam1-1", "best_plate_number": "GRP123",
        "vehicle": {"make": [{"name": "ford", "confidence": 60.0}], "color": [{"name": "blue", "confidence": 80.0}]}
    });
    assert_eq!(s.ingest("/api/v1/reads", &group).await.status(), 201);

    let results = json!({
        "uuid": "res-1", "data_type": "alpr_results", "epoch_time": now_ms,
        "img_width": 640, "img_height": 360,
        "results": [
            {"plate": "RES111", "confidence": 93.5, "candidates": [],
             "coordinates": [{"x": 265, "y": 137}, {"x": 379, "y": 135}, {"x": 380, "y": 160}, {"x": 266, "y": 162}]},
            {"plate": "RES222", "confidence": 71.0, "candidates": [],
             "coordinates": [{"x": 10, "y": 10}, {"x": 60, "y": 10}, {"x": 60, "y": 30}, {"x": 10, "y": 30}]}
        ]
    });
    let resp = s.ingest("/api/v1/reads", &results).await;
    assert_eq!(resp.status(), 201);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["reads"].as_array().unwrap().len(), 2);

    let pr = json!({
        "hook": {"target": "http://127.0.0.1/api/v1/reads", "id": "camera-1", "event": "recognition"},
        "data": {"camera_id": "camera-1", "timestamp": now_rfc3339(45),
                 "results": [{"box": {"xmin": 460, "ymin": 57, "xmax": 557, "ymax": 82},
                              "plate": "prc913", "score": 0.839,
                              "model_make": [{"make": "Honda", "model": "Civic", "score": 0.1}],
                              "color": [{"color": "blue", "score": 0.6}]}]}
    });
    assert_eq!(s.ingest("/api/v1/reads", &pr).await.status(), 201);

    let token = s.login("searcher").await;
    for plate in ["GRP123", "RES111", "RES222", "PRC913"] {
        let page: Value = s
            .search(&token, json!({"plate": plate}))
            .await
            .json()
            .await
            .unwrap();
        assert_eq!(page["total"], 1, "{plate}");
    }
    let page: Value = s
        .search(&token, json!({"plate": "PRC913"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["hits"][0]["plate_box"]["width"], 97);
    assert_eq!(page["hits"][0]["vehicle_make"], "Honda");
}

#[tokio::test]
async fn images_are_stored_by_content_and_served() {
    let s = start().await;
    let crop = jpeg(120, 40);
    let overview = jpeg(320, 200);
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "IMG123", "captured_at": now_rfc3339(45), "confidence": 0.9,
                    "plate_image": b64(&crop), "overview_image": b64(&overview)}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();

    // Multipart with raw image bytes.
    let form = reqwest::multipart::Form::new()
        .text(
            "metadata",
            json!({"plate": "MPT456", "captured_at": now_rfc3339(1), "confidence": 0.8})
                .to_string(),
        )
        .part(
            "plate_image",
            reqwest::multipart::Part::bytes(crop.clone())
                .mime_str("image/jpeg")
                .unwrap(),
        );
    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .multipart(form)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);

    let token = s.login("searcher").await;
    let page: Value = s
        .search(&token, json!({"plate": "IMG123"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(
        page["hits"][0]["plate_url"],
        format!("/api/v1/reads/{id}/image/plate")
    );
    let img = s
        .http
        .get(s.url(&format!(
            "/api/v1/reads/{id}/image/plate?{}",
            purpose_query()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(img.status(), 200);
    assert_eq!(img.headers()["content-type"], "image/jpeg");
    assert_eq!(img.bytes().await.unwrap().as_ref(), crop.as_slice());
    let over = s
        .http
        .get(s.url(&format!(
            "/api/v1/reads/{id}/image/overview?{}",
            purpose_query()
        )))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(over.bytes().await.unwrap().as_ref(), overview.as_slice());
    // The purpose in the X-Purpose header instead, as the browser sends it: the justification
    // stays out of the URL; the view is decided and recorded with it all the same.
    let in_header = s
        .http
        .get(s.url(&format!("/api/v1/reads/{id}/image/overview")))
        .header("x-purpose", purpose_query().replace("%20", "+"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(in_header.status(), 200);
    assert_eq!(
        in_header.bytes().await.unwrap().as_ref(),
        overview.as_slice()
    );
    let read = s
        .http
        .get(s.url(&format!("/api/v1/reads/{id}")))
        .header("x-purpose", purpose_query())
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let entries = s.state.ledger.entries(0, s.state.ledger.size()).unwrap();
    let viewed: Value = serde_json::from_str(&entries.last().unwrap().body).unwrap();
    assert_eq!(viewed["action"], "read_view");
    assert_eq!(
        viewed["justification"],
        "Vehicle reported stolen from Te Rapa"
    );
    let unreadable = s
        .http
        .get(s.url(&format!("/api/v1/reads/{id}/image/overview")))
        .header(
            "x-purpose",
            reqwest::header::HeaderValue::from_bytes(b"justification=caf\xc3\xa9").unwrap(),
        )
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(unreadable.status(), 422);
    // The same crop twice is stored once.
    assert_eq!(s.state.store.stats().await.unwrap().images, 2);
    let bad_kind = s
        .http
        .get(s.url(&format!("/api/v1/reads/{id}/image/thumbnail")))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(bad_kind.status(), 422);
}

#[tokio::test]
async fn a_batch_is_all_or_nothing() {
    let s = start().await;
    let reads: Vec<Value> = (0..1000)
        .map(|i| json!({"plate": format!("BT{i:04}"), "captured_at": now_rfc3339(2), "confidence": 0.8}))
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201);
    assert_eq!(
        resp.json::<Value>().await.unwrap()["reads"]
            .as_array()
            .unwrap()
            .len(),
        1000
    );
    assert_eq!(s.read_count().await, 1000);

    let mut bad = reads.clone();
    bad[500] = json!({"plate": "🚗🚗", "captured_at": now_rfc3339(2), "confidence": 0.8});
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": bad}))
        .await;
    assert_eq!(resp.status(), 422);
    let err: Value = resp.json().await.unwrap();
    assert_eq!(err["error"]["field"], "reads[500].plate");
    assert_eq!(
        s.read_count().await,
        1000,
        "nothing of the failed batch is stored"
    );

    let too_many: Vec<Value> = (0..1001).map(|i| reads[i % 1000].clone()).collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": too_many}))
        .await;
    assert_eq!(resp.status(), 413);
}

#[tokio::test]
async fn bad_input_gets_a_clear_4xx_and_stores_nothing() {
    let s = start().await;
    let good = json!({"plate": "GOOD12", "captured_at": now_rfc3339(1), "confidence": 0.9});

    // Credentials.
    let no_key = s
        .http
        .post(s.url("/api/v1/reads"))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(no_key.status(), 401);
    let wrong = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(format!("anpr_cam_{}_notTheKey", s.camera_id))
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let garbage = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth("'; DROP TABLE reads; --")
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(garbage.status(), 401);
    let staff_token = s.login("admin").await;
    let staff_as_camera = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(staff_token)
        .json(&good)
        .send()
        .await
        .unwrap();
    assert_eq!(staff_as_camera.status(), 401);

    // Bodies.
    let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
        ("malformed JSON", b"{\"plate\": \"ABC".to_vec(), 400, ""),
        ("not JSON at all", b"\x00\x01\x02".to_vec(), 400, ""),
        ("wrong type", json!({"plate": 123, "captured_at": now_rfc3339(1), "confidence": 0.9}).to_string().into_bytes(), 422, "plate"),
        ("emoji plate", json!({"plate": "🙂🙂🙂", "captured_at": now_rfc3339(1), "confidence": 0.9}).to_string().into_bytes(), 422, "plate"),
        ("40-character plate", json!({"plate": "A".repeat(40), "captured_at": now_rfc3339(1), "confidence": 0.9}).to_string().into_bytes(), 422, "plate"),
        ("empty plate", json!({"plate": " ", "captured_at": now_rfc3339(1), "confidence": 0.9}).to_string().into_bytes(), 422, "plate"),
        ("future", json!({"plate": "FUT123", "captured_at": now_rfc3339(-3 * 24 * 60), "confidence": 0.9}).to_string().into_bytes(), 422, "captured_at"),
        ("confidence", json!({"plate": "CNF123", "captured_at": now_rfc3339(1), "confidence": 7}).to_string().into_bytes(), 422, "confidence"),
        ("non-image", json!({"plate": "IMG999", "captured_at": now_rfc3339(1), "confidence": 0.9, "plate_image": b64(b"this is not a jpeg")}).to_string().into_bytes(), 422, "plate_image"),
        ("truncated jpeg", json!({"plate": "IMG998", "captured_at": now_rfc3339(1), "confidence": 0.9, "plate_image": b64(&jpeg(64, 64)[..300])}).to_string().into_bytes(), 422, "plate_image"),
        ("bad base64", json!({"plate": "IMG997", "captured_at": now_rfc3339(1), "confidence": 0.9, "plate_image": "%%%not base64%%%"}).to_string().into_bytes(), 422, "plate_image"),
    ];
    for (what, body, status, field) in cases {
        let resp = s
            .http
            .post(s.url("/api/v1/reads"))
            .bearer_auth(&s.camera_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status().as_u16(), status, "{what}");
        let err: Value = resp.json().await.unwrap();
        let message = err["error"]["message"].as_str().unwrap_or_default();
        assert!(!message.is_empty(), "{what}: error has a message");
        if !field.is_empty() {
            let got = err["error"]["field"].as_str().unwrap_or_default();
            assert!(
                got.contains(field),
                "{what}: field {got:?} should name {field}"
            );
        }
    }

    // A body over the limit.
    let huge = vec![b' '; 11 * 1024 * 1024];
    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .header("content-type", "application/json")
        .body(huge)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 413);
    assert_eq!(s.read_count().await, 0, "nothing stored by any bad request");

    // Still healthy afterwards.
    assert_eq!(s.ingest("/api/v1/reads", &good).await.status(), 201);
}

#[tokio::test]
async fn a_read_older_than_any_retention_is_refused_and_not_stored() {
    let s = start().await;
    let before = s.read_count().await;
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "OLD123", "captured_at": "2010-06-01T10:00:00Z", "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "captured_at", "{body}");
    let message = body["error"]["message"].as_str().unwrap();
    assert!(
        message.contains("older than any network keeps reads"),
        "{message}"
    );
    assert_eq!(s.read_count().await, before);
}

#[tokio::test]
async fn every_refusal_of_a_read_names_its_field() {
    let s = start().await;
    let reads: Vec<Value> = (0..1001)
        .map(|i| json!({"plate": format!("B{i:05}"), "captured_at": now_rfc3339(1), "confidence": 0.9}))
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({ "reads": reads }))
        .await;
    assert_eq!(resp.status(), 413);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "reads", "{body}");

    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"captured_at": now_rfc3339(1), "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 422);
    let body: Value = resp.json().await.unwrap();
    assert_eq!(body["error"]["field"], "plate", "{body}");
}

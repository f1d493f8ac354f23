//! Search through the HTTP API, sign-in, roles, and the endpoints' protection.

mod common;

use common::*;
use serde_json::{json, Value};

async fn seed(s: &TestServer) {
    let reads: Vec<Value> = [
        ("ABC123", 300),
        ("ABC123", 200),
        ("ABC123", 100),
        ("ABX123", 50),
        ("A8C1Z3", 40),
        ("ZZZ999", 30),
    ]
    .iter()
    .map(|(p, m)| json!({"plate": p, "captured_at": now_rfc3339(*m), "confidence": 0.8}))
    .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201);
}

#[tokio::test]
async fn every_search_mode_through_the_api() {
    let s = start().await;
    seed(&s).await;
    let t = s.login("searcher").await;
    let total = |v: &Value| v["total"].as_u64().unwrap_or_else(|| panic!("{v}"));

    let exact: Value = s
        .search(&t, json!({"plate": "abc 123"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&exact), 3);
    let wild: Value = s
        .search(&t, json!({"plate": "AB?12*"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&wild), 4);
    let fuzzy: Value = s
        .search(
            &t,
            json!({"plate": "ABC123", "mode": "fuzzy", "max_edits": 0}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fuzzy["plates_matched"], 2);
    let fuzzy1: Value = s
        .search(
            &t,
            json!({"plate": "ABC123", "mode": "fuzzy", "max_edits": 1}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(fuzzy1["plates_matched"], 3);

    let timed: Value = s
        .search(
            &t,
            json!({"plate": "ABC123", "from": now_rfc3339(250), "to": now_rfc3339(150)}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&timed), 1);

    let near: Value = s
        .search(&t, json!({"plate": "ABC123", "area": {"type": "circle", "lat": -37.78, "lon": 175.28, "radius_km": 10}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&near), 3);
    let far: Value = s
        .search(&t, json!({"plate": "ABC123", "area": {"type": "box", "min_lat": -44, "min_lon": 172, "max_lat": -43, "max_lon": 173}}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&far), 0);
    // A network that shares nothing with the user's district is refused, not silently empty.
    let other_net = s
        .search(
            &t,
            json!({"plate": "ABC123", "network_ids": [s.network_id + 100]}),
        )
        .await;
    assert_eq!(other_net.status(), 403);
    let err: Value = other_net.json().await.unwrap();
    assert_eq!(err["error"]["code"], "no_network_agreement");
    let own_net: Value = s
        .search(
            &t,
            json!({"plate": "ABC123", "network_ids": [s.network_id, s.network_id + 100]}),
        )
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(total(&own_net), 3);
    assert_eq!(
        own_net["policy"]["networks_searched"],
        json!([s.network_id])
    );
    assert!(own_net["policy"]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["code"] == "networks_narrowed"));

    // Pagination.
    let p1: Value = s
        .search(&t, json!({"plate": "AB?12*", "limit": 3}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p1["hits"].as_array().unwrap().len(), 3);
    let cursor = p1["next_cursor"].as_str().unwrap();
    let p2: Value = s
        .search(&t, json!({"plate": "AB?12*", "limit": 3, "cursor": cursor}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(p2["hits"].as_array().unwrap().len(), 1);
    assert!(p2["next_cursor"].is_null());
}

#[tokio::test]
async fn bad_searches_are_refused_clearly() {
    let s = start().await;
    let t = s.login("searcher").await;
    for (body, status, field) in [
        (json!({"plate": "*"}), 422, "plate"),
        (json!({"plate": "🚗"}), 422, "plate"),
        (
            json!({"plate": "ABC123", "mode": "fuzzy", "max_edits": 5}),
            422,
            "max_edits",
        ),
        (json!({"plate": "ABC123", "limit": 0}), 422, "limit"),
        (
            json!({"plate": "ABC123", "cursor": "garbage"}),
            422,
            "cursor",
        ),
        (
            json!({"plate": "ABC123", "from": now_rfc3339(1), "to": now_rfc3339(100)}),
            422,
            "time.from",
        ),
        (
            json!({"plate": "ABC123", "area": {"type": "circle", "lat": 123, "lon": 0, "radius_km": 1}}),
            422,
            "area.lat",
        ),
        (
            json!({"plate": "ABC123", "purpose": {"code": "x", "file_number": "1", "justification": "test"}}),
            422,
            "purpose.justification",
        ),
    ] {
        let resp = s.search(&t, body.clone()).await;
        assert_eq!(resp.status().as_u16(), status, "{body}");
        let err: Value = resp.json().await.unwrap();
        assert_eq!(err["error"]["field"], field, "{body}");
    }
    // No purpose at all.
    let resp = s
        .http
        .post(s.url("/api/v1/searches"))
        .bearer_auth(&t)
        .json(&json!({"plate": "ABC123"}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 422);
    // Unknown field, wrong type.
    let resp = s
        .search(&t, json!({"plate": "ABC123", "colour": "red"}))
        .await;
    assert_eq!(resp.status(), 422);
    let resp = s.search(&t, json!({"plate": ["ABC123"]})).await;
    assert_eq!(resp.status(), 422);
    let resp = s
        .http
        .post(s.url("/api/v1/searches"))
        .bearer_auth(&t)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 400);
}

#[tokio::test]
async fn sign_in_sign_out_and_lockout() {
    let s = start().await;
    let wrong = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"staff_id": "searcher", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    let unknown = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"staff_id": "nobody", "password": "nope"}))
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 401);
    let a: Value = wrong.json().await.unwrap();
    let b: Value = unknown.json().await.unwrap();
    assert_eq!(a, b, "the answer does not reveal whether the user exists");

    let token = s.login("searcher").await;
    let me: Value = s.get_json("/api/v1/auth/me", &token).await;
    assert_eq!(me["roles"], json!(["searcher"]));
    let out = s
        .http
        .post(s.url("/api/v1/auth/logout"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(out.status(), 204);
    let after = s
        .http
        .get(s.url("/api/v1/auth/me"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(after.status(), 401, "a revoked session stops working");

    for _ in 0..5 {
        s.http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"staff_id": "auditor", "password": "guess"}))
            .send()
            .await
            .unwrap();
    }
    let locked = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"staff_id": "auditor", "password": PASSWORD}))
        .send()
        .await
        .unwrap();
    assert_eq!(locked.status(), 429, "locked even with the right password");
}

// The role matrix (every endpoint x every role) is tests/authz_matrix.rs, generated from the
// router and the OpenAPI document.

#[tokio::test]
async fn admin_provisions_a_camera_whose_key_works_once_shown() {
    let s = start().await;
    let admin = s.login("admin").await;
    let sites: Value = s.get_json("/api/v1/sites", &admin).await;
    let site_id = sites[0]["id"].as_i64().unwrap();
    let resp = s
        .http
        .post(s.url("/api/v1/cameras"))
        .bearer_auth(&admin)
        .json(&json!({"site_id": site_id, "name": "exit lane", "heading_deg": 90}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let created: Value = resp.json().await.unwrap();
    let key = created["api_key"].as_str().unwrap();
    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(key)
        .json(&json!({"plate": "NEW123", "captured_at": now_rfc3339(1), "confidence": 0.9}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let listed: Value = s.get_json("/api/v1/cameras", &admin).await;
    assert!(
        !listed.to_string().contains(key),
        "the key is never shown again"
    );
    let bad_site = s
        .http
        .post(s.url("/api/v1/cameras"))
        .bearer_auth(&admin)
        .json(&json!({"site_id": 9999, "name": "x"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_site.status(), 404);
}

#[tokio::test]
async fn openapi_metrics_and_unknown_routes() {
    let s = start().await;
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(doc["paths"]["/api/v1/searches"]["post"].is_object());
    assert!(doc["paths"]["/api/v1/reads"]["post"].is_object());
    let t = s.login("admin").await;
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": "MET123", "captured_at": now_rfc3339(1), "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    let metrics = s
        .http
        .get(s.url("/metrics"))
        .bearer_auth(&t)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(metrics.contains("anpr_reads_ingested_total 1"), "{metrics}");
    let missing = s.http.get(s.url("/api/v1/nothing")).send().await.unwrap();
    assert_eq!(missing.status(), 404);
}

#[tokio::test]
async fn retention_deletes_reads_and_images_but_keeps_legal_holds() {
    let s = start().await;
    let old = now_rfc3339(61 * 24 * 60 - 4);
    let reads = json!({"reads": [
        {"plate": "OLD111", "captured_at": old, "confidence": 0.9, "plate_image": base64_jpeg(1)},
        {"plate": "HLD222", "captured_at": old, "confidence": 0.9},
        {"plate": "NEW333", "captured_at": now_rfc3339(10), "confidence": 0.9},
    ]});
    // Captured more than 60 days ago: the camera's clock is plausible, retention has passed.
    let resp = s.ingest("/api/v1/reads:batch", &reads).await;
    assert_eq!(resp.status(), 201, "{:?}", resp.text().await);
    let ids: Vec<i64> = s
        .state
        .store
        .search(&anpr_domain::SearchQuery::for_plate(
            anpr_domain::PlatePattern::parse("HLD222", None, None).unwrap(),
        ))
        .await
        .unwrap()
        .hits
        .iter()
        .map(|h| h.read.id)
        .collect();
    let sup = s.login("supervisor").await;
    let hold = s
        .http
        .put(s.url(&format!("/api/v1/reads/{}/legal-hold", ids[0])))
        .bearer_auth(&sup)
        .json(&json!({"hold": true, "reason": "Court file CRI-2026-123", "purpose": purpose()}))
        .send()
        .await
        .unwrap();
    assert_eq!(hold.status(), 204);
    let images_before = std::fs::read_dir(s.dir.path().join("images"))
        .unwrap()
        .count();
    let report = anpr_app::retention::purge(&s.state, chrono::Utc::now(), |_| {})
        .await
        .unwrap();
    assert_eq!(report.reads_deleted, 1);
    assert_eq!(report.images_deleted, 1);
    assert_eq!(report.reads_kept_on_hold, 1);
    assert_eq!(s.read_count().await, 2);
    assert_eq!(s.state.store.stats().await.unwrap().images, 0);
    let files = walk(&s.dir.path().join("images"));
    assert!(
        files.iter().all(|f| !f.ends_with(".img")),
        "image file deleted: {files:?} (dirs before: {images_before})"
    );
}

fn base64_jpeg(seed: u32) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(jpeg(40 + seed, 20))
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = vec![];
    for e in std::fs::read_dir(dir).unwrap().flatten() {
        let p = e.path();
        if p.is_dir() {
            out.extend(walk(&p));
        } else {
            out.push(p.display().to_string());
        }
    }
    out
}

/// Personal data is neither cached by a browser or proxy nor readable by other local users.
#[tokio::test]
async fn answers_are_not_cached_and_the_data_on_disk_is_private() {
    use std::os::unix::fs::PermissionsExt;
    let s = start().await;
    seed(&s).await;
    let token = s.login("searcher").await;
    let found = s.search(&token, json!({"plate": "ABC123"})).await;
    assert_eq!(found.status(), 200);
    assert_eq!(found.headers()["cache-control"], "no-store");
    let refused = s.http.get(s.url("/api/v1/auth/me")).send().await.unwrap();
    assert_eq!(refused.status(), 401);
    assert_eq!(refused.headers()["cache-control"], "no-store");
    // The UI's assets keep their own caching.
    let asset = s.http.get(s.url("/ui/app.css")).send().await.unwrap();
    assert_eq!(asset.headers()["cache-control"], "no-cache");

    let mode = |p: &str| {
        std::fs::metadata(s.dir.path().join(p))
            .unwrap_or_else(|e| panic!("{p}: {e}"))
            .permissions()
            .mode()
            & 0o777
    };
    assert_eq!(mode("anpr.sqlite"), 0o600);
    assert_eq!(mode("images"), 0o700);
    assert_eq!(mode("ledger"), 0o700);
    assert_eq!(mode("ledger/ledger.sqlite"), 0o600);
}

//! A camera's keys over their life: a revoked key and a deactivated camera are refused at
//! once, even though the key was verified and remembered before; a rotation leaves the old and
//! the new key working through its overlap and only the new one after; every change is an
//! administrator's, recorded in the ledger, and no key is ever written there.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn read_body() -> Value {
    json!({"plate": "KEY123", "captured_at": now_rfc3339(1), "confidence": 0.9})
}

/// The status of one read posted with `key`.
async fn ingest_with(s: &TestServer, key: &str) -> u16 {
    s.http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(key)
        .json(&read_body())
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

async fn rotate(s: &TestServer, admin: &str, body: Option<Value>) -> (u16, Value) {
    let path = format!("/api/v1/cameras/{}/keys", s.camera_id);
    s.call("POST", &path, Some(admin), body.as_ref()).await
}

/// Every ledger entry's body, as written.
fn ledger_bodies(s: &TestServer) -> Vec<String> {
    let size = s.state.ledger.refresh().unwrap();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .map(|e| e.body)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_revoked_key_is_refused_at_once_though_it_was_remembered() {
    let s = start().await;
    assert_eq!(ingest_with(&s, &s.camera_key).await, 201);
    assert_eq!(ingest_with(&s, &s.camera_key).await, 201, "remembered");

    let admin = s.login("admin").await;
    let path = format!("/api/v1/cameras/{}/keys", s.camera_id);
    let (st, body) = s.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((st, &body["revoked"]), (200, &json!(1)), "{body}");

    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .json(&read_body())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let err: Value = resp.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("current key"),
        "{err}"
    );

    // Revoking again ends nothing more; the camera comes back with a rotation's new key.
    let (st, body) = s.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!((st, &body["revoked"]), (200, &json!(0)), "{body}");
    let (st, rotated) = rotate(&s, &admin, None).await;
    assert_eq!(st, 201, "{rotated}");
    assert!(rotated["previous_key_expires_at"].is_null(), "{rotated}");
    assert_eq!(
        ingest_with(&s, rotated["api_key"].as_str().unwrap()).await,
        201
    );
    assert_eq!(ingest_with(&s, &s.camera_key).await, 401);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn old_and_new_keys_both_work_through_the_overlap_and_only_the_new_one_after() {
    let s = start().await;
    let admin = s.login("admin").await;
    let old = s.camera_key.clone();
    assert_eq!(ingest_with(&s, &old).await, 201);

    let (st, rotated) = rotate(&s, &admin, Some(json!({"overlap_seconds": 2}))).await;
    assert_eq!(st, 201, "{rotated}");
    let new = rotated["api_key"].as_str().unwrap().to_string();
    assert_ne!(new, old);
    assert!(new.starts_with(&format!("anpr_cam_{}_", s.camera_id)));
    let end: chrono::DateTime<chrono::Utc> =
        serde_json::from_value(rotated["previous_key_expires_at"].clone()).unwrap();

    assert_eq!(
        ingest_with(&s, &old).await,
        201,
        "old key during the overlap"
    );
    assert_eq!(
        ingest_with(&s, &new).await,
        201,
        "new key during the overlap"
    );
    let left = (end - chrono::Utc::now()).to_std().unwrap_or_default();
    tokio::time::sleep(left + Duration::from_millis(50)).await;
    assert_eq!(
        ingest_with(&s, &old).await,
        401,
        "old key after the overlap"
    );
    assert_eq!(
        ingest_with(&s, &new).await,
        201,
        "new key after the overlap"
    );

    // A rotation during an overlap ends the oldest key at once: never more than two work.
    let (_, second) = rotate(&s, &admin, Some(json!({"overlap_seconds": 3600}))).await;
    let second = second["api_key"].as_str().unwrap().to_string();
    let (_, third) = rotate(&s, &admin, Some(json!({"overlap_seconds": 3600}))).await;
    let third = third["api_key"].as_str().unwrap().to_string();
    assert_eq!(ingest_with(&s, &new).await, 401, "the oldest ended at once");
    assert_eq!(ingest_with(&s, &second).await, 201);
    assert_eq!(ingest_with(&s, &third).await, 201);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_camera_deactivated_in_the_database_is_refused_at_once() {
    let s = start().await;
    assert_eq!(ingest_with(&s, &s.camera_key).await, 201);
    let db = rusqlite::Connection::open(s.dir.path().join("anpr.sqlite")).unwrap();
    db.execute("UPDATE cameras SET active = 0 WHERE id = ?1", [s.camera_id])
        .unwrap();
    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(&s.camera_key)
        .json(&read_body())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 403);
    let err: Value = resp.json().await.unwrap();
    assert!(
        err["error"]["message"]
            .as_str()
            .unwrap()
            .contains("deactivated"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_administrators_change_keys_each_change_is_ledgered_and_no_key_is() {
    let s = start().await;
    let admin = s.login("admin").await;
    let supervisor = s.login("supervisor").await;
    let (st, body) = rotate(&s, &supervisor, None).await;
    assert_eq!(
        (st, &body["error"]["code"]),
        (403, &json!("missing_permission"))
    );
    let (st, body) = rotate(&s, &s.camera_key, None).await;
    assert_eq!(st, 401, "{body}");

    // Bad input: a clear refusal naming the field; an unknown camera is not found.
    for overlap in [json!(-1), json!(8 * 24 * 3600), json!(i64::MAX)] {
        let (st, body) = rotate(&s, &admin, Some(json!({ "overlap_seconds": overlap }))).await;
        assert_eq!(
            (st, &body["error"]["field"]),
            (422, &json!("overlap_seconds")),
            "{body}"
        );
    }
    let (st, body) = rotate(&s, &admin, Some(json!({"overlap": 5}))).await;
    assert!((400..500).contains(&st), "{body}");
    let (st, body) = s
        .call("POST", "/api/v1/cameras/999999/keys", Some(&admin), None)
        .await;
    assert_eq!(st, 404, "{body}");
    assert_eq!(ingest_with(&s, &s.camera_key).await, 201, "nothing changed");

    let (st, rotated) = rotate(&s, &admin, Some(json!({"overlap_seconds": 60}))).await;
    assert_eq!(st, 201, "{rotated}");
    let new = rotated["api_key"].as_str().unwrap().to_string();
    assert_eq!(ingest_with(&s, &new).await, 201);
    let path = format!("/api/v1/cameras/{}/keys", s.camera_id);
    let (st, _) = s.call("DELETE", &path, Some(&admin), None).await;
    assert_eq!(st, 200);
    assert_eq!(ingest_with(&s, &new).await, 401);

    let bodies = ledger_bodies(&s);
    // The random part may itself hold '_' (URL-safe base64): cut after the camera id.
    let secret = |key: &str| {
        let rest = key.strip_prefix("anpr_cam_").expect("a camera key");
        rest.split_once('_').expect("a camera key").1.to_string()
    };
    for key in [&s.camera_key, &new] {
        assert!(
            bodies.iter().all(|b| !b.contains(&secret(key))),
            "a key reached the ledger"
        );
    }
    let changes: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap())
        .filter(|e| e["action"] == "camera_key_change")
        .collect();
    let granted: Vec<&Value> = changes
        .iter()
        .filter(|e| e["outcome"]["result"] == "granted")
        .collect();
    assert_eq!(granted.len(), 2, "{changes:?}");
    assert!(granted.iter().all(|e| e["actor"]["id"] == "admin"));
    assert_eq!(granted[0]["query"]["change"], "rotate");
    assert_eq!(granted[0]["query"]["overlap_seconds"], 60);
    assert_eq!(granted[1]["query"]["change"], "revoke");
    assert!(granted
        .iter()
        .all(|e| e["query"]["camera_id"] == s.camera_id));
    assert!(
        changes
            .iter()
            .any(|e| e["actor"]["id"] == "supervisor" && e["outcome"]["result"] == "refused"),
        "the refused attempt is recorded too"
    );
}

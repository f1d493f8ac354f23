//! The server on PostgreSQL (run when `ANPR_TEST_POSTGRES_URL` is set, each test on a database
//! of its own): the API works the same, and two servers behind a load balancer share one
//! database — sessions, reads, watches and alerts.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// A read `minutes_ago` (searches withhold the last 30 minutes; watches alert on live reads).
async fn sighting(s: &TestServer, plate: &str, minutes_ago: i64) -> i64 {
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": plate, "captured_at": now_rfc3339(minutes_ago), "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ingest_search_and_tracking_alerts_work_on_postgres() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let s = start_postgres(&db, Default::default()).await;
    let tracker = s.login("tracker").await;
    let (st, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!(
        (st, auth["status"].as_str()),
        (201, Some("active")),
        "{auth}"
    );

    let live = sighting(&s, STOLEN_CLEAN, 0).await;
    let read_id = sighting(&s, STOLEN_CLEAN, 60).await;
    sighting(&s, "ZZZ111", 60).await;
    assert_eq!(s.read_count().await, 3);

    let searcher = s.login("searcher").await;
    let page: Value = s
        .search(&searcher, json!({"plate": STOLEN_CLEAN}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");
    assert_eq!(page["hits"][0]["id"], read_id);
    let page: Value = s
        .search(&searcher, json!({"plate": "ZZZ11*"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 1, "{page}");

    let (st, list) = s.call("GET", "/api/v1/alerts", Some(&tracker), None).await;
    assert_eq!(st, 200);
    let alerts = list["alerts"].as_array().unwrap();
    assert!(alerts.iter().any(|a| a["read_id"] == live), "{list}");
    let (_, list) = s.call("GET", "/api/v1/alerts", Some(&searcher), None).await;
    assert!(list["alerts"].as_array().unwrap().is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_on_one_database_share_sessions_reads_watches_and_alerts() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    // The periodic sweep stays at its default (a minute): what B learns, it learns from the
    // database's change feed.
    let a = start_postgres(&db, Default::default()).await;
    let b = start_another(&a, &db, Default::default()).await;

    // A session opened on A is good on B.
    let tracker = a.login("tracker").await;
    let (st, me) = b.call("GET", "/api/v1/auth/me", Some(&tracker), None).await;
    assert_eq!(
        (st, me["staff_id"].as_str()),
        (200, Some("tracker")),
        "{me}"
    );

    // Tracking authorised on A becomes a watch on B at once...
    let (st, auth) = a
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!(st, 201, "{auth}");
    for _ in 0..50 {
        if !b.state.watches.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(!b.state.watches.is_empty(), "B learnt the watch");

    // ...so a read ingested on B raises the alert, which an officer connected to A receives
    // live, once, and A lists.
    let mut stream = SseClient::connect(&a, &tracker, None).await;
    let read_id = sighting(&b, STOLEN_CLEAN, 0).await;
    let (event_id, alert) = stream.expect().await;
    assert_eq!(alert["read_id"], read_id, "{alert}");
    assert_eq!(alert["id"], event_id);
    assert!(
        stream.next(Duration::from_millis(500)).await.is_none(),
        "delivered once"
    );
    let (st, list) = a.call("GET", "/api/v1/alerts", Some(&tracker), None).await;
    assert_eq!(st, 200);
    assert_eq!(list["alerts"][0]["read_id"], read_id, "{list}");
    assert_eq!(list["alerts"][0]["authorisation_id"], auth["id"]);

    // Reads ingested on either server are found by a search on the other.
    let other = sighting(&a, "SHR123", 60).await;
    let earlier = sighting(&b, STOLEN_CLEAN, 60).await;
    let searcher = b.login("searcher").await;
    let page: Value = b
        .search(&searcher, json!({"plate": "SHR123"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["hits"][0]["id"], other, "{page}");
    let page: Value = a
        .search(&searcher, json!({"plate": STOLEN_CLEAN}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["hits"][0]["id"], earlier, "{page}");

    // Both servers appended to one audit ledger: one sequence, the same tree on both, and it
    // verifies in full.
    let ledger_a = a.state.ledger.clone();
    let ledger_b = b.state.ledger.clone();
    let (size_a, root_a, size_b, root_b, report) = tokio::task::spawn_blocking(move || {
        let size_a = ledger_a.refresh().unwrap();
        let size_b = ledger_b.refresh().unwrap();
        (
            size_a,
            ledger_a.root().unwrap(),
            size_b,
            ledger_b.root().unwrap(),
            ledger_b.verify_full().unwrap(),
        )
    })
    .await
    .unwrap();
    assert!(size_a > 10, "both servers' requests are recorded");
    assert_eq!((size_a, root_a), (size_b, root_b));
    assert!(report.is_ok(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_requests_on_two_servers_leave_one_gap_free_ledger() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let a = std::sync::Arc::new(start_postgres(&db, Default::default()).await);
    let b = std::sync::Arc::new(start_another(&a, &db, Default::default()).await);
    let before = a.state.ledger.refresh().unwrap();
    let token = a.login("searcher").await;
    let mut tasks = Vec::new();
    for i in 0..40 {
        let server = if i % 2 == 0 { a.clone() } else { b.clone() };
        let token = token.clone();
        tasks.push(tokio::spawn(async move {
            let resp = server
                .search(&token, json!({"plate": format!("GAP{:03}", i)}))
                .await;
            assert_eq!(resp.status(), 200);
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let (ledger_a, ledger_b) = (a.state.ledger.clone(), b.state.ledger.clone());
    let (entries, report, same_root) = tokio::task::spawn_blocking(move || {
        let end = ledger_a.refresh().unwrap();
        ledger_b.refresh().unwrap();
        let entries = ledger_a.entries(before, end).unwrap();
        (
            entries,
            ledger_a.verify_full().unwrap(),
            ledger_a.root().unwrap() == ledger_b.root().unwrap(),
        )
    })
    .await
    .unwrap();
    let searches = entries.iter().filter(|e| e.body.contains("\"GAP")).count();
    assert!(searches >= 40, "every search is recorded ({searches})");
    assert!(
        entries.windows(2).all(|w| w[1].index == w[0].index + 1),
        "no gap"
    );
    assert!(same_root, "no fork");
    assert!(report.is_ok(), "{report}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_servers_share_one_rate_limit_and_one_sign_in_throttle() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let mut config = anpr_server::ServerConfig::default();
    config.app.policy.rate_limits.per_purpose_default.max = 3;
    let a = start_postgres(&db, config.clone()).await;
    let b = start_another(&a, &db, config).await;

    // Three searches allowed in the hour, wherever they land.
    let t = a.login("searcher").await;
    for s in [&a, &b, &a] {
        let resp = s.search(&t, json!({"plate": "ABC123"})).await;
        assert_eq!(resp.status(), 200);
    }
    for s in [&b, &a] {
        let resp = s.search(&t, json!({"plate": "ABC123"})).await;
        assert_eq!(resp.status(), 429, "the limit holds across servers");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["error"]["code"], "rate_limited", "{body}");
    }

    // Five wrong passwords, spread over both servers, pause the staff id on both.
    let guess = |s: &TestServer| {
        s.http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"staff_id": "tracker", "password": "guess"}))
            .send()
    };
    for s in [&a, &b, &a, &b, &a] {
        assert_eq!(guess(s).await.unwrap().status(), 401);
    }
    for s in [&a, &b] {
        let resp = s
            .http
            .post(s.url("/api/v1/auth/login"))
            .json(&json!({"staff_id": "tracker", "password": PASSWORD}))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 429, "paused on every server");
    }
}

/// The status of one read posted to `s` with `key`.
async fn ingest_with(s: &TestServer, key: &str) -> u16 {
    s.http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(key)
        .json(&json!({"plate": "KEY123", "captured_at": now_rfc3339(1), "confidence": 0.9}))
        .send()
        .await
        .unwrap()
        .status()
        .as_u16()
}

/// How long until `s` answers a read posted with `key` with `status`; panics after `limit`.
async fn until_answered(s: &TestServer, key: &str, status: u16, limit: Duration) -> Duration {
    let started = std::time::Instant::now();
    loop {
        if ingest_with(s, key).await == status {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < limit,
            "still not {status} after {limit:?}"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_revoked_or_a_camera_deactivated_on_one_server_is_refused_on_the_other_at_once() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let a = start_postgres(&db, Default::default()).await;
    let b = start_another(&a, &db, Default::default()).await;
    let admin = a.login("admin").await;
    let keys = format!("/api/v1/cameras/{}/keys", a.camera_id);

    // B verified and remembers the key; a rotation on A leaves both keys working on B through
    // the overlap, and only the new one after it.
    assert_eq!(ingest_with(&b, &a.camera_key).await, 201);
    let (st, rotated) = a
        .call(
            "POST",
            &keys,
            Some(&admin),
            Some(&json!({"overlap_seconds": 1})),
        )
        .await;
    assert_eq!(st, 201, "{rotated}");
    let new = rotated["api_key"].as_str().unwrap().to_string();
    assert_eq!(
        ingest_with(&b, &a.camera_key).await,
        201,
        "old key in the overlap"
    );
    assert_eq!(ingest_with(&b, &new).await, 201, "new key in the overlap");
    until_answered(&b, &a.camera_key, 401, Duration::from_secs(3)).await;
    assert_eq!(ingest_with(&b, &new).await, 201);

    // Revoked on A: refused on B within a second.
    let (st, _) = a.call("DELETE", &keys, Some(&admin), None).await;
    assert_eq!(st, 200);
    let took = until_answered(&b, &new, 401, Duration::from_secs(1)).await;
    eprintln!(
        "bench: camera_key_revocation_seen_by_other_server {} ms",
        took.as_millis()
    );
    assert_eq!(ingest_with(&a, &new).await, 401);

    // Deactivated by hand at the database: refused on both within a second.
    let (_, rotated) = a.call("POST", &keys, Some(&admin), None).await;
    let key = rotated["api_key"].as_str().unwrap().to_string();
    assert_eq!(ingest_with(&a, &key).await, 201);
    assert_eq!(ingest_with(&b, &key).await, 201);
    db.execute(&format!(
        "UPDATE cameras SET active = FALSE WHERE id = {}",
        a.camera_id
    ))
    .await;
    until_answered(&a, &key, 403, Duration::from_secs(1)).await;
    until_answered(&b, &key, 403, Duration::from_secs(1)).await;
}

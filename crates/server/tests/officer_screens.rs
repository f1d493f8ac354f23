//! What the search and tracking screens rest on: a search page that carries its plate crops
//! (one decision and one ledger entry per page, however many thumbnails), totals that do not
//! change from page to page, the officer's open files with the purposes that fit each, and
//! refusals worded for a person.

mod common;

use anpr_policy::DecisionAction;
use anpr_server::ServerConfig;
use common::*;
use serde_json::{json, Value};

const PLATE: &str = "PGE123";

/// `n` reads of [`PLATE`] with a plate crop, one every 40 minutes from an hour ago back (so
/// they span capture days and stay out of the near-live window).
async fn seed_with_crops(s: &TestServer, n: usize) {
    use base64::Engine;
    let crop = base64::engine::general_purpose::STANDARD.encode(jpeg(64, 32));
    let reads: Vec<Value> = (0..n)
        .map(|i| {
            json!({"plate": PLATE, "captured_at": now_rfc3339(60 + 40 * i as i64),
                   "confidence": 0.9, "plate_image": crop})
        })
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201, "{}", resp.text().await.unwrap());
}

async fn decisions_of(s: &TestServer, action: DecisionAction) -> usize {
    s.state
        .store
        .decisions(None, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|d| d.action == action)
        .count()
}

fn ledger_actions(s: &TestServer, action: &str) -> usize {
    let size = s.state.ledger.size();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .filter(|e| serde_json::from_str::<Value>(&e.body).unwrap()["action"] == action)
        .count()
}

#[tokio::test]
async fn paging_with_thumbnails_is_one_view_per_page_and_stays_under_the_rate_limit() {
    // A limit of 10 uses an hour under the purpose: 30 reads, 6 pages of 5 with their crops.
    let mut config = ServerConfig::default();
    config.app.policy.rate_limits.per_purpose_default.max = 10;
    let s = start_with(config).await;
    seed_with_crops(&s, 30).await;
    let t = s.login("searcher").await;
    let crop = jpeg(64, 32);

    let mut body = json!({"plate": PLATE, "limit": 5, "thumbnails": true});
    let mut seen = Vec::new();
    let mut pages = 0;
    loop {
        let resp = s.search(&t, body.clone()).await;
        assert_eq!(resp.status(), 200, "page {pages}");
        let page: Value = resp.json().await.unwrap();
        pages += 1;
        assert_eq!(
            page["total"], 30,
            "the total is the whole search's on every page"
        );
        for hit in page["hits"].as_array().unwrap() {
            let thumb = hit["plate_thumbnail"]
                .as_str()
                .expect("a thumbnail per hit");
            let data = thumb
                .strip_prefix("data:image/jpeg;base64,")
                .unwrap_or_else(|| panic!("{thumb:.40}"));
            use base64::Engine;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(data)
                .unwrap();
            assert_eq!(bytes, crop, "the read's own crop");
            seen.push(hit["id"].as_i64().unwrap());
        }
        match page["next_cursor"].as_str() {
            Some(c) => body["cursor"] = json!(c),
            None => break,
        }
    }
    assert_eq!((pages, seen.len()), (6, 30));
    // One decision and one ledger entry per page; no image view at all.
    assert_eq!(decisions_of(&s, DecisionAction::Search).await, 6);
    assert_eq!(decisions_of(&s, DecisionAction::ViewImage).await, 0);
    assert_eq!(ledger_actions(&s, "image_view"), 0);
    assert_eq!(ledger_actions(&s, "search"), 6);

    // Fetched one by one, crops are image views each, and the limit is real: 4 more fit.
    let purpose = purpose_query();
    let mut statuses = Vec::new();
    for id in &seen[..5] {
        let (st, _) = s
            .call(
                "GET",
                &format!("/api/v1/reads/{id}/image/plate?{purpose}"),
                Some(&t),
                None,
            )
            .await;
        statuses.push(st);
    }
    assert_eq!(statuses, [200, 200, 200, 200, 429]);
}

#[tokio::test]
async fn a_page_without_thumbnails_asked_carries_none() {
    let s = start().await;
    seed_with_crops(&s, 3).await;
    let t = s.login("searcher").await;
    let page: Value = s
        .search(&t, json!({"plate": PLATE}))
        .await
        .json()
        .await
        .unwrap();
    let hits = page["hits"].as_array().unwrap();
    assert_eq!(hits.len(), 3);
    assert!(hits
        .iter()
        .all(|h| h.get("plate_thumbnail").is_none() && h["plate_url"].is_string()));
}

#[tokio::test]
async fn an_officer_lists_their_open_files_with_the_purposes_that_fit() {
    let s = start().await;
    let t = s.login("searcher").await;
    let (st, body) = s.call("GET", "/api/v1/files", Some(&t), None).await;
    assert_eq!(st, 200, "{body}");
    let files: Vec<(String, String, Vec<String>)> = body["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| {
            (
                f["file_number"].as_str().unwrap().to_string(),
                f["incident_type"].as_str().unwrap().to_string(),
                f["purposes"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .map(|p| p.as_str().unwrap().to_string())
                    .collect(),
            )
        })
        .collect();
    // Waikato's open files; neither the closed one nor Canterbury's.
    let find = |file: &str| files.iter().find(|f| f.0 == file);
    assert_eq!(
        find(THEFT_FILE).map(|f| (f.1.as_str(), f.2.clone())),
        Some(("vehicle_theft", vec!["stolen_vehicle".to_string()]))
    );
    assert_eq!(
        find(HOMICIDE_FILE).map(|f| f.2.clone()),
        Some(vec!["serious_crime".to_string()])
    );
    assert!(find(CLOSED_FILE).is_none() && find(CANTERBURY_FILE).is_none());
    let purposes: Vec<&str> = body["purposes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["label"].as_str().unwrap())
        .collect();
    assert!(purposes.contains(&"Serious crime investigation"), "{body}");
    // Decided and recorded like any look into the registers.
    assert_eq!(decisions_of(&s, DecisionAction::ListFiles).await, 1);
    assert!(ledger_actions(&s, "register_read") >= 1);

    // An overseer states no purpose, so has no files to list.
    let auditor = s.login("auditor").await;
    let (st, body) = s.call("GET", "/api/v1/files", Some(&auditor), None).await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("missing_permission"))
    );
}

#[tokio::test]
async fn a_purpose_that_does_not_fit_is_refused_with_the_purposes_that_do() {
    let s = start().await;
    let t = s.login("searcher").await;
    let body = json!({"plate": "ABC123", "purpose": purpose_of("missing_person", HOMICIDE_FILE)});
    let resp = s.search(&t, body).await;
    assert_eq!(resp.status(), 422);
    let error: Value = resp.json().await.unwrap();
    let message = error["error"]["message"].as_str().unwrap();
    assert_eq!(error["error"]["code"], "purpose_mismatch");
    assert!(
        message.contains("Missing person")
            && message.contains("a homicide incident")
            && message.contains("choose the purpose Serious crime investigation"),
        "{message}"
    );
    assert!(
        !message.contains('`') && !message.contains("fits: missing"),
        "{message}"
    );
}

#[tokio::test]
async fn refusals_name_no_api_paths_code_marks_or_field_paths() {
    let s = start().await;
    let t = s.login("searcher").await;
    let mut too_short = purpose();
    too_short["justification"] = json!("short");
    let far_back = (chrono::Utc::now() - chrono::Duration::days(200)).to_rfc3339();
    for body in [
        json!({"plate": "ABC123", "purpose": purpose_of("stolen_vehicle", "999999/0000")}),
        json!({"plate": "ABC123", "purpose": purpose_of("no_such_purpose", THEFT_FILE)}),
        json!({"plate": "ABC123", "purpose": too_short}),
        json!({"plate": "ABC123", "from": far_back}),
    ] {
        let resp = s.search(&t, body.clone()).await;
        let error: Value = resp.json().await.unwrap();
        let message = error["error"]["message"].as_str().unwrap();
        assert!(
            !message.contains('`')
                && !message.contains("/api/")
                && !message.contains("purpose.")
                && !message.contains("POST "),
            "{body}: {message}"
        );
    }
}

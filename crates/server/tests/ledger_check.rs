//! The server's check of its own audit ledger: it will not start over entries edited while it
//! was down, and an edit while it serves raises the alarm (metric, notice, integrity case) and
//! stops it signing tree heads.

mod common;

use common::*;
use serde_json::{json, Value};
use std::path::Path;
use std::time::{Duration, Instant};

/// Some uses, so that the ledger holds entries and a signed head.
async fn activity(s: &TestServer) -> u64 {
    let token = s.login("searcher").await;
    for plate in ["ABC123", "XYZ789", "KLM456"] {
        let resp = s
            .search(&token, json!({"plate": plate, "purpose": purpose()}))
            .await;
        assert_eq!(resp.status(), 200);
    }
    let auditor = s.login("auditor").await;
    s.get_json("/api/v1/ledger/tree-head", &auditor).await["size"]
        .as_u64()
        .unwrap()
}

/// Rewrites entry `index`'s justification in the ledger's database, behind its back.
fn edit_entry(dir: &Path, index: i64) {
    let c = rusqlite::Connection::open(dir.join("ledger/ledger.sqlite")).unwrap();
    let body: Vec<u8> = c
        .query_row("SELECT body FROM entries WHERE idx = ?1", [index], |r| {
            r.get(0)
        })
        .unwrap();
    let text = String::from_utf8(body).unwrap();
    let forged = text.replacen("\"actor\"", "\"zactor\"", 1);
    assert_ne!(forged, text);
    c.execute(
        "UPDATE entries SET body = ?1 WHERE idx = ?2",
        rusqlite::params![forged.into_bytes(), index],
    )
    .unwrap();
}

#[tokio::test]
async fn a_server_will_not_start_over_a_ledger_edited_while_it_was_down() {
    let s = start().await;
    let signed = activity(&s).await;
    assert!(signed >= 5, "{signed}");
    let dir = s.stop().await;
    let middle = (signed / 2) as i64;
    edit_entry(dir.path(), middle);
    let state = anpr_server::AppState::open_embedded(dir.path(), Default::default()).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let err = anpr_server::serve(state, listener, std::future::pending())
        .await
        .expect_err("served over an edited ledger");
    let message = format!("{err:#}");
    assert!(
        message.contains(&format!("edited at index {middle}")),
        "{message}"
    );
    assert!(message.contains("anpr ledger verify"), "{message}");
}

#[tokio::test]
async fn an_edit_while_serving_raises_the_alarm_and_stops_signing() {
    let mut config = anpr_server::ServerConfig::default();
    config.app.ledger_check.sweep_pause = Duration::ZERO;
    let s = start_with(config).await;
    let signed = activity(&s).await;
    edit_entry(s.dir.path(), (signed / 2) as i64);

    let integrity = s.login("integrity").await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let case = loop {
        let cases = s.get_json("/api/v1/integrity/cases", &integrity).await;
        let found = cases
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["finding"]["rule"] == "ledger_altered")
            .cloned();
        if let Some(c) = found {
            break c;
        }
        assert!(Instant::now() < deadline, "no case opened: {cases}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    let explanation = case["finding"]["explanation"].as_str().unwrap();
    assert!(
        explanation.contains(&format!("index {}", signed / 2)),
        "{explanation}"
    );
    assert_eq!(case["finding"]["severity"], "critical", "{case}");
    assert!(s.state.metrics.render().contains("anpr_ledger_intact 0"));

    let session = s.ui_session("integrity").await;
    let notice = session["notices"][0].as_str().unwrap_or_default();
    assert!(notice.contains("audit ledger was altered"), "{session}");

    // Uses are still recorded, but no head is signed over them any more.
    activity_without_head(&s).await;
    let auditor = s.login("auditor").await;
    let resp = s
        .http
        .get(s.url("/api/v1/ledger/tree-head"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 503);
    let body: Value = resp.json().await.unwrap();
    assert!(
        body["error"]["message"]
            .as_str()
            .unwrap()
            .contains("integrity unit"),
        "{body}"
    );
}

async fn activity_without_head(s: &TestServer) {
    let token = s.login("searcher").await;
    let resp = s
        .search(&token, json!({"plate": "QQQ111", "purpose": purpose()}))
        .await;
    assert_eq!(resp.status(), 200);
}

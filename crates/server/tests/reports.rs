//! Usage reports, the transparency report and subject access through the real server: who may
//! ask, what bad parameters get, and figures that match what the test did.

mod common;

use chrono::{Datelike, Utc};
use common::*;
use serde_json::{json, Value};

/// Three reads of ABC123 an hour or more old (outside the near-live window), one of another
/// plate; two searches the policy allows, one own-vehicle attempt it refuses.
async fn seed(s: &TestServer) {
    let reads: Vec<Value> = [
        ("ABC123", 300),
        ("ABC123", 200),
        ("ABC123", 100),
        ("ZZZ999", 90),
    ]
    .iter()
    .map(|(p, m)| json!({"plate": p, "captured_at": now_rfc3339(*m), "confidence": 0.8}))
    .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201);
    let t = s.login("searcher").await;
    for plate in ["ABC123", "ZZZ999"] {
        let r = s.search(&t, json!({"plate": plate})).await;
        assert_eq!(r.status(), 200);
    }
    let r = s.search(&t, json!({"plate": SEARCHER_CAR})).await;
    assert_eq!(r.status(), 403);
}

fn this_month() -> String {
    let now = Utc::now();
    format!("{:04}-{:02}", now.year(), now.month())
}

/// A range sure to hold everything the test did, whatever the time of the month.
fn range() -> String {
    let from = (Utc::now() - chrono::Duration::days(2)).format("%Y-%m-%d");
    let to = (Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%d");
    format!("from={from}&to={to}")
}

#[tokio::test]
async fn usage_report_counts_what_was_done_for_the_roles_allowed() {
    let s = start().await;
    seed(&s).await;
    let mut tokens = std::collections::HashMap::new();
    for (id, _, _) in USERS {
        tokens.insert(*id, s.login(id).await);
    }
    let path = format!("/api/v1/reports/usage?{}", range());
    for (who, status) in [
        ("auditor", 200),
        ("supervisor", 200),
        ("integrity", 200),
        ("admin", 200),
        ("searcher", 403),
        ("tracker", 403),
        ("privacy", 403),
    ] {
        let (st, body) = s.call("GET", &path, Some(tokens[who].as_str()), None).await;
        assert_eq!(st, status, "{who}: {body}");
    }
    let (st, _) = s.call("GET", &path, None, None).await;
    assert_eq!(st, 401);

    let auditor = tokens["auditor"].as_str();
    let r = s.get_json(&path, auditor).await;
    assert_eq!(r["by"], "month");
    assert_eq!(r["totals"]["searches"], 2, "{r}");
    assert_eq!(r["totals"]["denied_attempts"], 1, "{r}");
    assert_eq!(r["totals"]["own_vehicle_blocks"], 1, "{r}");
    assert_eq!(r["totals"]["tracking_requests"], 0, "{r}");

    let r = s.get_json(format!("{path}&by=district"), auditor).await;
    let rows = r["rows"].as_array().unwrap();
    assert!(rows.iter().all(|row| row["group"] == "Waikato"), "{r}");
    let r = s.get_json(format!("{path}&by=network"), auditor).await;
    let searches: u64 = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|row| row["group"] == "Auror")
        .map(|row| row["searches"].as_u64().unwrap())
        .sum();
    assert_eq!(searches, 2, "{r}");

    let resp = s
        .http
        .get(s.url(&format!("{path}&by=purpose&format=csv")))
        .bearer_auth(auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/csv"));
    let csv = resp.text().await.unwrap();
    let lines: Vec<&str> = csv.lines().collect();
    assert!(lines[0].starts_with("period,purpose,searches,"), "{csv}");
    assert!(
        lines.iter().any(|l| l.contains(",stolen_vehicle,")),
        "{csv}"
    );
    assert!(
        lines[1..].iter().all(|l| l.split(',').count() == 13),
        "{csv}"
    );
}

#[tokio::test]
async fn bad_report_parameters_are_400_naming_the_field() {
    let s = start().await;
    let auditor = s.login("auditor").await;
    let month = this_month();
    for (query, field) in [
        (format!("to={month}"), "from"),
        (format!("from={month}"), "to"),
        (format!("from={month}&to={month}&by=week"), "by"),
        (format!("from={month}&to={month}&format=xml"), "format"),
        ("from=2026-10&to=2026-09".to_string(), "to"),
        (format!("from=yesterday&to={month}"), "from"),
    ] {
        let (st, body) = s
            .call(
                "GET",
                &format!("/api/v1/reports/usage?{query}"),
                Some(&auditor),
                None,
            )
            .await;
        assert_eq!(st, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
    for (query, field) in [
        ("".to_string(), "month"),
        ("month=2026-13".to_string(), "month"),
        ("month=2999-01".to_string(), "month"),
        (format!("month={month}&format=pdf"), "format"),
    ] {
        let (st, body) = s
            .call(
                "GET",
                &format!("/api/v1/reports/transparency?{query}"),
                Some(&auditor),
                None,
            )
            .await;
        assert_eq!(st, 400, "{query}: {body}");
        assert_eq!(body["error"]["field"], field, "{query}: {body}");
    }
}

#[tokio::test]
async fn transparency_report_suppresses_small_counts() {
    let s = start().await;
    seed(&s).await;
    let supervisor = s.login("supervisor").await;
    let path = format!("/api/v1/reports/transparency?month={}", this_month());
    let r = s.get_json(&path, &supervisor).await;
    assert_eq!(r["month"], this_month(), "{r}");
    // Two searches, one refusal: all below 5.
    assert_eq!(r["national"]["searches"], "<5", "{r}");
    assert_eq!(r["national"]["own_vehicle_blocks"], "<5", "{r}");
    assert_eq!(r["national"]["tracking_requests"], 0, "{r}");
    assert_eq!(r["trend"].as_array().unwrap().len(), 24);
    let text = r.to_string();
    for personal in ["searcher", SEARCHER_CAR, "ABC123", THEFT_FILE] {
        assert!(!text.contains(personal), "{personal} in {text}");
    }
    let resp = s
        .http
        .get(s.url(&format!("{path}&format=html")))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(html.contains("<svg") && !html.contains("<script"), "{html}");
    let searcher = s.login("searcher").await;
    let (st, _) = s.call("GET", &path, Some(&searcher), None).await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn subject_access_lists_reads_and_withholds_queries_on_open_files() {
    let s = start().await;
    seed(&s).await;
    let searcher = s.login("searcher").await;
    // Refused on a closed file: recorded, and its file is not open, so it is disclosed.
    let r = s
        .search(
            &searcher,
            json!({"plate": "ABC123", "purpose": purpose_of("stolen_vehicle", CLOSED_FILE)}),
        )
        .await;
    assert_eq!(r.status(), 403);
    // A wildcard that matches it, on the open theft file.
    let r = s.search(&searcher, json!({"plate": "AB?12*"})).await;
    assert_eq!(r.status(), 200);

    let privacy = s.login("privacy").await;
    let ask = json!({"plate": "abc-123", "reference": "PA-2026-7"});
    let (st, r) = s
        .call(
            "POST",
            "/api/v1/reports/subject-access",
            Some(&privacy),
            Some(&ask),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["plate"], "ABC123");
    assert_eq!(r["reads_held"], 3, "{r}");
    let reads = r["reads"].as_array().unwrap();
    assert_eq!(reads.len(), 3);
    assert!(
        reads.iter().all(|x| x["site"] == "Fuel stop Te Rapa"),
        "{r}"
    );
    // The exact and the wildcard searches on the open theft file, and the closed-file refusal.
    assert_eq!(r["queries_total"], 3, "{r}");
    assert_eq!(r["queries_withheld"], 2, "{r}");
    assert_eq!(r["queries"].as_array().unwrap().len(), 1);
    assert_eq!(r["queries"][0]["outcome"], "refused");
    let text = r.to_string();
    assert!(
        !text.contains("searcher") && !text.contains(CLOSED_FILE),
        "{text}"
    );

    for (who, status) in [("searcher", 403), ("auditor", 403), ("admin", 200)] {
        let t = s.login(who).await;
        let (st, body) = s
            .call(
                "POST",
                "/api/v1/reports/subject-access",
                Some(&t),
                Some(&ask),
            )
            .await;
        assert_eq!(st, status, "{who}: {body}");
    }
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/reports/subject-access",
            Some(&privacy),
            Some(&json!({"plate": "🚗"})),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    assert_eq!(body["error"]["field"], "plate", "{body}");

    // The request is a recorded decision and a ledger entry with a digest of what it disclosed.
    let decisions = s.state.store.decisions(None, 100).await.unwrap();
    let asked: Vec<_> = decisions
        .iter()
        .filter(|d| d.action == anpr_policy::DecisionAction::SubjectAccess)
        .collect();
    assert_eq!(asked.len(), 4, "privacy, searcher, auditor, admin");
    assert_eq!(
        asked
            .iter()
            .filter(|d| d.outcome == anpr_policy::DecisionOutcome::Refused)
            .count(),
        2
    );
    assert!(asked
        .iter()
        .all(|d| d.basis.as_deref() == Some("subject access request PA-2026-7")));
    let size = s.state.ledger.size();
    let entries = s.state.ledger.entries(0, size).unwrap();
    let recorded = entries
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap())
        .find(|e| e["action"] == "subject_access" && e["outcome"]["result"] == "granted")
        .expect("a ledger entry for the subject access request");
    assert_eq!(recorded["result"]["count"], 3, "{recorded}");
    assert_eq!(recorded["query"]["reference"], "PA-2026-7");
}

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
    let ask = json!({"plate": "abc-123", "reference": "PA-2026-7",
                     "identity_checked": {"method": "passport", "by": "privacy"}});
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
            Some(&json!({"plate": "🚗", "reference": "PA-2026-8",
                         "identity_checked": {"method": "passport", "by": "privacy"}})),
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
    assert!(asked.iter().all(|d| d
        .basis
        .as_deref()
        .unwrap_or_default()
        .starts_with("subject access request PA-2026-7")));
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

/// A subject access request as the privacy screen sends it.
fn ask(plate: &str, reference: &str) -> Value {
    json!({"plate": plate, "reference": reference,
           "identity_checked": {"method": "driver_licence", "by": "privacy"}})
}

async fn subject_access(s: &TestServer, token: &str, body: &Value) -> (u16, Value) {
    s.call(
        "POST",
        "/api/v1/reports/subject-access",
        Some(token),
        Some(body),
    )
    .await
}

/// The ledger entries of subject access requests, oldest first.
fn subject_access_entries(s: &TestServer) -> Vec<Value> {
    let size = s.state.ledger.size();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap())
        .filter(|e| e["action"] == "subject_access")
        .collect()
}

/// The red team's subject access "location history on demand": no reference, no identity
/// check, any plate — the requester's own household's included — and sightings a minute old.
#[tokio::test]
async fn subject_access_needs_a_reference_and_an_identity_check() {
    let s = start().await;
    seed(&s).await;
    let privacy = s.login("privacy").await;
    for (body, field) in [
        (json!({"plate": "ABC123"}), "reference"),
        (json!({"plate": "ABC123", "reference": "  "}), "reference"),
        (
            json!({"plate": "ABC123", "reference": "PA-1"}),
            "identity_checked",
        ),
        (
            json!({"plate": "ABC123", "reference": "PA-1",
                   "identity_checked": {"method": "said_so", "by": "privacy"}}),
            "identity_checked.method",
        ),
        (
            json!({"plate": "ABC123", "reference": "PA-1",
                   "identity_checked": {"method": "passport", "by": ""}}),
            "identity_checked.by",
        ),
    ] {
        let (st, r) = subject_access(&s, &privacy, &body).await;
        assert_eq!(st, 422, "{body}: {r}");
        assert_eq!(r["error"]["field"], field, "{body}: {r}");
        assert!(r.get("reads").is_none(), "{r}");
    }
    // Each refusal is a recorded decision and a ledger entry naming the plate.
    let refused = s
        .state
        .store
        .decisions(None, 100)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| {
            d.action == anpr_policy::DecisionAction::SubjectAccess
                && d.outcome == anpr_policy::DecisionOutcome::Refused
        })
        .count();
    assert_eq!(refused, 5);
    let entries = subject_access_entries(&s);
    assert_eq!(entries.len(), 5);
    assert!(entries
        .iter()
        .all(|e| e["query"]["plate"] == "ABC123" && e["outcome"]["result"] == "refused"));

    let (st, r) = subject_access(&s, &privacy, &ask("ABC123", "PA-2")).await;
    assert_eq!(st, 200, "{r}");
    let d = s.state.store.decisions(None, 1).await.unwrap().remove(0);
    let basis = d.basis.unwrap();
    assert!(
        basis.contains("PA-2") && basis.contains("driver_licence") && basis.contains("privacy"),
        "{basis}"
    );
    let entry = subject_access_entries(&s).pop().unwrap();
    assert_eq!(entry["outcome"]["result"], "granted", "{entry}");
    assert_eq!(entry["query"]["plate"], "ABC123", "{entry}");
    assert_eq!(entry["query"]["reference"], "PA-2", "{entry}");
    assert_eq!(
        entry["query"]["identity_checked"]["method"], "driver_licence",
        "{entry}"
    );
}

#[tokio::test]
async fn subject_access_refuses_vehicles_connected_to_the_requester() {
    let s = start().await;
    // A car registered to the privacy officer, one to their flatmate, and the admin's.
    let vehicle =
        |plate: &str, person: &str, address: &str| anpr_policy::registers::VehicleRecord {
            plate: plate.into(),
            owner_person_id: person.into(),
            owner_address_id: address.into(),
            make: None,
            model: None,
            colour: None,
        };
    import(
        &s.state,
        anpr_store::RegisterBatch::Vehicles(vec![
            vehicle("PRV123", "P-privacy", "A-privacy"),
            vehicle("PRV456", "P-flatmate2", "A-privacy"),
            vehicle("ADM123", "P-admin", "A-admin"),
        ]),
    )
    .await;
    let reads: Vec<Value> = ["PRV123", "PRV456", "ADM123"]
        .iter()
        .map(|p| json!({"plate": p, "captured_at": now_rfc3339(120), "confidence": 0.8}))
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201);
    let privacy = s.login("privacy").await;
    let admin = s.login("admin").await;
    for (token, plate) in [
        (&privacy, "PRV123"),
        (&privacy, "prv 456"),
        (&admin, "ADM123"),
    ] {
        let (st, r) = subject_access(&s, token, &ask(plate, "PA-9")).await;
        assert_eq!(st, 403, "{plate}: {r}");
        assert_eq!(r["error"]["code"], "own_vehicle", "{plate}: {r}");
        assert!(
            r["error"]["message"]
                .as_str()
                .unwrap()
                .contains("someone else"),
            "{r}"
        );
    }
    // Someone else handles it.
    let (st, r) = subject_access(&s, &admin, &ask("PRV123", "PA-9")).await;
    assert_eq!(st, 200, "{r}");
    assert_eq!(r["reads_held"], 1, "{r}");
    let (st, r) = subject_access(&s, &privacy, &ask("ADM123", "PA-10")).await;
    assert_eq!(st, 200, "{r}");

    let refused: Vec<Value> = subject_access_entries(&s)
        .into_iter()
        .filter(|e| e["outcome"]["result"] == "refused")
        .collect();
    assert_eq!(refused.len(), 3);
    assert!(refused
        .iter()
        .all(|e| e["query"]["refusal_code"] == "own_vehicle" && e["query"]["reference"] == "PA-9"));
    assert_eq!(
        refused[1]["query"]["plate"], "PRV456",
        "the plate normalised"
    );
}

#[tokio::test]
async fn subject_access_withholds_near_live_sightings_and_says_so() {
    let s = start().await;
    let reads: Vec<Value> = [2, 20, 90, 600]
        .iter()
        .map(|m| json!({"plate": "NRL123", "captured_at": now_rfc3339(*m), "confidence": 0.8}))
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({"reads": reads}))
        .await;
    assert_eq!(resp.status(), 201);
    let privacy = s.login("privacy").await;
    let (st, r) = subject_access(&s, &privacy, &ask("NRL123", "PA-3")).await;
    assert_eq!(st, 200, "{r}");
    // The policy's near-live window is 30 minutes: the 2- and 20-minute-old sightings are
    // neither listed nor counted (a count would tell that the car was seen just now).
    assert_eq!(r["reads_held"], 2, "{r}");
    assert_eq!(r["reads"].as_array().unwrap().len(), 2, "{r}");
    let newest =
        chrono::DateTime::parse_from_rfc3339(r["reads"][0]["captured_at"].as_str().unwrap())
            .unwrap();
    assert!(Utc::now() - newest.with_timezone(&Utc) > chrono::Duration::minutes(30));
    assert!(r["reads_until"].is_string(), "{r}");
    assert!(
        r["notes"]
            .as_array()
            .unwrap()
            .iter()
            .any(|n| n.as_str().unwrap().contains("30 minutes")),
        "{r}"
    );
    let entry = subject_access_entries(&s).pop().unwrap();
    let age = entry["query"]["newest_result_age_s"].as_i64().unwrap();
    assert!(age >= 30 * 60, "{entry}");
    assert_eq!(entry["result"]["count"], 2, "{entry}");
}

#[tokio::test]
async fn subject_access_is_rate_limited_per_requester() {
    let mut config = anpr_server::ServerConfig::default();
    config.app.policy.subject_access.per_requester = anpr_policy::config::Limit {
        max: 2,
        window_minutes: 60,
    };
    let s = start_with(config).await;
    let privacy = s.login("privacy").await;
    for i in 0..2 {
        let (st, r) = subject_access(&s, &privacy, &ask("ABC123", &format!("PA-{i}"))).await;
        assert_eq!(st, 200, "{r}");
    }
    let (st, r) = subject_access(&s, &privacy, &ask("ZZZ999", "PA-3")).await;
    assert_eq!(st, 429, "{r}");
    assert_eq!(r["error"]["code"], "rate_limited", "{r}");
    // The limit is the requester's own, and it holds across processes: it is counted from
    // the recorded decisions, not kept in memory.
    let admin = s.login("admin").await;
    let (st, r) = subject_access(&s, &admin, &ask("ABC123", "PA-4")).await;
    assert_eq!(st, 200, "{r}");
    let s = s
        .restart_with(|c| {
            c.app.policy.subject_access.per_requester = anpr_policy::config::Limit {
                max: 2,
                window_minutes: 60,
            }
        })
        .await;
    let privacy = s.login("privacy").await;
    let (st, r) = subject_access(&s, &privacy, &ask("ABC123", "PA-5")).await;
    assert_eq!(st, 429, "{r}");
}

/// The red team's supervisor reading every district's use: a supervisor's usage report covers
/// their own district, whatever the grouping; overseers see the country.
#[tokio::test]
async fn a_supervisors_usage_report_covers_only_their_district() {
    let s = start().await;
    seed(&s).await;
    // A searcher in Canterbury, on a Canterbury file: two searches there.
    s.state
        .store
        .create_user(anpr_store::NewUser {
            staff_id: "cant".into(),
            name: "Canterbury searcher".into(),
            badge_number: None,
            district: "Canterbury".into(),
            roles: vec![anpr_domain::Role::Searcher],
            password_hash: anpr_app::auth::hash_secret(PASSWORD).unwrap(),
            network_id: None,
        })
        .await
        .unwrap();
    import(
        &s.state,
        anpr_store::RegisterBatch::Staff(vec![anpr_policy::registers::StaffRecord {
            staff_id: "cant".into(),
            person_id: "P-cant".into(),
            home_address_id: "A-cant".into(),
            team: None,
        }]),
    )
    .await;
    let cant = s.login("cant").await;
    for plate in ["ABC123", "ZZZ999"] {
        let r = s
            .search(
                &cant,
                json!({"plate": plate, "purpose": purpose_of("serious_crime", CANTERBURY_FILE)}),
            )
            .await;
        assert_eq!(r.status(), 200);
    }
    let path = format!("/api/v1/reports/usage?{}", range());
    let auditor = s.login("auditor").await;
    let r = s.get_json(format!("{path}&by=district"), &auditor).await;
    let groups: std::collections::BTreeSet<&str> = r["rows"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| row["group"].as_str().unwrap())
        .collect();
    assert!(
        groups.contains("Canterbury") && groups.contains("Waikato"),
        "{r}"
    );
    assert_eq!(r["totals"]["searches"], 4, "{r}");

    let supervisor = s.login("supervisor").await;
    for by in ["month", "district", "purpose", "network"] {
        let r = s.get_json(format!("{path}&by={by}"), &supervisor).await;
        assert_eq!(r["totals"]["searches"], 2, "by {by}: {r}");
        assert!(!r.to_string().contains("Canterbury"), "by {by}: {r}");
        assert!(!r.to_string().contains("serious_crime"), "by {by}: {r}");
        assert_eq!(r["districts"], json!(["Waikato"]), "by {by}: {r}");
    }
    let r = s.get_json(format!("{path}&by=district"), &supervisor).await;
    assert!(
        r["rows"]
            .as_array()
            .unwrap()
            .iter()
            .all(|row| row["group"] == "Waikato"),
        "{r}"
    );
    let resp = s
        .http
        .get(s.url(&format!("{path}&by=district&format=csv")))
        .bearer_auth(&supervisor)
        .send()
        .await
        .unwrap();
    let csv = resp.text().await.unwrap();
    assert!(!csv.contains("Canterbury"), "{csv}");
}

/// The report states the signed tree head its figures were counted from, in JSON and HTML; the
/// ledger downloaded through the API (as an auditor) recomputes it, and a changed count, or a
/// changed entry, does not verify.
#[tokio::test]
async fn transparency_report_states_its_tree_head_and_verifies_from_the_ledger() {
    let s = start().await;
    seed(&s).await;
    let auditor = s.login("auditor").await;
    let path = format!("/api/v1/reports/transparency?month={}", this_month());
    let r = s.get_json(&path, &auditor).await;
    let src = &r["computed_from"];
    let size = src["size"].as_u64().unwrap();
    assert!(size > 0, "{r}");
    assert_eq!(src["tree_head"]["size"], size, "{r}");
    assert_eq!(src["tree_head"]["root_hash"], src["root_hash"]);
    assert!(src["checkpoint"]
        .as_str()
        .unwrap()
        .contains(&format!("\n{size}\n")));
    assert!(
        r["notes"].to_string().contains("signed audit ledger"),
        "{r}"
    );
    let html = s
        .http
        .get(s.url(&format!("{path}&format=html")))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(
        html.contains("Signed tree head of the audit ledger"),
        "{html}"
    );
    // That page was made later (after the JSON's own ledger entry): a later head.
    assert!(
        html.contains(&format!("<strong>{}</strong> entries, root hash", size + 1)),
        "{html}"
    );

    // The auditor's download: every entry up to the head, through the entries API.
    let mut entries: Vec<anpr_ledger::StoredEntry> = Vec::new();
    while (entries.len() as u64) < size {
        let page: Vec<anpr_ledger::StoredEntry> = serde_json::from_value(
            s.get_json(
                format!("/api/v1/ledger/entries?from={}&to={size}", entries.len()),
                &auditor,
            )
            .await,
        )
        .unwrap();
        assert!(!page.is_empty());
        entries.extend(page);
    }
    let key = s.state.ledger.public_key();
    let verify = |report: &Value, entries: &[anpr_ledger::StoredEntry]| {
        anpr_app::ledger_counts::verify_report(anpr_app::ledger_counts::VerifyInput {
            report,
            entries,
            public_key: Some(&key),
        })
    };
    let checked = verify(&r, &entries).unwrap();
    assert!(
        checked.contains("signed by the deployment's key"),
        "{checked}"
    );

    // A changed count fails, naming it.
    let mut changed = r.clone();
    changed["national"]["searches"] = json!(12);
    let why = verify(&changed, &entries).unwrap_err();
    assert!(
        why.iter().any(|w| w.contains("national, Searches")),
        "{why:?}"
    );
    let mut changed = r.clone();
    let last = changed["trend"].as_array().unwrap().len() - 1;
    changed["trend"][last]["figures"]["own_vehicle_blocks"] = json!(0);
    assert!(verify(&changed, &entries).is_err());
    // So does a changed entry, or a download short of the head.
    let mut altered = entries.clone();
    altered[0].body = altered[0].body.replacen("\"id\":\"", "\"id\":\"X", 1);
    assert!(verify(&r, &altered).unwrap_err()[0].contains("hash"));
    assert!(verify(&r, &entries[..entries.len() - 1]).is_err());
}

//! Integrity monitoring end to end on the real server: what the server records for the rules,
//! a run over the ledger opening cases, and the review workflow with every step in the ledger.

mod common;

use common::*;
use serde_json::{json, Value};

async fn ledger_events(s: &TestServer, auditor: &str) -> Vec<Value> {
    let size = s.state.ledger.size();
    let entries = s
        .get_json(format!("/api/v1/ledger/entries?from=0&to={size}"), auditor)
        .await;
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["body"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn own_vehicle_search_and_self_recorded_stolen_report_become_cases_worked_through_review() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    let tracker = s.login("tracker").await;
    let integrity = s.login("integrity").await;
    let supervisor = s.login("supervisor").await;
    let auditor = s.login("auditor").await;

    // A car the tracker reported stolen themselves, as its complainant: the marks of a false
    // report (a report they only took from its owner is honest work, and no finding).
    const SELF_REPORTED: &str = "SLF123";
    import(
        &s.state,
        anpr_store::RegisterBatch::Vehicles(vec![vehicle(SELF_REPORTED, "P-owner9", "A-owner9")]),
    )
    .await;
    import(
        &s.state,
        anpr_store::RegisterBatch::Stolen(vec![stolen(SELF_REPORTED, "tracker", "P-tracker")]),
    )
    .await;

    // What the server records: a refused own-vehicle search carries its refusal code; a
    // search names the age of the newest sighting it showed; a tracking request its
    // authorisation, basis and stolen report.
    s.ingest(
        "/api/v1/reads",
        &json!({"plate": "INT123", "captured_at": now_rfc3339(50), "confidence": 0.9}),
    )
    .await;
    assert_eq!(
        s.search(&searcher, json!({"plate": SEARCHER_CAR}))
            .await
            .status(),
        403
    );
    assert_eq!(
        s.search(&searcher, json!({"plate": "INT123"}))
            .await
            .status(),
        200
    );
    let (status, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": SELF_REPORTED, "purpose": purpose()})),
        )
        .await;
    assert_eq!(status, 201, "{auth}");
    let events = ledger_events(&s, &auditor).await;
    let refused = events
        .iter()
        .find(|e| e["query"]["plate"] == SEARCHER_CAR)
        .expect("the refused search is in the ledger");
    assert_eq!(refused["query"]["refusal_code"], "own_vehicle");
    let found = events
        .iter()
        .find(|e| e["query"]["plate"] == "INT123")
        .unwrap();
    let age = found["query"]["newest_result_age_s"].as_i64().unwrap();
    assert!((2900..3200).contains(&age), "{age}");
    let track = events
        .iter()
        .find(|e| e["action"] == "tracking_request")
        .unwrap();
    assert_eq!(track["query"]["authorisation_id"], auth["id"]);
    assert_eq!(track["query"]["basis"], "stolen_vehicle");
    assert!(track["query"]["stolen_entry_id"].is_i64());

    // Only the integrity unit runs the rules.
    let (status, _) = s
        .call(
            "POST",
            "/api/v1/integrity/runs",
            Some(&searcher),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 403);
    let (status, report) = s
        .call(
            "POST",
            "/api/v1/integrity/runs",
            Some(&integrity),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200, "{report}");
    assert_eq!(report["findings"]["own_vehicle"], 1, "{report}");
    assert_eq!(report["findings"]["stolen_report"], 1, "{report}");
    assert!(report["cases_opened"].as_u64().unwrap() >= 2);

    // The queue: the integrity unit sees both; a supervisor sees no suspicion; staff see none.
    let cases = s
        .get_json(
            "/api/v1/integrity/cases?queue=integrity&status=open",
            &integrity,
        )
        .await;
    let cases = cases.as_array().unwrap();
    let own = cases
        .iter()
        .find(|c| c["finding"]["rule"] == "own_vehicle")
        .unwrap();
    assert_eq!(own["staff_id"], "searcher");
    assert_eq!(own["finding"]["key"], SEARCHER_CAR);
    assert!(own["finding"]["explanation"]
        .as_str()
        .unwrap()
        .contains("registered to them"));
    let stolen = cases
        .iter()
        .find(|c| c["finding"]["rule"] == "stolen_report")
        .unwrap();
    assert_eq!(stolen["staff_id"], "tracker");
    assert!(stolen["finding"]["explanation"]
        .as_str()
        .unwrap()
        .contains("themselves"));
    let id = own["id"].as_i64().unwrap();
    let sup_cases = s.get_json("/api/v1/integrity/cases", &supervisor).await;
    assert!(sup_cases
        .as_array()
        .unwrap()
        .iter()
        .all(|c| c["queue"] == "supervisor"));
    let (status, _) = s
        .call("GET", "/api/v1/integrity/cases", Some(&searcher), None)
        .await;
    assert_eq!(status, 403);
    let (status, _) = s
        .call(
            "GET",
            &format!("/api/v1/integrity/cases/{id}"),
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        s.get_json("/api/v1/integrity/my-cases", &searcher).await,
        json!([])
    );

    // Assign, ask, explain, close.
    let path = |step: &str| format!("/api/v1/integrity/cases/{id}/{step}");
    let (status, body) = s
        .call(
            "POST",
            &path("assign"),
            Some(&integrity),
            Some(&json!({"to": "searcher"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, case) = s
        .call(
            "POST",
            &path("assign"),
            Some(&integrity),
            Some(&json!({"to": "integrity"})),
        )
        .await;
    assert_eq!(
        (status, case["status"].clone()),
        (200, json!("assigned")),
        "{case}"
    );
    let (status, body) = s
        .call(
            "POST",
            &format!("/api/v1/integrity/my-cases/{id}/explanation"),
            Some(&searcher),
            Some(&json!({"text": "too early"})),
        )
        .await;
    assert_eq!(status, 404, "{body}");
    let (status, case) = s
        .call(
            "POST",
            &path("request-explanation"),
            Some(&integrity),
            Some(&json!({"question": "Why did you search your own car?"})),
        )
        .await;
    assert_eq!(
        (status, case["status"].clone()),
        (200, json!("explanation_requested"))
    );
    let mine = s.get_json("/api/v1/integrity/my-cases", &searcher).await;
    assert_eq!(mine.as_array().unwrap().len(), 1);
    let (status, _) = s
        .call(
            "POST",
            &format!("/api/v1/integrity/my-cases/{id}/explanation"),
            Some(&tracker),
            Some(&json!({"text": "not my case"})),
        )
        .await;
    assert_eq!(status, 404);
    let (status, case) = s
        .call(
            "POST",
            &format!("/api/v1/integrity/my-cases/{id}/explanation"),
            Some(&searcher),
            Some(&json!({"text": "I wanted to know where my partner had been."})),
        )
        .await;
    assert_eq!((status, case["status"].clone()), (200, json!("explained")));
    let (status, body) = s
        .call(
            "POST",
            &path("close"),
            Some(&integrity),
            Some(&json!({"outcome": "sacked", "note": "x"})),
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, case) = s
        .call(
            "POST",
            &path("close"),
            Some(&integrity),
            Some(&json!({"outcome": "misconduct_referral", "note": "Personal use; referred."})),
        )
        .await;
    assert_eq!(
        (status, case["outcome"].clone()),
        (200, json!("misconduct_referral"))
    );
    let (status, _) = s
        .call(
            "POST",
            &path("close"),
            Some(&integrity),
            Some(&json!({"outcome": "explained", "note": "again"})),
        )
        .await;
    assert_eq!(status, 409);

    // Every step is a ledger entry naming the case; the free text stays out of the ledger.
    let events = ledger_events(&s, &auditor).await;
    for step in ["assign", "request_explanation", "explain", "close"] {
        assert!(
            events.iter().any(|e| e["action"]
                == if step == "explain" {
                    "integrity_explanation"
                } else {
                    "integrity_case_change"
                }
                && e["query"]["case_id"] == id
                && (step == "explain" || e["query"]["step"] == step)),
            "no ledger entry for {step}"
        );
    }
    assert!(!events.iter().any(|e| e.to_string().contains("my partner")));

    // A second run looks only at what is new: nothing more to open.
    let (status, report) = s
        .call(
            "POST",
            "/api/v1/integrity/runs",
            Some(&integrity),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(report["findings"].get("own_vehicle"), None, "{report}");
}

#[tokio::test]
async fn routine_samples_go_to_the_supervisors_of_the_district() {
    let mut config = anpr_server::ServerConfig::default();
    config.app.integrity.sampling.share = 1.0;
    let s = start_with(config).await;
    let searcher = s.login("searcher").await;
    let integrity = s.login("integrity").await;
    let supervisor = s.login("supervisor").await;
    assert_eq!(
        s.search(&searcher, json!({"plate": "ABC999"}))
            .await
            .status(),
        200
    );
    let (status, report) = s
        .call(
            "POST",
            "/api/v1/integrity/runs",
            Some(&integrity),
            Some(&json!({})),
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(report["findings"]["routine_sample"], 1, "{report}");
    let cases = s.get_json("/api/v1/integrity/cases", &supervisor).await;
    let cases = cases.as_array().unwrap();
    assert_eq!(cases.len(), 1);
    assert_eq!(
        (cases[0]["queue"].clone(), cases[0]["staff_id"].clone()),
        (json!("supervisor"), json!("searcher"))
    );
    let id = cases[0]["id"].as_i64().unwrap();
    let (status, case) = s
        .call(
            "POST",
            &format!("/api/v1/integrity/cases/{id}/close"),
            Some(&supervisor),
            Some(&json!({"outcome": "explained", "note": "Justification matches the file."})),
        )
        .await;
    assert_eq!((status, case["status"].clone()), (200, json!("closed")));
}

/// Separation of duties in the review queue: a case about a member of the integrity unit is
/// reviewed by another member, never by its subject (who sees it only as their own case, once
/// asked to explain).
#[tokio::test]
async fn nobody_reviews_a_case_about_themselves() {
    let s = start().await;
    s.state
        .store
        .create_user(anpr_store::NewUser {
            staff_id: "integrity2".into(),
            name: "Second reviewer".into(),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![anpr_domain::Role::Integrity],
            password_hash: anpr_app::auth::hash_secret(PASSWORD).unwrap(),
            network_id: None,
        })
        .await
        .unwrap();
    let now = chrono::Utc::now();
    s.state
        .cases
        .save_findings(
            vec![anpr_integrity::Finding {
                rule: anpr_integrity::Rule::OwnVehicle,
                severity: anpr_integrity::Severity::High,
                staff_id: "integrity".into(),
                key: "ZZZ111".into(),
                evidence: vec![0],
                uses: 1,
                explanation: "a vehicle registered to them".into(),
                first_at: now,
                last_at: now,
            }],
            now,
        )
        .await
        .unwrap();
    let subject = s.login("integrity").await;
    let other = s.login("integrity2").await;
    let theirs = s.get_json("/api/v1/integrity/cases", &other).await;
    let id = theirs
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["staff_id"] == "integrity")
        .expect("another reviewer sees the case")["id"]
        .as_i64()
        .unwrap();

    let listed = s.get_json("/api/v1/integrity/cases", &subject).await;
    assert!(
        !listed
            .as_array()
            .unwrap()
            .iter()
            .any(|c| c["staff_id"] == "integrity"),
        "{listed}"
    );
    let path = |step: &str| format!("/api/v1/integrity/cases/{id}/{step}");
    for (method, p, body) in [
        ("GET", format!("/api/v1/integrity/cases/{id}"), None),
        (
            "POST",
            path("close"),
            Some(json!({"outcome": "explained", "note": "Nothing to see here."})),
        ),
        ("POST", path("assign"), Some(json!({"to": "integrity"}))),
    ] {
        let (st, r) = s.call(method, &p, Some(&subject), body.as_ref()).await;
        assert_eq!(st, 404, "{method} {p}: {r}");
    }
    // Nor may it be handed to them.
    let (st, r) = s
        .call(
            "POST",
            &path("assign"),
            Some(&other),
            Some(&json!({"to": "integrity"})),
        )
        .await;
    assert_eq!(st, 422, "{r}");
    let (st, r) = s
        .call(
            "POST",
            &path("request-explanation"),
            Some(&other),
            Some(&json!({"question": "Why did you look up that car?"})),
        )
        .await;
    assert_eq!(st, 200, "{r}");
    let mine = s.get_json("/api/v1/integrity/my-cases", &subject).await;
    assert_eq!(mine.as_array().unwrap().len(), 1, "{mine}");

    // Every look at the cases is a recorded decision.
    let decisions = s.state.store.decisions(None, 100).await.unwrap();
    assert!(decisions.iter().any(
        |d| d.action == anpr_policy::DecisionAction::ViewIntegrityCases
            && d.target.as_deref() == Some(&*format!("case {id}"))
    ));
}

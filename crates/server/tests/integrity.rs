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
    assert_eq!(
        own["staff_name"], "Test searcher",
        "the reviewer reads who it is about by name"
    );
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
    assert_eq!(case["assigned_to_name"], "Test integrity");
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

/// Misuse that goes around the queries — through approvals, accounts, registers, read ids and
/// subject access — tried through the API as an insider would, is recorded with the facts the
/// rules need and found by the next run.
#[tokio::test]
async fn misuse_through_duties_tried_through_the_api_is_found() {
    let s = start().await;
    let admin = s.login("admin").await;
    let integrity = s.login("integrity").await;
    let post = |path: &'static str, token: String, body: Value| {
        let s = &s;
        async move { s.call("POST", path, Some(&token), Some(&body)).await }
    };
    let account = |id: &str, roles: Value| {
        json!({"staff_id": id, "name": format!("Officer {id}"), "district": "Waikato",
               "roles": roles, "password": PASSWORD})
    };
    let staff_row = |id: &str| {
        json!({"staff_id": id, "person_id": format!("P-{id}"),
               "home_address_id": format!("A-{id}"), "team": "Team Hamilton"})
    };

    // 1. An administrator sets up an account, enters one stolen report by hand minutes after it
    //    was "reported", and the account tracks the car on it.
    let (st, body) = post(
        "/api/v1/users",
        admin.clone(),
        account("recruit", json!(["searcher", "tracker"])),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let (st, body) = post(
        "/api/v1/registers/staff?source=hand",
        admin.clone(),
        json!([staff_row("recruit"), staff_row("suptrack")]),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = post(
        "/api/v1/registers/vehicles?source=hand",
        admin.clone(),
        json!([{"plate": "EXP123", "owner_person_id": "P-ex", "owner_address_id": "A-ex"},
               {"plate": "PRV123", "owner_person_id": "P-privacy", "owner_address_id": "A-privacy"}]),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let (st, body) = post(
        "/api/v1/registers/stolen?source=hand",
        admin.clone(),
        json!([{"plate": "EXP123", "file_number": THEFT_FILE, "reported_at": now_rfc3339(20),
                "complainant_person_id": "P-ex", "recorded_by_staff_id": "admin",
                "status": "active"}]),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    let recruit = s.login("recruit").await;
    let (st, body) = post(
        "/api/v1/tracking",
        recruit,
        json!({"plate": "EXP123", "purpose": purpose()}),
    )
    .await;
    assert_eq!(st, 201, "{body}");

    // 2. A supervisor who may also track approves their own request.
    let (st, body) = post(
        "/api/v1/users",
        admin.clone(),
        account("suptrack", json!(["searcher", "tracker", "supervisor"])),
    )
    .await;
    assert_eq!(st, 201, "{body}");
    let suptrack = s.login("suptrack").await;
    let (st, request) = post(
        "/api/v1/tracking",
        suptrack.clone(),
        json!({"plate": STOLEN_ODD, "purpose": purpose()}),
    )
    .await;
    assert_eq!(
        (st, request["status"].as_str()),
        (201, Some("pending")),
        "{request}"
    );
    let path = format!("/api/v1/tracking/{}/approve", request["id"]);
    let (st, body) = s
        .call(
            "POST",
            &path,
            Some(&suptrack),
            Some(&json!({"reason": "urgent: the vehicle is on the move"})),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("conflict_of_duty")),
        "{body}"
    );

    // 3. Reads asked for by id, one after another, never shown to the searcher.
    let searcher = s.login("searcher").await;
    for id in 4_000..4_006 {
        let (st, _) = s
            .call(
                "GET",
                &format!("/api/v1/reads/{id}?{}", purpose_query()),
                Some(&searcher),
                None,
            )
            .await;
        assert_ne!(st, 200);
    }

    // 4. A privacy officer tries to answer a subject access request about their own car (the
    //    policy refuses it; the attempt is what the rule judges).
    let privacy = s.login("privacy").await;
    let (st, body) = post(
        "/api/v1/reports/subject-access",
        privacy,
        json!({"plate": "PRV123", "reference": "SAR-2026-9",
               "identity_checked": {"method": "passport", "by": "privacy"}}),
    )
    .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("own_vehicle")),
        "{body}"
    );

    let (st, report) = post("/api/v1/integrity/runs", integrity.clone(), json!({})).await;
    assert_eq!(st, 200, "{report}");
    let cases = s
        .get_json(
            "/api/v1/integrity/cases?queue=integrity&status=open",
            &integrity,
        )
        .await;
    let about = |rule: &str| -> Vec<(String, String)> {
        cases
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["finding"]["rule"] == rule)
            .map(|c| {
                (
                    c["finding"]["staff_id"].as_str().unwrap().to_string(),
                    c["finding"]["explanation"].as_str().unwrap().to_string(),
                )
            })
            .collect()
    };
    // Both accounts were set up by the administrator just before they tracked, just after
    // the load by hand: both trackings are the administrator's finding (the recruit's with
    // the report entered for the occasion too).
    let staged = about("staged_tracking");
    assert_eq!(staged.len(), 2, "{cases}");
    assert!(staged.iter().all(|(who, _)| who == "admin"), "{cases}");
    let recruit = staged
        .iter()
        .find(|(_, why)| why.contains("by recruit"))
        .unwrap();
    assert!(recruit.1.contains("set up by admin"), "{}", recruit.1);
    assert!(
        recruit.1.contains("recorded 20 minutes before that load"),
        "{}",
        recruit.1
    );
    let approvals = about("approval_conflict");
    assert_eq!(approvals.len(), 1, "{cases}");
    assert_eq!(approvals[0].0, "suptrack");
    let walks = about("read_enumeration");
    assert_eq!(walks.len(), 1, "{cases}");
    assert_eq!(walks[0].0, "searcher");
    let own = about("own_vehicle");
    assert!(
        own.iter()
            .any(|(who, why)| who == "privacy" && why.starts_with("Subject access request")),
        "{cases}"
    );
}

//! An insider red team's holes, reproduced through the real HTTP server: read ids enumerated
//! one by one, legal holds placed without a purpose or a decision, and a tracked car's path
//! handed to overseers with neither.

mod common;

use anpr_domain::{GeoPoint, SiteKind};
use anpr_store::{NewCamera, NewSite};
use common::*;
use serde_json::{json, Value};
use std::time::Duration;

fn base64_jpeg() -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(jpeg(64, 32))
}

/// A purpose as query parameters, for read and image views.
fn pq(code: &str, file: &str) -> String {
    format!(
        "purpose_code={code}&file_number={}&justification=Needed%20for%20the%20investigation%20under%20this%20file",
        file.replace('/', "%2F")
    )
}

/// Ingests `reads` through `key` and returns their ids, in order.
async fn ingest_with(s: &TestServer, key: &str, reads: Vec<Value>) -> Vec<i64> {
    let resp = s
        .http
        .post(s.url("/api/v1/reads:batch"))
        .bearer_auth(key)
        .json(&json!({ "reads": reads }))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    let v: Value = resp.json().await.unwrap();
    v["reads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect()
}

fn read(plate: &str, minutes_ago: i64) -> Value {
    json!({"plate": plate, "captured_at": now_rfc3339(minutes_ago), "confidence": 0.9,
           "plate_image": base64_jpeg()})
}

/// A camera of a second network, whose agreement shares nothing with Waikato.
async fn other_network_camera(s: &TestServer) -> String {
    let net = s.state.store.create_network("Elsewhere", 60).await.unwrap();
    let site = s
        .state
        .store
        .create_site(NewSite {
            network_id: net.id,
            name: "Forecourt Riccarton".into(),
            kind: SiteKind::FuelStation,
            address: "Riccarton Rd, Christchurch".into(),
            location: GeoPoint::new(-43.53, 172.6).unwrap(),
            district: "Canterbury".into(),
        })
        .await
        .unwrap();
    s.state
        .store
        .set_network_agreement(anpr_policy::registers::NetworkAgreement {
            network_id: net.id,
            search: vec!["Canterbury".into()],
            tracking: vec![],
            hot_list_alerts: false,
        })
        .await
        .unwrap();
    let (_, key) = anpr_app::catalog::provision_camera(
        &s.state,
        NewCamera {
            site_id: site.id,
            name: "pump 3".into(),
            heading_deg: None,
        },
    )
    .await
    .unwrap();
    key
}

async fn get(s: &TestServer, path: &str, token: &str) -> (u16, Value) {
    s.call("GET", path, Some(token), None).await
}

/// The answer as the caller sees it: status, code and message.
fn answer(r: &(u16, Value)) -> (u16, String, String) {
    (
        r.0,
        r.1["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
        r.1["error"]["message"]
            .as_str()
            .unwrap_or_default()
            .to_string(),
    )
}

#[tokio::test]
async fn read_ids_cannot_be_enumerated_and_refusals_tell_nothing_about_the_read() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    let tracker = s.login("tracker").await;
    let ids = ingest_with(
        &s,
        &s.camera_key.clone(),
        vec![
            read("ABC123", 100),
            read("ZZZ999", 100),
            read("ABC123", 2),
            read(HOUSEHOLD_CAR, 100),
            read("TEST01", 100),
        ],
    )
    .await;
    let (shown, never_shown, near_live, household, training) =
        (ids[0], ids[1], ids[2], ids[3], ids[4]);
    let other_key = other_network_camera(&s).await;
    let other_net = ingest_with(&s, &other_key, vec![read("ABC123", 90)]).await[0];

    // The search shows one read: the near-live one is withheld, the other network not searched.
    let page: Value = s
        .search(&searcher, json!({"plate": "ABC123"}))
        .await
        .json()
        .await
        .unwrap();
    let hits: Vec<i64> = page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    assert_eq!(hits, vec![shown], "{page}");

    // What was shown opens, under the purpose and file it was shown under.
    let theft = purpose_query();
    let (st, body) = get(&s, &format!("/api/v1/reads/{shown}?{theft}"), &searcher).await;
    assert_eq!(
        (st, body["plate"].as_str()),
        (200, Some("ABC123")),
        "{body}"
    );
    let image = s
        .http
        .get(s.url(&format!("/api/v1/reads/{shown}/image/plate?{theft}")))
        .bearer_auth(&searcher)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);

    // Nothing else does, and every refusal is the same answer: an unknown id, a read never
    // shown, a near-live read, a connected vehicle's, another network's, a training plate's,
    // a training sighting's negative id, the shown read under another file, and the shown
    // read asked for by someone it was not shown to.
    let homicide = pq("serious_crime", HOMICIDE_FILE);
    let attempts: Vec<(String, &str)> = vec![
        (format!("/api/v1/reads/{never_shown}?{theft}"), &searcher),
        (format!("/api/v1/reads/999999?{theft}"), &searcher),
        (format!("/api/v1/reads/{near_live}?{theft}"), &searcher),
        (format!("/api/v1/reads/{household}?{theft}"), &searcher),
        (format!("/api/v1/reads/{other_net}?{theft}"), &searcher),
        (format!("/api/v1/reads/{training}?{theft}"), &searcher),
        (format!("/api/v1/reads/-1?{theft}"), &searcher),
        (format!("/api/v1/reads/{shown}?{homicide}"), &searcher),
        (format!("/api/v1/reads/{shown}?{theft}"), &tracker),
        (
            format!("/api/v1/reads/{never_shown}/image/plate?{theft}"),
            &searcher,
        ),
        (
            format!("/api/v1/reads/{household}/image/overview?{theft}"),
            &searcher,
        ),
        (
            format!("/api/v1/reads/999999/image/plate?{theft}"),
            &searcher,
        ),
    ];
    let mut answers = Vec::new();
    for (path, token) in &attempts {
        let r = get(&s, path, token).await;
        answers.push((path.clone(), answer(&r)));
    }
    let first = answers[0].1.clone();
    assert_eq!(first.0, 404, "{answers:?}");
    assert_eq!(first.1, "read_not_available", "{answers:?}");
    for (path, a) in &answers {
        assert_eq!(
            a, &first,
            "{path}: the answer differs, so it tells about the read"
        );
        for plate in ["ABC123", "ZZZ999", HOUSEHOLD_CAR, "TEST01"] {
            assert!(!a.2.contains(plate), "{path}: names {plate}: {}", a.2);
        }
    }

    // Walking the ids one by one finds only what was shown.
    let mut opened = Vec::new();
    for id in 1..=other_net + 3 {
        let (st, _) = get(&s, &format!("/api/v1/reads/{id}?{theft}"), &searcher).await;
        if st == 200 {
            opened.push(id);
        }
    }
    assert_eq!(opened, vec![shown]);

    // Every attempt is a recorded, refused decision.
    let refused = s
        .state
        .store
        .decisions(None, 500)
        .await
        .unwrap()
        .into_iter()
        .filter(|d| {
            let v = serde_json::to_value(d).unwrap();
            v["refusal_code"] == "read_not_available"
        })
        .count();
    assert!(refused >= attempts.len(), "{refused} refusals recorded");
}

#[tokio::test]
async fn an_alert_delivered_or_listed_counts_as_shown_under_its_authorisations_purpose() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    let (st, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!((st, &auth["status"]), (201, &json!("active")), "{auth}");
    let key = s.camera_key.clone();
    let first = ingest_with(&s, &key, vec![read(STOLEN_CLEAN, 0)]).await[0];
    let theft = purpose_query();
    let path = format!("/api/v1/reads/{first}?{theft}");

    // Raised but not yet delivered to the tracker: not shown, so not opened by id.
    assert_eq!(get(&s, &path, &tracker).await.0, 404);

    // Delivered on the stream: opens under the authorisation's purpose and file only.
    let mut stream = SseClient::connect(&s, &tracker, Some(0)).await;
    let (_, alert) = stream.expect().await;
    assert_eq!(alert["read_id"], first);
    let (st, body) = get(&s, &path, &tracker).await;
    assert_eq!(st, 200, "{body}");
    let homicide = pq("serious_crime", HOMICIDE_FILE);
    assert_eq!(
        get(&s, &format!("/api/v1/reads/{first}?{homicide}"), &tracker)
            .await
            .0,
        404
    );

    // Listed: the same.
    drop(stream);
    let second = ingest_with(&s, &key, vec![read(STOLEN_CLEAN, 0)]).await[0];
    tokio::time::sleep(Duration::from_millis(200)).await;
    let second_path = format!("/api/v1/reads/{second}/image/plate?{theft}");
    assert_eq!(get(&s, &second_path, &tracker).await.0, 404);
    let (st, list) = get(&s, "/api/v1/alerts", &tracker).await;
    assert_eq!(st, 200);
    assert_eq!(list["alerts"].as_array().unwrap().len(), 2, "{list}");
    let image = s
        .http
        .get(s.url(&second_path))
        .bearer_auth(&tracker)
        .send()
        .await
        .unwrap();
    assert_eq!(image.status(), 200);
}

#[tokio::test]
async fn a_legal_hold_is_a_decided_use_with_a_purpose() {
    let s = start().await;
    let supervisor = s.login("supervisor").await;
    let searcher = s.login("searcher").await;
    let key = s.camera_key.clone();
    let id = ingest_with(&s, &key, vec![read("HLD222", 24 * 60)]).await[0];
    let path = format!("/api/v1/reads/{id}/legal-hold");
    let hold = |purpose: Option<Value>| {
        let mut b = json!({"hold": true, "reason": "Court file CRI-2026-123"});
        if let Some(p) = purpose {
            b["purpose"] = p;
        }
        b
    };

    // The attack: no purpose, no decision. Now refused, and the refusal recorded.
    let (st, body) = s
        .call("PUT", &path, Some(&supervisor), Some(&hold(None)))
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (422, Some("invalid_purpose")),
        "{body}"
    );
    assert!(!s.state.store.read(id).await.unwrap().unwrap().legal_hold);

    // A file the supervisor has nothing to do with; the wrong role; an unknown read.
    let (st, body) = s
        .call(
            "PUT",
            &path,
            Some(&supervisor),
            Some(&hold(Some(purpose_of("serious_crime", CANTERBURY_FILE)))),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("file_not_yours")),
        "{body}"
    );
    let (st, body) = s
        .call("PUT", &path, Some(&searcher), Some(&hold(Some(purpose()))))
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (403, Some("missing_permission")),
        "{body}"
    );
    let (st, body) = s
        .call(
            "PUT",
            "/api/v1/reads/999999/legal-hold",
            Some(&supervisor),
            Some(&hold(Some(purpose()))),
        )
        .await;
    assert_eq!(
        (st, body["error"]["code"].as_str()),
        (404, Some("read_not_available")),
        "{body}"
    );
    // Too short a reason.
    let mut short = hold(Some(purpose()));
    short["reason"] = json!("court");
    let (st, body) = s.call("PUT", &path, Some(&supervisor), Some(&short)).await;
    assert_eq!(
        (st, body["error"]["field"].as_str()),
        (422, Some("reason")),
        "{body}"
    );

    // With its purpose: held, and the decision names the file and the reason.
    let (st, body) = s
        .call(
            "PUT",
            &path,
            Some(&supervisor),
            Some(&hold(Some(purpose()))),
        )
        .await;
    assert_eq!(st, 204, "{body}");
    assert!(s.state.store.read(id).await.unwrap().unwrap().legal_hold);
    let decisions: Vec<Value> = s
        .state
        .store
        .decisions(None, 100)
        .await
        .unwrap()
        .iter()
        .map(|d| serde_json::to_value(d).unwrap())
        .filter(|d| d["action"] == "legal_hold")
        .collect();
    let granted: Vec<&Value> = decisions
        .iter()
        .filter(|d| d["outcome"] == "allowed")
        .collect();
    assert_eq!(granted.len(), 1, "{decisions:?}");
    assert_eq!(granted[0]["file_number"], THEFT_FILE);
    assert_eq!(granted[0]["purpose_code"], "stolen_vehicle");
    assert!(granted[0]["basis"]
        .as_str()
        .unwrap()
        .contains("CRI-2026-123"));
    assert_eq!(
        decisions
            .iter()
            .filter(|d| d["outcome"] == "refused")
            .count(),
        5,
        "{decisions:?}"
    );
    // The ledger entry carries the purpose.
    let entries = s.state.ledger.entries(0, s.state.ledger.size()).unwrap();
    assert!(entries
        .iter()
        .any(|e| e.body.contains("legal_hold") && e.body.contains(THEFT_FILE)));

    // Released the same way.
    let mut release = hold(Some(purpose()));
    release["hold"] = json!(false);
    release["reason"] = json!("The court released the exhibit");
    assert_eq!(
        s.call("PUT", &path, Some(&supervisor), Some(&release))
            .await
            .0,
        204
    );
    assert!(!s.state.store.read(id).await.unwrap().unwrap().legal_hold);
}

#[tokio::test]
async fn overseers_see_how_many_sightings_not_where_unless_a_case_gives_a_reason() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    let supervisor = s.login("supervisor").await;
    let auditor = s.login("auditor").await;
    let integrity = s.login("integrity").await;
    let (st, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!(st, 201, "{auth}");
    let auth_id = auth["id"].as_i64().unwrap();
    let key = s.camera_key.clone();
    let read_id = ingest_with(&s, &key, vec![read(STOLEN_CLEAN, 0)]).await[0];
    let path = format!("/api/v1/tracking/{auth_id}/sightings");

    // The attack: overseers got the path with neither purpose nor decision. Now how many
    // sightings, not where.
    for who in [&auditor, &integrity] {
        let (st, body) = get(&s, &path, who).await;
        assert_eq!(st, 200, "{body}");
        assert!(body["sightings"].as_array().unwrap().is_empty(), "{body}");
        assert!(!body.to_string().contains("Te Rapa"), "{body}");
        assert_eq!(body["count"], 1, "{body}");
        assert_eq!(body["path_withheld"], true, "{body}");
    }
    // Those the tracking is for: the path.
    for who in [&tracker, &supervisor] {
        let (st, body) = get(&s, &path, who).await;
        assert_eq!(st, 200, "{body}");
        assert_eq!(body["sightings"][0]["read_id"], read_id, "{body}");
        assert_eq!(
            (body["count"].as_u64(), &body["path_withheld"]),
            (Some(1), &json!(false))
        );
    }
    // Each look is a decision: the path under the authorisation's purpose and file.
    let decisions = || async {
        s.state
            .store
            .decisions(None, 200)
            .await
            .unwrap()
            .iter()
            .map(|d| serde_json::to_value(d).unwrap())
            .filter(|d| d["action"] == "view_sightings")
            .collect::<Vec<Value>>()
    };
    let seen = decisions().await;
    assert_eq!(seen.len(), 4, "{seen:?}");
    for d in &seen {
        match d["actor"].as_str().unwrap() {
            "staff:tracker" | "staff:supervisor" => {
                assert_eq!(d["outcome"], "allowed", "{d}");
                assert_eq!(d["purpose_code"], "stolen_vehicle", "{d}");
                assert_eq!(d["file_number"], THEFT_FILE, "{d}");
            }
            _ => assert_eq!(d["outcome"], "allowed_with_limits", "{d}"),
        }
        assert_eq!(d["authorisation_id"], auth_id, "{d}");
    }

    // An integrity case about the requester gives the integrity unit a reason, named in the
    // decision; not the auditor, and not once the case is closed.
    let now = chrono::Utc::now();
    s.state
        .cases
        .save_findings(
            vec![anpr_integrity::Finding {
                rule: anpr_integrity::Rule::RenewalChain,
                severity: anpr_integrity::Severity::High,
                staff_id: "tracker".into(),
                key: format!("chain:{auth_id}"),
                evidence: vec![1],
                uses: 1,
                explanation: "Renewed past the limits".into(),
                first_at: now,
                last_at: now,
            }],
            now,
        )
        .await
        .unwrap();
    let (_, body) = get(&s, &path, &integrity).await;
    assert_eq!(body["sightings"][0]["read_id"], read_id, "{body}");
    let (_, body) = get(&s, &path, &auditor).await;
    assert_eq!(body["path_withheld"], true, "{body}");
    let by_integrity: Vec<Value> = decisions()
        .await
        .into_iter()
        .filter(|d| d["actor"] == "staff:integrity" && d["outcome"] == "allowed")
        .collect();
    assert_eq!(by_integrity.len(), 1);
    assert!(by_integrity[0]["basis"]
        .as_str()
        .unwrap()
        .contains("integrity case #"));
    let case = s
        .state
        .cases
        .cases(anpr_store::CaseFilter {
            staff_id: Some("tracker".into()),
            limit: 10,
            ..Default::default()
        })
        .await
        .unwrap()
        .remove(0);
    let mut closed = case.clone();
    closed.status = anpr_integrity::review::CaseStatus::Closed;
    closed.outcome = Some(anpr_integrity::review::CaseOutcome::Explained);
    closed.closed_at = Some(now);
    s.state
        .cases
        .update_case(closed, case.status)
        .await
        .unwrap();
    let (_, body) = get(&s, &path, &integrity).await;
    assert_eq!(body["path_withheld"], true, "{body}");

    // Someone who may not see the authorisation is not told it exists.
    let searcher = s.login("searcher").await;
    assert_eq!(get(&s, &path, &searcher).await.0, 404);
}

//! The access policy end to end through the HTTP API: each rule, its refusal and its record.

mod common;

use anpr_domain::Role;
use anpr_policy::registers::{IncidentRecord, StaffRecord};
use anpr_policy::{DecisionOutcome, MemoryRecorder};
use anpr_server::ServerConfig;
use anpr_store::{NewUser, RegisterBatch};
use common::*;
use serde_json::{json, Value};
use std::sync::Arc;

async fn read_at(s: &TestServer, plate: &str, minutes_ago: i64) -> i64 {
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": plate, "captured_at": now_rfc3339(minutes_ago), "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn search(s: &TestServer, token: &str, body: Value) -> (u16, Value) {
    let mut body = body;
    if body.get("purpose").is_none() {
        body["purpose"] = purpose();
    }
    s.call("POST", "/api/v1/searches", Some(token), Some(&body))
        .await
}

fn code(v: &Value) -> &str {
    v["error"]["code"].as_str().unwrap_or_default()
}

/// Adds a user with a staff-register entry.
async fn add_user(s: &TestServer, staff_id: &str, district: &str, roles: &[Role]) -> String {
    s.state
        .store
        .create_user(NewUser {
            staff_id: staff_id.into(),
            name: staff_id.into(),
            badge_number: None,
            district: district.into(),
            roles: roles.to_vec(),
            password_hash: anpr_app::auth::hash_secret(PASSWORD).unwrap(),
            network_id: None,
        })
        .await
        .unwrap();
    import(
        &s.state,
        RegisterBatch::Staff(vec![StaffRecord {
            staff_id: staff_id.into(),
            person_id: format!("P-{staff_id}"),
            home_address_id: format!("A-{staff_id}"),
            team: None,
        }]),
    )
    .await;
    s.login(staff_id).await
}

#[tokio::test]
async fn own_and_household_vehicles_are_refused_and_the_refusal_is_recorded() {
    let s = start().await;
    read_at(&s, SEARCHER_CAR, 45).await;
    let t = s.login("searcher").await;
    for plate in [SEARCHER_CAR, HOUSEHOLD_CAR] {
        let (st, body) = search(&s, &t, json!({"plate": plate})).await;
        assert_eq!(st, 403, "{body}");
        assert_eq!(code(&body), "own_vehicle");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(msg.contains("ask another officer"), "{msg}");
    }
    let me = s.state.store.users().await.unwrap();
    let searcher = me.iter().find(|u| u.staff_id == "searcher").unwrap();
    let decisions = s
        .state
        .store
        .decisions(Some(searcher.id), 10)
        .await
        .unwrap();
    assert_eq!(decisions.len(), 2);
    assert!(decisions
        .iter()
        .all(|d| d.outcome == DecisionOutcome::Refused
            && d.refusal_code.as_deref() == Some("own_vehicle")
            && d.file_number.as_deref() == Some(THEFT_FILE)));
    // Another officer may search it.
    let (st, body) = search(
        &s,
        &s.login("tracker").await,
        json!({"plate": SEARCHER_CAR}),
    )
    .await;
    assert_eq!((st, body["total"].as_u64()), (200, Some(1)), "{body}");
    // A pattern matching one's own car leaves it out, and says so.
    let (st, body) = search(&s, &t, json!({"plate": "OWN12*"})).await;
    assert_eq!(st, 200);
    assert_eq!(body["total"], 0);
    assert!(body["policy"]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .any(|n| n["code"] == "connected_vehicles_excluded"));
}

#[tokio::test]
async fn file_numbers_and_purposes_are_checked_and_sql_metacharacters_are_data() {
    let s = start().await;
    let t = s.login("searcher").await;
    for (p, status, expected, field) in [
        (
            purpose_of("stolen_vehicle", "999999/1"),
            422,
            "unknown_file_number",
            "purpose.file_number",
        ),
        (
            purpose_of("stolen_vehicle", CLOSED_FILE),
            403,
            "file_closed",
            "purpose.file_number",
        ),
        (
            purpose_of("serious_crime", CANTERBURY_FILE),
            403,
            "file_not_yours",
            "purpose.file_number",
        ),
        (
            purpose_of("road_policing", THEFT_FILE),
            422,
            "purpose_mismatch",
            "purpose.code",
        ),
        (
            purpose_of("curiosity", THEFT_FILE),
            422,
            "unknown_purpose",
            "purpose.code",
        ),
        (
            purpose_of("stolen_vehicle", "1'; DROP TABLE users; --"),
            422,
            "unknown_file_number",
            "purpose.file_number",
        ),
    ] {
        let (st, body) = search(&s, &t, json!({"plate": "ABC123", "purpose": p})).await;
        assert_eq!(st, status, "{p} {body}");
        assert_eq!(code(&body), expected, "{body}");
        assert_eq!(body["error"]["field"], field, "{body}");
    }
    // Metacharacters in the justification and the pattern: data, stored verbatim.
    let evil = "Robert'); DROP TABLE decisions; -- \" OR 1=1";
    let (st, _) = search(
        &s,
        &t,
        json!({"plate": "ABC123", "purpose": {"code": "stolen_vehicle", "file_number": THEFT_FILE,
               "justification": evil}}),
    )
    .await;
    assert_eq!(st, 200);
    let (st, body) = search(&s, &t, json!({"plate": "AB'; --"})).await;
    assert_eq!((st, body["error"]["field"].as_str()), (422, Some("plate")));
    let all = s.state.store.decisions(None, 100).await.unwrap();
    assert!(all.iter().any(|d| d.justification.as_deref() == Some(evil)));
    assert_eq!(s.state.store.users().await.unwrap().len(), USERS.len());
    s.login("searcher").await;
}

#[tokio::test]
async fn training_plates_return_synthetic_sightings_marked_training() {
    let s = start().await;
    let t = s.login("searcher").await;
    let (st, body) = search(
        &s,
        &t,
        json!({"plate": "TEST01", "purpose": purpose_of("stolen_vehicle", "TRAINING-EXERCISE")}),
    )
    .await;
    assert_eq!(st, 200, "{body}");
    assert_eq!(body["policy"]["training"], true);
    let hits = body["hits"].as_array().unwrap();
    assert!(hits.len() >= 6);
    assert!(hits.iter().all(|h| h["id"].as_i64().unwrap() < 0
        && h["plate"] == "TEST01"
        && h["network_name"].as_str().unwrap().starts_with("TRAINING")));
    assert_eq!(s.read_count().await, 0, "nothing real was touched");
    let d = &s.state.store.decisions(None, 1).await.unwrap()[0];
    assert!(d.training);
    assert_eq!(d.outcome, DecisionOutcome::Allowed);
    // The tier still applies.
    let (st, _) = search(&s, &s.login("supervisor").await, json!({"plate": "TEST01"})).await;
    assert_eq!(st, 403);
}

#[tokio::test]
async fn near_live_results_need_a_tracking_authorisation_which_stops_when_the_report_is_cancelled()
{
    let s = start().await;
    let recent = read_at(&s, STOLEN_CLEAN, 5).await;
    read_at(&s, STOLEN_CLEAN, 45).await;
    let searcher = s.login("searcher").await;
    let (st, body) = search(&s, &searcher, json!({"plate": STOLEN_CLEAN})).await;
    assert_eq!(st, 200);
    assert_eq!(body["total"], 1, "the 5-minute-old read is withheld");
    let notice = body["policy"]["notices"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["code"] == "near_live_withheld")
        .expect("the user is told why")
        .clone();
    assert!(notice["message"].as_str().unwrap().contains("30 minutes"));
    // Withheld from the search, it was never shown, so it is not opened by id either (with
    // the one answer that says nothing about the read).
    let view = format!("/api/v1/reads/{recent}?{}", purpose_query());
    let (st, body) = s.call("GET", &view, Some(&searcher), None).await;
    assert_eq!((st, code(&body)), (404, "read_not_available"));

    // The tracker's tracking authorisation (stolen basis, clean report) lets near-live through.
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
    let (_, body) = search(&s, &tracker, json!({"plate": STOLEN_CLEAN})).await;
    assert_eq!(body["total"], 2);
    assert_eq!(body["policy"]["authorisation_id"], auth["id"]);
    assert_eq!(s.call("GET", &view, Some(&tracker), None).await.0, 200);

    // The stolen report is cancelled through the admin API: tracking stops by itself.
    let admin = s.login("admin").await;
    let csv = format!(
        "plate,file_number,reported_at,complainant_person_id,recorded_by_staff_id,status,cancelled_at\n\
         {STOLEN_CLEAN},{THEFT_FILE},{},P-owner2,S-OTHER,cancelled,{}\n",
        now_rfc3339(3 * 24 * 60),
        now_rfc3339(0)
    );
    let resp = s
        .http
        .post(s.url("/api/v1/registers/stolen?source=NIA%20feed"))
        .bearer_auth(&admin)
        .header("content-type", "text/csv")
        .body(csv)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    let report: Value = resp.json().await.unwrap();
    assert_eq!(report["stopped"][0]["id"], auth["id"]);
    let (_, now) = s
        .call(
            "GET",
            &format!("/api/v1/tracking/{}", auth["id"]),
            Some(&tracker),
            None,
        )
        .await;
    assert_eq!(now["status"], "stopped");
    assert!(now["end_reason"].as_str().unwrap().contains("cancelled"));
    let (_, body) = search(&s, &tracker, json!({"plate": STOLEN_CLEAN})).await;
    assert_eq!(body["total"], 1);
    assert_eq!(s.call("GET", &view, Some(&tracker), None).await.0, 403);
}

#[tokio::test]
async fn tracking_requests_are_checked_against_the_registers() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    let track = |plate: &str, p: Value| json!({"plate": plate, "purpose": p});
    // A user whose own car is reported stolen cannot track it.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track(TRACKER_CAR, purpose())),
        )
        .await;
    assert_eq!((st, code(&body)), (403, "own_vehicle"), "{body}");
    // A stolen report recorded by the requester needs approval.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track(STOLEN_BY_TRACKER, purpose())),
        )
        .await;
    assert_eq!((st, body["status"].as_str()), (201, Some("pending")));
    assert!(body["approval_reasons"][0]
        .as_str()
        .unwrap()
        .contains("recorded by you"));
    // The supervisor deciding it reads who recorded the report, and the file's incident type.
    let waiting_id = body["id"].clone();
    let supervisor = s.login("supervisor").await;
    let (st, queue) = s
        .call(
            "GET",
            "/api/v1/tracking?queue=true",
            Some(&supervisor),
            None,
        )
        .await;
    assert_eq!(st, 200, "{queue}");
    let waiting = queue
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["id"] == waiting_id)
        .unwrap_or_else(|| panic!("not in the queue: {queue:#}"));
    let reason = waiting["reasons_for_reviewer"][0].as_str().unwrap();
    assert!(
        reason.contains("recorded by the requester, tracker (") && !reason.contains("you"),
        "{reason}"
    );
    assert_eq!(waiting["incident_type"], "vehicle_theft");
    assert!(waiting["requester_name"].is_string());
    assert!(waiting["approval_reasons"][0]
        .as_str()
        .unwrap()
        .contains("recorded by you"));
    // So does one whose complainant is not the owner.
    let (_, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track(STOLEN_ODD, purpose())),
        )
        .await;
    assert!(body["approval_reasons"][0]
        .as_str()
        .unwrap()
        .contains("not the registered owner"));
    // No stolen report at all: no basis.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&track("ABC123", purpose())),
        )
        .await;
    assert_eq!((st, code(&body)), (403, "no_tracking_basis"));
    // Longer than the basis allows.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(
                &json!({"plate": STOLEN_CLEAN, "purpose": purpose(), "duration_minutes": 49 * 60}),
            ),
        )
        .await;
    assert_eq!(
        (st, body["error"]["field"].as_str()),
        (422, Some("duration_minutes"))
    );
}

#[tokio::test]
async fn approvals_need_a_different_supervisor_of_the_district() {
    let s = start().await;
    let both = add_user(
        &s,
        "suptrack",
        "Waikato",
        &[Role::Supervisor, Role::Tracker],
    )
    .await;
    let far = add_user(&s, "farsup", "Canterbury", &[Role::Supervisor]).await;
    let sup = s.login("supervisor").await;
    let sup2 = s.login("supervisor2").await;
    let (st, a) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&both),
            Some(
                &json!({"plate": "ABC123", "purpose": purpose_of("serious_crime", HOMICIDE_FILE)}),
            ),
        )
        .await;
    assert_eq!((st, a["status"].as_str()), (201, Some("pending")), "{a}");
    let id = a["id"].as_i64().unwrap();
    // The approval queue of another supervisor of the district holds it; the requester's not.
    let (_, queue) = s
        .call("GET", "/api/v1/tracking?queue=true", Some(&sup), None)
        .await;
    assert!(queue.as_array().unwrap().iter().any(|q| q["id"] == id));
    let (_, own_queue) = s
        .call("GET", "/api/v1/tracking?queue=true", Some(&both), None)
        .await;
    assert!(!own_queue.as_array().unwrap().iter().any(|q| q["id"] == id));
    let reason = json!({"reason": "Suspect vehicle in the homicide; file reviewed"});
    let approve = format!("/api/v1/tracking/{id}/approve");
    let (st, body) = s.call("POST", &approve, Some(&both), Some(&reason)).await;
    assert_eq!(
        (st, code(&body)),
        (403, "conflict_of_duty"),
        "an approver cannot approve their own request"
    );
    let (st, body) = s.call("POST", &approve, Some(&far), Some(&reason)).await;
    assert_eq!((st, code(&body)), (403, "wrong_district"));
    let (st, body) = s
        .call("POST", &approve, Some(&sup), Some(&json!({"reason": "ok"})))
        .await;
    assert_eq!((st, body["error"]["field"].as_str()), (422, Some("reason")));
    let (st, body) = s.call("POST", &approve, Some(&sup), Some(&reason)).await;
    assert_eq!(
        (st, body["status"].as_str()),
        (200, Some("active")),
        "{body}"
    );
    assert_eq!(body["decided_by_staff_id"], "supervisor");
    let (st, body) = s.call("POST", &approve, Some(&sup2), Some(&reason)).await;
    assert_eq!((st, code(&body)), (409, "invalid_state"));
    // Renewal: a fresh request, always needing approval.
    let (st, renewal) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&both),
            Some(
                &json!({"plate": "ABC123", "purpose": purpose_of("serious_crime", HOMICIDE_FILE),
                         "renews": id}),
            ),
        )
        .await;
    assert_eq!(
        (st, renewal["status"].as_str()),
        (201, Some("pending")),
        "{renewal}"
    );
    assert_eq!(renewal["renews"], id);
}

#[tokio::test]
async fn emergency_tracking_and_expiry() {
    let s = start().await;
    import(
        &s.state,
        RegisterBatch::Incidents(vec![IncidentRecord {
            file_number: "260101/3000".into(),
            incident_type: "threat_to_life".into(),
            district: "Waikato".into(),
            opened_at: chrono::Utc::now() - chrono::Duration::hours(2),
            closed_at: None,
            assigned_staff: vec![],
        }]),
    )
    .await;
    let tracker = s.login("tracker").await;
    // A routine request waits first; the emergency asked after it still comes first in the
    // supervisor's queue: it already runs, and stops unless approved in time.
    let (st, routine) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(
                &json!({"plate": "ZZZ111", "purpose": purpose_of("serious_crime", HOMICIDE_FILE)}),
            ),
        )
        .await;
    assert_eq!(
        (st, routine["status"].as_str()),
        (201, Some("pending")),
        "{routine}"
    );
    let (st, a) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": "ABC123", "emergency": true,
                         "purpose": purpose_of("threat_to_life", "260101/3000")})),
        )
        .await;
    assert_eq!((st, a["status"].as_str()), (201, Some("active")), "{a}");
    assert!(a["approval_deadline"].is_string());
    let supervisor = s.login("supervisor").await;
    let queue = s.get_json("/api/v1/tracking?queue=true", &supervisor).await;
    let ids: Vec<&Value> = queue.as_array().unwrap().iter().map(|q| &q["id"]).collect();
    assert_eq!(
        ids,
        [&a["id"], &routine["id"]],
        "emergencies first: {queue:#}"
    );
    assert_eq!(queue[0]["incident_type"], "threat_to_life");
    assert_eq!(queue[1]["incident_type"], "homicide");
    // The emergency path is for threats to life only.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": "ZZZ999", "emergency": true,
                         "purpose": purpose_of("serious_crime", HOMICIDE_FILE)})),
        )
        .await;
    assert_eq!(
        (st, body["error"]["field"].as_str()),
        (422, Some("emergency"))
    );
    // An hour passes without approval: it stops by itself, and the end is recorded.
    let mut stored = s
        .state
        .store
        .authorisation(a["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    stored.approval_deadline = Some(chrono::Utc::now() - chrono::Duration::minutes(1));
    s.state
        .store
        .update_authorisation(stored.clone(), stored.status)
        .await
        .unwrap();
    let ended = anpr_app::access::sweep(&s.state).await.unwrap();
    assert_eq!(ended, 1);
    let (_, now) = s
        .call(
            "GET",
            &format!("/api/v1/tracking/{}", a["id"]),
            Some(&tracker),
            None,
        )
        .await;
    assert_eq!(now["status"], "stopped");
    assert!(now["end_reason"]
        .as_str()
        .unwrap()
        .contains("not approved within 60 minutes"));
    let decisions = s.state.store.decisions(None, 10).await.unwrap();
    let end = decisions
        .iter()
        .find(|d| d.actor == "system:authorisations")
        .expect("the end is recorded");
    assert_eq!(end.authorisation_id, a["id"].as_i64());
    assert_eq!(end.action, anpr_policy::DecisionAction::TrackingEnd);
    // An authorisation past its end expires.
    let (_, b) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    let mut stored = s
        .state
        .store
        .authorisation(b["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    stored.expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    s.state
        .store
        .update_authorisation(stored.clone(), stored.status)
        .await
        .unwrap();
    let (_, list) = s
        .call("GET", "/api/v1/tracking", Some(&tracker), None)
        .await;
    let listed = list
        .as_array()
        .unwrap()
        .iter()
        .find(|x| x["id"] == b["id"])
        .unwrap()
        .clone();
    assert_eq!(listed["status"], "expired");
}

#[tokio::test]
async fn older_data_needs_an_approved_lookback() {
    let s = start().await;
    // A network that keeps reads for a year, so that reads older than the routine window
    // exist at all.
    s.state
        .store
        .create_network("Long-retention network", 365)
        .await
        .unwrap();
    read_at(&s, "ABC123", 100 * 24 * 60).await;
    read_at(&s, "ABC123", 24 * 60).await;
    let t = s.login("searcher").await;
    let old = now_rfc3339(120 * 24 * 60);
    let (st, body) = search(&s, &t, json!({"plate": "ABC123", "from": old})).await;
    assert_eq!(
        (st, code(&body)),
        (403, "lookback_needs_approval"),
        "{body}"
    );
    let (_, body) = search(&s, &t, json!({"plate": "ABC123"})).await;
    assert_eq!(body["total"], 1, "a routine search reaches back 60 days");
    let (st, look) = s
        .call(
            "POST",
            "/api/v1/lookback",
            Some(&t),
            Some(&json!({"plate": "ABC123", "from": old, "purpose": purpose()})),
        )
        .await;
    assert_eq!(
        (st, look["status"].as_str()),
        (201, Some("pending")),
        "{look}"
    );
    let sup = s.login("supervisor").await;
    let (st, _) = s
        .call(
            "POST",
            &format!("/api/v1/lookback/{}/approve", look["id"]),
            Some(&sup),
            Some(&json!({"reason": "Pattern of thefts since last year"})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, body) = search(&s, &t, json!({"plate": "ABC123", "from": old})).await;
    assert_eq!((st, body["total"].as_u64()), (200, Some(2)), "{body}");
    assert_eq!(body["policy"]["authorisation_id"], look["id"]);
}

#[tokio::test]
async fn rate_limits_answer_429() {
    let mut config = ServerConfig::default();
    config.app.policy.rate_limits.per_purpose_default.max = 2;
    let s = start_with(config).await;
    let t = s.login("searcher").await;
    for _ in 0..2 {
        assert_eq!(search(&s, &t, json!({"plate": "ABC123"})).await.0, 200);
    }
    let (st, body) = search(&s, &t, json!({"plate": "ABC123"})).await;
    assert_eq!((st, code(&body)), (429, "rate_limited"));
    assert!(body["error"]["message"]
        .as_str()
        .unwrap()
        .contains("under the purpose stolen vehicle"));
}

#[tokio::test]
async fn a_justification_must_give_a_reason_in_words() {
    let s = start().await;
    let t = s.login("searcher").await;
    for filler in ["....................", "test test test test test"] {
        let mut body = json!({"plate": "ABC123"});
        body["purpose"] = purpose();
        body["purpose"]["justification"] = json!(filler);
        let (st, body) = search(&s, &t, body).await;
        assert_eq!(st, 422, "{filler}: {body}");
        assert_eq!(body["error"]["field"], "purpose.justification", "{body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("in words"),
            "{body}"
        );
    }
}

#[tokio::test]
async fn rate_limits_count_what_was_recorded_not_what_one_process_remembers() {
    let mut config = ServerConfig::default();
    config.app.policy.rate_limits.per_purpose_default.max = 2;
    let s = start_with(config).await;
    let t = s.login("searcher").await;
    for _ in 0..2 {
        assert_eq!(search(&s, &t, json!({"plate": "ABC123"})).await.0, 200);
    }
    // A restarted server (or another one, or the command line) counts the same searches.
    let s = s
        .restart_with(|c| c.app.policy.rate_limits.per_purpose_default.max = 2)
        .await;
    let t = s.login("searcher").await;
    let (st, body) = search(&s, &t, json!({"plate": "ABC123"})).await;
    assert_eq!((st, code(&body)), (429, "rate_limited"), "{body}");
}

#[tokio::test]
async fn a_disabled_users_sessions_stop_at_once() {
    let s = start().await;
    let t = s.login("searcher").await;
    assert_eq!(
        s.call("GET", "/api/v1/auth/me", Some(&t), None).await.0,
        200
    );
    s.state
        .store
        .set_user_active("searcher", false)
        .await
        .unwrap();
    assert_eq!(
        s.call("GET", "/api/v1/auth/me", Some(&t), None).await.0,
        401
    );
    assert_eq!(search(&s, &t, json!({"plate": "ABC123"})).await.0, 401);
}

#[tokio::test]
async fn nothing_is_returned_when_the_decision_cannot_be_recorded() {
    let recorder = Arc::new(MemoryRecorder::default());
    recorder
        .fail
        .store(true, std::sync::atomic::Ordering::SeqCst);
    let r = recorder.clone();
    let s = start_custom(ServerConfig::default(), move |state| state.app.recorder = r).await;
    read_at(&s, "ABC123", 45).await;
    let (st, body) = search(&s, &s.login("searcher").await, json!({"plate": "ABC123"})).await;
    assert_eq!(st, 503, "{body}");
    assert!(body.get("hits").is_none());
    recorder
        .fail
        .store(false, std::sync::atomic::Ordering::SeqCst);
    let (st, _) = search(&s, &s.login("searcher").await, json!({"plate": "ABC123"})).await;
    assert_eq!(st, 200);
    assert_eq!(recorder.all().len(), 1);
}

#[tokio::test]
async fn registers_and_agreements_are_admin_only() {
    let s = start().await;
    let admin = s.login("admin").await;
    let searcher = s.login("searcher").await;
    let rows =
        json!([{"plate": "NEW123", "owner_person_id": "P-searcher", "owner_address_id": "A-x"}]);
    let path = "/api/v1/registers/vehicles?source=officer";
    assert_eq!(
        s.call("POST", path, Some(&searcher), Some(&rows)).await.0,
        403
    );
    let (st, report) = s
        .call(
            "POST",
            "/api/v1/registers/vehicles?source=nzta",
            Some(&admin),
            Some(&rows),
        )
        .await;
    assert_eq!(
        (st, report["inserted"].as_u64()),
        (200, Some(1)),
        "{report}"
    );
    // Now registered to the searcher: blocked at once.
    let (st, body) = search(&s, &searcher, json!({"plate": "NEW123"})).await;
    assert_eq!((st, code(&body)), (403, "own_vehicle"));
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/registers/vehicles?source=x",
            Some(&admin),
            Some(&json!([{"plate": "🚗"}])),
        )
        .await;
    assert_eq!(st, 422, "{body}");
    let (st, _) = s
        .call(
            "POST",
            "/api/v1/registers/planets?source=x",
            Some(&admin),
            Some(&rows),
        )
        .await;
    assert_eq!(st, 404);
    // A network that no longer shares with Waikato is not searched.
    let (st, _) = s
        .call(
            "PUT",
            &format!("/api/v1/networks/{}/agreement", s.network_id),
            Some(&admin),
            Some(&json!({"search": ["Canterbury"], "tracking": []})),
        )
        .await;
    assert_eq!(st, 200);
    let (st, body) = search(&s, &searcher, json!({"plate": "ABC123"})).await;
    assert_eq!((st, code(&body)), (403, "no_network_agreement"));
}

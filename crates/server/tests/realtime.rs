//! Real-time tracking end to end: watches from approved authorisations, alerts over a real
//! Server-Sent Events connection, resume with `Last-Event-ID`, and restart.

mod common;

use common::*;
use serde_json::{json, Value};
use std::time::Duration;

/// Ingests one read of `plate` seen now; returns its id.
async fn sighting(s: &TestServer, plate: &str) -> i64 {
    let resp = s
        .ingest(
            "/api/v1/reads",
            &json!({"plate": plate, "captured_at": now_rfc3339(0), "confidence": 0.9}),
        )
        .await;
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn track(s: &TestServer, token: &str, plate: &str, purpose: Value) -> Value {
    let (st, a) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(token),
            Some(&json!({"plate": plate, "purpose": purpose})),
        )
        .await;
    assert_eq!(st, 201, "{a}");
    a
}

fn quiet() -> Duration {
    Duration::from_millis(400)
}

#[tokio::test]
async fn an_alert_reaches_the_requester_and_district_supervisors_and_no_one_else() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    let supervisor = s.login("supervisor").await;
    let searcher = s.login("searcher").await;
    let integrity = s.login("integrity").await;
    let auth = track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    assert_eq!(auth["status"], "active");
    let auth_id = auth["id"].as_i64().unwrap();

    let mut to_tracker = SseClient::connect(&s, &tracker, None).await;
    let mut to_supervisor = SseClient::connect(&s, &supervisor, None).await;
    let mut to_searcher = SseClient::connect(&s, &searcher, None).await;
    let mut to_integrity = SseClient::connect(&s, &integrity, None).await;

    sighting(&s, "ZZZ111").await;
    let read_id = sighting(&s, STOLEN_CLEAN).await;
    let (id, alert) = to_tracker.expect().await;
    assert_eq!(alert["authorisation_id"], auth_id);
    assert_eq!(alert["read_id"], read_id);
    assert_eq!(alert["plate"], STOLEN_CLEAN);
    assert_eq!(alert["site_name"], "Fuel stop Te Rapa");
    assert!(alert["location"]["lat"].as_f64().is_some());
    assert_eq!(alert["id"], id);
    let (sup_id, _) = to_supervisor.expect().await;
    assert_eq!(sup_id, id);
    assert!(to_searcher.next(quiet()).await.is_none());
    assert!(to_integrity.next(quiet()).await.is_none());

    // Listing, acknowledgement: another officer's alert is not found.
    let (st, list) = s.call("GET", "/api/v1/alerts", Some(&tracker), None).await;
    assert_eq!((st, list["alerts"].as_array().unwrap().len()), (200, 1));
    let (_, list) = s.call("GET", "/api/v1/alerts", Some(&searcher), None).await;
    assert!(list["alerts"].as_array().unwrap().is_empty());
    let ack = format!("/api/v1/alerts/{id}/ack");
    assert_eq!(s.call("POST", &ack, Some(&searcher), None).await.0, 404);
    let (st, acked) = s.call("POST", &ack, Some(&tracker), None).await;
    assert_eq!(
        (st, acked["acked_by_staff_id"].as_str()),
        (200, Some("tracker"))
    );

    // The track: sightings of the watch, for those who may see the authorisation only.
    let path = format!("/api/v1/tracking/{auth_id}/sightings");
    let (st, track) = s.call("GET", &path, Some(&tracker), None).await;
    assert_eq!(st, 200, "{track}");
    assert_eq!(track["sightings"][0]["read_id"], read_id);
    assert_eq!(s.call("GET", &path, Some(&searcher), None).await.0, 404);

    // No token: 401. Each delivery and the acknowledgement are in the ledger.
    let resp = s
        .http
        .get(s.url("/api/v1/alerts/stream"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 401);
    let entries = s.state.ledger.entries(0, s.state.ledger.size()).unwrap();
    let count = |what: &str| entries.iter().filter(|e| e.body.contains(what)).count();
    assert_eq!(count("\"alert_delivered\""), 2);
    assert_eq!(
        count("\"alert_ack\""),
        2,
        "the refused and the granted acknowledgement"
    );
}

#[tokio::test]
async fn approval_starts_a_watch_and_revocation_cancellation_and_expiry_stop_it() {
    let s = start_with(anpr_server::ServerConfig {
        app: anpr_server::AppConfig {
            authorisation_sweep_interval: Duration::from_millis(100),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let tracker = s.login("tracker").await;
    let supervisor = s.login("supervisor").await;
    let admin = s.login("admin").await;
    let mut alerts = SseClient::connect(&s, &tracker, None).await;

    // A serious-crime request waits for a supervisor: no alerts until approved.
    let homicide = purpose_of("serious_crime", HOMICIDE_FILE);
    let revoked = track(&s, &tracker, "REV123", homicide.clone()).await;
    let expiring = track(&s, &tracker, "EXP123", homicide).await;
    assert_eq!(revoked["status"], "pending");
    sighting(&s, "REV123").await;
    assert!(alerts.next(quiet()).await.is_none());
    let reason = json!({"reason": "Checked the file and the report"});
    for a in [&revoked, &expiring] {
        let path = format!("/api/v1/tracking/{}/approve", a["id"]);
        let (st, body) = s
            .call("POST", &path, Some(&supervisor), Some(&reason))
            .await;
        assert_eq!(
            (st, body["status"].as_str()),
            (200, Some("active")),
            "{body}"
        );
    }
    sighting(&s, "REV123").await;
    assert_eq!(alerts.expect().await.1["plate"], "REV123");
    let control = track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    assert_eq!(control["status"], "active");

    // Revoked: the plate is seen again, but the next alert is another watch's.
    let path = format!("/api/v1/tracking/{}/revoke", revoked["id"]);
    assert_eq!(
        s.call("POST", &path, Some(&tracker), Some(&reason)).await.0,
        200
    );
    sighting(&s, "REV123").await;
    sighting(&s, "EXP123").await;
    assert_eq!(alerts.expect().await.1["plate"], "EXP123");

    // Expired: its end is in the past; the sweep ends it and its watch with it.
    let mut a = s
        .state
        .store
        .authorisation(expiring["id"].as_i64().unwrap())
        .await
        .unwrap()
        .unwrap();
    a.expires_at = Some(chrono::Utc::now() - chrono::Duration::seconds(1));
    s.state
        .store
        .update_authorisation(a, anpr_policy::AuthStatus::Active)
        .await
        .unwrap();
    let path = format!("/api/v1/tracking/{}", expiring["id"]);
    for _ in 0..50 {
        let ended = s
            .state
            .store
            .authorisation(expiring["id"].as_i64().unwrap())
            .await;
        if ended.unwrap().unwrap().status == anpr_policy::AuthStatus::Expired {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        s.call("GET", &path, Some(&tracker), None).await.1["status"],
        "expired"
    );
    sighting(&s, "EXP123").await;
    sighting(&s, STOLEN_CLEAN).await;
    assert_eq!(alerts.expect().await.1["plate"], STOLEN_CLEAN);

    // Cancelled: the stolen report behind the control watch is cancelled through the API.
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
    sighting(&s, STOLEN_CLEAN).await;
    sighting(&s, "REV123").await;
    sighting(&s, "EXP123").await;
    assert!(alerts.next(quiet()).await.is_none());
    assert!(s.state.watches.is_empty());

    // In the ledger: the request that waited for a supervisor is `pending`, not `granted`, and
    // every end the platform made is a use of its own, by the system, with its reason.
    let size = s.state.ledger.size();
    let events: Vec<Value> = s
        .state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str(&e.body).unwrap())
        .collect();
    let request = events
        .iter()
        .find(|e| e["action"] == "tracking_request" && e["query"]["plate"] == "REV123")
        .expect("the tracking request is in the ledger");
    assert_eq!(request["outcome"]["result"], "pending", "{request}");
    for ended in [&expiring, &control] {
        let end = events
            .iter()
            .find(|e| {
                e["action"] == "tracking_end" && e["query"]["authorisation_id"] == ended["id"]
            })
            .unwrap_or_else(|| panic!("no ledger entry for the end of {}", ended["id"]));
        assert_eq!(end["actor"]["kind"], "system");
        assert_eq!(end["query"]["channel"], "system");
        assert!(end["query"]["end_reason"].as_str().is_some(), "{end}");
    }
}

#[tokio::test]
async fn a_client_resumes_with_last_event_id_and_watches_survive_a_restart() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    let mut alerts = SseClient::connect(&s, &tracker, None).await;
    sighting(&s, STOLEN_CLEAN).await;
    let (first, _) = alerts.expect().await;
    drop(alerts);

    // Missed while disconnected, delivered in order on reconnection, then live ones.
    let missed = [
        sighting(&s, STOLEN_CLEAN).await,
        sighting(&s, STOLEN_CLEAN).await,
    ];
    let mut alerts = SseClient::connect(&s, &tracker, Some(first)).await;
    let (a, one) = alerts.expect().await;
    let (b, two) = alerts.expect().await;
    assert!(first < a && a < b);
    assert_eq!(
        [
            one["read_id"].as_i64().unwrap(),
            two["read_id"].as_i64().unwrap()
        ],
        missed
    );
    sighting(&s, STOLEN_CLEAN).await;
    let (live, _) = alerts.expect().await;
    assert!(live > b);
    assert!(alerts.next(quiet()).await.is_none(), "nothing twice");
    // A supervisor's stream stays open across the shutdown: the server ends it, and so
    // the graceful shutdown does not wait for it.
    let mut open = SseClient::connect(&s, &s.login("supervisor").await, None).await;
    drop(alerts);

    // Raised while the officer is offline, then the server restarts.
    let offline = sighting(&s, STOLEN_CLEAN).await;
    open.next(Duration::from_secs(5))
        .await
        .expect("the supervisor's alert");
    let s = s.restart().await;
    assert!(open.ends_within(Duration::from_secs(5)).await);
    let mut alerts = SseClient::connect(&s, &tracker, Some(live)).await;
    assert_eq!(alerts.expect().await.1["read_id"], offline);
    assert_eq!(
        s.state.watches.len(),
        1,
        "the watch was loaded from the store"
    );
    let after_restart = sighting(&s, STOLEN_CLEAN).await;
    assert_eq!(alerts.expect().await.1["read_id"], after_restart);
}

#[tokio::test]
async fn a_fuzzy_watch_alerts_on_ocr_confusable_reads_and_an_exact_one_does_not() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    let homicide = purpose_of("serious_crime", HOMICIDE_FILE);
    let supervisor = s.login("supervisor").await;
    let reason = json!({"reason": "Checked the file and the report"});
    for (plate, fuzzy) in [("FUZ128", true), ("EXA128", false)] {
        let (st, a) = s
            .call(
                "POST",
                "/api/v1/tracking",
                Some(&tracker),
                Some(&json!({"plate": plate, "purpose": homicide, "fuzzy": fuzzy})),
            )
            .await;
        assert_eq!((st, a["fuzzy"].as_bool()), (201, Some(fuzzy)), "{a}");
        let path = format!("/api/v1/tracking/{}/approve", a["id"]);
        assert_eq!(
            s.call("POST", &path, Some(&supervisor), Some(&reason))
                .await
                .0,
            200
        );
    }
    let mut alerts = SseClient::connect(&s, &tracker, None).await;
    // 8/B and 2/Z are confusable: the fuzzy watch matches, the exact one does not.
    sighting(&s, "EXA12B").await;
    let read = sighting(&s, "FUZ1Z8").await;
    let (_, alert) = alerts.expect().await;
    assert_eq!(
        (alert["plate"].as_str(), alert["read_plate"].as_str()),
        (Some("FUZ128"), Some("FUZ1Z8"))
    );
    assert_eq!(alert["read_id"], read);
}

#[tokio::test]
async fn a_stream_stops_when_its_session_ends() {
    let s = start().await;
    let tracker = s.login("tracker").await;
    track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    let mut alerts = SseClient::connect(&s, &tracker, None).await;
    sighting(&s, STOLEN_CLEAN).await;
    alerts.expect().await;
    assert_eq!(
        s.call("POST", "/api/v1/auth/logout", Some(&tracker), None)
            .await
            .0,
        204
    );
    sighting(&s, STOLEN_CLEAN).await;
    assert!(alerts.next(Duration::from_secs(1)).await.is_none());
}

#[tokio::test]
async fn a_client_that_falls_behind_is_dropped_and_resumes_without_loss() {
    // A one-alert buffer: a burst of alerts overtakes any client.
    let s = start_with(anpr_server::ServerConfig {
        app: anpr_server::AppConfig {
            alert_client_buffer: 1,
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let tracker = s.login("tracker").await;
    track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    let mut alerts = SseClient::connect(&s, &tracker, None).await;
    let reads: Vec<Value> = (0..50)
        .map(|_| json!({"plate": STOLEN_CLEAN, "captured_at": now_rfc3339(0), "confidence": 0.9}))
        .collect();
    let resp = s
        .ingest("/api/v1/reads:batch", &json!({ "reads": reads }))
        .await;
    assert_eq!(resp.status(), 201, "ingestion does not wait for the client");
    // The client gets what it got before it was dropped, then the stream ends.
    let mut seen = Vec::new();
    while let Some((id, _)) = alerts.next(Duration::from_secs(5)).await {
        seen.push(id);
    }
    assert!(seen.len() < 50, "dropped after {} alerts", seen.len());
    // It resumes from the last id it saw and receives the rest, each once.
    let mut alerts =
        SseClient::connect(&s, &tracker, Some(seen.last().copied().unwrap_or(0))).await;
    while seen.len() < 50 {
        seen.push(alerts.expect().await.0);
    }
    let mut unique = seen.clone();
    unique.dedup();
    assert_eq!(unique.len(), 50);
}

#[tokio::test]
async fn changes_made_by_another_process_reach_the_watch_set() {
    let s = start_with(anpr_server::ServerConfig {
        app: anpr_server::AppConfig {
            authorisation_sweep_interval: Duration::from_millis(100),
            ..Default::default()
        },
        ..Default::default()
    })
    .await;
    let tracker = s.login("tracker").await;
    let auth = track(&s, &tracker, STOLEN_CLEAN, purpose()).await;
    let mut alerts = SseClient::connect(&s, &tracker, None).await;

    // Revoked in the store by another process: this one's in-memory watch still holds it, but
    // the match is checked against the store, so no alert is raised.
    let id = auth["id"].as_i64().unwrap();
    let mut a = s.state.store.authorisation(id).await.unwrap().unwrap();
    a.status = anpr_policy::AuthStatus::Revoked;
    a.ended_at = Some(chrono::Utc::now());
    s.state
        .store
        .update_authorisation(a.clone(), anpr_policy::AuthStatus::Active)
        .await
        .unwrap();
    sighting(&s, STOLEN_CLEAN).await;
    assert!(alerts.next(quiet()).await.is_none());
    assert!(s.state.watches.is_empty());

    // Started by another process: the next sweep adds its watch.
    let mut other = a;
    other.id = 0;
    other.status = anpr_policy::AuthStatus::Active;
    other.ended_at = None;
    let other = s.state.store.create_authorisation(other).await.unwrap();
    for _ in 0..50 {
        if !s.state.watches.is_empty() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    sighting(&s, STOLEN_CLEAN).await;
    assert_eq!(alerts.expect().await.1["authorisation_id"], other.id);
}

/// A camera network's own member of staff (`network_operator`) of `network`.
async fn operator(s: &TestServer, staff_id: &str, network: i64) -> String {
    s.state
        .store
        .create_user(anpr_store::NewUser {
            staff_id: staff_id.into(),
            name: format!("Operator {staff_id}"),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![anpr_domain::Role::NetworkOperator],
            password_hash: anpr_app::auth::hash_secret(PASSWORD).unwrap(),
            network_id: Some(network),
        })
        .await
        .unwrap();
    s.login(staff_id).await
}

#[tokio::test]
async fn hot_list_alerts_reach_the_networks_own_staff_only_when_its_agreement_allows() {
    let s = start().await;
    let admin = s.login("admin").await;
    let tracker = s.login("tracker").await;
    let here = operator(&s, "op-here", s.network_id).await;
    let other_network = s.state.store.create_network("Other", 30).await.unwrap();
    let elsewhere = operator(&s, "op-elsewhere", other_network.id).await;

    // Only an administrator loads it, from the stolen register's active reports.
    let (st, _) = s
        .call("POST", "/api/v1/hot-list", Some(&tracker), None)
        .await;
    assert_eq!(st, 403);
    let (st, list) = s.call("POST", "/api/v1/hot-list", Some(&admin), None).await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["plates"], 4, "{list}");
    let (_, summary) = s.call("GET", "/api/v1/hot-list", Some(&admin), None).await;
    assert_eq!(summary, list);

    // Off by default: a stolen car seen on the network alerts nobody.
    let mut to_here = SseClient::connect(&s, &here, None).await;
    let mut to_elsewhere = SseClient::connect(&s, &elsewhere, None).await;
    let mut to_tracker = SseClient::connect(&s, &tracker, None).await;
    sighting(&s, STOLEN_CLEAN).await;
    assert!(to_here.next(quiet()).await.is_none());

    let agreement = json!({"search": ["*"], "tracking": ["Waikato"], "hot_list_alerts": true});
    let path = format!("/api/v1/networks/{}/agreement", s.network_id);
    let (st, a) = s.call("PUT", &path, Some(&admin), Some(&agreement)).await;
    assert_eq!(st, 200, "{a}");
    assert_eq!(a["hot_list_alerts"], true);
    // Whom its staff call at the police: set by an administrator only, one short line.
    let contact = format!("/api/v1/networks/{}/police-contact", s.network_id);
    let desk = json!({"police_contact": "  Hamilton Police, 07 555 0100 "});
    let (st, _) = s.call("PUT", &contact, Some(&tracker), Some(&desk)).await;
    assert_eq!(st, 403);
    let long = json!({"police_contact": "x".repeat(301)});
    let (st, body) = s.call("PUT", &contact, Some(&admin), Some(&long)).await;
    assert_eq!(
        (st, &body["error"]["field"]),
        (422, &json!("police_contact")),
        "{body}"
    );
    let (st, _) = s
        .call(
            "PUT",
            "/api/v1/networks/999999/police-contact",
            Some(&admin),
            Some(&desk),
        )
        .await;
    assert_eq!(st, 404);
    let (st, network) = s.call("PUT", &contact, Some(&admin), Some(&desk)).await;
    assert_eq!(st, 200, "{network}");
    assert_eq!(network["police_contact"], "Hamilton Police, 07 555 0100");
    let networks = s.get_json("/api/v1/networks", &admin).await;
    assert_eq!(
        networks[0]["police_contact"],
        "Hamilton Police, 07 555 0100"
    );

    sighting(&s, "ZZZ999").await;
    let read_id = sighting(&s, STOLEN_CLEAN).await;
    let (id, alert) = to_here.expect().await;
    assert_eq!(alert["kind"], "hot_list");
    assert_eq!(alert["read_id"], read_id);
    assert_eq!(alert["plate"], STOLEN_CLEAN);
    assert_eq!(alert["site_name"], "Fuel stop Te Rapa");
    // Where exactly, and whom to call.
    assert_eq!(alert["site_address"], "Te Rapa Rd, Hamilton");
    assert_eq!(alert["police_contact"], "Hamilton Police, 07 555 0100");
    // "Vehicle of interest", nothing more: no images, no file, no owner, no complainant.
    assert_eq!(alert["images"], json!([]));
    let text = alert.to_string();
    for secret in [
        THEFT_FILE,
        "P-owner2",
        "S-OTHER",
        "complainant",
        "file_number",
    ] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    // Not to another network's staff, nor to police without a watch.
    assert!(to_elsewhere.next(quiet()).await.is_none());
    assert!(to_tracker.next(quiet()).await.is_none());
    let listed = s.get_json("/api/v1/alerts", &here).await;
    assert_eq!(listed["alerts"].as_array().unwrap().len(), 1, "{listed}");
    assert_eq!(listed["alerts"][0]["id"], id);
    let police = s.get_json("/api/v1/alerts", &tracker).await;
    assert_eq!(police["alerts"], json!([]), "{police}");
    let (st, _) = s
        .call(
            "POST",
            &format!("/api/v1/alerts/{id}/ack"),
            Some(&here),
            None,
        )
        .await;
    assert_eq!(st, 200);
    let (st, _) = s
        .call(
            "POST",
            &format!("/api/v1/alerts/{id}/ack"),
            Some(&elsewhere),
            None,
        )
        .await;
    assert_eq!(st, 404);

    // An operator is not police: no search, no tracking, no reads.
    assert_eq!(
        s.search(&here, json!({"plate": STOLEN_CLEAN}))
            .await
            .status(),
        403
    );
    let read = format!("/api/v1/reads/{read_id}?{}", purpose_query());
    let (st, _) = s.call("GET", &read, Some(&here), None).await;
    assert_eq!(st, 403);

    // A report cancelled after the load raises nothing, although the loaded list still has it.
    let mut cancelled = stolen(STOLEN_CLEAN, "S-OTHER", "P-owner2");
    cancelled.status = anpr_policy::registers::StolenStatus::Cancelled;
    cancelled.cancelled_at = Some(chrono::Utc::now());
    import(&s.state, anpr_store::RegisterBatch::Stolen(vec![cancelled])).await;
    sighting(&s, STOLEN_CLEAN).await;
    assert!(to_here.next(quiet()).await.is_none());
    // Another plate still on it still alerts.
    sighting(&s, STOLEN_ODD).await;
    assert_eq!(to_here.expect().await.1["plate"], STOLEN_ODD);

    // Switched off again: nothing more is raised.
    let off = json!({"search": ["*"], "tracking": ["Waikato"]});
    let (st, _) = s.call("PUT", &path, Some(&admin), Some(&off)).await;
    assert_eq!(st, 200);
    sighting(&s, STOLEN_ODD).await;
    assert!(to_here.next(quiet()).await.is_none());
    assert_eq!(
        s.get_json("/api/v1/alerts", &here).await["alerts"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
}

#[tokio::test]
async fn a_network_operator_needs_a_network_and_holds_no_other_role() {
    let s = start().await;
    let user = |roles: Vec<anpr_domain::Role>, network_id: Option<i64>| anpr_store::NewUser {
        staff_id: "op".into(),
        name: "Operator".into(),
        badge_number: None,
        district: "Waikato".into(),
        roles,
        password_hash: "x".into(),
        network_id,
    };
    use anpr_domain::Role;
    let store = &s.state.store;
    assert!(store
        .create_user(user(vec![Role::NetworkOperator], None))
        .await
        .is_err());
    assert!(store
        .create_user(user(vec![Role::Searcher], Some(s.network_id)))
        .await
        .is_err());
    assert!(store
        .create_user(user(
            vec![Role::NetworkOperator, Role::Searcher],
            Some(s.network_id)
        ))
        .await
        .is_err());
    store
        .create_user(user(vec![Role::NetworkOperator], Some(s.network_id)))
        .await
        .unwrap();
    assert!(store
        .set_user_roles("op", vec![Role::Tracker])
        .await
        .is_err());
    assert!(store
        .set_user_roles("searcher", vec![Role::NetworkOperator])
        .await
        .is_err());
}

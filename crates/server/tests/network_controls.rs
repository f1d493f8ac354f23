//! The data owners' side of a camera network, over real HTTP: the `network_auditor` role (one
//! network, no other role), its network's own sharing controls — suspend, purposes withheld,
//! maximum look-back — held by searches and watches, and the notices of watches that cover its
//! cameras. On PostgreSQL, a suspension made through one server holds on another within a
//! second.

mod common;

use anpr_domain::{GeoPoint, SiteKind};
use anpr_store::{NewCamera, NewSite};
use common::*;
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// A second camera network (with a site in Waikato and one camera) that shares like the first:
/// its id and its camera's key.
async fn second_network(s: &TestServer) -> (i64, String) {
    let net = s.state.store.create_network("Z Energy", 60).await.unwrap();
    let site = s
        .state
        .store
        .create_site(NewSite {
            network_id: net.id,
            name: "Z Hamilton East".into(),
            kind: SiteKind::FuelStation,
            address: "Grey St, Hamilton".into(),
            location: GeoPoint::new(-37.79, 175.30).unwrap(),
            district: "Waikato".into(),
        })
        .await
        .unwrap();
    let (_, key) = anpr_app::catalog::provision_camera(
        &s.state,
        NewCamera {
            site_id: site.id,
            name: "pumps".into(),
            heading_deg: None,
        },
    )
    .await
    .unwrap();
    s.state
        .store
        .set_network_agreement(anpr_policy::registers::NetworkAgreement {
            network_id: net.id,
            search: vec!["*".into()],
            tracking: vec!["Waikato".into()],
            hot_list_alerts: false,
        })
        .await
        .unwrap();
    (net.id, key)
}

/// A read of `plate` `minutes_ago` by the camera whose key is `key`; its id.
async fn read_by(s: &TestServer, key: &str, plate: &str, minutes_ago: i64) -> i64 {
    let resp = s
        .http
        .post(s.url("/api/v1/reads"))
        .bearer_auth(key)
        .json(&json!({"plate": plate, "captured_at": now_rfc3339(minutes_ago), "confidence": 0.9}))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 201);
    resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap()
}

async fn set_controls(s: &TestServer, token: &str, network: i64, body: Value) -> (u16, Value) {
    s.call(
        "PUT",
        &format!("/api/v1/networks/{network}/controls"),
        Some(token),
        Some(&body),
    )
    .await
}

/// The ids of a search's hits for `plate` by `token`, and its policy report.
async fn hits(s: &TestServer, token: &str, plate: &str) -> (Vec<i64>, Value) {
    let resp = s.search(token, json!({ "plate": plate })).await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    let ids = page["hits"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["id"].as_i64().unwrap())
        .collect();
    (ids, page["policy"].clone())
}

/// The read ids of the alerts `token` has.
async fn alerted(s: &TestServer, token: &str) -> Vec<i64> {
    let (st, list) = s.call("GET", "/api/v1/alerts", Some(token), None).await;
    assert_eq!(st, 200, "{list}");
    list["alerts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["read_id"].as_i64().unwrap())
        .collect()
}

fn notice_codes(policy: &Value) -> Vec<String> {
    policy["notices"]
        .as_array()
        .unwrap()
        .iter()
        .map(|n| n["code"].as_str().unwrap().to_string())
        .collect()
}

fn ledger_outcomes(s: &TestServer, action: &str) -> Vec<String> {
    let size = s.state.ledger.size();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap())
        .filter(|b| b["action"] == action)
        .map(|b| b["outcome"].to_string())
        .collect()
}

#[tokio::test]
async fn a_network_auditor_holds_no_other_role_and_controls_only_its_own_network() {
    let s = start().await;
    let (other, _) = second_network(&s).await;
    let admin = s.login("admin").await;
    let new_user = |roles: Value, network: Option<i64>| {
        json!({"staff_id": "N-x", "name": "Network overseer", "district": "Waikato",
               "roles": roles, "network_id": network, "password": PASSWORD})
    };
    // With any other role, police or operational: refused, in words.
    for other_role in [
        "searcher",
        "tracker",
        "supervisor",
        "integrity",
        "auditor",
        "admin",
        "camera",
        "network_operator",
        "privacy_officer",
    ] {
        let (st, body) = s
            .call(
                "POST",
                "/api/v1/users",
                Some(&admin),
                Some(&new_user(
                    json!(["network_auditor", other_role]),
                    Some(s.network_id),
                )),
            )
            .await;
        assert_eq!(st, 422, "{other_role}: {body}");
        let msg = body["error"]["message"].as_str().unwrap();
        assert!(
            msg.contains("network auditor") || msg.contains("camera"),
            "{other_role}: {msg}"
        );
    }
    // Without its network: refused.
    let (st, body) = s
        .call(
            "POST",
            "/api/v1/users",
            Some(&admin),
            Some(&new_user(json!(["network_auditor"]), None)),
        )
        .await;
    assert_eq!(st, 422, "{body}");

    let mine = network_auditor(&s, "N1", s.network_id).await;
    // A role added later is refused as well.
    let (st, body) = s
        .call(
            "PUT",
            "/api/v1/users/N1/roles",
            Some(&admin),
            Some(&json!({"roles": ["network_auditor", "searcher"]})),
        )
        .await;
    assert_eq!(st, 422, "{body}");

    // Its own network's controls: read (the defaults) and changed.
    let own = format!("/api/v1/networks/{}/controls", s.network_id);
    let (st, c) = s.call("GET", &own, Some(&mine), None).await;
    assert_eq!(st, 200, "{c}");
    assert_eq!(c["suspended"], false);
    let (st, c) = set_controls(&s, &mine, s.network_id, json!({"max_lookback_days": 30})).await;
    assert_eq!((st, &c["max_lookback_days"]), (200, &json!(30)), "{c}");
    assert_eq!(c["updated_by"], "N1");

    // Another network's: neither read nor changed, nor its notices.
    for (method, path, body) in [
        ("GET", format!("/api/v1/networks/{other}/controls"), None),
        (
            "PUT",
            format!("/api/v1/networks/{other}/controls"),
            Some(json!({"suspended": true})),
        ),
        (
            "GET",
            format!("/api/v1/networks/{other}/watch-notices"),
            None,
        ),
    ] {
        let (st, body) = s.call(method, &path, Some(&mine), body.as_ref()).await;
        assert_eq!(st, 403, "{method} {path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not of network"),
            "{body}"
        );
    }

    // Police roles, the administrator included, cannot change a network's controls: 403,
    // recorded in the ledger like every use.
    for who in ["admin", "supervisor", "searcher", "auditor"] {
        let t = s.login(who).await;
        let (st, body) = set_controls(&s, &t, s.network_id, json!({"suspended": true})).await;
        assert_eq!(st, 403, "{who}: {body}");
        assert_eq!(body["error"]["code"], "missing_permission", "{who}: {body}");
    }
    let changes = ledger_outcomes(&s, "network_controls_change");
    assert_eq!(changes.len(), 6, "{changes:?}");
    assert_eq!(
        changes.iter().filter(|o| o.contains("refused")).count(),
        5,
        "{changes:?}"
    );
    let (_, c) = s.call("GET", &own, Some(&mine), None).await;
    assert_eq!(c["suspended"], false, "nothing the refused changed");
}

#[tokio::test]
async fn suspending_sharing_withholds_searches_and_watch_alerts_until_resumed() {
    let s = start().await;
    let (net2, key2) = second_network(&s).await;
    let auditor = network_auditor(&s, "N2", net2).await;
    let searcher = s.login("searcher").await;
    let tracker = s.login("tracker").await;

    let r1 = read_by(&s, &s.camera_key, STOLEN_CLEAN, 60).await;
    let r2 = read_by(&s, &key2, STOLEN_CLEAN, 61).await;
    let (ids, _) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2]);

    // A running watch alerts on both networks' cameras.
    let (st, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!((st, &auth["status"]), (201, &json!("active")), "{auth}");
    let live2 = read_by(&s, &key2, STOLEN_CLEAN, 0).await;
    assert!(alerted(&s, &tracker).await.contains(&live2));

    let (st, c) = set_controls(&s, &auditor, net2, json!({"suspended": true})).await;
    assert_eq!((st, &c["suspended"]), (200, &json!(true)), "{c}");

    // The search no longer returns network 2's reads, and says why.
    let (ids, policy) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1], "{policy}");
    assert!(
        notice_codes(&policy).contains(&"network_suspended".to_string()),
        "{policy}"
    );
    assert!(policy.to_string().contains("suspended sharing"), "{policy}");
    assert_eq!(policy["networks_searched"], json!([s.network_id]));
    // The decision records it.
    let decisions = s.state.store.decisions(None, 100).await.unwrap();
    let last = decisions
        .iter()
        .find(|d| d.action == anpr_policy::DecisionAction::Search)
        .unwrap();
    assert!(
        last.notes
            .iter()
            .any(|n| n.starts_with("network_suspended")),
        "{:?}",
        last.notes
    );

    // A read of the network shown before cannot be opened while it is suspended.
    let (st, body) = s
        .call(
            "GET",
            &format!("/api/v1/reads/{r2}?{}", purpose_query()),
            Some(&searcher),
            None,
        )
        .await;
    assert_eq!(st, 403, "{body}");
    assert!(body.to_string().contains("suspended sharing"), "{body}");
    let (st, body) = s
        .call(
            "GET",
            &format!("/api/v1/reads/{r1}?{}", purpose_query()),
            Some(&searcher),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");

    // The running watch alerts no more on its cameras (the reads are still stored), but
    // still on the other network's.
    let before = s.read_count().await;
    let quiet = read_by(&s, &key2, STOLEN_CLEAN, 0).await;
    assert_eq!(
        s.read_count().await,
        before + 1,
        "the network's reads are kept"
    );
    let live1 = read_by(&s, &s.camera_key, STOLEN_CLEAN, 0).await;
    let alerts = alerted(&s, &tracker).await;
    assert!(!alerts.contains(&quiet), "{alerts:?}");
    assert!(alerts.contains(&live1), "{alerts:?}");

    // Resumed: both come back.
    let (st, _) = set_controls(&s, &auditor, net2, json!({"suspended": false})).await;
    assert_eq!(st, 200);
    let (ids, _) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2]);
    let again = read_by(&s, &key2, STOLEN_CLEAN, 0).await;
    assert!(alerted(&s, &tracker).await.contains(&again));

    // The network was told the watch started to cover its cameras: when, the purpose code and
    // the district, and nothing that names the vehicle, the file or the officer.
    let (st, list) = s
        .call(
            "GET",
            &format!("/api/v1/networks/{net2}/watch-notices"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(st, 200, "{list}");
    let notices = list["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{list}");
    let n = notices[0].as_object().unwrap();
    let mut keys: Vec<&str> = n.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["at", "district", "id", "network_id", "purpose_code"]);
    assert_eq!(n["purpose_code"], "stolen_vehicle");
    assert_eq!(n["district"], "Waikato");
    let text = list.to_string();
    for secret in [STOLEN_CLEAN, THEFT_FILE, "tracker", "Te Rapa on 1 Nov"] {
        assert!(!text.contains(secret), "{secret} in {text}");
    }
    assert_eq!(ledger_outcomes(&s, "network_watch_notices").len(), 1);
}

#[tokio::test]
async fn a_withheld_purpose_and_a_maximum_look_back_narrow_searches_over_the_network() {
    let s = start().await;
    let (net2, key2) = second_network(&s).await;
    let auditor = network_auditor(&s, "N2", net2).await;
    let searcher = s.login("searcher").await;
    let r1_old = read_by(&s, &s.camera_key, STOLEN_CLEAN, 3 * 24 * 60).await;
    let r1 = read_by(&s, &s.camera_key, STOLEN_CLEAN, 60).await;
    let r2_old = read_by(&s, &key2, STOLEN_CLEAN, 3 * 24 * 60 + 1).await;
    let r2 = read_by(&s, &key2, STOLEN_CLEAN, 61).await;
    let (ids, _) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2, r1_old, r2_old]);

    // A purpose code the deployment does not know is refused, in words.
    let (st, body) = set_controls(
        &s,
        &auditor,
        net2,
        json!({"withheld_purposes": ["no_such_purpose"]}),
    )
    .await;
    assert_eq!(st, 422, "{body}");
    assert!(body.to_string().contains("choose among"), "{body}");

    // Not shared for stolen vehicles: a search under that purpose does not reach it.
    let (st, _) = set_controls(
        &s,
        &auditor,
        net2,
        json!({"withheld_purposes": ["stolen_vehicle"]}),
    )
    .await;
    assert_eq!(st, 200);
    let (ids, policy) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r1_old], "{policy}");
    assert!(
        notice_codes(&policy).contains(&"network_purpose_withheld".to_string()),
        "{policy}"
    );
    assert!(policy.to_string().contains("stolen vehicle"), "{policy}");

    // Shared again for every purpose, but no further back than a day: its older reads are
    // not served, the other network's are.
    let (st, c) = set_controls(
        &s,
        &auditor,
        net2,
        json!({"withheld_purposes": [], "max_lookback_days": 1}),
    )
    .await;
    assert_eq!((st, &c["max_lookback_days"]), (200, &json!(1)), "{c}");
    let (ids, policy) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2, r1_old], "{policy}");
    assert!(
        notice_codes(&policy).contains(&"network_lookback_limited".to_string()),
        "{policy}"
    );
    assert!(policy.to_string().contains("last 1 days"), "{policy}");
    // A search that ends before the network's look-back does not reach it at all.
    let resp = s
        .search(
            &searcher,
            json!({"plate": STOLEN_CLEAN, "from": now_rfc3339(5 * 24 * 60), "to": now_rfc3339(2 * 24 * 60)}),
        )
        .await;
    assert_eq!(resp.status(), 200);
    let page: Value = resp.json().await.unwrap();
    assert_eq!(page["hits"].as_array().unwrap().len(), 1, "{page}");
    assert_eq!(page["hits"][0]["id"], r1_old);
    assert_eq!(page["policy"]["networks_searched"], json!([s.network_id]));

    // `null` lifts the limit.
    let (st, c) = set_controls(&s, &auditor, net2, json!({"max_lookback_days": null})).await;
    assert_eq!((st, &c["max_lookback_days"]), (200, &Value::Null), "{c}");
    let (ids, _) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids.len(), 4);
}

/// The acceptance test: two servers on one PostgreSQL database; the network's auditor
/// suspends sharing through A; from the moment A answers, B must stop serving the network's
/// data — searches, a new watch, a running watch — within one second.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_suspension_through_one_server_holds_on_another_within_a_second() {
    let Some(db) = PgDatabase::create().await else {
        return;
    };
    let a = start_postgres(&db, Default::default()).await;
    let b = start_another(&a, &db, Default::default()).await;
    let (net2, key2) = second_network(&a).await;
    let auditor = network_auditor(&a, "N2", net2).await;
    let searcher = b.login("searcher").await;
    let tracker = b.login("tracker").await;
    let r1 = read_by(&b, &b.camera_key, STOLEN_CLEAN, 60).await;
    let r2 = read_by(&b, &key2, STOLEN_CLEAN, 61).await;
    let (ids, _) = hits(&b, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2]);
    // B has used (and so cached) the controls as they were.
    let (st, _) = set_controls(&a, &auditor, net2, json!({"max_lookback_days": 30})).await;
    assert_eq!(st, 200);
    let (ids, _) = hits(&b, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2]);

    let (st, _) = set_controls(&a, &auditor, net2, json!({"suspended": true})).await;
    assert_eq!(st, 200);
    let answered = Instant::now();
    let limit = Duration::from_secs(1);

    // A search on B no longer reaches the network's reads.
    loop {
        let (ids, policy) = hits(&b, &searcher, STOLEN_CLEAN).await;
        if !ids.contains(&r2) {
            assert_eq!(ids, vec![r1]);
            assert!(
                notice_codes(&policy).contains(&"network_suspended".to_string()),
                "{policy}"
            );
            break;
        }
        assert!(
            answered.elapsed() < limit,
            "B still searched the suspended network after {:?}",
            answered.elapsed()
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let searched_after = answered.elapsed();

    // A watch started on B now does not cover its cameras: a live read there raises nothing
    // (the ingest is acknowledged after matching), one on the other network does.
    let (st, auth) = b
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!((st, &auth["status"]), (201, &json!("active")), "{auth}");
    loop {
        let live = read_by(&b, &key2, STOLEN_CLEAN, 0).await;
        if !alerted(&b, &tracker).await.contains(&live) {
            break;
        }
        assert!(
            answered.elapsed() < limit,
            "B's watch still covered the suspended network after {:?}",
            answered.elapsed()
        );
    }
    let watched_after = answered.elapsed();
    assert!(watched_after < limit, "{watched_after:?}");
    let live1 = read_by(&b, &b.camera_key, STOLEN_CLEAN, 0).await;
    assert!(alerted(&b, &tracker).await.contains(&live1));
    // Nor was the suspended network told of a watch that does not cover it.
    let (st, list) = a
        .call(
            "GET",
            &format!("/api/v1/networks/{net2}/watch-notices"),
            Some(&auditor),
            None,
        )
        .await;
    assert_eq!(st, 200, "{list}");
    assert_eq!(list["notices"].as_array().unwrap().len(), 0, "{list}");

    // Resumed through A: B's running watch covers it again within a second, and suspended
    // again, stops within a second.
    for (suspend, want_alert) in [(false, true), (true, false)] {
        let (st, _) = set_controls(&a, &auditor, net2, json!({ "suspended": suspend })).await;
        assert_eq!(st, 200);
        let answered = Instant::now();
        loop {
            let live = read_by(&b, &key2, STOLEN_CLEAN, 0).await;
            if alerted(&b, &tracker).await.contains(&live) == want_alert {
                break;
            }
            assert!(
                answered.elapsed() < limit,
                "B's running watch did not follow suspended={suspend} within a second"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
    // Once it resumed, the watch started while it was suspended covered its cameras: the
    // network was told then, once.
    let (_, list) = a
        .call(
            "GET",
            &format!("/api/v1/networks/{net2}/watch-notices"),
            Some(&auditor),
            None,
        )
        .await;
    let notices = list["notices"].as_array().unwrap();
    assert_eq!(notices.len(), 1, "{list}");
    assert_eq!(notices[0]["purpose_code"], "stolen_vehicle");
    eprintln!(
        "bench: network_suspend_search_on_other_server {:.1} ms; new watch {:.1} ms",
        searched_after.as_secs_f64() * 1000.0,
        watched_after.as_secs_f64() * 1000.0
    );
}

/// The ledger entries of `action`, as JSON.
fn entries_of(s: &TestServer, action: &str) -> Vec<Value> {
    let size = s.state.ledger.size();
    let mut out = Vec::new();
    let mut at = 0;
    while at < size {
        let page = s.state.ledger.entries(at, size).unwrap();
        at = page.last().map_or(size, |e| e.index + 1);
        out.extend(
            page.into_iter()
                .map(|e| serde_json::from_str::<Value>(&e.body).unwrap())
                .filter(|b| b["action"] == action),
        );
    }
    out
}

/// The kinds of the uses a network's view lists, in order.
/// Network `network`'s ledger slice for this month, as its auditor `token` fetches it, verified.
async fn month_slice(s: &TestServer, token: &str, network: i64) -> anpr_ledger::NetworkSlice {
    let month = anpr_ledger::Month::of(chrono::Utc::now());
    let path = format!("/api/v1/networks/{network}/ledger-slice?month={month}");
    let (st, body) = s.call("GET", &path, Some(token), None).await;
    assert_eq!(st, 200, "{body}");
    let slice = serde_json::from_value(body).unwrap();
    anpr_ledger::verify_slice(&slice, &[s.state.ledger.public_key()]).unwrap();
    slice
}

/// The actions a slice describes.
fn described_actions(slice: &anpr_ledger::NetworkSlice) -> Vec<String> {
    slice
        .entries
        .iter()
        .filter_map(|e| e.fields.value("action")?.as_str().map(str::to_string))
        .collect()
}

fn kinds(view: &Value) -> Vec<String> {
    view["uses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["action"].as_str().unwrap().to_string())
        .collect()
}

/// Searches, read views, a tracking watch and its alerts, a look-back request and its approval
/// over two networks: each entry names the networks it touched, the reads it disclosed of each
/// and the officer's district; each network's auditor sees exactly the uses that touched its own
/// network (never another's, nor a plate, file number or justification), pseudonymous, with the
/// uses under files still open counted and not described.
#[tokio::test]
async fn a_network_auditor_sees_exactly_the_uses_that_touched_its_network() {
    let s = start().await;
    let (net1, (net2, key2)) = (s.network_id, second_network(&s).await);
    let aud1 = network_auditor(&s, "N1", net1).await;
    let aud2 = network_auditor(&s, "N2", net2).await;
    let searcher = s.login("searcher").await;
    let tracker = s.login("tracker").await;
    let supervisor = s.login("supervisor").await;

    let r1 = read_by(&s, &s.camera_key, STOLEN_CLEAN, 60).await;
    let r2 = read_by(&s, &key2, STOLEN_CLEAN, 61).await;
    // A search reaching both networks, disclosing one read of each.
    let (ids, _) = hits(&s, &searcher, STOLEN_CLEAN).await;
    assert_eq!(ids, vec![r1, r2]);
    let search = entries_of(&s, "search").pop().unwrap();
    assert_eq!(
        search["query"]["network_ids"],
        json!([net1, net2]),
        "{search}"
    );
    assert_eq!(
        search["query"]["network_reads"],
        json!({net1.to_string(): 1, net2.to_string(): 1})
    );
    assert_eq!(search["query"]["district"], "Waikato");
    // A read view of network 2's read names network 2 alone.
    let view = |id: i64| format!("/api/v1/reads/{id}?{}", purpose_query());
    let (st, body) = s.call("GET", &view(r2), Some(&searcher), None).await;
    assert_eq!(st, 200, "{body}");
    let read_view = entries_of(&s, "read_view").pop().unwrap();
    assert_eq!(read_view["query"]["network_ids"], json!([net2]));
    assert_eq!(
        read_view["query"]["network_reads"],
        json!({net2.to_string(): 1})
    );
    assert_eq!(read_view["query"]["district"], "Waikato");

    // A tracking watch (both networks let Waikato track) and an alert on network 2's camera.
    let (st, auth) = s
        .call(
            "POST",
            "/api/v1/tracking",
            Some(&tracker),
            Some(&json!({"plate": STOLEN_CLEAN, "purpose": purpose()})),
        )
        .await;
    assert_eq!((st, &auth["status"]), (201, &json!("active")), "{auth}");
    let watch = entries_of(&s, "tracking_request").pop().unwrap();
    assert_eq!(watch["query"]["network_ids"], json!([net1, net2]));
    assert_eq!(watch["query"]["district"], "Waikato");
    let mut stream = SseClient::connect(&s, &tracker, None).await;
    let live = read_by(&s, &key2, STOLEN_CLEAN, 0).await;
    let (_, alert) = stream.expect().await;
    assert_eq!(alert["read_id"], live);
    let delivered = entries_of(&s, "alert_delivered").pop().unwrap();
    assert_eq!(delivered["query"]["network_ids"], json!([net2]));
    assert_eq!(
        delivered["query"]["network_reads"],
        json!({net2.to_string(): 1})
    );
    assert!(alerted(&s, &tracker).await.contains(&live));
    let listed = entries_of(&s, "alert_list").pop().unwrap();
    assert_eq!(listed["query"]["network_ids"], json!([net2]));

    // A look-back request and its approval cover the networks the district may search.
    let (st, look) = s
        .call(
            "POST",
            "/api/v1/lookback",
            Some(&searcher),
            Some(
                &json!({"plate": "ABC123", "from": now_rfc3339(100 * 24 * 60),
                         "purpose": purpose()}),
            ),
        )
        .await;
    assert_eq!(st, 201, "{look}");
    let (st, body) = s
        .call(
            "POST",
            &format!("/api/v1/lookback/{}/approve", look["id"]),
            Some(&supervisor),
            Some(&json!({"reason": "Checked the file and the report"})),
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let approval = entries_of(&s, "lookback_approval").pop().unwrap();
    assert_eq!(approval["query"]["network_ids"], json!([net1, net2]));
    assert_eq!(approval["query"]["district"], "Waikato");

    // While the file is open, the uses under it are counted, not described.
    let path = |n: i64| format!("/api/v1/networks/{n}/uses");
    let (st, v2) = s.call("GET", &path(net2), Some(&aud2), None).await;
    assert_eq!(st, 200, "{v2}");
    let open_uses = v2["open_file_uses"].as_u64().unwrap();
    assert!(open_uses >= 4, "{v2}");
    assert_eq!(
        v2["total_uses"].as_u64().unwrap(),
        open_uses + v2["uses"].as_array().unwrap().len() as u64
    );
    assert!(!kinds(&v2).contains(&"search".to_string()), "{v2}");
    // The network's ledger slice withholds them too: its entries still verify, reduced to their
    // time and networks.
    let slice = month_slice(&s, &aud2, net2).await;
    let withheld = slice.entries.iter().filter(|e| !e.described()).count();
    assert!(withheld as u64 >= open_uses, "{slice:?}");
    assert!(!described_actions(&slice).contains(&"search".to_string()));

    // Once the file is closed, they are described.
    import(
        &s.state,
        anpr_store::RegisterBatch::Incidents(vec![anpr_policy::registers::IncidentRecord {
            file_number: THEFT_FILE.into(),
            incident_type: "vehicle_theft".into(),
            district: "Waikato".into(),
            opened_at: chrono::Utc::now() - chrono::Duration::days(30),
            closed_at: Some(chrono::Utc::now() - chrono::Duration::minutes(1)),
            assigned_staff: vec![],
        }]),
    )
    .await;
    let month = anpr_app::network_uses::month_of(chrono::Utc::now());
    let (st, v2) = s
        .call(
            "GET",
            &format!("{}?month={month}", path(net2)),
            Some(&aud2),
            None,
        )
        .await;
    assert_eq!(st, 200, "{v2}");
    assert_eq!(v2["open_file_uses"], 0, "{v2}");
    let k2 = kinds(&v2);
    for want in [
        "search",
        "read_view",
        "tracking_request",
        "alert_delivered",
        "alert_list",
        "lookback_request",
        "lookback_approval",
    ] {
        assert!(k2.contains(&want.to_string()), "{want}: {k2:?}");
    }
    assert_eq!(
        k2.iter().filter(|k| *k == "read_view").count(),
        1,
        "network 1's read view is not network 2's: {k2:?}"
    );
    let (st, v1) = s.call("GET", &path(net1), Some(&aud1), None).await;
    assert_eq!(st, 200, "{v1}");
    let k1 = kinds(&v1);
    assert!(!k1.iter().any(|k| k.starts_with("alert")), "{k1:?}");
    assert!(!k1.contains(&"read_view".to_string()), "{k1:?}");
    assert!(k1.contains(&"search".to_string()), "{k1:?}");
    // Each use's entry is one the ledger holds, and names the network.
    for u in v1["uses"].as_array().unwrap() {
        let e = &s
            .state
            .ledger
            .entries(
                u["entry"].as_u64().unwrap(),
                u["entry"].as_u64().unwrap() + 1,
            )
            .unwrap()[0];
        let body: Value = serde_json::from_str(&e.body).unwrap();
        assert!(body["query"]["network_ids"]
            .as_array()
            .unwrap()
            .contains(&json!(net1)));
    }
    // What a use says: purpose, district, outcome, reads disclosed, a pseudonym.
    let search2 = v2["uses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|u| u["action"] == "search")
        .unwrap();
    assert_eq!(search2["purpose_code"], "stolen_vehicle");
    assert_eq!(search2["district"], "Waikato");
    assert_eq!(search2["outcome"], "granted");
    assert_eq!(search2["reads_disclosed"], 1);
    assert_eq!(search2["kind"], "search");
    let officer = |v: &Value, action: &str| -> String {
        v["uses"]
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["action"] == action)
            .unwrap()["officer"]
            .as_str()
            .unwrap()
            .to_string()
    };
    // The searcher has one pseudonym in the month, whichever network looks; the tracker another.
    assert_eq!(officer(&v2, "search"), officer(&v2, "read_view"));
    assert_eq!(officer(&v2, "search"), officer(&v1, "search"));
    assert_ne!(officer(&v2, "search"), officer(&v2, "tracking_request"));
    let now = chrono::Utc::now();
    assert_eq!(
        officer(&v2, "search"),
        anpr_app::network_uses::pseudonym(&s.state, "searcher", now).unwrap()
    );
    assert_ne!(
        anpr_app::network_uses::pseudonym(&s.state, "searcher", now).unwrap(),
        anpr_app::network_uses::pseudonym(&s.state, "searcher", now + chrono::Duration::days(40))
            .unwrap()
    );
    // The slice, once the file is closed, describes the search with the same pseudonym.
    let slice = month_slice(&s, &aud2, net2).await;
    let search = slice
        .entries
        .iter()
        .find(|e| e.fields.value("action") == Some(&json!("search")))
        .expect("the search is described");
    assert_eq!(search.annotations["officer"], json!(officer(&v2, "search")));
    assert!(!serde_json::to_string(&slice)
        .unwrap()
        .contains("\"searcher\""));
    // Counts by month, purpose and district.
    assert_eq!(v2["by_month"][0]["key"], month);
    assert!(v2["by_purpose"]
        .as_array()
        .unwrap()
        .iter()
        .any(|t| t["key"] == "stolen_vehicle"));
    assert_eq!(v2["by_district"][0]["key"], "Waikato");
    // Never a plate, a file number, a justification or a staff id.
    for v in [&v1, &v2] {
        let text = v.to_string();
        for secret in [
            STOLEN_CLEAN,
            "ABC123",
            THEFT_FILE,
            "Vehicle reported stolen",
            "Checked the file",
            "\"searcher\"",
            "\"tracker\"",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
    }

    // Another network's uses, or anyone but its auditor: 403, and the refusal recorded.
    let (st, body) = s.call("GET", &path(net2), Some(&aud1), None).await;
    assert_eq!(st, 403, "{body}");
    assert!(body.to_string().contains("not of network"), "{body}");
    for who in ["admin", "auditor", "searcher"] {
        let t = s.login(who).await;
        let (st, body) = s.call("GET", &path(net1), Some(&t), None).await;
        assert_eq!(st, 403, "{who}: {body}");
    }
    let outcomes = ledger_outcomes(&s, "network_uses");
    assert_eq!(
        outcomes.iter().filter(|o| o.contains("refused")).count(),
        4,
        "{outcomes:?}"
    );
    // A month that is not one: 422, in words.
    let (st, body) = s
        .call(
            "GET",
            &format!("{}?month=2026-13", path(net1)),
            Some(&aud1),
            None,
        )
        .await;
    assert_eq!(st, 422, "{body}");
    assert!(body.to_string().contains("YYYY-MM"), "{body}");
}

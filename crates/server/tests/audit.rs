//! Every API action lands in the tamper-evident ledger before its response, and auditors can
//! prove it with the ledger endpoints.

mod common;

use common::*;
use serde_json::{json, Value};

fn decode_entries(entries: &Value) -> Vec<Value> {
    entries
        .as_array()
        .unwrap()
        .iter()
        .map(|e| serde_json::from_str(e["body"].as_str().unwrap()).unwrap())
        .collect()
}

#[tokio::test]
async fn every_endpoint_is_recorded_with_actor_outcome_and_digest() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    let admin = s.login("admin").await;
    let auditor = s.login("auditor").await;
    let sup = s.login("supervisor").await;

    // One call of every endpoint (the router's list, from the OpenAPI document).
    let resp = s
        .ingest(
            "/api/v1/reads",
            // Older than the near-live window, which a search withholds without a tracking
            // authorisation.
            &json!({"plate": "AUD123", "captured_at": now_rfc3339(45), "confidence": 0.9}),
        )
        .await;
    let read_id = resp.json::<Value>().await.unwrap()["id"].as_i64().unwrap();
    s.ingest(
        "/api/v1/reads:batch",
        &json!({"reads": [{"plate": "AUD124", "captured_at": now_rfc3339(45), "confidence": 0.9}]}),
    )
    .await;
    let page: Value = s
        .search(&searcher, json!({"plate": "AUD12*"}))
        .await
        .json()
        .await
        .unwrap();
    assert_eq!(page["total"], 2);
    let get = |path: String, token: &str| {
        let req = s.http.get(s.url(&path)).bearer_auth(token.to_string());
        async move { req.send().await.unwrap().status().as_u16() }
    };
    assert_eq!(
        get(
            format!("/api/v1/reads/{read_id}?{}", purpose_query()),
            &searcher
        )
        .await,
        200
    );
    assert_eq!(
        get(
            format!("/api/v1/reads/{read_id}/image/plate?{}", purpose_query()),
            &searcher
        )
        .await,
        404
    );
    assert_eq!(get("/api/v1/networks".into(), &admin).await, 200);
    assert_eq!(get("/api/v1/sites".into(), &admin).await, 200);
    assert_eq!(get("/api/v1/cameras".into(), &admin).await, 200);
    assert_eq!(get("/api/v1/cameras".into(), &searcher).await, 403);
    assert_eq!(get("/metrics".into(), &admin).await, 200);
    assert_eq!(get("/api/v1/auth/me".into(), &admin).await, 200);
    let hold = s
        .http
        .put(s.url(&format!("/api/v1/reads/{read_id}/legal-hold")))
        .bearer_auth(&sup)
        .json(&json!({"hold": true, "reason": "court order 77", "purpose": purpose()}))
        .send()
        .await
        .unwrap();
    assert_eq!(hold.status(), 204);
    let net = s
        .http
        .post(s.url("/api/v1/networks"))
        .bearer_auth(&admin)
        .json(&json!({"name": "Audited"}))
        .send()
        .await
        .unwrap();
    assert_eq!(net.status(), 201);
    let anonymous = s
        .http
        .post(s.url("/api/v1/searches"))
        .json(&json!({"plate": "X"}))
        .send()
        .await
        .unwrap();
    assert_eq!(anonymous.status(), 401);
    let bad_login = s
        .http
        .post(s.url("/api/v1/auth/login"))
        .json(&json!({"staff_id": "searcher", "password": "Tr0ub4dor-secret"}))
        .send()
        .await
        .unwrap();
    assert_eq!(bad_login.status(), 401);
    assert_eq!(get("/api/v1/ledger/tree-head".into(), &searcher).await, 403);
    let logout = s
        .http
        .post(s.url("/api/v1/auth/logout"))
        .bearer_auth(&sup)
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), 204);

    let head: Value = s.get_json("/api/v1/ledger/tree-head", &auditor).await;
    let size = head["size"].as_u64().unwrap();
    let entries: Value = s
        .get_json(format!("/api/v1/ledger/entries?from=0&to={size}"), &auditor)
        .await;
    let events = decode_entries(&entries);
    let find = |action: &str, path_part: &str| -> Value {
        events
            .iter()
            .find(|e| {
                e["action"] == action
                    && e["query"]["path"]
                        .as_str()
                        .unwrap_or("")
                        .contains(path_part)
            })
            .unwrap_or_else(|| panic!("no {action} entry for {path_part}: {events:#?}"))
            .clone()
    };

    let search = find("search", "/api/v1/searches");
    assert_eq!(search["actor"]["id"], "searcher");
    assert_eq!(search["purpose"], "stolen_vehicle");
    assert_eq!(search["file_number"], "260101/1234");
    assert_eq!(search["query"]["plate"], "AUD12*");
    assert_eq!(search["result"]["count"], 2);
    assert_eq!(search["outcome"]["result"], "granted");
    let ingest = find("ingest", "/api/v1/reads");
    assert_eq!(ingest["actor"]["kind"], "camera");
    assert_eq!(ingest["result"]["count"], 1);
    find("read_view", &format!("/api/v1/reads/{read_id}"));
    let img = find("image_view", "/image/plate");
    assert_eq!(img["outcome"]["result"], "refused");
    // A refused use by a known member of staff keeps its action; `denied` is for a caller who
    // could not be authenticated.
    let denied = events
        .iter()
        .find(|e| {
            e["action"] == "catalog_read"
                && e["actor"]["id"] == "searcher"
                && e["query"]["path"] == "/api/v1/cameras"
        })
        .expect("the searcher's refused camera listing is recorded");
    assert_eq!(denied["outcome"]["result"], "refused");
    assert_eq!(denied["actor"]["id"], "searcher");
    assert!(denied["outcome"]["reason"]
        .as_str()
        .unwrap()
        .contains("admin"));
    let anon = events
        .iter()
        .find(|e| e["actor"]["kind"] == "anonymous")
        .expect("the unauthenticated attempt is recorded");
    assert_eq!(anon["action"], "denied");
    let failed = find("login_failed", "/api/v1/auth/login");
    assert_eq!(failed["actor"]["id"], "searcher");
    assert!(
        !failed.to_string().contains("Tr0ub4dor"),
        "passwords never reach the ledger"
    );
    find("login", "/api/v1/auth/login");
    find("logout", "/api/v1/auth/logout");
    find("legal_hold", "/legal-hold");
    find("catalog_change", "/api/v1/networks");
    find("metrics_read", "/metrics");
    let refused = find("ledger_read", "/api/v1/ledger/tree-head");
    assert_eq!(refused["outcome"]["result"], "refused");
    // Every use names its channel.
    assert!(events.iter().all(|e| e["query"]["channel"] == "api"));

    // Proofs from the API verify against the signed head.
    let proof: Value = s
        .http
        .get(s.url(&format!(
            "/api/v1/ledger/proof/inclusion?index=3&size={size}"
        )))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let proof: anpr_ledger::InclusionProof = serde_json::from_value(proof).unwrap();
    let head: anpr_ledger::TreeHead = serde_json::from_value(head).unwrap();
    assert_eq!(proof.size, head.size);
    proof.verify(&head.root_hash).unwrap();
    head.verify_signature(&s.state.ledger.public_key()).unwrap();
    let bad = s
        .http
        .get(s.url(&format!(
            "/api/v1/ledger/proof/inclusion?index={size}&size={size}"
        )))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
}

/// Generated from the router's own OpenAPI document, so an endpoint added later cannot be
/// forgotten: every operation is called once (authorised or not, valid or not) and must leave
/// its ledger entry.
#[tokio::test]
async fn every_documented_operation_leaves_a_ledger_entry() {
    // The calls after the sign-out routes have no valid credentials; there are more of them
    // than the flood guard lets one address make in a minute, and past it they would share one
    // `throttled` entry (tested in abuse.rs), not leave one each.
    let mut config = anpr_server::ServerConfig::default();
    config.http.unauthenticated_per_minute = u32::MAX;
    let s = start_with(config).await;
    let admin = s.login("admin").await;
    let auditor = s.login("auditor").await;
    let doc: Value = s
        .http
        .get(s.url("/api/openapi.json"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let mut called = Vec::new();
    for (path, ops) in doc["paths"].as_object().unwrap() {
        for method in ops.as_object().unwrap().keys() {
            let concrete = path
                .replace("{id}", "1")
                .replace("{staff_id}", "searcher")
                .replace("{kind}", "plate")
                .replace("{action}", "approve");
            let url = s.url(&concrete);
            let req = match method.as_str() {
                "get" => s.http.get(&url),
                "post" => s.http.post(&url).json(&json!({})),
                "put" => s.http.put(&url).json(&json!({})),
                "delete" => s.http.delete(&url),
                other => panic!("unexpected method {other}"),
            };
            let status = req.bearer_auth(&admin).send().await.unwrap().status();
            assert!(status.as_u16() < 500, "{method} {concrete}: {status}");
            called.push((method.to_uppercase(), concrete, status.as_u16()));
        }
    }
    assert!(
        called.len() >= 20,
        "only {} operations documented",
        called.len()
    );
    let size = s.state.ledger.size();
    let entries: Value = s
        .get_json(format!("/api/v1/ledger/entries?from=0&to={size}"), &auditor)
        .await;
    let events = decode_entries(&entries);
    for (method, path, status) in called {
        let entry = events.iter().find(|e| {
            e["query"]["method"] == method.as_str()
                && e["query"]["path"].as_str().unwrap_or("").split('?').next()
                    == Some(path.as_str())
        });
        let entry = entry.unwrap_or_else(|| panic!("no ledger entry for {method} {path}"));
        // A use names what it was, in the typed schema: never a name the schema does not know,
        // and `denied` only for a caller without valid credentials (the sign-out routes end
        // the admin's session, so calls after them are such callers).
        let action = entry["action"].as_str().unwrap();
        if status == 401 {
            assert_eq!(action, "denied", "{method} {path}: {entry}");
            continue;
        }
        assert!(
            anpr_ledger::Action::named(action).is_some_and(|a| a != anpr_ledger::Action::Denied),
            "{method} {path} was recorded as {action:?}"
        );
        // The caller is the admin (the sign-in routes name whom they signed in).
        if !path.starts_with("/api/v1/auth/") {
            assert_eq!(entry["actor"]["id"], "admin", "{method} {path}: {entry}");
        }
        assert_eq!(entry["query"]["channel"], "api", "{method} {path}");
    }
}

/// Every entry from `from` on, as stored (the body's bytes) and decoded.
async fn entries_from(s: &TestServer, auditor: &str, from: u64) -> Vec<(usize, Value)> {
    let head = s.get_json("/api/v1/ledger/tree-head", auditor).await;
    let size = head["size"].as_u64().unwrap();
    let mut all = Vec::new();
    let mut at = from;
    while at < size {
        let to = size.min(at + 500);
        let page = s
            .get_json(format!("/api/v1/ledger/entries?from={at}&to={to}"), auditor)
            .await;
        for e in page.as_array().unwrap() {
            let body = e["body"].as_str().unwrap();
            all.push((body.len(), serde_json::from_str(body).unwrap()));
        }
        at = to;
    }
    all
}

async fn ledger_size(s: &TestServer, auditor: &str) -> u64 {
    s.get_json("/api/v1/ledger/tree-head", auditor).await["size"]
        .as_u64()
        .unwrap()
}

#[tokio::test]
async fn a_flood_without_credentials_is_held_back_and_recorded_in_aggregate() {
    let mut config = anpr_server::ServerConfig::default();
    config.http.unauthenticated_per_minute = 5;
    let s = start_with(config).await;
    let auditor = s.login("auditor").await;
    let before = ledger_size(&s, &auditor).await;
    let long = "q".repeat(12_000);
    let mut statuses = Vec::new();
    for _ in 0..40 {
        let resp = s
            .http
            .get(s.url(&format!("/api/v1/alerts?filler={long}")))
            .send()
            .await
            .unwrap();
        statuses.push(resp.status().as_u16());
    }
    // The auditor's own request above counts as signed in; the anonymous ones do not.
    assert!(statuses[..4].iter().all(|s| *s == 401), "{statuses:?}");
    assert!(statuses[6..].iter().all(|s| *s == 429), "{statuses:?}");
    // A signed-in officer behind the same address is never held back.
    let officer = s.login("searcher").await;
    let (status, _) = s.call("GET", "/api/v1/auth/me", Some(&officer), None).await;
    assert_eq!(status, 200);

    anpr_server::audit::record_held_back(
        &s.state,
        chrono::Utc::now() + chrono::TimeDelta::minutes(1),
    )
    .await;
    let entries = entries_from(&s, &auditor, before).await;
    let anonymous: Vec<&(usize, Value)> = entries
        .iter()
        .filter(|(_, e)| e["actor"]["kind"] == "anonymous")
        .collect();
    let single = anonymous
        .iter()
        .filter(|(_, e)| e["action"] == "denied")
        .count();
    assert!((4..=5).contains(&single), "{single} entries of their own");
    let throttled: Vec<&Value> = anonymous
        .iter()
        .map(|(_, e)| e)
        .filter(|e| e["action"] == "throttled")
        .collect();
    assert_eq!(throttled.len(), 1, "{throttled:#?}");
    assert_eq!(throttled[0]["query"]["client"], "127.0.0.1");
    let held = throttled[0]["query"]["requests"].as_u64().unwrap();
    assert_eq!(held as usize + single, 40);
    // A 12 KB query string is recorded by its length and digest, not its content.
    let bytes: usize = anonymous.iter().map(|(n, _)| n).sum();
    assert!(
        bytes < 6 * 1024,
        "{bytes} ledger bytes for 40 flooding requests"
    );
}

#[tokio::test]
async fn large_parameters_are_recorded_as_a_count_and_a_digest() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    let auditor = s.login("auditor").await;
    let before = ledger_size(&s, &auditor).await;
    let ids: Vec<u64> = (0..1_200_000).collect();
    let (status, _) = s
        .call(
            "POST",
            "/api/v1/searches",
            Some(&searcher),
            Some(&json!({"plate": "ABC123", "purpose": purpose(), "network_ids": ids})),
        )
        .await;
    assert!(status < 500, "{status}");
    let mut long = purpose();
    long["justification"] = json!("Checking the vehicle again. ".repeat(4_000));
    let (status, _) = s
        .call(
            "POST",
            "/api/v1/searches",
            Some(&searcher),
            Some(&json!({"plate": "ABC123", "purpose": long})),
        )
        .await;
    assert_eq!(status, 422, "a 100 KB justification is refused");
    let entries = entries_from(&s, &auditor, before).await;
    let searches: Vec<&(usize, Value)> = entries
        .iter()
        .filter(|(_, e)| e["action"] == "search")
        .collect();
    assert_eq!(searches.len(), 2, "{entries:#?}");
    for (bytes, entry) in &searches {
        assert!(*bytes < 4096, "{bytes} bytes: {entry}");
    }
    let justification = searches[1].1["justification"].as_str().unwrap();
    assert!(
        justification.starts_with("[112000 characters, not recorded; sha256 "),
        "{justification}"
    );
}

/// Requests no route serves are uses too: an unknown path under `/api/` (404) and a known path
/// with a method it does not take (405), each recorded with the actor its credentials name.
#[tokio::test]
async fn unknown_routes_and_wrong_methods_are_recorded_with_their_actor() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    let auditor = s.login("auditor").await;
    let before = ledger_size(&s, &auditor).await;
    let calls = [
        ("GET", "/api/v1/no-such-thing", Some(searcher.as_str()), 404),
        ("GET", "/api/v1/no-such-thing-either", None, 404),
        ("GET", "/api/v2/reads", Some("not-a-valid-token"), 404),
        ("DELETE", "/api/v1/auth/me", Some(searcher.as_str()), 405),
    ];
    for (method, path, token, status) in calls {
        let (got, _) = s.call(method, path, token, None).await;
        assert_eq!(got, status, "{method} {path}");
    }
    // A page outside the API is not a use of it: not recorded.
    let ui = s.http.get(s.url("/no-such-page")).send().await.unwrap();
    assert_eq!(ui.status().as_u16(), 404);

    let entries = entries_from(&s, &auditor, before).await;
    let entry_of = |method: &str, path: &str| {
        entries
            .iter()
            .map(|(_, e)| e)
            .find(|e| e["query"]["method"] == method && e["query"]["path"] == path)
            .unwrap_or_else(|| panic!("no ledger entry for {method} {path}: {entries:#?}"))
    };
    for (method, path, token, status) in calls {
        let e = entry_of(method, path);
        assert_eq!(e["query"]["status"], status, "{e}");
        assert_eq!(e["outcome"]["result"], "refused", "{e}");
        assert_eq!(e["action"], "unrouted", "{e}");
        if token == Some(searcher.as_str()) {
            assert_eq!(e["actor"]["id"], "searcher", "{e}");
            assert_eq!(e["actor"]["kind"], "staff", "{e}");
        } else {
            assert_eq!(e["actor"]["kind"], "anonymous", "{e}");
            assert_eq!(e["query"]["client"], "127.0.0.1", "{e}");
        }
    }
    assert!(
        !entries
            .iter()
            .any(|(_, e)| e["query"]["path"] == "/no-such-page"),
        "a UI page was recorded"
    );
}

#[tokio::test]
async fn auditors_find_entries_by_actor_action_and_time() {
    let s = start().await;
    let started = chrono::Utc::now() - chrono::Duration::seconds(1);
    let searcher = s.login("searcher").await;
    s.search(&searcher, json!({"plate": "FND123"})).await;
    s.search(&searcher, json!({"plate": "FND124"})).await;
    let auditor = s.login("auditor").await;

    let found: Value = s
        .get_json(
            "/api/v1/ledger/search?actor=SEARCHER&action=search",
            &auditor,
        )
        .await;
    let events = decode_entries(&found["entries"]);
    assert_eq!(events.len(), 2, "{found:#}");
    assert!(events
        .iter()
        .all(|e| e["actor"]["id"] == "searcher" && e["action"] == "search"));
    assert_eq!(events[0]["query"]["plate"], "FND124", "newest first");
    assert_eq!(
        found["next_before"],
        Value::Null,
        "the whole log was looked at"
    );

    // Paged: one at a time, going on from `next_before`.
    let first: Value = s
        .get_json("/api/v1/ledger/search?action=search&limit=1", &auditor)
        .await;
    let before = first["next_before"].as_u64().expect("more may match");
    let second: Value = s
        .get_json(
            format!("/api/v1/ledger/search?action=search&limit=1&before={before}"),
            &auditor,
        )
        .await;
    assert_eq!(
        decode_entries(&second["entries"])[0]["query"]["plate"],
        "FND123"
    );

    // A time range: nothing before the test started, every login since.
    let since = started.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let until =
        (started - chrono::Duration::hours(1)).to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let none: Value = s
        .get_json(format!("/api/v1/ledger/search?until={until}"), &auditor)
        .await;
    assert_eq!(none["entries"], json!([]));
    let logins: Value = s
        .get_json(
            format!("/api/v1/ledger/search?action=login&since={since}"),
            &auditor,
        )
        .await;
    assert_eq!(decode_entries(&logins["entries"]).len(), 2);

    // Nonsense is refused; the searcher may not read the ledger at all.
    let bad = s
        .http
        .get(s.url("/api/v1/ledger/search?limit=0"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(bad.status(), 422);
    let unknown = s
        .http
        .get(s.url("/api/v1/ledger/search?action=serach"))
        .bearer_auth(&auditor)
        .send()
        .await
        .unwrap();
    assert_eq!(unknown.status(), 422);
    let said: serde_json::Value = unknown.json().await.unwrap();
    assert!(
        said["error"]["message"]
            .as_str()
            .unwrap()
            .contains("no action is called \"serach\""),
        "{said}"
    );
    assert_eq!(said["error"]["field"], "action");
    let refused = s
        .http
        .get(s.url("/api/v1/ledger/search?actor=auditor"))
        .bearer_auth(&searcher)
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 403);
}

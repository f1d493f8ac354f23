//! A camera network's checkable record of police use of its data, over real HTTP: its ledger
//! slice (every entry that touched it, redacted, with proofs against a signed head whose
//! counter says how many) and its signed monthly statement, for its own network auditor only.

mod common;

use anpr_ledger::{verify_slice, verify_statement, Month, NetworkSlice, SignedStatement};
use common::*;
use serde_json::{json, Value};

fn this_month() -> Month {
    Month::of(chrono::Utc::now())
}

fn ledger_outcomes(s: &TestServer, action: &str) -> Vec<String> {
    s.state.ledger.refresh().unwrap();
    let size = s.state.ledger.size();
    s.state
        .ledger
        .entries(0, size)
        .unwrap()
        .into_iter()
        .map(|e| serde_json::from_str::<Value>(&e.body).unwrap())
        .filter(|b| b["action"] == action)
        .map(|b| b["outcome"]["result"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn a_network_auditor_gets_a_complete_slice_and_a_statement_it_can_recompute() {
    let s = start().await;
    let searcher = s.login("searcher").await;
    for plate in ["ABC123", "XYZ789"] {
        assert_eq!(
            s.search(&searcher, json!({ "plate": plate }))
                .await
                .status(),
            200
        );
    }
    let n = s.network_id;
    // Uses that reached the network, as every entry point records them (`network_ids`).
    let uses: Vec<anpr_ledger::Event> = ["ABC123", "XYZ789"]
        .iter()
        .map(|plate| {
            anpr_ledger::Event::new(
                anpr_ledger::Actor::staff("S1001", "searcher"),
                anpr_ledger::Action::Search,
            )
            .purpose("INV")
            .file_number("F-1")
            .query(json!({"district": "Waikato", "network_reads": {n.to_string(): 3}}))
            .facts(
                anpr_ledger::AuditFacts::new()
                    .plate(*plate)
                    .network_ids(vec![n]),
            )
        })
        .collect();
    s.state.ledger.append(&uses).unwrap();
    let head = s.state.ledger.sign_tree_head().unwrap();
    let counted = head.network_count(n).unwrap();
    assert!(counted >= 2, "the searches touched network {n}: {head:?}");

    let mine = network_auditor(&s, "N1", n).await;
    let month = this_month();
    let (st, body) = s
        .call(
            "GET",
            &format!("/api/v1/networks/{n}/ledger-slice?month={month}"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let text = body.to_string();
    assert!(
        !text.contains("ABC123") && !text.contains("XYZ789"),
        "no plate"
    );
    let slice: NetworkSlice = serde_json::from_value(body).unwrap();
    let keys = [s.state.ledger.public_key()];
    let v = verify_slice(&slice, &keys).unwrap();
    assert_eq!(v.total, slice.head.network_count(n).unwrap());
    assert!(v.total >= counted && v.described >= 2, "{v:?}");
    let searches = slice
        .entries
        .iter()
        .filter(|e| e.fields.value("action") == Some(&json!("search")))
        .count();
    assert!(searches >= 2);

    // One entry withheld: the completeness check fails.
    let mut short = slice.clone();
    short.entries.pop();
    let e = verify_slice(&short, &keys).unwrap_err().to_string();
    assert!(e.contains("incomplete"), "{e}");

    // The statement, recomputed from the slice at its head.
    let (st, body) = s
        .call(
            "GET",
            &format!("/api/v1/networks/{n}/statement?month={month}"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let statement: SignedStatement = serde_json::from_value(body).unwrap();
    assert!(
        statement
            .statement
            .counts
            .by_action
            .get("search")
            .copied()
            .unwrap_or(0)
            >= 2
    );
    // The network recomputes it from its slice as it fetches it, at the same head (none was
    // signed since), the uses under files still open withheld alike.
    let (st, body) = s
        .call(
            "GET",
            &format!("/api/v1/networks/{n}/ledger-slice?month={month}"),
            Some(&mine),
            None,
        )
        .await;
    assert_eq!(st, 200, "{body}");
    let at_its_head: NetworkSlice = serde_json::from_value(body).unwrap();
    assert_eq!(at_its_head.head, statement.statement.head);
    verify_statement(&statement, &at_its_head, &keys).unwrap();
    let mut changed = statement.clone();
    changed.statement.counts.uses += 1;
    assert!(verify_statement(&changed, &at_its_head, &keys).is_err());

    // As HTML.
    let resp = s
        .http
        .get(s.url(&format!(
            "/api/v1/networks/{n}/statement?month={month}&format=html"
        )))
        .bearer_auth(&mine)
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert!(resp.headers()["content-type"]
        .to_str()
        .unwrap()
        .starts_with("text/html"));
    let html = resp.text().await.unwrap();
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("Police use of network"));
    assert!(!html.contains("<script"));

    // Every fetch is in the ledger.
    assert_eq!(
        ledger_outcomes(&s, "network_ledger_slice"),
        ["granted", "granted"]
    );
    assert_eq!(
        ledger_outcomes(&s, "network_statement"),
        ["granted", "granted"]
    );
}

#[tokio::test]
async fn only_the_networks_own_auditor_gets_its_slice_or_statement() {
    let s = start().await;
    let n = s.network_id;
    let other = s
        .state
        .store
        .create_network("Z Energy", 60)
        .await
        .unwrap()
        .id;
    let theirs = network_auditor(&s, "N2", other).await;
    let month = this_month();
    for path in ["ledger-slice", "statement"] {
        let url = format!("/api/v1/networks/{n}/{path}?month={month}");
        let (st, body) = s.call("GET", &url, Some(&theirs), None).await;
        assert_eq!(st, 403, "{path}: {body}");
        assert!(
            body["error"]["message"]
                .as_str()
                .unwrap()
                .contains("not of network"),
            "{body}"
        );
        for who in ["admin", "auditor", "searcher", "supervisor"] {
            let t = s.login(who).await;
            let (st, body) = s.call("GET", &url, Some(&t), None).await;
            assert_eq!(st, 403, "{who} {path}: {body}");
        }
        let (st, _) = s.call("GET", &url, None, None).await;
        assert_eq!(st, 401);
    }
    let refused = ledger_outcomes(&s, "network_ledger_slice");
    assert!(refused.len() >= 5, "{refused:?}");
    assert!(refused.iter().all(|o| o == "refused"), "{refused:?}");

    // Bad input: a clear 4xx, never a slice.
    let mine = network_auditor(&s, "N1", n).await;
    for (query, status) in [("", 400), ("?month=2026-13", 422), ("?month=March", 422)] {
        let url = format!("/api/v1/networks/{n}/ledger-slice{query}");
        let (st, body) = s.call("GET", &url, Some(&mine), None).await;
        assert_eq!(st, status, "{query}: {body}");
    }
    let url = format!("/api/v1/networks/{n}/statement?month={month}&format=pdf");
    let (st, body) = s.call("GET", &url, Some(&mine), None).await;
    assert_eq!(st, 400, "{body}");
}

//! Every use from the command line is in the audit ledger, as the API's uses are: searches
//! granted and refused, refused exports, failed sign-ins, imports, user and catalog changes,
//! purges — and the CLI beside a running server on one data directory leaves both working.

mod harness;

use harness::{all, PASSWORD};
use serde_json::Value;
use std::path::Path;
use std::process::{Command, Output};

fn anpr_as(data: &Path, password: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("ANPR_PASSWORD", password)
        .output()
        .expect("anpr runs")
}

/// The ledger's entries, decoded.
fn entries(data: &Path) -> Vec<Value> {
    let conn = rusqlite::Connection::open(data.join("ledger").join("ledger.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT body FROM entries ORDER BY idx")
        .unwrap();
    let rows = stmt
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|b| serde_json::from_slice(&b.unwrap()).unwrap())
        .collect();
    rows
}

/// The entries after the first `from`, from the command line.
fn cli_entries(data: &Path, from: usize) -> Vec<Value> {
    entries(data)
        .into_iter()
        .skip(from)
        .filter(|e| e["query"]["channel"] == "cli")
        .collect()
}

fn search_args(file: &str) -> Vec<&str> {
    vec![
        "search",
        "--staff-id",
        "S1001",
        "ABC123",
        "--purpose",
        "serious_crime",
        "--file-number",
        file,
        "--justification",
        "Suspect vehicle in the aggravated robbery file",
    ]
}

#[test]
fn every_cli_use_is_in_the_ledger_granted_or_refused() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    harness::demo(d, 200);
    // The demo's seeding is itself a ledgered bulk load.
    assert!(
        entries(d)
            .iter()
            .any(|e| e["action"] == "ingest" && e["query"]["demo_seed"] == true),
        "the demo's seeding left no entry"
    );

    let before = entries(d).len();
    // A failed sign-in.
    let out = anpr_as(d, "not the password", &search_args("260101/2000"));
    assert!(!out.status.success());
    assert!(
        all(&out).contains("wrong staff id or password"),
        "{}",
        all(&out)
    );
    // A granted search, and one refused (a file that does not exist).
    let out = anpr_as(d, PASSWORD, &search_args("260101/2000"));
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr_as(d, PASSWORD, &search_args("999999/0001"));
    assert!(!out.status.success(), "{}", all(&out));
    // A refused export (no such file either).
    let out = anpr_as(
        d,
        PASSWORD,
        &[
            "export",
            "read",
            "1",
            "--out",
            d.join("x.zip").to_str().unwrap(),
            "--staff-id",
            "S1001",
            "--purpose",
            "serious_crime",
            "--file-number",
            "999999/0001",
            "--justification",
            "Evidence for the prosecution file in CRI-2026-9",
        ],
    );
    assert!(!out.status.success(), "{}", all(&out));
    assert!(!d.join("x.zip").exists());
    // Administration and a purge, as the operator at the console.
    let out = anpr_as(d, PASSWORD, &["network", "add", "Third network"]);
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr_as(
        d,
        "a long enough password",
        &[
            "user",
            "add",
            "--staff-id",
            "S2001",
            "--name",
            "New Officer",
            "--district",
            "Waikato",
            "--roles",
            "searcher",
        ],
    );
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr_as(d, PASSWORD, &["user", "disable", "S2001"]);
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr_as(d, PASSWORD, &["purge"]);
    assert!(out.status.success(), "{}", all(&out));

    let cli = cli_entries(d, before);
    let summary: Vec<(String, String)> = cli
        .iter()
        .map(|e| {
            (
                e["action"].as_str().unwrap().to_string(),
                e["outcome"]["result"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let has =
        |action: &str, outcome: &str| summary.iter().any(|(a, o)| a == action && o == outcome);
    assert!(has("login_failed", "refused"), "{summary:?}");
    assert!(has("login", "granted"), "{summary:?}");
    assert!(has("search", "granted"), "{summary:?}");
    assert!(has("search", "refused"), "{summary:?}");
    assert!(has("export", "refused"), "{summary:?}");
    assert!(has("catalog_change", "granted"), "{summary:?}");
    assert!(has("user_change", "granted"), "{summary:?}");
    assert!(has("purge", "granted"), "{summary:?}");
    // The refused search names the policy's reason and the staff member, like the API's.
    let refused = cli
        .iter()
        .find(|e| e["action"] == "search" && e["outcome"]["result"] == "refused")
        .unwrap();
    assert_eq!(refused["actor"]["id"], "S1001");
    assert_eq!(refused["query"]["refusal_code"], "unknown_file_number");
    assert_eq!(refused["file_number"], "999999/0001");
    // The ledger still verifies.
    let out = anpr_as(d, PASSWORD, &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
}

#[test]
fn the_cli_beside_a_running_server_leaves_both_working() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    harness::demo(d, 100);
    let server = harness::Server::start(d);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let token = rt.block_on(harness::login(&http, &server.url(""), "S1001"));
    let me = |http: &reqwest::Client| {
        rt.block_on(async {
            http.get(server.url("/api/v1/auth/me"))
                .bearer_auth(&token)
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    assert_eq!(me(&http), 200);
    // Uses from the CLI while the server serves and appends on the same ledger.
    for _ in 0..3 {
        let out = anpr_as(d, PASSWORD, &search_args("260101/2000"));
        assert!(out.status.success(), "{}", all(&out));
        assert_eq!(me(&http), 200, "the server stalled after a CLI append");
    }
    let out = anpr_as(d, PASSWORD, &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
    let actions: Vec<Value> = entries(d).iter().map(|e| e["action"].clone()).collect();
    assert!(actions.iter().filter(|a| *a == "search").count() >= 3);
    drop(server);
}

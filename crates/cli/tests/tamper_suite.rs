//! The audit ledger against someone who holds the database: on a stopped server's data
//! directory, each way of altering the record is caught by the server at start (it refuses to
//! serve, naming the entry) and by `anpr ledger verify`; the overseers' side (monitor, witness,
//! verify-remote) is in the tests further down.

mod harness;

use harness::*;
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A demo deployment that served some uses and signed a head over all of them, then stopped.
struct Baseline {
    _dir: tempfile::TempDir,
    data: PathBuf,
    /// The signed head an overseer saved, as JSON.
    head: Value,
}

fn baseline() -> Baseline {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    demo(&data, 200);
    let server = Server::start(&data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let head = rt.block_on(async {
        let http = reqwest::Client::new();
        let officer = login(&http, &server.base, "S1001").await;
        for plate in ["ABC123", "XYZ789", "KLM456", "QRS111"] {
            let resp = http
                .post(server.url("/api/v1/searches"))
                .bearer_auth(&officer)
                .json(&serde_json::json!({"plate": plate, "purpose": {
                    "code": "stolen_vehicle", "file_number": THEFT_FILE,
                    "justification": "Vehicle stolen from Te Rapa overnight"}}))
                .send()
                .await
                .unwrap();
            assert!(resp.status().is_success(), "{}", resp.status());
        }
        let auditor = login(&http, &server.base, "S1005").await;
        http.get(server.url("/api/v1/ledger/tree-head"))
            .bearer_auth(&auditor)
            .send()
            .await
            .unwrap()
            .json::<Value>()
            .await
            .unwrap()
    });
    drop(server);
    Baseline {
        _dir: dir,
        data,
        head,
    }
}

impl Baseline {
    fn size(&self) -> i64 {
        self.head["size"].as_i64().unwrap()
    }

    /// A copy of the stopped deployment to tamper with.
    fn copy(&self, name: &str) -> (tempfile::TempDir, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        let to = dir.path().join(name);
        let status = Command::new("cp")
            .arg("-a")
            .arg(&self.data)
            .arg(&to)
            .status()
            .unwrap();
        assert!(status.success());
        (dir, to)
    }
}

fn sql(data: &Path, statements: &str) {
    rusqlite::Connection::open(data.join("ledger/ledger.sqlite"))
        .unwrap()
        .execute_batch(statements)
        .unwrap();
}

/// `anpr serve` must exit during start, saying why; returns what it said.
fn start_refused(data: &Path) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(["serve", "--listen", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if started.elapsed() > Duration::from_secs(30) {
            let _ = child.kill();
            panic!("the server started over a tampered ledger");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    all(&out)
}

/// `anpr ledger verify` must fail; returns what it said.
fn verify_fails(data: &Path) -> String {
    let out = anpr(data, &["ledger", "verify"]);
    assert!(!out.status.success(), "verify passed: {}", all(&out));
    all(&out)
}

#[track_caller]
fn caught(data: &Path, at_start: &str, by_verify: &str) {
    let said = start_refused(data);
    assert!(said.contains(at_start), "at start: {said}");
    let said = verify_fails(data);
    assert!(said.contains(by_verify), "by verify: {said}");
}

#[test]
fn every_alteration_of_a_stopped_servers_ledger_is_caught_at_start_and_by_verify() {
    let base = baseline();
    let n = base.size();
    assert!(n > 10, "{n}");
    let middle = n / 2;

    // An entry's body edited, its leaf hash left alone.
    let (_k, d) = base.copy("edit");
    let c = rusqlite::Connection::open(d.join("ledger/ledger.sqlite")).unwrap();
    let body: String = c
        .query_row(
            "SELECT CAST(body AS TEXT) FROM entries WHERE idx = ?1",
            [middle],
            |r| r.get(0),
        )
        .unwrap();
    c.execute(
        "UPDATE entries SET body = CAST(?1 AS BLOB) WHERE idx = ?2",
        rusqlite::params![body.replacen("\"actor\"", "\"actr\"", 1), middle],
    )
    .unwrap();
    drop(c);
    caught(&d, &format!("index {middle}"), &format!("index {middle}"));

    // A middle entry deleted.
    let (_k, d) = base.copy("delete-middle");
    sql(&d, &format!("DELETE FROM entries WHERE idx = {middle}"));
    caught(&d, &format!("index {middle}"), &format!("index {middle}"));

    // The last entry deleted.
    let (_k, d) = base.copy("delete-last");
    sql(&d, &format!("DELETE FROM entries WHERE idx = {}", n - 1));
    caught(&d, &format!("index {}", n - 1), &format!("index {}", n - 1));

    // Two entries swapped.
    let (_k, d) = base.copy("swap");
    sql(
        &d,
        &format!(
            "UPDATE entries SET idx = -1 WHERE idx = {a};
             UPDATE entries SET idx = {a} WHERE idx = {b};
             UPDATE entries SET idx = {b} WHERE idx = -1;",
            a = middle,
            b = middle + 3
        ),
    );
    caught(&d, &format!("index {middle}"), &format!("index {middle}"));

    // An entry inserted: a copy of entry 1 at `middle`, the rest moved up.
    let (_k, d) = base.copy("insert");
    sql(
        &d,
        &format!(
            "UPDATE entries SET idx = -idx - 1 WHERE idx >= {middle};
             UPDATE entries SET idx = -idx WHERE idx < 0;
             INSERT INTO entries (idx, time, body, leaf_hash)
                 SELECT {middle}, time, body, leaf_hash FROM entries WHERE idx = 1;"
        ),
    );
    caught(&d, &format!("index {middle}"), &format!("index {middle}"));

    // The log truncated, with the heads that covered the lost entries.
    let (_k, d) = base.copy("truncate");
    sql(
        &d,
        &format!(
            "DELETE FROM entries WHERE idx >= {middle};
             DELETE FROM tree_heads WHERE size > {middle};"
        ),
    );
    caught(&d, "removed", &format!("index {middle}"));

    // A signed head's row deleted.
    let (_k, d) = base.copy("head-row");
    sql(
        &d,
        "DELETE FROM tree_heads WHERE id = (SELECT MAX(id) FROM tree_heads)",
    );
    caught(&d, "signed heads were removed", "signed heads were removed");

    // A node file edited: the hash of the first two entries.
    let (_k, d) = base.copy("node-file");
    let level1 = d.join("ledger/ledger-nodes/level-01");
    let mut bytes = std::fs::read(&level1).unwrap();
    bytes[0] ^= 1;
    std::fs::write(&level1, bytes).unwrap();
    caught(&d, "node", "node_mismatch");
}

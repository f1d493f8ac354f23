//! `anpr ledger monitor` against a live server, as an overseer runs it: incremental runs, a
//! resumed interruption, and tampering with a stopped server's ledger database.

mod harness;

use harness::{all, demo, Server};
use std::path::Path;
use std::process::{Command, Output};

fn anpr_as(token: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(args)
        .env("ANPR_TOKEN", token)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

fn monitor(server: &Server, data: &Path, state: &Path, token: &str, extra: &[&str]) -> Output {
    let key = data.join("ledger").join("ledger-signing-key.pub");
    let mut args = vec!["ledger", "monitor", &server.base, "--state"];
    args.push(state.to_str().unwrap());
    args.extend(["--public-key", key.to_str().unwrap()]);
    args.extend(extra);
    anpr_as(token, &args)
}

/// Sign-ins: each is one more ledger entry.
fn activity(server: &Server, n: usize) {
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    for _ in 0..n {
        rt.block_on(harness::login(&http, &server.base, "S1001"));
    }
}

fn token(server: &Server) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(harness::login(
        &reqwest::Client::new(),
        &server.base,
        "S1005",
    ))
}

fn state(dir: &Path) -> serde_json::Value {
    serde_json::from_slice(&std::fs::read(dir.join("state.json")).unwrap()).unwrap()
}

fn verified_size(dir: &Path) -> u64 {
    state(dir)["verified"]["size"].as_u64().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(out.status.success(), "{}", all(out));
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn monitor_downloads_only_new_entries_and_resumes_an_interrupted_run() {
    let dir = tempfile::tempdir().unwrap();
    let d = &dir.path().join("data");
    demo(d, 50);
    let server = Server::start(d);
    let token = token(&server);
    activity(&server, 20);
    let st = &dir.path().join("monitor");

    let out = ok(&monitor(
        &server,
        d,
        st,
        &token,
        &["--page-size", "5", "--max-pages", "2"],
    ));
    assert!(out.contains("stopped before the end"), "{out}");
    let saved = state(st);
    assert!(saved["verified"].is_null(), "unverified progress: {saved}");
    assert_eq!(saved["pending"]["size"], 10);

    let out = ok(&monitor(&server, d, st, &token, &["--page-size", "7"]));
    let n = verified_size(st);
    assert!(
        out.contains(&format!("OK: entries 10..{n} checked")),
        "{out}"
    );
    assert!(
        out.contains(&format!("; {} entries (", n - 10)),
        "only the rest is downloaded: {out}"
    );

    activity(&server, 3);
    let out = ok(&monitor(&server, d, st, &token, &[]));
    let n2 = verified_size(st);
    assert!(n2 >= n + 3, "{n} then {n2}");
    assert!(
        out.contains(&format!("OK: entries {n}..{n2} checked")),
        "{out}"
    );
    assert!(out.contains(&format!("; {} entries (", n2 - n)), "{out}");
    assert!(state(st)["pending"].is_null());
    let heads = std::fs::read_to_string(st.join("heads.jsonl")).unwrap();
    assert_eq!(heads.lines().count(), 3, "one signed head per run: {heads}");

    // --follow checks again while the platform goes on.
    let key = d.join("ledger").join("ledger-signing-key.pub");
    let mut follower = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args([
            "ledger",
            "monitor",
            &server.base,
            "--follow",
            "1",
            "--state",
        ])
        .arg(st)
        .arg("--public-key")
        .arg(&key)
        .env("ANPR_TOKEN", &token)
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    activity(&server, 2);
    let started = std::time::Instant::now();
    while verified_size(st) < n2 + 2 {
        assert!(follower.try_wait().unwrap().is_none(), "--follow exited");
        assert!(started.elapsed().as_secs() < 60, "--follow saw nothing new");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    follower.kill().unwrap();
    follower.wait().unwrap();
}

fn copy_dir(from: &Path, to: &Path) {
    let status = Command::new("cp")
        .arg("-a")
        .arg(from)
        .arg(to)
        .status()
        .unwrap();
    assert!(status.success());
}

fn tamper(data: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data.join("ledger").join("ledger.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

fn failed(out: &Output) -> String {
    assert!(!out.status.success(), "tampering not caught: {}", all(out));
    all(out)
}

#[test]
fn tampering_with_a_stopped_servers_ledger_is_caught() {
    let dir = tempfile::tempdir().unwrap();
    let root = dir.path();
    let d = &root.join("data");
    demo(d, 50);
    let mut server = Server::start(d);
    let token = token(&server);
    let out = anpr_as(&token, &["ledger", "tree-head", &server.base]);
    let trusted = root.join("trusted-head.json");
    std::fs::write(&trusted, ok(&out)).unwrap();
    // The monitor has seen the log up to n0; more activity follows, and a second monitor sees
    // that too, up to n1.
    let (early, late) = (&root.join("early"), &root.join("late"));
    ok(&monitor(&server, d, early, &token, &[]));
    let n0 = verified_size(early);
    // The server checks the last 64 leaf hashes when it opens: the tampering lies before them.
    activity(&server, 80);
    copy_dir(early, late);
    ok(&monitor(&server, d, late, &token, &[]));
    let n1 = verified_size(late);
    server.kill();
    let mid = n0 + 5;
    assert!(mid + 70 < n1, "{n0}..{n1}");

    let cases = [
        (
            "edit",
            format!("UPDATE entries SET body = CAST(replace(CAST(body AS TEXT), 'S1001', 'S9999') AS BLOB) WHERE idx = {mid}"),
            early,
            format!("edited at index {mid}"),
        ),
        (
            "delete",
            format!("DELETE FROM entries WHERE idx = {mid}"),
            early,
            format!("deleted at index {mid}"),
        ),
        (
            "swap",
            format!(
                "UPDATE entries SET idx = -1 WHERE idx = {mid};
                 UPDATE entries SET idx = {mid} WHERE idx = {a};
                 UPDATE entries SET idx = {a} WHERE idx = -1;",
                a = mid + 1
            ),
            early,
            format!("reordered at index {mid}"),
        ),
        (
            // Cut short so that the server opens and signs again: later entries, heads and the
            // derived node files removed, the sync point moved back.
            "truncate",
            format!(
                "DELETE FROM entries WHERE idx >= {mid};
                 DELETE FROM tree_heads WHERE size > {mid};
                 UPDATE meta SET value = '0' WHERE key = 'nodes_synced';
                 UPDATE meta SET value = (SELECT COUNT(*) FROM tree_heads)
                     WHERE key = 'tree_heads_signed';"
            ),
            late,
            "truncated at index".to_string(),
        ),
        (
            // The same, then grown past what the monitor saw: another history.
            "rewrite",
            format!(
                "DELETE FROM entries WHERE idx >= {mid};
                 DELETE FROM tree_heads WHERE size > {mid};
                 UPDATE meta SET value = '0' WHERE key = 'nodes_synced';
                 UPDATE meta SET value = (SELECT COUNT(*) FROM tree_heads)
                     WHERE key = 'tree_heads_signed';"
            ),
            late,
            format!("forked_head at index {n1}"),
        ),
    ];
    for (what, sql, seen, expected) in cases {
        let case = root.join(what);
        std::fs::create_dir(&case).unwrap();
        let (data, st) = (case.join("data"), case.join("monitor"));
        copy_dir(d, &data);
        copy_dir(seen, &st);
        tamper(&data, &sql);
        if what == "truncate" || what == "rewrite" {
            std::fs::remove_dir_all(data.join("ledger").join("ledger-nodes")).unwrap();
        }
        // A server that checks its ledger refuses to start over most of these (see
        // tests/tamper_suite.rs). This one plays a compromised server that serves them anyway:
        // it checks only from its latest signed head, which the tampering kept intact, and its
        // sweep crawls.
        let server = Server::start_with(
            &data,
            &["--ledger-check-at-start", "0", "--ledger-check-rate", "1"],
        );
        if what == "rewrite" {
            activity(&server, (n1 - mid) as usize + 5);
        }
        let out = failed(&monitor(&server, &data, &st, &token, &[]));
        assert!(out.contains(&expected), "{what}: {out}");
        assert!(out.contains("monitoring FAILED"), "{what}: {out}");
        if what == "edit" {
            // verify-remote checks every entry since the trusted head by default.
            let key = data.join("ledger").join("ledger-signing-key.pub");
            let args = [
                "ledger",
                "verify-remote",
                &server.base,
                "--trusted-head",
                trusted.to_str().unwrap(),
                "--public-key",
                key.to_str().unwrap(),
            ];
            let out = failed(&anpr_as(&token, &args));
            assert!(out.contains("checking each of the"), "{out}");
            assert!(out.contains(&format!("first bad index: {mid}")), "{out}");
        }
    }
}

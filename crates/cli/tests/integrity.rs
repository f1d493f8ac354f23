//! The article's audit replayed through the binary: `anpr simulate` writes a (small) year with
//! planted misuse and its truth to a separate file; `anpr integrity run` finds every planted
//! case; a second run from `last` looks only at what is new.

use std::path::Path;
use std::process::{Command, Output};

fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn simulate_then_audit_finds_every_planted_case() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("deployment");
    let truth = dir.path().join("truth.json");
    let truth_arg = truth.to_str().unwrap();
    let out = anpr(&data, &["simulate", "--small", "--truth", truth_arg]);
    assert!(out.status.success(), "{}", text(&out));
    assert!(
        text(&out).contains("400 staff who search (80 may track), 24 supervisors"),
        "{}",
        text(&out)
    );
    // The truth is not in the deployment.
    assert!(!std::fs::read_dir(&data)
        .unwrap()
        .any(|e| e.unwrap().file_name() == "truth.json"));
    let bad = anpr(
        &data,
        &[
            "simulate",
            "--small",
            "--truth",
            data.join("t.json").to_str().unwrap(),
        ],
    );
    assert!(!bad.status.success());

    let out = anpr(&data, &["integrity", "run", "--truth", truth_arg]);
    let t = text(&out);
    assert!(out.status.success(), "{t}");
    assert!(t.contains("recall 1.0000"), "{t}");
    assert!(t.contains("own_vehicle"), "{t}");
    assert!(!t.contains("missed:"), "{t}");

    // Run again: the same findings, merged into those stored, open no new case.
    let again = anpr(&data, &["integrity", "run"]);
    let t = text(&again);
    assert!(again.status.success(), "{t}");
    assert!(t.contains("cases opened: 0,"), "{t}");
    let window = anpr(&data, &["integrity", "run", "--since", "7000"]);
    assert!(window.status.success(), "{}", text(&window));
    assert!(
        text(&window).contains("entries 7000..="),
        "{}",
        text(&window)
    );
    let bad = anpr(&data, &["integrity", "run", "--since", "yesterday"]);
    assert!(!bad.status.success());
}

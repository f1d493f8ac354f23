//! The `anpr` binary end to end: demo, catalog commands, import, search and purge.

use std::path::Path;
use std::process::{Command, Output};

fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("ANPR_PASSWORD", "a long enough password")
        .output()
        .expect("anpr runs")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "stdout: {}\nstderr: {}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn demo_is_idempotent_and_prints_credentials() {
    let dir = tempfile::tempdir().unwrap();
    let first = ok(&anpr(
        dir.path(),
        &["demo", "--no-serve", "--reads", "400", "--days", "1"],
    ));
    assert!(first.contains("S1001"), "{first}");
    assert!(first.contains("API key"), "{first}");
    let networks = ok(&anpr(dir.path(), &["network", "list"]));
    let second = anpr(dir.path(), &["demo", "--no-serve", "--reads", "400"]);
    let second_out = ok(&second);
    assert!(String::from_utf8_lossy(&second.stderr).contains("already holds"));
    assert_eq!(first, second_out, "the same credentials are shown again");
    assert_eq!(networks, ok(&anpr(dir.path(), &["network", "list"])));
    let sites = ok(&anpr(dir.path(), &["site", "list"]));
    for town_district in ["Waikato", "Canterbury", "Wellington"] {
        assert!(sites.contains(town_district), "{sites}");
    }
    // Images were rendered and stored.
    let images = walk_count(&dir.path().join("images"));
    assert!(images > 10, "{images} image files");
}

fn walk_count(dir: &Path) -> usize {
    std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| {
            if e.path().is_dir() {
                walk_count(&e.path())
            } else {
                1
            }
        })
        .sum()
}

#[test]
fn catalog_import_search_and_purge() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    assert!(ok(&anpr(
        d,
        &["network", "add", "Auror", "--retention-days", "30"]
    ))
    .contains("network 1"));
    ok(&anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "Fuel stop Frankton",
            "--kind",
            "fuel_station",
            "--lat",
            "-45.02",
            "--lon",
            "168.73",
            "--district",
            "Southern",
        ],
    ));
    let cam = ok(&anpr(
        d,
        &["camera", "add", "--site", "1", "--name", "pump 1"],
    ));
    assert!(cam.contains("API key (shown once"), "{cam}");
    assert!(!ok(&anpr(d, &["camera", "list"])).contains("anpr_cam_"));

    let bad_kind = anpr(
        d,
        &[
            "site",
            "add",
            "--network",
            "1",
            "--name",
            "x",
            "--kind",
            "castle",
            "--lat",
            "0",
            "--lon",
            "0",
            "--district",
            "y",
        ],
    );
    assert!(!bad_kind.status.success());
    assert!(String::from_utf8_lossy(&bad_kind.stderr).contains("unknown site kind"));

    let now = chrono::Utc::now();
    let old = now - chrono::Duration::days(40);
    let dump = d.join("reads.jsonl");
    std::fs::write(
        &dump,
        format!(
            "{{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.9}}\n\
             {{\"camera_id\":1,\"plate\":\"QTN123\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             {{\"camera_id\":1,\"plate\":\"🚗\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             {{\"camera_id\":99,\"plate\":\"QTN999\",\"captured_at\":\"{}\",\"confidence\":0.8}}\n\
             not json at all\n",
            now.to_rfc3339(),
            old.to_rfc3339(),
            now.to_rfc3339(),
            now.to_rfc3339()
        ),
    )
    .unwrap();
    let out = anpr(d, &["import", dump.to_str().unwrap()]);
    let stdout = ok(&out);
    assert!(stdout.contains("imported 2 reads"), "{stdout}");
    assert!(stdout.contains("3 lines refused"), "{stdout}");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("line 3"), "{stderr}");

    let search = |extra: &[&str]| {
        let mut args = vec![
            "search",
            "QTN123",
            "--purpose",
            "stolen_vehicle",
            "--file-number",
            "260101/1",
            "--justification",
            "Vehicle stolen from Frankton yesterday",
        ];
        args.extend_from_slice(extra);
        ok(&anpr(d, &args))
    };
    assert!(
        search(&[]).starts_with("2 reads of 1 plate"),
        "{}",
        search(&[])
    );
    assert!(search(&["--fuzzy", "1"]).contains("Fuel stop Frankton"));
    let no_purpose = anpr(
        d,
        &[
            "search",
            "QTN123",
            "--purpose",
            "x",
            "--file-number",
            "1",
            "--justification",
            "too short",
        ],
    );
    assert!(!no_purpose.status.success());

    let purged = ok(&anpr(d, &["purge"]));
    assert!(purged.contains("purged 1 reads"), "{purged}");
    assert!(search(&[]).starts_with("1 reads of 1 plate"));
}

#[test]
fn users_need_long_passwords_and_known_roles() {
    let dir = tempfile::tempdir().unwrap();
    let made = anpr(
        dir.path(),
        &[
            "user",
            "add",
            "--staff-id",
            "S9",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "searcher,tracker",
        ],
    );
    assert!(ok(&made).contains("user S9"));
    let bad = anpr(
        dir.path(),
        &[
            "user",
            "add",
            "--staff-id",
            "S10",
            "--name",
            "N",
            "--district",
            "Waikato",
            "--roles",
            "wizard",
        ],
    );
    assert!(String::from_utf8_lossy(&bad.stderr).contains("unknown role"));
}

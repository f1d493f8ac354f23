//! An online backup taken while reads keep arriving restores into a deployment whose ledger
//! verifies and whose reads are all there.

use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::Arc;

fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

#[test]
fn backup_while_ingesting_then_restore_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let live = dir.path().join("live");
    let out = anpr(
        &live,
        &["demo", "--no-serve", "--reads", "200", "--days", "1"],
    );
    assert!(out.status.success(), "{}", all(&out));
    let creds = std::fs::read_to_string(live.join("DEMO-CREDENTIALS.txt")).unwrap();
    let key = creds
        .lines()
        .find_map(|l| l.split("API key: ").nth(1))
        .unwrap()
        .trim()
        .to_string();

    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(&live)
        .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }

    // Cameras keep sending while the backup runs.
    let stop = Arc::new(AtomicBool::new(false));
    let acked = Arc::new(AtomicU64::new(0));
    let ingest = {
        let (stop, acked) = (stop.clone(), acked.clone());
        std::thread::spawn(move || {
            let rt = tokio::runtime::Runtime::new().unwrap();
            rt.block_on(async {
                let http = reqwest::Client::new();
                let mut i = 0u64;
                while !stop.load(Ordering::SeqCst) {
                    let reads: Vec<_> = (0..50)
                        .map(|j| serde_json::json!({
                            "plate": format!("BK{:04}", (i * 50 + j) % 10_000),
                            "captured_at": (chrono::Utc::now() - chrono::Duration::minutes(40)).to_rfc3339(),
                            "confidence": 0.9,
                            "external_id": format!("bk-{i}-{j}"),
                        }))
                        .collect();
                    let resp = http
                        .post(format!("http://127.0.0.1:{port}/api/v1/reads:batch"))
                        .bearer_auth(&key)
                        .json(&serde_json::json!({ "reads": reads }))
                        .send()
                        .await
                        .unwrap();
                    assert!(resp.status().is_success(), "{}", resp.status());
                    acked.fetch_add(50, Ordering::SeqCst);
                    i += 1;
                }
            });
        })
    };
    while acked.load(Ordering::SeqCst) < 500 {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let before = acked.load(Ordering::SeqCst);
    let backup = dir.path().join("backup");
    let out = anpr(&live, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all(&out));
    stop.store(true, Ordering::SeqCst);
    ingest.join().unwrap();
    let _ = server.kill();
    let _ = server.wait();

    // The copy of personal data is as private as the original.
    let mode = |p: &Path| {
        use std::os::unix::fs::PermissionsExt;
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    };
    assert_eq!(mode(&backup), 0o700);
    assert_eq!(mode(&backup.join("anpr.sqlite")), 0o600);
    assert_eq!(mode(&backup.join("ledger/ledger.sqlite")), 0o600);
    if backup.join("images").exists() {
        assert_eq!(mode(&backup.join("images")), 0o700);
    }

    // A backup is never written over.
    let again = anpr(&live, &["backup", backup.to_str().unwrap()]);
    assert!(!again.status.success());

    let restored = dir.path().join("restored");
    let out = anpr(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all(&out));
    let text = all(&out);
    assert!(text.contains("verified"), "{text}");
    let reads: u64 = text
        .split("restored into")
        .nth(1)
        .and_then(|t| t.split(": ").nth(1))
        .and_then(|t| t.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no read count in {text}"));
    assert!(
        reads >= 200 + before,
        "{reads} reads restored, {before} acknowledged before the backup"
    );
    let out = anpr(&restored, &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
    // Restoring over a deployment is refused.
    let out = anpr(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(!out.status.success());
}

#[test]
fn a_deployment_whose_key_is_kept_apart_after_a_rotation_backs_up_and_restores() {
    let dir = tempfile::tempdir().unwrap();
    let (old, new) = (dir.path().join("old.key"), dir.path().join("new.key"));
    for key in [&old, &new] {
        let out = anpr(dir.path(), &["ledger", "new-key", key.to_str().unwrap()]);
        assert!(out.status.success(), "{}", all(&out));
    }
    let live = dir.path().join("live");
    let with = |key: &Path, previous: Option<&Path>, args: &[&str]| {
        let mut all_args = vec!["--signing-key", key.to_str().unwrap()];
        if let Some(p) = previous {
            all_args.extend(["--previous-signing-key", p.to_str().unwrap()]);
        }
        all_args.extend(args);
        anpr(&live, &all_args)
    };
    let demo = ["demo", "--no-serve", "--reads", "50", "--days", "1"];
    let out = with(&old, None, &demo);
    assert!(out.status.success(), "{}", all(&out));
    // Rotated: the new key endorses the old one, whose heads the demo signed.
    let out = with(&new, Some(&old), &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
    assert!(!live.join("ledger/ledger-signing-key").exists());
    assert!(live.join("ledger/ledger-retired-keys.json").exists());

    let backup = dir.path().join("backup");
    let out = anpr(&live, &["backup", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all(&out));
    let restored = dir.path().join("restored");
    let out = anpr(&restored, &["restore", backup.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all(&out));
    let out = with(&new, None, &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr(&restored, &["ledger", "verify"]);
    assert!(
        out.status.success(),
        "the old key's heads verify after the restore: {}",
        all(&out)
    );
}

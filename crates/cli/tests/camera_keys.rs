//! `anpr camera rotate-key` and `anpr camera revoke` from the console, beside a running
//! `anpr serve` on the same data directory: the server, which verified and remembers the
//! camera's key, follows each change at once; each change is in the ledger as the operator's,
//! and the key is in neither the ledger nor the server's log.

mod harness;

use harness::{all, anpr, Server};
use serde_json::{json, Value};
use std::path::Path;
use std::time::Duration;

/// The demo camera's id, from the credentials file (`camera N API key: ...`).
fn demo_camera_id(data: &Path) -> i64 {
    let creds = std::fs::read_to_string(data.join("DEMO-CREDENTIALS.txt")).unwrap();
    creds
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("camera ")?
                .split_once(" API key")?
                .0
                .parse()
                .ok()
        })
        .expect("the demo camera's id")
}

/// The key a command printed (`API key (shown once, ...): KEY`).
fn printed_key(out: &std::process::Output) -> String {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .find_map(|l| l.split("store it in the camera now): ").nth(1))
        .unwrap_or_else(|| panic!("no key printed: {}", all(out)))
        .trim()
        .to_string()
}

#[test]
fn keys_rotated_and_revoked_at_the_console_take_effect_on_the_running_server() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let deployment = harness::demo(&data, 20);
    let camera = demo_camera_id(&data);
    let old = deployment.camera_key;
    let log_path = dir.path().join("serve.log");
    let server = Server::start_logging_to(
        &data,
        "trace",
        std::fs::File::create(&log_path).unwrap().into(),
    );
    let rt = tokio::runtime::Runtime::new().unwrap();
    let http = reqwest::Client::new();
    let ingest = |key: &str| {
        rt.block_on(async {
            http.post(server.url("/api/v1/reads"))
                .bearer_auth(key)
                .json(&json!({"plate": "CLI123", "confidence": 0.9,
                              "captured_at": chrono::Utc::now().to_rfc3339()}))
                .send()
                .await
                .unwrap()
                .status()
                .as_u16()
        })
    };
    assert_eq!(ingest(&old), 201);
    let cam = camera.to_string();

    // Bad input is refused with a plain message; nothing changes.
    let out = anpr(&data, &["camera", "rotate-key", &cam, "--overlap", "8days"]);
    assert!(!out.status.success());
    assert!(
        all(&out).contains("overlap must be between"),
        "{}",
        all(&out)
    );
    let out = anpr(&data, &["camera", "rotate-key", &cam, "--overlap", "soon"]);
    assert!(!out.status.success(), "{}", all(&out));
    let out = anpr(&data, &["camera", "rotate-key", "999999"]);
    assert!(!out.status.success());
    assert!(
        all(&out).contains("camera 999999 not found"),
        "{}",
        all(&out)
    );
    assert_eq!(ingest(&old), 201);

    // Rotation: both keys work through the overlap, the new one only after it.
    let out = anpr(&data, &["camera", "rotate-key", &cam, "--overlap", "3s"]);
    assert!(out.status.success(), "{}", all(&out));
    let rotated_at = std::time::Instant::now();
    let new = printed_key(&out);
    assert!(
        all(&out).contains("previous key works until"),
        "{}",
        all(&out)
    );
    assert_eq!(ingest(&old), 201, "old key during the overlap");
    assert_eq!(ingest(&new), 201, "new key during the overlap");
    std::thread::sleep(Duration::from_millis(3100).saturating_sub(rotated_at.elapsed()));
    assert_eq!(ingest(&old), 401, "old key after the overlap");
    assert_eq!(ingest(&new), 201, "new key after the overlap");

    // Revocation: refused at once.
    let out = anpr(&data, &["camera", "revoke", &cam]);
    assert!(out.status.success(), "{}", all(&out));
    assert!(all(&out).contains("1 key(s) revoked"), "{}", all(&out));
    assert_eq!(ingest(&new), 401, "revoked key");

    // Both changes are the operator's, in the ledger; no key is there or in the server's log.
    let ledger = rusqlite::Connection::open(data.join("ledger").join("ledger.sqlite")).unwrap();
    let bodies: Vec<String> = ledger
        .prepare("SELECT body FROM entries ORDER BY idx")
        .unwrap()
        .query_map([], |r| r.get::<_, Vec<u8>>(0))
        .unwrap()
        .map(|b| String::from_utf8(b.unwrap()).unwrap())
        .collect();
    let changes: Vec<Value> = bodies
        .iter()
        .map(|b| serde_json::from_str::<Value>(b).unwrap())
        .filter(|e| e["action"] == "camera_key_change")
        .collect();
    let outcomes: Vec<(&str, &str)> = changes
        .iter()
        .map(|e| {
            assert_eq!(e["query"]["channel"], "cli", "{e}");
            assert!(
                e["actor"]["id"].as_str().unwrap().starts_with("operator:"),
                "{e}"
            );
            (
                e["query"]["change"].as_str().unwrap(),
                e["outcome"]["result"].as_str().unwrap(),
            )
        })
        .collect();
    assert_eq!(
        outcomes,
        [
            ("rotate", "refused"),
            ("rotate", "refused"),
            ("rotate", "granted"),
            ("revoke", "granted")
        ]
    );
    drop(server);
    let log = std::fs::read_to_string(&log_path).unwrap();
    assert!(log.contains("TRACE"), "the log was written at trace level");
    for key in [&old, &new] {
        // The random part may itself hold '_' (URL-safe base64): cut after the camera id.
        let (_, secret) = key
            .strip_prefix("anpr_cam_")
            .and_then(|rest| rest.split_once('_'))
            .expect("a camera key");
        assert!(!log.contains(secret), "a key reached the server's log");
        assert!(
            bodies.iter().all(|b| !b.contains(secret)),
            "a key reached the ledger"
        );
    }
}

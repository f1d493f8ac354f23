//! `anpr serve` shuts down in order on SIGTERM (what systemd and container runtimes send), as
//! on Ctrl-C: the requests in progress are answered, nothing acknowledged is lost, the
//! databases are checkpointed (no write-ahead log left behind) and the ledger verifies.

mod harness;

use harness::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What the cameras were told, and when each answer came relative to the signal.
#[derive(Default)]
struct Outcome {
    acknowledged: Vec<String>,
    /// Requests sent before the signal and answered 201 after it: finished in flight.
    finished_in_flight: usize,
    /// Complete answers other than 201: a fault, signal or not.
    unexpected: Vec<String>,
}

async fn camera(
    base: String,
    key: String,
    tag: usize,
    signalled: Arc<Mutex<Option<Instant>>>,
    out: Arc<Mutex<Outcome>>,
) {
    let http = reqwest::Client::new();
    for n in 0.. {
        let ids: Vec<String> = (0..1000).map(|j| format!("term-{tag}-{n}-{j}")).collect();
        let reads: Vec<Value> = ids
            .iter()
            .enumerate()
            .map(|(j, id)| {
                json!({"plate": format!("TM{:04}", (n * 1000 + j) % 10_000), "confidence": 0.9,
                       "captured_at": chrono::Utc::now().to_rfc3339(), "external_id": id})
            })
            .collect();
        let sent_at = Instant::now();
        let Ok(resp) = http
            .post(format!("{base}/api/v1/reads:batch"))
            .bearer_auth(&key)
            .json(&json!({ "reads": reads }))
            .send()
            .await
        else {
            return; // the server has stopped taking requests
        };
        let status = resp.status();
        let Ok(body) = resp.text().await else { return };
        let mut o = out.lock().unwrap();
        if status != 201 {
            o.unexpected.push(format!("{status} {body}"));
            return;
        }
        o.acknowledged.extend(ids);
        if signalled.lock().unwrap().is_some_and(|at| sent_at < at) {
            o.finished_in_flight += 1;
        }
    }
}

#[test]
fn sigterm_finishes_the_requests_in_progress_checkpoints_and_loses_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let deployment = demo(&dir.path().join("data"), 20);
    let data = deployment.data.clone();
    let mut server = Server::start(&data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let signalled = Arc::new(Mutex::new(None));
    let out = Arc::new(Mutex::new(Outcome::default()));
    let cameras: Vec<_> = (0..4)
        .map(|tag| {
            rt.spawn(camera(
                server.base.clone(),
                deployment.camera_key.clone(),
                tag,
                signalled.clone(),
                out.clone(),
            ))
        })
        .collect();
    // Under load, with batches in progress.
    while out.lock().unwrap().acknowledged.len() < 8_000 {
        std::thread::sleep(Duration::from_millis(20));
    }
    let wal = data.join("anpr.sqlite-wal");
    assert!(
        std::fs::metadata(&wal).is_ok_and(|m| m.len() > 0),
        "a running server writes ahead"
    );
    *signalled.lock().unwrap() = Some(Instant::now());
    server.signal("TERM");
    let status = server
        .wait_exit(Duration::from_secs(20))
        .expect("anpr serve still running 20 s after SIGTERM");
    assert!(status.success(), "exit after SIGTERM: {status:?}");
    for c in cameras {
        rt.block_on(c).unwrap();
    }

    let out = out.lock().unwrap();
    assert!(out.unexpected.is_empty(), "{:?}", out.unexpected);
    assert!(
        out.finished_in_flight >= 1,
        "no batch in progress at the signal was answered"
    );
    let log = std::fs::read_to_string(Server::log_path(&data, &server.base)).unwrap();
    assert!(log.contains("anpr: shutting down"), "{log}");

    // Checkpointed: the data is in the database files, no write-ahead log is left to replay.
    for db in ["anpr.sqlite", "ledger/ledger.sqlite"] {
        let wal = data.join(format!("{db}-wal"));
        let left = std::fs::metadata(&wal).map(|m| m.len()).unwrap_or(0);
        assert_eq!(
            left,
            0,
            "{} holds {left} bytes after an orderly shutdown",
            wal.display()
        );
    }
    let ids: Vec<&str> = out.acknowledged.iter().map(String::as_str).collect();
    let stored = stored_images(&data, &ids);
    let lost = ids.iter().filter(|id| !stored.contains_key(**id)).count();
    assert_eq!(lost, 0, "{lost} of {} acknowledged reads lost", ids.len());
    let verify = anpr(&data, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", all(&verify));
}

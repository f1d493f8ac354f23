//! Crash safety of the whole server: `anpr serve` is killed with SIGKILL at random moments
//! while cameras send reads with images, officers search and a tracker watches; after each
//! kill, every acknowledged read is stored with its image, no image or row is half-written,
//! the audit ledger verifies and holds the entry of every acknowledged request, and the
//! tracking authorisation (the watch) is still active after the restart.
//!
//! `ANPR_CRASH_ROUNDS` sets the number of rounds (default 20); `ANPR_CRASH_SEED` repeats a run.

mod harness;

use base64::Engine;
use harness::*;
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// What the server acknowledged, so must survive any crash after it.
#[derive(Default)]
struct Acked {
    /// External id and plate-image hash of every acknowledged read.
    reads: Vec<(String, String)>,
    /// Result digest (of the read ids) of every acknowledged ingest request.
    ingests: Vec<String>,
    /// Justification (unique per request) of every acknowledged search.
    searches: Vec<String>,
    /// Complete answers that were not the expected success: a bug whatever the crash.
    unexpected: Vec<String>,
}

type Shared = Arc<Mutex<Acked>>;

fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap()
}

async fn camera(base: String, key: String, tag: String, crop: Arc<Vec<u8>>, acked: Shared) {
    let http = client();
    let b64 = base64::engine::general_purpose::STANDARD;
    for n in 0u64.. {
        let batch: Vec<(String, Vec<u8>)> = (0..4)
            .map(|j| {
                let id = format!("{tag}-{n}-{j}");
                let image = anpr_synth::render::jpeg_with_comment(&crop, id.as_bytes()).unwrap();
                (id, image)
            })
            .collect();
        let reads: Vec<Value> = batch
            .iter()
            .enumerate()
            .map(|(j, (id, image))| {
                json!({
                    "plate": format!("CR{:04}", (n * 4 + j as u64) % 10_000),
                    "captured_at": (chrono::Utc::now() - chrono::Duration::minutes(40)).to_rfc3339(),
                    "confidence": 0.9,
                    "external_id": id,
                    "plate_image": b64.encode(image),
                })
            })
            .collect();
        let sent = http
            .post(format!("{base}/api/v1/reads:batch"))
            .bearer_auth(&key)
            .json(&json!({ "reads": reads }))
            .send()
            .await;
        let Ok(resp) = sent else { return };
        let status = resp.status();
        let Ok(body) = resp.json::<Value>().await else {
            return;
        };
        if status != 201 {
            acked
                .lock()
                .unwrap()
                .unexpected
                .push(format!("ingest: {status} {body}"));
            return;
        }
        let ids: Vec<i64> = body["reads"]
            .as_array()
            .unwrap()
            .iter()
            .map(|o| o["id"].as_i64().unwrap())
            .collect();
        let mut a = acked.lock().unwrap();
        a.ingests
            .push(anpr_ledger::ResultDigest::of_ids(&ids).sha256);
        for (id, image) in &batch {
            a.reads
                .push((id.clone(), anpr_blobs::hash_of(image).as_str().to_string()));
        }
    }
}

async fn searcher(base: String, token: String, tag: String, acked: Shared) {
    let http = client();
    for n in 0u64.. {
        let justification = format!("Crash harness {tag} search {n}: vehicle seen at Te Rapa");
        let sent = http
            .post(format!("{base}/api/v1/searches"))
            .bearer_auth(&token)
            .json(&json!({"plate": format!("CR{}*", n % 10), "purpose": {
                "code": "stolen_vehicle", "file_number": THEFT_FILE,
                "justification": justification}}))
            .send()
            .await;
        let Ok(resp) = sent else { return };
        let status = resp.status();
        let Ok(body) = resp.json::<Value>().await else {
            return;
        };
        match status.as_u16() {
            200 => acked.lock().unwrap().searches.push(justification),
            // The policy's rate limit: refused, recorded, not a fault.
            429 => tokio::time::sleep(Duration::from_millis(200)).await,
            _ => {
                acked
                    .lock()
                    .unwrap()
                    .unexpected
                    .push(format!("search: {status} {body}"));
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

async fn tracker(base: String, token: String, watch: i64, acked: Shared) {
    let http = client();
    loop {
        for path in [format!("/api/v1/tracking/{watch}"), "/api/v1/alerts".into()] {
            let Ok(resp) = http
                .get(format!("{base}{path}"))
                .bearer_auth(&token)
                .send()
                .await
            else {
                return;
            };
            let status = resp.status();
            let Ok(body) = resp.json::<Value>().await else {
                return;
            };
            if status != 200 {
                acked
                    .lock()
                    .unwrap()
                    .unexpected
                    .push(format!("GET {path}: {status} {body}"));
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Everything acknowledged so far is there, whole, and in the ledger.
fn check_after_crash(data: &std::path::Path, acked: &Acked) {
    let out = anpr(data, &["ledger", "verify"]);
    assert!(out.status.success(), "ledger verify: {}", all(&out));
    check_database(data);
    check_images(data);
    let ids: Vec<&str> = acked.reads.iter().map(|(id, _)| id.as_str()).collect();
    let stored = stored_images(data, &ids);
    for (id, sha) in &acked.reads {
        match stored.get(id) {
            Some(Some(stored_sha)) => assert_eq!(stored_sha, sha, "image of read {id}"),
            Some(None) => panic!("acknowledged read {id} lost its image"),
            None => panic!("acknowledged read {id} is missing"),
        }
    }
    let ledger = ledger_contents(data);
    for digest in &acked.ingests {
        assert!(
            ledger.result_digests.contains(digest),
            "the ledger lacks an acknowledged ingest ({digest})"
        );
    }
    for j in &acked.searches {
        assert!(
            ledger.justifications.contains(j),
            "the ledger lacks acknowledged search {j:?}"
        );
    }
}

async fn tracking_status(base: &str, token: &str, id: i64) -> Value {
    client()
        .get(format!("{base}/api/v1/tracking/{id}"))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

#[test]
fn sigkill_at_random_moments_loses_nothing_acknowledged() {
    let rounds: usize = std::env::var("ANPR_CRASH_ROUNDS")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(20);
    let mut rng = Rng::from_env("ANPR_CRASH_SEED");
    let dir = tempfile::tempdir().unwrap();
    let d = demo(&dir.path().join("data"), 50);
    let policy = unlimited_rate_policy(dir.path());
    let serve =
        |d: &Deployment| Server::start_with(&d.data, &["--policy", policy.to_str().unwrap()]);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();

    // Sessions and the watch are set up once: both must survive every crash.
    let mut server = serve(&d);
    let (searcher_token, tracker_token, watch) = rt.block_on(async {
        let http = client();
        let s = login(&http, &server.base, "S1001").await;
        let t = login(&http, &server.base, "S1002").await;
        let resp: Value = http
            .post(server.url("/api/v1/tracking"))
            .bearer_auth(&t)
            .json(&json!({"plate": d.stolen_plate, "purpose": {
                "code": "stolen_vehicle", "file_number": THEFT_FILE,
                "justification": "Vehicle reported stolen; crash harness watch"}}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(resp["status"], "active", "{resp}");
        (s, t, resp["id"].as_i64().unwrap())
    });
    server.kill();

    let crop = Arc::new(anpr_synth::render::render_plate_jpeg("CR0000", 240, 80, 1).unwrap());
    let acked: Shared = Default::default();
    for round in 0..rounds {
        let mut server = serve(&d);
        let base = server.base.clone();
        let status = rt.block_on(tracking_status(&base, &tracker_token, watch));
        assert_eq!(status["status"], "active", "round {round}: {status}");
        let mut tasks = Vec::new();
        for c in 0..3 {
            tasks.push(rt.spawn(camera(
                base.clone(),
                d.camera_key.clone(),
                format!("r{round}c{c}"),
                crop.clone(),
                acked.clone(),
            )));
        }
        for s in 0..2 {
            tasks.push(rt.spawn(searcher(
                base.clone(),
                searcher_token.clone(),
                format!("r{round}s{s}"),
                acked.clone(),
            )));
        }
        tasks.push(rt.spawn(tracker(
            base.clone(),
            tracker_token.clone(),
            watch,
            acked.clone(),
        )));
        std::thread::sleep(Duration::from_millis(100 + rng.below(700)));
        assert!(server.alive(), "round {round}: the server died by itself");
        server.kill();
        rt.block_on(async {
            for t in tasks {
                tokio::time::timeout(Duration::from_secs(30), t)
                    .await
                    .expect("clients stop once the server is gone")
                    .unwrap();
            }
        });
        let a = acked.lock().unwrap();
        assert!(a.unexpected.is_empty(), "round {round}: {:?}", a.unexpected);
        check_after_crash(&d.data, &a);
    }

    // After the last crash the watch still matches: a sighting of its plate raises an alert.
    let server = serve(&d);
    rt.block_on(async {
        let http = client();
        let resp = http
            .post(server.url("/api/v1/reads"))
            .bearer_auth(&d.camera_key)
            .json(
                &json!({"plate": d.stolen_plate, "captured_at": chrono::Utc::now().to_rfc3339(),
                          "confidence": 0.95}),
            )
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201);
        let alerts: Value = http
            .get(server.url("/api/v1/alerts"))
            .bearer_auth(&tracker_token)
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert!(
            alerts.to_string().contains(&d.stolen_plate),
            "the watch survived the crashes and raised an alert: {alerts}"
        );
    });
    let a = acked.lock().unwrap();
    eprintln!(
        "crash: {rounds} SIGKILL rounds survived; {} reads with images, {} ingest requests and \
         {} searches acknowledged, all present",
        a.reads.len(),
        a.ingests.len(),
        a.searches.len()
    );
    assert!(
        a.reads.len() >= rounds * 4,
        "too little was acknowledged to prove anything: {}",
        a.reads.len()
    );
}

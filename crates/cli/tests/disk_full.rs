//! The disk filling up: on a small tmpfs, ingest until the space runs out. The server answers
//! with a clear error (507, or 503 when the audit ledger cannot record), never a panic or a
//! dropped connection, and stays up; once space is freed and the process restarts, nothing is
//! corrupt and every acknowledged read is there with its image.
//!
//! Mounting needs root (CAP_SYS_ADMIN); where that is not permitted the test says so and skips.

mod harness;

use base64::Engine;
use harness::*;
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

struct Mount(PathBuf);

impl Mount {
    fn tmpfs(at: &Path, size: &str) -> Result<Mount, String> {
        let out = Command::new("mount")
            .args(["-t", "tmpfs", "-o", &format!("size={size}"), "tmpfs"])
            .arg(at)
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(String::from_utf8_lossy(&out.stderr).trim().to_string());
        }
        Ok(Mount(at.to_path_buf()))
    }
}

impl Drop for Mount {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg("-l").arg(&self.0).status();
    }
}

#[test]
fn a_full_disk_gives_clear_errors_and_no_corruption() {
    let dir = tempfile::tempdir().unwrap();
    let mount = match Mount::tmpfs(dir.path(), "40m") {
        Ok(m) => m,
        Err(e) => {
            anpr_testkit::skip(&format!(
                "cannot mount a small tmpfs here ({e}): the disk-full test needs root"
            ));
            return;
        }
    };
    let d = demo(&mount.0.join("data"), 50);
    // Space to give back once the disk is full.
    let ballast = mount.0.join("ballast");
    std::fs::write(&ballast, vec![1u8; 6 << 20]).unwrap();

    let mut server = Server::start(&d.data);
    let rt = tokio::runtime::Runtime::new().unwrap();
    let crop = anpr_synth::render::render_plate_jpeg("DF0000", 240, 80, 1).unwrap();
    let b64 = base64::engine::general_purpose::STANDARD;
    let mut acked: Vec<(String, String)> = Vec::new();
    let mut refusals: Vec<(u16, Value)> = Vec::new();
    rt.block_on(async {
        // A fresh connection per request: a pooled one the server has just closed as idle would
        // fail as if the server had dropped a request.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        for n in 0..5000u64 {
            // 30 KB of distinct bytes per image, so nothing deduplicates.
            let batch: Vec<(String, Vec<u8>)> = (0..10)
                .map(|j| {
                    let id = format!("df-{n}-{j}");
                    let noise: Vec<u8> = (0..30_000u64)
                        .map(|i| ((i * 2_654_435_761 + n * 97 + j) >> 7) as u8)
                        .collect();
                    let mut comment = id.clone().into_bytes();
                    comment.extend_from_slice(&noise);
                    (id, anpr_synth::render::jpeg_with_comment(&crop, &comment).unwrap())
                })
                .collect();
            let reads: Vec<Value> = batch
                .iter()
                .map(|(id, image)| json!({
                    "plate": format!("DF{:04}", n % 10_000),
                    "captured_at": (chrono::Utc::now() - chrono::Duration::minutes(40)).to_rfc3339(),
                    "confidence": 0.9, "external_id": id, "plate_image": b64.encode(image)}))
                .collect();
            let resp = http
                .post(server.url("/api/v1/reads:batch"))
                .bearer_auth(&d.camera_key)
                .json(&json!({ "reads": reads }))
                .send()
                .await
                .expect("an answer, not a dropped connection");
            let status = resp.status().as_u16();
            let body: Value = resp.json().await.expect("a JSON body");
            if status == 201 {
                assert!(refusals.is_empty(), "stored after a refusal with the disk still full");
                for (id, image) in &batch {
                    acked.push((id.clone(), anpr_blobs::hash_of(image).as_str().to_string()));
                }
            } else {
                refusals.push((status, body));
                if refusals.len() >= 5 {
                    break;
                }
            }
        }
    });
    assert!(
        !acked.is_empty(),
        "nothing was stored before the disk filled"
    );
    assert_eq!(refusals.len(), 5, "the disk never filled");
    for (status, body) in &refusals {
        assert!(
            matches!(status, 507 | 503),
            "a full disk is a clear 507 (or 503 when the ledger cannot record): {status} {body}"
        );
        assert!(
            body["error"]["message"]
                .as_str()
                .is_some_and(|m| !m.is_empty()),
            "{body}"
        );
    }
    assert!(server.alive(), "the server survived the full disk");
    let partial = std::fs::read_dir(d.data.join("images").join("tmp"))
        .unwrap()
        .count();
    assert_eq!(
        partial, 0,
        "failed image writes left partial files taking space"
    );
    rt.block_on(async {
        let resp = reqwest::get(server.url("/healthz")).await.unwrap();
        assert_eq!(resp.status(), 200);
    });
    eprintln!(
        "disk full: {} reads stored, then {:?}",
        acked.len(),
        refusals
            .iter()
            .map(|(s, b)| format!("{s} {}", b["error"]["code"]))
            .collect::<Vec<_>>()
    );

    // Space comes back; the process is killed and restarted as an operator would.
    std::fs::remove_file(&ballast).unwrap();
    server.kill();
    let out = anpr(&d.data, &["ledger", "verify"]);
    assert!(out.status.success(), "ledger verify: {}", all(&out));
    check_database(&d.data);
    check_images(&d.data);
    let ids: Vec<&str> = acked.iter().map(|(id, _)| id.as_str()).collect();
    let stored = stored_images(&d.data, &ids);
    for (id, sha) in &acked {
        assert_eq!(
            stored.get(id),
            Some(&Some(sha.clone())),
            "acknowledged read {id} with its image"
        );
    }
    let server = Server::start(&d.data);
    rt.block_on(async {
        // A fresh connection per request: a pooled one the server has just closed as idle would
        // fail as if the server had dropped a request.
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(0)
            .build()
            .unwrap();
        let resp = http
            .post(server.url("/api/v1/reads"))
            .bearer_auth(&d.camera_key)
            .json(&json!({"plate": "DF9999", "confidence": 0.9,
                          "captured_at": chrono::Utc::now().to_rfc3339()}))
            .timeout(Duration::from_secs(10))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 201, "ingest works again");
    });
}

/// A log that cannot be written (stderr a file on the full disk; here `/dev/full`, where every
/// write fails with ENOSPC) costs log lines, nothing else. The log writer used to report its
/// failure with `eprintln!`, which panics when stderr fails: the server died at start, and a
/// request that logged lost its connection without an answer (the `IncompleteMessage` the test
/// above saw once the disk was full). Needs no mount, so it runs everywhere.
#[test]
fn an_unwritable_log_costs_log_lines_not_requests() {
    let dir = tempfile::tempdir().unwrap();
    let d = demo(&dir.path().join("data"), 10);
    let full = std::fs::OpenOptions::new()
        .write(true)
        .open("/dev/full")
        .expect("/dev/full");
    // Every level, so that each request logs (hyper traces every connection).
    let mut server = Server::start_logging_to(&d.data, "trace", full.into());
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let http = reqwest::Client::new();
        for n in 0..20 {
            let resp = http
                .post(server.url("/api/v1/reads"))
                .bearer_auth(&d.camera_key)
                .json(&json!({"plate": format!("LG{n:04}"), "confidence": 0.9,
                              "captured_at": chrono::Utc::now().to_rfc3339()}))
                .timeout(Duration::from_secs(30))
                .send()
                .await
                .expect("an answer, not a dropped connection");
            assert_eq!(resp.status(), 201, "read {n} stored");
        }
        let resp = http
            .get(server.url("/api/v1/nowhere"))
            .send()
            .await
            .expect("an answer, not a dropped connection");
        assert_eq!(resp.status(), 404);
    });
    assert!(server.alive(), "the server survived its unwritable log");
}

//! Witnesses end to end: `anpr serve` pushes each new tree head to an overseer's
//! `anpr witness serve` over loopback HTTP, serves the cosignatures, and `ledger verify-remote
//! --witness-key` accepts the cosigned log. Then someone holding the server's key rewrites its
//! history (a new ledger, same key and origin): the witness refuses the rewritten head, the
//! server raises its alarm, and a reader who never saved a head but requires one cosignature
//! rejects the rewritten log.

mod harness;

use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

use harness::{all, anpr, free_port, login, Server};

const ORIGIN: &str = "police.example/anpr-audit";
const WITNESS: &str = "oversight.example/w1";
const METRICS_TOKEN: &str = "scrape-token-for-tests";

struct WitnessProcess(Child);

impl Drop for WitnessProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn stdout(out: &Output) -> String {
    assert!(out.status.success(), "{}", all(out));
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn start_witness(dir: &Path, port: u16, log_key: &str) -> WitnessProcess {
    let child = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(["witness", "serve", "--dir"])
        .arg(dir)
        .args(["--listen", &format!("127.0.0.1:{port}"), "--log", log_key])
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "witness did not start"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    WitnessProcess(child)
}

/// A demo deployment whose ledger signs with `key` under [`ORIGIN`]; its log key.
fn deployment(data: &Path, key: &Path) -> String {
    let key = key.to_str().unwrap();
    let common = ["--signing-key", key, "--ledger-origin", ORIGIN];
    let demo = [
        &common[..],
        &["demo", "--no-serve", "--reads", "20", "--days", "1"],
    ]
    .concat();
    stdout(&anpr(data, &demo));
    stdout(&anpr(
        data,
        &[&common[..], &["ledger", "checkpoint-key"]].concat(),
    ))
}

fn serve(data: &Path, key: &Path, witness: &str) -> Server {
    Server::start_with(
        data,
        &[
            "--signing-key",
            key.to_str().unwrap(),
            "--witness",
            witness,
            "--metrics-token",
            METRICS_TOKEN,
        ],
    )
}

fn verify_remote(base: &str, token: &str, public_key: &Path, witness_key: &str) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(["ledger", "verify-remote", base, "--public-key"])
        .arg(public_key)
        .args(["--witness-key", witness_key, "--witnesses-required", "1"])
        .args(["--samples", "5"])
        .env("ANPR_TOKEN", token)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

/// `anpr ledger monitor` from a state directory of its own, requiring one cosignature.
fn monitor(base: &str, token: &str, public_key: &Path, witness_key: &str, state: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(["ledger", "monitor", base, "--public-key"])
        .arg(public_key)
        .arg("--state")
        .arg(state)
        .args(["--witness-key", witness_key])
        .env("ANPR_TOKEN", token)
        .env("RUST_LOG", "warn")
        .output()
        .unwrap()
}

async fn wait_for(what: &str, mut done: impl AsyncFnMut() -> bool) {
    let started = Instant::now();
    while !done().await {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "timed out: {what}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rewritten_history_is_refused_by_the_witness_and_rejected_by_readers() {
    let tmp = tempfile::tempdir().unwrap();
    let key = tmp.path().join("ledger.key");
    stdout(&anpr(
        tmp.path(),
        &["ledger", "new-key", key.to_str().unwrap()],
    ));
    let data = tmp.path().join("data");
    let log_key = deployment(&data, &key);
    assert!(log_key.starts_with(&format!("{ORIGIN}+")), "{log_key}");
    let public_key = data.join("ledger").join("ledger-signing-key.pub");

    let wdir = tmp.path().join("witness");
    let witness_key = stdout(&anpr(
        tmp.path(),
        &[
            "witness",
            "init",
            "--dir",
            wdir.to_str().unwrap(),
            "--name",
            WITNESS,
        ],
    ));
    let wport = free_port();
    let _witness = start_witness(&wdir, wport, &log_key);
    let target = format!("{witness_key}=http://127.0.0.1:{wport}");

    // The honest server: its heads reach the witness and come back cosigned.
    let mut server = serve(&data, &key, &target);
    let http = reqwest::Client::new();
    let token = login(&http, &server.base, "S1005").await;
    let cosigned = async || {
        let resp = http
            .get(server.url("/api/v1/ledger/tree-head?cosigned=1"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        resp.status() == 200
    };
    wait_for("a cosigned head", cosigned).await;
    let note = http
        .get(server.url("/api/v1/ledger/checkpoint"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(note.starts_with(&format!("{ORIGIN}\n")), "{note}");
    let out = verify_remote(&server.base, &token, &public_key, &witness_key);
    assert!(out.status.success(), "{}", all(&out));
    assert!(all(&out).contains(&format!("cosigned by 1 trusted witness(es): {WITNESS}")));
    let watched = tmp.path().join("monitor-honest");
    let out = monitor(&server.base, &token, &public_key, &witness_key, &watched);
    assert!(out.status.success(), "{}", all(&out));
    assert!(
        all(&out).contains(&format!("cosigned by {WITNESS}")),
        "{}",
        all(&out)
    );
    server.kill();

    // The rewrite: a new history signed with the same key under the same origin.
    let forged = tmp.path().join("forged");
    assert_eq!(deployment(&forged, &key), log_key);
    let server = serve(&forged, &key, &target);
    let token = login(&http, &server.base, "S1005").await;
    // Heads of the forged log are signed, so the witness is asked.
    for _ in 0..5 {
        http.get(server.url("/api/v1/ledger/tree-head"))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
    }
    let refused = async || {
        let metrics = http
            .get(server.url("/metrics"))
            .bearer_auth(METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        metrics
            .lines()
            .any(|l| l.starts_with("anpr_ledger_witness_refusals_total ") && !l.ends_with(" 0"))
    };
    wait_for("the witness's refusal", refused).await;
    let log = std::fs::read_to_string(
        forged.with_extension(format!("{}.log", server.base.rsplit(':').next().unwrap())),
    )
    .unwrap();
    assert!(
        log.contains("ERROR") && log.contains("may have been rewritten"),
        "{log}"
    );

    // The witness still vouches for the original history only.
    let body = |note: &str| note.split("\n\n").next().unwrap().to_owned();
    let witnessed = http
        .get(format!(
            "http://127.0.0.1:{wport}/{}/checkpoint",
            anpr_witness::state::origin_hash(ORIGIN)
        ))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let forged_note = http
        .get(server.url("/api/v1/ledger/checkpoint"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(witnessed.contains(WITNESS), "{witnessed}");
    assert_ne!(body(&witnessed), body(&forged_note));
    assert!(!forged_note.contains(WITNESS), "{forged_note}");

    // A reader who saved nothing but requires one cosignature rejects the rewritten log ...
    let out = verify_remote(&server.base, &token, &public_key, &witness_key);
    assert!(!out.status.success(), "{}", all(&out));
    assert!(
        all(&out).contains("no tree head is cosigned"),
        "{}",
        all(&out)
    );
    // So does a monitor starting afresh, and one that had followed the honest log.
    let fresh = tmp.path().join("monitor-fresh");
    let out = monitor(&server.base, &token, &public_key, &witness_key, &fresh);
    assert!(!out.status.success(), "{}", all(&out));
    assert!(
        all(&out).contains("no tree head is cosigned"),
        "{}",
        all(&out)
    );
    let out = monitor(&server.base, &token, &public_key, &witness_key, &watched);
    assert!(!out.status.success(), "{}", all(&out));
    // ... which the log's own signature alone would have let through.
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(["ledger", "verify-remote", &server.base, "--public-key"])
        .arg(&public_key)
        .args(["--samples", "5"])
        .env("ANPR_TOKEN", &token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all(&out));
    // Back on the honest deployment: an evidence bundle exported once a witness cosigned its
    // head verifies with the witness's key alone, and not with a witness the reader does not
    // trust.
    drop(server);
    let _honest = serve(&data, &key, &target);
    let signing = ["--signing-key", key.to_str().unwrap()];
    let (_, bundle) = harness::export_bundle(&data, &signing, &["--cosignatures", "1"]);
    let verify_bundle = |witness: &str| {
        Command::new(env!("CARGO_BIN_EXE_anpr"))
            .args([
                "verify-bundle",
                bundle.to_str().unwrap(),
                "--witness-key",
                witness,
            ])
            .output()
            .unwrap()
    };
    let out = verify_bundle(&witness_key);
    assert!(out.status.success(), "{}", all(&out));
    assert!(all(&out).contains(&format!("cosigned by the witness(es) you trust: {WITNESS}")));
    let stranger = stdout(&anpr(
        tmp.path(),
        &[
            "witness",
            "init",
            "--dir",
            tmp.path().join("w2").to_str().unwrap(),
            "--name",
            "stranger.example/w",
        ],
    ));
    let out = verify_bundle(&stranger);
    assert!(!out.status.success(), "{}", all(&out));
}

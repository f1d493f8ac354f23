//! A witness over real HTTP on loopback, fed by real ledgers: it cosigns a head that extends
//! what it cosigned, and refuses a fork, a bad proof, a stale size, an unknown log and a
//! checkpoint the log did not sign, remembering across a restart what it vouched for.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use anpr_ledger::keys::{self, KeySource};
use anpr_ledger::note::{Note, NoteVerifier};
use anpr_ledger::{Action, Actor, Event, Ledger, Options};
use anpr_witness::client::{push, Pushed};
use anpr_witness::Witness;

const ORIGIN: &str = "police.example/anpr-audit";

/// A ledger in `dir` signing with the key file `key` under [`ORIGIN`].
fn ledger(dir: &Path, key: &Path) -> Arc<Ledger> {
    let opts = Options {
        keys: KeySource::Files {
            current: key.to_owned(),
            previous: None,
        },
        origin: Some(ORIGIN.into()),
        ..Default::default()
    };
    Arc::new(Ledger::open_with(dir, opts).unwrap())
}

fn key_file(dir: &Path) -> PathBuf {
    let path = dir.join("ledger.key");
    keys::create_key_file(&path).unwrap();
    path
}

/// Appends `n` events saying `what` and returns the new head's checkpoint.
fn grow(l: &Ledger, n: usize, what: &str) -> Note {
    let events: Vec<Event> = (0..n)
        .map(|i| {
            Event::new(Actor::staff("S00042", "analyst"), Action::Search)
                .purpose("INV")
                .justification(format!("{what} {i}"))
        })
        .collect();
    l.append(&events).unwrap();
    let head = l.sign_tree_head().unwrap();
    l.checkpoint(head.size).unwrap().unwrap()
}

struct Running {
    url: String,
    task: tokio::task::JoinHandle<std::io::Result<()>>,
}

async fn serve(dir: &Path, logs: Vec<NoteVerifier>) -> (Running, NoteVerifier) {
    let w = Arc::new(Witness::open(dir, Some("oversight.example/w1"), logs).unwrap());
    let verifier = w.verifier();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let task = tokio::spawn(anpr_witness::service::serve(listener, w));
    (Running { url, task }, verifier)
}

/// Posts a raw `add-checkpoint` body; returns status, content type and body.
async fn post(url: &str, body: String) -> (u16, String, String) {
    let resp = reqwest::Client::new()
        .post(format!("{url}/add-checkpoint"))
        .body(body)
        .send()
        .await
        .unwrap();
    let ct = resp
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    (resp.status().as_u16(), ct, resp.text().await.unwrap())
}

fn proof_of(
    l: &Arc<Ledger>,
    to: u64,
) -> impl Fn(u64) -> anpr_witness::Result<Vec<anpr_ledger::Hash>> {
    let l = l.clone();
    move |from| Ok(l.consistency_proof(from, to)?.hashes)
}

fn body(note: &Note, old: u64, proof: &[anpr_ledger::Hash]) -> String {
    anpr_witness::request_body(note, old, proof)
}

#[tokio::test(flavor = "multi_thread")]
async fn cosigns_extensions_and_refuses_forks_bad_proofs_and_stale_sizes() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key_file(tmp.path());
    let log = ledger(&tmp.path().join("log"), &key);
    let (w, witness_key) = serve(
        &tmp.path().join("witness"),
        vec![log.note_verifier().unwrap()],
    )
    .await;
    let http = reqwest::Client::new();

    // The first checkpoint: from size 0, no proof; the cosignature verifies.
    let first = grow(&log, 5, "first");
    let Pushed::Cosigned(lines) = push(&http, &w.url, &first, 0, proof_of(&log, 5))
        .await
        .unwrap()
    else {
        panic!("first checkpoint refused")
    };
    let mut cosigned = first.clone();
    cosigned.add_signature_lines(&lines).unwrap();
    cosigned
        .require_cosignatures(std::slice::from_ref(&witness_key), 1)
        .unwrap();
    assert_eq!(log.note_verifier().unwrap().name, ORIGIN);

    // A stale old size: 409 with the size the witness holds, as text/x.tlog.size.
    let second = grow(&log, 3, "second");
    let (status, ct, text) = post(&w.url, body(&second, 0, &[])).await;
    assert_eq!(
        (status, ct.as_str(), text.as_str()),
        (409, "text/x.tlog.size", "5\n")
    );
    // The client proves from that size instead, and gets the cosignature.
    assert!(matches!(
        push(&http, &w.url, &second, 0, proof_of(&log, 8))
            .await
            .unwrap(),
        Pushed::Cosigned(_)
    ));

    // A proof that does not prove: 422.
    let third = grow(&log, 2, "third");
    let mut bad = log.consistency_proof(8, 10).unwrap().hashes;
    bad[0][0] ^= 1;
    let (status, _, text) = post(&w.url, body(&third, 8, &bad)).await;
    assert_eq!(status, 422, "{text}");
    assert!(text.contains("does not extend"), "{text}");

    // A fork: the same key and origin, another history, longer than the cosigned one.
    let forked = ledger(&tmp.path().join("fork"), &key);
    let fork = grow(&forked, 12, "rewritten");
    match push(&http, &w.url, &fork, 0, proof_of(&forked, 12))
        .await
        .unwrap()
    {
        Pushed::Refused { status, message } => {
            assert_eq!(status, 422);
            assert!(message.contains("rewritten"), "{message}");
        }
        other => panic!("fork cosigned: {other:?}"),
    }
    // The same size with another root is a fork too.
    let same_size = grow(&ledger(&tmp.path().join("fork8"), &key), 8, "other");
    let (status, _, _) = post(&w.url, body(&same_size, 8, &[])).await;
    assert_eq!(status, 422);

    // The real log goes on being cosigned.
    let Pushed::Cosigned(_) = push(&http, &w.url, &third, 8, proof_of(&log, 10))
        .await
        .unwrap()
    else {
        panic!("an honest extension refused after a fork")
    };
    w.task.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn refuses_unknown_logs_unsigned_checkpoints_and_malformed_requests() {
    let tmp = tempfile::tempdir().unwrap();
    let log = ledger(&tmp.path().join("log"), &key_file(tmp.path()));
    let (w, _) = serve(
        &tmp.path().join("witness"),
        vec![log.note_verifier().unwrap()],
    )
    .await;
    let good = grow(&log, 4, "entry");

    // Signed by another key under the log's name: 403.
    let other_dir = tempfile::tempdir().unwrap();
    let impostor = ledger(&other_dir.path().join("log"), &key_file(other_dir.path()));
    let (status, _, text) = post(&w.url, body(&grow(&impostor, 4, "x"), 0, &[])).await;
    assert_eq!(status, 403, "{text}");
    // A known key's signature that does not verify (the text was changed): 403.
    let mut altered = good.clone();
    altered.text = altered.text.replace("\n4\n", "\n5\n");
    let (status, _, _) = post(&w.url, body(&altered, 0, &[])).await;
    assert_eq!(status, 403);
    // A log the witness was not told about: 404.
    let stranger = Ledger::open_with(
        tmp.path().join("stranger"),
        Options {
            origin: Some("elsewhere.example/log".into()),
            ..Default::default()
        },
    )
    .unwrap();
    let (status, _, text) = post(&w.url, body(&grow(&stranger, 1, "y"), 0, &[])).await;
    assert_eq!(status, 404, "{text}");
    assert!(text.contains("--log"), "{text}");
    // Malformed: 400, and an old size beyond the checkpoint's.
    for bad in [
        "hello".to_owned(),
        format!("old 01\n\n{good}"),
        format!("old 9\n\n{good}"),
        format!("old 0\nnot-a-hash\n\n{good}"),
    ] {
        let (status, _, text) = post(&w.url, bad.clone()).await;
        assert_eq!(status, 400, "{bad:?}: {text}");
    }
    // A proof from size 0 must be empty: 422.
    let (status, _, _) = post(&w.url, body(&good, 0, &[[0u8; 32]])).await;
    assert_eq!(status, 422);
    // None of that moved the witness: it still cosigns from 0.
    let (status, _, _) = post(&w.url, body(&good, 0, &[])).await;
    assert_eq!(status, 200);
    w.task.abort();
}

#[tokio::test(flavor = "multi_thread")]
async fn what_it_cosigned_survives_a_restart() {
    let tmp = tempfile::tempdir().unwrap();
    let key = key_file(tmp.path());
    let log = ledger(&tmp.path().join("log"), &key);
    let wdir = tmp.path().join("witness");
    let logs = vec![log.note_verifier().unwrap()];
    let (w, before) = serve(&wdir, logs.clone()).await;
    let http = reqwest::Client::new();
    let cp = grow(&log, 6, "kept");
    assert!(matches!(
        push(&http, &w.url, &cp, 0, proof_of(&log, 6))
            .await
            .unwrap(),
        Pushed::Cosigned(_)
    ));
    w.task.abort();
    let _ = w.task.await;

    let (w, after) = serve(&wdir, logs).await;
    assert_eq!(before, after, "the key and name are kept");
    let (status, _, text) = post(&w.url, body(&cp, 0, &[])).await;
    assert_eq!((status, text.as_str()), (409, "6\n"));
    let forked = ledger(&tmp.path().join("fork"), &key);
    let fork = grow(&forked, 9, "rewritten");
    assert!(matches!(
        push(&http, &w.url, &fork, 0, proof_of(&forked, 9))
            .await
            .unwrap(),
        Pushed::Refused { status: 422, .. }
    ));
    // Monitors read what it cosigned.
    let origin_hash = anpr_witness::state::origin_hash(ORIGIN);
    let served = reqwest::get(format!("{}/{origin_hash}/checkpoint", w.url))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let note = Note::parse(&served).unwrap();
    assert_eq!(note.text, cp.text);
    note.require_cosignatures(&[after], 1).unwrap();
    w.task.abort();
}

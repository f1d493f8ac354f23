//! `verify_remote`: an overseer's check of a server against a head saved earlier, done here with
//! JSON round trips to mimic the HTTP fetches.

mod common;

use anpr_ledger::merkle::{self, MemoryTree};
use anpr_ledger::{
    keys, verify_remote, ConsistencyProof, EntryProof, Ledger, ProblemKind, TreeHead, VerifyReport,
};
use common::sample_events;
use ed25519_dalek::pkcs8::DecodePrivateKey;
use serde::{de::DeserializeOwned, Serialize};

/// What goes over the wire.
fn wire<T: Serialize + DeserializeOwned>(v: &T) -> T {
    serde_json::from_str(&serde_json::to_string(v).unwrap()).unwrap()
}

struct Fetched {
    key: ed25519_dalek::VerifyingKey,
    latest: TreeHead,
    consistency: ConsistencyProof,
    samples: Vec<EntryProof>,
}

fn fetch(l: &Ledger, trusted: &TreeHead, sample: &[u64]) -> Fetched {
    let latest = l.latest_tree_head().unwrap().unwrap();
    let key_pem = std::fs::read_to_string(l.dir().join(keys::PUBLIC_KEY_FILE)).unwrap();
    Fetched {
        key: keys::parse_public_key(&key_pem).unwrap(),
        consistency: wire(
            &l.consistency_proof(trusted.size.max(1), latest.size)
                .unwrap(),
        ),
        samples: sample
            .iter()
            .map(|i| wire(&l.entry_proof(*i, latest.size).unwrap()))
            .collect(),
        latest: wire(&latest),
    }
}

fn check(trusted: &TreeHead, f: &Fetched) -> VerifyReport {
    verify_remote(&f.key, trusted, &f.latest, &f.consistency, &f.samples)
}

fn setup() -> (tempfile::TempDir, Ledger, TreeHead) {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    l.append(&sample_events(0, 30)).unwrap();
    let trusted = wire(&l.sign_tree_head().unwrap()); // saved by the overseer
    l.append(&sample_events(30, 45)).unwrap();
    l.sign_tree_head().unwrap();
    (dir, l, trusted)
}

#[test]
fn honest_server_passes() {
    let (_dir, l, trusted) = setup();
    let f = fetch(&l, &trusted, &[0, 29, 30, 74]);
    let r = check(&trusted, &f);
    assert!(r.is_ok(), "{r}");
    // Same size: empty proof, same root.
    let same = verify_remote(
        &f.key,
        &f.latest,
        &f.latest,
        &ConsistencyProof {
            from: 75,
            to: 75,
            hashes: vec![],
        },
        &[],
    );
    assert!(same.is_ok(), "{same}");
}

#[test]
fn edited_sample_is_found() {
    let (_dir, l, trusted) = setup();
    let mut f = fetch(&l, &trusted, &[3, 40]);
    f.samples[1].entry.body = f.samples[1].entry.body.replace("analyst", "analyzt");
    let r = check(&trusted, &f);
    assert_eq!(
        r.first_problem().map(|p| (p.kind, p.index)),
        Some((ProblemKind::Edited, Some(40))),
        "{r}"
    );
    // Rehashing the edited body does not help: the leaf is not under the signed root.
    f.samples[1].entry.leaf_hash = anpr_ledger::entry_leaf_hash(f.samples[1].entry.body.as_bytes());
    f.samples[1].proof.leaf_hash = f.samples[1].entry.leaf_hash;
    let r = check(&trusted, &f);
    assert_eq!(
        r.first_problem().map(|p| (p.kind, p.index)),
        Some((ProblemKind::Edited, Some(40))),
        "{r}"
    );
}

#[test]
fn served_out_of_order_is_found() {
    let (_dir, l, trusted) = setup();
    let mut f = fetch(&l, &trusted, &[10, 11]);
    let (a, b) = (
        f.samples[0].entry.body.clone(),
        f.samples[1].entry.body.clone(),
    );
    f.samples[0].entry.body = b;
    f.samples[1].entry.body = a;
    for s in &mut f.samples {
        s.entry.leaf_hash = anpr_ledger::entry_leaf_hash(s.entry.body.as_bytes());
    }
    let r = check(&trusted, &f);
    assert_eq!(
        r.first_problem().map(|p| (p.kind, p.index)),
        Some((ProblemKind::Reordered, Some(10))),
        "{r}"
    );
}

#[test]
fn shrunk_log_is_found() {
    let (_dir, l, trusted) = setup();
    let mut f = fetch(&l, &trusted, &[]);
    // The server now presents an old head (smaller than the trusted one).
    let old = l.tree_heads().unwrap()[0].clone();
    let big_trusted = f.latest.clone();
    f.latest = old;
    let r = check(&big_trusted, &f);
    assert_eq!(
        r.first_problem().map(|p| (p.kind, p.index)),
        Some((ProblemKind::Truncated, Some(30))),
        "{r}"
    );
}

#[test]
fn rewritten_history_is_found() {
    let (dir, l, trusted) = setup();
    // The server rewrites entry 12 and re-signs with the real key: its new heads are internally
    // consistent, but not with the head the overseer saved.
    let pem = std::fs::read_to_string(dir.path().join(keys::KEY_FILE)).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let mut forged = MemoryTree::new();
    for e in l.entries(0, 75).unwrap() {
        let b = if e.index == 12 {
            e.body.replace("analyst", "nobody")
        } else {
            e.body
        };
        forged.push(anpr_ledger::entry_leaf_hash(b.as_bytes()));
    }
    let latest = TreeHead::sign(75, forged.root(), chrono::Utc::now(), &key);
    let f = Fetched {
        key: key.verifying_key(),
        consistency: ConsistencyProof {
            from: 30,
            to: 75,
            hashes: merkle::consistency_proof(&forged, 30, 75).unwrap(),
        },
        latest,
        samples: vec![],
    };
    let r = check(&trusted, &f);
    assert_eq!(
        r.first_problem().map(|p| p.kind),
        Some(ProblemKind::ForkedHead),
        "{r}"
    );
}

#[test]
fn bad_signatures_and_wrong_keys_are_found() {
    let (_dir, l, trusted) = setup();
    let mut f = fetch(&l, &trusted, &[1]);
    let mut t2 = trusted.clone();
    t2.signature = f.latest.signature.clone();
    let r = check(&t2, &f);
    assert_eq!(
        r.first_problem().map(|p| (p.kind, p.head_size)),
        Some((ProblemKind::BadSignature, Some(30))),
        "{r}"
    );
    f.key = ed25519_dalek::SigningKey::from_bytes(&[1; 32]).verifying_key();
    let r = check(&trusted, &f);
    assert_eq!(r.of_kind(ProblemKind::BadSignature).count(), 2, "{r}");
}

#[test]
fn mismatched_proof_sizes_are_found() {
    let (_dir, l, trusted) = setup();
    let mut f = fetch(&l, &trusted, &[5]);
    f.consistency = l.consistency_proof(20, 75).unwrap();
    f.samples[0] = l.entry_proof(5, 60).unwrap();
    let r = check(&trusted, &f);
    assert_eq!(r.of_kind(ProblemKind::BadProof).count(), 2, "{r}");
}

//! The ledger end to end: appends, proofs from stored hashes, signed heads, reopening, recovery of
//! the node files, concurrent appenders.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::sync::Arc;
use std::time::Duration;

use anpr_ledger::merkle::{self, MemoryTree};
use anpr_ledger::{keys, EntryPage, Error, Event, Ledger, Options};
use chrono::Utc;
use common::{sample_event, sample_events};

fn memory_copy(l: &Ledger) -> MemoryTree {
    let n = l.size();
    let mut t = MemoryTree::new();
    let mut from = 0;
    while from < n {
        for e in l.entries(from, n).unwrap() {
            t.push(anpr_ledger::entry_leaf_hash(e.body.as_bytes()));
            from = e.index + 1;
        }
    }
    t
}

#[test]
fn append_assigns_sequence_numbers_and_stores_canonical_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert_eq!(l.size(), 0);
    assert_eq!(l.root().unwrap(), merkle::EMPTY_ROOT);
    assert_eq!(l.append(&sample_events(0, 3)).unwrap(), vec![0, 1, 2]);
    assert_eq!(l.append(&[]).unwrap(), Vec::<u64>::new());
    let mut e = sample_event(3);
    e.seq = 999; // ignored
    assert_eq!(l.append(&[e.clone()]).unwrap(), vec![3]);
    let entries = l.entries(0, 100).unwrap();
    assert_eq!(entries.len(), 4);
    for (i, s) in entries.iter().enumerate() {
        assert_eq!(s.index, i as u64);
        assert_eq!(s.leaf_hash, anpr_ledger::entry_leaf_hash(s.body.as_bytes()));
        let ev = Event::decode(s.body.as_bytes()).unwrap();
        assert_eq!(ev.seq, i as u64);
    }
    e.seq = 3;
    assert_eq!(Event::decode(entries[3].body.as_bytes()).unwrap(), e);
    assert_eq!(l.entries(2, 3).unwrap().len(), 1);
    assert!(l.entries(4, 10).unwrap().is_empty());
}

/// A page holds exactly the bodies `entries` returns, in order, and is reused from page to page.
#[test]
fn entry_pages_hold_the_stored_bodies() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    l.append(&sample_events(0, 25)).unwrap();
    let mut page = EntryPage::default();
    l.entry_page(3, 11, &mut page).unwrap();
    let want = l.entries(3, 11).unwrap();
    assert_eq!(page.len(), 8);
    let got: Vec<(u64, Vec<u8>)> = page.iter().map(|(i, b)| (i, b.to_vec())).collect();
    let want: Vec<(u64, Vec<u8>)> = want
        .iter()
        .map(|e| (e.index, e.body.clone().into_bytes()))
        .collect();
    assert_eq!(got, want);
    assert_eq!(page.last_index(), Some(10));
    // The next page replaces the last; past the end it is empty.
    l.entry_page(20, 100, &mut page).unwrap();
    assert_eq!(
        page.iter().map(|(i, _)| i).collect::<Vec<_>>(),
        vec![20, 21, 22, 23, 24]
    );
    l.entry_page(25, 30, &mut page).unwrap();
    assert!(page.is_empty());
    assert_eq!(page.last_index(), None);
}

#[test]
fn proofs_from_stored_hashes_match_a_recomputed_tree() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    for chunk in [1u64, 2, 5, 13, 40, 3] {
        let n = l.size();
        l.append(&sample_events(n, chunk)).unwrap();
    }
    let n = l.size();
    assert_eq!(n, 64);
    let mem = memory_copy(&l);
    assert_eq!(l.root().unwrap(), mem.root());
    for size in 1..=n {
        let root = l.root_at(size).unwrap();
        assert_eq!(root, merkle::root(&mem, size).unwrap());
        for i in 0..size {
            let p = l.inclusion_proof(i, size).unwrap();
            assert_eq!(p.hashes, merkle::inclusion_proof(&mem, i, size).unwrap());
            p.verify(&root).unwrap();
        }
        for from in 1..=size {
            let c = l.consistency_proof(from, size).unwrap();
            c.verify(&l.root_at(from).unwrap(), &root).unwrap();
        }
    }
    assert!(l.inclusion_proof(0, n + 1).is_err());
    assert!(l.inclusion_proof(n, n).is_err());
    assert!(l.consistency_proof(0, n).is_err());
    assert!(l.consistency_proof(3, n + 1).is_err());
    let ep = l.entry_proof(17, 40).unwrap();
    ep.verify(&l.root_at(40).unwrap()).unwrap();
    // Proofs travel as JSON with hex hashes.
    let json = serde_json::to_string(&ep).unwrap();
    assert!(json.contains(&hex::encode(ep.proof.leaf_hash)));
    let back: anpr_ledger::EntryProof = serde_json::from_str(&json).unwrap();
    assert_eq!(back, ep);
}

#[test]
fn signing_key_is_created_private_and_reused() {
    let dir = tempfile::tempdir().unwrap();
    let pk = {
        let l = Ledger::open(dir.path()).unwrap();
        l.public_key()
    };
    let key_file = dir.path().join(keys::KEY_FILE);
    assert_eq!(
        std::fs::metadata(&key_file).unwrap().permissions().mode() & 0o777,
        0o600
    );
    let pem = std::fs::read_to_string(&key_file).unwrap();
    assert!(pem.starts_with("-----BEGIN PRIVATE KEY-----"));
    assert_eq!(
        keys::read_public_key(&dir.path().join(keys::PUBLIC_KEY_FILE)).unwrap(),
        pk
    );
    assert_eq!(Ledger::open(dir.path()).unwrap().public_key(), pk);
    std::fs::set_permissions(&key_file, std::fs::Permissions::from_mode(0o644)).unwrap();
    assert!(matches!(Ledger::open(dir.path()), Err(Error::Key { .. })));
}

#[test]
fn tree_heads_are_signed_stored_and_rate_limited() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        sign_interval: Duration::from_secs(60),
        ..Options::default()
    };
    let l = Ledger::open_with(dir.path(), opts).unwrap();
    let t0 = Utc::now();
    assert!(
        l.maybe_sign(t0).unwrap().is_none(),
        "nothing to sign in an empty log"
    );
    l.append(&sample_events(0, 10)).unwrap();
    let h1 = l.maybe_sign(t0).unwrap().expect("first head");
    assert_eq!((h1.size, h1.root_hash), (10, l.root().unwrap()));
    h1.verify_signature(&l.public_key()).unwrap();
    l.append(&sample_events(10, 5)).unwrap();
    assert!(
        l.maybe_sign(t0 + chrono::Duration::seconds(59))
            .unwrap()
            .is_none(),
        "too soon"
    );
    let h2 = l
        .maybe_sign(t0 + chrono::Duration::seconds(60))
        .unwrap()
        .expect("due");
    assert_eq!(h2.size, 15);
    assert!(
        l.maybe_sign(t0 + chrono::Duration::seconds(600))
            .unwrap()
            .is_none(),
        "no new entries"
    );
    let h3 = l.sign_tree_head().unwrap();
    assert_eq!(h3.size, 15);
    assert_eq!(
        l.tree_heads().unwrap(),
        vec![h1.clone(), h2.clone(), h3.clone()]
    );
    assert_eq!(l.latest_tree_head().unwrap(), Some(h3));
    let c = l.consistency_proof(h1.size, h2.size).unwrap();
    c.verify(&h1.root_hash, &h2.root_hash).unwrap();
    let json = serde_json::to_value(&h2).unwrap();
    assert_eq!(json["root_hash"], hex::encode(h2.root_hash));
    assert!(l.verify_full().unwrap().is_ok());
}

#[test]
fn reopening_keeps_everything() {
    let dir = tempfile::tempdir().unwrap();
    let (root, head) = {
        let l = Ledger::open(dir.path()).unwrap();
        l.append(&sample_events(0, 100)).unwrap();
        (l.root().unwrap(), l.sign_tree_head().unwrap())
    };
    let l = Ledger::open(dir.path()).unwrap();
    assert_eq!(l.size(), 100);
    assert_eq!(l.root().unwrap(), root);
    assert_eq!(l.latest_tree_head().unwrap(), Some(head));
    assert_eq!(l.append(&sample_events(100, 1)).unwrap(), vec![100]);
    let report = l.verify_full().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!((report.entries, report.heads), (101, 1));
}

#[test]
fn node_files_are_rebuilt_from_the_entries() {
    let dir = tempfile::tempdir().unwrap();
    // Sync node files every 50 entries so that part of them is "unsynced" at the end.
    let opts = Options {
        nodes_sync_every: 50,
        ..Options::default()
    };
    let root = {
        let l = Ledger::open_with(dir.path(), opts.clone()).unwrap();
        for i in 0..13 {
            l.append(&sample_events(i * 17, 17)).unwrap();
        }
        l.root().unwrap()
    };
    let nodes = dir.path().join(anpr_ledger::NODES_DIR);
    // A torn write past the sync point: cut level 0 mid-record.
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(nodes.join("level-00"))
        .unwrap();
    f.set_len(200 * 32 + 7).unwrap();
    drop(f);
    {
        let l = Ledger::open_with(dir.path(), opts.clone()).unwrap();
        assert_eq!((l.size(), l.root().unwrap()), (221, root));
        assert!(l.verify_full().unwrap().is_ok());
    }
    // Lost entirely: rebuilt from the stored leaf hashes.
    std::fs::remove_dir_all(&nodes).unwrap();
    let l = Ledger::open_with(dir.path(), opts).unwrap();
    assert_eq!((l.size(), l.root().unwrap()), (221, root));
    assert!(l.verify_full().unwrap().is_ok());
    l.inclusion_proof(220, 221).unwrap().verify(&root).unwrap();
}

#[test]
fn concurrent_appends_are_group_committed_without_loss() {
    let dir = tempfile::tempdir().unwrap();
    let l = Arc::new(Ledger::open(dir.path()).unwrap());
    let threads: Vec<_> = (0..8)
        .map(|t| {
            let l = l.clone();
            std::thread::spawn(move || {
                let mut got = Vec::new();
                for i in 0..40u64 {
                    let n = 1 + (t + i) % 7;
                    let idx = l.append(&sample_events(i, n)).unwrap();
                    assert_eq!(idx.len() as u64, n);
                    assert!(
                        idx.windows(2).all(|w| w[1] == w[0] + 1),
                        "a call's entries are contiguous"
                    );
                    got.extend(idx);
                }
                got
            })
        })
        .collect();
    let signer = {
        let l = l.clone();
        std::thread::spawn(move || {
            for _ in 0..20 {
                l.sign_tree_head().unwrap();
                let _ = l.inclusion_proof(0, l.size().max(1));
                std::thread::sleep(Duration::from_millis(2));
            }
        })
    };
    let mut all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    signer.join().unwrap();
    all.sort_unstable();
    let n = l.size();
    assert_eq!(all, (0..n).collect::<Vec<_>>());
    let report = l.verify_full().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.heads, 20);
}

#[test]
fn checkpoints_are_kept_with_their_cosignatures() {
    let dir = tempfile::tempdir().unwrap();
    common::checkpoints::checkpoints_are_kept_with_their_cosignatures(&|origin| {
        let opts = Options {
            origin: origin.map(str::to_owned),
            ..Default::default()
        };
        Ledger::open_with(dir.path(), opts)
    });
    // A copy of the log (a move to PostgreSQL) keeps them, and the origin.
    let copy = tempfile::tempdir().unwrap();
    let db = |d: &std::path::Path| {
        anpr_ledger::store::SqliteStore::open(&d.join(anpr_ledger::store::DB_FILE)).unwrap()
    };
    let (mut from, mut to) = (db(dir.path()), db(copy.path()));
    anpr_ledger::store::copy_log(&mut from, &mut to, &mut |_| {}).unwrap();
    use anpr_ledger::store::EntryStore;
    assert_eq!(to.checkpoint(7).unwrap(), from.checkpoint(7).unwrap());
    assert_eq!(to.cosignatures(7).unwrap().len(), 1);
    assert_eq!(
        to.bind_origin("x.example/y").unwrap(),
        "police.example/anpr-audit"
    );
    // A log from before checkpoints were kept gets one signed for a head when asked: the same
    // note, since Ed25519 signatures are deterministic.
    let kept = from.checkpoint(7).unwrap().unwrap();
    rusqlite::Connection::open(dir.path().join(anpr_ledger::store::DB_FILE))
        .unwrap()
        .execute("DELETE FROM checkpoints", [])
        .unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let note = l.checkpoint(7).unwrap().unwrap();
    assert_eq!(
        note.signatures.len(),
        2,
        "the log's signature and the cosignature"
    );
    assert!(kept.contains(&note.signatures[0].to_string()));
    assert_eq!(from.checkpoint(7).unwrap().unwrap(), kept);
}

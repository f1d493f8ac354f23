//! Tampering with the stored log behind the ledger's back, with plain SQL and file operations:
//! every kind must be found by `verify_full`, at the first bad index.

mod common;

use std::path::Path;

use anpr_ledger::merkle::MemoryTree;
use anpr_ledger::{Error, Ledger, ProblemKind, TreeHead, VerifyReport};
use common::tampered::{build, forged_body, sql};
use common::{sample_event, sample_events};
use ed25519_dalek::pkcs8::DecodePrivateKey;
use rusqlite::params;
use tempfile::TempDir;

fn verify(dir: &Path) -> VerifyReport {
    Ledger::open(dir).unwrap().verify_full().unwrap()
}

#[track_caller]
fn assert_first(report: &VerifyReport, kind: ProblemKind, index: u64) {
    let p = report
        .first_problem()
        .unwrap_or_else(|| panic!("nothing found: {report}"));
    assert_eq!((p.kind, p.index), (kind, Some(index)), "{report}");
    assert_eq!(report.first_bad_index(), Some(index), "{report}");
}

#[test]
fn edited_body() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute(
        "UPDATE entries SET body = ?1 WHERE idx = 37",
        [forged_body(&c, 37)],
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Edited, 37);
}

#[test]
fn edited_body_with_recomputed_leaf_hash() {
    let (dir, _) = build();
    let c = sql(dir.path());
    let b = forged_body(&c, 37);
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = 37",
        params![b, &leaf[..]],
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Edited, 37);
}

#[test]
fn consistent_rewrite_with_rebuilt_node_files_is_caught_by_the_heads() {
    let (dir, _) = build();
    let c = sql(dir.path());
    let b = forged_body(&c, 37);
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = 37",
        params![b, &leaf[..]],
    )
    .unwrap();
    std::fs::remove_dir_all(dir.path().join(anpr_ledger::NODES_DIR)).unwrap();
    let r = verify(dir.path());
    // The heads at 50 and 100 no longer match; the head at 20 still does.
    assert_first(&r, ProblemKind::ForkedHead, 20);
    assert_eq!(r.of_kind(ProblemKind::ForkedHead).count(), 2, "{r}");
}

#[test]
fn deleted_row() {
    let (dir, _) = build();
    sql(dir.path())
        .execute("DELETE FROM entries WHERE idx = 50", [])
        .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Deleted, 50);
}

#[test]
fn deleted_row_with_renumbering() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute("DELETE FROM entries WHERE idx = 50", []).unwrap();
    c.execute("UPDATE entries SET idx = idx - 1 WHERE idx > 50", [])
        .unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert!(
        l.damaged().is_some(),
        "fewer entries than were synced: damaged"
    );
    assert!(matches!(
        l.append(&[sample_event(0)]),
        Err(Error::Damaged(_))
    ));
    assert!(matches!(l.sign_tree_head(), Err(Error::Damaged(_))));
    assert_first(&l.verify_full().unwrap(), ProblemKind::Deleted, 50);
}

#[test]
fn swapped_rows() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute_batch(
        "UPDATE entries SET idx = -1 WHERE idx = 20;
         UPDATE entries SET idx = 20 WHERE idx = 30;
         UPDATE entries SET idx = 30 WHERE idx = -1;",
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Reordered, 20);
}

#[test]
fn swapped_adjacent_rows() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute_batch(
        "UPDATE entries SET idx = -1 WHERE idx = 70;
         UPDATE entries SET idx = 70 WHERE idx = 71;
         UPDATE entries SET idx = 71 WHERE idx = -1;",
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Reordered, 70);
}

#[test]
fn inserted_row_in_the_middle() {
    let (dir, _) = build();
    let c = sql(dir.path());
    // Make room at 60, then insert a well-formed, correctly hashed entry claiming to be 60.
    c.execute_batch(
        "UPDATE entries SET idx = -idx - 1 WHERE idx >= 60;
         UPDATE entries SET idx = -idx WHERE idx < 0;",
    )
    .unwrap();
    let mut ev = sample_event(12345);
    ev.seq = 60;
    let b = ev.encode();
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "INSERT INTO entries (idx, time, body, leaf_hash) VALUES (60, 0, ?1, ?2)",
        params![b, &leaf[..]],
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Inserted, 60);
}

#[test]
fn replayed_row_appended_at_the_end() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute(
        "INSERT INTO entries (idx, time, body, leaf_hash) SELECT 100, time, body, leaf_hash FROM entries WHERE idx = 5",
        [],
    )
    .unwrap();
    assert_first(&verify(dir.path()), ProblemKind::Inserted, 100);
}

#[test]
fn replaced_signature() {
    let (dir, heads) = build();
    let c = sql(dir.path());
    c.execute(
        "UPDATE tree_heads SET signature = ?1 WHERE size = 50",
        [&heads[0].signature],
    )
    .unwrap();
    let r = verify(dir.path());
    assert!(!r.is_ok());
    let p = r.first_problem().unwrap();
    assert_eq!(
        (p.kind, p.head_size, p.index),
        (ProblemKind::BadSignature, Some(50), None),
        "{r}"
    );
    // A head whose size was raised without re-signing is caught the same way.
    c.execute(
        "UPDATE tree_heads SET signature = ?1 WHERE size = 50",
        [&heads[1].signature],
    )
    .unwrap();
    c.execute("UPDATE tree_heads SET size = 60 WHERE size = 50", [])
        .unwrap();
    let r = verify(dir.path());
    assert_eq!(r.of_kind(ProblemKind::BadSignature).count(), 1, "{r}");
}

#[test]
fn truncated_log() {
    let (dir, _) = build();
    sql(dir.path())
        .execute("DELETE FROM entries WHERE idx >= 80", [])
        .unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert!(l.damaged().is_some());
    let r = l.verify_full().unwrap();
    assert_first(&r, ProblemKind::Truncated, 80);
}

#[test]
fn truncated_log_and_heads() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute("DELETE FROM entries WHERE idx >= 80", [])
        .unwrap();
    c.execute("DELETE FROM tree_heads WHERE size > 80", [])
        .unwrap();
    c.execute(
        "UPDATE meta SET value = '80' WHERE key = 'nodes_synced'",
        [],
    )
    .unwrap();
    // The node files still hold the leaf hashes of entries 80..99.
    assert_first(&verify(dir.path()), ProblemKind::Truncated, 80);
}

#[test]
fn forked_head_signed_with_the_real_key() {
    let (dir, heads) = build();
    // Someone with the key signs a head over a different history of 50 entries.
    let pem = std::fs::read_to_string(dir.path().join(anpr_ledger::keys::KEY_FILE)).unwrap();
    let key = ed25519_dalek::SigningKey::from_pkcs8_pem(&pem).unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let mut tree = MemoryTree::new();
    for e in l.entries(0, 50).unwrap() {
        let b = if e.index == 35 {
            b"rewritten".to_vec()
        } else {
            e.body.into_bytes()
        };
        tree.push(anpr_ledger::entry_leaf_hash(&b));
    }
    drop(l);
    let forged = TreeHead::sign(50, tree.root(), chrono::Utc::now(), &key);
    forged.verify_signature(&key.verifying_key()).unwrap();
    sql(dir.path())
        .execute(
            "INSERT INTO tree_heads (size, root_hash, timestamp, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![50, hex::encode(forged.root_hash), forged.timestamp, forged.key_id, forged.signature],
        )
        .unwrap();
    let r = verify(dir.path());
    let p = r.first_problem().unwrap();
    assert_eq!(
        (p.kind, p.index, p.head_size),
        (ProblemKind::ForkedHead, Some(heads[0].size), Some(50)),
        "{r}"
    );
    assert_eq!(r.problem_count, 1, "{r}");
}

#[test]
fn clean_log_verifies() {
    let (dir, _) = build();
    let r = verify(dir.path());
    assert!(r.is_ok(), "{r}");
    assert_eq!((r.entries, r.heads), (100, 3));
    assert!(r.to_string().starts_with("OK"));
}

#[test]
fn corrupted_node_file_is_found_at_open_and_by_verify() {
    let (dir, _) = build();
    // Flip a byte of node (level 5, index 2), which covers entries 64..96 and is one of the
    // perfect subtrees whose fold gives the root at size 100.
    let path = dir.path().join(anpr_ledger::NODES_DIR).join("level-05");
    let mut bytes = std::fs::read(&path).unwrap();
    bytes[2 * 32] ^= 1;
    std::fs::write(&path, bytes).unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert!(
        l.damaged().is_some(),
        "open checks the latest head's root against the node files"
    );
    let r = l.verify_full().unwrap();
    assert_first(&r, ProblemKind::NodeMismatch, 2 << 5);
    drop(l);
    // The entries are intact: deleting the derived files rebuilds them.
    std::fs::remove_dir_all(dir.path().join(anpr_ledger::NODES_DIR)).unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert!(l.damaged().is_none());
    assert!(l.verify_full().unwrap().is_ok());
    l.append(&[sample_event(100)]).unwrap();
}

#[test]
fn tampering_in_the_tail_blocks_appends_at_open() {
    let (dir, _) = build();
    let c = sql(dir.path());
    let b = forged_body(&c, 90);
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = 90",
        params![b, &leaf[..]],
    )
    .unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert!(
        l.damaged().unwrap().contains("index 90"),
        "{:?}",
        l.damaged()
    );
    assert!(matches!(
        l.append(&[sample_event(0)]),
        Err(Error::Damaged(_))
    ));
    assert_first(&l.verify_full().unwrap(), ProblemKind::Edited, 90);
}

/// A log of 1,100 entries whose latest signed head is at 1,070; with `killed`, its writer
/// stopped before syncing the node files past that head (what a killed server leaves).
fn log_past_its_head(killed: bool) -> TempDir {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    l.append(&sample_events(0, 1070)).unwrap();
    l.sign_tree_head().unwrap();
    l.append(&sample_events(1070, 30)).unwrap();
    drop(l);
    if killed {
        sql(dir.path())
            .execute(
                "UPDATE meta SET value = '1070' WHERE key = 'nodes_synced'",
                [],
            )
            .unwrap();
    }
    dir
}

/// The altered entry, not the last good head before it, leads the report, whether its leaf
/// hash was recomputed or not and whether the node files were synced past it or not.
#[test]
fn an_entry_edited_past_the_latest_head_is_named_before_any_head() {
    for killed in [false, true] {
        for recompute_leaf in [false, true] {
            let dir = log_past_its_head(killed);
            let c = sql(dir.path());
            let b = forged_body(&c, 1081);
            if recompute_leaf {
                let leaf = anpr_ledger::entry_leaf_hash(&b);
                c.execute(
                    "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = 1081",
                    params![b, &leaf[..]],
                )
                .unwrap();
            } else {
                c.execute("UPDATE entries SET body = ?1 WHERE idx = 1081", [b])
                    .unwrap();
            }
            let l = Ledger::open(dir.path()).unwrap();
            let r = l.verify_full().unwrap();
            assert_first(&r, ProblemKind::Edited, 1081);
            let said = r.to_string();
            let first = said.lines().nth(1).unwrap_or_default();
            assert!(
                first.starts_with("first: edited at index 1081"),
                "killed {killed}, leaf recomputed {recompute_leaf}: {said}"
            );
            if recompute_leaf {
                // The edit survives the node files' recovery at open: nothing rewrote the
                // record of the original leaf hash.
                assert!(l.damaged().is_some(), "{r}");
                drop(l);
                let r = verify(dir.path());
                assert_first(&r, ProblemKind::Edited, 1081);
            }
        }
    }
}

//! The server's own check ([`anpr_ledger::Checker`]) against a log tampered with behind its
//! back: every kind is named at the entry where it happened, and nothing is signed over it.

mod common;

use std::path::Path;

use anpr_ledger::{Error, Ledger, Problem, ProblemKind};
use common::sample_events;
use common::tampered::{build, forged_body, sql};
use rusqlite::params;

/// Re-reads the whole log the way a server does at start; the first problem, if any.
fn check_all(dir: &Path) -> Option<Problem> {
    let l = Ledger::open(dir).unwrap();
    let mut c = l.checker().unwrap();
    loop {
        match l.check_next(&mut c, 7).unwrap() {
            Ok(0) => return None,
            Ok(_) => {}
            Err(p) => return Some(p),
        }
    }
}

#[track_caller]
fn assert_caught(dir: &Path, kind: ProblemKind, index: u64) {
    let p = check_all(dir).expect("the check found nothing");
    assert_eq!((p.kind, p.index), (kind, Some(index)), "{p}");
}

#[test]
fn an_untouched_log_checks_whole_and_from_its_latest_head() {
    let (dir, heads) = build();
    assert_eq!(check_all(dir.path()), None);
    let l = Ledger::open(dir.path()).unwrap();
    let mut c = l.checker_at_latest_head().unwrap().unwrap();
    assert_eq!(c.position(), heads[2].size);
    l.append(&sample_events(100, 30)).unwrap();
    assert_eq!(l.check_next(&mut c, 1000).unwrap(), Ok(30));
    assert_eq!(l.check_next(&mut c, 1000).unwrap(), Ok(0));
}

#[test]
fn an_edited_body_is_named_by_its_index() {
    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute(
        "UPDATE entries SET body = ?1 WHERE idx = 37",
        [forged_body(&c, 37)],
    )
    .unwrap();
    assert_caught(dir.path(), ProblemKind::Edited, 37);
}

#[test]
fn an_edited_body_with_its_leaf_hash_is_named_by_its_index() {
    let (dir, _) = build();
    let c = sql(dir.path());
    let b = forged_body(&c, 81);
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = 81",
        params![b, &leaf[..]],
    )
    .unwrap();
    assert_caught(dir.path(), ProblemKind::Edited, 81);
}

#[test]
fn a_rewrite_with_rebuilt_node_files_is_caught_at_the_next_signed_head() {
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
    let p = check_all(dir.path()).expect("caught");
    assert_eq!(
        (p.kind, p.head_size),
        (ProblemKind::ForkedHead, Some(50)),
        "{p}"
    );
}

#[test]
fn deleted_swapped_and_inserted_rows_are_named_where_they_are() {
    let (dir, _) = build();
    sql(dir.path())
        .execute("DELETE FROM entries WHERE idx = 50", [])
        .unwrap();
    assert_caught(dir.path(), ProblemKind::Deleted, 50);

    let (dir, _) = build();
    sql(dir.path())
        .execute_batch(
            "UPDATE entries SET idx = -1 WHERE idx = 20;
             UPDATE entries SET idx = 20 WHERE idx = 30;
             UPDATE entries SET idx = 30 WHERE idx = -1;",
        )
        .unwrap();
    assert_caught(dir.path(), ProblemKind::Reordered, 20);

    let (dir, _) = build();
    let c = sql(dir.path());
    c.execute_batch(
        "UPDATE entries SET idx = -idx - 1 WHERE idx >= 60;
         UPDATE entries SET idx = -idx WHERE idx < 0;",
    )
    .unwrap();
    let mut ev = common::sample_event(12345);
    ev.seq = 60;
    let b = ev.encode();
    let leaf = anpr_ledger::entry_leaf_hash(&b);
    c.execute(
        "INSERT INTO entries (idx, time, body, leaf_hash) VALUES (60, 0, ?1, ?2)",
        params![b, &leaf[..]],
    )
    .unwrap();
    let p = check_all(dir.path()).expect("caught");
    assert_eq!(p.index, Some(60), "{p}");
}

#[test]
fn a_deleted_head_row_is_missed_by_nothing() {
    let (dir, _) = build();
    assert_eq!(
        Ledger::open(dir.path()).unwrap().missing_heads().unwrap(),
        None
    );
    sql(dir.path())
        .execute("DELETE FROM tree_heads WHERE size = 50", [])
        .unwrap();
    let why = Ledger::open(dir.path()).unwrap().missing_heads().unwrap();
    assert!(why.is_some_and(|w| w.contains("3 tree heads were signed but 2")));
}

#[test]
fn nothing_is_signed_over_an_altered_tail() {
    let (dir, _) = build();
    let l = Ledger::open(dir.path()).unwrap();
    l.append(&sample_events(100, 10)).unwrap();
    drop(l);
    let c = sql(dir.path());
    c.execute(
        "UPDATE entries SET body = ?1 WHERE idx = 104",
        [forged_body(&c, 104)],
    )
    .unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    match l.sign_tree_head() {
        Err(Error::Altered(p)) => assert_eq!(p.index, Some(104), "{p}"),
        other => panic!("signed over an altered entry: {other:?}"),
    }
    // A head up to what was checked is still signed by the background signer's rule.
    let head = l
        .maybe_sign_checked(chrono::Utc::now() + chrono::Duration::hours(1), 100)
        .unwrap();
    assert_eq!(head.map(|h| h.size), None, "100 entries are already signed");
}

#[test]
fn heads_are_signed_only_over_checked_entries() {
    let (dir, heads) = build();
    let l = Ledger::open(dir.path()).unwrap();
    l.append(&sample_events(100, 50)).unwrap();
    let later = chrono::Utc::now() + chrono::Duration::hours(1);
    let head = l.maybe_sign_checked(later, 120).unwrap().expect("due");
    assert_eq!(head.size, 120);
    assert_eq!(head.root_hash, l.root_at(120).unwrap());
    assert!(heads[2].size < head.size);
}

//! A small signed log to tamper with, and the SQL to do it.

use std::path::Path;

use anpr_ledger::{Event, Ledger, TreeHead};
use rusqlite::Connection;
use tempfile::TempDir;

use super::sample_events;

/// A log of 100 entries with signed heads at sizes 20, 50 and 100.
pub fn build() -> (TempDir, Vec<TreeHead>) {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let mut heads = Vec::new();
    for (from, to) in [(0, 20), (20, 50), (50, 100)] {
        l.append(&sample_events(from, to - from)).unwrap();
        heads.push(l.sign_tree_head().unwrap());
    }
    assert!(l.verify_full().unwrap().is_ok());
    (dir, heads)
}

/// The ledger's database, opened behind its back.
pub fn sql(dir: &Path) -> Connection {
    Connection::open(dir.join("ledger.sqlite")).unwrap()
}

pub fn body(c: &Connection, idx: i64) -> Vec<u8> {
    c.query_row("SELECT body FROM entries WHERE idx = ?1", [idx], |r| {
        r.get(0)
    })
    .unwrap()
}

/// The entry `idx` with a different justification, consistently re-encoded.
pub fn forged_body(c: &Connection, idx: i64) -> Vec<u8> {
    let ev = Event::decode(&body(c, idx)).unwrap();
    ev.justification("nothing to see here").encode()
}

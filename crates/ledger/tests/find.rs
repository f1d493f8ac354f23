//! Finding entries by actor, action and time in a SQLite ledger (PostgreSQL: `postgres.rs`).

mod common;

use anpr_ledger::Ledger;

#[test]
fn entries_are_found_by_actor_action_and_time() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    common::find::fill(&l);
    common::find::check(&l);
}

//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;

use anpr_ledger::{Action, Actor, Event, Outcome, ResultDigest};
use serde_json::json;

/// The transparency-dev Merkle vectors, or `None` (after saying so) when they are absent.
pub fn merkle_vectors() -> Option<PathBuf> {
    anpr_testkit::shared("testdata/merkle")
}

/// A plausible event of about 300 bytes.
pub fn sample_event(i: u64) -> Event {
    let actions = [
        Action::Search,
        Action::ImageView,
        Action::Login,
        Action::Export,
        Action::TrackingRequest,
    ];
    let action = actions[(i % actions.len() as u64) as usize].clone();
    let mut e = Event::new(Actor::staff(format!("S{:05}", i % 977), "analyst"), action)
        .purpose("INV")
        .file_number(format!("F-2025-{:05}", i % 10_000))
        .query(json!({"plate": format!("AB{:04}", i % 10_000), "from": "2025-01-01T00:00:00Z", "limit": 100}))
        .result(ResultDigest::of_ids(&[i as i64, i as i64 + 1]));
    if i % 7 == 3 {
        e = e.outcome(Outcome::refused("no purpose"));
    }
    e
}

/// `n` sample events starting at `from`.
pub fn sample_events(from: u64, n: u64) -> Vec<Event> {
    (from..from + n).map(sample_event).collect()
}
pub mod checkpoints;
pub mod find;
pub mod tampered;

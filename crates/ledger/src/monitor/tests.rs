use ed25519_dalek::SigningKey;

use super::*;
use crate::audit::Action;
use crate::event::Actor;
use crate::merkle::{consistency_proof, inclusion_proof, MemoryTree, NodeSource};

/// A log as a server holds it: canonical bodies with `seq` = index, and its tree.
struct Log {
    bodies: Vec<String>,
    tree: MemoryTree,
    key: SigningKey,
}

impl Log {
    fn new(n: u64) -> Self {
        let mut log = Log {
            bodies: Vec::new(),
            tree: MemoryTree::new(),
            key: SigningKey::from_bytes(&[3u8; 32]),
        };
        log.grow(n);
        log
    }

    fn grow(&mut self, n: u64) {
        for _ in 0..n {
            let mut ev = Event::new(Actor::staff("S1005", "auditor"), Action::LedgerRead);
            ev.seq = self.bodies.len() as u64;
            let body = String::from_utf8(ev.encode()).unwrap();
            self.tree
                .push(crate::redact::entry_leaf_hash(body.as_bytes()));
            self.bodies.push(body);
        }
    }

    /// One redactable (version-2) entry whose facts say it touched `networks`.
    fn grow_touching(&mut self, networks: &[i64]) {
        let mut ev = Event::new(Actor::staff("S1001", "searcher"), Action::Search)
            .facts(crate::audit::AuditFacts::new().network_ids(networks.to_vec()));
        ev.seq = self.bodies.len() as u64;
        let body = String::from_utf8(ev.encode_redactable(&[7u8; 32])).unwrap();
        self.tree
            .push(crate::redact::entry_leaf_hash(body.as_bytes()));
        self.bodies.push(body);
    }

    /// A head of the whole log with the per-network counters `counts`.
    fn head_with(&self, counts: NetworkCounts) -> TreeHead {
        TreeHead::sign_with_counts(
            self.tree.size(),
            self.tree.root(),
            chrono::Utc::now(),
            counts,
            &self.key,
            None,
        )
    }

    fn head(&self) -> TreeHead {
        TreeHead::sign(
            self.tree.size(),
            self.tree.root(),
            chrono::Utc::now(),
            &self.key,
        )
    }

    fn entries(&self, from: u64, to: u64) -> Vec<StoredEntry> {
        (from..to.min(self.bodies.len() as u64))
            .map(|i| StoredEntry {
                index: i,
                leaf_hash: self.tree.node(0, i).unwrap(),
                body: self.bodies[i as usize].clone(),
            })
            .collect()
    }

    fn consistency(&self, from: u64, to: u64) -> ConsistencyProof {
        ConsistencyProof {
            from,
            to,
            hashes: consistency_proof(&self.tree, from, to).unwrap(),
        }
    }
}

/// One monitoring run over `entries`, in pages of `page`, as the command does it.
fn run(
    log: &Log,
    state: &MonitorState,
    head: TreeHead,
    seen: &[TreeHead],
    serve: impl Fn(u64, u64) -> Vec<StoredEntry>,
) -> (Option<MonitorState>, VerifyReport) {
    let key = log.key.verifying_key();
    let mut m = Monitor::start(&key, state, head, seen).unwrap();
    if let Some((a, b)) = m.consistency_needed() {
        m.check_consistency(&log.consistency(a, b));
    }
    while let Some(from) = m.next_index() {
        m.feed(&serve(from, from + 4));
    }
    m.finish()
}

fn only_problem(report: &VerifyReport) -> (ProblemKind, Option<u64>) {
    assert_eq!(report.problem_count, 1, "{report}");
    let p = &report.problems[0];
    (p.kind, p.index)
}

#[test]
fn incremental_runs_check_only_the_new_entries() {
    let mut log = Log::new(10);
    let head = log.head();
    let (state, report) = run(&log, &MonitorState::default(), head.clone(), &[], |a, b| {
        log.entries(a, b)
    });
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, 10);
    let state = state.unwrap();
    assert_eq!(state.verified.as_ref(), Some(&head));

    log.grow(15);
    let asked = std::cell::Cell::new(u64::MAX);
    let (state, report) = run(&log, &state, log.head(), &[head], |a, b| {
        asked.set(asked.get().min(a));
        log.entries(a, b)
    });
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, 15);
    assert_eq!(
        asked.get(),
        10,
        "the second run starts at the verified head"
    );
    assert_eq!(state.unwrap().verified_size(), 25);
}

#[test]
fn an_interrupted_run_resumes_and_is_verified_only_at_the_end() {
    let log = Log::new(20);
    let key = log.key.verifying_key();
    let mut m = Monitor::start(&key, &MonitorState::default(), log.head(), &[]).unwrap();
    m.feed(&log.entries(0, 7));
    let saved = m.pending_state();
    assert_eq!(saved.verified, None, "progress is not a verified head");
    assert_eq!(saved.pending.as_ref().map(|p| p.size), Some(7));

    let m = Monitor::start(&key, &saved, log.head(), &[]).unwrap();
    assert_eq!(m.resumed_at(), 7);
    assert_eq!(m.next_index(), Some(7));
    let (state, report) = run(&log, &saved, log.head(), &[], |a, b| log.entries(a, b));
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, 13);
    assert_eq!(state.unwrap().verified_size(), 20);
}

#[test]
fn tampered_entries_are_named_by_index() {
    let log = Log::new(12);
    let start = MonitorState::default();
    let head = log.head();

    let edited = |a, b| {
        let mut v = log.entries(a, b);
        v.iter_mut()
            .filter(|e| e.index == 5)
            .for_each(|e| e.body = e.body.replace("S1005", "S9999"));
        v
    };
    let (state, report) = run(&log, &start, head.clone(), &[], edited);
    assert!(state.is_none());
    assert_eq!(only_problem(&report), (ProblemKind::Edited, Some(5)));

    let deleted = |a, b| {
        let mut v = log.entries(a, b + 1);
        v.retain(|e| e.index != 6);
        v.truncate(4);
        v
    };
    let (_, report) = run(&log, &start, head.clone(), &[], deleted);
    assert_eq!(report.first_problem().unwrap().kind, ProblemKind::Deleted);
    assert_eq!(report.first_bad_index(), Some(6));

    let swapped = |a, b| {
        let mut v = log.entries(a, b);
        for e in &mut v {
            let other = match e.index {
                2 => 9,
                9 => 2,
                _ => continue,
            };
            e.body = log.bodies[other].clone();
            e.leaf_hash = log.tree.node(0, other as u64).unwrap();
        }
        v
    };
    let (_, report) = run(&log, &start, head.clone(), &[], swapped);
    let first = report.first_problem().unwrap();
    assert_eq!((first.kind, first.index), (ProblemKind::Reordered, Some(2)));
    assert!(
        report.of_kind(ProblemKind::ForkedHead).count() == 1,
        "{report}"
    );

    let (_, report) = run(&log, &start, head, &[], |a, b| log.entries(a, b.min(8)));
    assert_eq!(only_problem(&report), (ProblemKind::Truncated, Some(8)));
}

#[test]
fn heads_that_contradict_earlier_ones_are_caught() {
    let log = Log::new(10);
    let (state, _) = run(&log, &MonitorState::default(), log.head(), &[], |a, b| {
        log.entries(a, b)
    });
    let state = state.unwrap();
    let seen = [state.verified.clone().unwrap()];

    // The same history, cut short: a smaller head.
    let mut short = Log::new(6);
    short.key = log.key.clone();
    let (_, report) = run(&log, &state, short.head(), &seen, |a, b| {
        short.entries(a, b)
    });
    assert_eq!(only_problem(&report), (ProblemKind::Truncated, Some(6)));

    // Another history of the same size, and a longer one that does not extend the first.
    let mut other = Log::new(0);
    other.bodies.push("x".into());
    other.tree.push(merkle::leaf_hash(b"x"));
    other.grow(9);
    let (_, report) = run(&log, &state, other.head(), &seen, |a, b| {
        other.entries(a, b)
    });
    assert_eq!(only_problem(&report).0, ProblemKind::ForkedHead);
    other.grow(5);
    let key = log.key.verifying_key();
    let mut m = Monitor::start(&key, &state, other.head(), &seen).unwrap();
    m.check_consistency(&other.consistency(10, 15));
    assert_eq!(
        m.next_index(),
        None,
        "nothing is downloaded after a rewritten history"
    );
    let (_, report) = m.finish();
    assert_eq!(only_problem(&report), (ProblemKind::ForkedHead, Some(10)));

    // Without the consistency proof the pass cannot end verified.
    let mut longer = Log {
        bodies: log.bodies.clone(),
        tree: log.tree.clone(),
        key: log.key.clone(),
    };
    longer.grow(3);
    let mut m = Monitor::start(&key, &state, longer.head(), &seen).unwrap();
    m.feed(&longer.entries(10, 13));
    let (state_after, report) = m.finish();
    assert!(state_after.is_none());
    assert_eq!(only_problem(&report), (ProblemKind::BadProof, Some(10)));

    // A head signed by another key.
    let mut head = log.head();
    head.signature = head.signature.replace('a', "b");
    let (_, report) = run(&log, &state, head, &seen, |a, b| log.entries(a, b));
    assert_eq!(only_problem(&report).0, ProblemKind::BadSignature);
}

#[test]
fn a_trusted_head_gives_the_frontier_from_its_last_entry() {
    let mut log = Log::new(13);
    let trusted = log.head();
    log.grow(9);
    let key = log.key.verifying_key();
    let last = InclusionProof {
        index: 12,
        size: 13,
        leaf_hash: log.tree.node(0, 12).unwrap(),
        hashes: inclusion_proof(&log.tree, 12, 13).unwrap(),
    };
    let mut m = Monitor::from_trusted_head(&key, &trusted, Some(&last), log.head());
    assert_eq!(m.consistency_needed(), Some((13, 22)));
    m.check_consistency(&log.consistency(13, 22));
    assert_eq!(m.next_index(), Some(13));
    m.feed(&log.entries(13, 22));
    let (state, report) = m.finish();
    assert!(report.is_ok(), "{report}");
    assert_eq!(state.unwrap().verified_size(), 22);

    let mut wrong = last.clone();
    wrong.leaf_hash[0] ^= 1;
    let m = Monitor::from_trusted_head(&key, &trusted, Some(&wrong), log.head());
    assert_eq!(m.next_index(), None);
    assert_eq!(m.report().problems[0].kind, ProblemKind::ForkedHead);
}

/// Heads with per-network counters: each run checks that the new head's counters are the
/// verified head's plus the networks its new entries touched, across an interrupted run too, and
/// a head that under-counts a network (an entry hidden from its slice) is reported.
#[test]
fn the_heads_network_counters_are_checked_against_the_new_entries() {
    let counts = |a, b| NetworkCounts::from([(1, a), (2, b)]);
    let mut log = Log::new(3); // version-1 entries: counted by no network
    log.grow_touching(&[1, 2]);
    log.grow_touching(&[2]);
    let head = log.head_with(counts(1, 2));
    let (state, report) = run(&log, &MonitorState::default(), head.clone(), &[], |a, b| {
        log.entries(a, b)
    });
    assert!(report.is_ok(), "{report}");
    let state = state.unwrap();

    for _ in 0..3 {
        log.grow_touching(&[1]);
    }
    let good = log.head_with(counts(4, 2));
    let key = log.key.verifying_key();
    let mut m = Monitor::start(&key, &state, good.clone(), std::slice::from_ref(&head)).unwrap();
    m.check_consistency(&log.consistency(5, 8));
    m.feed(&log.entries(5, 6));
    let saved = m.pending_state();
    assert_eq!(saved.pending_counts, Some(counts(2, 2)));
    let (verified, report) = run(&log, &saved, good, std::slice::from_ref(&head), |a, b| {
        log.entries(a, b)
    });
    assert!(report.is_ok(), "{report}");
    assert_eq!(verified.unwrap().verified_size(), 8);

    let lowered = log.head_with(counts(3, 2));
    let (verified, report) = run(&log, &state, lowered, &[head], |a, b| log.entries(a, b));
    assert!(verified.is_none());
    assert_eq!(only_problem(&report).0, ProblemKind::WrongCounter);
    assert!(report.problems[0].detail.contains("network 1"), "{report}");
}

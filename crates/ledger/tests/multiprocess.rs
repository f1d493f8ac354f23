//! Several processes (and several handles in one process) on one SQLite ledger directory: the
//! CLI opening the log while `anpr serve` runs. Appends from any of them form one gap-free
//! sequence, every handle takes in the others' entries (sizes, proofs, heads, verification), and
//! opening a handle never disturbs the node files another one is using.
//!
//! The cross-process tests re-run this test binary as the child (see `xproc_child`).

mod common;

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Barrier;
use std::time::Duration;

use anpr_ledger::merkle::MemoryTree;
use anpr_ledger::{Event, Ledger, Options, TreeHead};
use rand::{Rng, SeedableRng};

/// Set (to the ledger directory) in a child process started by a test here.
const CHILD_DIR: &str = "ANPR_LEDGER_XPROC_DIR";
/// How many entries the child appends.
const CHILD_COUNT: &str = "ANPR_LEDGER_XPROC_COUNT";
/// The prefix of the child's marks (each of its events is justified "<prefix>:<k>").
const CHILD_MARK: &str = "ANPR_LEDGER_XPROC_MARK";

/// An event carrying `mark` as its justification, so that the test can find it in the log.
fn marked(mark: String, i: u64) -> Event {
    common::sample_event(i).justification(mark)
}

/// Appends `count` marked events (`<who>:0`, `<who>:1`, ...) in batches of random size and
/// returns mark → index as the ledger acknowledged them.
fn append_marked(l: &Ledger, who: &str, count: u64, seed: u64) -> HashMap<String, u64> {
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let mut acked = HashMap::new();
    let mut k = 0;
    while k < count {
        let n = rng.gen_range(1..=20u64).min(count - k);
        let events: Vec<Event> = (k..k + n)
            .map(|j| marked(format!("{who}:{j}"), j))
            .collect();
        let idx = l
            .append(&events)
            .unwrap_or_else(|e| panic!("{who}: append: {e}"));
        assert_eq!(idx.len() as u64, n);
        assert!(
            idx.windows(2).all(|w| w[1] == w[0] + 1),
            "{who}: one call's entries are contiguous: {idx:?}"
        );
        for (j, i) in (k..k + n).zip(idx) {
            acked.insert(format!("{who}:{j}"), i);
        }
        k += n;
    }
    acked
}

/// The whole log through `l` after a refresh: checks that indexes run 0..size without gaps, each
/// body's `seq` is its index and its leaf hash is right, the root, proofs and a fresh head agree
/// with a tree recomputed from the bodies, and `verify_full` passes. Returns mark → index.
fn check_log(l: &Ledger) -> HashMap<String, u64> {
    let size = l.refresh().unwrap();
    assert_eq!(l.size(), size);
    let mut tree = MemoryTree::new();
    let mut marks = HashMap::new();
    let mut from = 0;
    while from < size {
        let page = l.entries(from, size).unwrap();
        assert!(!page.is_empty(), "entries {from}..{size} are missing");
        for e in page {
            assert_eq!(e.index, from, "indexes are gap-free");
            assert_eq!(e.leaf_hash, anpr_ledger::entry_leaf_hash(e.body.as_bytes()));
            let ev = Event::decode(e.body.as_bytes()).unwrap();
            assert_eq!(ev.seq, e.index);
            if let Some(j) = ev.justification {
                assert!(marks.insert(j.clone(), e.index).is_none(), "{j} twice");
            }
            tree.push(e.leaf_hash);
            from += 1;
        }
    }
    assert_eq!(l.root().unwrap(), tree.root());
    let mut rng = rand::rngs::StdRng::seed_from_u64(size);
    for _ in 0..20.min(size) {
        let at = rng.gen_range(1..=size);
        let index = rng.gen_range(0..at);
        l.inclusion_proof(index, at)
            .unwrap()
            .verify(&l.root_at(at).unwrap())
            .unwrap();
        l.entry_proof(index, size)
            .unwrap()
            .verify(&l.root().unwrap())
            .unwrap();
        l.consistency_proof(at, size)
            .unwrap()
            .verify(&l.root_at(at).unwrap(), &l.root().unwrap())
            .unwrap();
    }
    let report = l.verify_full().unwrap();
    assert!(report.is_ok(), "{report}");
    assert!(report.entries >= size);
    marks
}

/// Every head verifies, and heads are stored in the order of the log's growth (each covers at
/// least what the one before covered).
fn check_heads(l: &Ledger) {
    let heads = l.tree_heads().unwrap();
    for h in &heads {
        h.verify_signature(&l.public_key()).unwrap();
        assert_eq!(
            l.root_at(h.size).unwrap(),
            h.root_hash,
            "head of size {}",
            h.size
        );
    }
    for w in heads.windows(2) {
        assert!(
            w[0].size <= w[1].size,
            "a head of size {} was stored after one of size {}",
            w[1].size,
            w[0].size
        );
    }
}

/// Sets the flag when dropped, also when the test panics, so that looping threads end.
struct SetOnDrop<'a>(&'a AtomicBool);

impl Drop for SetOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Release);
    }
}

fn assert_partition(acked: &[&HashMap<String, u64>], marks: &HashMap<String, u64>) {
    let mut all = BTreeMap::new();
    for a in acked {
        for (m, i) in a.iter() {
            assert!(all.insert(*i, m.clone()).is_none(), "index {i} given twice");
            assert_eq!(
                marks.get(m),
                Some(i),
                "{m} is stored where it was acknowledged"
            );
        }
    }
    assert_eq!(
        all.len(),
        marks.len(),
        "nothing but the acknowledged entries"
    );
}

/// The regression: a second handle appends, then the first one appends again. Before the fix the
/// first numbered its entry from its own cached size and failed with `UNIQUE constraint failed:
/// entries.idx` from then on.
#[test]
fn an_append_after_another_handles_append_is_numbered_after_it() {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open(dir.path()).unwrap();
    assert_eq!(
        a.append(&common::sample_events(0, 5)).unwrap(),
        vec![0, 1, 2, 3, 4]
    );
    let b = Ledger::open(dir.path()).unwrap();
    assert_eq!(b.size(), 5);
    assert_eq!(
        b.append(&common::sample_events(5, 3)).unwrap(),
        vec![5, 6, 7]
    );

    assert_eq!(a.append(&[common::sample_event(8)]).unwrap(), vec![8]);
    assert_eq!(a.size(), 9);
    assert_eq!(b.append(&[common::sample_event(9)]).unwrap(), vec![9]);
    assert_eq!(a.refresh().unwrap(), 10);

    // Proofs and a head from the first handle cover the second's entries.
    let tree = MemoryTree::from_leaf_hashes(
        a.entries(0, 10)
            .unwrap()
            .iter()
            .map(|e| anpr_ledger::entry_leaf_hash(e.body.as_bytes())),
    );
    assert_eq!(a.root().unwrap(), tree.root());
    for i in 0..10 {
        a.inclusion_proof(i, 10)
            .unwrap()
            .verify(&tree.root())
            .unwrap();
    }
    a.consistency_proof(5, 10)
        .unwrap()
        .verify(&a.root_at(5).unwrap(), &tree.root())
        .unwrap();
    let head = a.sign_tree_head().unwrap();
    assert_eq!((head.size, head.root_hash), (10, tree.root()));
    head.verify_signature(&b.public_key()).unwrap();
    assert_eq!(b.latest_tree_head().unwrap(), Some(head));

    check_log(&a);
    check_log(&b);
    drop((a, b));
    let fresh = Ledger::open(dir.path()).unwrap();
    assert_eq!(fresh.size(), 10);
    assert_eq!(fresh.damaged(), None);
    check_log(&fresh);
}

/// Two handles on one directory, each appended to from two threads at once while heads are
/// signed and the log verified from both: one gap-free log that both see in full.
#[test]
fn two_handles_appending_concurrently_share_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let opts = Options {
        // Also sync (and record the sync point) while the other handle appends.
        nodes_sync_every: 64,
        sign_interval: Duration::ZERO,
        ..Options::default()
    };
    let a = Ledger::open_with(dir.path(), opts.clone()).unwrap();
    let b = Ledger::open_with(dir.path(), opts).unwrap();

    // Interleaved, one call at a time.
    let mut acked = [HashMap::new(), HashMap::new()];
    for round in 0..6u64 {
        let (l, who) = if round % 2 == 0 { (&a, 0) } else { (&b, 1) };
        acked[who].extend(append_marked(
            l,
            &format!("seq{who}-{round}"),
            round + 1,
            round,
        ));
    }
    // Concurrent: two threads per handle, and a thread signing and verifying on both.
    let done = AtomicBool::new(false);
    let start = Barrier::new(5);
    let (threads, heads) = std::thread::scope(|s| {
        let appenders: Vec<_> = [(&a, "a0"), (&a, "a1"), (&b, "b0"), (&b, "b1")]
            .into_iter()
            .enumerate()
            .map(|(k, (l, who))| {
                let start = &start;
                s.spawn(move || {
                    start.wait();
                    append_marked(l, who, 150, 100 + k as u64)
                })
            })
            .collect();
        let signer = s.spawn(|| {
            start.wait();
            let mut heads: Vec<TreeHead> = Vec::new();
            let mut turn = 0;
            while !done.load(Ordering::Acquire) {
                let l = if turn % 2 == 0 { &a } else { &b };
                turn += 1;
                if let Some(h) = l.maybe_sign(chrono::Utc::now()).unwrap() {
                    heads.push(h);
                }
                heads.push(l.sign_tree_head().unwrap());
                let report = l.verify_full().unwrap();
                assert!(
                    report.is_ok(),
                    "verify while the other handle appends: {report}"
                );
            }
            heads
        });
        let stop = SetOnDrop(&done);
        let threads: Vec<HashMap<String, u64>> =
            appenders.into_iter().map(|t| t.join().unwrap()).collect();
        drop(stop);
        (threads, signer.join().unwrap())
    });
    assert!(!heads.is_empty());

    let marks = check_log(&a);
    assert_eq!(check_log(&b), marks);
    assert_eq!(a.size(), 21 + 600);
    let all: Vec<&HashMap<String, u64>> = acked.iter().chain(threads.iter()).collect();
    assert_partition(&all, &marks);
    check_heads(&a);
    for h in &heads {
        assert_eq!(a.root_at(h.size).unwrap(), h.root_hash);
    }
    drop((a, b));
    let fresh = Ledger::open(dir.path()).unwrap();
    assert_eq!(fresh.damaged(), None);
    assert_eq!(check_log(&fresh), marks);
    check_heads(&fresh);
}

/// Opening the directory (recovery of the node files included) while another handle appends and
/// serves proofs: the new handle is never found damaged, and the running one's proofs never fail.
#[test]
fn opening_while_another_handle_appends_disturbs_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open(dir.path()).unwrap();
    a.append(&common::sample_events(0, 50)).unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        let appender = s.spawn(|| {
            let mut k = 0;
            while !done.load(Ordering::Acquire) {
                a.append(&common::sample_events(k, 40)).unwrap();
                k += 40;
            }
        });
        let prover = s.spawn(|| {
            while !done.load(Ordering::Acquire) {
                let size = a.size();
                let root = a.root_at(size).unwrap();
                for index in [0, size / 2, size - 1] {
                    a.inclusion_proof(index, size)
                        .unwrap()
                        .verify(&root)
                        .unwrap();
                }
            }
        });
        let stop = SetOnDrop(&done);
        for _ in 0..15 {
            let b = Ledger::open(dir.path()).unwrap();
            assert_eq!(b.damaged(), None);
            let size = b.size();
            // Both agree on the prefix the new handle found.
            a.refresh().unwrap();
            assert_eq!(b.root_at(size).unwrap(), a.root_at(size).unwrap());
            assert!(b.verify_full().unwrap().is_ok());
        }
        drop(stop);
        appender.join().unwrap();
        prover.join().unwrap();
    });
    check_log(&a);
}

/// Not a test on its own: the body of the child process (does nothing without the variables).
/// Appends its marked events, then checks the whole log as it sees it, and prints its marks.
#[test]
fn xproc_child() {
    let Some(dir) = std::env::var_os(CHILD_DIR) else {
        return;
    };
    let count: u64 = std::env::var(CHILD_COUNT).unwrap().parse().unwrap();
    let who = std::env::var(CHILD_MARK).unwrap();
    let l = Ledger::open_with(
        &dir,
        Options {
            nodes_sync_every: 100,
            ..Options::default()
        },
    )
    .unwrap();
    assert_eq!(l.damaged(), None);
    println!("ready");
    let mut acked = HashMap::new();
    let mut k = 0;
    while k < count {
        let n = 25.min(count - k);
        acked.extend(append_marked(&l, &format!("{who}-{k}"), n, k));
        if k % 100 == 0 {
            l.sign_tree_head().unwrap();
        }
        k += n;
    }
    let marks = check_log(&l);
    for (m, i) in &acked {
        assert_eq!(marks.get(m), Some(i));
        println!("ack {m} {i}");
    }
    println!("done");
}

/// Starts this test binary as a child appending `count` entries to `dir`; returns once the child
/// has opened the ledger.
fn spawn_child(dir: &Path, count: u64, who: &str) -> (Child, std::thread::JoinHandle<Vec<String>>) {
    let mut child = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "xproc_child", "--nocapture", "--test-threads=1"])
        .env(CHILD_DIR, dir)
        .env(CHILD_COUNT, count.to_string())
        .env(CHILD_MARK, who)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap()).lines();
    for line in out.by_ref() {
        // libtest prints "test xproc_child ... " before the child's first line.
        if line.unwrap().ends_with("ready") {
            break;
        }
    }
    let rest = std::thread::spawn(move || out.map_while(Result::ok).collect());
    (child, rest)
}

/// The child's acknowledged marks, once it has exited successfully.
fn child_acks(mut child: Child, out: std::thread::JoinHandle<Vec<String>>) -> HashMap<String, u64> {
    let status = child.wait().unwrap();
    let lines = out.join().unwrap();
    assert!(
        status.success(),
        "child failed: {status}; output: {lines:?}"
    );
    assert_eq!(
        lines.iter().filter(|l| *l == "done").count(),
        1,
        "{lines:?}"
    );
    lines
        .iter()
        .filter_map(|l| l.strip_prefix("ack "))
        .map(|l| {
            let (m, i) = l.split_once(' ').unwrap();
            (m.to_string(), i.parse().unwrap())
        })
        .collect()
}

/// A real second process appends while this one does, from two threads: one log, both see it
/// all, everything verifies, here and in a fresh open.
#[test]
fn another_process_appending_at_the_same_time_shares_one_log() {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open(dir.path()).unwrap();
    a.append(&common::sample_events(0, 10)).unwrap();
    let (c1, o1) = spawn_child(dir.path(), 300, "child1");
    let (c2, o2) = spawn_child(dir.path(), 200, "child2");
    let (p0, p1) = std::thread::scope(|s| {
        let t0 = s.spawn(|| append_marked(&a, "parent0", 250, 1));
        let t1 = s.spawn(|| {
            let acked = append_marked(&a, "parent1", 150, 2);
            a.sign_tree_head().unwrap();
            acked
        });
        (t0.join().unwrap(), t1.join().unwrap())
    });
    let (k1, k2) = (child_acks(c1, o1), child_acks(c2, o2));
    assert_eq!((k1.len(), k2.len()), (300, 200));

    let marks = check_log(&a);
    assert_eq!(a.size(), 10 + 300 + 200 + 250 + 150);
    assert_partition(&[&p0, &p1, &k1, &k2], &marks);
    check_heads(&a);
    drop(a);
    let fresh = Ledger::open(dir.path()).unwrap();
    assert_eq!(fresh.damaged(), None);
    assert_eq!(check_log(&fresh), marks);
}

/// After another process appended (and exited), this process's next append is numbered after its
/// entries, and its proofs and signed head cover them.
#[test]
fn after_another_process_appended_the_next_append_proofs_and_head_are_right() {
    let dir = tempfile::tempdir().unwrap();
    let a = Ledger::open(dir.path()).unwrap();
    a.append(&common::sample_events(0, 10)).unwrap();
    let root10 = a.root().unwrap();
    let (child, out) = spawn_child(dir.path(), 7, "other");
    let theirs = child_acks(child, out);
    let mut theirs: Vec<u64> = theirs.into_values().collect();
    theirs.sort_unstable();
    assert_eq!(theirs, (10..17).collect::<Vec<_>>());

    assert_eq!(a.append(&[common::sample_event(17)]).unwrap(), vec![17]);
    assert_eq!(a.size(), 18);
    let entries = a.entries(0, 18).unwrap();
    let tree = MemoryTree::from_leaf_hashes(entries.iter().map(|e| e.leaf_hash));
    assert_eq!(a.root().unwrap(), tree.root());
    for i in 0..18 {
        a.entry_proof(i, 18).unwrap().verify(&tree.root()).unwrap();
    }
    a.consistency_proof(10, 18)
        .unwrap()
        .verify(&root10, &tree.root())
        .unwrap();
    let head = a.sign_tree_head().unwrap();
    assert_eq!((head.size, head.root_hash), (18, tree.root()));
    check_heads(&a);
    check_log(&a);
    drop(a);
    let fresh = Ledger::open(dir.path()).unwrap();
    assert_eq!(fresh.damaged(), None);
    check_log(&fresh);
}

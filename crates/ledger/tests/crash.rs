//! Crash safety: a child process appends in a loop and prints every acknowledged batch; the parent
//! kills it with SIGKILL at a random moment, reopens the log, verifies it, and checks that every
//! acknowledged entry is there, unchanged. Several rounds, so recovery itself gets killed too.

mod common;

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use anpr_ledger::entry_leaf_hash;
use anpr_ledger::{Ledger, Options};
use rand::{Rng, SeedableRng};

const CHILD_ENV: &str = "ANPR_LEDGER_CRASH_CHILD";

/// Not a test on its own: the body of the child process (does nothing without the variable).
#[test]
fn crash_child() {
    let Some(dir) = std::env::var_os(CHILD_ENV) else {
        return;
    };
    // Sync node files often so that kills land in every phase, recovery included.
    let opts = Options {
        nodes_sync_every: 500,
        ..Options::default()
    };
    let l = Ledger::open_with(&dir, opts).unwrap();
    let mut rng = rand::rngs::StdRng::from_entropy();
    loop {
        let n = rng.gen_range(1..300);
        let events = common::sample_events(l.size(), n);
        let idx = l.append(&events).unwrap();
        let last = *idx.last().unwrap();
        // Entries are salted when appended: the leaf hash to look for is the stored one.
        let stored = l.entries(last, last + 1).unwrap().pop().unwrap();
        assert_eq!(stored.leaf_hash, entry_leaf_hash(stored.body.as_bytes()));
        println!("ack {} {} {}", idx[0], last, hex::encode(stored.leaf_hash));
        if rng.gen_ratio(1, 10) {
            l.sign_tree_head().unwrap();
        }
    }
}

#[test]
fn kill_9_while_appending_loses_no_acknowledged_entry() {
    let dir = tempfile::tempdir().unwrap();
    let mut rng = rand::rngs::StdRng::seed_from_u64(9);
    let mut acked: Vec<(u64, u64, String)> = Vec::new();
    for round in 0..5 {
        let mut child = Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
            .env(CHILD_ENV, dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        let (tx, rx) = mpsc::channel();
        let out = BufReader::new(child.stdout.take().unwrap());
        let reader = std::thread::spawn(move || {
            for line in out.lines().map_while(Result::ok) {
                let f: Vec<&str> = line.split_whitespace().collect();
                if f.len() == 4 && f[0] == "ack" {
                    let _ = tx.send((
                        f[1].parse::<u64>().unwrap(),
                        f[2].parse::<u64>().unwrap(),
                        f[3].to_string(),
                    ));
                }
            }
        });
        // Wait for the child to get going, then kill it at a random moment.
        let first = rx
            .recv_timeout(Duration::from_secs(60))
            .expect("child acknowledged nothing");
        acked.push(first);
        std::thread::sleep(Duration::from_millis(rng.gen_range(20..400)));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        reader.join().unwrap();
        acked.extend(rx.try_iter());

        let l = Ledger::open(dir.path()).unwrap();
        let report = l.verify_full().unwrap();
        assert!(report.is_ok(), "round {round}: {report}");
        let max_acked = acked.iter().map(|a| a.1).max().unwrap();
        assert!(
            l.size() > max_acked,
            "round {round}: size {} but entry {max_acked} was acknowledged",
            l.size()
        );
        for (first, last, leaf) in &acked {
            let e = l
                .entries(*last, last + 1)
                .unwrap()
                .pop()
                .expect("acknowledged entry present");
            assert_eq!(
                &hex::encode(e.leaf_hash),
                leaf,
                "round {round}: entry {last} changed"
            );
            assert_eq!(
                l.entries(*first, last + 1).unwrap().len() as u64,
                last - first + 1
            );
        }
        println!(
            "round {round}: {} entries, {} acknowledged batches, verify OK",
            l.size(),
            acked.len()
        );
    }
}

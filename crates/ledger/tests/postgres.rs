//! One ledger in PostgreSQL shared by several processes (run when `ANPR_TEST_POSTGRES_URL` is
//! set, on a database of its own, dropped after): concurrent appends from two ledgers form one
//! sequence without gaps or forks, each sees the other's entries, and both verify.

mod common;

use std::collections::BTreeSet;
use std::path::Path;
use std::sync::Arc;

use anpr_ledger::store::PgStore;
use anpr_ledger::{Ledger, Options};
use common::sample_events;

/// A database created for one test and dropped with it.
struct Database {
    admin: String,
    name: String,
    url: String,
}

impl Database {
    fn create(tag: &str) -> Option<Database> {
        let admin = anpr_testkit::postgres_url()?;
        let name = format!("anpr_ledger_{tag}_{}", std::process::id());
        admin_sql(&admin, &format!("DROP DATABASE IF EXISTS {name}"));
        admin_sql(&admin, &format!("CREATE DATABASE {name}"));
        let mut config: tokio_postgres::Config = admin.parse().unwrap();
        config.dbname(&name);
        let url = format!(
            "postgres://{}@{}:{}/{name}",
            config.get_user().unwrap_or("postgres"),
            match &config.get_hosts()[0] {
                tokio_postgres::config::Host::Tcp(h) => h.clone(),
                #[cfg(unix)]
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            },
            config.get_ports().first().copied().unwrap_or(5432),
        );
        Some(Database { admin, name, url })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

fn admin_sql(url: &str, sql: &str) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        let (client, conn) = tokio_postgres::connect(url, tokio_postgres::NoTls)
            .await
            .unwrap();
        tokio::spawn(conn);
        client.batch_execute(sql).await.unwrap();
    });
}

fn open(db: &Database, dir: &Path) -> anpr_ledger::Result<Ledger> {
    let store = PgStore::open(&db.url, dir)?;
    Ledger::open_store(dir, Box::new(store), Options::default())
}

/// Gives `to` the signing key of `from`, as a second server of a deployment is set up.
fn share_key(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    for f in ["ledger-signing-key", "ledger-signing-key.pub"] {
        std::fs::copy(from.join(f), to.join(f)).unwrap();
    }
}

#[test]
fn two_processes_append_one_sequence_without_gaps_or_forks() {
    let Some(db) = Database::create("seq") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let a = Arc::new(open(&db, &dir_a).unwrap());
    share_key(&dir_a, &dir_b);
    let b = Arc::new(open(&db, &dir_b).unwrap());

    // Four writers on each "process", 20 batches of 1 to 5 events each.
    let mut threads = Vec::new();
    for (p, ledger) in [a.clone(), b.clone()].into_iter().enumerate() {
        for t in 0..4u64 {
            let ledger = ledger.clone();
            threads.push(std::thread::spawn(move || {
                let mut got = Vec::new();
                for k in 0..20u64 {
                    let n = 1 + (k + t) % 5;
                    let idx = ledger
                        .append(&sample_events((p as u64 * 4 + t) * 1000 + k * 10, n))
                        .unwrap();
                    assert!(
                        idx.windows(2).all(|w| w[1] == w[0] + 1),
                        "one call's entries are contiguous"
                    );
                    got.extend(idx);
                }
                got
            }));
        }
    }
    let all: Vec<u64> = threads
        .into_iter()
        .flat_map(|t| t.join().unwrap())
        .collect();
    let distinct: BTreeSet<u64> = all.iter().copied().collect();
    assert_eq!(distinct.len(), all.len(), "no index handed out twice");
    let n = all.len() as u64;
    assert_eq!(distinct, (0..n).collect(), "no gap");

    assert_eq!(a.refresh().unwrap(), n);
    assert_eq!(b.refresh().unwrap(), n);
    assert_eq!(a.root().unwrap(), b.root().unwrap(), "one tree, not two");
    // Entries appended by B are served, and proven, by A.
    let last = a.entry_proof(n - 1, n).unwrap();
    assert_eq!(last.entry.index, n - 1);

    let head = a.sign_tree_head().unwrap();
    assert_eq!(head.size, n);
    b.append(&sample_events(99_000, 3)).unwrap();
    let report = b.verify_full().unwrap();
    assert!(report.is_ok(), "{report}");
    assert_eq!(report.entries, n + 3);
    let report = a.verify_full().unwrap();
    assert!(report.is_ok(), "{report}");
    let proof = a.consistency_proof(head.size, n + 3).unwrap();
    assert_eq!(proof.to, n + 3);
}

#[test]
fn a_process_that_signs_with_another_key_is_refused() {
    let Some(db) = Database::create("key") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let first = open(&db, &tmp.path().join("a")).unwrap();
    first.append(&sample_events(0, 2)).unwrap();
    let err = open(&db, &tmp.path().join("b")).err().expect("refused");
    assert!(err.to_string().contains("ledger-signing-key"), "{err}");
}

#[test]
fn a_process_joining_later_rebuilds_its_view_from_the_shared_log() {
    let Some(db) = Database::create("join") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let a = open(&db, &dir_a).unwrap();
    a.append(&sample_events(0, 300)).unwrap();
    a.sign_tree_head().unwrap();
    share_key(&dir_a, &dir_b);
    let b = open(&db, &dir_b).unwrap();
    assert_eq!(b.size(), 300);
    assert_eq!(b.root().unwrap(), a.root().unwrap());
    assert_eq!(b.append(&sample_events(300, 1)).unwrap(), vec![300]);
}

#[test]
fn checkpoints_are_kept_with_their_cosignatures() {
    let Some(db) = Database::create("checkpoints") else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    common::checkpoints::checkpoints_are_kept_with_their_cosignatures(&|origin| {
        let store = PgStore::open(&db.url, dir.path())?;
        let opts = Options {
            origin: origin.map(str::to_owned),
            ..Default::default()
        };
        Ledger::open_store(dir.path(), Box::new(store), opts)
    });
}

#[test]
fn entries_are_found_by_actor_action_and_time() {
    let Some(db) = Database::create("find") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let l = open(&db, tmp.path()).unwrap();
    common::find::fill(&l);
    common::find::check(&l);
}

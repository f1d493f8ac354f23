//! The store conformance suite's backends: every test runs against SQLite (a temporary file)
//! and, when `ANPR_TEST_POSTGRES_URL` is set, against PostgreSQL (a database created for the
//! test and dropped after it). `conformance!` turns each `async fn(TestDb)` into one test per
//! backend.

#![allow(dead_code)]

use anpr_policy::{Decision, DecisionRecorder};
use anpr_postgres_tls::PgTarget;
use anpr_store::{CaseStore, PgStore, ReportStore, SqliteStore, Store};
use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

pub const POSTGRES_URL_VAR: &str = "ANPR_TEST_POSTGRES_URL";

#[derive(Debug, Clone, Copy)]
pub enum Backend {
    Sqlite,
    Postgres,
}

enum Place {
    Sqlite {
        _dir: tempfile::TempDir,
        path: PathBuf,
    },
    Postgres {
        admin: Box<PgTarget>,
        config: Box<PgTarget>,
        database: String,
    },
}

/// A store on a fresh database of one backend.
pub struct TestDb {
    pub store: Arc<dyn Store>,
    pub reports: Arc<dyn ReportStore>,
    pub cases: Arc<dyn CaseStore>,
    recorder: Arc<dyn DecisionRecorder>,
    place: Place,
}

static COUNTER: AtomicUsize = AtomicUsize::new(0);

impl TestDb {
    /// `None` when the backend is not available here (PostgreSQL without its URL).
    pub async fn open(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let path = dir.path().join("anpr.sqlite");
                let store = SqliteStore::open(&path).unwrap();
                Some(TestDb {
                    store: Arc::new(store.clone()),
                    reports: Arc::new(store.clone()),
                    cases: Arc::new(store.clone()),
                    recorder: Arc::new(store),
                    place: Place::Sqlite { _dir: dir, path },
                })
            }
            Backend::Postgres => {
                let url = std::env::var(POSTGRES_URL_VAR).ok()?;
                let admin = PgTarget::parse(&url).expect("ANPR_TEST_POSTGRES_URL");
                let database = format!(
                    "anpr_test_{}_{}_{}",
                    std::process::id(),
                    COUNTER.fetch_add(1, Ordering::SeqCst),
                    chrono::Utc::now().timestamp_micros() % 1_000_000_000
                );
                run_admin(&admin, &format!("CREATE DATABASE {database}")).await;
                let mut config = admin.clone();
                config.config_mut().dbname(&database);
                let store = PgStore::connect_target(config.clone()).await.unwrap();
                Some(TestDb {
                    store: Arc::new(store.clone()),
                    reports: Arc::new(store.clone()),
                    cases: Arc::new(store.clone()),
                    recorder: Arc::new(store),
                    place: Place::Postgres {
                        admin: Box::new(admin),
                        config: Box::new(config),
                        database,
                    },
                })
            }
        }
    }

    pub fn backend(&self) -> Backend {
        match self.place {
            Place::Sqlite { .. } => Backend::Sqlite,
            Place::Postgres { .. } => Backend::Postgres,
        }
    }

    /// Another store on the same database, as a second process would open it.
    pub async fn another_process(&self) -> Arc<dyn Store> {
        match &self.place {
            Place::Sqlite { path, .. } => Arc::new(SqliteStore::open(path).unwrap()),
            Place::Postgres { config, .. } => {
                Arc::new(PgStore::connect_target((**config).clone()).await.unwrap())
            }
        }
    }

    /// The register change log, oldest first: (source, key, change, before).
    pub async fn change_log(&self) -> Vec<(String, String, String, Option<String>)> {
        const SQL: &str = "SELECT i.source, c.key, c.change, c.before FROM register_changes c
             JOIN register_imports i ON i.id = c.import_id ORDER BY c.import_id, ";
        match &self.place {
            Place::Sqlite { path, .. } => {
                let conn = anpr_store::sqlite::direct_connection(path).unwrap();
                let mut stmt = conn.prepare(&format!("{SQL} c.rowid")).unwrap();
                stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
                    .unwrap()
                    .collect::<Result<_, _>>()
                    .unwrap()
            }
            Place::Postgres { config, .. } => {
                let (client, conn) = config.connect().await.unwrap();
                tokio::spawn(conn);
                client
                    .query(&format!("{SQL} c.id"), &[])
                    .await
                    .unwrap()
                    .iter()
                    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
                    .collect()
            }
        }
    }

    /// Runs `sql` (statements both dialects read alike) on the database directly, for rows
    /// that no store method writes.
    pub async fn execute_batch(&self, sql: &str) {
        match &self.place {
            Place::Sqlite { path, .. } => anpr_store::sqlite::direct_connection(path)
                .unwrap()
                .execute_batch(sql)
                .unwrap(),
            Place::Postgres { config, .. } => {
                let (client, conn) = config.connect().await.unwrap();
                tokio::spawn(conn);
                client.batch_execute(sql).await.unwrap();
            }
        }
    }

    /// PostgreSQL: the partitions of `reads`; SQLite has none.
    pub async fn read_partitions(&self) -> Option<Vec<String>> {
        let Place::Postgres { config, .. } = &self.place else {
            return None;
        };
        let (client, conn) = config.connect().await.unwrap();
        tokio::spawn(conn);
        let rows = client
            .query(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
                 JOIN pg_class p ON p.oid = i.inhparent WHERE p.relname = 'reads'",
                &[],
            )
            .await
            .unwrap();
        Some(rows.iter().map(|r| r.get(0)).collect())
    }

    /// Records a decision as the server does: on the blocking pool.
    pub async fn record(&self, d: Decision) {
        let recorder = self.recorder.clone();
        tokio::task::spawn_blocking(move || recorder.record(&d))
            .await
            .unwrap()
            .unwrap();
    }
}

// Not every test binary that includes this module skips.
#[allow(unused_imports)]
pub use anpr_testkit::skip;

async fn run_admin(admin: &PgTarget, sql: &str) {
    let (client, conn) = admin.connect().await.unwrap();
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await.unwrap();
    drop(client);
    let _ = task.await;
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Place::Postgres {
            admin, database, ..
        } = &self.place
        {
            let (admin, sql) = (
                (**admin).clone(),
                format!("DROP DATABASE IF EXISTS {database} WITH (FORCE)"),
            );
            // Its own thread and runtime: Drop cannot await, and may run inside a runtime.
            std::thread::spawn(move || {
                tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap()
                    .block_on(run_admin(&admin, &sql))
            })
            .join()
            .unwrap();
        }
    }
}

/// One test per backend for each `async fn name(db: TestDb)` named.
#[macro_export]
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let db = $crate::common::TestDb::open($crate::common::Backend::Sqlite)
                        .await
                        .unwrap();
                    super::$name(db).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $name() {
                    let Some(db) =
                        $crate::common::TestDb::open($crate::common::Backend::Postgres).await
                    else {
                        $crate::common::skip(&format!(
                            "{} is not set",
                            $crate::common::POSTGRES_URL_VAR
                        ));
                        return;
                    };
                    super::$name(db).await;
                }
            )*
        }
    };
}

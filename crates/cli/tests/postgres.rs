//! The `anpr` binary on PostgreSQL (run when `ANPR_TEST_POSTGRES_URL` is set): the demo seeds
//! a database, later commands see it, and the SQLite-only backup refuses it clearly.

use std::path::Path;
use std::process::{Command, Output};

fn anpr(data: &Path, url: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .env("ANPR_DATABASE_URL", url)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

fn admin(server: &str, sql: &str) {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
        .block_on(async {
            let (client, conn) = tokio_postgres::connect(server, tokio_postgres::NoTls)
                .await
                .unwrap();
            let task = tokio::spawn(conn);
            client.batch_execute(sql).await.unwrap();
            drop(client);
            let _ = task.await;
        });
}

/// A database of its own on the test server, dropped when this goes.
struct Database {
    server: String,
    name: String,
    url: String,
}

impl Database {
    /// `None` (after saying so) when `ANPR_TEST_POSTGRES_URL` is not set.
    fn create(tag: &str) -> Option<Database> {
        let Ok(server) = std::env::var("ANPR_TEST_POSTGRES_URL") else {
            eprintln!("skipped: ANPR_TEST_POSTGRES_URL is not set");
            return None;
        };
        let name = format!("anpr_{tag}_{}", std::process::id());
        admin(
            &server,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        );
        admin(&server, &format!("CREATE DATABASE {name}"));
        let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
        Some(Database { server, name, url })
    }
}

impl Drop for Database {
    fn drop(&mut self) {
        admin(
            &self.server,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        );
    }
}

#[test]
fn demo_and_commands_run_on_postgres() {
    let Some(db) = Database::create("cli") else {
        return;
    };
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();

    let out = anpr(
        dir.path(),
        &url,
        &["demo", "--no-serve", "--reads", "200", "--days", "1"],
    );
    let demo_ok = out.status.success();
    let counts = anpr(dir.path(), &url, &["registers", "counts"]);
    let backup = anpr(dir.path(), &url, &["backup", "/nonexistent/anpr-backup"]);
    drop(db);

    assert!(demo_ok, "{}", all(&out));
    assert!(
        !dir.path().join("anpr.sqlite").exists(),
        "nothing went to SQLite"
    );
    assert!(counts.status.success(), "{}", all(&counts));
    assert!(all(&counts).contains("vehicles"), "{}", all(&counts));
    assert!(!backup.status.success());
    assert!(all(&backup).contains("pg_dump"), "{}", all(&backup));
}

fn anpr_sqlite(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .env_remove("ANPR_DATABASE_URL")
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

#[test]
fn migrate_moves_an_embedded_deployment_and_verifies_it() {
    let Some(db) = Database::create("migrate") else {
        return;
    };
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();

    let demo = anpr_sqlite(
        dir.path(),
        &["demo", "--no-serve", "--reads", "500", "--days", "2"],
    );
    let search = |out: Output| all(&out);
    let before = search(anpr_sqlite(dir.path(), &["registers", "counts"]));
    let from = dir.path().to_str().unwrap().to_string();
    let moved = anpr_sqlite(
        dir.path(),
        &["migrate", "--from-sqlite", &from, "--to", &url],
    );
    let again = anpr_sqlite(
        dir.path(),
        &["migrate", "--from-sqlite", &from, "--to", &url],
    );
    let after = anpr(dir.path(), &url, &["registers", "counts"]);
    let verify = anpr(dir.path(), &url, &["ledger", "verify"]);
    drop(db);

    assert!(demo.status.success(), "{}", all(&demo));
    assert!(moved.status.success(), "{}", all(&moved));
    let report = all(&moved);
    assert!(!report.contains("MISMATCH"), "{report}");
    assert!(
        report.contains("reads") && report.contains("ledger root"),
        "{report}"
    );
    assert!(
        !again.status.success(),
        "a second move into the same database is refused"
    );
    assert!(all(&again).contains("empty"), "{}", all(&again));
    assert!(after.status.success(), "{}", all(&after));
    assert_eq!(all(&after), before, "the registers moved whole");
    assert!(verify.status.success(), "{}", all(&verify));
}

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

#[test]
fn demo_and_commands_run_on_postgres() {
    let Ok(server) = std::env::var("ANPR_TEST_POSTGRES_URL") else {
        eprintln!("skipped: ANPR_TEST_POSTGRES_URL is not set");
        return;
    };
    let name = format!("anpr_cli_{}", std::process::id());
    admin(
        &server,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );
    admin(&server, &format!("CREATE DATABASE {name}"));
    let url = format!("{}/{name}", server.rsplit_once('/').unwrap().0);
    let dir = tempfile::tempdir().unwrap();

    let out = anpr(
        dir.path(),
        &url,
        &["demo", "--no-serve", "--reads", "200", "--days", "1"],
    );
    let demo_ok = out.status.success();
    let counts = anpr(dir.path(), &url, &["registers", "counts"]);
    let backup = anpr(dir.path(), &url, &["backup", "/nonexistent/anpr-backup"]);
    admin(
        &server,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    );

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

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
        let server = anpr_testkit::postgres_url()?;
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

/// An `anpr serve` process, killed on drop.
struct Server {
    child: std::process::Child,
    base: String,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn serve(data: &Path, url: &str) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let child = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(["--database-url", url, "serve", "--listen"])
        .arg(format!("127.0.0.1:{port}"))
        .env_remove("ANPR_MODELS_DIR")
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .spawn()
        .expect("anpr serve starts");
    Server {
        child,
        base: format!("http://127.0.0.1:{port}"),
    }
}

/// The value after `label` on the line of the demo credentials that holds it.
fn credential<'a>(text: &'a str, label: &str) -> &'a str {
    let at = text
        .find(label)
        .unwrap_or_else(|| panic!("{label} in {text}"))
        + label.len();
    text[at..].split_whitespace().next().unwrap()
}

#[test]
fn two_serve_processes_share_alerts_and_one_gap_free_ledger() {
    let Some(db) = Database::create("procs") else {
        return;
    };
    let tmp = tempfile::tempdir().unwrap();
    let (dir_a, dir_b) = (tmp.path().join("a"), tmp.path().join("b"));
    let demo = anpr(
        &dir_a,
        &db.url,
        &["demo", "--no-serve", "--reads", "100", "--days", "1"],
    );
    assert!(demo.status.success(), "{}", all(&demo));
    let credentials = std::fs::read_to_string(dir_a.join("DEMO-CREDENTIALS.txt")).unwrap();
    let camera_key = credential(&credentials, "API key:").to_string();
    let plate = credential(&credentials, "S1002 may track").to_string();
    let file = credential(&credentials, "(stolen, file")
        .trim_end_matches([')', ';'])
        .to_string();
    // The second server signs the one ledger with the deployment's key.
    std::fs::create_dir_all(dir_b.join("ledger")).unwrap();
    for f in ["ledger-signing-key", "ledger-signing-key.pub"] {
        std::fs::copy(dir_a.join("ledger").join(f), dir_b.join("ledger").join(f)).unwrap();
    }
    let a = serve(&dir_a, &db.url);
    let b = serve(&dir_b, &db.url);

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    rt.block_on(async {
        use serde_json::{json, Value};
        let http = reqwest::Client::new();
        for s in [&a, &b] {
            let mut up = false;
            for _ in 0..200 {
                if http.get(format!("{}/healthz", s.base)).send().await.is_ok() {
                    up = true;
                    break;
                }
                tokio::time::sleep(std::time::Duration::from_millis(50)).await;
            }
            assert!(up, "{} serves", s.base);
        }
        let login: Value = http
            .post(format!("{}/api/v1/auth/login", b.base))
            .json(&json!({"staff_id": "S1002", "password": "demo-password-2026"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        let token = login["token"].as_str().expect("a session token").to_string();

        // Tracking authorised on B...
        let tracking = http
            .post(format!("{}/api/v1/tracking", b.base))
            .bearer_auth(&token)
            .json(&json!({"plate": plate, "purpose": {"code": "stolen_vehicle",
                "file_number": file, "justification": "Reported stolen overnight from a driveway"}}))
            .send()
            .await
            .unwrap();
        assert_eq!(tracking.status(), 201, "{:?}", tracking.text().await);
        // ...the officer's alert stream open on B...
        let mut stream = http
            .get(format!("{}/api/v1/alerts/stream", b.base))
            .bearer_auth(&token)
            .send()
            .await
            .unwrap();
        assert_eq!(stream.status(), 200);
        // ...and the car seen by a camera that sends to A.
        let mut read_id = None;
        let mut seen = String::new();
        let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
        'wait: for attempt in 0.. {
            let read: Value = http
                .post(format!("{}/api/v1/reads", a.base))
                .bearer_auth(&camera_key)
                .json(&json!({"plate": plate, "captured_at": chrono::Utc::now(),
                              "confidence": 0.9, "external_id": format!("multi-{attempt}")}))
                .send()
                .await
                .unwrap()
                .json()
                .await
                .unwrap();
            let id = read["id"].as_i64().expect("read stored");
            let until = tokio::time::Instant::now() + std::time::Duration::from_millis(1500);
            while let Ok(Ok(Some(chunk))) = tokio::time::timeout_at(until, stream.chunk()).await {
                seen.push_str(&String::from_utf8_lossy(&chunk));
                if seen.contains(&format!("\"read_id\":{id}")) {
                    read_id = Some(id);
                    break 'wait;
                }
            }
            assert!(tokio::time::Instant::now() < deadline, "no alert on B: {seen}");
        }
        assert!(read_id.is_some());

        // Requests to both servers at once, each recorded in the one ledger.
        let mut tasks = Vec::new();
        for i in 0..40 {
            let base = if i % 2 == 0 { a.base.clone() } else { b.base.clone() };
            let (http, token) = (http.clone(), token.clone());
            tasks.push(tokio::spawn(async move {
                http.get(format!("{base}/api/v1/auth/me"))
                    .bearer_auth(&token)
                    .send()
                    .await
                    .unwrap()
                    .status()
            }));
        }
        for t in tasks {
            assert_eq!(t.await.unwrap(), 200);
        }
    });
    drop((a, b));
    // One sequence from both processes: the full verification finds no gap, fork or bad hash.
    let verify = anpr(&dir_b, &db.url, &["ledger", "verify"]);
    assert!(verify.status.success(), "{}", all(&verify));
    assert!(all(&verify).contains("OK"), "{}", all(&verify));
}

//! A deployment driven from the outside, as an operator and its clients see it: `anpr demo`
//! seeds a data directory, `anpr serve` runs as its own process (killed with SIGKILL when a
//! test says so), and the checks read the files a restarted server would read.
#![allow(dead_code)]

use serde_json::{json, Value};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "demo-password-2026";
/// The demo's open vehicle-theft file in Waikato.
pub const THEFT_FILE: &str = "260101/1234";

pub fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .output()
        .expect("anpr runs")
}

pub fn all(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// A demo deployment: its data directory, the camera's key and a plate S1002 may track at once.
pub struct Deployment {
    pub data: PathBuf,
    pub camera_key: String,
    pub stolen_plate: String,
}

pub fn demo(data: &Path, reads: u32) -> Deployment {
    let out = anpr(
        data,
        &[
            "demo",
            "--no-serve",
            "--reads",
            &reads.to_string(),
            "--days",
            "1",
        ],
    );
    assert!(out.status.success(), "{}", all(&out));
    let creds = std::fs::read_to_string(data.join("DEMO-CREDENTIALS.txt")).unwrap();
    let camera_key = creds
        .lines()
        .find_map(|l| l.split("API key: ").nth(1))
        .unwrap()
        .trim()
        .to_string();
    let stolen_plate = creds
        .lines()
        .find_map(|l| l.split("S1002 may track ").nth(1))
        .and_then(|rest| rest.split_whitespace().next())
        .unwrap()
        .to_string();
    Deployment {
        data: data.to_path_buf(),
        camera_key,
        stolen_plate,
    }
}

/// A policy file with the per-user rate limits lifted, for tests that search in a tight loop.
pub fn unlimited_rate_policy(dir: &Path) -> PathBuf {
    let path = dir.join("policy.json");
    let limit = json!({"max": 4_000_000_000u32, "window_minutes": 1});
    let policy = json!({"rate_limits": {"per_user": limit, "per_purpose_default": limit,
                                        "per_purpose": {}}});
    std::fs::write(&path, policy.to_string()).unwrap();
    path
}

/// A loopback port nothing listens on (yet).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// `anpr serve` as a child process on a free loopback port.
pub struct Server {
    child: Option<Child>,
    pub base: String,
}

impl Server {
    pub fn start(data: &Path) -> Server {
        Server::start_with(data, &[])
    }

    pub fn start_with(data: &Path, extra: &[&str]) -> Server {
        Server::spawn(data, free_port(), extra, "warn", None)
    }

    /// On a given port (a client was told the address before the server came up).
    pub fn start_on(data: &Path, port: u16, extra: &[&str]) -> Server {
        Server::spawn(data, port, extra, "warn", None)
    }

    /// With its log at `rust_log` written to `stderr` rather than beside the data directory.
    pub fn start_logging_to(data: &Path, rust_log: &str, stderr: Stdio) -> Server {
        Server::spawn(data, free_port(), &[], rust_log, Some(stderr))
    }

    fn spawn(
        data: &Path,
        port: u16,
        extra: &[&str],
        rust_log: &str,
        stderr: Option<Stdio>,
    ) -> Server {
        let mut child = Command::new(env!("CARGO_BIN_EXE_anpr"))
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .args(extra)
            .env("RUST_LOG", rust_log)
            .stdout(Stdio::null())
            // Its log goes beside the data directory, not into the test's output.
            .stderr(stderr.unwrap_or_else(|| {
                std::fs::File::create(data.with_extension(format!("{port}.log")))
                    .unwrap()
                    .into()
            }))
            .spawn()
            .unwrap();
        let started = Instant::now();
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if let Some(status) = child.try_wait().unwrap() {
                panic!("anpr serve exited during start: {status}");
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
        Server {
            child: Some(child),
            base: format!("http://127.0.0.1:{port}"),
        }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().unwrap().id()
    }

    /// Whether the process is still running (it has not crashed).
    pub fn alive(&mut self) -> bool {
        self.child.as_mut().unwrap().try_wait().unwrap().is_none()
    }

    /// Sends `signal` (e.g. "TERM") to the server process.
    pub fn signal(&self, signal: &str) {
        let sent = Command::new("kill")
            .arg(format!("-{signal}"))
            .arg(self.pid().to_string())
            .status()
            .unwrap();
        assert!(sent.success(), "kill -{signal}");
    }

    /// Waits at most `within` for the process to end; its exit status, or `None` if it runs on.
    pub fn wait_exit(&mut self, within: Duration) -> Option<std::process::ExitStatus> {
        let started = Instant::now();
        while started.elapsed() < within {
            if let Some(status) = self.child.as_mut()?.try_wait().unwrap() {
                self.child = None;
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Where the server's log goes when it was started without [`Server::start_logging_to`].
    pub fn log_path(data: &Path, base: &str) -> PathBuf {
        let port = base.rsplit(':').next().unwrap();
        data.with_extension(format!("{port}.log"))
    }

    /// SIGKILL: no destructor, no flush, no graceful shutdown.
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

pub async fn login(http: &reqwest::Client, base: &str, staff_id: &str) -> String {
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"staff_id": staff_id, "password": PASSWORD}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    v["token"]
        .as_str()
        .unwrap_or_else(|| panic!("login of {staff_id}: {v}"))
        .to_string()
}

/// The path of an image in the content-addressed store.
pub fn image_path(data: &Path, sha: &str) -> PathBuf {
    data.join("images")
        .join(&sha[0..2])
        .join(&sha[2..4])
        .join(format!("{sha}.img"))
}

/// Every stored image file hashes to its name: none is half-written. Returns how many.
pub fn check_images(data: &Path) -> usize {
    let mut n = 0;
    let root = data.join("images");
    let mut stack = vec![root.clone()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                // Interrupted writes live under tmp/ and are never referred to.
                if path != root.join("tmp") {
                    stack.push(path);
                }
                continue;
            }
            let name = path.file_stem().unwrap().to_string_lossy().to_string();
            let bytes = std::fs::read(&path).unwrap();
            assert_eq!(
                anpr_blobs::hash_of(&bytes).as_str(),
                name,
                "{} does not hash to its name (half-written?)",
                path.display()
            );
            n += 1;
        }
    }
    n
}

/// The database passes SQLite's integrity check and every image a read refers to is stored
/// whole. Returns the number of reads.
pub fn check_database(data: &Path) -> u64 {
    let conn = rusqlite::Connection::open(data.join("anpr.sqlite")).unwrap();
    let ok: String = conn
        .query_row("PRAGMA integrity_check", [], |r| r.get(0))
        .unwrap();
    assert_eq!(ok, "ok", "SQLite integrity check");
    let mut stmt = conn
        .prepare(
            "SELECT DISTINCT lower(hex(plate_sha)) FROM reads WHERE plate_sha IS NOT NULL
             UNION SELECT DISTINCT lower(hex(overview_sha)) FROM reads
             WHERE overview_sha IS NOT NULL",
        )
        .unwrap();
    let shas: Vec<String> = stmt
        .query_map([], |r| r.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for sha in shas {
        let path = image_path(data, &sha);
        let bytes = std::fs::read(&path)
            .unwrap_or_else(|e| panic!("a read refers to image {sha}, which is missing: {e}"));
        assert_eq!(anpr_blobs::hash_of(&bytes).as_str(), sha);
    }
    conn.query_row("SELECT count(*) FROM reads", [], |r| r.get(0))
        .unwrap()
}

/// The plate image hash of each read with one of `external_ids`, by external id.
pub fn stored_images(
    data: &Path,
    external_ids: &[&str],
) -> std::collections::HashMap<String, Option<String>> {
    let conn = rusqlite::Connection::open(data.join("anpr.sqlite")).unwrap();
    let mut stmt = conn
        .prepare("SELECT lower(hex(plate_sha)) FROM reads WHERE external_id = ?1")
        .unwrap();
    external_ids
        .iter()
        .filter_map(|id| {
            stmt.query_row([id], |r| r.get::<_, Option<String>>(0))
                .ok()
                .map(|sha| (id.to_string(), sha))
        })
        .collect()
}

/// Result digests and justifications recorded in the audit ledger's entries.
#[derive(Default)]
pub struct LedgerContents {
    pub entries: u64,
    pub result_digests: HashSet<String>,
    pub justifications: HashSet<String>,
}

pub fn ledger_contents(data: &Path) -> LedgerContents {
    let conn = rusqlite::Connection::open(data.join("ledger").join("ledger.sqlite")).unwrap();
    let mut stmt = conn.prepare("SELECT body FROM entries").unwrap();
    let mut out = LedgerContents::default();
    let mut rows = stmt.query([]).unwrap();
    while let Some(row) = rows.next().unwrap() {
        let body: Vec<u8> = row.get(0).unwrap();
        let v: Value = serde_json::from_slice(&body).expect("ledger entry is JSON");
        collect(&v, &mut out);
        out.entries += 1;
    }
    out
}

fn collect(v: &Value, out: &mut LedgerContents) {
    match v {
        Value::Object(map) => {
            for (k, v) in map {
                match (k.as_str(), v) {
                    ("sha256", Value::String(s)) => {
                        out.result_digests.insert(s.clone());
                    }
                    ("justification", Value::String(s)) => {
                        out.justifications.insert(s.clone());
                    }
                    _ => collect(v, out),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect(v, out)),
        _ => {}
    }
}

/// A small xorshift generator: the test prints its seed so a failing run can be repeated.
pub struct Rng(pub u64);

impl Rng {
    pub fn from_env(var: &str) -> Rng {
        let seed = std::env::var(var)
            .ok()
            .and_then(|s| s.parse().ok())
            .unwrap_or_else(|| {
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap()
                    .as_nanos() as u64
                    | 1
            });
        eprintln!("{var}={seed}");
        Rng(seed)
    }
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    pub fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

/// A demo read with a plate image that S1001 may export: older than the near-live window and
/// not of a vehicle connected to them.
pub fn exportable_read(data: &Path) -> i64 {
    let conn = rusqlite::Connection::open(data.join("anpr.sqlite")).unwrap();
    let cutoff = chrono::Utc::now().timestamp_millis() - 31 * 60 * 1000;
    conn.query_row(
        "SELECT r.id FROM reads r JOIN plates p ON p.id = r.plate_id
         WHERE r.captured_at < ?1 AND r.plate_sha IS NOT NULL
           AND p.plate NOT IN (SELECT plate FROM reg_vehicles
                               WHERE owner_person_id IN ('P-S1001', 'P000010')
                                  OR owner_address_id = 'A-S1001')
         ORDER BY r.id LIMIT 1",
        [cutoff],
        |r| r.get(0),
    )
    .unwrap()
}

/// Exports a read S1001 was shown (a read is exported only after the user was shown it, under
/// the same purpose and file: the officer first searches its plate), with the global options
/// `global` (e.g. `--signing-key K`) and the export's own `export` (e.g. `--cosignatures 1`);
/// returns it and the bundle.
pub fn export_bundle(d: &Path, global: &[&str], export: &[&str]) -> (String, PathBuf) {
    let read = exportable_read(d).to_string();
    let plate: String = rusqlite::Connection::open(d.join("anpr.sqlite"))
        .unwrap()
        .query_row(
            "SELECT p.plate FROM reads r JOIN plates p ON p.id = r.plate_id WHERE r.id = ?1",
            [read.parse::<i64>().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    let purpose = [
        "--staff-id",
        "S1001",
        "--purpose",
        "serious_crime",
        "--file-number",
        "260101/2000",
        "--justification",
        "Evidence for the prosecution file in CRI-2026-9",
    ];
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_anpr"))
            .arg("--data")
            .arg(d)
            .args(args)
            .env("RUST_LOG", "warn")
            .env("ANPR_PASSWORD", PASSWORD)
            .output()
            .expect("anpr runs")
    };
    let out = run(&[&["search", &plate, "--limit", "1000"], &purpose[..], global].concat());
    assert!(out.status.success(), "{}", all(&out));
    assert!(
        String::from_utf8_lossy(&out.stdout).contains(&format!("{read}\t")),
        "{}",
        all(&out)
    );
    let bundle = d.join("read-1.zip");
    let out = run(&[
        &["export", "read", &read, "--out", bundle.to_str().unwrap()],
        &purpose[..],
        global,
        export,
    ]
    .concat());
    assert!(out.status.success(), "{}", all(&out));
    (read, bundle)
}

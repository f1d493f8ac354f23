//! The audit ledger from the outside: local verification, an overseer's remote check against a
//! saved tree head, and evidence bundles, each also against tampering.

use std::io::{Read, Write};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};

fn anpr(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_anpr"))
        .arg("--data")
        .arg(data)
        .args(args)
        .env("RUST_LOG", "warn")
        .env("ANPR_PASSWORD", "demo-password-2026")
        .output()
        .expect("anpr runs")
}

/// A demo read with a plate image that S1001 may export: older than the near-live window and
/// not of a vehicle connected to them.
fn exportable_read(data: &Path) -> i64 {
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

fn stdout(out: &Output) -> String {
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn all(out: &Output) -> String {
    format!("{}{}", stdout(out), String::from_utf8_lossy(&out.stderr))
}

struct Server(Child, String);
impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn serve(data: &Path) -> Server {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let server = Server(
        Command::new(env!("CARGO_BIN_EXE_anpr"))
            .arg("--data")
            .arg(data)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()
            .unwrap(),
        format!("http://127.0.0.1:{port}"),
    );
    for _ in 0..200 {
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return server;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    panic!("server did not start");
}

fn login(base: &str, staff_id: &str) -> String {
    let rt = tokio::runtime::Runtime::new().unwrap();
    rt.block_on(async {
        let v: serde_json::Value = reqwest::Client::new()
            .post(format!("{base}/api/v1/auth/login"))
            .json(&serde_json::json!({"staff_id": staff_id, "password": "demo-password-2026"}))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        v["token"].as_str().unwrap().to_string()
    })
}

fn tamper(data: &Path, sql: &str) {
    let conn = rusqlite::Connection::open(data.join("ledger").join("ledger.sqlite")).unwrap();
    conn.execute_batch(sql).unwrap();
}

#[test]
fn overseer_checks_the_log_locally_remotely_and_through_bundles() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = anpr(d, &["demo", "--no-serve", "--reads", "300", "--days", "1"]);
    assert!(out.status.success(), "{}", all(&out));

    // An evidence bundle of a read with images, verified offline; then a tampered copy. The
    // export goes through the access policy like any data access: a file of the user's district.
    let read = exportable_read(d).to_string();
    // A read is exported only after the user was shown it, under the same purpose and file:
    // the officer first searches its plate.
    let plate: String = rusqlite::Connection::open(d.join("anpr.sqlite"))
        .unwrap()
        .query_row(
            "SELECT p.plate FROM reads r JOIN plates p ON p.id = r.plate_id WHERE r.id = ?1",
            [read.parse::<i64>().unwrap()],
            |r| r.get(0),
        )
        .unwrap();
    let out = anpr(
        d,
        &[
            "search",
            "--staff-id",
            "S1001",
            &plate,
            "--limit",
            "1000",
            "--purpose",
            "serious_crime",
            "--file-number",
            "260101/2000",
            "--justification",
            "Evidence for the prosecution file in CRI-2026-9",
        ],
    );
    assert!(out.status.success(), "{}", all(&out));
    assert!(stdout(&out).contains(&format!("{read}\t")), "{}", all(&out));
    let bundle = d.join("read-1.zip");
    let out = anpr(
        d,
        &[
            "export",
            "read",
            &read,
            "--out",
            bundle.to_str().unwrap(),
            "--staff-id",
            "S1001",
            "--purpose",
            "serious_crime",
            "--file-number",
            "260101/2000",
            "--justification",
            "Evidence for the prosecution file in CRI-2026-9",
        ],
    );
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr(d, &["verify-bundle", bundle.to_str().unwrap()]);
    assert!(out.status.success(), "{}", all(&out));
    assert!(
        stdout(&out).starts_with(&format!("OK: read {read}")),
        "{}",
        stdout(&out)
    );
    let tampered = d.join("tampered.zip");
    rewrite_zip(&bundle, &tampered, |name, bytes| {
        if name.starts_with("images/plate-") {
            let mid = bytes.len() / 2;
            bytes[mid] ^= 0xFF;
        }
    });
    let out = anpr(d, &["verify-bundle", tampered.to_str().unwrap()]);
    assert!(!out.status.success());
    assert!(
        all(&out).contains("does not match its SHA-256"),
        "{}",
        all(&out)
    );
    // A forged tree-head signature, and an edited ledger entry, are caught as well.
    for (member, what) in [
        ("ledger/tree-head.json", "signature"),
        ("ledger/entry.json", "hash"),
    ] {
        let forged = d.join("forged.zip");
        rewrite_zip(&bundle, &forged, |name, bytes| {
            if name == member {
                let mut v: serde_json::Value = serde_json::from_slice(bytes).unwrap();
                if member.ends_with("tree-head.json") {
                    let sig = v["signature"].as_str().unwrap().to_string();
                    let flipped = if sig.ends_with('0') { "1" } else { "0" };
                    v["signature"] = format!("{}{flipped}", &sig[..sig.len() - 1]).into();
                } else {
                    let body = v["body"].as_str().unwrap().replace("\"v\":1", "\"v\":1 ");
                    v["body"] = body.into();
                }
                *bytes = serde_json::to_vec(&v).unwrap();
            }
        });
        let out = anpr(d, &["verify-bundle", forged.to_str().unwrap()]);
        assert!(
            !out.status.success(),
            "forged {what} accepted: {}",
            all(&out)
        );
    }

    // The overseer saves a tree head, the platform goes on, the log is checked against it.
    let server = serve(d);
    let token = login(&server.1, "S1005");
    let out = Command::new(env!("CARGO_BIN_EXE_anpr"))
        .args(["ledger", "tree-head", &server.1])
        .env("ANPR_TOKEN", &token)
        .output()
        .unwrap();
    assert!(out.status.success(), "{}", all(&out));
    let head_file = d.join("trusted-head.json");
    std::fs::write(&head_file, &out.stdout).unwrap();
    login(&server.1, "S1001"); // more activity after the saved head
    let pubkey = d.join("ledger").join("ledger-signing-key.pub");
    let remote = |samples: &str| {
        Command::new(env!("CARGO_BIN_EXE_anpr"))
            .args(["ledger", "verify-remote", &server.1, "--trusted-head"])
            .arg(&head_file)
            .arg("--public-key")
            .arg(&pubkey)
            .args(["--samples", samples])
            .env("ANPR_TOKEN", &token)
            .output()
            .unwrap()
    };
    let out = remote("10");
    assert!(out.status.success(), "{}", all(&out));
    assert!(
        stdout(&out).contains("OK: the server's log extends"),
        "{}",
        stdout(&out)
    );

    // Someone edits an entry behind the ledger's back: sampling every entry finds it.
    let edited: i64 = rusqlite::Connection::open(d.join("ledger").join("ledger.sqlite"))
        .unwrap()
        .query_row(
            "SELECT min(idx) FROM entries WHERE CAST(body AS TEXT) LIKE '%S1005%'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    tamper(
        d,
        &format!("UPDATE entries SET body = replace(body, 'S1005', 'S9999') WHERE idx = {edited}"),
    );
    let out = remote("200");
    assert!(!out.status.success(), "{}", all(&out));
    drop(server);

    // The local full verification finds it too and names the entry.
    let out = anpr(d, &["ledger", "verify"]);
    assert!(!out.status.success(), "{}", all(&out));
    assert!(
        all(&out).contains(&format!("first bad index: {edited}")),
        "{}",
        all(&out)
    );
}

fn rewrite_zip(from: &Path, to: &Path, mut edit: impl FnMut(&str, &mut Vec<u8>)) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut dst = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let name = f.name().to_string();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        edit(&name, &mut bytes);
        dst.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        dst.write_all(&bytes).unwrap();
    }
    dst.finish().unwrap();
}

#[test]
fn local_verify_passes_on_an_untouched_log() {
    let dir = tempfile::tempdir().unwrap();
    let out = anpr(
        dir.path(),
        &["demo", "--no-serve", "--reads", "100", "--days", "1"],
    );
    assert!(out.status.success(), "{}", all(&out));
    let out = anpr(dir.path(), &["ledger", "verify"]);
    assert!(out.status.success(), "{}", all(&out));
}

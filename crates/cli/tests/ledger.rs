//! The audit ledger from the outside: local verification, an overseer's remote check against a
//! saved tree head, and evidence bundles, each also against tampering.

mod harness;

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
    let (read, bundle) = harness::export_bundle(d, &[], &[]);
    let key = d.join("ledger").join("ledger-signing-key.pub");
    let out = anpr(
        d,
        &[
            "verify-bundle",
            bundle.to_str().unwrap(),
            "--public-key",
            key.to_str().unwrap(),
        ],
    );
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
        all(&out).contains("does not match the SHA-256"),
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

type Members = std::collections::BTreeMap<String, Vec<u8>>;

/// A copy of the bundle `from` at `to`, its members changed by `edit` (added, removed, renamed).
fn edit_bundle(from: &Path, to: &Path, edit: impl FnOnce(&mut Members)) {
    let mut src = zip::ZipArchive::new(std::fs::File::open(from).unwrap()).unwrap();
    let mut members = Members::new();
    for i in 0..src.len() {
        let mut f = src.by_index(i).unwrap();
        let mut bytes = Vec::new();
        f.read_to_end(&mut bytes).unwrap();
        members.insert(f.name().to_string(), bytes);
    }
    edit(&mut members);
    let mut dst = zip::ZipWriter::new(std::fs::File::create(to).unwrap());
    for (name, bytes) in members {
        dst.start_file(name, zip::write::SimpleFileOptions::default())
            .unwrap();
        dst.write_all(&bytes).unwrap();
    }
    dst.finish().unwrap();
}

fn json_of(members: &Members, name: &str) -> serde_json::Value {
    serde_json::from_slice(&members[name]).unwrap()
}

fn set_json(members: &mut Members, name: &str, v: &serde_json::Value) {
    members.insert(name.into(), serde_json::to_vec_pretty(v).unwrap());
}

/// Replaces (or, with `None`, removes) the image of `role` as a forger would: the member, the
/// manifest's list and the read record's hash all made to agree with the new image.
fn replace_image(members: &mut Members, role: &str, new: Option<Vec<u8>>) {
    let old = members
        .keys()
        .find(|n| n.starts_with(&format!("images/{role}-")))
        .cloned()
        .unwrap_or_else(|| panic!("no {role} image in the bundle"));
    members.remove(&old);
    let mut manifest = json_of(members, "manifest.json");
    let images = manifest["images"].as_array_mut().unwrap();
    images.retain(|pair| pair[0] != old.as_str());
    let mut read = json_of(members, "read.json");
    let field = format!("{role}_image");
    match new {
        Some(bytes) => {
            let sha = anpr_ledger::evidence::bytes_sha256(&bytes);
            let name = format!("images/{role}-{sha}.jpg");
            images.push(serde_json::json!([name, sha]));
            members.insert(name, bytes);
            read[&field] = sha.into();
        }
        None => read[&field] = serde_json::Value::Null,
    }
    set_json(members, "manifest.json", &manifest);
    set_json(members, "read.json", &read);
}

/// Another value of the same kind as `v`, as a forger would write it.
fn changed(v: &serde_json::Value) -> serde_json::Value {
    use serde_json::Value;
    match v {
        Value::Null => "forged".into(),
        Value::Bool(b) => (!b).into(),
        Value::Number(n) if n.is_i64() => (n.as_i64().unwrap() + 1).into(),
        Value::Number(n) => (n.as_f64().unwrap() - 0.01).into(),
        Value::String(s) => match chrono::DateTime::parse_from_rfc3339(s) {
            Ok(t) => (t + chrono::TimeDelta::seconds(1)).to_rfc3339().into(),
            Err(_) => {
                let last = s.chars().last().unwrap_or('A');
                let other = if last == '1' { '7' } else { '1' };
                format!("{}{other}", &s[..s.len() - last.len_utf8()]).into()
            }
        },
        Value::Array(a) => a.iter().map(changed).collect(),
        Value::Object(o) => o.iter().map(|(k, v)| (k.clone(), changed(v))).collect(),
    }
}

/// A forger's own log of one entry: the export's entry rewritten to bind `members`' read and
/// images, under a head signed by the key in `key_file` (created when missing), whose public
/// key replaces the bundle's. With `bind` false the entry binds nothing (an older version's).
fn resign(members: &mut Members, key_file: &Path, bind: bool) {
    let key = if key_file.exists() {
        anpr_ledger::keys::read_key_file(key_file).unwrap()
    } else {
        anpr_ledger::keys::create_key_file(key_file).unwrap();
        anpr_ledger::keys::read_key_file(key_file).unwrap()
    };
    let entry = json_of(members, "ledger/entry.json");
    let mut event = anpr_ledger::Event::decode(entry["body"].as_str().unwrap().as_bytes()).unwrap();
    event.seq = 0;
    let query = event.query.as_object_mut().unwrap();
    query.remove("evidence");
    if bind {
        let read = json_of(members, "read.json");
        let images: Vec<(String, Vec<u8>)> = members
            .iter()
            .filter_map(|(n, b)| {
                let role = n.strip_prefix("images/")?.split('-').next()?;
                Some((role.to_string(), b.clone()))
            })
            .collect();
        let roles: Vec<(&str, &[u8])> = images
            .iter()
            .map(|(r, b)| (r.as_str(), b.as_slice()))
            .collect();
        anpr_ledger::EvidenceDigest::of(&read, &roles).write_into(&mut event.query);
    }
    let body = String::from_utf8(event.encode()).unwrap();
    let leaf = anpr_ledger::entry_leaf_hash(body.as_bytes());
    let entry = anpr_ledger::StoredEntry {
        index: 0,
        leaf_hash: leaf,
        body,
    };
    let proof = anpr_ledger::InclusionProof {
        index: 0,
        size: 1,
        leaf_hash: leaf,
        hashes: vec![],
    };
    let head = anpr_ledger::TreeHead::sign(1, leaf, chrono::Utc::now(), &key);
    let mut manifest = json_of(members, "manifest.json");
    manifest["export_entry_index"] = 0.into();
    set_json(members, "manifest.json", &manifest);
    set_json(
        members,
        "ledger/entry.json",
        &serde_json::to_value(&entry).unwrap(),
    );
    set_json(
        members,
        "ledger/inclusion.json",
        &serde_json::to_value(&proof).unwrap(),
    );
    set_json(
        members,
        "ledger/tree-head.json",
        &serde_json::to_value(&head).unwrap(),
    );
    let public = anpr_ledger::keys::public_key_pem(&key.verifying_key());
    members.insert("ledger/public-key.pem".into(), public.into_bytes());
}

#[test]
fn evidence_bundles_bind_their_contents() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let out = anpr(d, &["demo", "--no-serve", "--reads", "300", "--days", "1"]);
    assert!(out.status.success(), "{}", all(&out));
    let (read, bundle) = harness::export_bundle(d, &[], &[]);
    let key = d.join("ledger").join("ledger-signing-key.pub");
    let check = |file: &Path, with_key: bool| {
        let mut args = vec!["verify-bundle", file.to_str().unwrap()];
        if with_key {
            args.extend(["--public-key", key.to_str().unwrap()]);
        }
        anpr(d, &args)
    };
    let refused = |what: &str, file: &Path, says: &str| {
        let out = check(file, true);
        assert_eq!(out.status.code(), Some(1), "{what} accepted: {}", all(&out));
        assert!(all(&out).contains(says), "{what}: {}", all(&out));
    };

    // Untouched, with the deployment's key: OK.
    let out = check(&bundle, true);
    assert!(out.status.success(), "{}", all(&out));
    assert!(
        stdout(&out).starts_with(&format!("OK: read {read}")),
        "{}",
        all(&out)
    );
    // Without it: UNVERIFIED, saying what to pass, and a failing status.
    let out = check(&bundle, false);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(stdout(&out).starts_with("UNVERIFIED"), "{}", all(&out));
    assert!(stdout(&out).contains("--public-key"), "{}", all(&out));

    // Every field of the read record changed, one at a time.
    let record = {
        let mut m = Members::new();
        edit_bundle(&bundle, &d.join("copy.zip"), |all| m = all.clone());
        json_of(&m, "read.json")
    };
    let fields = record.as_object().unwrap();
    assert!(fields.len() >= 16, "{record}");
    let forged = d.join("forged.zip");
    for (field, value) in fields {
        edit_bundle(&bundle, &forged, |m| {
            let mut read = json_of(m, "read.json");
            read[field] = changed(value);
            assert_ne!(read[field], *value, "{field}");
            set_json(m, "read.json", &read);
        });
        refused(
            &format!("read.json's {field} changed"),
            &forged,
            "read.json",
        );
    }

    // Each image swapped for another or removed, with the manifest and read.json updated.
    let mut roles = Vec::new();
    edit_bundle(&bundle, &d.join("copy.zip"), |m| {
        for name in m.keys() {
            if let Some(rest) = name.strip_prefix("images/") {
                roles.push(rest.split('-').next().unwrap().to_string());
            }
        }
    });
    assert!(roles.contains(&"plate".to_string()), "{roles:?}");
    for role in &roles {
        edit_bundle(&bundle, &forged, |m| {
            let name = m
                .keys()
                .find(|n| n.starts_with(&format!("images/{role}-")))
                .unwrap();
            let mut other = m[name].clone();
            let mid = other.len() / 2;
            other[mid] ^= 0x55;
            replace_image(m, role, Some(other));
        });
        refused(
            &format!("{role} image swapped"),
            &forged,
            &format!("{role} image"),
        );
        edit_bundle(&bundle, &forged, |m| replace_image(m, role, None));
        refused(
            &format!("{role} image removed"),
            &forged,
            &format!("the {role} image is missing"),
        );
    }
    // An image added.
    edit_bundle(&bundle, &forged, |m| {
        let extra = b"\xff\xd8 not the export's \xff\xd9".to_vec();
        let sha = anpr_ledger::evidence::bytes_sha256(&extra);
        let name = format!("images/extra-{sha}.jpg");
        let mut manifest = json_of(m, "manifest.json");
        manifest["images"]
            .as_array_mut()
            .unwrap()
            .push(serde_json::json!([name, sha]));
        set_json(m, "manifest.json", &manifest);
        m.insert(name, extra);
    });
    refused(
        "an image added",
        &forged,
        "is not an image the export recorded",
    );

    // A forger's bundle, consistent in itself under a key of their own: refused with the
    // deployment's key, UNVERIFIED without.
    let forger_key = d.join("forger-key");
    edit_bundle(&bundle, &forged, |m| {
        let mut read = json_of(m, "read.json");
        read["plate"] = changed(&read["plate"]);
        set_json(m, "read.json", &read);
        resign(m, &forger_key, true);
    });
    refused(
        "a self-signed forgery",
        &forged,
        "not signed by the public key you gave",
    );
    let out = check(&forged, false);
    assert_eq!(out.status.code(), Some(2), "{}", all(&out));
    assert!(stdout(&out).starts_with("UNVERIFIED"), "{}", all(&out));

    // Bundles whose entry binds nothing (an older version's) cannot be verified, even when
    // the deployment's own key signed their head.
    let deployment_key = d.join("ledger").join("ledger-signing-key");
    edit_bundle(&bundle, &forged, |m| resign(m, &deployment_key, false));
    refused(
        "an entry binding nothing",
        &forged,
        "does not record the hashes",
    );
    edit_bundle(&bundle, &forged, |m| {
        let mut manifest = json_of(m, "manifest.json");
        manifest["format"] = "anpr-evidence-bundle/1".into();
        set_json(m, "manifest.json", &manifest);
    });
    refused("a format 1 bundle", &forged, "cannot be verified");
}

/// `anpr ledger verify` leads with the altered entry and what is wrong with it, whether the
/// editor recomputed its leaf hash or not.
#[test]
fn local_verify_names_the_altered_entry_first() {
    let dir = tempfile::tempdir().unwrap();
    let out = anpr(
        dir.path(),
        &["demo", "--no-serve", "--reads", "100", "--days", "1"],
    );
    assert!(out.status.success(), "{}", all(&out));
    for recompute_leaf in [false, true] {
        let copy = tempfile::tempdir().unwrap();
        let status = Command::new("cp")
            .arg("-a")
            .arg(dir.path().join("."))
            .arg(copy.path())
            .status()
            .unwrap();
        assert!(status.success());
        let d = copy.path();
        let conn = rusqlite::Connection::open(d.join("ledger").join("ledger.sqlite")).unwrap();
        let (edited, body): (i64, Vec<u8>) = conn
            .query_row(
                "SELECT idx, body FROM entries WHERE idx = (SELECT max(idx) - 2 FROM entries)",
                [],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .unwrap();
        let forged = anpr_ledger::Event::decode(&body)
            .unwrap()
            .justification("nothing to see here")
            .encode();
        if recompute_leaf {
            let leaf = anpr_ledger::entry_leaf_hash(&forged);
            conn.execute(
                "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = ?3",
                rusqlite::params![forged, &leaf[..], edited],
            )
            .unwrap();
        } else {
            conn.execute(
                "UPDATE entries SET body = ?1 WHERE idx = ?2",
                rusqlite::params![forged, edited],
            )
            .unwrap();
        }
        drop(conn);
        let out = anpr(d, &["ledger", "verify"]);
        assert!(!out.status.success(), "{}", all(&out));
        let said = all(&out);
        assert!(
            said.contains(&format!("first: edited at index {edited}:")),
            "leaf recomputed {recompute_leaf}: {said}"
        );
        assert!(
            said.contains(&format!("first bad index: {edited} (edited: ")),
            "leaf recomputed {recompute_leaf}: {said}"
        );
    }
}

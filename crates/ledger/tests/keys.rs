//! The signing key kept outside the ledger directory, and its rotation.

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};

use anpr_ledger::keys::{self, KeySource};
use anpr_ledger::{Error, Ledger, Options, ProblemKind};
use common::sample_events;

fn with_key(dir: &Path, current: &Path, previous: Option<&Path>) -> anpr_ledger::Result<Ledger> {
    Ledger::open_with(
        dir,
        Options {
            keys: KeySource::Files {
                current: current.to_owned(),
                previous: previous.map(Path::to_owned),
            },
            ..Default::default()
        },
    )
}

fn new_key(dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    keys::create_key_file(&path).unwrap();
    path
}

#[test]
fn a_key_kept_apart_signs_and_a_readable_or_misplaced_one_is_refused() {
    let (secrets, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = new_key(secrets.path(), "ledger.key");
    let l = with_key(data.path(), &key, None).unwrap();
    assert!(!l.key_in_directory());
    l.append(&sample_events(0, 5)).unwrap();
    let head = l.sign_tree_head().unwrap();
    let public = keys::read_public_key(&data.path().join(keys::PUBLIC_KEY_FILE)).unwrap();
    head.verify_signature(&public).unwrap();
    assert!(!data.path().join(keys::KEY_FILE).exists());
    drop(l);

    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o640)).unwrap();
    let err = with_key(data.path(), &key, None).err().expect("refused");
    assert!(err.to_string().contains("chmod 600"), "{err}");
    std::fs::set_permissions(&key, std::fs::Permissions::from_mode(0o600)).unwrap();

    let inside = data.path().join("key-inside");
    std::fs::copy(&key, &inside).unwrap();
    std::fs::set_permissions(&inside, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = with_key(data.path(), &inside, None).err().expect("refused");
    assert!(
        err.to_string().contains("outside the ledger directory"),
        "{err}"
    );

    let missing = with_key(data.path(), &secrets.path().join("nope"), None)
        .err()
        .expect("refused");
    assert!(
        missing.to_string().contains("anpr ledger new-key"),
        "{missing}"
    );
}

#[test]
fn without_its_key_a_process_appends_but_never_signs() {
    let (secrets, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = new_key(secrets.path(), "ledger.key");
    with_key(data.path(), &key, None)
        .unwrap()
        .append(&sample_events(0, 3))
        .unwrap();
    // The CLI beside the server, given no key.
    let l = Ledger::open(data.path()).unwrap();
    assert_eq!(l.append(&sample_events(3, 2)).unwrap(), vec![3, 4]);
    match l.sign_tree_head() {
        Err(Error::Key { reason, .. }) => assert!(reason.contains("--signing-key"), "{reason}"),
        other => panic!("signed without a key: {other:?}"),
    }
    assert!(
        !data.path().join(keys::KEY_FILE).exists(),
        "no key was created"
    );
}

#[test]
fn the_demo_key_in_the_directory_must_move_out_whole() {
    let (secrets, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let l = Ledger::open(data.path()).unwrap();
    assert!(l.key_in_directory());
    l.append(&sample_events(0, 3)).unwrap();
    l.sign_tree_head().unwrap();
    drop(l);
    let inside = data.path().join(keys::KEY_FILE);
    let outside = secrets.path().join("ledger.key");
    std::fs::copy(&inside, &outside).unwrap();
    std::fs::set_permissions(&outside, std::fs::Permissions::from_mode(0o600)).unwrap();
    let err = with_key(data.path(), &outside, None)
        .err()
        .expect("refused");
    assert!(
        err.to_string()
            .contains("still sits in the ledger directory"),
        "{err}"
    );
    std::fs::remove_file(&inside).unwrap();
    let l = with_key(data.path(), &outside, None).unwrap();
    l.append(&sample_events(3, 1)).unwrap();
    l.sign_tree_head().unwrap();
    assert!(l.verify_full().unwrap().is_ok());
}

#[test]
fn a_rollover_signs_with_both_keys_and_the_old_heads_still_verify() {
    let (secrets, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let old = new_key(secrets.path(), "old.key");
    let new = new_key(secrets.path(), "new.key");
    let old_public = keys::read_key_file(&old).unwrap().verifying_key();
    let new_public = keys::read_key_file(&new).unwrap().verifying_key();

    let l = with_key(data.path(), &old, None).unwrap();
    l.append(&sample_events(0, 10)).unwrap();
    let before = l.sign_tree_head().unwrap();
    drop(l);

    let err = with_key(data.path(), &new, None).err().expect("refused");
    assert!(
        err.to_string().contains("previous key for a rollover"),
        "{err}"
    );

    let l = with_key(data.path(), &new, Some(&old)).unwrap();
    l.append(&sample_events(10, 10)).unwrap();
    let during = l.sign_tree_head().unwrap();
    during.verify_signature(&old_public).unwrap();
    during.verify_signature(&new_public).unwrap();
    assert!(before.verify_signature(&new_public).is_err());
    drop(l);

    let l = with_key(data.path(), &new, None).unwrap();
    l.append(&sample_events(20, 10)).unwrap();
    let after = l.sign_tree_head().unwrap();
    assert!(after.previous_key.is_none());
    assert!(after.verify_signature(&old_public).is_err());
    let report = l.verify_full().unwrap();
    assert!(
        report.is_ok(),
        "the old key's heads verify through its endorsement: {report}"
    );
    assert_eq!(report.heads, 3);
}

#[test]
fn a_key_slipped_into_the_retired_list_is_not_trusted() {
    let (secrets, data) = (tempfile::tempdir().unwrap(), tempfile::tempdir().unwrap());
    let key = new_key(secrets.path(), "ledger.key");
    let l = with_key(data.path(), &key, None).unwrap();
    l.append(&sample_events(0, 10)).unwrap();
    l.sign_tree_head().unwrap();
    drop(l);
    // Someone who can write the directory but not read the key signs a head with a key of
    // theirs and lists that key as retired, with an endorsement they had to make up.
    let forger = ed25519_dalek::SigningKey::from_bytes(&[42u8; 32]);
    let l = Ledger::open(data.path()).unwrap();
    let forged =
        anpr_ledger::TreeHead::sign(10, l.root_at(10).unwrap(), chrono::Utc::now(), &forger);
    drop(l);
    let retired = serde_json::json!([{
        "public_key": hex::encode(forger.verifying_key().as_bytes()),
        "successor": keys::key_id(&keys::read_key_file(&key).unwrap().verifying_key()),
        "endorsement": "00".repeat(64),
    }]);
    std::fs::write(
        data.path().join(keys::RETIRED_KEYS_FILE),
        serde_json::to_vec(&retired).unwrap(),
    )
    .unwrap();
    rusqlite::Connection::open(data.path().join("ledger.sqlite"))
        .unwrap()
        .execute(
            "INSERT INTO tree_heads (size, root_hash, timestamp, key_id, signature) VALUES (?1, ?2, ?3, ?4, ?5)",
            rusqlite::params![10, hex::encode(forged.root_hash), forged.timestamp, forged.key_id, forged.signature],
        )
        .unwrap();
    let report = with_key(data.path(), &key, None)
        .unwrap()
        .verify_full()
        .unwrap();
    assert_eq!(
        report.first_problem().map(|p| p.kind),
        Some(ProblemKind::BadSignature),
        "{report}"
    );
}

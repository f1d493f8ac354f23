//! Redactable entries, per-network counters in signed heads, and network slices: a redacted entry
//! verifies against the signed head, a changed field does not, and a slice with an entry withheld
//! fails the completeness check.

mod common;

use anpr_ledger::redact::{Fields, REDACTABLE_VERSION};
use anpr_ledger::slice::{AUDITOR_FIELDS, COUNTED_FIELDS};
use anpr_ledger::{
    entry_leaf_hash, verify_slice, Action, Actor, AuditFacts, Event, Ledger, Month, NetworkSlice,
    ProblemKind, ResultDigest,
};
use rusqlite::params;
use serde_json::{json, Value};

/// A search in March or April 2026 by an officer, touching `networks`.
fn search(i: u64, networks: &[i64]) -> Event {
    let day = 1 + (i % 50);
    let (month, day) = if day > 31 { (4, day - 31) } else { (3, day) };
    Event::new(Actor::staff("S1001", "searcher"), Action::Search)
        .at(format!("2026-{month:02}-{day:02}T10:00:00Z")
            .parse()
            .unwrap())
        .purpose("INV")
        .file_number(format!("F-2026-{i:04}"))
        .justification("burglary enquiry")
        .query(json!({"district": "north", "network_reads": {"1": 2, "2": 1}}))
        .facts(
            AuditFacts::new()
                .plate(format!("AB{i:04}"))
                .network_ids(networks.to_vec()),
        )
        .result(ResultDigest::of_ids(&[i as i64]))
}

/// A ledger with v1-style history absent: 60 entries, network 1 touched by 40 of them, network 2
/// by 30, some by none; a head signed at the end.
fn build() -> (tempfile::TempDir, Ledger) {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let events: Vec<Event> = (0..60)
        .map(|i| match i % 6 {
            0 | 1 => search(i, &[1]),
            2 | 3 => search(i, &[1, 2]),
            4 => search(i, &[2]),
            _ => common::sample_event(i),
        })
        .collect();
    l.append(&events[..30]).unwrap();
    l.sign_tree_head().unwrap();
    l.append(&events[30..]).unwrap();
    l.sign_tree_head().unwrap();
    (dir, l)
}

#[test]
fn appended_entries_are_redactable_and_decode() {
    let (_dir, l) = build();
    let mut salts = std::collections::BTreeSet::new();
    for e in l.entries(0, 60).unwrap() {
        let body = e.body.as_bytes();
        assert!(e.body.ends_with(&format!("\"v\":{REDACTABLE_VERSION}}}")));
        let fields = Fields::of_body(body).expect("a version-2 body");
        assert_eq!(fields.leaf_hash(), e.leaf_hash);
        assert_eq!(entry_leaf_hash(body), e.leaf_hash);
        let ev = Event::decode(body).unwrap();
        assert_eq!(ev.seq, e.index);
        let salt = Event::entry_salt(body).unwrap().unwrap();
        assert_eq!(ev.encode_redactable(&salt), body);
        salts.insert(salt);
    }
    assert_eq!(salts.len(), 60, "a salt is drawn per entry");
    assert!(l.verify_full().unwrap().is_ok());
}

#[test]
fn changing_any_field_changes_the_leaf() {
    let ev = search(3, &[1, 2]);
    let body = ev.encode_redactable(&[9u8; 32]);
    let fields = Fields::of_body(&body).unwrap();
    let leaf = fields.leaf_hash();
    assert!(fields.values.len() >= 10, "{:?}", fields.values.keys());
    for name in fields.values.keys() {
        let mut changed = fields.clone();
        let v = changed.values.get_mut(name).unwrap();
        *v = json!({"changed": v.clone()});
        assert_ne!(changed.leaf_hash(), leaf, "{name}");
    }
    let mut other_salt = fields.clone();
    other_salt.salt[0] ^= 1;
    assert_ne!(other_salt.leaf_hash(), leaf);
    // A redaction to any set of fields recomputes the same leaf.
    for keep in [
        &[][..],
        AUDITOR_FIELDS,
        COUNTED_FIELDS,
        &["plate", "query.plate"],
    ] {
        let r = fields.redact(keep);
        assert_eq!(r.leaf_hash().unwrap(), leaf);
    }
    // A version-1 body of the same event is not a version-2 one and hashes as bytes.
    let v1 = ev.encode();
    assert!(Fields::of_body(&v1).is_none());
    assert_eq!(entry_leaf_hash(&v1), anpr_ledger::merkle::leaf_hash(&v1));
}

#[test]
fn heads_count_the_entries_that_touched_each_network() {
    let (_dir, l) = build();
    let heads = l.tree_heads().unwrap();
    assert_eq!(heads.len(), 2);
    let counts = heads[1].network_counts.clone().unwrap();
    assert_eq!(counts.get(&1), Some(&40));
    assert_eq!(counts.get(&2), Some(&30));
    assert_eq!(heads[0].network_count(1), Some(20));
    assert_eq!(heads[0].network_count(3), Some(0));
    heads[1].verify_signature(&l.public_key()).unwrap();
}

#[test]
fn a_whole_log_slice_verifies_and_is_complete() {
    let (_dir, l) = build();
    let head = l.latest_counted_head().unwrap().unwrap();
    let slice = l.network_slice(1, &head, None).unwrap();
    assert_eq!(slice.entries.len(), 40);
    let v = verify_slice(&slice, &[l.public_key()]).unwrap();
    assert_eq!((v.total, v.in_month, v.described), (40, 40, 40));
    // The auditor sees the auditor's fields and nothing else.
    let e = &slice.entries[0];
    assert_eq!(e.fields.value("purpose"), Some(&json!("INV")));
    assert_eq!(e.fields.value("query.district"), Some(&json!("north")));
    for secret in [
        "actor",
        "file_number",
        "justification",
        "query.plate",
        "result",
    ] {
        assert!(e.fields.value(secret).is_none(), "{secret}");
        assert!(e.fields.hidden.contains_key(secret), "{secret}");
    }
    let json = serde_json::to_string(&slice).unwrap();
    assert!(!json.contains("F-2026") && !json.contains("S1001") && !json.contains("AB00"));
    // It survives JSON.
    let back: NetworkSlice = serde_json::from_str(&json).unwrap();
    verify_slice(&back, &[l.public_key()]).unwrap();
    // Network 2's slice, and a network nobody touched.
    assert_eq!(l.network_slice(2, &head, None).unwrap().entries.len(), 30);
    let none = l.network_slice(7, &head, None).unwrap();
    assert_eq!(verify_slice(&none, &[l.public_key()]).unwrap().total, 0);
}

#[test]
fn a_slice_with_an_entry_withheld_fails_the_completeness_check() {
    let (_dir, l) = build();
    let head = l.latest_counted_head().unwrap().unwrap();
    let mut slice = l.network_slice(1, &head, None).unwrap();
    slice.entries.remove(17);
    let e = verify_slice(&slice, &[l.public_key()]).unwrap_err();
    assert!(e.to_string().contains("incomplete"), "{e}");
    // Padding with a duplicate does not help.
    let mut padded = slice.clone();
    padded.entries.push(padded.entries[0].clone());
    assert!(verify_slice(&padded, &[l.public_key()])
        .unwrap_err()
        .to_string()
        .contains("twice"));
    // Nor does an entry of another network.
    let other = l.network_slice(2, &head, None).unwrap();
    let foreign = other
        .entries
        .iter()
        .find(|e| !slice.entries.iter().any(|s| s.index == e.index))
        .unwrap()
        .clone();
    let mut swapped = slice.clone();
    swapped.entries.push(foreign);
    assert!(verify_slice(&swapped, &[l.public_key()])
        .unwrap_err()
        .to_string()
        .contains("touched network 1"));
    // Nor a head with a lower count: its signature fails.
    let mut lowered = slice.clone();
    lowered.head.network_counts.as_mut().unwrap().insert(1, 39);
    assert!(verify_slice(&lowered, &[l.public_key()]).is_err());
}

#[test]
fn a_redacted_entry_verifies_and_a_changed_field_fails() {
    let (_dir, l) = build();
    let head = l.latest_counted_head().unwrap().unwrap();
    let slice = l.network_slice(1, &head, None).unwrap();
    // Reduced to time and networks (a file still open): still verifies, counted not described.
    let mut reduced = slice.clone();
    reduced.entries[3].reduce_to_counted().unwrap();
    reduced.entries[3]
        .annotations
        .insert("officer".into(), json!("p-7f3a"));
    let v = verify_slice(&reduced, &[l.public_key()]).unwrap();
    assert_eq!((v.total, v.described), (40, 39));
    for (name, value) in [
        ("purpose", json!("ROAD")),
        ("query.district", json!("south")),
        ("time", json!("2026-03-02T10:00:00Z")),
        ("action", json!("image_view")),
        ("outcome", json!({"result": "refused"})),
    ] {
        let mut changed = slice.clone();
        changed.entries[5]
            .fields
            .revealed
            .get_mut(name)
            .unwrap()
            .value = value;
        let e = verify_slice(&changed, &[l.public_key()]).unwrap_err();
        assert!(e.to_string().contains("do not verify"), "{name}: {e}");
    }
    let mut hidden_changed = slice.clone();
    let c = hidden_changed.entries[5]
        .fields
        .hidden
        .get_mut("actor")
        .unwrap();
    *c = "00".repeat(32);
    assert!(verify_slice(&hidden_changed, &[l.public_key()]).is_err());
    let mut other_key = slice.clone();
    other_key.head.signature = "00".repeat(64);
    assert!(verify_slice(&other_key, &[l.public_key()]).is_err());
}

#[test]
fn a_month_slice_opens_the_month_and_counts_the_rest() {
    let (_dir, l) = build();
    let head = l.latest_counted_head().unwrap().unwrap();
    let april: Month = "2026-04".parse().unwrap();
    let slice = l.network_slice(1, &head, Some(april)).unwrap();
    assert_eq!(slice.entries.len(), 40);
    let v = verify_slice(&slice, &[l.public_key()]).unwrap();
    let in_april = slice
        .entries
        .iter()
        .filter(|e| e.time().is_some_and(|t| april.contains(t)))
        .count() as u64;
    assert!(in_april > 0 && in_april < 40);
    assert_eq!((v.in_month, v.described), (in_april, in_april));
    for e in &slice.entries {
        let inside = april.contains(e.time().unwrap());
        assert_eq!(e.described(), inside, "entry {}", e.index);
    }
    assert!("2026-13".parse::<Month>().is_err());
    assert!("March".parse::<Month>().is_err());
}

#[test]
fn verify_full_fails_on_a_wrong_counter() {
    let (dir, l) = build();
    assert!(l.verify_full().unwrap().is_ok());
    // Re-sign the last head with a counter lowered by one, as a ledger hiding an entry would.
    let mut last = l.latest_tree_head().unwrap().unwrap();
    let key =
        anpr_ledger::keys::read_key_file(&dir.path().join(anpr_ledger::keys::KEY_FILE)).unwrap();
    let mut counts = last.network_counts.take().unwrap();
    *counts.get_mut(&1).unwrap() -= 1;
    let forged = anpr_ledger::TreeHead::sign_with_counts(
        last.size,
        last.root_hash,
        last.time().unwrap(),
        counts,
        &key,
        None,
    );
    let c = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
    c.execute(
        "UPDATE tree_heads SET network_counts = ?1, signature = ?2 WHERE size = ?3",
        params![
            serde_json::to_string(&forged.network_counts).unwrap(),
            forged.signature,
            last.size as i64
        ],
    )
    .unwrap();
    let r = l.verify_full().unwrap();
    let p = r.first_problem().expect("a problem");
    assert_eq!(p.kind, ProblemKind::WrongCounter, "{p}");
    assert!(p.detail.contains("network 1"), "{}", p.detail);
}

#[test]
fn old_version_1_entries_still_verify_beside_new_ones() {
    let dir = tempfile::tempdir().unwrap();
    {
        let l = Ledger::open(dir.path()).unwrap();
        l.append(&common::sample_events(0, 5)).unwrap();
    }
    // Rewrite the five entries as version-1 bodies, as a log from before redactable entries holds.
    let c = rusqlite::Connection::open(dir.path().join("ledger.sqlite")).unwrap();
    for i in 0..5i64 {
        let body: Vec<u8> = c
            .query_row("SELECT body FROM entries WHERE idx = ?1", [i], |r| r.get(0))
            .unwrap();
        let v1 = Event::decode(&body).unwrap().encode();
        let leaf = anpr_ledger::merkle::leaf_hash(&v1);
        c.execute(
            "UPDATE entries SET body = ?1, leaf_hash = ?2 WHERE idx = ?3",
            params![v1, &leaf[..], i],
        )
        .unwrap();
    }
    // The node files were written from the version-2 leaves: rebuild them from the stored ones.
    c.execute("DELETE FROM meta WHERE key = 'nodes_synced'", [])
        .unwrap();
    drop(c);
    std::fs::remove_dir_all(dir.path().join(anpr_ledger::NODES_DIR)).unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    assert_eq!(l.damaged(), None);
    l.append(&[search(1, &[1])]).unwrap();
    let head = l.sign_tree_head().unwrap();
    assert_eq!(head.network_count(1), Some(1));
    assert!(l.verify_full().unwrap().is_ok(), "{:?}", l.verify_full());
    let v: Value = serde_json::from_str(&l.entries(0, 1).unwrap()[0].body).unwrap();
    assert_eq!(v["v"], json!(1));
    let slice = l.network_slice(1, &head, None).unwrap();
    assert_eq!(verify_slice(&slice, &[l.public_key()]).unwrap().total, 1);
}

#[test]
fn a_statement_verifies_from_its_slice_and_a_changed_count_fails() {
    use anpr_ledger::{verify_statement, NetworkStatement};
    let (_dir, l) = build();
    let head = l.latest_counted_head().unwrap().unwrap();
    let march: Month = "2026-03".parse().unwrap();
    let mut slice = l.network_slice(1, &head, Some(march)).unwrap();
    // One use under a file still open: counted, not described.
    let open = slice.entries.iter().position(|e| e.described()).unwrap();
    slice.entries[open].reduce_to_counted().unwrap();
    let statement = NetworkStatement::from_slice(&slice).unwrap();
    let c = &statement.counts;
    assert!(c.uses > 0);
    assert_eq!(c.counted_only, 1);
    assert_eq!(c.described + c.counted_only, c.uses);
    assert_eq!(c.by_purpose.get("INV"), Some(&c.described));
    assert_eq!(c.by_district.get("north"), Some(&c.described));
    assert_eq!(c.by_action.get("search"), Some(&c.described));
    assert_eq!(c.reads_disclosed, 2 * c.described);
    let signed = l.sign_statement(statement).unwrap();
    let keys = [l.public_key()];
    verify_statement(&signed, &slice, &keys).unwrap();
    let json = serde_json::to_string(&signed).unwrap();
    let back: anpr_ledger::SignedStatement = serde_json::from_str(&json).unwrap();
    verify_statement(&back, &slice, &keys).unwrap();

    // A count changed after signing: the signature fails.
    let mut changed = signed.clone();
    changed.statement.counts.reads_disclosed += 1;
    assert!(verify_statement(&changed, &slice, &keys).is_err());
    // A count changed and re-signed (a ledger misreporting): the recount fails, naming it.
    let mut wrong = signed.statement.clone();
    *wrong.counts.by_purpose.get_mut("INV").unwrap() -= 1;
    let wrong = l.sign_statement(wrong).unwrap();
    let e = verify_statement(&wrong, &slice, &keys)
        .unwrap_err()
        .to_string();
    assert!(e.contains("by_purpose.INV"), "{e}");
    // The slice of another month is not the statement's.
    let april = l
        .network_slice(1, &head, Some("2026-04".parse().unwrap()))
        .unwrap();
    assert!(verify_statement(&signed, &april, &keys).is_err());
}

#[test]
fn a_month_slice_starts_at_the_last_head_before_the_month() {
    let dir = tempfile::tempdir().unwrap();
    let l = Ledger::open(dir.path()).unwrap();
    let at = |t: &str| -> chrono::DateTime<chrono::Utc> { t.parse().unwrap() };
    let march: Vec<Event> = (0..31).map(|i| search(i, &[1])).collect();
    l.append(&march).unwrap();
    let a = l.maybe_sign(at("2026-03-31T23:59:00Z")).unwrap().unwrap();
    // April's uses, and one March use appended late (after the head above).
    let mut april: Vec<Event> = (31..50).map(|i| search(i, &[1])).collect();
    april.push(search(5, &[1]));
    l.append(&april).unwrap();
    let b = l.maybe_sign(at("2026-05-01T00:01:00Z")).unwrap().unwrap();
    let month: Month = "2026-04".parse().unwrap();
    let slice = l.network_slice(1, &b, Some(month)).unwrap();
    assert_eq!(slice.from_head.as_ref(), Some(&a));
    assert_eq!(
        slice.entries.len(),
        20,
        "the range after the March head only"
    );
    let keys = [l.public_key()];
    let v = verify_slice(&slice, &keys).unwrap();
    assert_eq!(
        (v.from_size, v.total, v.in_month, v.described),
        (31, 20, 19, 19)
    );
    assert!(v.month_complete);
    // Withheld: fails.
    let mut short = slice.clone();
    short.entries.remove(0);
    assert!(verify_slice(&short, &keys)
        .unwrap_err()
        .to_string()
        .contains("incomplete"));
    // Starting at a head signed inside the month (hiding the month's first uses): refused.
    let mut later = slice.clone();
    later.from_head = Some(b.clone());
    later.consistency.clear();
    later.entries.clear();
    let e = verify_slice(&later, &keys).unwrap_err().to_string();
    assert!(e.contains("not before"), "{e}");
    // A wrong consistency proof: refused.
    let mut bad = slice.clone();
    bad.consistency[0][0] ^= 1;
    assert!(verify_slice(&bad, &keys).is_err());
    // March's slice at the same head starts at the beginning and counts all 51.
    let m = l
        .network_slice(1, &b, Some("2026-03".parse().unwrap()))
        .unwrap();
    let v = verify_slice(&m, &keys).unwrap();
    assert_eq!((v.from_size, v.total, v.in_month), (0, 51, 32));
}

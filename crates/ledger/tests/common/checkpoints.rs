//! Checkpoints as every entry store keeps them.

use anpr_ledger::note::{cosign, Checkpoint, NoteVerifier};
use anpr_ledger::{Ledger, Result};
use ed25519_dalek::SigningKey;

use super::sample_events;

const ORIGIN: &str = "police.example/anpr-audit";

/// One checkpoint per signed head, signed by the log's key under the origin recorded at
/// creation (which never changes); cosignatures checked, kept and served with it.
/// `open(origin)` opens the same log each time.
pub fn checkpoints_are_kept_with_their_cosignatures(open: &dyn Fn(Option<&str>) -> Result<Ledger>) {
    let l = open(Some(ORIGIN)).unwrap();
    l.append(&sample_events(0, 7)).unwrap();
    let head = l.sign_tree_head().unwrap();
    let note = l.checkpoint(head.size).unwrap().unwrap();
    let cp = Checkpoint::parse(&note.text).unwrap();
    assert_eq!(
        (cp.origin.as_str(), cp.size, cp.root),
        (ORIGIN, 7, head.root_hash)
    );
    note.verify_signed_by(&[l.note_verifier().unwrap()])
        .unwrap();
    assert!(l.checkpoint(3).unwrap().is_none(), "no head of size 3");

    let witness = SigningKey::from_bytes(&[5u8; 32]);
    let trusted = NoteVerifier::witness("w.example", witness.verifying_key()).unwrap();
    assert!(l.latest_cosigned(1).unwrap().is_none());
    let impostor = cosign(
        &note.text,
        "w.example",
        &SigningKey::from_bytes(&[6u8; 32]),
        1,
    )
    .unwrap();
    assert!(l
        .add_cosignature(7, &trusted, &format!("{impostor}\n"))
        .is_err());
    let line = cosign(&note.text, "w.example", &witness, 1_700_000_000).unwrap();
    l.add_cosignature(7, &trusted, &format!("{line}\n"))
        .unwrap();
    l.add_cosignature(7, &trusted, &format!("{line}\n"))
        .unwrap();
    l.append(&sample_events(7, 2)).unwrap();
    l.sign_tree_head().unwrap();
    let (head, note) = l.latest_cosigned(1).unwrap().unwrap();
    assert_eq!(
        head.size, 7,
        "the newest cosigned head, not the newest head"
    );
    assert_eq!(note.signatures.len(), 2);
    note.require_cosignatures(std::slice::from_ref(&trusted), 1)
        .unwrap();
    drop(l);

    assert_eq!(open(None).unwrap().origin(), ORIGIN);
    let e = open(Some("elsewhere.example/log"))
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("never") && e.contains(ORIGIN), "{e}");
}

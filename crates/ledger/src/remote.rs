//! Checking a running server from outside, with nothing but its public key and a tree head saved
//! earlier: the pure core of `anpr ledger verify-remote`. The caller fetches the JSON; this module
//! does no I/O.

use ed25519_dalek::VerifyingKey;

use crate::event::Event;
use crate::head::TreeHead;
use crate::merkle::EMPTY_ROOT;
use crate::proofs::{ConsistencyProof, EntryProof};
use crate::report::{ProblemKind, VerifyReport};

/// Checks a server's current head against a `trusted` head saved earlier, and sampled entries
/// against the current head:
///
/// 1. both heads are signed by `key`;
/// 2. the log did not shrink (`latest.size >= trusted.size`);
/// 3. `consistency` (from `trusted.size` to `latest.size`) proves that the current log extends the
///    trusted one — a failure means the history the overseer saw was rewritten;
/// 4. every sample's body hashes to its leaf hash, is a canonical version-1 event whose `seq` is
///    its index, and its inclusion proof (for `latest.size`) leads to `latest.root_hash`.
pub fn verify_remote(
    key: &VerifyingKey,
    trusted: &TreeHead,
    latest: &TreeHead,
    consistency: &ConsistencyProof,
    samples: &[EntryProof],
) -> VerifyReport {
    let mut r = VerifyReport {
        heads: 2,
        entries: samples.len() as u64,
        ..Default::default()
    };
    for head in [trusted, latest] {
        if let Err(e) = head.verify_signature(key) {
            r.add(
                ProblemKind::BadSignature,
                None,
                Some(head.size),
                e.to_string(),
            );
        }
    }
    check_consistency(&mut r, trusted, latest, consistency);
    for s in samples {
        check_sample(&mut r, latest, s);
    }
    r
}

/// Checks sampled entries against a head whose signature the caller checked: each body hashes
/// to its leaf hash, is a canonical version-1 event whose `seq` is its index, and its inclusion
/// proof leads to the head's root.
pub fn verify_samples(latest: &TreeHead, samples: &[EntryProof]) -> VerifyReport {
    let mut r = VerifyReport {
        entries: samples.len() as u64,
        ..Default::default()
    };
    for s in samples {
        check_sample(&mut r, latest, s);
    }
    r
}

fn check_consistency(
    r: &mut VerifyReport,
    trusted: &TreeHead,
    latest: &TreeHead,
    proof: &ConsistencyProof,
) {
    if latest.size < trusted.size {
        let detail = format!(
            "the log shrank from {} entries (trusted head) to {}",
            trusted.size, latest.size
        );
        r.add(
            ProblemKind::Truncated,
            Some(latest.size),
            Some(latest.size),
            detail,
        );
        return;
    }
    if trusted.size == 0 {
        if trusted.root_hash != EMPTY_ROOT {
            let detail = "the trusted head of the empty log has the wrong root".to_string();
            r.add(ProblemKind::ForkedHead, None, Some(0), detail);
        }
        return;
    }
    if proof.from != trusted.size || proof.to != latest.size {
        let detail = format!(
            "consistency proof is for sizes {}..{}, not {}..{}",
            proof.from, proof.to, trusted.size, latest.size
        );
        r.add(ProblemKind::BadProof, None, Some(latest.size), detail);
        return;
    }
    if let Err(e) = proof.verify(&trusted.root_hash, &latest.root_hash) {
        let detail = format!(
            "the current log does not extend the trusted head of size {}: {e}",
            trusted.size
        );
        r.add(ProblemKind::ForkedHead, None, Some(latest.size), detail);
    }
}

fn check_sample(r: &mut VerifyReport, latest: &TreeHead, s: &EntryProof) {
    let index = s.entry.index;
    let body = s.entry.body.as_bytes();
    if crate::redact::entry_leaf_hash(body) != s.entry.leaf_hash {
        let detail = "the body does not hash to the served leaf hash".to_string();
        r.add(ProblemKind::Edited, Some(index), None, detail);
        return;
    }
    match Event::decode(body) {
        Err(e) => {
            r.add(ProblemKind::Edited, Some(index), None, e.to_string());
            return;
        }
        Ok(ev) if ev.seq != index => {
            let detail = format!("entry {} is served as index {index}", ev.seq);
            r.add(ProblemKind::Reordered, Some(index), None, detail);
            return;
        }
        Ok(_) => {}
    }
    if s.proof.size != latest.size {
        let detail = format!(
            "inclusion proof is for size {}, not {}",
            s.proof.size, latest.size
        );
        r.add(
            ProblemKind::BadProof,
            Some(index),
            Some(latest.size),
            detail,
        );
        return;
    }
    if let Err(e) = s.verify(&latest.root_hash) {
        let detail = format!("the entry is not in the signed tree: {e}");
        r.add(ProblemKind::Edited, Some(index), Some(latest.size), detail);
    }
}

//! Monitoring a running server the way Certificate Transparency monitors watch a log: the pure
//! core of `anpr ledger monitor` and of `verify-remote`'s check of every new entry. The caller
//! fetches heads, pages of entries and proofs; this module does no I/O.
//!
//! A monitor keeps the last head whose every entry it checked and the [`Frontier`] of the log
//! at that size, so that each run downloads only the entries added since. Each entry must hash
//! to its served leaf hash, be a canonical event (version 1 or 2) whose `seq` is its index, and
//! follow the previous one without a gap; the new leaves, folded onto the saved frontier, must give the
//! new head's root. The new head must be signed by the deployment's key, proven to extend the
//! verified head, and agree with every head seen before (same size, different root: a fork;
//! smaller: a truncation). Where the heads carry per-network counters, the new head's must be
//! the verified head's plus the networks the new entries touched: a head that under-counts a
//! network (to hide an entry from that network's slice) is caught here, not only by a full
//! `verify`.

use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};

use crate::error::{invalid, Result};
use crate::event::Event;
use crate::head::{NetworkCounts, TreeHead};
use crate::hexser;
use crate::merkle::{self, Frontier, Hash};
use crate::proofs::{ConsistencyProof, InclusionProof};
use crate::report::{ProblemKind, VerifyReport};
use crate::store::StoredEntry;

/// A frontier as a monitor saves it.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SavedFrontier {
    /// Entries it covers.
    pub size: u64,
    /// The perfect subtree roots of `size`'s decomposition, largest first.
    #[serde(with = "hexser::hashes")]
    pub hashes: Vec<Hash>,
}

impl SavedFrontier {
    fn of(f: &Frontier) -> Self {
        Self {
            size: f.size(),
            hashes: f.hashes().to_vec(),
        }
    }

    fn load(&self) -> Result<Frontier> {
        Frontier::from_hashes(self.size, self.hashes.clone())
    }
}

/// What a monitor keeps between runs.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct MonitorState {
    /// The last head whose every entry this monitor checked; `None` before its first complete
    /// run.
    pub verified: Option<TreeHead>,
    /// The frontier at the verified head's size.
    pub frontier: SavedFrontier,
    /// Entries checked one by one past the verified head by a run that stopped before the end:
    /// where the next run resumes. No signed head vouches for them yet.
    pub pending: Option<SavedFrontier>,
    /// The networks the entries below `pending`'s size touched, where known (the verified head
    /// carried counters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pending_counts: Option<NetworkCounts>,
}

impl MonitorState {
    /// Entries covered by the verified head.
    pub fn verified_size(&self) -> u64 {
        self.verified.as_ref().map_or(0, |h| h.size)
    }
}

/// One monitoring pass from a saved state up to a server's latest head.
pub struct Monitor {
    verified: Option<TreeHead>,
    verified_frontier: Frontier,
    progress: Frontier,
    resumed_at: u64,
    latest: TreeHead,
    report: VerifyReport,
    stopped: bool,
    consistent: bool,
    /// The networks the entries below `progress`'s size touched; `None` where the verified head
    /// carried no counters to start from.
    counts: Option<NetworkCounts>,
}

impl Monitor {
    /// Starts a pass from `state` towards `latest`, checking the new head's signature and that
    /// it contradicts neither the verified head nor any head in `seen`. An `Err` means the
    /// saved state itself is unusable; what is wrong with the server goes in the report.
    pub fn start(
        key: &VerifyingKey,
        state: &MonitorState,
        latest: TreeHead,
        seen: &[TreeHead],
    ) -> Result<Self> {
        let frontier = state.frontier.load()?;
        let root = state
            .verified
            .as_ref()
            .map_or(merkle::EMPTY_ROOT, |h| h.root_hash);
        if frontier.size() != state.verified_size() || frontier.root() != root {
            return Err(invalid(
                "the monitor's saved frontier does not match its verified head: the state file was changed or damaged",
            ));
        }
        let mut progress = frontier.clone();
        let mut counts = match &state.verified {
            None => Some(NetworkCounts::new()),
            Some(h) => h.network_counts.clone(),
        };
        if let Some(p) = &state.pending {
            if p.size > frontier.size() && p.size <= latest.size {
                progress = p.load()?;
                counts = state.pending_counts.clone();
            }
        }
        let mut m = Self {
            verified: state.verified.clone(),
            verified_frontier: frontier,
            resumed_at: progress.size(),
            progress,
            latest,
            report: VerifyReport {
                heads: 1,
                ..Default::default()
            },
            stopped: false,
            consistent: false,
            counts,
        };
        m.check_latest(key, seen);
        Ok(m)
    }

    /// Starts a pass from a `trusted` head saved earlier, for which there is no saved frontier:
    /// it is rebuilt from the inclusion path of the trusted tree's last entry (`last`, `None`
    /// for an empty trusted tree), checked against the trusted head's signed root.
    pub fn from_trusted_head(
        key: &VerifyingKey,
        trusted: &TreeHead,
        last: Option<&InclusionProof>,
        latest: TreeHead,
    ) -> Self {
        let mut report = VerifyReport::default();
        let frontier = match trusted_frontier(key, trusted, last) {
            Ok(f) => f,
            Err((kind, detail)) => {
                report.add(kind, None, Some(trusted.size), detail);
                Frontier::new()
            }
        };
        let state = MonitorState {
            verified: Some(trusted.clone()),
            frontier: SavedFrontier::of(&frontier),
            ..Default::default()
        };
        let mut m = match Self::start(key, &state, latest.clone(), std::slice::from_ref(trusted)) {
            Ok(m) => m,
            // The frontier did not give the trusted root: already reported.
            Err(_) => Self {
                verified: None,
                verified_frontier: Frontier::new(),
                progress: Frontier::new(),
                resumed_at: 0,
                latest,
                report: VerifyReport::default(),
                stopped: true,
                consistent: false,
                counts: None,
            },
        };
        m.report.heads += 1;
        for p in report.problems {
            m.report.add(p.kind, p.index, p.head_size, p.detail);
            m.stopped = true;
        }
        m
    }

    /// The head this pass verifies the log against.
    pub fn latest(&self) -> &TreeHead {
        &self.latest
    }

    /// Where this pass started downloading (past the verified head, or where an interrupted run
    /// stopped).
    pub fn resumed_at(&self) -> u64 {
        self.resumed_at
    }

    /// The next entry to download, or `None` when every entry up to the latest head has been
    /// fed or a problem makes downloading more pointless.
    pub fn next_index(&self) -> Option<u64> {
        (!self.stopped && self.progress.size() < self.latest.size).then(|| self.progress.size())
    }

    /// What was found so far.
    pub fn report(&self) -> &VerifyReport {
        &self.report
    }

    /// Checks the next page of entries, as served from [`Monitor::next_index`]. An empty page
    /// while entries are still due means the server no longer has them.
    pub fn feed(&mut self, entries: &[StoredEntry]) {
        let Some(expected) = self.next_index() else {
            return;
        };
        if entries.is_empty() {
            let detail = format!(
                "the server served no entry from index {expected} on, though its signed head covers {} entries",
                self.latest.size
            );
            self.report.add(
                ProblemKind::Truncated,
                Some(expected),
                Some(self.latest.size),
                detail,
            );
            self.stopped = true;
            return;
        }
        for e in entries {
            if !self.check_entry(e) {
                self.stopped = true;
                return;
            }
        }
    }

    /// The state to save after a page without problems: the verified head as before, and the
    /// entries checked since as pending.
    pub fn pending_state(&self) -> MonitorState {
        let pending = self.progress.size() > self.verified_frontier.size();
        MonitorState {
            verified: self.verified.clone(),
            frontier: SavedFrontier::of(&self.verified_frontier),
            pending: pending.then(|| SavedFrontier::of(&self.progress)),
            pending_counts: self.counts.clone().filter(|_| pending),
        }
    }

    /// The sizes of the consistency proof [`Monitor::check_consistency`] still needs, if any:
    /// from the verified head to the latest. Checked before any download, so that a rewritten
    /// history is reported without downloading what follows it.
    pub fn consistency_needed(&self) -> Option<(u64, u64)> {
        let from = self.verified.as_ref()?.size;
        (from > 0 && from < self.latest.size && !self.stopped && !self.consistent)
            .then_some((from, self.latest.size))
    }

    /// Checks that the latest head extends the verified one.
    pub fn check_consistency(&mut self, proof: &ConsistencyProof) {
        let Some((from, size)) = self.consistency_needed() else {
            return;
        };
        let detail = if proof.from != from || proof.to != size {
            format!(
                "the consistency proof is for sizes {}..{}, not {from}..{size}",
                proof.from, proof.to
            )
        } else {
            let old = self
                .verified
                .as_ref()
                .map_or(merkle::EMPTY_ROOT, |h| h.root_hash);
            match proof.verify(&old, &self.latest.root_hash) {
                Ok(()) => {
                    self.consistent = true;
                    return;
                }
                Err(e) => format!(
                    "the server's log of {size} entries does not extend the verified head of {from} entries, so the history seen before was rewritten: {e}"
                ),
            }
        };
        self.report
            .add(ProblemKind::ForkedHead, Some(from), Some(size), detail);
        self.stopped = true;
    }

    /// Ends the pass: every entry up to the latest head must have been fed, their leaves must
    /// give the latest head's root, and the consistency proof must have been checked. Returns
    /// the new state (the latest head verified) when nothing is wrong.
    pub fn finish(mut self) -> (Option<MonitorState>, VerifyReport) {
        if !self.stopped {
            self.check_end();
        }
        if !self.report.is_ok() {
            return (None, self.report);
        }
        let state = MonitorState {
            verified: Some(self.latest),
            frontier: SavedFrontier::of(&self.progress),
            ..Default::default()
        };
        (Some(state), self.report)
    }

    fn check_latest(&mut self, key: &VerifyingKey, seen: &[TreeHead]) {
        let size = self.latest.size;
        if let Err(e) = self.latest.verify_signature(key) {
            self.report
                .add(ProblemKind::BadSignature, None, Some(size), e.to_string());
            self.stopped = true;
            return;
        }
        let earlier = seen.iter().chain(self.verified.as_ref());
        if let Some(fork) = earlier
            .clone()
            .find(|h| h.size == size && h.root_hash != self.latest.root_hash)
        {
            let detail = format!(
                "the server signed two different trees of {size} entries: root {} at {} and root {} at {}; the log was rewritten",
                hex::encode(fork.root_hash),
                fork.timestamp,
                hex::encode(self.latest.root_hash),
                self.latest.timestamp
            );
            self.report
                .add(ProblemKind::ForkedHead, None, Some(size), detail);
            self.stopped = true;
        }
        if let Some(longer) = earlier.filter(|h| h.size > size).max_by_key(|h| h.size) {
            let detail = format!(
                "the log shrank: a head of {} entries signed at {} was seen before, the server's head now covers {size}; entries from index {size} on were removed",
                longer.size, longer.timestamp
            );
            self.report
                .add(ProblemKind::Truncated, Some(size), Some(size), detail);
            self.stopped = true;
        }
    }

    /// Checks one entry and adds its leaf; `false` when the indexes went wrong, after which
    /// nothing further can be placed in the tree.
    fn check_entry(&mut self, e: &StoredEntry) -> bool {
        let expected = self.progress.size();
        if e.index != expected || expected >= self.latest.size {
            let (kind, detail) = if e.index > expected {
                let detail = format!(
                    "entry {expected} is missing: the server served entry {} next",
                    e.index
                );
                (ProblemKind::Deleted, detail)
            } else {
                let detail = format!(
                    "the server served an entry with index {} where entry {expected} was due (its head covers {} entries)",
                    e.index, self.latest.size
                );
                (ProblemKind::Inserted, detail)
            };
            self.report.add(kind, Some(expected), None, detail);
            return false;
        }
        self.report.entries += 1;
        let body = e.body.as_bytes();
        let (leaf, networks) = crate::redact::leaf_and_networks(body);
        if let Some(counts) = &mut self.counts {
            for n in networks.into_iter().flatten() {
                *counts.entry(n).or_default() += 1;
            }
        }
        if leaf != e.leaf_hash {
            let detail =
                "the body does not hash to the served leaf hash: the entry was edited".into();
            self.report
                .add(ProblemKind::Edited, Some(expected), None, detail);
        } else {
            match Event::decode(body) {
                Err(e) => {
                    self.report
                        .add(ProblemKind::Edited, Some(expected), None, e.to_string());
                }
                Ok(ev) if ev.seq > expected => {
                    let detail = format!("entry {} is served at index {expected}", ev.seq);
                    self.report
                        .add(ProblemKind::Reordered, Some(expected), None, detail);
                }
                Ok(ev) if ev.seq < expected => {
                    let detail = format!("entry {} appears again at index {expected}", ev.seq);
                    self.report
                        .add(ProblemKind::Inserted, Some(expected), None, detail);
                }
                Ok(_) => {}
            }
        }
        // The served leaf hash, not the body's: the root check then judges the hashes the
        // server committed to, and an edited body is reported once, above.
        self.progress.push(e.leaf_hash, |_, _, _| {});
        true
    }

    fn check_end(&mut self) {
        let (from, size) = (self.resumed_at, self.latest.size);
        if self.progress.size() < size {
            let detail = format!(
                "only entries up to index {} were checked of the {size} the head covers",
                self.progress.size()
            );
            self.report.add(
                ProblemKind::Truncated,
                Some(self.progress.size()),
                Some(size),
                detail,
            );
            return;
        }
        if self.progress.root() != self.latest.root_hash {
            let detail = format!(
                "the entries from index {from} to {} as served do not make up the tree the server signed at size {size}: their leaf hashes give root {}, the head says {}; a stored hash was changed or the head belongs to another history",
                size - 1,
                hex::encode(self.progress.root()),
                hex::encode(self.latest.root_hash)
            );
            // After entry problems the mismatch is their consequence, not a place of its own.
            let index = self.report.is_ok().then_some(from);
            self.report
                .add(ProblemKind::ForkedHead, index, Some(size), detail);
            return;
        }
        if let Some((from, _)) = self.consistency_needed() {
            let detail = format!(
                "no consistency proof from the verified head of {from} entries to {size} was checked"
            );
            self.report
                .add(ProblemKind::BadProof, Some(from), Some(size), detail);
            return;
        }
        if let (Some(signed), Some(counted)) = (&self.latest.network_counts, &self.counts) {
            if signed != counted {
                let detail = crate::verify::counts_difference(signed, counted);
                self.report
                    .add(ProblemKind::WrongCounter, Some(from), Some(size), detail);
            }
        }
    }
}

fn trusted_frontier(
    key: &VerifyingKey,
    trusted: &TreeHead,
    last: Option<&InclusionProof>,
) -> std::result::Result<Frontier, (ProblemKind, String)> {
    trusted
        .verify_signature(key)
        .map_err(|e| (ProblemKind::BadSignature, e.to_string()))?;
    let frontier = match last {
        _ if trusted.size == 0 => Frontier::new(),
        None => {
            let detail = "no inclusion proof of the trusted tree's last entry was given".into();
            return Err((ProblemKind::BadProof, detail));
        }
        Some(proof) if proof.index + 1 != trusted.size || proof.size != trusted.size => {
            let detail = format!(
                "the inclusion proof is for entry {} of {}, not the last entry of the trusted {}",
                proof.index, proof.size, trusted.size
            );
            return Err((ProblemKind::BadProof, detail));
        }
        Some(proof) => Frontier::from_last_leaf(trusted.size, proof.leaf_hash, &proof.hashes)
            .map_err(|e| (ProblemKind::BadProof, e.to_string()))?,
    };
    if frontier.root() != trusted.root_hash {
        let detail = format!(
            "the server's log no longer holds the tree of the trusted head of {} entries: its last entry's proof leads to another root",
            trusted.size
        );
        return Err((ProblemKind::ForkedHead, detail));
    }
    Ok(frontier)
}

#[cfg(test)]
mod tests;

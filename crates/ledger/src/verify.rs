//! Full verification: recompute the whole tree from the stored entry bodies and hold every stored
//! hash and signed head against it.
//!
//! Checked, for every row in index order: the index column has no gap; the body hashes to its
//! stored leaf hash; the body is a version-1 event whose `seq` is its position; its leaf hash is
//! the one written to the node files when it was appended; every perfect node in the node files
//! equals the recomputed one. For every tree head: the signature, and the recomputed root at its
//! size. Finally, nothing (heads, node files) attests to entries beyond the end of the table.
//!
//! A problem is classified at the first row where it shows, with one row of look-ahead: a body
//! whose `seq` is ahead of its position is a deletion when the next row continues the shifted run
//! and a reordering otherwise; a `seq` behind its position, or an unknown row followed by the
//! entry that belongs at its position, is an insertion.
//!
//! Hashing runs on worker threads while the main thread reads SQLite and one thread rebuilds the
//! tree in order, so a 10-million-entry log verifies in seconds.

use std::collections::BTreeMap;
use std::sync::{mpsc, Mutex};

use ed25519_dalek::VerifyingKey;

use crate::error::Result;
use crate::event::canonical_seq;
use crate::head::NetworkCounts;
use crate::head::TreeHead;
use crate::merkle::{Frontier, Hash, EMPTY_ROOT};
use crate::redact::leaf_and_networks;
use crate::report::{ProblemKind, VerifyReport};
use crate::store::{EntryStore, NodeFiles};

const CHUNK: usize = 4096;

/// Rows read from storage, bodies packed into one buffer (no allocation per row).
#[derive(Default)]
struct Chunk {
    bodies: Vec<u8>,
    /// (index column, end of the body in `bodies`, stored leaf hash if 32 bytes).
    rows: Vec<(i64, usize, Option<Hash>)>,
}

impl Chunk {
    fn with_capacity(rows: usize) -> Self {
        Self {
            bodies: Vec::with_capacity(rows * 512),
            rows: Vec::with_capacity(rows),
        }
    }

    fn check(self) -> Vec<Checked> {
        let mut start = 0;
        self.rows
            .iter()
            .map(|&(index, end, stored)| {
                let body = &self.bodies[start..end];
                start = end;
                let (recomputed, networks) = leaf_and_networks(body);
                Checked {
                    index,
                    recomputed,
                    stored,
                    seq: canonical_seq(body),
                    networks,
                }
            })
            .collect()
    }
}

#[derive(Clone)]
struct Checked {
    index: i64,
    recomputed: Hash,
    stored: Option<Hash>,
    /// `seq` of a body in canonical version-1 or version-2 form.
    seq: Option<u64>,
    /// A version-2 entry: the networks it touched (what the heads' counters count).
    networks: Option<Vec<i64>>,
}

pub(crate) fn verify_full(
    store: &mut dyn EntryStore,
    nodes: &NodeFiles,
    nodes_len0: u64,
    keys: &[VerifyingKey],
) -> Result<VerifyReport> {
    let heads = store.tree_heads()?;
    let workers = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1)
        .saturating_sub(1)
        .clamp(1, 8);
    let (work_tx, work_rx) = mpsc::sync_channel::<(u64, Chunk)>(workers * 2);
    let work_rx = Mutex::new(work_rx);
    let (done_tx, done_rx) = mpsc::sync_channel::<(u64, Vec<Checked>)>(workers * 2 + 2);
    std::thread::scope(|s| {
        for _ in 0..workers {
            let (rx, tx) = (&work_rx, done_tx.clone());
            s.spawn(move || loop {
                let msg = rx.lock().unwrap_or_else(|p| p.into_inner()).recv();
                let Ok((n, chunk)) = msg else { break };
                if tx.send((n, chunk.check())).is_err() {
                    break;
                }
            });
        }
        drop(done_tx);
        let consumer = s.spawn(move || -> Result<VerifyReport> {
            let mut checker = Checker::new(nodes, nodes_len0, heads, keys)?;
            let mut waiting = BTreeMap::new();
            let mut next = 0u64;
            for (n, chunk) in done_rx {
                waiting.insert(n, chunk);
                while let Some(chunk) = waiting.remove(&next) {
                    for c in chunk {
                        checker.feed(c)?;
                    }
                    next += 1;
                }
            }
            checker.finish()
        });
        let mut chunk = Chunk::with_capacity(CHUNK);
        let mut sent = 0u64;
        let scanned = store.scan(&mut |r| {
            chunk.bodies.extend_from_slice(r.body);
            chunk
                .rows
                .push((r.index, chunk.bodies.len(), r.leaf_hash.try_into().ok()));
            if chunk.rows.len() == CHUNK {
                let full = std::mem::replace(&mut chunk, Chunk::with_capacity(CHUNK));
                if work_tx.send((sent, full)).is_err() {
                    return Err(crate::error::failed("verification stopped"));
                }
                sent += 1;
            }
            Ok(())
        });
        if !chunk.rows.is_empty() {
            let _ = work_tx.send((sent, chunk));
        }
        drop(work_tx);
        let report = consumer.join().expect("verifier thread panicked");
        scanned?;
        report
    })
}

/// Sequential reader of one node level, for comparisons in index order.
struct LevelCursor {
    level: u32,
    len: u64,
    start: u64,
    buf: Vec<Hash>,
}

impl LevelCursor {
    fn get(&mut self, nodes: &NodeFiles, index: u64) -> Result<Option<Hash>> {
        if index >= self.len {
            return Ok(None);
        }
        if index < self.start || index >= self.start + self.buf.len() as u64 {
            let n = (self.len - index).min(CHUNK as u64) as usize;
            self.buf.resize(n, [0; 32]);
            nodes.read(self.level, index, &mut self.buf)?;
            self.start = index;
        }
        Ok(Some(self.buf[(index - self.start) as usize]))
    }
}

struct HeadCheck {
    head: TreeHead,
    signed: bool,
}

/// Rebuilds the tree in index order and compares.
struct Checker<'a> {
    nodes: &'a NodeFiles,
    nodes_len0: u64,
    cursors: Vec<LevelCursor>,
    frontier: Frontier,
    emitted: Vec<(u32, u64, Hash)>,
    heads: Vec<HeadCheck>,
    next_head: usize,
    last_good_head: u64,
    /// Position of the first problem found in the entries themselves.
    first_entry_problem: Option<u64>,
    delayed: Option<Checked>,
    /// Per-network counters of the entries so far, as the heads should carry them.
    counts: NetworkCounts,
    report: VerifyReport,
}

impl<'a> Checker<'a> {
    fn new(
        nodes: &'a NodeFiles,
        nodes_len0: u64,
        heads: Vec<TreeHead>,
        keys: &[VerifyingKey],
    ) -> Result<Self> {
        let mut report = VerifyReport {
            heads: heads.len() as u64,
            ..Default::default()
        };
        let mut checks = Vec::with_capacity(heads.len());
        for head in heads {
            let signed = match crate::head::verify_by_any(&head, keys) {
                Ok(()) => true,
                Err(e) => {
                    report.add(
                        ProblemKind::BadSignature,
                        None,
                        Some(head.size),
                        e.to_string(),
                    );
                    false
                }
            };
            checks.push(HeadCheck { head, signed });
        }
        checks.sort_by_key(|c| c.head.size);
        let mut cursors = Vec::new();
        for level in 0..nodes.levels() {
            let len = nodes.len(level)?.min(nodes_len0 >> level);
            cursors.push(LevelCursor {
                level,
                len,
                start: 0,
                buf: Vec::new(),
            });
        }
        let mut c = Self {
            nodes,
            nodes_len0,
            cursors,
            frontier: Frontier::new(),
            emitted: Vec::with_capacity(64),
            heads: checks,
            next_head: 0,
            last_good_head: 0,
            first_entry_problem: None,
            delayed: None,
            counts: NetworkCounts::new(),
            report,
        };
        c.check_heads_at(0, &EMPTY_ROOT);
        Ok(c)
    }

    fn feed(&mut self, c: Checked) -> Result<()> {
        let next_seq = c.seq;
        if let Some(prev) = self.delayed.replace(c) {
            self.process(prev, next_seq)?;
        }
        Ok(())
    }

    fn finish(mut self) -> Result<VerifyReport> {
        if let Some(last) = self.delayed.take() {
            self.process(last, None)?;
        }
        let end = self.frontier.size();
        for i in self.next_head..self.heads.len() {
            let h = &self.heads[i];
            if h.signed && h.head.size > end {
                let detail = format!(
                    "a head was signed for {} entries but the log has {end}",
                    h.head.size
                );
                self.report
                    .add(ProblemKind::Truncated, Some(end), Some(h.head.size), detail);
            }
        }
        if self.nodes_len0 > end {
            let detail = format!(
                "node files hold leaf hashes for {} entries but the log has {end}",
                self.nodes_len0
            );
            self.report
                .add(ProblemKind::Truncated, Some(end), None, detail);
        }
        self.report.entries = end;
        Ok(self.report)
    }

    fn entry_problem(&mut self, kind: ProblemKind, pos: u64, detail: String) {
        self.first_entry_problem.get_or_insert(pos);
        self.report.add(kind, Some(pos), None, detail);
    }

    fn process(&mut self, c: Checked, next_seq: Option<u64>) -> Result<()> {
        let pos = self.frontier.size();
        if c.index != pos as i64 {
            if c.index > pos as i64 {
                let detail = format!("entries {pos}..{} are missing", c.index);
                self.entry_problem(ProblemKind::Deleted, pos, detail);
            } else {
                let detail = format!("a row with index {} was added", c.index);
                self.entry_problem(ProblemKind::Inserted, pos, detail);
            }
        } else if c.stored != Some(c.recomputed) {
            let detail = "the body does not hash to its stored leaf hash".to_string();
            self.entry_problem(ProblemKind::Edited, pos, detail);
        } else if let Some(seq) = c.seq.filter(|s| *s != pos) {
            if seq > pos && next_seq == Some(seq + 1) {
                let detail = format!("entry {pos} is missing and later entries were renumbered");
                self.entry_problem(ProblemKind::Deleted, pos, detail);
            } else if seq > pos {
                let detail = format!("entry {seq} is stored at index {pos}");
                self.entry_problem(ProblemKind::Reordered, pos, detail);
            } else {
                let detail = format!("entry {seq} appears again at index {pos}");
                self.entry_problem(ProblemKind::Inserted, pos, detail);
            }
        } else if c.seq.is_none() {
            let detail = "the body is not a version-1 or version-2 event".to_string();
            self.entry_problem(ProblemKind::Edited, pos, detail);
        } else if let Some(orig) = self
            .cursors
            .first_mut()
            .map(|cur| cur.get(self.nodes, pos))
            .transpose()?
            .flatten()
        {
            if orig != c.recomputed {
                if next_seq == Some(pos) {
                    let detail = format!("an entry was inserted before the original entry {pos}");
                    self.entry_problem(ProblemKind::Inserted, pos, detail);
                } else {
                    let detail = "the entry differs from the one appended (leaf hash recorded at append time)".to_string();
                    self.entry_problem(ProblemKind::Edited, pos, detail);
                }
            }
        }

        for n in c.networks.iter().flatten() {
            *self.counts.entry(*n).or_default() += 1;
        }
        let emitted = &mut self.emitted;
        emitted.clear();
        self.frontier.push(c.recomputed, |l, i, h| {
            if l > 0 {
                emitted.push((l, i, *h));
            }
        });
        if self.first_entry_problem.is_none() {
            for k in 0..self.emitted.len() {
                let (level, index, h) = self.emitted[k];
                let Some(cur) = self.cursors.get_mut(level as usize) else {
                    continue;
                };
                if let Some(stored) = cur.get(self.nodes, index)? {
                    if stored != h {
                        let first = index << level;
                        let detail = format!("stored node (level {level}, index {index}) differs from the recomputed one");
                        self.report
                            .add(ProblemKind::NodeMismatch, Some(first), None, detail);
                    }
                }
            }
        }
        let size = self.frontier.size();
        if self
            .heads
            .get(self.next_head)
            .is_some_and(|h| h.head.size == size)
        {
            let root = self.frontier.root();
            self.check_heads_at(size, &root);
        }
        Ok(())
    }

    /// Checks every head of exactly `size` entries against `root`. A mismatching head points at
    /// the first bad entry when one was found below its size, else at the largest good head below
    /// it: the histories agree at least up to there.
    fn check_heads_at(&mut self, size: u64, root: &Hash) {
        let good_below = self.first_entry_problem.unwrap_or(self.last_good_head);
        while let Some(h) = self
            .heads
            .get(self.next_head)
            .filter(|h| h.head.size == size)
        {
            let wrong_counts = h
                .head
                .network_counts
                .as_ref()
                .filter(|c| **c != self.counts)
                .map(|c| counts_difference(c, &self.counts));
            if let (Some(detail), true) = (wrong_counts, h.signed) {
                self.report.add(
                    ProblemKind::WrongCounter,
                    Some(good_below),
                    Some(size),
                    detail,
                );
            } else if h.head.root_hash == *root {
                if h.signed {
                    self.last_good_head = size;
                }
            } else if h.signed {
                let detail = format!(
                    "signed root {} is not the log's root {} at this size",
                    hex::encode(h.head.root_hash),
                    hex::encode(root)
                );
                self.report.add(
                    ProblemKind::ForkedHead,
                    Some(good_below),
                    Some(size),
                    detail,
                );
            }
            self.next_head += 1;
        }
    }
}

/// What a head's counters say against the recount: the first network that differs.
pub(crate) fn counts_difference(signed: &NetworkCounts, recounted: &NetworkCounts) -> String {
    let networks: std::collections::BTreeSet<i64> =
        signed.keys().chain(recounted.keys()).copied().collect();
    for n in networks {
        let (a, b) = (
            signed.get(&n).copied().unwrap_or(0),
            recounted.get(&n).copied().unwrap_or(0),
        );
        if a != b {
            return format!(
                "the head counts {a} entries that touched network {n}, the log holds {b}"
            );
        }
    }
    "the head's network counters differ from the log's".into()
}

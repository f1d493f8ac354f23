//! Bringing the node files back in line with the entries table at open.
//!
//! Node files are written after each commit but synced only every so often; the entries table
//! records (`meta.nodes_synced`) how many entries' nodes were on stable storage at the last sync.
//! At open, everything past that point is recomputed from the stored leaf hashes and written
//! over what the files hold there, so recovery costs O(entries appended since the last sync),
//! not O(log size).
//!
//! The files are never cut short: another handle or process may have the directory open and be
//! serving proofs from them, and a record is only ever (re)written with the one value it can
//! have, so rewriting in place is harmless to it, while truncating is not. What an OS crash left
//! past the sync point (zeros, a torn record) is overwritten the same way. The ledger runs this
//! holding the directory's append lock, so no entries are committed meanwhile and `end` is
//! where the log ends; node files may still be growing (another handle catching up writes the
//! same values), but never past `end`.
//!
//! Node files can never legitimately hold *more* than the entries table: nodes are written only
//! after the entries they cover are committed. If they do, or if fewer entries exist than were
//! synced, entries were removed behind the ledger's back. Recovery then changes nothing on disk
//! (the files are evidence) and reports the log as damaged, which blocks appends.
//!
//! Finally a cheap consistency check, O(log n): the last few leaf hashes in the node files must
//! equal the stored ones, and the node files must give the latest signed tree head's root at its
//! size. A full check of every hash is `verify_full`'s job.

use super::{EntryStore, NodeFiles};
use crate::error::{Error, Result};
use crate::merkle::{self, node_hash, Hash};

/// Metadata key: entries whose nodes were synced to stable storage.
pub(crate) const NODES_SYNCED: &str = "nodes_synced";

const CHUNK: usize = 1 << 16;

/// Recovers the node files for a log whose entries table ends at `end`. Returns `Some(reason)`
/// when the log is damaged.
pub(crate) fn recover(
    store: &mut dyn EntryStore,
    nodes: &NodeFiles,
    end: u64,
) -> Result<Option<String>> {
    let synced: u64 = store
        .meta(NODES_SYNCED)?
        .and_then(|s| s.parse().ok())
        .unwrap_or(0);
    if synced > end {
        return Ok(Some(format!(
            "the entries table ends at index {end} but {synced} entries were recorded earlier: entries were removed"
        )));
    }
    for level in 0..nodes.levels() {
        let (have, want) = (nodes.len(level)?, end >> level);
        if have > want {
            return Ok(Some(format!(
                "node files hold {have} hashes at level {level} but {end} entries allow only {want}: entries were removed"
            )));
        }
    }
    if nodes.len(0)? != end || synced != end {
        if let Some(reason) = rebuild(store, nodes, end, synced)? {
            return Ok(Some(reason));
        }
    }
    check(store, nodes, end)
}

/// Recomputes everything past the sync point (or past the end of a shorter file) from the stored
/// leaves, writing it in place.
fn rebuild(
    store: &mut dyn EntryStore,
    nodes: &NodeFiles,
    end: u64,
    synced: u64,
) -> Result<Option<String>> {
    let from = nodes.len(0)?.min(synced);
    let altered = match rebuild_leaves(store, nodes, from, end)? {
        Leaves::Missing(reason) => return Ok(Some(reason)),
        Leaves::Altered(reason) => Some(reason),
        Leaves::Rebuilt => None,
    };
    let mut level = 1;
    while end >> level > 0 {
        let from = nodes.len(level)?.min(synced >> level);
        rebuild_level(nodes, level, from, end >> level)?;
        level += 1;
    }
    nodes.sync()?;
    if altered.is_some() {
        // Left unsynced, so the next open looks again.
        return Ok(altered);
    }
    store.set_meta(NODES_SYNCED, &end.to_string())?;
    Ok(None)
}

/// What copying the stored leaf hashes into level 0 found.
enum Leaves {
    Rebuilt,
    /// An entry is missing or malformed: nothing more was written.
    Missing(String),
    /// Written, but records that held other hashes were kept.
    Altered(String),
}

/// Leaf hashes compared between the entries table and the node files at open.
const TAIL_CHECK: u64 = 64;

/// The O(log n) consistency check between node files, entries table and latest signed head.
fn check(store: &mut dyn EntryStore, nodes: &NodeFiles, end: u64) -> Result<Option<String>> {
    if end == 0 {
        return Ok(None);
    }
    let from = end.saturating_sub(TAIL_CHECK);
    let mut stored = vec![[0u8; 32]; (end - from) as usize];
    nodes.read(0, from, &mut stored)?;
    let mut mismatch = None;
    store.leaf_hashes(from, end, &mut |idx, leaf| {
        let pos = idx - from as i64;
        let same = usize::try_from(pos)
            .ok()
            .and_then(|p| stored.get(p))
            .is_some_and(|h| h[..] == *leaf);
        if !same && mismatch.is_none() {
            mismatch = Some(idx);
        }
        Ok(())
    })?;
    if let Some(idx) = mismatch {
        return Ok(Some(format!(
            "the node files disagree with the entries table at index {idx} (tampering or corruption): \
             run verify; if the entries verify against the signed heads, delete the node files to rebuild them"
        )));
    }
    if let Some(head) = store.latest_tree_head()? {
        if head.size > end {
            return Ok(Some(format!(
                "a tree head was signed for {} entries but the entries table ends at {end}: entries were removed",
                head.size
            )));
        }
        if merkle::root(nodes, head.size)? != head.root_hash {
            return Ok(Some(format!(
                "the log's root at size {} is not the latest signed tree head's: run verify",
                head.size
            )));
        }
    }
    Ok(None)
}

/// Copies the stored leaf hashes `from..end` into level 0.
fn rebuild_leaves(
    store: &mut dyn EntryStore,
    nodes: &NodeFiles,
    from: u64,
    end: u64,
) -> Result<Leaves> {
    let mut next = from;
    let mut buf: Vec<Hash> = Vec::with_capacity(CHUNK);
    let mut damage = None;
    let written = nodes.len(0)?;
    let mut altered = None;
    let mut flush = |at: u64, buf: &[Hash]| -> Result<()> {
        let kept = keep_differing(nodes, written, at, buf)?;
        if let (None, Some((idx, _))) = (altered, &kept) {
            altered = Some(*idx);
        }
        nodes.write(0, at, kept.as_ref().map_or(buf, |(_, k)| k))
    };
    let res = store.leaf_hashes(from, end, &mut |idx, leaf| {
        if idx != next as i64 {
            damage = Some(format!(
                "entry {next} is missing (the next stored index is {idx})"
            ));
            return Err(Error::Damaged(String::new()));
        }
        let Ok(h) = <Hash>::try_from(leaf) else {
            damage = Some(format!(
                "entry {idx} has a stored leaf hash of {} bytes",
                leaf.len()
            ));
            return Err(Error::Damaged(String::new()));
        };
        buf.push(h);
        next += 1;
        if buf.len() == CHUNK {
            flush(next - CHUNK as u64, &buf)?;
            buf.clear();
        }
        Ok(())
    });
    if let Some(reason) = damage {
        return Ok(Leaves::Missing(reason));
    }
    res?;
    flush(next - buf.len() as u64, &buf)?;
    Ok(altered.map_or(Leaves::Rebuilt, |idx| {
        Leaves::Altered(format!(
            "the node files record another leaf hash at index {idx} than the entries table: an \
             entry there or before was changed, moved or inserted after it was appended; run verify"
        ))
    }))
}

/// `leaves` (from `at`) with each record past the sync point that holds another hash kept,
/// and the first such index; `None` when none differs. Unsynced records an OS crash lost read
/// as zeros (records never straddle a page), so only a leaf hash rewritten in the entries
/// table makes a record differ: overwriting it would erase the one trace of the edit.
fn keep_differing(
    nodes: &NodeFiles,
    written: u64,
    at: u64,
    leaves: &[Hash],
) -> Result<Option<(u64, Vec<Hash>)>> {
    let n = written.saturating_sub(at).min(leaves.len() as u64) as usize;
    if n == 0 {
        return Ok(None);
    }
    let mut old = vec![[0u8; 32]; n];
    nodes.read(0, at, &mut old)?;
    let differs = |i: usize| old[i] != [0u8; 32] && old[i] != leaves[i];
    let Some(first) = (0..n).find(|&i| differs(i)) else {
        return Ok(None);
    };
    let kept = (0..leaves.len())
        .map(|i| {
            if i < n && differs(i) {
                old[i]
            } else {
                leaves[i]
            }
        })
        .collect();
    Ok(Some((at + first as u64, kept)))
}

/// Recomputes nodes `from..want` of `level` from the level below.
fn rebuild_level(nodes: &NodeFiles, level: u32, from: u64, want: u64) -> Result<()> {
    let mut at = from;
    let mut children = vec![[0u8; 32]; 2 * CHUNK];
    let mut out = Vec::with_capacity(CHUNK);
    while at < want {
        let n = (want - at).min(CHUNK as u64) as usize;
        nodes.read(level - 1, 2 * at, &mut children[..2 * n])?;
        out.clear();
        out.extend(
            children[..2 * n]
                .chunks_exact(2)
                .map(|p| node_hash(&p[0], &p[1])),
        );
        nodes.write(level, at, &out)?;
        at += n as u64;
    }
    Ok(())
}

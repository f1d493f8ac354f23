//! Re-reading the stored log against what the ledger wrote when it grew: the check a server
//! runs before it signs over entries, at start and in the background.
//!
//! A [`Checker`] keeps a place in the log and the Merkle frontier recomputed from the entry
//! bodies up to it, on a database connection of its own. Each [`Ledger::check_next`] reads the
//! next entries and holds each one to four records made at append time:
//!
//! * its index follows the previous one (no gap, nothing inserted);
//! * its body hashes to its stored leaf hash, and is a canonical version-1 event whose `seq` is
//!   its index (so a body moved to another row shows);
//! * its stored leaf hash is the one written to the node files when it was appended;
//! * every perfect subtree it completes equals the node files' record;
//!
//! and when the place reaches the size of a signed tree head, the recomputed root must be that
//! head's root and its signature must verify. So an entry edited, deleted, swapped or inserted
//! behind the ledger's back is named by its own index, whichever of its records were rewritten
//! to match; a rewrite that also rewrote the node files shows at the next signed head.
//!
//! A checker made by [`Ledger::checker`] starts at index 0 and trusts nothing. One made by
//! [`Ledger::checker_at_latest_head`] starts at the latest signed head and trusts the node
//! files below it only once their root is that head's root and the head's signature verifies:
//! what the server checks at start when the whole log is too long to re-read before serving.

use std::collections::VecDeque;

use crate::error::Result;
use crate::event::canonical_seq;
use crate::head::TreeHead;
use crate::merkle::{Frontier, Hash};
use crate::redact::entry_leaf_hash;
use crate::report::{Problem, ProblemKind};
use crate::store::{EntryPage, EntryStore};
use crate::Ledger;

/// Heads loaded from storage at a time: a log signs one a minute, so a long log holds many.
const HEADS_WINDOW: usize = 1024;

/// A place in the log up to which every entry was checked, and what is needed to go on.
pub struct Checker {
    frontier: Frontier,
    /// Signed heads past the place, in signing order; the window ends at `heads_end`.
    heads: VecDeque<TreeHead>,
    /// Heads of size up to this are loaded (or behind the place).
    heads_loaded_to: u64,
    store: Box<dyn EntryStore>,
    page: EntryPage,
}

impl Checker {
    /// Entries checked so far: everything below this index.
    pub fn position(&self) -> u64 {
        self.frontier.size()
    }
}

impl std::fmt::Debug for Checker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Checker")
            .field("position", &self.position())
            .finish()
    }
}

fn problem(kind: ProblemKind, index: u64, head_size: Option<u64>, detail: String) -> Problem {
    Problem {
        kind,
        index: Some(index),
        head_size,
        detail,
    }
}

impl Ledger {
    /// A checker at index 0, trusting nothing stored.
    pub fn checker(&self) -> Result<Checker> {
        Ok(Checker {
            frontier: Frontier::new(),
            heads: VecDeque::new(),
            heads_loaded_to: 0,
            store: self.reader_store()?,
            page: EntryPage::default(),
        })
    }

    /// A checker at the latest signed head, once the node files' root at its size is the
    /// head's root and its signature verifies; else the problem. With no head, at index 0.
    pub fn checker_at_latest_head(&self) -> Result<std::result::Result<Checker, Problem>> {
        let mut checker = self.checker()?;
        let Some(head) = checker.store.latest_tree_head()? else {
            return Ok(Ok(checker));
        };
        if head.size > self.size() {
            return Ok(Err(problem(
                ProblemKind::Truncated,
                self.size(),
                Some(head.size),
                format!(
                    "a tree head was signed for {} entries but the log holds {}: entries were removed",
                    head.size,
                    self.size()
                ),
            )));
        }
        if let Err(e) = self.verify_head(&head) {
            return Ok(Err(Problem {
                kind: ProblemKind::BadSignature,
                index: None,
                head_size: Some(head.size),
                detail: e.to_string(),
            }));
        }
        if crate::merkle::root(&self.nodes, head.size)? != head.root_hash {
            return Ok(Err(Problem {
                kind: ProblemKind::NodeMismatch,
                index: None,
                head_size: Some(head.size),
                detail: "the node files do not give the latest signed head's root: they or the \
                         entries were changed after it was signed"
                    .into(),
            }));
        }
        checker.frontier = Frontier::load(&self.nodes, head.size)?;
        checker.heads_loaded_to = head.size;
        Ok(Ok(checker))
    }

    /// Checks up to `max` entries past the checker's place (fewer at the end of the log) and
    /// returns how many it checked, or the first problem, which the ledger keeps
    /// ([`Ledger::altered`]): it signs nothing more. After a problem the checker stays where it
    /// was; make a new one to check again.
    pub fn check_next(
        &self,
        c: &mut Checker,
        max: u64,
    ) -> Result<std::result::Result<u64, Problem>> {
        let checked = self.check_step(c, max)?;
        if let Err(p) = &checked {
            self.altered
                .lock()
                .unwrap_or_else(|e| e.into_inner())
                .get_or_insert_with(|| p.clone());
        }
        Ok(checked)
    }

    fn check_step(&self, c: &mut Checker, max: u64) -> Result<std::result::Result<u64, Problem>> {
        let from = c.position();
        let to = self.size().min(from.saturating_add(max));
        if to <= from {
            return Ok(Ok(0));
        }
        let mut stored_leaves: Vec<(i64, Vec<u8>)> = Vec::with_capacity((to - from) as usize);
        c.store.leaf_hashes(from, to, &mut |idx, leaf| {
            stored_leaves.push((idx, leaf.to_vec()));
            Ok(())
        })?;
        c.store.entry_page(from, to, &mut c.page)?;
        let mut written = vec![[0u8; 32]; (to - from) as usize];
        self.nodes.read(0, from, &mut written)?;
        self.load_heads(c, to)?;

        let mut frontier = c.frontier.clone();
        let mut completed: Vec<(u32, u64, Hash)> = Vec::new();
        let mut bodies = c.page.iter();
        for (k, expected) in (from..to).enumerate() {
            let (stored_index, stored_leaf) = stored_leaves
                .get(k)
                .map(|(i, l)| (*i, l.as_slice()))
                .unwrap_or((-1, &[]));
            let body = bodies.next();
            if let Some(p) = row_problem(expected, stored_index, stored_leaf, body, &written[k]) {
                return Ok(Err(p));
            }
            frontier.push(written[k], |level, index, h| {
                if level > 0 {
                    completed.push((level, index, *h));
                }
            });
            while let Some(head) = c.heads.front().filter(|h| h.size == frontier.size()) {
                if let Some(p) = self.head_problem(head, &frontier) {
                    return Ok(Err(p));
                }
                c.heads.pop_front();
            }
        }
        if let Some(p) = self.node_problem(&completed)? {
            return Ok(Err(p));
        }
        c.frontier = frontier;
        Ok(Ok(to - from))
    }

    /// Loads the signed heads up to size `to` not loaded yet, a window at a time.
    fn load_heads(&self, c: &mut Checker, to: u64) -> Result<()> {
        while c.heads_loaded_to < to && c.heads.len() < HEADS_WINDOW {
            let batch = c.store.tree_heads_in(c.heads_loaded_to, to, HEADS_WINDOW)?;
            let full = batch.len() == HEADS_WINDOW;
            let last = batch.last().map(|h| h.size);
            let position = c.position();
            c.heads
                .extend(batch.into_iter().filter(|h| h.size > position));
            c.heads_loaded_to = match (full, last) {
                (true, Some(size)) => size,
                _ => to,
            };
            if !full {
                break;
            }
        }
        Ok(())
    }

    fn head_problem(&self, head: &TreeHead, frontier: &Frontier) -> Option<Problem> {
        if let Err(e) = self.verify_head(head) {
            return Some(Problem {
                kind: ProblemKind::BadSignature,
                index: None,
                head_size: Some(head.size),
                detail: e.to_string(),
            });
        }
        (frontier.root() != head.root_hash).then(|| Problem {
            kind: ProblemKind::ForkedHead,
            index: None,
            head_size: Some(head.size),
            detail: format!(
                "the stored entries up to {} do not give the root this head signed: entries \
                 before it were changed, removed or added, and their hashes rewritten to match",
                head.size
            ),
        })
    }

    /// Holds the perfect subtrees recomputed in one step to the node files, a level at a time.
    fn node_problem(&self, completed: &[(u32, u64, Hash)]) -> Result<Option<Problem>> {
        let mut by_level: Vec<Vec<(u64, Hash)>> = Vec::new();
        for &(level, index, h) in completed {
            let level = level as usize;
            if by_level.len() <= level {
                by_level.resize(level + 1, Vec::new());
            }
            by_level[level].push((index, h));
        }
        for (level, nodes) in by_level.iter().enumerate() {
            let Some(&(first, _)) = nodes.first() else {
                continue;
            };
            let mut written = vec![[0u8; 32]; nodes.len()];
            self.nodes.read(level as u32, first, &mut written)?;
            for (k, &(index, h)) in nodes.iter().enumerate() {
                if written[k] != h {
                    let first_entry = index << level;
                    return Ok(Some(problem(
                        ProblemKind::NodeMismatch,
                        first_entry,
                        None,
                        format!(
                            "the node files' hash of entries {first_entry}..{} differs from the \
                             one recomputed from the entries",
                            (index + 1) << level
                        ),
                    )));
                }
            }
        }
        Ok(None)
    }

    /// Checks a head's signature against the keys this ledger signs and signed with.
    pub(crate) fn verify_head(&self, head: &TreeHead) -> Result<()> {
        crate::head::verify_by_any(head, self.known_keys())
    }
}

/// What is wrong with one row, if anything.
fn row_problem(
    expected: u64,
    stored_index: i64,
    stored_leaf: &[u8],
    body: Option<(u64, &[u8])>,
    written: &Hash,
) -> Option<Problem> {
    let at = |kind, detail: &str| Some(problem(kind, expected, None, detail.to_string()));
    if stored_index != expected as i64 {
        return if stored_index < 0 || stored_index > expected as i64 {
            at(
                ProblemKind::Deleted,
                "the entry is missing: the indexes jump over it",
            )
        } else {
            at(ProblemKind::Inserted, "an index appears twice")
        };
    }
    let Some((_, body)) = body else {
        return at(ProblemKind::Deleted, "the entry's body is missing");
    };
    let recomputed = entry_leaf_hash(body);
    if stored_leaf != recomputed {
        return at(
            ProblemKind::Edited,
            "the body does not hash to its stored leaf hash: the entry was changed after it was written",
        );
    }
    match canonical_seq(body) {
        None => {
            return at(
                ProblemKind::Edited,
                "the body is not a canonical version-1 event: the entry was changed after it was written",
            )
        }
        Some(seq) if seq != expected => {
            return Some(problem(
                ProblemKind::Reordered,
                expected,
                None,
                format!("the row holds the body of entry {seq}: entries were moved, removed or added"),
            ))
        }
        Some(_) => {}
    }
    (recomputed != *written).then(|| {
        problem(
            ProblemKind::Edited,
            expected,
            None,
            "the entry and its leaf hash differ from the leaf hash recorded when it was \
             appended: both were rewritten"
                .into(),
        )
    })
}

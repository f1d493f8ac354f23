//! What a verification found: a list of problems, each with the first entry index it concerns.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Kinds of problems a verifier reports.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProblemKind {
    /// An entry's content differs from what was appended.
    Edited,
    /// An entry is missing (a gap in the indexes, or later entries renumbered to hide one).
    Deleted,
    /// Entries are in a different order than appended.
    Reordered,
    /// An entry was added that the ledger did not append (or one appears twice).
    Inserted,
    /// The log ends before entries that were recorded (signed heads or node files cover more).
    Truncated,
    /// A stored interior hash differs from the recomputed tree (storage corruption).
    NodeMismatch,
    /// A tree head's signature (or key id, or timestamp) does not verify.
    BadSignature,
    /// A correctly signed tree head whose root is not the root of this log at that size: the log
    /// was rewritten after the head was signed, or the head belongs to another history.
    ForkedHead,
    /// A proof is malformed or for the wrong sizes.
    BadProof,
    /// Fewer signed tree heads are stored than were signed: heads were removed.
    MissingHead,
    /// A correctly signed tree head whose per-network counters are not the log's at that size.
    WrongCounter,
}

impl fmt::Display for ProblemKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = serde_json::to_value(self).ok();
        f.write_str(s.as_ref().and_then(|v| v.as_str()).unwrap_or("problem"))
    }
}

/// One problem.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Problem {
    /// What is wrong.
    pub kind: ProblemKind,
    /// The first entry index affected. For a forked head, the size of the last head that still
    /// matches (the divergence is at or after it); `None` when no entry is at fault (a bad
    /// signature on an otherwise matching head, or a fork seen only remotely).
    pub index: Option<u64>,
    /// The size of the tree head concerned, for head problems.
    pub head_size: Option<u64>,
    /// Human-readable detail.
    pub detail: String,
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.kind)?;
        if let Some(i) = self.index {
            write!(f, " at index {i}")?;
        }
        if let Some(s) = self.head_size {
            write!(f, " (tree head of size {s})")?;
        }
        write!(f, ": {}", self.detail)
    }
}

/// The result of [`crate::Ledger::verify_full`] or [`crate::verify_remote`].
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// Entries checked.
    pub entries: u64,
    /// Tree heads checked.
    pub heads: u64,
    /// Problems found (at most [`VerifyReport::MAX_PROBLEMS`]; later ones are only counted).
    pub problems: Vec<Problem>,
    /// Problems found in total.
    pub problem_count: u64,
}

impl VerifyReport {
    /// Problems kept in detail; after the first few, the rest are usually consequences.
    pub const MAX_PROBLEMS: usize = 100;

    /// No problem found.
    pub fn is_ok(&self) -> bool {
        self.problem_count == 0
    }

    /// The smallest entry index any problem points at.
    pub fn first_bad_index(&self) -> Option<u64> {
        self.problems.iter().filter_map(|p| p.index).min()
    }

    /// The problem at the first bad index (or the first problem, if none has an index).
    pub fn first_problem(&self) -> Option<&Problem> {
        match self.first_bad_index() {
            Some(i) => self.problems.iter().find(|p| p.index == Some(i)),
            None => self.problems.first(),
        }
    }

    /// Problems of one kind.
    pub fn of_kind(&self, kind: ProblemKind) -> impl Iterator<Item = &Problem> {
        self.problems.iter().filter(move |p| p.kind == kind)
    }

    /// Adds what another check of the same log found.
    pub fn merge(&mut self, other: VerifyReport) {
        self.entries += other.entries;
        self.heads += other.heads;
        let room = Self::MAX_PROBLEMS.saturating_sub(self.problems.len());
        self.problems.extend(other.problems.into_iter().take(room));
        self.problem_count += other.problem_count;
    }

    pub(crate) fn add(
        &mut self,
        kind: ProblemKind,
        index: Option<u64>,
        head_size: Option<u64>,
        detail: String,
    ) {
        self.problem_count += 1;
        if self.problems.len() < Self::MAX_PROBLEMS {
            self.problems.push(Problem {
                kind,
                index,
                head_size,
                detail,
            });
        }
    }
}

impl fmt::Display for VerifyReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_ok() {
            return write!(
                f,
                "OK: {} entries and {} tree heads verified",
                self.entries, self.heads
            );
        }
        writeln!(
            f,
            "FAILED: {} problem(s) in {} entries and {} tree heads",
            self.problem_count, self.entries, self.heads
        )?;
        if let Some(p) = self.first_problem() {
            writeln!(f, "first: {p}")?;
        }
        for p in &self.problems {
            writeln!(f, "  {p}")?;
        }
        Ok(())
    }
}

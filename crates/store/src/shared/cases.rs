//! How integrity cases are read and findings merged, alike on both backends.

use super::{from_ms, to_ms};
use crate::{Result, StoreError};
use anpr_domain::finding::{Finding, Rule, Severity};
use anpr_domain::review::{Case, CaseOutcome, CaseQueue, CaseStatus, StoredFinding};

/// The columns of a case joined with its finding (`c`, `f`), in the order both backends read
/// them into a [`CaseRow`].
pub(crate) const CASE_COLUMNS: &str = "c.id, c.queue, c.status, c.staff_id, c.district, \
     c.assigned_to, c.explanation_request, c.explanation, c.explained_at, c.outcome, \
     c.closing_note, c.closed_by, c.closed_at, c.opened_at, c.updated_at, f.id, f.rule, \
     f.severity, f.key, f.evidence, f.uses, f.explanation, f.first_at, f.last_at";

/// Most cases one listing returns.
pub(crate) const MAX_CASES: u32 = 1000;

/// A case and its finding as stored ([`CASE_COLUMNS`]), the enumerations and evidence still
/// text: both backends parse them here, so that a value this build does not know is refused
/// alike.
pub(crate) struct CaseRow {
    pub id: i64,
    pub queue: String,
    pub status: String,
    pub staff_id: String,
    pub district: Option<String>,
    pub assigned_to: Option<String>,
    pub explanation_request: Option<String>,
    pub explanation: Option<String>,
    pub explained_at: Option<i64>,
    pub outcome: Option<String>,
    pub closing_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    pub opened_at: i64,
    pub updated_at: i64,
    pub finding_id: i64,
    pub rule: String,
    pub severity: String,
    pub key: String,
    pub evidence: String,
    pub uses: i64,
    pub finding_explanation: String,
    pub first_at: i64,
    pub last_at: i64,
}

impl CaseRow {
    /// The case, or the column and the value in it that is not known.
    pub fn parse(self) -> std::result::Result<Case, (&'static str, String)> {
        fn known<T>(
            column: &'static str,
            value: String,
            parse: impl FnOnce(&str) -> Option<T>,
        ) -> std::result::Result<T, (&'static str, String)> {
            parse(&value).ok_or((column, value))
        }
        Ok(Case {
            id: self.id,
            queue: known("queue", self.queue, CaseQueue::parse)?,
            status: known("status", self.status, CaseStatus::parse)?,
            staff_id: self.staff_id.clone(),
            district: self.district,
            assigned_to: self.assigned_to,
            explanation_request: self.explanation_request,
            explanation: self.explanation,
            explained_at: self.explained_at.map(from_ms),
            outcome: self
                .outcome
                .map(|o| known("outcome", o, CaseOutcome::parse))
                .transpose()?,
            closing_note: self.closing_note,
            closed_by: self.closed_by,
            closed_at: self.closed_at.map(from_ms),
            opened_at: from_ms(self.opened_at),
            updated_at: from_ms(self.updated_at),
            finding: StoredFinding {
                id: self.finding_id,
                finding: Finding {
                    rule: known("rule", self.rule, Rule::parse)?,
                    severity: known("severity", self.severity, Severity::parse)?,
                    staff_id: self.staff_id,
                    key: self.key,
                    evidence: serde_json::from_str(&self.evidence)
                        .map_err(|_| ("evidence", self.evidence.clone()))?,
                    uses: self.uses as u64,
                    explanation: self.finding_explanation,
                    first_at: from_ms(self.first_at),
                    last_at: from_ms(self.last_at),
                },
            },
        })
    }
}

/// A finding's evidence as stored: a JSON array of ledger indices.
pub(crate) fn evidence_json(evidence: &[u64]) -> Result<String> {
    serde_json::to_string(evidence).map_err(|e| StoreError::Task(e.to_string()))
}

/// What is stored of a finding that a later run finds again.
pub(crate) struct KnownFinding {
    pub severity: String,
    pub evidence: String,
    pub uses: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// A known finding merged with a new sighting of it, as it is to be stored.
pub(crate) struct MergedFinding {
    pub severity: Severity,
    pub evidence: String,
    pub uses: i64,
    pub first_at: i64,
    pub last_at: i64,
}

impl KnownFinding {
    pub fn merge(self, f: &Finding) -> Result<MergedFinding> {
        // An incremental run sees only its window: the evidence is merged with what earlier
        // runs stored, never replaced.
        let mut merged: Vec<u64> = serde_json::from_str(&self.evidence).unwrap_or_default();
        merged.extend(&f.evidence);
        merged.sort_unstable();
        merged.dedup();
        merged.truncate(anpr_domain::finding::MAX_EVIDENCE);
        let severity = Severity::parse(&self.severity)
            .unwrap_or(f.severity)
            .max(f.severity);
        let uses = (self.uses as u64).max(f.uses).max(merged.len() as u64);
        Ok(MergedFinding {
            severity,
            evidence: evidence_json(&merged)?,
            uses: uses as i64,
            first_at: self.first_at.min(to_ms(f.first_at)),
            last_at: self.last_at.max(to_ms(f.last_at)),
        })
    }
}

//! Integrity findings and their review cases: a trait of its own ([`CaseStore`]) so that a
//! PostgreSQL store can implement it beside [`crate::Store`].

use crate::Result;
use anpr_domain::finding::Finding;
use anpr_domain::review::{Case, CaseQueue, CaseStatus};
use anpr_policy::RegisterView;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// What saving a run's findings changed.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SaveReport {
    /// Findings seen for the first time (each opened a case).
    pub opened: u64,
    /// Findings already stored whose evidence or severity grew.
    pub updated: u64,
}

/// One integrity run, kept so the next incremental run knows where to start.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntegrityRun {
    pub at: DateTime<Utc>,
    /// The first ledger index looked at.
    pub from_index: u64,
    /// The last ledger index looked at (none: the ledger held nothing new).
    pub to_index: Option<u64>,
    pub uses: u64,
    pub opened: u64,
    pub updated: u64,
}

/// Which cases to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CaseFilter {
    pub queue: Option<CaseQueue>,
    pub statuses: Vec<CaseStatus>,
    pub staff_id: Option<String>,
    pub district: Option<String>,
    pub assigned_to: Option<String>,
    /// Cases with ids below this (paging newest first).
    pub before_id: Option<i64>,
    pub limit: u32,
}

#[async_trait]
pub trait CaseStore: Send + Sync + 'static {
    /// Stores findings: a new `(rule, staff_id, key)` is inserted and opens a case (in the
    /// supervisors' queue for routine samples, the integrity unit's otherwise); a known one
    /// takes the new evidence, severity and explanation. One transaction.
    async fn save_findings(&self, findings: Vec<Finding>, now: DateTime<Utc>)
        -> Result<SaveReport>;
    async fn record_integrity_run(&self, run: IntegrityRun) -> Result<()>;
    async fn last_integrity_run(&self) -> Result<Option<IntegrityRun>>;
    async fn cases(&self, filter: CaseFilter) -> Result<Vec<Case>>;
    async fn case(&self, id: i64) -> Result<Option<Case>>;
    /// Writes a case's new state if it is still in `expected` (compare-and-set: two reviewers
    /// cannot both take the same step); `StoreError::Conflict` otherwise.
    async fn update_case(&self, case: Case, expected: CaseStatus) -> Result<()>;
    /// Runs `f` over the registers on the calling thread (an integrity run is one long
    /// synchronous pass; call it from a blocking context).
    fn with_registers(&self, f: &mut dyn FnMut(&dyn RegisterView)) -> Result<()>;
}

//! What the reports need from storage: usage counted per month and group by the database
//! (`GROUP BY` over indexed time ranges), and the recorded queries that touched one plate.
//! The shaping (merging, totals, suppression, CSV, HTML) is `anpr-reports`' pure code.

use crate::Result;
use anpr_domain::usage::PlateQuery;
use anpr_domain::usage::{UsageQuery, UsageRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

/// Partial usage rows, one per month, group and source (decisions, alerts, findings), for
/// `anpr_reports::usage::assemble` to merge.
#[derive(Debug, Clone, Default)]
pub struct UsageCounted {
    pub rows: Vec<UsageRow>,
    /// Whether an integrity findings table exists to count from.
    pub findings_recorded: bool,
}

#[async_trait]
pub trait ReportStore: Send + Sync + 'static {
    /// Counts of use in `[q.from, q.to)` by calendar month (UTC) and `q.by`. Decisions on
    /// training plates are not counted.
    async fn usage_counts(&self, q: UsageQuery) -> Result<UsageCounted>;

    /// As [`ReportStore::usage_counts`], counting only the use recorded in `districts`: the
    /// decisions of their staff, the alerts of their authorisations and the review cases about
    /// their staff (what a supervisor's report covers).
    async fn usage_counts_in(&self, q: UsageQuery, districts: Vec<String>) -> Result<UsageCounted>;

    /// Every recorded decision about a query that touched `plate` (normalised): exact searches
    /// and wildcard or fuzzy searches whose pattern matches it, views and exports of its reads,
    /// tracking and look-back requests for it — with whether its file number names an incident
    /// open at `now`.
    async fn plate_queries(&self, plate: String, now: DateTime<Utc>) -> Result<Vec<PlateQuery>>;
}

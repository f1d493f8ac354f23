//! Reports, for the API and the command line alike (`anpr report ...` calls these same
//! functions): the usage report, the public transparency report, and subject access.
//!
//! The store counts (`ReportStore`), `anpr-reports` shapes. A subject access request reads a
//! plate's sightings outside the search policy, so it is decided in [`crate::access`] first and
//! its decision recorded before anything is read.

use crate::access;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::query::Cursor;
use anpr_domain::{NormalisedPlate, PlatePattern, SearchQuery, User};
use anpr_reports::subject::{self, HeldRead, SubjectAccessReport};
use anpr_reports::transparency::{self, TransparencyInput, TransparencyReport, TREND_MONTHS};
use anpr_reports::usage::{self, UsageReport};
use anpr_reports::{Grouping, Month, UsageQuery};
use chrono::{DateTime, Utc};

/// Most sightings one subject access report lists (all are counted).
pub const MAX_LISTED_READS: usize = 5_000;

/// Counts of use between `q.from` and `q.to`, per month and `q.by`.
pub async fn usage(state: &App, q: UsageQuery) -> AppResult<UsageReport> {
    let counted = state.reports.usage_counts(q).await?;
    Ok(usage::assemble(&q, counted.rows, counted.findings_recorded))
}

/// The public transparency report of `month`, made at `now`.
pub async fn transparency(
    state: &App,
    month: Month,
    now: DateTime<Utc>,
) -> AppResult<TransparencyReport> {
    if month > Month::of(now) {
        return Err(AppError::BadRequest {
            field: Some("month".into()),
            message: format!("month: {month} has not started yet"),
        });
    }
    let first = month.plus(1 - TREND_MONTHS as i32);
    let trend = UsageQuery::new(first.start(), month.end(), Grouping::Month)?;
    let districts = UsageQuery::new(month.start(), month.end(), Grouping::District)?;
    let by_month = state.reports.usage_counts(trend).await?;
    let by_district = state.reports.usage_counts(districts).await?;
    Ok(transparency::build(TransparencyInput {
        month,
        by_month: by_month.rows,
        by_district: by_district.rows,
        findings_recorded: by_month.findings_recorded,
        generated_at: now,
    }))
}

/// Answers a subject access request about `plate` for `user` (a privacy officer or admin):
/// the decision is recorded first; then the sightings still held and the queries that
/// touched the plate are gathered.
pub async fn subject_access(
    state: &App,
    user: &User,
    plate: &str,
    reference: Option<String>,
) -> AppResult<SubjectAccessReport> {
    let plate = NormalisedPlate::parse(plate)?;
    access::authorise_subject_access(state, user, &plate, reference.as_deref()).await?;
    let now = Utc::now();
    let (reads_held, reads) = held_reads(state, &plate).await?;
    let queries = state
        .reports
        .plate_queries(plate.as_str().to_string(), now)
        .await?;
    Ok(subject::assemble(
        plate.as_str(),
        reference,
        reads_held,
        reads,
        queries,
        now,
    ))
}

/// Every read of the plate still held (counted), the newest [`MAX_LISTED_READS`] listed.
async fn held_reads(state: &App, plate: &NormalisedPlate) -> AppResult<(u64, Vec<HeldRead>)> {
    let mut query = SearchQuery::for_plate(PlatePattern::Exact(plate.clone()));
    query.limit = anpr_domain::query::MAX_PAGE_SIZE;
    let mut total = 0;
    let mut reads = Vec::new();
    loop {
        let page = state.store.search(&query).await?;
        total = total.max(page.total);
        reads.extend(page.hits.into_iter().map(|h| HeldRead {
            read_id: h.read.id,
            captured_at: h.read.captured_at,
            site: h.site_name,
            network: h.network_name,
            district: h.district,
        }));
        match page.next_cursor {
            Some(c) if reads.len() < MAX_LISTED_READS => {
                query.cursor = Some(Cursor::decode(&c)?);
            }
            _ => break,
        }
    }
    reads.truncate(MAX_LISTED_READS);
    Ok((total, reads))
}

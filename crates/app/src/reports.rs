//! Reports, for the API and the command line alike (`anpr report ...` calls these same
//! functions): the usage report, the public transparency report, and subject access.
//!
//! The store counts (`ReportStore`), `anpr-reports` shapes. What a usage report may cover is
//! the policy's decision (`Policy::usage_report_scope`: a supervisor's is their district's). A
//! subject access request reads a plate's sightings outside the search policy, so it is
//! decided in [`crate::access`] first — reference, identity check, the requester's limit, the
//! own-vehicle block, the near-live window — and its decision recorded before anything is read.

use crate::access;
use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::query::Cursor;
use anpr_domain::{NormalisedPlate, PlatePattern, SearchQuery, User};
use anpr_policy::oversight::ReportScope;
use anpr_policy::{IdentityCheck, Subject};
use anpr_reports::subject::{self, HeldRead, SubjectAccessReport};
use anpr_reports::transparency::{
    self, LedgerSource, TransparencyInput, TransparencyReport, TREND_MONTHS,
};
use anpr_reports::usage::{self, UsageReport};
use anpr_reports::{Grouping, Month, UsageQuery};
use chrono::{DateTime, Utc};
use serde_json::json;

/// Most sightings one subject access report lists (all are counted).
pub const MAX_LISTED_READS: usize = 5_000;

/// Counts of use between `q.from` and `q.to`, per month and `q.by`, as far as `user` may see
/// them: the country for overseers and administrators, their own district for a supervisor
/// (whatever the grouping).
pub async fn usage(state: &App, user: &User, q: UsageQuery) -> AppResult<UsageReport> {
    let report = match state.policy.usage_report_scope(&Subject::from_user(user))? {
        ReportScope::National => usage_national(state, q).await?,
        ReportScope::Districts(districts) => {
            let counted = state.reports.usage_counts_in(q, districts.clone()).await?;
            usage::assemble(&q, counted.rows, counted.findings_recorded).within(districts)
        }
    };
    Ok(with_purpose_labels(state, report))
}

/// The report's purpose codes named as the policy configures them (for the charts' labels).
fn with_purpose_labels(state: &App, report: UsageReport) -> UsageReport {
    let purposes = &state.config.policy.purposes;
    report.with_purpose_labels(purposes.iter().map(|p| (p.code.as_str(), p.label.as_str())))
}

/// The national usage report, for the deployment's operator on its host (`anpr report usage`,
/// which reads the database directly and signs in as nobody).
pub async fn usage_national(state: &App, q: UsageQuery) -> AppResult<UsageReport> {
    let counted = state.reports.usage_counts(q).await?;
    Ok(usage::assemble(&q, counted.rows, counted.findings_recorded))
}

/// The public transparency report of `month`, made at `now`: counted from the audit ledger's
/// entries up to its latest signed tree head (see [`crate::ledger_counts`] for why and how),
/// which the report states with the witnesses' cosignatures held for it; the integrity
/// findings from the case register.
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
    let trend = anpr_reports::usage::query(first.start(), month.end(), Grouping::Month)?;
    let districts = anpr_reports::usage::query(month.start(), month.end(), Grouping::District)?;
    let by_month = state.reports.usage_counts(trend).await?;
    let by_district = state.reports.usage_counts(districts).await?;
    let ledger = state.ledger.clone();
    let (source, counts) = tokio::task::spawn_blocking(move || counted_from_ledger(&ledger, month))
        .await
        .map_err(AppError::internal)??;
    let (ledger_by_month, ledger_by_district) = counts.rows();
    // The findings are the case register's; everything else the ledger's.
    let findings_only = |rows: Vec<anpr_reports::UsageRow>| {
        rows.into_iter().map(|mut r| {
            r.counts = anpr_reports::UsageCounts {
                findings_opened: r.counts.findings_opened,
                findings_closed: r.counts.findings_closed,
                ..Default::default()
            };
            r
        })
    };
    Ok(transparency::build(TransparencyInput {
        month,
        by_month: findings_only(by_month.rows)
            .chain(ledger_by_month)
            .collect(),
        by_district: findings_only(by_district.rows)
            .chain(ledger_by_district)
            .collect(),
        findings_recorded: by_month.findings_recorded,
        generated_at: now,
        source: Some(source),
    }))
}

/// The latest signed tree head (a fresh one where entries arrived since and this process holds
/// the key), with its checkpoint and cosignatures, and the report's counts over its entries.
fn counted_from_ledger(
    ledger: &anpr_ledger::Ledger,
    month: Month,
) -> AppResult<(LedgerSource, crate::ledger_counts::LedgerCounts)> {
    ledger.refresh()?;
    let head = match ledger.latest_tree_head()? {
        Some(h) if h.size == ledger.size() => h,
        latest => match ledger.sign_tree_head() {
            Ok(h) => h,
            Err(e) => latest.ok_or_else(|| {
                AppError::Unavailable(format!(
                    "the audit ledger has no signed tree head to compute the report from ({e}); \
                     start the server with its signing key"
                ))
            })?,
        },
    };
    let checkpoint = ledger.checkpoint(head.size)?;
    // Every signature but the log's own is a witness's cosignature.
    let mut cosigned_by: Vec<String> = checkpoint
        .iter()
        .flat_map(|n| &n.signatures)
        .filter(|s| s.name != ledger.origin())
        .map(|s| s.name.clone())
        .collect();
    cosigned_by.sort();
    cosigned_by.dedup();
    let mut counts = crate::ledger_counts::LedgerCounts::new(month);
    ledger.each_entry(0, head.size, |_, body| {
        counts.add(&anpr_ledger::Event::decode(body)?);
        AppResult::Ok(())
    })?;
    let source = LedgerSource {
        size: head.size,
        root_hash: hex::encode(head.root_hash),
        tree_head: serde_json::to_value(&head).map_err(AppError::internal)?,
        checkpoint: checkpoint.map(|n| n.to_string()),
        cosigned_by,
    };
    Ok((source, counts))
}

/// A subject access request as the privacy officer received it.
#[derive(Debug, Clone)]
pub struct SubjectAccessAsk {
    /// The plate the person asked about (as given; normalised here).
    pub plate: String,
    /// The request's own reference (required by the policy).
    pub reference: Option<String>,
    /// How the person's identity was checked, and by whom (required by the policy).
    pub identity_checked: Option<IdentityCheck>,
}

/// Answers a subject access request for `user` (a privacy officer or admin). The use's audit
/// entry names the plate (normalised), the reference and the identity check, refused or not,
/// so the integrity rules can read it; the decision is recorded before anything is read; then
/// the sightings held up to the near-live window and the queries that touched the plate are
/// gathered, and the entry gets the digest of the sightings disclosed and the newest one's age.
pub async fn subject_access(
    state: &App,
    user: &User,
    audit: &AuditHandle,
    ask: SubjectAccessAsk,
) -> AppResult<SubjectAccessReport> {
    audit.action(anpr_ledger::Action::SubjectAccess);
    audit.query(json!({ "identity_checked": ask.identity_checked }));
    let mut facts = anpr_ledger::AuditFacts::new().plate(ask.plate.clone());
    if let Some(r) = &ask.reference {
        facts = facts.reference(r.clone());
    }
    audit.facts(facts);
    let plate = NormalisedPlate::parse(&ask.plate)?;
    audit.facts(anpr_ledger::AuditFacts::new().plate(plate.as_str().to_string()));
    let grant = access::authorise_subject_access(
        state,
        user,
        &plate,
        ask.reference.as_deref(),
        ask.identity_checked.as_ref(),
    )
    .await?;
    let now = Utc::now();
    let (reads_held, reads) = held_reads(state, &plate, grant.reads_until).await?;
    let queries = state
        .reports
        .plate_queries(plate.as_str().to_string(), now)
        .await?;
    let ids: Vec<i64> = reads.iter().map(|r| r.read_id).collect();
    audit.disclosed(&ids);
    if let Some(newest) = reads.iter().map(|r| r.captured_at).max() {
        let age = (now - newest).num_seconds().max(0);
        audit.facts(anpr_ledger::AuditFacts::new().newest_result_age_s(age as u64));
    }
    let why = grant
        .notices
        .iter()
        .find(|n| n.code == "near_live_withheld")
        .map(|n| sentence(&n.message))
        .unwrap_or_default();
    Ok(subject::assemble(
        plate.as_str(),
        ask.reference.map(|r| r.trim().to_string()),
        reads_held,
        reads,
        queries,
        now,
    )
    .withholding_after(grant.reads_until, why))
}

/// `text` as a sentence: a capital first letter and a full stop.
fn sentence(text: &str) -> String {
    let mut c = text.chars();
    let mut s: String = c
        .next()
        .map(|f| f.to_uppercase().collect())
        .unwrap_or_default();
    s.push_str(c.as_str());
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// Every read of the plate still held up to `until` (counted), the newest [`MAX_LISTED_READS`]
/// listed.
async fn held_reads(
    state: &App,
    plate: &NormalisedPlate,
    until: DateTime<Utc>,
) -> AppResult<(u64, Vec<HeldRead>)> {
    let mut query = SearchQuery::for_plate(PlatePattern::Exact(plate.clone()));
    query.limit = anpr_domain::query::MAX_PAGE_SIZE;
    query.time.to = Some(until);
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

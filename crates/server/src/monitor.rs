//! Integrity monitoring in a deployment: the rules of `anpr-integrity` over the audit ledger
//! and the registers, findings stored and cases opened through the [`CaseStore`]. The HTTP
//! route (`POST /api/v1/integrity/runs`), `anpr integrity run` and the benchmark all come here.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_integrity::{Engine, IntegrityConfig, RegisterFacts, Use};
use anpr_ledger::{Event, Ledger, MAX_ENTRIES_PER_CALL};
use anpr_policy::RegisterView;
use anpr_store::{CaseStore, IntegrityRun};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a run looked at and found.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RunReport {
    /// The first ledger index looked at.
    pub from_index: u64,
    /// The last ledger index looked at (none: nothing new).
    pub to_index: Option<u64>,
    /// Uses of plate data by staff among those entries.
    pub uses: u64,
    /// Findings by rule.
    pub findings: BTreeMap<String, u64>,
    /// Cases opened by findings seen for the first time.
    pub cases_opened: u64,
    /// Findings already open that gained evidence.
    pub findings_updated: u64,
    pub seconds: f64,
}

/// Feeds ledger entries `from..to` (to the end when `to` is `None`) to the engine, with the
/// registers seen through `view`. Returns the last index read.
pub fn feed_ledger(
    engine: &mut Engine,
    view: &dyn RegisterView,
    ledger: &Ledger,
    districts: &HashMap<String, String>,
    from: u64,
    to: Option<u64>,
) -> anyhow::Result<Option<u64>> {
    let end = to.map_or(ledger.size(), |t| t.min(ledger.size()));
    let facts = RegisterFacts { view, districts };
    let mut at = from;
    let mut last = None;
    while at < end {
        let entries = ledger.entries(at, (at + MAX_ENTRIES_PER_CALL).min(end))?;
        let Some(tail) = entries.last() else { break };
        at = tail.index + 1;
        for e in &entries {
            let event = Event::decode(e.body.as_bytes())?;
            if let Some(u) = Use::from_event(e.index, &event) {
                engine.feed(&facts, &u)?;
            }
            last = Some(e.index);
        }
    }
    Ok(last)
}

/// Staff id -> district, from the user directory.
pub async fn districts(state: &AppState) -> ApiResult<HashMap<String, String>> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.staff_id, u.district))
        .collect())
}

/// Runs the rules over the ledger from `from` (default: after the previous run), stores the
/// findings (opening a case for each new one) and records the run.
pub async fn run(
    state: &AppState,
    cfg: IntegrityConfig,
    from: Option<u64>,
) -> ApiResult<(Vec<anpr_integrity::Finding>, RunReport)> {
    cfg.validate()?;
    let from = match from {
        Some(f) => f,
        None => state
            .cases
            .last_integrity_run()
            .await?
            .and_then(|r| r.to_index)
            .map_or(0, |i| i + 1),
    };
    let districts = districts(state).await?;
    let cases: Arc<dyn CaseStore> = state.cases.clone();
    let ledger = state.ledger.clone();
    let started = std::time::Instant::now();
    let (engine, last) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = Engine::new(cfg);
        let mut out: anyhow::Result<Option<u64>> = Ok(None);
        cases.with_registers(&mut |view| {
            out = feed_ledger(&mut engine, view, &ledger, &districts, from, None);
        })?;
        let last = out?;
        engine.finish();
        Ok((engine, last))
    })
    .await
    .map_err(ApiError::internal)?
    .map_err(ApiError::internal)?;
    let findings = engine.findings().to_vec();
    let stats = engine.stats();
    let now = chrono::Utc::now();
    let saved = state.cases.save_findings(findings.clone(), now).await?;
    state
        .cases
        .record_integrity_run(IntegrityRun {
            at: now,
            from_index: from,
            to_index: last,
            uses: stats.uses,
            opened: saved.opened,
            updated: saved.updated,
        })
        .await?;
    Ok((
        findings,
        RunReport {
            from_index: from,
            to_index: last,
            uses: stats.uses,
            findings: stats
                .findings
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
            cases_opened: saved.opened,
            findings_updated: saved.updated,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

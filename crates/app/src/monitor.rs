//! Integrity monitoring in a deployment: the rules of `anpr-integrity` over the audit ledger
//! and the registers, findings stored and cases opened through the [`CaseStore`]. The HTTP
//! route (`POST /api/v1/integrity/runs`), `anpr integrity run` and the benchmark all come here.

use crate::error::{AppError, AppResult};
use crate::App;
use anpr_integrity::{Engine, IntegrityConfig, RegisterFacts, Use, UseKeys};
use anpr_ledger::{EntryPage, Ledger, MAX_ENTRIES_PER_CALL};
use anpr_policy::RegisterView;
use anpr_store::{CaseStore, IntegrityRun};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

/// What a run looked at and found.
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    /// The first ledger index looked at.
    pub from_index: u64,
    /// The last ledger index looked at (none: nothing new).
    pub to_index: Option<u64>,
    /// Uses of plate data by staff among those entries.
    pub uses: u64,
    /// Findings new or changed in this run, by rule.
    pub findings: BTreeMap<String, u64>,
    /// Cases opened by findings seen for the first time.
    pub cases_opened: u64,
    /// Findings already open that gained evidence.
    pub findings_updated: u64,
    pub seconds: f64,
}

/// A page of decoded uses: the last index read, the uses, and their keys.
type DecodedPage = (u64, Vec<Use>, Vec<UseKeys>);

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
    feed_ledger_adjusted(engine, view, ledger, districts, from, to, &|_| {})
}

/// [`feed_ledger`], with each use passed through `adjust` as it is decoded. The benchmark of a
/// ledger larger than its disk holds replays one stored ledger as the later years of a longer
/// one (times, plates and indices moved on), still reading and decoding every entry.
pub fn feed_ledger_adjusted(
    engine: &mut Engine,
    view: &dyn RegisterView,
    ledger: &Ledger,
    districts: &HashMap<String, String>,
    from: u64,
    to: Option<u64>,
    adjust: &(dyn Fn(&mut Use) + Sync),
) -> anyhow::Result<Option<u64>> {
    let end = to.map_or(ledger.size(), |t| t.min(ledger.size()));
    let facts = RegisterFacts { view, districts };
    // Reading and decoding the entries, and the keys the rules derive from each use alone
    // (a second thread, a page ahead), overlaps with the rules (this thread, which holds the
    // register view): on two cores the pass takes about as long as the slower half. At most
    // two decoded pages wait in the channel, so memory stays bounded whatever the size of the
    // ledger. Pages the rules are done with go back to be dropped where they were allocated
    // (freeing on another thread is the allocator's slow path).
    let (tx, rx) = std::sync::mpsc::sync_channel::<anyhow::Result<DecodedPage>>(2);
    let (spent_tx, spent_rx) = std::sync::mpsc::channel::<DecodedPage>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut page = EntryPage::default();
            let mut at = from;
            while at < end {
                while let Ok(spent) = spent_rx.try_recv() {
                    drop(spent);
                }
                let read = (|| -> anyhow::Result<Option<DecodedPage>> {
                    ledger.entry_page(at, (at + MAX_ENTRIES_PER_CALL).min(end), &mut page)?;
                    let Some(tail) = page.last_index() else {
                        return Ok(None);
                    };
                    at = tail + 1;
                    let mut uses = Vec::with_capacity(page.len());
                    for (index, body) in page.iter() {
                        if let Some(mut u) = Use::from_entry(index, body)? {
                            adjust(&mut u);
                            uses.push(u);
                        }
                    }
                    let keys = uses.iter().map(UseKeys::of).collect();
                    Ok(Some((tail, uses, keys)))
                })();
                let stop = !matches!(read, Ok(Some(_)));
                let sent = match read {
                    Ok(None) => break,
                    Ok(Some(uses)) => tx.send(Ok(uses)),
                    Err(e) => tx.send(Err(e)),
                };
                // A closed channel: the rules stopped on an error; nothing more is wanted.
                if stop || sent.is_err() {
                    break;
                }
            }
        });
        let mut last = None;
        for page in rx {
            let (tail, uses, keys) = page?;
            // A page's file numbers are looked up in the registers in one batch.
            engine.prefetch(&facts, &uses, &keys)?;
            for (u, k) in uses.iter().zip(&keys) {
                engine.feed_keyed(&facts, u, k)?;
            }
            last = Some(tail);
            // A closed channel: the reader has finished; the page is dropped here instead.
            let _ = spent_tx.send((tail, uses, keys));
        }
        Ok(last)
    })
}

/// Staff id -> district, from the user directory.
pub async fn districts(state: &App) -> AppResult<HashMap<String, String>> {
    Ok(state
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.staff_id, u.district))
        .collect())
}

/// Runs the rules and stores what changed, opening a case for each new finding.
///
/// With `from`, a fresh pass over the entries from that index. Without, the server's engine
/// continues from the last entry it saw, holding what it learnt from the whole ledger before
/// (weeks of interest in a plate, each user's hours, their peers' volumes); the first such run
/// after a start, or after the rules' settings changed, is a full pass.
pub async fn run(
    state: &App,
    cfg: IntegrityConfig,
    from: Option<u64>,
) -> AppResult<(Vec<anpr_integrity::Finding>, RunReport)> {
    cfg.validate()?;
    let districts = districts(state).await?;
    let cases: Arc<dyn CaseStore> = state.cases.clone();
    let ledger = state.ledger.clone();
    let held = state.integrity_engine.clone();
    let started = std::time::Instant::now();
    let (changed, first, last, uses) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        // Other servers' uses count too (a ledger several servers append to).
        ledger.refresh()?;
        let mut slot = held
            .lock()
            .map_err(|_| anyhow::anyhow!("integrity engine lock poisoned"))?;
        let mut fresh = Engine::new(cfg.clone());
        let engine = match (from, slot.as_mut()) {
            (Some(_), _) => &mut fresh,
            (None, Some(e)) if *e.config() == cfg => e,
            (None, _) => slot.insert(Engine::new(cfg)),
        };
        let first = from.unwrap_or_else(|| engine.last_index().map_or(0, |i| i + 1));
        let before = engine.stats().uses;
        let mut out: anyhow::Result<Option<u64>> = Ok(None);
        cases.with_registers(&mut |view| {
            out = feed_ledger(engine, view, &ledger, &districts, first, None);
        })?;
        let last = out?;
        let changed = engine.finish();
        Ok((changed, first, last, engine.stats().uses - before))
    })
    .await
    .map_err(AppError::internal)?
    .map_err(AppError::internal)?;
    let now = chrono::Utc::now();
    let saved = state.cases.save_findings(changed.clone(), now).await?;
    state
        .cases
        .record_integrity_run(IntegrityRun {
            at: now,
            from_index: first,
            to_index: last,
            uses,
            opened: saved.opened,
            updated: saved.updated,
        })
        .await?;
    let mut by_rule: BTreeMap<String, u64> = BTreeMap::new();
    for f in &changed {
        *by_rule.entry(f.rule.as_str().to_string()).or_default() += 1;
    }
    Ok((
        changed,
        RunReport {
            from_index: first,
            to_index: last,
            uses,
            findings: by_rule,
            cases_opened: saved.opened,
            findings_updated: saved.updated,
            seconds: started.elapsed().as_secs_f64(),
        },
    ))
}

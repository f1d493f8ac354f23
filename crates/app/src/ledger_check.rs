//! The server's check of its own audit ledger: whoever holds the database can edit it while the
//! server is stopped, so a server never signs over entries it has not re-read.
//!
//! * **At start** ([`check_at_start`]), before serving: a log of at most
//!   [`LedgerCheckConfig::full_at_start`] entries is re-read whole; a longer one from its
//!   latest signed head (the node files below it are trusted once their root is that head's),
//!   and the rest is left to the sweep, which starts at once. A problem stops the start, saying
//!   which entry and why.
//! * **While serving** ([`spawn_verifier`]): the newest entries are re-read every second (the
//!   tail), and tree heads are signed only over what the tail has checked; a sweep re-reads the
//!   whole log from index 0 over and over, at most [`LedgerCheckConfig::entries_per_second`].
//!
//! A problem found while serving raises the alarm without stopping the server (the integrity
//! unit must still be able to sign in and see it): the ledger signs nothing more (it keeps the
//! problem, `Ledger::altered`), `anpr_ledger_intact` drops to
//! 0, the error is logged, every integrity officer and administrator sees a notice, and an
//! integrity case (rule `ledger_altered`) is opened.

use crate::App;
use anpr_domain::finding::{Finding, Rule, Severity};
use anpr_ledger::{Checker, Ledger, Problem};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How the ledger is checked.
#[derive(Debug, Clone)]
pub struct LedgerCheckConfig {
    /// Logs of at most this many entries are re-read whole before the server starts.
    pub full_at_start: u64,
    /// The sweep's bound: entries re-read per second, so it never competes with requests.
    pub entries_per_second: u64,
    /// Shortest time between two sweeps of a small log.
    pub sweep_pause: Duration,
}

impl Default for LedgerCheckConfig {
    fn default() -> Self {
        Self {
            full_at_start: 2_000_000,
            entries_per_second: 50_000,
            sweep_pause: Duration::from_secs(60),
        }
    }
}

/// How far the verifier's tail has re-read the ledger, for the signer. (Once a check finds a
/// problem the ledger itself signs nothing more: [`Ledger::altered`].)
#[derive(Debug, Default)]
pub struct LedgerCheckStatus {
    /// Every entry below this index was re-read and matched; heads are signed up to here.
    checked: AtomicU64,
}

impl LedgerCheckStatus {
    /// How far heads may be signed: up to the checked tail.
    pub fn signable(&self) -> u64 {
        self.checked.load(Ordering::Acquire)
    }
}

/// What the check at start did; the checker goes on from its end.
pub struct StartCheck {
    pub checker: Checker,
    /// The first index re-read (0: the whole log).
    pub from: u64,
    pub entries: u64,
    pub seconds: f64,
}

/// Entries re-read per step, between which the tail and the sweep take turns.
const STEP: u64 = 16_384;

/// Re-reads what [`LedgerCheckConfig::full_at_start`] says, or fails saying which entry is
/// wrong and what to do.
pub fn check_at_start(ledger: &Ledger, config: &LedgerCheckConfig) -> anyhow::Result<StartCheck> {
    let started = Instant::now();
    if let Some(why) = ledger.damaged() {
        // What opening noticed is not always the first entry at fault (it looks past the last
        // sync of the node files): name that entry when a re-read within bounds finds it.
        let first = first_fault(ledger, config.full_at_start)?;
        anyhow::bail!(refusal(
            &first.map_or(why.clone(), |p| format!("{p} ({why})"))
        ));
    }
    if let Some(why) = ledger.missing_heads()? {
        anyhow::bail!(refusal(&why));
    }
    let mut checker = if ledger.size() <= config.full_at_start {
        ledger.checker()?
    } else {
        ledger
            .checker_at_latest_head()?
            .map_err(|p| anyhow::anyhow!(refusal(&p.to_string())))?
    };
    let from = checker.position();
    loop {
        match ledger.check_next(&mut checker, STEP * 16)? {
            Ok(0) => break,
            Ok(_) => {}
            Err(p) => anyhow::bail!(refusal(&p.to_string())),
        }
    }
    Ok(StartCheck {
        from,
        entries: checker.position() - from,
        checker,
        seconds: started.elapsed().as_secs_f64(),
    })
}

/// The first entry at fault from index 0, re-reading at most `limit` entries.
fn first_fault(ledger: &Ledger, limit: u64) -> anyhow::Result<Option<Problem>> {
    let mut checker = ledger.checker()?;
    while checker.position() < limit {
        match ledger.check_next(&mut checker, STEP * 16)? {
            Ok(0) => break,
            Ok(_) => {}
            Err(p) => return Ok(Some(p)),
        }
    }
    Ok(None)
}

fn refusal(why: &str) -> String {
    format!(
        "the audit ledger failed its check at start, so this server will not serve or sign \
         over it: {why}. Run `anpr ledger verify` for the full report, keep a copy of the data \
         directory as evidence, and restore the ledger from a backup (see docs/operations.md)."
    )
}

/// Checks the tail every second and sweeps the whole log at the configured rate, until the
/// process ends. `tail` goes on from where the check at start stopped.
pub fn spawn_verifier(app: App, tail: Checker) -> tokio::task::JoinHandle<()> {
    app.ledger_check
        .checked
        .store(tail.position(), Ordering::Release);
    tokio::spawn(async move {
        let mut verifier = Verifier {
            tail,
            sweep: None,
            sweep_done_at: None,
        };
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tick.tick().await;
            if app.ledger.altered().is_some() {
                return;
            }
            let ledger = app.ledger.clone();
            let config = app.config.ledger_check.clone();
            let step = tokio::task::spawn_blocking(move || {
                let found = verifier.second(&ledger, &config);
                (verifier, found)
            })
            .await;
            match step {
                Ok((v, Ok(None))) => {
                    app.ledger_check
                        .checked
                        .store(v.tail.position(), Ordering::Release);
                    app.metrics
                        .ledger_checked_entries
                        .set(v.tail.position() as i64);
                    verifier = v;
                }
                Ok((_, Ok(Some(problem)))) => return raise_alarm(&app, problem).await,
                Ok((v, Err(e))) => {
                    tracing::warn!(error = %e, "the ledger check could not read the ledger");
                    verifier = v;
                }
                Err(e) => return tracing::error!(error = %e, "the ledger check panicked"),
            }
        }
    })
}

struct Verifier {
    tail: Checker,
    sweep: Option<Checker>,
    sweep_done_at: Option<Instant>,
}

impl Verifier {
    /// One second's work: the whole new tail, then the sweep's share.
    fn second(
        &mut self,
        ledger: &Ledger,
        config: &LedgerCheckConfig,
    ) -> anyhow::Result<Option<Problem>> {
        ledger.refresh()?;
        loop {
            match ledger.check_next(&mut self.tail, STEP)? {
                Ok(0) => break,
                Ok(_) => {}
                Err(p) => return Ok(Some(p)),
            }
        }
        if self
            .sweep_done_at
            .is_some_and(|at| at.elapsed() < config.sweep_pause)
        {
            return Ok(None);
        }
        let sweep = match &mut self.sweep {
            Some(s) => s,
            None => self.sweep.insert(ledger.checker()?),
        };
        match ledger.check_next(sweep, config.entries_per_second.max(1))? {
            Err(p) => Ok(Some(p)),
            Ok(_) if sweep.position() >= ledger.size() => {
                self.sweep = None;
                self.sweep_done_at = Some(Instant::now());
                Ok(None)
            }
            Ok(_) => Ok(None),
        }
    }
}

async fn raise_alarm(app: &App, problem: Problem) {
    tracing::error!(
        problem = %problem,
        "the audit ledger's stored entries differ from what was appended: tree heads are no \
         longer signed; an integrity case is opened"
    );
    app.metrics.ledger_intact.set(0);
    let now = chrono::Utc::now();
    let index = problem.index.or(problem.head_size).unwrap_or(0);
    let finding = Finding {
        rule: Rule::LedgerAltered,
        severity: Severity::Critical,
        staff_id: String::new(),
        key: format!("ledger entry {index}"),
        evidence: problem.index.into_iter().collect(),
        uses: 1,
        explanation: format!(
            "The server's check of its audit ledger found {problem}. Someone with access to \
             the ledger's storage changed it after it was written; the server has stopped \
             signing tree heads. Keep a copy of the data directory as evidence and compare it \
             with the witnesses' and monitors' saved heads."
        ),
        first_at: now,
        last_at: now,
    };
    if let Err(e) = app.cases.save_findings(vec![finding], now).await {
        tracing::error!(error = %e, "the integrity case for the altered ledger could not be saved");
    }
}

/// What an integrity officer or administrator must be told about the ledger, if anything.
pub fn notices_for(app: &App, user: &anpr_domain::User) -> Vec<String> {
    use anpr_policy::{permissions::grants, Permission};
    let concerned = grants(&user.roles, Permission::Administer)
        || grants(&user.roles, Permission::ReviewIntegrity);
    match app.ledger.altered() {
        Some(p) if concerned => vec![format!(
            "The audit ledger was altered behind the platform's back ({p}). Tree heads are no \
             longer signed. See the integrity case \"Audit ledger altered\" and keep the data \
             directory as evidence."
        )],
        _ => Vec::new(),
    }
}

/// The check's state, for `App`.
pub type SharedStatus = Arc<LedgerCheckStatus>;

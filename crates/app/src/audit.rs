//! The audit trail: every use becomes an entry of the tamper-evident ledger before its result
//! is returned, whichever entry point it came through.
//!
//! A use carries an [`AuditHandle`]: the caller's identity goes into it when they are
//! authenticated, and the operations add what only they know (the purpose, the query, a digest
//! of the read ids disclosed, the facts the integrity rules read). When the use ends, its entry
//! is appended and waited for until durable ([`AuditHandle::finish`]); only then does the result
//! leave (write-ahead). The HTTP server does this in its audit middleware; every other entry
//! point runs its uses through [`perform`]. Refused and failed uses are recorded as carefully as
//! granted ones.

use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::Purpose;
pub use anpr_ledger::Channel;
use anpr_ledger::{Action, Actor, AuditFacts, Event, Outcome, ResultDigest};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

/// The role recorded for a staff id claimed at sign-in until its password is verified.
pub const UNVERIFIED_ROLE: &str = "unauthenticated";

#[derive(Default)]
struct Slot {
    actor: Option<Actor>,
    action: Option<Action>,
    purpose: Option<Purpose>,
    query: Option<Value>,
    /// The facts oversight reads (the plate a read shows, the age of the newest sighting
    /// disclosed, the authorisation a request created, the channel), in the typed schema.
    facts: AuditFacts<'static>,
    result: Option<ResultDigest>,
    /// Set when the use was accepted but waits for another person's decision.
    pending: Option<String>,
    /// Writes started by the use that must be durable before its result leaves, running
    /// meanwhile ([`AuditHandle::alongside`]).
    alongside: Vec<tokio::task::JoinHandle<AppResult<()>>>,
}

/// What a use tells the audit trail about itself.
#[derive(Clone, Default)]
pub struct AuditHandle(Arc<Mutex<Slot>>);

impl AuditHandle {
    /// A use by `actor` through `channel`, doing `action`.
    pub fn new(channel: Channel, actor: Actor, action: Action) -> AuditHandle {
        let handle = AuditHandle::default();
        handle.actor(actor);
        handle.action(action);
        handle.facts(AuditFacts::new().channel(channel));
        handle
    }

    /// A use by signed-in member of staff `user` through `channel`: its entry names them and
    /// their district.
    pub fn for_staff(channel: Channel, user: &anpr_domain::User, action: Action) -> AuditHandle {
        let handle = AuditHandle::new(channel, crate::auth::staff_actor(user), action);
        handle.facts(AuditFacts::new().district(user.district.clone()));
        handle
    }

    fn with<T>(&self, f: impl FnOnce(&mut Slot) -> T) -> T {
        f(&mut self.0.lock().unwrap_or_else(|p| p.into_inner()))
    }
    pub fn actor(&self, actor: Actor) {
        self.with(|s| s.actor = Some(actor));
    }
    pub fn action(&self, action: Action) {
        self.with(|s| s.action = Some(action));
    }
    /// Whether the caller proved who they are (a valid session, camera key or password): a
    /// use without is anonymous, or a sign-in not (yet) verified.
    pub fn authenticated(&self) -> bool {
        self.with(|s| {
            s.actor.as_ref().is_some_and(|a| {
                a.kind != anpr_ledger::ActorKind::Anonymous && a.role != UNVERIFIED_ROLE
            })
        })
    }

    /// The action named so far, if any.
    pub fn current_action(&self) -> Option<Action> {
        self.with(|s| s.action.clone())
    }
    pub fn purpose(&self, purpose: &Purpose) {
        self.with(|s| s.purpose = Some(purpose.clone()));
    }
    pub fn query(&self, query: Value) {
        self.with(|s| s.query = Some(query));
    }
    /// Facts the integrity rules and overseers read, in the typed schema (set ones replace
    /// earlier ones). Facts about oversight only: never plate data beyond what the request
    /// itself named or was shown.
    pub fn facts(&self, facts: AuditFacts<'static>) {
        self.with(|s| s.facts.merge(facts));
    }
    /// The reads a use discloses, as a count and a hash (never the data itself).
    pub fn disclosed(&self, read_ids: &[i64]) {
        self.with(|s| s.result = Some(ResultDigest::of_ids(read_ids)));
    }
    /// The use was accepted but waits for another person's decision (`reason` says whose):
    /// recorded as `pending`, not `granted`.
    pub fn pending(&self, reason: impl Into<String>) {
        let reason = reason.into();
        self.with(|s| s.pending = Some(reason));
    }
    /// Starts `write` now, to run beside the rest of the use and its ledger append:
    /// [`AuditHandle::finish`] waits for both, and a use whose write failed returns an error
    /// instead of its result. For records that must exist before the result leaves but that
    /// nothing before the append depends on (what a search page showed): their time then
    /// overlaps the append's instead of adding to it.
    pub fn alongside(
        &self,
        write: impl std::future::Future<Output = AppResult<()>> + Send + 'static,
    ) {
        let task = tokio::spawn(write);
        self.with(|s| s.alongside.push(task));
    }

    /// The policy's refusal code, so the integrity rules can count refused attempts.
    pub fn refused_with(&self, code: &'static str) {
        self.facts(AuditFacts::new().refusal_code(code));
    }

    /// The ledger entry of the use, ended with `outcome`; `extra` are the entry point's own
    /// facts (the HTTP method, path and status).
    pub fn event(&self, mut outcome: Outcome, extra: serde_json::Map<String, Value>) -> Event {
        let slot = self.with(std::mem::take);
        if let (Some(reason), anpr_ledger::OutcomeKind::Granted) = (&slot.pending, outcome.result) {
            outcome = Outcome::pending(reason.clone());
        }
        let mut action = slot.action.unwrap_or(Action::Denied);
        if action == Action::Login && outcome.result != anpr_ledger::OutcomeKind::Granted {
            action = Action::LoginFailed;
        }
        let actor = slot.actor.unwrap_or_else(Actor::anonymous);
        if actor.kind == anpr_ledger::ActorKind::Anonymous
            && outcome.result != anpr_ledger::OutcomeKind::Granted
            && outcome.reason.is_none()
        {
            outcome.reason = Some("no valid credentials".into());
        }
        let mut query = slot.query.unwrap_or_else(|| json!({}));
        if let Value::Object(map) = &mut query {
            map.extend(extra);
        }
        let mut event = Event::new(actor, action)
            .query(query)
            .facts(slot.facts)
            .outcome(outcome);
        if let Some(p) = slot.purpose {
            event = event
                .purpose(p.code)
                .file_number(p.file_number)
                .justification(p.justification);
        }
        if let Some(r) = slot.result {
            event = event.result(r);
        }
        event
    }

    /// Ends the use: appends its entry and returns once it is durable.
    pub async fn finish(
        &self,
        app: &App,
        outcome: Outcome,
        extra: serde_json::Map<String, Value>,
    ) -> AppResult<u64> {
        let writes = self.with(|s| std::mem::take(&mut s.alongside));
        // The writes are running already: waiting for them one by one takes as long as the
        // slowest.
        let (appended, written) = tokio::join!(append(app, self.event(outcome, extra)), async {
            let mut done = Vec::with_capacity(writes.len());
            for w in writes {
                done.push(w.await);
            }
            done
        });
        let idx = appended?;
        for w in written {
            if let Err(e) = w.map_err(AppError::internal).and_then(|r| r) {
                tracing::error!(error = %e, "a record of the use could not be written");
                return Err(AppError::Unavailable(
                    "what this request showed could not be recorded, so its result is \
                     withheld; try again"
                        .into(),
                ));
            }
        }
        Ok(idx)
    }
}

/// The ledger outcome of a use that ended in `error`.
pub fn outcome_of(error: &AppError) -> Outcome {
    match error {
        AppError::Internal(_) | AppError::StorageFull(_) | AppError::Unavailable(_) => {
            Outcome::error(error.to_string())
        }
        _ => Outcome::refused(error.to_string()),
    }
}

/// Runs one use from an entry point other than the HTTP API: `op` runs, its entry is appended
/// and durable, and only then is its result (or its refusal) returned. If the ledger cannot
/// record the use, its result is withheld.
pub async fn perform<T>(
    app: &App,
    audit: &AuditHandle,
    op: impl std::future::Future<Output = AppResult<T>>,
) -> AppResult<T> {
    let result = op.await;
    let outcome = match &result {
        Ok(_) => Outcome::granted(),
        Err(e) => {
            if let Some(kind) = e.refusal() {
                audit.refused_with(kind.as_str());
            }
            outcome_of(e)
        }
    };
    audit.finish(app, outcome, Default::default()).await?;
    result
}

/// Appends one event and returns its index once it is durable.
pub async fn append(app: &App, event: Event) -> AppResult<u64> {
    let ledger = app.ledger.clone();
    let started = std::time::Instant::now();
    let idx = tokio::task::spawn_blocking(move || ledger.append(&[event])).await??;
    app.metrics
        .time_stage(crate::metrics::Stage::LedgerAppend, started);
    Ok(idx[0])
}

/// Signs a tree head over the checked entries whenever more arrived and the interval passed,
/// until the process ends.
pub fn spawn_signer(app: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        let mut leadership =
            crate::leadership::Leadership::new(anpr_store::BackgroundTask::TreeHeads);
        loop {
            tick.tick().await;
            if !leadership.holds(&app).await {
                continue;
            }
            let (ledger, checked) = (app.ledger.clone(), app.ledger_check.signable());
            let signed = tokio::task::spawn_blocking(move || {
                ledger.maybe_sign_checked(chrono::Utc::now(), checked)
            })
            .await;
            match signed {
                Ok(Ok(Some(head))) => tracing::debug!(size = head.size, "signed tree head"),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "signing a tree head failed"),
                Err(e) => tracing::error!(error = %e, "tree-head signer panicked"),
            }
        }
    })
}

//! The one place in the request path where access decisions are made.
//!
//! Every search, read or image view, tracking or look-back request, approval, listing and
//! register import that touches what the policy governs comes through here: the request's
//! register facts are gathered (a handful of indexed lookups), `anpr-policy` decides, the
//! decision is recorded through the one [`DecisionRecorder`](anpr_policy::DecisionRecorder)
//! before anything is returned, and only then is the store asked for data — narrowed as the
//! grant says (permitted networks, time range, excluded plates).

use crate::error::{AppError, AppResult};
use crate::metrics::Stage;
use crate::App;
use anpr_domain::{PlateRead, Purpose, ReadId, RequestContext, SearchQuery, User};
use anpr_policy::access::{DataAction, DataGrant, DataRequest, LegalHoldRequest, Target};
use anpr_policy::registers::AccessFacts;
use anpr_policy::tracking::{LookbackRequest, Review, ReviewKind, TrackingRequest};
use anpr_policy::{
    AuthStatus, Authorisation, AuthorisationKind, Decision, DisclosedBy, Disclosure, Evaluation,
    FactsQuery, Permission, RefusalKind, ReviewCase, SightingsGrant, SightingsRequest, Subject,
};
use anpr_store::{
    AuthorisationFilter, DecisionFacts, FactsRequest, ImportReport, ImportSource, RateWindows,
    RegisterBatch, StoreError,
};
use chrono::{DateTime, Utc};

/// What a request is allowed, and the record of the decision.
#[derive(Debug)]
pub struct Access {
    pub ctx: RequestContext,
    pub grant: DataGrant,
    pub decision: Decision,
}

fn context(subject: &Subject, purpose: Option<Purpose>) -> RequestContext {
    RequestContext {
        actor: subject.actor(),
        purpose,
        request_id: new_request_id(),
        at: Utc::now(),
    }
}

/// The register facts of a decision, with the camera networks' own controls as they are now
/// (fresh from the store's version: a change made through any process holds for the next
/// decision): every decision that reaches network data comes through here, so every entry
/// point obeys the networks' controls. With `windows`, the user's allowed accesses in the
/// rate limits' windows too, counted from the decision log (so the limits hold across server
/// processes and the command line). One store round trip.
async fn facts(
    state: &App,
    q: &FactsQuery<'_>,
    windows: Option<RateWindows>,
) -> AppResult<AccessFacts> {
    let started = std::time::Instant::now();
    let DecisionFacts {
        mut facts,
        controls_version,
    } = state
        .store
        .decision_facts(FactsRequest::from_query(q), windows)
        .await?;
    let controls = state
        .network_controls
        .at_version(state.store.as_ref(), controls_version)
        .await?;
    facts.controls = controls.as_ref().clone();
    state.metrics.time_stage(Stage::Facts, started);
    Ok(facts)
}

/// The register facts of a data access, with the user's recent accesses for the rate limits.
async fn data_access_facts(state: &App, req: &DataRequest<'_>) -> AppResult<AccessFacts> {
    let purpose = req.purpose.map_or("", |p| p.code.trim());
    let (since_any, since_purpose) = state.policy.rate_windows(purpose, req.now);
    let windows = RateWindows {
        purpose: purpose.to_string(),
        since_any,
        since_purpose,
    };
    facts(state, &req.facts_query(), Some(windows)).await
}

/// Records the decision (on the blocking pool: the recorder writes durably), then opens the
/// result. A decision that cannot be recorded fails the request.
pub(crate) async fn enforce<T: Send + 'static>(
    state: &App,
    eval: Evaluation<T>,
) -> AppResult<(T, Decision)> {
    let recorder = state.recorder.clone();
    let refused = eval.peek().is_err();
    let started = std::time::Instant::now();
    let out = tokio::task::spawn_blocking(move || anpr_policy::enforce(recorder.as_ref(), eval))
        .await
        .map_err(AppError::internal)?;
    state.metrics.time_stage(Stage::DecisionRecord, started);
    if refused {
        state.metrics.policy_refusals.inc();
    }
    Ok(out?)
}

async fn record(state: &App, d: Decision) -> AppResult<()> {
    let recorder = state.recorder.clone();
    tokio::task::spawn_blocking(move || recorder.record(&d))
        .await
        .map_err(AppError::internal)??;
    Ok(())
}

/// Decides a historical search and narrows `query` to what the grant allows. A training
/// plate's grant says so (`grant.training`): the caller answers with synthetic sightings and
/// must not search the store.
pub async fn authorise_search(
    state: &App,
    user: &User,
    query: &mut SearchQuery,
    purpose: Option<Purpose>,
) -> AppResult<Access> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, purpose);
    let req = DataRequest {
        subject: &subject,
        action: DataAction::Search,
        purpose: ctx.purpose.as_ref(),
        target: Target::Pattern(&query.plate),
        time: query.time,
        network_ids: &query.network_ids,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = data_access_facts(state, &req).await?;
    let eval = state.policy.evaluate_data_access(&req, &facts);
    let (grant, decision) = match enforce(state, eval).await {
        Ok(granted) => granted,
        Err(e) => return Err(with_first_run_hint(state, e).await),
    };
    query.network_ids = grant.networks.clone();
    query.time = grant.time;
    query.exclude_plates = grant.exclude_plates.clone();
    query.network_floors = grant.network_floors.clone();
    Ok(Access {
        ctx,
        grant,
        decision,
    })
}

/// What a new deployment lacks before anyone can search, said with the refusal that a missing
/// staff-register row or incident file brings: on a fresh deployment those registers are
/// empty, and the refusal alone ("not in the staff register") does not tell a first user, or
/// the administrator setting up, that both must be loaded.
pub const FIRST_RUN_HINT: &str = "before anyone can search, each user needs a row in the \
    staff register and an open file in the incident register to search under; an \
    administrator loads both (`anpr registers import staff FILE` and `anpr registers import \
    incidents FILE`, see docs/access-control.md)";

async fn with_first_run_hint(state: &App, e: AppError) -> AppError {
    let AppError::Refused {
        kind: kind @ (RefusalKind::NotInStaffRegister | RefusalKind::UnknownFileNumber),
        field,
        message,
    } = e
    else {
        return e;
    };
    let (register, name) = match kind {
        RefusalKind::NotInStaffRegister => (anpr_store::RegisterKind::Staff, "staff"),
        _ => (anpr_store::RegisterKind::Incidents, "incident"),
    };
    // Only an empty register is a deployment not yet set up; otherwise the refusal's own
    // advice (ask to be added, check the number) is the right one.
    let message = match state.store.register_count(register).await {
        Ok(0) => format!("{message}. This deployment's {name} register is empty: {FIRST_RUN_HINT}"),
        _ => message,
    };
    AppError::Refused {
        kind,
        field,
        message,
    }
}

/// Decides a view of one read (or its image) and returns the read only if allowed. The read's
/// metadata is fetched to decide on its plate, time and network, and when it was shown to the
/// user (its disclosures: only a read a search page or an alert showed them, under the same
/// purpose and file, may be opened by id); nothing leaves before the decision is recorded, and
/// every read the user may not open, an unknown id included, gets the same refusal.
pub async fn authorise_read(
    state: &App,
    user: &User,
    read_id: ReadId,
    action: DataAction,
    purpose: Option<Purpose>,
    audit: Option<&crate::audit::AuditHandle>,
) -> AppResult<(Access, PlateRead)> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, purpose);
    let read = state.store.read(read_id).await?;
    // The audit entry names the plate the read shows, refused or not (as a search names the
    // plate searched), so the integrity rules can see a view of one's own vehicle.
    // It names the read's network too (the network's own record of use is read from these
    // entries), and the reads it disclosed there once allowed.
    if let (Some(audit), Some(r)) = (audit, &read) {
        audit.facts(anpr_ledger::AuditFacts::new().plate(r.plate.as_str().to_string()));
        audit.facts(crate::network_uses::reach_facts(
            &user.district,
            &[r.network_id],
            [],
        ));
    }
    let target = match &read {
        Some(r) => Target::Read {
            read_id,
            plate: r.plate.as_str(),
            captured_at: r.captured_at,
            network_id: r.network_id,
        },
        None => Target::MissingRead(read_id),
    };
    let req = DataRequest {
        subject: &subject,
        action,
        purpose: ctx.purpose.as_ref(),
        target,
        time: Default::default(),
        network_ids: &[],
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let mut facts = data_access_facts(state, &req).await?;
    // When the read was shown to this user (a search page, an alert): only such a read may be
    // opened by id.
    if read.is_some() {
        let since = ctx.at - chrono::Duration::hours(state.policy.config().disclosure_window_hours);
        facts.disclosures = state.store.disclosures(user.id, read_id, since).await?;
    }
    let eval = state.policy.evaluate_data_access(&req, &facts);
    let (grant, decision) = enforce(state, eval).await?;
    let read = read.ok_or_else(|| AppError::NotFound(format!("read {read_id}")))?;
    if let Some(audit) = audit {
        audit.facts(crate::network_uses::reach_facts(
            &user.district,
            &[read.network_id],
            [read.network_id],
        ));
    }
    Ok((
        Access {
            ctx,
            grant,
            decision,
        },
        read,
    ))
}

/// Records that the reads `read_ids` were shown to `user_id` under `purpose` (a search page,
/// alerts delivered), so that they may open them by id within the policy's window. One
/// batched write; training sightings (negative ids) are never real reads and are skipped.
pub async fn record_shown(
    state: &App,
    user_id: anpr_domain::UserId,
    purpose: &Purpose,
    read_ids: &[ReadId],
    by: DisclosedBy,
    at: DateTime<Utc>,
) -> AppResult<()> {
    let shown: Vec<Disclosure> = read_ids
        .iter()
        .filter(|id| **id > 0)
        .map(|id| Disclosure {
            user_id,
            read_id: *id,
            purpose_code: purpose.code.trim().to_string(),
            file_number: purpose.file_number.trim().to_string(),
            at,
            by,
        })
        .collect();
    if shown.is_empty() {
        return Ok(());
    }
    let started = std::time::Instant::now();
    state.store.record_disclosures(shown).await?;
    state.metrics.time_stage(Stage::Disclosures, started);
    Ok(())
}

/// Decides a legal hold on read `read_id` (or its release) and records the decision before
/// the hold is changed. Returns the decision; the caller changes the hold.
pub async fn authorise_legal_hold(
    state: &App,
    user: &User,
    read_id: ReadId,
    hold: bool,
    reason: &str,
    purpose: Option<Purpose>,
) -> AppResult<Decision> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, purpose);
    let read = state.store.read(read_id).await?;
    let target = match &read {
        Some(r) => Target::Read {
            read_id,
            plate: r.plate.as_str(),
            captured_at: r.captured_at,
            network_id: r.network_id,
        },
        None => Target::MissingRead(read_id),
    };
    let req = LegalHoldRequest {
        subject: &subject,
        purpose: ctx.purpose.as_ref(),
        target,
        hold,
        reason,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = facts(state, &req.facts_query(), None).await?;
    let eval = state.policy.evaluate_legal_hold(&req, &facts);
    Ok(enforce(state, eval).await?.1)
}

/// Open integrity-queue cases at most this many per requester are looked at for a reason.
const CASES_LOOKED_AT: u32 = 200;

/// Decides who sees the sightings of tracking authorisation `a` (which the user may see): its
/// requester and district supervisors the path, under its purpose; an overseer how many, or
/// the path while an integrity case about its requester is theirs to work.
pub async fn authorise_sightings(
    state: &App,
    user: &User,
    a: &Authorisation,
) -> AppResult<(SightingsGrant, Decision)> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let cases =
        if subject.has(Permission::ReviewIntegrity) && subject.has(Permission::ViewAllActivity) {
            use anpr_domain::review::{CaseQueue, CaseStatus};
            state
                .cases
                .cases(anpr_store::CaseFilter {
                    queue: Some(CaseQueue::Integrity),
                    statuses: CaseStatus::ALL
                        .into_iter()
                        .filter(|s| *s != CaseStatus::Closed)
                        .collect(),
                    staff_id: Some(a.requester_staff_id.clone()),
                    limit: CASES_LOOKED_AT,
                    ..Default::default()
                })
                .await?
                .into_iter()
                .map(|c| ReviewCase {
                    id: c.id,
                    staff_id: c.staff_id,
                    rule: c.finding.finding.rule.as_str().to_string(),
                    integrity_queue: c.queue == CaseQueue::Integrity,
                    open: c.status != CaseStatus::Closed,
                    assigned_to: c.assigned_to,
                })
                .collect()
        } else {
            Vec::new()
        };
    let req = SightingsRequest {
        subject: &subject,
        authorisation: a,
        cases: &cases,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let eval = state.policy.evaluate_sightings(&req);
    enforce(state, eval).await
}

/// Decides a subject access request about `plate` (privacy officers and admins) and records
/// the decision before any of the plate's data is read. The facts: the requester's own register
/// entries (the vehicles connected to them) and how many requests they had answered in the
/// policy's window, counted from the recorded decisions (so the limit holds across server
/// processes and the command line).
pub async fn authorise_subject_access(
    state: &App,
    user: &User,
    plate: &anpr_domain::NormalisedPlate,
    reference: Option<&str>,
    identity: Option<&anpr_policy::IdentityCheck>,
) -> AppResult<anpr_policy::SubjectAccessGrant> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let answered_recently = state
        .store
        .allowed_decisions_since(
            subject.user_id,
            anpr_policy::DecisionAction::SubjectAccess,
            state.policy.subject_access_window_start(ctx.at),
        )
        .await?;
    let req = anpr_policy::SubjectAccessRequest {
        subject: &subject,
        plate: plate.as_str(),
        reference,
        identity,
        answered_recently,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = facts(state, &req.facts_query(), None).await?;
    let eval = state.policy.evaluate_subject_access(&req, &facts);
    Ok(enforce(state, eval).await?.0)
}

/// Applies the change the platform makes by itself (expiry, lapse, emergency not approved in
/// time, stolen report cancelled), storing it and recording its decision.
pub async fn settle(state: &App, a: Authorisation) -> AppResult<Authorisation> {
    settle_at(state, a, Utc::now()).await
}

async fn settle_at(state: &App, a: Authorisation, now: DateTime<Utc>) -> AppResult<Authorisation> {
    if !a.status.is_open() {
        return Ok(a);
    }
    let stolen = match a.stolen_entry_id {
        Some(id) => state.store.stolen_entry(id).await?,
        None => None,
    };
    let Some((status, reason)) = a.due_transition(now, stolen.as_ref(), state.policy.config())
    else {
        return Ok(a);
    };
    let mut ended = a.clone();
    ended.end(status, reason, now);
    match state
        .store
        .update_authorisation(ended.clone(), a.status)
        .await
    {
        Ok(()) => {
            // Stop the watch first: an ended authorisation never alerts again.
            state.watches.remove(ended.id);
            record_end(state, &ended, now).await?;
            Ok(ended)
        }
        // Someone else changed it meanwhile: theirs is the current state.
        Err(StoreError::Conflict(_)) => {
            let current = state
                .store
                .authorisation(a.id)
                .await?
                .ok_or_else(|| AppError::NotFound(format!("authorisation {}", a.id)))?;
            crate::realtime::sync_watch(state, &current).await?;
            Ok(current)
        }
        Err(e) => Err(e.into()),
    }
}

/// Records an end the platform made (expiry, lapse, emergency not approved, stolen report
/// cancelled): its decision, and a ledger entry by the platform itself, so that every end is a
/// use an overseer sees.
async fn record_end(state: &App, ended: &Authorisation, now: DateTime<Utc>) -> AppResult<()> {
    record(state, state.policy.end_decision(ended, now)).await?;
    let action = match ended.kind {
        AuthorisationKind::Tracking => anpr_ledger::Action::TrackingEnd,
        AuthorisationKind::Lookback => anpr_ledger::Action::LookbackEnd,
    };
    let mut facts = anpr_ledger::AuditFacts::new()
        .channel(anpr_ledger::Channel::System)
        .authorisation_id(ended.id);
    if let Some(reason) = &ended.end_reason {
        facts = facts.end_reason(reason.clone());
    }
    let event = anpr_ledger::Event::new(anpr_ledger::Actor::system(), action)
        .at(now)
        .facts(facts);
    crate::audit::append(state, event).await?;
    Ok(())
}

/// Ends every authorisation that is due to end; run periodically by the server.
pub async fn sweep(state: &App) -> AppResult<usize> {
    let open = state
        .store
        .authorisations(AuthorisationFilter {
            statuses: vec![AuthStatus::Pending, AuthStatus::Active],
            limit: Some(5000),
            ..Default::default()
        })
        .await?;
    let mut ended = 0;
    for a in open {
        if !settle(state, a).await?.status.is_open() {
            ended += 1;
        }
    }
    Ok(ended)
}

/// Stores a newly granted authorisation, then records its decision (with its id); if the
/// decision cannot be recorded the authorisation is stopped and the request fails.
async fn store_new(state: &App, mut eval: Evaluation<Authorisation>) -> AppResult<Authorisation> {
    let granted = match eval.peek() {
        Ok(a) => a.clone(),
        // Refused: record the refusal and return it.
        Err(_) => return enforce(state, eval).await.map(|(a, _)| a),
    };
    let stored = state.store.create_authorisation(granted).await?;
    eval.decision.authorisation_id = Some(stored.id);
    if let Err(e) = enforce(state, eval).await {
        let mut stopped = stored.clone();
        stopped.end(
            AuthStatus::Stopped,
            "its decision could not be recorded".into(),
            Utc::now(),
        );
        let _ = state
            .store
            .update_authorisation(stopped, stored.status)
            .await;
        return Err(e);
    }
    crate::realtime::sync_watch(state, &stored).await?;
    Ok(stored)
}

/// What a tracking request asks for.
#[derive(Debug, Clone)]
pub struct TrackingAsk {
    pub plate: String,
    pub purpose: Option<Purpose>,
    pub emergency: bool,
    /// Also alert on OCR-confusable reads of the plate.
    pub fuzzy: bool,
    pub duration_minutes: Option<u32>,
    pub renews: Option<i64>,
}

/// Decides a real-time tracking request: refused, started at once, or waiting for a
/// supervisor.
pub async fn request_tracking(
    state: &App,
    user: &User,
    ask: TrackingAsk,
) -> AppResult<Authorisation> {
    let subject = Subject::from_user(user);
    let plate = anpr_domain::NormalisedPlate::parse(&ask.plate)?;
    let renews = match ask.renews {
        Some(id) => Some(
            state
                .store
                .authorisation(id)
                .await?
                .ok_or_else(|| AppError::invalid("renews", format!("no authorisation {id}")))?,
        ),
        None => None,
    };
    let ctx = context(&subject, ask.purpose);
    let req = TrackingRequest {
        subject: &subject,
        plate: plate.as_str(),
        purpose: ctx.purpose.as_ref(),
        emergency: ask.emergency,
        fuzzy: ask.fuzzy,
        duration_minutes: ask.duration_minutes,
        renews: renews.as_ref(),
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = facts(state, &req.facts_query(), None).await?;
    let eval = state.policy.evaluate_tracking_request(&req, &facts);
    store_new(state, eval).await
}

/// Decides a request to search one plate further back than the routine window.
pub async fn request_lookback(
    state: &App,
    user: &User,
    plate: &str,
    from: DateTime<Utc>,
    purpose: Option<Purpose>,
) -> AppResult<Authorisation> {
    let subject = Subject::from_user(user);
    let plate = anpr_domain::NormalisedPlate::parse(plate)?;
    let ctx = context(&subject, purpose);
    let req = LookbackRequest {
        subject: &subject,
        plate: plate.as_str(),
        purpose: ctx.purpose.as_ref(),
        from,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = facts(state, &req.facts_query(), None).await?;
    let eval = state.policy.evaluate_lookback_request(&req, &facts);
    store_new(state, eval).await
}

/// An approval, refusal or revocation of authorisation `id` of `kind`.
pub async fn review(
    state: &App,
    user: &User,
    kind: AuthorisationKind,
    id: i64,
    review: ReviewKind,
    reason: &str,
) -> AppResult<Authorisation> {
    let subject = Subject::from_user(user);
    let current = state
        .store
        .authorisation(id)
        .await?
        .filter(|a| a.kind == kind)
        .ok_or_else(|| AppError::NotFound(format!("{} authorisation {id}", kind.as_str())))?;
    let current = settle(state, current).await?;
    let ctx = context(&subject, None);
    let r = Review {
        subject: &subject,
        kind: review,
        authorisation: &current,
        reason,
        request_id: &ctx.request_id,
        now: ctx.at,
    };
    let facts = facts(state, &r.facts_query(), None).await?;
    let eval = state.policy.evaluate_review(&r, &facts);
    let (updated, _) = enforce(state, eval).await?;
    state
        .store
        .update_authorisation(updated.clone(), current.status)
        .await?;
    crate::realtime::sync_watch(state, &updated).await?;
    Ok(updated)
}

/// Which authorisations of `kind` the user may see (settled to now), optionally only those
/// waiting for their decision (the supervisor's approval queue).
pub async fn list_authorisations(
    state: &App,
    user: &User,
    kind: AuthorisationKind,
    queue: bool,
    statuses: Vec<AuthStatus>,
) -> AppResult<Vec<Authorisation>> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let eval = state
        .policy
        .evaluate_listing(&subject, &ctx.request_id, ctx.at);
    let (visibility, _) = enforce(state, eval).await?;
    let base = AuthorisationFilter {
        kind: Some(kind),
        statuses: if queue {
            vec![AuthStatus::Pending, AuthStatus::Active]
        } else {
            statuses
        },
        ..Default::default()
    };
    let mut filters = Vec::new();
    if visibility.all && !queue {
        filters.push(base.clone());
    } else {
        for d in &visibility.districts {
            filters.push(AuthorisationFilter {
                district: Some(d.clone()),
                ..base.clone()
            });
        }
        if !queue {
            if let Some(u) = visibility.own {
                filters.push(AuthorisationFilter {
                    requester: Some(u),
                    ..base.clone()
                });
            }
        }
    }
    let mut out: Vec<Authorisation> = Vec::new();
    for f in filters {
        for a in state.store.authorisations(f).await? {
            if !out.iter().any(|b| b.id == a.id) {
                out.push(settle(state, a).await?);
            }
        }
    }
    out.retain(|a| visibility.sees(a));
    if queue {
        // Waiting for a decision of the user's district, and not their own: the approval queue,
        // in the order to decide it.
        out.retain(|a| anpr_policy::tracking::in_approval_queue(&subject, a));
        out.sort_by_key(queue_order);
    } else {
        out.sort_by_key(|a| std::cmp::Reverse(a.id));
    }
    Ok(out)
}

/// The order of the approval queue: emergencies that already run first, the nearest approval
/// deadline first (one stops when its deadline passes unapproved); then the other requests,
/// the longest waiting first.
fn queue_order(a: &Authorisation) -> (bool, Option<DateTime<Utc>>, DateTime<Utc>, i64) {
    (
        a.approval_deadline.is_none(),
        a.approval_deadline,
        a.requested_at,
        a.id,
    )
}

/// An authorisation as the people who review it read it in a listing: who asked, by name;
/// the type of the incident file it states; and why it waits, worded for the reviewer.
#[derive(Debug, Clone)]
pub struct ReviewedAuthorisation {
    pub authorisation: Authorisation,
    /// The requester's name from the user directory (absent for an account since removed).
    pub requester_name: Option<String>,
    /// The incident type of the file it states, from the incident register (absent when
    /// not looked up, or the file is not in the register).
    pub incident_type: Option<String>,
    /// `approval_reasons` as the reviewer reads them (`anpr_policy::tracking::reasons_for_reviewer`).
    pub reasons_for_reviewer: Vec<String>,
}

/// [`list_authorisations`], each with what its reviewer needs to read it: the requester's name
/// and, for the approval queue, the incident file's type. The names and files are of
/// authorisations the listing's decision (recorded by `list_authorisations`) already lets the
/// user see.
pub async fn list_for_review(
    state: &App,
    user: &User,
    kind: AuthorisationKind,
    queue: bool,
    statuses: Vec<AuthStatus>,
) -> AppResult<Vec<ReviewedAuthorisation>> {
    let list = list_authorisations(state, user, kind, queue, statuses).await?;
    let names = crate::accounts::names_by_staff_id(state).await?;
    let mut out = Vec::with_capacity(list.len());
    for a in list {
        // The queue is short and each file one indexed lookup; a whole district's listing
        // goes without the types.
        let incident_type = if queue {
            let facts = state
                .store
                .access_facts(FactsRequest {
                    staff_id: a.requester_staff_id.clone(),
                    user_id: a.requester_user_id,
                    file_number: Some(a.file_number.clone()),
                    ..Default::default()
                })
                .await?;
            facts.incident.map(|i| i.incident_type)
        } else {
            None
        };
        let requester_name = names.get(&a.requester_staff_id).cloned();
        let requester = match &requester_name {
            Some(name) => format!("{} ({name})", a.requester_staff_id),
            None => a.requester_staff_id.clone(),
        };
        out.push(ReviewedAuthorisation {
            reasons_for_reviewer: anpr_policy::tracking::reasons_for_reviewer(
                &a.approval_reasons,
                &requester,
            ),
            authorisation: a,
            requester_name,
            incident_type,
        });
    }
    Ok(out)
}

/// Which authorisations (and so which districts' activity) the user may see; the decision is
/// recorded like any listing.
pub async fn visibility(state: &App, user: &User) -> AppResult<anpr_policy::tracking::Visibility> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let eval = state
        .policy
        .evaluate_listing(&subject, &ctx.request_id, ctx.at);
    Ok(enforce(state, eval).await?.0)
}

/// The incident files the user may state (their district's open files and those assigned to
/// them), each with the purposes that fit it; the listing is decided and recorded like any look
/// into the registers.
pub async fn open_files(state: &App, user: &User) -> AppResult<Vec<anpr_policy::OpenFile>> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let eval = state
        .policy
        .evaluate_open_files(&subject, &ctx.request_id, ctx.at);
    let (grant, _) = enforce(state, eval).await?;
    let incidents = state
        .store
        .open_incidents(&grant.district, &grant.staff_id, ctx.at, grant.limit)
        .await?;
    Ok(state.policy.open_files(&grant, incidents, ctx.at))
}

/// Which alerts the user receives (their own requests', their district's as a supervisor, their
/// network's hot-list alerts as its own staff); the decision is recorded.
pub async fn alert_audience(state: &App, user: &User) -> AppResult<anpr_domain::AlertAudience> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let network = user
        .network_id
        .filter(|_| subject.has(anpr_policy::Permission::ReceiveHotListAlerts));
    let eval = state
        .policy
        .evaluate_alert_audience(&subject, network, &ctx.request_id, ctx.at);
    Ok(enforce(state, eval).await?.0)
}

/// Which integrity review cases the user sees on `view`'s side of the workflow (`case`: the
/// one asked for, if any); the decision is recorded.
pub async fn case_scope(
    state: &App,
    user: &User,
    view: anpr_policy::oversight::CaseView,
    case: Option<i64>,
) -> AppResult<anpr_policy::oversight::CaseScope> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let eval = state
        .policy
        .evaluate_case_access(&subject, view, case, &ctx.request_id, ctx.at);
    Ok(enforce(state, eval).await?.0)
}

/// One authorisation, if the user may see it.
pub async fn get_authorisation(
    state: &App,
    user: &User,
    kind: AuthorisationKind,
    id: i64,
) -> AppResult<Authorisation> {
    let subject = Subject::from_user(user);
    let ctx = context(&subject, None);
    let eval = state
        .policy
        .evaluate_listing(&subject, &ctx.request_id, ctx.at);
    let (visibility, _) = enforce(state, eval).await?;
    let a = state
        .store
        .authorisation(id)
        .await?
        .filter(|a| a.kind == kind && visibility.sees(a))
        .ok_or_else(|| AppError::NotFound(format!("{} authorisation {id}", kind.as_str())))?;
    settle(state, a).await
}

/// Loads register rows (admins only; no officer-facing path writes a register), recording the
/// end of every authorisation a cancelled stolen report stops.
pub async fn import_register(
    state: &App,
    batch: RegisterBatch,
    source: ImportSource,
) -> AppResult<ImportReport> {
    let report = state.store.import_register(batch, source).await?;
    let now = Utc::now();
    for a in &report.stopped {
        state.watches.remove(a.id);
        record_end(state, a, now).await?;
    }
    Ok(report)
}

pub fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

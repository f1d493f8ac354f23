//! Tracking and look-back authorisations: requests, the supervisor's approval queue, approval,
//! refusal, revocation. An active tracking authorisation is a watch (see `realtime`); its alerts
//! and sightings are served by `routes::alerts`.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::access::{self, TrackingAsk};
use anpr_app::AppError;
use anpr_domain::Purpose;
use anpr_ledger::Action;
use anpr_policy::tracking::ReviewKind;
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind};
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TrackingRequestBody {
    pub plate: String,
    /// Purpose code (`stolen_vehicle`, `serious_crime`, `missing_person`, `threat_to_life`),
    /// incident file number and justification.
    pub purpose: Option<Purpose>,
    /// Threat to life: start at once; stops unless a supervisor approves within the hour.
    #[serde(default)]
    pub emergency: bool,
    /// Also alert on reads that differ only by OCR-confusable characters (0/O/D/Q, 1/I/L/T,
    /// 2/Z, 5/S, 6/G, 8/B), as fuzzy search does.
    #[serde(default)]
    pub fuzzy: bool,
    /// How long (default and maximum: 48 h on a stolen-vehicle basis, 7 days otherwise).
    pub duration_minutes: Option<u32>,
    /// The authorisation this renews; a renewal always needs a fresh approval.
    pub renews: Option<i64>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LookbackRequestBody {
    pub plate: String,
    /// The earliest time to search from (older than the routine window, within the maximum).
    pub from: DateTime<Utc>,
    pub purpose: Option<Purpose>,
}

/// An authorisation in a listing, with what its reviewer needs to read it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ListedAuthorisation {
    #[serde(flatten)]
    pub authorisation: Authorisation,
    /// The requester's name.
    pub requester_name: Option<String>,
    /// The incident type of the file it states (in the approval queue, `queue=true`).
    pub incident_type: Option<String>,
    /// `approval_reasons` (worded for the requester) as the reviewer reads them: the requester
    /// named, not "you".
    pub reasons_for_reviewer: Vec<String>,
}

impl From<access::ReviewedAuthorisation> for ListedAuthorisation {
    fn from(r: access::ReviewedAuthorisation) -> Self {
        ListedAuthorisation {
            authorisation: r.authorisation,
            requester_name: r.requester_name,
            incident_type: r.incident_type,
            reasons_for_reviewer: r.reasons_for_reviewer,
        }
    }
}

async fn listed(
    state: &AppState,
    staff: &StaffAuth,
    kind: AuthorisationKind,
    p: &ListParams,
) -> ApiResult<Json<Vec<ListedAuthorisation>>> {
    let st = statuses(p)?;
    let list = access::list_for_review(state, &staff.user, kind, p.queue, st).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewBody {
    /// Why: recorded with the decision.
    pub reason: String,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct ListParams {
    /// Only those waiting for the caller's decision (the supervisor's approval queue).
    #[serde(default)]
    pub queue: bool,
    /// Only this status.
    pub status: Option<String>,
}

fn review_kind(action: &str) -> ApiResult<ReviewKind> {
    match action {
        "approve" => Ok(ReviewKind::Approve),
        "refuse" => Ok(ReviewKind::Refuse),
        "revoke" => Ok(ReviewKind::Revoke),
        _ => Err(ApiError(AppError::NotFound(format!(
            "action `{}` (approve, refuse or revoke)",
            action.chars().take(20).collect::<String>()
        )))),
    }
}

fn statuses(p: &ListParams) -> anpr_app::AppResult<Vec<AuthStatus>> {
    match &p.status {
        None => Ok(vec![]),
        Some(s) => AuthStatus::parse(s).map(|s| vec![s]).ok_or_else(|| {
            AppError::invalid(
                "status",
                "pending, active, refused, revoked, expired or stopped",
            )
        }),
    }
}

fn created(a: Authorisation) -> (StatusCode, Json<Authorisation>) {
    (StatusCode::CREATED, Json(a))
}

/// Request real-time tracking of a plate. 201 with the authorisation: `active` when its basis
/// in the registers lets it start at once, `pending` when a supervisor must approve it
/// (`approval_reasons` says why).
#[utoipa::path(post, path = "/api/v1/tracking", tag = "tracking", security(("bearer" = [])),
    request_body = TrackingRequestBody,
    responses((status = 201, body = Authorisation), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn request_tracking(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: JsonBody<TrackingRequestBody>,
) -> ApiResult<(StatusCode, Json<Authorisation>)> {
    audit.action(Action::TrackingRequest);
    let Json(b) = body?;
    audit.query(
        serde_json::json!({"plate": b.plate, "emergency": b.emergency, "fuzzy": b.fuzzy,
        "duration_minutes": b.duration_minutes, "renews": b.renews}),
    );
    if let Some(p) = &b.purpose {
        audit.purpose(p);
    }
    let ask = TrackingAsk {
        plate: b.plate,
        purpose: b.purpose,
        emergency: b.emergency,
        fuzzy: b.fuzzy,
        duration_minutes: b.duration_minutes,
        renews: b.renews,
    };
    let a = access::request_tracking(&state, &staff.user, ask).await?;
    record_authorisation(&audit, &a);
    anpr_app::network_uses::record_authorisation_reach(&state, &audit, &staff.user, &a).await?;
    Ok(created(a))
}

/// What the integrity rules need to know of a new authorisation: its id (renewal chains), its
/// basis and the stolen report it rests on.
fn record_authorisation(audit: &anpr_app::audit::AuditHandle, a: &Authorisation) {
    let mut facts = anpr_ledger::AuditFacts::new()
        .authorisation_id(a.id)
        .basis(a.basis.as_str());
    if let Some(id) = a.stolen_entry_id {
        facts = facts.stolen_entry_id(id);
    }
    audit.facts(facts);
    if a.status == anpr_policy::AuthStatus::Pending {
        audit.pending("waits for a supervisor's approval");
    }
}

/// Tracking authorisations the caller may see: supervisors their district's (`queue=true`:
/// those waiting for their decision), trackers their own, overseers all.
#[utoipa::path(get, path = "/api/v1/tracking", tag = "tracking", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = Vec<ListedAuthorisation>), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_tracking(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Vec<ListedAuthorisation>>> {
    audit.action(Action::AuthorisationList);
    listed(&state, &staff, AuthorisationKind::Tracking, &p).await
}

/// One tracking authorisation.
#[utoipa::path(get, path = "/api/v1/tracking/{id}", tag = "tracking", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = Authorisation), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_tracking(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<i64>,
) -> ApiResult<Json<Authorisation>> {
    audit.action(Action::AuthorisationView);
    Ok(Json(
        access::get_authorisation(&state, &staff.user, AuthorisationKind::Tracking, id).await?,
    ))
}

/// Approve, refuse or revoke a tracking authorisation (`{action}`: `approve`, `refuse`,
/// `revoke`). Approval and refusal: a supervisor of the request's district who is not the
/// requester, with a reason. Revocation: the requester or such a supervisor.
#[utoipa::path(post, path = "/api/v1/tracking/{id}/{action}", tag = "tracking", security(("bearer" = [])),
    params(("id" = i64, Path), ("action" = String, Path, description = "approve, refuse or revoke")),
    request_body = ReviewBody,
    responses((status = 200, body = Authorisation), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn review_tracking(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path((id, action)): Path<(i64, String)>,
    body: JsonBody<ReviewBody>,
) -> ApiResult<Json<Authorisation>> {
    let kind = review_kind(&action)?;
    audit.action(match kind {
        ReviewKind::Approve => anpr_ledger::Action::TrackingApproval,
        ReviewKind::Refuse => anpr_ledger::Action::TrackingRefusal,
        ReviewKind::Revoke => anpr_ledger::Action::TrackingRevocation,
    });
    let Json(b) = body?;
    audit.query(serde_json::json!({"authorisation_id": id, "reason": b.reason}));
    let a = access::review(
        &state,
        &staff.user,
        AuthorisationKind::Tracking,
        id,
        kind,
        &b.reason,
    )
    .await?;
    anpr_app::network_uses::record_authorisation_reach(&state, &audit, &staff.user, &a).await?;
    Ok(Json(a))
}

/// Ask to search one plate further back than the routine window (default 60 days); a
/// supervisor of the district approves it.
#[utoipa::path(post, path = "/api/v1/lookback", tag = "tracking", security(("bearer" = [])),
    request_body = LookbackRequestBody,
    responses((status = 201, body = Authorisation), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn request_lookback(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: JsonBody<LookbackRequestBody>,
) -> ApiResult<(StatusCode, Json<Authorisation>)> {
    audit.action(Action::LookbackRequest);
    let Json(b) = body?;
    audit.query(serde_json::json!({"plate": b.plate, "from": b.from}));
    if let Some(p) = &b.purpose {
        audit.purpose(p);
    }
    let a = access::request_lookback(&state, &staff.user, &b.plate, b.from, b.purpose).await?;
    audit.facts(anpr_ledger::AuditFacts::new().authorisation_id(a.id));
    anpr_app::network_uses::record_authorisation_reach(&state, &audit, &staff.user, &a).await?;
    Ok(created(a))
}

/// Look-back authorisations the caller may see.
#[utoipa::path(get, path = "/api/v1/lookback", tag = "tracking", security(("bearer" = [])),
    params(ListParams),
    responses((status = 200, body = Vec<ListedAuthorisation>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_lookback(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Query(p): Query<ListParams>,
) -> ApiResult<Json<Vec<ListedAuthorisation>>> {
    audit.action(Action::AuthorisationList);
    listed(&state, &staff, AuthorisationKind::Lookback, &p).await
}

/// Approve, refuse or revoke a look-back authorisation.
#[utoipa::path(post, path = "/api/v1/lookback/{id}/{action}", tag = "tracking", security(("bearer" = [])),
    params(("id" = i64, Path), ("action" = String, Path, description = "approve, refuse or revoke")),
    request_body = ReviewBody,
    responses((status = 200, body = Authorisation), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody)))]
pub async fn review_lookback(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path((id, action)): Path<(i64, String)>,
    body: JsonBody<ReviewBody>,
) -> ApiResult<Json<Authorisation>> {
    let kind = review_kind(&action)?;
    audit.action(match kind {
        ReviewKind::Approve => anpr_ledger::Action::LookbackApproval,
        ReviewKind::Refuse => anpr_ledger::Action::LookbackRefusal,
        ReviewKind::Revoke => anpr_ledger::Action::LookbackRevocation,
    });
    let Json(b) = body?;
    audit.query(serde_json::json!({"authorisation_id": id, "action": action, "reason": b.reason}));
    let a = access::review(
        &state,
        &staff.user,
        AuthorisationKind::Lookback,
        id,
        kind,
        &b.reason,
    )
    .await?;
    anpr_app::network_uses::record_authorisation_reach(&state, &audit, &staff.user, &a).await?;
    Ok(Json(a))
}

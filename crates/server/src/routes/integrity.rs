//! The integrity unit's review queue. Findings of the integrity rules open cases; the unit
//! (role `integrity`) lists, assigns, asks the member of staff to explain and closes them;
//! routine samples go to the supervisors of the member of staff's district instead. A member
//! of staff sees only their own cases, and only once an explanation has been asked for. Thin:
//! who sees which case is decided in `anpr_app::cases` (by the policy). Every step is a
//! request, so every step is a ledger entry (the audit middleware); the ledger keeps which case
//! and which step, never the free text.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::cases;
use anpr_app::monitor::{self, RunReport};
use anpr_app::AppError;
use anpr_integrity::review::{Case, CaseOutcome, CaseQueue, CaseStatus};
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_store::CaseFilter;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Serialize};
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// A case as its reviewers read it: with the names of the members of staff it is about and
/// assigned to.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewedCase {
    #[serde(flatten)]
    pub case: Case,
    /// The name of the member of staff the case is about.
    pub staff_name: Option<String>,
    /// The name of the reviewer it is assigned to.
    pub assigned_to_name: Option<String>,
}

impl From<cases::NamedCase> for ReviewedCase {
    fn from(n: cases::NamedCase) -> Self {
        ReviewedCase {
            case: n.case,
            staff_name: n.staff_name,
            assigned_to_name: n.assigned_to_name,
        }
    }
}

/// A case a reviewer acted on or opened, with its names.
async fn reviewed_case(state: &AppState, case: Case) -> ApiResult<Json<ReviewedCase>> {
    Ok(Json(cases::with_name(state, case).await?.into()))
}

fn audit_step(audit: &anpr_app::audit::AuditHandle, step: &str, id: i64) {
    audit.action(Action::IntegrityCaseChange);
    audit.query(json!({"case_id": id, "step": step}));
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CaseListParams {
    /// `integrity` or `supervisor` (routine samples).
    pub queue: Option<String>,
    /// Comma-separated statuses: open, assigned, explanation_requested, explained, closed.
    pub status: Option<String>,
    /// Cases about one member of staff.
    pub staff_id: Option<String>,
    /// Cases with ids below this (next page, newest first).
    pub before: Option<i64>,
    /// Page size, 1 to 1000 (default 100).
    pub limit: Option<u32>,
}

fn statuses(s: &Option<String>) -> anpr_app::AppResult<Vec<CaseStatus>> {
    s.as_deref()
        .unwrap_or("")
        .split(',')
        .map(str::trim)
        .filter(|x| !x.is_empty())
        .map(|x| {
            CaseStatus::parse(x).ok_or_else(|| {
                AppError::invalid(
                    "status",
                    "open, assigned, explanation_requested, explained or closed",
                )
            })
        })
        .collect()
}

/// Review cases, newest first: the integrity unit sees every case, a supervisor the routine
/// samples of their district.
#[utoipa::path(get, path = "/api/v1/integrity/cases", tag = "integrity", security(("bearer" = [])),
    params(CaseListParams),
    responses((status = 200, body = Vec<ReviewedCase>), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn list_cases(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Query(p): Query<CaseListParams>,
) -> ApiResult<Json<Vec<ReviewedCase>>> {
    audit.action(Action::IntegrityCaseView);
    audit.query(
        json!({"queue": p.queue, "status": p.status, "staff_id": p.staff_id, "before": p.before}),
    );
    let queue = p
        .queue
        .as_deref()
        .map(|q| {
            CaseQueue::parse(q).ok_or_else(|| AppError::invalid("queue", "integrity or supervisor"))
        })
        .transpose()?;
    let filter = CaseFilter {
        queue,
        statuses: statuses(&p.status)?,
        staff_id: p.staff_id,
        before_id: p.before,
        limit: p.limit.unwrap_or(100),
        ..Default::default()
    };
    let list = cases::list(&state, &staff.user, filter).await?;
    let named = cases::with_names(&state, list).await?;
    Ok(Json(named.into_iter().map(Into::into).collect()))
}

/// One case with its finding and evidence (ledger entry indices).
#[utoipa::path(get, path = "/api/v1/integrity/cases/{id}", tag = "integrity", security(("bearer" = [])),
    params(("id" = i64, Path)),
    responses((status = 200, body = ReviewedCase), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_case(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
) -> ApiResult<Json<ReviewedCase>> {
    audit.action(Action::IntegrityCaseView);
    audit_step(&audit, "view", id);
    reviewed_case(&state, cases::reviewed(&state, &staff.user, id).await?).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssignBody {
    /// Staff id of the reviewer taking the case.
    pub to: String,
}

/// Assign a case to a reviewer.
#[utoipa::path(post, path = "/api/v1/integrity/cases/{id}/assign", tag = "integrity", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = AssignBody,
    responses((status = 200, body = ReviewedCase), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn assign(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
    body: JsonBody<AssignBody>,
) -> ApiResult<Json<ReviewedCase>> {
    audit_step(&audit, "assign", id);
    let Json(b) = body?;
    reviewed_case(&state, cases::assign(&state, &staff.user, id, &b.to).await?).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplanationRequestBody {
    /// What the member of staff is asked to explain.
    pub question: String,
}

/// Ask the member of staff the case is about to explain.
#[utoipa::path(post, path = "/api/v1/integrity/cases/{id}/request-explanation", tag = "integrity",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = ExplanationRequestBody,
    responses((status = 200, body = ReviewedCase), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn request_explanation(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
    body: JsonBody<ExplanationRequestBody>,
) -> ApiResult<Json<ReviewedCase>> {
    audit_step(&audit, "request_explanation", id);
    let Json(b) = body?;
    let case = cases::request_explanation(&state, &staff.user, id, b.question).await?;
    reviewed_case(&state, case).await
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    pub outcome: CaseOutcome,
    /// The reviewer's reasons.
    pub note: String,
}

/// Close a case: explained, training, or misconduct referral.
#[utoipa::path(post, path = "/api/v1/integrity/cases/{id}/close", tag = "integrity", security(("bearer" = [])),
    params(("id" = i64, Path)), request_body = CloseBody,
    responses((status = 200, body = ReviewedCase), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn close(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
    body: JsonBody<CloseBody>,
) -> ApiResult<Json<ReviewedCase>> {
    audit_step(&audit, "close", id);
    let Json(b) = body?;
    audit.query(json!({"case_id": id, "step": "close", "outcome": b.outcome.as_str()}));
    let case = cases::close(&state, &staff.user, id, b.outcome, b.note).await?;
    reviewed_case(&state, case).await
}

/// The caller's own cases in which an explanation has been asked for (open investigations are
/// not disclosed before that).
#[utoipa::path(get, path = "/api/v1/integrity/my-cases", tag = "integrity", security(("bearer" = [])),
    responses((status = 200, body = Vec<Case>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn my_cases(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
) -> ApiResult<Json<Vec<Case>>> {
    audit.action(Action::IntegrityCaseView);
    Ok(Json(cases::mine(&state, &staff.user).await?))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ExplanationBody {
    pub text: String,
}

/// Answer a request for an explanation in one's own case.
#[utoipa::path(post, path = "/api/v1/integrity/my-cases/{id}/explanation", tag = "integrity",
    security(("bearer" = [])), params(("id" = i64, Path)), request_body = ExplanationBody,
    responses((status = 200, body = Case), (status = 401, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn explain(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<i64>,
    body: JsonBody<ExplanationBody>,
) -> ApiResult<Json<Case>> {
    audit_step(&audit, "explain", id);
    audit.action(Action::IntegrityExplanation);
    let Json(b) = body?;
    Ok(Json(cases::explain(&state, &staff.user, id, b.text).await?))
}

#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RunBody {
    /// A fresh pass from this ledger index (default: continue after the last entry the
    /// server's rules saw, with what they learnt before).
    pub since: Option<u64>,
}

/// Run the integrity rules over the ledger entries since the last run: new and changed
/// findings are stored, and new ones open cases.
#[utoipa::path(post, path = "/api/v1/integrity/runs", tag = "integrity", security(("bearer" = [])),
    request_body = RunBody,
    responses((status = 200, body = Object, description = "what the run read, found and opened"), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn run(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: JsonBody<RunBody>,
) -> ApiResult<Json<RunReport>> {
    audit.action(Action::IntegrityRun);
    staff.require_permission(Permission::ReviewIntegrity)?;
    let Json(b) = body?;
    audit.query(json!({"since": b.since}));
    let (_, report) = monitor::run(&state, state.config.integrity.clone(), b.since).await?;
    audit.query(json!({ "since": b.since, "to_index": report.to_index }));
    Ok(Json(report))
}

//! Reports: usage counts for overseers and supervisors, the public transparency report, and
//! subject access for privacy officers. Thin: parse, check the permission, call
//! [`crate::reports`].

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::AppError;
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_reports::{transparency, usage, Month};
use axum::extract::{Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use serde_json::json;
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Deserialize, IntoParams)]
pub struct UsageParams {
    /// Start: `YYYY-MM`, `YYYY-MM-DD` (from its first instant) or an RFC 3339 time.
    pub from: Option<String>,
    /// End: `YYYY-MM` or `YYYY-MM-DD` (up to its last instant, included) or an RFC 3339 time
    /// (excluded).
    pub to: Option<String>,
    /// `month` (default), `district`, `purpose` or `network`.
    pub by: Option<String>,
    /// `json` (default) or `csv`.
    pub format: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Format {
    Json,
    Csv,
    Html,
}

fn format(value: Option<&str>, allowed: &[(&str, Format)]) -> anpr_app::AppResult<Format> {
    let Some(v) = value else {
        return Ok(Format::Json);
    };
    allowed
        .iter()
        .find(|(name, _)| *name == v.trim())
        .map(|(_, f)| *f)
        .ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|(n, _)| *n).collect();
            AppError::BadRequest {
                field: Some("format".into()),
                message: format!("format: expected {}, got {v:?}", names.join(" or ")),
            }
        })
}

fn typed(content_type: &'static str, body: String) -> Response {
    ([(header::CONTENT_TYPE, content_type)], body).into_response()
}

/// Counts of use — searches, views, tracking requests, approvals and refusals, alerts, refused
/// attempts, own-vehicle blocks, integrity findings — per month, optionally by district,
/// purpose or network (roles auditor, supervisor, integrity, admin).
#[utoipa::path(get, path = "/api/v1/reports/usage", tag = "reports", security(("bearer" = [])),
    params(UsageParams),
    responses((status = 200, description = "the usage report: rows (period, group, one count per measure), totals and notes; CSV with format=csv"),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn usage(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Query(p): Query<UsageParams>,
) -> ApiResult<Response> {
    audit.action(Action::ReportUsage);
    audit.query(json!({ "from": p.from, "to": p.to, "by": p.by, "format": p.format }));
    staff.require_permission(Permission::ViewReports)?;
    let format = format(
        p.format.as_deref(),
        &[("json", Format::Json), ("csv", Format::Csv)],
    )?;
    let q = anpr_reports::usage::parse_query(p.from.as_deref(), p.to.as_deref(), p.by.as_deref())?;
    let report = anpr_app::reports::usage(&state, &staff.user, q).await?;
    Ok(match format {
        Format::Csv => typed("text/csv; charset=utf-8", usage::to_csv(&report)),
        _ => Json(report).into_response(),
    })
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TransparencyParams {
    /// The month reported: `YYYY-MM`.
    pub month: Option<String>,
    /// `json` (default) or `html` (one self-contained page).
    pub format: Option<String>,
}

/// The public transparency report of one month: national figures, districts where safe, 24
/// months of trend; counts below 5 suppressed; no personal data.
#[utoipa::path(get, path = "/api/v1/reports/transparency", tag = "reports", security(("bearer" = [])),
    params(TransparencyParams),
    responses((status = 200, description = "the transparency report (JSON, or HTML with format=html)"),
              (status = 400, body = crate::error::ErrorBody), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn transparency(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Query(p): Query<TransparencyParams>,
) -> ApiResult<Response> {
    audit.action(Action::ReportTransparency);
    audit.query(json!({ "month": p.month, "format": p.format }));
    staff.require_permission(Permission::ViewReports)?;
    let format = format(
        p.format.as_deref(),
        &[("json", Format::Json), ("html", Format::Html)],
    )?;
    let month = p
        .month
        .as_deref()
        .ok_or_else(|| AppError::BadRequest {
            field: Some("month".into()),
            message: "month: is required (YYYY-MM)".into(),
        })
        .and_then(|m| Ok(Month::parse("month", m)?))?;
    let report = anpr_app::reports::transparency(&state, month, chrono::Utc::now()).await?;
    Ok(match format {
        Format::Html => typed("text/html; charset=utf-8", transparency::to_html(&report)),
        _ => Json(report).into_response(),
    })
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct SubjectAccessRequest {
    /// The plate the person asked about.
    pub plate: String,
    /// The request's own reference number (required), recorded with the decision.
    pub reference: Option<String>,
    /// How the person's identity was checked before answering, and by whom (required).
    pub identity_checked: Option<anpr_policy::IdentityCheck>,
}

/// Answers a subject access request (roles privacy_officer, admin): the sightings of a plate
/// still held, with sites and times — up to the near-live window, newer ones withheld — and how
/// many police queries touched it; details of queries linked to an open incident are withheld.
/// It needs a reference and the identity check; a plate connected to the requester is refused
/// (someone else handles it); each requester answers a limited number a day. The request is
/// recorded like any access.
#[utoipa::path(post, path = "/api/v1/reports/subject-access", tag = "reports", security(("bearer" = [])),
    request_body = SubjectAccessRequest,
    responses((status = 200, description = "the subject access report: reads held, queries total, withheld and disclosed"),
              (status = 401, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn subject_access(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: Result<Json<SubjectAccessRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<anpr_reports::subject::SubjectAccessReport>> {
    audit.action(Action::SubjectAccess);
    let Json(req) = body?;
    let ask = anpr_app::reports::SubjectAccessAsk {
        plate: req.plate,
        reference: req.reference,
        identity_checked: req.identity_checked,
    };
    let report = anpr_app::reports::subject_access(&state, &staff.user, &audit, ask).await?;
    Ok(Json(report))
}

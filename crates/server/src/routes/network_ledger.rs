//! A camera network's checkable record of police use of its data: its ledger slice and its
//! signed monthly statement, for the network's own `network_auditor` only (decided in
//! `anpr_app::network_ledger`, recorded like every use).

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::AppError;
use anpr_domain::NetworkId;
use axum::extract::{Path, Query, State};
use axum::http::header;
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Deserialize;
use utoipa::IntoParams;

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct MonthParams {
    /// The month, `YYYY-MM` (UTC).
    pub month: Option<String>,
    /// `json` (default) or `html` (the statement as one self-contained page).
    pub format: Option<String>,
}

fn month(p: &MonthParams) -> Result<&str, AppError> {
    p.month.as_deref().ok_or_else(|| AppError::BadRequest {
        field: Some("month".into()),
        message: "month: is required (YYYY-MM)".into(),
    })
}

/// A network's ledger slice for a month: every ledger entry that touched the network below the
/// newest signed tree head (whose signed counter says how many there are), those of the month
/// opened to time, action, purpose, outcome, channel, district and reads disclosed, the others
/// to time and networks only; each with its salts, the other fields' commitments and an
/// inclusion proof. Check it with `anpr network verify-slice`.
#[utoipa::path(get, path = "/api/v1/networks/{id}/ledger-slice", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network"), MonthParams),
    responses((status = 200, description = "the slice: network_id, month, head (signed, with network_counts) and entries"),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn ledger_slice(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    Query(p): Query<MonthParams>,
) -> ApiResult<Json<anpr_ledger::NetworkSlice>> {
    let month = month(&p)?;
    Ok(Json(
        anpr_app::network_ledger::ledger_slice(&state, &audit, &staff.user, id, month).await?,
    ))
}

/// A network's signed monthly statement: its uses in the month by action, purpose, district and
/// outcome, and its reads disclosed, counted from its ledger slice at the signed tree head it
/// names, signed with the ledger key. Recompute it with `anpr network verify-statement`.
#[utoipa::path(get, path = "/api/v1/networks/{id}/statement", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network"), MonthParams),
    responses((status = 200, description = "the signed statement (JSON, or HTML with format=html)"),
              (status = 400, body = crate::error::ErrorBody), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn statement(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    Query(p): Query<MonthParams>,
) -> ApiResult<Response> {
    let html = match p.format.as_deref().map(str::trim) {
        None | Some("json") => false,
        Some("html") => true,
        Some(other) => {
            return Err(AppError::BadRequest {
                field: Some("format".into()),
                message: format!(
                    "format: {:?} is not one of json, html",
                    other.chars().take(32).collect::<String>()
                ),
            }
            .into())
        }
    };
    let month = month(&p)?;
    let s = anpr_app::network_ledger::statement(&state, &audit, &staff.user, id, month).await?;
    Ok(if html {
        (
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            anpr_app::network_ledger::statement_html(&s),
        )
            .into_response()
    } else {
        Json(s).into_response()
    })
}

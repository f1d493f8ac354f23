//! Operations: health, metrics, the OpenAPI document.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_ledger::Action;
use axum::extract::{FromRequestParts, State};
use axum::http::header;
use axum::http::request::Parts;
use axum::response::IntoResponse;
use axum::Json;

/// Liveness: answers without touching data, so it needs no credentials.
pub async fn health() -> Json<serde_json::Value> {
    Json(serde_json::json!({ "status": "ok" }))
}

/// Who may read metrics: the configured scrape token, or an admin or auditor session.
pub struct MetricsReader;

impl FromRequestParts<AppState> for MetricsReader {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        if let Some(expected) = &state.config.metrics_token {
            let presented = parts
                .headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "));
            if presented.is_some_and(|p| constant_time_eq(p.as_bytes(), expected.as_bytes())) {
                return Ok(MetricsReader);
            }
        }
        let staff = StaffAuth::from_request_parts(parts, state).await?;
        staff.require_permission(anpr_policy::Permission::ReadMetrics)?;
        Ok(MetricsReader)
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Prometheus metrics (text exposition format).
#[utoipa::path(get, path = "/metrics", tag = "ops", security(("bearer" = [])),
    responses((status = 200, content_type = "application/openmetrics-text", description = "Prometheus metrics (OpenMetrics text)"), (status = 401, body = crate::error::ErrorBody)))]
pub async fn metrics(
    audit: Audit,
    State(state): State<AppState>,
    _r: MetricsReader,
) -> impl IntoResponse {
    audit.action(Action::MetricsRead);
    (
        [(
            header::CONTENT_TYPE,
            "application/openmetrics-text; version=1.0.0; charset=utf-8",
        )],
        state.metrics.render(),
    )
}

pub async fn openapi() -> impl IntoResponse {
    Json(crate::openapi::document())
}

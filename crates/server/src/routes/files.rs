//! The signed-in member of staff's open incident files, for the purpose pickers of the search
//! and tracking screens: each file with the purposes that fit it, and the configured purposes.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_ledger::Action;
use anpr_policy::OpenFile;
use axum::extract::State;
use axum::Json;
use serde::Serialize;
use utoipa::ToSchema;

/// A purpose code as configured.
#[derive(Debug, Serialize, ToSchema)]
pub struct PurposeView {
    pub code: String,
    pub label: String,
    /// Whether it may justify real-time tracking.
    pub tracking: bool,
    /// Whether tracking under it may start at once, approved within the hour.
    pub emergency: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct FilesResponse {
    /// Assigned files first, then the district's, newest first.
    pub files: Vec<OpenFile>,
    /// Every purpose code, in the policy's order.
    pub purposes: Vec<PurposeView>,
}

/// Your open incident files (your district's and those assigned to you) and the purposes that
/// fit each: what a search or tracking request may state. Searchers and trackers.
#[utoipa::path(get, path = "/api/v1/files", tag = "search", security(("bearer" = [])),
    responses((status = 200, body = FilesResponse), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn open_files(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<FilesResponse>> {
    audit.action(Action::RegisterRead);
    audit.query(serde_json::json!({ "register": "incidents", "open_files": true }));
    let files = anpr_app::access::open_files(&state, &staff.user).await?;
    let purposes = state
        .policy
        .config()
        .purposes
        .iter()
        .map(|p| PurposeView {
            code: p.code.clone(),
            label: p.label.clone(),
            tracking: p.tracking.is_some(),
            emergency: p.emergency,
        })
        .collect();
    Ok(Json(FilesResponse { files, purposes }))
}

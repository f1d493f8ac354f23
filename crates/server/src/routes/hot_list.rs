//! The stolen-vehicle hot list (administrators): loaded from the stolen register, it lets a
//! camera network's own staff receive "vehicle of interest" alerts where the network's
//! agreement allows it. The alerts themselves travel on the alert stream.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_store::HotListSummary;
use axum::extract::State;
use axum::Json;

/// Load the hot list from the stolen vehicle register's active reports, replacing the list
/// loaded before. Alerts go only to the staff of networks whose agreement has
/// `hot_list_alerts` (off by default), and carry no personal data.
#[utoipa::path(post, path = "/api/v1/hot-list", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HotListSummary), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn load(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<HotListSummary>> {
    audit.action(Action::HotListLoad);
    staff.require_permission(Permission::AdministerRegisters)?;
    let summary = state.store.load_hot_list(chrono::Utc::now()).await?;
    anpr_app::realtime::load_hot_list(&state).await?;
    tracing::info!(by = %staff.user.staff_id, plates = summary.plates, "hot list loaded");
    Ok(Json(summary))
}

/// How many reports and plates the hot list holds, and when it was loaded.
#[utoipa::path(get, path = "/api/v1/hot-list", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = HotListSummary), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn summary(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<HotListSummary>> {
    audit.action(Action::HotListView);
    staff.require_permission(Permission::AdministerRegisters)?;
    Ok(Json(state.store.hot_list_summary().await?))
}

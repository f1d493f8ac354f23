//! The data owners' side of a camera network: its own sharing controls and the notices of
//! tracking watches that cover its cameras, for the network's own `network_auditor` only
//! (decided in `anpr_app::network`, recorded like every use).

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::network::ControlsChange;
use anpr_domain::NetworkId;
use anpr_policy::NetworkControls;
use anpr_store::WatchNotice;
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, Query, State};
use axum::Json;
use serde::{Deserialize, Deserializer, Serialize};
use utoipa::{IntoParams, ToSchema};

type JsonBody<T> = Result<Json<T>, JsonRejection>;

/// A field that may be absent (left as it is), `null` (cleared) or a value.
fn present<'de, D: Deserializer<'de>, T: Deserialize<'de>>(
    d: D,
) -> Result<Option<Option<T>>, D::Error> {
    Option::<T>::deserialize(d).map(Some)
}

/// A change of a network's controls: fields left out stay as they are.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ControlsRequest {
    /// `true` suspends sharing (no new search or watch reaches the network's data, within a
    /// second on every server); `false` resumes it.
    #[serde(default)]
    pub suspended: Option<bool>,
    /// Purpose codes the network does not share its data for (the whole list; `[]` shares for
    /// every purpose).
    #[serde(default)]
    pub withheld_purposes: Option<Vec<String>>,
    /// Days back the network's reads may be searched (1 to 3650); `null`: no limit of the
    /// network's own.
    #[serde(default, deserialize_with = "present")]
    #[schema(value_type = Option<u32>)]
    pub max_lookback_days: Option<Option<u32>>,
}

/// A network's own sharing controls (its network auditor).
#[utoipa::path(get, path = "/api/v1/networks/{id}/controls", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network")),
    responses((status = 200, body = NetworkControls), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn get_controls(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
) -> ApiResult<Json<NetworkControls>> {
    Ok(Json(
        anpr_app::network::controls(&state, &audit, &staff.user, id).await?,
    ))
}

/// Change a network's own sharing controls: suspend or resume sharing, the purposes it does
/// not share for, its maximum look-back. Only the network's own network auditor may; every
/// change is recorded in the ledger.
#[utoipa::path(put, path = "/api/v1/networks/{id}/controls", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network")),
    request_body = ControlsRequest,
    responses((status = 200, body = NetworkControls), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_controls(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    body: JsonBody<ControlsRequest>,
) -> ApiResult<Json<NetworkControls>> {
    let Json(req) = body?;
    let change = ControlsChange {
        suspended: req.suspended,
        withheld_purposes: req.withheld_purposes,
        max_lookback_days: req.max_lookback_days,
    };
    Ok(Json(
        anpr_app::network::set_controls(&state, &audit, &staff.user, id, change).await?,
    ))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct NoticesQuery {
    /// Only notices with ids below this one (the next page).
    pub before_id: Option<i64>,
    /// At most this many (1 to 500, default 100).
    pub limit: Option<u32>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct NoticesResponse {
    /// Newest first: when a tracking watch started to cover the network's cameras, under which
    /// purpose code, in which district. No plate, file number, justification or officer.
    pub notices: Vec<WatchNotice>,
}

/// The notices of tracking watches that started to cover a network's cameras (its network
/// auditor).
#[utoipa::path(get, path = "/api/v1/networks/{id}/watch-notices", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network"), NoticesQuery),
    responses((status = 200, body = NoticesResponse), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn watch_notices(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    Query(q): Query<NoticesQuery>,
) -> ApiResult<Json<NoticesResponse>> {
    Ok(Json(NoticesResponse {
        notices: anpr_app::network::watch_notices(
            &state,
            &audit,
            &staff.user,
            id,
            q.before_id,
            q.limit,
        )
        .await?,
    }))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct UsesQuery {
    /// The month, `YYYY-MM` (UTC); left out: every month.
    pub month: Option<String>,
}

/// The police uses that touched the network's data (its network auditor): searches that
/// reached it, views and exports of its reads, tracking watches covering its cameras and their
/// alerts, look-back requests and approvals — each with its time, purpose code, district,
/// outcome, how many of the network's reads it disclosed and a pseudonymous officer id (stable
/// within a month, unlinkable across months) — and the counts by month, purpose, district and
/// kind. Read from the audit ledger's entries. No plate, file number, justification or image;
/// uses under files still open are counted, not described.
#[utoipa::path(get, path = "/api/v1/networks/{id}/uses", tag = "networks", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network"), UsesQuery),
    responses((status = 200, body = anpr_app::network_uses::NetworkUses), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn uses(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    Query(q): Query<UsesQuery>,
) -> ApiResult<Json<anpr_app::network_uses::NetworkUses>> {
    Ok(Json(
        anpr_app::network_uses::uses(&state, &audit, &staff.user, id, q.month.as_deref()).await?,
    ))
}

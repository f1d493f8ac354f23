//! Camera networks, sites and cameras (administrators).

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_domain::{Camera, Network, Site, DEFAULT_RETENTION_DAYS};
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_store::{NewCamera, NewSite};
use axum::extract::State;
use axum::http::StatusCode;
use axum::Json;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewNetworkRequest {
    pub name: String,
    /// Days reads are kept (default 60).
    pub retention_days: Option<u32>,
}

/// Register a camera network.
#[utoipa::path(post, path = "/api/v1/networks", tag = "admin", security(("bearer" = [])),
    request_body = NewNetworkRequest,
    responses((status = 201, body = Network), (status = 403, body = crate::error::ErrorBody), (status = 409, body = crate::error::ErrorBody)))]
pub async fn create_network(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    body: JsonBody<NewNetworkRequest>,
) -> ApiResult<(StatusCode, Json<Network>)> {
    audit.action(Action::CatalogChange);
    staff.require_permission(Permission::Administer)?;
    let Json(req) = body?;
    let network = state
        .store
        .create_network(
            &req.name,
            req.retention_days.unwrap_or(DEFAULT_RETENTION_DAYS),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(network)))
}

/// Camera networks.
#[utoipa::path(get, path = "/api/v1/networks", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<Network>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_networks(
    audit: Audit,
    State(state): State<AppState>,
    _staff: StaffAuth,
) -> ApiResult<Json<Vec<Network>>> {
    audit.action(Action::CatalogRead);
    Ok(Json(state.store.networks().await?))
}

/// Register a site of a network.
#[utoipa::path(post, path = "/api/v1/sites", tag = "admin", security(("bearer" = [])),
    request_body = NewSite,
    responses((status = 201, body = Site), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn create_site(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    body: JsonBody<NewSite>,
) -> ApiResult<(StatusCode, Json<Site>)> {
    audit.action(Action::CatalogChange);
    staff.require_permission(Permission::Administer)?;
    let Json(req) = body?;
    Ok((
        StatusCode::CREATED,
        Json(state.store.create_site(req).await?),
    ))
}

/// Sites, for the map.
#[utoipa::path(get, path = "/api/v1/sites", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<Site>), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_sites(
    audit: Audit,
    State(state): State<AppState>,
    _staff: StaffAuth,
) -> ApiResult<Json<Vec<Site>>> {
    audit.action(Action::CatalogRead);
    Ok(Json(state.store.sites().await?))
}

#[derive(Serialize, ToSchema)]
pub struct NewCameraResponse {
    pub camera: Camera,
    /// The camera's API key. Shown once: only its hash is kept.
    pub api_key: String,
}

/// Register a camera; the response holds its API key, shown once.
#[utoipa::path(post, path = "/api/v1/cameras", tag = "admin", security(("bearer" = [])),
    request_body = NewCamera,
    responses((status = 201, body = NewCameraResponse), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn create_camera(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    body: JsonBody<NewCamera>,
) -> ApiResult<(StatusCode, Json<NewCameraResponse>)> {
    audit.action(Action::CatalogChange);
    staff.require_permission(Permission::Administer)?;
    let Json(req) = body?;
    let (camera, api_key) = anpr_app::catalog::provision_camera(&state, req).await?;
    Ok((
        StatusCode::CREATED,
        Json(NewCameraResponse { camera, api_key }),
    ))
}

/// Cameras (administrators).
#[utoipa::path(get, path = "/api/v1/cameras", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<Camera>), (status = 403, body = crate::error::ErrorBody)))]
pub async fn list_cameras(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<Vec<Camera>>> {
    audit.action(Action::CatalogRead);
    staff.require_permission(Permission::Administer)?;
    Ok(Json(state.store.cameras().await?))
}

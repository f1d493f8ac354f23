//! Camera networks, sites and cameras, and cameras' keys (administrators).

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::accounts::Administrator;
use anpr_domain::{Camera, CameraId, Network, NetworkId, Site, SiteId, DEFAULT_RETENTION_DAYS};
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_store::{NewCamera, NewSite};
use axum::extract::rejection::JsonRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

type JsonBody<T> = Result<Json<T>, JsonRejection>;

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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PoliceContactRequest {
    /// Whom the network's own staff call at the police about a vehicle of interest (one line:
    /// a name or desk and a phone number, at most 300 characters); null or blank clears it.
    pub police_contact: Option<String>,
}

/// Set whom a network's own staff (network operators) call at the police: shown in each
/// hot-list alert raised from then on, beside the site's address.
#[utoipa::path(put, path = "/api/v1/networks/{id}/police-contact", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the network")),
    request_body = PoliceContactRequest,
    responses((status = 200, body = Network), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_police_contact(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    Path(id): Path<NetworkId>,
    body: JsonBody<PoliceContactRequest>,
) -> ApiResult<Json<Network>> {
    let Json(req) = body?;
    let by = Administrator::Staff(&staff.user);
    Ok(Json(
        anpr_app::catalog::set_police_contact(&state, &audit, &by, id, req.police_contact).await?,
    ))
}

#[derive(Serialize, ToSchema)]
pub struct Districts {
    /// The deployment's police districts, in its configured order and spelling.
    pub districts: Vec<String>,
}

/// The deployment's police districts: the only ones a user or a site may be placed in.
#[utoipa::path(get, path = "/api/v1/districts", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Districts), (status = 401, body = crate::error::ErrorBody)))]
pub async fn list_districts(
    audit: Audit,
    State(state): State<AppState>,
    _staff: StaffAuth,
) -> ApiResult<Json<Districts>> {
    audit.action(Action::CatalogRead);
    Ok(Json(Districts {
        districts: state.config.policy.districts.clone(),
    }))
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
        Json(anpr_app::catalog::create_site(&state, req).await?),
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewCameraRequest {
    pub site_id: SiteId,
    pub name: String,
    /// The compass direction the camera faces, in whole degrees from north (0 to 359).
    pub heading_deg: Option<i64>,
}

/// Register a camera; the response holds its API key, shown once.
#[utoipa::path(post, path = "/api/v1/cameras", tag = "admin", security(("bearer" = [])),
    request_body = NewCameraRequest,
    responses((status = 201, body = NewCameraResponse), (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn create_camera(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
    body: JsonBody<NewCameraRequest>,
) -> ApiResult<(StatusCode, Json<NewCameraResponse>)> {
    audit.action(Action::CatalogChange);
    staff.require_permission(Permission::Administer)?;
    let Json(req) = body?;
    let camera = NewCamera {
        site_id: req.site_id,
        name: req.name,
        heading_deg: anpr_app::catalog::camera_heading(req.heading_deg)?,
    };
    let (camera, api_key) = anpr_app::catalog::provision_camera(&state, camera).await?;
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

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RotateKeyRequest {
    /// How long the key being replaced keeps working, in seconds (0 to 604800, a week);
    /// default 86400, a day.
    pub overlap_seconds: Option<i64>,
}

#[derive(Serialize, ToSchema)]
pub struct RotatedKeyResponse {
    pub camera_id: CameraId,
    /// The camera's new API key. Shown once: only its hash is kept.
    pub api_key: String,
    /// When the key it replaces stops working (the end of the overlap); absent when the camera
    /// had no working key.
    pub previous_key_expires_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct RevokedKeysResponse {
    pub camera_id: CameraId,
    /// How many keys were working and no longer are.
    pub revoked: u64,
}

/// Rotate a camera's API key: the response holds the new key, shown once. The key it replaces
/// keeps working for the overlap (default a day), so the camera can be re-keyed without losing
/// reads; any older key ends now.
#[utoipa::path(post, path = "/api/v1/cameras/{id}/keys", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the camera")),
    request_body(content = Option<RotateKeyRequest>, description = "optional: the overlap"),
    responses((status = 201, body = RotatedKeyResponse), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody),
              (status = 422, body = crate::error::ErrorBody)))]
pub async fn rotate_camera_key(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<CameraId>,
    body: Result<Option<Json<RotateKeyRequest>>, JsonRejection>,
) -> ApiResult<(StatusCode, Json<RotatedKeyResponse>)> {
    let overlap = body?.and_then(|Json(b)| b.overlap_seconds);
    let by = Administrator::Staff(&staff.user);
    let rotated = anpr_app::catalog::rotate_camera_key(&state, &audit, &by, id, overlap).await?;
    Ok((
        StatusCode::CREATED,
        Json(RotatedKeyResponse {
            camera_id: rotated.camera_id,
            api_key: rotated.api_key,
            previous_key_expires_at: rotated.previous_key_expires_at,
        }),
    ))
}

/// Revoke every API key of a camera: they stop working at once, on every server. The camera
/// sends nothing more until it is given a key by a rotation.
#[utoipa::path(delete, path = "/api/v1/cameras/{id}/keys", tag = "admin", security(("bearer" = [])),
    params(("id" = i64, Path, description = "the camera")),
    responses((status = 200, body = RevokedKeysResponse), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody), (status = 404, body = crate::error::ErrorBody)))]
pub async fn revoke_camera_keys(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(id): Path<CameraId>,
) -> ApiResult<Json<RevokedKeysResponse>> {
    let by = Administrator::Staff(&staff.user);
    let revoked = anpr_app::catalog::revoke_camera_keys(&state, &audit, &by, id).await?;
    Ok(Json(RevokedKeysResponse {
        camera_id: revoked.camera_id,
        revoked: revoked.revoked,
    }))
}

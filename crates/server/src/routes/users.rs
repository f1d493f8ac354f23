//! Staff accounts (administrators): list, create, change roles, disable and enable, through
//! `anpr_app::accounts` as `anpr user ...` does.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::ApiResult;
use crate::state::AppState;
use anpr_app::accounts::{self, Administrator, NewAccount};
use anpr_domain::{Role, User};
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

pub use anpr_app::accounts::MIN_PASSWORD_CHARS;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewUserRequest {
    pub staff_id: String,
    pub name: String,
    pub badge_number: Option<String>,
    pub district: String,
    pub roles: Vec<Role>,
    /// At least 12 characters; stored only as an argon2id hash.
    pub password: String,
    /// The network a `network_operator` or `network_auditor` works for (required for those
    /// roles, refused otherwise).
    #[serde(default)]
    pub network_id: Option<anpr_domain::NetworkId>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RolesBody {
    pub roles: Vec<Role>,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ActiveBody {
    /// `false` disables the account: its sessions stop working at once.
    pub active: bool,
}

/// Staff accounts.
#[utoipa::path(get, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    responses((status = 200, body = Vec<User>), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn list(
    audit: Audit,
    State(state): State<AppState>,
    staff: StaffAuth,
) -> ApiResult<Json<Vec<User>>> {
    let by = Administrator::Staff(&staff.user);
    Ok(Json(accounts::list(&state, &audit, &by).await?))
}

/// Create a staff account. Role combinations that break separation of duties are refused (422).
#[utoipa::path(post, path = "/api/v1/users", tag = "admin", security(("bearer" = [])),
    request_body = NewUserRequest,
    responses((status = 201, body = User), (status = 403, body = crate::error::ErrorBody),
              (status = 409, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn create(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    body: JsonBody<NewUserRequest>,
) -> ApiResult<(StatusCode, Json<User>)> {
    let Json(req) = body?;
    let by = Administrator::Staff(&staff.user);
    let account = NewAccount {
        staff_id: req.staff_id,
        name: req.name,
        badge_number: req.badge_number,
        district: req.district,
        roles: req.roles,
        password: req.password,
        network_id: req.network_id,
    };
    let user = accounts::create(&state, &audit, &by, account).await?;
    Ok((StatusCode::CREATED, Json(user)))
}

/// Replace a user's roles.
#[utoipa::path(put, path = "/api/v1/users/{staff_id}/roles", tag = "admin", security(("bearer" = [])),
    params(("staff_id" = String, Path)), request_body = RolesBody,
    responses((status = 200, body = User), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody), (status = 422, body = crate::error::ErrorBody)))]
pub async fn set_roles(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(staff_id): Path<String>,
    body: JsonBody<RolesBody>,
) -> ApiResult<Json<User>> {
    let Json(b) = body?;
    let by = Administrator::Staff(&staff.user);
    Ok(Json(
        accounts::set_roles(&state, &audit, &by, &staff_id, b.roles).await?,
    ))
}

/// Disable (its sessions stop at once) or enable an account.
#[utoipa::path(put, path = "/api/v1/users/{staff_id}/active", tag = "admin", security(("bearer" = [])),
    params(("staff_id" = String, Path)), request_body = ActiveBody,
    responses((status = 200, body = User), (status = 403, body = crate::error::ErrorBody),
              (status = 404, body = crate::error::ErrorBody)))]
pub async fn set_active(
    State(state): State<AppState>,
    staff: StaffAuth,
    audit: Audit,
    Path(staff_id): Path<String>,
    body: JsonBody<ActiveBody>,
) -> ApiResult<Json<User>> {
    let Json(b) = body?;
    let by = Administrator::Staff(&staff.user);
    Ok(Json(
        accounts::set_active(&state, &audit, &by, &staff_id, b.active).await?,
    ))
}

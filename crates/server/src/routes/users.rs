//! Staff accounts (administrators): list, create, change roles, disable and enable. The same
//! store calls as `anpr user ...`; separation of duties is checked by the store on every role
//! set, and nobody changes their own account here.

use crate::audit::Audit;
use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::AppError;
use anpr_domain::{Role, User};
use anpr_ledger::Action;
use anpr_policy::Permission;
use anpr_store::NewUser;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde::Deserialize;
use utoipa::ToSchema;

type JsonBody<T> = Result<Json<T>, axum::extract::rejection::JsonRejection>;

/// Shortest password accepted for a new account.
pub const MIN_PASSWORD_CHARS: usize = 12;

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
    /// The network a `network_operator` works for (required for that role, refused otherwise).
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

/// Separation of duties: nobody changes their own account.
fn not_self(staff: &StaffAuth, staff_id: &str) -> ApiResult<()> {
    use anpr_policy::oversight::{separation_of_duties, Concerned, Duty};
    let me = anpr_policy::Subject::from_user(&staff.user);
    separation_of_duties(&me, Duty::ChangeAccount, Concerned::staff(staff_id))
        .map_err(|e| ApiError(e.into()))
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
    audit.action(Action::Other("user_list".into()));
    staff.require_permission(Permission::Administer)?;
    Ok(Json(state.store.users().await?))
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
    audit.action(Action::UserChange);
    staff.require_permission(Permission::Administer)?;
    let Json(req) = body?;
    audit.query(
        serde_json::json!({"staff_id": req.staff_id, "district": req.district, "roles": req.roles}),
    );
    let field = |name: &str, value: &str, max: usize| {
        let n = value.trim().chars().count();
        if n == 0 || n > max {
            Err(AppError::invalid(name, format!("1 to {max} characters")))
        } else {
            Ok(value.trim().to_string())
        }
    };
    let staff_id = field("staff_id", &req.staff_id, 64)?;
    let name = field("name", &req.name, 200)?;
    let district = field("district", &req.district, 100)?;
    if req.roles.is_empty() {
        return Err(AppError::invalid("roles", "at least one role").into());
    }
    if req.password.chars().count() < MIN_PASSWORD_CHARS || req.password.len() > 1024 {
        return Err(ApiError(AppError::invalid(
            "password",
            format!("at least {MIN_PASSWORD_CHARS} characters"),
        )));
    }
    anpr_policy::permissions::check_role_combination(&req.roles)?;
    let password = req.password;
    let password_hash = tokio::task::spawn_blocking(move || anpr_app::auth::hash_secret(&password))
        .await
        .map_err(AppError::internal)?
        .map_err(AppError::internal)?;
    let user = state
        .store
        .create_user_by(
            NewUser {
                staff_id,
                name,
                badge_number: req.badge_number.filter(|b| !b.trim().is_empty()),
                district,
                roles: req.roles,
                password_hash,
                network_id: req.network_id,
            },
            anpr_store::ChangedBy::Staff(staff.user.staff_id.clone()),
        )
        .await?;
    tracing::info!(user = %user.staff_id, by = %staff.user.staff_id, "user created");
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
    audit.action(Action::UserChange);
    staff.require_permission(Permission::Administer)?;
    let Json(b) = body?;
    audit.query(serde_json::json!({"staff_id": staff_id, "roles": b.roles}));
    not_self(&staff, &staff_id)?;
    if b.roles.is_empty() {
        return Err(ApiError(AppError::invalid(
            "roles",
            "at least one role (or disable the account)",
        )));
    }
    let user = state
        .store
        .set_user_roles_by(
            &staff_id,
            b.roles,
            anpr_store::ChangedBy::Staff(staff.user.staff_id.clone()),
        )
        .await?;
    tracing::info!(user = %user.staff_id, by = %staff.user.staff_id, roles = ?user.roles, "roles changed");
    Ok(Json(user))
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
    audit.action(Action::UserChange);
    staff.require_permission(Permission::Administer)?;
    let Json(b) = body?;
    audit.query(serde_json::json!({"staff_id": staff_id, "active": b.active}));
    not_self(&staff, &staff_id)?;
    let user = state.store.set_user_active(&staff_id, b.active).await?;
    tracing::info!(user = %user.staff_id, by = %staff.user.staff_id, active = b.active, "account status changed");
    Ok(Json(user))
}

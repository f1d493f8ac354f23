//! Sign-in, sign-out and the current user.

use crate::audit::AuditHandle;
use crate::auth::{self, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_domain::User;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::StatusCode;
use axum::Json;
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct LoginRequest {
    pub staff_id: String,
    pub password: String,
}

#[derive(Serialize, ToSchema)]
pub struct LoginResponse {
    /// Send as `Authorization: Bearer <token>`; shown once.
    pub token: String,
    pub expires_at: DateTime<Utc>,
    pub user: User,
}

/// Sign in with a staff id and password.
#[utoipa::path(post, path = "/api/v1/auth/login", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = LoginResponse), (status = 401, body = crate::error::ErrorBody),
              (status = 429, body = crate::error::ErrorBody)))]
pub async fn login(
    State(state): State<AppState>,
    audit: AuditHandle,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<LoginResponse>> {
    let Json(req) = body?;
    let denied = || ApiError::Unauthenticated("wrong staff id or password".into());
    if req.staff_id.len() > 64 || req.password.len() > 1024 {
        return Err(denied());
    }
    audit.actor(anpr_ledger::Actor::staff(
        req.staff_id.trim(),
        "unauthenticated",
    ));
    let creds = state.store.user_credentials(req.staff_id.trim()).await?;
    let (hash, creds) = match creds {
        Some(c) => (c.password_hash.clone(), Some(c)),
        None => (auth::dummy_hash().to_string(), None),
    };
    let password = req.password.clone();
    let verified = tokio::task::spawn_blocking(move || auth::verify_secret(&password, &hash))
        .await
        .map_err(ApiError::internal)?;
    let Some(creds) = creds else {
        state.metrics.auth_failures.inc();
        return Err(denied());
    };
    let now = Utc::now();
    if creds.locked_until.is_some_and(|t| t > now) {
        return Err(ApiError::TooManyRequests(
            "account locked after repeated failed sign-ins; try again later".into(),
        ));
    }
    if !verified || !creds.user.active {
        state.metrics.auth_failures.inc();
        let lock = (creds.failed_logins + 1 >= auth::MAX_FAILED_LOGINS)
            .then(|| now + Duration::minutes(auth::LOCKOUT_MINUTES));
        state
            .store
            .record_login_attempt(creds.user.id, false, lock)
            .await?;
        return Err(denied());
    }
    state
        .store
        .record_login_attempt(creds.user.id, true, None)
        .await?;
    audit.actor(auth::staff_actor(&creds.user));
    let (token, expires_at) = auth::open_session(&state, &creds.user).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user: creds.user,
    }))
}

/// The raw bearer token, for revoking it.
pub struct BearerToken(String);

impl FromRequestParts<AppState> for BearerToken {
    type Rejection = ApiError;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> ApiResult<Self> {
        auth::session_token(parts).map(BearerToken)
    }
}

/// Sign out: the session token stops working at once.
#[utoipa::path(post, path = "/api/v1/auth/logout", tag = "auth", security(("bearer" = [])),
    responses((status = 204), (status = 401, body = crate::error::ErrorBody)))]
pub async fn logout(
    State(state): State<AppState>,
    _staff: StaffAuth,
    BearerToken(token): BearerToken,
) -> ApiResult<StatusCode> {
    state
        .store
        .revoke_session(&auth::sha256_hex(&token))
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(staff: StaffAuth) -> Json<User> {
    Json(staff.user)
}

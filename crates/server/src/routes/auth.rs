//! Sign-in, sign-out and the current user.

use crate::audit::AuditHandle;
use crate::auth::{self, StaffAuth};
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_domain::User;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
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
    let (token, expires_at, user) = sign_in(&state, &audit, req).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
    }))
}

/// Checks a staff id and password (with lock-out) and opens a session: its token, its expiry
/// and the user. Shared by the API's bearer-token sign-in and the UI's cookie sign-in.
async fn sign_in(
    state: &AppState,
    audit: &AuditHandle,
    req: LoginRequest,
) -> ApiResult<(String, DateTime<Utc>, User)> {
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
    let (token, expires_at) = auth::open_session(state, &creds.user).await?;
    Ok((token, expires_at, creds.user))
}

/// The raw session token (bearer or cookie), for revoking it.
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

/// The browser UI's session: the user, and the CSRF token its pages send with every change.
#[derive(Serialize, ToSchema)]
pub struct UiSession {
    pub user: User,
    /// Send as `X-CSRF-Token` with every POST, PUT or DELETE made with the session cookie.
    pub csrf_token: String,
}

/// Sign in from the browser UI: the session token goes into an `HttpOnly; SameSite=Strict`
/// cookie (`Secure` when the server's public URL is https), never into the page.
#[utoipa::path(post, path = "/api/v1/auth/session", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = UiSession, description = "sets the session cookie"),
              (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn open_ui_session(
    State(state): State<AppState>,
    audit: AuditHandle,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    let Json(req) = body?;
    let (token, expires_at, user) = sign_in(&state, &audit, req).await?;
    let cookie = auth::session_cookie_header(
        &token,
        (expires_at - Utc::now()).num_seconds().max(0),
        state.config.secure_cookies(),
    );
    let session = UiSession {
        user,
        csrf_token: auth::csrf_token(&token),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(session)).into_response())
}

/// The browser UI's current session (after a page reload): the user and the CSRF token.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = UiSession), (status = 401, body = crate::error::ErrorBody)))]
pub async fn ui_session(staff: StaffAuth, BearerToken(token): BearerToken) -> Json<UiSession> {
    Json(UiSession {
        user: staff.user,
        csrf_token: auth::csrf_token(&token),
    })
}

/// Sign out of the browser UI: the session ends at once and the cookie is cleared.
#[utoipa::path(delete, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 204), (status = 401, body = crate::error::ErrorBody),
              (status = 403, body = crate::error::ErrorBody)))]
pub async fn close_ui_session(
    State(state): State<AppState>,
    _staff: StaffAuth,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    state
        .store
        .revoke_session(&auth::sha256_hex(&token))
        .await?;
    let cleared = auth::session_cookie_header("", 0, state.config.secure_cookies());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

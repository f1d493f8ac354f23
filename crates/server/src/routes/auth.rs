//! Sign-in, sign-out and the current user.

use crate::audit::Audit;
use crate::auth::{self, StaffAuth};
use crate::connections::ClientAddr;
use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_domain::User;
use anpr_ledger::Action;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{header, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Extension;
use axum::Json;
use chrono::{DateTime, Utc};
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
    audit: Audit,
    client: Option<Extension<ClientAddr>>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Json<LoginResponse>> {
    audit.action(Action::Login);
    let Json(req) = body?;
    let (token, expires_at, user) = sign_in(&state, &audit, req, client).await?;
    Ok(Json(LoginResponse {
        token,
        expires_at,
        user,
    }))
}

/// Signs in through the application (the same check and throttle as the CLI's, with the
/// client's address counted too).
async fn sign_in(
    state: &AppState,
    audit: &Audit,
    req: LoginRequest,
    client: Option<Extension<ClientAddr>>,
) -> ApiResult<(String, DateTime<Utc>, User)> {
    audit.action(Action::Login);
    let client = client.map(|Extension(ClientAddr(ip))| ip);
    Ok(anpr_app::auth::sign_in(state, audit, &req.staff_id, &req.password, client).await?)
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
    audit: Audit,
    BearerToken(token): BearerToken,
) -> ApiResult<StatusCode> {
    audit.action(Action::Logout);
    anpr_app::auth::sign_out(&state, &token).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The signed-in user and their roles.
#[utoipa::path(get, path = "/api/v1/auth/me", tag = "auth", security(("bearer" = [])),
    responses((status = 200, body = User), (status = 401, body = crate::error::ErrorBody)))]
pub async fn me(audit: Audit, staff: StaffAuth) -> Json<User> {
    audit.action(Action::Session);
    Json(staff.user)
}

/// The browser UI's session: the user, and the CSRF token its pages send with every change.
#[derive(Serialize, ToSchema)]
pub struct UiSession {
    pub user: User,
    /// Send as `X-CSRF-Token` with every POST, PUT or DELETE made with the session cookie.
    pub csrf_token: String,
    /// What the user must be told about the platform itself (an administrator: a disk
    /// running low).
    pub notices: Vec<String>,
}

/// Sign in from the browser UI: the session token goes into an `HttpOnly; SameSite=Strict`
/// cookie (`Secure` when the server's public URL is https), never into the page.
#[utoipa::path(post, path = "/api/v1/auth/session", tag = "auth",
    request_body = LoginRequest,
    responses((status = 200, body = UiSession, description = "sets the session cookie"),
              (status = 401, body = crate::error::ErrorBody), (status = 429, body = crate::error::ErrorBody)))]
pub async fn open_ui_session(
    State(state): State<AppState>,
    audit: Audit,
    client: Option<Extension<ClientAddr>>,
    body: Result<Json<LoginRequest>, axum::extract::rejection::JsonRejection>,
) -> ApiResult<Response> {
    audit.action(Action::Login);
    let Json(req) = body?;
    let (token, expires_at, user) = sign_in(&state, &audit, req, client).await?;
    let cookie = auth::session_cookie_header(
        &token,
        (expires_at - Utc::now()).num_seconds().max(0),
        state.http.secure_cookies(),
    );
    let session = UiSession {
        notices: anpr_app::notices_for(&state, &user),
        user,
        csrf_token: auth::csrf_token(&token),
    };
    Ok(([(header::SET_COOKIE, cookie)], Json(session)).into_response())
}

/// The browser UI's current session (after a page reload): the user and the CSRF token.
#[utoipa::path(get, path = "/api/v1/auth/session", tag = "auth",
    responses((status = 200, body = UiSession), (status = 401, body = crate::error::ErrorBody)))]
pub async fn ui_session(
    State(state): State<AppState>,
    audit: Audit,
    staff: StaffAuth,
    BearerToken(token): BearerToken,
) -> Json<UiSession> {
    audit.action(Action::Session);
    Json(UiSession {
        notices: anpr_app::notices_for(&state, &staff.user),
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
    audit: Audit,
    BearerToken(token): BearerToken,
) -> ApiResult<Response> {
    audit.action(Action::Logout);
    anpr_app::auth::sign_out(&state, &token).await?;
    let cleared = auth::session_cookie_header("", 0, state.http.secure_cookies());
    Ok((StatusCode::NO_CONTENT, [(header::SET_COOKIE, cleared)]).into_response())
}

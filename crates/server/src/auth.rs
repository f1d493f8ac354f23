//! Who is calling, as HTTP carries it: a camera's API key or a staff session as a bearer token
//! or the browser UI's cookie (with its CSRF token). The credentials are checked by the
//! application (`anpr_app::auth`); this module only finds them in the request.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_app::auth::{sha256_hex, staff_actor};
use anpr_app::{AppError, AppResult};
use anpr_domain::{Actor, CameraId, User};
use axum::extract::FromRequestParts;
use axum::http::request::Parts;

fn bearer(parts: &Parts) -> AppResult<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| AppError::Unauthenticated("missing Authorization: Bearer header".into()))?;
    let value = value
        .to_str()
        .map_err(|_| AppError::Unauthenticated("malformed Authorization header".into()))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or_else(|| AppError::Unauthenticated("expected Authorization: Bearer <token>".into()))
}

/// A request made with a valid camera API key.
pub struct CameraAuth {
    pub camera_id: CameraId,
}

impl FromRequestParts<AppState> for CameraAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let key = bearer(parts)?;
        let camera_id = anpr_app::auth::authenticate_camera(state, key).await?;
        audit_actor(parts, anpr_ledger::Actor::camera(camera_id.to_string()));
        Ok(CameraAuth { camera_id })
    }
}

/// The browser UI's session cookie: the same opaque session token as a bearer token, in an
/// `HttpOnly; SameSite=Strict` cookie that page scripts cannot read.
pub const SESSION_COOKIE: &str = "anpr_session";
/// The header a cookie-authenticated state-changing request must carry (see [`csrf_token`]).
pub const CSRF_HEADER: &str = "x-csrf-token";

/// The CSRF token of a session: derived from its secret token, so it needs no storage, and
/// unknowable to another site (which can make the browser send the cookie but cannot read it,
/// nor this token, which only the same-origin sign-in and session responses disclose).
pub fn csrf_token(session_token: &str) -> String {
    sha256_hex(&format!("anpr-csrf-v1:{session_token}"))
}

/// The session token in the request's `Cookie` header(s), if any.
pub fn session_cookie(headers: &axum::http::HeaderMap) -> Option<String> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(name, _)| *name == SESSION_COOKIE)
        .map(|(_, value)| value.trim().to_string())
        .filter(|t| !t.is_empty() && t.len() <= 512)
}

/// The `Set-Cookie` value that opens a browser session (`Secure` when served over https).
pub fn session_cookie_header(token: &str, max_age_seconds: i64, secure: bool) -> String {
    format!(
        "{SESSION_COOKIE}={token}; Path=/; HttpOnly; SameSite=Strict; Max-Age={max_age_seconds}{}",
        if secure { "; Secure" } else { "" }
    )
}

/// How a request presents its session: a bearer token, or the browser's cookie.
enum SessionCredential {
    Bearer(String),
    Cookie(String),
}

impl SessionCredential {
    fn of(parts: &Parts) -> AppResult<Self> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return bearer(parts).map(|t| SessionCredential::Bearer(t.to_string()));
        }
        session_cookie(&parts.headers)
            .map(SessionCredential::Cookie)
            .ok_or_else(|| {
                AppError::Unauthenticated(
                    "missing Authorization: Bearer header (or the UI's session cookie)".into(),
                )
            })
    }

    fn token(&self) -> &str {
        match self {
            SessionCredential::Bearer(t) | SessionCredential::Cookie(t) => t,
        }
    }
}

/// A cookie is sent by the browser whoever made the page that sends the request: a request
/// that changes anything must also prove it comes from our own pages, with the session's CSRF
/// token in a header (which another site can neither read nor set).
fn check_csrf(parts: &Parts, credential: &SessionCredential) -> ApiResult<()> {
    let SessionCredential::Cookie(token) = credential else {
        return Ok(());
    };
    if parts.method.is_safe() {
        return Ok(());
    }
    let expected = csrf_token(token);
    let given = parts
        .headers
        .get(CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    if given.len() == expected.len() && constant_time_eq(given.as_bytes(), expected.as_bytes()) {
        Ok(())
    } else {
        Err(ApiError(AppError::Forbidden(
            "this change came without the page's security token (X-CSRF-Token); reload the page and try again".into(),
        )))
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// A request made by a signed-in member of staff: with `Authorization: Bearer <token>`, or from
/// the browser UI with the session cookie (and, for anything but GET/HEAD/OPTIONS, the
/// session's CSRF token in `X-CSRF-Token`).
pub struct StaffAuth {
    pub user: User,
    /// The SHA-256 of the session token: a long-lived response (the alert stream) checks the
    /// session is still valid before each thing it sends.
    pub session_hash: String,
}

impl StaffAuth {
    pub fn actor(&self) -> Actor {
        Actor::Staff {
            user_id: self.user.id,
            staff_id: self.user.staff_id.clone(),
            district: self.user.district.clone(),
            roles: self.user.roles.clone(),
        }
    }

    /// Refuses unless the user's roles grant `permission` (the policy's tier table), naming it.
    pub fn require_permission(&self, permission: anpr_policy::Permission) -> ApiResult<()> {
        Ok(anpr_app::auth::require_permission(&self.user, permission)?)
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let credential = SessionCredential::of(parts)?;
        let session_hash = sha256_hex(credential.token());
        let user = anpr_app::auth::session_user(state, credential.token()).await?;
        audit_actor(parts, staff_actor(&user));
        // Every use a member of staff makes is counted by their district (the transparency
        // report, a network's record of use), from the entry itself.
        if let Some(handle) = parts.extensions.get::<crate::audit::AuditHandle>() {
            handle.facts(anpr_ledger::AuditFacts::new().district(user.district.clone()));
        }
        check_csrf(parts, &credential)?;
        Ok(StaffAuth { user, session_hash })
    }
}

/// The session token of the request (bearer or cookie), for sign-out.
pub fn session_token(parts: &Parts) -> ApiResult<String> {
    Ok(SessionCredential::of(parts).map(|c| c.token().to_string())?)
}

fn audit_actor(parts: &Parts, actor: anpr_ledger::Actor) {
    if let Some(handle) = parts.extensions.get::<crate::audit::AuditHandle>() {
        handle.actor(actor);
    }
}

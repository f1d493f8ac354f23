//! Who is calling: camera API keys and staff sessions.
//!
//! Secrets are never stored: passwords and camera keys as argon2id hashes, session tokens as
//! SHA-256 (a 256-bit random token needs no slow hash). A camera key is checked with argon2id
//! once, then remembered by its SHA-256 so that ingestion at thousands of reads a second does
//! not pay argon2's deliberate cost on every request.

use crate::error::{ApiError, ApiResult};
use crate::state::AppState;
use anpr_domain::{Actor, CameraId, User};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

/// Failed sign-ins before an account is locked, and for how long.
pub const MAX_FAILED_LOGINS: u32 = 5;
pub const LOCKOUT_MINUTES: i64 = 15;
pub const SESSION_HOURS: i64 = 12;

pub fn hash_secret(secret: &str) -> anyhow::Result<String> {
    let salt = SaltString::generate(&mut argon2::password_hash::rand_core::OsRng);
    Ok(Argon2::default()
        .hash_password(secret.as_bytes(), &salt)
        .map_err(|e| anyhow::anyhow!("argon2: {e}"))?
        .to_string())
}

pub fn verify_secret(secret: &str, phc: &str) -> bool {
    PasswordHash::new(phc)
        .map(|h| {
            Argon2::default()
                .verify_password(secret.as_bytes(), &h)
                .is_ok()
        })
        .unwrap_or(false)
}

/// A hash to verify against when the user does not exist, so that a failed sign-in takes the
/// same time whether or not the staff id is real.
pub fn dummy_hash() -> &'static str {
    static DUMMY: std::sync::OnceLock<String> = std::sync::OnceLock::new();
    DUMMY.get_or_init(|| hash_secret("not a real password").expect("argon2 works"))
}

fn random_token() -> String {
    let mut bytes = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

pub fn sha256_hex(s: &str) -> String {
    hex::encode(Sha256::digest(s.as_bytes()))
}

/// A new camera API key, `anpr_cam_<camera id>_<random>`: the id tells the server which hash
/// to check, the random part is the secret.
pub fn new_camera_key(camera_id: CameraId) -> String {
    format!("anpr_cam_{camera_id}_{}", random_token())
}

/// The camera id a key claims to belong to (verified against that camera's hash).
pub fn camera_id_from_key(key: &str) -> Option<CameraId> {
    let rest = key.strip_prefix("anpr_cam_")?;
    let (id, secret) = rest.split_once('_')?;
    (!secret.is_empty()).then_some(())?;
    id.parse().ok()
}

fn bearer(parts: &Parts) -> ApiResult<&str> {
    let value = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::Unauthenticated("missing Authorization: Bearer header".into()))?;
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthenticated("malformed Authorization header".into()))?;
    value
        .strip_prefix("Bearer ")
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= 512)
        .ok_or_else(|| ApiError::Unauthenticated("expected Authorization: Bearer <token>".into()))
}

/// A request made with a valid camera API key.
pub struct CameraAuth {
    pub camera_id: CameraId,
}

impl FromRequestParts<AppState> for CameraAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let key = bearer(parts)?;
        let fingerprint = sha256_hex(key);
        if let Some(camera_id) = state.camera_keys.get(&fingerprint) {
            audit_actor(parts, anpr_ledger::Actor::camera(camera_id.to_string()));
            return Ok(CameraAuth { camera_id });
        }
        let denied = || ApiError::Unauthenticated("invalid camera API key".into());
        let camera_id = camera_id_from_key(key).ok_or_else(denied)?;
        let creds = state
            .store
            .camera_credentials(camera_id)
            .await?
            .ok_or_else(denied)?;
        if !creds.active {
            return Err(ApiError::Forbidden("camera is deactivated".into()));
        }
        let key = key.to_string();
        let ok = tokio::task::spawn_blocking(move || verify_secret(&key, &creds.key_hash))
            .await
            .map_err(ApiError::internal)?;
        if !ok {
            state.metrics.auth_failures.inc();
            return Err(denied());
        }
        state.camera_keys.insert(fingerprint, camera_id);
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
fn session_cookie(parts: &Parts) -> Option<String> {
    parts
        .headers
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
    fn of(parts: &Parts) -> ApiResult<Self> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return bearer(parts).map(|t| SessionCredential::Bearer(t.to_string()));
        }
        session_cookie(parts)
            .map(SessionCredential::Cookie)
            .ok_or_else(|| {
                ApiError::Unauthenticated(
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
        Err(ApiError::Forbidden(
            "this change came without the page's security token (X-CSRF-Token); reload the page and try again".into(),
        ))
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
        Ok(anpr_policy::permissions::require(
            &self.user.roles,
            permission,
        )?)
    }
}

impl FromRequestParts<AppState> for StaffAuth {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> ApiResult<Self> {
        let credential = SessionCredential::of(parts)?;
        let session_hash = sha256_hex(credential.token());
        let user = state
            .store
            .session_user(&session_hash, Utc::now())
            .await?
            .ok_or_else(|| ApiError::Unauthenticated("session expired or invalid".into()))?;
        audit_actor(parts, staff_actor(&user));
        check_csrf(parts, &credential)?;
        Ok(StaffAuth { user, session_hash })
    }
}

/// A new session for `user`: the token to hand out once, and its expiry.
pub async fn open_session(
    state: &AppState,
    user: &User,
) -> ApiResult<(String, chrono::DateTime<Utc>)> {
    let token = random_token();
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    state
        .store
        .create_session(&sha256_hex(&token), user.id, expires)
        .await?;
    Ok((token, expires))
}

/// The session token of the request (bearer or cookie), for sign-out.
pub fn session_token(parts: &Parts) -> ApiResult<String> {
    SessionCredential::of(parts).map(|c| c.token().to_string())
}

/// The ledger's view of a member of staff: their staff id and the roles they acted in.
pub fn staff_actor(user: &User) -> anpr_ledger::Actor {
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    anpr_ledger::Actor::staff(user.staff_id.clone(), roles.join(","))
}

fn audit_actor(parts: &Parts, actor: anpr_ledger::Actor) {
    if let Some(handle) = parts.extensions.get::<crate::audit::AuditHandle>() {
        handle.actor(actor);
    }
}

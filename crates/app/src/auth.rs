//! Who is calling: camera API keys and staff sessions.
//!
//! Secrets are never stored: passwords and camera keys as argon2id hashes, session tokens as
//! SHA-256 (a 256-bit random token needs no slow hash). A camera key is checked with argon2id
//! once, then remembered by its SHA-256 so that ingestion at thousands of reads a second does
//! not pay argon2's deliberate cost on every request.

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::sign_in_throttle::Attempt;
use crate::App;
use anpr_domain::{CameraId, User};
use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::Argon2;
use base64::Engine;
use chrono::{Duration, Utc};
use rand::RngCore;
use sha2::{Digest, Sha256};

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

pub fn random_token() -> String {
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

/// The camera a key belongs to, if the key is live (neither revoked nor past its end) and the
/// camera active. A key checked once with argon2id is remembered by its SHA-256 until its end
/// or a change to its camera (see [`crate::state::CameraKeyCache`]).
pub async fn authenticate_camera(app: &App, key: &str) -> AppResult<CameraId> {
    let now = Utc::now();
    let fingerprint = sha256_hex(key);
    let generation = app.camera_keys.generation();
    if let Some(known) = app.camera_keys.get(&fingerprint, now) {
        if app.camera_keys.fed() || still_live(app, known, now).await? {
            return Ok(known.camera);
        }
        app.camera_keys.forget_camera(known.camera);
    }
    let denied = || {
        AppError::Unauthenticated(
            "invalid camera API key (unknown, revoked or past its end): configure the camera \
             with its current key"
                .into(),
        )
    };
    let camera_id = camera_id_from_key(key).ok_or_else(denied)?;
    let creds = app
        .store
        .camera_credentials(camera_id, now)
        .await?
        .ok_or_else(denied)?;
    if !creds.active {
        return Err(AppError::Forbidden(
            "this camera is deactivated, so its reads are refused; ask the platform's \
             administrators to reactivate it"
                .into(),
        ));
    }
    let key = key.to_string();
    let matched = tokio::task::spawn_blocking(move || {
        creds
            .keys
            .into_iter()
            .find(|k| verify_secret(&key, &k.key_hash))
    })
    .await?;
    let Some(matched) = matched else {
        app.metrics.auth_failures.inc();
        return Err(denied());
    };
    let verified = crate::state::VerifiedKey {
        camera: camera_id,
        key_id: matched.id,
        expires_at: matched.expires_at,
    };
    app.camera_keys.remember(fingerprint, verified, generation);
    Ok(camera_id)
}

/// Whether a remembered key is still live and its camera active, by the store: without the
/// change feed, another process (the CLI beside the server) may have revoked or rotated it.
async fn still_live(
    app: &App,
    known: crate::state::VerifiedKey,
    now: chrono::DateTime<Utc>,
) -> AppResult<bool> {
    Ok(app
        .store
        .camera_credentials(known.camera, now)
        .await?
        .is_some_and(|c| c.active && c.keys.iter().any(|k| k.id == known.key_id)))
}

/// The member of staff a session token belongs to, while the session is valid and the account
/// active.
pub async fn session_user(app: &App, token: &str) -> AppResult<User> {
    app.store
        .session_user(&sha256_hex(token), Utc::now())
        .await?
        .ok_or_else(|| AppError::Unauthenticated("session expired or invalid".into()))
}

/// The answer to a disabled account's holder (see [`verify_password`]).
pub const ACCOUNT_DISABLED: &str =
    "this account is disabled; ask an administrator to enable it again";

/// Checks a staff id and password under the sign-in throttle ([`crate::sign_in_throttle`]),
/// for every entry point (the API's sign-in, the UI's, the CLI's; `client` is the network
/// address where there is one). An unknown id and a wrong password get the same answer after
/// the same work, so the answers never tell which staff ids exist. A disabled account is told
/// so, but only with its right password: whoever knows it is the account's holder, who needs to
/// know to ask an administrator, and learns nothing a wrong guess would not hide. It still
/// counts as a failed attempt, so the answer cannot be used to test passwords past the throttle.
/// The use's actor is the staff id claimed until the password is verified, then the member of
/// staff.
pub async fn verify_password(
    app: &App,
    audit: &AuditHandle,
    staff_id: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> AppResult<User> {
    let denied = |warning: Option<String>| {
        AppError::Unauthenticated(match warning {
            Some(w) => format!("wrong staff id or password; {w}"),
            None => "wrong staff id or password".into(),
        })
    };
    let staff_id = staff_id.trim();
    if staff_id.is_empty() || staff_id.len() > 64 || password.len() > 1024 {
        return Err(denied(None));
    }
    audit.actor(anpr_ledger::Actor::staff(
        staff_id,
        crate::audit::UNVERIFIED_ROLE,
    ));
    let attempt = Attempt::new(staff_id, client, app.config.sign_in);
    attempt.check(app, Utc::now()).await?;
    let creds = app.store.user_credentials(staff_id).await?;
    let hash = match &creds {
        Some(c) => c.password_hash.clone(),
        None => dummy_hash().to_string(),
    };
    let password = password.to_string();
    let verified = tokio::task::spawn_blocking(move || verify_secret(&password, &hash)).await?;
    match creds {
        Some(creds) if verified && creds.user.active => {
            attempt.succeeded(app).await?;
            audit.actor(staff_actor(&creds.user));
            Ok(creds.user)
        }
        Some(_) if verified => {
            app.metrics.auth_failures.inc();
            attempt.failed(app, Utc::now()).await?;
            Err(AppError::Unauthenticated(ACCOUNT_DISABLED.into()))
        }
        _ => {
            app.metrics.auth_failures.inc();
            let warning = attempt.failed(app, Utc::now()).await?;
            Err(denied(warning))
        }
    }
}

/// Signs in and opens a session: its token (to hand out once), its expiry and the user.
pub async fn sign_in(
    app: &App,
    audit: &AuditHandle,
    staff_id: &str,
    password: &str,
    client: Option<std::net::IpAddr>,
) -> AppResult<(String, chrono::DateTime<Utc>, User)> {
    let user = verify_password(app, audit, staff_id, password, client).await?;
    let (token, expires_at) = open_session(app, &user).await?;
    Ok((token, expires_at, user))
}

/// Ends a session at once.
pub async fn sign_out(app: &App, token: &str) -> AppResult<()> {
    app.store.revoke_session(&sha256_hex(token)).await?;
    Ok(())
}

/// Refuses unless `user`'s roles grant `permission` (the policy's tier table), naming it.
pub fn require_permission(user: &User, permission: anpr_policy::Permission) -> AppResult<()> {
    Ok(anpr_policy::permissions::require(&user.roles, permission)?)
}

/// A new session for `user`: the token to hand out once, and its expiry.
pub async fn open_session(state: &App, user: &User) -> AppResult<(String, chrono::DateTime<Utc>)> {
    let token = random_token();
    let expires = Utc::now() + Duration::hours(SESSION_HOURS);
    state
        .store
        .create_session(&sha256_hex(&token), user.id, expires)
        .await?;
    Ok((token, expires))
}

/// The ledger's view of a member of staff: their staff id and the roles they acted in.
pub fn staff_actor(user: &User) -> anpr_ledger::Actor {
    let roles: Vec<&str> = user.roles.iter().map(|r| r.as_str()).collect();
    anpr_ledger::Actor::staff(user.staff_id.clone(), roles.join(","))
}

pub mod agent;
pub mod backup;
pub mod bundle;
pub mod catalog;
pub mod demo;
pub mod import;
pub mod integrity;
pub mod ledger;
pub mod migrate;
pub mod purge;
pub mod recognise;
pub mod registers;
pub mod report;
pub mod search;
pub mod serve;
pub mod user;

use anpr_server::{AppState, ServerConfig};
use std::path::Path;

static DATABASE_URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// The database every command opens (`--database-url`; the embedded SQLite one when absent).
pub fn set_database_url(url: Option<String>) {
    let _ = DATABASE_URL.set(url.filter(|u| !u.is_empty()));
}

pub fn database_url() -> Option<&'static str> {
    DATABASE_URL.get().and_then(|u| u.as_deref())
}

static IMAGES_URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Where images are kept (`--images-url`; the data directory when absent).
pub fn set_images_url(url: Option<String>) {
    let _ = IMAGES_URL.set(url.filter(|u| !u.is_empty()));
}

/// Opens the deployment for a command-line operation.
pub async fn open(data: &Path) -> anyhow::Result<AppState> {
    open_with(data, ServerConfig::default()).await
}

/// Opens the deployment with a server configuration.
pub async fn open_with(data: &Path, mut config: ServerConfig) -> anyhow::Result<AppState> {
    if config.images_url.is_none() {
        config.images_url = IMAGES_URL.get().cloned().flatten();
    }
    AppState::open(data, database_url(), config).await
}

/// Reads a password from `ANPR_PASSWORD` or, failing that, one line of standard input.
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    match std::env::var("ANPR_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut line = String::new();
            eprintln!("{prompt}");
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

/// Checks the staff member's password as a sign-in does, with the same lock-out.
pub async fn sign_in(
    state: &anpr_server::AppState,
    staff_id: &str,
) -> anyhow::Result<anpr_domain::User> {
    let creds = state.store.user_credentials(staff_id).await?;
    let password = read_password(&format!("password for {staff_id}:"))?;
    let hash = creds
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| anpr_server::auth::dummy_hash().to_string());
    let ok =
        tokio::task::spawn_blocking(move || anpr_server::auth::verify_secret(&password, &hash))
            .await?;
    let denied = || anyhow::anyhow!("wrong staff id or password");
    let creds = creds.ok_or_else(denied)?;
    let now = chrono::Utc::now();
    if creds.locked_until.is_some_and(|t| t > now) {
        anyhow::bail!("account locked after repeated failed sign-ins; try again later");
    }
    if !ok || !creds.user.active {
        let lock = (creds.failed_logins + 1 >= anpr_server::auth::MAX_FAILED_LOGINS)
            .then(|| now + chrono::Duration::minutes(anpr_server::auth::LOCKOUT_MINUTES));
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
    Ok(creds.user)
}

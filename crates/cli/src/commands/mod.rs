pub mod agent;
pub mod backup;
pub mod bundle;
pub mod catalog;
pub mod demo;
pub mod import;
pub mod integrity;
pub mod ledger;
pub mod ledger_monitor;
pub mod migrate;
pub mod network_ledger;
pub mod purge;
pub mod recognise;
pub mod registers;
pub mod report;
pub mod search;
pub mod serve;
pub mod user;
pub mod witness;
pub mod witness_args;

use anpr_app::audit::{AuditHandle, Channel};
use anpr_app::{App, AppConfig, AppResult};
use anpr_ledger::{Action, Actor, ActorKind};
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

static LEDGER_KEYS: std::sync::OnceLock<anpr_ledger::keys::KeySource> = std::sync::OnceLock::new();

/// Where the ledger's signing key is (`--signing-key`, `--previous-signing-key`; the ledger
/// directory when absent).
pub fn set_ledger_keys(current: Option<std::path::PathBuf>, previous: Option<std::path::PathBuf>) {
    let keys = match current {
        Some(current) => anpr_ledger::keys::KeySource::Files { current, previous },
        None => anpr_ledger::keys::KeySource::Directory,
    };
    let _ = LEDGER_KEYS.set(keys);
}

pub fn ledger_keys() -> anpr_ledger::keys::KeySource {
    LEDGER_KEYS.get().cloned().unwrap_or_default()
}

static LEDGER_ORIGIN: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// The origin line of the ledger's checkpoints (`--ledger-origin`), recorded at its creation.
pub fn set_ledger_origin(origin: Option<String>) {
    let _ = LEDGER_ORIGIN.set(origin.filter(|o| !o.is_empty()));
}

fn ledger_origin() -> Option<String> {
    LEDGER_ORIGIN.get().cloned().flatten()
}

static IMAGES_URL: std::sync::OnceLock<Option<String>> = std::sync::OnceLock::new();

/// Where images are kept (`--images-url`; the data directory when absent).
pub fn set_images_url(url: Option<String>) {
    let _ = IMAGES_URL.set(url.filter(|u| !u.is_empty()));
}

static POLICY_FILE: std::sync::OnceLock<Option<std::path::PathBuf>> = std::sync::OnceLock::new();

/// The access-policy settings every command applies (`--policy`; the defaults when absent).
pub fn set_policy_file(path: Option<std::path::PathBuf>) {
    let _ = POLICY_FILE.set(path);
}

/// The access policy's settings, read from `--policy` (the defaults when absent), so that the
/// console refuses what the server refuses (an unknown district, a purpose not configured).
pub fn policy_config() -> anyhow::Result<anpr_policy::PolicyConfig> {
    match POLICY_FILE.get().and_then(|p| p.as_deref()) {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .map_err(|e| anyhow::anyhow!("cannot read {}: {e}", path.display()))?;
            anpr_policy::PolicyConfig::from_json(&text)
                .map_err(|e| anyhow::anyhow!("{}: {e}", path.display()))
        }
        None => Ok(anpr_policy::PolicyConfig::default()),
    }
}

/// Opens the deployment for a command-line operation.
pub async fn open(data: &Path) -> anyhow::Result<App> {
    let config = AppConfig {
        policy: policy_config()?,
        ..AppConfig::default()
    };
    open_with(data, config).await
}

/// Opens the deployment with a configuration.
pub async fn open_with(data: &Path, mut config: AppConfig) -> anyhow::Result<App> {
    if config.images_url.is_none() {
        config.images_url = IMAGES_URL.get().cloned().flatten();
    }
    config.ledger_keys = ledger_keys();
    config.ledger_origin = ledger_origin();
    App::open(data, database_url(), config).await
}

/// Opens the deployment to serve it over HTTP (`serve`, `demo`).
pub async fn open_server(data: &Path, mut config: ServerConfig) -> anyhow::Result<AppState> {
    if config.app.images_url.is_none() {
        config.app.images_url = IMAGES_URL.get().cloned().flatten();
    }
    config.app.ledger_keys = ledger_keys();
    config.app.ledger_origin = ledger_origin();
    AppState::open(data, database_url(), config).await
}

/// The person at the server's console: whoever runs `anpr` with access to the data directory
/// and acts without a staff sign-in (administration, imports, purges).
pub fn operator() -> Actor {
    let user = std::env::var("USER")
        .or_else(|_| std::env::var("LOGNAME"))
        .unwrap_or_else(|_| "unknown".into());
    Actor {
        id: format!("operator:{user}"),
        kind: ActorKind::System,
        role: "cli_operator".into(),
    }
}

/// Runs one use from the command line as `actor`: the use is recorded in the audit ledger, and
/// durable, before its result (or its refusal) is used. The error is one plain line.
pub async fn ledgered<T>(
    app: &App,
    actor: Actor,
    action: Action,
    query: serde_json::Value,
    op: impl std::future::Future<Output = AppResult<T>>,
) -> anyhow::Result<T> {
    let audit = AuditHandle::new(Channel::Cli, actor, action);
    audit.query(query);
    in_use(app, &audit, op).await
}

/// Runs a use whose audit handle the caller prepared (see [`ledgered`]).
pub async fn in_use<T>(
    app: &App,
    audit: &AuditHandle,
    op: impl std::future::Future<Output = AppResult<T>>,
) -> anyhow::Result<T> {
    anpr_app::audit::perform(app, audit, op)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))
}

/// Runs an administrative change (accounts, cameras' keys) as the operator at the console,
/// whom the application treats as an administrator, ledgered like the API's.
pub async fn as_administrator<T, F, Fut>(app: &App, action: Action, op: F) -> anyhow::Result<T>
where
    F: FnOnce(AuditHandle, anpr_app::accounts::Administrator<'static>) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let operator = operator();
    let audit = AuditHandle::new(Channel::Cli, operator.clone(), action);
    let by = anpr_app::accounts::Administrator::Console(operator.id);
    in_use(app, &audit, op(audit.clone(), by)).await
}

/// Runs one use by member of staff `staff_id`, signed in with their password first (see
/// [`sign_in`]), ledgered like the API's.
pub async fn as_staff<T, F, Fut>(
    app: &App,
    staff_id: &str,
    action: Action,
    op: F,
) -> anyhow::Result<T>
where
    F: FnOnce(AuditHandle, anpr_domain::User) -> Fut,
    Fut: std::future::Future<Output = AppResult<T>>,
{
    let user = sign_in(app, staff_id).await?;
    let audit = AuditHandle::for_staff(Channel::Cli, &user, action);
    in_use(app, &audit, op(audit.clone(), user)).await
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

/// Checks the staff member's password as the API's sign-in does, under the same throttle (the
/// command line has no network address: only the staff id's count applies); the attempt,
/// failed or not, is in the ledger.
pub async fn sign_in(app: &App, staff_id: &str) -> anyhow::Result<anpr_domain::User> {
    let password = read_password(&format!("password for {staff_id}:"))?;
    let audit = AuditHandle::new(Channel::Cli, Actor::anonymous(), Action::Login);
    audit.query(serde_json::json!({ "staff_id": staff_id }));
    in_use(
        app,
        &audit,
        anpr_app::auth::verify_password(app, &audit, staff_id, &password, None),
    )
    .await
}

//! The HTTP API of the accountable ANPR platform.
//!
//! Handlers are thin: they authenticate (camera key or staff session), parse, and hand the
//! request to [`access`] — the one place where the access policy (`anpr-policy`) decides and
//! its decision is recorded — before the store is asked for data. Errors of every crate become
//! HTTP responses in one place, [`error`].

pub mod access;
pub mod audit;
pub mod auth;
pub mod connections;
pub mod error;
mod leadership;
pub mod metrics;
pub mod monitor;
pub mod openapi;
pub mod realtime;
pub mod recognition;
pub mod registers;
pub mod reports;
pub mod retention;
pub mod routes;
pub mod state;

use anpr_blobs::LocalBlobStore;
use anpr_store::{CaseStore, PgStore, ReportStore, SqliteStore, Store};
use axum::extract::DefaultBodyLimit;
use axum::http::{header, HeaderValue};
use axum::routing::{get, post, put};
use axum::Router;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tower_http::catch_panic::CatchPanicLayer;
use tower_http::set_header::SetResponseHeaderLayer;

pub use anpr_web::UiConfig;
pub use state::{AppState, ServerConfig};

/// Where an embedded deployment keeps its files.
#[derive(Debug, Clone)]
pub struct DataDir(pub PathBuf);

impl DataDir {
    pub fn database(&self) -> PathBuf {
        self.0.join("anpr.sqlite")
    }
    pub fn images(&self) -> PathBuf {
        self.0.join("images")
    }
    pub fn ledger(&self) -> PathBuf {
        self.0.join("ledger")
    }
}

/// Opens the deployment's audit ledger (blocking): in PostgreSQL when `database_url` is given,
/// one ledger for every server on that database, else in its own SQLite file. Node files and
/// the signing key are in the data directory either way.
pub fn open_ledger(
    data: &DataDir,
    database_url: Option<&str>,
) -> anyhow::Result<anpr_ledger::Ledger> {
    let dir = data.ledger();
    let ledger = match database_url.filter(|u| !u.is_empty()) {
        Some(url) => anpr_ledger::store::PgStore::open(url, &dir).and_then(|entries| {
            anpr_ledger::Ledger::open_store(&dir, Box::new(entries), Default::default())
        }),
        None => anpr_ledger::Ledger::open(&dir),
    };
    ledger.map_err(|e| anyhow::anyhow!("cannot open the audit ledger: {e}"))
}

impl AppState {
    /// Opens the embedded deployment in `dir` (SQLite and images on disk), creating it if new.
    pub fn open_embedded(dir: &Path, config: ServerConfig) -> anyhow::Result<AppState> {
        std::fs::create_dir_all(dir)?;
        let data = DataDir(dir.to_path_buf());
        let store = SqliteStore::open(data.database())?;
        let ledger = anpr_ledger::Ledger::open(data.ledger())?;
        Self::assemble(&data, store, ledger, config)
    }

    /// Opens a deployment whose database is at `database_url` when one is given
    /// (`postgres://...`: several processes may share it), else the embedded SQLite database
    /// in `dir`. `dir` holds the images, the ledger and its keys either way.
    pub async fn open(
        dir: &Path,
        database_url: Option<&str>,
        config: ServerConfig,
    ) -> anyhow::Result<AppState> {
        let Some(url) = database_url.filter(|u| !u.is_empty()) else {
            return Self::open_embedded(dir, config);
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("--database-url must be a postgres:// URL (leave it out for SQLite)");
        }
        std::fs::create_dir_all(dir)?;
        let data = DataDir(dir.to_path_buf());
        let store = PgStore::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL database: {e}"))?;
        let (url, ledger_data) = (url.to_string(), data.clone());
        let ledger =
            tokio::task::spawn_blocking(move || open_ledger(&ledger_data, Some(&url))).await??;
        Self::assemble(&data, store, ledger, config)
    }

    /// One store serves every storage role: reads and access, reports, integrity cases, and
    /// the record of policy decisions.
    fn assemble<S>(
        data: &DataDir,
        store: S,
        ledger: anpr_ledger::Ledger,
        config: ServerConfig,
    ) -> anyhow::Result<AppState>
    where
        S: Store + ReportStore + CaseStore + anpr_policy::DecisionRecorder + Clone,
    {
        let blobs: Arc<dyn anpr_blobs::BlobStore> = match config.images_url.as_deref() {
            Some(url) => Arc::new(anpr_blobs::ObjectBlobStore::open(url)?),
            None => Arc::new(LocalBlobStore::open(data.images())?),
        };
        let policy = anpr_policy::Policy::new(config.policy.clone())?;
        Ok(AppState {
            store: Arc::new(store.clone()),
            reports: Arc::new(store.clone()),
            cases: Arc::new(store.clone()),
            integrity_engine: Default::default(),
            blobs,
            config: Arc::new(config.clone()),
            metrics: Default::default(),
            camera_keys: Default::default(),
            policy: Arc::new(policy),
            recorder: Arc::new(store),
            ledger: Arc::new(ledger),
            watches: Arc::new(anpr_realtime::LocalWatchSet::new()),
            alerts: Arc::new(anpr_realtime::LocalAlertBus::new(
                config.alert_client_buffer,
            )),
            alert_relay: Default::default(),
            hot_list: Default::default(),
            camera_networks: Default::default(),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            recognition: None,
        })
    }

    /// Recognises the photos of reads that arrive without plate text with `recogniser`, on
    /// `workers` threads with room for `queue` waiting photos.
    pub fn with_recognition(
        mut self,
        recogniser: anpr_recognition::Recogniser,
        workers: usize,
        queue: usize,
    ) -> AppState {
        self.recognition = Some(Arc::new(recognition::RecognitionPool::start(
            Arc::new(recogniser),
            workers,
            queue,
        )));
        self
    }

    pub fn ingest_limits(&self) -> anpr_ingest::IngestLimits {
        anpr_ingest::IngestLimits {
            max_batch: self.config.max_batch_reads,
            ..Default::default()
        }
    }
}

pub fn router(state: AppState) -> Router {
    use routes::*;
    let body_limit = state.config.max_body_bytes;
    // The browser UI: static assets only, outside the audit layer (they carry no data; every
    // API call the pages make is audited like any other).
    let ui = anpr_web::router(state.config.ui.clone());
    Router::new()
        .route("/api/v1/auth/login", post(auth::login))
        .route("/api/v1/auth/logout", post(auth::logout))
        .route("/api/v1/auth/me", get(auth::me))
        .route(
            "/api/v1/auth/session",
            post(auth::open_ui_session)
                .get(auth::ui_session)
                .delete(auth::close_ui_session),
        )
        .route("/api/v1/users", get(users::list).post(users::create))
        .route("/api/v1/users/{staff_id}/roles", put(users::set_roles))
        .route("/api/v1/users/{staff_id}/active", put(users::set_active))
        .route("/api/v1/reads", post(reads::ingest))
        .route("/api/v1/reads:batch", post(reads::ingest_batch))
        .route("/api/v1/reads/{id}", get(reads::get_read))
        .route("/api/v1/reads/{id}/image/{kind}", get(reads::get_image))
        .route("/api/v1/reads/{id}/legal-hold", put(reads::set_legal_hold))
        .route("/api/v1/searches", post(search::search))
        .route(
            "/api/v1/tracking",
            post(tracking::request_tracking).get(tracking::list_tracking),
        )
        .route("/api/v1/tracking/{id}", get(tracking::get_tracking))
        .route("/api/v1/tracking/{id}/sightings", get(alerts::sightings))
        .route("/api/v1/alerts", get(alerts::list))
        .route("/api/v1/alerts/stream", get(alerts::stream))
        .route("/api/v1/alerts/{id}/ack", post(alerts::ack))
        .route(
            "/api/v1/hot-list",
            post(hot_list::load).get(hot_list::summary),
        )
        .route(
            "/api/v1/tracking/{id}/{action}",
            post(tracking::review_tracking),
        )
        .route(
            "/api/v1/lookback",
            post(tracking::request_lookback).get(tracking::list_lookback),
        )
        .route(
            "/api/v1/lookback/{id}/{action}",
            post(tracking::review_lookback),
        )
        .route("/api/v1/registers", get(registers::counts))
        .route("/api/v1/registers/{kind}", post(registers::import))
        .route("/api/v1/agreements", get(registers::agreements))
        .route(
            "/api/v1/networks/{id}/agreement",
            put(registers::set_agreement),
        )
        .route(
            "/api/v1/networks",
            post(catalog::create_network).get(catalog::list_networks),
        )
        .route(
            "/api/v1/sites",
            post(catalog::create_site).get(catalog::list_sites),
        )
        .route(
            "/api/v1/cameras",
            post(catalog::create_camera).get(catalog::list_cameras),
        )
        .route("/api/v1/reports/usage", get(reports::usage))
        .route("/api/v1/reports/transparency", get(reports::transparency))
        .route(
            "/api/v1/reports/subject-access",
            post(reports::subject_access),
        )
        .route("/api/v1/integrity/runs", post(integrity::run))
        .route("/api/v1/integrity/cases", get(integrity::list_cases))
        .route("/api/v1/integrity/cases/{id}", get(integrity::get_case))
        .route(
            "/api/v1/integrity/cases/{id}/assign",
            post(integrity::assign),
        )
        .route(
            "/api/v1/integrity/cases/{id}/request-explanation",
            post(integrity::request_explanation),
        )
        .route("/api/v1/integrity/cases/{id}/close", post(integrity::close))
        .route("/api/v1/integrity/my-cases", get(integrity::my_cases))
        .route(
            "/api/v1/integrity/my-cases/{id}/explanation",
            post(integrity::explain),
        )
        .route("/api/v1/ledger/tree-head", get(ledger::tree_head))
        .route("/api/v1/ledger/tree-heads", get(ledger::tree_heads))
        .route("/api/v1/ledger/proof/inclusion", get(ledger::inclusion))
        .route("/api/v1/ledger/proof/consistency", get(ledger::consistency))
        .route("/api/v1/ledger/entries", get(ledger::entries))
        .route("/api/openapi.json", get(ops::openapi))
        .route("/metrics", get(ops::metrics))
        .route("/healthz", get(ops::health))
        // Inside the audit layer, so a panicking handler's request is still recorded.
        .layer(CatchPanicLayer::custom(error::panic_response))
        .route_layer(axum::middleware::from_fn_with_state(
            state.clone(),
            audit::record,
        ))
        .merge(ui)
        .fallback(not_found)
        .layer(DefaultBodyLimit::max(body_limit))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(tower_http::timeout::TimeoutLayer::with_status_code(
            axum::http::StatusCode::REQUEST_TIMEOUT,
            Duration::from_secs(60),
        ))
        .with_state(state)
}

async fn not_found() -> error::ApiError {
    error::ApiError::NotFound("no such endpoint".into())
}

/// Serves until `shutdown` resolves, with the retention purge running in the background.
pub async fn serve(
    state: AppState,
    listener: tokio::net::TcpListener,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    // Watches survive a restart: they are the active tracking authorisations in the store.
    let watches = realtime::load_watches(&state).await?;
    tracing::info!(watches, "active watches loaded");
    let hot_list = realtime::load_hot_list(&state).await?;
    tracing::info!(plates = hot_list, "hot list loaded");
    let relay = realtime::spawn_change_relay(&state).await?;
    let purge = retention::spawn_background(state.clone());
    let sweep = spawn_authorisation_sweep(state.clone());
    let signer = audit::spawn_signer(state.clone());
    let monitor = spawn_integrity_monitor(state.clone());
    let addr: SocketAddr = listener.local_addr()?;
    tracing::info!(%addr, "serving");
    let closing = state.closing.clone();
    let config = state.config.clone();
    connections::serve_connections(listener, router(state), &config, async move {
        shutdown.await;
        closing.send_replace(true);
    })
    .await;
    purge.abort();
    sweep.abort();
    signer.abort();
    if let Some(m) = monitor {
        m.abort();
    }
    if let Some(r) = relay {
        r.abort();
    }
    Ok(())
}

/// Runs the integrity rules over the entries added since the last run, every
/// `integrity_interval` (the first run one interval after start).
fn spawn_integrity_monitor(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    let period = state.config.integrity_interval?;
    Some(tokio::spawn(async move {
        let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        let mut leadership = leadership::Leadership::new(anpr_store::BackgroundTask::Integrity);
        loop {
            tick.tick().await;
            if !leadership.holds(&state).await {
                continue;
            }
            match monitor::run(&state, state.config.integrity.clone(), None).await {
                Ok((_, r)) if r.cases_opened > 0 => {
                    tracing::info!(
                        opened = r.cases_opened,
                        uses = r.uses,
                        "integrity cases opened"
                    )
                }
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "integrity run failed"),
            }
        }
    }))
}

/// Ends expired and lapsed authorisations (and records their ends) every
/// `authorisation_sweep_interval`, so they end even when nobody looks at them, and adds the
/// watches another process started.
fn spawn_authorisation_sweep(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.authorisation_sweep_interval);
        loop {
            tick.tick().await;
            match access::sweep(&state).await {
                Ok(0) => {}
                Ok(n) => tracing::info!(ended = n, "authorisations ended"),
                Err(e) => tracing::warn!(error = %e, "authorisation sweep failed"),
            }
            if let Err(e) = realtime::reconcile_watches(&state).await {
                tracing::warn!(error = %e, "watch reconciliation failed");
            }
            // Picks up a hot list another process loaded.
            if let Err(e) = realtime::load_hot_list(&state).await {
                tracing::warn!(error = %e, "hot list reload failed");
            }
        }
    })
}

//! The application layer of the accountable ANPR platform: every use of the platform, from any
//! entry point (the HTTP API, the CLI, the platform's own background tasks), as one HTTP-free
//! operation.
//!
//! Each operation takes an explicit caller and runs one sequence: authenticate, the policy
//! decides ([`access`]), the decision is recorded, data is fetched, the use's ledger entry is
//! durable ([`audit`]), and only then is the result returned. The HTTP server and the CLI are
//! thin on top: they parse, call an operation here and present its result or its [`AppError`].

pub mod access;
pub mod accounts;
pub mod audit;
pub mod auth;
pub mod cases;
pub mod catalog;
pub mod decoding;
pub mod disk;
pub mod error;
pub mod files;
pub mod ingest;
pub mod lanes;
mod leadership;
pub mod ledger_check;
pub mod ledger_counts;
pub mod metrics;
pub mod monitor;
pub mod network;
pub mod network_ledger;
pub mod network_uses;
pub mod realtime;
pub mod recognition;
pub mod registers;
pub mod reports;
pub mod retention;
pub mod search;
pub mod sign_in_throttle;
pub mod state;

use anpr_blobs::LocalBlobStore;
use anpr_store::{CaseStore, PgStore, ReportStore, SqliteStore, Store};
use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use error::{AppError, AppResult};
pub use state::{App, AppConfig};

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

    /// Creates what is missing of the deployment's directories (0700) and, with `database`
    /// (the embedded deployment), its SQLite files (0600). Existing paths are left as they are
    /// ([`DataDir::exposure_warnings`] says which others can read).
    pub fn prepare(&self, database: bool) -> std::io::Result<()> {
        for dir in [self.0.clone(), self.images(), self.ledger()] {
            files::private_dir(&dir)?;
        }
        if database {
            files::private_file(&self.database())?;
            files::private_file(&self.ledger_database())?;
        }
        Ok(())
    }

    /// A warning for each of the deployment's paths that other users of the machine can read
    /// (the server logs them at start).
    pub fn exposure_warnings(&self) -> Vec<String> {
        [
            self.0.clone(),
            self.images(),
            self.ledger(),
            self.database(),
            self.ledger_database(),
        ]
        .iter()
        .filter_map(|p| files::exposure_warning(p))
        .collect()
    }

    fn ledger_database(&self) -> PathBuf {
        self.ledger().join(anpr_ledger::store::DB_FILE)
    }
}

/// Opens the deployment's audit ledger (blocking): in PostgreSQL when `database_url` is given,
/// one ledger for every server on that database, else in its own SQLite file. Node files and
/// the signing key are in the data directory either way.
pub fn open_ledger(
    data: &DataDir,
    database_url: Option<&str>,
    keys: &anpr_ledger::keys::KeySource,
) -> anyhow::Result<anpr_ledger::Ledger> {
    open_ledger_named(data, database_url, keys, None)
}

/// [`open_ledger`], giving the origin line of its checkpoints (recorded when the ledger is
/// created; a different one is refused afterwards).
pub fn open_ledger_named(
    data: &DataDir,
    database_url: Option<&str>,
    keys: &anpr_ledger::keys::KeySource,
    origin: Option<&str>,
) -> anyhow::Result<anpr_ledger::Ledger> {
    let dir = data.ledger();
    let options = anpr_ledger::Options {
        keys: keys.clone(),
        origin: origin.map(str::to_owned),
        ..Default::default()
    };
    let ledger = match database_url.filter(|u| !u.is_empty()) {
        Some(url) => anpr_ledger::store::PgStore::open(url, &dir)
            .and_then(|entries| anpr_ledger::Ledger::open_store(&dir, Box::new(entries), options)),
        None => anpr_ledger::Ledger::open_with(&dir, options),
    };
    ledger.map_err(|e| anyhow::anyhow!("cannot open the audit ledger: {e}"))
}

impl App {
    /// Opens the embedded deployment in `dir` (SQLite and images on disk), creating it if new.
    pub fn open_embedded(dir: &Path, config: AppConfig) -> anyhow::Result<App> {
        let data = DataDir(dir.to_path_buf());
        data.prepare(true)?;
        let store = SqliteStore::open(data.database())?;
        let ledger = open_ledger_named(
            &data,
            None,
            &config.ledger_keys,
            config.ledger_origin.as_deref(),
        )?;
        Self::assemble(&data, store, ledger, config)
    }

    /// Opens a deployment whose database is at `database_url` when one is given
    /// (`postgres://...`: several processes may share it), else the embedded SQLite database
    /// in `dir`. `dir` holds the images, the ledger and its keys either way.
    pub async fn open(
        dir: &Path,
        database_url: Option<&str>,
        config: AppConfig,
    ) -> anyhow::Result<App> {
        let Some(url) = database_url.filter(|u| !u.is_empty()) else {
            return Self::open_embedded(dir, config);
        };
        if !(url.starts_with("postgres://") || url.starts_with("postgresql://")) {
            anyhow::bail!("--database-url must be a postgres:// URL (leave it out for SQLite)");
        }
        let data = DataDir(dir.to_path_buf());
        data.prepare(false)?;
        let store = PgStore::connect(url)
            .await
            .map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL database: {e}"))?;
        let (url, ledger_data, keys) = (url.to_string(), data.clone(), config.ledger_keys.clone());
        let origin = config.ledger_origin.clone();
        let ledger = tokio::task::spawn_blocking(move || {
            open_ledger_named(&ledger_data, Some(&url), &keys, origin.as_deref())
        })
        .await??;
        Self::assemble(&data, store, ledger, config)
    }

    /// One store serves every storage role: reads and access, reports, integrity cases, and
    /// the record of policy decisions.
    fn assemble<S>(
        data: &DataDir,
        store: S,
        ledger: anpr_ledger::Ledger,
        config: AppConfig,
    ) -> anyhow::Result<App>
    where
        S: Store + ReportStore + CaseStore + anpr_policy::DecisionRecorder + Clone,
    {
        let blobs: Arc<dyn anpr_blobs::BlobStore> = match config.images_url.as_deref() {
            Some(url) => Arc::new(anpr_blobs::ObjectBlobStore::open(url)?),
            None => Arc::new(LocalBlobStore::open(data.images())?),
        };
        let policy = anpr_policy::Policy::new(config.policy.clone())?;
        Ok(App {
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
            network_controls: Default::default(),
            closing: Arc::new(tokio::sync::watch::channel(false).0),
            data_dir: Arc::new(data.0.clone()),
            disk_low: Default::default(),
            decode_budget: Arc::new(decoding::DecodeBudget::new(&config.decode)),
            ledger_check: Default::default(),
            recognition: None,
            ingest_lane: Arc::new(lanes::IngestLane::new(config.ingest_rate_while_in_use)),
        })
    }

    /// Recognises the photos of reads that arrive without plate text with `recogniser`, on
    /// `workers` threads with room for `queue` waiting photos.
    pub fn with_recognition(
        mut self,
        recogniser: anpr_recognition::Recogniser,
        workers: usize,
        queue: usize,
    ) -> App {
        self.recognition = Some(Arc::new(recognition::RecognitionPool::start(
            Arc::new(recogniser),
            workers,
            queue,
        )));
        self
    }

    /// What an ingested read must meet: the batch size configured, and a capture time no
    /// older than the longest retention of any network plus [`READ_AGE_MARGIN_DAYS`].
    pub async fn ingest_limits(&self) -> AppResult<anpr_ingest::IngestLimits> {
        let longest = self.store.longest_retention_days().await?;
        Ok(anpr_ingest::IngestLimits {
            max_batch: self.config.max_batch_reads,
            max_age: longest
                .map(|days| chrono::TimeDelta::days(i64::from(days) + READ_AGE_MARGIN_DAYS)),
            ..Default::default()
        })
    }
}

/// What `user` must be told about the platform itself when they sign in or reload.
pub fn notices_for(app: &App, user: &anpr_domain::User) -> Vec<String> {
    let mut notices = ledger_check::notices_for(app, user);
    notices.extend(disk::notices_for(app, user));
    notices
}

/// Days past the longest retention for which an old read is still accepted: room for a
/// camera's backlog uploaded late, never for reads the next purge would delete at once.
pub const READ_AGE_MARGIN_DAYS: i64 = 7;

/// The platform's own work in the background: the retention purge, the authorisation sweep,
/// tree-head signing, the integrity monitor. Stopped when dropped.
pub struct BackgroundTasks(Vec<tokio::task::JoinHandle<()>>);

impl Drop for BackgroundTasks {
    fn drop(&mut self) {
        for task in &self.0 {
            task.abort();
        }
    }
}

impl App {
    /// Loads the live state a serving process needs (watches, the hot list, the change relay
    /// of a shared store) and starts the background tasks.
    pub async fn start_background(&self) -> anyhow::Result<BackgroundTasks> {
        // Nothing is served or signed over a ledger that was edited while the server was down.
        let (ledger, config) = (self.ledger.clone(), self.config.ledger_check.clone());
        let checked =
            tokio::task::spawn_blocking(move || ledger_check::check_at_start(&ledger, &config))
                .await??;
        tracing::info!(
            from = checked.from,
            entries = checked.entries,
            seconds = checked.seconds,
            "audit ledger checked"
        );
        self.metrics.ledger_intact.set(1);
        if self.ledger.key_in_directory() {
            tracing::warn!(
                dir = %self.ledger.dir().display(),
                "the ledger's signing key is in the data directory, where whoever can edit the \
                 ledger can also re-sign it: keep it apart with --signing-key (docs/operations.md)"
            );
        }
        // Watches survive a restart: they are the active tracking authorisations in the store.
        let watches = realtime::load_watches(self).await?;
        tracing::info!(watches, "active watches loaded");
        let hot_list = realtime::load_hot_list(self).await?;
        tracing::info!(plates = hot_list, "hot list loaded");
        let mut tasks = vec![
            retention::spawn_background(self.clone()),
            spawn_authorisation_sweep(self.clone()),
            audit::spawn_signer(self.clone()),
            disk::spawn_watchdog(self.clone()),
            ledger_check::spawn_verifier(self.clone(), checked.checker),
        ];
        tasks.extend(realtime::spawn_change_relay(self).await?);
        tasks.extend(spawn_integrity_monitor(self.clone()));
        Ok(BackgroundTasks(tasks))
    }
}

/// Runs the integrity rules over the entries added since the last run, every
/// `integrity_interval` (the first run one interval after start).
fn spawn_integrity_monitor(state: App) -> Option<tokio::task::JoinHandle<()>> {
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
fn spawn_authorisation_sweep(state: App) -> tokio::task::JoinHandle<()> {
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

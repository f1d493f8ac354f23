use anpr_server::{AppState, ServerConfig};
use clap::Args;
use std::path::{Path, PathBuf};

#[derive(Args, Clone)]
pub struct ServeArgs {
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Largest request body, in MiB.
    #[arg(long, default_value_t = 10)]
    pub max_body_mib: usize,
    /// Minutes between retention purges.
    #[arg(long, default_value_t = 60)]
    pub purge_every_minutes: u64,
    /// Bearer token that Prometheus may use at /metrics.
    #[arg(long, env = "ANPR_METRICS_TOKEN")]
    pub metrics_token: Option<String>,
    /// The URL people open when a TLS proxy is in front (`https://anpr.example`); an https URL
    /// makes the web UI's session cookie `Secure`.
    #[arg(long, env = "ANPR_PUBLIC_URL")]
    pub public_url: Option<String>,
    /// Optional map tile server for the web UI (`https://tiles.example/{z}/{x}/{y}.png`);
    /// without it the map draws New Zealand from the outline bundled in the binary.
    #[arg(long, env = "ANPR_MAP_TILES")]
    pub map_tiles: Option<String>,
    /// Recognition models, for reads that arrive with a photo but no plate text (default: the
    /// data directory's models/, used when `anpr models install` put them there).
    #[arg(long = "models", env = "ANPR_MODELS_DIR")]
    pub models: Option<PathBuf>,
    /// Photos waiting for a recognition worker before reads without plate text are refused
    /// with 503 and Retry-After.
    #[arg(long, default_value_t = anpr_app::recognition::DEFAULT_QUEUE)]
    pub recognition_queue: usize,
    /// Requests without valid credentials recorded one ledger entry each, per client address
    /// and minute; beyond, they are answered 429 and counted in one `throttled` entry.
    #[arg(long, default_value_t = anpr_server::HttpConfig::default().unauthenticated_per_minute)]
    pub unauthenticated_per_minute: u32,
    /// Memory the images being decoded may hold at once, in MiB, counted from each image's
    /// header before it is decoded (default: room for each decoding thread to decode the
    /// largest photo accepted, at most a quarter of the machine's memory).
    #[arg(long, env = "ANPR_DECODE_BUDGET_MIB")]
    pub decode_budget_mib: Option<u64>,
    /// Images decoded and recognised at once (default: the number of cores).
    #[arg(long, env = "ANPR_DECODE_CONCURRENCY", value_parser = clap::value_parser!(u64).range(1..=1024))]
    pub decode_concurrency: Option<u64>,
    /// Longest wait for room in the decode budget before a read is refused with 503 and
    /// Retry-After, in milliseconds.
    #[arg(long, env = "ANPR_DECODE_WAIT_MS", default_value_t = 1000)]
    pub decode_wait_ms: u64,
    /// Ledgers of at most this many entries are re-read whole before the server starts;
    /// longer ones from their latest signed head, the rest by the background sweep.
    #[arg(long, default_value_t = anpr_app::ledger_check::LedgerCheckConfig::default().full_at_start)]
    pub ledger_check_at_start: u64,
    /// Entries per second the background sweep re-reads the whole ledger at.
    #[arg(long, default_value_t = anpr_app::ledger_check::LedgerCheckConfig::default().entries_per_second)]
    pub ledger_check_rate: u64,
    /// An overseer's witness to push each new tree head to for cosigning, as
    /// `<its verifier key>=<its URL>` (repeat for several; comma-separated in the variable).
    #[arg(long = "witness", env = "ANPR_WITNESSES", value_delimiter = ',')]
    pub witnesses: Vec<anpr_server::witnessing::WitnessTarget>,
    /// Reads a second stored, at most, while officers are using the platform (for a second
    /// after each search, and while an alert stream is open); reads of watched or hot-listed
    /// plates are never held; 0: never held back (default: 6,000 a core).
    #[arg(long, env = "ANPR_INGEST_RATE_WHILE_IN_USE")]
    pub ingest_rate_while_in_use: Option<u32>,
    /// For load tests only: this many made-up watches, of plates no camera reads
    /// (`W0000000`…), put in the watch set once serving (memory only, never stored), so that
    /// every read is matched against a watch set of that size.
    #[arg(long, default_value_t = 0, hide_short_help = true)]
    pub synthetic_watches: usize,
}

impl ServeArgs {
    pub fn config(&self) -> anyhow::Result<ServerConfig> {
        let policy = super::policy_config()?;
        Ok(ServerConfig {
            app: anpr_app::AppConfig {
                purge_interval: std::time::Duration::from_secs(
                    self.purge_every_minutes.max(1) * 60,
                ),
                metrics_token: self.metrics_token.clone(),
                policy,
                decode: self.decode_config(),
                ingest_rate_while_in_use: match self.ingest_rate_while_in_use {
                    Some(0) => None,
                    Some(rate) => Some(rate),
                    None => Some(anpr_app::lanes::default_paced_rate()),
                },
                ledger_check: anpr_app::ledger_check::LedgerCheckConfig {
                    full_at_start: self.ledger_check_at_start,
                    entries_per_second: self.ledger_check_rate.max(1),
                    ..Default::default()
                },
                ..Default::default()
            },
            http: anpr_server::HttpConfig {
                max_body_bytes: self.max_body_mib * 1024 * 1024,
                public_url: self.public_url.clone(),
                ui: anpr_server::UiConfig {
                    tile_url: self.map_tiles.clone(),
                },
                unauthenticated_per_minute: self.unauthenticated_per_minute,
                witnesses: self.witnesses.clone(),
                ..Default::default()
            },
        })
    }
}

impl ServeArgs {
    /// The machine's defaults, with what was given on the command line in their place.
    pub fn decode_config(&self) -> anpr_app::decoding::DecodeConfig {
        use anpr_app::decoding::DecodeConfig;
        // The default budget is room for the threads there will be, not the cores there are.
        let mut config = match self.decode_concurrency {
            Some(n) => DecodeConfig::for_threads(n as usize),
            None => DecodeConfig::for_this_machine(),
        };
        if let Some(mib) = self.decode_budget_mib {
            config.budget_bytes = mib.saturating_mul(1 << 20);
        }
        config.wait = std::time::Duration::from_millis(self.decode_wait_ms);
        config
    }
}

pub async fn run(data: &Path, args: ServeArgs) -> anyhow::Result<()> {
    let state = super::open_server(data, args.config()?).await?;
    for warning in anpr_app::DataDir(data.to_path_buf()).exposure_warnings() {
        tracing::warn!("{warning}");
    }
    let state = with_recognition(state, data, &args)?;
    match state.ledger.note_verifier() {
        Ok(v) => tracing::info!("witnesses know this audit ledger by the key {v}"),
        Err(e) => tracing::warn!("the audit ledger's checkpoint key: {e}"),
    }
    let synthetic = synthetic_watches(&state, args.synthetic_watches).await?;
    crate::c_heap::spawn_trimmer(std::time::Duration::from_secs(10));
    serve_state_then(state, &args.listen, None, synthetic).await
}

/// What puts `n` made-up watches over the first network into the watch set, run once the
/// server has loaded the real ones.
async fn synthetic_watches(
    state: &AppState,
    n: usize,
) -> anyhow::Result<impl FnOnce() + Send + 'static> {
    let network = match n {
        0 => None,
        _ => Some(
            state
                .store
                .networks()
                .await?
                .first()
                .map(|n| n.id)
                .ok_or_else(|| {
                    anyhow::anyhow!("--synthetic-watches needs a camera network: add one first")
                })?,
        ),
    };
    let watches = state.watches.clone();
    Ok(move || {
        if let Some(network) = network {
            for w in anpr_realtime::synthetic::watches(n, network, chrono::Utc::now()) {
                watches.upsert(w);
            }
            tracing::warn!(
                n,
                "made-up watches added for a load test: every read is matched against them"
            );
        }
    })
}

/// Loads the recognition models when they are installed. Models named with `--models` must
/// load; the default directory is optional (without it, reads without plate text get 422).
pub fn with_recognition(
    state: AppState,
    data: &Path,
    args: &ServeArgs,
) -> anyhow::Result<AppState> {
    let dir = args
        .models
        .clone()
        .unwrap_or_else(|| anpr_recognition::models::model_dir(data));
    if !anpr_recognition::models::installed(&dir) {
        if args.models.is_some() {
            anyhow::bail!(
                "no recognition models in {}: run `anpr models install`",
                dir.display()
            );
        }
        tracing::info!(dir = %dir.display(), "no recognition models: reads without plate text are refused");
        return Ok(state);
    }
    let recogniser = anpr_recognition::Recogniser::load(&dir, Default::default()).map_err(|e| {
        anyhow::anyhow!(
            "cannot load the recognition models in {}: {e}",
            dir.display()
        )
    })?;
    let workers = state.config.decode.concurrency;
    tracing::info!(dir = %dir.display(), workers, queue = args.recognition_queue,
        decode_budget_mib = state.decode_budget.capacity_bytes() >> 20, "recognition models loaded");
    Ok(state.with_recognition(recogniser, workers, args.recognition_queue))
}

/// Binds and serves until Ctrl-C, printing the URL once listening.
pub async fn serve_state(
    state: AppState,
    listen: &str,
    banner: Option<String>,
) -> anyhow::Result<()> {
    serve_state_then(state, listen, banner, || {}).await
}

/// [`serve_state`], running `ready` once the server's background tasks have started.
async fn serve_state_then(
    state: AppState,
    listen: &str,
    banner: Option<String>,
    ready: impl FnOnce() + Send + 'static,
) -> anyhow::Result<()> {
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let addr = listener.local_addr()?;
    let shutdown = shutdown_signal()
        .map_err(|e| anyhow::anyhow!("cannot watch for Ctrl-C and SIGTERM: {e}"))?;
    anpr_server::serve_announced(state, listener, shutdown, move || {
        println!(
            "anpr listening on http://{addr}/ (web UI at http://{addr}/ui/, OpenAPI at http://{addr}/api/openapi.json)"
        );
        if let Some(b) = banner {
            println!("{b}");
        }
        ready();
    })
    .await
}

/// Ctrl-C, or SIGTERM (what systemd and container runtimes send): either starts the same
/// graceful shutdown, said on standard error so that whoever pressed Ctrl-C sees it was taken.
/// A second Ctrl-C ends the process at once, for when a request in progress will not finish.
/// The handlers are installed before it returns, so before the server says it is listening: a
/// Ctrl-C just after that line is a graceful shutdown, never the default abrupt end.
fn shutdown_signal() -> anyhow::Result<impl std::future::Future<Output = ()>> {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        let mut interrupt = signal(SignalKind::interrupt())?;
        let mut terminate = signal(SignalKind::terminate())?;
        Ok(async move {
            tokio::select! {
                _ = interrupt.recv() => {}
                _ = terminate.recv() => {}
            }
            say("anpr: shutting down: finishing the requests in progress (press Ctrl-C again to stop at once)");
            tokio::spawn(async move {
                if interrupt.recv().await.is_some() {
                    stopped_at_once();
                }
            });
        })
    }
    #[cfg(not(unix))]
    {
        Ok(async {
            let _ = tokio::signal::ctrl_c().await;
            say("anpr: shutting down: finishing the requests in progress (press Ctrl-C again to stop at once)");
            tokio::spawn(async {
                if tokio::signal::ctrl_c().await.is_ok() {
                    stopped_at_once();
                }
            });
        })
    }
}

fn stopped_at_once() {
    say("anpr: stopped at once; requests in progress were cut off");
    // 130: the shell's status for a process ended by Ctrl-C.
    std::process::exit(130);
}

/// A line on standard error that may be lost: `eprintln!` panics when stderr cannot be
/// written (a closed terminal), and a shutdown must not fail for want of its message.
fn say(line: &str) {
    use std::io::Write;
    let _ = writeln!(std::io::stderr(), "{line}");
}

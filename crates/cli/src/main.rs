//! `anpr`: one binary for the whole platform. Each subcommand is a thin layer over the
//! library crates; see ARCHITECTURE.md.

mod bench;
mod c_heap;
mod commands;
mod seed;

use clap::{Parser, Subcommand};

/// mimalloc returns freed memory to the system promptly; glibc's allocator kept hundreds of
/// MiB of freed ingest buffers resident across its per-thread arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

/// Threads for blocking work (SQLite, the ledger's fsyncs, password hashing): at least 32, or 4
/// per core. Tokio's default, 512, is what a few hundred concurrent clients reach, since most of
/// that work waits on the store's locks or the disk; every thread keeps its own stack and
/// allocator pages, and at 512 the server held 3.6 GiB under the soak test's mix (at 32, 0.4 GiB;
/// the store's reader pool bounds useful concurrency anyway). Past this bound, blocking work
/// queues.
fn max_blocking_threads() -> usize {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
    (4 * cores).max(32)
}

/// The heading of the options every subcommand takes (where the deployment is), so that in a
/// subcommand's help they stand apart from its own flags.
const GLOBAL_OPTIONS: &str = "Global options (every command)";

#[derive(Parser)]
#[command(name = "anpr", version, about = "Accountable ANPR platform")]
struct Cli {
    /// Data directory of the embedded deployment (SQLite database and images).
    #[arg(long, global = true, env = "ANPR_DATA", default_value = "./anpr-data", help_heading = GLOBAL_OPTIONS)]
    data: PathBuf,
    /// PostgreSQL database (`postgres://user@host:port/db`) instead of the embedded SQLite
    /// one; several servers may share it. The data directory still holds images and the ledger.
    #[arg(long, global = true, env = "ANPR_DATABASE_URL", help_heading = GLOBAL_OPTIONS)]
    database_url: Option<String>,
    /// Images in an S3-compatible object store (`s3://bucket/prefix`; credentials and endpoint
    /// from `AWS_*` variables) instead of the data directory, so that several servers share them.
    #[arg(long, global = true, env = "ANPR_IMAGES_URL", help_heading = GLOBAL_OPTIONS)]
    images_url: Option<String>,
    /// The audit ledger's private signing key, kept outside the data directory (mode 0600;
    /// create one with `anpr ledger new-key FILE`). Without it a new deployment keeps its key
    /// in the data directory, and the server warns.
    #[arg(long, global = true, env = "ANPR_LEDGER_SIGNING_KEY", help_heading = GLOBAL_OPTIONS)]
    signing_key: Option<PathBuf>,
    /// During a key rollover: the key being replaced. Heads are signed by both until the
    /// server runs without it (docs/operations.md).
    #[arg(
        long,
        global = true,
        env = "ANPR_LEDGER_PREVIOUS_SIGNING_KEY",
        requires = "signing_key",
        help_heading = GLOBAL_OPTIONS
    )]
    previous_signing_key: Option<PathBuf>,
    /// The origin line of the audit ledger's checkpoints, the name witnesses know the log by
    /// (e.g. `police.example/anpr-audit`); recorded when the ledger is created and never
    /// changed (default `anpr-audit-ledger/<signing key id>`).
    #[arg(long, global = true, env = "ANPR_LEDGER_ORIGIN", help_heading = GLOBAL_OPTIONS)]
    ledger_origin: Option<String>,
    /// Access-policy settings (JSON: purposes and their incident types, the police districts,
    /// training plates, windows, durations, rate limits); absent fields keep their defaults.
    /// Every command reads it, so the console checks what the server checks.
    #[arg(long, global = true, env = "ANPR_POLICY", help_heading = GLOBAL_OPTIONS)]
    policy: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the HTTP server.
    Serve(commands::serve::ServeArgs),
    /// Create (or reuse) a demo deployment with synthetic data, then serve it.
    Demo(commands::demo::DemoArgs),
    /// Load plate reads from a JSONL or CSV dump.
    Import(commands::import::ImportArgs),
    /// Search plate reads from the command line.
    Search(commands::search::SearchArgs),
    /// Delete reads past their network's retention period.
    Purge,
    /// Camera networks.
    #[command(subcommand)]
    Network(commands::catalog::NetworkCommand),
    /// Sites of a network.
    #[command(subcommand)]
    Site(commands::catalog::SiteCommand),
    /// Cameras at a site.
    #[command(subcommand)]
    Camera(commands::catalog::CameraCommand),
    /// Staff users.
    #[command(subcommand)]
    User(commands::user::UserCommand),
    /// The registers the access policy checks against (motor vehicles, staff, associates,
    /// stolen vehicles, incidents).
    #[command(subcommand)]
    Registers(commands::registers::RegistersCommand),
    /// Usage reports, the public transparency report and subject access requests.
    #[command(subcommand)]
    Report(commands::report::ReportCommand),
    /// The audit ledger: verify it here, or check a running server as an overseer.
    #[command(subcommand)]
    Ledger(commands::ledger::LedgerCommand),
    /// Export evidence: `anpr export read ID` writes a verifiable ZIP bundle.
    #[command(subcommand)]
    Export(ExportCommand),
    /// A consistent copy of the deployment (databases, images, ledger keys), online.
    Backup(commands::backup::BackupArgs),
    /// Bring a backup back into an empty data directory and verify its ledger.
    Restore(commands::backup::RestoreArgs),
    /// Move an embedded deployment's database and audit ledger into PostgreSQL, and verify it.
    Migrate(commands::migrate::MigrateArgs),
    /// Check an evidence bundle offline.
    VerifyBundle(commands::bundle::VerifyBundleArgs),
    /// A year of national use with planted misuse, written to an empty deployment (the
    /// article's audit, replayed); the planted truth goes to a file of its own.
    Simulate(commands::integrity::SimulateArgs),
    /// Integrity monitoring: the rules over the audit ledger.
    #[command(subcommand)]
    Integrity(commands::integrity::IntegrityCommand),
    /// Plate recognition models: install them from the package registry, verify them.
    #[command(subcommand)]
    Models(commands::recognise::ModelsCommand),
    /// Recognise plates in photos; prints one JSON line per photo (OpenALPR's fields).
    Recognise(commands::recognise::RecogniseArgs),
    /// The camera-side agent: recognises the photos an IP camera drops into a folder and sends
    /// the reads to a server, keeping each photo until the server has acknowledged it.
    Agent(commands::agent::AgentArgs),
    /// An overseer's witness of the audit ledger: cosigns each new tree head only when it
    /// extends the history it cosigned before.
    #[command(subcommand)]
    Witness(commands::witness::WitnessCommand),
    /// Benchmarks that print `bench: <name> <value> <unit>` lines.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum ExportCommand {
    /// One read with its images and the ledger's proof of the export.
    Read(commands::bundle::ExportArgs),
}

/// An `ANPR_*` variable set to the empty string (`ANPR_MODELS_DIR=` in a unit file, or a shell
/// script clearing it) means "not set", as an empty variable does to most Unix tools; clap would
/// refuse it as an option given without a value.
fn forget_empty_settings() {
    for (key, value) in std::env::vars_os() {
        if value.is_empty() && key.to_str().is_some_and(|k| k.starts_with("ANPR_")) {
            // Before any thread exists, so no other reader of the environment races this.
            std::env::remove_var(key);
        }
    }
}

/// A user's mistake (a wrong flag value, a refused request, a tampered ledger) is reported as
/// one plain line on stderr and exit status 1, whatever `RUST_BACKTRACE` says: a backtrace is
/// for the developers, and a panic still prints one.
fn main() -> std::process::ExitCode {
    match start() {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

fn start() -> anyhow::Result<()> {
    c_heap::limit_arenas();
    forget_empty_settings();
    let cli = Cli::parse();
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    tracing_subscriber::registry()
        .with(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with(
            tracing_subscriber::fmt::layer()
                .with_writer(std::io::stderr)
                // Colour codes only for a person at a terminal, never in a file or a journal.
                .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
                // A log line that cannot be written (stderr a file on a full disk) is lost, not
                // reported with `eprintln!`, which panics when stderr fails: in a request that
                // dropped the connection without an answer, at start it stopped the server.
                .log_internal_errors(false),
        )
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .max_blocking_threads(max_blocking_threads())
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data;
    commands::set_database_url(cli.database_url);
    commands::set_images_url(cli.images_url);
    commands::set_ledger_keys(cli.signing_key, cli.previous_signing_key);
    commands::set_ledger_origin(cli.ledger_origin);
    commands::set_policy_file(cli.policy);
    match cli.command {
        Command::Serve(args) => commands::serve::run(&data, args).await,
        Command::Demo(args) => commands::demo::run(&data, args).await,
        Command::Import(args) => commands::import::run(&data, args).await,
        Command::Search(args) => commands::search::run(&data, args).await,
        Command::Purge => commands::purge::run(&data).await,
        Command::Network(c) => commands::catalog::network(&data, c).await,
        Command::Site(c) => commands::catalog::site(&data, c).await,
        Command::Camera(c) => commands::catalog::camera(&data, c).await,
        Command::User(c) => commands::user::run(&data, c).await,
        Command::Registers(c) => commands::registers::run(&data, c).await,
        Command::Ledger(c) => commands::ledger::run(&data, c).await,
        Command::Report(c) => commands::report::run(&data, c).await,
        Command::Export(ExportCommand::Read(args)) => commands::bundle::export(&data, args).await,
        Command::Backup(args) => commands::backup::backup(&data, args).await,
        Command::Migrate(args) => commands::migrate::run(args).await,
        Command::Restore(args) => commands::backup::restore(&data, args).await,
        Command::VerifyBundle(args) => {
            let verdict = commands::bundle::verify(&args)?;
            println!("{}", verdict.message);
            if !verdict.trusted {
                // Distinct from a refused bundle (1): consistent, but its origin is unchecked.
                std::process::exit(2);
            }
            Ok(())
        }
        Command::Simulate(args) => commands::integrity::simulate_cmd(&data, args).await,
        Command::Integrity(c) => commands::integrity::run(&data, c).await,
        Command::Models(c) => {
            tokio::task::spawn_blocking(move || commands::recognise::models_command(&data, c))
                .await?
        }
        Command::Recognise(args) => {
            tokio::task::spawn_blocking(move || commands::recognise::recognise(&data, args)).await?
        }
        Command::Agent(args) => commands::agent::run(&data, args).await,
        Command::Witness(c) => commands::witness::run(c).await,
        Command::Bench(c) => bench::run(&data, c).await,
    }
}

//! `anpr`: one binary for the whole platform. Each subcommand is a thin layer over the
//! library crates; see ARCHITECTURE.md.

mod bench;
mod commands;
mod seed;

use clap::{Parser, Subcommand};

/// mimalloc returns freed memory to the system promptly; glibc's allocator kept hundreds of
/// MiB of freed ingest buffers resident across its per-thread arenas.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::path::PathBuf;

#[derive(Parser)]
#[command(name = "anpr", version, about = "Accountable ANPR platform")]
struct Cli {
    /// Data directory of the embedded deployment (SQLite database and images).
    #[arg(long, global = true, env = "ANPR_DATA", default_value = "./anpr-data")]
    data: PathBuf,
    /// PostgreSQL database (`postgres://user@host:port/db`) instead of the embedded SQLite
    /// one; several servers may share it. The data directory still holds images and the ledger.
    #[arg(long, global = true, env = "ANPR_DATABASE_URL")]
    database_url: Option<String>,
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
    /// Check an evidence bundle offline.
    VerifyBundle(commands::bundle::VerifyBundleArgs),
    /// Benchmarks that print `bench: <name> <value> <unit>` lines.
    #[command(subcommand)]
    Bench(bench::BenchCommand),
}

#[derive(Subcommand)]
enum ExportCommand {
    /// One read with its images and the ledger's proof of the export.
    Read(commands::bundle::ExportArgs),
}

fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .with_writer(std::io::stderr)
        .init();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    runtime.block_on(run(cli))
}

async fn run(cli: Cli) -> anyhow::Result<()> {
    let data = cli.data;
    commands::set_database_url(cli.database_url);
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
        Command::Export(ExportCommand::Read(args)) => commands::bundle::export(&data, args).await,
        Command::Backup(args) => commands::backup::backup(&data, args).await,
        Command::Restore(args) => commands::backup::restore(&data, args).await,
        Command::VerifyBundle(args) => {
            println!("{}", commands::bundle::verify(&args)?);
            Ok(())
        }
        Command::Bench(c) => bench::run(&data, c).await,
    }
}

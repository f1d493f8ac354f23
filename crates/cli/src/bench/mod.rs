//! Benchmarks. Each prints its figures as `bench: <name> <value> <unit>` lines, medians and
//! ratios against a baseline measured in the same run.

pub mod access;
mod core;
mod hardening;
mod image_bomb;
mod integrity;
mod ledger_monitor;
mod network_slice;
mod process;
mod realtime;
mod recognition;
mod reports;
mod stats;
mod witness;

use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum BenchCommand {
    /// Ingest and search at scale (issue: core platform).
    Core(core::CoreArgs),
    /// One access-policy decision with a national-size motor vehicle register (issue: access
    /// control).
    Access(access::AccessArgs),
    /// Audit ledger: append rate, proof times on a 100-million-entry log, full verify rate.
    Ledger(LedgerArgs),
    /// An overseer's `anpr ledger monitor` over loopback: a whole log downloaded and verified
    /// from nothing, entries per second and the cost per million entries.
    LedgerMonitor(ledger_monitor::LedgerMonitorArgs),
    /// Real-time tracking: matching against 1,000,000 watches, ingest-to-alert latency over
    /// SSE, memory of 1,000 alert streams (issue: real-time tracking).
    Realtime(realtime::RealtimeArgs),
    /// Usage and transparency reports over a year of national use (350,000 decisions).
    Reports(reports::ReportsArgs),
    /// Integrity monitoring: the rules over a simulated national year (about 350,000 uses),
    /// recall and precision against the planted misuse, an incremental last-hour run.
    Integrity(integrity::IntegrityArgs),
    /// A camera network's ledger slice for the busiest month of the simulated national year
    /// (every entry that touched it, redacted, with proofs): seconds to build and to verify.
    NetworkSlice(network_slice::NetworkSliceArgs),
    /// What an attacker reaches first, through HTTP: failed sign-ins for a real and an unknown
    /// staff id (the time difference), ledger bytes per request of a flood without
    /// credentials.
    Hardening(hardening::HardeningArgs),
    /// Plate recognition on folders of labelled real photos: exact accuracy, milliseconds per
    /// photo on one thread, photos per second on all cores.
    Recognition(recognition::RecognitionArgs),
    /// Decode budget: 16 concurrent 40-megapixel PNG overviews without plate text to a server
    /// process; its peak resident memory against the bound its decode budget states, and how
    /// many uploads it refused with 503.
    ImageBomb(image_bomb::ImageBombArgs),
    /// Witnesses: the median time a tree head's push to a witness on loopback takes, with
    /// its consistency proof, check, cosignature and durable record.
    Witness(witness::WitnessArgs),
}

#[derive(clap::Args)]
pub struct LedgerArgs {
    /// Small sizes (1 million entries) for a quick run.
    #[arg(long)]
    quick: bool,
    /// Where to build the logs (default: the system temporary directory).
    #[arg(long)]
    dir: Option<std::path::PathBuf>,
}

pub async fn run(data: &Path, cmd: BenchCommand) -> anyhow::Result<()> {
    match cmd {
        BenchCommand::Core(args) => core::run(args).await,
        BenchCommand::Access(args) => access::run(args).await,
        BenchCommand::Realtime(args) => realtime::run(args).await,
        BenchCommand::Reports(args) => reports::run(args).await,
        BenchCommand::Integrity(args) => integrity::run(args).await,
        BenchCommand::NetworkSlice(args) => network_slice::run(args).await,
        BenchCommand::LedgerMonitor(args) => ledger_monitor::run(args).await,
        BenchCommand::Hardening(args) => hardening::run(args).await,
        BenchCommand::ImageBomb(args) => image_bomb::run(args).await,
        BenchCommand::Witness(args) => witness::run(args).await,
        BenchCommand::Recognition(args) => {
            let data = data.to_path_buf();
            tokio::task::spawn_blocking(move || recognition::run(&data, args)).await?
        }
        BenchCommand::Ledger(args) => {
            let mut opts = if args.quick {
                anpr_ledger::bench::BenchOptions::quick()
            } else {
                anpr_ledger::bench::BenchOptions::default()
            };
            opts.dir = args.dir;
            let figures =
                tokio::task::spawn_blocking(move || anpr_ledger::bench::run(&opts)).await??;
            for f in figures {
                figure(&f.name, f.value, &f.unit);
            }
            Ok(())
        }
    }
}

/// Prints one figure in the format every benchmark uses.
pub fn figure(name: &str, value: f64, unit: &str) {
    let v = if value.abs() >= 100.0 {
        format!("{value:.0}")
    } else if value.abs() >= 1.0 {
        format!("{value:.2}")
    } else {
        format!("{value:.4}")
    };
    println!("bench: {name} {v} {unit}");
}

//! `anpr bench integrity`: the article's audit, replayed and timed. A simulated national year
//! (about 350,000 uses) is written to a temporary deployment; the full integrity run — reading
//! and decoding every ledger entry, looking facts up in the SQLite registers, every rule — is
//! timed (median of several), recall and precision are measured against the planted truth, and
//! an incremental run over the last hour of entries is timed with the engine holding the year
//! before it (as a long-running monitor does).

use super::figure;
use crate::commands::integrity::{districts, load_simulation};
use anpr_integrity::{score, Engine, Expected, IntegrityConfig};
use anpr_ledger::Ledger;
use anpr_server::monitor::feed_ledger;
use anpr_server::DataDir;
use anpr_store::SqliteStore;
use anpr_synth::usage::{simulate, SimConfig};
use std::time::Instant;

#[derive(clap::Args)]
pub struct IntegrityArgs {
    /// Seed of the simulated year.
    #[arg(long, default_value_t = 2017)]
    seed: u64,
    /// Full runs timed (the median is printed).
    #[arg(long, default_value_t = 3)]
    repeats: usize,
    /// A fiftieth of the national volume (a quick check of the benchmark itself).
    #[arg(long)]
    small: bool,
}

pub async fn run(args: IntegrityArgs) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cfg = if args.small {
        SimConfig::small(args.seed)
    } else {
        SimConfig::national(args.seed)
    };
    let sim = tokio::task::spawn_blocking(move || simulate(&cfg)).await?;
    let truth: Vec<Expected> = sim
        .truth
        .iter()
        .map(|p| Expected {
            rule: p.rule.clone(),
            staff_id: p.staff_id.clone(),
            key: p.key.clone(),
        })
        .collect();
    load_simulation(dir.path(), &sim).await?;
    let uses = sim.events.len();
    let last_hour_from = {
        let end = sim.events.last().map(|e| e.time).unwrap_or_default();
        sim.events
            .partition_point(|e| e.time < end - chrono::Duration::hours(1)) as u64
    };
    drop(sim);
    let dirs = DataDir(dir.path().to_path_buf());
    let store = SqliteStore::open(dirs.database())?;
    let ledger = Ledger::open(dirs.ledger())?;
    let districts = districts(&store).await?;

    let (times, s, incremental_ms, last_hour) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut times = Vec::new();
            let mut findings = Vec::new();
            for _ in 0..args.repeats.max(1) {
                let started = Instant::now();
                let mut engine = Engine::new(IntegrityConfig::default());
                store.with_registers_blocking(|view| {
                    feed_ledger(&mut engine, view, &ledger, &districts, 0, None)
                })??;
                engine.finish();
                times.push(started.elapsed().as_secs_f64());
                findings = engine.findings().to_vec();
            }
            let s = score(&findings, &truth);
            // Incremental: an engine holding the year up to the last hour, then the last hour's
            // entries read, decoded and checked, timed.
            let mut inc_times = Vec::new();
            for _ in 0..args.repeats.max(1) {
                let mut warm = Engine::new(IntegrityConfig::default());
                store.with_registers_blocking(|view| {
                    feed_ledger(
                        &mut warm,
                        view,
                        &ledger,
                        &districts,
                        0,
                        Some(last_hour_from),
                    )
                })??;
                warm.finish();
                let started = Instant::now();
                store.with_registers_blocking(|view| {
                    feed_ledger(&mut warm, view, &ledger, &districts, last_hour_from, None)
                })??;
                warm.finish();
                inc_times.push(started.elapsed().as_secs_f64() * 1000.0);
            }
            Ok((
                times,
                s,
                median(&mut inc_times),
                ledger.size() - last_hour_from,
            ))
        })
        .await??;
    let mut times = times;
    eprintln!(
        "{uses} ledger entries; {} planted cases, {} findings (routine samples aside); last hour: {last_hour} entries",
        s.planted, s.findings
    );
    for m in &s.missed {
        eprintln!("missed: {} {} {}", m.rule, m.staff_id, m.key);
    }
    figure("integrity_350k_s", median(&mut times), "s");
    figure("integrity_recall", s.recall, "ratio");
    figure("integrity_precision", s.precision, "ratio");
    figure("integrity_incremental_ms", incremental_ms, "ms");
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

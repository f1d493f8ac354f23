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
    /// Instead: one full pass over a synthetic ledger of this many entries (the simulated year
    /// repeated, each repeat a year later and with its own plates), timed with its peak
    /// resident memory, and the time for 100 million entries projected from the rate.
    #[arg(long)]
    entries: Option<u64>,
}

/// CPU seconds (user and system) used by this process so far. The machine is shared: wall
/// time alone says as much about the neighbours as about the pass.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces, hence the last ')'): utime and
    // stime are the 12th and 13th, in clock ticks (100 a second on Linux).
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

/// Peak resident memory since the last [`reset_peak_rss`], in MiB (0 where unknown).
fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Resets the kernel's peak-RSS mark, so that the peak measured is the pass's, not the
/// simulation's before it.
fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// The simulated year's events again, `k` years (of 52 weeks) later, with every exact plate
/// made distinct to this repeat: new vehicles, the same staff, files and registers.
fn repeat_year(events: &[anpr_ledger::Event], k: u64) -> Vec<anpr_ledger::Event> {
    let shift = chrono::Duration::weeks(52 * k as i64);
    let suffix = format!("Z{}", radix36(k));
    events
        .iter()
        .map(|e| {
            let mut e = e.clone();
            e.time += shift;
            if let Some(p) = e.query.get("plate").and_then(|p| p.as_str()) {
                if let Ok(p) = anpr_domain::NormalisedPlate::parse(p) {
                    let q = format!("{}{suffix}", p.as_str());
                    if anpr_domain::NormalisedPlate::parse(&q).is_ok() {
                        e.query["plate"] = serde_json::Value::String(q);
                    }
                }
            }
            e
        })
        .collect()
}

fn radix36(mut n: u64) -> String {
    let digits = b"0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let mut out = Vec::new();
    loop {
        out.push(digits[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// `--entries N`: one pass over a ledger of N entries, throughput and peak memory.
async fn run_scale(args: &IntegrityArgs, n: u64) -> anyhow::Result<()> {
    let dir = tempfile::tempdir()?;
    let cfg = SimConfig::national(args.seed);
    let mut sim = tokio::task::spawn_blocking(move || simulate(&cfg)).await?;
    load_simulation(dir.path(), &sim).await?;
    let dirs = DataDir(dir.path().to_path_buf());
    let ledger = Ledger::open(dirs.ledger())?;
    let events = std::mem::take(&mut sim.events);
    drop(sim);
    let started = Instant::now();
    let ledger = tokio::task::spawn_blocking(move || -> anyhow::Result<Ledger> {
        let mut k = 1;
        while ledger.size() < n {
            let year = repeat_year(&events, k);
            let want = (n - ledger.size()).min(year.len() as u64) as usize;
            for chunk in year[..want].chunks(20_000) {
                ledger.append(chunk)?;
            }
            k += 1;
        }
        ledger.sign_tree_head()?;
        Ok(ledger)
    })
    .await??;
    eprintln!(
        "synthetic ledger of {} entries written in {:.0} s",
        ledger.size(),
        started.elapsed().as_secs_f64()
    );
    let store = SqliteStore::open(dirs.database())?;
    let districts = districts(&store).await?;
    // One pass in two halves, measured apart: the peak memory after each (flat when the rules'
    // windows bound their state) and the rate of the second half (the sustained rate, with the
    // staff, files and registers looked up long before).
    let half = n / 2;
    let (halves, uses, found, held) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let mut engine = Engine::new(IntegrityConfig::default());
        let mut halves = Vec::new();
        reset_peak_rss();
        for (from, to) in [(0, Some(half)), (half, None)] {
            let cpu0 = cpu_seconds();
            let started = Instant::now();
            store.with_registers_blocking(|view| {
                feed_ledger(&mut engine, view, &ledger, &districts, from, to)
            })??;
            if to.is_none() {
                engine.finish();
            }
            halves.push((
                started.elapsed().as_secs_f64(),
                cpu_seconds() - cpu0,
                peak_rss_mib(),
            ));
        }
        let found = engine.stats().findings.values().sum::<u64>();
        Ok((halves, engine.stats().uses, found, engine.held_state()))
    })
    .await??;
    let ((secs1, cpu1, rss1), (secs2, cpu2, rss2)) = (halves[0], halves[1]);
    let (secs, cpu) = (secs1 + secs2, cpu1 + cpu2);
    let sustained = (n - half) as f64 / secs2;
    eprintln!(
        "one full pass over {n} entries ({uses} uses, {found} findings, {held} records held at \
         the end): {secs:.1} s wall, {cpu:.1} s CPU; first half {secs1:.1} s wall ({cpu1:.1} s \
         CPU), peak {rss1:.0} MiB; second half {secs2:.1} s wall ({cpu2:.1} s CPU), peak \
         {rss2:.0} MiB; load average {}; 100 million entries PROJECTED from the second half's \
         rate, not measured",
        load_average()
    );
    figure("integrity_entries_per_s", n as f64 / secs, "entries/s");
    figure("integrity_sustained_entries_per_s", sustained, "entries/s");
    figure(
        "integrity_sustained_entries_per_cpu_s",
        (n - half) as f64 / cpu2.max(1e-9),
        "entries/s",
    );
    figure(&format!("integrity_peak_rss_mib_at_{half}"), rss1, "MiB");
    figure(&format!("integrity_peak_rss_mib_at_{n}"), rss2, "MiB");
    figure("integrity_peak_rss_mib", rss2, "MiB");
    figure("integrity_100m_s", 1e8 / sustained, "s (projected)");
    Ok(())
}

/// The 1-, 5- and 15-minute load averages, as the kernel gives them.
fn load_average() -> String {
    std::fs::read_to_string("/proc/loadavg")
        .map(|l| l.split_whitespace().take(3).collect::<Vec<_>>().join(" "))
        .unwrap_or_else(|_| "unknown".into())
}

pub async fn run(args: IntegrityArgs) -> anyhow::Result<()> {
    if let Some(n) = args.entries {
        return run_scale(&args, n).await;
    }
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
            let mut cpu = Vec::new();
            let mut findings = Vec::new();
            for _ in 0..args.repeats.max(1) {
                let cpu0 = cpu_seconds();
                let started = Instant::now();
                let mut engine = Engine::new(IntegrityConfig::default());
                store.with_registers_blocking(|view| {
                    feed_ledger(&mut engine, view, &ledger, &districts, 0, None)
                })??;
                engine.finish();
                times.push(started.elapsed().as_secs_f64());
                cpu.push(cpu_seconds() - cpu0);
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
                (times, cpu),
                s,
                median(&mut inc_times),
                ledger.size() - last_hour_from,
            ))
        })
        .await??;
    let (mut times, mut cpu) = times;
    eprintln!(
        "{uses} ledger entries; {} planted cases, {} findings (routine samples aside); last hour: {last_hour} entries",
        s.planted, s.findings
    );
    eprintln!("load average {}", load_average());
    for m in &s.missed {
        eprintln!("missed: {} {} {}", m.rule, m.staff_id, m.key);
    }
    figure("integrity_350k_s", median(&mut times), "s");
    figure("integrity_350k_cpu_s", median(&mut cpu), "s");
    figure("integrity_recall", s.recall, "ratio");
    figure("integrity_precision", s.precision, "ratio");
    figure("integrity_incremental_ms", incremental_ms, "ms");
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

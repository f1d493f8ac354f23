//! `anpr bench integrity`: the article's audit, replayed and timed. A simulated national year
//! (about 350,000 uses) is written to a temporary deployment; the full integrity run — reading
//! and decoding every ledger entry, looking facts up in the SQLite registers, every rule — is
//! timed (median of several), recall and precision are measured against the planted truth, and
//! an incremental run over the last hour of entries is timed with the engine holding the year
//! before it (as a long-running monitor does).

use super::figure;
use super::process::Proc;
use crate::commands::integrity::{districts, load_simulation};
use anpr_app::monitor::{feed_ledger, feed_ledger_adjusted};
use anpr_app::DataDir;
use anpr_integrity::{score, Engine, Expected, IntegrityConfig, Use};
use anpr_ledger::Ledger;
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
    /// resident memory (and, below 100 million, the time for 100 million projected).
    #[arg(long)]
    entries: Option<u64>,
    /// With `--entries`: the entries the stored ledger holds, when the disk cannot hold them all
    /// (a 100-million-entry ledger needs about 100 GB); it is read as many times as it takes,
    /// each reading replayed as the years after the last.
    #[arg(long, requires = "entries")]
    ledger_entries: Option<u64>,
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

/// One stretch of the pass, measured apart: entries, wall and CPU seconds, peak memory after it.
struct Segment {
    entries: u64,
    secs: f64,
    cpu: f64,
    rss_mib: f64,
}

/// Drops the kernel's clean page cache (root only), so that a replayed ledger is read from the
/// disk each time, as a ledger too large for memory would be. Whether it could is reported.
fn drop_page_cache() -> bool {
    let _ = std::process::Command::new("sync").status();
    std::fs::write("/proc/sys/vm/drop_caches", "1").is_ok()
}

/// `--entries N [--ledger-entries M]`: one pass over N entries, throughput and peak memory.
///
/// A ledger of M entries is written (M = N unless given); when M < N it is read ⌈N/M⌉ times,
/// each reading replayed as the years after the previous one (times moved on by the years the
/// stored ledger spans, plates suffixed with the reading's number, indices continued), so the
/// rules see one history of N entries while the disk holds M. Every entry is still read from
/// the ledger and decoded; the page cache is dropped before each reading where the process
/// may (root), so that the disk is read as it would be for a ledger larger than memory.
async fn run_scale(args: &IntegrityArgs, n: u64) -> anyhow::Result<()> {
    let stored = args.ledger_entries.unwrap_or(n).clamp(1, n.max(1));
    let dir = tempfile::tempdir()?;
    let cfg = SimConfig::national(args.seed);
    let mut sim = tokio::task::spawn_blocking(move || simulate(&cfg)).await?;
    load_simulation(dir.path(), &sim).await?;
    let dirs = DataDir(dir.path().to_path_buf());
    let ledger = Ledger::open(dirs.ledger())?;
    let events = std::mem::take(&mut sim.events);
    drop(sim);
    let started = Instant::now();
    let (ledger, years) = tokio::task::spawn_blocking(move || -> anyhow::Result<(Ledger, u64)> {
        // The simulated year is in the ledger already; `k` counts the years written.
        let mut k = 1;
        while ledger.size() < stored {
            let year = repeat_year(&events, k);
            let want = (stored - ledger.size()).min(year.len() as u64) as usize;
            for chunk in year[..want].chunks(20_000) {
                ledger.append(chunk)?;
            }
            k += 1;
        }
        ledger.sign_tree_head()?;
        Ok((ledger, k))
    })
    .await??;
    let stored = ledger.size();
    eprintln!(
        "synthetic ledger of {stored} entries ({years} simulated years) written in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let store = SqliteStore::open(dirs.database())?;
    let districts = districts(&store).await?;
    // The stretches measured apart: the readings of the stored ledger, or its two halves when
    // it is read once. The peak memory after each is flat when the rules' windows bound their
    // state; the rate after the first is the sustained rate (staff, files and registers
    // looked up long before).
    let readings = n.div_ceil(stored);
    let stretches: Vec<(u64, u64, u64)> = if readings == 1 {
        vec![(0, 0, stored / 2), (0, stored / 2, stored)]
    } else {
        (0..readings)
            .map(|r| (r, 0, (n - r * stored).min(stored)))
            .collect()
    };
    let (segments, cold, uses, found, held) =
        tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let mut engine = Engine::new(IntegrityConfig::default());
            let mut segments = Vec::new();
            let mut cold = true;
            Proc::current().reset_peak_rss();
            for &(reading, from, to) in &stretches {
                if readings > 1 {
                    cold &= drop_page_cache();
                }
                let shift = chrono::Duration::weeks(52 * years as i64 * reading as i64);
                let suffix = format!("~{reading}");
                let adjust = |u: &mut Use| {
                    if reading > 0 {
                        u.index += reading * stored;
                        u.at += shift;
                        if let Some(plate) = &mut u.plate {
                            plate.push_str(&suffix);
                        }
                    }
                };
                let cpu0 = Proc::current().cpu_seconds();
                let started = Instant::now();
                store.with_registers_blocking(|view| {
                    feed_ledger_adjusted(
                        &mut engine,
                        view,
                        &ledger,
                        &districts,
                        from,
                        Some(to),
                        &adjust,
                    )
                })??;
                // Each stretch ends as a monitor's run does: the day-level rules judged and the
                // new findings and routine samples handed out (the server stores them as
                // cases), so what the engine holds after it is its state, not a backlog.
                engine.finish();
                segments.push(Segment {
                    entries: to - from,
                    secs: started.elapsed().as_secs_f64(),
                    cpu: Proc::current().cpu_seconds() - cpu0,
                    rss_mib: Proc::current().peak_rss_mib(),
                });
            }
            let stats = engine.stats();
            let found = stats.findings.values().sum::<u64>();
            eprintln!(
                "findings by rule (routine samples are handed out, not held): {:?}",
                stats.findings
            );
            Ok((
                segments,
                cold && readings > 1,
                engine.stats().uses,
                found,
                engine.held_state(),
            ))
        })
        .await??;
    let secs: f64 = segments.iter().map(|s| s.secs).sum();
    let cpu: f64 = segments.iter().map(|s| s.cpu).sum();
    let later = &segments[1..];
    let sustained = later.iter().map(|s| s.entries).sum::<u64>() as f64
        / later.iter().map(|s| s.secs).sum::<f64>().max(1e-9);
    let sustained_cpu = later.iter().map(|s| s.entries).sum::<u64>() as f64
        / later.iter().map(|s| s.cpu).sum::<f64>().max(1e-9);
    eprintln!(
        "one full pass over {n} entries ({uses} uses, {found} findings, {held} records held at \
         the end) from a stored ledger of {stored} read {readings} time(s){}: {secs:.1} s wall, \
         {cpu:.1} s CPU; load average {}",
        if readings > 1 {
            if cold {
                ", the page cache dropped before each reading"
            } else {
                ", the page cache NOT dropped (not root): later readings may come from memory"
            }
        } else {
            ""
        },
        load_average()
    );
    let mut done = 0;
    for s in &segments {
        done += s.entries;
        eprintln!(
            "  to {done} entries: {:.1} s wall, {:.1} s CPU, peak {:.0} MiB",
            s.secs, s.cpu, s.rss_mib
        );
        figure(
            &format!("integrity_peak_rss_mib_at_{done}"),
            s.rss_mib,
            "MiB",
        );
    }
    figure("integrity_entries_per_s", n as f64 / secs, "entries/s");
    figure("integrity_sustained_entries_per_s", sustained, "entries/s");
    figure(
        "integrity_sustained_entries_per_cpu_s",
        sustained_cpu,
        "entries/s",
    );
    figure(
        "integrity_peak_rss_mib",
        segments.iter().map(|s| s.rss_mib).fold(0.0, f64::max),
        "MiB",
    );
    if n == 100_000_000 {
        figure("integrity_100m_s", secs, "s");
    } else {
        // Not measured: the time for 100 million at the sustained rate.
        figure("integrity_100m_projected_s", 1e8 / sustained, "s");
    }
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
            class: p.note.clone(),
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
                let cpu0 = Proc::current().cpu_seconds();
                let started = Instant::now();
                let mut engine = Engine::new(IntegrityConfig::default());
                store.with_registers_blocking(|view| {
                    feed_ledger(&mut engine, view, &ledger, &districts, 0, None)
                })??;
                engine.finish();
                times.push(started.elapsed().as_secs_f64());
                cpu.push(Proc::current().cpu_seconds() - cpu0);
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
        "{uses} ledger entries; {} planted cases, {} findings (routine samples aside), {} of \
         them about honest work; last hour: {last_hour} entries",
        s.planted,
        s.findings,
        s.unexpected.len()
    );
    eprint!("{}", s.tables());
    for f in s.unexpected.iter().take(40) {
        eprintln!(
            "about honest work: {} {} {}: {}",
            f.rule.as_str(),
            f.staff_id,
            f.key,
            f.explanation
        );
    }
    eprintln!("load average {}", load_average());
    for m in &s.missed {
        eprintln!("missed: {} {} {}", m.rule, m.staff_id, m.key);
    }
    figure("integrity_350k_s", median(&mut times), "s");
    figure("integrity_350k_cpu_s", median(&mut cpu), "s");
    figure("integrity_recall", s.recall, "ratio");
    figure("integrity_precision", s.precision, "ratio");
    figure("integrity_planted", s.planted as f64, "cases");
    figure("integrity_findings", s.findings as f64, "findings");
    figure(
        "integrity_false_findings",
        s.unexpected.len() as f64,
        "findings",
    );
    figure("integrity_incremental_ms", incremental_ms, "ms");
    Ok(())
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(|a, b| a.total_cmp(b));
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

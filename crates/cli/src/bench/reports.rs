//! `anpr bench reports`: the usage and transparency reports over a year of national use.
//!
//! Writes N decisions (default 350,000, the police audit's count) spread over the 12 months
//! before now, in 12 districts, 6 purposes and 2 networks, with refusals and own-vehicle blocks
//! among them, and 2,000 alerts; then times, five times each (median), the usage report for the
//! year by month, district and network, and the transparency report of the last month (two
//! aggregations and the shaping). The baseline, measured in the same run, reads the same
//! decisions row by row (no index) and counts by month in Rust.

use super::figure;
use super::stats::Samples;
use anpr_app::App as AppState;
use anpr_reports::{Grouping, Month};
use anpr_synth::places::DISTRICTS;
use chrono::{Duration, Utc};
use clap::Args;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct ReportsArgs {
    /// Decisions written.
    #[arg(long, default_value_t = 350_000)]
    decisions: u64,
    /// Directory for the deployment (default: a temporary one under the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
}

const PURPOSES: [&str; 6] = [
    "stolen_vehicle",
    "burglary",
    "serious_crime",
    "missing_person",
    "traffic",
    "fraud",
];

fn fill(path: &std::path::Path, n: u64) -> anyhow::Result<()> {
    let mut conn = anpr_store::sqlite::direct_connection(path)?;
    let tx = conn.transaction()?;
    {
        let mut dec = tx.prepare(
            "INSERT INTO decisions (at, request_id, actor, user_id, district, action, target,
             purpose_code, file_number, justification, outcome, refusal_code, notes, training)
             VALUES (?1, 'bench', ?2, ?3, ?4, ?5, ?6, ?7, 'F1', 'bench justification', ?8, ?9,
             '[]', 0)",
        )?;
        let mut net = tx.prepare("INSERT INTO decision_networks VALUES (?1, ?2)")?;
        let mut rng = rand::rngs::StdRng::seed_from_u64(6);
        let now = Utc::now().timestamp_millis();
        let year = Duration::days(365).num_milliseconds();
        for i in 0..n {
            let at = now - rng.gen_range(0..year);
            let user = rng.gen_range(1..6150i64);
            let district = DISTRICTS[(user % 12) as usize];
            let roll = rng.gen_range(0..1000);
            let (action, outcome, refusal) = match roll {
                0..=799 => ("search", "allowed", None),
                800..=899 => ("view_image", "allowed", None),
                900..=949 => ("view_read", "allowed", None),
                950..=959 => ("tracking_request", "pending_approval", None),
                960..=969 => ("tracking_approve", "allowed", None),
                970..=989 => ("search", "refused", Some("file_not_yours")),
                _ => ("search", "refused", Some("own_vehicle")),
            };
            dec.execute(rusqlite::params![
                at,
                format!("staff:S{user}"),
                user,
                district,
                action,
                format!("P{:05}", i % 90_000),
                PURPOSES[(i % 6) as usize],
                outcome,
                refusal
            ])?;
            let id = tx.last_insert_rowid();
            net.execute(rusqlite::params![id, 1 + (i % 2) as i64])?;
            if action == "search" && i % 3 == 0 {
                net.execute(rusqlite::params![id, 2 - (i % 2) as i64])?;
            }
        }
    }
    tx.commit()?;
    Ok(())
}

/// The baseline: every decision of the range read row by row (no index), counted by month.
fn scan(path: &std::path::Path, from: i64, to: i64) -> anyhow::Result<usize> {
    let conn = anpr_store::sqlite::direct_connection(path)?;
    let mut stmt = conn.prepare(
        "SELECT at, action, outcome, refusal_code FROM decisions NOT INDEXED
         WHERE at >= ?1 AND at < ?2 AND training = 0",
    )?;
    let mut by_month: HashMap<String, [u64; 4]> = HashMap::new();
    let mut rows = stmt.query(rusqlite::params![from, to])?;
    while let Some(r) = rows.next()? {
        let at = chrono::DateTime::from_timestamp_millis(r.get(0)?).unwrap_or_default();
        let action: String = r.get(1)?;
        let outcome: String = r.get(2)?;
        let refusal: Option<String> = r.get(3)?;
        let c = by_month.entry(at.format("%Y-%m").to_string()).or_default();
        c[0] += u64::from(action == "search" && outcome != "refused");
        c[1] += u64::from(action == "view_image" && outcome != "refused");
        c[2] += u64::from(outcome == "refused");
        c[3] += u64::from(refusal.as_deref() == Some("own_vehicle"));
    }
    Ok(by_month.len())
}

fn median_ms(mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<f64> {
    let mut s = Samples::new();
    for _ in 0..5 {
        let t = Instant::now();
        f()?;
        s.push(t.elapsed());
    }
    Ok(s.percentile_ms(50.0))
}

pub async fn run(args: ReportsArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir_in(args.dir.clone().unwrap_or_else(|| PathBuf::from(".")))?;
    let state = AppState::open_embedded(tmp.path(), Default::default())?;
    state.store.create_network("Retail", 60).await?;
    state.store.create_network("Fuel", 60).await?;
    let db = anpr_app::DataDir(tmp.path().to_path_buf()).database();
    let t = Instant::now();
    let n = args.decisions;
    let path = db.clone();
    tokio::task::spawn_blocking(move || fill(&path, n)).await??;
    eprintln!(
        "{n} decisions written in {:.1} s",
        t.elapsed().as_secs_f64()
    );

    let to = Utc::now() + Duration::minutes(1);
    let from = to - Duration::days(366);
    let handle = tokio::runtime::Handle::current();
    let mut timed = Vec::new();
    for by in [Grouping::Month, Grouping::District, Grouping::Network] {
        let q = anpr_reports::usage::query(from, to, by)?;
        let state = state.clone();
        let h = handle.clone();
        let ms = tokio::task::spawn_blocking(move || {
            median_ms(|| {
                let r = h
                    .block_on(anpr_app::reports::usage_national(&state, q))
                    .map_err(|e| anyhow::anyhow!("{e}"))?;
                anyhow::ensure!(r.totals.searches > 0, "no searches counted");
                Ok(())
            })
        })
        .await??;
        timed.push((by, ms));
    }
    let month = Month::of(Utc::now()).plus(-1);
    let s2 = state.clone();
    let h = handle.clone();
    let transparency_ms = tokio::task::spawn_blocking(move || {
        median_ms(|| {
            h.block_on(anpr_app::reports::transparency(&s2, month, Utc::now()))
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            Ok(())
        })
    })
    .await??;
    let (f, t2) = (from.timestamp_millis(), to.timestamp_millis());
    let scan_ms = tokio::task::spawn_blocking(move || {
        median_ms(|| {
            scan(&db, f, t2)?;
            Ok(())
        })
    })
    .await??;

    figure("reports_decisions", n as f64, "decisions");
    for (by, ms) in &timed {
        figure(&format!("reports_usage_by_{}_ms", by.as_str()), *ms, "ms");
    }
    figure("reports_transparency_ms", transparency_ms, "ms");
    figure("reports_baseline_row_scan_ms", scan_ms, "ms");
    figure("reports_usage_by_month_speedup", scan_ms / timed[0].1, "x");
    Ok(())
}

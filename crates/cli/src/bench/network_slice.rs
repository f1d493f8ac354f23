//! `anpr bench network-slice`: a camera network's ledger slice for one month of national use,
//! built and verified. The simulated national year of `bench integrity` is appended to a fresh
//! ledger (not timed), every use of plate data recording the networks it reached (a search
//! reaches both national networks, the other uses one of them), with a signed head at the end
//! of each month, as a server signing a head a minute would have; then network 1's slice of the
//! busiest month (the last) is built at the head after it ([`anpr_ledger::Ledger::network_slice`])
//! and verified ([`anpr_ledger::verify_slice`]), each timed.

use std::time::Instant;

use super::figure;
use anpr_ledger::{AuditFacts, Ledger, Month};
use anpr_synth::usage::{simulate, SimConfig};

#[derive(clap::Args)]
pub struct NetworkSliceArgs {
    /// Seed of the simulated year.
    #[arg(long, default_value_t = 2017)]
    seed: u64,
    /// A fiftieth of the national volume (a quick check of the benchmark itself).
    #[arg(long)]
    small: bool,
}

pub async fn run(args: NetworkSliceArgs) -> anyhow::Result<()> {
    let cfg = if args.small {
        SimConfig::small(args.seed)
    } else {
        SimConfig::national(args.seed)
    };
    tokio::task::spawn_blocking(move || measure(&cfg)).await?
}

fn measure(cfg: &SimConfig) -> anyhow::Result<()> {
    let sim = simulate(cfg);
    let dir = tempfile::tempdir()?;
    let ledger = Ledger::open(dir.path())?;
    let mut month = None;
    let mut batch = Vec::new();
    let mut k = 0u64;
    let started = Instant::now();
    for mut e in sim.events {
        let m = Month::of(e.time);
        if month.is_some_and(|prev| prev != m) {
            ledger.append(&std::mem::take(&mut batch))?;
            ledger.maybe_sign(m.start() - chrono::Duration::seconds(1))?;
        }
        month = Some(m);
        if e.actor.role != "system" {
            let networks = if e.action == anpr_ledger::Action::Search {
                vec![1, 2]
            } else {
                vec![1 + (k % 2) as i64]
            };
            k += 1;
            e = e.facts(AuditFacts::new().network_ids(networks));
        }
        batch.push(e);
        if batch.len() == 20_000 {
            ledger.append(&std::mem::take(&mut batch))?;
        }
    }
    ledger.append(&batch)?;
    let last = month.ok_or_else(|| anyhow::anyhow!("the simulation produced no events"))?;
    let head = ledger
        .maybe_sign(last.end())?
        .ok_or_else(|| anyhow::anyhow!("no head was due at the end of the year"))?;
    println!(
        "ledger of {} entries ({} signed heads) written in {:.1} s; slice of network 1 for {last}",
        ledger.size(),
        ledger.tree_heads()?.len(),
        started.elapsed().as_secs_f64()
    );

    let t = Instant::now();
    let slice = ledger.network_slice(1, &head, Some(last))?;
    let build = t.elapsed().as_secs_f64();
    let bytes = serde_json::to_vec(&slice)?.len();
    let t = Instant::now();
    let v = anpr_ledger::verify_slice(&slice, &[ledger.public_key()])?;
    let verify = t.elapsed().as_secs_f64();
    figure("network_slice_build_s", build, "s");
    figure("network_slice_verify_s", verify, "s");
    figure("network_slice_entries", v.total as f64, "entries");
    figure("network_slice_in_month", v.in_month as f64, "entries");
    figure("network_slice_json_mb", bytes as f64 / 1e6, "MB");
    Ok(())
}

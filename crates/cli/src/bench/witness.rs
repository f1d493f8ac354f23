//! `anpr bench witness`: what a witness's cosignature costs the log. A witness serves on
//! loopback; for each of `--pushes` new tree heads the bench times the push of its checkpoint
//! with a consistency proof, the witness's check and cosignature, its durable record and the
//! answer, and prints the median as `witness_cosign_ms`.

use std::sync::Arc;
use std::time::Instant;

use anpr_ledger::{Action, Actor, Event, Ledger};
use anpr_witness::client::{push, Pushed};
use anpr_witness::Witness;

use super::stats::Samples;

#[derive(clap::Args)]
pub struct WitnessArgs {
    /// Tree heads pushed.
    #[arg(long, default_value_t = 200)]
    pushes: u64,
}

pub async fn run(args: WitnessArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let ledger = Arc::new(Ledger::open(tmp.path().join("ledger"))?);
    let witness = Arc::new(Witness::open(
        &tmp.path().join("witness"),
        Some("bench.example/witness"),
        vec![ledger.note_verifier()?],
    )?);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let url = format!("http://{}", listener.local_addr()?);
    let server = tokio::spawn(anpr_witness::service::serve(listener, witness));
    let http = reqwest::Client::new();
    let mut samples = Samples::new();
    let mut cosigned = 0;
    for i in 0..args.pushes {
        let l = ledger.clone();
        let note = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
            let event = Event::new(Actor::staff("S00042", "analyst"), Action::Search)
                .purpose("INV")
                .justification(format!("bench push {i}"));
            l.append(&[event])?;
            let head = l.sign_tree_head()?;
            l.checkpoint(head.size)?
                .ok_or_else(|| anyhow::anyhow!("no checkpoint was signed"))
        })
        .await??;
        let size = ledger.size();
        let l = ledger.clone();
        let proof = move |from: u64| Ok(l.consistency_proof(from, size)?.hashes);
        let started = Instant::now();
        match push(&http, &url, &note, cosigned, proof).await? {
            Pushed::Cosigned(_) => samples.push(started.elapsed()),
            Pushed::Refused { status, message } => {
                anyhow::bail!("the witness refused head {size} ({status}): {message}")
            }
        }
        cosigned = size;
    }
    server.abort();
    super::figure("witness_cosign_ms", samples.percentile_ms(50.0), "ms");
    Ok(())
}

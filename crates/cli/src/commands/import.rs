//! `anpr import FILE`: loads a JSONL or CSV dump of reads, with a progress bar. Bad lines are
//! reported and skipped; every good line is stored.

use anpr_app::audit::{AuditHandle, Channel};
use anpr_app::App as AppState;
use anpr_ingest::import::{self, DumpFormat};
use anpr_ingest::IncomingRead;
use anpr_ledger::Action;
use chrono::Utc;
use clap::Args;
use std::io::BufReader;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ImportArgs {
    /// A `.jsonl`/`.ndjson` or `.csv` file of reads, each with its camera id.
    pub file: PathBuf,
    /// Reads stored per transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
}

/// How many bad lines are printed in full before only counting them.
const MAX_REPORTED_ERRORS: usize = 20;

pub async fn run(data: &Path, args: ImportArgs) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    let file = std::fs::File::open(&args.file)
        .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", args.file.display()))?;
    let len = file.metadata()?.len();
    let format = DumpFormat::from_path(&args.file).ok_or_else(|| {
        anyhow::anyhow!(
            "cannot tell the format of {}: name it .jsonl or .csv",
            args.file.display()
        )
    })?;
    let bar = indicatif::ProgressBar::new(len);
    bar.set_style(indicatif::ProgressStyle::with_template(
        "importing {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
    )?);
    let reader = BufReader::new(bar.wrap_read(file));
    let known_cameras: std::collections::HashSet<i64> =
        state.store.cameras().await?.iter().map(|c| c.id).collect();

    let mut batch: Vec<(i64, IncomingRead)> = Vec::with_capacity(args.batch);
    let (mut stored, mut bad) = (0u64, 0u64);
    let limits = state.ingest_limits().await?;
    for (line, item) in import::reads(reader, format, Utc::now(), limits) {
        let problem = match item {
            Ok((camera, _)) if !known_cameras.contains(&camera) => {
                Some(format!("camera_id: no camera {camera}"))
            }
            Ok(read) => {
                batch.push(read);
                None
            }
            Err(e) => Some(e.to_string()),
        };
        if let Some(p) = problem {
            bad += 1;
            if bad as usize <= MAX_REPORTED_ERRORS {
                bar.suspend(|| eprintln!("line {line}: {p}"));
            }
        }
        if batch.len() >= args.batch {
            stored += store(&state, &mut batch).await?;
            bar.set_message(format!("{stored} stored, {bad} refused"));
        }
    }
    stored += store(&state, &mut batch).await?;
    bar.finish_and_clear();
    println!(
        "imported {stored} reads from {}; {bad} lines refused",
        args.file.display()
    );
    if bad as usize > MAX_REPORTED_ERRORS {
        println!("(only the first {MAX_REPORTED_ERRORS} refused lines were shown)");
    }
    Ok(())
}

/// Stores a batch through the application's ingestion (images durable first, then the reads,
/// then real-time matching, as a camera's upload): one ledger entry per camera in the batch.
async fn store(state: &AppState, batch: &mut Vec<(i64, IncomingRead)>) -> anyhow::Result<u64> {
    let mut by_camera: std::collections::BTreeMap<i64, Vec<IncomingRead>> = Default::default();
    for (camera, incoming) in batch.drain(..) {
        by_camera.entry(camera).or_default().push(incoming);
    }
    let mut fresh = 0;
    for (camera, reads) in by_camera {
        let audit = AuditHandle::new(Channel::Cli, super::operator(), Action::Ingest);
        audit.query(serde_json::json!({ "camera_id": camera }));
        let outcomes = super::in_use(
            state,
            &audit,
            anpr_app::ingest::store_reads(state, &audit, camera, reads),
        )
        .await?;
        fresh += outcomes.iter().filter(|o| !o.duplicate).count() as u64;
    }
    Ok(fresh)
}

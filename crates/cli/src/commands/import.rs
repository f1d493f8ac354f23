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

/// The formats, in `anpr import --help`; docs/operations.md says the same.
const FORMATS: &str = "\
Formats (one read per line; the file name's ending says which):
  .jsonl / .ndjson  one JSON object per line: camera_id, captured_at, plate, confidence
                    and optionally external_id and vehicle ({\"make\":..,\"colour\":..})
    {\"camera_id\":1,\"captured_at\":\"2026-03-01T10:00:00+13:00\",\"plate\":\"QTN123\",\"confidence\":0.91}
  .csv              a header line naming the columns, in any order: camera_id, captured_at,
                    plate, confidence and optionally external_id, make, colour
    camera_id,captured_at,plate,confidence
    1,2026-03-01T10:00:00+13:00,QTN123,0.91

  camera_id   a camera's number, as `anpr camera list` shows it
  captured_at RFC 3339 time with its zone, e.g. 2026-03-01T10:00:00+13:00
  plate       letters A-Z and digits, up to 10 (spaces, dashes and dots are dropped)
  confidence  the recogniser's confidence, 0 to 1
  external_id the camera's own id for the read; a read already stored with it is skipped

A line that cannot be stored is refused and listed with its number and the reason; the
other lines are stored.";

#[derive(Args)]
#[command(after_help = FORMATS)]
pub struct ImportArgs {
    /// A `.jsonl`/`.ndjson` or `.csv` file of reads, each with its camera id (formats below).
    pub file: PathBuf,
    /// Reads stored per transaction.
    #[arg(long, default_value_t = 5_000)]
    pub batch: usize,
}

/// How many refused lines are listed before only counting them: enough to see every kind of
/// mistake in a file, without a wrong file of millions of lines flooding the terminal.
const MAX_REPORTED_ERRORS: usize = 100;

/// A refusal as one plain phrase: the field first when there is one (`captured_at "x" is not an
/// RFC 3339 timestamp`), and no field when the whole line is wrong (`is not valid JSON`).
fn reason(e: &anpr_ingest::IngestError) -> String {
    match e.field() {
        "" | "body" | "line" => e.message().to_string(),
        field => format!("{field} {}", e.message()),
    }
}

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
            Ok((camera, _)) if !known_cameras.contains(&camera) => Some(format!(
                "camera_id {camera} is no camera here; add it with `anpr camera add` \
                     or correct the line"
            )),
            Ok(read) => {
                batch.push(read);
                None
            }
            Err(e) => Some(reason(&e)),
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
    let lines = |n: u64| if n == 1 { "line" } else { "lines" };
    println!(
        "imported {stored} reads from {}; {bad} {} refused",
        args.file.display(),
        lines(bad)
    );
    if bad as usize > MAX_REPORTED_ERRORS {
        let more = bad - MAX_REPORTED_ERRORS as u64;
        println!(
            "the first {MAX_REPORTED_ERRORS} refused lines are listed above; {more} more {} \
             refused too, often for the same reasons",
            lines(more)
        );
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

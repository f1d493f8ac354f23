//! `anpr registers import KIND FILE`: loads a register (vehicles, staff, associates, stolen,
//! incidents) from CSV or JSON with a progress bar, through the same library call as the admin
//! API. Rows are upserted in batches, each batch one transaction; every change is logged with
//! its source. The first bad row stops the import (naming its line); batches before it stay,
//! and importing the corrected file again changes only what differs.

use anpr_app::registers::{batches, Format};
use anpr_ledger::Action;
use anpr_store::{ImportSource, RegisterKind};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum RegistersCommand {
    /// Load rows into a register from a CSV (header row) or JSON (array or one object per
    /// line) file.
    Import {
        /// vehicles, staff, associates, stolen or incidents.
        kind: String,
        /// The register's rows: CSV with a header line, or JSON (an array, or one object per
        /// line); docs/access-control.md lists each register's columns.
        file: PathBuf,
        /// Where the rows come from, recorded with every change (default: the file name).
        #[arg(long)]
        source: Option<String>,
        /// csv or json (default: from the file name).
        #[arg(long)]
        format: Option<String>,
        /// Rows per transaction.
        #[arg(long, default_value_t = 20_000)]
        batch: usize,
    },
    /// How many rows each register holds.
    Counts,
}

pub fn parse_kind(kind: &str) -> anyhow::Result<RegisterKind> {
    RegisterKind::parse(kind).ok_or_else(|| {
        anyhow::anyhow!(
            "unknown register {kind:?}: vehicles, staff, associates, stolen or incidents"
        )
    })
}

pub async fn run(data: &Path, cmd: RegistersCommand) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    match cmd {
        RegistersCommand::Import {
            kind,
            file,
            source,
            format,
            batch,
        } => {
            let kind = parse_kind(&kind)?;
            let format = match format.as_deref() {
                Some("csv") => Format::Csv,
                Some("json") => Format::Json,
                Some(other) => anyhow::bail!("unknown format {other:?}: csv or json"),
                None => Format::from_path(&file).ok_or_else(|| {
                    anyhow::anyhow!(
                        "cannot tell the format of {}: name it .csv or .json, or pass --format",
                        file.display()
                    )
                })?,
            };
            let f = std::fs::File::open(&file)
                .map_err(|e| anyhow::anyhow!("cannot open {}: {e}", file.display()))?;
            let bar = indicatif::ProgressBar::new(f.metadata()?.len());
            bar.set_style(indicatif::ProgressStyle::with_template(
                "importing {bar:40} {bytes}/{total_bytes} ({bytes_per_sec}, eta {eta}) {msg}",
            )?);
            let source = ImportSource {
                source: source.unwrap_or_else(|| {
                    file.file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_else(|| "file".into())
                }),
                imported_by: format!(
                    "cli:{}",
                    std::env::var("USER").unwrap_or_else(|_| "operator".into())
                ),
            };
            let mut rows = batches(kind, format, bar.wrap_read(f), batch)
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let (mut inserted, mut updated, mut unchanged, mut stopped) = (0u64, 0u64, 0u64, 0);
            loop {
                let next = match rows.next() {
                    None => break,
                    Some(Ok(b)) => b,
                    Some(Err(e)) => {
                        bar.finish_and_clear();
                        anyhow::bail!(
                            "{e}; {} rows before it were imported (inserted {inserted}, \
                             updated {updated})",
                            inserted + updated + unchanged
                        );
                    }
                };
                // One ledger entry per batch.
                let query = serde_json::json!({
                    "register": next.kind().as_str(), "reads": next.len(), "rows": rows.rows()
                });
                let report = super::ledgered(
                    &state,
                    super::operator(),
                    Action::RegisterImport,
                    query,
                    anpr_app::access::import_register(&state, next, source.clone()),
                )
                .await?;
                inserted += report.inserted;
                updated += report.updated;
                unchanged += report.unchanged;
                stopped += report.stopped.len();
                bar.set_message(format!("{} rows", rows.rows()));
            }
            bar.finish_and_clear();
            println!(
                "{} register: {inserted} inserted, {updated} updated, {unchanged} unchanged \
                 (source {:?})",
                kind.as_str(),
                source.source
            );
            if stopped > 0 {
                println!("{stopped} tracking authorisation(s) stopped: their stolen report ended");
            }
        }
        RegistersCommand::Counts => {
            for kind in RegisterKind::ALL {
                println!(
                    "{}\t{}",
                    kind.as_str(),
                    state.store.register_count(kind).await?
                );
            }
        }
    }
    Ok(())
}

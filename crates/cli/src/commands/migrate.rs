//! `anpr migrate --from-sqlite DIR --to postgres://...`: moves an embedded deployment's
//! database and audit ledger into an empty PostgreSQL database, with progress, then checks the
//! move: every table counted on both sides, and the ledger's size and root hash equal.
//!
//! The data directory itself (images, ledger signing key) stays where it is: serve the
//! PostgreSQL deployment with `--data DIR --database-url URL`, and give any further server the
//! same signing key.

use anpr_app::DataDir;
use anpr_ledger::store::{
    copy_log, EntryStore, PgStore as PgEntries, SqliteStore as SqliteEntries,
};
use anpr_ledger::Ledger;
use anpr_store::PgStore;
use clap::Args;
use std::io::Write;
use std::path::PathBuf;
use std::time::Instant;

#[derive(Args)]
pub struct MigrateArgs {
    /// The embedded deployment's data directory (`anpr.sqlite`, `ledger/`, `images/`).
    #[arg(long = "from-sqlite", value_name = "DIR")]
    pub from: PathBuf,
    /// The empty PostgreSQL database to move it into.
    #[arg(long = "to", value_name = "URL")]
    pub to: String,
}

/// Progress on one line per table, rewritten in place.
fn report_progress(what: &str, rows: u64, started: Instant) {
    let secs = started.elapsed().as_secs_f64().max(1e-3);
    eprint!(
        "\r  {what:<20} {rows:>12} rows  {:>10.0} rows/s",
        rows as f64 / secs
    );
    let _ = std::io::stderr().flush();
}

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    if !(args.to.starts_with("postgres://") || args.to.starts_with("postgresql://")) {
        anyhow::bail!("--to must be a postgres:// URL");
    }
    let data = DataDir(args.from.clone());
    let database = data.database();
    if !database.is_file() {
        anyhow::bail!(
            "{} holds no embedded deployment (no {})",
            args.from.display(),
            database.display()
        );
    }
    let store = PgStore::connect(&args.to)
        .await
        .map_err(|e| anyhow::anyhow!("cannot open the PostgreSQL database: {e}"))?;

    eprintln!("copying the database from {}", database.display());
    let started = Instant::now();
    let mut current = String::new();
    let mut table_started = Instant::now();
    let report = store
        .copy_from_sqlite(&database, &mut |table, rows| {
            if table != current {
                if !current.is_empty() {
                    eprintln!();
                }
                current = table.to_string();
                table_started = Instant::now();
            }
            report_progress(table, rows, table_started);
        })
        .await?;
    eprintln!();

    eprintln!("copying the audit ledger");
    let ledger_dir = data.ledger();
    let (url, dir) = (args.to.clone(), ledger_dir.clone());
    let entries = tokio::task::spawn_blocking(move || -> anyhow::Result<u64> {
        let mut from = SqliteEntries::open(&dir.join(anpr_ledger::store::DB_FILE))?;
        let mut to = PgEntries::open(&url, &dir)?;
        let ledger_started = Instant::now();
        let n = copy_log(&mut from, &mut to, &mut |n| {
            report_progress("ledger entries", n, ledger_started)
        })?;
        eprintln!();
        Ok(n)
    })
    .await??;

    eprintln!("verifying");
    let mut ok = report.verified();
    for t in &report.tables {
        let mark = if t.sqlite == t.postgres {
            "ok"
        } else {
            "MISMATCH"
        };
        println!(
            "{:<20} sqlite {:>12}  postgres {:>12}  {mark}",
            t.table, t.sqlite, t.postgres
        );
    }
    let (url, dir) = (args.to.clone(), ledger_dir);
    let (sqlite_head, pg_head) = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let sqlite = Ledger::open(&dir)?;
        let mut pg_entries = PgEntries::open(&url, &dir)?;
        let heads = pg_entries.tree_heads()?.len();
        let pg = Ledger::open_store(&dir, Box::new(pg_entries), Default::default())?;
        Ok((
            (sqlite.size(), sqlite.root()?, sqlite.tree_heads()?.len()),
            (pg.size(), pg.root()?, heads),
        ))
    })
    .await??;
    let ledger_ok = sqlite_head == pg_head && pg_head.0 == entries;
    ok &= ledger_ok;
    println!(
        "{:<20} sqlite {:>12}  postgres {:>12}  {}",
        "ledger entries",
        sqlite_head.0,
        pg_head.0,
        if ledger_ok { "ok" } else { "MISMATCH" }
    );
    println!(
        "ledger root          {} (sqlite) {} (postgres), {} signed heads",
        hex::encode(sqlite_head.1),
        hex::encode(pg_head.1),
        pg_head.2
    );
    if !ok {
        anyhow::bail!("the copy does not match the original; the PostgreSQL database is incomplete, do not use it");
    }
    println!(
        "moved in {:.1} s; serve it with: anpr --data {} --database-url <URL> serve",
        started.elapsed().as_secs_f64(),
        args.from.display()
    );
    Ok(())
}

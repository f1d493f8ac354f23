//! `anpr backup DIR` and `anpr restore DIR`: a consistent copy of a running deployment.
//!
//! Both databases are copied with SQLite's `VACUUM INTO`, which reads one consistent snapshot
//! while ingestion goes on. Images are copied afterwards: an image is durable before any read
//! that refers to it commits, so every image the snapshot refers to is already on disk. The
//! ledger's node files are derived data, rebuilt from the entries when the copy is opened, and
//! the restored ledger is verified in full before the restore reports success.

use anpr_ledger::Ledger;
use clap::Args;
use std::fs;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct BackupArgs {
    /// An empty or new directory for the backup.
    pub dest: PathBuf,
}

#[derive(Args)]
pub struct RestoreArgs {
    /// A directory written by `anpr backup`.
    pub backup: PathBuf,
}

const MANIFEST: &str = "BACKUP-MANIFEST.json";

fn ensure_empty(dir: &Path) -> anyhow::Result<()> {
    if dir.exists() && fs::read_dir(dir)?.next().is_some() {
        anyhow::bail!("{} is not empty: refusing to overwrite it", dir.display());
    }
    anpr_app::files::private_dir(dir)?;
    Ok(())
}

fn vacuum_into(from: &Path, to: &Path) -> anyhow::Result<()> {
    let conn =
        rusqlite::Connection::open_with_flags(from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    // Created private first: VACUUM INTO would create it with the process's umask.
    anpr_app::files::private_file(to)?;
    conn.execute("VACUUM INTO ?1", [to.to_string_lossy()])?;
    Ok(())
}

/// Copies every file under `from` to `to` (skipping `tmp/`), returning how many were copied.
fn copy_tree(from: &Path, to: &Path, bar: &indicatif::ProgressBar) -> anyhow::Result<u64> {
    let mut n = 0;
    if !from.exists() {
        return Ok(0);
    }
    anpr_app::files::private_dir(to)?;
    for entry in fs::read_dir(from)? {
        let entry = entry?;
        let name = entry.file_name();
        let (src, dst) = (entry.path(), to.join(&name));
        if entry.file_type()?.is_dir() {
            if name != "tmp" {
                n += copy_tree(&src, &dst, bar)?;
            }
        } else {
            fs::copy(&src, &dst)?;
            n += 1;
            bar.inc(1);
        }
    }
    Ok(n)
}

fn copy_keys(from: &Path, to: &Path) -> anyhow::Result<()> {
    use anpr_ledger::keys::{KEY_FILE, PUBLIC_KEY_FILE, RETIRED_KEYS_FILE};
    anpr_app::files::private_dir(to)?;
    // The private key is here only when it is not kept apart (`--signing-key`); the retired
    // keys only after a rotation.
    for (name, required) in [
        (PUBLIC_KEY_FILE, true),
        (KEY_FILE, false),
        (RETIRED_KEYS_FILE, false),
    ] {
        if !required && !from.join(name).exists() {
            continue;
        }
        // fs::copy keeps the permission bits, so a private key stays 0600.
        fs::copy(from.join(name), to.join(name))
            .map_err(|e| anyhow::anyhow!("copying {name}: {e}"))?;
    }
    Ok(())
}

fn spinner(what: &str) -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(what.to_string());
    bar
}

pub async fn backup(data: &Path, args: BackupArgs) -> anyhow::Result<()> {
    refuse_postgres()?;
    let src = anpr_app::DataDir(data.to_path_buf());
    anyhow::ensure!(
        src.database().exists(),
        "{} holds no deployment",
        data.display()
    );
    ensure_empty(&args.dest)?;
    let dst = anpr_app::DataDir(args.dest.clone());
    anpr_app::files::private_dir(&dst.ledger())?;
    let started = std::time::Instant::now();
    vacuum_into(&src.database(), &dst.database())?;
    // The record of use's own file (a deployment from before it had one has none yet: the
    // restored one gets it at its first open).
    let uses = anpr_store::sqlite::uses_path(&src.database());
    if uses.exists() {
        vacuum_into(&uses, &anpr_store::sqlite::uses_path(&dst.database()))?;
    }
    vacuum_into(
        &src.ledger().join(anpr_ledger::store::DB_FILE),
        &dst.ledger().join(anpr_ledger::store::DB_FILE),
    )?;
    copy_keys(&src.ledger(), &dst.ledger())?;
    let bar = spinner("copying images");
    let images = copy_tree(&src.images(), &dst.images(), &bar)?;
    bar.finish_and_clear();
    let manifest = serde_json::json!({
        "format": "anpr-backup/1",
        "taken_at": chrono::Utc::now(),
        "images": images,
    });
    fs::write(
        args.dest.join(MANIFEST),
        serde_json::to_vec_pretty(&manifest)?,
    )?;
    println!(
        "backup of {} written to {} ({images} images) in {:.1} s",
        data.display(),
        args.dest.display(),
        started.elapsed().as_secs_f64()
    );
    Ok(())
}

pub async fn restore(data: &Path, args: RestoreArgs) -> anyhow::Result<()> {
    refuse_postgres()?;
    anyhow::ensure!(
        args.backup.join(MANIFEST).exists(),
        "{} is not a backup written by `anpr backup`",
        args.backup.display()
    );
    ensure_empty(data)?;
    let src = anpr_app::DataDir(args.backup.clone());
    let dst = anpr_app::DataDir(data.to_path_buf());
    fs::copy(src.database(), dst.database())?;
    let uses = anpr_store::sqlite::uses_path(&src.database());
    if uses.exists() {
        fs::copy(&uses, anpr_store::sqlite::uses_path(&dst.database()))?;
    }
    anpr_app::files::private_dir(&dst.ledger())?;
    fs::copy(
        src.ledger().join(anpr_ledger::store::DB_FILE),
        dst.ledger().join(anpr_ledger::store::DB_FILE),
    )?;
    copy_keys(&src.ledger(), &dst.ledger())?;
    let bar = spinner("copying images");
    let images = copy_tree(&src.images(), &dst.images(), &bar)?;
    bar.finish_and_clear();

    let ledger_dir: PathBuf = dst.ledger();
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        Ok(Ledger::open(&ledger_dir)?.verify_full()?)
    })
    .await??;
    anyhow::ensure!(
        report.is_ok(),
        "the restored ledger does not verify: {report}"
    );
    let state = super::open(data).await?;
    let stats = state.store.stats().await?;
    println!(
        "restored into {}: {} reads, {} images, ledger of {} entries verified",
        data.display(),
        stats.reads,
        images,
        report.entries
    );
    Ok(())
}

/// Backup and restore copy the embedded SQLite database; a PostgreSQL one is backed up with
/// PostgreSQL's own tools.
fn refuse_postgres() -> anyhow::Result<()> {
    if super::database_url().is_some() {
        anyhow::bail!(
            "backup and restore copy the embedded SQLite database; back up a PostgreSQL \
             database with pg_dump or pg_basebackup, and copy the data directory (images, \
             ledger, keys) alongside"
        );
    }
    Ok(())
}

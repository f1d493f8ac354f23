//! Checkpointing beside the writers rather than inside their commits.
//!
//! With SQLite's automatic checkpoints, the connection whose commit pushes the WAL past the
//! threshold copies the WAL back into the database and syncs it before its commit returns: a
//! camera batch, or the live read of a watched plate, then waits behind tens of megabytes of
//! copying. Here a thread of its own, on a connection of its own, runs `PASSIVE` checkpoints of
//! both files every [`CHECKPOINT_INTERVAL`]: they copy what no reader still needs and never
//! block a writer or a reader. The writers keep an automatic checkpoint only as a backstop,
//! far above what the thread lets the WAL reach ([`BACKSTOP_PAGES`]), and each file's WAL is
//! truncated to [`WAL_SIZE_LIMIT_BYTES`] when SQLite starts it over.

use super::open_connection;
use crate::Result;
use rusqlite::Connection;
use std::path::Path;
use std::sync::mpsc::{self, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// How often the checkpointer runs.
pub(crate) const CHECKPOINT_INTERVAL: Duration = Duration::from_millis(250);

/// The writers' own automatic checkpoint (pages of 4 KiB: 256 MiB), reached only if the
/// checkpointer stops keeping up.
pub(crate) const BACKSTOP_PAGES: i64 = 65_536;

/// What a WAL file is cut back to when SQLite starts writing it from the beginning again.
pub(crate) const WAL_SIZE_LIMIT_BYTES: i64 = 64 * 1024 * 1024;

/// The checkpointer's page cache: it reads WAL frames and writes database pages, it keeps
/// nothing.
const CHECKPOINTER_CACHE_KIB: i64 = 2 * 1024;

/// Ends the checkpointer thread when dropped (with the store).
pub(crate) struct Checkpointer {
    _stop: mpsc::Sender<()>,
    last: Arc<Mutex<Option<CheckpointRound>>>,
}

/// What one round of the checkpointer did, per file: WAL frames, and frames copied back.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CheckpointRound {
    pub main_wal_frames: i64,
    pub main_copied: i64,
    pub uses_wal_frames: i64,
    pub uses_copied: i64,
}

/// Sets the pragmas of a connection that writes: the backstop checkpoint and the WAL's size
/// limit, for both files.
pub(crate) fn configure_writer(conn: &Connection) -> Result<()> {
    conn.pragma_update(None, "wal_autocheckpoint", BACKSTOP_PAGES)?;
    for schema in ["main", "uses"] {
        conn.pragma_update(Some(schema), "journal_size_limit", WAL_SIZE_LIMIT_BYTES)?;
    }
    Ok(())
}

/// Starts the checkpointer of the database at `path`. It stops when the returned handle is
/// dropped; a round that fails is logged and the next one tried.
pub(crate) fn start(path: &Path) -> Result<Checkpointer> {
    let conn = open_connection(path, CHECKPOINTER_CACHE_KIB)?;
    let (stop, stopped) = mpsc::channel::<()>();
    let last = Arc::new(Mutex::new(None));
    let rounds = last.clone();
    std::thread::Builder::new()
        .name("sqlite-checkpoint".into())
        .spawn(move || {
            // Until the handle is dropped (or sends): a round each interval.
            while let Err(RecvTimeoutError::Timeout) = stopped.recv_timeout(CHECKPOINT_INTERVAL) {
                match checkpoint_passive(&conn) {
                    Ok(round) => *rounds.lock().expect("checkpoint lock") = Some(round),
                    Err(e) => tracing::warn!(error = %e, "a WAL checkpoint failed; retrying"),
                }
            }
        })
        .map_err(|e| crate::StoreError::Task(format!("could not start the checkpointer: {e}")))?;
    Ok(Checkpointer { _stop: stop, last })
}

/// One `PASSIVE` checkpoint of each file on `conn`.
pub(crate) fn checkpoint_passive(conn: &Connection) -> Result<CheckpointRound> {
    let run = |schema: &str| -> Result<(i64, i64)> {
        Ok(conn.query_row(
            &format!("PRAGMA {schema}.wal_checkpoint(PASSIVE)"),
            [],
            |r| Ok((r.get::<_, i64>(1)?, r.get::<_, i64>(2)?)),
        )?)
    };
    let (main_wal_frames, main_copied) = run("main")?;
    let (uses_wal_frames, uses_copied) = run("uses")?;
    Ok(CheckpointRound {
        main_wal_frames,
        main_copied,
        uses_wal_frames,
        uses_copied,
    })
}

impl super::SqliteStore {
    /// What the checkpointer's latest round did (none yet: `None`).
    pub fn last_checkpoint(&self) -> Option<CheckpointRound> {
        *self
            .inner
            .checkpointer
            .last
            .lock()
            .expect("checkpoint lock")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStore;
    use std::time::Instant;

    /// Frames written by a commit are copied back by the checkpointer, not by the commit: the
    /// writer's own threshold is far above what the test writes.
    #[test]
    fn the_checkpointer_copies_the_writers_frames_back_on_its_own() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("anpr.sqlite")).unwrap();
        store
            .inner
            .with_writer(|c| {
                c.execute_batch("CREATE TABLE scratch(x BLOB)")?;
                let tx = c.transaction()?;
                for _ in 0..2_000 {
                    tx.execute("INSERT INTO scratch VALUES (zeroblob(2000))", [])?;
                }
                tx.commit()?;
                Ok(())
            })
            .unwrap();
        let pages: i64 = store
            .inner
            .with_writer(|c| Ok(c.query_row("PRAGMA main.page_count", [], |r| r.get(0))?))
            .unwrap();
        assert!(
            pages > 1_000 && pages < BACKSTOP_PAGES,
            "{pages} pages written"
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            if let Some(round) = store.last_checkpoint() {
                if round.main_wal_frames >= 1_000 && round.main_copied == round.main_wal_frames {
                    break;
                }
            }
            assert!(
                Instant::now() < deadline,
                "the checkpointer did not copy the WAL back: {:?}",
                store.last_checkpoint()
            );
            std::thread::sleep(CHECKPOINT_INTERVAL);
        }
    }

    #[test]
    fn the_writers_checkpoint_only_as_a_backstop_and_cut_the_wal_back() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("anpr.sqlite")).unwrap();
        let (auto, main_limit, uses_limit): (i64, i64, i64) = store
            .inner
            .with_writer(|c| {
                Ok((
                    c.query_row("PRAGMA wal_autocheckpoint", [], |r| r.get(0))?,
                    c.query_row("PRAGMA main.journal_size_limit", [], |r| r.get(0))?,
                    c.query_row("PRAGMA uses.journal_size_limit", [], |r| r.get(0))?,
                ))
            })
            .unwrap();
        assert_eq!(auto, BACKSTOP_PAGES);
        assert_eq!(main_limit, WAL_SIZE_LIMIT_BYTES);
        assert_eq!(uses_limit, WAL_SIZE_LIMIT_BYTES);
    }
}

//! A bounded pool of reader connections.
//!
//! Every connection has its own page cache, so the number of connections is what bounds the
//! store's memory: under a few hundred concurrent searches and alert streams, an unbounded pool
//! held one connection per blocking thread (about 180 at once, 32 MiB of cache each). Here at
//! most `max` are open; a caller beyond that waits for one to be handed back.
//!
//! A caller that already holds a reader on this thread and asks for another (a reader closure
//! that reads through the store again) would wait for itself once the pool is exhausted, so it
//! gets a connection of its own outside the pool instead; nothing in the store does this today,
//! but callers of `with_registers_blocking` run arbitrary code while holding one.

use super::open_connection;
use crate::{Result, StoreError};
use rusqlite::Connection;
use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// Reader page cache budget (KiB), shared by all the pool's connections.
const READERS_CACHE_TOTAL_KIB: i64 = 256 * 1024;
/// Largest and smallest page cache of one reader (KiB).
const READER_CACHE_MAX_KIB: i64 = 32 * 1024;
const READER_CACHE_MIN_KIB: i64 = 2 * 1024;
/// Page cache of a connection opened outside the pool for a nested read (KiB).
const NESTED_CACHE_KIB: i64 = 2 * 1024;
/// How long a caller waits for a free reader before giving up with an error. Far above any
/// query's duration: reaching it means readers are held by something that does not finish.
const MAX_WAIT: Duration = Duration::from_secs(60);

thread_local! {
    /// How many pooled readers this thread holds now (of any pool).
    static HELD: Cell<usize> = const { Cell::new(0) };
}

pub(crate) struct ReaderPool {
    path: PathBuf,
    max: usize,
    cache_kib: i64,
    state: Mutex<State>,
    freed: Condvar,
}

struct State {
    idle: Vec<Connection>,
    /// Connections open, idle or lent.
    open: usize,
}

impl ReaderPool {
    /// A pool of at most `max(4, 2 × cores)` readers: SQLite reads are CPU-bound once the pages
    /// are cached, so more would only add memory.
    pub(crate) fn new(path: &Path) -> Self {
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        Self::with_size(path, (2 * cores).max(4))
    }

    pub(crate) fn with_size(path: &Path, max: usize) -> Self {
        let max = max.max(1);
        let cache_kib = (READERS_CACHE_TOTAL_KIB / max as i64)
            .clamp(READER_CACHE_MIN_KIB, READER_CACHE_MAX_KIB);
        ReaderPool {
            path: path.to_path_buf(),
            max,
            cache_kib,
            state: Mutex::new(State {
                idle: Vec::new(),
                open: 0,
            }),
            freed: Condvar::new(),
        }
    }

    #[cfg(test)]
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    #[cfg(test)]
    pub(crate) fn open(&self) -> usize {
        self.lock().map_or(0, |s| s.open)
    }

    fn lock(&self) -> Result<MutexGuard<'_, State>> {
        self.state
            .lock()
            .map_err(|_| StoreError::Task("reader pool lock poisoned".into()))
    }

    /// Runs `f` on a reader connection, waiting for one if all are lent.
    pub(crate) fn with<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        if HELD.with(Cell::get) > 0 {
            let conn = open_connection(&self.path, NESTED_CACHE_KIB)?;
            return f(&conn);
        }
        let lent = self.take()?;
        HELD.with(|h| h.set(h.get() + 1));
        match lent.conn.as_ref() {
            Some(conn) => f(conn),
            None => Err(StoreError::Task("lent reader without a connection".into())),
        }
    }

    fn take(&self) -> Result<Lent<'_>> {
        let deadline = Instant::now() + MAX_WAIT;
        let mut state = self.lock()?;
        loop {
            if let Some(conn) = state.idle.pop() {
                return Ok(Lent {
                    pool: self,
                    conn: Some(conn),
                });
            }
            if state.open < self.max {
                // Counted before opening (outside the lock, it touches the disk) so that
                // concurrent callers cannot overshoot `max`.
                state.open += 1;
                drop(state);
                return match open_connection(&self.path, self.cache_kib) {
                    Ok(conn) => Ok(Lent {
                        pool: self,
                        conn: Some(conn),
                    }),
                    Err(e) => {
                        self.forget_one();
                        Err(e)
                    }
                };
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(StoreError::Task(format!(
                    "no reader connection free after {} s (all {} lent)",
                    MAX_WAIT.as_secs(),
                    self.max
                )));
            }
            state = self
                .freed
                .wait_timeout(state, deadline - now)
                .map_err(|_| StoreError::Task("reader pool lock poisoned".into()))?
                .0;
        }
    }

    /// One connection fewer open (it failed to open, or was dropped): a waiter may open one.
    fn forget_one(&self) {
        if let Ok(mut s) = self.state.lock() {
            s.open = s.open.saturating_sub(1);
        }
        self.freed.notify_one();
    }
}

/// A reader on loan; handed back when dropped, even if the closure using it panicked.
struct Lent<'p> {
    pool: &'p ReaderPool,
    conn: Option<Connection>,
}

impl Drop for Lent<'_> {
    fn drop(&mut self) {
        HELD.with(|h| h.set(h.get().saturating_sub(1)));
        let Some(conn) = self.conn.take() else { return };
        if std::thread::panicking() {
            // Its state is unknown (a statement may have been left mid-step): close it.
            drop(conn);
            self.pool.forget_one();
            return;
        }
        match self.pool.state.lock() {
            Ok(mut s) => s.idle.push(conn),
            // A poisoned pool lends nothing more anyway.
            Err(_) => return,
        }
        self.pool.freed.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sqlite::SqliteStore;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Barrier};

    fn store() -> (tempfile::TempDir, SqliteStore) {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("anpr.db")).unwrap();
        (dir, store)
    }

    /// Many more concurrent readers than connections: all finish, never more than `max` open.
    #[test]
    fn readers_beyond_the_pool_size_all_complete() {
        let (_dir, store) = store();
        let max = store.inner.readers.max();
        let threads = 8 * max;
        let busy = Arc::new(AtomicUsize::new(0));
        let peak = Arc::new(AtomicUsize::new(0));
        let start = Arc::new(Barrier::new(threads));
        let handles: Vec<_> = (0..threads)
            .map(|i| {
                let (store, busy, peak, start) =
                    (store.clone(), busy.clone(), peak.clone(), start.clone());
                std::thread::spawn(move || {
                    start.wait();
                    store.inner.with_reader(|c| {
                        let now = busy.fetch_add(1, Ordering::SeqCst) + 1;
                        peak.fetch_max(now, Ordering::SeqCst);
                        let n: i64 = c.query_row("SELECT ?1 + 1", [i as i64], |r| r.get(0))?;
                        std::thread::sleep(Duration::from_millis(5));
                        busy.fetch_sub(1, Ordering::SeqCst);
                        Ok(n)
                    })
                })
            })
            .collect();
        for (i, h) in handles.into_iter().enumerate() {
            assert_eq!(h.join().unwrap().unwrap(), i as i64 + 1);
        }
        let peak = peak.load(Ordering::SeqCst);
        assert!(peak <= max, "{peak} readers at once, pool of {max}");
        assert!(peak > 1, "the readers never ran concurrently");
        assert!(store.inner.readers.open() <= max);
    }

    /// A reader taken inside a reader closure, with every pooled connection lent, completes.
    #[test]
    fn nested_reader_with_the_pool_exhausted_completes() {
        let (_dir, store) = store();
        let max = store.inner.readers.max();
        // The others hold max - 1 readers until this thread has finished its nested read.
        let held = Arc::new(Barrier::new(max));
        let done = Arc::new(Barrier::new(max));
        let holders: Vec<_> = (0..max - 1)
            .map(|_| {
                let (store, held, done) = (store.clone(), held.clone(), done.clone());
                std::thread::spawn(move || {
                    store.inner.with_reader(|_| {
                        held.wait();
                        done.wait();
                        Ok(())
                    })
                })
            })
            .collect();
        held.wait();
        let out = store.inner.with_reader(|outer| {
            assert_eq!(store.inner.readers.open(), max, "the pool is exhausted");
            let inner: i64 = store
                .inner
                .with_reader(|c| Ok(c.query_row("SELECT 41 + 1", [], |r| r.get(0))?))?;
            let outer: i64 = outer.query_row("SELECT 1", [], |r| r.get(0))?;
            Ok(inner + outer)
        });
        done.wait();
        assert_eq!(out.unwrap(), 43);
        for h in holders {
            h.join().unwrap().unwrap();
        }
        assert_eq!(store.inner.readers.open(), max);
    }

    /// A closure that panics returns its slot, so the pool does not shrink to nothing.
    #[test]
    fn a_panicking_reader_frees_its_slot() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("anpr.db");
        drop(SqliteStore::open(&path).unwrap());
        let pool = Arc::new(ReaderPool::with_size(&path, 1));
        let p = pool.clone();
        let panicked = std::thread::spawn(move || {
            p.with(|_| -> Result<()> { panic!("reader closure failed") })
        })
        .join();
        assert!(panicked.is_err());
        assert_eq!(pool.open(), 0);
        let n: i64 = pool
            .with(|c| Ok(c.query_row("SELECT 7", [], |r| r.get(0))?))
            .unwrap();
        assert_eq!(n, 7);
    }
}

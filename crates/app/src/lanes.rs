//! Where ingestion's CPU work runs: a runtime of its own whose threads run at a lower
//! scheduling priority than the rest of the server (nice 10 above it).
//!
//! Under sustained camera traffic, parsing batches and storing reads would otherwise take every
//! core, and each step of an officer's search (policy facts, decision record, query, ledger
//! append) would wait its turn behind them. At a lower priority ingestion yields the CPU to
//! interactive uses the moment they need it, yet still takes every cycle they leave: it is
//! back-pressure that costs throughput only while someone is waiting.

use crate::error::{AppError, AppResult};
use std::future::Future;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

/// How much lower ingestion's threads run than the server's (Linux `nice`; raising it needs no
/// privilege).
pub const INGEST_NICE: i32 = 19;

/// Reads a second stored while officers search, by default: 6,000 a core. On the 2-core
/// reference machine that is 12,000 reads/s, where searches meet their targets under load
/// (docs/benchmarks.md, "Under load").
pub fn default_paced_rate() -> u32 {
    let cores = std::thread::available_parallelism().map_or(2, |n| n.get()) as u32;
    6_000 * cores.max(1)
}

/// For how long after an interactive use ingestion stays paced.
const PACED_FOR: std::time::Duration = std::time::Duration::from_secs(1);

/// The ingest lane: built on first use, so that a process that never ingests starts no thread.
pub struct IngestLane {
    runtime: OnceLock<tokio::runtime::Runtime>,
    /// Reads per second stored while officers are searching; `None`: never paced.
    paced_rate: Option<f64>,
    /// When the last interactive use began, in milliseconds since `epoch`.
    last_interactive_ms: AtomicU64,
    /// Officers' alert streams open: each one is waiting for alerts as they happen.
    streams_open: AtomicUsize,
    /// When the next paced batch may be stored.
    next_slot: Mutex<Instant>,
    epoch: Instant,
}

impl Default for IngestLane {
    fn default() -> Self {
        IngestLane::new(None)
    }
}

impl IngestLane {
    /// A lane that, while interactive uses run, stores at most `paced_rate` reads a second.
    pub fn new(paced_rate: Option<u32>) -> Self {
        let epoch = Instant::now();
        IngestLane {
            runtime: OnceLock::new(),
            paced_rate: paced_rate.filter(|r| *r > 0).map(f64::from),
            last_interactive_ms: AtomicU64::new(u64::MAX),
            streams_open: AtomicUsize::new(0),
            next_slot: Mutex::new(epoch),
            epoch,
        }
    }

    /// Notes that an interactive use (a search) begins: for the next second, batches are paced.
    pub fn interactive(&self) {
        let ms = self.epoch.elapsed().as_millis() as u64;
        self.last_interactive_ms.store(ms, Ordering::Relaxed);
    }

    /// Notes that an officer's alert stream is open until the guard is dropped: while one is,
    /// batches are paced, so that an alert never waits behind a flood of bulk traffic.
    pub fn stream_open(self: &Arc<Self>) -> OpenStream {
        self.streams_open.fetch_add(1, Ordering::Relaxed);
        OpenStream(self.clone())
    }

    /// Waits for the turn of a batch of `reads` bulk reads: at once unless an officer is
    /// waiting (a search began in the last second, or an alert stream is open), else at the
    /// paced rate (the batches of every camera share it, in arrival order). A camera meets the
    /// back-pressure as a slower answer.
    pub async fn admit(&self, reads: usize) {
        let Some(rate) = self.paced_rate else {
            return;
        };
        let last = self.last_interactive_ms.load(Ordering::Relaxed);
        let now = Instant::now();
        let since = now.duration_since(self.epoch).as_millis() as u64;
        let searching =
            last != u64::MAX && since.saturating_sub(last) <= PACED_FOR.as_millis() as u64;
        if !searching && self.streams_open.load(Ordering::Relaxed) == 0 {
            return;
        }
        let turn = {
            let mut next = self.next_slot.lock().expect("pacing lock");
            let turn = (*next).max(now);
            *next = turn + std::time::Duration::from_secs_f64(reads as f64 / rate);
            turn
        };
        if turn > now {
            tokio::time::sleep_until(turn.into()).await;
        }
    }

    /// Runs `work` on the lane and returns its output.
    pub async fn run<F>(&self, work: F) -> AppResult<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let runtime = match self.runtime.get() {
            Some(r) => r,
            None => {
                let built = build().map_err(AppError::internal)?;
                // Another caller may have built one meanwhile: theirs is kept, and ours is shut
                // down in the background (dropping a runtime inside a task would panic).
                if let Err(extra) = self.runtime.set(built) {
                    extra.shutdown_background();
                }
                self.runtime.get().expect("set above")
            }
        };
        runtime
            .spawn(work)
            .await
            .map_err(|e| AppError::internal(anyhow::anyhow!("ingest task failed: {e}")))
    }
}

/// An open alert stream, counted by the lane while it lives.
pub struct OpenStream(Arc<IngestLane>);

impl Drop for OpenStream {
    fn drop(&mut self) {
        self.0.streams_open.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Drop for IngestLane {
    fn drop(&mut self) {
        // A runtime may not be dropped inside another's task (the server's state can be
        // dropped there); shutting it down in the background may.
        if let Some(runtime) = self.runtime.take() {
            runtime.shutdown_background();
        }
    }
}

fn build() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("anpr-ingest")
        .on_thread_start(lower_this_threads_priority)
        .enable_all()
        .build()
}

/// Every thread of the lane — its worker and its blocking pool, where batches are parsed and
/// stored — runs at [`INGEST_NICE`].
fn lower_this_threads_priority() {
    let tid = rustix::thread::gettid();
    if let Err(e) = rustix::process::setpriority_process(Some(tid), INGEST_NICE) {
        tracing::debug!(error = %e, "could not lower an ingest thread's priority");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn work_runs_on_a_lower_priority_thread_and_its_output_comes_back() {
        let lane = IngestLane::default();
        let (name, nice) = lane
            .run(async {
                let name = std::thread::current().name().map(str::to_string);
                let nice = rustix::process::getpriority_process(Some(rustix::thread::gettid()))
                    .expect("own priority");
                (name, nice)
            })
            .await
            .unwrap();
        assert_eq!(name.as_deref(), Some("anpr-ingest"));
        let own = rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap();
        assert_eq!(nice, own + INGEST_NICE);
        // Blocking work started from the lane runs at its priority too.
        let blocking_nice = lane
            .run(async {
                tokio::task::spawn_blocking(|| {
                    rustix::process::getpriority_process(Some(rustix::thread::gettid())).unwrap()
                })
                .await
                .unwrap()
            })
            .await
            .unwrap();
        assert_eq!(blocking_nice, own + INGEST_NICE);
        drop(lane); // inside a task: must not panic
    }
}

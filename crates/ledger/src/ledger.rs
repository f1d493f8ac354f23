//! [`Ledger`]: the log as the server and CLI use it.
//!
//! Appends from any number of threads are group-committed: each caller encodes its events in its
//! own thread and queues them. If no commit is running, the caller becomes the committer: it
//! waits up to [`Options::group_commit_wait`] for callers still encoding, then commits everything
//! queued in one SQLite transaction (one fsync for many callers) and publishes each caller's
//! indexes. The others sleep on a condition variable until their result is there, so they can
//! queue their next events while the next commit runs. Nothing is acknowledged before its
//! transaction is durable.
//!
//! Other handles and processes may append to the same log: every ledger directory is shared by
//! whoever opens it (the CLI beside the server), and PostgreSQL storage by several servers. A
//! group commit holds the directory's append lock (see the `append_lock` module) and the entry
//! store's own, catches up on the leaf hashes appended since this handle last looked (extending
//! its frontier and the node files) and numbers its entries after them. [`Ledger::refresh`],
//! signing and `verify_full` catch up the same way, so each answers for the whole log.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use ed25519_dalek::VerifyingKey;

use crate::append_lock::AppendLock;
use crate::error::{failed, invalid, Error, Result};
use crate::event::{Event, Prepared};
use crate::head::{NetworkCounts, TreeHead};
use crate::keys;
use crate::merkle::{self, Frontier, Hash};
use crate::note::{self, Note, NoteVerifier};
use crate::proofs::{ConsistencyProof, EntryProof, InclusionProof};
use crate::report::{ProblemKind, VerifyReport};
use crate::store::{
    recover, EntryPage, EntryStore, NewEntry, NodeFiles, SqliteStore, StoredEntry, NODES_SYNCED,
};

/// Directory (inside the ledger directory) of the node files.
pub const NODES_DIR: &str = "ledger-nodes";

/// Metadata key: how many tree heads were ever signed.
const HEADS_SIGNED: &str = "tree_heads_signed";

/// At most this many entries are returned by one [`Ledger::entries`] call.
pub const MAX_ENTRIES_PER_CALL: u64 = 10_000;

/// Tunables.
#[derive(Clone, Debug)]
pub struct Options {
    /// [`Ledger::maybe_sign`] signs a new head when entries arrived and at least this long has
    /// passed since the last head.
    pub sign_interval: Duration,
    /// Node files are fsynced (and the sync point recorded) after this many appended entries,
    /// bounding the work of recovery after a crash.
    pub nodes_sync_every: u64,
    /// Longest time a committing caller waits for concurrent callers that are still encoding
    /// their events, so that they share its transaction (and fsync). It is spent only while such
    /// callers exist; a lone caller never waits.
    pub group_commit_wait: Duration,
    /// Where the signing key comes from.
    pub keys: keys::KeySource,
    /// The origin line of the log's checkpoints, recorded when the log is first opened and
    /// never changed afterwards (`None`: the recorded one, or `anpr-audit-ledger/<key id>`).
    pub origin: Option<String>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            sign_interval: Duration::from_secs(60),
            nodes_sync_every: 1 << 20,
            group_commit_wait: Duration::from_millis(2),
            keys: keys::KeySource::Directory,
            origin: None,
        }
    }
}

/// The audit ledger. `Send + Sync`: share it in an `Arc`.
pub struct Ledger {
    dir: PathBuf,
    opts: Options,
    keys: keys::Keys,
    /// The checkpoints' origin line.
    origin: String,
    pub(crate) nodes: NodeFiles,
    /// Committed entries whose nodes are written: proofs may use sizes up to this.
    size: AtomicU64,
    queue: Mutex<Queue>,
    /// Signalled when events are queued or a group commit ends.
    changed: Condvar,
    /// Callers inside `append` that are still encoding their events.
    preparing: AtomicUsize,
    writer: Mutex<Writer>,
    reader: Mutex<Box<dyn EntryStore>>,
    /// Other processes append to the same storage.
    shared: bool,
    /// The first problem a [`crate::Checker`] pass found: from then on nothing is signed.
    pub(crate) altered: Mutex<Option<crate::report::Problem>>,
    /// The directory's lock, shared with every other handle on it; taken only while holding
    /// `writer` (or before there is one, at open).
    append_lock: AppendLock,
}

struct Writer {
    store: Box<dyn EntryStore>,
    frontier: Frontier,
    damaged: Option<String>,
    unsynced: u64,
}

#[derive(Default)]
struct Queue {
    /// A caller is running a group commit.
    committing: bool,
    next_ticket: u64,
    pending: Vec<(u64, Vec<Prepared>)>,
    done: HashMap<u64, Result<Vec<u64>>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic while holding a lock cannot leave a half-applied append behind (the frontier is
    // replaced only after the commit), so a poisoned lock is still usable.
    m.lock().unwrap_or_else(|p| p.into_inner())
}

/// Counts a caller as "preparing" until dropped (also on panic, so the leader never waits for
/// a caller that is gone).
struct Preparing<'a>(&'a Ledger);

impl<'a> Preparing<'a> {
    fn enter(l: &'a Ledger) -> Self {
        l.preparing.fetch_add(1, Ordering::AcqRel);
        Self(l)
    }
}

impl Drop for Preparing<'_> {
    fn drop(&mut self) {
        self.0.preparing.fetch_sub(1, Ordering::AcqRel);
        self.0.changed.notify_all();
    }
}

/// A copy of a commit's error for each caller in the batch (errors are not `Clone`): the kinds a
/// caller acts on keep their variant, the rest become [`Error::Append`] with the message.
fn share(e: &Error) -> Error {
    match e {
        Error::Damaged(m) => Error::Damaged(m.clone()),
        Error::InvalidArgument(m) => Error::InvalidArgument(m.clone()),
        other => Error::Append(other.to_string()),
    }
}

/// Fails the batch of a committing caller that panics, so that the callers waiting for it get
/// an error instead of waiting forever, and the next caller can commit.
struct FailOnPanic<'a> {
    ledger: &'a Ledger,
    tickets: Vec<u64>,
}

impl Drop for FailOnPanic<'_> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut q = lock(&self.ledger.queue);
            for t in &self.tickets {
                q.done.insert(
                    *t,
                    Err(Error::Append("the committing thread panicked".into())),
                );
            }
            q.committing = false;
            self.ledger.changed.notify_all();
        }
    }
}

/// Perfect nodes produced by one batch, level by level (contiguous indexes per level).
#[derive(Default)]
struct NewNodes {
    levels: Vec<(u64, Vec<Hash>)>,
}

impl NewNodes {
    fn add(&mut self, level: u32, index: u64, h: &Hash) {
        let l = level as usize;
        if self.levels.len() <= l {
            self.levels.resize_with(l + 1, || (index, Vec::new()));
        }
        let (first, v) = &mut self.levels[l];
        if v.is_empty() {
            *first = index;
        }
        v.push(*h);
    }

    fn write(&self, nodes: &NodeFiles) -> Result<()> {
        for (level, (first, v)) in self.levels.iter().enumerate() {
            if !v.is_empty() {
                nodes.write(level as u32, *first, v)?;
            }
        }
        Ok(())
    }
}

impl Ledger {
    /// Opens the ledger in `dir` (creating the directory, database and signing key at first use)
    /// with default [`Options`].
    pub fn open(dir: impl AsRef<Path>) -> Result<Self> {
        Self::open_with(dir, Options::default())
    }

    /// Opens the ledger in `dir` with the SQLite store and the given options.
    pub fn open_with(dir: impl AsRef<Path>, opts: Options) -> Result<Self> {
        let db = dir.as_ref().join(crate::store::DB_FILE);
        Self::open_inner(dir.as_ref(), opts, move || {
            Ok(Box::new(SqliteStore::open(&db)?) as Box<dyn EntryStore>)
        })
    }

    /// Opens a ledger over any [`EntryStore`] (keys and node files live in `dir`).
    pub fn open_store(
        dir: impl AsRef<Path>,
        store: Box<dyn EntryStore>,
        opts: Options,
    ) -> Result<Self> {
        Self::open_inner(dir.as_ref(), opts, move || Ok(store))
    }

    /// Opens the ledger holding the directory's append lock, so that handles opening it at the
    /// same time create one key and one database, and recovery sees a log nobody appends to.
    fn open_inner(
        dir: &Path,
        opts: Options,
        store: impl FnOnce() -> Result<Box<dyn EntryStore>>,
    ) -> Result<Self> {
        let dir = dir.to_owned();
        std::fs::create_dir_all(&dir)?;
        let append_lock = AppendLock::open(&dir)?;
        let held = append_lock.lock()?;
        let mut store = store()?;
        let keys = keys::load(&dir, &opts.keys)?;
        store.bind_signing_key(
            &keys::key_id(&keys.public),
            keys.previous
                .as_ref()
                .map(|k| keys::key_id(&k.verifying_key()))
                .as_deref(),
        )?;
        let origin = bind_origin(store.as_mut(), &opts, &keys.public)?;
        let nodes = NodeFiles::open(&dir.join(NODES_DIR))?;
        let end = store.end()?;
        let damaged = recover(store.as_mut(), &nodes, end)?;
        let (size, frontier) = match &damaged {
            None => (end, Frontier::load(&nodes, end)?),
            // Appends are refused; proofs are served as far as the node files go.
            Some(_) => {
                let size = end.min(nodes.len(0)?);
                (size, Frontier::load(&nodes, size).unwrap_or_default())
            }
        };
        drop(held);
        let reader = store.reader()?;
        let shared = store.shared();
        Ok(Self {
            dir,
            opts,
            keys,
            origin,
            nodes,
            size: AtomicU64::new(size),
            queue: Mutex::new(Queue::default()),
            changed: Condvar::new(),
            preparing: AtomicUsize::new(0),
            writer: Mutex::new(Writer {
                store,
                frontier,
                damaged,
                unsynced: 0,
            }),
            reader: Mutex::new(reader),
            shared,
            altered: Mutex::new(None),
            append_lock,
        })
    }

    /// The ledger directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The deployment's public key (also in `<dir>/ledger-signing-key.pub`).
    pub fn public_key(&self) -> VerifyingKey {
        self.keys.public
    }

    /// A secret derived from the deployment's private signing key for the use named by
    /// `label` (SHA-256 over the label and the key), so that every process holding the key
    /// derives the same one and none of them stores another secret; `None` in a process that
    /// appends without the key. The key itself never leaves.
    pub fn derived_secret(&self, label: &str) -> Option<[u8; 32]> {
        use sha2::{Digest, Sha256};
        let key = self.keys.signing.as_ref()?;
        Some(
            Sha256::new()
                .chain_update(b"anpr derived secret\0")
                .chain_update(label.as_bytes())
                .chain_update([0u8])
                .chain_update(key.to_bytes())
                .finalize()
                .into(),
        )
    }

    /// Every key this log's heads may be signed with: the current one and those it replaced.
    pub fn known_keys(&self) -> &[VerifyingKey] {
        &self.keys.known
    }

    /// Whether the private key sits in the ledger directory, where whoever can edit the
    /// entries can also re-sign them.
    pub fn key_in_directory(&self) -> bool {
        self.keys.in_directory
    }

    /// The first problem a check of this ledger found ([`Ledger::check_next`]); once there is
    /// one, no head is signed by this handle, whoever asks.
    pub fn altered(&self) -> Option<crate::report::Problem> {
        lock(&self.altered).clone()
    }

    /// Another handle on the entry storage, for a pass that runs beside the writer.
    pub(crate) fn reader_store(&self) -> Result<Box<dyn EntryStore>> {
        lock(&self.reader).reader()
    }

    /// Why the ledger refuses appends, if it does (found at open or after a failed node write).
    pub fn damaged(&self) -> Option<String> {
        lock(&self.writer).damaged.clone()
    }

    /// Appends events (their `seq` is ignored and assigned here) and returns their indexes once
    /// they are durably committed. Concurrent callers share transactions; each call's events are
    /// contiguous and committed together.
    pub fn append(&self, events: &[Event]) -> Result<Vec<u64>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        let ticket = {
            let preparing = Preparing::enter(self);
            let prepared: Vec<Prepared> = events.iter().map(Prepared::for_append).collect();
            let mut q = lock(&self.queue);
            let t = q.next_ticket;
            q.next_ticket += 1;
            q.pending.push((t, prepared));
            drop(preparing); // while holding the queue lock, so the leader cannot miss it
            t
        };
        let mut q = lock(&self.queue);
        loop {
            if let Some(done) = q.done.remove(&ticket) {
                return done;
            }
            if q.committing {
                // Someone is committing; our events are in its batch or wait for the next one.
                q = self.changed.wait(q).unwrap_or_else(|p| p.into_inner());
            } else {
                q.committing = true;
                q = self.lead(q);
            }
        }
    }

    /// One group commit: waits briefly for callers still encoding, takes every queued batch,
    /// commits them in one transaction and publishes each caller's result. Waiting callers sleep
    /// on a condition variable, not on the writer lock, so they pick up their results (and queue
    /// their next events) while the next commit is already running.
    fn lead<'a>(&'a self, mut q: MutexGuard<'a, Queue>) -> MutexGuard<'a, Queue> {
        // Callers still encoding would otherwise wait a whole commit (an fsync) for the next one:
        // give them a moment to join this one.
        let deadline = Instant::now() + self.opts.group_commit_wait;
        while self.preparing.load(Ordering::Acquire) > 0 {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                break;
            }
            q = self
                .changed
                .wait_timeout(q, left)
                .unwrap_or_else(|p| p.into_inner())
                .0;
        }
        let batch = std::mem::take(&mut q.pending);
        drop(q);
        let result = {
            let _on_panic = FailOnPanic {
                ledger: self,
                tickets: batch.iter().map(|(t, _)| *t).collect(),
            };
            let mut w = lock(&self.writer);
            self.commit(&mut w, &batch)
        };
        let mut q = lock(&self.queue);
        match result {
            Ok(ranges) => {
                for ((t, _), r) in batch.iter().zip(ranges) {
                    q.done.insert(*t, Ok(r));
                }
            }
            Err(e) => {
                for (t, _) in &batch {
                    q.done.insert(*t, Err(share(&e)));
                }
            }
        }
        q.committing = false;
        self.changed.notify_all();
        q
    }

    /// Commits queued batches in one transaction; returns each batch's indexes.
    fn commit(&self, w: &mut Writer, batch: &[(u64, Vec<Prepared>)]) -> Result<Vec<Vec<u64>>> {
        if let Some(d) = &w.damaged {
            return Err(Error::Damaged(d.clone()));
        }
        let ranges = {
            // Held until the batch's nodes are written: whoever takes it next finds node files
            // that cover no entry it cannot see.
            let _held = self.append_lock.lock()?;
            self.commit_locked(w, batch)?
        };
        if w.damaged.is_none() && w.unsynced >= self.opts.nodes_sync_every {
            self.sync_nodes(w)?;
        }
        Ok(ranges)
    }

    fn commit_locked(
        &self,
        w: &mut Writer,
        batch: &[(u64, Vec<Prepared>)],
    ) -> Result<Vec<Vec<u64>>> {
        if let Some(end) = w.store.begin_append()? {
            // Another process may have appended since: number ours after theirs.
            if let Err(e) = self.catch_up(w, end) {
                let _ = w.store.abort_append();
                return Err(e);
            }
        }
        let total: usize = batch.iter().map(|(_, v)| v.len()).sum();
        let mut frontier = w.frontier.clone();
        let mut new_nodes = NewNodes::default();
        let mut rows = Vec::with_capacity(total);
        let mut ranges = Vec::with_capacity(batch.len());
        for (_, events) in batch {
            let mut idxs = Vec::with_capacity(events.len());
            for p in events {
                let index = frontier.size();
                let body = p.body(index);
                let leaf = p.leaf_hash(&body, index);
                frontier.push(leaf, |l, i, h| new_nodes.add(l, i, h));
                rows.push(NewEntry {
                    index,
                    time_us: p.time_us,
                    body,
                    leaf_hash: leaf,
                });
                idxs.push(index);
            }
            ranges.push(idxs);
        }
        w.store.append(&rows)?;
        // Durable from here on. Node files are derived data: if writing them fails, the entries
        // stay acknowledged, and the ledger stops taking appends until a reopen rebuilds them.
        if let Err(e) = new_nodes.write(&self.nodes) {
            w.damaged = Some(format!(
                "writing node files failed ({e}); reopen the ledger to rebuild them"
            ));
            return Ok(ranges);
        }
        w.frontier = frontier;
        self.size.store(w.frontier.size(), Ordering::Release);
        w.unsynced += total as u64;
        Ok(ranges)
    }

    /// Takes in the entries other processes appended to shared storage, up to `end`: their
    /// leaf hashes extend the frontier and the node files, as this process's own appends do.
    fn catch_up(&self, w: &mut Writer, end: u64) -> Result<()> {
        let from = w.frontier.size();
        if end < from {
            let reason = format!(
                "the shared log ends at index {end} but this process holds {from} entries: entries were removed"
            );
            w.damaged = Some(reason.clone());
            return Err(Error::Damaged(reason));
        }
        if end == from {
            return Ok(());
        }
        if let Some(d) = &w.damaged {
            return Err(Error::Damaged(d.clone()));
        }
        let mut frontier = w.frontier.clone();
        let mut new_nodes = NewNodes::default();
        let mut expected = from as i64;
        w.store.leaf_hashes(from, end, &mut |index, leaf| {
            let leaf: Hash = leaf.try_into().map_err(|_| {
                Error::Verification(format!("entry {index}: stored leaf hash is not 32 bytes"))
            })?;
            if index != expected {
                return Err(Error::Verification(format!(
                    "entry {expected} is missing from the shared log"
                )));
            }
            expected += 1;
            frontier.push(leaf, |l, i, h| new_nodes.add(l, i, h));
            Ok(())
        })?;
        if frontier.size() != end {
            return Err(Error::Verification(format!(
                "entries {}..{end} are missing from the shared log",
                frontier.size()
            )));
        }
        new_nodes.write(&self.nodes)?;
        w.unsynced += end - from;
        w.frontier = frontier;
        self.size.store(end, Ordering::Release);
        Ok(())
    }

    fn catch_up_if_shared(&self, w: &mut Writer) -> Result<()> {
        if self.shared {
            let end = w.store.end()?;
            self.catch_up(w, end)?;
        }
        Ok(())
    }

    /// Brings this handle's view up to date with entries other handles and processes appended
    /// (to the same directory, or to shared PostgreSQL storage), so that sizes, proofs and
    /// entries include them; returns the size. Nothing to do for storage only this handle writes.
    pub fn refresh(&self) -> Result<u64> {
        if !self.shared {
            return Ok(self.size());
        }
        // Usually nothing is new: look on the reader's connection, without waiting for a commit
        // of this handle's that may be running.
        let size = self.size();
        if lock(&self.reader).end()? == size {
            return Ok(size);
        }
        let mut w = lock(&self.writer);
        let end = w.store.end()?;
        self.catch_up(&mut w, end)?;
        Ok(w.frontier.size())
    }

    fn sync_nodes(&self, w: &mut Writer) -> Result<()> {
        self.nodes.sync()?;
        w.store
            .set_meta(NODES_SYNCED, &w.frontier.size().to_string())?;
        w.unsynced = 0;
        Ok(())
    }

    /// Number of entries (committed and provable), as of this handle's last append or catch-up:
    /// entries other handles or processes appended since count after [`Ledger::refresh`].
    pub fn size(&self) -> u64 {
        self.size.load(Ordering::Acquire)
    }

    /// Root of the whole log.
    pub fn root(&self) -> Result<Hash> {
        self.root_at(self.size())
    }

    /// Root of the first `size` entries.
    pub fn root_at(&self, size: u64) -> Result<Hash> {
        self.check_size(size)?;
        merkle::root(&self.nodes, size)
    }

    fn check_size(&self, size: u64) -> Result<()> {
        let have = self.size();
        if size > have {
            return Err(invalid(format!(
                "tree size {size} is beyond the log's {have} entries"
            )));
        }
        Ok(())
    }

    /// Inclusion proof of entry `index` in the tree of the first `size` entries, from stored
    /// hashes in O(log n) reads.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<InclusionProof> {
        self.check_size(size)?;
        let hashes = merkle::inclusion_proof(&self.nodes, index, size)?;
        let leaf_hash = merkle::NodeSource::node(&self.nodes, 0, index)?;
        Ok(InclusionProof {
            index,
            size,
            leaf_hash,
            hashes,
        })
    }

    /// Consistency proof from the tree of `from` entries to the tree of `to` entries
    /// (`0 < from <= to <= size`).
    pub fn consistency_proof(&self, from: u64, to: u64) -> Result<ConsistencyProof> {
        self.check_size(to)?;
        let hashes = merkle::consistency_proof(&self.nodes, from, to)?;
        Ok(ConsistencyProof { from, to, hashes })
    }

    /// Entries with `from <= index < to`, at most [`MAX_ENTRIES_PER_CALL`] of them; `to` is
    /// clamped to the log size.
    pub fn entries(&self, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
        let to = to
            .min(self.size())
            .min(from.saturating_add(MAX_ENTRIES_PER_CALL));
        if from >= to {
            return Ok(Vec::new());
        }
        lock(&self.reader).entries(from, to)
    }

    /// Fills `page` with the bodies of the entries with `from <= index < to`, at most
    /// [`MAX_ENTRIES_PER_CALL`] of them (`to` is clamped like [`Ledger::entries`]'s). For passes
    /// over the whole log: one buffer reused from page to page instead of two allocations and a
    /// UTF-8 check per entry.
    pub fn entry_page(&self, from: u64, to: u64, page: &mut EntryPage) -> Result<()> {
        let to = to
            .min(self.size())
            .min(from.saturating_add(MAX_ENTRIES_PER_CALL));
        if from >= to {
            page.clear();
            return Ok(());
        }
        lock(&self.reader).entry_page(from, to, page)
    }

    /// Calls `visit` with the index and body of each entry with `from <= index < to`, in index
    /// order, a page at a time ([`Ledger::entry_page`]): the one loop of every pass over the log.
    pub fn each_entry<E: From<Error>>(
        &self,
        from: u64,
        to: u64,
        mut visit: impl FnMut(u64, &[u8]) -> std::result::Result<(), E>,
    ) -> std::result::Result<(), E> {
        let mut page = EntryPage::default();
        let mut at = from;
        while at < to {
            self.entry_page(at, to, &mut page)?;
            let Some(tail) = page.last_index() else {
                break;
            };
            at = tail + 1;
            for (index, body) in page.iter() {
                visit(index, body)?;
            }
        }
        Ok(())
    }

    /// An entry with its inclusion proof in the tree of `size` entries.
    pub fn entry_proof(&self, index: u64, size: u64) -> Result<EntryProof> {
        let proof = self.inclusion_proof(index, size)?;
        let entry = self
            .entries(index, index + 1)?
            .pop()
            .ok_or_else(|| invalid(format!("entry {index} is not stored")))?;
        Ok(EntryProof { entry, proof })
    }

    /// Signs and stores a tree head, whatever the last one's age, over the log as far as it
    /// re-reads the entries added since the latest signed head and finds them as appended
    /// (see [`crate::Checker`]); [`Error::Altered`] when it does not.
    pub fn sign_tree_head(&self) -> Result<TreeHead> {
        if let Some(d) = self.damaged() {
            return Err(Error::Damaged(d));
        }
        self.refresh()?;
        let mut checker = self.checker_at_latest_head()?.map_err(Error::Altered)?;
        while self
            .check_next(&mut checker, 1 << 16)?
            .map_err(Error::Altered)?
            > 0
        {}
        let mut w = lock(&self.writer);
        // Most of the catching up before the append lock, so that it is held briefly.
        self.catch_up_if_shared(&mut w)?;
        let head = self.sign_locked(&mut w, None, checker.position())?;
        Ok(head.expect("a head is always due without a time"))
    }

    /// Signs and stores a head for the first `upto` entries (the whole log when it is shorter);
    /// with `due_at`, only if [`Ledger::maybe_sign`]'s rule says one is due at that time (which
    /// is then the head's).
    fn sign_locked(
        &self,
        w: &mut Writer,
        due_at: Option<DateTime<Utc>>,
        upto: u64,
    ) -> Result<Option<TreeHead>> {
        if let Some(d) = &w.damaged {
            return Err(Error::Damaged(d.clone()));
        }
        if let Some(p) = self.altered() {
            return Err(Error::Altered(p));
        }
        // A good moment to make the node files durable: heads are rare. Before taking the append
        // lock, as it can take a while and the other handles' appends would wait for it.
        if w.unsynced > 0 {
            self.sync_nodes(w)?;
        }
        // Nothing is committed while it is held, so the head covers the whole log, and heads
        // are stored in the order the log grew, whichever handle or process signs them.
        let _held = self.append_lock.lock()?;
        self.catch_up_if_shared(w)?;
        let size = upto.min(w.frontier.size());
        if let Some(now) = due_at {
            if !self.sign_due(w, now, size)? {
                return Ok(None);
            }
        } else if let Some(later) = w.store.latest_tree_head()?.filter(|h| h.size > size) {
            // Another handle signed further meanwhile: heads are stored in the order the log
            // grew, and that one covers everything asked for.
            return Ok(Some(later));
        }
        let root = if size == w.frontier.size() {
            w.frontier.root()
        } else {
            merkle::root(&self.nodes, size)?
        };
        let now = due_at.unwrap_or_else(Utc::now);
        let Some(key) = &self.keys.signing else {
            return Err(Error::Key {
                path: self.dir.clone(),
                reason: "this process holds no signing key (it is kept outside the data \
                         directory): pass --signing-key FILE or set ANPR_LEDGER_SIGNING_KEY"
                    .into(),
            });
        };
        let counts = self.network_counts_at(w.store.as_mut(), size)?;
        let head =
            TreeHead::sign_with_counts(size, root, now, counts, key, self.keys.previous.as_ref());
        let checkpoint = note::sign_checkpoint(&self.origin, size, root, &self.signing_keys())?;
        let signed = self.heads_signed(w.store.as_mut())?;
        w.store.add_tree_head(&head)?;
        w.store.add_checkpoint(size, &checkpoint.to_string())?;
        // After the head: a crash between the two leaves one head more than counted, never less.
        w.store.set_meta(HEADS_SIGNED, &(signed + 1).to_string())?;
        Ok(Some(head))
    }

    /// The per-network counters at `size`: the latest signed head's (when it has them, is below
    /// `size` and verifies) plus a count over the entries after it; a recount from the start
    /// otherwise (once, on the first head after an upgrade).
    fn network_counts_at(&self, store: &mut dyn EntryStore, size: u64) -> Result<NetworkCounts> {
        let base = store.latest_tree_head()?.filter(|h| {
            h.size <= size
                && h.network_counts.is_some()
                && crate::head::verify_by_any(h, self.known_keys()).is_ok()
        });
        let (from, mut counts) = match base {
            Some(h) => (h.size, h.network_counts.unwrap_or_default()),
            None => (0, NetworkCounts::new()),
        };
        crate::slice::count_networks(store, from, size, &mut counts)?;
        Ok(counts)
    }

    /// The key this process signs heads (and statements) with, if it holds it.
    pub(crate) fn signing_key(&self) -> Option<&ed25519_dalek::SigningKey> {
        self.keys.signing.as_ref()
    }

    /// Every key this process signs with: the current key and, during a rollover, the one it
    /// replaces.
    fn signing_keys(&self) -> Vec<&ed25519_dalek::SigningKey> {
        self.keys
            .signing
            .iter()
            .chain(self.keys.previous.as_ref())
            .collect()
    }

    /// The origin line of the log's checkpoints (also the name its note signatures are under).
    pub fn origin(&self) -> &str {
        &self.origin
    }

    /// The note verifier key of the log's checkpoint signatures, for the witnesses' `--log`.
    pub fn note_verifier(&self) -> Result<NoteVerifier> {
        NoteVerifier::log(&self.origin, self.keys.public)
    }

    /// The signed checkpoint of the head of `size` with the witnesses' cosignatures stored for
    /// it; `None` when no head of that size was signed. A head signed before checkpoints were
    /// kept gets its checkpoint signed and stored now, when this process holds the key.
    pub fn checkpoint(&self, size: u64) -> Result<Option<Note>> {
        let stored = lock(&self.reader).checkpoint(size)?;
        let text = match stored {
            Some(t) => t,
            None => {
                let head = lock(&self.reader)
                    .tree_heads_in(size.saturating_sub(1), size, 1)?
                    .pop();
                let Some(head) = head else {
                    return Ok(None);
                };
                if size == 0 || self.keys.signing.is_none() || size > self.size() {
                    return Ok(None);
                }
                // Never vouch for a head row that differs from the log.
                let root = self.root_at(size)?;
                if root != head.root_hash {
                    return Err(failed(format!(
                        "the stored tree head of size {size} does not match the log's root; \
                         run `anpr ledger verify`"
                    )));
                }
                let note = note::sign_checkpoint(&self.origin, size, root, &self.signing_keys())?;
                lock(&self.reader).add_checkpoint(size, &note.to_string())?;
                note.to_string()
            }
        };
        let mut note = Note::parse(&text)?;
        for (_, line) in lock(&self.reader).cosignatures(size)? {
            note.add_signature_lines(&line)?;
        }
        Ok(Some(note))
    }

    /// The newest signed head whose checkpoint at least `k` witnesses cosigned, with that
    /// checkpoint: what a reader who requires `k` cosignatures checks (the latest head may not
    /// have reached the witnesses yet).
    pub fn latest_cosigned(&self, k: usize) -> Result<Option<(TreeHead, Note)>> {
        let Some(size) = lock(&self.reader).latest_cosigned_size(k)? else {
            return Ok(None);
        };
        let head = lock(&self.reader)
            .tree_heads_in(size.saturating_sub(1), size, 1)?
            .pop();
        match (head, self.checkpoint(size)?) {
            (Some(h), Some(n)) => Ok(Some((h, n))),
            _ => Ok(None),
        }
    }

    /// Stores a witness's cosignature line on the checkpoint of `size`, after checking it:
    /// `witness` must have cosigned exactly that stored checkpoint.
    pub fn add_cosignature(&self, size: u64, witness: &NoteVerifier, line: &str) -> Result<()> {
        let Some(mut note) = self.checkpoint(size)? else {
            return Err(invalid(format!("no checkpoint of size {size} is stored")));
        };
        note.signatures.clear();
        note.add_signature_lines(line)?;
        if note.cosigners(std::slice::from_ref(witness))?.is_empty() {
            return Err(failed(format!(
                "the answer of witness {} holds no cosignature of its key",
                witness.name
            )));
        }
        lock(&self.reader).add_cosignature(size, &witness.to_string(), line.trim_end())
    }

    /// How many heads were ever signed, as counted beside them (a log from before the count
    /// was kept counts what it holds).
    fn heads_signed(&self, store: &mut dyn EntryStore) -> Result<u64> {
        match store.meta(HEADS_SIGNED)?.and_then(|v| v.parse().ok()) {
            Some(n) => Ok(n),
            None => store.tree_head_count(),
        }
    }

    /// Whether signed heads were removed from storage: fewer are stored than were signed.
    pub fn missing_heads(&self) -> Result<Option<String>> {
        let mut store = self.reader_store()?;
        let (stored, signed) = (store.tree_head_count()?, self.heads_signed(store.as_mut())?);
        Ok((stored < signed).then(|| {
            format!(
                "{signed} tree heads were signed but {stored} are stored: signed heads were removed"
            )
        }))
    }

    /// Whether [`Ledger::maybe_sign`] should sign a head of `size` at `now`.
    fn sign_due(&self, w: &mut Writer, now: DateTime<Utc>, size: u64) -> Result<bool> {
        Ok(match w.store.latest_tree_head()? {
            None => size > 0,
            Some(last) => {
                let age = now.signed_duration_since(last.time()?);
                size > last.size && age.to_std().is_ok_and(|a| a >= self.opts.sign_interval)
            }
        })
    }

    /// Signs a head if entries arrived since the last one and at least
    /// [`Options::sign_interval`] has passed (or there is no head yet). The server calls this
    /// from a background task every few seconds.
    pub fn maybe_sign(&self, now: DateTime<Utc>) -> Result<Option<TreeHead>> {
        self.maybe_sign_checked(now, u64::MAX)
    }

    /// [`Ledger::maybe_sign`] over the first `checked` entries only: a server signs over the
    /// entries its [`crate::Checker`] has re-read, never past them.
    pub fn maybe_sign_checked(&self, now: DateTime<Utc>, checked: u64) -> Result<Option<TreeHead>> {
        let mut w = lock(&self.writer);
        self.catch_up_if_shared(&mut w)?;
        // Decided again under the append lock (another process may have signed meanwhile).
        let size = checked.min(w.frontier.size());
        if !self.sign_due(&mut w, now, size)? {
            return Ok(None);
        }
        self.sign_locked(&mut w, Some(now), checked)
    }

    /// The most recently signed tree head.
    pub fn latest_tree_head(&self) -> Result<Option<TreeHead>> {
        lock(&self.reader).latest_tree_head()
    }

    /// Every signed tree head, oldest first.
    pub fn tree_heads(&self) -> Result<Vec<TreeHead>> {
        lock(&self.reader).tree_heads()
    }

    /// Recomputes everything from the stored entries and checks every stored hash and signed
    /// head. Per row, in index order: no gap in the indexes; the body hashes to its stored leaf
    /// hash; the body ends in the canonical version-1 tail with `seq` equal to its position; the
    /// leaf hash equals the one written to the node files at append time; every stored perfect
    /// node equals the recomputed one. Per head: the signature, and the recomputed root at its
    /// size. Finally, no head or node file covers entries beyond the end of the table.
    ///
    /// The report lists each problem with the first index it concerns (see [`VerifyReport`]).
    /// Runs on its own database connection and snapshot, so appends continue meanwhile; hashing
    /// runs on all cores but one.
    pub fn verify_full(&self) -> Result<VerifyReport> {
        let mut snap = lock(&self.reader).reader()?;
        let nodes_at_snapshot = {
            // Hold the writer and the append lock so that the snapshot and the node file lengths
            // agree: no handle, here or in another process, commits entries meanwhile.
            let mut w = lock(&self.writer);
            self.catch_up_if_shared(&mut w)?;
            let _held = self.append_lock.lock()?;
            snap.begin_snapshot()?;
            if self.shared {
                // Other processes' entries in the snapshot get their nodes first.
                let end = snap.end()?;
                self.catch_up(&mut w, end)?;
            }
            self.nodes.len(0)?
        };
        let report = crate::verify::verify_full(
            snap.as_mut(),
            &self.nodes,
            nodes_at_snapshot,
            self.known_keys(),
        );
        snap.end_snapshot()?;
        let mut report = report?;
        if let Some(why) = self.missing_heads()? {
            report.add(ProblemKind::MissingHead, None, None, why);
        }
        Ok(report)
    }
}

/// The log's checkpoint origin: the one recorded, which a different `--ledger-origin` may not
/// replace, or the wanted or default one recorded now.
fn bind_origin(store: &mut dyn EntryStore, opts: &Options, key: &VerifyingKey) -> Result<String> {
    let wanted = match &opts.origin {
        Some(o) => {
            NoteVerifier::log(o, *key)?;
            o.clone()
        }
        None => format!("anpr-audit-ledger/{}", keys::key_id(key)),
    };
    let bound = store.bind_origin(&wanted)?;
    match &opts.origin {
        Some(o) if *o != bound => Err(invalid(format!(
            "the ledger's checkpoints are named {bound:?}, not {o:?}: the origin of a log never \
             changes, since witnesses know the log by it; drop --ledger-origin or give {bound:?}"
        ))),
        _ => Ok(bound),
    }
}

impl Drop for Ledger {
    fn drop(&mut self) {
        let w = self.writer.get_mut().unwrap_or_else(|p| p.into_inner());
        if w.damaged.is_none() && w.unsynced > 0 && self.nodes.sync().is_ok() {
            let _ = w
                .store
                .set_meta(NODES_SYNCED, &w.frontier.size().to_string());
        }
    }
}

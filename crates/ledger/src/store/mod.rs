//! Durable storage: entries and tree heads behind the [`EntryStore`] trait (SQLite for the
//! processes sharing one ledger directory, PostgreSQL for several servers), perfect-subtree
//! hashes in flat files ([`NodeFiles`]).
//!
//! The entries store is the source of truth and the only thing that must be durable before an
//! append is acknowledged. Node files are derived data: written after each commit without fsync,
//! synced every so often, and rebuilt from the stored leaf hashes at open for whatever was not yet
//! synced (see the `recover` module).

mod nodes;
mod postgres;
mod recover;
mod sqlite;

pub use nodes::NodeFiles;
pub use postgres::PgStore;
pub(crate) use recover::{recover, NODES_SYNCED};
pub use sqlite::{SqliteStore, DB_FILE};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::head::TreeHead;
use crate::hexser;
use crate::merkle::Hash;

/// An entry as served to readers and verifiers. In JSON the body is the entry's canonical JSON
/// text as a string; its UTF-8 bytes are what the leaf hash covers.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredEntry {
    /// Position in the log (0-based).
    pub index: u64,
    /// SHA-256(0x00 || body) as stored at append time.
    #[serde(with = "hexser::hash")]
    pub leaf_hash: Hash,
    /// The canonical encoding of the event.
    pub body: String,
}

/// A page of entry bodies in one buffer, for passes over many entries (the integrity rules):
/// one allocation per page instead of two per entry, reused from page to page. The bodies are
/// the stored bytes, unchecked (a reader that needs them proven runs `verify`).
#[derive(Clone, Debug, Default)]
pub struct EntryPage {
    indices: Vec<u64>,
    ends: Vec<usize>,
    bytes: Vec<u8>,
}

impl EntryPage {
    /// Empties the page, keeping its buffers.
    pub fn clear(&mut self) {
        self.indices.clear();
        self.ends.clear();
        self.bytes.clear();
    }

    /// Adds an entry's body.
    pub fn push(&mut self, index: u64, body: &[u8]) {
        self.bytes.extend_from_slice(body);
        self.indices.push(index);
        self.ends.push(self.bytes.len());
    }

    pub fn len(&self) -> usize {
        self.indices.len()
    }

    pub fn is_empty(&self) -> bool {
        self.indices.is_empty()
    }

    /// The entries, in index order: (index, body).
    pub fn iter(&self) -> impl Iterator<Item = (u64, &[u8])> + '_ {
        self.indices.iter().enumerate().map(move |(k, &i)| {
            let start = if k == 0 { 0 } else { self.ends[k - 1] };
            (i, &self.bytes[start..self.ends[k]])
        })
    }

    /// The highest index in the page.
    pub fn last_index(&self) -> Option<u64> {
        self.indices.last().copied()
    }
}

/// A row to be written by [`EntryStore::append`].
#[derive(Clone, Debug)]
pub struct NewEntry {
    /// Position in the log.
    pub index: u64,
    /// Event time, microseconds since the Unix epoch (UTC).
    pub time_us: i64,
    /// Canonical event encoding.
    pub body: Vec<u8>,
    /// Leaf hash of `body`.
    pub leaf_hash: Hash,
}

/// A row as found in storage, unchecked: after tampering anything may be in it.
#[derive(Clone, Copy, Debug)]
pub struct RawEntry<'a> {
    /// The stored index column.
    pub index: i64,
    /// The stored time column (µs since the epoch).
    pub time_us: i64,
    /// The stored body.
    pub body: &'a [u8],
    /// The stored leaf hash column.
    pub leaf_hash: &'a [u8],
}

/// Durable storage of entries, signed tree heads and a little metadata.
///
/// Implementations must make [`EntryStore::append`] atomic and durable: when it returns `Ok`,
/// every row is on stable storage; when it fails or the process dies, none or all of them are.
pub trait EntryStore: Send {
    /// One past the highest stored index (0 when empty). Gaps below it are for `verify` to find.
    fn end(&mut self) -> Result<u64>;

    /// For storage that several processes append to: takes the append lock, held until the
    /// next [`EntryStore::append`] commits or [`EntryStore::abort_append`], and returns where
    /// the log ends now (other processes may have appended since this one last looked).
    /// `None`: this process is the only writer and its own count is the truth.
    fn begin_append(&mut self) -> Result<Option<u64>> {
        Ok(None)
    }

    /// Whether other processes append to this storage too.
    fn shared(&self) -> bool {
        false
    }

    /// Gives up the append lock without appending.
    fn abort_append(&mut self) -> Result<()> {
        Ok(())
    }

    /// Writes the rows in one durable transaction.
    fn append(&mut self, rows: &[NewEntry]) -> Result<()>;

    /// Entries with `from <= index < to`, in index order.
    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<StoredEntry>>;

    /// Replaces `page` with the bodies of the entries with `from <= index < to`, in index order.
    fn entry_page(&mut self, from: u64, to: u64, page: &mut EntryPage) -> Result<()>;

    /// Visits the stored leaf-hash column for `from <= index < to`, in index order.
    fn leaf_hashes(
        &mut self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()>;

    /// Visits every stored row in index order.
    fn scan(&mut self, visit: &mut dyn FnMut(RawEntry<'_>) -> Result<()>) -> Result<()>;

    /// Stores a signed tree head.
    fn add_tree_head(&mut self, head: &TreeHead) -> Result<()>;

    /// Every stored tree head, in the order they were signed.
    fn tree_heads(&mut self) -> Result<Vec<TreeHead>>;

    /// The most recently signed tree head.
    fn latest_tree_head(&mut self) -> Result<Option<TreeHead>>;

    /// At most `limit` heads with `after < size <= upto`, in the order they were signed.
    fn tree_heads_in(&mut self, after: u64, upto: u64, limit: usize) -> Result<Vec<TreeHead>>;

    /// How many tree heads are stored.
    fn tree_head_count(&mut self) -> Result<u64>;

    /// Stores the checkpoint note (log signatures only) of the head of `size`; a checkpoint
    /// already stored for that size is kept (a head of the same size signs the same text).
    fn add_checkpoint(&mut self, size: u64, note: &str) -> Result<()>;

    /// The checkpoint note stored for `size`.
    fn checkpoint(&mut self, size: u64) -> Result<Option<String>>;

    /// Stores a witness's cosignature line on the checkpoint of `size` (one per witness key).
    fn add_cosignature(&mut self, size: u64, witness: &str, line: &str) -> Result<()>;

    /// The cosignatures stored for the checkpoint of `size`: (witness, line).
    fn cosignatures(&mut self, size: u64) -> Result<Vec<(String, String)>>;

    /// The largest size whose checkpoint holds at least `k` cosignatures.
    fn latest_cosigned_size(&mut self, k: usize) -> Result<Option<u64>>;

    /// Records the log's checkpoint origin if none is recorded, and returns the recorded one
    /// (shared by every process of the log).
    fn bind_origin(&mut self, origin: &str) -> Result<String>;

    /// Reads a metadata value.
    fn meta(&mut self, key: &str) -> Result<Option<String>>;

    /// Writes a metadata value (durably).
    fn set_meta(&mut self, key: &str, value: &str) -> Result<()>;

    /// Checks that this process signs with the key the log is signed with (storage several
    /// processes share records the first one's), or, during a rollover, that the key it
    /// replaces (`replaces`) is that key, and records the new one; nothing to check for a log
    /// of one process.
    fn bind_signing_key(&mut self, _key_id: &str, _replaces: Option<&str>) -> Result<()> {
        Ok(())
    }

    /// Starts a read snapshot: until [`EntryStore::end_snapshot`], reads see one consistent state.
    fn begin_snapshot(&mut self) -> Result<()>;

    /// Ends the read snapshot.
    fn end_snapshot(&mut self) -> Result<()>;

    /// Opens another handle on the same storage, for reads that run beside the writer.
    fn reader(&self) -> Result<Box<dyn EntryStore>>;
}

/// A head's rollover signature as stored: JSON, or NULL outside a rollover.
pub(crate) fn previous_key_column(head: &TreeHead) -> Result<Option<String>> {
    Ok(head
        .previous_key
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?)
}

/// A head's per-network counters as stored: JSON `{"<id>":count,...}`, or NULL on heads without.
pub(crate) fn network_counts_column(head: &TreeHead) -> Result<Option<String>> {
    Ok(head
        .network_counts
        .as_ref()
        .map(serde_json::to_string)
        .transpose()?)
}

pub(crate) fn network_counts_from_column(
    column: Option<&str>,
) -> Result<Option<crate::head::NetworkCounts>> {
    column
        .map(|c| {
            serde_json::from_str(c)
                .map_err(|e| Error::Verification(format!("a head's network counters: {e}")))
        })
        .transpose()
}

pub(crate) fn previous_key_from_column(
    column: Option<&str>,
) -> Result<Option<crate::head::KeySignature>> {
    column
        .map(|c| {
            serde_json::from_str(c)
                .map_err(|e| Error::Verification(format!("a head's previous-key signature: {e}")))
        })
        .transpose()
}

/// Rows written per transaction by [`copy_log`].
const COPY_BATCH: usize = 10_000;

/// Copies a whole log, entries, signed tree heads, their checkpoints and cosignatures, byte for byte into empty storage (moving
/// a deployment from SQLite to PostgreSQL). `progress` is told how many entries are copied so
/// far. The copy is checked by recomputing nothing here: open a [`crate::Ledger`] on `to` and
/// compare its root, or run `verify_full`.
pub fn copy_log(
    from: &mut dyn EntryStore,
    to: &mut dyn EntryStore,
    progress: &mut dyn FnMut(u64),
) -> Result<u64> {
    if to.end()? != 0 || !to.tree_heads()?.is_empty() {
        return Err(crate::error::Error::InvalidArgument(
            "the target ledger is not empty".into(),
        ));
    }
    let mut batch: Vec<NewEntry> = Vec::with_capacity(COPY_BATCH);
    let mut copied = 0u64;
    let mut flush = |batch: &mut Vec<NewEntry>, to: &mut dyn EntryStore| -> Result<()> {
        if !batch.is_empty() {
            to.append(batch)?;
            copied += batch.len() as u64;
            batch.clear();
            progress(copied);
        }
        Ok(())
    };
    from.scan(&mut |row| {
        let leaf_hash: Hash = row.leaf_hash.try_into().map_err(|_| {
            crate::error::Error::Verification(format!(
                "entry {}: stored leaf hash is not 32 bytes; run verify",
                row.index
            ))
        })?;
        batch.push(NewEntry {
            index: row.index as u64,
            time_us: row.time_us,
            body: row.body.to_vec(),
            leaf_hash,
        });
        if batch.len() == COPY_BATCH {
            flush(&mut batch, to)?;
        }
        Ok(())
    })?;
    flush(&mut batch, to)?;
    for head in from.tree_heads()? {
        to.add_tree_head(&head)?;
        if let Some(note) = from.checkpoint(head.size)? {
            // The copy keeps the name witnesses know the log by.
            let origin = crate::note::Note::parse(&note)
                .and_then(|n| crate::note::Checkpoint::parse(&n.text))?
                .origin;
            to.bind_origin(&origin)?;
            to.add_checkpoint(head.size, &note)?;
        }
        for (witness, line) in from.cosignatures(head.size)? {
            to.add_cosignature(head.size, &witness, &line)?;
        }
    }
    to.end()
}

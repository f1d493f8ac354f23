//! The SQLite [`EntryStore`]: its own database file, WAL journal, `synchronous=FULL` so that a
//! committed transaction survives power loss.
//!
//! Several processes may open the same file (the CLI beside a running server), so the store is
//! [`EntryStore::shared`]: [`EntryStore::begin_append`] starts a `BEGIN IMMEDIATE` transaction,
//! SQLite's write lock across processes, and returns where the log ends inside it; the
//! ledger numbers its entries from there and [`EntryStore::append`] commits. (The ledger also
//! holds its directory's `append.lock` around this, so processes wait on each other in the
//! kernel instead of SQLite's busy-wait.)
//!
//! ```sql
//! entries    (idx INTEGER PRIMARY KEY, time INTEGER /* µs since epoch */, body BLOB, leaf_hash BLOB)
//! tree_heads (id INTEGER PRIMARY KEY, size, root_hash TEXT /* hex */, timestamp TEXT,
//!             key_id TEXT, signature TEXT /* hex */,
//!             previous_key TEXT /* JSON, during a key rollover */,
//!             network_counts TEXT /* JSON {"<network id>":count}, heads with counters */)
//! meta       (key TEXT PRIMARY KEY, value TEXT)
//! checkpoints  (size INTEGER PRIMARY KEY, note TEXT /* C2SP signed note, the log's signatures */)
//! cosignatures (size, witness TEXT /* verifier key */, line TEXT /* note signature line */)
//! ```

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::{params, Connection, OptionalExtension};

use super::{EntryPage, EntryStore, NewEntry, RawEntry, StoredEntry};
use crate::error::{Error, Result};
use crate::head::TreeHead;
use crate::hexser::parse_hash;

/// File name of the database inside the ledger directory.
pub const DB_FILE: &str = "ledger.sqlite";

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS entries (
    idx       INTEGER PRIMARY KEY,
    time      INTEGER NOT NULL,
    body      BLOB NOT NULL,
    leaf_hash BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS tree_heads (
    id        INTEGER PRIMARY KEY,
    size      INTEGER NOT NULL,
    root_hash TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
INSERT OR IGNORE INTO meta (key, value) VALUES ('schema_version', '1');
CREATE TABLE IF NOT EXISTS checkpoints (
    size INTEGER PRIMARY KEY,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS cosignatures (
    size    INTEGER NOT NULL,
    witness TEXT NOT NULL,
    line    TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
";

/// Entries, heads and metadata in one SQLite file.
pub struct SqliteStore {
    path: PathBuf,
    conn: Connection,
    /// Whether `begin_append` left a write transaction open for `append`.
    appending: bool,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path`.
    pub fn open(path: &Path) -> Result<Self> {
        let store = Self::connect(path)?;
        store.conn.pragma_update(None, "journal_mode", "WAL")?;
        store.conn.execute_batch(SCHEMA)?;
        let has_previous_key: bool = store.conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('tree_heads') WHERE name = 'previous_key'",
            [],
            |r| r.get(0),
        )?;
        if !has_previous_key {
            store
                .conn
                .execute_batch("ALTER TABLE tree_heads ADD COLUMN previous_key TEXT")?;
        }
        let has_counts: bool = store.conn.query_row(
            "SELECT COUNT(*) > 0 FROM pragma_table_info('tree_heads') WHERE name = 'network_counts'",
            [],
            |r| r.get(0),
        )?;
        if !has_counts {
            store
                .conn
                .execute_batch("ALTER TABLE tree_heads ADD COLUMN network_counts TEXT")?;
        }
        Ok(store)
    }

    fn connect(path: &Path) -> Result<Self> {
        let conn = Connection::open(path)?;
        conn.busy_timeout(Duration::from_secs(10))?;
        conn.pragma_update(None, "synchronous", "FULL")?;
        // Fewer, larger checkpoints: the log is written at up to hundreds of thousands of rows a
        // second and every checkpoint costs an fsync of the main file.
        conn.pragma_update(None, "wal_autocheckpoint", 16384)?;
        Ok(Self {
            path: path.to_owned(),
            conn,
            appending: false,
        })
    }

    /// The database file.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::InvalidArgument(format!("{v} does not fit in SQLite")))
}

type HeadRow = (
    i64,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
);

fn head_from_row(row: &rusqlite::Row<'_>) -> rusqlite::Result<HeadRow> {
    Ok((
        row.get(0)?,
        row.get(1)?,
        row.get(2)?,
        row.get(3)?,
        row.get(4)?,
        row.get(5)?,
        row.get(6)?,
    ))
}

fn to_head(
    (size, root, timestamp, key_id, signature, previous, counts): HeadRow,
) -> Result<TreeHead> {
    Ok(TreeHead {
        size: u64::try_from(size)
            .map_err(|_| Error::Verification(format!("negative tree head size {size}")))?,
        root_hash: parse_hash(&root).map_err(Error::Verification)?,
        timestamp,
        key_id,
        signature,
        previous_key: super::previous_key_from_column(previous.as_deref())?,
        network_counts: super::network_counts_from_column(counts.as_deref())?,
    })
}

const HEAD_COLUMNS: &str =
    "size, root_hash, timestamp, key_id, signature, previous_key, network_counts";

impl SqliteStore {
    fn insert(&self, rows: &[NewEntry]) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "INSERT INTO entries (idx, time, body, leaf_hash) VALUES (?1, ?2, ?3, ?4)",
        )?;
        for r in rows {
            st.execute(params![
                to_i64(r.index)?,
                r.time_us,
                r.body,
                &r.leaf_hash[..]
            ])?;
        }
        Ok(())
    }
}

impl EntryStore for SqliteStore {
    fn end(&mut self) -> Result<u64> {
        // Cached: every group commit asks (in `begin_append`), and so does every refresh.
        let end: i64 = self
            .conn
            .prepare_cached("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries")?
            .query_row([], |r| r.get(0))?;
        Ok(end.max(0) as u64)
    }

    fn shared(&self) -> bool {
        true
    }

    fn begin_append(&mut self) -> Result<Option<u64>> {
        if self.appending {
            self.abort_append()?;
        }
        self.conn.execute_batch("BEGIN IMMEDIATE")?;
        self.appending = true;
        match self.end() {
            Ok(end) => Ok(Some(end)),
            Err(e) => {
                let _ = self.abort_append();
                Err(e)
            }
        }
    }

    fn abort_append(&mut self) -> Result<()> {
        if std::mem::take(&mut self.appending) {
            self.conn.execute_batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn append(&mut self, rows: &[NewEntry]) -> Result<()> {
        if !self.appending {
            self.begin_append()?;
        }
        let written = self.insert(rows).and_then(|()| {
            self.conn.execute_batch("COMMIT")?;
            Ok(())
        });
        self.appending = false;
        if written.is_err() && !self.conn.is_autocommit() {
            // A failed COMMIT may leave the transaction open; end it.
            let _ = self.conn.execute_batch("ROLLBACK");
        }
        written
    }

    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, body, leaf_hash FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut rows = st.query(params![to_i64(from)?, to_i64(to)?])?;
        let mut out = Vec::new();
        while let Some(row) = rows.next()? {
            let index: i64 = row.get(0)?;
            let body: Vec<u8> = row.get(1)?;
            let leaf: Vec<u8> = row.get(2)?;
            let corrupt =
                |what: &str| Error::Verification(format!("entry {index}: {what}; run verify"));
            out.push(StoredEntry {
                index: index as u64,
                leaf_hash: leaf
                    .try_into()
                    .map_err(|_| corrupt("stored leaf hash is not 32 bytes"))?,
                body: String::from_utf8(body).map_err(|_| corrupt("body is not UTF-8"))?,
            });
        }
        Ok(out)
    }

    fn entry_page(&mut self, from: u64, to: u64, page: &mut EntryPage) -> Result<()> {
        page.clear();
        let mut st = self.conn.prepare_cached(
            "SELECT idx, body FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut rows = st.query(params![to_i64(from)?, to_i64(to)?])?;
        while let Some(row) = rows.next()? {
            let index: i64 = row.get(0)?;
            let body = row.get_ref(1)?;
            let body = body
                .as_blob()
                .or_else(|_| body.as_str().map(str::as_bytes))
                .map_err(|_| {
                    Error::Verification(format!("entry {index}: body is not stored as bytes"))
                })?;
            page.push(index as u64, body);
        }
        Ok(())
    }

    fn leaf_hashes(
        &mut self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        let mut st = self.conn.prepare_cached(
            "SELECT idx, leaf_hash FROM entries WHERE idx >= ?1 AND idx < ?2 ORDER BY idx",
        )?;
        let mut rows = st.query(params![to_i64(from)?, to_i64(to)?])?;
        while let Some(row) = rows.next()? {
            let leaf = row.get_ref(1)?;
            visit(row.get(0)?, leaf.as_blob().unwrap_or_default())?;
        }
        Ok(())
    }

    fn scan(&mut self, visit: &mut dyn FnMut(RawEntry<'_>) -> Result<()>) -> Result<()> {
        // Whole-log scans read gigabytes: map the file instead of copying every page through
        // read(2) (SQLite caps the mapping at its compile-time maximum).
        self.conn.pragma_update(None, "mmap_size", 1i64 << 40)?;
        let mut st = self
            .conn
            .prepare("SELECT idx, body, leaf_hash, time FROM entries ORDER BY idx")?;
        let mut rows = st.query([])?;
        while let Some(row) = rows.next()? {
            let body = row.get_ref(1)?;
            let leaf = row.get_ref(2)?;
            let body = body
                .as_blob()
                .or_else(|_| body.as_str().map(str::as_bytes))
                .unwrap_or_default();
            visit(RawEntry {
                index: row.get(0)?,
                time_us: row.get(3)?,
                body,
                leaf_hash: leaf.as_blob().unwrap_or_default(),
            })?;
        }
        Ok(())
    }

    fn add_tree_head(&mut self, h: &TreeHead) -> Result<()> {
        self.conn.execute(
            "INSERT INTO tree_heads (size, root_hash, timestamp, key_id, signature, previous_key, \
             network_counts) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            params![
                to_i64(h.size)?,
                hex::encode(h.root_hash),
                h.timestamp,
                h.key_id,
                h.signature,
                super::previous_key_column(h)?,
                super::network_counts_column(h)?
            ],
        )?;
        Ok(())
    }

    fn tree_heads(&mut self) -> Result<Vec<TreeHead>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY id"
        ))?;
        let rows = st.query_map([], head_from_row)?;
        rows.map(|r| to_head(r?)).collect()
    }

    fn tree_heads_in(&mut self, after: u64, upto: u64, limit: usize) -> Result<Vec<TreeHead>> {
        let mut st = self.conn.prepare_cached(&format!(
            "SELECT {HEAD_COLUMNS} FROM tree_heads WHERE size > ?1 AND size <= ?2 ORDER BY id LIMIT ?3"
        ))?;
        let rows = st.query_map(
            params![to_i64(after)?, to_i64(upto)?, limit as i64],
            head_from_row,
        )?;
        rows.map(|r| to_head(r?)).collect()
    }

    fn tree_head_count(&mut self) -> Result<u64> {
        let n: i64 = self
            .conn
            .query_row("SELECT COUNT(*) FROM tree_heads", [], |r| r.get(0))?;
        Ok(n as u64)
    }

    fn latest_tree_head(&mut self) -> Result<Option<TreeHead>> {
        self.conn
            .query_row(
                &format!("SELECT {HEAD_COLUMNS} FROM tree_heads ORDER BY id DESC LIMIT 1"),
                [],
                head_from_row,
            )
            .optional()?
            .map(to_head)
            .transpose()
    }

    fn add_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO checkpoints (size, note) VALUES (?1, ?2)",
            params![to_i64(size)?, note],
        )?;
        Ok(())
    }

    fn checkpoint(&mut self, size: u64) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row(
                "SELECT note FROM checkpoints WHERE size = ?1",
                [to_i64(size)?],
                |r| r.get(0),
            )
            .optional()?)
    }

    fn add_cosignature(&mut self, size: u64, witness: &str, line: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR IGNORE INTO cosignatures (size, witness, line) VALUES (?1, ?2, ?3)",
            params![to_i64(size)?, witness, line],
        )?;
        Ok(())
    }

    fn cosignatures(&mut self, size: u64) -> Result<Vec<(String, String)>> {
        let mut st = self.conn.prepare_cached(
            "SELECT witness, line FROM cosignatures WHERE size = ?1 ORDER BY witness",
        )?;
        let rows = st.query_map([to_i64(size)?], |r| Ok((r.get(0)?, r.get(1)?)))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    }

    fn latest_cosigned_size(&mut self, k: usize) -> Result<Option<u64>> {
        let size: Option<i64> = self
            .conn
            .query_row(
                "SELECT size FROM cosignatures GROUP BY size HAVING COUNT(*) >= ?1 \
                 ORDER BY size DESC LIMIT 1",
                [k as i64],
                |r| r.get(0),
            )
            .optional()?;
        Ok(size.map(|s| s as u64))
    }

    fn bind_origin(&mut self, origin: &str) -> Result<String> {
        self.conn.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('checkpoint_origin', ?1)",
            [origin],
        )?;
        Ok(self.conn.query_row(
            "SELECT value FROM meta WHERE key = 'checkpoint_origin'",
            [],
            |r| r.get(0),
        )?)
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        Ok(self
            .conn
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?)
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        self.conn.execute(
            "INSERT OR REPLACE INTO meta (key, value) VALUES (?1, ?2)",
            [key, value],
        )?;
        Ok(())
    }

    fn begin_snapshot(&mut self) -> Result<()> {
        // A deferred transaction takes its snapshot at the first read, so read something now.
        self.conn.execute_batch("BEGIN")?;
        self.conn
            .query_row("SELECT COUNT(*) FROM meta", [], |_| Ok(()))?;
        Ok(())
    }

    fn end_snapshot(&mut self) -> Result<()> {
        self.conn.execute_batch("COMMIT")?;
        Ok(())
    }

    fn reader(&self) -> Result<Box<dyn EntryStore>> {
        Ok(Box::new(SqliteStore::connect(&self.path)?))
    }
}

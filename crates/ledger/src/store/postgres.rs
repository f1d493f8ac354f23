//! The PostgreSQL [`EntryStore`]: one ledger shared by several server processes.
//!
//! ```sql
//! ledger_entries    (idx BIGINT PRIMARY KEY, time BIGINT /* µs */, body BYTEA, leaf_hash BYTEA)
//! ledger_tree_heads (id BIGSERIAL PRIMARY KEY, size, root_hash /* hex */, timestamp, key_id,
//!                    signature /* hex */, previous_key /* JSON */, network_counts /* JSON */)
//! ledger_meta       (key TEXT PRIMARY KEY, value TEXT)   -- what the processes share
//! ```
//!
//! Appends from every process are serialised by a transaction-scoped advisory lock taken in
//! [`EntryStore::begin_append`], which also reads where the log ends *now*: the ledger first
//! catches up on what the other processes appended, then numbers its own entries from there.
//! So there is one sequence, without gaps or forks, whichever process appends. The node files
//! are each process's own derived data, so what the ledger records about them
//! (`nodes_synced`) is kept beside them in the process's ledger directory, not in the shared
//! table. Every process must sign with the deployment's one key: the first to open the ledger
//! records the key's id, and a process with another key is refused.
//!
//! The calls are synchronous, as the trait is, and may come from any thread, including an
//! async runtime's: each connection is driven by a runtime on a thread of its own, and a call
//! waits on its result with a plain executor, never a runtime's `block_on`.

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anpr_postgres_tls::PgTarget;
use futures_executor::block_on;
use tokio_postgres::types::ToSql;
use tokio_postgres::{Client, Row, Statement};

use super::{EntryPage, EntryStore, NewEntry, RawEntry, StoredEntry};
use crate::error::{Error, Result};
use crate::head::TreeHead;
use crate::hexser::parse_hash;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS ledger_entries (
    idx       BIGINT PRIMARY KEY,
    time      BIGINT NOT NULL,
    body      BYTEA NOT NULL,
    leaf_hash BYTEA NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_tree_heads (
    id        BIGSERIAL PRIMARY KEY,
    size      BIGINT NOT NULL,
    root_hash TEXT NOT NULL,
    timestamp TEXT NOT NULL,
    key_id    TEXT NOT NULL,
    signature TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
ALTER TABLE ledger_tree_heads ADD COLUMN IF NOT EXISTS previous_key TEXT;
ALTER TABLE ledger_tree_heads ADD COLUMN IF NOT EXISTS network_counts TEXT;
CREATE TABLE IF NOT EXISTS ledger_checkpoints (
    size BIGINT PRIMARY KEY,
    note TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS ledger_cosignatures (
    size    BIGINT NOT NULL,
    witness TEXT NOT NULL,
    line    TEXT NOT NULL,
    PRIMARY KEY (size, witness)
);
";

/// Advisory lock key of ledger appends (and of the schema's creation).
const APPEND_LOCK: i64 = 0x616e_7072_1001;

/// Shared metadata key: the id of the key every process signs with.
const SIGNING_KEY_ID: &str = "signing_key_id";

/// Shared metadata key: the origin line of the log's checkpoints.
const CHECKPOINT_ORIGIN: &str = "checkpoint_origin";

/// Rows read per query in whole-log passes, so that memory stays bounded.
const SCAN_PAGE: i64 = 65_536;

/// Entries, heads and shared metadata in PostgreSQL; this process's metadata in `local_dir`.
pub struct PgStore {
    target: PgTarget,
    client: Client,
    local_dir: PathBuf,
    /// Whether `begin_append` left a transaction open for `append`.
    appending: bool,
    /// Statements prepared on this connection, by their text: an append holds the lock every
    /// server waits on, so each of its statements is one round trip, not a prepare and one.
    statements: RefCell<HashMap<String, Statement>>,
}

fn db(e: tokio_postgres::Error) -> Error {
    Error::Append(format!("PostgreSQL: {e}"))
}

fn to_i64(v: u64) -> Result<i64> {
    i64::try_from(v).map_err(|_| Error::InvalidArgument(format!("index {v} out of range")))
}

/// Connects, driving the connection on a thread of its own (whose runtime is built there, so
/// that this works from inside another runtime too).
fn connect(target: &PgTarget) -> Result<Client> {
    let target = target.clone();
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::Builder::new()
        .name("ledger-postgres".into())
        .spawn(move || {
            let runtime = match tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
            {
                Ok(r) => r,
                Err(e) => {
                    let _ = tx.send(Err(Error::Io(e)));
                    return;
                }
            };
            match runtime.block_on(target.connect()) {
                Ok((client, connection)) => {
                    let _ = tx.send(Ok(client));
                    // Ends when the client is dropped or the connection fails; a failed
                    // connection shows up as the next call's error.
                    let _ = runtime.block_on(connection);
                }
                Err(e) => {
                    let _ = tx.send(Err(Error::Connect(target.explain(&e))));
                }
            }
        })?;
    rx.recv()
        .map_err(|_| Error::Append("the ledger's database connection thread ended".into()))?
}

impl PgStore {
    /// Connects to the ledger tables at `url` (creating them at first use; TLS as its
    /// `sslmode` and `sslrootcert` say); `local_dir` (the ledger directory) keeps what only this
    /// process's node files concern.
    pub fn open(url: &str, local_dir: &Path) -> Result<Self> {
        let target = PgTarget::parse(url).map_err(|e| Error::Connect(e.to_string()))?;
        let mut client = connect(&target)?;
        block_on(async {
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
                .await?;
            tx.batch_execute(SCHEMA).await?;
            tx.commit().await
        })
        .map_err(db)?;
        std::fs::create_dir_all(local_dir)?;
        Ok(Self {
            target,
            client,
            local_dir: local_dir.to_owned(),
            appending: false,
            statements: RefCell::default(),
        })
    }

    fn statement(&self, sql: &str) -> Result<Statement> {
        if let Some(st) = self.statements.borrow().get(sql) {
            return Ok(st.clone());
        }
        let st = block_on(self.client.prepare(sql)).map_err(db)?;
        self.statements
            .borrow_mut()
            .insert(sql.to_string(), st.clone());
        Ok(st)
    }

    fn query(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<Vec<Row>> {
        let st = self.statement(sql)?;
        block_on(self.client.query(&st, params)).map_err(db)
    }

    fn execute(&self, sql: &str, params: &[&(dyn ToSql + Sync)]) -> Result<u64> {
        let st = self.statement(sql)?;
        block_on(self.client.execute(&st, params)).map_err(db)
    }

    fn batch(&self, sql: &str) -> Result<()> {
        block_on(self.client.batch_execute(sql)).map_err(db)
    }

    fn local_meta_path(&self, key: &str) -> Result<PathBuf> {
        if key.is_empty() || !key.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(Error::InvalidArgument(format!("metadata key {key:?}")));
        }
        Ok(self.local_dir.join(format!("ledger-meta-{key}")))
    }

    /// Visits rows `from <= idx < to` page by page (bounded memory on a log of any size).
    fn visit_pages(
        &self,
        columns: &str,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(&Row) -> Result<()>,
    ) -> Result<()> {
        let (mut from, to) = (to_i64(from)?, to_i64(to)?);
        let sql = format!(
            "SELECT {columns} FROM ledger_entries WHERE idx >= $1 AND idx < $2 ORDER BY idx LIMIT $3"
        );
        while from < to {
            let rows = self.query(&sql, &[&from, &to, &SCAN_PAGE])?;
            for row in &rows {
                visit(row)?;
            }
            match rows.last() {
                Some(last) if rows.len() as i64 == SCAN_PAGE => from = last.get::<_, i64>(0) + 1,
                _ => break,
            }
        }
        Ok(())
    }
}

fn to_head(row: &Row) -> Result<TreeHead> {
    let size: i64 = row.get(0);
    let root: String = row.get(1);
    Ok(TreeHead {
        size: u64::try_from(size)
            .map_err(|_| Error::Verification(format!("negative tree head size {size}")))?,
        root_hash: parse_hash(&root).map_err(Error::Verification)?,
        timestamp: row.get(2),
        key_id: row.get(3),
        signature: row.get(4),
        previous_key: super::previous_key_from_column(row.get::<_, Option<&str>>(5))?,
        network_counts: super::network_counts_from_column(row.get::<_, Option<&str>>(6))?,
    })
}

const HEAD_COLUMNS: &str =
    "size, root_hash, timestamp, key_id, signature, previous_key, network_counts";

impl EntryStore for PgStore {
    fn end(&mut self) -> Result<u64> {
        let rows = self.query("SELECT COALESCE(MAX(idx) + 1, 0) FROM ledger_entries", &[])?;
        Ok(rows[0].get::<_, i64>(0).max(0) as u64)
    }

    fn shared(&self) -> bool {
        true
    }

    fn begin_append(&mut self) -> Result<Option<u64>> {
        if self.appending {
            self.abort_append()?;
        }
        self.batch("BEGIN")?;
        self.appending = true;
        let end = self
            .execute("SELECT pg_advisory_xact_lock($1)", &[&APPEND_LOCK])
            .and_then(|_| self.end());
        match end {
            Ok(end) => Ok(Some(end)),
            Err(e) => {
                let _ = self.abort_append();
                Err(e)
            }
        }
    }

    fn abort_append(&mut self) -> Result<()> {
        if std::mem::take(&mut self.appending) {
            self.batch("ROLLBACK")?;
        }
        Ok(())
    }

    fn append(&mut self, rows: &[NewEntry]) -> Result<()> {
        if !self.appending {
            self.begin_append()?;
        }
        let mut idx = Vec::with_capacity(rows.len());
        let mut time = Vec::with_capacity(rows.len());
        let mut body = Vec::with_capacity(rows.len());
        let mut leaf = Vec::with_capacity(rows.len());
        for r in rows {
            idx.push(to_i64(r.index)?);
            time.push(r.time_us);
            body.push(r.body.as_slice());
            leaf.push(&r.leaf_hash[..]);
        }
        let written = self
            .execute(
                "INSERT INTO ledger_entries (idx, time, body, leaf_hash)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[], $4::bytea[])",
                &[&idx, &time, &body, &leaf],
            )
            .and_then(|_| self.batch("COMMIT"));
        self.appending = false;
        if written.is_err() {
            // A failed statement leaves the transaction aborted; end it (a failed COMMIT has).
            let _ = self.batch("ROLLBACK");
        }
        written
    }

    fn entries(&mut self, from: u64, to: u64) -> Result<Vec<StoredEntry>> {
        let rows = self.query(
            "SELECT idx, body, leaf_hash FROM ledger_entries WHERE idx >= $1 AND idx < $2
             ORDER BY idx",
            &[&to_i64(from)?, &to_i64(to)?],
        )?;
        rows.iter()
            .map(|row| {
                let index: i64 = row.get(0);
                let corrupt =
                    |what: &str| Error::Verification(format!("entry {index}: {what}; run verify"));
                let leaf: Vec<u8> = row.get(2);
                Ok(StoredEntry {
                    index: index as u64,
                    leaf_hash: leaf
                        .try_into()
                        .map_err(|_| corrupt("stored leaf hash is not 32 bytes"))?,
                    body: String::from_utf8(row.get(1))
                        .map_err(|_| corrupt("body is not UTF-8"))?,
                })
            })
            .collect()
    }

    fn entry_page(&mut self, from: u64, to: u64, page: &mut EntryPage) -> Result<()> {
        page.clear();
        self.visit_pages("idx, body", from, to, &mut |row| {
            page.push(row.get::<_, i64>(0) as u64, row.get(1));
            Ok(())
        })
    }

    fn leaf_hashes(
        &mut self,
        from: u64,
        to: u64,
        visit: &mut dyn FnMut(i64, &[u8]) -> Result<()>,
    ) -> Result<()> {
        self.visit_pages("idx, leaf_hash", from, to, &mut |row| {
            visit(row.get(0), row.get(1))
        })
    }

    fn scan(&mut self, visit: &mut dyn FnMut(RawEntry<'_>) -> Result<()>) -> Result<()> {
        let end = self.end()?;
        self.visit_pages("idx, body, leaf_hash, time", 0, end, &mut |row| {
            visit(RawEntry {
                index: row.get(0),
                time_us: row.get(3),
                body: row.get(1),
                leaf_hash: row.get(2),
            })
        })
    }

    fn add_tree_head(&mut self, h: &TreeHead) -> Result<()> {
        self.execute(
            "INSERT INTO ledger_tree_heads (size, root_hash, timestamp, key_id, signature, previous_key,
             network_counts) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            &[
                &to_i64(h.size)?,
                &hex::encode(h.root_hash),
                &h.timestamp,
                &h.key_id,
                &h.signature,
                &super::previous_key_column(h)?,
                &super::network_counts_column(h)?,
            ],
        )?;
        Ok(())
    }

    fn tree_heads(&mut self) -> Result<Vec<TreeHead>> {
        self.query(
            &format!("SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY id"),
            &[],
        )?
        .iter()
        .map(to_head)
        .collect()
    }

    fn tree_heads_in(&mut self, after: u64, upto: u64, limit: usize) -> Result<Vec<TreeHead>> {
        let (after, upto, limit) = (after as i64, upto as i64, limit as i64);
        self.query(
            &format!(
                "SELECT {HEAD_COLUMNS} FROM ledger_tree_heads WHERE size > $1 AND size <= $2 \
                 ORDER BY id LIMIT $3"
            ),
            &[&after, &upto, &limit],
        )?
        .iter()
        .map(to_head)
        .collect()
    }

    fn tree_head_count(&mut self) -> Result<u64> {
        let rows = self.query("SELECT COUNT(*) FROM ledger_tree_heads", &[])?;
        Ok(rows.first().map_or(0, |r| r.get::<_, i64>(0)) as u64)
    }

    fn latest_tree_head(&mut self) -> Result<Option<TreeHead>> {
        self.query(
            &format!("SELECT {HEAD_COLUMNS} FROM ledger_tree_heads ORDER BY id DESC LIMIT 1"),
            &[],
        )?
        .first()
        .map(to_head)
        .transpose()
    }

    fn add_checkpoint(&mut self, size: u64, note: &str) -> Result<()> {
        self.execute(
            "INSERT INTO ledger_checkpoints (size, note) VALUES ($1, $2) ON CONFLICT DO NOTHING",
            &[&to_i64(size)?, &note],
        )?;
        Ok(())
    }

    fn checkpoint(&mut self, size: u64) -> Result<Option<String>> {
        Ok(self
            .query(
                "SELECT note FROM ledger_checkpoints WHERE size = $1",
                &[&to_i64(size)?],
            )?
            .first()
            .map(|r| r.get(0)))
    }

    fn add_cosignature(&mut self, size: u64, witness: &str, line: &str) -> Result<()> {
        self.execute(
            "INSERT INTO ledger_cosignatures (size, witness, line) VALUES ($1, $2, $3) \
             ON CONFLICT DO NOTHING",
            &[&to_i64(size)?, &witness, &line],
        )?;
        Ok(())
    }

    fn cosignatures(&mut self, size: u64) -> Result<Vec<(String, String)>> {
        Ok(self
            .query(
                "SELECT witness, line FROM ledger_cosignatures WHERE size = $1 ORDER BY witness",
                &[&to_i64(size)?],
            )?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect())
    }

    fn latest_cosigned_size(&mut self, k: usize) -> Result<Option<u64>> {
        Ok(self
            .query(
                "SELECT size FROM ledger_cosignatures GROUP BY size HAVING COUNT(*) >= $1 \
                 ORDER BY size DESC LIMIT 1",
                &[&(k as i64)],
            )?
            .first()
            .map(|r| r.get::<_, i64>(0) as u64))
    }

    fn bind_origin(&mut self, origin: &str) -> Result<String> {
        let rows = self.query(
            "WITH mine AS (
                 INSERT INTO ledger_meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO NOTHING RETURNING value)
             SELECT value FROM mine UNION ALL SELECT value FROM ledger_meta WHERE key = $1",
            &[&CHECKPOINT_ORIGIN, &origin],
        )?;
        rows.first()
            .map(|r| r.get(0))
            .ok_or_else(|| Error::Append("the ledger's checkpoint origin is not recorded".into()))
    }

    fn meta(&mut self, key: &str) -> Result<Option<String>> {
        match std::fs::read_to_string(self.local_meta_path(key)?) {
            Ok(v) => Ok(Some(v)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    fn set_meta(&mut self, key: &str, value: &str) -> Result<()> {
        // Written aside, synced, then renamed over: a crash leaves the old value or the new.
        let path = self.local_meta_path(key)?;
        let tmp = path.with_extension("tmp");
        {
            use std::io::Write;
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(value.as_bytes())?;
            f.sync_all()?;
        }
        std::fs::rename(&tmp, &path)?;
        std::fs::File::open(&self.local_dir)?.sync_all()?;
        Ok(())
    }

    fn bind_signing_key(&mut self, key_id: &str, replaces: Option<&str>) -> Result<()> {
        let rows = self.query(
            "WITH mine AS (
                 INSERT INTO ledger_meta (key, value) VALUES ($1, $2)
                 ON CONFLICT (key) DO NOTHING RETURNING value)
             SELECT value FROM mine UNION ALL SELECT value FROM ledger_meta WHERE key = $1",
            &[&SIGNING_KEY_ID, &key_id],
        )?;
        let bound: String = rows
            .first()
            .map(|r| r.get(0))
            .ok_or_else(|| Error::Append("the ledger's signing key id is not recorded".into()))?;
        if bound == key_id {
            return Ok(());
        }
        if replaces == Some(bound.as_str()) {
            // A rollover: from now on every server must sign with the new key.
            self.execute(
                "UPDATE ledger_meta SET value = $2 WHERE key = $1 AND value = $3",
                &[&SIGNING_KEY_ID, &key_id, &bound],
            )?;
            return Ok(());
        }
        Err(Error::InvalidArgument(format!(
            "this process signs with key {key_id} but the shared ledger is signed with key \
             {bound}: give every server the same key (the same --signing-key file, or a copy of \
             ledger-signing-key from another server's ledger directory); to change keys, give \
             the old one as --previous-signing-key"
        )))
    }

    fn begin_snapshot(&mut self) -> Result<()> {
        self.batch("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY")?;
        // The snapshot is taken at the first statement.
        self.query("SELECT 1", &[])?;
        Ok(())
    }

    fn end_snapshot(&mut self) -> Result<()> {
        self.batch("COMMIT")
    }

    fn reader(&self) -> Result<Box<dyn EntryStore>> {
        Ok(Box::new(PgStore {
            target: self.target.clone(),
            client: connect(&self.target)?,
            local_dir: self.local_dir.clone(),
            appending: false,
            statements: RefCell::default(),
        }))
    }
}

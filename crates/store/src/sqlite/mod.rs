//! The embedded store: one SQLite database in WAL mode.
//!
//! One writer connection behind a mutex (SQLite allows one writer at a time anyway) and a bounded
//! pool of reader connections (`pool.rs`), which WAL lets run alongside the writer. Every call runs on
//! tokio's blocking pool so the async server never waits on disk.

mod access;
mod alerts;
mod cases;
mod catalog;
mod checkpoint;
mod disclosures;
mod files;
mod hot_list;
mod ingest;
mod network;
mod pool;
mod reads;
mod reports;
mod schema;
mod search;
mod users;

use crate::dictionary::PlateDictionary;
use crate::{Result, StoreError};
use anpr_domain::{Camera, Network, Site};
use chrono::{DateTime, Utc};
use rusqlite::{Connection, OpenFlags};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex, RwLock};

pub(crate) use crate::shared::{day_of, from_ms, to_ms, Catalog};
pub use access::SqliteRegisters;
pub use checkpoint::CheckpointRound;
use ingest::Lane;

/// SQLite page cache of the writer (KiB). The indexes ingestion updates lead with the capture
/// day, so the pages it touches are few and recent: this holds them, and bounds the server's
/// memory (a larger cache grows the process by its size under sustained ingest).
const WRITER_CACHE_KIB: i64 = 128 * 1024;
/// Page cache of the use log's connection (KiB); it only appends.
const USE_LOG_CACHE_KIB: i64 = 32 * 1024;
/// Page cache of each connection for the record of use's file (KiB).
const USES_CACHE_KIB: i64 = 8 * 1024;

/// All the memory SQLite may hold in this process, every connection's page cache included
/// (bytes): the caches above add up to more, and each connection's stops growing, recycling its
/// own oldest pages, once SQLite's total nears this (its soft heap limit). The pages evicted are
/// still in the operating system's file cache, so a miss costs a copy, not a disk read.
pub const SQLITE_MEMORY_LIMIT_BYTES: i64 = 192 << 20;

/// The memory SQLite holds now in this process (bytes): page caches, prepared statements and
/// the rest, all connections together.
pub fn sqlite_memory_used() -> i64 {
    // SAFETY: reads a counter SQLite keeps under its own mutex; no pointer is involved.
    unsafe { rusqlite::ffi::sqlite3_memory_used() }
}

#[derive(Clone)]
pub struct SqliteStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    path: PathBuf,
    writer: Mutex<Connection>,
    /// Writes the record of use (`decisions`, `disclosures`, `alerts`, in the file of their
    /// own, see [`uses_path`]) without a per-commit fsync (`synchronous=NORMAL`): the durable,
    /// write-ahead record of every use is the audit-ledger entry of its request, appended
    /// before the response leaves; these tables are its queryable copy. They survive a process
    /// crash; a power cut can lose their last few rows, never the ledger's. Being in their own
    /// file, these writes never wait for the ingest writer's group commits.
    use_log: Mutex<Connection>,
    pub(crate) readers: pool::ReaderPool,
    pub(crate) dictionary: Arc<PlateDictionary>,
    /// Batches waiting for the next group commit.
    pub(crate) pending: Mutex<Vec<ingest::PendingBatch>>,
    pub(crate) catalog: RwLock<Catalog>,
    /// The policy's hot register facts (staff, associates, their vehicles, agreements).
    pub(crate) register_cache: Mutex<crate::shared::RegisterCache>,
    /// Copies both WALs back into their files beside the writers (see [`checkpoint`]).
    checkpointer: checkpoint::Checkpointer,
}

impl SqliteStore {
    /// Opens (creating if needed) the database at `path` and applies pending migrations.
    pub fn open(path: impl AsRef<Path>) -> Result<Self> {
        let path = path.as_ref().to_path_buf();
        let mut writer = open_connection(&path, WRITER_CACHE_KIB)?;
        // Process-wide: the last store opened sets it, and every store sets the same.
        writer.pragma_update(None, "soft_heap_limit", SQLITE_MEMORY_LIMIT_BYTES)?;
        checkpoint::configure_writer(&writer)?;
        schema::migrate(&mut writer)?;
        let catalog = catalog::load(&writer)?;
        let use_log = open_connection(&path, USE_LOG_CACHE_KIB)?;
        use_log.pragma_update(Some("uses"), "synchronous", "NORMAL")?;
        use_log.pragma_update(Some("uses"), "cache_size", -USE_LOG_CACHE_KIB)?;
        checkpoint::configure_writer(&use_log)?;
        let checkpointer = checkpoint::start(&path)?;
        let dictionary = Arc::new(PlateDictionary::from_entries(load_plates(&writer)?));
        let readers = pool::ReaderPool::new(&path);
        Ok(SqliteStore {
            inner: Arc::new(Inner {
                path,
                writer: Mutex::new(writer),
                use_log: Mutex::new(use_log),
                readers,
                dictionary,
                pending: Mutex::new(Vec::new()),
                catalog: RwLock::new(catalog),
                register_cache: Mutex::new(Default::default()),
                checkpointer,
            }),
        })
    }

    pub fn path(&self) -> &Path {
        &self.inner.path
    }

    /// Runs `f` on the blocking pool with access to the store's internals.
    async fn blocking<T, F>(&self, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

impl Inner {
    pub(crate) fn with_writer<T>(&self, f: impl FnOnce(&mut Connection) -> Result<T>) -> Result<T> {
        let mut conn = self
            .writer
            .lock()
            .map_err(|_| StoreError::Task("writer lock poisoned".into()))?;
        f(&mut conn)
    }

    pub(crate) fn with_use_log<T>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T>,
    ) -> Result<T> {
        let mut conn = self
            .use_log
            .lock()
            .map_err(|_| StoreError::Task("decision log lock poisoned".into()))?;
        f(&mut conn)
    }

    /// Runs `f` on a pooled reader connection, waiting while all are lent.
    pub(crate) fn with_reader<T>(&self, f: impl FnOnce(&Connection) -> Result<T>) -> Result<T> {
        self.readers.with(f)
    }

    pub(crate) fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().expect("catalog lock")
    }

    /// Whether the camera exists, reloading the catalog once if this process has not seen it
    /// (another process, such as the CLI, may have added it).
    pub(crate) fn knows_camera(&self, camera_id: i64) -> Result<bool> {
        if self.catalog().cameras.iter().any(|c| c.id == camera_id) {
            return Ok(true);
        }
        let fresh = self.with_reader(catalog::load)?;
        let known = fresh.cameras.iter().any(|c| c.id == camera_id);
        *self.catalog.write().expect("catalog lock") = fresh;
        Ok(known)
    }

    /// Brings the plate dictionary up to date with plates other processes have stored.
    pub(crate) fn refresh_dictionary(&self) -> Result<()> {
        let known = self.dictionary.max_id();
        let fresh = self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached("SELECT plate, id FROM plates WHERE id > ?1")?;
            let rows = stmt.query_map([known], |r| Ok((r.get::<_, String>(0)?, r.get(1)?)))?;
            Ok(rows.collect::<rusqlite::Result<Vec<(String, i64)>>>()?)
        })?;
        if !fresh.is_empty() {
            self.dictionary.insert_committed(fresh);
        }
        Ok(())
    }
}

fn open_connection(path: &Path, cache_kib: i64) -> Result<Connection> {
    let conn = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_WRITE
            | OpenFlags::SQLITE_OPEN_CREATE
            | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    conn.busy_timeout(std::time::Duration::from_secs(10))?;
    // WAL lets readers run beside the writer; synchronous=FULL makes each commit durable
    // before it returns, which is what "acknowledged" promises.
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    conn.pragma_update(None, "foreign_keys", "ON")?;
    conn.pragma_update(None, "cache_size", -cache_kib)?;
    conn.pragma_update(None, "temp_store", "MEMORY")?;
    // The record of use (decisions, disclosures, alerts) in its own file: its writes never
    // wait for the main file's writer (migration 15). Attached on every connection, so
    // queries name its tables as if they were the main file's.
    attach_uses(&conn, path)?;
    conn.pragma_update(Some("uses"), "journal_mode", "WAL")?;
    conn.pragma_update(Some("uses"), "synchronous", "FULL")?;
    conn.pragma_update(Some("uses"), "cache_size", -USES_CACHE_KIB)?;
    rusqlite::vtab::array::load_module(&conn)?;
    Ok(conn)
}

/// A plain connection to the database at `path`, with the record of use attached as the store
/// attaches it, for tools that read or write rows directly (benchmarks, tests, migration).
pub fn direct_connection(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(30))?;
    attach_uses(&conn, path)?;
    Ok(conn)
}

/// Attaches the record of use's file beside the database at `db` as schema `uses`.
pub fn attach_uses(conn: &Connection, db: &Path) -> rusqlite::Result<()> {
    conn.execute(
        "ATTACH DATABASE ?1 AS uses",
        [uses_path(db).to_string_lossy()],
    )?;
    Ok(())
}

/// The file that holds the record of use beside the database at `db`: `anpr.sqlite` keeps
/// it in `anpr-uses.sqlite`.
pub fn uses_path(db: &Path) -> PathBuf {
    let stem = db
        .file_stem()
        .map_or_else(|| "anpr".to_string(), |s| s.to_string_lossy().into_owned());
    let name = match db.extension() {
        Some(ext) => format!("{stem}-uses.{}", ext.to_string_lossy()),
        None => format!("{stem}-uses"),
    };
    db.with_file_name(name)
}

fn load_plates(conn: &Connection) -> Result<Vec<(String, i64)>> {
    let mut stmt = conn.prepare("SELECT plate, id FROM plates")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[async_trait::async_trait]
impl crate::Store for SqliteStore {
    async fn create_network(&self, name: &str, retention_days: u32) -> Result<Network> {
        self.create_network_impl(name, retention_days).await
    }
    async fn networks(&self) -> Result<Vec<Network>> {
        Ok(self.inner.catalog().networks.clone())
    }
    async fn set_network_police_contact(
        &self,
        id: anpr_domain::NetworkId,
        contact: Option<String>,
    ) -> Result<Network> {
        self.set_network_police_contact_impl(id, contact).await
    }
    async fn longest_retention_days(&self) -> Result<Option<u32>> {
        Ok(self.inner.catalog().longest_retention_days())
    }
    async fn create_site(&self, site: crate::NewSite) -> Result<Site> {
        self.create_site_impl(site).await
    }
    async fn sites(&self) -> Result<Vec<Site>> {
        Ok(self.inner.catalog().sites.clone())
    }
    async fn create_camera(&self, camera: crate::NewCamera) -> Result<Camera> {
        self.create_camera_impl(camera).await
    }
    async fn cameras(&self) -> Result<Vec<Camera>> {
        Ok(self.inner.catalog().cameras.clone())
    }
    async fn camera_credentials(
        &self,
        id: anpr_domain::CameraId,
        now: DateTime<Utc>,
    ) -> Result<Option<crate::CameraCredentials>> {
        self.camera_credentials_impl(id, now).await
    }
    async fn add_camera_key(
        &self,
        id: anpr_domain::CameraId,
        key_hash: String,
        now: DateTime<Utc>,
        replaced_end: DateTime<Utc>,
    ) -> Result<(crate::CameraKey, Option<chrono::DateTime<chrono::Utc>>)> {
        self.add_camera_key_impl(id, key_hash, now, replaced_end)
            .await
    }
    async fn revoke_camera_keys(
        &self,
        id: anpr_domain::CameraId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        self.revoke_camera_keys_impl(id, now).await
    }
    async fn insert_reads(
        &self,
        reads: Vec<anpr_domain::NewRead>,
    ) -> Result<Vec<crate::InsertOutcome>> {
        self.insert_reads_impl(reads, Lane::Bulk).await
    }
    async fn insert_live_reads(
        &self,
        reads: Vec<anpr_domain::NewRead>,
    ) -> Result<Vec<crate::InsertOutcome>> {
        self.insert_reads_impl(reads, Lane::Live).await
    }
    async fn read(&self, id: anpr_domain::ReadId) -> Result<Option<anpr_domain::PlateRead>> {
        self.read_impl(id).await
    }
    async fn search(&self, query: &anpr_domain::SearchQuery) -> Result<crate::SearchPage> {
        self.search_impl(query).await
    }
    async fn search_like_scan(
        &self,
        like_pattern: &str,
        limit: u32,
    ) -> Result<Vec<anpr_domain::ReadId>> {
        self.search_like_scan_impl(like_pattern, limit).await
    }
    async fn set_legal_hold(&self, id: anpr_domain::ReadId, hold: bool) -> Result<()> {
        self.set_legal_hold_impl(id, hold).await
    }
    async fn purge_expired(&self, now: DateTime<Utc>, batch: usize) -> Result<crate::PurgeBatch> {
        self.purge_expired_impl(now, batch).await
    }
    async fn reads_on_hold_past_retention(&self, now: DateTime<Utc>) -> Result<u64> {
        self.reads_on_hold_impl(now).await
    }
    async fn stats(&self) -> Result<crate::StoreStats> {
        self.stats_impl().await
    }
    async fn create_user(&self, user: crate::NewUser) -> Result<anpr_domain::User> {
        self.create_user_impl(user, None).await
    }
    async fn create_user_by(
        &self,
        user: crate::NewUser,
        by: anpr_policy::registers::ChangedBy,
    ) -> Result<anpr_domain::User> {
        self.create_user_impl(user, Some(by)).await
    }
    async fn user_credentials(&self, staff_id: &str) -> Result<Option<crate::UserCredentials>> {
        self.user_credentials_impl(staff_id).await
    }
    async fn sign_in_failures(&self, keys: Vec<String>) -> Result<Vec<crate::SignInFailures>> {
        self.sign_in_failures_impl(keys).await
    }
    async fn record_sign_in_failure(
        &self,
        keys: Vec<String>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        self.record_sign_in_failure_impl(keys, at, forget_before)
            .await
    }
    async fn clear_sign_in_failures(&self, key: String) -> Result<()> {
        self.clear_sign_in_failures_impl(key).await
    }
    async fn create_session(
        &self,
        token_hash: &str,
        user: anpr_domain::UserId,
        expires_at: DateTime<Utc>,
    ) -> Result<()> {
        self.create_session_impl(token_hash, user, expires_at).await
    }
    async fn session_user(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<anpr_domain::User>> {
        self.session_user_impl(token_hash, now).await
    }
    async fn revoke_session(&self, token_hash: &str) -> Result<()> {
        self.revoke_session_impl(token_hash).await
    }
    async fn users(&self) -> Result<Vec<anpr_domain::User>> {
        self.users_impl().await
    }
    async fn set_user_active(&self, staff_id: &str, active: bool) -> Result<anpr_domain::User> {
        self.set_user_active_impl(staff_id, active).await
    }
    async fn set_user_roles(
        &self,
        staff_id: &str,
        roles: Vec<anpr_domain::Role>,
    ) -> Result<anpr_domain::User> {
        self.set_user_roles_impl(staff_id, roles, None).await
    }
    async fn set_user_roles_by(
        &self,
        staff_id: &str,
        roles: Vec<anpr_domain::Role>,
        by: anpr_policy::registers::ChangedBy,
    ) -> Result<anpr_domain::User> {
        self.set_user_roles_impl(staff_id, roles, Some(by)).await
    }
    async fn access_facts(
        &self,
        q: crate::FactsRequest,
    ) -> Result<anpr_policy::registers::AccessFacts> {
        self.access_facts_impl(q).await
    }
    async fn import_register(
        &self,
        batch: crate::RegisterBatch,
        source: crate::ImportSource,
    ) -> Result<crate::ImportReport> {
        self.import_register_impl(batch, source).await
    }
    async fn register_count(&self, kind: crate::RegisterKind) -> Result<u64> {
        self.register_count_impl(kind).await
    }
    async fn open_incidents(
        &self,
        district: &str,
        staff_id: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<anpr_policy::registers::IncidentRecord>> {
        self.open_incidents_impl(district, staff_id, now, limit)
            .await
    }
    async fn network_agreements(&self) -> Result<Vec<anpr_policy::registers::NetworkAgreement>> {
        self.network_agreements_impl().await
    }
    async fn set_network_agreement(
        &self,
        a: anpr_policy::registers::NetworkAgreement,
    ) -> Result<anpr_policy::registers::NetworkAgreement> {
        self.set_network_agreement_impl(a).await
    }
    async fn network_controls(&self) -> Result<Vec<anpr_policy::NetworkControls>> {
        self.network_controls_impl().await
    }
    async fn network_controls_version(&self) -> Result<i64> {
        self.network_controls_version_impl().await
    }
    async fn decision_facts(
        &self,
        q: crate::FactsRequest,
        windows: Option<crate::RateWindows>,
    ) -> Result<crate::DecisionFacts> {
        self.decision_facts_impl(q, windows).await
    }
    async fn set_network_controls(
        &self,
        c: anpr_policy::NetworkControls,
    ) -> Result<anpr_policy::NetworkControls> {
        self.set_network_controls_impl(c).await
    }
    async fn add_watch_notices(&self, notices: Vec<crate::NewWatchNotice>) -> Result<()> {
        self.add_watch_notices_impl(notices).await
    }
    async fn watch_notices(
        &self,
        network_id: anpr_domain::NetworkId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<crate::WatchNotice>> {
        self.watch_notices_impl(network_id, before_id, limit).await
    }
    async fn create_authorisation(
        &self,
        a: anpr_policy::Authorisation,
    ) -> Result<anpr_policy::Authorisation> {
        self.create_authorisation_impl(a).await
    }
    async fn authorisation(&self, id: i64) -> Result<Option<anpr_policy::Authorisation>> {
        self.authorisation_impl(id).await
    }
    async fn update_authorisation(
        &self,
        a: anpr_policy::Authorisation,
        expected: anpr_policy::AuthStatus,
    ) -> Result<()> {
        self.update_authorisation_impl(a, expected).await
    }
    async fn authorisations(
        &self,
        filter: crate::AuthorisationFilter,
    ) -> Result<Vec<anpr_policy::Authorisation>> {
        self.authorisations_impl(filter).await
    }
    async fn insert_alerts(
        &self,
        alerts: Vec<crate::NewAlert>,
        now: DateTime<Utc>,
    ) -> Result<Vec<crate::Alert>> {
        self.insert_alerts_impl(alerts, now).await
    }
    async fn alerts(&self, filter: crate::AlertFilter) -> Result<Vec<crate::Alert>> {
        self.alerts_impl(filter).await
    }
    async fn alert(&self, id: i64) -> Result<Option<crate::Alert>> {
        self.alert_impl(id).await
    }
    async fn ack_alert(&self, id: i64, staff_id: &str, at: DateTime<Utc>) -> Result<crate::Alert> {
        self.ack_alert_impl(id, staff_id.to_string(), at).await
    }
    async fn stolen_entry(&self, id: i64) -> Result<Option<anpr_policy::registers::StolenEntry>> {
        self.stolen_entry_impl(id).await
    }
    async fn decisions(
        &self,
        user: Option<anpr_domain::UserId>,
        limit: u32,
    ) -> Result<Vec<anpr_policy::Decision>> {
        self.decisions_impl(user, limit).await
    }
    async fn allowed_decisions_since(
        &self,
        user: anpr_domain::UserId,
        action: anpr_policy::DecisionAction,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        self.allowed_decisions_since_impl(user, action, since).await
    }
    async fn recent_data_accesses(
        &self,
        user: anpr_domain::UserId,
        purpose: &str,
        since_any: DateTime<Utc>,
        since_purpose: DateTime<Utc>,
    ) -> Result<anpr_policy::RecentAccesses> {
        self.recent_data_accesses_impl(user, purpose, since_any, since_purpose)
            .await
    }
    async fn latest_alert_id(&self) -> Result<i64> {
        self.latest_alert_id_impl().await
    }
    async fn record_disclosures(&self, d: Vec<anpr_policy::Disclosure>) -> Result<()> {
        self.record_disclosures_impl(d).await
    }
    async fn disclosures(
        &self,
        user: anpr_domain::UserId,
        read: anpr_domain::ReadId,
        since: DateTime<Utc>,
    ) -> Result<Vec<anpr_policy::Disclosure>> {
        self.disclosures_impl(user, read, since).await
    }
    async fn prune_disclosures(&self, before: DateTime<Utc>) -> Result<u64> {
        self.prune_disclosures_impl(before).await
    }
    async fn load_hot_list(&self, now: DateTime<Utc>) -> Result<crate::HotListSummary> {
        self.load_hot_list_impl(now).await
    }
    async fn hot_list_summary(&self) -> Result<crate::HotListSummary> {
        self.hot_list_summary_impl().await
    }
    async fn hot_list_plates(&self) -> Result<Vec<String>> {
        self.hot_list_plates_impl().await
    }
    async fn hot_list_confirm(&self, plates: Vec<String>) -> Result<Vec<String>> {
        self.hot_list_confirm_impl(plates).await
    }
}

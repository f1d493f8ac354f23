//! The PostgreSQL store: several `anpr serve` processes share one database.
//!
//! A `deadpool-postgres` pool of `tokio-postgres` connections, every statement prepared once per
//! connection (`prepare_cached`). Reads go in by binary `COPY` into a table partitioned by
//! capture day (one partition per 7 days, created ahead and on demand), so retention drops whole
//! partitions. The plate dictionary and the camera catalog are kept in memory as in the SQLite
//! store ([`crate::shared`] holds what both do alike) and refreshed from the database when
//! another process added to them. Plate and alert ids are handed out under an advisory lock so
//! that they commit in id order — "every id above the highest I know" is then exactly what the
//! other processes added. The policy's register lookups are synchronous (`RegisterView`), so
//! they run on the blocking pool and wait on the async client there.

mod access;
mod alerts;
mod cases;
mod catalog;
mod changes;
mod disclosures;
mod files;
mod hot_list;
mod network;
mod partitions;
mod reads;
mod reports;
mod schema;
mod search;
mod users;

use crate::dictionary::PlateDictionary;
use crate::shared::{Catalog, RegisterCache};
use crate::{Result, StoreError};
use anpr_postgres_tls::PgTarget;
use deadpool_postgres::{Manager, ManagerConfig, Pool, PoolError, RecyclingMethod};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex, RwLock};

pub use partitions::PARTITION_DAYS_AHEAD;

/// Connections kept in the pool (PostgreSQL's default allows 100 in all: several processes
/// share them).
const POOL_SIZE: usize = 16;

/// Advisory lock keys (one namespace per deployment's database).
pub(crate) mod locks {
    /// Serialises new plates, so that plate ids commit in order.
    pub const PLATES: i64 = 0x616e_7072_0001;
    /// Serialises new alerts, so that alert ids (SSE event ids) commit in order.
    pub const ALERTS: i64 = 0x616e_7072_0002;
    /// Serialises schema migrations and partition changes across processes.
    pub const SCHEMA: i64 = 0x616e_7072_0003;
    /// Held by the one process that runs a background task (session-scoped).
    pub const PURGE: i64 = 0x616e_7072_0011;
    pub const INTEGRITY: i64 = 0x616e_7072_0012;
    pub const TREE_HEADS: i64 = 0x616e_7072_0013;
}

#[derive(Clone)]
pub struct PgStore {
    inner: Arc<Inner>,
}

pub(crate) struct Inner {
    pub(crate) pool: Pool,
    /// Where the pool connects and how, for the connections outside it (the change feed).
    pub(crate) target: PgTarget,
    pub(crate) dictionary: Arc<PlateDictionary>,
    pub(crate) catalog: RwLock<Catalog>,
    pub(crate) register_cache: Mutex<RegisterCache>,
    /// First days of the partitions known to exist.
    pub(crate) partitions: Mutex<BTreeSet<i32>>,
    /// Expired partitions (by first day) holding reads on legal hold (so not to be dropped).
    pub(crate) held_partitions: Mutex<BTreeSet<i32>>,
    /// The runtime the pool's connections run on, for the synchronous callers (the policy's
    /// register lookups and decision recorder, on the blocking pool).
    pub(crate) runtime: tokio::runtime::Handle,
}

pub(crate) type Client = deadpool_postgres::Object;

impl PgStore {
    /// Connects to `url` (`postgres://user@host:port/db`, TLS as its `sslmode` and
    /// `sslrootcert` say), applies pending migrations, creates the partitions of the coming days
    /// and loads the plate dictionary and catalog.
    pub async fn connect(url: &str) -> Result<Self> {
        let target = PgTarget::parse(url).map_err(|e| StoreError::Connect(e.to_string()))?;
        Self::connect_target(target).await
    }

    /// As [`PgStore::connect`], from a parsed URL.
    pub async fn connect_target(target: PgTarget) -> Result<Self> {
        let manager = Manager::from_config(
            target.config().clone(),
            target.tls(),
            ManagerConfig {
                recycling_method: RecyclingMethod::Fast,
            },
        );
        let pool = Pool::builder(manager)
            .max_size(POOL_SIZE)
            .build()
            .map_err(|e| StoreError::Pool(e.to_string()))?;
        let inner = Inner {
            pool,
            target,
            dictionary: Arc::new(PlateDictionary::from_entries(Vec::new())),
            catalog: RwLock::new(Catalog::default()),
            register_cache: Mutex::new(Default::default()),
            partitions: Mutex::new(BTreeSet::new()),
            held_partitions: Mutex::new(BTreeSet::new()),
            runtime: tokio::runtime::Handle::current(),
        };
        {
            let mut client = inner.client().await?;
            schema::migrate(&mut client).await?;
        }
        let store = PgStore {
            inner: Arc::new(inner),
        };
        store.inner.reload_catalog().await?;
        store.inner.refresh_dictionary().await?;
        store.inner.dictionary.rebuild();
        store.ensure_partitions(chrono::Utc::now()).await?;
        Ok(store)
    }
}

impl Inner {
    pub(crate) async fn client(&self) -> Result<Client> {
        self.pool.get().await.map_err(|e| match e {
            PoolError::Backend(e) => StoreError::Connect(self.target.explain(&e)),
            e => StoreError::Pool(e.to_string()),
        })
    }

    pub(crate) fn catalog(&self) -> std::sync::RwLockReadGuard<'_, Catalog> {
        self.catalog.read().expect("catalog lock")
    }

    pub(crate) async fn reload_catalog(&self) -> Result<()> {
        let client = self.client().await?;
        let fresh = catalog::load(&client).await?;
        *self.catalog.write().expect("catalog lock") = fresh;
        Ok(())
    }

    /// Whether the camera exists, reloading the catalog once if this process has not seen it
    /// (another process may have added it).
    pub(crate) async fn knows_camera(&self, camera_id: i64) -> Result<bool> {
        if self.catalog().cameras.iter().any(|c| c.id == camera_id) {
            return Ok(true);
        }
        self.reload_catalog().await?;
        Ok(self.catalog().cameras.iter().any(|c| c.id == camera_id))
    }

    /// Brings the plate dictionary up to date with plates other processes have stored.
    pub(crate) async fn refresh_dictionary(&self) -> Result<()> {
        let known = self.dictionary.max_id();
        let client = self.client().await?;
        let stmt = client.prepare_cached(PLATES_AFTER).await?;
        let fresh: Vec<(String, i64)> = client
            .query(&stmt, &[&known])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        if !fresh.is_empty() && self.dictionary.insert_committed(fresh) {
            let dictionary = self.dictionary.clone();
            std::thread::spawn(move || dictionary.rebuild());
        }
        Ok(())
    }

    /// Runs `f` on the blocking pool, where it may wait on async calls through `runtime`.
    pub(crate) async fn blocking<T, F>(self: &Arc<Self>, f: F) -> Result<T>
    where
        T: Send + 'static,
        F: FnOnce(&Inner) -> Result<T> + Send + 'static,
    {
        let inner = self.clone();
        tokio::task::spawn_blocking(move || f(&inner))
            .await
            .map_err(|e| StoreError::Task(e.to_string()))?
    }
}

impl PgStore {
    /// Takes a connection out of the pool and holds the task's session lock on it, if free.
    async fn lease_impl(&self, task: crate::BackgroundTask) -> Result<Option<crate::TaskLease>> {
        let key = match task {
            crate::BackgroundTask::Purge => locks::PURGE,
            crate::BackgroundTask::Integrity => locks::INTEGRITY,
            crate::BackgroundTask::TreeHeads => locks::TREE_HEADS,
        };
        let client = self.inner.client().await?;
        let won: bool = client
            .query_one("SELECT pg_try_advisory_lock($1)", &[&key])
            .await?
            .get(0);
        // The lock belongs to the session: a won session leaves the pool with the lease, and a
        // lost one goes back holding nothing.
        Ok(won.then(|| crate::TaskLease::on_session(deadpool_postgres::Object::take(client))))
    }
}

/// The plates with ids above `$1`. Bounded above by the highest id (found through the primary
/// key's end, whatever the statistics say), so that the planner sees a range and probes the
/// index: as a bare `id > $1` it guessed a third of the table and scanned all of it (20 ms at
/// 500,000 plates, before every search) whenever the table had not been analysed yet.
pub(crate) const PLATES_AFTER: &str =
    "SELECT plate, id FROM plates WHERE id > $1 AND id <= (SELECT max(id) FROM plates)";

/// Unique violation: another transaction stored the same key meanwhile.
pub(crate) fn is_unique_violation(e: &tokio_postgres::Error) -> bool {
    e.code() == Some(&tokio_postgres::error::SqlState::UNIQUE_VIOLATION)
}

#[async_trait::async_trait]
impl crate::Store for PgStore {
    async fn create_network(
        &self,
        name: &str,
        retention_days: u32,
    ) -> Result<anpr_domain::Network> {
        self.create_network_impl(name, retention_days).await
    }
    async fn networks(&self) -> Result<Vec<anpr_domain::Network>> {
        self.inner.reload_catalog().await?;
        Ok(self.inner.catalog().networks.clone())
    }
    async fn set_network_police_contact(
        &self,
        id: anpr_domain::NetworkId,
        contact: Option<String>,
    ) -> Result<anpr_domain::Network> {
        self.set_network_police_contact_impl(id, contact).await
    }
    async fn longest_retention_days(&self) -> Result<Option<u32>> {
        Ok(self.inner.catalog().longest_retention_days())
    }
    async fn create_site(&self, site: crate::NewSite) -> Result<anpr_domain::Site> {
        self.create_site_impl(site).await
    }
    async fn sites(&self) -> Result<Vec<anpr_domain::Site>> {
        self.inner.reload_catalog().await?;
        Ok(self.inner.catalog().sites.clone())
    }
    async fn create_camera(&self, camera: crate::NewCamera) -> Result<anpr_domain::Camera> {
        self.create_camera_impl(camera).await
    }
    async fn cameras(&self) -> Result<Vec<anpr_domain::Camera>> {
        self.inner.reload_catalog().await?;
        Ok(self.inner.catalog().cameras.clone())
    }
    async fn camera_credentials(
        &self,
        id: anpr_domain::CameraId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Option<crate::CameraCredentials>> {
        self.camera_credentials_impl(id, now).await
    }
    async fn add_camera_key(
        &self,
        id: anpr_domain::CameraId,
        key_hash: String,
        now: chrono::DateTime<chrono::Utc>,
        replaced_end: chrono::DateTime<chrono::Utc>,
    ) -> Result<(crate::CameraKey, Option<chrono::DateTime<chrono::Utc>>)> {
        self.add_camera_key_impl(id, key_hash, now, replaced_end)
            .await
    }
    async fn revoke_camera_keys(
        &self,
        id: anpr_domain::CameraId,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        self.revoke_camera_keys_impl(id, now).await
    }
    async fn insert_reads(
        &self,
        reads: Vec<anpr_domain::NewRead>,
    ) -> Result<Vec<crate::InsertOutcome>> {
        self.insert_reads_impl(reads).await
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
    async fn purge_expired(
        &self,
        now: chrono::DateTime<chrono::Utc>,
        batch: usize,
    ) -> Result<crate::PurgeBatch> {
        self.purge_expired_impl(now, batch).await
    }
    async fn reads_on_hold_past_retention(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        self.reads_on_hold_impl(now).await
    }
    async fn stats(&self) -> Result<crate::StoreStats> {
        self.stats_impl().await
    }
    async fn prepare_ahead(&self, now: chrono::DateTime<chrono::Utc>) -> Result<()> {
        self.ensure_partitions(now).await
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
        at: chrono::DateTime<chrono::Utc>,
        forget_before: chrono::DateTime<chrono::Utc>,
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
        expires_at: chrono::DateTime<chrono::Utc>,
    ) -> Result<()> {
        self.create_session_impl(token_hash, user, expires_at).await
    }
    async fn session_user(
        &self,
        token_hash: &str,
        now: chrono::DateTime<chrono::Utc>,
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
        now: chrono::DateTime<chrono::Utc>,
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
    async fn stolen_entry(&self, id: i64) -> Result<Option<anpr_policy::registers::StolenEntry>> {
        self.stolen_entry_impl(id).await
    }
    async fn insert_alerts(
        &self,
        alerts: Vec<crate::NewAlert>,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<crate::Alert>> {
        self.insert_alerts_impl(alerts, now).await
    }
    async fn alerts(&self, filter: crate::AlertFilter) -> Result<Vec<crate::Alert>> {
        self.alerts_impl(filter).await
    }
    async fn alert(&self, id: i64) -> Result<Option<crate::Alert>> {
        self.alert_impl(id).await
    }
    async fn ack_alert(
        &self,
        id: i64,
        staff_id: &str,
        at: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::Alert> {
        self.ack_alert_impl(id, staff_id, at).await
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
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<u64> {
        self.allowed_decisions_since_impl(user, action, since).await
    }
    async fn recent_data_accesses(
        &self,
        user: anpr_domain::UserId,
        purpose: &str,
        since_any: chrono::DateTime<chrono::Utc>,
        since_purpose: chrono::DateTime<chrono::Utc>,
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
        since: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<anpr_policy::Disclosure>> {
        self.disclosures_impl(user, read, since).await
    }
    async fn prune_disclosures(&self, before: chrono::DateTime<chrono::Utc>) -> Result<u64> {
        self.prune_disclosures_impl(before).await
    }
    async fn load_hot_list(
        &self,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<crate::HotListSummary> {
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
    async fn changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<crate::StoreChange>>> {
        self.changes_impl().await.map(Some)
    }
    async fn lease(&self, task: crate::BackgroundTask) -> Result<Option<crate::TaskLease>> {
        self.lease_impl(task).await
    }
}

//! Storage of the ANPR platform.
//!
//! [`Store`] is the one interface the server and CLI use for persistent state: the camera
//! catalog, plate reads and their search, retention, users and sessions, and what the access
//! policy needs (registers, sharing agreements, authorisations, decision records; the policy's
//! rules themselves live in `anpr-policy`). `SqliteStore` also implements the policy's
//! `DecisionRecorder`, writing to the `decisions` table. [`SqliteStore`] is the
//! embedded default (one file, WAL mode); a PostgreSQL implementation satisfies the same trait.
//!
//! Partial and fuzzy plate search never scan reads: [`dictionary::PlateDictionary`] keeps every
//! distinct plate in finite-state transducers (the `fst` crate), so a wildcard or OCR-fuzzy
//! pattern is first resolved to a handful of plate ids in microseconds, and only those plates'
//! reads are fetched through the `(plate_id, captured_at)` index.

pub mod cases;
pub mod dictionary;
mod error;
pub mod migrate;
pub mod postgres;
pub mod reports;
mod shared;
pub mod sqlite;
mod types;

pub use anpr_domain::{Alert, AlertAudience, AlertKind};
pub use cases::{CaseFilter, CaseStore, IntegrityRun, SaveReport};
pub use error::{Result, StoreError};
pub use postgres::PgStore;
pub use reports::{ReportStore, UsageCounted};
pub use shared::MAX_PLATES_PER_SEARCH;
pub use sqlite::{SqliteRegisters, SqliteStore};
pub use types::*;

use anpr_domain::{
    Camera, CameraId, Network, NetworkId, NewRead, PlateRead, ReadId, Role, SearchQuery, Site,
    User, UserId,
};
use anpr_policy::registers::{AccessFacts, NetworkAgreement, StolenEntry};
use anpr_policy::{AuthStatus, Authorisation, Decision, Disclosure};
use async_trait::async_trait;
use chrono::{DateTime, Utc};

#[async_trait]
pub trait Store: Send + Sync + 'static {
    // --- camera catalog ---
    async fn create_network(&self, name: &str, retention_days: u32) -> Result<Network>;
    async fn networks(&self) -> Result<Vec<Network>>;
    /// Sets (`None`: clears) whom the network's own staff call at the police; copied into each
    /// hot-list alert raised from then on.
    async fn set_network_police_contact(
        &self,
        id: NetworkId,
        contact: Option<String>,
    ) -> Result<Network>;
    /// The longest retention of any network this process knows of (from its catalog, without
    /// a reload: on the ingest path), in days; `None` when there is no network yet.
    async fn longest_retention_days(&self) -> Result<Option<u32>>;
    async fn create_site(&self, site: NewSite) -> Result<Site>;
    async fn sites(&self) -> Result<Vec<Site>>;
    /// Creates a camera without a key (its key embeds its id: see [`Store::add_camera_key`]).
    async fn create_camera(&self, camera: NewCamera) -> Result<Camera>;
    async fn cameras(&self) -> Result<Vec<Camera>>;
    /// Whether the camera is active and its keys live at `now`; `None` for no such camera.
    async fn camera_credentials(
        &self,
        id: CameraId,
        now: DateTime<Utc>,
    ) -> Result<Option<CameraCredentials>>;
    /// Gives a camera a new key hashing to `key_hash` (the key itself is never stored), in one
    /// transaction with the end of the keys it replaces: the newest live one ends at
    /// `replaced_end` at the latest (the rotation's overlap), any older one at `now`, so a
    /// camera never holds more than two. Returns the new key and when the one it replaced
    /// ends (`None`: the camera had no live key). Other processes forget the keys they verified.
    async fn add_camera_key(
        &self,
        id: CameraId,
        key_hash: String,
        now: DateTime<Utc>,
        replaced_end: DateTime<Utc>,
    ) -> Result<(CameraKey, Option<DateTime<Utc>>)>;
    /// Revokes every live key of a camera at `now`; how many there were. Other processes
    /// forget the keys they verified.
    async fn revoke_camera_keys(&self, id: CameraId, now: DateTime<Utc>) -> Result<u64>;

    // --- plate reads ---
    /// Stores a batch atomically: all of it or none of it, durable on return. A read whose
    /// `(camera, external_id)` is already stored is not stored again; its outcome says so.
    async fn insert_reads(&self, reads: Vec<NewRead>) -> Result<Vec<InsertOutcome>>;
    /// [`Store::insert_reads`] for reads that may raise an alert (a watched or hot-listed
    /// plate): where writes queue for one writer, these go ahead of the bulk batches waiting,
    /// so that an alert does not wait behind a backlog of other cameras' traffic.
    async fn insert_live_reads(&self, reads: Vec<NewRead>) -> Result<Vec<InsertOutcome>> {
        self.insert_reads(reads).await
    }
    async fn read(&self, id: ReadId) -> Result<Option<PlateRead>>;
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage>;
    /// The naive baseline for benchmarks: the same wildcard search as a `LIKE` scan of all reads.
    async fn search_like_scan(&self, like_pattern: &str, limit: u32) -> Result<Vec<ReadId>>;
    async fn set_legal_hold(&self, id: ReadId, hold: bool) -> Result<()>;
    /// Deletes up to `batch` reads past their network's retention (never those on legal hold)
    /// and returns what it deleted, including images no read refers to any more.
    async fn purge_expired(&self, now: DateTime<Utc>, batch: usize) -> Result<PurgeBatch>;
    async fn reads_on_hold_past_retention(&self, now: DateTime<Utc>) -> Result<u64>;
    async fn stats(&self) -> Result<StoreStats>;
    /// Prepares storage for the coming days (PostgreSQL creates their read partitions); run at
    /// start and before every retention purge. Nothing to do by default.
    async fn prepare_ahead(&self, _now: DateTime<Utc>) -> Result<()> {
        Ok(())
    }

    // --- users and sessions ---
    /// Creates an account. Who set its roles is recorded as not known: callers that know
    /// (the admin API, the CLI) use [`Store::create_user_by`].
    async fn create_user(&self, user: NewUser) -> Result<User>;
    /// Creates an account, recording who set its roles (`staff:<id>` for the admin who made
    /// it, `cli:<user>` at the command line) and when, in the same transaction: the policy
    /// keeps that person from also loading the register rows the account acts on.
    async fn create_user_by(&self, user: NewUser, by: ChangedBy) -> Result<User>;
    async fn user_credentials(&self, staff_id: &str) -> Result<Option<UserCredentials>>;
    /// The failed sign-ins recorded under each of `keys` that has any (the sign-in throttle:
    /// claimed staff ids and client addresses, kept in the database so every server and the
    /// command line share one count).
    async fn sign_in_failures(&self, keys: Vec<String>) -> Result<Vec<SignInFailures>>;
    /// Counts one failed sign-in at `at` under each of `keys`; a key whose last failure is
    /// older than `forget_before` starts again from one.
    async fn record_sign_in_failure(
        &self,
        keys: Vec<String>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()>;
    /// Forgets the failures under `key` (a successful sign-in to that account).
    async fn clear_sign_in_failures(&self, key: String) -> Result<()>;
    async fn create_session(
        &self,
        token_hash: &str,
        user: anpr_domain::UserId,
        expires_at: DateTime<Utc>,
    ) -> Result<()>;
    async fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>>;
    async fn revoke_session(&self, token_hash: &str) -> Result<()>;
    async fn users(&self) -> Result<Vec<User>>;
    /// Disabling an account also revokes its sessions at once.
    async fn set_user_active(&self, staff_id: &str, active: bool) -> Result<User>;
    /// Replaces a user's roles (refused when the combination breaks separation of duties).
    /// Who set them is recorded as not known: callers that know use
    /// [`Store::set_user_roles_by`].
    async fn set_user_roles(&self, staff_id: &str, roles: Vec<Role>) -> Result<User>;
    /// Replaces a user's roles, recording who set them and when in the same transaction.
    async fn set_user_roles_by(
        &self,
        staff_id: &str,
        roles: Vec<Role>,
        by: ChangedBy,
    ) -> Result<User>;

    // --- registers and access control ---
    /// The register facts one policy decision needs: a handful of indexed point lookups.
    async fn access_facts(&self, q: FactsRequest) -> Result<AccessFacts>;
    /// Everything an access decision reads, in one round trip where the backend allows: the
    /// register facts of `q`, the user's recent data accesses over `windows` (when given, as
    /// [`Store::recent_data_accesses`] counts them) and the network controls' version. A
    /// decision sits on an officer's request path, and under ingestion each separate trip
    /// waits its own turn for a core.
    async fn decision_facts(
        &self,
        q: FactsRequest,
        windows: Option<RateWindows>,
    ) -> Result<DecisionFacts> {
        let user = q.user_id;
        let recent = async {
            match &windows {
                Some(w) => {
                    self.recent_data_accesses(user, &w.purpose, w.since_any, w.since_purpose)
                        .await
                }
                None => Ok(Default::default()),
            }
        };
        let (facts, recent, version) = tokio::join!(
            self.access_facts(q),
            recent,
            self.network_controls_version()
        );
        let mut facts = facts?;
        facts.recent_accesses = recent?;
        Ok(DecisionFacts {
            facts,
            controls_version: version?,
        })
    }
    /// Upserts a batch of register rows in one transaction, logging every change with its
    /// source. A stolen report that stops being active stops the authorisations resting on it.
    async fn import_register(
        &self,
        batch: RegisterBatch,
        source: ImportSource,
    ) -> Result<ImportReport>;
    async fn register_count(&self, kind: RegisterKind) -> Result<u64>;
    /// The incident files open at `now` of `district` (newest first, at most `limit`) and
    /// those assigned to `staff_id` (at most `limit`), for the policy to list the files a
    /// member of staff may state (`anpr_policy::files`). Indexed: the whole register is
    /// never read.
    async fn open_incidents(
        &self,
        district: &str,
        staff_id: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<anpr_policy::registers::IncidentRecord>>;
    async fn network_agreements(&self) -> Result<Vec<NetworkAgreement>>;
    /// Replaces a network's sharing agreement.
    async fn set_network_agreement(&self, a: NetworkAgreement) -> Result<NetworkAgreement>;
    /// Every network's own sharing controls (networks that never set any are not listed).
    async fn network_controls(&self) -> Result<Vec<anpr_policy::NetworkControls>>;
    /// A number that changes whenever any network's controls change, by any process: polled
    /// to keep each process's copy of the controls fresh. One indexed aggregate over a table of
    /// one row per network.
    async fn network_controls_version(&self) -> Result<i64>;
    /// Replaces a network's controls (validated; `updated_at` and `updated_by` as given).
    async fn set_network_controls(
        &self,
        c: anpr_policy::NetworkControls,
    ) -> Result<anpr_policy::NetworkControls>;
    /// Stores notices that watches started to cover networks' cameras (one per watch and
    /// network: a repeat is ignored).
    async fn add_watch_notices(&self, notices: Vec<NewWatchNotice>) -> Result<()>;
    /// A network's watch notices, newest first, with ids below `before_id`, at most `limit`.
    async fn watch_notices(
        &self,
        network_id: NetworkId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WatchNotice>>;
    async fn create_authorisation(&self, a: Authorisation) -> Result<Authorisation>;
    async fn authorisation(&self, id: i64) -> Result<Option<Authorisation>>;
    /// Stores `a` if the stored one still has status `expected` (else a conflict: someone
    /// decided it meanwhile).
    async fn update_authorisation(&self, a: Authorisation, expected: AuthStatus) -> Result<()>;
    async fn authorisations(&self, filter: AuthorisationFilter) -> Result<Vec<Authorisation>>;
    async fn stolen_entry(&self, id: i64) -> Result<Option<StolenEntry>>;

    // --- real-time tracking alerts ---
    /// Stores the alerts of one ingest (one transaction, durable on return), each completed
    /// with where its read was seen; an alert already stored for the same watch and read is
    /// not stored again (and not returned).
    async fn insert_alerts(&self, alerts: Vec<NewAlert>, now: DateTime<Utc>) -> Result<Vec<Alert>>;
    /// Alerts in id order (the order they were raised).
    async fn alerts(&self, filter: AlertFilter) -> Result<Vec<Alert>>;
    async fn alert(&self, id: i64) -> Result<Option<Alert>>;
    /// Marks an alert acknowledged (the first acknowledgement stands) and returns it.
    async fn ack_alert(&self, id: i64, staff_id: &str, at: DateTime<Utc>) -> Result<Alert>;
    /// The id of the newest stored alert (0 when there is none): where a process that starts
    /// delivering alerts begins.
    async fn latest_alert_id(&self) -> Result<i64>;
    /// The latest decision records, of one user or of everyone.
    async fn decisions(&self, user: Option<UserId>, limit: u32) -> Result<Vec<Decision>>;
    /// How many of `user`'s decisions of `action` at or after `since` were allowed (with or
    /// without limits): what a per-user limit counts, the same in every process.
    async fn allowed_decisions_since(
        &self,
        user: UserId,
        action: anpr_policy::DecisionAction,
        since: DateTime<Utc>,
    ) -> Result<u64>;
    /// `user`'s allowed data accesses (searches, read and image views, exports) at or after
    /// `since_any`, and those under `purpose` at or after `since_purpose`: what the policy's
    /// rate limits count, the same in every process.
    async fn recent_data_accesses(
        &self,
        user: UserId,
        purpose: &str,
        since_any: DateTime<Utc>,
        since_purpose: DateTime<Utc>,
    ) -> Result<anpr_policy::RecentAccesses>;

    // --- what each user was shown (read views are allowed only of reads shown) ---
    /// Records reads shown to users (a search page, alerts delivered) in one transaction: the
    /// latest time per (user, read, purpose code, file number) is kept. Written like the
    /// decisions, without a per-commit fsync: the durable record of a disclosure is its
    /// audit-ledger entry; a row lost in a power cut only makes a later view of that read
    /// fail, it never lets one through.
    async fn record_disclosures(&self, disclosures: Vec<Disclosure>) -> Result<()>;
    /// When `read` was shown to `user` at or after `since`, under which purposes and files
    /// (at most a few rows: one per purpose and file).
    async fn disclosures(
        &self,
        user: UserId,
        read: ReadId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Disclosure>>;
    /// Forgets disclosures older than `before` (past the policy's window they allow nothing);
    /// returns how many.
    async fn prune_disclosures(&self, before: DateTime<Utc>) -> Result<u64>;

    // --- the stolen-vehicle hot list ---
    /// Replaces the hot list with the stolen register's active reports (one transaction).
    async fn load_hot_list(&self, now: DateTime<Utc>) -> Result<HotListSummary>;
    async fn hot_list_summary(&self) -> Result<HotListSummary>;
    /// The distinct plates on the hot list, for the in-memory matcher.
    async fn hot_list_plates(&self) -> Result<Vec<String>>;
    /// Of `plates`, those on the hot list whose stolen report is still active now.
    async fn hot_list_confirm(&self, plates: Vec<String>) -> Result<Vec<String>>;

    // --- several processes ---
    /// What other processes change, as it happens, when the store is shared between processes
    /// (PostgreSQL); `None` for a store only this process writes (SQLite), where every change
    /// is this process's own. With a feed, stored alerts are delivered from it, this process's
    /// own included, so that every process delivers each alert once.
    async fn changes(&self) -> Result<Option<tokio::sync::mpsc::Receiver<StoreChange>>> {
        Ok(None)
    }

    /// The right to run `task` now, if no other process holds it (`None`: another does). A
    /// process that holds it keeps it until it drops the lease or dies.
    async fn lease(&self, _task: BackgroundTask) -> Result<Option<TaskLease>> {
        Ok(Some(TaskLease::sole()))
    }
}

/// Which network a camera belongs to, resolved from the catalog.
pub fn network_of(sites: &[Site], cameras: &[Camera], camera: CameraId) -> Option<NetworkId> {
    let cam = cameras.iter().find(|c| c.id == camera)?;
    sites
        .iter()
        .find(|s| s.id == cam.site_id)
        .map(|s| s.network_id)
}

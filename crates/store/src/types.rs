//! Values that cross the storage interface.

use anpr_domain::{AlertAudience, AlertKind};
use anpr_domain::{
    GeoPoint, ImageHash, NetworkId, PlateRead, PurgeReport, ReadId, Role, SiteId, SiteKind, User,
    UserId,
};
pub use anpr_policy::registers::ChangedBy;
use anpr_policy::registers::{
    AccessFacts, AssociateRecord, FactsQuery, IncidentRecord, StaffRecord, StolenRecord,
    VehicleRecord,
};
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewSite {
    pub network_id: NetworkId,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub location: GeoPoint,
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewCamera {
    pub site_id: SiteId,
    pub name: String,
    pub heading_deg: Option<u16>,
}

/// Who may ingest as a camera at one moment: whether the camera is active, and its keys that
/// are neither revoked nor expired then (at most two: the current one and, during a
/// rotation's overlap, the one it replaces), newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraCredentials {
    pub active: bool,
    pub keys: Vec<CameraKey>,
}

/// One of a camera's API keys, as stored: only its argon2id hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraKey {
    pub id: i64,
    pub camera_id: anpr_domain::CameraId,
    pub key_hash: String,
    pub created_at: DateTime<Utc>,
    /// When it stops working (a rotation's overlap); `None`: until rotated or revoked.
    pub expires_at: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InsertOutcome {
    pub id: ReadId,
    /// The read was already stored (a retried upload); nothing new was written.
    pub duplicate: bool,
}

/// A read with where it was seen, as search returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub read: PlateRead,
    pub site_name: String,
    pub site_kind: SiteKind,
    pub network_name: String,
    pub location: GeoPoint,
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Newest first.
    pub hits: Vec<SearchHit>,
    /// Reads matching the whole query, across all pages.
    pub total: u64,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Distinct plates the pattern resolved to.
    pub plates_matched: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurgeBatch {
    pub report: PurgeReport,
    /// Images that no stored read refers to any more; the caller deletes them from the blob
    /// store (after this batch is durable, so a crash can only leave an orphan, never a
    /// dangling reference).
    pub freed_images: Vec<ImageHash>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreStats {
    pub reads: u64,
    pub distinct_plates: u64,
    pub images: u64,
    pub cameras: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub staff_id: String,
    pub name: String,
    #[serde(default)]
    pub badge_number: Option<String>,
    pub district: String,
    pub roles: Vec<Role>,
    /// argon2id PHC string.
    pub password_hash: String,
    /// The network a `network_operator` or `network_auditor` works for (required for those
    /// roles, refused otherwise).
    #[serde(default)]
    pub network_id: Option<NetworkId>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
}

/// Failed sign-ins counted under one throttle key (a claimed staff id, a client address).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignInFailures {
    pub key: String,
    /// Failures since the key was last cleared or forgotten.
    pub failures: u32,
    pub last_failure: DateTime<Utc>,
}

/// The registers the access policy checks against.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum RegisterKind {
    /// Motor vehicle register: plate -> registered person and address.
    Vehicles,
    /// Staff register: staff id -> person, home address, team.
    Staff,
    /// People members of staff declared as associates.
    Associates,
    /// Stolen vehicle register.
    Stolen,
    /// Incident register.
    Incidents,
}

impl RegisterKind {
    pub const ALL: [RegisterKind; 5] = [
        RegisterKind::Vehicles,
        RegisterKind::Staff,
        RegisterKind::Associates,
        RegisterKind::Stolen,
        RegisterKind::Incidents,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RegisterKind::Vehicles => "vehicles",
            RegisterKind::Staff => "staff",
            RegisterKind::Associates => "associates",
            RegisterKind::Stolen => "stolen",
            RegisterKind::Incidents => "incidents",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        RegisterKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// Rows for one register, validated on import.
#[derive(Debug, Clone, PartialEq)]
pub enum RegisterBatch {
    Vehicles(Vec<VehicleRecord>),
    Staff(Vec<StaffRecord>),
    Associates(Vec<AssociateRecord>),
    Stolen(Vec<StolenRecord>),
    Incidents(Vec<IncidentRecord>),
}

impl RegisterBatch {
    pub fn kind(&self) -> RegisterKind {
        match self {
            RegisterBatch::Vehicles(_) => RegisterKind::Vehicles,
            RegisterBatch::Staff(_) => RegisterKind::Staff,
            RegisterBatch::Associates(_) => RegisterKind::Associates,
            RegisterBatch::Stolen(_) => RegisterKind::Stolen,
            RegisterBatch::Incidents(_) => RegisterKind::Incidents,
        }
    }

    pub fn len(&self) -> usize {
        match self {
            RegisterBatch::Vehicles(v) => v.len(),
            RegisterBatch::Staff(v) => v.len(),
            RegisterBatch::Associates(v) => v.len(),
            RegisterBatch::Stolen(v) => v.len(),
            RegisterBatch::Incidents(v) => v.len(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Where register rows came from, recorded with every change they make.
///
/// `imported_by` tells the access policy a declared register feed from a hand load (see
/// [`ChangedBy`]): `feed:<name>` is a feed loading under its own credential, `staff:<id>` a
/// member of staff loading by hand (the admin API), anything else an operator at the command
/// line. Rows loaded by hand by a member of staff are never the basis of tracking without a
/// second person's approval, so whoever builds an `ImportSource` must say truthfully who loads:
/// use the constructors.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ImportSource {
    /// The feed or file (`nzta-mvr-2026-03-01.csv`, `api:admin`).
    pub source: String,
    /// Who loaded it (`staff:S1006`, `feed:nzta-mvr`, `cli:operator`).
    pub imported_by: String,
}

impl ImportSource {
    /// Rows loaded by hand by a signed-in member of staff (the admin API).
    pub fn by_staff(source: impl Into<String>, staff_id: &str) -> Self {
        ImportSource {
            source: source.into(),
            imported_by: ChangedBy::Staff(staff_id.trim().to_string()).label(),
        }
    }

    /// Rows from the declared register feed `feed`, which authenticated with its own
    /// credential (not a member of staff's).
    pub fn feed(feed: &str, source: impl Into<String>) -> Self {
        ImportSource {
            source: source.into(),
            imported_by: ChangedBy::Feed(feed.trim().to_string()).label(),
        }
    }

    /// Who loaded the rows, as the access policy sees it.
    pub fn origin(&self) -> ChangedBy {
        ChangedBy::parse(&self.imported_by)
    }
}

/// What one import changed.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ImportReport {
    pub import_id: i64,
    pub register: RegisterKind,
    pub inserted: u64,
    pub updated: u64,
    pub unchanged: u64,
    /// Authorisations stopped because their stolen report was cancelled or recovered.
    pub stopped: Vec<Authorisation>,
}

/// Which authorisations to list.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AuthorisationFilter {
    pub kind: Option<AuthorisationKind>,
    /// Only these statuses (all when empty).
    pub statuses: Vec<AuthStatus>,
    pub district: Option<String>,
    pub requester: Option<UserId>,
    /// Only ids below this one (to page through, newest first).
    pub before_id: Option<i64>,
    /// Most rows returned, newest first (default 500).
    pub limit: Option<u32>,
}

/// The lookups one policy decision needs, owned so that they can cross to the blocking pool.
/// A tracking request (`for_tracking`) also gathers who loaded the rows it rests on, the
/// requester's role changes and their ended emergency authorisations of the plate.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FactsRequest {
    pub staff_id: String,
    pub user_id: UserId,
    pub file_number: Option<String>,
    pub plate: Option<String>,
    pub for_tracking: bool,
}

impl FactsRequest {
    pub fn from_query(q: &FactsQuery<'_>) -> Self {
        FactsRequest {
            staff_id: q.staff_id.to_string(),
            user_id: q.user_id,
            file_number: q.file_number.map(str::to_string),
            plate: q.plate.map(str::to_string),
            for_tracking: q.for_tracking,
        }
    }

    pub fn as_query(&self) -> FactsQuery<'_> {
        FactsQuery {
            staff_id: &self.staff_id,
            user_id: self.user_id,
            file_number: self.file_number.as_deref(),
            plate: self.plate.as_deref(),
            for_tracking: self.for_tracking,
        }
    }
}

/// The windows over which a user's allowed data accesses are counted for the policy's rate
/// limits ([`anpr_policy::Policy::rate_windows`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RateWindows {
    /// The request's purpose code (trimmed).
    pub purpose: String,
    pub since_any: DateTime<Utc>,
    pub since_purpose: DateTime<Utc>,
}

/// What one access decision reads from the store, read together (see
/// [`crate::Store::decision_facts`]).
#[derive(Debug, Clone, Default)]
pub struct DecisionFacts {
    /// The register facts, with `recent_accesses` filled when windows were given; `controls`
    /// and `disclosures` are the caller's to fill.
    pub facts: AccessFacts,
    /// [`crate::Store::network_controls_version`] as of the same read.
    pub controls_version: i64,
}

/// A match of a read against an active tracking authorisation (a watch), to be stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewAlert {
    pub kind: AlertKind,
    /// 0 for a hot-list alert, which no authorisation is behind.
    pub authorisation_id: i64,
    /// Who requested the tracking: they receive the alert, with their district's supervisors.
    pub requester_user_id: UserId,
    pub district: String,
    /// The watched plate.
    pub plate: String,
    pub read_id: ReadId,
}

/// Which alerts to list, oldest first.
#[derive(Debug, Clone, Default)]
pub struct AlertFilter {
    /// Only alerts of this audience (`None`: every alert).
    pub audience: Option<AlertAudience>,
    pub authorisation_id: Option<i64>,
    /// Only alerts with a greater id (SSE resume).
    pub after_id: Option<i64>,
    pub limit: Option<u32>,
}

/// A change another process made that this one must act on at once (several servers on one
/// PostgreSQL database; see `Store::changes`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StoreChange {
    /// New alerts are stored: deliver those above the last one delivered.
    Alerts,
    /// This authorisation changed: bring its watch in line.
    Authorisation(i64),
    /// Agreements or registers changed: reload every watch.
    Watches,
    /// The hot list was reloaded.
    HotList,
    /// Who may ingest as this camera changed (a key rotated or revoked, the camera
    /// deactivated): forget its keys verified earlier.
    CameraAccess(anpr_domain::CameraId),
    /// Announcements may have been missed (the feed started or reconnected): catch up on all.
    Resync,
}

/// A background task that must run on one process at a time when several share the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackgroundTask {
    /// The retention purge.
    Purge,
    /// Integrity runs over the audit ledger.
    Integrity,
    /// Signing the audit ledger's tree heads.
    TreeHeads,
}

/// The right to run a [`BackgroundTask`], held until dropped (see `Store::lease`).
pub struct TaskLease {
    /// The connection holding the lock (PostgreSQL), taken out of the pool: the lock lasts as
    /// long as its session, so it ends when the lease is dropped or the process dies. `None`
    /// for a store only one process uses.
    session: Option<deadpool_postgres::ClientWrapper>,
}

impl TaskLease {
    /// The lease of a store no other process uses.
    pub fn sole() -> Self {
        TaskLease { session: None }
    }

    pub(crate) fn on_session(session: deadpool_postgres::ClientWrapper) -> Self {
        TaskLease {
            session: Some(session),
        }
    }

    /// Whether the lease still holds (a lost connection has lost its lock).
    pub fn is_held(&self) -> bool {
        self.session.as_ref().is_none_or(|s| !s.is_closed())
    }
}

/// The stolen-vehicle hot list as last loaded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HotListSummary {
    /// Active stolen-vehicle reports on the list.
    pub entries: u64,
    /// Distinct plates on the list.
    pub plates: u64,
    pub loaded_at: Option<DateTime<Utc>>,
}

/// A notice to a camera network that a tracking watch started to cover its cameras: when,
/// under which purpose code and in which police district. Nothing else — no plate, file
/// number, justification or officer — reaches the network.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct WatchNotice {
    pub id: i64,
    pub network_id: NetworkId,
    /// When the watch started to cover the network's cameras.
    pub at: DateTime<Utc>,
    pub purpose_code: String,
    /// The police district of the watch.
    pub district: String,
}

/// A watch notice to store: `authorisation_id` keeps one notice per watch and network, and is
/// never shown to the network.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewWatchNotice {
    pub network_id: NetworkId,
    pub authorisation_id: i64,
    pub at: DateTime<Utc>,
    pub purpose_code: String,
    pub district: String,
}

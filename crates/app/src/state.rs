//! What every use shares: the stores, the policy, the ledger, the live state of tracking.

use crate::metrics::Metrics;
use anpr_blobs::BlobStore;
use anpr_domain::{CameraId, NetworkId};
use anpr_policy::{DecisionRecorder, Policy, PolicyConfig};
use anpr_realtime::{AlertBus, HotList, WatchSet};
use anpr_store::{ReportStore, Store};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

#[derive(Clone)]
pub struct App {
    pub store: Arc<dyn Store>,
    /// The aggregations behind the usage, transparency and subject access reports.
    pub reports: Arc<dyn ReportStore>,
    /// Integrity findings and review cases.
    pub cases: Arc<dyn anpr_store::CaseStore>,
    /// The integrity rules' state between runs (see `monitor::run`).
    pub integrity_engine: Arc<std::sync::Mutex<Option<anpr_integrity::Engine>>>,
    pub blobs: Arc<dyn BlobStore>,
    pub config: Arc<AppConfig>,
    pub metrics: Arc<Metrics>,
    pub camera_keys: Arc<CameraKeyCache>,
    /// The access-control policy every data access goes through (see `access`).
    pub policy: Arc<Policy>,
    /// Where every policy decision is recorded before its result is returned. The `decisions`
    /// table of the store until the audit ledger takes its place.
    pub recorder: Arc<dyn DecisionRecorder>,
    /// The tamper-evident audit ledger every request is recorded in.
    pub ledger: Arc<anpr_ledger::Ledger>,
    /// The active watches (approved tracking authorisations) every ingested read is matched
    /// against; kept in step with the authorisations by `realtime`.
    pub watches: Arc<dyn WatchSet>,
    /// Fans stored alerts out to the connected alert streams.
    pub alerts: Arc<dyn AlertBus>,
    /// Set while `realtime::spawn_change_relay` delivers stored alerts from the store's change
    /// feed (a store shared by several processes): ingestion then leaves delivery to it, so
    /// that each alert reaches this process's streams once, whichever process raised it.
    pub alert_relay: Arc<std::sync::atomic::AtomicBool>,
    /// The plates of the stolen-vehicle hot list, matched in the ingest path like watches.
    pub hot_list: Arc<HotList>,
    /// Which network each camera belongs to, for matching (a camera never changes site).
    pub camera_networks: Arc<RwLock<HashMap<CameraId, NetworkId>>>,
    /// This process's copy of the camera networks' own sharing controls (`network`).
    pub network_controls: Arc<crate::network::ControlsCache>,
    /// Set when the server is shutting down: long-lived responses (alert streams) end, so the
    /// graceful shutdown does not wait for clients that never hang up.
    pub closing: Arc<tokio::sync::watch::Sender<bool>>,
    /// Where the deployment's files are (the database on SQLite, the ledger's files, images).
    pub data_dir: Arc<std::path::PathBuf>,
    /// Set while the data directory's disk is low (see `disk`): administrators are told.
    pub disk_low: Arc<std::sync::atomic::AtomicBool>,
    /// Room for the images being decoded in this process; every decode is admitted here first.
    pub decode_budget: Arc<crate::decoding::DecodeBudget>,
    /// What the server's check of its own ledger has established (see `ledger_check`).
    pub ledger_check: crate::ledger_check::SharedStatus,
    /// Reads photos that arrive without plate text; `None` when no models are installed.
    pub recognition: Option<Arc<crate::recognition::RecognitionPool>>,
    /// Where camera batches are parsed and stored, at a lower priority than every other use.
    pub ingest_lane: Arc<crate::lanes::IngestLane>,
}

/// Limits and settings of the platform, whichever entry point runs it.
#[derive(Debug, Clone)]
pub struct AppConfig {
    /// Most reads in one batch.
    pub max_batch_reads: usize,
    /// How often the retention purge runs.
    pub purge_interval: std::time::Duration,
    /// Reads deleted per purge transaction, so a purge never holds the writer for long.
    pub purge_batch: usize,
    /// Bearer token accepted at `/metrics` for scrapers (besides admin and auditor sessions).
    pub metrics_token: Option<String>,
    /// Purpose codes, windows, durations, training plates and rate limits of the policy.
    pub policy: PolicyConfig,
    /// How often expired and lapsed authorisations are ended (and their ends recorded).
    pub authorisation_sweep_interval: std::time::Duration,
    /// Alerts an alert-stream client may fall behind by before it is dropped (it resumes with
    /// `Last-Event-ID`); ingestion never waits for a client.
    pub alert_client_buffer: usize,
    /// The integrity rules' settings (thresholds, on/off, the routine-review sample share).
    pub integrity: anpr_integrity::IntegrityConfig,
    /// How often the integrity rules run over the new ledger entries by themselves (none: only
    /// when asked).
    pub integrity_interval: Option<std::time::Duration>,
    /// Where images are kept: an S3-compatible object store (`s3://bucket/prefix`, which
    /// several servers share), else the data directory's `images/`.
    pub images_url: Option<String>,
    /// The data directory's disk is "low" under this share of its size free (and under
    /// `disk_min_free_bytes`, whichever is more): operators are warned (see `disk`).
    pub disk_min_free_percent: u8,
    pub disk_min_free_bytes: u64,
    /// When failed sign-ins pause a staff id or a client address (see `sign_in_throttle`).
    pub sign_in: crate::sign_in_throttle::Rules,
    /// The memory the images being decoded may hold at once, and how many decode at once.
    pub decode: crate::decoding::DecodeConfig,
    /// Where the ledger's signing key is (outside the data directory in production).
    pub ledger_keys: anpr_ledger::keys::KeySource,
    /// The origin line of the ledger's checkpoints, recorded at the ledger's creation (`None`:
    /// the recorded one, or a default named after the signing key).
    pub ledger_origin: Option<String>,
    /// How the server re-reads its own audit ledger, at start and while serving.
    pub ledger_check: crate::ledger_check::LedgerCheckConfig,
    /// Reads a second stored, at most, while officers are using the platform (for a second
    /// after each search, and while an alert stream is open); reads of watched or hot-listed
    /// plates are never held. The back-pressure that keeps a flood of camera traffic from
    /// starving searches and alerts. `None`: never held.
    pub ingest_rate_while_in_use: Option<u32>,
}

impl Default for AppConfig {
    fn default() -> Self {
        AppConfig {
            max_batch_reads: 1000,
            purge_interval: std::time::Duration::from_secs(3600),
            purge_batch: 10_000,
            metrics_token: None,
            policy: PolicyConfig::default(),
            authorisation_sweep_interval: std::time::Duration::from_secs(60),
            alert_client_buffer: 256,
            integrity: Default::default(),
            integrity_interval: Some(std::time::Duration::from_secs(15 * 60)),
            images_url: None,
            disk_min_free_percent: 10,
            disk_min_free_bytes: 2 << 30,
            sign_in: Default::default(),
            decode: Default::default(),
            ledger_check: Default::default(),
            ledger_keys: Default::default(),
            ledger_origin: None,
            ingest_rate_while_in_use: Some(crate::lanes::default_paced_rate()),
        }
    }
}

/// Camera keys already verified with argon2id, by the SHA-256 of the key, each with its end.
///
/// A remembered key is never trusted past its end, nor after its camera's keys or its active
/// flag changed: this process's own changes forget the camera's keys directly, another
/// process's arrive on the store's change feed (`realtime::spawn_change_relay`), and without a
/// feed every remembered key is confirmed against the store on use (see `auth`).
#[derive(Default)]
pub struct CameraKeyCache {
    keys: RwLock<HashMap<String, VerifiedKey>>,
    /// Moves on at every forgetting, so that a key whose check began before one (and may have
    /// been revoked meanwhile) is not remembered.
    generation: AtomicU64,
    /// Set while the change feed reports every change to cameras' keys to this process.
    fed: AtomicBool,
}

/// A camera key checked with argon2id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VerifiedKey {
    pub camera: CameraId,
    /// The stored key it matched.
    pub key_id: i64,
    /// When it stops working (the end of a rotation's overlap), if it was due to then.
    pub expires_at: Option<DateTime<Utc>>,
}

impl CameraKeyCache {
    /// Where forgetting has got to: pass it to [`CameraKeyCache::remember`].
    pub fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// The key with this fingerprint, if remembered and not past its end at `now`.
    pub fn get(&self, fingerprint: &str, now: DateTime<Utc>) -> Option<VerifiedKey> {
        self.keys
            .read()
            .expect("key cache lock")
            .get(fingerprint)
            .copied()
            .filter(|k| k.expires_at.is_none_or(|end| end > now))
    }

    /// Remembers a key verified since `generation`, unless something was forgotten since.
    pub fn remember(&self, fingerprint: String, key: VerifiedKey, generation: u64) {
        let mut keys = self.keys.write().expect("key cache lock");
        if self.generation.load(Ordering::Acquire) == generation {
            keys.insert(fingerprint, key);
        }
    }

    /// Forgets every key of a camera (its keys rotated or revoked, or it was deactivated).
    pub fn forget_camera(&self, camera: CameraId) {
        let mut keys = self.keys.write().expect("key cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        keys.retain(|_, k| k.camera != camera);
    }

    /// Forgets every key (changes may have been missed).
    pub fn forget_all(&self) {
        let mut keys = self.keys.write().expect("key cache lock");
        self.generation.fetch_add(1, Ordering::AcqRel);
        keys.clear();
    }

    /// Whether the change feed reports every change to this process (otherwise remembered
    /// keys are confirmed against the store on use).
    pub fn fed(&self) -> bool {
        self.fed.load(Ordering::Acquire)
    }

    pub fn set_fed(&self, fed: bool) {
        self.fed.store(fed, Ordering::Release);
    }
}

//! Prometheus metrics, served as text at `/metrics`.

use prometheus_client::encoding::text::encode;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct ModeLabel {
    pub mode: String,
}

/// A step of a use, for the time each step takes (`use_stage_seconds`): where a slow search
/// or ingest spent its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stage {
    /// The policy's register lookups for a decision.
    Facts,
    /// Writing the decision record.
    DecisionRecord,
    /// The store's search query.
    StoreSearch,
    /// Writing what a page or an alert showed (the read-view rule's record).
    Disclosures,
    /// Appending the use's audit-ledger entry until it is durable.
    LedgerAppend,
    /// Storing an ingest batch's reads until they are durable.
    IngestCommit,
    /// Matching stored reads against the watches and the hot list, alerts stored and sent.
    Matching,
}

impl Stage {
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Facts => "facts",
            Stage::DecisionRecord => "decision_record",
            Stage::StoreSearch => "store_search",
            Stage::Disclosures => "disclosures",
            Stage::LedgerAppend => "ledger_append",
            Stage::IngestCommit => "ingest_commit",
            Stage::Matching => "matching",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, prometheus_client::encoding::EncodeLabelSet)]
pub struct StageLabel {
    pub stage: &'static str,
}

fn stage_histogram() -> Histogram {
    // 50 µs to ~13 s, a factor of 1.5 apart: fine enough to tell 5 ms from 25 ms.
    Histogram::new(exponential_buckets(0.00005, 1.5, 32))
}

pub struct Metrics {
    registry: Registry,
    pub use_stage_seconds: Family<StageLabel, Histogram, fn() -> Histogram>,
    pub reads_ingested: Counter,
    pub reads_duplicate: Counter,
    pub images_stored: Counter,
    pub ingest_rejected: Counter,
    pub auth_failures: Counter,
    pub searches: Family<ModeLabel, Counter>,
    pub search_seconds: Histogram,
    pub ingest_batch_seconds: Histogram,
    pub reads_purged: Counter,
    pub policy_refusals: Counter,
    pub alerts_raised: Counter,
    pub alert_clients_dropped: Counter,
    pub data_disk_free_bytes: Gauge,
    pub data_disk_low: Gauge,
    /// SQLite's own memory in this process (page caches included), read when rendered.
    pub sqlite_memory_bytes: Gauge,
    pub decode_busy: Counter,
    pub ledger_intact: Gauge,
    pub ledger_checked_entries: Gauge,
    pub ledger_witness_refusals: Counter,
}

impl Metrics {
    /// Times one step of a use.
    pub fn time_stage(&self, stage: Stage, started: std::time::Instant) {
        self.use_stage_seconds
            .get_or_create(&StageLabel {
                stage: stage.as_str(),
            })
            .observe(started.elapsed().as_secs_f64());
    }
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("anpr");
        let m = Metrics {
            reads_ingested: Counter::default(),
            reads_duplicate: Counter::default(),
            images_stored: Counter::default(),
            ingest_rejected: Counter::default(),
            auth_failures: Counter::default(),
            searches: Family::default(),
            use_stage_seconds: Family::new_with_constructor(stage_histogram),
            search_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            ingest_batch_seconds: Histogram::new(exponential_buckets(0.0005, 2.0, 14)),
            reads_purged: Counter::default(),
            policy_refusals: Counter::default(),
            alerts_raised: Counter::default(),
            alert_clients_dropped: Counter::default(),
            data_disk_free_bytes: Gauge::default(),
            data_disk_low: Gauge::default(),
            sqlite_memory_bytes: Gauge::default(),
            decode_busy: Counter::default(),
            ledger_intact: Gauge::default(),
            ledger_checked_entries: Gauge::default(),
            ledger_witness_refusals: Counter::default(),
            registry: Registry::default(),
        };
        registry.register(
            "data_disk_free_bytes",
            "Free space on the data directory's disk (database, ledger files, images)",
            m.data_disk_free_bytes.clone(),
        );
        registry.register(
            "data_disk_low",
            "1 while the data directory's disk is under the configured free space (requests are \
             refused once it is full)",
            m.data_disk_low.clone(),
        );
        registry.register(
            "sqlite_memory_bytes",
            "Memory SQLite holds in this process, every connection's page cache included \
             (bounded by its soft heap limit)",
            m.sqlite_memory_bytes.clone(),
        );
        registry.register(
            "ledger_intact",
            "1 while every audit ledger entry re-read matches what was appended; 0 once one does \
             not (tree heads are then no longer signed)",
            m.ledger_intact.clone(),
        );
        registry.register(
            "ledger_checked_entries",
            "Audit ledger entries re-read and matched since the server started (the newest \
             entries, over which tree heads are signed)",
            m.ledger_checked_entries.clone(),
        );
        registry.register(
            "ledger_witness_refusals",
            "Tree heads a witness refused to cosign as not extending the history it cosigned \
             before (a rewritten ledger, or a witness that lost its state): an alarm",
            m.ledger_witness_refusals.clone(),
        );
        registry.register(
            "reads_ingested",
            "Plate reads stored",
            m.reads_ingested.clone(),
        );
        registry.register(
            "reads_duplicate",
            "Plate reads received again and not stored twice",
            m.reads_duplicate.clone(),
        );
        registry.register(
            "alerts_raised",
            "Tracking alerts raised by ingested reads",
            m.alerts_raised.clone(),
        );
        registry.register(
            "alert_clients_dropped",
            "Alert streams ended because the client fell too far behind",
            m.alert_clients_dropped.clone(),
        );
        registry.register(
            "decode_busy",
            "Requests refused with 503 because the images being decoded held the decode budget",
            m.decode_busy.clone(),
        );
        registry.register("images_stored", "Images received", m.images_stored.clone());
        registry.register(
            "ingest_rejected",
            "Ingest requests refused for bad input",
            m.ingest_rejected.clone(),
        );
        registry.register(
            "auth_failures",
            "Requests with a wrong credential",
            m.auth_failures.clone(),
        );
        registry.register(
            "searches",
            "Historical searches by mode",
            m.searches.clone(),
        );
        registry.register(
            "use_stage_seconds",
            "Time each step of a use took (policy facts, decision record, store search, \
             disclosures, ledger append, ingest commit, matching)",
            m.use_stage_seconds.clone(),
        );
        registry.register(
            "search_seconds",
            "Time to answer a historical search",
            m.search_seconds.clone(),
        );
        registry.register(
            "ingest_batch_seconds",
            "Time to make an ingest request durable",
            m.ingest_batch_seconds.clone(),
        );
        registry.register(
            "reads_purged",
            "Reads deleted by retention",
            m.reads_purged.clone(),
        );
        registry.register(
            "policy_refusals",
            "Requests the access policy refused",
            m.policy_refusals.clone(),
        );
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn render(&self) -> String {
        self.sqlite_memory_bytes
            .set(anpr_store::sqlite::sqlite_memory_used());
        let mut out = String::new();
        encode(&mut out, &self.registry).expect("writing to a String cannot fail");
        out
    }
}

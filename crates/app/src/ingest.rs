//! Ingestion: a camera's reads stored durably, then matched against the watches and the hot
//! list before the camera has its acknowledgement.

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::metrics::Stage;
use crate::App;
use anpr_domain::{CameraId, NewRead};
use anpr_ingest::{IncomingRead, ReadImages};
use anpr_ledger::{Action, AuditFacts};
use anpr_store::InsertOutcome;

/// Stores a camera's reads: images first (durable before any read that refers to them is
/// committed), then the reads in one transaction, then real-time matching. Returns one outcome
/// per read, in order; a retried upload is recognised as a duplicate.
pub async fn store_reads(
    app: &App,
    audit: &AuditHandle,
    camera_id: CameraId,
    reads: Vec<IncomingRead>,
) -> AppResult<Vec<InsertOutcome>> {
    audit.action(Action::Ingest);
    let started = std::time::Instant::now();
    let (new_reads, images): (Vec<NewRead>, Vec<ReadImages>) = reads
        .into_iter()
        .map(|r| r.into_new_read(camera_id))
        .unzip();
    if images.iter().any(|i| !i.is_empty()) {
        let blobs = app.blobs.clone();
        let metrics = app.metrics.clone();
        tokio::task::spawn_blocking(move || -> AppResult<()> {
            for (hash, image) in images.iter().flat_map(|i| i.iter()) {
                blobs.put_hashed(hash, image.bytes())?;
                metrics.images_stored.inc();
            }
            blobs.sync()?;
            Ok(())
        })
        .await
        .map_err(AppError::internal)??;
    }
    // Matching needs the reads after they are stored (the alerts refer to their ids).
    // A national hot list is never empty, so the reads are kept for matching only when a watch
    // could match or a plate is on the list (one lock, one hash lookup per read).
    let on_hot_list = !app
        .hot_list
        .hits(new_reads.iter().map(|r| r.plate.as_str()))
        .is_empty();
    let reads_for_matching = (!app.watches.is_empty() || on_hot_list).then(|| new_reads.clone());
    // A read that may raise an alert is stored ahead of the bulk batches waiting.
    let live = on_hot_list
        || (!app.watches.is_empty()
            && new_reads
                .iter()
                .any(|r| app.watches.may_match(r.plate.as_str())));
    if !live {
        app.ingest_lane.admit(new_reads.len()).await;
    }
    let commit_started = std::time::Instant::now();
    let outcomes = if live {
        app.store.insert_live_reads(new_reads).await?
    } else {
        app.store.insert_reads(new_reads).await?
    };
    app.metrics.time_stage(Stage::IngestCommit, commit_started);
    if let Some(reads) = reads_for_matching {
        let matching_started = std::time::Instant::now();
        let raised = crate::realtime::match_ingest(app, camera_id, &reads, &outcomes).await?
            + crate::realtime::match_hot_list(app, camera_id, &reads, &outcomes).await?;
        app.metrics.alerts_raised.inc_by(raised as u64);
        app.metrics.time_stage(Stage::Matching, matching_started);
    }
    let fresh = outcomes.iter().filter(|o| !o.duplicate).count() as u64;
    app.metrics.reads_ingested.inc_by(fresh);
    app.metrics
        .reads_duplicate
        .inc_by(outcomes.len() as u64 - fresh);
    app.metrics
        .ingest_batch_seconds
        .observe(started.elapsed().as_secs_f64());
    let ids: Vec<i64> = outcomes.iter().map(|o| o.id).collect();
    audit.facts(AuditFacts::new().reads(ids.len() as u64));
    audit.disclosed(&ids);
    Ok(outcomes)
}

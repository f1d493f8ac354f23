//! Retention: reads past their network's retention period are deleted, in bounded batches,
//! with the images no remaining read refers to. Reads on legal hold are kept.

use crate::App;
use anpr_domain::PurgeReport;
use chrono::{DateTime, Utc};

/// Purges everything past retention as of `now`. `progress` is told the running totals after
/// every batch so a long purge can show how far it got.
pub async fn purge(
    state: &App,
    now: DateTime<Utc>,
    mut progress: impl FnMut(&PurgeReport),
) -> anyhow::Result<PurgeReport> {
    let mut total = PurgeReport::default();
    loop {
        let batch = state
            .store
            .purge_expired(now, state.config.purge_batch)
            .await?;
        // The batch is committed: its images are no longer referenced, so deleting them can
        // at worst (on a crash) leave an orphan file, never a read without its image.
        let blobs = state.blobs.clone();
        let freed = batch.freed_images;
        tokio::task::spawn_blocking(move || {
            for hash in &freed {
                blobs.delete(hash)?;
            }
            Ok::<_, anpr_blobs::BlobError>(())
        })
        .await??;
        total.reads_deleted += batch.report.reads_deleted;
        total.images_deleted += batch.report.images_deleted;
        state
            .metrics
            .reads_purged
            .inc_by(batch.report.reads_deleted);
        progress(&total);
        if batch.report.reads_deleted < state.config.purge_batch as u64 {
            break;
        }
    }
    total.reads_kept_on_hold = state.store.reads_on_hold_past_retention(now).await?;
    // What was shown to whom allows nothing past the policy's window: forget it.
    let window = chrono::Duration::hours(state.policy.config().disclosure_window_hours);
    state.store.prune_disclosures(now - window).await?;
    if total.reads_deleted > 0 {
        let event =
            anpr_ledger::Event::new(anpr_ledger::Actor::system(), anpr_ledger::Action::Purge)
                .query(serde_json::json!({
                    "reads_deleted": total.reads_deleted,
                    "images_deleted": total.images_deleted,
                    "reads_kept_on_hold": total.reads_kept_on_hold,
                    "as_of": now,
                }));
        crate::audit::append(state, event).await?;
    }
    Ok(total)
}

/// Runs [`purge`] every `config.purge_interval` until the process ends.
pub fn spawn_background(state: App) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(state.config.purge_interval);
        let mut leadership = crate::leadership::Leadership::new(anpr_store::BackgroundTask::Purge);
        loop {
            tick.tick().await;
            if let Err(e) = state.store.prepare_ahead(Utc::now()).await {
                tracing::error!(error = %e, "preparing the coming days' storage failed");
            }
            if !leadership.holds(&state).await {
                continue;
            }
            match purge(&state, Utc::now(), |_| {}).await {
                Ok(r) if r.reads_deleted > 0 => tracing::info!(
                    reads = r.reads_deleted,
                    images = r.images_deleted,
                    kept_on_hold = r.reads_kept_on_hold,
                    "retention purge"
                ),
                Ok(_) => {}
                Err(e) => tracing::error!(error = %e, "retention purge failed"),
            }
        }
    })
}

/// Places read `id` on legal hold (kept past retention) or releases it: decided by the
/// policy with its purpose (role, purpose, file, the read's network, no connected vehicle)
/// and recorded before the hold changes.
pub async fn set_legal_hold(
    state: &App,
    user: &anpr_domain::User,
    audit: &crate::audit::AuditHandle,
    id: anpr_domain::ReadId,
    hold: bool,
    reason: &str,
    purpose: Option<anpr_domain::Purpose>,
) -> crate::AppResult<()> {
    if let Some(p) = &purpose {
        audit.purpose(p);
    }
    crate::access::authorise_legal_hold(state, user, id, hold, reason, purpose).await?;
    state.store.set_legal_hold(id, hold).await?;
    tracing::info!(read = id, hold, by = %user.staff_id, reason, "legal hold changed");
    Ok(())
}

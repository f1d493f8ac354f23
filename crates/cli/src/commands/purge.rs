use anpr_ledger::Action;
use chrono::Utc;
use std::path::Path;

pub async fn run(data: &Path) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message("purging reads past retention");
    let purge = anpr_app::retention::purge(&state, Utc::now(), |r| {
        bar.set_message(format!("{} reads deleted so far", r.reads_deleted));
        bar.tick();
    });
    let report = super::ledgered(
        &state,
        super::operator(),
        Action::Purge,
        serde_json::json!({ "trigger": "cli" }),
        async { purge.await.map_err(anpr_app::AppError::internal) },
    )
    .await?;
    bar.finish_and_clear();
    println!(
        "purged {} reads and {} images; {} reads past retention kept on legal hold",
        report.reads_deleted, report.images_deleted, report.reads_kept_on_hold
    );
    Ok(())
}

//! Versioned schema migrations, applied in order at connect under an advisory lock (several
//! processes may start at once). `schema_migrations` records each one applied; a migration is
//! never edited once released, only followed by another. The SQL lives in `migrations/`.

use super::{locks, Client};
use crate::{Result, StoreError};

const MIGRATIONS: &[&str] = &[
    include_str!("migrations/0001_core.sql"),
    include_str!("migrations/0002_access.sql"),
    include_str!("migrations/0003_alerts.sql"),
    include_str!("migrations/0004_hot_list_integrity_reports.sql"),
    include_str!("migrations/0005_decision_fuzzy.sql"),
    include_str!("migrations/0006_role_changes.sql"),
    include_str!("migrations/0007_disclosures.sql"),
    include_str!("migrations/0008_sign_in_throttle.sql"),
    include_str!("migrations/0009_camera_keys.sql"),
    include_str!("migrations/0010_open_files.sql"),
    include_str!("migrations/0011_police_contact.sql"),
    include_str!("migrations/0012_network_controls.sql"),
];

pub async fn migrate(client: &mut Client) -> Result<()> {
    let tx = client.transaction().await?;
    tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::SCHEMA])
        .await?;
    tx.batch_execute(
        "CREATE TABLE IF NOT EXISTS schema_migrations (
            version BIGINT PRIMARY KEY,
            applied_at TIMESTAMPTZ NOT NULL DEFAULT now()
        )",
    )
    .await?;
    let applied: i64 = tx
        .query_one(
            "SELECT coalesce(max(version), 0) FROM schema_migrations",
            &[],
        )
        .await?
        .get(0);
    if applied as usize > MIGRATIONS.len() {
        return Err(StoreError::Schema(format!(
            "database schema version {applied} is newer than this program ({}); upgrade anpr",
            MIGRATIONS.len()
        )));
    }
    for (i, sql) in MIGRATIONS.iter().enumerate().skip(applied as usize) {
        let version = i as i64 + 1;
        tx.batch_execute(sql).await?;
        tx.execute(
            "INSERT INTO schema_migrations (version) VALUES ($1)",
            &[&version],
        )
        .await?;
        tracing::debug!(version, "applied PostgreSQL schema migration");
    }
    tx.commit().await?;
    Ok(())
}

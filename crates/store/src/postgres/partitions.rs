//! Day partitions of `reads`: created ahead (at connect and by [`PgStore::ensure_partitions`],
//! which the server's purge loop calls) and on demand for a batch of older reads (a backfill);
//! dropped whole by the retention purge.

use super::{locks, Client, Inner, PgStore};
use crate::shared::{day_of, to_ms};
use crate::Result;
use chrono::{DateTime, Utc};

/// Days ahead of today whose partitions exist before any read needs them.
pub const PARTITION_DAYS_AHEAD: i32 = 3;

pub(crate) fn partition_name(day: i32) -> String {
    format!("reads_d{day}")
}

impl Inner {
    /// Makes sure every day in `days` has its partition.
    pub(crate) async fn ensure_days(&self, client: &mut Client, days: &[i32]) -> Result<()> {
        let missing: Vec<i32> = {
            let known = self.partitions.lock().expect("partitions lock");
            days.iter()
                .copied()
                .filter(|d| !known.contains(d))
                .collect()
        };
        if missing.is_empty() {
            return Ok(());
        }
        let tx = client.transaction().await?;
        // Under the lock, so two processes never race to create one partition.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::SCHEMA])
            .await?;
        for day in &missing {
            // The name and bounds are integers formatted here, never user text.
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF reads FOR VALUES FROM ({day}) TO ({})",
                partition_name(*day),
                day + 1
            ))
            .await?;
        }
        tx.commit().await?;
        self.partitions
            .lock()
            .expect("partitions lock")
            .extend(missing);
        Ok(())
    }

    /// The days that have a partition, oldest first.
    pub(crate) async fn partition_days(&self, client: &Client) -> Result<Vec<i32>> {
        let rows = client
            .query(
                "SELECT c.relname FROM pg_inherits i
                 JOIN pg_class c ON c.oid = i.inhrelid
                 JOIN pg_class p ON p.oid = i.inhparent
                 JOIN pg_namespace n ON n.oid = p.relnamespace
                 WHERE p.relname = 'reads' AND n.nspname = current_schema()",
                &[],
            )
            .await?;
        let mut days: Vec<i32> = rows
            .iter()
            .filter_map(|r| {
                r.get::<_, String>(0)
                    .strip_prefix("reads_d")
                    .and_then(|d| d.parse().ok())
            })
            .collect();
        days.sort_unstable();
        Ok(days)
    }
}

impl PgStore {
    /// Creates the partitions of today and the next [`PARTITION_DAYS_AHEAD`] days.
    pub async fn ensure_partitions(&self, now: DateTime<Utc>) -> Result<()> {
        let today = day_of(to_ms(now)) as i32;
        let days: Vec<i32> = (today..=today + PARTITION_DAYS_AHEAD).collect();
        let mut client = self.inner.client().await?;
        self.inner.ensure_days(&mut client, &days).await
    }
}

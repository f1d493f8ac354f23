//! Partitions of `reads`, one per 7 capture days (aligned on the epoch's day 0): created ahead
//! (at connect and by [`PgStore::ensure_partitions`], which the server's purge loop calls) and
//! on demand for a batch of older reads (a backfill); dropped whole by the retention purge.
//!
//! A week rather than a day: every search that names no time range touches every partition,
//! and PostgreSQL's planning time grows with their number (64 day partitions cost about 10 ms
//! per search on the development machine, 9 weeks a fraction of that), while retention still
//! drops whole weeks and deletes rows only in the one week that straddles the cut-off.

use super::{locks, Client, Inner, PgStore};
use crate::shared::{day_of, to_ms};
use crate::Result;
use chrono::{DateTime, Utc};

/// Days ahead of today whose partitions exist before any read needs them.
pub const PARTITION_DAYS_AHEAD: i32 = 3;

/// Capture days per partition.
pub(crate) const PARTITION_DAYS: i32 = 7;

/// The first capture day of the partition holding `day`.
pub(crate) fn partition_start(day: i32) -> i32 {
    day - day.rem_euclid(PARTITION_DAYS)
}

pub(crate) fn partition_name(start: i32) -> String {
    format!("reads_p{start}")
}

impl Inner {
    /// Makes sure every day in `days` has its partition.
    pub(crate) async fn ensure_days(&self, client: &mut Client, days: &[i32]) -> Result<()> {
        let missing: Vec<i32> = {
            let known = self.partitions.lock().expect("partitions lock");
            let mut starts: Vec<i32> = days.iter().map(|d| partition_start(*d)).collect();
            starts.sort_unstable();
            starts.dedup();
            starts.retain(|s| !known.contains(s));
            starts
        };
        if missing.is_empty() {
            return Ok(());
        }
        let tx = client.transaction().await?;
        // Under the lock, so two processes never race to create one partition.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::SCHEMA])
            .await?;
        for start in &missing {
            // The name and bounds are integers formatted here, never user text.
            tx.batch_execute(&format!(
                "CREATE TABLE IF NOT EXISTS {} PARTITION OF reads FOR VALUES FROM ({start}) TO ({})",
                partition_name(*start),
                start + PARTITION_DAYS
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

    /// The first days of the partitions, oldest first.
    pub(crate) async fn partition_starts(&self, client: &Client) -> Result<Vec<i32>> {
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
        let mut starts: Vec<i32> = rows
            .iter()
            .filter_map(|r| {
                r.get::<_, String>(0)
                    .strip_prefix("reads_p")
                    .and_then(|d| d.parse().ok())
            })
            .collect();
        starts.sort_unstable();
        Ok(starts)
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

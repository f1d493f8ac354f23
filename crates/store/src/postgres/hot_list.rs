//! The stolen-vehicle hot list: a snapshot of the active stolen reports, loaded by an admin,
//! whose plates raise "vehicle of interest" alerts for a network's own staff.

use super::PgStore;
use crate::shared::{from_ms, to_ms};
use crate::{HotListSummary, Result};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

async fn summary(c: &impl GenericClient) -> Result<HotListSummary> {
    let r = c
        .query_one(
            "SELECT COUNT(*), COUNT(DISTINCT plate), MAX(loaded_at) FROM hot_list",
            &[],
        )
        .await?;
    Ok(HotListSummary {
        entries: r.get::<_, i64>(0) as u64,
        plates: r.get::<_, i64>(1) as u64,
        loaded_at: r.get::<_, Option<i64>>(2).map(from_ms),
    })
}

impl PgStore {
    pub(crate) async fn load_hot_list_impl(&self, now: DateTime<Utc>) -> Result<HotListSummary> {
        let mut client = self.inner().client().await?;
        // Replaced whole in one transaction: a reader sees the old list or the new one.
        let tx = client.transaction().await?;
        tx.execute("DELETE FROM hot_list", &[]).await?;
        tx.execute(
            "INSERT INTO hot_list (plate, stolen_entry_id, loaded_at)
             SELECT plate, id, $1 FROM reg_stolen WHERE status = 'active'
             ON CONFLICT DO NOTHING",
            &[&to_ms(now)],
        )
        .await?;
        let s = summary(&tx).await?;
        tx.commit().await?;
        Ok(s)
    }

    pub(crate) async fn hot_list_summary_impl(&self) -> Result<HotListSummary> {
        summary(&self.inner().client().await?).await
    }

    pub(crate) async fn hot_list_plates_impl(&self) -> Result<Vec<String>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached("SELECT DISTINCT plate FROM hot_list")
            .await?;
        Ok(client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }

    pub(crate) async fn hot_list_confirm_impl(&self, plates: Vec<String>) -> Result<Vec<String>> {
        if plates.is_empty() {
            return Ok(Vec::new());
        }
        let client = self.inner().client().await?;
        // A report cancelled or recovered since the list was loaded no longer counts, whatever
        // the snapshot says.
        let stmt = client
            .prepare_cached(
                "SELECT DISTINCT h.plate FROM hot_list h
                 JOIN reg_stolen s ON s.id = h.stolen_entry_id
                 WHERE h.plate = ANY($1) AND s.status = 'active'",
            )
            .await?;
        Ok(client
            .query(&stmt, &[&plates])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect())
    }
}

//! The stolen-vehicle hot list: a snapshot of the active stolen reports, loaded by an admin,
//! whose plates raise "vehicle of interest" alerts for a network's own staff.

use super::{from_ms, to_ms, SqliteStore};
use crate::{HotListSummary, Result};
use chrono::{DateTime, Utc};
use rusqlite::{types::Value, Connection};
use std::rc::Rc;

fn summary(conn: &Connection) -> rusqlite::Result<HotListSummary> {
    conn.query_row(
        "SELECT COUNT(*), COUNT(DISTINCT plate), MAX(loaded_at) FROM hot_list",
        [],
        |r| {
            Ok(HotListSummary {
                entries: r.get::<_, i64>(0)? as u64,
                plates: r.get::<_, i64>(1)? as u64,
                loaded_at: r.get::<_, Option<i64>>(2)?.map(from_ms),
            })
        },
    )
}

impl SqliteStore {
    pub(crate) async fn load_hot_list_impl(&self, now: DateTime<Utc>) -> Result<HotListSummary> {
        self.blocking(move |inner| {
            inner.with_writer(|conn| {
                // Replaced whole in one transaction: a reader sees the old list or the new one.
                let tx = conn.transaction()?;
                tx.execute("DELETE FROM hot_list", [])?;
                tx.execute(
                    "INSERT OR IGNORE INTO hot_list (plate, stolen_entry_id, loaded_at)
                     SELECT plate, id, ?1 FROM reg_stolen WHERE status = 'active'",
                    [to_ms(now)],
                )?;
                let s = summary(&tx)?;
                tx.commit()?;
                Ok(s)
            })
        })
        .await
    }

    pub(crate) async fn hot_list_summary_impl(&self) -> Result<HotListSummary> {
        self.blocking(|inner| inner.with_reader(|c| Ok(summary(c)?)))
            .await
    }

    pub(crate) async fn hot_list_plates_impl(&self) -> Result<Vec<String>> {
        self.blocking(|inner| {
            inner.with_reader(|c| {
                let mut stmt = c.prepare_cached("SELECT DISTINCT plate FROM hot_list")?;
                let rows = stmt.query_map([], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
        })
        .await
    }

    pub(crate) async fn hot_list_confirm_impl(&self, plates: Vec<String>) -> Result<Vec<String>> {
        if plates.is_empty() {
            return Ok(Vec::new());
        }
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                // A report cancelled or recovered since the list was loaded no longer counts,
                // whatever the snapshot says.
                let list: Rc<Vec<Value>> = Rc::new(plates.into_iter().map(Value::Text).collect());
                let mut stmt = c.prepare_cached(
                    "SELECT DISTINCT h.plate FROM hot_list h
                     JOIN reg_stolen s ON s.id = h.stolen_entry_id
                     WHERE h.plate IN rarray(?1) AND s.status = 'active'",
                )?;
                let rows = stmt.query_map([list], |r| r.get(0))?;
                Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
            })
        })
        .await
    }
}

//! The camera networks' own sharing controls and the notices of watches covering their
//! cameras.

use super::{Inner, SqliteStore};
use crate::shared::{from_ms, to_ms};
use crate::{NewWatchNotice, Result, StoreError, WatchNotice};
use anpr_domain::NetworkId;
use anpr_policy::NetworkControls;
use rusqlite::{params, Connection, OptionalExtension};

const CONTROLS_COLUMNS: &str =
    "network_id, suspended, withheld_purposes, max_lookback_days, updated_at, updated_by";

fn controls_from_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<NetworkControls> {
    let purposes: String = r.get(2)?;
    Ok(NetworkControls {
        network_id: r.get(0)?,
        suspended: r.get(1)?,
        withheld_purposes: crate::shared::purposes_from_text(&purposes),
        max_lookback_days: r.get::<_, Option<i64>>(3)?.map(|d| d as u32),
        updated_at: Some(from_ms(r.get(4)?)),
        updated_by: Some(r.get(5)?),
    })
}

fn load_controls(c: &Connection) -> Result<Vec<NetworkControls>> {
    Ok(c.prepare_cached(&format!(
        "SELECT {CONTROLS_COLUMNS} FROM network_controls ORDER BY network_id"
    ))?
    .query_map([], controls_from_row)?
    .collect::<rusqlite::Result<Vec<_>>>()?)
}

impl Inner {
    fn set_controls(&self, c: NetworkControls) -> Result<NetworkControls> {
        let c = c.validated()?;
        let at = c.updated_at.unwrap_or_else(chrono::Utc::now);
        let by = c.updated_by.clone().unwrap_or_default();
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            let known: Option<i64> = tx
                .query_row(
                    "SELECT id FROM networks WHERE id = ?1",
                    [c.network_id],
                    |r| r.get(0),
                )
                .optional()?;
            if known.is_none() {
                return Err(StoreError::NotFound(format!("network {}", c.network_id)));
            }
            tx.execute(
                "INSERT INTO network_controls (network_id, suspended, withheld_purposes,
                     max_lookback_days, version, updated_at, updated_by)
                 VALUES (?1, ?2, ?3, ?4,
                     (SELECT coalesce(max(version), 0) + 1 FROM network_controls), ?5, ?6)
                 ON CONFLICT (network_id) DO UPDATE SET suspended = excluded.suspended,
                     withheld_purposes = excluded.withheld_purposes,
                     max_lookback_days = excluded.max_lookback_days,
                     version = excluded.version, updated_at = excluded.updated_at,
                     updated_by = excluded.updated_by",
                params![
                    c.network_id,
                    c.suspended,
                    c.withheld_purposes.join(","),
                    c.max_lookback_days.map(i64::from),
                    to_ms(at),
                    by
                ],
            )?;
            let stored = tx.query_row(
                &format!("SELECT {CONTROLS_COLUMNS} FROM network_controls WHERE network_id = ?1"),
                [c.network_id],
                controls_from_row,
            )?;
            tx.commit()?;
            Ok(stored)
        })
    }
}

/// [`crate::Store::network_controls_version`] on `conn`.
pub(crate) fn controls_version(c: &rusqlite::Connection) -> Result<i64> {
    Ok(
        c.prepare_cached("SELECT coalesce(sum(version), 0) FROM network_controls")?
            .query_row([], |r| r.get(0))?,
    )
}

impl SqliteStore {
    pub(crate) async fn network_controls_impl(&self) -> Result<Vec<NetworkControls>> {
        self.blocking(|inner| inner.with_reader(load_controls))
            .await
    }

    pub(crate) async fn network_controls_version_impl(&self) -> Result<i64> {
        self.blocking(|inner| inner.with_reader(controls_version))
            .await
    }

    pub(crate) async fn set_network_controls_impl(
        &self,
        c: NetworkControls,
    ) -> Result<NetworkControls> {
        self.blocking(move |inner| inner.set_controls(c)).await
    }

    pub(crate) async fn add_watch_notices_impl(&self, notices: Vec<NewWatchNotice>) -> Result<()> {
        if notices.is_empty() {
            return Ok(());
        }
        self.blocking(move |inner| {
            inner.with_writer(|conn| {
                let tx = conn.transaction()?;
                {
                    let mut stmt = tx.prepare_cached(
                        "INSERT OR IGNORE INTO watch_notices (network_id, authorisation_id, at,
                             purpose_code, district) VALUES (?1, ?2, ?3, ?4, ?5)",
                    )?;
                    for n in &notices {
                        stmt.execute(params![
                            n.network_id,
                            n.authorisation_id,
                            to_ms(n.at),
                            n.purpose_code,
                            n.district
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn watch_notices_impl(
        &self,
        network_id: NetworkId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WatchNotice>> {
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                Ok(c.prepare_cached(
                    "SELECT id, network_id, at, purpose_code, district FROM watch_notices
                     WHERE network_id = ?1 AND id < ?2 ORDER BY id DESC LIMIT ?3",
                )?
                .query_map(
                    params![network_id, before_id.unwrap_or(i64::MAX), limit],
                    |r| {
                        Ok(WatchNotice {
                            id: r.get(0)?,
                            network_id: r.get(1)?,
                            at: from_ms(r.get(2)?),
                            purpose_code: r.get(3)?,
                            district: r.get(4)?,
                        })
                    },
                )?
                .collect::<rusqlite::Result<Vec<_>>>()?)
            })
        })
        .await
    }
}

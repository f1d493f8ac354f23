//! The camera networks' own sharing controls and the notices of watches covering their
//! cameras.

use super::PgStore;
use crate::shared::{from_ms, purposes_from_text, to_ms};
use crate::{NewWatchNotice, Result, StoreError, WatchNotice};
use anpr_domain::NetworkId;
use anpr_policy::NetworkControls;

const CONTROLS_COLUMNS: &str =
    "network_id, suspended, withheld_purposes, max_lookback_days, updated_at, updated_by";

fn controls_from_row(r: &tokio_postgres::Row) -> NetworkControls {
    NetworkControls {
        network_id: r.get(0),
        suspended: r.get(1),
        withheld_purposes: purposes_from_text(r.get(2)),
        max_lookback_days: r.get::<_, Option<i64>>(3).map(|d| d as u32),
        updated_at: Some(from_ms(r.get(4))),
        updated_by: Some(r.get(5)),
    }
}

impl PgStore {
    pub(crate) async fn network_controls_impl(&self) -> Result<Vec<NetworkControls>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {CONTROLS_COLUMNS} FROM network_controls ORDER BY network_id"
            ))
            .await?;
        Ok(client
            .query(&stmt, &[])
            .await?
            .iter()
            .map(controls_from_row)
            .collect())
    }

    pub(crate) async fn network_controls_version_impl(&self) -> Result<i64> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached("SELECT coalesce(sum(version), 0)::bigint FROM network_controls")
            .await?;
        Ok(client.query_one(&stmt, &[]).await?.get(0))
    }

    pub(crate) async fn set_network_controls_impl(
        &self,
        c: NetworkControls,
    ) -> Result<NetworkControls> {
        let c = c.validated()?;
        let at = to_ms(c.updated_at.unwrap_or_else(chrono::Utc::now));
        let by = c.updated_by.clone().unwrap_or_default();
        let client = self.inner().client().await?;
        let known = client
            .query_opt("SELECT id FROM networks WHERE id = $1", &[&c.network_id])
            .await?;
        if known.is_none() {
            return Err(StoreError::NotFound(format!("network {}", c.network_id)));
        }
        let row = client
            .query_one(
                &format!(
                    "INSERT INTO network_controls (network_id, suspended, withheld_purposes,
                         max_lookback_days, version, updated_at, updated_by)
                     VALUES ($1, $2, $3, $4, nextval('network_controls_version'), $5, $6)
                     ON CONFLICT (network_id) DO UPDATE SET suspended = excluded.suspended,
                         withheld_purposes = excluded.withheld_purposes,
                         max_lookback_days = excluded.max_lookback_days,
                         version = excluded.version, updated_at = excluded.updated_at,
                         updated_by = excluded.updated_by
                     RETURNING {CONTROLS_COLUMNS}"
                ),
                &[
                    &c.network_id,
                    &c.suspended,
                    &c.withheld_purposes.join(","),
                    &c.max_lookback_days.map(i64::from),
                    &at,
                    &by,
                ],
            )
            .await?;
        Ok(controls_from_row(&row))
    }

    pub(crate) async fn add_watch_notices_impl(&self, notices: Vec<NewWatchNotice>) -> Result<()> {
        if notices.is_empty() {
            return Ok(());
        }
        let networks: Vec<i64> = notices.iter().map(|n| n.network_id).collect();
        let auths: Vec<i64> = notices.iter().map(|n| n.authorisation_id).collect();
        let ats: Vec<i64> = notices.iter().map(|n| to_ms(n.at)).collect();
        let purposes: Vec<&str> = notices.iter().map(|n| n.purpose_code.as_str()).collect();
        let districts: Vec<&str> = notices.iter().map(|n| n.district.as_str()).collect();
        let client = self.inner().client().await?;
        client
            .execute(
                "INSERT INTO watch_notices (network_id, authorisation_id, at, purpose_code,
                     district)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[],
                     $5::text[])
                 ON CONFLICT (network_id, authorisation_id) DO NOTHING",
                &[&networks, &auths, &ats, &purposes, &districts],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn watch_notices_impl(
        &self,
        network_id: NetworkId,
        before_id: Option<i64>,
        limit: u32,
    ) -> Result<Vec<WatchNotice>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT id, network_id, at, purpose_code, district FROM watch_notices
                 WHERE network_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3",
            )
            .await?;
        Ok(client
            .query(
                &stmt,
                &[&network_id, &before_id.unwrap_or(i64::MAX), &(limit as i64)],
            )
            .await?
            .iter()
            .map(|r| WatchNotice {
                id: r.get(0),
                network_id: r.get(1),
                at: from_ms(r.get(2)),
                purpose_code: r.get(3),
                district: r.get(4),
            })
            .collect())
    }
}

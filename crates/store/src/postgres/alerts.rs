//! Real-time tracking alerts: one row per match of a read against a watch.

use super::changes::{self, notify};
use super::{locks, PgStore};
use crate::shared::{from_ms, to_ms};
use crate::{Alert, AlertFilter, AlertKind, NewAlert, Result, StoreError};
use anpr_domain::GeoPoint;
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

const ALERT_COLUMNS: &str = "id, authorisation_id, requester_user_id, district, plate, read_id, \
     read_plate, captured_at, camera_id, site_id, site_name, network_id, lat, lon, has_overview, \
     has_plate, created_at, acked_at, acked_by_staff_id, kind, site_address, police_contact";

/// Most alerts one listing returns.
const MAX_LIMIT: u32 = 1000;

fn alert_from_row(r: &Row) -> Alert {
    let read_id: i64 = r.get(5);
    let mut images = Vec::new();
    if r.get::<_, bool>(14) {
        images.push(format!("/api/v1/reads/{read_id}/image/overview"));
    }
    if r.get::<_, bool>(15) {
        images.push(format!("/api/v1/reads/{read_id}/image/plate"));
    }
    let kind: &str = r.get(19);
    Alert {
        id: r.get(0),
        kind: AlertKind::parse(kind).unwrap_or(AlertKind::Watch),
        authorisation_id: r.get(1),
        requester_user_id: r.get(2),
        district: r.get(3),
        plate: r.get(4),
        read_id,
        read_plate: r.get(6),
        captured_at: from_ms(r.get(7)),
        camera_id: r.get(8),
        site_id: r.get(9),
        site_name: r.get(10),
        site_address: r.get(20),
        police_contact: r.get(21),
        network_id: r.get(11),
        location: GeoPoint {
            lat: r.get(12),
            lon: r.get(13),
        },
        images,
        created_at: from_ms(r.get(16)),
        acked_at: r.get::<_, Option<i64>>(17).map(from_ms),
        acked_by_staff_id: r.get(18),
    }
}

impl PgStore {
    pub(crate) async fn insert_alerts_impl(
        &self,
        alerts: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        let mut client = self.inner().client().await?;
        let tx = client.transaction().await?;
        // Alert ids are SSE event ids clients resume after: they must commit in id order.
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::ALERTS])
            .await?;
        // Where the read was seen is copied from the catalog in the same statement, so an
        // alert is complete the moment it is committed; a hot-list alert also carries whom the
        // network's staff call at the police.
        let insert = tx
            .prepare_cached(&format!(
                "INSERT INTO alerts (authorisation_id, requester_user_id, district, plate,
                     read_id, read_plate, captured_at, camera_id, site_id, site_name,
                     network_id, lat, lon, has_overview, has_plate, created_at, kind,
                     site_address, police_contact)
                 SELECT $1, $2, $3, $4, r.id, p.plate, r.captured_at, r.camera_id, s.id,
                     s.name, s.network_id, s.lat, s.lon,
                     $7 = 'watch' AND r.overview_sha IS NOT NULL,
                     $7 = 'watch' AND r.plate_sha IS NOT NULL, $6, $7,
                     s.address, CASE WHEN $7 = 'hot_list' THEN n.police_contact END
                 FROM reads r JOIN plates p ON p.id = r.plate_id
                     JOIN cameras c ON c.id = r.camera_id JOIN sites s ON s.id = c.site_id
                     JOIN networks n ON n.id = s.network_id
                 WHERE r.id = $5
                 ON CONFLICT (authorisation_id, read_id) DO NOTHING
                 RETURNING {ALERT_COLUMNS}"
            ))
            .await?;
        let mut out = Vec::with_capacity(alerts.len());
        for a in &alerts {
            // None: the read is gone or this alert already exists (a retried upload); either
            // way there is nothing new to deliver.
            if let Some(row) = tx
                .query_opt(
                    &insert,
                    &[
                        &a.authorisation_id,
                        &a.requester_user_id,
                        &a.district,
                        &a.plate,
                        &a.read_id,
                        &to_ms(now),
                        &a.kind.as_str(),
                    ],
                )
                .await?
            {
                out.push(alert_from_row(&row));
            }
        }
        if !out.is_empty() {
            notify(&tx, changes::ALERTS).await?;
        }
        tx.commit().await?;
        Ok(out)
    }

    pub(crate) async fn alerts_impl(&self, f: AlertFilter) -> Result<Vec<Alert>> {
        let mut sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id > $1");
        let mut params: Vec<Box<dyn ToSql + Sync + Send>> = vec![Box::new(f.after_id.unwrap_or(0))];
        if let Some(a) = f.authorisation_id {
            params.push(Box::new(a));
            sql.push_str(&format!(" AND authorisation_id = ${}", params.len()));
        }
        if let Some(aud) = &f.audience {
            let districts: Vec<String> = aud.districts.iter().map(|d| d.to_lowercase()).collect();
            params.push(Box::new(aud.user_id));
            params.push(Box::new(districts));
            sql.push_str(&format!(
                " AND ((kind = 'watch' AND (requester_user_id = ${} OR lower(district) = ANY(${})))",
                params.len() - 1,
                params.len()
            ));
            // A network's own staff see its hot-list alerts (never a tracking alert).
            if let Some(n) = aud.hot_list_network {
                params.push(Box::new(n));
                sql.push_str(&format!(
                    " OR (kind = 'hot_list' AND network_id = ${})",
                    params.len()
                ));
            }
            sql.push(')');
        }
        params.push(Box::new(f.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as i64));
        sql.push_str(&format!(" ORDER BY id LIMIT ${}", params.len()));
        let client = self.inner().client().await?;
        let stmt = client.prepare_cached(&sql).await?;
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        Ok(client
            .query(&stmt, &refs)
            .await?
            .iter()
            .map(alert_from_row)
            .collect())
    }

    pub(crate) async fn alert_impl(&self, id: i64) -> Result<Option<Alert>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = $1"))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| alert_from_row(&r)))
    }

    pub(crate) async fn ack_alert_impl(
        &self,
        id: i64,
        staff_id: &str,
        at: DateTime<Utc>,
    ) -> Result<Alert> {
        let client = self.inner().client().await?;
        // The first acknowledgement stands; a second one changes nothing.
        client
            .execute(
                "UPDATE alerts SET acked_at = $2, acked_by_staff_id = $3
                 WHERE id = $1 AND acked_at IS NULL",
                &[&id, &to_ms(at), &staff_id],
            )
            .await?;
        self.alert_impl(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("alert {id}")))
    }

    pub(crate) async fn latest_alert_id_impl(&self) -> Result<i64> {
        let client = self.inner().client().await?;
        Ok(client
            .query_one("SELECT COALESCE(MAX(id), 0) FROM alerts", &[])
            .await?
            .get(0))
    }
}

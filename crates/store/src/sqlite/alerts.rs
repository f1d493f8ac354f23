//! Real-time tracking alerts: one row per match of a read against a watch.

use super::{from_ms, to_ms, SqliteStore};
use crate::{Alert, AlertFilter, AlertKind, NewAlert, Result, StoreError};
use anpr_domain::GeoPoint;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Row};

const ALERT_COLUMNS: &str = "id, authorisation_id, requester_user_id, district, plate, read_id, \
     read_plate, captured_at, camera_id, site_id, site_name, network_id, lat, lon, has_overview, \
     has_plate, created_at, acked_at, acked_by_staff_id, kind, site_address, police_contact";

/// Most alerts one listing returns.
const MAX_LIMIT: u32 = 1000;

fn alert_from_row(r: &Row<'_>) -> rusqlite::Result<Alert> {
    let read_id: i64 = r.get(5)?;
    let mut images = Vec::new();
    if r.get::<_, bool>(14)? {
        images.push(format!("/api/v1/reads/{read_id}/image/overview"));
    }
    if r.get::<_, bool>(15)? {
        images.push(format!("/api/v1/reads/{read_id}/image/plate"));
    }
    let kind: String = r.get(19)?;
    Ok(Alert {
        id: r.get(0)?,
        kind: AlertKind::parse(&kind).unwrap_or(AlertKind::Watch),
        authorisation_id: r.get(1)?,
        requester_user_id: r.get(2)?,
        district: r.get(3)?,
        plate: r.get(4)?,
        read_id,
        read_plate: r.get(6)?,
        captured_at: from_ms(r.get(7)?),
        camera_id: r.get(8)?,
        site_id: r.get(9)?,
        site_name: r.get(10)?,
        site_address: r.get(20)?,
        police_contact: r.get(21)?,
        network_id: r.get(11)?,
        location: GeoPoint {
            lat: r.get(12)?,
            lon: r.get(13)?,
        },
        images,
        created_at: from_ms(r.get(16)?),
        acked_at: r.get::<_, Option<i64>>(17)?.map(from_ms),
        acked_by_staff_id: r.get(18)?,
    })
}

impl SqliteStore {
    pub(crate) async fn insert_alerts_impl(
        &self,
        alerts: Vec<NewAlert>,
        now: DateTime<Utc>,
    ) -> Result<Vec<Alert>> {
        if alerts.is_empty() {
            return Ok(Vec::new());
        }
        self.blocking(move |inner| {
            inner.with_use_log(|conn| {
                let tx = conn.transaction()?;
                let mut out = Vec::with_capacity(alerts.len());
                {
                    // Where the read was seen is copied from the catalog in the same statement,
                    // so an alert is complete the moment it is committed; a hot-list alert also
                    // carries whom the network's staff call at the police.
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO alerts (authorisation_id, requester_user_id, district, plate,
                             read_id, read_plate, captured_at, camera_id, site_id, site_name,
                             network_id, lat, lon, has_overview, has_plate, created_at, kind,
                             site_address, police_contact)
                         SELECT ?1, ?2, ?3, ?4, r.id, p.plate, r.captured_at, r.camera_id, s.id,
                             s.name, s.network_id, s.lat, s.lon,
                             ?7 = 'watch' AND r.overview_sha IS NOT NULL,
                             ?7 = 'watch' AND r.plate_sha IS NOT NULL, ?6, ?7,
                             s.address, CASE WHEN ?7 = 'hot_list' THEN n.police_contact END
                         FROM reads r JOIN plates p ON p.id = r.plate_id
                             JOIN cameras c ON c.id = r.camera_id JOIN sites s ON s.id = c.site_id
                             JOIN networks n ON n.id = s.network_id
                         WHERE r.id = ?5
                         ON CONFLICT (authorisation_id, read_id) DO NOTHING
                         RETURNING id",
                    )?;
                    let mut select = tx.prepare_cached(&format!(
                        "SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"
                    ))?;
                    for a in &alerts {
                        let id: Option<i64> = insert
                            .query_row(
                                params![
                                    a.authorisation_id,
                                    a.requester_user_id,
                                    a.district,
                                    a.plate,
                                    a.read_id,
                                    to_ms(now),
                                    a.kind.as_str()
                                ],
                                |r| r.get(0),
                            )
                            .optional()?;
                        // None: the read is gone or this alert already exists (a retried
                        // upload); either way there is nothing new to deliver.
                        if let Some(id) = id {
                            out.push(select.query_row([id], alert_from_row)?);
                        }
                    }
                }
                tx.commit()?;
                Ok(out)
            })
        })
        .await
    }

    pub(crate) async fn alerts_impl(&self, f: AlertFilter) -> Result<Vec<Alert>> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                let mut sql = format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id > ?");
                let mut args: Vec<Value> = vec![Value::Integer(f.after_id.unwrap_or(0))];
                if let Some(a) = f.authorisation_id {
                    sql.push_str(" AND authorisation_id = ?");
                    args.push(Value::Integer(a));
                }
                if let Some(aud) = &f.audience {
                    sql.push_str(" AND ((kind = 'watch' AND (requester_user_id = ?");
                    args.push(Value::Integer(aud.user_id));
                    for d in &aud.districts {
                        sql.push_str(" OR district = ? COLLATE NOCASE");
                        args.push(Value::Text(d.clone()));
                    }
                    sql.push_str("))");
                    if let Some(n) = aud.hot_list_network {
                        sql.push_str(" OR (kind = 'hot_list' AND network_id = ?)");
                        args.push(Value::Integer(n));
                    }
                    sql.push(')');
                }
                sql.push_str(" ORDER BY id LIMIT ?");
                args.push(Value::Integer(
                    f.limit.unwrap_or(MAX_LIMIT).min(MAX_LIMIT) as i64
                ));
                let mut stmt = conn.prepare_cached(&sql)?;
                let rows = stmt.query_map(params_from_iter(args), alert_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
        })
        .await
    }

    pub(crate) async fn alert_impl(&self, id: i64) -> Result<Option<Alert>> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                Ok(conn
                    .prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"))?
                    .query_row([id], alert_from_row)
                    .optional()?)
            })
        })
        .await
    }

    pub(crate) async fn ack_alert_impl(
        &self,
        id: i64,
        staff_id: String,
        at: DateTime<Utc>,
    ) -> Result<Alert> {
        self.blocking(move |inner| {
            inner.with_use_log(|conn| {
                // The first acknowledgement stands; a second one changes nothing.
                conn.prepare_cached(
                    "UPDATE alerts SET acked_at = ?2, acked_by_staff_id = ?3
                     WHERE id = ?1 AND acked_at IS NULL",
                )?
                .execute(params![id, to_ms(at), staff_id])?;
                conn.prepare_cached(&format!("SELECT {ALERT_COLUMNS} FROM alerts WHERE id = ?1"))?
                    .query_row([id], alert_from_row)
                    .optional()?
                    .ok_or_else(|| StoreError::NotFound(format!("alert {id}")))
            })
        })
        .await
    }

    pub(crate) async fn latest_alert_id_impl(&self) -> Result<i64> {
        self.blocking(|inner| {
            inner.with_reader(|c| {
                Ok(c.query_row("SELECT COALESCE(MAX(id), 0) FROM alerts", [], |r| r.get(0))?)
            })
        })
        .await
    }
}

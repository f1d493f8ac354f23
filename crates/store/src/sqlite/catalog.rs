//! Networks, sites and cameras.

use super::{from_ms, to_ms, Catalog, Inner, SqliteStore};
use crate::shared::{check_heading, check_retention, non_empty, replaced_ends};
use crate::{CameraCredentials, CameraKey, NewCamera, NewSite, Result, StoreError};
use anpr_domain::{Camera, CameraId, GeoPoint, Network, NetworkId, Site, SiteKind};
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension};

pub(super) fn load(conn: &Connection) -> Result<Catalog> {
    let networks = conn
        .prepare("SELECT id, name, retention_days, police_contact FROM networks ORDER BY id")?
        .query_map([], |r| {
            Ok(Network {
                id: r.get(0)?,
                name: r.get(1)?,
                retention_days: r.get(2)?,
                police_contact: r.get(3)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let sites = conn
        .prepare(
            "SELECT id, network_id, name, kind, address, lat, lon, district FROM sites ORDER BY id",
        )?
        .query_map([], |r| {
            let kind: String = r.get(3)?;
            Ok(Site {
                id: r.get(0)?,
                network_id: r.get(1)?,
                name: r.get(2)?,
                kind: SiteKind::parse(&kind).unwrap_or(SiteKind::Other),
                address: r.get(4)?,
                location: GeoPoint {
                    lat: r.get(5)?,
                    lon: r.get(6)?,
                },
                district: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    let cameras = conn
        .prepare("SELECT id, site_id, name, heading_deg, active FROM cameras ORDER BY id")?
        .query_map([], |r| {
            Ok(Camera {
                id: r.get(0)?,
                site_id: r.get(1)?,
                name: r.get(2)?,
                heading_deg: r.get(3)?,
                active: r.get(4)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(Catalog {
        networks,
        sites,
        cameras,
    })
}

impl SqliteStore {
    pub(crate) async fn create_network_impl(
        &self,
        name: &str,
        retention_days: u32,
    ) -> Result<Network> {
        non_empty("name", name, 100)?;
        check_retention(retention_days)?;
        let name = name.trim().to_string();
        self.blocking(move |inner: &Inner| {
            let network = inner.with_writer(|conn| {
                let exists: Option<i64> = conn
                    .query_row("SELECT id FROM networks WHERE name = ?1", [&name], |r| {
                        r.get(0)
                    })
                    .optional()?;
                if exists.is_some() {
                    return Err(StoreError::Conflict(format!(
                        "network {name:?} already exists"
                    )));
                }
                let tx = conn.transaction()?;
                tx.execute(
                    "INSERT INTO networks (name, retention_days, created_at) VALUES (?1, ?2, ?3)",
                    params![name, retention_days, to_ms(Utc::now())],
                )?;
                let id = tx.last_insert_rowid();
                // The default sharing agreement until the network states its own: historical
                // search by every district, real-time tracking by none.
                tx.execute(
                    "INSERT INTO network_agreements (network_id, use, party)
                     VALUES (?1, 'search', '*')",
                    [id],
                )?;
                tx.execute("UPDATE register_version SET version = version + 1", [])?;
                tx.commit()?;
                Ok(Network {
                    id,
                    name,
                    retention_days,
                    police_contact: None,
                })
            })?;
            inner
                .catalog
                .write()
                .expect("catalog lock")
                .networks
                .push(network.clone());
            Ok(network)
        })
        .await
    }

    pub(crate) async fn set_network_police_contact_impl(
        &self,
        id: NetworkId,
        contact: Option<String>,
    ) -> Result<Network> {
        self.blocking(move |inner: &Inner| {
            let changed = inner.with_writer(|conn| {
                Ok(conn.execute(
                    "UPDATE networks SET police_contact = ?2 WHERE id = ?1",
                    params![id, contact],
                )?)
            })?;
            if changed == 0 {
                return Err(StoreError::NotFound(format!("network {id}")));
            }
            let mut catalog = inner.catalog.write().expect("catalog lock");
            let network = catalog
                .networks
                .iter_mut()
                .find(|n| n.id == id)
                .ok_or_else(|| StoreError::NotFound(format!("network {id}")))?;
            network.police_contact = contact;
            Ok(network.clone())
        })
        .await
    }

    pub(crate) async fn create_site_impl(&self, site: NewSite) -> Result<Site> {
        non_empty("name", &site.name, 200)?;
        non_empty("district", &site.district, 100)?;
        GeoPoint::new(site.location.lat, site.location.lon).map_err(|e| e.within("location"))?;
        self.blocking(move |inner: &Inner| {
            if inner.catalog().network(site.network_id).is_none() {
                return Err(StoreError::NotFound(format!("network {}", site.network_id)));
            }
            let id = inner.with_writer(|conn| {
                conn.execute(
                    "INSERT INTO sites (network_id, name, kind, address, lat, lon, district)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                    params![
                        site.network_id,
                        site.name.trim(),
                        site.kind.as_str(),
                        site.address,
                        site.location.lat,
                        site.location.lon,
                        site.district.trim()
                    ],
                )?;
                Ok(conn.last_insert_rowid())
            })?;
            let site = Site {
                id,
                network_id: site.network_id,
                name: site.name.trim().to_string(),
                kind: site.kind,
                address: site.address,
                location: site.location,
                district: site.district.trim().to_string(),
            };
            inner
                .catalog
                .write()
                .expect("catalog lock")
                .sites
                .push(site.clone());
            Ok(site)
        })
        .await
    }

    pub(crate) async fn create_camera_impl(&self, camera: NewCamera) -> Result<Camera> {
        non_empty("name", &camera.name, 200)?;
        check_heading(camera.heading_deg)?;
        self.blocking(move |inner: &Inner| {
            if !inner.catalog().sites.iter().any(|s| s.id == camera.site_id) {
                return Err(StoreError::NotFound(format!("site {}", camera.site_id)));
            }
            let id = inner.with_writer(|conn| {
                conn.execute(
                    "INSERT INTO cameras (site_id, name, heading_deg, created_at)
                     VALUES (?1, ?2, ?3, ?4)",
                    params![
                        camera.site_id,
                        camera.name.trim(),
                        camera.heading_deg,
                        to_ms(Utc::now())
                    ],
                )?;
                Ok(conn.last_insert_rowid())
            })?;
            let camera = Camera {
                id,
                site_id: camera.site_id,
                name: camera.name.trim().to_string(),
                heading_deg: camera.heading_deg,
                active: true,
            };
            inner
                .catalog
                .write()
                .expect("catalog lock")
                .cameras
                .push(camera.clone());
            Ok(camera)
        })
        .await
    }

    pub(crate) async fn camera_credentials_impl(
        &self,
        id: CameraId,
        now: DateTime<Utc>,
    ) -> Result<Option<CameraCredentials>> {
        self.blocking(move |inner: &Inner| {
            inner.with_reader(|conn| {
                let Some(active) = conn
                    .query_row("SELECT active FROM cameras WHERE id = ?1", [id], |r| {
                        r.get(0)
                    })
                    .optional()?
                else {
                    return Ok(None);
                };
                let keys = live_keys(conn, id, now)?;
                Ok(Some(CameraCredentials { active, keys }))
            })
        })
        .await
    }

    pub(crate) async fn add_camera_key_impl(
        &self,
        id: CameraId,
        key_hash: String,
        now: DateTime<Utc>,
        replaced_end: DateTime<Utc>,
    ) -> Result<(CameraKey, Option<DateTime<Utc>>)> {
        self.blocking(move |inner: &Inner| {
            inner.with_writer(|conn| {
                let tx = conn.transaction()?;
                camera_exists(&tx, id)?;
                let ends = replaced_ends(&live_keys(&tx, id, now)?, now, replaced_end);
                for (key_id, end) in &ends {
                    tx.execute(
                        "UPDATE camera_keys SET expires_at = ?2 WHERE id = ?1",
                        params![key_id, to_ms(*end)],
                    )?;
                }
                tx.execute(
                    "INSERT INTO camera_keys (camera_id, key_hash, created_at) VALUES (?1, ?2, ?3)",
                    params![id, key_hash, to_ms(now)],
                )?;
                let key = CameraKey {
                    id: tx.last_insert_rowid(),
                    camera_id: id,
                    key_hash,
                    created_at: from_ms(to_ms(now)),
                    expires_at: None,
                };
                tx.commit()?;
                Ok((key, ends.first().map(|(_, end)| *end)))
            })
        })
        .await
    }

    pub(crate) async fn revoke_camera_keys_impl(
        &self,
        id: CameraId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        self.blocking(move |inner: &Inner| {
            inner.with_writer(|conn| {
                let tx = conn.transaction()?;
                camera_exists(&tx, id)?;
                let now = to_ms(now);
                let n = tx.execute(
                    "UPDATE camera_keys SET revoked_at = ?2 WHERE camera_id = ?1
                     AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)",
                    params![id, now],
                )?;
                tx.commit()?;
                Ok(n as u64)
            })
        })
        .await
    }
}

fn camera_exists(conn: &Connection, id: CameraId) -> Result<()> {
    conn.query_row("SELECT 1 FROM cameras WHERE id = ?1", [id], |_| Ok(()))
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("camera {id}")))
}

/// The camera's keys neither revoked nor expired at `now`, newest first.
fn live_keys(conn: &Connection, id: CameraId, now: DateTime<Utc>) -> Result<Vec<CameraKey>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, key_hash, created_at, expires_at FROM camera_keys
         WHERE camera_id = ?1 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > ?2)
         ORDER BY id DESC",
    )?;
    let keys = stmt
        .query_map(params![id, to_ms(now)], |r| {
            Ok(CameraKey {
                id: r.get(0)?,
                camera_id: id,
                key_hash: r.get(1)?,
                created_at: from_ms(r.get(2)?),
                expires_at: r.get::<_, Option<i64>>(3)?.map(from_ms),
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(keys)
}

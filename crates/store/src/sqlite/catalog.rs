//! Networks, sites and cameras.

use super::{to_ms, Catalog, Inner, SqliteStore};
use crate::shared::{check_heading, check_retention, non_empty};
use crate::{CameraCredentials, NewCamera, NewSite, Result, StoreError};
use anpr_domain::{Camera, CameraId, GeoPoint, Network, Site, SiteKind};
use chrono::Utc;
use rusqlite::{params, Connection, OptionalExtension};

pub(super) fn load(conn: &Connection) -> Result<Catalog> {
    let networks = conn
        .prepare("SELECT id, name, retention_days FROM networks ORDER BY id")?
        .query_map([], |r| {
            Ok(Network {
                id: r.get(0)?,
                name: r.get(1)?,
                retention_days: r.get(2)?,
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

    pub(crate) async fn create_camera_impl(
        &self,
        camera: NewCamera,
        key_hash: String,
    ) -> Result<Camera> {
        non_empty("name", &camera.name, 200)?;
        check_heading(camera.heading_deg)?;
        self.blocking(move |inner: &Inner| {
            if !inner.catalog().sites.iter().any(|s| s.id == camera.site_id) {
                return Err(StoreError::NotFound(format!("site {}", camera.site_id)));
            }
            let id = inner.with_writer(|conn| {
                conn.execute(
                    "INSERT INTO cameras (site_id, name, heading_deg, key_hash, created_at)
                     VALUES (?1, ?2, ?3, ?4, ?5)",
                    params![
                        camera.site_id,
                        camera.name.trim(),
                        camera.heading_deg,
                        key_hash,
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
    ) -> Result<Option<CameraCredentials>> {
        self.blocking(move |inner: &Inner| {
            inner.with_reader(|conn| {
                Ok(conn
                    .query_row(
                        "SELECT key_hash, active FROM cameras WHERE id = ?1",
                        [id],
                        |r| {
                            Ok(CameraCredentials {
                                key_hash: r.get(0)?,
                                active: r.get(1)?,
                            })
                        },
                    )
                    .optional()?)
            })
        })
        .await
    }

    pub(crate) async fn set_camera_key_hash_impl(
        &self,
        id: CameraId,
        key_hash: String,
    ) -> Result<()> {
        self.blocking(move |inner: &Inner| {
            inner.with_writer(|conn| {
                let n = conn.execute(
                    "UPDATE cameras SET key_hash = ?2 WHERE id = ?1",
                    params![id, key_hash],
                )?;
                if n == 0 {
                    return Err(StoreError::NotFound(format!("camera {id}")));
                }
                Ok(())
            })
        })
        .await
    }
}

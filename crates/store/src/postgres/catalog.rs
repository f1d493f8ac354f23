//! Networks, sites and cameras.

use super::{Client, PgStore};
use crate::shared::{
    check_heading, check_retention, from_ms, non_empty, replaced_ends, to_ms, Catalog,
};
use crate::{CameraCredentials, CameraKey, NewCamera, NewSite, Result, StoreError};
use anpr_domain::{Camera, CameraId, GeoPoint, Network, NetworkId, Site, SiteKind};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;

pub(super) async fn load(client: &Client) -> Result<Catalog> {
    let networks = client
        .query(
            "SELECT id, name, retention_days, police_contact FROM networks ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Network {
            id: r.get(0),
            name: r.get(1),
            retention_days: r.get::<_, i64>(2) as u32,
            police_contact: r.get(3),
        })
        .collect();
    let sites = client
        .query(
            "SELECT id, network_id, name, kind, address, lat, lon, district FROM sites ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Site {
            id: r.get(0),
            network_id: r.get(1),
            name: r.get(2),
            kind: SiteKind::parse(r.get(3)).unwrap_or(SiteKind::Other),
            address: r.get(4),
            location: GeoPoint {
                lat: r.get(5),
                lon: r.get(6),
            },
            district: r.get(7),
        })
        .collect();
    let cameras = client
        .query(
            "SELECT id, site_id, name, heading_deg, active FROM cameras ORDER BY id",
            &[],
        )
        .await?
        .iter()
        .map(|r| Camera {
            id: r.get(0),
            site_id: r.get(1),
            name: r.get(2),
            heading_deg: r.get::<_, Option<i64>>(3).map(|h| h as u16),
            active: r.get(4),
        })
        .collect();
    Ok(Catalog {
        networks,
        sites,
        cameras,
    })
}

impl PgStore {
    pub(crate) async fn create_network_impl(
        &self,
        name: &str,
        retention_days: u32,
    ) -> Result<Network> {
        non_empty("name", name, 100)?;
        check_retention(retention_days)?;
        let name = name.trim().to_string();
        let mut client = self.inner.client().await?;
        let tx = client.transaction().await?;
        let row = tx
            .query_opt(
                "INSERT INTO networks (name, retention_days, created_at) VALUES ($1, $2, $3)
                 ON CONFLICT (name) DO NOTHING RETURNING id",
                &[&name, &(retention_days as i64), &to_ms(Utc::now())],
            )
            .await?;
        let Some(row) = row else {
            return Err(StoreError::Conflict(format!(
                "network {name:?} already exists"
            )));
        };
        let id: i64 = row.get(0);
        // The default sharing agreement until the network states its own: historical search by
        // every district, real-time tracking by none.
        tx.execute(
            "INSERT INTO network_agreements (network_id, \"use\", party) VALUES ($1, 'search', '*')",
            &[&id],
        )
        .await?;
        tx.execute("UPDATE register_version SET version = version + 1", &[])
            .await?;
        tx.commit().await?;
        let network = Network {
            id,
            name,
            retention_days,
            police_contact: None,
        };
        self.inner
            .catalog
            .write()
            .expect("catalog lock")
            .networks
            .push(network.clone());
        Ok(network)
    }

    pub(crate) async fn set_network_police_contact_impl(
        &self,
        id: NetworkId,
        contact: Option<String>,
    ) -> Result<Network> {
        let client = self.inner.client().await?;
        let changed = client
            .execute(
                "UPDATE networks SET police_contact = $2 WHERE id = $1",
                &[&id, &contact],
            )
            .await?;
        if changed == 0 {
            return Err(StoreError::NotFound(format!("network {id}")));
        }
        self.inner.reload_catalog().await?;
        self.inner
            .catalog()
            .network(id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("network {id}")))
    }

    pub(crate) async fn create_site_impl(&self, site: NewSite) -> Result<Site> {
        non_empty("name", &site.name, 200)?;
        non_empty("district", &site.district, 100)?;
        GeoPoint::new(site.location.lat, site.location.lon).map_err(|e| e.within("location"))?;
        if self.inner.catalog().network(site.network_id).is_none() {
            self.inner.reload_catalog().await?;
            if self.inner.catalog().network(site.network_id).is_none() {
                return Err(StoreError::NotFound(format!("network {}", site.network_id)));
            }
        }
        let client = self.inner.client().await?;
        let id: i64 = client
            .query_one(
                "INSERT INTO sites (network_id, name, kind, address, lat, lon, district)
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                &[
                    &site.network_id,
                    &site.name.trim(),
                    &site.kind.as_str(),
                    &site.address,
                    &site.location.lat,
                    &site.location.lon,
                    &site.district.trim(),
                ],
            )
            .await?
            .get(0);
        let site = Site {
            id,
            network_id: site.network_id,
            name: site.name.trim().to_string(),
            kind: site.kind,
            address: site.address,
            location: site.location,
            district: site.district.trim().to_string(),
        };
        self.inner
            .catalog
            .write()
            .expect("catalog lock")
            .sites
            .push(site.clone());
        Ok(site)
    }

    pub(crate) async fn create_camera_impl(&self, camera: NewCamera) -> Result<Camera> {
        non_empty("name", &camera.name, 200)?;
        check_heading(camera.heading_deg)?;
        let known = |s: &Self| {
            s.inner
                .catalog()
                .sites
                .iter()
                .any(|x| x.id == camera.site_id)
        };
        if !known(self) {
            self.inner.reload_catalog().await?;
            if !known(self) {
                return Err(StoreError::NotFound(format!("site {}", camera.site_id)));
            }
        }
        let client = self.inner.client().await?;
        let id: i64 = client
            .query_one(
                "INSERT INTO cameras (site_id, name, heading_deg, created_at)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    &camera.site_id,
                    &camera.name.trim(),
                    &camera.heading_deg.map(i64::from),
                    &to_ms(Utc::now()),
                ],
            )
            .await?
            .get(0);
        let camera = Camera {
            id,
            site_id: camera.site_id,
            name: camera.name.trim().to_string(),
            heading_deg: camera.heading_deg,
            active: true,
        };
        self.inner
            .catalog
            .write()
            .expect("catalog lock")
            .cameras
            .push(camera.clone());
        Ok(camera)
    }

    pub(crate) async fn camera_credentials_impl(
        &self,
        id: CameraId,
        now: DateTime<Utc>,
    ) -> Result<Option<CameraCredentials>> {
        let client = self.inner.client().await?;
        let stmt = client
            .prepare_cached("SELECT active FROM cameras WHERE id = $1")
            .await?;
        let Some(row) = client.query_opt(&stmt, &[&id]).await? else {
            return Ok(None);
        };
        let keys = live_keys(&client, id, now).await?;
        Ok(Some(CameraCredentials {
            active: row.get(0),
            keys,
        }))
    }

    /// Other processes learn of the change from the `camera_keys` trigger (migration 9).
    pub(crate) async fn add_camera_key_impl(
        &self,
        id: CameraId,
        key_hash: String,
        now: DateTime<Utc>,
        replaced_end: DateTime<Utc>,
    ) -> Result<(CameraKey, Option<DateTime<Utc>>)> {
        let mut client = self.inner.client().await?;
        let tx = client.transaction().await?;
        lock_camera(&tx, id).await?;
        let ends = replaced_ends(&live_keys(&tx, id, now).await?, now, replaced_end);
        for (key_id, end) in &ends {
            tx.execute(
                "UPDATE camera_keys SET expires_at = $2 WHERE id = $1",
                &[key_id, &to_ms(*end)],
            )
            .await?;
        }
        let key_id: i64 = tx
            .query_one(
                "INSERT INTO camera_keys (camera_id, key_hash, created_at) VALUES ($1, $2, $3)
                 RETURNING id",
                &[&id, &key_hash, &to_ms(now)],
            )
            .await?
            .get(0);
        tx.commit().await?;
        let key = CameraKey {
            id: key_id,
            camera_id: id,
            key_hash,
            created_at: from_ms(to_ms(now)),
            expires_at: None,
        };
        Ok((key, ends.first().map(|(_, end)| *end)))
    }

    /// Other processes learn of the change from the `camera_keys` trigger (migration 9).
    pub(crate) async fn revoke_camera_keys_impl(
        &self,
        id: CameraId,
        now: DateTime<Utc>,
    ) -> Result<u64> {
        let mut client = self.inner.client().await?;
        let tx = client.transaction().await?;
        lock_camera(&tx, id).await?;
        let now = to_ms(now);
        let n = tx
            .execute(
                "UPDATE camera_keys SET revoked_at = $2 WHERE camera_id = $1
                 AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $2)",
                &[&id, &now],
            )
            .await?;
        tx.commit().await?;
        Ok(n)
    }
}

/// Holds the camera's row until the transaction ends, so that two key changes of one camera
/// happen one after the other (never three live keys).
async fn lock_camera(c: &impl GenericClient, id: CameraId) -> Result<()> {
    c.query_opt("SELECT 1 FROM cameras WHERE id = $1 FOR UPDATE", &[&id])
        .await?
        .map(drop)
        .ok_or_else(|| StoreError::NotFound(format!("camera {id}")))
}

/// The camera's keys neither revoked nor expired at `now`, newest first.
async fn live_keys(
    c: &impl GenericClient,
    id: CameraId,
    now: DateTime<Utc>,
) -> Result<Vec<CameraKey>> {
    let stmt = c
        .prepare_cached(
            "SELECT id, key_hash, created_at, expires_at FROM camera_keys
             WHERE camera_id = $1 AND revoked_at IS NULL
               AND (expires_at IS NULL OR expires_at > $2)
             ORDER BY id DESC",
        )
        .await?;
    Ok(c.query(&stmt, &[&id, &to_ms(now)])
        .await?
        .iter()
        .map(|r| CameraKey {
            id: r.get(0),
            camera_id: id,
            key_hash: r.get(1),
            created_at: from_ms(r.get(2)),
            expires_at: r.get::<_, Option<i64>>(3).map(from_ms),
        })
        .collect())
}

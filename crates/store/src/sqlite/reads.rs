//! Storing plate reads, fetching one, legal holds and retention.

use super::{from_ms, to_ms, Catalog, Inner, SqliteStore};
use crate::{PurgeBatch, Result, StoreError, StoreStats};
use anpr_domain::{BoundingBox, ImageHash, NormalisedPlate, PlateRead, ReadId};
use chrono::{DateTime, Duration, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection, OptionalExtension, Row};
use std::rc::Rc;

/// Columns selected for a [`PlateRead`], in the order [`read_from_row`] expects.
pub(super) const READ_COLUMNS: &str = "r.id, r.camera_id, r.captured_at, r.received_at, \
    r.plate_raw, p.plate, r.confidence, r.box_x, r.box_y, r.box_w, r.box_h, r.make, r.colour, \
    r.overview_sha, r.plate_sha, r.legal_hold";

pub(super) fn read_from_row(row: &Row<'_>, catalog: &Catalog) -> rusqlite::Result<PlateRead> {
    let camera_id: i64 = row.get(1)?;
    let site = catalog.site_of_camera(camera_id);
    let plate: String = row.get(5)?;
    let plate = NormalisedPlate::parse(&plate).map_err(|e| {
        rusqlite::Error::FromSqlConversionFailure(5, rusqlite::types::Type::Text, Box::new(e))
    })?;
    let bbox = match (row.get(7)?, row.get(8)?, row.get(9)?, row.get(10)?) {
        (Some(x), Some(y), Some(width), Some(height)) => Some(BoundingBox {
            x,
            y,
            width,
            height,
        }),
        _ => None,
    };
    let sha = |i: usize| -> rusqlite::Result<Option<ImageHash>> {
        Ok(row
            .get::<_, Option<Vec<u8>>>(i)?
            .map(|b| ImageHash(hex::encode(b))))
    };
    Ok(PlateRead {
        id: row.get(0)?,
        camera_id,
        site_id: site.map(|s| s.id).unwrap_or_default(),
        network_id: site.map(|s| s.network_id).unwrap_or_default(),
        captured_at: from_ms(row.get(2)?),
        received_at: from_ms(row.get(3)?),
        plate_raw: row.get(4)?,
        plate_format: plate.format(),
        plate,
        confidence: row.get::<_, f64>(6)? as f32,
        plate_box: bbox,
        vehicle_make: row.get(11)?,
        vehicle_colour: row.get(12)?,
        overview_image: sha(13)?,
        plate_image: sha(14)?,
        legal_hold: row.get(15)?,
    })
}

/// The overview and plate-crop hashes of a deleted read.
type ImagePair = (Option<Vec<u8>>, Option<Vec<u8>>);

impl Inner {
    fn read(&self, id: ReadId) -> Result<Option<PlateRead>> {
        let catalog = self.catalog().clone();
        self.with_reader(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {READ_COLUMNS} FROM reads r JOIN plates p ON p.id = r.plate_id
                     WHERE r.id = ?1"
                ))?
                .query_row([id], |row| read_from_row(row, &catalog))
                .optional()?)
        })
    }

    fn set_legal_hold(&self, id: ReadId, hold: bool) -> Result<()> {
        self.with_writer(|conn| {
            let n = conn.execute(
                "UPDATE reads SET legal_hold = ?2 WHERE id = ?1",
                params![id, hold],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound(format!("read {id}")));
            }
            Ok(())
        })
    }

    /// Camera ids per network with that network's retention cut-off.
    fn retention_cutoffs(&self, now: DateTime<Utc>) -> Vec<(Rc<Vec<Value>>, i64)> {
        let catalog = self.catalog();
        catalog
            .networks
            .iter()
            .map(|n| {
                let cams: Vec<Value> = catalog
                    .cameras
                    .iter()
                    .filter(|c| {
                        catalog
                            .sites
                            .iter()
                            .any(|s| s.id == c.site_id && s.network_id == n.id)
                    })
                    .map(|c| Value::Integer(c.id))
                    .collect();
                let cutoff = now - Duration::days(n.retention_days as i64);
                (Rc::new(cams), to_ms(cutoff))
            })
            .collect()
    }

    fn purge_expired(&self, now: DateTime<Utc>, batch: usize) -> Result<PurgeBatch> {
        let cutoffs = self.retention_cutoffs(now);
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            let mut out = PurgeBatch::default();
            let mut remaining = batch as i64;
            {
                let mut delete = tx.prepare_cached(
                    "DELETE FROM reads WHERE id IN (
                        SELECT id FROM reads INDEXED BY reads_camera_time
                        WHERE camera_id IN rarray(?1) AND captured_at < ?2 AND legal_hold = 0
                        LIMIT ?3)
                     RETURNING overview_sha, plate_sha",
                )?;
                let mut release = tx.prepare_cached(
                    "UPDATE images SET refs = refs - 1 WHERE sha = ?1 RETURNING refs",
                )?;
                let mut drop_image = tx.prepare_cached("DELETE FROM images WHERE sha = ?1")?;
                for (cams, cutoff) in cutoffs {
                    if remaining <= 0 {
                        break;
                    }
                    let shas: Vec<ImagePair> = delete
                        .query_map(params![cams, cutoff, remaining], |r| {
                            Ok((r.get(0)?, r.get(1)?))
                        })?
                        .collect::<rusqlite::Result<_>>()?;
                    remaining -= shas.len() as i64;
                    out.report.reads_deleted += shas.len() as u64;
                    for sha in shas.into_iter().flat_map(|(a, b)| [a, b]).flatten() {
                        let refs: Option<i64> =
                            release.query_row([&sha], |r| r.get(0)).optional()?;
                        if refs.is_some_and(|n| n <= 0) {
                            drop_image.execute([&sha])?;
                            out.freed_images.push(ImageHash(hex::encode(&sha)));
                        }
                    }
                }
            }
            tx.commit()?;
            out.report.images_deleted = out.freed_images.len() as u64;
            Ok(out)
        })
    }

    fn reads_on_hold_past_retention(&self, now: DateTime<Utc>) -> Result<u64> {
        let cutoffs = self.retention_cutoffs(now);
        self.with_reader(|conn| {
            let mut total = 0u64;
            let mut stmt = conn.prepare_cached(
                "SELECT count(*) FROM reads INDEXED BY reads_camera_time
                 WHERE camera_id IN rarray(?1) AND captured_at < ?2 AND legal_hold = 1",
            )?;
            for (cams, cutoff) in cutoffs {
                total += stmt.query_row(params![cams, cutoff], |r| r.get::<_, i64>(0))? as u64;
            }
            Ok(total)
        })
    }

    fn stats(&self) -> Result<StoreStats> {
        let cameras = self.catalog().cameras.len() as u64;
        let distinct_plates = self.dictionary.len() as u64;
        self.with_reader(|conn: &Connection| {
            let reads: i64 = conn.query_row("SELECT count(*) FROM reads", [], |r| r.get(0))?;
            let images: i64 = conn.query_row("SELECT count(*) FROM images", [], |r| r.get(0))?;
            Ok(StoreStats {
                reads: reads as u64,
                distinct_plates,
                images: images as u64,
                cameras,
            })
        })
    }
}

impl SqliteStore {
    pub(crate) async fn read_impl(&self, id: ReadId) -> Result<Option<PlateRead>> {
        self.blocking(move |inner| inner.read(id)).await
    }

    pub(crate) async fn set_legal_hold_impl(&self, id: ReadId, hold: bool) -> Result<()> {
        self.blocking(move |inner| inner.set_legal_hold(id, hold))
            .await
    }

    pub(crate) async fn purge_expired_impl(
        &self,
        now: DateTime<Utc>,
        batch: usize,
    ) -> Result<PurgeBatch> {
        self.blocking(move |inner| inner.purge_expired(now, batch))
            .await
    }

    pub(crate) async fn reads_on_hold_impl(&self, now: DateTime<Utc>) -> Result<u64> {
        self.blocking(move |inner| inner.reads_on_hold_past_retention(now))
            .await
    }

    pub(crate) async fn stats_impl(&self) -> Result<StoreStats> {
        self.blocking(|inner| inner.stats()).await
    }
}

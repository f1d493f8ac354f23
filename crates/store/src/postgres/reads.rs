//! Storing plate reads (binary `COPY` into the partitions by capture day), fetching one, legal holds,
//! retention (whole partitions dropped where possible, rows deleted otherwise) and counts.

use super::partitions::{partition_name, PARTITION_DAYS};
use super::{is_unique_violation, locks, Client, Inner, PgStore};
use crate::shared::{day_of, from_ms, to_ms, Catalog, DAY_MS};
use crate::{InsertOutcome, PurgeBatch, Result, StoreError, StoreStats};
use anpr_domain::{BoundingBox, ImageHash, NewRead, NormalisedPlate, PlateRead, ReadId};
use chrono::{DateTime, Duration, Utc};
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use tokio_postgres::Row;

/// Columns selected for a [`PlateRead`], in the order [`read_from_row`] expects.
pub(super) const READ_COLUMNS: &str = "r.id, r.camera_id, r.captured_at, r.received_at, \
    r.plate_raw, p.plate, r.confidence, r.box_x, r.box_y, r.box_w, r.box_h, r.make, r.colour, \
    r.overview_sha, r.plate_sha, r.legal_hold";

/// Times a batch is retried when another process stored one of its retried reads meanwhile.
const DUPLICATE_RETRIES: usize = 3;

pub(super) fn read_from_row(row: &Row, catalog: &Catalog) -> Result<PlateRead> {
    let camera_id: i64 = row.try_get(1)?;
    let site = catalog.site_of_camera(camera_id);
    let plate: String = row.try_get(5)?;
    let plate = NormalisedPlate::parse(&plate)
        .map_err(|e| StoreError::Schema(format!("stored plate {plate:?}: {e}")))?;
    let bbox = match (
        row.try_get::<_, Option<i64>>(7)?,
        row.try_get::<_, Option<i64>>(8)?,
        row.try_get::<_, Option<i64>>(9)?,
        row.try_get::<_, Option<i64>>(10)?,
    ) {
        (Some(x), Some(y), Some(width), Some(height)) => Some(BoundingBox {
            x: x as u32,
            y: y as u32,
            width: width as u32,
            height: height as u32,
        }),
        _ => None,
    };
    let sha = |i: usize| -> Result<Option<ImageHash>> {
        Ok(row
            .try_get::<_, Option<Vec<u8>>>(i)?
            .map(|b| ImageHash(hex::encode(b))))
    };
    Ok(PlateRead {
        id: row.try_get(0)?,
        camera_id,
        site_id: site.map(|s| s.id).unwrap_or_default(),
        network_id: site.map(|s| s.network_id).unwrap_or_default(),
        captured_at: from_ms(row.try_get(2)?),
        received_at: from_ms(row.try_get(3)?),
        plate_raw: row.try_get(4)?,
        plate_format: plate.format(),
        plate,
        confidence: row.try_get(6)?,
        plate_box: bbox,
        vehicle_make: row.try_get(11)?,
        vehicle_colour: row.try_get(12)?,
        overview_image: sha(13)?,
        plate_image: sha(14)?,
        legal_hold: row.try_get(15)?,
    })
}

fn sha_bytes(h: &Option<ImageHash>) -> Option<Vec<u8>> {
    h.as_ref().and_then(|h| hex::decode(h.as_str()).ok())
}

/// The COPY column list and its binary types, in the order rows are written.
const COPY_READS: &str = "COPY reads (id, plate_id, camera_id, day, captured_at, received_at, \
    plate_raw, confidence, box_x, box_y, box_w, box_h, make, colour, overview_sha, plate_sha, \
    external_id) FROM STDIN (FORMAT binary)";
const COPY_TYPES: [Type; 17] = [
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT4,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::FLOAT4,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::INT8,
    Type::TEXT,
    Type::TEXT,
    Type::BYTEA,
    Type::BYTEA,
    Type::TEXT,
];

/// A retried read's key: the camera's own id for it, on its capture day.
type ExternalKey = (i64, i32, String);

impl Inner {
    /// Plate ids for every plate in `plates`, storing the new ones. New plates are committed
    /// on their own, under a lock, so plate ids commit in order (a plate without reads matches
    /// nothing, so committing it before its reads is harmless).
    async fn plate_ids(&self, plates: &BTreeSet<&str>) -> Result<HashMap<String, i64>> {
        let mut ids = HashMap::with_capacity(plates.len());
        let mut unknown: Vec<&str> = Vec::new();
        for p in plates {
            match self.dictionary.get(p) {
                Some(id) => {
                    ids.insert(p.to_string(), id);
                }
                None => unknown.push(p),
            }
        }
        if unknown.is_empty() {
            return Ok(ids);
        }
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::PLATES])
            .await?;
        // Learn what other processes added first, so that the ids learnt below are the newest.
        let known = self.dictionary.max_id();
        let others: Vec<(String, i64)> = tx
            .query(super::PLATES_AFTER, &[&known])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        let stmt = tx
            .prepare_cached(
                "INSERT INTO plates (plate) SELECT * FROM unnest($1::text[])
                 ON CONFLICT (plate) DO UPDATE SET plate = EXCLUDED.plate RETURNING plate, id",
            )
            .await?;
        let ours: Vec<(String, i64)> = tx
            .query(&stmt, &[&unknown])
            .await?
            .iter()
            .map(|r| (r.get(0), r.get(1)))
            .collect();
        tx.commit().await?;
        ids.extend(ours.iter().cloned());
        let rebuild = self
            .dictionary
            .insert_committed(others.into_iter().chain(ours));
        if rebuild {
            let dictionary = self.dictionary.clone();
            std::thread::spawn(move || dictionary.rebuild());
        }
        Ok(ids)
    }

    async fn insert_reads(&self, reads: Vec<NewRead>) -> Result<Vec<InsertOutcome>> {
        for (i, r) in reads.iter().enumerate() {
            if !self.knows_camera(r.camera_id).await? {
                return Err(StoreError::NotFound(format!(
                    "reads[{i}].camera_id: camera {}",
                    r.camera_id
                )));
            }
        }
        if reads.is_empty() {
            return Ok(Vec::new());
        }
        let plates: BTreeSet<&str> = reads.iter().map(|r| r.plate.as_str()).collect();
        let plate_ids = self.plate_ids(&plates).await?;
        let days: Vec<i32> = reads
            .iter()
            .map(|r| day_of(to_ms(r.captured_at)) as i32)
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let mut client = self.client().await?;
        self.ensure_days(&mut client, &days).await?;
        let mut attempt = 0;
        loop {
            match self.store_batch(&mut client, &reads, &plate_ids).await {
                Err(StoreError::Postgres(e))
                    if is_unique_violation(&e) && attempt < DUPLICATE_RETRIES =>
                {
                    // Another process stored one of these retried reads meanwhile: the next
                    // attempt finds it and reports it as a duplicate.
                    attempt += 1;
                }
                other => return other,
            }
        }
    }

    /// One transaction: find the retried reads already stored, COPY the others in, count their
    /// image references.
    async fn store_batch(
        &self,
        client: &mut Client,
        reads: &[NewRead],
        plate_ids: &HashMap<String, i64>,
    ) -> Result<Vec<InsertOutcome>> {
        let received_at = to_ms(Utc::now());
        let tx = client.transaction().await?;
        let existing = existing_external(&tx, reads, plate_ids).await?;
        // Outcome per read: an id already stored, or the index of a new row.
        let mut seen: HashMap<ExternalKey, i64> = existing;
        let mut fresh: Vec<usize> = Vec::with_capacity(reads.len());
        let mut outcomes: Vec<Option<InsertOutcome>> = vec![None; reads.len()];
        let ids_stmt = tx
            .prepare_cached("SELECT nextval('reads_id_seq') FROM generate_series(1, $1::bigint)")
            .await?;
        let new_ids: Vec<i64> = tx
            .query(&ids_stmt, &[&(reads.len() as i64)])
            .await?
            .iter()
            .map(|r| r.get(0))
            .collect();
        let mut next_id = new_ids.into_iter();
        for (i, r) in reads.iter().enumerate() {
            if let Some(ext) = &r.external_id {
                let key = (
                    r.camera_id,
                    day_of(to_ms(r.captured_at)) as i32,
                    ext.clone(),
                );
                if let Some(id) = seen.get(&key) {
                    outcomes[i] = Some(InsertOutcome {
                        id: *id,
                        duplicate: true,
                    });
                    continue;
                }
                let id = next_id.next().expect("one id per read");
                seen.insert(key, id);
                outcomes[i] = Some(InsertOutcome {
                    id,
                    duplicate: false,
                });
            } else {
                outcomes[i] = Some(InsertOutcome {
                    id: next_id.next().expect("one id per read"),
                    duplicate: false,
                });
            }
            fresh.push(i);
        }

        let mut image_refs: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
        let sink = tx.copy_in(COPY_READS).await?;
        let writer = BinaryCopyInWriter::new(sink, &COPY_TYPES);
        let mut writer = std::pin::pin!(writer);
        for &i in &fresh {
            let r = &reads[i];
            let id = outcomes[i].expect("set above").id;
            let captured = to_ms(r.captured_at);
            let day = day_of(captured) as i32;
            let plate_id = plate_ids[r.plate.as_str()];
            let b = r.plate_box;
            let (bx, by, bw, bh) = (
                b.map(|b| b.x as i64),
                b.map(|b| b.y as i64),
                b.map(|b| b.width as i64),
                b.map(|b| b.height as i64),
            );
            let overview = sha_bytes(&r.overview_image);
            let crop = sha_bytes(&r.plate_image);
            for sha in [&overview, &crop].into_iter().flatten() {
                *image_refs.entry(sha.clone()).or_default() += 1;
            }
            let row: [&(dyn ToSql + Sync); 17] = [
                &id,
                &plate_id,
                &r.camera_id,
                &day,
                &captured,
                &received_at,
                &r.plate_raw,
                &r.confidence,
                &bx,
                &by,
                &bw,
                &bh,
                &r.vehicle_make,
                &r.vehicle_colour,
                &overview,
                &crop,
                &r.external_id,
            ];
            writer.as_mut().write(&row).await?;
        }
        writer.finish().await?;
        if !image_refs.is_empty() {
            // Sorted by hash, so concurrent batches lock shared images in one order.
            let (shas, counts): (Vec<Vec<u8>>, Vec<i64>) = image_refs.into_iter().unzip();
            let stmt = tx
                .prepare_cached(
                    "INSERT INTO images (sha, refs)
                     SELECT * FROM unnest($1::bytea[], $2::bigint[])
                     ON CONFLICT (sha) DO UPDATE SET refs = images.refs + EXCLUDED.refs",
                )
                .await?;
            tx.execute(&stmt, &[&shas, &counts]).await?;
        }
        tx.commit().await?;
        Ok(outcomes
            .into_iter()
            .map(|o| o.expect("set above"))
            .collect())
    }

    async fn read(&self, id: ReadId) -> Result<Option<PlateRead>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {READ_COLUMNS} FROM reads r JOIN plates p ON p.id = r.plate_id
                 WHERE r.id = $1"
            ))
            .await?;
        let row = client.query_opt(&stmt, &[&id]).await?;
        let catalog = self.catalog().clone();
        row.map(|r| read_from_row(&r, &catalog)).transpose()
    }

    /// Camera ids per network with that network's retention cut-off (ms), and the cut-off of
    /// the longest retention (before it, every read is past every network's retention).
    fn retention_cutoffs(&self, now: DateTime<Utc>) -> (Vec<(Vec<i64>, i64)>, Option<i64>) {
        let catalog = self.catalog();
        let per_network: Vec<(Vec<i64>, i64)> = catalog
            .networks
            .iter()
            .map(|n| {
                let cutoff = now - Duration::days(n.retention_days as i64);
                (catalog.cameras_of_network(n.id), to_ms(cutoff))
            })
            .collect();
        let all = per_network.iter().map(|(_, c)| *c).min();
        (per_network, all)
    }

    async fn purge_expired(&self, now: DateTime<Utc>, batch: usize) -> Result<PurgeBatch> {
        self.reload_catalog().await?;
        // A hold may have been lifted since the last purge.
        self.held_partitions.lock().expect("held lock").clear();
        let (cutoffs, all_expired_before) = self.retention_cutoffs(now);
        let mut client = self.client().await?;
        let mut out = PurgeBatch::default();
        if let Some(before) = all_expired_before {
            // Whole days first: dropping a partition costs the same whatever it holds.
            while let Some(dropped) = self.drop_expired_partition(&mut client, before).await? {
                out.report.reads_deleted += dropped.report.reads_deleted;
                out.freed_images.extend(dropped.freed_images);
            }
        }
        let tx = client.transaction().await?;
        let delete = tx
            .prepare_cached(
                "WITH victims AS (
                    SELECT id, day FROM reads
                    WHERE day <= $3 AND camera_id = ANY($1) AND captured_at < $2
                      AND NOT legal_hold
                    LIMIT $4)
                 DELETE FROM reads r USING victims v WHERE r.day = v.day AND r.id = v.id
                 RETURNING r.overview_sha, r.plate_sha",
            )
            .await?;
        let mut remaining = batch as i64;
        let mut released: BTreeMap<Vec<u8>, i64> = BTreeMap::new();
        for (cams, cutoff) in cutoffs {
            if remaining <= 0 {
                break;
            }
            let last_day = day_of(cutoff) as i32;
            let rows = tx
                .query(&delete, &[&cams, &cutoff, &last_day, &remaining])
                .await?;
            remaining -= rows.len() as i64;
            out.report.reads_deleted += rows.len() as u64;
            for r in &rows {
                for i in 0..2 {
                    if let Some(sha) = r.get::<_, Option<Vec<u8>>>(i) {
                        *released.entry(sha).or_default() += 1;
                    }
                }
            }
        }
        out.freed_images
            .extend(release_images(&tx, released).await?);
        tx.commit().await?;
        out.report.images_deleted = out.freed_images.len() as u64;
        Ok(out)
    }

    /// Drops the oldest partition whose every read is past every network's retention
    /// (`before`, ms) if none of its reads is on legal hold; its images are released first.
    async fn drop_expired_partition(
        &self,
        client: &mut Client,
        before: i64,
    ) -> Result<Option<PurgeBatch>> {
        let starts = self.partition_starts(client).await?;
        for start in starts {
            if self
                .held_partitions
                .lock()
                .expect("held lock")
                .contains(&start)
            {
                continue;
            }
            if (start + PARTITION_DAYS) as i64 * DAY_MS > before {
                break;
            }
            let table = partition_name(start);
            let tx = client.transaction().await?;
            tx.execute("SELECT pg_advisory_xact_lock($1)", &[&locks::SCHEMA])
                .await?;
            // Another process's purge may have dropped it while we waited for the lock.
            let exists: bool = tx
                .query_one("SELECT to_regclass($1) IS NOT NULL", &[&table])
                .await?
                .get(0);
            if !exists {
                continue;
            }
            let held: bool = tx
                .query_one(
                    &format!("SELECT EXISTS (SELECT 1 FROM {table} WHERE legal_hold)"),
                    &[],
                )
                .await?
                .get(0);
            if held {
                // Its rows are deleted one by one, the held ones kept; not asked again in this
                // purge.
                self.held_partitions
                    .lock()
                    .expect("held lock")
                    .insert(start);
                continue;
            }
            let rows = tx
                .query(
                    &format!(
                        "SELECT sha, count(*) FROM (
                            SELECT overview_sha AS sha FROM {table}
                            UNION ALL SELECT plate_sha FROM {table}) s
                         WHERE sha IS NOT NULL GROUP BY sha"
                    ),
                    &[],
                )
                .await?;
            let released: BTreeMap<Vec<u8>, i64> =
                rows.iter().map(|r| (r.get(0), r.get(1))).collect();
            let reads: i64 = tx
                .query_one(&format!("SELECT count(*) FROM {table}"), &[])
                .await?
                .get(0);
            let freed = release_images(&tx, released).await?;
            tx.batch_execute(&format!("DROP TABLE {table}")).await?;
            tx.commit().await?;
            self.partitions
                .lock()
                .expect("partitions lock")
                .remove(&start);
            let mut out = PurgeBatch {
                freed_images: freed,
                ..Default::default()
            };
            out.report.reads_deleted = reads as u64;
            out.report.images_deleted = out.freed_images.len() as u64;
            tracing::info!(start, reads, "dropped an expired reads partition");
            return Ok(Some(out));
        }
        Ok(None)
    }

    async fn reads_on_hold_past_retention(&self, now: DateTime<Utc>) -> Result<u64> {
        self.reload_catalog().await?;
        let (cutoffs, _) = self.retention_cutoffs(now);
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT count(*) FROM reads
                 WHERE legal_hold AND camera_id = ANY($1) AND captured_at < $2",
            )
            .await?;
        let mut total = 0u64;
        for (cams, cutoff) in cutoffs {
            total += client
                .query_one(&stmt, &[&cams, &cutoff])
                .await?
                .get::<_, i64>(0) as u64;
        }
        Ok(total)
    }
}

/// Releases one reference per count from each image; returns the images no read refers to any
/// more (deleted from `images`; the caller deletes their files once this commits).
async fn release_images(
    tx: &deadpool_postgres::Transaction<'_>,
    released: BTreeMap<Vec<u8>, i64>,
) -> Result<Vec<ImageHash>> {
    if released.is_empty() {
        return Ok(Vec::new());
    }
    let (shas, counts): (Vec<Vec<u8>>, Vec<i64>) = released.into_iter().unzip();
    tx.execute(
        "UPDATE images i SET refs = i.refs - d.n
         FROM unnest($1::bytea[], $2::bigint[]) AS d(sha, n) WHERE i.sha = d.sha",
        &[&shas, &counts],
    )
    .await?;
    let freed = tx
        .query(
            "DELETE FROM images WHERE sha = ANY($1) AND refs <= 0 RETURNING sha",
            &[&shas],
        )
        .await?;
    let mut out: Vec<ImageHash> = freed
        .iter()
        .map(|r| ImageHash(hex::encode(r.get::<_, Vec<u8>>(0))))
        .collect();
    out.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(out)
}

/// The retried reads of a batch that are already stored, by key.
async fn existing_external(
    tx: &deadpool_postgres::Transaction<'_>,
    reads: &[NewRead],
    plate_ids: &HashMap<String, i64>,
) -> Result<HashMap<ExternalKey, i64>> {
    let mut plates: Vec<i64> = Vec::new();
    let mut days: Vec<i32> = Vec::new();
    let mut cameras: Vec<i64> = Vec::new();
    let mut externals: Vec<&str> = Vec::new();
    for r in reads {
        if let Some(ext) = &r.external_id {
            plates.push(plate_ids[r.plate.as_str()]);
            days.push(day_of(to_ms(r.captured_at)) as i32);
            cameras.push(r.camera_id);
            externals.push(ext);
        }
    }
    if externals.is_empty() {
        return Ok(HashMap::new());
    }
    // One probe of the unique index per key, in the one partition of its day (pruned at run
    // time from the joined key); a filter on the arrays alone is planned as a scan.
    let stmt = tx
        .prepare_cached(
            "SELECT r.id, r.camera_id, r.day, r.external_id
             FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[])
                 AS k(plate_id, day, camera_id, external_id)
             JOIN reads r ON r.plate_id = k.plate_id AND r.day = k.day
                 AND r.camera_id = k.camera_id AND r.external_id = k.external_id",
        )
        .await?;
    Ok(tx
        .query(&stmt, &[&plates, &days, &cameras, &externals])
        .await?
        .iter()
        .map(|r| ((r.get(1), r.get(2), r.get(3)), r.get(0)))
        .collect())
}

impl PgStore {
    pub(crate) async fn insert_reads_impl(
        &self,
        reads: Vec<NewRead>,
    ) -> Result<Vec<InsertOutcome>> {
        self.inner.insert_reads(reads).await
    }

    pub(crate) async fn read_impl(&self, id: ReadId) -> Result<Option<PlateRead>> {
        self.inner.read(id).await
    }

    pub(crate) async fn set_legal_hold_impl(&self, id: ReadId, hold: bool) -> Result<()> {
        let client = self.inner.client().await?;
        let n = client
            .execute(
                "UPDATE reads SET legal_hold = $2 WHERE id = $1",
                &[&id, &hold],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::NotFound(format!("read {id}")));
        }
        Ok(())
    }

    pub(crate) async fn purge_expired_impl(
        &self,
        now: DateTime<Utc>,
        batch: usize,
    ) -> Result<PurgeBatch> {
        self.inner.purge_expired(now, batch).await
    }

    pub(crate) async fn reads_on_hold_impl(&self, now: DateTime<Utc>) -> Result<u64> {
        self.inner.reads_on_hold_past_retention(now).await
    }

    pub(crate) async fn stats_impl(&self) -> Result<StoreStats> {
        self.inner.reload_catalog().await?;
        self.inner.refresh_dictionary().await?;
        let client = self.inner.client().await?;
        let reads: i64 = client
            .query_one("SELECT count(*) FROM reads", &[])
            .await?
            .get(0);
        let images: i64 = client
            .query_one("SELECT count(*) FROM images", &[])
            .await?
            .get(0);
        Ok(StoreStats {
            reads: reads as u64,
            distinct_plates: self.inner.dictionary.len() as u64,
            images: images as u64,
            cameras: self.inner.catalog().cameras.len() as u64,
        })
    }

    /// The handle the synchronous callers share.
    pub(crate) fn inner(&self) -> &Arc<Inner> {
        &self.inner
    }
}

//! Storing batches of reads with group commit.
//!
//! Each commit costs an fsync and, above all, rewrites every index page it touched. Concurrent
//! ingest requests therefore join one transaction: the first to take the writer becomes the
//! leader, stores every batch queued meanwhile (each under its own savepoint, so one bad batch
//! fails alone), commits once, and hands each batch its outcome. Reads are indexed by capture
//! day first (`reads_day_plate`), so a day's inserts land in one small, hot region of the index
//! rather than all over it.

use super::{day_of, to_ms, Inner, SqliteStore};
use crate::{InsertOutcome, Result, StoreError};
use anpr_domain::{ImageHash, NewRead};
use chrono::Utc;
use rusqlite::{params, Connection};
use std::collections::HashMap;
use std::sync::mpsc;

/// Most reads one group commit takes. A bigger group holds the writer for longer, and a live
/// read that arrives meanwhile waits for it to commit.
const MAX_GROUP_READS: usize = 2_000;

/// Which queue a batch waits in for the writer.
#[derive(Clone, Copy, PartialEq, Eq, Debug)]
pub(crate) enum Lane {
    /// Reads that may raise an alert: the next group commit takes these first, on their own.
    Live,
    /// Everything else, in arrival order.
    Bulk,
}

pub(crate) struct PendingBatch {
    reads: Vec<NewRead>,
    lane: Lane,
    reply: mpsc::Sender<Result<Vec<InsertOutcome>>>,
}

fn sha_bytes(h: &Option<ImageHash>) -> Option<Vec<u8>> {
    h.as_ref().and_then(|h| hex::decode(h.as_str()).ok())
}

impl Inner {
    fn insert_reads(&self, reads: Vec<NewRead>, lane: Lane) -> Result<Vec<InsertOutcome>> {
        for (i, r) in reads.iter().enumerate() {
            if !self.knows_camera(r.camera_id)? {
                return Err(StoreError::NotFound(format!(
                    "reads[{i}].camera_id: camera {}",
                    r.camera_id
                )));
            }
        }
        let (reply, outcome) = mpsc::channel();
        self.pending
            .lock()
            .expect("pending lock")
            .push(PendingBatch { reads, lane, reply });
        // Whoever holds the writer next stores everything queued, ours included; if a leader
        // took ours already, the queue we drain may be empty and we only wait for the answer.
        self.with_writer(|conn| {
            loop {
                let group = self.take_group();
                if group.is_empty() {
                    break;
                }
                self.commit_group(conn, group);
            }
            Ok(())
        })?;
        outcome
            .recv()
            .map_err(|_| StoreError::Task("group commit ended without an answer".into()))?
    }

    /// The next group to commit: the live batches waiting, if any, on their own (a small
    /// commit, so an alert waits only for the group being committed); otherwise bulk batches
    /// in arrival order, up to [`MAX_GROUP_READS`].
    fn take_group(&self) -> Vec<PendingBatch> {
        let mut pending = self.pending.lock().expect("pending lock");
        if pending.iter().any(|b| b.lane == Lane::Live) {
            let (live, bulk): (Vec<_>, Vec<_>) =
                pending.drain(..).partition(|b| b.lane == Lane::Live);
            *pending = bulk;
            return live;
        }
        let mut size = 0;
        let mut n = 0;
        while n < pending.len() && (n == 0 || size + pending[n].reads.len() <= MAX_GROUP_READS) {
            size += pending[n].reads.len();
            n += 1;
        }
        pending.drain(..n).collect()
    }

    /// Whether a live batch waits for the writer.
    fn live_waiting(&self) -> bool {
        let pending = self.pending.lock().expect("pending lock");
        pending.iter().any(|b| b.lane == Lane::Live)
    }

    /// Puts batches a group left for later back at the head of the queue, in their order.
    fn requeue_first(&self, batches: Vec<PendingBatch>) {
        let mut pending = self.pending.lock().expect("pending lock");
        pending.splice(0..0, batches);
    }

    fn commit_group(&self, conn: &mut rusqlite::Connection, mut group: Vec<PendingBatch>) {
        let received_at = to_ms(Utc::now());
        let mut results: Vec<Result<Vec<InsertOutcome>>> = Vec::with_capacity(group.len());
        let mut new_plates: HashMap<String, i64> = HashMap::new();
        let mut left_for_live = None;
        let committed = (|| -> Result<()> {
            let mut tx = conn.transaction()?;
            for (i, batch) in group.iter().enumerate() {
                // A live read arrived while this group was being stored: commit what is stored
                // so far, so that it waits for one batch rather than the whole group.
                if i > 0 && batch.lane == Lane::Bulk && self.live_waiting() {
                    left_for_live = Some(i);
                    break;
                }
                let mut batch_plates = HashMap::new();
                let sp = tx.savepoint()?;
                let outcome = self.insert_batch(
                    &sp,
                    &batch.reads,
                    received_at,
                    &new_plates,
                    &mut batch_plates,
                );
                match outcome {
                    Ok(o) => {
                        sp.commit()?;
                        new_plates.extend(batch_plates);
                        results.push(Ok(o));
                    }
                    Err(e) => {
                        drop(sp); // rolls back this batch only
                        results.push(Err(e));
                    }
                }
            }
            tx.commit()?;
            Ok(())
        })();
        if let Some(i) = left_for_live {
            self.requeue_first(group.split_off(i));
        }
        match committed {
            Ok(()) => {
                // Only now that the plates are durable may searches see them.
                if !new_plates.is_empty() && self.dictionary.insert_committed(new_plates) {
                    let dictionary = self.dictionary.clone();
                    std::thread::spawn(move || dictionary.rebuild());
                }
                for (batch, result) in group.into_iter().zip(results) {
                    let _ = batch.reply.send(result);
                }
            }
            Err(e) => {
                let message = e.to_string();
                for batch in group {
                    let _ = batch
                        .reply
                        .send(Err(StoreError::Task(format!("commit failed: {message}"))));
                }
            }
        }
    }

    fn insert_batch(
        &self,
        tx: &Connection,
        reads: &[NewRead],
        received_at: i64,
        group_plates: &HashMap<String, i64>,
        batch_plates: &mut HashMap<String, i64>,
    ) -> Result<Vec<InsertOutcome>> {
        let mut outcomes = Vec::with_capacity(reads.len());
        // Another process (an import, a second server) may have added the plate since this
        // dictionary last looked, so insert-or-find rather than insert.
        let mut insert_plate = tx.prepare_cached(
            "INSERT INTO plates (plate) VALUES (?1)
             ON CONFLICT (plate) DO UPDATE SET plate = excluded.plate RETURNING id",
        )?;
        let mut insert_read = tx.prepare_cached(
            "INSERT INTO reads (plate_id, camera_id, day, captured_at, received_at, plate_raw,
                confidence, box_x, box_y, box_w, box_h, make, colour, overview_sha,
                plate_sha, external_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16)
             ON CONFLICT (camera_id, day, external_id) WHERE external_id IS NOT NULL
             DO NOTHING",
        )?;
        let mut existing = tx.prepare_cached(
            "SELECT id FROM reads WHERE camera_id = ?1 AND day = ?2 AND external_id = ?3",
        )?;
        let mut add_image_ref = tx.prepare_cached(
            "INSERT INTO images (sha, refs) VALUES (?1, 1)
             ON CONFLICT (sha) DO UPDATE SET refs = refs + 1",
        )?;
        for read in reads {
            let plate = read.plate.as_str();
            let known = self
                .dictionary
                .get(plate)
                .or_else(|| group_plates.get(plate).copied())
                .or_else(|| batch_plates.get(plate).copied());
            let plate_id = match known {
                Some(id) => id,
                None => {
                    let id: i64 = insert_plate.query_row([plate], |r| r.get(0))?;
                    batch_plates.insert(plate.to_string(), id);
                    id
                }
            };
            let bbox = read.plate_box;
            let overview = sha_bytes(&read.overview_image);
            let crop = sha_bytes(&read.plate_image);
            let captured = to_ms(read.captured_at);
            let inserted = insert_read.execute(params![
                plate_id,
                read.camera_id,
                day_of(captured),
                captured,
                received_at,
                read.plate_raw,
                read.confidence as f64,
                bbox.map(|b| b.x),
                bbox.map(|b| b.y),
                bbox.map(|b| b.width),
                bbox.map(|b| b.height),
                read.vehicle_make,
                read.vehicle_colour,
                overview,
                crop,
                read.external_id,
            ])?;
            if inserted == 0 {
                let id: i64 = existing.query_row(
                    params![read.camera_id, day_of(captured), read.external_id],
                    |r| r.get(0),
                )?;
                outcomes.push(InsertOutcome {
                    id,
                    duplicate: true,
                });
                continue;
            }
            outcomes.push(InsertOutcome {
                id: tx.last_insert_rowid(),
                duplicate: false,
            });
            for sha in [overview, crop].into_iter().flatten() {
                add_image_ref.execute([sha])?;
            }
        }
        Ok(outcomes)
    }
}

impl SqliteStore {
    pub(crate) async fn insert_reads_impl(
        &self,
        reads: Vec<NewRead>,
        lane: Lane,
    ) -> Result<Vec<InsertOutcome>> {
        self.blocking(move |inner| inner.insert_reads(reads, lane))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::NormalisedPlate;

    fn reads(plate: &str, n: usize) -> Vec<NewRead> {
        (0..n)
            .map(|_| NewRead {
                camera_id: 1,
                external_id: None,
                captured_at: Utc::now(),
                plate_raw: plate.into(),
                plate: NormalisedPlate::parse(plate).unwrap(),
                confidence: 0.9,
                plate_box: None,
                vehicle_make: None,
                vehicle_colour: None,
                overview_image: None,
                plate_image: None,
            })
            .collect()
    }

    type Answer = mpsc::Receiver<Result<Vec<InsertOutcome>>>;

    fn queue(inner: &Inner, reads: Vec<NewRead>, lane: Lane) -> Answer {
        let (reply, answer) = mpsc::channel();
        inner
            .pending
            .lock()
            .unwrap()
            .push(PendingBatch { reads, lane, reply });
        answer
    }

    fn ids(answer: &Answer) -> Vec<i64> {
        let outcomes = answer.try_recv().expect("answered").expect("stored");
        outcomes.iter().map(|o| o.id).collect()
    }

    /// A live read that arrives while a group of bulk batches is being stored waits for one
    /// batch, not the whole group: the group commits what it has stored, the live read goes
    /// next in a commit of its own, then the rest of the group, in order, and every batch is
    /// answered once.
    #[test]
    fn a_live_read_cuts_into_a_bulk_group_between_its_batches() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("anpr.sqlite")).unwrap();
        let inner = &store.inner;
        let first = queue(inner, reads("AAA111", 3), Lane::Bulk);
        let second = queue(inner, reads("BBB222", 2), Lane::Bulk);
        inner
            .with_writer(|conn| {
                let group = inner.take_group();
                assert_eq!(group.len(), 2, "both bulk batches in one group");
                let live = queue(inner, reads("CCC333", 1), Lane::Live);
                inner.commit_group(conn, group);
                let first_ids = ids(&first);
                assert_eq!(first_ids.len(), 3);
                assert!(
                    second.try_recv().is_err(),
                    "the second batch was left for later"
                );

                let next = inner.take_group();
                assert_eq!(next.len(), 1);
                assert_eq!(next[0].lane, Lane::Live, "the live read goes next");
                inner.commit_group(conn, next);
                let live_ids = ids(&live);

                let rest = inner.take_group();
                assert_eq!(rest.len(), 1);
                inner.commit_group(conn, rest);
                let second_ids = ids(&second);
                assert_eq!(second_ids.len(), 2);
                assert!(first_ids[2] < live_ids[0] && live_ids[0] < second_ids[0]);
                assert!(inner.take_group().is_empty());
                Ok(())
            })
            .unwrap();
    }
}

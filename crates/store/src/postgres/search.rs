//! Historical search: resolve the plate pattern through the dictionary, then fetch those
//! plates' reads through each partition's `(plate_id, captured_at, id)` index, newest
//! first. One statement shape whatever the filters (absent ones are open bounds), so it is
//! prepared once per connection; partitions outside the days asked for are pruned at run time.

use super::reads::{read_from_row, READ_COLUMNS};
use super::PgStore;
use crate::shared::{day_of, paginate, resolve_plates, to_ms};
use crate::{Result, SearchPage};
use anpr_domain::{ReadId, SearchQuery};
use tokio_postgres::types::ToSql;

/// `$1` plate ids, `$2`..`$3` capture days, `$4`..`$5` capture times (ms, end exclusive),
/// `$6` cameras (NULL: any), `$7`/`$8` cameras whose reads before a time of their own (ms) are
/// left out (their networks' owners' maximum look-back; NULL: none).
const FILTER: &str = "r.plate_id = ANY($1) AND r.day BETWEEN $2 AND $3 \
    AND r.captured_at >= $4 AND r.captured_at < $5 \
    AND ($6::bigint[] IS NULL OR r.camera_id = ANY($6)) \
    AND ($7::bigint[] IS NULL OR NOT EXISTS (SELECT 1 FROM unnest($7::bigint[], $8::bigint[]) \
         AS f(cam, at_ms) WHERE f.cam = r.camera_id AND r.captured_at < f.at_ms))";

impl PgStore {
    pub(crate) async fn search_impl(&self, q: &SearchQuery) -> Result<SearchPage> {
        q.validate()?;
        let inner = self.inner();
        inner.refresh_dictionary().await?;
        let plate_ids = resolve_plates(&inner.dictionary, q)?;
        let catalog = inner.catalog().clone();
        let cameras = catalog.camera_filter(q);
        let empty = SearchPage {
            hits: vec![],
            total: 0,
            next_cursor: None,
            plates_matched: plate_ids.len(),
        };
        if plate_ids.is_empty() || cameras.as_ref().is_some_and(|c| c.is_empty()) {
            return Ok(empty);
        }
        let from = q.time.from.map(to_ms).unwrap_or(i64::MIN);
        let to = q.time.to.map(to_ms).unwrap_or(i64::MAX);
        let first_day = day_of(from).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        let last_day = day_of(to.saturating_sub(1)).clamp(i32::MIN as i64, i32::MAX as i64) as i32;
        let (cursor_at, cursor_id) = q
            .cursor
            .map(|c| (c.captured_at_ms, c.read_id))
            .unwrap_or((i64::MAX, i64::MAX));
        let page_last_day = last_day.min(day_of(cursor_at).min(i32::MAX as i64) as i32);
        let limit = q.limit as i64 + 1;
        let floors = catalog.camera_floors(q);
        let (floor_cams, floor_ms): (Option<Vec<i64>>, Option<Vec<i64>>) = if floors.is_empty() {
            (None, None)
        } else {
            let (c, f) = floors.into_iter().unzip();
            (Some(c), Some(f))
        };

        let client = inner.client().await?;
        let count = client
            .prepare_cached(&format!("SELECT count(*) FROM reads r WHERE {FILTER}"))
            .await?;
        let page = client
            .prepare_cached(&format!(
                "SELECT {READ_COLUMNS} FROM reads r JOIN plates p ON p.id = r.plate_id
                 WHERE {FILTER} AND (r.captured_at, r.id) < ($9, $10)
                 ORDER BY r.captured_at DESC, r.id DESC LIMIT $11"
            ))
            .await?;
        // Both on one connection at once: tokio-postgres pipelines them, one round trip.
        let count_params: [&(dyn ToSql + Sync); 8] = [
            &plate_ids,
            &first_day,
            &last_day,
            &from,
            &to,
            &cameras,
            &floor_cams,
            &floor_ms,
        ];
        let page_params: [&(dyn ToSql + Sync); 11] = [
            &plate_ids,
            &first_day,
            &page_last_day,
            &from,
            &to,
            &cameras,
            &floor_cams,
            &floor_ms,
            &cursor_at,
            &cursor_id,
            &limit,
        ];
        let (total, rows) = futures_util::future::try_join(
            client.query_one(&count, &count_params),
            client.query(&page, &page_params),
        )
        .await?;
        let total: i64 = total.get(0);
        let mut reads = rows
            .iter()
            .map(|r| read_from_row(r, &catalog))
            .collect::<Result<Vec<_>>>()?;
        let next_cursor = paginate(&mut reads, q.limit);
        Ok(SearchPage {
            hits: reads.into_iter().map(|r| catalog.hit(r)).collect(),
            total: total as u64,
            next_cursor,
            plates_matched: plate_ids.len(),
        })
    }

    /// The naive way, kept as the benchmark's baseline: a `LIKE` scan over every read.
    pub(crate) async fn search_like_scan_impl(
        &self,
        like: &str,
        limit: u32,
    ) -> Result<Vec<ReadId>> {
        let client = self.inner().client().await?;
        let rows = client
            .query(
                "SELECT r.id FROM reads r WHERE r.plate_raw LIKE $1
                 ORDER BY r.captured_at DESC LIMIT $2",
                &[&like, &(limit as i64)],
            )
            .await?;
        Ok(rows.iter().map(|r| r.get(0)).collect())
    }
}

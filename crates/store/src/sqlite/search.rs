//! Historical search: resolve the plate pattern through the dictionary, then fetch those
//! plates' reads through the `(day, plate_id, captured_at, id, camera_id)` index, newest first:
//! the total is counted from the index alone, and a page reads only its own rows.

use super::reads::{read_from_row, READ_COLUMNS};
use super::{day_of, to_ms, Inner, SqliteStore};
use crate::shared::{paginate, resolve_plates, CameraBound};
use crate::{Result, SearchPage};
use anpr_domain::query::Cursor;
use anpr_domain::{ReadId, SearchQuery};
use rusqlite::types::Value;
use rusqlite::ToSql;
use std::rc::Rc;

fn ids_value(ids: &[i64]) -> Rc<Vec<Value>> {
    Rc::new(ids.iter().copied().map(Value::Integer).collect())
}

impl Inner {
    fn search(&self, q: &SearchQuery) -> Result<SearchPage> {
        q.validate()?;
        self.refresh_dictionary()?;
        let plate_ids = resolve_plates(&self.dictionary, q)?;
        let catalog = self.catalog().clone();
        let cameras = catalog.camera_bound(q);
        let empty = SearchPage {
            hits: vec![],
            total: 0,
            next_cursor: None,
            plates_matched: plate_ids.len(),
        };
        if plate_ids.is_empty() || cameras == CameraBound::Only(vec![]) {
            return Ok(empty);
        }

        // The total counts the whole query, every page alike; only the page itself starts at
        // the cursor's day.
        let Some((days, page_days)) = self.days_to_search(q)? else {
            return Ok(empty);
        };

        let mut conds: Vec<String> = Vec::new();
        let mut params: Vec<Box<dyn ToSql>> = Vec::new();
        let mut bind = |conds: &mut Vec<String>, sql: &str, v: Box<dyn ToSql>| {
            params.push(v);
            conds.push(sql.replace('?', &format!("?{}", params.len())));
        };
        bind(&mut conds, "r.day IN rarray(?)", Box::new(ids_value(&days)));
        if plate_ids.len() == 1 {
            bind(&mut conds, "r.plate_id = ?", Box::new(plate_ids[0]));
        } else {
            bind(
                &mut conds,
                "r.plate_id IN rarray(?)",
                Box::new(ids_value(&plate_ids)),
            );
        }
        if let Some(from) = q.time.from {
            bind(&mut conds, "r.captured_at >= ?", Box::new(to_ms(from)));
        }
        if let Some(to) = q.time.to {
            bind(&mut conds, "r.captured_at < ?", Box::new(to_ms(to)));
        }
        match &cameras {
            CameraBound::Any => {}
            CameraBound::UpTo(max) => bind(&mut conds, "r.camera_id <= ?", Box::new(*max)),
            CameraBound::Only(cams) => bind(
                &mut conds,
                "r.camera_id IN rarray(?)",
                Box::new(ids_value(cams)),
            ),
        }
        // The networks' own maximum look-back: their cameras' older reads are left out.
        let mut floors: Vec<(i64, Vec<i64>)> = Vec::new();
        for (cam, floor) in catalog.camera_floors(q) {
            match floors.iter_mut().find(|(f, _)| *f == floor) {
                Some((_, cams)) => cams.push(cam),
                None => floors.push((floor, vec![cam])),
            }
        }
        for (floor, cams) in floors {
            params.push(Box::new(ids_value(&cams)));
            params.push(Box::new(floor));
            conds.push(format!(
                "(r.camera_id NOT IN rarray(?{}) OR r.captured_at >= ?{})",
                params.len() - 1,
                params.len()
            ));
        }
        let filter = conds.join(" AND ");
        let count_params = params.len();
        let mut page_filter = filter.clone();
        let mut extra: Vec<Box<dyn ToSql>> = Vec::new();
        if let Some(Cursor {
            captured_at_ms,
            read_id,
        }) = q.cursor
        {
            extra.push(Box::new(captured_at_ms));
            extra.push(Box::new(read_id));
            let (a, b) = (count_params + 1, count_params + 2);
            page_filter.push_str(&format!(
                " AND (r.captured_at < ?{a} OR (r.captured_at = ?{a} AND r.id < ?{b}))"
            ));
        }
        extra.push(Box::new(q.limit as i64 + 1));
        let limit_ix = count_params + extra.len();
        // The page binds the same filter with its own days (`?1`: from the cursor's day on).
        let page_days = ids_value(&page_days);
        let page_params: Vec<&dyn ToSql> = std::iter::once(&page_days as &dyn ToSql)
            .chain(params[1..].iter().map(|p| p.as_ref()))
            .chain(extra.iter().map(|p| p.as_ref()))
            .collect();

        self.with_reader(|conn| {
            let count_sql =
                format!("SELECT count(*) FROM reads r INDEXED BY reads_day_plate WHERE {filter}");
            let total: i64 = conn
                .prepare_cached(&count_sql)?
                .query_row(rusqlite::params_from_iter(params.iter()), |r| r.get(0))?;
            // Newest first. The capture day leads the order, as it leads the index (a day is a
            // function of the capture time, so the order is the same): SQLite then walks the
            // index in order and stops at the page's end, instead of sorting every read of the
            // plate first.
            let page_sql = format!(
                "SELECT {READ_COLUMNS} FROM reads r INDEXED BY reads_day_plate
                 JOIN plates p ON p.id = r.plate_id
                 WHERE {page_filter}
                 ORDER BY r.day DESC, r.captured_at DESC, r.id DESC LIMIT ?{limit_ix}"
            );
            let mut stmt = conn.prepare_cached(&page_sql)?;
            let mut reads = stmt
                .query_map(rusqlite::params_from_iter(page_params.iter()), |row| {
                    read_from_row(row, &catalog)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let next_cursor = paginate(&mut reads, q.limit);
            let hits = reads.into_iter().map(|r| catalog.hit(r)).collect();
            Ok(SearchPage {
                hits,
                total: total as u64,
                next_cursor,
                plates_matched: plate_ids.len(),
            })
        })
    }

    /// The capture days a query can match, newest first: its time range clipped to the days
    /// that hold reads at all; and those of its page (clipped to the cursor too). `None` when
    /// there are none.
    fn days_to_search(&self, q: &SearchQuery) -> Result<Option<(Vec<i64>, Vec<i64>)>> {
        let (first, last): (Option<i64>, Option<i64>) = self.with_reader(|conn| {
            // Two statements: SQLite answers a lone min() or max() from the index in O(log n),
            // but both in one statement scan it.
            let first = conn
                .prepare_cached("SELECT min(day) FROM reads")?
                .query_row([], |r| r.get(0))?;
            let last = conn
                .prepare_cached("SELECT max(day) FROM reads")?
                .query_row([], |r| r.get(0))?;
            Ok((first, last))
        })?;
        let (Some(mut first), Some(mut last)) = (first, last) else {
            return Ok(None);
        };
        if let Some(from) = q.time.from {
            first = first.max(day_of(to_ms(from)));
        }
        if let Some(to) = q.time.to {
            last = last.min(day_of(to_ms(to) - 1));
        }
        let page_last = match q.cursor {
            Some(c) => last.min(day_of(c.captured_at_ms)),
            None => last,
        };
        Ok((first <= last).then(|| {
            (
                (first..=last).rev().collect(),
                (first..=page_last).rev().collect(),
            )
        }))
    }

    /// The naive way, kept as the benchmark's baseline: a `LIKE` scan over every read.
    fn search_like_scan(&self, like: &str, limit: u32) -> Result<Vec<ReadId>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT r.id FROM reads r WHERE r.plate_raw LIKE ?1
                 ORDER BY r.captured_at DESC LIMIT ?2",
            )?;
            let ids = stmt
                .query_map(rusqlite::params![like, limit], |r| r.get(0))?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            Ok(ids)
        })
    }
}

impl SqliteStore {
    pub(crate) async fn search_impl(&self, q: &SearchQuery) -> Result<SearchPage> {
        let q = q.clone();
        self.blocking(move |inner| inner.search(&q)).await
    }

    pub(crate) async fn search_like_scan_impl(
        &self,
        like: &str,
        limit: u32,
    ) -> Result<Vec<ReadId>> {
        let like = like.to_string();
        self.blocking(move |inner| inner.search_like_scan(&like, limit))
            .await
    }
}

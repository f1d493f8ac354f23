//! Historical search: resolve the plate pattern through the dictionary, then fetch those
//! plates' reads through the `(plate_id, captured_at)` index, newest first.

use super::reads::{read_from_row, READ_COLUMNS};
use super::{day_of, to_ms, Catalog, Inner, SqliteStore};
use crate::dictionary::DictionaryError;
use crate::{Result, SearchHit, SearchPage, StoreError};
use anpr_domain::query::Cursor;
use anpr_domain::{PlatePattern, ReadId, SearchQuery};
use rusqlite::types::Value;
use rusqlite::ToSql;
use std::rc::Rc;

/// Most distinct plates one search may resolve to. A pattern broader than this is not a
/// targeted search; the user is asked to narrow it.
pub const MAX_PLATES_PER_SEARCH: usize = 5_000;

impl From<DictionaryError> for StoreError {
    fn from(e: DictionaryError) -> Self {
        match e {
            DictionaryError::TooManyPlates(n) => StoreError::TooBroad(format!(
                "the plate pattern matches more than {n} distinct plates; add known characters"
            )),
            DictionaryError::TooComplex(m) => StoreError::TooBroad(m),
        }
    }
}

/// Cameras the query's place filters allow; `None` when it has none.
fn camera_filter(catalog: &Catalog, q: &SearchQuery) -> Option<Vec<i64>> {
    if q.network_ids.is_empty()
        && q.site_ids.is_empty()
        && q.camera_ids.is_empty()
        && q.area.is_none()
    {
        return None;
    }
    let cams = catalog
        .cameras
        .iter()
        .filter(|c| q.camera_ids.is_empty() || q.camera_ids.contains(&c.id))
        .filter(|c| {
            let Some(site) = catalog.sites.iter().find(|s| s.id == c.site_id) else {
                return false;
            };
            (q.site_ids.is_empty() || q.site_ids.contains(&site.id))
                && (q.network_ids.is_empty() || q.network_ids.contains(&site.network_id))
                && q.area.is_none_or(|a| a.contains(&site.location))
        })
        .map(|c| c.id)
        .collect();
    Some(cams)
}

fn ids_value(ids: &[i64]) -> Rc<Vec<Value>> {
    Rc::new(ids.iter().copied().map(Value::Integer).collect())
}

impl Inner {
    fn resolve_plates(&self, pattern: &PlatePattern) -> Result<Vec<i64>> {
        Ok(match pattern {
            PlatePattern::Exact(p) => self.dictionary.get(p.as_str()).into_iter().collect(),
            PlatePattern::Wildcard(w) => self.dictionary.wildcard(w, MAX_PLATES_PER_SEARCH)?,
            PlatePattern::Fuzzy { plate, max_edits } => {
                self.dictionary
                    .fuzzy(plate.as_str(), *max_edits, MAX_PLATES_PER_SEARCH)?
            }
        })
    }

    fn search(&self, q: &SearchQuery) -> Result<SearchPage> {
        q.validate()?;
        self.refresh_dictionary()?;
        let mut plate_ids = self.resolve_plates(&q.plate)?;
        for excluded in &q.exclude_plates {
            if let Some(id) = self.dictionary.get(excluded) {
                plate_ids.retain(|p| *p != id);
            }
        }
        let catalog = self.catalog().clone();
        let cameras = camera_filter(&catalog, q);
        let empty = SearchPage {
            hits: vec![],
            total: 0,
            next_cursor: None,
            plates_matched: plate_ids.len(),
        };
        if plate_ids.is_empty() || cameras.as_ref().is_some_and(|c| c.is_empty()) {
            return Ok(empty);
        }

        let Some(days) = self.days_to_search(q)? else {
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
        if let Some(cams) = &cameras {
            bind(
                &mut conds,
                "r.camera_id IN rarray(?)",
                Box::new(ids_value(cams)),
            );
        }
        let filter = conds.join(" AND ");
        let count_params = params.len();
        let mut page_filter = filter.clone();
        if let Some(Cursor {
            captured_at_ms,
            read_id,
        }) = q.cursor
        {
            params.push(Box::new(captured_at_ms));
            params.push(Box::new(read_id));
            let (a, b) = (params.len() - 1, params.len());
            page_filter.push_str(&format!(
                " AND (r.captured_at < ?{a} OR (r.captured_at = ?{a} AND r.id < ?{b}))"
            ));
        }
        params.push(Box::new(q.limit as i64 + 1));
        let limit_ix = params.len();

        self.with_reader(|conn| {
            let count_sql =
                format!("SELECT count(*) FROM reads r INDEXED BY reads_day_plate WHERE {filter}");
            let total: i64 = conn.prepare_cached(&count_sql)?.query_row(
                rusqlite::params_from_iter(params[..count_params].iter()),
                |r| r.get(0),
            )?;
            let page_sql = format!(
                "SELECT {READ_COLUMNS} FROM reads r INDEXED BY reads_day_plate
                 JOIN plates p ON p.id = r.plate_id
                 WHERE {page_filter}
                 ORDER BY r.captured_at DESC, r.id DESC LIMIT ?{limit_ix}"
            );
            let mut stmt = conn.prepare_cached(&page_sql)?;
            let mut reads = stmt
                .query_map(rusqlite::params_from_iter(params.iter()), |row| {
                    read_from_row(row, &catalog)
                })?
                .collect::<rusqlite::Result<Vec<_>>>()?;
            let next_cursor = if reads.len() > q.limit as usize {
                reads.truncate(q.limit as usize);
                reads.last().map(|r| {
                    Cursor {
                        captured_at_ms: to_ms(r.captured_at),
                        read_id: r.id,
                    }
                    .encode()
                })
            } else {
                None
            };
            let hits = reads
                .into_iter()
                .map(|read| {
                    let site = catalog.site_of_camera(read.camera_id);
                    let network = site.and_then(|s| catalog.network(s.network_id));
                    SearchHit {
                        site_name: site.map(|s| s.name.clone()).unwrap_or_default(),
                        site_kind: site.map(|s| s.kind).unwrap_or(anpr_domain::SiteKind::Other),
                        network_name: network.map(|n| n.name.clone()).unwrap_or_default(),
                        location: site
                            .map(|s| s.location)
                            .unwrap_or(anpr_domain::GeoPoint { lat: 0.0, lon: 0.0 }),
                        district: site.map(|s| s.district.clone()).unwrap_or_default(),
                        read,
                    }
                })
                .collect();
            Ok(SearchPage {
                hits,
                total: total as u64,
                next_cursor,
                plates_matched: plate_ids.len(),
            })
        })
    }

    /// The capture days a query can match, newest first: its time range clipped to the days
    /// that hold reads at all (and to the cursor). `None` when there are none.
    fn days_to_search(&self, q: &SearchQuery) -> Result<Option<Vec<i64>>> {
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
        if let Some(c) = q.cursor {
            last = last.min(day_of(c.captured_at_ms));
        }
        Ok((first <= last).then(|| (first..=last).rev().collect()))
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

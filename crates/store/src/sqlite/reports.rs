//! Usage reports over the `decisions`, `alerts` and `integrity_cases` tables. Each source is one `GROUP BY` over a time range of an index (`decisions_report`
//! covers every column the decision counts read, so they never touch the table); the group
//! expressions come from a fixed list, never from the request, and every value is a parameter.

use super::{from_ms, to_ms, Inner, SqliteStore};
use crate::reports::{ReportStore, UsageCounted};
use crate::shared::{
    alert_group, decision_group, finding_group, plate_target_likes, target_touches, usage_row,
    DECISION_COUNTS,
};
use crate::Result;
use anpr_domain::usage::PlateQuery;
use anpr_domain::usage::{Grouping, Measure, UsageQuery, UsageRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::types::Value;
use rusqlite::{params, Connection};
use std::rc::Rc;

/// The month of a millisecond timestamp column, as `YYYY-MM` (UTC).
fn month_of(column: &str) -> String {
    format!("strftime('%Y-%m', {column} / 1000, 'unixepoch')")
}

/// The decision counts, in `DECISION_COUNTS` order.
fn decision_sums() -> String {
    DECISION_COUNTS
        .iter()
        .map(|(_, condition)| format!("SUM({condition})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Runs `sql` (selecting period, group, then one count per measure in `measures`) over
/// `[from, to)` bound as `?1`, `?2`, and the districts counted, when the SQL is scoped, as
/// `?3`.
fn grouped(
    conn: &Connection,
    sql: &str,
    (from, to): (i64, i64),
    districts: Option<&Rc<Vec<Value>>>,
    measures: &[Measure],
) -> Result<Vec<UsageRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let map = |r: &rusqlite::Row<'_>| {
        let values = (0..measures.len())
            .map(|i| r.get::<_, Option<i64>>(i + 2))
            .collect::<rusqlite::Result<Vec<_>>>()?;
        Ok(usage_row(r.get(0)?, r.get(1)?, measures, &values))
    };
    let rows = match districts {
        Some(d) => stmt.query_map(params![from, to, d], map)?,
        None => stmt.query_map(params![from, to], map)?,
    };
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `AND <column> IN (the districts bound as ?3)` when the counts are scoped.
fn scope(column: &str, scoped: bool) -> String {
    if scoped {
        format!(" AND {column} IN rarray(?3)")
    } else {
        String::new()
    }
}

/// Decision counts per month and group over `[?1, ?2)`.
fn decisions_sql(by: Grouping, scoped: bool) -> String {
    let (key, join) = decision_group(by);
    format!(
        "SELECT {period} AS period, {key} AS grp, {sums} FROM decisions d {join}
         WHERE d.at >= ?1 AND d.at < ?2 AND d.training = 0{scope} GROUP BY period, grp",
        period = month_of("d.at"),
        sums = decision_sums(),
        scope = scope("d.district", scoped),
    )
}

/// Alert counts per month and group over `[?1, ?2)`.
fn alerts_sql(by: Grouping, scoped: bool) -> String {
    let (key, join) = alert_group(by);
    format!(
        "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM alerts a {join}
         WHERE a.created_at >= ?1 AND a.created_at < ?2{scope} GROUP BY period, grp",
        period = month_of("a.created_at"),
        scope = scope("a.district", scoped),
    )
}

impl Inner {
    /// The counts of `q`; of the use recorded in `districts` only, when given.
    fn usage_counts(&self, q: &UsageQuery, districts: Option<&[String]>) -> Result<UsageCounted> {
        let range = (to_ms(q.from), to_ms(q.to));
        let districts: Option<Rc<Vec<Value>>> =
            districts.map(|d| Rc::new(d.iter().cloned().map(Value::Text).collect()));
        let (districts, scoped) = (districts.as_ref(), districts.is_some());
        self.with_reader(|conn| {
            let mut out = UsageCounted::default();

            out.rows.extend(grouped(
                conn,
                &decisions_sql(q.by, scoped),
                range,
                districts,
                &DECISION_COUNTS.map(|(m, _)| m),
            )?);
            out.rows.extend(grouped(
                conn,
                &alerts_sql(q.by, scoped),
                range,
                districts,
                &[Measure::Alerts],
            )?);

            // Findings: each opens one review case (`integrity_cases`, one per finding), so a
            // finding is counted when its case opens and when it closes, under the district of
            // the member of staff it is about.
            out.findings_recorded = true;
            let key = finding_group(q.by);
            for (column, measure) in [
                ("opened_at", Measure::FindingsOpened),
                ("closed_at", Measure::FindingsClosed),
            ] {
                let sql = format!(
                    "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM integrity_cases
                     WHERE {column} >= ?1 AND {column} < ?2{scope} GROUP BY period, grp",
                    period = month_of(column),
                    scope = scope("district", scoped),
                );
                out.rows
                    .extend(grouped(conn, &sql, range, districts, &[measure])?);
            }
            Ok(out)
        })
    }

    fn plate_queries(&self, plate: &str, now: DateTime<Utc>) -> Result<Vec<PlateQuery>> {
        self.with_reader(|conn| {
            // Candidates: exact targets (searches, tracking), reads of the plate, look-backs
            // from a date, and every wildcard or fuzzy pattern — checked against the plate
            // below, as the dictionary would have matched them.
            let mut stmt = conn.prepare_cached(
                "SELECT d.at, d.action, d.outcome, d.purpose_code, d.target,
                 EXISTS (SELECT 1 FROM reg_incidents i WHERE i.file_number = d.file_number
                         AND (i.closed_at IS NULL OR i.closed_at > ?4))
                 FROM decisions d
                 WHERE d.training = 0
                   AND d.action IN ('search', 'view_read', 'view_image', 'export',
                                    'tracking_request', 'lookback_request')
                   AND (d.target = ?1 OR d.target LIKE ?2 OR d.target LIKE ?3
                        OR d.target GLOB '*[?*~]*')",
            )?;
            let (read_like, lookback_like) = plate_target_likes(plate);
            let rows =
                stmt.query_map(params![plate, read_like, lookback_like, to_ms(now)], |r| {
                    Ok((
                        PlateQuery {
                            at: from_ms(r.get(0)?),
                            action: r.get(1)?,
                            outcome: r.get(2)?,
                            purpose_code: r.get(3)?,
                            open_incident: r.get(5)?,
                        },
                        r.get::<_, Option<String>>(4)?.unwrap_or_default(),
                    ))
                })?;
            let mut out = Vec::new();
            for row in rows {
                let (q, target) = row?;
                if target_touches(&target, plate) {
                    out.push(q);
                }
            }
            Ok(out)
        })
    }
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn usage_counts(&self, q: UsageQuery) -> Result<UsageCounted> {
        self.blocking(move |inner| inner.usage_counts(&q, None))
            .await
    }

    async fn usage_counts_in(&self, q: UsageQuery, districts: Vec<String>) -> Result<UsageCounted> {
        self.blocking(move |inner| inner.usage_counts(&q, Some(&districts)))
            .await
    }

    async fn plate_queries(&self, plate: String, now: DateTime<Utc>) -> Result<Vec<PlateQuery>> {
        self.blocking(move |inner| inner.plate_queries(&plate, now))
            .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The counts read an index over the time range, never the whole table.
    #[test]
    fn report_queries_use_their_indexes() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("anpr.sqlite")).unwrap();
        let plan = |sql: &str| -> String {
            store
                .inner
                .with_reader(|c| {
                    let mut stmt = c.prepare(&format!("EXPLAIN QUERY PLAN {sql}"))?;
                    let rows = stmt.query_map(params![0, 1], |r| r.get::<_, String>(3))?;
                    Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?.join("; "))
                })
                .unwrap()
        };
        for by in [Grouping::Month, Grouping::District, Grouping::Purpose] {
            let p = plan(&decisions_sql(by, false));
            assert!(
                p.contains("COVERING INDEX decisions_report (at>? AND at<?)"),
                "{by:?}: {p}"
            );
        }
        let p = plan(&decisions_sql(Grouping::Network, false));
        assert!(p.contains("INDEX decisions_report (at>? AND at<?)"), "{p}");
        assert!(
            p.contains("SEARCH dn USING PRIMARY KEY (decision_id=?)"),
            "{p}"
        );
        for by in Grouping::ALL {
            let p = plan(&alerts_sql(by, false));
            assert!(
                p.contains("INDEX alerts_created (created_at>? AND created_at<?)"),
                "{by:?}: {p}"
            );
        }
    }
}

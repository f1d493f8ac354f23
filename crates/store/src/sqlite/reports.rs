//! Usage reports over the `decisions`, `alerts` and `integrity_cases` tables. Each source is one `GROUP BY` over a time range of an index (`decisions_report`
//! covers every column the decision counts read, so they never touch the table); the group
//! expressions come from a fixed list, never from the request, and every value is a parameter.

use super::{from_ms, to_ms, Inner, SqliteStore};
use crate::dictionary::edit_distance_within;
use crate::reports::{ReportStore, UsageCounted};
use crate::Result;
use anpr_domain::confusion::class_key;
use anpr_domain::query::wildcard_matches;
use anpr_reports::subject::PlateQuery;
use anpr_reports::{Grouping, Measure, Measures, UsageCounts, UsageQuery, UsageRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection};

/// The month of a millisecond timestamp column, as `YYYY-MM` (UTC).
fn month_of(column: &str) -> String {
    format!("strftime('%Y-%m', {column} / 1000, 'unixepoch')")
}

const GRANTED: &str = "('allowed', 'allowed_with_limits')";

/// The decision counts, in `DECISION_MEASURES` order.
fn decision_sums() -> String {
    [
        format!("SUM(d.action = 'search' AND d.outcome IN {GRANTED})"),
        format!("SUM(d.action = 'view_read' AND d.outcome IN {GRANTED})"),
        format!("SUM(d.action = 'view_image' AND d.outcome IN {GRANTED})"),
        "SUM(d.action = 'tracking_request')".to_string(),
        "SUM(d.action = 'tracking_approve' AND d.outcome = 'allowed')".to_string(),
        "SUM((d.action = 'tracking_refuse' AND d.outcome = 'allowed') \
         OR (d.action = 'tracking_request' AND d.outcome = 'refused'))"
            .to_string(),
        "SUM(d.outcome = 'refused')".to_string(),
        "SUM(d.outcome = 'refused' AND d.refusal_code = 'own_vehicle')".to_string(),
    ]
    .join(", ")
}

const DECISION_MEASURES: [Measure; 8] = [
    Measure::Searches,
    Measure::ReadViews,
    Measure::ImageViews,
    Measure::TrackingRequests,
    Measure::TrackingApprovals,
    Measure::TrackingRefusals,
    Measure::DeniedAttempts,
    Measure::OwnVehicleBlocks,
];

/// Runs `sql` (selecting period, group, then one count per measure in `measures`) over
/// `[from, to)` bound as `?1`, `?2`.
fn grouped(
    conn: &Connection,
    sql: &str,
    from: i64,
    to: i64,
    measures: &[Measure],
) -> Result<Vec<UsageRow>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![from, to], |r| {
        let mut values = Vec::with_capacity(measures.len());
        for i in 0..measures.len() {
            values.push(r.get::<_, Option<i64>>(i + 2)?.unwrap_or(0).max(0) as u64);
        }
        let counts: UsageCounts = Measures::from_fn(|m| {
            measures
                .iter()
                .position(|x| *x == m)
                .map(|i| values[i])
                .unwrap_or(0)
        });
        Ok(UsageRow {
            period: r.get::<_, Option<String>>(0)?.unwrap_or_default(),
            group: r.get(1)?,
            counts,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Decision counts per month and group over `[?1, ?2)`.
fn decisions_sql(by: Grouping) -> String {
    let (key, join) = match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(d.district, '')", ""),
        Grouping::Purpose => ("NULLIF(d.purpose_code, '')", ""),
        Grouping::Network => (
            "n.name",
            "LEFT JOIN decision_networks dn ON dn.decision_id = d.id \
             LEFT JOIN networks n ON n.id = dn.network_id",
        ),
    };
    format!(
        "SELECT {period} AS period, {key} AS grp, {sums} FROM decisions d {join}
         WHERE d.at >= ?1 AND d.at < ?2 AND d.training = 0 GROUP BY period, grp",
        period = month_of("d.at"),
        sums = decision_sums(),
    )
}

/// Alert counts per month and group over `[?1, ?2)`.
fn alerts_sql(by: Grouping) -> String {
    let (key, join) = match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(a.district, '')", ""),
        Grouping::Purpose => (
            "NULLIF(au.purpose_code, '')",
            "LEFT JOIN authorisations au ON au.id = a.authorisation_id",
        ),
        Grouping::Network => ("n.name", "LEFT JOIN networks n ON n.id = a.network_id"),
    };
    format!(
        "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM alerts a {join}
         WHERE a.created_at >= ?1 AND a.created_at < ?2 GROUP BY period, grp",
        period = month_of("a.created_at"),
    )
}

impl Inner {
    fn usage_counts(&self, q: &UsageQuery) -> Result<UsageCounted> {
        let (from, to) = (to_ms(q.from), to_ms(q.to));
        self.with_reader(|conn| {
            let mut out = UsageCounted::default();

            out.rows.extend(grouped(
                conn,
                &decisions_sql(q.by),
                from,
                to,
                &DECISION_MEASURES,
            )?);
            out.rows.extend(grouped(
                conn,
                &alerts_sql(q.by),
                from,
                to,
                &[Measure::Alerts],
            )?);

            // Findings: each opens one review case (`integrity_cases`, one per finding), so a
            // finding is counted when its case opens and when it closes, under the district of
            // the member of staff it is about.
            out.findings_recorded = true;
            let key = match q.by {
                Grouping::District => "NULLIF(district, '')",
                _ => "NULL",
            };
            for (column, measure) in [
                ("opened_at", Measure::FindingsOpened),
                ("closed_at", Measure::FindingsClosed),
            ] {
                let sql = format!(
                    "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM integrity_cases
                     WHERE {column} >= ?1 AND {column} < ?2 GROUP BY period, grp",
                    period = month_of(column),
                );
                out.rows.extend(grouped(conn, &sql, from, to, &[measure])?);
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
            let rows = stmt.query_map(
                params![
                    plate,
                    format!("read % ({plate})"),
                    format!("{plate} from %"),
                    to_ms(now)
                ],
                |r| {
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
                },
            )?;
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

/// Whether a decision's target (as `anpr-policy` writes it) is about `plate`.
fn target_touches(target: &str, plate: &str) -> bool {
    if target == plate {
        return true;
    }
    if let Some(rest) = target.strip_prefix("read ") {
        return rest.ends_with(&format!(" ({plate})"));
    }
    if let Some(date) = target.strip_prefix(plate) {
        if date.starts_with(" from ") {
            return true;
        }
    }
    if let Some((pattern, edits)) = target.split_once('~') {
        return edits
            .parse::<usize>()
            .is_ok_and(|n| edit_distance_within(&class_key(pattern), &class_key(plate), n));
    }
    target.contains(['?', '*']) && wildcard_matches(target, plate)
}

#[async_trait]
impl ReportStore for SqliteStore {
    async fn usage_counts(&self, q: UsageQuery) -> Result<UsageCounted> {
        self.blocking(move |inner| inner.usage_counts(&q)).await
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
            let p = plan(&decisions_sql(by));
            assert!(
                p.contains("COVERING INDEX decisions_report (at>? AND at<?)"),
                "{by:?}: {p}"
            );
        }
        let p = plan(&decisions_sql(Grouping::Network));
        assert!(p.contains("INDEX decisions_report (at>? AND at<?)"), "{p}");
        assert!(
            p.contains("SEARCH dn USING PRIMARY KEY (decision_id=?)"),
            "{p}"
        );
        for by in Grouping::ALL {
            let p = plan(&alerts_sql(by));
            assert!(
                p.contains("INDEX alerts_created (created_at>? AND created_at<?)"),
                "{by:?}: {p}"
            );
        }
    }

    #[test]
    fn targets_touch_the_plates_they_name_or_match() {
        assert!(target_touches("ABC123", "ABC123"));
        assert!(!target_touches("ABC12", "ABC123"));
        assert!(target_touches("read 17 (ABC123)", "ABC123"));
        assert!(!target_touches("read 17 (XABC123)", "ABC123"));
        assert!(!target_touches("read 17 (not found)", "ABC123"));
        assert!(target_touches("ABC123 from 2026-01-01", "ABC123"));
        assert!(target_touches("AB?12*", "ABC123"));
        assert!(!target_touches("AB?13*", "ABC123"));
        // 0/O and 8/B are confusable: a fuzzy search for A8C1Z3~0 touches ABC123 only if Z~2.
        assert!(target_touches("A8C123~0", "ABC123"));
        assert!(target_touches("ABX123~1", "ABC123"));
        assert!(!target_touches("XYZ999~1", "ABC123"));
    }
}

//! Usage reports over the `decisions`, `alerts` and `integrity_cases` tables, and the recorded
//! queries about one plate, counted and matched as in the SQLite store: what each count counts,
//! the group keys and the plate matching are [`crate::shared`]'s, so only the dialect differs.
//! Each source is one `GROUP BY` over a time range of an index (`decisions_report`,
//! `alerts_created`); the SQL is assembled from fixed fragments, every value a parameter.

use super::{Client, PgStore};
use crate::reports::{ReportStore, UsageCounted};
use crate::shared::{
    alert_group, decision_group, finding_group, from_ms, plate_target_likes, target_touches, to_ms,
    usage_row, DECISION_COUNTS,
};
use crate::Result;
use anpr_domain::usage::PlateQuery;
use anpr_domain::usage::{Grouping, Measure, UsageQuery, UsageRow};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use futures_util::future::try_join4;

/// The month of a millisecond timestamp column, as `YYYY-MM` (UTC). Whole seconds by integer
/// division as SQLite's `strftime(…, at / 1000, 'unixepoch')` takes them — truncated towards
/// zero — so that the last second before 1970 falls in the same month on both backends
/// (January 1970, as SQLite has it); `AT TIME ZONE 'UTC'` keeps the session's time zone out.
fn month_of(column: &str) -> String {
    format!("to_char(to_timestamp({column} / 1000) AT TIME ZONE 'UTC', 'YYYY-MM')")
}

/// The decision counts, in `DECISION_COUNTS` order. `COUNT(*) FILTER` counts the rows whose
/// condition is true, as SQLite's `SUM(condition)` does (a NULL condition counts in neither).
fn decision_counts() -> String {
    DECISION_COUNTS
        .iter()
        .map(|(_, condition)| format!("COUNT(*) FILTER (WHERE {condition})"))
        .collect::<Vec<_>>()
        .join(", ")
}

/// `AND <column> = ANY(the districts bound as $3)` when the counts are scoped.
fn scope(column: &str, scoped: bool) -> String {
    if scoped {
        format!(" AND {column} = ANY($3)")
    } else {
        String::new()
    }
}

/// Decision counts per month and group over `[$1, $2)`. Grouped by position: a name in
/// `GROUP BY` would mean an input column before an output one, should a table gain one.
fn decisions_sql(by: Grouping, scoped: bool) -> String {
    let (key, join) = decision_group(by);
    format!(
        "SELECT {period} AS period, {key} AS grp, {counts} FROM decisions d {join}
         WHERE d.at >= $1 AND d.at < $2 AND NOT d.training{scope} GROUP BY 1, 2",
        period = month_of("d.at"),
        counts = decision_counts(),
        scope = scope("d.district", scoped),
    )
}

/// Alert counts per month and group over `[$1, $2)`.
fn alerts_sql(by: Grouping, scoped: bool) -> String {
    let (key, join) = alert_group(by);
    format!(
        "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM alerts a {join}
         WHERE a.created_at >= $1 AND a.created_at < $2{scope} GROUP BY 1, 2",
        period = month_of("a.created_at"),
        scope = scope("a.district", scoped),
    )
}

/// Finding counts per month and group over `[$1, $2)` of `column` (when review cases opened or
/// closed).
fn findings_sql(by: Grouping, column: &str, scoped: bool) -> String {
    format!(
        "SELECT {period} AS period, {key} AS grp, COUNT(*) FROM integrity_cases
         WHERE {column} >= $1 AND {column} < $2{scope} GROUP BY 1, 2",
        period = month_of(column),
        key = finding_group(by),
        scope = scope("district", scoped),
    )
}

/// Runs `sql` (selecting period, group, then one count per measure in `measures`) over
/// `[from, to)` bound as `$1`, `$2`, and the districts counted, when the SQL is scoped, as
/// `$3`.
async fn grouped(
    client: &Client,
    sql: &str,
    (from, to): (i64, i64),
    districts: Option<&[String]>,
    measures: &[Measure],
) -> Result<Vec<UsageRow>> {
    let stmt = client.prepare_cached(sql).await?;
    let rows = match districts {
        Some(d) => client.query(&stmt, &[&from, &to, &d]).await?,
        None => client.query(&stmt, &[&from, &to]).await?,
    };
    Ok(rows
        .iter()
        .map(|r| {
            let values: Vec<Option<i64>> = (0..measures.len()).map(|i| r.get(i + 2)).collect();
            usage_row(r.get(0), r.get(1), measures, &values)
        })
        .collect())
}

impl PgStore {
    /// The counts of `q`; of the use recorded in `districts` only, when given.
    async fn usage_counts_impl(
        &self,
        q: UsageQuery,
        districts: Option<&[String]>,
    ) -> Result<UsageCounted> {
        let range = (to_ms(q.from), to_ms(q.to));
        let scoped = districts.is_some();
        let client = self.inner().client().await?;
        // Findings: each opens one review case (`integrity_cases`, one per finding), so a
        // finding is counted when its case opens and when it closes, under the district of
        // the member of staff it is about.
        let (decisions, alerts, opened, closed) = (
            decisions_sql(q.by, scoped),
            alerts_sql(q.by, scoped),
            findings_sql(q.by, "opened_at", scoped),
            findings_sql(q.by, "closed_at", scoped),
        );
        // All on one connection at once: tokio-postgres pipelines them.
        let (decisions, alerts, opened, closed) = try_join4(
            grouped(
                &client,
                &decisions,
                range,
                districts,
                &DECISION_COUNTS.map(|(m, _)| m),
            ),
            grouped(&client, &alerts, range, districts, &[Measure::Alerts]),
            grouped(
                &client,
                &opened,
                range,
                districts,
                &[Measure::FindingsOpened],
            ),
            grouped(
                &client,
                &closed,
                range,
                districts,
                &[Measure::FindingsClosed],
            ),
        )
        .await?;
        Ok(UsageCounted {
            rows: [decisions, alerts, opened, closed].concat(),
            findings_recorded: true,
        })
    }

    async fn plate_queries_impl(&self, plate: &str, now: DateTime<Utc>) -> Result<Vec<PlateQuery>> {
        let client = self.inner().client().await?;
        // Candidates: exact targets (searches, tracking), reads of the plate, look-backs from a
        // date, and every wildcard or fuzzy pattern — checked against the plate below, as the
        // dictionary would have matched them. `ESCAPE ''` reads the patterns as SQLite's `LIKE`
        // does (no escape character); in id order, as SQLite scans them, so that queries at
        // the same time keep the order they were recorded in.
        let stmt = client
            .prepare_cached(
                "SELECT d.at, d.action, d.outcome, d.purpose_code, d.target,
                 EXISTS (SELECT 1 FROM reg_incidents i WHERE i.file_number = d.file_number
                         AND (i.closed_at IS NULL OR i.closed_at > $4))
                 FROM decisions d
                 WHERE NOT d.training
                   AND d.action IN ('search', 'view_read', 'view_image', 'export',
                                    'tracking_request', 'lookback_request')
                   AND (d.target = $1 OR d.target LIKE $2 ESCAPE '' OR d.target LIKE $3 ESCAPE ''
                        OR d.target ~ '[?*~]')
                 ORDER BY d.id",
            )
            .await?;
        let (read_like, lookback_like) = plate_target_likes(plate);
        let rows = client
            .query(&stmt, &[&plate, &read_like, &lookback_like, &to_ms(now)])
            .await?;
        Ok(rows
            .iter()
            .filter(|r| target_touches(r.get::<_, Option<&str>>(4).unwrap_or_default(), plate))
            .map(|r| PlateQuery {
                at: from_ms(r.get(0)),
                action: r.get(1),
                outcome: r.get(2),
                purpose_code: r.get(3),
                open_incident: r.get(5),
            })
            .collect())
    }
}

#[async_trait]
impl ReportStore for PgStore {
    async fn usage_counts(&self, q: UsageQuery) -> Result<UsageCounted> {
        self.usage_counts_impl(q, None).await
    }

    async fn usage_counts_in(&self, q: UsageQuery, districts: Vec<String>) -> Result<UsageCounted> {
        self.usage_counts_impl(q, Some(&districts)).await
    }

    async fn plate_queries(&self, plate: String, now: DateTime<Utc>) -> Result<Vec<PlateQuery>> {
        self.plate_queries_impl(&plate, now).await
    }
}

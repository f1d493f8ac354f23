//! The usage report: how the platform was used, per month and optionally by district, purpose
//! or network, between two times. What each measure counts is said in `anpr_domain::usage`.

use crate::error::{ReportError, Result};
use crate::period::parse_bound;
pub use anpr_domain::usage::{
    Grouping, Measure, Measures, UsageCounts, UsageQuery, UsageRow, NO_GROUP,
};
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::collections::BTreeMap;

/// Longest span one usage report may cover.
pub const MAX_SPAN_DAYS: i64 = 20 * 366;

/// The grouping named `s` (`month`, `district`, `purpose`, `network`).
pub fn parse_grouping(s: &str) -> Result<Grouping> {
    Grouping::ALL
        .into_iter()
        .find(|g| g.as_str() == s.trim())
        .ok_or_else(|| {
            ReportError::invalid(
                "by",
                format!("expected month, district, purpose or network, got {s:?}"),
            )
        })
}

/// A usage report's coverage, checked: `to` after `from`, at most [`MAX_SPAN_DAYS`] apart.
pub fn query(from: DateTime<Utc>, to: DateTime<Utc>, by: Grouping) -> Result<UsageQuery> {
    if to <= from {
        return Err(ReportError::invalid("to", "must be after `from`"));
    }
    if (to - from).num_days() > MAX_SPAN_DAYS {
        return Err(ReportError::invalid(
            "to",
            format!("a usage report covers at most {MAX_SPAN_DAYS} days"),
        ));
    }
    Ok(UsageQuery { from, to, by })
}

/// From request parameters: `from` and `to` (see [`parse_bound`]) are required, `by`
/// defaults to `month`.
pub fn parse_query(from: Option<&str>, to: Option<&str>, by: Option<&str>) -> Result<UsageQuery> {
    let from = from.ok_or_else(|| ReportError::invalid("from", "is required"))?;
    let to = to.ok_or_else(|| ReportError::invalid("to", "is required"))?;
    let by = match by {
        Some(b) => parse_grouping(b)?,
        None => Grouping::Month,
    };
    query(
        parse_bound("from", from, false)?,
        parse_bound("to", to, true)?,
        by,
    )
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UsageReport {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Grouping,
    /// By month, then group; rows with every count zero are left out.
    pub rows: Vec<UsageRow>,
    /// The sum of the rows.
    pub totals: UsageCounts,
    /// How to read the figures (double counting by network, missing sources).
    pub notes: Vec<String>,
    /// The districts whose use the report counts, when it is not national (a supervisor's
    /// report: see [`UsageReport::within`]).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub districts: Option<Vec<String>>,
    /// What a person reads for a group key that is a code (by purpose: "Stolen vehicle" for
    /// `stolen_vehicle`); a key without a label is read as it is (a district, a network).
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
}

impl UsageReport {
    /// Marks a report counted over `districts` only (the counts must have been so counted),
    /// saying so in its notes.
    pub fn within(mut self, districts: Vec<String>) -> UsageReport {
        self.notes.push(format!(
            "Only the use recorded in {} district{} is counted: the staff's decisions, the \
             alerts of their authorisations and the review cases about them.",
            districts.join(", "),
            if districts.len() == 1 { "" } else { "s" }
        ));
        self.districts = Some(districts);
        self
    }

    /// Names the purposes of a report by purpose: each code's label from `purposes` (code,
    /// label), and the rows without a purpose (refusals before one was stated, hot-list
    /// alerts) as such. Other groupings are left as they are.
    pub fn with_purpose_labels<'a>(
        mut self,
        purposes: impl IntoIterator<Item = (&'a str, &'a str)>,
    ) -> UsageReport {
        if self.by != Grouping::Purpose {
            return self;
        }
        let purposes: Vec<(&str, &str)> = purposes.into_iter().collect();
        for row in &self.rows {
            let Some(code) = &row.group else { continue };
            let label = if code == NO_GROUP {
                "No purpose stated".to_string()
            } else {
                match purposes.iter().find(|(c, _)| c == code) {
                    Some((_, label)) => label.to_string(),
                    // A code no longer configured: its words from the code itself.
                    None => code.replace('_', " "),
                }
            };
            self.labels.insert(code.clone(), label);
        }
        self
    }
}

/// Merges the partial rows the store counted from each source (decisions, alerts, findings)
/// into one row per month and group, in order, with totals and notes.
pub fn assemble(q: &UsageQuery, parts: Vec<UsageRow>, findings_recorded: bool) -> UsageReport {
    let mut merged: BTreeMap<(String, Option<String>), UsageCounts> = BTreeMap::new();
    for row in parts {
        let group = match q.by {
            Grouping::Month => None,
            _ => Some(row.group.unwrap_or_else(|| NO_GROUP.to_string())),
        };
        merged
            .entry((row.period, group))
            .or_default()
            .add(&row.counts);
    }
    let rows: Vec<UsageRow> = merged
        .into_iter()
        .filter(|(_, c)| !c.is_zero())
        .map(|((period, group), counts)| UsageRow {
            period,
            group,
            counts,
        })
        .collect();
    let mut totals = UsageCounts::default();
    for r in &rows {
        totals.add(&r.counts);
    }
    let mut notes = vec!["Months are calendar months in UTC.".to_string()];
    if q.by == Grouping::Network {
        notes.push(
            "A search is counted once for every network it reached, so the rows of one month add \
             up to more than that month's searches; views and alerts are counted under the \
             network of the sighting; findings are not attributed to a network."
                .into(),
        );
    }
    if !findings_recorded {
        notes.push(
            "No integrity findings are recorded in this deployment: findings_opened and \
             findings_closed are 0."
                .into(),
        );
    }
    UsageReport {
        from: q.from,
        to: q.to,
        by: q.by,
        rows,
        totals,
        notes,
        districts: None,
        labels: BTreeMap::new(),
    }
}

/// The report as CSV: a header (`period`, the grouping's column, then one column per measure)
/// and one line per row. Text that a spreadsheet would run as a formula is quoted with `'`.
pub fn to_csv(r: &UsageReport) -> String {
    let mut w = csv::Writer::from_writer(Vec::new());
    let mut header = vec!["period"];
    if r.by != Grouping::Month {
        header.push(r.by.as_str());
    }
    header.extend(Measure::ALL.iter().map(|m| m.name()));
    w.write_record(&header).expect("writing to memory");
    for row in &r.rows {
        let mut rec = vec![row.period.clone()];
        if let Some(g) = &row.group {
            rec.push(defuse_formula(g));
        }
        rec.extend(Measure::ALL.iter().map(|m| row.counts.get(*m).to_string()));
        w.write_record(&rec).expect("writing to memory");
    }
    String::from_utf8(w.into_inner().expect("writing to memory")).expect("CSV of UTF-8 is UTF-8")
}

fn defuse_formula(s: &str) -> String {
    if s.starts_with(['=', '+', '-', '@', '\t', '\r']) {
        format!("'{s}")
    } else {
        s.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(period: &str, group: Option<&str>, f: impl Fn(&mut UsageCounts)) -> UsageRow {
        let mut counts = UsageCounts::default();
        f(&mut counts);
        UsageRow {
            period: period.into(),
            group: group.map(str::to_string),
            counts,
        }
    }

    fn query(by: Grouping) -> UsageQuery {
        parse_query(Some("2026-09"), Some("2026-10"), Some(by.as_str())).unwrap()
    }

    #[test]
    fn parts_from_each_source_merge_into_one_row() {
        let q = query(Grouping::District);
        let parts = vec![
            row("2026-10", Some("Auckland City"), |c| c.searches = 7),
            row("2026-09", Some("Waitematā"), |c| c.searches = 2),
            row("2026-10", Some("Auckland City"), |c| c.alerts = 3),
            row("2026-10", None, |c| c.findings_opened = 1),
            row("2026-10", Some("Canterbury"), |_| {}),
        ];
        let r = assemble(&q, parts, true);
        let keys: Vec<(&str, Option<&str>)> = r
            .rows
            .iter()
            .map(|r| (r.period.as_str(), r.group.as_deref()))
            .collect();
        assert_eq!(
            keys,
            vec![
                ("2026-09", Some("Waitematā")),
                ("2026-10", Some("(none)")),
                ("2026-10", Some("Auckland City")),
            ]
        );
        assert_eq!(r.rows[2].counts.searches, 7);
        assert_eq!(r.rows[2].counts.alerts, 3);
        assert_eq!(r.totals.searches, 9);
        assert_eq!(r.totals.findings_opened, 1);
    }

    #[test]
    fn purposes_are_named_and_other_groupings_left_alone() {
        let parts = vec![
            row("2026-10", Some("stolen_vehicle"), |c| c.searches = 3),
            row("2026-10", None, |c| c.denied_attempts = 1),
            row("2026-10", Some("old_purpose"), |c| c.searches = 1),
        ];
        let purposes = [("stolen_vehicle", "Stolen vehicle")];
        let r =
            assemble(&query(Grouping::Purpose), parts.clone(), true).with_purpose_labels(purposes);
        assert_eq!(r.labels["stolen_vehicle"], "Stolen vehicle");
        assert_eq!(r.labels[NO_GROUP], "No purpose stated");
        assert_eq!(r.labels["old_purpose"], "old purpose");
        let r = assemble(&query(Grouping::District), parts, true).with_purpose_labels(purposes);
        assert!(r.labels.is_empty());
    }

    #[test]
    fn csv_has_a_header_and_one_line_per_row() {
        let q = query(Grouping::Network);
        let parts = vec![
            row("2026-10", Some("=cmd|' /C calc'!A0"), |c| c.searches = 1),
            row("2026-10", Some("Fuel, North"), |c| c.image_views = 4),
        ];
        let csv = to_csv(&assemble(&q, parts, false));
        let lines: Vec<&str> = csv.lines().collect();
        assert_eq!(
            lines[0],
            "period,network,searches,read_views,image_views,tracking_requests,\
             tracking_approvals,tracking_refusals,alerts,denied_attempts,own_vehicle_blocks,\
             findings_opened,findings_closed"
        );
        assert_eq!(
            lines[1],
            "2026-10,'=cmd|' /C calc'!A0,1,0,0,0,0,0,0,0,0,0,0"
        );
        assert_eq!(lines[2], "2026-10,\"Fuel, North\",0,0,4,0,0,0,0,0,0,0,0");
        assert_eq!(lines.len(), 3);
        let month = to_csv(&assemble(&query(Grouping::Month), vec![], true));
        assert!(month.starts_with("period,searches,"), "{month}");
    }

    #[test]
    fn notes_say_what_is_missing_or_double_counted() {
        let r = assemble(&query(Grouping::Network), vec![], false);
        assert!(r.notes.iter().any(|n| n.contains("once for every network")));
        assert!(r.notes.iter().any(|n| n.contains("No integrity findings")));
        let r = assemble(&query(Grouping::Month), vec![], true);
        assert_eq!(r.notes.len(), 1);
    }

    #[test]
    fn bad_parameters_name_their_field() {
        let e = |f: Option<&str>, t: Option<&str>, b: Option<&str>| {
            parse_query(f, t, b).unwrap_err().field().to_string()
        };
        assert_eq!(e(None, Some("2026-10"), None), "from");
        assert_eq!(e(Some("2026-10"), None, None), "to");
        assert_eq!(e(Some("2026-10"), Some("2026-10"), Some("week")), "by");
        assert_eq!(e(Some("2026-11"), Some("2026-10"), None), "to");
        assert_eq!(e(Some("soon"), Some("2026-10"), None), "from");
        assert_eq!(e(Some("2000-01"), Some("2100-12"), None), "to");
        let q = parse_query(Some("2026-10"), Some("2026-10"), None).unwrap();
        assert_eq!(q.by, Grouping::Month);
        assert_eq!((q.to - q.from).num_days(), 31);
    }
}

//! The public transparency report of one month: national figures, a breakdown by police
//! district where it is safe, and the trend over the last 24 months, as JSON and as one
//! self-contained HTML page with inline SVG charts.
//!
//! No personal data reaches it: the store hands over counts only (no staff ids, plates or file
//! numbers exist at this level), and counts from 1 to 4 are suppressed ([`crate::suppress`]).
//! The district figures of each measure add up to the national figure, which is published, so
//! the district columns get complementary suppression; the trend is national only and has no
//! published total across months, so each month's figure is suppressed on its own. The
//! report month's national figures are the sum of its district rows, so the two tables always
//! agree even if a record arrives while the report is made.

use crate::chart;
use crate::chart::escape;
use crate::period::Month;
use crate::suppress::{protect, Cell, THRESHOLD};
use crate::usage::{Measure, Measures, UsageCounts, UsageRow};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt::Write;

/// How many months the trend covers, ending with the report month.
pub const TREND_MONTHS: u32 = 24;

/// The group name of records without a district, as the public reads it.
pub const NOT_ATTRIBUTED: &str = "Not attributed to a district";

/// The measures drawn as trend charts.
const CHARTED: [Measure; 6] = [
    Measure::Searches,
    Measure::ImageViews,
    Measure::TrackingRequests,
    Measure::Alerts,
    Measure::DeniedAttempts,
    Measure::OwnVehicleBlocks,
];

/// What the store counted for the report.
#[derive(Debug, Clone)]
pub struct TransparencyInput {
    pub month: Month,
    /// National counts by month (rows outside the trend window are ignored).
    pub by_month: Vec<UsageRow>,
    /// Counts by district for the report month.
    pub by_district: Vec<UsageRow>,
    /// Whether the deployment records integrity findings.
    pub findings_recorded: bool,
    pub generated_at: DateTime<Utc>,
    /// The signed tree head of the audit ledger the counts were computed from (all but the
    /// integrity findings, which the ledger does not record one by one).
    pub source: Option<LedgerSource>,
}

/// The measures a report counts from the audit ledger's entries, and so what
/// `anpr report verify-transparency` recomputes: every one but the integrity findings, which
/// the integrity unit's case register holds (the ledger records its runs, not each finding).
pub const FROM_LEDGER: [Measure; 9] = [
    Measure::Searches,
    Measure::ReadViews,
    Measure::ImageViews,
    Measure::TrackingRequests,
    Measure::TrackingApprovals,
    Measure::TrackingRefusals,
    Measure::Alerts,
    Measure::DeniedAttempts,
    Measure::OwnVehicleBlocks,
];

/// The signed tree head a report was computed from: the ledger's first `size` entries.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LedgerSource {
    /// Entries counted: those with index below this.
    pub size: u64,
    /// The RFC 6962 root of those entries, hex.
    pub root_hash: String,
    /// The signed tree head as `GET /api/v1/ledger/tree-head` serves it (size, root, time, key
    /// id, signature).
    pub tree_head: serde_json::Value,
    /// Its C2SP checkpoint with the witnesses' cosignatures the deployment held when the report
    /// was made (absent where the server holds no signing key).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
    /// The names of the witnesses that had cosigned it (empty where none is configured).
    #[serde(default)]
    pub cosigned_by: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeasureInfo {
    pub name: &'static str,
    pub label: &'static str,
    pub description: &'static str,
}

#[derive(Debug, Clone, Serialize)]
pub struct DistrictRow {
    pub district: String,
    pub figures: Measures<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TrendPoint {
    pub month: String,
    pub figures: Measures<Cell>,
}

#[derive(Debug, Clone, Serialize)]
pub struct TransparencyReport {
    pub title: String,
    /// `2026-10`.
    pub month: String,
    pub month_name: String,
    pub generated_at: DateTime<Utc>,
    /// Counts from 1 to this minus one are published as `"<5"`.
    pub suppression_threshold: u64,
    pub measures: Vec<MeasureInfo>,
    pub national: Measures<Cell>,
    pub districts: Vec<DistrictRow>,
    /// Measures whose district breakdown could not be made safe: their district cells are all
    /// `"withheld"` and only the national figure is published.
    pub district_breakdown_withheld: Vec<&'static str>,
    /// Oldest first, ending with the report month.
    pub trend: Vec<TrendPoint>,
    pub notes: Vec<String>,
    /// The signed tree head of the audit ledger the figures were computed from.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub computed_from: Option<LedgerSource>,
}

pub fn build(input: TransparencyInput) -> TransparencyReport {
    let month = input.month;
    // District rows of the month, merged by name, in name order with the unattributed last.
    let mut districts: BTreeMap<(bool, String), UsageCounts> = BTreeMap::new();
    for row in input.by_district {
        let key = match row
            .group
            .filter(|g| !g.is_empty() && g != crate::usage::NO_GROUP)
        {
            Some(g) => (false, g),
            None => (true, NOT_ATTRIBUTED.to_string()),
        };
        districts.entry(key).or_default().add(&row.counts);
    }
    districts.retain(|_, c| !c.is_zero());
    let names: Vec<String> = districts.keys().map(|(_, n)| n.clone()).collect();
    let counts: Vec<UsageCounts> = districts.into_values().collect();
    let mut totals = UsageCounts::default();
    for c in &counts {
        totals.add(c);
    }

    let mut columns: BTreeMap<Measure, Vec<Cell>> = BTreeMap::new();
    let mut withheld = Vec::new();
    for m in Measure::ALL {
        let values: Vec<u64> = counts.iter().map(|c| *c.get(m)).collect();
        let total = *totals.get(m);
        let safe = if total > 0 && total < THRESHOLD {
            None
        } else {
            protect(&values)
        };
        let cells = safe.unwrap_or_else(|| {
            if values.iter().any(|v| *v > 0) {
                withheld.push(m.name());
            }
            vec![Cell::Withheld; values.len()]
        });
        columns.insert(m, cells);
    }
    let district_rows = names
        .into_iter()
        .enumerate()
        .map(|(i, district)| DistrictRow {
            district,
            figures: Measures::from_fn(|m| columns[&m][i]),
        })
        .collect();

    let mut by_month: BTreeMap<String, UsageCounts> = BTreeMap::new();
    for row in input.by_month {
        by_month.entry(row.period).or_default().add(&row.counts);
    }
    by_month.insert(month.to_string(), totals);
    let trend = month
        .last(TREND_MONTHS)
        .into_iter()
        .map(|m| {
            let c = by_month.get(&m.to_string()).copied().unwrap_or_default();
            TrendPoint {
                month: m.to_string(),
                figures: Measures::from_fn(|k| Cell::of(*c.get(k))),
            }
        })
        .collect();

    let mut notes = vec![
        format!(
            "Counts from 1 to {} are shown as \"<{THRESHOLD}\". Where a district's small count \
             could otherwise be worked out from the national figure, another district's figure \
             is also withheld; where that is not enough, only the national figure is given.",
            THRESHOLD - 1
        ),
        "Months are calendar months in Coordinated Universal Time (UTC).".to_string(),
        "Uses of the reserved training plates are not counted.".to_string(),
    ];
    match &input.source {
        Some(src) => {
            notes.push(format!(
                "Every figure but the integrity findings is counted from the first {} entries \
                 of the signed audit ledger (the tree head below), so anyone given the ledger \
                 can recompute it (`anpr report verify-transparency`). Uses are counted by the \
                 district of the officer; an alert once, when first delivered, by the district \
                 of the officer it was delivered to. Integrity findings come from the integrity \
                 unit's case register.",
                src.size
            ));
        }
        None => notes.push(
            "Searches, views and tracking are counted by the district of the officer; alerts by \
             the district of the tracking authorisation."
                .to_string(),
        ),
    }
    if input.generated_at < month.end() {
        notes.push(format!(
            "{} had not ended when this report was made; its figures are partial.",
            month.name()
        ));
    }
    if !input.findings_recorded {
        notes.push(
            "Integrity findings are not yet recorded by this deployment (shown as 0).".into(),
        );
    }

    TransparencyReport {
        title: format!("ANPR transparency report: {}", month.name()),
        month: month.to_string(),
        month_name: month.name(),
        generated_at: input.generated_at,
        suppression_threshold: THRESHOLD,
        measures: Measure::ALL
            .iter()
            .map(|m| MeasureInfo {
                name: m.name(),
                label: m.label(),
                description: m.description(),
            })
            .collect(),
        national: Measures::from_fn(|m| Cell::of(*totals.get(m))),
        districts: district_rows,
        district_breakdown_withheld: withheld,
        trend,
        notes,
        computed_from: input.source,
    }
}

/// The style of the platform's published pages.
pub const STYLE: &str =
    "body{font-family:sans-serif;max-width:64rem;margin:2rem auto;padding:0 1rem;\
color:#1a202c}table{border-collapse:collapse;margin:1rem 0}th,td{border:1px solid #cbd5e0;\
padding:.3rem .5rem;text-align:right}th:first-child,td:first-child{text-align:left}\
thead th{background:#edf2f7}.chart{margin:1.5rem 0}small{color:#4a5568}";

/// The report as one HTML page: no script, no external style, font or image.
pub fn to_html(r: &TransparencyReport) -> String {
    let mut h = String::new();
    let _ = write!(
        h,
        "<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{t}</title><style>{STYLE}</style></head><body><h1>{t}</h1>",
        t = escape(&r.title)
    );
    let _ = write!(
        h,
        "<p>How police used the automatic number-plate recognition platform in {m}: how often \
         they searched the sightings that camera networks share, asked to track a vehicle, and \
         were refused. Generated {g}. The same figures are published as JSON.</p>",
        m = escape(&r.month_name),
        g = r.generated_at.format("%Y-%m-%d %H:%M UTC")
    );

    h.push_str("<h2>National figures</h2><table><thead><tr><th>Measure</th><th>Count</th><th>What it counts</th></tr></thead><tbody>");
    for m in Measure::ALL {
        let _ = write!(
            h,
            "<tr><td>{}</td><td>{}</td><td style=\"text-align:left\">{}</td></tr>",
            escape(m.label()),
            escape(&r.national.get(m).text()),
            escape(m.description())
        );
    }
    h.push_str("</tbody></table>");

    let _ = write!(h, "<h2>Trends over {TREND_MONTHS} months</h2>");
    for m in CHARTED {
        let points: Vec<(String, Cell)> = r
            .trend
            .iter()
            .map(|p| (p.month.clone(), *p.figures.get(m)))
            .collect();
        let _ = write!(
            h,
            "<div class=\"chart\">{}</div>",
            chart::bars(&format!("{} per month", m.label()), &points)
        );
    }
    h.push_str("<table><thead><tr><th>Month</th>");
    for m in Measure::ALL {
        let _ = write!(h, "<th>{}</th>", escape(m.label()));
    }
    h.push_str("</tr></thead><tbody>");
    for p in &r.trend {
        let _ = write!(h, "<tr><td>{}</td>", escape(&p.month));
        for m in Measure::ALL {
            let _ = write!(h, "<td>{}</td>", escape(&p.figures.get(m).text()));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");

    let _ = write!(
        h,
        "<h2>By police district, {}</h2><table><thead><tr><th>District</th>",
        escape(&r.month_name)
    );
    for m in Measure::ALL {
        let _ = write!(h, "<th>{}</th>", escape(m.label()));
    }
    h.push_str("</tr></thead><tbody>");
    for d in &r.districts {
        let _ = write!(h, "<tr><td>{}</td>", escape(&d.district));
        for m in Measure::ALL {
            let _ = write!(h, "<td>{}</td>", escape(&d.figures.get(m).text()));
        }
        h.push_str("</tr>");
    }
    h.push_str("</tbody></table>");

    h.push_str("<h2>About these figures</h2><ul>");
    for n in &r.notes {
        let _ = write!(h, "<li>{}</li>", escape(n));
    }
    h.push_str("</ul>");
    if let Some(src) = &r.computed_from {
        let _ = write!(
            h,
            "<h2>The ledger these figures were computed from</h2><p id=\"tree-head\">Signed \
             tree head of the audit ledger: <strong>{size}</strong> entries, root hash \
             <code>{root}</code>, signed {time} by key <code>{key}</code>.</p>",
            size = src.size,
            root = escape(&src.root_hash),
            time = escape(src.tree_head["timestamp"].as_str().unwrap_or("")),
            key = escape(src.tree_head["key_id"].as_str().unwrap_or("")),
        );
        if src.cosigned_by.is_empty() {
            h.push_str("<p>No witness had cosigned this head when the report was made.</p>");
        } else {
            let _ = write!(
                h,
                "<p>Cosigned by the witnesses: {}.</p>",
                escape(&src.cosigned_by.join(", "))
            );
        }
        if let Some(c) = &src.checkpoint {
            let _ = write!(h, "<pre id=\"checkpoint\">{}</pre>", escape(c));
        }
    }
    h.push_str("</body></html>\n");
    h
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

    fn input() -> TransparencyInput {
        let month = Month::parse("month", "2026-10").unwrap();
        // Growth from dozens to 15,000 searches a month over two years.
        let by_month = month
            .last(TREND_MONTHS)
            .into_iter()
            .enumerate()
            .map(|(i, m)| {
                row(&m.to_string(), None, move |c| {
                    c.searches = 40 + (i as u64 * i as u64 * 26);
                    c.own_vehicle_blocks = (i % 3) as u64;
                })
            })
            .collect();
        let by_district = vec![
            row("2026-10", Some("Auckland City"), |c| {
                c.searches = 9000;
                c.own_vehicle_blocks = 2;
                c.tracking_requests = 120;
                c.alerts = 3;
            }),
            row("2026-10", Some("Canterbury"), |c| {
                c.searches = 6000;
                c.own_vehicle_blocks = 6;
                c.tracking_requests = 74;
                c.alerts = 3;
            }),
            row("2026-10", Some("Tasman"), |c| {
                c.searches = 17;
                c.own_vehicle_blocks = 30;
            }),
            row("2026-10", None, |c| c.findings_opened = 2),
        ];
        TransparencyInput {
            month,
            by_month,
            by_district,
            findings_recorded: true,
            generated_at: "2026-11-02T00:00:00Z".parse().unwrap(),
            source: None,
        }
    }

    #[test]
    fn national_figures_are_the_district_sums_with_small_counts_suppressed() {
        let r = build(input());
        assert_eq!(r.national.searches, Cell::Count(15017));
        assert_eq!(r.national.tracking_requests, Cell::Count(194));
        assert_eq!(r.national.own_vehicle_blocks, Cell::Count(38));
        assert_eq!(r.national.alerts, Cell::Count(6));
        assert_eq!(r.national.findings_opened, Cell::Small);
        assert_eq!(r.national.image_views, Cell::Count(0));
        // The month's trend point agrees with the national table, not the by-month input.
        let last = r.trend.last().unwrap();
        assert_eq!(last.month, "2026-10");
        assert_eq!(last.figures.searches, Cell::Count(15017));
    }

    #[test]
    fn district_cells_are_protected_against_subtraction() {
        let r = build(input());
        let names: Vec<&str> = r.districts.iter().map(|d| d.district.as_str()).collect();
        assert_eq!(
            names,
            ["Auckland City", "Canterbury", "Tasman", NOT_ATTRIBUTED]
        );
        let col =
            |m: Measure| -> Vec<Cell> { r.districts.iter().map(|d| *d.figures.get(m)).collect() };
        // Auckland's 2 own-vehicle blocks are "<5"; Canterbury's 6 (the smallest other) is
        // withheld so 38 - 30 cannot give it away; Tasman's 30 stays.
        assert_eq!(
            col(Measure::OwnVehicleBlocks),
            [Cell::Small, Cell::Withheld, Cell::Count(30), Cell::Count(0)]
        );
        // Alerts 3 + 3 = 6, published: each could be 2, 3 or 4 -> safe as they are.
        assert_eq!(
            col(Measure::Alerts),
            [Cell::Small, Cell::Small, Cell::Count(0), Cell::Count(0)]
        );
        // Findings: national 2 is itself "<5", so its breakdown is withheld.
        assert_eq!(col(Measure::FindingsOpened), [Cell::Withheld; 4]);
        assert!(r.district_breakdown_withheld.contains(&"findings_opened"));
        assert_eq!(col(Measure::Searches)[2], Cell::Count(17));
    }

    #[test]
    fn trend_covers_24_months_and_suppresses_each_small_month() {
        let r = build(input());
        assert_eq!(r.trend.len(), 24);
        assert_eq!(r.trend[0].month, "2024-11");
        assert_eq!(r.trend[0].figures.searches, Cell::Count(40));
        assert_eq!(r.trend[0].figures.own_vehicle_blocks, Cell::Count(0));
        assert_eq!(r.trend[1].figures.own_vehicle_blocks, Cell::Small);
        assert_eq!(r.trend[22].figures.searches, Cell::Count(40 + 22 * 22 * 26));
    }

    #[test]
    fn json_and_html_carry_no_unsuppressed_small_count() {
        let r = build(input());
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["national"]["findings_opened"], "<5");
        assert_eq!(json["districts"][0]["figures"]["own_vehicle_blocks"], "<5");
        assert_eq!(
            json["districts"][1]["figures"]["own_vehicle_blocks"],
            "withheld"
        );
        assert_eq!(json["trend"].as_array().unwrap().len(), 24);
        let html = to_html(&r);
        assert!(html.starts_with("<!DOCTYPE html>"));
        assert!(html.contains("<svg"));
        assert_eq!(html.matches("<svg").count(), CHARTED.len());
        assert!(!html.contains("<script"));
        // The only address in the page is the SVG namespace.
        assert_eq!(
            html.matches("http").count(),
            html.matches("xmlns=\"http://www.w3.org/2000/svg\"").count()
        );
        assert!(!html.contains("src=") && !html.contains("<link"));
        assert!(html.contains("Searches per month"));
        assert!(html.contains("15017") && html.contains("&lt;5"));
    }

    #[test]
    fn a_month_in_progress_says_so() {
        let mut i = input();
        i.generated_at = "2026-10-15T00:00:00Z".parse().unwrap();
        i.findings_recorded = false;
        let r = build(i);
        assert!(r.computed_from.is_none() && !to_html(&r).contains("tree-head"));
        assert!(r.notes.iter().any(|n| n.contains("had not ended")));
        assert!(r.notes.iter().any(|n| n.contains("not yet recorded")));
    }

    #[test]
    fn the_tree_head_is_stated_in_json_and_html() {
        let mut i = input();
        i.source = Some(LedgerSource {
            size: 42,
            root_hash: "ab".repeat(32),
            tree_head: serde_json::json!({"size": 42, "root_hash": "ab".repeat(32),
                "timestamp": "2026-11-01T00:00:00Z", "key_id": "0011223344556677",
                "signature": "cd".repeat(64)}),
            checkpoint: Some("anpr-audit-ledger/x\n42\nq83vq83v\n\n\u{2014} w1 AAAA\n".into()),
            cosigned_by: vec!["oversight.example/w1".into()],
        });
        let r = build(i);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["computed_from"]["size"], 42);
        assert_eq!(
            json["computed_from"]["cosigned_by"][0],
            "oversight.example/w1"
        );
        let html = to_html(&r);
        assert!(html.contains("<strong>42</strong> entries"), "{html}");
        assert!(html.contains(&"ab".repeat(32)));
        assert!(html.contains("Cosigned by the witnesses: oversight.example/w1"));
        assert!(r.notes.iter().any(|n| n.contains("first 42 entries")));
    }
}

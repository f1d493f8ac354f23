//! The answer to a subject access request about one plate: the sightings of it still held
//! (where and when), and how many police queries touched it, with the details of those linked
//! to an open incident withheld (disclosing them could prejudice an investigation; the Privacy
//! Act allows withholding on that ground).

pub use anpr_domain::usage::PlateQuery;
use chrono::{DateTime, Utc};
use serde::Serialize;
use std::fmt::Write;

/// One sighting still held.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct HeldRead {
    pub read_id: i64,
    pub captured_at: DateTime<Utc>,
    pub site: String,
    pub network: String,
    pub district: String,
}

/// A query disclosed to the person: when, what kind, what purpose, whether it was allowed.
/// Never who made it or the file number.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DisclosedQuery {
    pub at: DateTime<Utc>,
    pub action: String,
    pub outcome: String,
    pub purpose_code: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SubjectAccessReport {
    pub plate: String,
    /// The request's own reference, when given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reference: Option<String>,
    pub generated_at: DateTime<Utc>,
    /// Sightings up to this time are listed and counted; newer ones (the near-live window)
    /// are withheld (see the notes).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reads_until: Option<DateTime<Utc>>,
    /// How many sightings of the plate are held (up to `reads_until`).
    pub reads_held: u64,
    /// The sightings, newest first (at most the listing limit; `reads_held` counts them all).
    pub reads: Vec<HeldRead>,
    /// Police queries that touched the plate: exact searches, wildcard and fuzzy searches whose
    /// pattern matches it, views of its sightings, tracking and look-back requests.
    pub queries_total: u64,
    /// Of those, how many are linked to an incident that is still open; their details are
    /// withheld.
    pub queries_withheld: u64,
    /// The others, newest first.
    pub queries: Vec<DisclosedQuery>,
    pub notes: Vec<String>,
}

pub fn assemble(
    plate: &str,
    reference: Option<String>,
    reads_held: u64,
    reads: Vec<HeldRead>,
    mut queries: Vec<PlateQuery>,
    generated_at: DateTime<Utc>,
) -> SubjectAccessReport {
    queries.sort_by_key(|q| std::cmp::Reverse(q.at));
    let queries_total = queries.len() as u64;
    let queries_withheld = queries.iter().filter(|q| q.open_incident).count() as u64;
    let disclosed: Vec<DisclosedQuery> = queries
        .into_iter()
        .filter(|q| !q.open_incident)
        .map(|q| DisclosedQuery {
            at: q.at,
            action: q.action,
            outcome: q.outcome,
            purpose_code: q.purpose_code,
        })
        .collect();
    let mut notes = vec![
        "Sightings past their network's retention period have been deleted and are not listed."
            .to_string(),
        "Who made each query and its incident file number are not disclosed.".to_string(),
    ];
    if reads_held > reads.len() as u64 {
        notes.push(format!(
            "{} sightings are held; the newest {} are listed.",
            reads_held,
            reads.len()
        ));
    }
    if queries_withheld > 0 {
        notes.push(format!(
            "The details of {queries_withheld} queries are withheld because they are linked to \
             an investigation that is still open."
        ));
    }
    SubjectAccessReport {
        plate: plate.to_string(),
        reference,
        generated_at,
        reads_until: None,
        reads_held,
        reads,
        queries_total,
        queries_withheld,
        queries: disclosed,
        notes,
    }
}

impl SubjectAccessReport {
    /// Marks the report as listing sightings up to `until` only, with `why` (the policy's
    /// words) among its notes.
    pub fn withholding_after(mut self, until: DateTime<Utc>, why: String) -> SubjectAccessReport {
        self.reads_until = Some(until);
        self.notes.insert(0, why);
        self
    }
}

/// The report as plain text, for the command line.
pub fn to_text(r: &SubjectAccessReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "Subject access report for plate {}", r.plate);
    if let Some(reference) = &r.reference {
        let _ = writeln!(s, "Request reference: {reference}");
    }
    let _ = writeln!(
        s,
        "Generated: {}",
        r.generated_at.format("%Y-%m-%d %H:%M:%S UTC")
    );
    let _ = writeln!(s, "\nSightings held: {}", r.reads_held);
    if let Some(until) = r.reads_until {
        let _ = writeln!(
            s,
            "  (up to {}; newer sightings are withheld)",
            until.format("%Y-%m-%d %H:%M:%S UTC")
        );
    }
    for read in &r.reads {
        let _ = writeln!(
            s,
            "  {}  {} ({}, {} district)",
            read.captured_at.format("%Y-%m-%d %H:%M:%S UTC"),
            read.site,
            read.network,
            read.district
        );
    }
    let _ = writeln!(
        s,
        "\nPolice queries that touched the plate: {} ({} withheld: linked to an open \
         investigation)",
        r.queries_total, r.queries_withheld
    );
    for q in &r.queries {
        let _ = writeln!(
            s,
            "  {}  {} ({}){}",
            q.at.format("%Y-%m-%d %H:%M:%S UTC"),
            q.action,
            q.outcome,
            q.purpose_code
                .as_ref()
                .map(|p| format!(", purpose {p}"))
                .unwrap_or_default()
        );
    }
    for n in &r.notes {
        let _ = writeln!(s, "\nNote: {n}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn q(at: &str, open: bool) -> PlateQuery {
        PlateQuery {
            at: at.parse().unwrap(),
            action: "search".into(),
            outcome: "allowed".into(),
            purpose_code: Some("burglary".into()),
            open_incident: open,
        }
    }

    #[test]
    fn queries_on_open_incidents_are_counted_not_described() {
        let r = assemble(
            "ABC123",
            Some("PA-2026-7".into()),
            3,
            vec![],
            vec![
                q("2026-10-01T00:00:00Z", true),
                q("2026-10-02T00:00:00Z", false),
                q("2026-10-03T00:00:00Z", false),
            ],
            "2026-11-01T00:00:00Z".parse().unwrap(),
        );
        assert_eq!(r.queries_total, 3);
        assert_eq!(r.queries_withheld, 1);
        assert_eq!(r.queries.len(), 2);
        assert_eq!(r.queries[0].at.to_rfc3339(), "2026-10-03T00:00:00+00:00");
        assert!(r.notes.iter().any(|n| n.contains("3 sightings are held")));
        let text = to_text(&r);
        assert!(text.contains("Police queries that touched the plate: 3 (1 withheld"));
        assert!(text.contains("PA-2026-7"));
        let json = serde_json::to_string(&r).unwrap();
        assert!(!json.contains("file_number") && !json.contains("staff"));
    }
}

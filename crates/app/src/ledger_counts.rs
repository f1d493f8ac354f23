//! The public transparency report's counts, from the audit ledger's entries.
//!
//! The report used to count the store's own tables (the decisions, the alerts). Those cannot be
//! recomputed by anyone holding only the ledger: a decision is not an entry (one request may
//! record several, and refusals for malformed input record none), an alert raised is not an
//! entry (its deliveries are), and the store's rows can change without the ledger noticing. So
//! the report counts the ledger's entries up to a signed tree head, with the rules below, and
//! `anpr report verify-transparency` runs the very same function over a downloaded ledger. The
//! integrity findings stay the case register's (the ledger records the runs, not each
//! finding), and the report says so.
//!
//! | measure | entries counted (by members of staff) |
//! |---|---|
//! | `searches` | `search`, granted, not of a training plate |
//! | `read_views` / `image_views` | `read_view` / `image_view`, granted |
//! | `tracking_requests` | `tracking_request` granted, pending, or refused by the policy |
//! | `tracking_approvals` | `tracking_approval`, granted |
//! | `tracking_refusals` | `tracking_refusal` granted, and `tracking_request` refused by the policy |
//! | `alerts` | each watch alert once (`alert_delivered` of kind `watch`, its first delivery) |
//! | `denied_attempts` | any entry the policy refused (it records a `refusal_code`) |
//! | `own_vehicle_blocks` | of those, `refusal_code` `own_vehicle` |
//!
//! Each is counted in the month of the entry's time (UTC) and the acting officer's `district`
//! fact (absent: not attributed).

use anpr_domain::usage::{UsageCounts, UsageRow, NO_GROUP};
use anpr_ledger::{Action, ActorKind, Event, OutcomeKind};
use anpr_reports::transparency::TREND_MONTHS;
use anpr_reports::Month;
use std::collections::{BTreeMap, HashSet};

/// What the report needs of the ledger: national counts per month over the trend window, and
/// the report month's counts per district.
#[derive(Debug, Default)]
pub struct LedgerCounts {
    by_month: BTreeMap<String, UsageCounts>,
    by_district: BTreeMap<String, UsageCounts>,
    alerts_seen: HashSet<i64>,
    month: Option<Month>,
}

impl LedgerCounts {
    /// Counts for the transparency report of `month`.
    pub fn new(month: Month) -> Self {
        LedgerCounts {
            month: Some(month),
            ..Default::default()
        }
    }

    /// Counts one entry (entries in log order: an alert is counted at its first delivery).
    pub fn add(&mut self, e: &Event) {
        let Some(month) = self.month else { return };
        if e.actor.kind != ActorKind::Staff {
            return;
        }
        let facts = e.audit_facts();
        let granted = e.outcome.result == OutcomeKind::Granted;
        let policy_refused =
            e.outcome.result == OutcomeKind::Refused && facts.refusal_code.is_some();
        let mut c = UsageCounts::default();
        match e.action {
            Action::Search if granted && facts.training != Some(true) => c.searches = 1,
            Action::ReadView if granted => c.read_views = 1,
            Action::ImageView if granted => c.image_views = 1,
            Action::TrackingRequest => {
                if granted || e.outcome.result == OutcomeKind::Pending || policy_refused {
                    c.tracking_requests = 1;
                }
                if policy_refused {
                    c.tracking_refusals = 1;
                }
            }
            Action::TrackingApproval if granted => c.tracking_approvals = 1,
            Action::TrackingRefusal if granted => c.tracking_refusals = 1,
            Action::AlertDelivered if granted && e.query["kind"] == "watch" => {
                if let Some(id) = e.query["alert_id"].as_i64() {
                    if self.alerts_seen.insert(id) {
                        c.alerts = 1;
                    }
                }
            }
            _ => {}
        }
        if policy_refused {
            c.denied_attempts = 1;
            if facts.refusal_code.as_deref() == Some("own_vehicle") {
                c.own_vehicle_blocks = 1;
            }
        }
        if c.is_zero() {
            return;
        }
        let m = Month::of(e.time);
        if m > month || m < month.plus(1 - TREND_MONTHS as i32) {
            return;
        }
        self.by_month.entry(m.to_string()).or_default().add(&c);
        if m == month {
            let district = facts
                .district
                .as_deref()
                .filter(|d| !d.trim().is_empty())
                .unwrap_or(NO_GROUP)
                .to_string();
            self.by_district.entry(district).or_default().add(&c);
        }
    }

    /// The rows the report is built from: national by month, and by district for its month.
    pub fn rows(self) -> (Vec<UsageRow>, Vec<UsageRow>) {
        let month = self.month.map(|m| m.to_string()).unwrap_or_default();
        let by_month = self
            .by_month
            .into_iter()
            .map(|(period, counts)| UsageRow {
                period,
                group: None,
                counts,
            })
            .collect();
        let by_district = self
            .by_district
            .into_iter()
            .map(|(group, counts)| UsageRow {
                period: month.clone(),
                group: Some(group),
                counts,
            })
            .collect();
        (by_month, by_district)
    }
}

/// What a published transparency report is checked against: the ledger's entries, in order
/// from index 0 (at least as many as the head the report states).
pub struct VerifyInput<'a> {
    /// The report as published (JSON).
    pub report: &'a serde_json::Value,
    /// The ledger's entries, from index 0.
    pub entries: &'a [anpr_ledger::StoredEntry],
    /// The deployment's public key, to check the head's signature (without it, only that the
    /// entries hash to the head's root).
    pub public_key: Option<&'a anpr_ledger::keys::VerifyingKey>,
}

/// Recomputes a published transparency report from the ledger: the entries must be the ones
/// the report's signed tree head commits to (each leaf hash, then the root; the signature when
/// a key is given), and every figure counted from the ledger (all but the integrity findings)
/// must be what the same counting over those entries gives, suppression included. Returns what
/// was checked, in words, or every difference found.
pub fn verify_report(input: VerifyInput<'_>) -> Result<String, Vec<String>> {
    use anpr_reports::transparency::{self, LedgerSource, TransparencyInput, FROM_LEDGER};
    let fail = |m: String| Err(vec![m]);
    let report = input.report;
    let Some(month) = report["month"]
        .as_str()
        .and_then(|m| Month::parse("month", m).ok())
    else {
        return fail(
            "the report names no month (YYYY-MM): is it a transparency report's JSON?".into(),
        );
    };
    let Some(generated_at) = report["generated_at"]
        .as_str()
        .and_then(|t| t.parse::<chrono::DateTime<chrono::Utc>>().ok())
    else {
        return fail("the report has no generated_at time".into());
    };
    let source: LedgerSource = match serde_json::from_value(report["computed_from"].clone()) {
        Ok(s) => s,
        Err(_) => {
            return fail(
                "the report states no signed tree head (computed_from): it was not computed \
                 from the ledger and cannot be verified from it"
                    .into(),
            )
        }
    };
    let size = source.size as usize;
    if input.entries.len() < size {
        return fail(format!(
            "the ledger download holds {} entries, and the report's tree head covers {size}: \
             download the ledger up to that head at least",
            input.entries.len()
        ));
    }
    // The entries are the head's: each leaf hash is its body's, and they make its root.
    let mut frontier = anpr_ledger::merkle::Frontier::new();
    for (i, e) in input.entries[..size].iter().enumerate() {
        if e.index != i as u64 {
            return fail(format!(
                "the ledger download is not in order: entry {i} is numbered {}",
                e.index
            ));
        }
        let leaf = anpr_ledger::entry_leaf_hash(e.body.as_bytes());
        if leaf != e.leaf_hash {
            return fail(format!(
                "entry {i}'s body does not hash to its leaf hash: the download was altered"
            ));
        }
        frontier.push(leaf, |_, _, _| {});
    }
    let root = hex::encode(frontier.root());
    if root != source.root_hash || source.tree_head["root_hash"] != root.as_str() {
        return fail(format!(
            "the first {size} entries of the ledger have the root {root}, not the root the \
             report's tree head states ({}): the report was not computed from this ledger, or \
             one of them was altered",
            source.root_hash
        ));
    }
    let mut checked = format!("the {size} entries hash to the report's tree head ({root})");
    if let Some(key) = input.public_key {
        let head: anpr_ledger::TreeHead = match serde_json::from_value(source.tree_head.clone()) {
            Ok(h) => h,
            Err(e) => return fail(format!("the report's tree head cannot be read: {e}")),
        };
        if head.size != source.size {
            return fail("the report's tree head and its size disagree".into());
        }
        if let Err(e) = head.verify_signature(key) {
            return fail(format!(
                "the report's tree head is not signed by the key given: {e}"
            ));
        }
        checked.push_str(", signed by the deployment's key");
    }
    let mut counts = LedgerCounts::new(month);
    for e in &input.entries[..size] {
        match Event::decode(e.body.as_bytes()) {
            Ok(event) => counts.add(&event),
            Err(err) => return fail(format!("entry {} cannot be read: {err}", e.index)),
        }
    }
    let (by_month, by_district) = counts.rows();
    let rebuilt = transparency::build(TransparencyInput {
        month,
        by_month,
        by_district,
        findings_recorded: true,
        generated_at,
        source: Some(source),
    });
    let rebuilt = serde_json::to_value(&rebuilt).expect("a report serialises");
    let zero = serde_json::json!(0);
    let mut differences = Vec::new();
    let mut compare =
        |what: &str, published: &serde_json::Value, recomputed: &serde_json::Value| {
            for m in FROM_LEDGER {
                let (p, r) = (&published[m.name()], &recomputed[m.name()]);
                let p = if p.is_null() { &zero } else { p };
                let r = if r.is_null() { &zero } else { r };
                if p != r {
                    differences.push(format!(
                        "{what}, {}: the report says {p}, the ledger gives {r}",
                        m.label()
                    ));
                }
            }
        };
    compare("national", &report["national"], &rebuilt["national"]);
    let trend = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v["trend"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|p| {
                (
                    p["month"].as_str().unwrap_or("").to_string(),
                    p["figures"].clone(),
                )
            })
            .collect()
    };
    let (published, recomputed) = (trend(report), trend(&rebuilt));
    for m in published
        .keys()
        .chain(recomputed.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let none = serde_json::Value::Null;
        compare(
            &format!("month {m}"),
            published.get(m).unwrap_or(&none),
            recomputed.get(m).unwrap_or(&none),
        );
    }
    let districts = |v: &serde_json::Value| -> BTreeMap<String, serde_json::Value> {
        v["districts"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|d| {
                (
                    d["district"].as_str().unwrap_or("").to_string(),
                    d["figures"].clone(),
                )
            })
            .collect()
    };
    let (published, recomputed) = (districts(report), districts(&rebuilt));
    for d in published
        .keys()
        .chain(recomputed.keys())
        .collect::<std::collections::BTreeSet<_>>()
    {
        let none = serde_json::Value::Null;
        compare(
            &format!("district {d}"),
            published.get(d).unwrap_or(&none),
            recomputed.get(d).unwrap_or(&none),
        );
    }
    if differences.is_empty() {
        Ok(format!(
            "{checked}; every figure but the integrity findings is what those entries give \
             ({} months, {} districts)",
            recomputed_len(&rebuilt["trend"]),
            recomputed_len(&rebuilt["districts"])
        ))
    } else {
        Err(differences)
    }
}

fn recomputed_len(v: &serde_json::Value) -> usize {
    v.as_array().map_or(0, Vec::len)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_ledger::{Actor, AuditFacts, Outcome};

    fn at(t: &str) -> chrono::DateTime<chrono::Utc> {
        t.parse().unwrap()
    }

    fn staff(action: Action, time: &str, outcome: Outcome, facts: AuditFacts) -> Event {
        Event::new(Actor::staff("S1", "searcher"), action)
            .at(at(time))
            .facts(facts.district("Waikato"))
            .outcome(outcome)
    }

    #[test]
    fn counts_follow_the_measures_rules() {
        let month = Month::parse("month", "2026-10").unwrap();
        let mut c = LedgerCounts::new(month);
        let t = "2026-10-05T10:00:00Z";
        let none = AuditFacts::new;
        for e in [
            staff(Action::Search, t, Outcome::granted(), none()),
            staff(Action::Search, t, Outcome::granted(), none().training(true)),
            staff(
                Action::Search,
                t,
                Outcome::refused("x"),
                none().refusal_code("own_vehicle"),
            ),
            // Refused for a malformed request, not by the policy: no denied attempt.
            staff(Action::Search, t, Outcome::refused("bad plate"), none()),
            staff(
                Action::TrackingRequest,
                t,
                Outcome::pending("supervisor"),
                none(),
            ),
            staff(
                Action::TrackingRequest,
                t,
                Outcome::refused("x"),
                none().refusal_code("no_basis"),
            ),
            staff(Action::TrackingApproval, t, Outcome::granted(), none()),
            staff(
                Action::ReadView,
                "2026-09-30T23:59:59Z",
                Outcome::granted(),
                none(),
            ),
            // After the report month: not counted.
            staff(
                Action::Search,
                "2026-11-01T00:00:00Z",
                Outcome::granted(),
                none(),
            ),
        ] {
            c.add(&e);
        }
        let alert = |id: i64| {
            Event::new(Actor::staff("S1", "tracker"), Action::AlertDelivered)
                .at(at(t))
                .query(serde_json::json!({"alert_id": id, "kind": "watch"}))
                .facts(AuditFacts::new().district("Waikato"))
                .outcome(Outcome::granted())
        };
        for e in [alert(1), alert(1), alert(2)] {
            c.add(&e);
        }
        c.add(
            &Event::new(Actor::system(), Action::Search)
                .at(at(t))
                .outcome(Outcome::granted()),
        );
        let (by_month, by_district) = c.rows();
        assert_eq!(by_month.len(), 2);
        let oct = &by_month[1].counts;
        assert_eq!(by_month[1].period, "2026-10");
        assert_eq!(oct.searches, 1);
        assert_eq!(oct.denied_attempts, 2);
        assert_eq!(oct.own_vehicle_blocks, 1);
        assert_eq!(oct.tracking_requests, 2);
        assert_eq!(oct.tracking_refusals, 1);
        assert_eq!(oct.tracking_approvals, 1);
        assert_eq!(oct.alerts, 2);
        assert_eq!(by_month[0].counts.read_views, 1);
        assert_eq!(by_district.len(), 1);
        assert_eq!(by_district[0].group.as_deref(), Some("Waikato"));
        assert_eq!(by_district[0].counts, *oct);
    }
}

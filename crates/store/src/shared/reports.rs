//! What the usage counts count and which recorded queries touched a plate, alike on both
//! backends.

use crate::dictionary::edit_distance_within;
use anpr_domain::confusion::class_key;
use anpr_domain::query::wildcard_matches;
use anpr_domain::usage::{Grouping, Measure, Measures, UsageCounts, UsageRow};

/// What each decision count of the usage report counts, as a condition on the `decisions` row
/// `d` that both SQL dialects read alike, so that the backends cannot count differently; each
/// backend only adds up the rows that meet it in its own syntax.
pub(crate) const DECISION_COUNTS: [(Measure, &str); 8] = [
    (
        Measure::Searches,
        "d.action = 'search' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (
        Measure::ReadViews,
        "d.action = 'view_read' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (
        Measure::ImageViews,
        "d.action = 'view_image' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (Measure::TrackingRequests, "d.action = 'tracking_request'"),
    (
        Measure::TrackingApprovals,
        "d.action = 'tracking_approve' AND d.outcome = 'allowed'",
    ),
    // A request the policy refused outright never reaches a supervisor, but is a refusal all
    // the same.
    (
        Measure::TrackingRefusals,
        "(d.action = 'tracking_refuse' AND d.outcome = 'allowed') \
         OR (d.action = 'tracking_request' AND d.outcome = 'refused')",
    ),
    (Measure::DeniedAttempts, "d.outcome = 'refused'"),
    (
        Measure::OwnVehicleBlocks,
        "d.outcome = 'refused' AND d.refusal_code = 'own_vehicle'",
    ),
];

/// The group key of decision counts (over `decisions d`) and the join it needs. A decision
/// reaching several networks is counted once under each.
pub(crate) fn decision_group(by: Grouping) -> (&'static str, &'static str) {
    match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(d.district, '')", ""),
        Grouping::Purpose => ("NULLIF(d.purpose_code, '')", ""),
        Grouping::Network => (
            "n.name",
            "LEFT JOIN decision_networks dn ON dn.decision_id = d.id \
             LEFT JOIN networks n ON n.id = dn.network_id",
        ),
    }
}

/// The group key of alert counts (over `alerts a`) and the join it needs: an alert's purpose
/// is its authorisation's (a hot-list alert has none).
pub(crate) fn alert_group(by: Grouping) -> (&'static str, &'static str) {
    match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(a.district, '')", ""),
        Grouping::Purpose => (
            "NULLIF(au.purpose_code, '')",
            "LEFT JOIN authorisations au ON au.id = a.authorisation_id",
        ),
        Grouping::Network => ("n.name", "LEFT JOIN networks n ON n.id = a.network_id"),
    }
}

/// The group key of finding counts (over `integrity_cases`): a finding is about a member of
/// staff, so it has a district but no purpose or network.
pub(crate) fn finding_group(by: Grouping) -> &'static str {
    match by {
        Grouping::District => "NULLIF(district, '')",
        _ => "NULL",
    }
}

/// A partial usage row whose `values[i]` counts `measures[i]`; other measures are 0.
pub(crate) fn usage_row(
    period: Option<String>,
    group: Option<String>,
    measures: &[Measure],
    values: &[Option<i64>],
) -> UsageRow {
    let counts: UsageCounts = Measures::from_fn(|m| {
        measures
            .iter()
            .position(|x| *x == m)
            .and_then(|i| values.get(i).copied().flatten())
            .unwrap_or(0)
            .max(0) as u64
    });
    UsageRow {
        period: period.unwrap_or_default(),
        group,
        counts,
    }
}

/// `LIKE` patterns (no escape character) that a view of one of `plate`'s reads and a look-back
/// for it match, so that a backend can narrow the decisions to those [`target_touches`] may
/// accept before it decides.
pub(crate) fn plate_target_likes(plate: &str) -> (String, String) {
    (format!("read % ({plate})"), format!("{plate} from %"))
}

/// Whether a decision's target (as `anpr-policy` writes it) is about `plate`.
pub(crate) fn target_touches(target: &str, plate: &str) -> bool {
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

#[cfg(test)]
mod tests {
    use super::*;

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

    #[test]
    fn a_usage_row_holds_its_measures_and_zero_for_the_rest() {
        let r = usage_row(
            Some("2026-10".into()),
            None,
            &[Measure::Searches, Measure::Alerts, Measure::ReadViews],
            &[Some(3), None, Some(-1)],
        );
        assert_eq!(r.period, "2026-10");
        assert_eq!(r.counts.searches, 3);
        assert_eq!(r.counts.alerts, 0);
        assert_eq!(r.counts.read_views, 0);
        assert_eq!(usage_row(None, None, &[], &[]).period, "");
    }
}

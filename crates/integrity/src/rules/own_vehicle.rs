//! Rule 1: a search, view or tracking request for a plate registered to the member of staff,
//! to someone at their home address or to a declared associate; a privacy officer's subject
//! access request about such a plate; and a wildcard or fuzzy search that would have reached
//! one. Attempts the policy refused count too (the block stopped the data, not the intent), and
//! repeated attempts escalate.
//!
//! Evidence model (a finding at 4):
//! - an exact plate connected to them (searched, viewed, tracked, or asked about in a subject
//!   access request), or a use the policy refused with `own_vehicle`: +4 — conclusive alone,
//!   since no duty of theirs needs it;
//! - a wildcard or fuzzy search whose pattern covers a connected plate (up to OCR confusions),
//!   weighed by how few plates the pattern leaves open: at most one open character (or one
//!   edit) +4, two or three +2, more +1. The policy drops their vehicles from the results, so
//!   what is judged is the aim: a pattern that is their plate but for a character is aimed at
//!   it; a broad partial plate from a witness covers thousands of plates and theirs by chance.
//!   Pattern scores add up per connected plate.

use crate::engine::{when, Engine, StaffIx};
use crate::evidence::Evidence;
use crate::finding::{Rule, Severity};
use crate::hash::hash_str;
use crate::usage::{Use, UseKind};
use anpr_policy::registers::Connection;

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 4;

fn wording(c: Option<Connection>) -> &'static str {
    match c {
        Some(Connection::Own) => "registered to them",
        Some(Connection::Household) => "registered to someone at their home address",
        Some(Connection::Associate) => "registered to a person they declared as an associate",
        None => "connected to them (the policy's own-vehicle block refused it)",
    }
}

impl Engine {
    pub(crate) fn check_own_vehicle(&mut self, s: StaffIx, u: &Use) {
        if u.plate.is_none() {
            if u.pattern.is_some() {
                self.check_own_vehicle_pattern(s, u);
            }
            return;
        }
        let Some(plate) = &u.plate else { return };
        let connection = self.staff[s as usize]
            .profile
            .connected
            .iter()
            .find(|c| &c.plate == plate)
            .map(|c| c.connection);
        if connection.is_none() && !u.refused_as("own_vehicle") {
            return;
        }
        let attempts = self.finding_uses(Rule::OwnVehicle, s, plate) + 1;
        let severity = if u.kind == UseKind::TrackingRequest {
            Severity::Critical
        } else if u.granted || attempts >= self.cfg.own_vehicle.escalate_after as u64 {
            Severity::High
        } else {
            Severity::Medium
        };
        let what = match u.kind {
            UseKind::TrackingRequest => "Tracking request",
            UseKind::SubjectAccess => "Subject access request",
            _ => "Query",
        };
        let mut e = Evidence::new();
        e.add(
            4,
            format!(
                "a {} on {} of plate {plate}, which is {}{}",
                u.kind.as_str(),
                when(u.at),
                wording(connection),
                if u.granted {
                    " (granted)"
                } else {
                    " (refused by the policy)"
                },
            ),
        );
        let explanation = format!(
            "{what} of plate {plate}, which is {}: {} so far. Staff may not use the platform \
             for vehicles connected to them{}. {}",
            wording(connection),
            crate::evidence::count(attempts, "attempt", "attempts"),
            if u.kind == UseKind::SubjectAccess {
                ", nor answer subject access requests about them"
            } else {
                ""
            },
            e.summary(FINDING_AT)
        );
        self.report(
            Rule::OwnVehicle,
            severity,
            s,
            plate,
            &[u.index],
            u.at,
            explanation,
        );
    }

    /// A wildcard or fuzzy search that covers a connected plate, weighed by its aim.
    fn check_own_vehicle_pattern(&mut self, s: StaffIx, u: &Use) {
        let Some(pattern) = &u.pattern else { return };
        let covered: Vec<(String, Connection)> = self.staff[s as usize]
            .profile
            .connected
            .iter()
            .filter(|c| pattern.covers(&c.plate))
            .map(|c| (c.plate.clone(), c.connection))
            .collect();
        for (plate, connection) in covered {
            let open = pattern.openness();
            let weight = match open {
                0 | 1 => 4,
                2 | 3 => 2,
                _ => 1,
            };
            let e = self.own_patterns.entry((s, hash_str(&plate))).or_default();
            e.add(
                weight,
                format!(
                    "on {} a {} search for {} ({} open), which covers {plate}",
                    when(u.at),
                    match pattern.mode() {
                        anpr_domain::query::MatchMode::Fuzzy => "fuzzy",
                        _ => "wildcard",
                    },
                    pattern.describe(),
                    crate::evidence::count(open, "character", "characters"),
                ),
            );
            if !e.reaches(FINDING_AT) {
                continue;
            }
            let explanation = format!(
                "Searches by pattern aimed at plate {plate}, which is {}: the policy kept it out \
                 of the results, but the patterns leave so little open that they point at it. {}",
                wording(Some(connection)),
                e.summary(FINDING_AT)
            );
            self.report(
                Rule::OwnVehicle,
                Severity::High,
                s,
                &plate,
                &[u.index],
                u.at,
                explanation,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::{Rule, Severity};
    use crate::usage::UseKind;

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.own_vehicle.enabled = true)
    }

    #[test]
    fn own_and_household_plates_are_found_and_refusals_count() {
        let m = facts();
        let mut refused = search(2, t(1, 11, 0), "S1", "HOU111");
        refused.granted = false;
        refused.refusal_code = Some("own_vehicle".into());
        let f = run(
            cfg(),
            &m,
            &[search(1, t(1, 10, 0), "S1", "ABC123"), refused],
            Rule::OwnVehicle,
        );
        assert_eq!(f.len(), 2);
        let own = f.iter().find(|f| f.key == "ABC123").unwrap();
        assert_eq!(own.severity, Severity::High);
        assert_eq!(own.evidence, vec![1]);
        assert!(own.explanation.contains("registered to them"));
        let house = f.iter().find(|f| f.key == "HOU111").unwrap();
        assert_eq!(house.severity, Severity::Medium);
        assert!(house.explanation.contains("home address"));
    }

    #[test]
    fn repeated_refused_attempts_escalate_and_tracking_is_critical() {
        let m = facts();
        let attempts: Vec<_> = (0..3)
            .map(|i| {
                let mut u = search(i, t(1, 10, i as u32), "S1", "ABC123");
                u.granted = false;
                u.refusal_code = Some("own_vehicle".into());
                u
            })
            .collect();
        let f = run(cfg(), &m, &attempts[..2], Rule::OwnVehicle);
        assert_eq!(f[0].severity, Severity::Medium);
        let f = run(cfg(), &m, &attempts, Rule::OwnVehicle);
        assert_eq!((f[0].severity, f[0].uses), (Severity::High, 3));
        let mut track = search(9, t(2, 10, 0), "S1", "ABC123");
        track.kind = UseKind::TrackingRequest;
        let f = run(cfg(), &m, &[track], Rule::OwnVehicle);
        assert_eq!(f[0].severity, Severity::Critical);
    }

    #[test]
    fn other_peoples_plates_and_patterns_are_not_findings() {
        let m = facts();
        // A broad partial plate that covers theirs by chance.
        let mut pattern = search(3, t(1, 10, 0), "S1", "ABC123");
        pattern.plate = None;
        pattern.pattern = anpr_domain::PlatePattern::parse("AB*", None, None).ok();
        let uses = [
            search(1, t(1, 10, 0), "S1", "XYZ999"),
            search(2, t(1, 10, 0), "S2", "ABC123"),
            pattern,
        ];
        assert!(run(cfg(), &m, &uses, Rule::OwnVehicle).is_empty());
        // Switched off, nothing.
        let off = only(|_| {});
        assert!(run(
            off,
            &m,
            &[search(1, t(1, 10, 0), "S1", "ABC123")],
            Rule::OwnVehicle
        )
        .is_empty());
    }

    #[test]
    fn a_pattern_aimed_at_their_plate_and_a_subject_access_request_are_findings() {
        let m = facts();
        let mut pattern = search(3, t(1, 10, 0), "S1", "ABC123");
        pattern.plate = None;
        pattern.pattern = anpr_domain::PlatePattern::parse("A8C12?", None, None).ok();
        let f = run(cfg(), &m, &[pattern.clone()], Rule::OwnVehicle);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "ABC123");
        assert!(f[0].explanation.contains("A8C12?"), "{}", f[0].explanation);
        // Two half-open patterns add up; one does not.
        let mut half = pattern.clone();
        half.pattern = anpr_domain::PlatePattern::parse("AB??23", None, None).ok();
        assert!(run(cfg(), &m, &[half.clone()], Rule::OwnVehicle).is_empty());
        let mut again = half.clone();
        again.index = 4;
        assert_eq!(run(cfg(), &m, &[half, again], Rule::OwnVehicle).len(), 1);
        let mut sar = search(5, t(1, 10, 0), "S1", "HOU111");
        sar.kind = UseKind::SubjectAccess;
        let f = run(cfg(), &m, &[sar], Rule::OwnVehicle);
        assert_eq!(f.len(), 1);
        assert!(f[0].explanation.starts_with("Subject access request"));
    }
}

//! Rule 1: a search, view or tracking request for a plate registered to the member of staff,
//! to someone at their home address or to a declared associate. Attempts the policy refused
//! count too (the block stopped the data, not the intent), and repeated attempts escalate.

use crate::engine::{when, Engine, StaffIx};
use crate::finding::{Rule, Severity};
use crate::usage::{Use, UseKind};
use anpr_policy::registers::Connection;

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
        let explanation = format!(
            "{} of plate {plate}, which is {}: {} attempt(s) so far, the latest a {} on {}{}. \
             Staff may not use the platform for vehicles connected to them.",
            if u.kind == UseKind::TrackingRequest {
                "Tracking request"
            } else {
                "Query"
            },
            wording(connection),
            attempts,
            u.kind.as_str(),
            when(u.at),
            if u.granted {
                " (granted)"
            } else {
                " (refused by the policy)"
            },
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
        let mut pattern = search(3, t(1, 10, 0), "S1", "ABC123");
        pattern.plate = None; // a wildcard: the policy excludes own plates from its results
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
}

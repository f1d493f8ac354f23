//! Rule 2: a stolen report used to unlock tracking. The policy already makes a supervisor
//! approve tracking on a doubtful report; this rule looks back at every tracking request that
//! rested on one, with what the registers know now (a report cancelled afterwards included):
//! recorded by the requester, or by their team; complainant not the registered owner; recorded
//! shortly before the request; cancelled (not recovered) soon after the tracking ended.

use crate::engine::{when, Engine, StaffIx};
use crate::error::Result;
use crate::facts::Facts;
use crate::finding::{Rule, Severity};
use crate::usage::{Use, UseKind};
use anpr_policy::registers::StolenStatus;
use chrono::Duration;

impl Engine {
    pub(crate) fn check_stolen_report(
        &mut self,
        facts: &dyn Facts,
        s: StaffIx,
        u: &Use,
    ) -> Result<()> {
        if u.kind != UseKind::TrackingRequest || u.basis.as_deref() != Some("stolen_vehicle") {
            return Ok(());
        }
        let (Some(plate), Some(entry_id)) = (&u.plate, u.stolen_entry_id) else {
            return Ok(());
        };
        let Some(entry) = facts.stolen(plate)?.into_iter().find(|e| e.id == entry_id) else {
            return Ok(());
        };
        let r = &entry.record;
        let cfg = &self.cfg.stolen_report;
        let mut signs: Vec<(Severity, String)> = Vec::new();
        let me = &self.staff[s as usize];
        if r.recorded_by_staff_id == u.staff_id {
            signs.push((
                Severity::High,
                "they recorded the stolen report themselves".into(),
            ));
        } else if let (Some(team), Some(theirs)) = (
            &me.profile.team,
            facts.profile(&r.recorded_by_staff_id)?.team,
        ) {
            if *team == theirs {
                signs.push((
                    Severity::Medium,
                    format!(
                        "the report was recorded by {}, a member of their team",
                        r.recorded_by_staff_id
                    ),
                ));
            }
        }
        match facts.vehicle(plate)? {
            Some(v) if v.owner_person_id == r.complainant_person_id => {}
            Some(_) => signs.push((
                Severity::Medium,
                "the complainant is not the vehicle's registered owner".into(),
            )),
            None => signs.push((
                Severity::Medium,
                "the vehicle is not in the motor vehicle register".into(),
            )),
        }
        let lead = u.at - r.reported_at;
        if lead >= Duration::zero() && lead < Duration::minutes(cfg.recent_minutes as i64) {
            signs.push((
                Severity::Low,
                format!(
                    "the report was recorded only {} minutes before the request",
                    lead.num_minutes()
                ),
            ));
        }
        if r.status == StolenStatus::Cancelled {
            if let Some(cancelled) = r.cancelled_at {
                let tracking_end = u.at + Duration::minutes(u.duration_minutes.unwrap_or(0) as i64);
                if cancelled >= u.at
                    && cancelled
                        <= tracking_end + Duration::hours(cfg.cancelled_within_hours as i64)
                {
                    signs.push((
                        Severity::High,
                        format!(
                            "the report was cancelled on {}, soon after the tracking it enabled",
                            when(cancelled)
                        ),
                    ));
                }
            }
        }
        if signs.is_empty() {
            return Ok(());
        }
        let mut severity = signs
            .iter()
            .map(|(sev, _)| *sev)
            .max()
            .unwrap_or(Severity::Low);
        if signs.len() >= 2 {
            // Two marks together are worse than either.
            severity = match severity {
                Severity::Info | Severity::Low => Severity::Medium,
                Severity::Medium => Severity::High,
                Severity::High | Severity::Critical => Severity::Critical,
            };
        }
        let reasons: Vec<&str> = signs.iter().map(|(_, r)| r.as_str()).collect();
        let explanation = format!(
            "Tracking of {plate} requested on {} rested on stolen report {} (file {}), and {}.",
            when(u.at),
            entry.id,
            r.file_number,
            reasons.join("; ")
        );
        self.report(
            Rule::StolenReport,
            severity,
            s,
            &format!("stolen:{}", entry.id),
            &[u.index],
            u.at,
            explanation,
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::{Rule, Severity};
    use crate::usage::{Use, UseKind};
    use anpr_policy::registers::{StolenRecord, StolenStatus};
    use chrono::Duration;

    fn request(index: u64, staff: &str, plate: &str, entry: i64) -> Use {
        let mut u = search(index, t(5, 10, 0), staff, plate);
        u.kind = UseKind::TrackingRequest;
        u.basis = Some("stolen_vehicle".into());
        u.stolen_entry_id = Some(entry);
        u.duration_minutes = Some(24 * 60);
        u
    }

    fn report(recorded_by: &str, complainant: &str, hours_before: i64) -> StolenRecord {
        StolenRecord {
            plate: "XYZ999".into(),
            file_number: "F2".into(),
            reported_at: t(5, 10, 0) - Duration::hours(hours_before),
            complainant_person_id: complainant.into(),
            recorded_by_staff_id: recorded_by.into(),
            status: StolenStatus::Active,
            cancelled_at: None,
        }
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.stolen_report.enabled = true)
    }

    #[test]
    fn a_genuine_report_is_not_a_finding() {
        let mut m = facts();
        let id = m.registers.add_stolen(report("S3", "P8", 6));
        assert!(run(
            cfg(),
            &m,
            &[request(1, "S1", "XYZ999", id)],
            Rule::StolenReport
        )
        .is_empty());
        // Not a stolen basis: not this rule's business.
        let mut u = request(1, "S1", "XYZ999", id);
        u.basis = Some("supervised".into());
        let id2 = m.registers.add_stolen(report("S1", "P1", 0));
        u.stolen_entry_id = Some(id2);
        assert!(run(cfg(), &m, &[u], Rule::StolenReport).is_empty());
    }

    #[test]
    fn self_recorded_report_with_a_stranger_as_complainant_is_critical() {
        let mut m = facts();
        let id = m.registers.add_stolen(report("S1", "P1", 6));
        let f = run(
            cfg(),
            &m,
            &[request(4, "S1", "XYZ999", id)],
            Rule::StolenReport,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Critical);
        assert!(f[0].explanation.contains("themselves"));
        assert!(f[0]
            .explanation
            .contains("not the vehicle's registered owner"));
        assert_eq!(f[0].evidence, vec![4]);
    }

    #[test]
    fn team_recorded_recent_and_cancelled_reports_are_signs() {
        let mut m = facts();
        // Recorded by S2 (same team T1) 20 minutes before; complainant is the owner.
        let id = m.registers.add_stolen(StolenRecord {
            reported_at: t(5, 9, 40),
            ..report("S2", "P8", 0)
        });
        let f = run(
            cfg(),
            &m,
            &[request(1, "S1", "XYZ999", id)],
            Rule::StolenReport,
        );
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].explanation.contains("member of their team"));
        assert!(f[0].explanation.contains("20 minutes"));
        // Recorded by a stranger long before, but cancelled a day after the tracking ended.
        let mut m = facts();
        let id = m.registers.add_stolen(StolenRecord {
            status: StolenStatus::Cancelled,
            cancelled_at: Some(t(7, 10, 0)),
            ..report("S3", "P8", 48)
        });
        let f = run(
            cfg(),
            &m,
            &[request(1, "S1", "XYZ999", id)],
            Rule::StolenReport,
        );
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].explanation.contains("cancelled"));
        // Cancelled months later: not a sign.
        let mut m = facts();
        let id = m.registers.add_stolen(StolenRecord {
            status: StolenStatus::Cancelled,
            cancelled_at: Some(t(90, 10, 0)),
            ..report("S3", "P8", 48)
        });
        assert!(run(
            cfg(),
            &m,
            &[request(1, "S1", "XYZ999", id)],
            Rule::StolenReport
        )
        .is_empty());
    }
}

//! Rule 2: a stolen report used to unlock tracking. The policy already makes a supervisor
//! approve tracking on a doubtful report; this rule looks back at every tracking request that
//! rested on one, with what the registers know now (a report cancelled afterwards included).
//!
//! Each of its marks alone is ordinary police work: a car reported stolen minutes ago and
//! tracked at once, a report the requester or a teammate took, a spouse, employer or finance
//! company reporting a car registered to someone else, a report closed soon after because the
//! car was found. So the rule weighs them.
//!
//! Evidence model (a finding at 6):
//! - who recorded the report: the requester +2, a member of their team +1;
//! - who complained: the requester themselves +4, the owner of a vehicle connected to them
//!   (household, declared associate) +3, anyone else who is not the registered owner +1;
//! - recorded less than `stolen_report.recent_minutes` before the request: +1;
//! - cancelled (not recovered) after the tracking had run its course, within
//!   `stolen_report.cancelled_within_hours` of its end: +4 (a report that served its purpose);
//!   cancelled while the tracking ran, which ends it: +1 (a mistake found out, as when the car
//!   was with a family member); closed as recovered: −2 (the theft was real).
//!
//! So a report the requester or their team recorded, whose complainant is not the owner,
//! cancelled without a recovery once the tracking had run, reaches 6; one in which the
//! requester is their own complainant reaches it with their own recording.

use crate::engine::{when, Engine, StaffIx};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::facts::Facts;
use crate::finding::{Rule, Severity};
use crate::usage::{Use, UseKind};
use anpr_policy::registers::StolenStatus;
use chrono::Duration;

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 6;

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
        let mut e = Evidence::new();
        let me = &self.staff[s as usize];
        if r.recorded_by_staff_id == u.staff_id {
            e.add(2, "they recorded the stolen report themselves");
        } else if let (Some(team), Some(theirs)) = (
            &me.profile.team,
            facts.profile(&r.recorded_by_staff_id)?.team,
        ) {
            if *team == theirs {
                e.add(
                    1,
                    format!(
                        "the report was recorded by {}, a member of their team",
                        r.recorded_by_staff_id
                    ),
                );
            }
        }
        let owner = facts.vehicle(plate)?.map(|v| v.owner_person_id);
        if me.profile.person_id.as_deref() == Some(r.complainant_person_id.as_str()) {
            e.add(4, "the complainant is the requester themselves");
        } else if owner.as_deref() != Some(r.complainant_person_id.as_str()) {
            let mut connected = false;
            for c in &me.profile.connected {
                if let Some(v) = facts.vehicle(&c.plate)? {
                    connected |= v.owner_person_id == r.complainant_person_id;
                }
            }
            if connected {
                e.add(
                    3,
                    "the complainant owns a vehicle connected to the requester (household or \
                     declared associate)",
                );
            } else if owner.is_some() {
                e.add(1, "the complainant is not the vehicle's registered owner");
            } else {
                e.add(1, "the vehicle is not in the motor vehicle register");
            }
        }
        let lead = u.at - r.reported_at;
        if lead >= Duration::zero() && lead < Duration::minutes(cfg.recent_minutes as i64) {
            e.add(
                1,
                format!(
                    "the report was recorded only {} minutes before the request",
                    lead.num_minutes()
                ),
            );
        }
        match (r.status, r.cancelled_at) {
            (StolenStatus::Cancelled, Some(cancelled)) => {
                let tracking_end = u.at + Duration::minutes(u.duration_minutes.unwrap_or(0) as i64);
                let soon = tracking_end + Duration::hours(cfg.cancelled_within_hours as i64);
                if cancelled >= tracking_end && cancelled <= soon {
                    e.add(
                        4,
                        format!(
                            "the report was cancelled, not recovered, on {}, once the tracking \
                             it enabled had run its course",
                            when(cancelled)
                        ),
                    );
                } else if cancelled >= u.at && cancelled < tracking_end {
                    e.add(
                        1,
                        format!(
                            "the report was cancelled, not recovered, on {}, while the tracking \
                             ran (which ended it)",
                            when(cancelled)
                        ),
                    );
                }
            }
            (StolenStatus::Recovered, _) => e.add(-2, "the vehicle was recovered"),
            _ => {}
        }
        if !e.reaches(FINDING_AT) {
            return Ok(());
        }
        let severity = if e.score() >= FINDING_AT + 3 {
            Severity::Critical
        } else {
            Severity::High
        };
        let explanation = format!(
            "Tracking of {plate} requested on {} rested on stolen report {} (file {}), with the \
             marks of a false report together. {}",
            when(u.at),
            entry.id,
            r.file_number,
            e.summary(FINDING_AT)
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
    fn a_requester_who_is_their_own_complainant_is_a_finding() {
        let mut m = facts();
        // S1 (person P1) recorded it and complained: +2 +4.
        let id = m.registers.add_stolen(report("S1", "P1", 6));
        let f = run(
            cfg(),
            &m,
            &[request(4, "S1", "XYZ999", id)],
            Rule::StolenReport,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0]
            .explanation
            .contains("recorded the stolen report themselves"));
        assert!(f[0].explanation.contains("complainant is the requester"));
        assert!(f[0].explanation.contains("Score 6"), "{}", f[0].explanation);
        assert_eq!(f[0].evidence, vec![4]);
    }

    /// Each mark alone, and the common pairs of them, are honest work; together with a
    /// cancellation soon after the tracking they are a finding.
    #[test]
    fn single_marks_are_honest_work_and_their_combination_is_not() {
        let cancelled_soon = |r: StolenRecord| StolenRecord {
            status: StolenStatus::Cancelled,
            cancelled_at: Some(t(6, 22, 0)),
            ..r
        };
        let honest = [
            // Recorded 20 minutes before by a teammate, complainant the owner.
            StolenRecord {
                reported_at: t(5, 9, 40),
                ..report("S2", "P8", 0)
            },
            // Taken by the requester from a spouse (not the owner), 10 minutes before.
            StolenRecord {
                reported_at: t(5, 9, 50),
                ..report("S1", "P55", 0)
            },
            // Recorded by a stranger and cancelled a day after the tracking ended.
            cancelled_soon(report("S3", "P8", 48)),
            // Self-recorded from an employer, found and recovered the next day.
            StolenRecord {
                status: StolenStatus::Recovered,
                cancelled_at: Some(t(6, 10, 0)),
                ..report("S1", "P55", 0)
            },
        ];
        for r in honest {
            let mut m = facts();
            let id = m.registers.add_stolen(r.clone());
            let f = run(
                cfg(),
                &m,
                &[request(1, "S1", "XYZ999", id)],
                Rule::StolenReport,
            );
            assert!(f.is_empty(), "{r:?}: {f:?}");
        }
        // The teammate records it for a friend of the requester minutes before, and it is
        // cancelled, not recovered, the day after the tracking: 1 + 1 + 1 + 4.
        let mut m = facts();
        let id = m.registers.add_stolen(cancelled_soon(StolenRecord {
            reported_at: t(5, 9, 40),
            ..report("S2", "P55", 0)
        }));
        let f = run(
            cfg(),
            &m,
            &[request(1, "S1", "XYZ999", id)],
            Rule::StolenReport,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].explanation.contains("member of their team"));
        assert!(f[0].explanation.contains("20 minutes"));
        assert!(f[0].explanation.contains("had run its course"));
        // Cancelled months later: not a mark.
        let mut m = facts();
        let id = m.registers.add_stolen(StolenRecord {
            status: StolenStatus::Cancelled,
            cancelled_at: Some(t(90, 10, 0)),
            reported_at: t(5, 9, 40),
            ..report("S2", "P55", 0)
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

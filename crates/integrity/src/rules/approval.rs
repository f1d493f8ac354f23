//! Rule 7a: approvals that were not the supervisor's to give. The policy refuses a supervisor
//! who tries to approve their own request (or one for a vehicle connected to them) and one who
//! tries to approve a request of a district they do not supervise; this rule looks at who keeps
//! trying.
//!
//! Evidence model (a finding at 4):
//! - an attempt to approve their own request, or one about a vehicle connected to them (refusal
//!   `conflict_of_duty`): +4 — conclusive alone, since the queue never offers one's own request
//!   and nobody reaches it by a slip;
//! - an attempt to approve a request of another district (refusal `wrong_district`): +2 for
//!   each distinct request — one is a slip (an acting supervisor opening the neighbouring
//!   district's queue), two within `approval.window_days` are a pattern.

use crate::engine::{when, Engine, StaffIx};
use crate::evidence::Evidence;
use crate::finding::{Rule, Severity};
use crate::usage::Use;
use chrono::{DateTime, Duration, Utc};

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 4;

/// One supervisor's refused approvals within the window.
#[derive(Default)]
pub(crate) struct Attempts {
    pub since: Option<DateTime<Utc>>,
    pub evidence: Evidence,
    pub authorisations: Vec<i64>,
    pub entries: Vec<u64>,
    pub own: bool,
}

impl Engine {
    pub(crate) fn check_approval(&mut self, s: StaffIx, u: &Use) {
        if u.granted {
            return;
        }
        let own = u.refused_as("conflict_of_duty");
        if !own && !u.refused_as("wrong_district") {
            return;
        }
        let window = Duration::days(self.cfg.approval.window_days as i64);
        let a = self.approval_attempts.entry(s).or_default();
        if a.since.is_some_and(|since| u.at - since > window) {
            *a = Attempts::default();
        }
        a.since.get_or_insert(u.at);
        let id = u.authorisation_id.unwrap_or(-1);
        if a.authorisations.contains(&id) && !own {
            return; // the same request tried again: one slip, not two
        }
        a.authorisations.push(id);
        a.entries.push(u.index);
        if own {
            a.own = true;
            a.evidence.add(
                4,
                format!(
                    "on {} they tried to approve request {id}, their own or about a vehicle \
                     connected to them",
                    when(u.at)
                ),
            );
        } else {
            a.evidence.add(
                2,
                format!(
                    "on {} they tried to approve request {id}, from a district they do not \
                     supervise",
                    when(u.at)
                ),
            );
        }
        if !a.evidence.reaches(FINDING_AT) {
            return;
        }
        let severity = if a.own {
            Severity::High
        } else {
            Severity::Medium
        };
        let explanation = format!(
            "Approvals that were not theirs to give: the policy refused each, but the attempts \
             show a supervisor trying to unlock tracking or look-back outside their remit. {}",
            a.evidence.summary(FINDING_AT)
        );
        let entries = a.entries.clone();
        self.report(
            Rule::ApprovalConflict,
            severity,
            s,
            "approvals",
            &entries,
            u.at,
            explanation,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::{Rule, Severity};
    use crate::usage::{Use, UseKind};

    fn attempt(index: u64, day: u32, id: i64, code: &str) -> Use {
        let mut u = Use::new(index, t(day, 10, 0), "S2", UseKind::Approval);
        u.authorisation_id = Some(id);
        u.granted = false;
        u.refusal_code = Some(code.into());
        u
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.approval.enabled = true)
    }

    #[test]
    fn one_self_approval_attempt_is_a_finding() {
        let f = run(
            cfg(),
            &facts(),
            &[attempt(1, 1, 7, "conflict_of_duty")],
            Rule::ApprovalConflict,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::High);
        assert!(f[0].explanation.contains("Score 4"), "{}", f[0].explanation);
    }

    #[test]
    fn one_cross_district_slip_is_not_but_two_requests_are() {
        let m = facts();
        // The honest look-alike: one request of the neighbouring district, tried twice.
        let slip = [
            attempt(1, 1, 7, "wrong_district"),
            attempt(2, 1, 7, "wrong_district"),
        ];
        assert!(run(cfg(), &m, &slip, Rule::ApprovalConflict).is_empty());
        // Granted approvals are the supervisor's job.
        let mut fine = attempt(3, 1, 8, "wrong_district");
        fine.granted = true;
        fine.refusal_code = None;
        assert!(run(cfg(), &m, &[fine], Rule::ApprovalConflict).is_empty());
        // Two requests of another district within the window.
        let f = run(
            cfg(),
            &m,
            &[
                attempt(1, 1, 7, "wrong_district"),
                attempt(2, 20, 9, "wrong_district"),
            ],
            Rule::ApprovalConflict,
        );
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Medium);
        assert_eq!(f[0].evidence, vec![1, 2]);
        // ... but not half a year apart.
        let apart = [
            attempt(1, 1, 7, "wrong_district"),
            attempt(2, 60, 9, "wrong_district"),
        ];
        assert!(run(cfg(), &m, &apart, Rule::ApprovalConflict).is_empty());
    }
}

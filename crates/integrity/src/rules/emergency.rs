//! Rule 6c: rolling emergency requests. An emergency tracking request starts at once and
//! lapses unless a supervisor approves it within the hour; filing a new emergency request for
//! the same plate each time the last one lapses keeps a vehicle tracked that no supervisor
//! agreed to track.
//!
//! Evidence model (a finding at 4): each emergency request for a plate, within
//! `emergency.run_gap_hours` of the one before, when none before it in the run was approved:
//! +2. An approval ends the run (the need was accepted). So one lapse and a second request — a
//! supervisor who could not be reached in time — scores 2; a third request scores 4.

use crate::engine::{push_bounded, when, Engine, StaffIx};
use crate::evidence::Evidence;
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::usage::{Use, UseKeys, UseKind};
use chrono::{DateTime, Duration, Utc};

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 4;

/// One member of staff's run of emergency requests for one plate.
#[derive(Default)]
pub(crate) struct EmergencyRun {
    pub last_at: Option<DateTime<Utc>>,
    pub authorisations: Vec<i64>,
    pub evidence: Evidence,
    pub entries: Vec<u64>,
}

impl Engine {
    pub(crate) fn check_emergency_chain(&mut self, s: StaffIx, u: &Use, k: &UseKeys) {
        if u.kind != UseKind::TrackingRequest || !u.emergency || !u.granted {
            return;
        }
        let Some(plate) = &u.plate else { return };
        let gap = Duration::hours(self.cfg.emergency.run_gap_hours as i64);
        let approved = &self.approved;
        let run = self.emergencies.entry((s, k.plate)).or_default();
        let broken = run.last_at.is_none_or(|last| u.at - last > gap)
            || run.authorisations.iter().any(|id| approved.contains(id));
        if broken {
            *run = EmergencyRun::default();
        } else {
            run.evidence.add(
                2,
                format!(
                    "on {} they asked again ({} emergency requests in a row), none approved",
                    when(u.at),
                    run.authorisations.len() + 1
                ),
            );
        }
        run.last_at = Some(u.at);
        run.authorisations.extend(u.authorisation_id);
        push_bounded(&mut run.entries, u.index, MAX_EVIDENCE);
        if !run.evidence.reaches(FINDING_AT) {
            return;
        }
        let explanation = format!(
            "Emergency tracking of {plate} was requested {} times in a row, each after the one \
             before lapsed without a supervisor's approval: a vehicle kept under tracking that \
             no supervisor agreed to. {}",
            run.authorisations.len(),
            run.evidence.summary(FINDING_AT)
        );
        let (key, entries) = (format!("emergency:{plate}"), run.entries.clone());
        self.report(
            Rule::EmergencyChain,
            Severity::High,
            s,
            &key,
            &entries,
            u.at,
            explanation,
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::engine::Engine;
    use crate::finding::Rule;
    use crate::usage::{Use, UseKind};

    fn emergency(index: u64, hour: u32, id: i64) -> Use {
        let mut u = search(index, t(3, hour, 0), "S1", "XYZ999");
        u.kind = UseKind::TrackingRequest;
        u.emergency = true;
        u.basis = Some("emergency".into());
        u.authorisation_id = Some(id);
        u
    }

    fn approval(index: u64, hour: u32, id: i64) -> Use {
        let mut u = Use::new(index, t(3, hour, 30), "S2", UseKind::Approval);
        u.authorisation_id = Some(id);
        u
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.emergency.enabled = true)
    }

    #[test]
    fn a_third_unapproved_emergency_is_a_finding() {
        let uses = [
            emergency(1, 1, 10),
            emergency(2, 2, 11),
            emergency(3, 3, 12),
        ];
        let f = run(cfg(), &facts(), &uses, Rule::EmergencyChain);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "emergency:XYZ999");
        assert_eq!(f[0].evidence, vec![1, 2, 3]);
        assert!(f[0].explanation.contains("Score 4"));
    }

    #[test]
    fn one_lapse_then_an_approval_is_honest_work() {
        let m = facts();
        // Lapsed once, asked again: two requests.
        assert!(run(
            cfg(),
            &m,
            &[emergency(1, 1, 10), emergency(2, 2, 11)],
            Rule::EmergencyChain
        )
        .is_empty());
        // The second was approved; later requests start a new run.
        let mut e = Engine::new(cfg());
        for u in [
            emergency(1, 1, 10),
            emergency(2, 2, 11),
            approval(3, 2, 11),
            emergency(4, 5, 12),
            emergency(5, 6, 13),
        ] {
            e.feed(&m.facts(), &u).unwrap();
        }
        assert!(e.finish().iter().all(|f| f.rule != Rule::EmergencyChain));
    }
}

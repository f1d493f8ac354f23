//! Rule 6: tracking beyond need. Renewals chained past the policy's limits (each renewal is
//! approved on its own; only the chain shows the vehicle has been followed for weeks), and
//! tracking sought or renewed after the vehicle's stolen report was closed as recovered or
//! cancelled.
//!
//! Evidence models (each a finding at 4, each mark conclusive alone, since each is a limit the
//! policy sets or a need that has ended):
//! - **renewal chain**: more than `tracking.max_renewals` renewals in one chain, or more than
//!   `tracking.max_chain_hours` covered: +4. A chain within both (the honest use of renewals)
//!   scores nothing.
//! - **tracking after recovery**: the plate's stolen report closed (recovered or cancelled)
//!   within `tracking.recovery_window_days` before the request, and no report of it active:
//!   +4. A car stolen again is tracked on its new, active report and never meets this.

use crate::engine::{push_bounded, when, Chain, Engine, StaffIx};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::facts::Facts;
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::usage::{Use, UseKind};
use anpr_policy::registers::StolenStatus;
use chrono::Duration;

impl Engine {
    pub(crate) fn check_tracking(&mut self, facts: &dyn Facts, s: StaffIx, u: &Use) -> Result<()> {
        if u.kind != UseKind::TrackingRequest || !u.granted {
            return Ok(());
        }
        let Some(plate) = u.plate.clone() else {
            return Ok(());
        };
        let cfg = self.cfg.tracking.clone();
        if let Some(id) = u.authorisation_id {
            let minutes = u.duration_minutes.unwrap_or(0) as u64;
            let chain = match u.renews.and_then(|prev| self.chains.get(&prev)) {
                Some(prev) => {
                    let mut evidence = prev.evidence.clone();
                    push_bounded(&mut evidence, u.index, MAX_EVIDENCE);
                    Chain {
                        root: prev.root,
                        renewals: prev.renewals + 1,
                        minutes: prev.minutes + minutes,
                        evidence,
                    }
                }
                None => Chain {
                    root: u.renews.unwrap_or(id),
                    renewals: u.renews.is_some() as u32,
                    minutes,
                    evidence: vec![u.index],
                },
            };
            if chain.renewals > cfg.max_renewals || chain.minutes > cfg.max_chain_hours as u64 * 60
            {
                let mut e = Evidence::new();
                e.add(
                    4,
                    format!(
                        "{} in one chain covering {} hours (limits: {} renewals, {} hours)",
                        crate::evidence::count(chain.renewals, "renewal", "renewals"),
                        chain.minutes / 60,
                        cfg.max_renewals,
                        cfg.max_chain_hours,
                    ),
                );
                let explanation = format!(
                    "Tracking of {plate} renewed again on {}: each renewal was approved on its \
                     own; together they follow one vehicle for longer than the policy allows. {}",
                    when(u.at),
                    e.summary(4)
                );
                let evidence = chain.evidence.clone();
                self.report(
                    Rule::RenewalChain,
                    Severity::High,
                    s,
                    &format!("chain:{}", chain.root),
                    &evidence,
                    u.at,
                    explanation,
                );
            }
            self.chains.insert(id, chain);
        }
        let stolen = facts.stolen(&plate)?;
        if stolen
            .iter()
            .any(|e| e.record.status == StolenStatus::Active)
        {
            return Ok(());
        }
        let window = Duration::days(cfg.recovery_window_days as i64);
        let closed = stolen.iter().find(|e| {
            e.record.status != StolenStatus::Active
                && e.record
                    .cancelled_at
                    .is_some_and(|c| c <= u.at && u.at - c <= window)
        });
        if let Some(e) = closed {
            let mut ev = Evidence::new();
            ev.add(
                4,
                format!(
                    "its stolen report {} was closed as {} on {}, and no report of it is active",
                    e.id,
                    e.record.status.as_str(),
                    when(e.record.cancelled_at.unwrap_or(u.at)),
                ),
            );
            let explanation = format!(
                "Tracking of {plate} was {} on {} after the need the stolen report gave had \
                 ended. {}",
                if u.renews.is_some() {
                    "renewed"
                } else {
                    "requested"
                },
                when(u.at),
                ev.summary(4)
            );
            self.report(
                Rule::TrackingAfterRecovery,
                Severity::High,
                s,
                &plate,
                &[u.index],
                u.at,
                explanation,
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::{Rule, Severity};
    use crate::usage::{Use, UseKind};
    use anpr_policy::registers::{StolenRecord, StolenStatus};

    fn track(index: u64, day: u32, id: i64, renews: Option<i64>) -> Use {
        let mut u = search(index, t(day, 10, 0), "S1", "XYZ999");
        u.kind = UseKind::TrackingRequest;
        u.basis = Some("supervised".into());
        u.authorisation_id = Some(id);
        u.renews = renews;
        u.duration_minutes = Some(48 * 60);
        u
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.tracking.enabled = true)
    }

    #[test]
    fn a_chain_within_limits_is_fine_and_past_them_is_found() {
        let m = facts();
        let within = [
            track(1, 1, 10, None),
            track(2, 3, 11, Some(10)),
            track(3, 5, 12, Some(11)),
        ];
        assert!(run(cfg(), &m, &within, Rule::RenewalChain).is_empty());
        let mut past = within.to_vec();
        past.push(track(4, 7, 13, Some(12)));
        let f = run(cfg(), &m, &past, Rule::RenewalChain);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].key, "chain:10");
        assert_eq!(f[0].evidence, vec![1, 2, 3, 4]);
        assert_eq!(f[0].severity, Severity::High);
        // Two unrelated authorisations are not a chain.
        let apart = [
            track(1, 1, 10, None),
            track(2, 3, 11, None),
            track(3, 5, 12, None),
            track(4, 7, 13, None),
        ];
        assert!(run(cfg(), &m, &apart, Rule::RenewalChain).is_empty());
    }

    #[test]
    fn tracking_after_recovery_is_found_but_not_while_stolen() {
        let mut m = facts();
        let recovered = StolenRecord {
            plate: "XYZ999".into(),
            file_number: "F2".into(),
            reported_at: t(0, 0, 0),
            complainant_person_id: "P8".into(),
            recorded_by_staff_id: "S3".into(),
            status: StolenStatus::Recovered,
            cancelled_at: Some(t(2, 0, 0)),
        };
        m.registers.add_stolen(recovered.clone());
        let f = run(
            cfg(),
            &m,
            &[track(1, 4, 10, None)],
            Rule::TrackingAfterRecovery,
        );
        assert_eq!(f.len(), 1);
        assert!(f[0].explanation.contains("recovered"));
        // Before the recovery: fine.
        assert!(run(
            cfg(),
            &m,
            &[track(1, 1, 10, None)],
            Rule::TrackingAfterRecovery
        )
        .is_empty());
        // A fresh active report: fine.
        m.registers.add_stolen(StolenRecord {
            file_number: "F3".into(),
            status: StolenStatus::Active,
            cancelled_at: None,
            ..recovered
        });
        assert!(run(
            cfg(),
            &m,
            &[track(1, 4, 10, None)],
            Rule::TrackingAfterRecovery
        )
        .is_empty());
    }
}

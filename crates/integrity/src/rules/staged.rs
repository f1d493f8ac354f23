//! Rule 7b: tracking one administrator arranged alone. An administrator may create accounts
//! and load registers; one who sets up an account (or gives it the tracker role) and loads a
//! stolen report by hand can have that account track any vehicle on a report nobody else saw.
//! The finding is about the administrator.
//!
//! Evidence model (a finding at 6), for a tracking request:
//! - the requester's account was created or changed by an administrator within
//!   `staged_tracking.account_days` before: +2;
//! - the same administrator loaded stolen reports by hand (a load of at most
//!   `staged_tracking.manual_max_records` records, not the register's feed) within
//!   `staged_tracking.load_hours` before: +3;
//! - the report the request rests on was recorded within six hours before that load (entered
//!   for the occasion): +1;
//! - the request is the account's first use of the platform: +1.
//!
//! Each alone is ordinary — administrators set up new staff every week and correct the stolen
//! register by hand now and then — so only the same administrator at both ends, close in time,
//! reaches the threshold.

use crate::engine::{when, Engine, StaffIx};
use crate::error::Result;
use crate::evidence::{count, Evidence};
use crate::facts::Facts;
use crate::finding::{Rule, Severity};
use crate::hash::hash_str;
use crate::usage::{Use, UseKind};
use chrono::Duration;

/// Threshold of the evidence model above.
const FINDING_AT: i32 = 6;

/// "less than an hour", "5 hours", "3 days".
fn ago(d: Duration) -> String {
    if d < Duration::hours(1) {
        "less than an hour".into()
    } else if d < Duration::days(2) {
        count(d.num_hours() as u64, "hour", "hours")
    } else {
        count(d.num_days() as u64, "day", "days")
    }
}

/// Manual loads held per administrator (the latest ones).
const LOADS_HELD: usize = 8;

impl Engine {
    /// Notes an account change or a register load, for the tracking requests that follow.
    pub(crate) fn note_administration(&mut self, s: StaffIx, u: &Use) {
        if !u.granted {
            return;
        }
        match u.kind {
            UseKind::AccountChange => {
                if let Some(target) = &u.target_staff_id {
                    self.accounts_set_up
                        .insert(hash_str(target), (s, u.at, u.index));
                }
            }
            UseKind::RegisterImport => {
                let manual = u
                    .records
                    .is_some_and(|n| n <= self.cfg.staged_tracking.manual_max_records);
                if u.register.as_deref() == Some("stolen") && manual {
                    let loads = self.manual_stolen_loads.entry(s).or_default();
                    if loads.len() == LOADS_HELD {
                        loads.remove(0);
                    }
                    loads.push((u.at, u.records.unwrap_or(0), u.index));
                }
            }
            _ => {}
        }
    }

    pub(crate) fn check_staged_tracking(
        &mut self,
        facts: &dyn Facts,
        s: StaffIx,
        u: &Use,
    ) -> Result<()> {
        if u.kind != UseKind::TrackingRequest {
            return Ok(());
        }
        let cfg = self.cfg.staged_tracking.clone();
        let Some(&(admin, set_up_at, set_up_index)) =
            self.accounts_set_up.get(&hash_str(&u.staff_id))
        else {
            return Ok(());
        };
        let since_set_up = u.at - set_up_at;
        if admin == s || since_set_up > Duration::days(cfg.account_days as i64) {
            return Ok(());
        }
        let admin_id = self.staff[admin as usize].id.clone();
        let mut e = Evidence::new();
        e.add(
            2,
            format!(
                "their account was set up by {admin_id} on {}, {} before",
                when(set_up_at),
                ago(since_set_up)
            ),
        );
        let load = self.manual_stolen_loads.get(&admin).and_then(|loads| {
            loads.iter().rev().copied().find(|(at, _, _)| {
                *at <= u.at && u.at - *at <= Duration::hours(cfg.load_hours as i64)
            })
        });
        let mut entries = vec![set_up_index];
        if let Some((at, records, index)) = load {
            entries.push(index);
            e.add(
                3,
                format!(
                    "{admin_id} loaded {} by hand on {}, {} before the request",
                    count(records, "stolen report", "stolen reports"),
                    when(at),
                    ago(u.at - at)
                ),
            );
            if let (Some(plate), Some(id)) = (&u.plate, u.stolen_entry_id) {
                let report = facts.stolen(plate)?.into_iter().find(|r| r.id == id);
                if let Some(r) = report {
                    let lead = at - r.record.reported_at;
                    if lead >= Duration::zero() && lead <= Duration::hours(6) {
                        e.add(
                            1,
                            format!(
                                "the stolen report it rests on was recorded {} minutes before \
                                 that load",
                                lead.num_minutes()
                            ),
                        );
                    }
                }
            }
        }
        if self.staff[s as usize].total == 0 {
            e.add(1, "the request was the account's first use of the platform");
        }
        entries.push(u.index);
        if !e.reaches(FINDING_AT) {
            return Ok(());
        }
        let explanation = format!(
            "Tracking requested on {} by {}, an account {admin_id} had just set up, soon after \
             {admin_id} loaded stolen reports by hand: one administrator at both ends of a \
             tracking authorisation. {}",
            when(u.at),
            u.staff_id,
            e.summary(FINDING_AT)
        );
        self.report(
            Rule::StagedTracking,
            Severity::Critical,
            admin,
            &format!("account:{}", u.staff_id),
            &entries,
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

    fn account(index: u64, day: u32, target: &str) -> Use {
        let mut u = Use::new(index, t(day, 9, 0), "A1", UseKind::AccountChange);
        u.role = "admin".into();
        u.target_staff_id = Some(target.into());
        u
    }

    fn load(index: u64, day: u32, records: u64) -> Use {
        let mut u = Use::new(index, t(day, 9, 30), "A1", UseKind::RegisterImport);
        u.role = "admin".into();
        u.register = Some("stolen".into());
        u.records = Some(records);
        u
    }

    fn track(index: u64, day: u32, staff: &str, entry: i64) -> Use {
        let mut u = search(index, t(day, 10, 0), staff, "XYZ999");
        u.kind = UseKind::TrackingRequest;
        u.basis = Some("stolen_vehicle".into());
        u.stolen_entry_id = Some(entry);
        u
    }

    fn cfg() -> crate::IntegrityConfig {
        only(|c| c.staged_tracking.enabled = true)
    }

    fn report() -> StolenRecord {
        StolenRecord {
            plate: "XYZ999".into(),
            file_number: "F2".into(),
            reported_at: t(5, 9, 0),
            complainant_person_id: "P8".into(),
            recorded_by_staff_id: "S2".into(),
            status: StolenStatus::Active,
            cancelled_at: None,
        }
    }

    #[test]
    fn one_administrator_at_both_ends_is_a_finding_about_them() {
        let mut m = facts();
        let id = m.registers.add_stolen(report());
        let uses = [account(1, 4, "S9"), load(2, 5, 1), track(3, 5, "S9", id)];
        let f = run(cfg(), &m, &uses, Rule::StagedTracking);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].staff_id, "A1");
        assert_eq!(f[0].key, "account:S9");
        assert_eq!(f[0].severity, Severity::Critical);
        assert_eq!(f[0].evidence, vec![1, 2, 3]);
        assert!(f[0].explanation.contains("Score 7"), "{}", f[0].explanation);
    }

    #[test]
    fn a_new_recruit_tracking_on_the_feed_is_honest_work() {
        let mut m = facts();
        let id = m.registers.add_stolen(StolenRecord {
            reported_at: t(5, 9, 0) - Duration::days(3),
            ..report()
        });
        // The register's feed: a big load.
        let uses = [account(1, 4, "S9"), load(2, 5, 400), track(3, 5, "S9", id)];
        assert!(run(cfg(), &m, &uses, Rule::StagedTracking).is_empty());
        // A hand correction by the same admin, but a month after the account was set up.
        let uses = [account(1, 4, "S9"), load(2, 40, 1), track(3, 40, "S9", id)];
        assert!(run(cfg(), &m, &uses, Rule::StagedTracking).is_empty());
    }
}

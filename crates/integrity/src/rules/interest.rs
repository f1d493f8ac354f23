//! Rule 4: repeated interest in one vehicle. The same plate queried by the same user under
//! several different files or in several different weeks, without ever a tracking basis for it
//! (the pattern of following a person); and polling: historical searches of one plate minutes
//! apart, each returning near-live sightings — tracking without a tracking authorisation.

use crate::engine::{push_bounded, when, Engine, StaffIx};
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::usage::{Use, UseKeys, UseKind};
use crate::window::lapse;
use chrono::Duration;

impl Engine {
    pub(crate) fn check_interest(&mut self, s: StaffIx, u: &Use, k: &UseKeys) {
        let interest_on = self.cfg.repeated_interest.enabled;
        let polling_on = self.cfg.polling.enabled;
        if !(interest_on || polling_on) || !u.granted {
            return;
        }
        let Some(plate) = &u.plate else { return };
        let (day, _) = self.local(u.at);
        let window = self.cfg.repeated_interest.window_days;
        let ri = self.cfg.repeated_interest.clone();
        let poll = self.cfg.polling.clone();
        let entry = self.interest.entry((s, k.plate)).or_default();
        lapse(entry, day, window);
        if u.kind == UseKind::TrackingRequest {
            // A tracking request is a basis for interest in the plate (its own need is rule 6's).
            entry.tracked = true;
            return;
        }
        let week = day.div_euclid(7);
        entry.uses += 1;
        if entry.uses == 1 || entry.last_week != week {
            entry.weeks += 1;
            entry.last_week = week;
        }
        if u.file_number.is_some() {
            let h = k.file;
            if entry.files.len() < ri.min_files as usize && !entry.files.contains(&h) {
                entry.files.push(h);
            }
        }
        push_bounded(&mut entry.evidence, u.index, MAX_EVIDENCE);
        let tracked = entry.tracked;
        let repeated = entry.files.len() >= ri.min_files as usize || entry.weeks >= ri.min_weeks;
        let (weeks, files, uses) = (entry.weeks, entry.files.len(), entry.uses);
        let evidence = repeated.then(|| entry.evidence.clone());

        // Polling: a chain of near-live searches, each within the gap of the last.
        let mut polled: Option<Vec<u64>> = None;
        let near_live = u.kind == UseKind::Search
            && u.newest_result_age_s
                .is_some_and(|age| age <= poll.near_live_minutes as u64 * 60);
        if polling_on && near_live {
            let gap = Duration::minutes(poll.max_gap_minutes as i64);
            if entry.last_near_live.is_none_or(|last| u.at - last > gap) {
                entry.chain.clear();
            }
            entry.last_near_live = Some(u.at);
            push_bounded(&mut entry.chain, u.index, MAX_EVIDENCE);
            if entry.chain.len() >= poll.min_searches as usize {
                polled = Some(entry.chain.clone());
            }
        }
        if tracked {
            return;
        }
        if let (true, Some(evidence)) = (interest_on, evidence) {
            let explanation = format!(
                "Plate {plate} queried {uses} times in {weeks} different weeks under {files} \
                 different file number(s), the latest on {}, with no tracking authorisation for \
                 it: the pattern of following a person.",
                when(u.at)
            );
            self.report(
                Rule::RepeatedInterest,
                Severity::Medium,
                s,
                plate,
                &evidence,
                u.at,
                explanation,
            );
        }
        if let Some(chain) = polled {
            let explanation = format!(
                "{} historical searches of {plate} at most {} minutes apart up to {}, each \
                 returning sightings under {} minutes old: following the vehicle as it moves, \
                 which needs a tracking authorisation they did not have.",
                chain.len(),
                poll.max_gap_minutes,
                when(u.at),
                poll.near_live_minutes
            );
            self.report(
                Rule::Polling,
                Severity::High,
                s,
                &format!("poll:{plate}"),
                &chain,
                u.at,
                explanation,
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::Rule;
    use crate::usage::{Use, UseKind};

    fn cfg() -> crate::IntegrityConfig {
        only(|c| {
            c.repeated_interest.enabled = true;
            c.polling.enabled = true;
        })
    }

    #[test]
    fn one_plate_over_weeks_or_files_is_repeated_interest() {
        let m = facts();
        let weekly: Vec<Use> = (0..4)
            .map(|w| search(w, t(w as u32 * 7, 10, 0), "S1", "XYZ999"))
            .collect();
        let f = run(cfg(), &m, &weekly, Rule::RepeatedInterest);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence, vec![0, 1, 2, 3]);
        assert!(run(cfg(), &m, &weekly[..3], Rule::RepeatedInterest).is_empty());
        let files: Vec<Use> = ["F1", "F2", "F9"]
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let mut u = search(i as u64, t(1, 10 + i as u32, 0), "S1", "XYZ999");
                u.file_number = Some(f.to_string());
                u
            })
            .collect();
        assert_eq!(run(cfg(), &m, &files, Rule::RepeatedInterest).len(), 1);
    }

    #[test]
    fn a_tracking_basis_or_a_busy_week_on_one_file_is_not() {
        let m = facts();
        let mut uses: Vec<Use> = vec![];
        let mut track = search(0, t(0, 9, 0), "S1", "XYZ999");
        track.kind = UseKind::TrackingRequest;
        uses.push(track);
        uses.extend((1..6).map(|w| search(w, t(w as u32 * 7, 10, 0), "S1", "XYZ999")));
        assert!(run(cfg(), &m, &uses, Rule::RepeatedInterest).is_empty());
        let busy: Vec<Use> = (0..20)
            .map(|i| search(i, t(2, 8 + (i as u32 % 10), 0), "S1", "XYZ999"))
            .collect();
        assert!(run(cfg(), &m, &busy, Rule::RepeatedInterest).is_empty());
    }

    fn poll(index: u64, minute: u32, age_s: u64) -> Use {
        let mut u = search(index, t(3, 10, minute), "S2", "XYZ999");
        u.newest_result_age_s = Some(age_s);
        u
    }

    #[test]
    fn near_live_searches_minutes_apart_are_polling() {
        let m = facts();
        let chain = [
            poll(1, 0, 2400),
            poll(2, 15, 2000),
            poll(3, 30, 1900),
            poll(4, 44, 2100),
        ];
        let f = run(cfg(), &m, &chain, Rule::Polling);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence, vec![1, 2, 3, 4]);
        assert!(run(cfg(), &m, &chain[..3], Rule::Polling).is_empty());
    }

    #[test]
    fn old_results_or_long_gaps_are_not_polling() {
        let m = facts();
        let old = [
            poll(1, 0, 86_400),
            poll(2, 10, 86_400),
            poll(3, 20, 86_400),
            poll(4, 30, 86_400),
        ];
        assert!(run(cfg(), &m, &old, Rule::Polling).is_empty());
        let apart: Vec<Use> = (0..4).map(|i| poll(i, i as u32 * 45, 1800)).collect();
        assert!(run(cfg(), &m, &apart, Rule::Polling).is_empty());
    }
}

//! Rule 4: repeated interest in one vehicle. The same plate queried by the same user under
//! several different files or in several different weeks, without ever a tracking basis for it
//! (the pattern of following a person); and polling: historical searches of one plate minutes
//! apart, each returning near-live sightings — tracking without a tracking authorisation.
//!
//! Evidence models:
//! - **repeated interest** (a finding at 4): the plate under `repeated_interest.min_files`
//!   different files +2; in `repeated_interest.min_weeks` different weeks +2; the files are of
//!   different offences +2, or all of one offence (a series: one suspect car in several
//!   burglaries) −2; colleagues queried the plate too (the team works the case) −3.
//! - **polling** (a finding at 3): `polling.min_searches` near-live searches in one chain +3;
//!   the file's incident opened less than six hours before the chain began (a fleeing vehicle
//!   searched for while the incident is fresh) −2.

use crate::engine::{push_bounded, when, Engine, StaffIx};
use crate::error::Result;
use crate::evidence::Evidence;
use crate::facts::Facts;
use crate::finding::{Rule, Severity, MAX_EVIDENCE};
use crate::hash::hash_str;
use crate::usage::{Use, UseKeys, UseKind};
use crate::window::lapse;
use chrono::Duration;

/// Threshold of repeated interest.
const INTEREST_AT: i32 = 4;
/// Threshold of polling.
const POLLING_AT: i32 = 3;

impl Engine {
    pub(crate) fn check_interest(
        &mut self,
        facts: &dyn Facts,
        s: StaffIx,
        u: &Use,
        k: &UseKeys,
    ) -> Result<()> {
        let interest_on = self.cfg.repeated_interest.enabled;
        let polling_on = self.cfg.polling.enabled;
        if !(interest_on || polling_on) || !u.granted {
            return Ok(());
        }
        let Some(plate) = &u.plate else {
            return Ok(());
        };
        self.incident_of(facts, u, k.file)?;
        let (day, _) = self.local(u.at);
        let window = self.cfg.repeated_interest.window_days;
        let ri = self.cfg.repeated_interest.clone();
        let poll = self.cfg.polling.clone();
        // Who else has queried the plate lately (the first one, and whether there were more).
        let shared = {
            let who = self.plate_staff.entry(k.plate).or_insert((s, false, day));
            if who.2 < crate::window::cutoff(day, window) {
                *who = (s, false, day);
            }
            who.2 = day;
            if who.0 != s {
                who.1 = true;
            }
            who.1
        };
        let incident = self.incidents.get(&k.file).and_then(Option::as_ref);
        let kind = incident.map(|i| hash_str(&i.incident_type));
        let opened = incident.map(|i| i.opened_at);
        let entry = self.interest.entry((s, k.plate)).or_default();
        lapse(entry, day, window);
        if u.kind == UseKind::TrackingRequest {
            // A tracking request is a basis for interest in the plate (its own need is rule 6's).
            entry.tracked = true;
            return Ok(());
        }
        let week = day.div_euclid(7);
        entry.uses += 1;
        if entry.uses == 1 || entry.last_week != week {
            entry.weeks += 1;
            entry.last_week = week;
        }
        if u.file_number.is_some() {
            let h = k.file;
            if entry.files.len() < ri.min_files as usize + 2 && !entry.files.contains(&h) {
                entry.files.push(h);
                if let Some(kind) = kind {
                    if !entry.kinds.contains(&kind) {
                        entry.kinds.push(kind);
                    }
                }
            }
        }
        push_bounded(&mut entry.evidence, u.index, MAX_EVIDENCE);
        let tracked = entry.tracked;
        let (weeks, files, uses) = (entry.weeks, entry.files.len(), entry.uses);
        let mut interest = Evidence::new();
        if files >= ri.min_files as usize {
            interest.add(2, format!("queried under {files} different files"));
        }
        if weeks >= ri.min_weeks {
            interest.add(2, format!("queried in {weeks} different weeks"));
        }
        if interest.score() > 0 {
            match entry.kinds.len() {
                0 => {}
                1 if files > 1 => interest.add(
                    -2,
                    "every file is of one offence: a series with one suspect vehicle",
                ),
                1 => {}
                n => interest.add(2, format!("the files are of {n} different offences")),
            }
            if shared {
                interest.add(
                    -3,
                    "colleagues queried the plate too: it is of interest to the police",
                );
            }
        }
        let evidence = interest
            .reaches(INTEREST_AT)
            .then(|| entry.evidence.clone());

        // Polling: a chain of near-live searches, each within the gap of the last.
        let mut polled: Option<(Vec<u64>, Evidence)> = None;
        let near_live = u.kind == UseKind::Search
            && u.newest_result_age_s
                .is_some_and(|age| age <= poll.near_live_minutes as u64 * 60);
        if polling_on && near_live {
            let gap = Duration::minutes(poll.max_gap_minutes as i64);
            if entry.last_near_live.is_none_or(|last| u.at - last > gap) {
                entry.chain.clear();
                entry.chain_began = Some(u.at);
            }
            entry.last_near_live = Some(u.at);
            push_bounded(&mut entry.chain, u.index, MAX_EVIDENCE);
            if entry.chain.len() >= poll.min_searches as usize {
                let mut e = Evidence::new();
                e.add(
                    3,
                    format!(
                        "{} searches at most {} minutes apart, each returning sightings under \
                         {} minutes old",
                        entry.chain.len(),
                        poll.max_gap_minutes,
                        poll.near_live_minutes
                    ),
                );
                let began = entry.chain_began.unwrap_or(u.at);
                if opened.is_some_and(|o| began - o < Duration::hours(6)) {
                    e.add(
                        -2,
                        "the file's incident had opened less than six hours before: a vehicle \
                         sought while the incident was fresh",
                    );
                }
                if e.reaches(POLLING_AT) {
                    polled = Some((entry.chain.clone(), e));
                }
            }
        }
        if tracked {
            return Ok(());
        }
        if let (true, Some(evidence)) = (interest_on, evidence) {
            let explanation = format!(
                "Plate {plate} queried {uses} times, the latest on {}, with no tracking \
                 authorisation for it: the pattern of following a person. {}",
                when(u.at),
                interest.summary(INTEREST_AT)
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
        if let Some((chain, e)) = polled {
            let explanation = format!(
                "Historical searches of {plate} up to {}: following the vehicle as it moves, \
                 which needs a tracking authorisation they did not have. {}",
                when(u.at),
                e.summary(POLLING_AT)
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
        Ok(())
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

    fn under(index: u64, day: u32, staff: &str, file: &str) -> Use {
        let mut u = search(index, t(day, 10, index as u32), staff, "XYZ999");
        u.file_number = Some(file.to_string());
        u
    }

    #[test]
    fn one_plate_under_files_of_different_offences_is_repeated_interest() {
        let m = facts();
        // Weekly, under files of a wilful damage, a fraud and an arson: 2 + 2 + 2.
        let weekly: Vec<Use> = ["F1", "F2", "F9", "F1"]
            .iter()
            .enumerate()
            .map(|(w, f)| under(w as u64, w as u32 * 7, "S1", f))
            .collect();
        let f = run(cfg(), &m, &weekly, Rule::RepeatedInterest);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].evidence, vec![0, 1, 2, 3]);
        assert!(f[0].explanation.contains("Score 6"), "{}", f[0].explanation);
        // Three such files in one day: 2 + 2.
        let day: Vec<Use> = ["F1", "F2", "F9"]
            .iter()
            .enumerate()
            .map(|(i, f)| under(i as u64, 1, "S1", f))
            .collect();
        assert_eq!(run(cfg(), &m, &day, Rule::RepeatedInterest).len(), 1);
        // Four weeks of one case (one file): an ongoing investigation.
        let case: Vec<Use> = (0..4).map(|w| under(w, w as u32 * 7, "S1", "F1")).collect();
        assert!(run(cfg(), &m, &case, Rule::RepeatedInterest).is_empty());
    }

    #[test]
    fn a_series_worked_by_a_team_is_not() {
        let m = facts();
        // One suspect car under three burglaries over five weeks: 2 + 2 - 2.
        let mut series: Vec<Use> = ["B1", "B2", "B3", "B3"]
            .iter()
            .enumerate()
            .map(|(w, f)| under(w as u64, w as u32 * 9, "S1", f))
            .collect();
        assert!(run(cfg(), &m, &series, Rule::RepeatedInterest).is_empty());
        // Different offences, but a colleague works the plate too: 2 + 2 + 2 - 3.
        series = ["F1", "F2", "F9", "F1"]
            .iter()
            .enumerate()
            .map(|(w, f)| under(w as u64 * 2, w as u32 * 7, "S1", f))
            .collect();
        series.insert(1, under(1, 2, "S2", "F2"));
        assert!(run(cfg(), &m, &series, Rule::RepeatedInterest).is_empty());
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

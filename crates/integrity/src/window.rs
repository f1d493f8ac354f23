//! Bounded state: what the rules hold lapses after the windows their settings give, so the
//! engine's memory follows the entries of the last window, not the length of the ledger.
//!
//! - per (staff, plate) interest: `repeated_interest.window_days` after its latest query;
//! - per (staff, file) plates and per-staff justification clusters:
//!   `justification.window_days` after their latest use;
//! - per (staff, day) counts: `volume.baseline_days` after the newest day fed (a day not
//!   judged by a run's `finish` is judged before it goes).
//!
//! Lapsed state is forgotten when it is next touched (so a rule's outcome never depends on
//! when a sweep ran) and swept from the maps every eighth of the window.

use crate::engine::{Engine, PlateInterest};
use chrono::{DateTime, Duration, Utc};

/// `day - window` without overflow (the window reaches back before any day held).
pub(crate) fn cutoff(day: i32, window: u32) -> i32 {
    day.saturating_sub(window.min(i32::MAX as u32) as i32)
}

/// Resets `p` if its latest use is more than `window` days before `day`.
pub(crate) fn lapse(p: &mut PlateInterest, day: i32, window: u32) {
    if p.last_day < cutoff(day, window) {
        *p = PlateInterest::default();
    }
    p.last_day = day;
}

impl Engine {
    /// The pass has moved on to local day `day`: days past the baseline window are judged for
    /// volume and dropped, and lapsed state swept now and then.
    pub(crate) fn next_day(&mut self, day: i32) {
        if self.oldest_day == i32::MIN {
            self.oldest_day = day;
        }
        self.newest_day = day;
        self.drop_days_before(cutoff(day, self.cfg.volume.baseline_days));
        let every = (self
            .cfg
            .repeated_interest
            .window_days
            .min(self.cfg.justification.window_days)
            / 8)
        .max(1);
        if self.swept_day == i32::MIN {
            self.swept_day = day;
        } else if day >= self.swept_day.saturating_add(every as i32) {
            self.sweep(day);
            self.swept_day = day;
        }
    }

    /// Judges the days before `cut` not judged yet (against the baseline held now, the window
    /// that ends at the newest day), then drops their counts and their place in the baseline.
    fn drop_days_before(&mut self, cut: i32) {
        if self.oldest_day >= cut {
            return;
        }
        if self.cfg.volume.enabled {
            self.check_volume(Some(cut));
        }
        let days: Vec<i32> = if (cut - self.oldest_day) as usize > self.day_staff.len() {
            // A long jump in time: look at the days held rather than every day in between.
            self.day_staff
                .keys()
                .copied()
                .filter(|&d| d < cut)
                .collect()
        } else {
            (self.oldest_day..cut).collect()
        };
        for day in days {
            for s in self.day_staff.remove(&day).unwrap_or_default() {
                if let Some(d) = self.days.remove(&(s, day)) {
                    let g = self.staff[s as usize].group as usize;
                    self.group_days[g].remove(d.count);
                }
            }
            self.touched_days.remove(&day);
        }
        self.oldest_day = cut;
    }

    /// Removes interest, file plates and justification clusters that have lapsed by `day`.
    fn sweep(&mut self, day: i32) {
        let interest_cut = cutoff(day, self.cfg.repeated_interest.window_days);
        self.interest.retain(|_, p| p.last_day >= interest_cut);
        self.plate_staff.retain(|_, p| p.2 >= interest_cut);
        let files_cut = cutoff(day, self.cfg.justification.window_days);
        self.file_plates.retain(|_, f| f.last_day >= files_cut);
        for st in &mut self.staff {
            st.boilerplate.retain(|_, c| c.last_day >= files_cut);
        }
        self.sweep_duties(day);
    }

    /// Forgets what the rules on duties hold past their own windows (days at most).
    fn sweep_duties(&mut self, day: i32) {
        let offset = Duration::hours(self.cfg.hours.utc_offset_hours as i64);
        let local_day = move |t: DateTime<Utc>| (t + offset).timestamp().div_euclid(86_400) as i32;
        let latest = move |t: Option<DateTime<Utc>>| t.map_or(i32::MIN, local_day);
        let approval_cut = cutoff(day, self.cfg.approval.window_days);
        self.approval_attempts
            .retain(|_, a| latest(a.since) >= approval_cut);
        self.emergencies.retain(|_, r| latest(r.last_at) >= day - 2);
        self.unshown_reads
            .retain(|_, w| latest(w.last_at) >= day - 2);
        let accounts_cut = cutoff(day, self.cfg.staged_tracking.account_days + 2);
        self.accounts_set_up
            .retain(|_, (_, at, _)| local_day(*at) >= accounts_cut);
    }

    /// How many (staff, plate), (staff, file), cluster and (staff, day) records are held: what
    /// the windows bound.
    pub fn held_state(&self) -> usize {
        self.interest.len()
            + self.plate_staff.len()
            + self.file_plates.len()
            + self
                .staff
                .iter()
                .map(|s| s.boilerplate.len())
                .sum::<usize>()
            + self.days.len()
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::engine::Engine;
    use crate::finding::Rule;
    use crate::usage::Use;

    /// S1 searches XYZ999 once every `gap` days, four times (four different weeks), under
    /// files of different offences.
    fn every(gap: u32) -> Vec<Use> {
        (0..4)
            .map(|k| {
                let mut u = search(k, t(k as u32 * gap, 10, 0), "S1", "XYZ999");
                u.file_number = Some(["F1", "F2", "F9", "F1"][k as usize].into());
                u
            })
            .collect()
    }

    #[test]
    fn repeated_interest_lapses_after_its_window() {
        let m = facts();
        let within = only(|c| {
            c.repeated_interest.enabled = true;
            c.repeated_interest.window_days = 30;
        });
        // Weekly: inside a 30-day window, found.
        assert_eq!(
            run(within.clone(), &m, &every(7), Rule::RepeatedInterest).len(),
            1
        );
        // Every 40 days: each query starts afresh, never four weeks.
        assert!(run(within, &m, &every(40), Rule::RepeatedInterest).is_empty());
        // With the default year-long window, every 40 days is four weeks of interest.
        let default = only(|c| c.repeated_interest.enabled = true);
        assert_eq!(
            run(default, &m, &every(40), Rule::RepeatedInterest).len(),
            1
        );
    }

    #[test]
    fn a_tracking_basis_lapses_with_the_interest() {
        let m = facts();
        let cfg = only(|c| {
            c.repeated_interest.enabled = true;
            c.repeated_interest.window_days = 30;
        });
        let mut track = search(0, t(0, 9, 0), "S1", "XYZ999");
        track.kind = crate::usage::UseKind::TrackingRequest;
        // Tracked, then weekly searches from day 60: the old basis has lapsed.
        let mut uses = vec![track.clone()];
        uses.extend(every(7).into_iter().map(|mut u| {
            u.index += 1;
            u.at += chrono::Duration::days(60);
            u
        }));
        assert_eq!(run(cfg.clone(), &m, &uses, Rule::RepeatedInterest).len(), 1);
        // Tracked within the window: a basis.
        uses[0].at = t(55, 9, 0);
        assert!(run(cfg, &m, &uses, Rule::RepeatedInterest).is_empty());
    }

    /// 16 plates under F1 on day 1, then 15 more on day `later`.
    fn plates_under_one_file(later: u32) -> Vec<Use> {
        (0..31)
            .map(|i| {
                let day = if i < 16 { 1 } else { later };
                search(i, t(day, 10, 0), "S1", &format!("PLT{i:03}"))
            })
            .collect()
    }

    #[test]
    fn file_plates_and_boilerplate_lapse_after_the_justification_window() {
        let m = facts();
        let cfg = |window| {
            only(|c| {
                c.justification.enabled = true;
                c.justification.window_days = window;
            })
        };
        let uses = plates_under_one_file(40);
        assert_eq!(run(cfg(60), &m, &uses, Rule::FileManyPlates).len(), 1);
        assert!(run(cfg(30), &m, &uses, Rule::FileManyPlates).is_empty());
        // Boilerplate: 15 copies over 5 files, one every 10 days.
        let boiler: Vec<Use> = (0..15)
            .map(|i| {
                let mut u = search(i, t(i as u32 * 10, 10, 0), "S1", "XYZ999");
                u.file_number = Some(format!("F{}", i % 5));
                u.justification = Some(format!("Routine check on vehicle of interest ref {i}"));
                u
            })
            .collect();
        let found = run(cfg(365), &m, &boiler, Rule::BoilerplateJustification);
        assert_eq!(found.len(), 1);
        assert!(run(cfg(9), &m, &boiler, Rule::BoilerplateJustification).is_empty());
    }

    /// S1, S2, S3 search 10 times on each of days 0..10; on day `spike`, S2 searches 60 times
    /// and S1 and S3 10 times each.
    fn spike_on(spike: u32) -> Vec<Use> {
        let mut out = vec![];
        for day in (0..10).chain([spike]) {
            for s in ["S1", "S2", "S3"] {
                let n = if day == spike && s == "S2" { 60 } else { 10 };
                for k in 0..n {
                    let mut u = search(0, t(day, 22, k % 60), s, "XYZ999");
                    u.file_number = Some(format!("F{}", k % 30)); // spread: no one incident
                    out.push(u);
                }
            }
        }
        for (i, u) in out.iter_mut().enumerate() {
            u.index = i as u64;
        }
        out
    }

    #[test]
    fn volume_is_judged_against_the_baseline_window_only() {
        let m = facts();
        let cfg = |days| {
            only(|c| {
                c.volume.enabled = true;
                c.volume.baseline_days = days;
            })
        };
        // The spike 5 days after the ordinary days: inside a 30-day baseline, found.
        assert_eq!(
            run(cfg(30), &m, &spike_on(14), Rule::UnusualVolume).len(),
            1
        );
        // 100 days after: the ordinary days have left the baseline; three peer-days are too
        // few to compare against.
        assert!(run(cfg(30), &m, &spike_on(110), Rule::UnusualVolume).is_empty());
        assert_eq!(
            run(cfg(365), &m, &spike_on(110), Rule::UnusualVolume).len(),
            1
        );
    }

    /// The state held stays flat as the days go by: each day new plates and new texts, the
    /// windows let the old ones go.
    #[test]
    fn held_state_follows_the_window_not_the_history() {
        let m = facts();
        let mut cfg = crate::IntegrityConfig::default();
        cfg.repeated_interest.window_days = 20;
        cfg.justification.window_days = 20;
        cfg.volume.baseline_days = 20;
        let mut e = Engine::new(cfg);
        let mut held = vec![];
        let mut i = 0;
        for day in 0..200u32 {
            for k in 0..20u32 {
                let mut u = search(i, t(day, 22, k), ["S1", "S2", "S3"][k as usize % 3], "X");
                u.plate = Some(format!("P{day}X{k}"));
                u.file_number = Some(format!("F{day}"));
                u.justification = Some(format!(
                    "case {day} {k} words {}",
                    "abc ".repeat(k as usize)
                ));
                e.feed(&m.facts(), &u).unwrap();
                i += 1;
            }
            if day % 50 == 49 {
                e.finish();
                held.push(e.held_state());
            }
        }
        assert!(held[0] > 0);
        assert!(held.iter().all(|&h| h <= held[0] * 5 / 4), "{held:?}");
    }
}

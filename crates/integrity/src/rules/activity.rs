//! Rule 5: unusual volume or time. A day's uses far above the peers' days in the same role and
//! district, by the median and the median absolute deviation (robust: a few heavy users do not
//! move the baseline), and uses at hours the user is almost never active.
//!
//! Evidence models:
//! - **unusual volume** (a finding at 3): the day's count above the peers' median +
//!   `volume.mad_multiplier` × spread +3; four in five of the day's uses under one file (a
//!   major incident worked all day) −2.
//! - **unusual hours** (a finding at 3): `hours.min_uses` uses in one night at hours that held
//!   at most `hours.max_share` of their history +3; within three hours of an hour they have
//!   worked (a shift running early or late) −2; most of them under a file whose incident opened
//!   less than six hours before (called out to a fresh incident) −2.

use crate::engine::{push_bounded, Engine, StaffIx};
use crate::evidence::Evidence;
use crate::finding::{Rule, Severity};
use crate::hash::FxMap;
use crate::usage::Use;
use crate::window::cutoff;
use chrono::{DateTime, NaiveDate, Utc};

/// Threshold of both evidence models above.
const FINDING_AT: i32 = 3;
/// Distinct files counted per (staff, day); more fall in one bucket.
const DAY_FILES: usize = 8;

/// Scales the MAD to a standard deviation for normally distributed data.
const MAD_SCALE: f64 = 1.4826;

fn day_name(day: i32) -> String {
    NaiveDate::from_num_days_from_ce_opt(day + 719_163)
        .map(|d| d.to_string())
        .unwrap_or_else(|| day.to_string())
}

impl Engine {
    pub(crate) fn count_day(&mut self, s: StaffIx, u: &Use, file: u64) {
        let (day, _) = self.local(u.at);
        if day < cutoff(self.newest_day, self.cfg.volume.baseline_days) {
            return; // an entry out of order by more than the window: no baseline holds its day
        }
        let d = self.days.entry((s, day)).or_default();
        if d.count == 0 {
            self.day_staff.entry(day).or_default().push(s);
        }
        d.count += 1;
        push_bounded(&mut d.sample, u.index, 10);
        if let Some((_, n)) = d.files.iter_mut().find(|(f, _)| *f == file) {
            *n += 1;
        } else if d.files.len() < DAY_FILES {
            d.files.push((file, 1));
        }
        let days = &mut self.group_days[self.staff[s as usize].group as usize];
        if d.count == 1 {
            days.add(1);
        } else {
            days.replace(d.count - 1, d.count);
        }
        self.touched_days.insert(day);
    }

    pub(crate) fn check_hours(&mut self, s: StaffIx, u: &Use, file: u64) {
        let (day, hour) = self.local(u.at);
        let cfg = self.cfg.hours.clone();
        let fresh = self
            .incidents
            .get(&file)
            .and_then(Option::as_ref)
            .is_some_and(|i| u.at - i.opened_at < chrono::Duration::hours(6));
        let me = &mut self.staff[s as usize];
        if me.odd_day != day {
            // The unusual uses of an earlier day join the baseline only now, so that a night's
            // run of them is judged against the history before it.
            for h in me.odd_hours.drain(..) {
                me.hours[h] += 1;
                me.total += 1;
            }
            me.odd_day = day;
            me.odd_evidence.clear();
            me.odd_fresh = 0;
        }
        // The hour and two either side: a shift's edges are not unusual, the middle of the
        // night for someone who works days is.
        let around: u32 = (0..5).map(|k| me.hours[(hour + 22 + k) % 24]).sum();
        let judged = me.total >= cfg.min_history;
        let unusual = judged && (around as f64) <= cfg.max_share * me.total as f64;
        if !unusual {
            me.hours[hour] += 1;
            me.total += 1;
            return;
        }
        me.odd_hours.push(hour);
        me.odd_fresh += u32::from(fresh);
        push_bounded(&mut me.odd_evidence, u.index, 20);
        let count = me.odd_hours.len();
        if count >= cfg.min_uses as usize {
            let mut e = Evidence::new();
            e.add(
                3,
                format!(
                    "{count} uses around {hour:02}:00 local time, an hour at which they made \
                     {around} of their previous {} uses",
                    me.total
                ),
            );
            // Hours from the nearest hour they have worked (either way round the clock).
            let gap = (1..=12)
                .find(|d| me.hours[(hour + d) % 24] > 0 || me.hours[(hour + 24 - d) % 24] > 0)
                .unwrap_or(12);
            if gap <= 3 {
                e.add(
                    -2,
                    format!(
                        "{} from hours they work: a shift running early or late",
                        crate::evidence::count(gap as u32, "hour", "hours")
                    ),
                );
            }
            if me.odd_fresh as usize * 2 > count {
                e.add(
                    -2,
                    "most were under a file whose incident had opened less than six hours \
                     before: called out to a fresh incident",
                );
            }
            if !e.reaches(FINDING_AT) {
                return;
            }
            let explanation = format!(
                "Uses on {} at hours they almost never work. {}",
                day_name(day),
                e.summary(FINDING_AT)
            );
            let evidence = me.odd_evidence.clone();
            self.report(
                Rule::UnusualHours,
                Severity::Low,
                s,
                &day_name(day),
                &evidence,
                u.at,
                explanation,
            );
        }
    }

    /// Compares the members of staff's days fed and not yet judged (those before `before`, or
    /// all) against the days of their peers (same role, same district) held now: the
    /// `volume.baseline_days` before the newest.
    pub(crate) fn check_volume(&mut self, before: Option<i32>) {
        if self.touched_days.is_empty() {
            return;
        }
        let cfg = self.cfg.volume.clone();
        let judged: Vec<i32> = self
            .touched_days
            .iter()
            .copied()
            .filter(|&d| before.is_none_or(|b| d < b))
            .collect();
        let mut candidates: Vec<(StaffIx, i32, u32)> = Vec::new();
        for day in judged {
            self.touched_days.remove(&day);
            for &s in self.day_staff.get(&day).map(Vec::as_slice).unwrap_or(&[]) {
                let c = self.days[&(s, day)].count;
                if c >= cfg.min_daily_uses {
                    candidates.push((s, day, c));
                }
            }
        }
        if candidates.is_empty() {
            return;
        }
        let mut limits: FxMap<u32, Option<(f64, f64, f64)>> = FxMap::default();
        for &(s, _, _) in &candidates {
            let g = self.staff[s as usize].group;
            limits.entry(g).or_insert_with(|| {
                let days = &self.group_days[g as usize];
                if days.len() < cfg.min_peer_days as u64 {
                    return None;
                }
                let med = days.median();
                let mad = days.median_abs_deviation(med) * MAD_SCALE;
                // Counts are noisy like a Poisson count: a floor of sqrt(median) keeps a group
                // whose days are all alike from flagging every small excess.
                let spread = mad.max(med.sqrt()).max(1.0);
                Some((med, mad, med + cfg.mad_multiplier * spread))
            });
        }
        candidates.sort_unstable();
        for (s, day, count) in candidates {
            let Some(&Some((med, mad, limit))) = limits.get(&self.staff[s as usize].group) else {
                continue;
            };
            if (count as f64) <= limit {
                continue;
            }
            let st = &self.staff[s as usize];
            let mut e = Evidence::new();
            e.add(
                3,
                format!(
                    "{count} uses, against a median of {med:.0} (MAD {mad:.1}) for days of staff \
                     acting as {} in {}: more than {} times the usual spread above normal",
                    st.role,
                    st.profile
                        .district
                        .as_deref()
                        .unwrap_or("an unknown district"),
                    cfg.mad_multiplier
                ),
            );
            let top = self.days[&(s, day)]
                .files
                .iter()
                .map(|(_, n)| *n)
                .max()
                .unwrap_or(0);
            if top * 5 >= count * 4 {
                e.add(
                    -2,
                    format!("{top} of them under one file: one major incident worked all day"),
                );
            }
            if !e.reaches(FINDING_AT) {
                continue;
            }
            let explanation = format!(
                "A day of far more uses than their peers': {}. {}",
                day_name(day),
                e.summary(FINDING_AT)
            );
            let evidence = self.days[&(s, day)].sample.clone();
            let at: DateTime<Utc> = DateTime::from_timestamp(
                day as i64 * 86_400 - self.cfg.hours.utc_offset_hours as i64 * 3600,
                0,
            )
            .unwrap_or_default();
            let severity = if count as f64 > 2.0 * limit {
                Severity::High
            } else {
                Severity::Medium
            };
            let key = day_name(day);
            // Evidence is added once per day: a later run over the same day only updates it.
            if self.finding_uses(Rule::UnusualVolume, s, &key) == 0 {
                self.report(
                    Rule::UnusualVolume,
                    severity,
                    s,
                    &key,
                    &evidence,
                    at,
                    explanation,
                );
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::engine::testing::*;
    use crate::finding::Rule;
    use crate::usage::Use;

    fn cfg() -> crate::IntegrityConfig {
        only(|c| {
            c.volume.enabled = true;
            c.hours.enabled = true;
        })
    }

    /// S1, S2 and S3 (peers: searcher, Waikato) each make `per_day` searches a day for 10
    /// days, between 09:00 and 17:00 local time (21:00-05:00 UTC).
    fn ordinary(per_day: u32) -> Vec<Use> {
        let mut out = vec![];
        let mut i = 0;
        for day in 0..10 {
            for s in ["S1", "S2", "S3"] {
                for k in 0..per_day {
                    out.push(search(i, t(day, 21 + (k % 8), 0), s, "XYZ999"));
                    i += 1;
                }
            }
        }
        out.sort_by_key(|u| u.at);
        for (i, u) in out.iter_mut().enumerate() {
            u.index = i as u64;
        }
        out
    }

    #[test]
    fn a_day_far_above_peers_is_unusual_volume() {
        let m = facts();
        let mut uses = ordinary(10);
        let base = uses.len() as u64;
        // Sixty searches spread over many files.
        let trawl = |u: Use, k: u64| {
            let mut u = u;
            u.file_number = Some(format!("F{}", k % 30));
            u
        };
        let heavy: Vec<Use> = (0..60)
            .map(|k| {
                trawl(
                    search(base + k, t(10, 22, k as u32 % 60), "S2", "XYZ999"),
                    k,
                )
            })
            .collect();
        uses.extend(heavy.iter().cloned());
        let f = run(cfg(), &m, &uses, Rule::UnusualVolume);
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].staff_id, "S2");
        assert!(f[0].explanation.contains("median of 10"));
        assert!(run(cfg(), &m, &ordinary(10), Rule::UnusualVolume).is_empty());
        // The same sixty under one file: a major incident worked all day.
        let mut major = ordinary(10);
        major.extend(heavy.into_iter().map(|mut u| {
            u.file_number = Some("F2".into());
            u
        }));
        assert!(run(cfg(), &m, &major, Rule::UnusualVolume).is_empty());
    }

    #[test]
    fn a_busy_but_normal_day_is_not_unusual() {
        let m = facts();
        let mut uses = ordinary(40);
        let base = uses.len() as u64;
        uses.extend((0..50).map(|k| search(base + k, t(10, 22, k as u32 % 60), "S2", "XYZ999")));
        assert!(run(cfg(), &m, &uses, Rule::UnusualVolume).is_empty());
    }

    #[test]
    fn night_uses_by_a_day_worker_are_unusual_hours_but_not_for_a_night_worker() {
        let m = facts();
        let mut uses = ordinary(10);
        let base = uses.len() as u64;
        // 03:00 local = 15:00 UTC.
        uses.extend((0..3).map(|k| search(base + k, t(10, 15, k as u32 * 5), "S1", "XYZ999")));
        let f = run(cfg(), &m, &uses, Rule::UnusualHours);
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].staff_id, "S1");
        assert_eq!(f[0].evidence.len(), 3);
        // Only two: below the threshold.
        assert!(run(cfg(), &m, &uses[..uses.len() - 1], Rule::UnusualHours).is_empty());
        // A night worker's nights are normal.
        let nights: Vec<Use> = (0..80)
            .map(|k| search(k, t(k as u32 / 8, 15, (k % 8) as u32 * 5), "S3", "XYZ999"))
            .collect();
        assert!(run(cfg(), &m, &nights, Rule::UnusualHours).is_empty());
    }
}

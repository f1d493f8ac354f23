//! The planted misuse, each class from a written description of the misuse as an integrity
//! investigator would tell it — never from the rules' thresholds. Where a description gives a
//! range ("minutes before", "a day or two after"), the plant draws from that range.
//!
//! 1. **Own or household vehicle.** An officer looks up their own car or their household's,
//!    once to three times over a few days ("to test the system"); the block refuses most.
//! 2. **Own car tracked.** An officer records a stolen report for their own car, naming
//!    themselves as complainant, and tracks it minutes later; the report is cancelled the next
//!    day.
//! 3. **False stolen report.** An officer wants a vehicle followed (an ex-partner's, a
//!    neighbour's). A stolen report is entered — by themselves or a teammate — naming as
//!    complainant themselves, someone in their household or a friend, none of them the
//!    owner, minutes before they ask for tracking on it; once they have what they wanted, the
//!    report is cancelled as a mistake (not recovered) within a day or two.
//! 4. **Other districts' files.** An officer borrows file numbers of incidents in other
//!    districts, not assigned to them, to cover searches: three files over a week.
//! 5. **One file for many plates.** An officer uses one ordinary file of theirs — a single
//!    minor incident they alone hold — as cover to look up forty unrelated plates over ten days.
//! 6. **Boilerplate.** An officer pastes one vague sentence ("routine enquiry regarding vehicle
//!    of interest") as the justification of twenty searches under different files.
//! 7. **Following a vehicle.** An officer searches one plate once a week for six weeks, each
//!    time under a different file of theirs, unrelated to the plate.
//! 8. **Polling.** An officer without a tracking authorisation re-runs a historical search of
//!    one plate every eleven minutes to follow it live, under an old file of theirs.
//! 9. **Trawling.** An officer runs 150 searches of unrelated plates in one day, spread over
//!    thirty of their files.
//! 10. **Night searches.** A day worker with a long day history searches four plates at 3 a.m.
//!     under an old file.
//! 11. **Chained renewals.** An officer renews a 72-hour tracking four times in a row.
//! 12. **Tracking after recovery.** An officer asks to track a car two days after its stolen
//!     report was closed as recovered.
//! 13. **Self-approval.** A supervisor who may also track asks to track a vehicle and then
//!     tries to approve the request themselves.
//! 14. **Approval across districts.** A supervisor tries to approve, one after another, two or
//!     three requests of officers in another district.
//! 15. **Tracking staged by an administrator.** An administrator gives an accomplice's account
//!     the tracker role, loads one stolen report by hand for the vehicle they want followed,
//!     entered minutes to two hours before, and the account asks to track it within a day.
//! 16. **Rolling emergencies.** An officer keeps a vehicle tracked without approval by filing
//!     a new emergency request each time the last one lapses unapproved: three to six requests
//!     about an hour apart.
//! 17. **Walking read ids.** An officer opens read after read by id (id, id + 1, ...) to see
//!     sightings never shown to them: ten to forty views in half an hour, each refused.
//! 18. **Own vehicle by pattern.** Knowing the block refuses their plate, an officer searches a
//!     wildcard of it with one character replaced by `?`, or a fuzzy search of it allowing one
//!     edit.
//! 19. **Subject access to one's own vehicle.** A privacy officer opens a subject access
//!     request about their own car or their household's.

use super::*;

impl Builder {
    pub(super) fn plant(&mut self) {
        let mut used = std::collections::HashSet::new();
        let n = self.cfg.others;
        let late = |b: &mut Builder| b.rng.gen_range(30..330);

        // 1. Own or household vehicle: searched, mostly refused by the block.
        for who in self.pick_staff(&mut used, self.cfg.own_vehicle_staff, |p| {
            p.roles.contains("searcher")
        }) {
            let plate = match &self.people[who].household_plate {
                Some(h) if self.rng.gen_bool(0.3) => h.clone(),
                _ => self.people[who].own_plate.clone(),
            };
            let day = late(self);
            let first = self.shift_time(who, day);
            let file = self.own_file(who, first);
            for k in 0..self.rng.gen_range(1..=3) {
                let at = self.shift_time(who, day + k * 2);
                let refused = self.rng.gen_bool(0.85).then_some("own_vehicle");
                self.search(
                    who,
                    at,
                    &plate,
                    &file,
                    "checking a vehicle seen near the station",
                    90_000,
                    refused,
                );
            }
            self.plant_truth(
                "own_vehicle",
                who,
                &plate,
                "searched own or household vehicle",
            );
        }
        // 2. Tracking one's own car on a stolen report one recorded oneself.
        for who in self.pick_staff(&mut used, self.cfg.own_car_trackers, |p| {
            p.roles.contains("tracker")
        }) {
            let plate = self.people[who].own_plate.clone();
            let day = late(self);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let me = self.people[who].staff_id.clone();
            let person = self.people[who].person_id.clone();
            let entry = self.stolen_report(
                &plate,
                &file,
                at - Duration::minutes(25),
                &person,
                &me,
                StolenStatus::Cancelled,
                Some(at + Duration::hours(30)),
            );
            self.track_stolen(who, at, &plate, &file, entry);
            self.plant_truth("own_vehicle", who, &plate, "tracked own car");
            self.plant_truth(
                "stolen_report",
                who,
                &format!("stolen:{}", entry + 1),
                "own car reported stolen by themselves",
            );
        }
        // 3. False stolen reports (description 3).
        for (k, who) in self
            .pick_staff(&mut used, self.cfg.false_stolen, |p| {
                p.roles.contains("tracker")
            })
            .into_iter()
            .enumerate()
        {
            let day = late(self);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let plate = self.plate();
            self.sim.vehicles.push(vehicle(&plate, "V-OWNER", "V-ADDR"));
            let recorder = if k % 2 == 0 {
                self.people[who].staff_id.clone()
            } else {
                self.teammate(who)
            };
            let complainant = match k % 3 {
                0 => self.people[who].person_id.clone(),
                1 => match &self.people[who].household_plate {
                    Some(_) => format!("H{who}"),
                    None => self.people[who].person_id.clone(),
                },
                _ => format!("FRIEND{who}"),
            };
            let before = Duration::minutes(self.rng.gen_range(5..=90));
            // Cancelled once the 24-hour tracking has run, within a day or two.
            let cancelled = at + Duration::hours(24 + self.rng.gen_range(1..=48));
            let entry = self.stolen_report(
                &plate,
                &file,
                at - before,
                &complainant,
                &recorder,
                StolenStatus::Cancelled,
                Some(cancelled),
            );
            self.track_stolen(who, at, &plate, &file, entry);
            self.plant_truth(
                "stolen_report",
                who,
                &format!("stolen:{}", entry + 1),
                "false stolen report",
            );
        }
        // 4. File numbers of another district's incidents, not assigned to them, over a week.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("searcher")) {
            let mine = DISTRICTS[self.people[who].district];
            let day = late(self);
            let at0 = self.shift_time(who, day);
            let base = self.rng.gen_range(0..self.sim.incidents.len());
            let theirs: Vec<usize> = (0..self.sim.incidents.len())
                .map(|k| (base + k) % self.sim.incidents.len())
                .filter(|&k| {
                    let i = &self.sim.incidents[k];
                    i.district != mine && i.opened_at < at0
                })
                .take(3)
                .collect();
            for (j, k) in theirs.into_iter().enumerate() {
                let at = self.shift_time(who, day + 2 * j as i64);
                let file = self.sim.incidents[k].file_number.clone();
                let plate = self.incident_plates[k][0].clone();
                let text = format!("{}; {}", self.incident_text[k], pick(&mut self.rng, STEPS));
                self.search(who, at, &plate, &file, &text, 90_000, None);
            }
            self.plant_truth("file_not_theirs", who, "files", "other districts' files");
        }
        // 5. One file number for many unrelated plates.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("searcher")) {
            let day = late(self);
            let at0 = self.shift_time(who, day);
            let kind = pick(&mut self.rng, MINOR_INCIDENTS);
            let n = self.new_incident(who, at0, kind);
            self.sim.incidents[n].assigned_staff.truncate(1);
            let file = self.sim.incidents[n].file_number.clone();
            let text = self.incident_text_for(&file);
            for k in 0..40 {
                let at = self.shift_time(who, day + k / 4);
                let plate = self.plate();
                let why = format!("{text}; {}", pick(&mut self.rng, STEPS));
                self.search(who, at, &plate, &file, &why, 90_000, None);
            }
            self.plant_truth("file_many_plates", who, &file, "one file, forty plates");
        }
        // 6. Boilerplate justification across many files.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("searcher")) {
            let day = late(self);
            for k in 0..20 {
                let at = self.shift_time(who, day + k);
                let file = self.own_file(who, at);
                let plate = self.plate();
                let text = format!(
                    "Routine enquiry regarding vehicle of interest as per file {file}, ref {k}"
                );
                self.search(who, at, &plate, &file, &text, 90_000, None);
            }
            self.plant_truth(
                "boilerplate_justification",
                who,
                "justification",
                "copied justification",
            );
        }
        // 7. Following one vehicle for weeks under different files.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("searcher")) {
            let plate = self.plate();
            let day = late(self).min(300);
            for w in 0..6 {
                let at = self.shift_time(who, day + w * 7);
                let file = self.own_file(who, at);
                let text = format!(
                    "{}; {}",
                    self.incident_text_for(&file),
                    pick(&mut self.rng, STEPS)
                );
                self.search(who, at, &plate, &file, &text, 90_000, None);
            }
            self.plant_truth("repeated_interest", who, &plate, "one plate, six weeks");
        }
        // 8. Polling: near-live searches minutes apart.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("searcher")) {
            let plate = self.plate();
            let day = late(self);
            let at0 = self.shift_time(who, day);
            let file = self.old_file(who, at0);
            let text = format!("{}; locate the vehicle", self.incident_text_for(&file));
            for k in 0..5 {
                let at = at0 + Duration::minutes(k * 11);
                let age = self.rng.gen_range(1800..2700);
                self.search(who, at, &plate, &file, &text, age, None);
            }
            self.plant_truth(
                "polling",
                who,
                &format!("poll:{plate}"),
                "searched every eleven minutes",
            );
        }
        // 9. A day of volume far above peers.
        for who in self.pick_staff(&mut used, n, |p| !p.night && p.roles.contains("searcher")) {
            let day = late(self);
            let mut files = Vec::new();
            for _ in 0..30 {
                let at = self.shift_time(who, day);
                files.push(self.own_file(who, at));
            }
            let mut first = None;
            for k in 0..150 {
                let at = self.shift_time(who, day);
                first = Some(first.map_or(at, |f: DateTime<Utc>| f.min(at)));
                let file = files[k % files.len()].clone();
                let plate = self.plate();
                let text = format!(
                    "{}; {}",
                    self.incident_text_for(&file),
                    pick(&mut self.rng, STEPS)
                );
                self.search(who, at, &plate, &file, &text, 90_000, None);
            }
            let key = local_day(first.unwrap_or_else(|| self.start())).to_string();
            self.plant_truth("unusual_volume", who, &key, "150 searches in a day");
        }
        // 10. Night searches by a day worker with a long history of day work.
        let busy = self.busy_day_workers();
        let night_owls: Vec<usize> = busy
            .into_iter()
            .filter(|i| !used.contains(i))
            .take(n)
            .collect();
        for who in night_owls {
            used.insert(who);
            let day = 362;
            let midnight = self.start() + Duration::days(day) - Duration::hours(12);
            let at0 = midnight + Duration::hours(3);
            let file = self.old_file(who, at0);
            let text = format!(
                "{}; {}",
                self.incident_text_for(&file),
                pick(&mut self.rng, STEPS)
            );
            for k in 0..4 {
                let plate = self.plate();
                self.search(
                    who,
                    at0 + Duration::minutes(k * 9),
                    &plate,
                    &file,
                    &text,
                    90_000,
                    None,
                );
            }
            self.plant_truth(
                "unusual_hours",
                who,
                &local_day(at0).to_string(),
                "searches at 3 a.m.",
            );
        }
        // 11. Renewals chained far past the limits.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("tracker")) {
            let day = late(self).min(320);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let plate = self.plate();
            let root = self.track(who, at, &plate, &file, "supervised", None, None, 72 * 60);
            let mut prev = root;
            for r in 1..=4 {
                let t = at + Duration::hours(72 * r - 1);
                prev = self.track(
                    who,
                    t,
                    &plate,
                    &file,
                    "supervised",
                    None,
                    Some(prev),
                    72 * 60,
                );
            }
            self.plant_truth(
                "renewal_chain",
                who,
                &format!("chain:{root}"),
                "four renewals of 72 hours",
            );
        }
        // 12. Tracking sought after the vehicle was recovered.
        for who in self.pick_staff(&mut used, n, |p| p.roles.contains("tracker")) {
            let day = late(self);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let plate = self.plate();
            let owner = format!("O-R{who}");
            self.sim.vehicles.push(vehicle(&plate, &owner, "OA-R"));
            let other = self.people[(who + 5 * DISTRICTS.len()) % self.people.len()]
                .staff_id
                .clone();
            self.stolen_report(
                &plate,
                &file,
                at - Duration::days(10),
                &owner,
                &other,
                StolenStatus::Recovered,
                Some(at - Duration::days(2)),
            );
            self.track(who, at, &plate, &file, "supervised", None, None, 24 * 60);
            self.plant_truth(
                "tracking_after_recovery",
                who,
                &plate,
                "tracking two days after recovery",
            );
        }
        self.plant_duties(&mut used);
    }

    /// Day workers with the most uses in the background (for planting night activity).
    fn busy_day_workers(&self) -> Vec<usize> {
        let mut counts = std::collections::HashMap::<&str, u32>::new();
        for e in &self.sim.events {
            *counts.entry(e.actor.id.as_str()).or_default() += 1;
        }
        let mut v: Vec<(u32, usize)> = (0..self.people.len())
            .filter(|&i| !self.people[i].night)
            .map(|i| {
                (
                    counts
                        .get(self.people[i].staff_id.as_str())
                        .copied()
                        .unwrap_or(0),
                    i,
                )
            })
            .collect();
        v.sort_unstable_by(|a, b| b.cmp(a));
        v.into_iter().map(|(_, i)| i).collect()
    }
}

//! The honest look-alikes of the table in `honest`: ordinary police work that meets, one at a
//! time, the conditions the integrity rules list.

use super::*;

/// Incidents that involve many vehicles: series and operations.
const SERIES: &[&str] = &[
    "burglary",
    "fraud",
    "drug supply",
    "receiving stolen goods",
    "shoplifting ring",
];

impl Builder {
    /// How many of a look-alike this year holds (`per_year` nationally).
    fn yearly(&self, per_year: f64) -> usize {
        (per_year * self.cfg.lookalike_scale).round() as usize
    }

    fn searcher(&mut self) -> usize {
        self.rng.gen_range(0..self.cfg.staff)
    }

    fn day_worker(&mut self) -> usize {
        loop {
            let who = self.searcher();
            if !self.people[who].night {
                return who;
            }
        }
    }

    fn tracker(&mut self) -> usize {
        loop {
            let who = self.searcher();
            if self.people[who].roles.contains("tracker") {
                return who;
            }
        }
    }

    /// An incident of `kind` opened at `opened`, assigned to `team`.
    fn incident_for(&mut self, team: &[usize], opened: DateTime<Utc>, kind: &str) -> String {
        let n = self.new_incident(team[0], opened, kind);
        let i = &mut self.sim.incidents[n];
        i.opened_at = opened;
        i.assigned_staff = team
            .iter()
            .map(|&w| self.people[w].staff_id.clone())
            .collect();
        i.file_number.clone()
    }

    /// Members of `who`'s team, `who` first (up to `n`).
    fn team_of(&self, who: usize, n: usize) -> Vec<usize> {
        let mut team = vec![who];
        team.extend(
            (0..self.cfg.staff)
                .filter(|&i| i != who && self.people[i].team == self.people[who].team)
                .take(n.saturating_sub(1)),
        );
        team
    }

    fn why(&mut self, file: &str) -> String {
        format!(
            "{}; {}",
            self.incident_text_for(file),
            pick(&mut self.rng, STEPS)
        )
    }

    pub(super) fn lookalikes(&mut self) {
        self.restolen_cars();
        self.series();
        self.operations();
        self.callouts();
        self.major_incidents();
        self.hot_pursuits();
        self.assisting_other_districts();
        self.mistyped_file_numbers();
        self.templated_justifications();
        self.stale_links();
        self.partial_plates_covering_own();
        self.duties();
    }

    /// A car recovered weeks ago is stolen again and tracked on its new report.
    fn restolen_cars(&mut self) {
        for _ in 0..self.yearly(30.0) {
            let who = self.tracker();
            let day = self.rng.gen_range(40..360);
            let at = self.shift_time(who, day);
            let plate = self.plate();
            let owner = format!("O{}", self.next_plate);
            self.sim.vehicles.push(vehicle(&plate, &owner, "OA-RE"));
            let other = self.people[(who + 3 * DISTRICTS.len()) % self.cfg.staff]
                .staff_id
                .clone();
            let old_file = self.own_file(who, at - Duration::days(40));
            let recovered = at - Duration::days(self.rng.gen_range(5..25));
            self.stolen_report(
                &plate,
                &old_file,
                recovered - Duration::days(3),
                &owner,
                &other,
                StolenStatus::Recovered,
                Some(recovered),
            );
            let file = self.own_file(who, at);
            let reported = at - Duration::hours(self.rng.gen_range(2..30));
            let entry = self.stolen_report(
                &plate,
                &file,
                reported,
                &owner,
                &other,
                StolenStatus::Active,
                None,
            );
            self.track_stolen(who, at, &plate, &file, entry);
        }
    }

    /// A series: one suspect car under several files of one offence, queried by the team.
    fn series(&mut self) {
        for _ in 0..self.yearly(60.0) {
            let who = self.searcher();
            let team = self.team_of(who, 3);
            let kind = pick(&mut self.rng, &SERIES[..2]);
            let plate = self.plate();
            let day0 = self.rng.gen_range(0..320);
            for k in 0..self.rng.gen_range(3..=5) {
                let day = day0 + k * self.rng.gen_range(4..10);
                let at = self.shift_time(who, day);
                let file = self.incident_for(&team, at - Duration::hours(20), kind);
                let why = self.why(&file);
                self.search(who, at, &plate, &file, &why, 90_000, None);
                let mate = team[self.rng.gen_range(0..team.len())];
                let t = self.shift_time(mate, day + 1);
                self.search(mate, t, &plate, &file, &why, 90_000, None);
            }
        }
    }

    /// An operation: a team's investigator queries dozens of plates under one file.
    fn operations(&mut self) {
        for _ in 0..self.yearly(40.0) {
            let who = self.searcher();
            let size = self.rng.gen_range(3..=6);
            let team = self.team_of(who, size);
            let day0 = self.rng.gen_range(0..320);
            let kind = pick(&mut self.rng, SERIES);
            let opened = self.shift_time(who, day0);
            let file = self.incident_for(&team, opened, kind);
            let plates: Vec<String> = (0..self.rng.gen_range(35..=90))
                .map(|_| self.plate())
                .collect();
            for (k, plate) in plates.iter().enumerate() {
                let member = if k % 4 == 3 {
                    team[self.rng.gen_range(0..team.len())]
                } else {
                    who
                };
                let offset = self.rng.gen_range(0..35);
                let at = self.shift_time(member, day0 + offset);
                let why = self.why(&file);
                self.search(member, at, plate, &file, &why, 90_000, None);
            }
        }
    }

    /// A day worker called out at night to a fresh incident.
    fn callouts(&mut self) {
        for _ in 0..self.yearly(60.0) {
            let who = self.day_worker();
            let day = self.rng.gen_range(60..364);
            let midnight = self.start() + Duration::days(day) - Duration::hours(12);
            let at0 = midnight + Duration::hours(self.rng.gen_range(1..4));
            let kind = pick(&mut self.rng, OFFENCES);
            let file = self.incident_for(&[who], at0 - Duration::minutes(40), kind);
            let why = self.why(&file);
            for k in 0..self.rng.gen_range(3..=6) {
                let plate = self.plate();
                let at = at0 + Duration::minutes(k * 7);
                self.search(who, at, &plate, &file, &why, 3_000, None);
            }
        }
    }

    /// A major incident: a district's officers each run dozens of searches in a day on it.
    fn major_incidents(&mut self) {
        for _ in 0..self.yearly(12.0) {
            let lead = self.day_worker();
            let size = self.rng.gen_range(3..=5);
            let team = self.team_of(lead, size);
            let day = self.rng.gen_range(30..360);
            let opened = self.shift_time(lead, day) - Duration::hours(6);
            let file = self.incident_for(&team, opened, "homicide");
            for &member in &team {
                for _ in 0..self.rng.gen_range(60..=140) {
                    let at = self.shift_time(member, day);
                    let plate = self.plate();
                    let why = self.why(&file);
                    self.search(member, at, &plate, &file, &why, 40_000, None);
                }
            }
        }
    }

    /// Hot pursuit: a fresh incident's plate searched again and again for an hour or so.
    fn hot_pursuits(&mut self) {
        for _ in 0..self.yearly(60.0) {
            let who = self.searcher();
            let day = self.rng.gen_range(0..364);
            let at0 = self.shift_time(who, day);
            let opened = at0 - Duration::minutes(self.rng.gen_range(10..90));
            let file = self.incident_for(&[who], opened, "fleeing driver");
            let plate = self.plate();
            let why = format!("{}; locate the vehicle", self.incident_text_for(&file));
            let mut at = at0;
            for _ in 0..self.rng.gen_range(4..=6) {
                let age = self.rng.gen_range(300..3_000);
                self.search(who, at, &plate, &file, &why, age, None);
                at += Duration::minutes(self.rng.gen_range(8..20));
            }
        }
    }

    /// Help to another district on one of its files, not formally assigned.
    fn assisting_other_districts(&mut self) {
        for _ in 0..self.yearly(100.0) {
            let who = self.searcher();
            let mine = DISTRICTS[self.people[who].district];
            let n = self.sim.incidents.len();
            let start = self.rng.gen_range(0..n);
            let Some(k) = (0..n)
                .map(|j| (start + j) % n)
                .find(|&j| self.sim.incidents[j].district != mine)
            else {
                continue;
            };
            let (file, at) = {
                let i = &self.sim.incidents[k];
                (i.file_number.clone(), i.opened_at + Duration::hours(26))
            };
            let plate = self.incident_plates[k][0].clone();
            let why = format!("{}; assisting {}", self.incident_text[k], DISTRICTS[0]);
            for r in 0..self.rng.gen_range(1..=3) {
                self.search(
                    who,
                    at + Duration::minutes(r * 30),
                    &plate,
                    &file,
                    &why,
                    90_000,
                    None,
                );
            }
        }
    }

    /// A file number mistyped: refused as not in the incident register, then searched again
    /// under the right one a minute later.
    fn mistyped_file_numbers(&mut self) {
        for _ in 0..self.yearly(150.0) {
            let who = self.searcher();
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let typo = format!("{file}9");
            let plate = self.plate();
            let why = self.why(&file);
            self.search(who, at, &plate, &typo, &why, 0, Some("unknown_file_number"));
            let later = at + Duration::minutes(1);
            self.search(who, later, &plate, &file, &why, 90_000, None);
        }
    }

    /// A desk officer who writes each justification from one template naming the incident.
    fn templated_justifications(&mut self) {
        for _ in 0..self.yearly(20.0) {
            let who = self.day_worker();
            let day0 = self.rng.gen_range(0..300);
            for k in 0..self.rng.gen_range(20..=40) {
                let at = self.shift_time(who, day0 + k);
                let file = self.incident_for(&[who], at - Duration::hours(5), "fuel drive-off");
                let plate = self.plate();
                let text = format!(
                    "fuel drive-off at {} {}: identify the driver from the forecourt camera",
                    pick(&mut self.rng, TOWNS),
                    pick(&mut self.rng, SCENES)
                );
                self.search(who, at, &plate, &file, &text, 90_000, None);
            }
        }
    }

    /// One or two read views refused because a link was old or the read purged.
    fn stale_links(&mut self) {
        for _ in 0..self.yearly(300.0) {
            let who = self.searcher();
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            for k in 0..self.rng.gen_range(1..=2) {
                let read = self.rng.gen_range(1..self.next_read.max(2));
                self.refused_view(who, at + Duration::minutes(k * 3), read, &file);
            }
        }
    }

    /// A witness's partial plate, searched honestly, happens to cover the officer's own car.
    fn partial_plates_covering_own(&mut self) {
        for _ in 0..self.yearly(30.0) {
            // A broad partial plate: three or four characters unknown, two or more known.
            let who = loop {
                let who = self.searcher();
                if self.people[who].own_plate.len() >= 5 {
                    break who;
                }
            };
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let own: Vec<char> = self.people[who].own_plate.chars().collect();
            let open = self.rng.gen_range(3..=4).min(own.len() - 2);
            let mut holes: Vec<usize> = (0..own.len()).collect();
            holes.sort_by_key(|_| self.rng.gen::<u32>());
            let pattern: String = own
                .iter()
                .enumerate()
                .map(|(i, &c)| if holes[..open].contains(&i) { '?' } else { c })
                .collect();
            self.pattern_search(who, at, &pattern, None, &file);
        }
    }

    /// Subject access requests of the public's plates; accounts set up and given roles; the
    /// stolen register's weekly feed and administrators' corrections by hand; new trackers
    /// tracking within days of being given the role.
    fn duties(&mut self) {
        let officers = self.with_role("privacy_officer");
        let admins = self.with_role("admin");
        for _ in 0..self.yearly(400.0) {
            let who = officers[self.rng.gen_range(0..officers.len())];
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(who, day);
            let plate = self.plate();
            self.subject_access(who, at, &plate, None);
        }
        for _ in 0..self.yearly(400.0) {
            let admin = admins[self.rng.gen_range(0..admins.len())];
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(admin, day);
            let target = self.searcher();
            let target = self.people[target].staff_id.clone();
            self.account_change(admin, at, &target);
        }
        for week in 0..52 {
            let admin = admins[self.rng.gen_range(0..admins.len())];
            let at = self.shift_time(admin, week * 7);
            let records = self.rng.gen_range(150..600);
            self.stolen_load(admin, at, records);
        }
        for _ in 0..self.yearly(50.0) {
            let admin = admins[self.rng.gen_range(0..admins.len())];
            let day = self.rng.gen_range(0..364);
            let at = self.shift_time(admin, day);
            let records = self.rng.gen_range(1..=3);
            self.stolen_load(admin, at, records);
        }
        for _ in 0..self.yearly(20.0) {
            let admin = admins[self.rng.gen_range(0..admins.len())];
            let who = self.tracker();
            let day = self.rng.gen_range(0..340);
            let at = self.shift_time(admin, day);
            let target = self.people[who].staff_id.clone();
            self.account_change(admin, at, &target);
            let later = self.rng.gen_range(1..14);
            let t = self.shift_time(who, day + later);
            self.honest_stolen_tracking(who, t);
        }
    }
}

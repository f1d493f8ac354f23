//! The honest year: the background of ordinary use, and honest look-alikes of every condition
//! any integrity rule lists, each at a rate of real police work. The rules must tell these
//! from the planted misuse (`misuse`); a simulator that only ever met a condition in misuse
//! would measure the rules against themselves.
//!
//! Volumes are the article's (DEVELOPERS.md): 6,150 staff who may search, 990 who may track,
//! searches growing from 6,000 to 15,000 a month, tracking from 40 to 194 a month. The rates
//! of the marks below are not published anywhere; they are stated here as assumptions, set
//! where the work they describe is routine, so that the rules meet them often:
//!
//! | honest condition | rate (national year) |
//! |---|---|
//! | tracking on a stolen report | 70 % of tracking requests |
//! | ... report recorded less than an hour before the request | 40 % of those |
//! | ... recorded by the requester (who took the complaint) | 15 % |
//! | ... recorded by a member of the requester's team | 25 % |
//! | ... complainant not the registered owner (spouse, employer, rental, finance company) | 25 % |
//! | ... closed as recovered while the tracking ran | 30 % |
//! | ... cancelled, not stolen after all (family member, towed, repossessed), 1 to 36 hours after the request | 4 % |
//! | emergency requests | a third of the others (10 % of all); 15 % lapse once and are asked again |
//! | a supervisor opens another district's request by mistake first | 3 % of approvals |
//! | re-stolen car tracked on its new report, the old one recovered weeks before | 30 a year |
//! | series: one suspect car under several files of one offence, queried by the team | 60 a year |
//! | operation file: a team's investigator queries 35 to 90 plates under it | 40 a year |
//! | a day worker called out at night to a fresh incident | 60 a year |
//! | a major incident: a district's officers each run 60 to 140 searches in a day on it | 12 a year |
//! | hot pursuit: a fresh incident's plate searched 4 to 6 times in an hour and a half | 60 a year |
//! | assisting another district on one of its files (not assigned) | 100 a year |
//! | a file number mistyped (refused as not in the register), then the right one | 150 a year |
//! | a desk officer's templated justification naming each incident | 20 officers a year |
//! | a stale link: one or two read views refused as no longer shown | 300 a year |
//! | a witness's partial plate (3 to 5 open characters) that covers the officer's own car | 30 a year |
//! | subject access requests of the public's plates | 400 a year |
//! | accounts set up or given roles by administrators | 400 a year |
//! | the stolen register's feed loaded (hundreds of reports) | weekly |
//! | a stolen report corrected or entered by hand by an administrator | 50 a year |
//!
//! `SimConfig::lookalike_scale` scales the yearly counts (the small test year uses a tenth).

use super::*;

/// The rates of the table above.
pub(super) struct Rates {
    pub stolen_basis: f64,
    pub tracked_within_the_hour: f64,
    pub recorded_by_requester: f64,
    pub recorded_by_teammate: f64,
    pub complainant_not_owner: f64,
    pub recovered_during_tracking: f64,
    pub cancelled_not_stolen: f64,
    pub emergency_of_others: f64,
    pub emergency_lapsed_once: f64,
    pub approval_slip: f64,
}

pub(super) const RATES: Rates = Rates {
    stolen_basis: 0.7,
    tracked_within_the_hour: 0.4,
    recorded_by_requester: 0.15,
    recorded_by_teammate: 0.25,
    complainant_not_owner: 0.25,
    recovered_during_tracking: 0.3,
    cancelled_not_stolen: 0.04,
    emergency_of_others: 0.33,
    emergency_lapsed_once: 0.15,
    approval_slip: 0.03,
};

impl Builder {
    pub(super) fn background(&mut self) {
        let mut cumulative = Vec::with_capacity(self.people.len());
        let mut acc = 0.0;
        for p in &self.people {
            acc += p.weight;
            cumulative.push(acc);
        }
        // Search times for the year, in order, so incidents open before they are searched.
        let mut searches: Vec<(i64, usize)> = Vec::new();
        for month in 0..12 {
            let f = month as f64 / 11.0;
            let n = self.cfg.first_month_searches as f64
                + f * (self.cfg.last_month_searches - self.cfg.first_month_searches) as f64;
            for _ in 0..n as u32 {
                let day = month * 365 / 12 + self.rng.gen_range(0..30);
                let who = self.anyone(&cumulative);
                searches.push((day.min(364), who));
            }
        }
        searches.sort_unstable();
        for (day, who) in searches {
            let at = self.shift_time(who, day);
            let p = &mut self.people[who];
            p.open
                .retain(|&i| at - self.sim.incidents[i].opened_at < Duration::days(12));
            let incident = if p.open.is_empty() || self.rng.gen_bool(0.3) {
                let kind = pick(&mut self.rng, OFFENCES);
                let n = self.new_incident(who, at, kind);
                self.people[who].open.push(n);
                n
            } else {
                let k = self.rng.gen_range(0..self.people[who].open.len());
                self.people[who].open[k]
            };
            let plates = &self.incident_plates[incident];
            let plate = plates[self.rng.gen_range(0..plates.len())].clone();
            let file = self.sim.incidents[incident].file_number.clone();
            let justification = format!(
                "{}; {}",
                self.incident_text[incident],
                pick(&mut self.rng, STEPS)
            );
            let age = (1800.0 * (2.0f64).powf(self.rng.gen_range(1.0..10.0))) as u64;
            self.search(who, at, &plate, &file, &justification, age, None);
            let mut t = at;
            while self
                .rng
                .gen_bool(self.cfg.views_per_search / (1.0 + self.cfg.views_per_search))
            {
                t += Duration::seconds(self.rng.gen_range(20..600));
                self.view(who, t, &plate, &file, &justification);
            }
        }
        self.tracking();
        self.lookalikes();
    }

    /// Tracking requests of the year: on stolen reports (70 %) with the ordinary marks each
    /// at its own rate, and supervised or emergency requests approved by a supervisor of the
    /// district.
    fn tracking(&mut self) {
        let trackers: Vec<usize> = (0..self.cfg.staff)
            .filter(|&i| self.people[i].roles.contains("tracker"))
            .collect();
        for month in 0..12 {
            let f = month as f64 / 11.0;
            let n = self.cfg.first_month_tracking as f64
                + f * (self.cfg.last_month_tracking - self.cfg.first_month_tracking) as f64;
            for _ in 0..n.round() as u32 {
                let who = trackers[self.rng.gen_range(0..trackers.len())];
                let day = (month * 365 / 12 + self.rng.gen_range(0..30)).min(360);
                let at = self.shift_time(who, day);
                if self.rng.gen_bool(RATES.stolen_basis) {
                    self.honest_stolen_tracking(who, at);
                } else if self.rng.gen_bool(RATES.emergency_of_others) {
                    self.honest_emergency(who, at);
                } else {
                    self.honest_supervised(who, at);
                }
            }
        }
    }

    /// Tracking on a genuine stolen report, its ordinary marks drawn at their rates.
    pub(super) fn honest_stolen_tracking(&mut self, who: usize, at: DateTime<Utc>) {
        let incident = self.new_incident(who, at, "vehicle theft");
        let file = self.sim.incidents[incident].file_number.clone();
        let plate = self.plate();
        let owner = format!("O{}", self.next_plate);
        self.sim
            .vehicles
            .push(vehicle(&plate, &owner, &format!("OA{}", self.next_plate)));
        let minutes = self.rng.gen_range(12..=48) * 60;
        let renewals = if self.rng.gen_bool(0.15) {
            self.rng.gen_range(1..=2)
        } else {
            0
        };
        let end = at + Duration::minutes((minutes * (renewals + 1)) as i64);
        let r = &RATES;
        let x: f64 = self.rng.gen();
        let recorder = if x < r.recorded_by_requester {
            self.people[who].staff_id.clone()
        } else if x < r.recorded_by_requester + r.recorded_by_teammate {
            self.teammate(who)
        } else {
            let other = (who + 1 + DISTRICTS.len() * self.rng.gen_range(9..40)) % self.cfg.staff;
            self.people[other].staff_id.clone()
        };
        let complainant = if self.rng.gen_bool(r.complainant_not_owner) {
            format!("C{}", self.next_plate) // a spouse, employer, rental or finance company
        } else {
            owner.clone()
        };
        let reported = if self.rng.gen_bool(r.tracked_within_the_hour) {
            at - Duration::minutes(self.rng.gen_range(3..60))
        } else {
            at - Duration::minutes(self.rng.gen_range(60..2880))
        };
        let y: f64 = self.rng.gen();
        let (status, closed) = if y < r.cancelled_not_stolen {
            // The car was with a family member, towed or repossessed: found out within hours
            // or a day or so.
            let c = at + Duration::hours(self.rng.gen_range(1..=36));
            (StolenStatus::Cancelled, Some(c))
        } else if y < r.cancelled_not_stolen + r.recovered_during_tracking {
            let c = at + Duration::minutes(self.rng.gen_range(30..minutes as i64));
            (StolenStatus::Recovered, Some(c))
        } else {
            let c = end + Duration::days(self.rng.gen_range(1..20));
            if c < self.cfg.end {
                (StolenStatus::Recovered, Some(c))
            } else {
                (StolenStatus::Active, None)
            }
        };
        let entry = self.stolen_report(
            &plate,
            &file,
            reported,
            &complainant,
            &recorder,
            status,
            closed,
        );
        let mut prev = self.track(
            who,
            at,
            &plate,
            &file,
            "stolen_vehicle",
            Some(entry),
            None,
            minutes,
        );
        for k in 0..renewals {
            let t = at + Duration::minutes((minutes * (k + 1)) as i64 - 30);
            if closed.is_some_and(|c| c <= t) {
                break;
            }
            prev = self.track(
                who,
                t,
                &plate,
                &file,
                "stolen_vehicle",
                Some(entry),
                Some(prev),
                minutes,
            );
        }
    }

    /// A supervised request for a serious crime, approved by a supervisor of the district —
    /// who now and then first opens a request of the neighbouring district by mistake.
    fn honest_supervised(&mut self, who: usize, at: DateTime<Utc>) {
        let incident = self.new_incident(who, at, "aggravated robbery");
        let file = self.sim.incidents[incident].file_number.clone();
        let plate = self.plate();
        let minutes = self.rng.gen_range(12..=48) * 60;
        let id = self.track(who, at, &plate, &file, "supervised", None, None, minutes);
        let district = self.people[who].district;
        let sup = self.supervisor_of(district);
        let t = at + Duration::minutes(self.rng.gen_range(5..90));
        if self.rng.gen_bool(RATES.approval_slip) {
            let other = self.supervisor_of((district + 1) % DISTRICTS.len());
            self.approval(other, t - Duration::minutes(3), id, Some("wrong_district"));
        }
        self.approval(sup, t, id, None);
    }

    /// An emergency request approved within the hour, or lapsed once (no supervisor reached in
    /// time), asked again and approved.
    fn honest_emergency(&mut self, who: usize, at: DateTime<Utc>) {
        let incident = self.new_incident(who, at, "abduction");
        let file = self.sim.incidents[incident].file_number.clone();
        let plate = self.plate();
        let mut id = self.emergency_request(who, at, &plate, &file);
        let mut t = at;
        if self.rng.gen_bool(RATES.emergency_lapsed_once) {
            t += Duration::minutes(self.rng.gen_range(61..90));
            id = self.emergency_request(who, t, &plate, &file);
        }
        let sup = self.supervisor_of(self.people[who].district);
        let minutes = self.rng.gen_range(5..55);
        self.approval(sup, t + Duration::minutes(minutes), id, None);
    }
}

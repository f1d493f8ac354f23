//! Entries of the duties beside searching — approvals, account changes, register loads,
//! subject access requests — and of emergency tracking, refused read views and pattern
//! searches, as the server records them; and the planted misuse of classes 13 to 19 (see
//! `misuse`).

use super::*;

impl Builder {
    /// A member of staff of `who`'s team (another one), or `who` alone in theirs.
    pub(super) fn teammate(&mut self, who: usize) -> String {
        let team = &self.people[who].team;
        let mates: Vec<usize> = (0..self.people.len())
            .filter(|&i| i != who && &self.people[i].team == team)
            .collect();
        match mates.len() {
            0 => self.people[who].staff_id.clone(),
            n => self.people[mates[self.rng.gen_range(0..n)]]
                .staff_id
                .clone(),
        }
    }

    /// Members of staff whose roles include `role`.
    pub(super) fn with_role(&self, role: &str) -> Vec<usize> {
        (0..self.people.len())
            .filter(|&i| self.people[i].roles.split(',').any(|r| r == role))
            .collect()
    }

    /// A supervisor of `district` (any supervisor when it has none).
    pub(super) fn supervisor_of(&mut self, district: usize) -> usize {
        let all = self.with_role("supervisor");
        let here: Vec<usize> = all
            .iter()
            .copied()
            .filter(|&i| self.people[i].district == district)
            .collect();
        let from = if here.is_empty() { all } else { here };
        from[self.rng.gen_range(0..from.len())]
    }

    /// A supervisor's decision to approve authorisation `id`, granted or refused with `code`.
    pub(super) fn approval(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        id: i64,
        refused: Option<&str>,
    ) {
        let facts = AuditFacts::new().channel(Channel::Api).authorisation_id(id);
        let e = Event::new(self.actor(who), Action::TrackingApproval)
            .at(at)
            .query(json!({"reason": "need checked against the file"}));
        let e = match refused {
            None => e.facts(facts),
            Some(code) => e
                .facts(facts.refusal_code(code))
                .outcome(Outcome::refused("refused by the access policy")),
        };
        self.sim.events.push(e);
    }

    /// An emergency tracking request: granted at once, to be approved within the hour.
    pub(super) fn emergency_request(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        file: &str,
    ) -> i64 {
        let id = self.next_auth;
        self.next_auth += 1;
        let facts = AuditFacts::new()
            .channel(Channel::Api)
            .plate(plate)
            .emergency(true)
            .duration_minutes(60)
            .authorisation_id(id)
            .basis("emergency");
        let text = format!(
            "{} - immediate risk, vehicle must be located now",
            self.incident_text_for(file)
        );
        let e = Event::new(self.actor(who), Action::TrackingRequest)
            .at(at)
            .purpose("serious_crime")
            .file_number(file)
            .justification(text)
            .facts(facts)
            .outcome(Outcome::pending("emergency: approval due within the hour"));
        self.sim.events.push(e);
        id
    }

    /// A read view by id the policy refused: the read was never shown to them.
    pub(super) fn refused_view(&mut self, who: usize, at: DateTime<Utc>, read_id: i64, file: &str) {
        let e = Event::new(self.actor(who), Action::ReadView)
            .at(at)
            .purpose("investigation")
            .file_number(file)
            .justification(self.incident_text_for(file))
            .facts(
                AuditFacts::new()
                    .channel(Channel::Api)
                    .read_id(read_id)
                    .refusal_code("read_not_available"),
            )
            .outcome(Outcome::refused("that read is not available to you"));
        self.sim.events.push(e);
    }

    /// A wildcard or fuzzy search (`max_edits` set: fuzzy).
    pub(super) fn pattern_search(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        pattern: &str,
        max_edits: Option<u8>,
        file: &str,
    ) {
        let mut facts = AuditFacts::new().channel(Channel::Api).plate(pattern);
        facts = match max_edits {
            Some(k) => facts.mode(PlateMode::Fuzzy).max_edits(k),
            None => facts.mode(PlateMode::Wildcard),
        };
        let count = self.rng.gen_range(0..40);
        let justification = format!(
            "{}; partial plate from a witness",
            self.incident_text_for(file)
        );
        let e = Event::new(self.actor(who), Action::Search)
            .at(at)
            .purpose("investigation")
            .file_number(file)
            .justification(justification)
            .query(json!({"from": null, "to": null}))
            .result(self.digest(count))
            .facts(facts.newest_result_age_s(90_000));
        self.sim.events.push(e);
    }

    /// An administrator creates an account or changes its roles.
    pub(super) fn account_change(&mut self, admin: usize, at: DateTime<Utc>, target: &str) {
        let e = Event::new(self.actor(admin), Action::UserChange)
            .at(at)
            .query(json!({"roles": ["searcher", "tracker"]}))
            .facts(
                AuditFacts::new()
                    .channel(Channel::Api)
                    .target_staff_id(target.to_string()),
            );
        self.sim.events.push(e);
    }

    /// An administrator loads `records` stolen reports (a feed's batch, or a hand correction).
    pub(super) fn stolen_load(&mut self, admin: usize, at: DateTime<Utc>, records: u64) {
        let e = Event::new(self.actor(admin), Action::RegisterImport)
            .at(at)
            .query(json!({"source": if records > 5 { "nia-feed" } else { "manual" }}))
            .facts(
                AuditFacts::new()
                    .channel(Channel::Api)
                    .register("stolen")
                    .reads(records),
            );
        self.sim.events.push(e);
    }

    /// A privacy officer's subject access request about a plate (refused by the policy with
    /// `refused`'s code, as one about a vehicle connected to them is).
    pub(super) fn subject_access(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        refused: Option<&str>,
    ) {
        let reference = format!("SAR-{}", self.sim.events.len());
        let facts = AuditFacts::new()
            .channel(Channel::Api)
            .plate(plate)
            .reference(reference);
        let e = Event::new(self.actor(who), Action::SubjectAccess).at(at);
        let e = match refused {
            None => e.facts(facts),
            Some(code) => e
                .facts(facts.refusal_code(code))
                .outcome(Outcome::refused("refused by the access policy")),
        };
        self.sim.events.push(e);
    }

    /// Classes 13 to 19 of the planted misuse (descriptions in `misuse`).
    pub(super) fn plant_duties(&mut self, used: &mut std::collections::HashSet<usize>) {
        let n = self.cfg.others;
        let late = |b: &mut Builder| b.rng.gen_range(30..330);
        // 13. Self-approval.
        for who in self.pick_staff(used, n, |p| {
            p.roles.contains("supervisor") && p.roles.contains("tracker")
        }) {
            let day = late(self);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let plate = self.plate();
            let id = self.track(who, at, &plate, &file, "supervised", None, None, 24 * 60);
            let t = at + Duration::minutes(self.rng.gen_range(2..30));
            self.approval(who, t, id, Some("conflict_of_duty"));
            self.plant_truth("approval_conflict", who, "approvals", "self-approval");
        }
        // 14. Approval across districts.
        for who in self.pick_staff(used, n, |p| p.roles.contains("supervisor")) {
            let day = late(self);
            let theirs = (self.people[who].district + 1) % DISTRICTS.len();
            let requesters: Vec<usize> = (0..self.cfg.staff)
                .filter(|&i| {
                    self.people[i].district == theirs && self.people[i].roles.contains("tracker")
                })
                .take(3)
                .collect();
            let tries = self.rng.gen_range(2..=3).min(requesters.len());
            for (k, &requester) in requesters.iter().take(tries).enumerate() {
                let at = self.shift_time(requester, day + 3 * k as i64);
                let file = self.own_file(requester, at);
                let plate = self.plate();
                let id = self.track(
                    requester,
                    at,
                    &plate,
                    &file,
                    "supervised",
                    None,
                    None,
                    24 * 60,
                );
                let t = at + Duration::minutes(self.rng.gen_range(5..60));
                self.approval(who, t, id, Some("wrong_district"));
            }
            self.plant_truth(
                "approval_conflict",
                who,
                "approvals",
                "approval across districts",
            );
        }
        // 15. Tracking staged by an administrator.
        let admins = self.with_role("admin");
        for &admin in admins.iter().take(n) {
            let Some(accomplice) = self
                .pick_staff(used, 1, |p| p.roles == "searcher")
                .first()
                .copied()
            else {
                continue;
            };
            let day = late(self);
            let t0 = self.shift_time(admin, day);
            let target = self.people[accomplice].staff_id.clone();
            self.account_change(admin, t0, &target);
            let load_at = t0 + Duration::hours(self.rng.gen_range(1..=48));
            let plate = self.plate();
            self.sim.vehicles.push(vehicle(&plate, "V-OWNER", "V-ADDR"));
            let file = self.own_file(accomplice, load_at);
            let before = Duration::minutes(self.rng.gen_range(5..=120));
            let recorder = self.people[admin].staff_id.clone();
            let entry = self.stolen_report(
                &plate,
                &file,
                load_at - before,
                "V-OWNER",
                &recorder,
                StolenStatus::Active,
                None,
            );
            self.stolen_load(admin, load_at, 1);
            let at = load_at + Duration::minutes(self.rng.gen_range(30..=24 * 60));
            self.track_stolen(accomplice, at, &plate, &file, entry);
            self.plant_truth(
                "staged_tracking",
                admin,
                &format!("account:{target}"),
                "tracking staged by an administrator",
            );
        }
        // 16. Rolling emergencies.
        for who in self.pick_staff(used, n, |p| p.roles.contains("tracker")) {
            let day = late(self);
            let at0 = self.shift_time(who, day);
            let file = self.own_file(who, at0);
            let plate = self.plate();
            let mut at = at0;
            for _ in 0..self.rng.gen_range(3..=6) {
                self.emergency_request(who, at, &plate, &file);
                at += Duration::minutes(self.rng.gen_range(61..=80));
            }
            self.plant_truth(
                "emergency_chain",
                who,
                &format!("emergency:{plate}"),
                "rolling emergencies",
            );
        }
        // 17. Walking read ids.
        for who in self.pick_staff(used, n, |p| p.roles.contains("searcher")) {
            let day = late(self);
            let at0 = self.shift_time(who, day);
            let file = self.own_file(who, at0);
            let start = self.rng.gen_range(1..self.next_read.max(2));
            let views = self.rng.gen_range(10..=40);
            for k in 0..views {
                let at = at0 + Duration::seconds(k * self.rng.gen_range(20..45));
                self.refused_view(who, at, start + k, &file);
            }
            let key = format!("reads:{}", local_day(at0));
            self.plant_truth("read_enumeration", who, &key, "walking read ids");
        }
        // 18. Own vehicle by pattern.
        for (k, who) in self
            .pick_staff(used, n, |p| p.roles.contains("searcher"))
            .into_iter()
            .enumerate()
        {
            let day = late(self);
            let at = self.shift_time(who, day);
            let file = self.own_file(who, at);
            let own = self.people[who].own_plate.clone();
            if k % 2 == 0 {
                let hole = self.rng.gen_range(0..own.len());
                let pattern: String = own
                    .chars()
                    .enumerate()
                    .map(|(i, c)| if i == hole { '?' } else { c })
                    .collect();
                self.pattern_search(who, at, &pattern, None, &file);
            } else {
                self.pattern_search(who, at, &own, Some(1), &file);
            }
            self.plant_truth("own_vehicle", who, &own, "own vehicle by pattern");
        }
        // 19. Subject access to one's own vehicle.
        let officers = self.with_role("privacy_officer");
        for &who in officers.iter().take(n.min(officers.len())) {
            used.insert(who);
            let day = late(self);
            let at = self.shift_time(who, day);
            let plate = match &self.people[who].household_plate {
                Some(h) => h.clone(),
                None => self.people[who].own_plate.clone(),
            };
            self.subject_access(who, at, &plate, Some("own_vehicle"));
            self.plant_truth(
                "own_vehicle",
                who,
                &plate,
                "subject access to one's own vehicle",
            );
        }
    }
}

//! A year of national use of the platform, with misuse planted in known proportions: the
//! article's audit, replayed.
//!
//! 6,150 staff of whom 990 may track; searches growing from 6,000 to 15,000 a month and
//! tracking requests from 40 to 194 a month, each search followed by a view or two of its
//! results: about 350,000 uses. Every use is an audit-ledger [`Event`] written through the
//! ledger's typed schema as the server records it (its [`Action`], its [`AuditFacts`], and a
//! refused use under its own action with a refused outcome and the policy's refusal code), and
//! the registers
//! the rules consult (staff, vehicles, incidents, stolen reports) come with it. The planted
//! misuse is listed in [`Simulation::truth`], which the caller writes to a file of its own: the
//! integrity rules never see it.
//!
//! Background use is generated to be innocent: staff query plates of their own district's
//! incidents within a fortnight of opening, write a justification for each case, work their
//! shift's hours, and track on genuine stolen reports recorded by other teams.

mod duties;
mod honest;
mod lookalikes;
mod misuse;

use crate::places::DISTRICTS;
use crate::plates::plate_population;
use anpr_ledger::{Action, Actor, AuditFacts, Channel, Event, Outcome, PlateMode, ResultDigest};
use anpr_policy::registers::{
    IncidentRecord, StaffRecord, StolenRecord, StolenStatus, VehicleRecord,
};
use chrono::{DateTime, Duration, NaiveDate, TimeZone, Utc};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use serde::{Deserialize, Serialize};
use serde_json::json;

/// The shape of the simulated year.
#[derive(Debug, Clone)]
pub struct SimConfig {
    pub seed: u64,
    pub staff: usize,
    pub trackers: usize,
    /// Searches in the first and the last month (linear growth between).
    pub first_month_searches: u32,
    pub last_month_searches: u32,
    pub first_month_tracking: u32,
    pub last_month_tracking: u32,
    /// Mean views of results per search.
    pub views_per_search: f64,
    /// The first instant after the year.
    pub end: DateTime<Utc>,
    /// Planted misuse: staff searching their own or household vehicle (~120 in the audit).
    pub own_vehicle_staff: usize,
    /// Staff tracking their own cars on a report they recorded (2 in the audit).
    pub own_car_trackers: usize,
    /// False stolen reports used to unlock tracking.
    pub false_stolen: usize,
    /// How many staff of each of the other patterns.
    pub others: usize,
    /// Staff with duties beside the searchers: supervisors (who approve), administrators (who
    /// set up accounts and load registers) and privacy officers (who answer subject access).
    pub supervisors: usize,
    pub admins: usize,
    pub privacy_officers: usize,
    /// Scale of the honest look-alikes (1.0: the national year's rates, see `honest`).
    pub lookalike_scale: f64,
}

impl SimConfig {
    /// The article's national year.
    pub fn national(seed: u64) -> Self {
        SimConfig {
            seed,
            staff: 6_150,
            trackers: 990,
            first_month_searches: 6_000,
            last_month_searches: 15_000,
            first_month_tracking: 40,
            last_month_tracking: 194,
            views_per_search: 1.75,
            end: Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap(),
            own_vehicle_staff: 120,
            own_car_trackers: 2,
            false_stolen: 10,
            others: 4,
            supervisors: 240,
            admins: 12,
            privacy_officers: 6,
            lookalike_scale: 1.0,
        }
    }

    /// A small year for tests (same shape, a fiftieth of the volume).
    pub fn small(seed: u64) -> Self {
        SimConfig {
            staff: 400,
            trackers: 80,
            first_month_searches: 120,
            last_month_searches: 300,
            first_month_tracking: 4,
            last_month_tracking: 10,
            own_vehicle_staff: 10,
            false_stolen: 3,
            others: 2,
            supervisors: 24,
            admins: 3,
            privacy_officers: 2,
            lookalike_scale: 0.1,
            ..SimConfig::national(seed)
        }
    }
}

/// A member of staff as the user directory holds them.
#[derive(Debug, Clone, PartialEq)]
pub struct SimUser {
    pub staff_id: String,
    pub name: String,
    pub district: String,
    /// `searcher`, or `searcher` and `tracker`.
    pub roles: Vec<&'static str>,
}

/// One planted case of misuse: the rule that should find it, whose conduct, and what it is
/// about (the finding's key).
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Planted {
    pub rule: String,
    pub staff_id: String,
    pub key: String,
    /// The class of misuse, in the words of its description (see `misuse`): recall is
    /// reported per class.
    pub note: String,
}

/// The simulated year.
#[derive(Debug, Clone, Default)]
pub struct Simulation {
    pub users: Vec<SimUser>,
    pub staff: Vec<StaffRecord>,
    pub vehicles: Vec<VehicleRecord>,
    pub incidents: Vec<IncidentRecord>,
    /// Stolen reports; an event's `stolen_entry_id` is the report's position here plus one
    /// (the ids a fresh register assigns in import order).
    pub stolen: Vec<StolenRecord>,
    /// Ledger events in time order.
    pub events: Vec<Event>,
    pub truth: Vec<Planted>,
}

const OFFENCES: &[&str] = &[
    "burglary",
    "aggravated robbery",
    "ram raid",
    "fuel drive-off",
    "shoplifting ring",
    "serious assault",
    "arson",
    "fraud",
    "vehicle theft",
    "drug supply",
    "kidnapping",
    "hit and run",
    "family harm breach",
    "firearms incident",
    "commercial burglary",
    "stolen trailer",
    "fleeing driver",
    "wilful damage",
    "receiving stolen goods",
    "abduction",
];
const SCENES: &[&str] = &[
    "dairy",
    "service station",
    "farm shed",
    "marae carpark",
    "supermarket",
    "bottle store",
    "pharmacy",
    "building site",
    "boat ramp",
    "school",
    "motel",
    "tavern",
    "jewellers",
    "electronics retailer",
    "orchard",
    "storage unit",
    "rest area",
    "bank",
    "workshop",
    "bach",
];
const DETAILS: &[&str] = &[
    "witness noted partial plate",
    "CCTV shows the vehicle leaving",
    "caller described a dark ute",
    "vehicle seen circling beforehand",
    "offender left in a silver hatch",
    "neighbour saw a van",
    "victim recalls a white sedan",
    "camera caught the vehicle at speed",
    "tip-off named the car",
    "vehicle linked by forensic evidence",
    "associate drives this car",
    "suspect fled north",
    "plate reported by security guard",
    "vehicle parked nearby overnight",
    "dashcam footage",
];
const STEPS: &[&str] = &[
    "establish movements around the time",
    "confirm whether the vehicle was in the area",
    "check for sightings after the event",
    "corroborate the witness account",
    "identify the route taken",
    "eliminate the vehicle from enquiries",
    "locate the vehicle",
    "verify the alibi given",
    "find the vehicle's usual area",
    "compare with earlier sightings",
];
/// Single incidents that involve one or two vehicles at most.
const MINOR_INCIDENTS: &[&str] = &[
    "wilful damage",
    "serious assault",
    "hit and run",
    "family harm breach",
    "fuel drive-off",
];

const TOWNS: &[&str] = &[
    "Whangārei",
    "Albany",
    "Ponsonby",
    "Manukau",
    "Hamilton",
    "Tauranga",
    "Gisborne",
    "Palmerston North",
    "Lower Hutt",
    "Nelson",
    "Christchurch",
    "Dunedin",
    "Rotorua",
    "Napier",
    "Whanganui",
    "Timaru",
    "Invercargill",
    "Taupō",
    "Masterton",
    "Blenheim",
];

fn pick<'a, R: Rng>(rng: &mut R, xs: &'a [&'a str]) -> &'a str {
    xs[rng.gen_range(0..xs.len())]
}

struct Person {
    staff_id: String,
    person_id: String,
    district: usize,
    team: String,
    roles: &'static str,
    night: bool,
    weight: f64,
    own_plate: String,
    household_plate: Option<String>,
    /// The incidents they are working on: (index into incidents, opened at).
    open: Vec<usize>,
}

struct Builder {
    rng: StdRng,
    cfg: SimConfig,
    people: Vec<Person>,
    sim: Simulation,
    pool: Vec<String>,
    next_plate: usize,
    next_auth: i64,
    next_read: i64,
    incident_plates: Vec<Vec<String>>,
    incident_text: Vec<String>,
}

/// Generates the year. Deterministic in `cfg.seed`.
pub fn simulate(cfg: &SimConfig) -> Simulation {
    let mut b = Builder::new(cfg.clone());
    b.background();
    b.plant();
    b.sim.events.sort_by_key(|e| e.time);
    for (i, e) in b.sim.events.iter_mut().enumerate() {
        e.seq = i as u64;
    }
    b.sim
}

/// The local (NZST, UTC+12) date of an instant, as the integrity rules name days.
pub fn local_day(t: DateTime<Utc>) -> NaiveDate {
    (t + Duration::hours(12)).date_naive()
}

impl Builder {
    fn new(cfg: SimConfig) -> Self {
        let mut rng = StdRng::seed_from_u64(cfg.seed);
        // Staff vehicles first in the pool, then plates of interest.
        let mut people = Vec::with_capacity(cfg.staff);
        let mut sim = Simulation::default();
        let duties = cfg.supervisors + cfg.admins + cfg.privacy_officers;
        let pool = plate_population((cfg.staff + duties) * 2 + 400_000, cfg.seed ^ 0x9a7e);
        for i in 0..cfg.staff + duties {
            let district = i % DISTRICTS.len();
            let staff_id = format!("S{:05}", 10_000 + i);
            let person_id = format!("P{i}");
            let address = format!("A{i}");
            let team = format!("{}-{}", DISTRICTS[district], i / (DISTRICTS.len() * 8));
            let tracker = i * cfg.trackers / cfg.staff != (i + 1) * cfg.trackers / cfg.staff;
            let own_plate = pool[2 * i].clone();
            sim.vehicles.push(vehicle(&own_plate, &person_id, &address));
            let household_plate = rng.gen_bool(0.3).then(|| {
                let p = pool[2 * i + 1].clone();
                sim.vehicles.push(vehicle(&p, &format!("H{i}"), &address));
                p
            });
            sim.staff.push(StaffRecord {
                staff_id: staff_id.clone(),
                person_id: person_id.clone(),
                home_address_id: address,
                team: Some(team.clone()),
            });
            // After the searchers: supervisors (a third of them also track), administrators
            // and privacy officers, who search nothing.
            let duty = i.checked_sub(cfg.staff);
            let roles: &'static str = match duty {
                None if tracker => "searcher,tracker",
                None => "searcher",
                Some(d) if d < cfg.supervisors && d % 3 == 0 => "searcher,tracker,supervisor",
                Some(d) if d < cfg.supervisors => "supervisor",
                Some(d) if d < cfg.supervisors + cfg.admins => "admin",
                Some(_) => "privacy_officer",
            };
            sim.users.push(SimUser {
                staff_id: staff_id.clone(),
                name: format!("Officer {i}"),
                district: DISTRICTS[district].to_string(),
                roles: roles.split(',').collect(),
            });
            people.push(Person {
                staff_id,
                person_id,
                district,
                team,
                roles,
                night: rng.gen_bool(0.15),
                // Only searchers are drawn for the background's searches.
                weight: if duty.is_none() {
                    rng.gen_range(0.3..2.0)
                } else {
                    0.0
                },
                own_plate,
                household_plate,
                open: Vec::new(),
            });
        }
        Builder {
            rng,
            next_plate: (cfg.staff + duties) * 2,
            cfg,
            people,
            sim,
            pool,
            next_auth: 1,
            next_read: 1,
            incident_plates: Vec::new(),
            incident_text: Vec::new(),
        }
    }

    fn start(&self) -> DateTime<Utc> {
        self.cfg.end - Duration::days(365)
    }

    fn plate(&mut self) -> String {
        let p = self.pool[self.next_plate % self.pool.len()].clone();
        self.next_plate += 1;
        p
    }

    /// A time within the person's shift on the day `day` (days from the start).
    fn shift_time(&mut self, who: usize, day: i64) -> DateTime<Utc> {
        let local_hour = if self.people[who].night {
            (19 + self.rng.gen_range(0..11)) % 24
        } else {
            self.rng.gen_range(7..18)
        };
        // Local midnight of the day, in UTC, plus the hour.
        let midnight = self.start() + Duration::days(day) - Duration::hours(12);
        midnight + Duration::hours(local_hour) + Duration::seconds(self.rng.gen_range(0..3600))
    }

    fn new_incident(&mut self, who: usize, at: DateTime<Utc>, kind: &str) -> usize {
        let n = self.sim.incidents.len();
        let district = DISTRICTS[self.people[who].district].to_string();
        let mut assigned = vec![self.people[who].staff_id.clone()];
        if self.rng.gen_bool(0.3) {
            let other = (who + DISTRICTS.len() * self.rng.gen_range(1..20)) % self.people.len();
            assigned.push(self.people[other].staff_id.clone());
        }
        self.sim.incidents.push(IncidentRecord {
            file_number: format!("{}{:06}", &district[..2].to_uppercase(), n),
            incident_type: kind.to_string(),
            district,
            opened_at: at - Duration::hours(self.rng.gen_range(1..48)),
            closed_at: None,
            assigned_staff: assigned,
        });
        let plates = (0..self.rng.gen_range(1..=3))
            .map(|_| self.plate())
            .collect();
        self.incident_plates.push(plates);
        let text = format!(
            "{kind} at {} {} - {}",
            pick(&mut self.rng, TOWNS),
            pick(&mut self.rng, SCENES),
            pick(&mut self.rng, DETAILS)
        );
        self.incident_text.push(text);
        n
    }

    fn actor(&self, who: usize) -> Actor {
        Actor::staff(self.people[who].staff_id.clone(), self.people[who].roles)
    }

    fn digest(&mut self, count: u64) -> ResultDigest {
        let ids: Vec<i64> = (0..count as i64).map(|k| self.next_read + k).collect();
        self.next_read += count as i64;
        ResultDigest::of_ids(&ids)
    }

    #[allow(clippy::too_many_arguments)]
    fn search(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        file: &str,
        justification: &str,
        newest_age_s: u64,
        refused: Option<&str>,
    ) {
        let facts = AuditFacts::new()
            .channel(Channel::Api)
            .plate(plate)
            .mode(PlateMode::Exact);
        let e = Event::new(self.actor(who), Action::Search)
            .at(at)
            .purpose("investigation")
            .file_number(file)
            .justification(justification)
            .query(json!({"from": null, "to": null}));
        let e = match refused {
            None => {
                let count = self.rng.gen_range(1..20);
                e.result(self.digest(count))
                    .facts(facts.newest_result_age_s(newest_age_s))
            }
            Some(code) => e
                .facts(facts.refusal_code(code))
                .outcome(Outcome::refused("refused by the access policy")),
        };
        self.sim.events.push(e);
    }

    fn view(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        file: &str,
        justification: &str,
    ) {
        let read_id = self.next_read;
        self.next_read += 1;
        let image = self.rng.gen_bool(0.5);
        let (action, params) = if image {
            (Action::ImageView, json!({"kind": "plate"}))
        } else {
            (Action::ReadView, json!({}))
        };
        let e = Event::new(self.actor(who), action)
            .at(at)
            .purpose("investigation")
            .file_number(file)
            .justification(justification)
            .query(params)
            .facts(
                AuditFacts::new()
                    .channel(Channel::Api)
                    .read_id(read_id)
                    .plate(plate),
            )
            .result(ResultDigest::of_ids(&[read_id]));
        self.sim.events.push(e);
    }

    #[allow(clippy::too_many_arguments)]
    fn track(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        file: &str,
        basis: &str,
        stolen: Option<usize>,
        renews: Option<i64>,
        minutes: u32,
    ) -> i64 {
        let id = self.next_auth;
        self.next_auth += 1;
        let mut facts = AuditFacts::new()
            .channel(Channel::Api)
            .plate(plate)
            .emergency(false)
            .duration_minutes(minutes)
            .authorisation_id(id)
            .basis(basis);
        facts.renews = renews;
        facts.stolen_entry_id = stolen.map(|s| s as i64 + 1);
        let text = format!(
            "{} - locate the vehicle in real time",
            self.incident_text_for(file)
        );
        let e = Event::new(self.actor(who), Action::TrackingRequest)
            .at(at)
            .purpose(if basis == "stolen_vehicle" {
                "stolen_vehicle"
            } else {
                "serious_crime"
            })
            .file_number(file)
            .justification(text)
            .facts(facts);
        self.sim.events.push(e);
        id
    }

    /// A day's tracking on stolen report `entry` (its position in the register).
    fn track_stolen(
        &mut self,
        who: usize,
        at: DateTime<Utc>,
        plate: &str,
        file: &str,
        entry: usize,
    ) -> i64 {
        self.track(
            who,
            at,
            plate,
            file,
            "stolen_vehicle",
            Some(entry),
            None,
            24 * 60,
        )
    }

    fn incident_text_for(&self, file: &str) -> String {
        self.sim
            .incidents
            .iter()
            .rposition(|i| i.file_number == file)
            .map(|i| self.incident_text[i].clone())
            .unwrap_or_else(|| "tracking request".into())
    }

    #[allow(clippy::too_many_arguments)]
    fn stolen_report(
        &mut self,
        plate: &str,
        file: &str,
        at: DateTime<Utc>,
        complainant: &str,
        recorder: &str,
        status: StolenStatus,
        closed: Option<DateTime<Utc>>,
    ) -> usize {
        self.sim.stolen.push(StolenRecord {
            plate: plate.to_string(),
            file_number: file.to_string(),
            reported_at: at,
            complainant_person_id: complainant.to_string(),
            recorded_by_staff_id: recorder.to_string(),
            status,
            cancelled_at: closed,
        });
        self.sim.stolen.len() - 1
    }

    /// Somebody chosen by activity weight.
    fn anyone(&mut self, cumulative: &[f64]) -> usize {
        let total = *cumulative.last().unwrap_or(&1.0);
        let x = self.rng.gen_range(0.0..total);
        cumulative
            .partition_point(|&c| c < x)
            .min(self.people.len() - 1)
    }

    fn plant_truth(&mut self, rule: &str, who: usize, key: &str, note: &str) {
        self.sim.truth.push(Planted {
            rule: rule.into(),
            staff_id: self.people[who].staff_id.clone(),
            key: key.into(),
            note: note.into(),
        });
    }

    /// Distinct members of staff for planting, none used twice.
    fn pick_staff(
        &mut self,
        used: &mut std::collections::HashSet<usize>,
        n: usize,
        filter: impl Fn(&Person) -> bool,
    ) -> Vec<usize> {
        let mut out = Vec::new();
        let mut tries = 0;
        while out.len() < n && tries < 1_000_000 {
            tries += 1;
            let i = self.rng.gen_range(0..self.people.len());
            if !used.contains(&i) && filter(&self.people[i]) {
                used.insert(i);
                out.push(i);
            }
        }
        out
    }

    /// A file of one of their incidents (of any offence), opened a day or two before `at`.
    fn own_file(&mut self, who: usize, at: DateTime<Utc>) -> String {
        let kind = pick(&mut self.rng, OFFENCES);
        let n = self.new_incident(who, at, kind);
        self.sim.incidents[n].file_number.clone()
    }

    /// A file of theirs opened days or weeks before `at`: an old case.
    fn old_file(&mut self, who: usize, at: DateTime<Utc>) -> String {
        let kind = pick(&mut self.rng, OFFENCES);
        let n = self.new_incident(who, at, kind);
        self.sim.incidents[n].opened_at = at - Duration::days(self.rng.gen_range(3..30));
        self.sim.incidents[n].file_number.clone()
    }
}

fn vehicle(plate: &str, person: &str, address: &str) -> VehicleRecord {
    VehicleRecord {
        plate: plate.to_string(),
        owner_person_id: person.to_string(),
        owner_address_id: address.to_string(),
        make: None,
        model: None,
        colour: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_small_year_has_the_shape_and_the_plants() {
        let a = simulate(&SimConfig::small(7));
        assert_eq!(a.users.len(), 400 + 24 + 3 + 2);
        assert_eq!(
            a.users[..400]
                .iter()
                .filter(|u| u.roles.contains(&"tracker"))
                .count(),
            80
        );
        assert!(a.events.windows(2).all(|w| w[0].time <= w[1].time));
        assert!(a.events.len() > 4_000, "{}", a.events.len());
        let rules: std::collections::BTreeSet<&str> =
            a.truth.iter().map(|p| p.rule.as_str()).collect();
        assert_eq!(rules.len(), 15, "{rules:?}");
        // Every class of the descriptions in `misuse` is planted.
        let classes: std::collections::BTreeSet<&str> =
            a.truth.iter().map(|p| p.note.as_str()).collect();
        assert_eq!(classes.len(), 20, "{classes:?}");
        // Deterministic.
        let b = simulate(&SimConfig::small(7));
        assert_eq!(a.events.len(), b.events.len());
        assert_eq!(a.truth, b.truth);
        // Every stolen report referred to exists.
        for e in &a.events {
            if let Some(id) = e.audit_facts().stolen_entry_id {
                assert!(id >= 1 && (id as usize) <= a.stolen.len());
            }
        }
        // Written through the typed schema: no HTTP details, a refused use keeps its action
        // and carries its refusal code, every use says where it came from.
        let refused: Vec<&Event> = a
            .events
            .iter()
            .filter(|e| e.outcome.result == anpr_ledger::OutcomeKind::Refused)
            .collect();
        assert!(!refused.is_empty());
        for e in &refused {
            let code = e.audit_facts().refusal_code;
            assert!(
                matches!(
                    (&e.action, code.as_deref()),
                    (Action::Search, Some("own_vehicle"))
                        | (Action::ReadView, Some("read_not_available"))
                        | (Action::SubjectAccess, Some("own_vehicle"))
                        | (Action::Search, Some("unknown_file_number"))
                        | (
                            Action::TrackingApproval,
                            Some("wrong_district" | "conflict_of_duty")
                        )
                ),
                "{:?} {code:?}",
                e.action
            );
        }
        for e in &a.events {
            assert!(e.action != Action::Denied && !matches!(e.action, Action::Other(_)));
            assert_eq!(e.audit_facts().channel, Some(Channel::Api));
            for key in ["method", "path", "status"] {
                assert!(e.query.get(key).is_none(), "{key} in {:?}", e.query);
            }
        }
    }
}

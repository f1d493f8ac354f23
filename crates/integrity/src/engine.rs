//! The streaming pass: state per member of staff and per (staff, plate), findings as they
//! arise.
//!
//! `feed` looks at one use against the state so far and updates it; `finish` runs the rules
//! that compare a day against others (volume) for the days fed since the last `finish`, and
//! returns the findings that are new or changed since then. An engine kept between runs is the
//! incremental mode: feed only the entries after the last index seen.

use crate::config::IntegrityConfig;
use crate::error::Result;
use crate::facts::{Facts, StaffProfile};
use crate::finding::{Finding, Rule, Severity};
use crate::hash::{hash_str, FxMap, FxSet};
use crate::histogram::CountHistogram;
use crate::usage::{Use, UseKeys, UseKind};
use anpr_policy::registers::IncidentRecord;
use chrono::{DateTime, Duration, Utc};
use std::collections::BTreeMap;

/// Index of a member of staff in the engine's tables.
pub(crate) type StaffIx = u32;

/// What the engine keeps about one member of staff.
pub(crate) struct StaffState {
    pub id: String,
    pub role: String,
    pub profile: StaffProfile,
    /// Their peer group (role and district) for the volume baseline.
    pub group: u32,
    /// Uses per local hour of day, the baseline for unusual hours.
    pub hours: [u32; 24],
    pub total: u32,
    /// The local day of the latest use, and the hours of that day's unusual-hour uses.
    pub odd_day: i32,
    pub odd_hours: Vec<usize>,
    pub odd_evidence: Vec<u64>,
    /// Of the day's unusual-hour uses, those under a freshly opened incident.
    pub odd_fresh: u32,
    /// Distinct file numbers used lately that are not theirs.
    pub outside_files: Vec<OutsideFile>,
    /// Near-duplicate justification clusters: band key -> cluster.
    pub boilerplate: FxMap<u64, Cluster>,
}

/// A file number a member of staff used that is not theirs.
pub(crate) struct OutsideFile {
    pub file: u64,
    /// Its weight as evidence, and why it is not theirs.
    pub weight: i32,
    pub why: String,
    pub entries: Vec<u64>,
    pub last_at: DateTime<Utc>,
}

#[derive(Default)]
pub(crate) struct Cluster {
    /// The local day of the latest use (the cluster lapses `justification.window_days` after).
    pub last_day: i32,
    pub count: u32,
    pub files: Vec<u64>,
    pub evidence: Vec<u64>,
    pub example: String,
    /// Uses whose text named their file's incident type.
    pub naming: u32,
}

/// One member of staff's interest in one plate.
#[derive(Default)]
pub(crate) struct PlateInterest {
    /// The local day of the latest use (interest lapses `repeated_interest.window_days` after).
    pub last_day: i32,
    /// Distinct file numbers (hashes), up to the rule's threshold.
    pub files: Vec<u64>,
    pub weeks: u32,
    pub last_week: i32,
    pub uses: u32,
    pub evidence: Vec<u64>,
    /// They hold (or asked for) a tracking authorisation for it: a basis for interest.
    pub tracked: bool,
    /// Polling: the latest near-live search, and the chain of them so far.
    pub last_near_live: Option<DateTime<Utc>>,
    pub chain: Vec<u64>,
    pub chain_began: Option<DateTime<Utc>>,
    /// The offences (hashes of incident types) of the files.
    pub kinds: Vec<u64>,
}

/// A renewal chain of tracking authorisations.
pub(crate) struct Chain {
    pub root: i64,
    pub renewals: u32,
    pub minutes: u64,
    pub evidence: Vec<u64>,
}

/// One member of staff's plates under one file number.
#[derive(Default)]
pub(crate) struct FilePlates {
    /// The local day of the latest use (lapses `justification.window_days` after).
    pub last_day: i32,
    pub plates: FxSet<u64>,
}

/// A member of staff's uses on one local day.
#[derive(Default)]
pub(crate) struct DayCount {
    pub count: u32,
    pub sample: Vec<u64>,
    /// Uses per file (by hash), for the first few distinct files of the day.
    pub files: Vec<(u64, u32)>,
}

/// Counts of the pass, for the summary.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunStats {
    /// Uses looked at.
    pub uses: u64,
    /// Highest ledger index fed.
    pub last_index: Option<u64>,
    /// Members of staff seen.
    pub staff: usize,
    /// Findings by rule.
    pub findings: BTreeMap<&'static str, u64>,
}

pub struct Engine {
    pub(crate) cfg: IntegrityConfig,
    /// Members of staff by the hash of their id.
    staff_ix: FxMap<u64, StaffIx>,
    pub(crate) staff: Vec<StaffState>,
    pub(crate) interest: FxMap<(StaffIx, u64), PlateInterest>,
    /// Per plate: the first member of staff to query it lately, whether others did too, and
    /// the local day of the latest query.
    pub(crate) plate_staff: FxMap<u64, (StaffIx, bool, i32)>,
    pub(crate) file_plates: FxMap<(StaffIx, u64), FilePlates>,
    /// The incident register's answer per file number (by its hash).
    pub(crate) incidents: FxMap<u64, Option<IncidentRecord>>,
    pub(crate) chains: FxMap<i64, Chain>,
    /// Authorisations a supervisor approved (emergency chains break at an approval).
    pub(crate) approved: FxSet<i64>,
    /// Per member of staff: approvals they tried that the policy refused as not theirs to give.
    pub(crate) approval_attempts: FxMap<StaffIx, crate::rules::approval::Attempts>,
    /// Accounts set up (by the hash of the account's staff id): by whom and when.
    pub(crate) accounts_set_up: FxMap<u64, (StaffIx, DateTime<Utc>, u64)>,
    /// Stolen reports loaded by hand, per administrator: when and how many records.
    pub(crate) manual_stolen_loads: FxMap<StaffIx, Vec<(DateTime<Utc>, u64, u64)>>,
    /// Emergency tracking requests per (member of staff, plate).
    pub(crate) emergencies: FxMap<(StaffIx, u64), crate::rules::emergency::EmergencyRun>,
    /// Wildcard and fuzzy searches that covered a connected plate, per (staff, plate).
    pub(crate) own_patterns: FxMap<(StaffIx, u64), crate::evidence::Evidence>,
    /// Read views refused as never shown, per member of staff.
    pub(crate) unshown_reads: FxMap<StaffIx, crate::rules::enumeration::Walk>,
    pub(crate) days: FxMap<(StaffIx, i32), DayCount>,
    pub(crate) day_staff: FxMap<i32, Vec<StaffIx>>,
    pub(crate) touched_days: FxSet<i32>,
    /// Peer groups (hash of role and district) and the counts of their held days.
    pub(crate) group_ix: FxMap<u64, u32>,
    pub(crate) group_days: Vec<CountHistogram>,
    /// The newest local day fed, the oldest day whose counts may still be held, and the day
    /// of the last sweep of lapsed state (see `window`).
    pub(crate) newest_day: i32,
    pub(crate) oldest_day: i32,
    pub(crate) swept_day: i32,
    findings: Vec<Finding>,
    finding_ix: FxMap<(Rule, StaffIx, u64), usize>,
    changed: FxSet<usize>,
    /// Routine samples not yet handed out by `finish` (they are not held after: each is about
    /// one entry, which is never fed twice).
    samples: Vec<Finding>,
    sampled: u64,
    uses: u64,
    last_index: Option<u64>,
}

impl Engine {
    pub fn new(cfg: IntegrityConfig) -> Self {
        Engine {
            cfg,
            staff_ix: Default::default(),
            staff: Vec::new(),
            interest: Default::default(),
            plate_staff: Default::default(),
            file_plates: Default::default(),
            incidents: Default::default(),
            chains: Default::default(),
            approved: Default::default(),
            approval_attempts: Default::default(),
            accounts_set_up: Default::default(),
            manual_stolen_loads: Default::default(),
            emergencies: Default::default(),
            unshown_reads: Default::default(),
            own_patterns: Default::default(),
            days: Default::default(),
            day_staff: Default::default(),
            touched_days: Default::default(),
            group_ix: Default::default(),
            group_days: Vec::new(),
            newest_day: i32::MIN,
            oldest_day: i32::MIN,
            swept_day: i32::MIN,
            findings: Vec::new(),
            finding_ix: Default::default(),
            changed: Default::default(),
            samples: Vec::new(),
            sampled: 0,
            uses: 0,
            last_index: None,
        }
    }

    pub fn config(&self) -> &IntegrityConfig {
        &self.cfg
    }

    /// The highest ledger index fed so far: the next incremental run starts after it.
    pub fn last_index(&self) -> Option<u64> {
        self.last_index
    }

    /// Looks at one use. Uses must come in ledger order.
    pub fn feed(&mut self, facts: &dyn Facts, u: &Use) -> Result<()> {
        self.feed_keyed(facts, u, &UseKeys::of(u))
    }

    /// [`Engine::feed`] with the use's keys computed beforehand (`UseKeys::of(u)`, on the
    /// thread that decodes the uses).
    pub fn feed_keyed(&mut self, facts: &dyn Facts, u: &Use, k: &UseKeys) -> Result<()> {
        if self.last_index.is_some_and(|last| u.index <= last) {
            return Ok(()); // already seen (an overlapping incremental run)
        }
        self.last_index = Some(u.index);
        self.uses += 1;
        let s = self.staff_index(facts, u, k.staff)?;
        let (day, _) = self.local(u.at);
        if day > self.newest_day {
            self.next_day(day);
        }
        if !u.kind.is_query() {
            return self.feed_duty(facts, s, u);
        }
        if self.cfg.own_vehicle.enabled {
            self.check_own_vehicle(s, u);
        }
        if self.cfg.staged_tracking.enabled {
            self.check_staged_tracking(facts, s, u)?;
        }
        if self.cfg.emergency.enabled {
            self.check_emergency_chain(s, u, k);
        }
        if self.cfg.enumeration.enabled {
            self.check_read_enumeration(s, u);
        }
        if self.cfg.stolen_report.enabled {
            self.check_stolen_report(facts, s, u)?;
        }
        if self.cfg.tracking.enabled {
            self.check_tracking(facts, s, u)?;
        }
        if self.cfg.justification.enabled {
            self.check_justification(facts, s, u, k)?;
        }
        self.check_interest(facts, s, u, k)?;
        if self.cfg.hours.enabled {
            self.incident_of(facts, u, k.file)?;
            self.check_hours(s, u, k.file);
        }
        self.count_day(s, u, k.file);
        if self.cfg.sampling.enabled {
            self.check_sample(s, u);
        }
        Ok(())
    }

    /// The rules for duties that bear on others' uses: approving, administering accounts and
    /// registers, answering subject access requests. Not counted in volume, hours or samples.
    fn feed_duty(&mut self, facts: &dyn Facts, s: StaffIx, u: &Use) -> Result<()> {
        match u.kind {
            UseKind::Approval => {
                if self.cfg.emergency.enabled && u.granted {
                    if let Some(id) = u.authorisation_id {
                        self.approved.insert(id);
                    }
                }
                if self.cfg.approval.enabled {
                    self.check_approval(s, u);
                }
            }
            UseKind::SubjectAccess if self.cfg.own_vehicle.enabled => {
                self.check_own_vehicle(s, u);
            }
            UseKind::AccountChange | UseKind::RegisterImport
                if self.cfg.staged_tracking.enabled =>
            {
                self.note_administration(s, u);
            }
            _ => {}
        }
        let _ = facts;
        Ok(())
    }

    /// Runs the day-level rules over the days fed and not yet judged and returns the findings
    /// that are new or changed since the last call (routine samples included), most serious
    /// first.
    pub fn finish(&mut self) -> Vec<Finding> {
        if self.cfg.volume.enabled {
            self.check_volume(None);
        }
        self.touched_days.clear();
        let mut out: Vec<Finding> = self
            .changed
            .drain()
            .map(|i| self.findings[i].clone())
            .collect();
        out.append(&mut self.samples);
        out.sort_by(|a, b| {
            b.severity
                .cmp(&a.severity)
                .then(a.rule.cmp(&b.rule))
                .then(a.staff_id.cmp(&b.staff_id))
                .then(a.key.cmp(&b.key))
        });
        out
    }

    /// Every finding so far, routine samples aside (`finish` hands each of those out once).
    pub fn findings(&self) -> &[Finding] {
        &self.findings
    }

    pub fn stats(&self) -> RunStats {
        let mut findings = BTreeMap::new();
        for f in &self.findings {
            *findings.entry(f.rule.as_str()).or_insert(0) += 1;
        }
        if self.sampled > 0 {
            findings.insert(Rule::RoutineSample.as_str(), self.sampled);
        }
        RunStats {
            uses: self.uses,
            last_index: self.last_index,
            staff: self.staff.len(),
            findings,
        }
    }

    fn staff_index(&mut self, facts: &dyn Facts, u: &Use, key: u64) -> Result<StaffIx> {
        if let Some(&s) = self.staff_ix.get(&key) {
            return Ok(s);
        }
        let profile = facts.profile(&u.staff_id)?;
        let s = self.staff.len() as StaffIx;
        let group_key =
            hash_str(&u.role) ^ hash_str(profile.district.as_deref().unwrap_or("")).rotate_left(1);
        let next_group = self.group_ix.len() as u32;
        let group = *self.group_ix.entry(group_key).or_insert(next_group);
        if group == next_group {
            self.group_days.push(CountHistogram::default());
        }
        self.staff.push(StaffState {
            id: u.staff_id.clone(),
            role: u.role.clone(),
            profile,
            group,
            hours: [0; 24],
            total: 0,
            odd_day: i32::MIN,
            odd_hours: Vec::new(),
            odd_evidence: Vec::new(),
            odd_fresh: 0,
            outside_files: Vec::new(),
            boilerplate: Default::default(),
        });
        self.staff_ix.insert(key, s);
        Ok(s)
    }

    /// Local (day number, hour) of a time, by the configured offset.
    pub(crate) fn local(&self, at: DateTime<Utc>) -> (i32, usize) {
        let t = at + Duration::hours(self.cfg.hours.utc_offset_hours as i64);
        let secs = t.timestamp();
        (
            secs.div_euclid(86_400) as i32,
            (secs.rem_euclid(86_400) / 3600) as usize,
        )
    }

    /// Opens a finding, or adds the use to the one already open for `(rule, staff, key)`;
    /// the severity only ever rises, and the explanation is the latest.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn report(
        &mut self,
        rule: Rule,
        severity: Severity,
        s: StaffIx,
        key: &str,
        evidence: &[u64],
        at: DateTime<Utc>,
        explanation: String,
    ) {
        let k = (rule, s, hash_str(key));
        let i = match self.finding_ix.get(&k) {
            Some(&i) => i,
            None => {
                self.findings.push(Finding {
                    rule,
                    severity,
                    staff_id: self.staff[s as usize].id.clone(),
                    key: key.to_string(),
                    evidence: Vec::new(),
                    uses: 0,
                    explanation: String::new(),
                    first_at: at,
                    last_at: at,
                });
                self.finding_ix.insert(k, self.findings.len() - 1);
                self.findings.len() - 1
            }
        };
        let f = &mut self.findings[i];
        for &e in evidence {
            f.add_evidence(e, at);
        }
        f.severity = f.severity.max(severity);
        f.explanation = explanation;
        self.changed.insert(i);
    }

    /// The incident a use's file number names (looked up once per file, then held): what
    /// several rules weigh (its offence, its team, when it opened).
    pub(crate) fn incident_of(
        &mut self,
        facts: &dyn Facts,
        u: &Use,
        file_hash: u64,
    ) -> Result<Option<&IncidentRecord>> {
        let Some(file) = u.file_number.as_deref() else {
            return Ok(None);
        };
        if let std::collections::hash_map::Entry::Vacant(slot) = self.incidents.entry(file_hash) {
            slot.insert(facts.incident(file)?);
        }
        Ok(self.incidents.get(&file_hash).and_then(Option::as_ref))
    }

    /// How many uses the open finding for `(rule, staff, key)` rests on (0: none open).
    pub(crate) fn finding_uses(&self, rule: Rule, s: StaffIx, key: &str) -> u64 {
        self.finding_ix
            .get(&(rule, s, hash_str(key)))
            .map(|&i| self.findings[i].uses)
            .unwrap_or(0)
    }

    /// Looks up, in one batch, the incidents of the file numbers among `uses` that the engine
    /// has not looked up yet, so that feeding them costs no register lookup per file. Optional:
    /// `feed` looks up whatever was not prefetched. `keys` are the uses' keys, in order.
    pub fn prefetch(&mut self, facts: &dyn Facts, uses: &[Use], keys: &[UseKeys]) -> Result<()> {
        if !self.cfg.justification.enabled {
            return Ok(());
        }
        let mut wanted: Vec<&str> = uses
            .iter()
            .zip(keys)
            .filter(|(_, k)| !self.incidents.contains_key(&k.file))
            .filter_map(|(u, _)| u.file_number.as_deref())
            .collect();
        wanted.sort_unstable();
        wanted.dedup();
        if wanted.is_empty() {
            return Ok(());
        }
        for i in facts.incidents(&wanted)? {
            self.incidents.insert(hash_str(&i.file_number), Some(i));
        }
        for f in wanted {
            self.incidents.entry(hash_str(f)).or_insert(None);
        }
        Ok(())
    }

    fn check_sample(&mut self, s: StaffIx, u: &Use) {
        if !u.granted || u.kind == UseKind::Export {
            return;
        }
        let h = crate::hash::mix(u.index ^ self.cfg.sampling.seed.rotate_left(32));
        if (h as f64) < self.cfg.sampling.share * (u64::MAX as f64) {
            let explanation = format!(
                "Routine review: this {} was picked at random ({}% of all queries) for a \
                 supervisor to check that its purpose, file number and justification hold up.",
                u.kind.as_str(),
                self.cfg.sampling.share * 100.0
            );
            self.sampled += 1;
            self.samples.push(Finding {
                rule: Rule::RoutineSample,
                severity: Severity::Info,
                staff_id: self.staff[s as usize].id.clone(),
                key: format!("entry:{}", u.index),
                evidence: vec![u.index],
                uses: 1,
                explanation,
                first_at: u.at,
                last_at: u.at,
            });
        }
    }
}

/// Pushes `v` if there is room (evidence lists are bounded).
pub(crate) fn push_bounded(list: &mut Vec<u64>, v: u64, cap: usize) {
    if list.len() < cap {
        list.push(v);
    }
}

/// A time as the explanations print it: in New Zealand time, as every screen shows times, with
/// the zone's abbreviation (NZST or NZDT) so that a reader comparing it with a ledger entry
/// knows which.
pub(crate) fn when(at: DateTime<Utc>) -> String {
    at.with_timezone(&chrono_tz::Pacific::Auckland)
        .format("%-d %b %Y %H:%M %Z")
        .to_string()
}

#[cfg(test)]
pub(crate) mod testing {
    //! Shared fixtures for the rules' tests.
    use super::*;
    use crate::facts::MemoryFacts;
    use chrono::TimeZone;

    pub fn t(day: u32, hour: u32, minute: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap()
            + Duration::days(day as i64)
            + Duration::hours(hour as i64)
            + Duration::minutes(minute as i64)
    }

    pub fn search(index: u64, at: DateTime<Utc>, staff: &str, plate: &str) -> Use {
        let mut u = Use::new(index, at, staff, UseKind::Search);
        u.plate = Some(plate.into());
        u.purpose = Some("investigation".into());
        u.file_number = Some("F1".into());
        u.justification = Some(format!("looking into {plate} for its incident"));
        u
    }

    /// Registers: S1 (person P1, address A1, team T1, district Waikato) owns ABC123; a
    /// neighbour at A1 owns HOU111; file F1 (wilful damage) is in Waikato and assigned to S1
    /// alone, F2 (fraud) to S2; F8 and F9 (arson) are other districts'; B1 to B3 are a
    /// burglary series of S1's.
    pub fn facts() -> MemoryFacts {
        let mut m = MemoryFacts::default();
        m.registers.add_staff("S1", "P1", "A1", Some("T1"));
        m.registers.add_staff("S2", "P2", "A2", Some("T1"));
        m.registers.add_staff("S3", "P3", "A3", Some("T9"));
        m.registers.add_vehicle("ABC123", "P1", "A1");
        m.registers.add_vehicle("HOU111", "P7", "A1");
        m.registers.add_vehicle("XYZ999", "P8", "A8");
        for (f, kind, d, who) in [
            ("F1", "wilful damage", "Waikato", "S1"),
            ("F2", "fraud", "Waikato", "S2"),
            ("F8", "arson", "Otago", "S8"),
            ("F9", "arson", "Canterbury", "S9"),
            ("B1", "burglary", "Waikato", "S1"),
            ("B2", "burglary", "Waikato", "S1"),
            ("B3", "burglary", "Waikato", "S1"),
        ] {
            m.registers.add_incident(IncidentRecord {
                file_number: f.into(),
                incident_type: kind.into(),
                district: d.into(),
                opened_at: t(0, 0, 0) - Duration::days(30),
                closed_at: None,
                assigned_staff: vec![who.into()],
            });
        }
        for s in ["S1", "S2", "S3"] {
            m.districts.insert(s.into(), "Waikato".into());
        }
        m
    }

    /// Feeds the uses and returns every finding of `rule`.
    pub fn run(cfg: IntegrityConfig, m: &MemoryFacts, uses: &[Use], rule: Rule) -> Vec<Finding> {
        let mut e = Engine::new(cfg);
        for u in uses {
            e.feed(&m.facts(), u).unwrap();
        }
        let mut out: Vec<Finding> = e.finish().into_iter().filter(|f| f.rule == rule).collect();
        out.sort_by_key(|f| (f.first_at, f.key.clone()));
        out
    }

    /// Only the given rule family on (sampling off), so tests see one rule at a time.
    pub fn only(f: impl FnOnce(&mut IntegrityConfig)) -> IntegrityConfig {
        let mut c = IntegrityConfig::default();
        c.own_vehicle.enabled = false;
        c.stolen_report.enabled = false;
        c.justification.enabled = false;
        c.repeated_interest.enabled = false;
        c.polling.enabled = false;
        c.volume.enabled = false;
        c.hours.enabled = false;
        c.tracking.enabled = false;
        c.sampling.enabled = false;
        c.approval.enabled = false;
        c.staged_tracking.enabled = false;
        c.emergency.enabled = false;
        c.enumeration.enabled = false;
        f(&mut c);
        c
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;

    #[test]
    fn sampling_picks_about_the_configured_share_and_always_the_same_entries() {
        let m = facts();
        let uses: Vec<Use> = (0..20_000)
            .map(|i| search(i, t(1, 10, 0), "S3", "XYZ999"))
            .collect();
        let cfg = only(|c| c.sampling.enabled = true);
        let a = run(cfg.clone(), &m, &uses, Rule::RoutineSample);
        let b = run(cfg, &m, &uses, Rule::RoutineSample);
        assert!((150..=250).contains(&a.len()), "{} sampled", a.len());
        assert_eq!(a, b);
        assert!(a.iter().all(|f| f.severity == Severity::Info));
        let none = run(
            only(|c| c.sampling.share = 0.0),
            &m,
            &uses,
            Rule::RoutineSample,
        );
        assert!(none.is_empty());
    }

    #[test]
    fn entries_fed_twice_count_once_and_finish_returns_only_changes() {
        let m = facts();
        let mut e = Engine::new(only(|c| c.own_vehicle.enabled = true));
        let u = search(5, t(1, 10, 0), "S1", "ABC123");
        e.feed(&m.facts(), &u).unwrap();
        e.feed(&m.facts(), &u).unwrap();
        let first = e.finish();
        assert_eq!(first.len(), 1);
        assert_eq!(first[0].uses, 1);
        assert!(e.finish().is_empty());
        e.feed(&m.facts(), &search(9, t(2, 10, 0), "S3", "XYZ999"))
            .unwrap();
        assert!(e.finish().is_empty());
        assert_eq!(e.last_index(), Some(9));
    }

    #[test]
    fn explanations_give_times_in_new_zealand_time_with_the_zone_named() {
        use chrono::TimeZone;
        let summer = Utc.with_ymd_and_hms(2026, 1, 15, 1, 0, 0).unwrap();
        assert_eq!(when(summer), "15 Jan 2026 14:00 NZDT");
        let winter = Utc.with_ymd_and_hms(2026, 7, 1, 0, 30, 0).unwrap();
        assert_eq!(when(winter), "1 Jul 2026 12:30 NZST");
    }
}

//! The policy's settings: purpose codes and the incident types they fit, training plates,
//! windows, durations and rate limits. Loaded from JSON (every field optional, defaulting to
//! the values below) so a deployment can tune them without a rebuild.

use crate::error::{PolicyError, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a purpose may justify real-time tracking.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TrackingBasisKind {
    /// An active entry in the stolen vehicle register for the plate, under the same file.
    StolenVehicle,
    /// Always a supervisor's approval (serious crime, missing person, threat to life).
    Supervised,
}

/// One purpose code a query may state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PurposeDef {
    pub code: String,
    pub label: String,
    /// Incident types (from the incident register) this purpose fits.
    pub incident_types: Vec<String>,
    /// Whether, and on what basis, the purpose may justify real-time tracking.
    #[serde(default)]
    pub tracking: Option<TrackingBasisKind>,
    /// The emergency path (tracking starts at once, approval within the hour) is open to it.
    #[serde(default)]
    pub emergency: bool,
}

/// Plates reserved for training: searching them returns synthetic sightings, never real data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct TrainingPlates {
    /// A normalised plate starting with one of these is a training plate.
    pub prefixes: Vec<String>,
    /// Further individual training plates.
    pub plates: Vec<String>,
}

impl Default for TrainingPlates {
    fn default() -> Self {
        TrainingPlates {
            prefixes: vec!["TEST".into()],
            plates: vec![],
        }
    }
}

impl TrainingPlates {
    pub fn contains(&self, plate: &str) -> bool {
        self.prefixes.iter().any(|p| plate.starts_with(p.as_str()))
            || self.plates.iter().any(|p| p == plate)
    }
}

/// At most `max` requests in any `window_minutes`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Limit {
    pub max: u32,
    pub window_minutes: u32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RateLimits {
    /// Every data access and tracking request of one user.
    pub per_user: Limit,
    /// One user's requests under one purpose code, unless `per_purpose` names the code.
    pub per_purpose_default: Limit,
    pub per_purpose: BTreeMap<String, Limit>,
}

impl Default for RateLimits {
    fn default() -> Self {
        RateLimits {
            per_user: Limit {
                max: 240,
                window_minutes: 60,
            },
            per_purpose_default: Limit {
                max: 120,
                window_minutes: 60,
            },
            per_purpose: BTreeMap::from([(
                "road_policing".to_string(),
                Limit {
                    max: 60,
                    window_minutes: 60,
                },
            )]),
        }
    }
}

impl RateLimits {
    pub fn for_purpose(&self, code: &str) -> Limit {
        self.per_purpose
            .get(code)
            .copied()
            .unwrap_or(self.per_purpose_default)
    }

    /// Limits too high to matter (benchmarks, bulk tests).
    pub fn unlimited() -> Self {
        let l = Limit {
            max: u32::MAX,
            window_minutes: 1,
        };
        RateLimits {
            per_user: l,
            per_purpose_default: l,
            per_purpose: BTreeMap::new(),
        }
    }
}

/// How subject access requests are answered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct SubjectAccessConfig {
    /// How the identity of the person asking may be checked before their request is answered
    /// (the request names one, and who checked it).
    pub identity_methods: Vec<String>,
    /// At most `max` requests answered per requester in any `window_minutes`. Counted from the
    /// recorded decisions, so every server process and the command line share the one limit.
    pub per_requester: Limit,
}

impl Default for SubjectAccessConfig {
    fn default() -> Self {
        SubjectAccessConfig {
            identity_methods: [
                "passport",
                "driver_licence",
                "firearms_licence",
                "kiwi_access_card",
                "realme_verified_identity",
            ]
            .map(String::from)
            .to_vec(),
            per_requester: Limit {
                max: 20,
                window_minutes: 24 * 60,
            },
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct PolicyConfig {
    pub purposes: Vec<PurposeDef>,
    /// Shortest justification of a query.
    pub min_justification_chars: usize,
    /// Shortest reason of an approval, refusal or revocation.
    pub min_reason_chars: usize,
    pub training: TrainingPlates,
    /// A "historical" search reaching into the last N minutes is tracking in disguise.
    pub near_live_minutes: i64,
    /// How far back a routine search reaches.
    pub routine_lookback_days: i64,
    /// The furthest back even an approved search reaches.
    pub max_lookback_days: i64,
    /// How long an approved look-back stays usable.
    pub lookback_valid_days: i64,
    /// Longest tracking authorisation on a stolen-vehicle basis.
    pub stolen_max_hours: i64,
    /// Longest tracking authorisation on any other basis.
    pub other_max_hours: i64,
    /// An emergency (threat to life) authorisation stops unless approved within this.
    pub emergency_approval_minutes: i64,
    /// A new emergency request for a plate whose emergency authorisation by the same requester
    /// ended (revoked, stopped, expired, refused) less than this long ago does not start at
    /// once: a supervisor approves it first (no rolling one-hour emergencies).
    pub emergency_cooldown_hours: i64,
    /// A stolen report younger than this recorded by the requester's team needs approval.
    pub recent_stolen_hours: i64,
    /// A request nobody decided lapses after this.
    pub pending_lapse_hours: i64,
    /// A user whose operational roles (searcher, tracker, supervisor) were set by a member of
    /// staff less than this many days ago cannot track on register rows that same person
    /// loaded by hand without a supervisor's approval.
    pub recent_role_grant_days: i64,
    /// A read (or its image) may be viewed only if it was shown to the same user, by a search
    /// result page or an alert delivered to them, under the same purpose code and file
    /// number, within this many hours: read ids cannot be enumerated.
    pub disclosure_window_hours: i64,
    pub rate_limits: RateLimits,
    /// Subject access requests: identity checks and the per-requester limit.
    pub subject_access: SubjectAccessConfig,
    /// The police districts of this deployment, as staff, sites and incident files name them.
    /// An account or a site is placed in one of these, so that a misspelt district (which
    /// would silently match no incident file and no supervisor) is refused when typed.
    pub districts: Vec<String>,
}

/// The twelve New Zealand Police districts: the default list of [`PolicyConfig::districts`].
pub const NZ_POLICE_DISTRICTS: [&str; 12] = [
    "Northland",
    "Waitematā",
    "Auckland City",
    "Counties Manukau",
    "Waikato",
    "Bay of Plenty",
    "Eastern",
    "Central",
    "Wellington",
    "Tasman",
    "Canterbury",
    "Southern",
];

/// A district name as typed, for comparison: trimmed, lower case, and the macron vowels of te
/// reo Māori spelt plain, so that "waitemata" finds "Waitematā" (keyboards without macrons).
fn district_key(name: &str) -> String {
    name.trim()
        .chars()
        .map(|c| match c {
            'ā' | 'Ā' => 'a',
            'ē' | 'Ē' => 'e',
            'ī' | 'Ī' => 'i',
            'ō' | 'Ō' => 'o',
            'ū' | 'Ū' => 'u',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

fn purpose(
    code: &str,
    label: &str,
    types: &[&str],
    tracking: Option<TrackingBasisKind>,
    emergency: bool,
) -> PurposeDef {
    PurposeDef {
        code: code.into(),
        label: label.into(),
        incident_types: types.iter().map(|t| t.to_string()).collect(),
        tracking,
        emergency,
    }
}

impl Default for PolicyConfig {
    fn default() -> Self {
        use TrackingBasisKind::*;
        PolicyConfig {
            purposes: vec![
                purpose(
                    "stolen_vehicle",
                    "Stolen vehicle",
                    &["vehicle_theft", "unlawful_taking"],
                    Some(StolenVehicle),
                    false,
                ),
                purpose(
                    "serious_crime",
                    "Serious crime investigation",
                    &[
                        "homicide",
                        "robbery",
                        "aggravated_robbery",
                        "serious_assault",
                        "sexual_offence",
                        "kidnapping",
                        "arson",
                        "burglary",
                        "drug_supply",
                        "firearms",
                    ],
                    Some(Supervised),
                    false,
                ),
                purpose(
                    "missing_person",
                    "Missing person",
                    &["missing_person"],
                    Some(Supervised),
                    false,
                ),
                purpose(
                    "threat_to_life",
                    "Threat to life",
                    &["threat_to_life", "kidnapping", "missing_person"],
                    Some(Supervised),
                    true,
                ),
                purpose(
                    "road_policing",
                    "Road policing",
                    &[
                        "traffic_offence",
                        "crash",
                        "dangerous_driving",
                        "fleeing_driver",
                    ],
                    None,
                    false,
                ),
            ],
            min_justification_chars: 20,
            min_reason_chars: 10,
            training: TrainingPlates::default(),
            near_live_minutes: 30,
            routine_lookback_days: 60,
            max_lookback_days: 365,
            lookback_valid_days: 7,
            stolen_max_hours: 48,
            other_max_hours: 7 * 24,
            emergency_approval_minutes: 60,
            emergency_cooldown_hours: 24,
            recent_stolen_hours: 24,
            pending_lapse_hours: 24,
            recent_role_grant_days: 14,
            disclosure_window_hours: 24,
            rate_limits: RateLimits::default(),
            subject_access: SubjectAccessConfig::default(),
            districts: NZ_POLICE_DISTRICTS.map(String::from).to_vec(),
        }
    }
}

impl PolicyConfig {
    pub fn purpose(&self, code: &str) -> Option<&PurposeDef> {
        self.purposes.iter().find(|p| p.code == code)
    }

    /// The purposes an incident of `incident_type` can justify, in configured order.
    pub fn purposes_for<'a>(
        &'a self,
        incident_type: &'a str,
    ) -> impl Iterator<Item = &'a PurposeDef> + 'a {
        self.purposes
            .iter()
            .filter(move |p| p.incident_types.iter().any(|t| t == incident_type))
    }

    /// The deployment's district `typed` names, in its configured spelling; `None` when it
    /// names none (case and macrons aside).
    pub fn district(&self, typed: &str) -> Option<&str> {
        let key = district_key(typed);
        self.districts
            .iter()
            .find(|d| district_key(d) == key)
            .map(String::as_str)
    }

    /// Parses a JSON configuration; absent fields keep their defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        let c: PolicyConfig =
            serde_json::from_str(text).map_err(|e| PolicyError::Config(e.to_string()))?;
        c.validate()?;
        Ok(c)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |m: &str| Err(PolicyError::Config(m.to_string()));
        if self.purposes.is_empty() {
            return bad("at least one purpose code is needed");
        }
        for (i, p) in self.purposes.iter().enumerate() {
            if p.code.trim().is_empty() || p.incident_types.is_empty() {
                return bad("every purpose needs a code and at least one incident type");
            }
            if self.purposes[..i].iter().any(|q| q.code == p.code) {
                return Err(PolicyError::Config(format!(
                    "purpose code {} is listed twice",
                    p.code
                )));
            }
            if p.emergency && p.tracking != Some(TrackingBasisKind::Supervised) {
                return bad("the emergency path needs a supervised tracking basis");
            }
        }
        if self.training.prefixes.iter().any(|p| p.len() < 2) {
            return bad("training prefixes need at least two characters");
        }
        let positive = [
            self.near_live_minutes,
            self.routine_lookback_days,
            self.max_lookback_days,
            self.lookback_valid_days,
            self.stolen_max_hours,
            self.other_max_hours,
            self.emergency_approval_minutes,
            self.emergency_cooldown_hours,
            self.recent_stolen_hours,
            self.pending_lapse_hours,
            self.recent_role_grant_days,
            self.disclosure_window_hours,
        ];
        if positive.iter().any(|v| *v <= 0) {
            return bad("windows and durations must be positive");
        }
        let sa = &self.subject_access;
        if sa.identity_methods.iter().all(|m| m.trim().is_empty()) {
            return bad("subject access needs at least one identity check method");
        }
        if sa.per_requester.max == 0 || sa.per_requester.window_minutes == 0 {
            return bad("the subject access limit needs a positive maximum and window");
        }
        if self.max_lookback_days < self.routine_lookback_days {
            return bad("max_lookback_days is shorter than routine_lookback_days");
        }
        if self.districts.iter().any(|d| d.trim().is_empty()) || self.districts.is_empty() {
            return bad("at least one district is needed, and no district may be blank");
        }
        for (i, d) in self.districts.iter().enumerate() {
            if self.districts[..i]
                .iter()
                .any(|e| district_key(e) == district_key(d))
            {
                return Err(PolicyError::Config(format!("district {d} is listed twice")));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod district_tests {
    use super::*;

    #[test]
    fn a_district_is_found_whatever_its_case_and_macrons() {
        let c = PolicyConfig::default();
        assert_eq!(c.district(" waitemata "), Some("Waitematā"));
        assert_eq!(c.district("SOUTHERN"), Some("Southern"));
        assert_eq!(c.district("Waikatoo"), None);
        assert_eq!(c.district("Narnia"), None);
        assert_eq!(c.district(""), None);
    }

    #[test]
    fn a_district_list_needs_names_each_once() {
        let mut c = PolicyConfig::default();
        c.districts.push("southern".into());
        assert!(c.validate().is_err());
        c.districts = vec![];
        assert!(c.validate().is_err());
        c.districts = vec!["Metropolitan".into(), "Rural".into()];
        assert!(c.validate().is_ok());
        assert_eq!(c.district("rural"), Some("Rural"));
    }
}

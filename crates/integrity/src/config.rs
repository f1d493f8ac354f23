//! The rules' settings: each rule family can be switched off and its thresholds changed in a
//! JSON file; anything the file leaves out keeps the default documented here.

use crate::error::{IntegrityError, Result};
use serde::{Deserialize, Serialize};

/// All rule settings. `IntegrityConfig::default()` is the built-in configuration.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, Default)]
#[serde(default, deny_unknown_fields)]
pub struct IntegrityConfig {
    pub own_vehicle: OwnVehicleConfig,
    pub stolen_report: StolenReportConfig,
    pub justification: JustificationConfig,
    pub repeated_interest: RepeatedInterestConfig,
    pub polling: PollingConfig,
    pub volume: VolumeConfig,
    pub hours: HoursConfig,
    pub tracking: TrackingConfig,
    pub approval: ApprovalConfig,
    pub staged_tracking: StagedTrackingConfig,
    pub emergency: EmergencyConfig,
    pub enumeration: EnumerationConfig,
    pub sampling: SamplingConfig,
}

/// Rule 1: searches, views and tracking of a plate connected to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OwnVehicleConfig {
    pub enabled: bool,
    /// Attempts (refused ones included) after which the finding is escalated to high.
    /// Default 3.
    pub escalate_after: u32,
}

impl Default for OwnVehicleConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            escalate_after: 3,
        }
    }
}

/// Rule 2: the marks of a false stolen report used to unlock tracking.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StolenReportConfig {
    pub enabled: bool,
    /// A report recorded less than this many minutes before the tracking request is a sign
    /// (on its own, low severity). Default 60.
    pub recent_minutes: u32,
    /// A report cancelled (not recovered) within this many hours of the end of the tracking it
    /// enabled is a sign. Default 72.
    pub cancelled_within_hours: u32,
}

impl Default for StolenReportConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            recent_minutes: 60,
            cancelled_within_hours: 72,
        }
    }
}

/// Rule 3: weak or reused justification.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct JustificationConfig {
    pub enabled: bool,
    /// Distinct file numbers neither assigned to the user nor in their district, used within
    /// `outside_window_days` of each other, before a finding (a file not in the incident
    /// register counts half). Default 2.
    pub outside_file_uses: u32,
    /// Days after which a file not theirs is forgotten: help to another district now and then
    /// is not a pattern. Default 30.
    pub outside_window_days: u32,
    /// Distinct plates one user may query under one file number before it counts. Default 30.
    pub max_plates_per_file: u32,
    /// Incident types that involve many vehicles (series, operations): many plates under
    /// their files are expected.
    pub many_vehicle_incidents: Vec<String>,
    /// Requests sharing one near-identical justification before a finding. Default 15.
    pub boilerplate_min_repeats: u32,
    /// ... and the distinct file numbers they must span (the same text for one case is fine).
    /// Default 5.
    pub boilerplate_min_files: u32,
    /// A file number's plates (for `max_plates_per_file`) and a justification text's repeats
    /// (for the boilerplate rule) lapse when the user has not used them for this many days:
    /// what was counted before is forgotten, so the engine holds this state only for files and
    /// texts used in the last `window_days` days, whatever the length of the ledger.
    /// Default 365.
    pub window_days: u32,
}

impl Default for JustificationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            outside_file_uses: 2,
            outside_window_days: 30,
            max_plates_per_file: 30,
            many_vehicle_incidents: [
                "burglary",
                "commercial burglary",
                "fraud",
                "drug supply",
                "receiving stolen goods",
                "shoplifting ring",
                "ram raid",
                "vehicle theft",
                "homicide",
            ]
            .map(String::from)
            .to_vec(),
            boilerplate_min_repeats: 15,
            boilerplate_min_files: 5,
            window_days: 365,
        }
    }
}

/// Rule 4a: following a vehicle by repeated historical searches.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RepeatedInterestConfig {
    pub enabled: bool,
    /// Distinct file numbers under which one user queried one plate. Default 3.
    pub min_files: u32,
    /// Distinct weeks in which one user queried one plate. Default 4.
    pub min_weeks: u32,
    /// Interest in a plate lapses when the user has not queried it for this many days: the
    /// weeks and files counted before (and a tracking basis for it) are forgotten, and a later
    /// query starts afresh. So the engine holds state only for the (user, plate) pairs queried
    /// in the last `window_days` days, whatever the length of the ledger. Polling needs no more:
    /// its chains break after `polling.max_gap_minutes`. Default 365.
    pub window_days: u32,
}

impl Default for RepeatedInterestConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            min_files: 3,
            min_weeks: 4,
            window_days: 365,
        }
    }
}

/// Rule 4b: polling historical search as tracking without an authorisation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct PollingConfig {
    pub enabled: bool,
    /// A search whose newest sighting is at most this old is "near-live". Default 120.
    pub near_live_minutes: u32,
    /// Searches of the plate further apart than this break the chain. Default 30.
    pub max_gap_minutes: u32,
    /// Near-live searches in one chain before a finding. Default 4.
    pub min_searches: u32,
}

impl Default for PollingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            near_live_minutes: 120,
            max_gap_minutes: 30,
            min_searches: 4,
        }
    }
}

/// Rule 5a: a day's volume against the peers in the same role and district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VolumeConfig {
    pub enabled: bool,
    /// A day is unusual above median + `mad_multiplier` x scaled MAD of the peers' days.
    /// Default 8.
    pub mad_multiplier: f64,
    /// ... and at least this many uses that day (a quiet office's busy day is not news).
    /// Default 40.
    pub min_daily_uses: u32,
    /// Peer-days needed for a comparison. Default 10.
    pub min_peer_days: u32,
    /// The baseline is the peers' days within this many days before the newest use: a day is
    /// judged when a run finishes or, in a long pass, when it leaves the window, against the
    /// days of the same role and district held then; days older than the window are dropped.
    /// So the engine holds one count per (user, day) for `baseline_days` days, whatever the
    /// length of the ledger. Default 365.
    pub baseline_days: u32,
}

impl Default for VolumeConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            mad_multiplier: 8.0,
            min_daily_uses: 40,
            min_peer_days: 10,
            baseline_days: 365,
        }
    }
}

/// Rule 5b: activity at hours the user is almost never active.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct HoursConfig {
    pub enabled: bool,
    /// Local time offset from UTC, in hours. Default 12 (New Zealand standard time).
    pub utc_offset_hours: i32,
    /// Uses the user must have made before their hours are judged: enough to know their
    /// hours (a member of staff makes about 60 a year; a session of one search and its views
    /// is three or four). Default 100.
    pub min_history: u32,
    /// An hour (with the two either side) holding at most this share of the user's history is
    /// unusual. Default 0.005.
    pub max_share: f64,
    /// Unusual-hour uses on one day before a finding. Default 3.
    pub min_uses: u32,
}

impl Default for HoursConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            utc_offset_hours: 12,
            min_history: 100,
            max_share: 0.005,
            min_uses: 3,
        }
    }
}

/// Rule 6: tracking beyond need.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrackingConfig {
    pub enabled: bool,
    /// Renewals one authorisation may have in a chain. Default 2.
    pub max_renewals: u32,
    /// Hours a chain of renewals may cover in all. Default 168 (a week).
    pub max_chain_hours: u32,
    /// Tracking of a plate whose stolen report was recovered or cancelled this many days
    /// before is flagged. Default 30.
    pub recovery_window_days: u32,
}

impl Default for TrackingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            max_renewals: 2,
            max_chain_hours: 168,
            recovery_window_days: 30,
        }
    }
}

/// Rule 7a: approvals a supervisor tried to give that were not theirs to give.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ApprovalConfig {
    pub enabled: bool,
    /// Attempts are held this many days (a second attempt within them adds to the first).
    /// Default 30.
    pub window_days: u32,
}

impl Default for ApprovalConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            window_days: 30,
        }
    }
}

/// Rule 7b: tracking one administrator arranged alone (an account and a stolen report).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct StagedTrackingConfig {
    pub enabled: bool,
    /// An account created or changed this many days before its tracking request. Default 14.
    pub account_days: u32,
    /// Stolen reports loaded by the same administrator this many hours before. Default 48.
    pub load_hours: u32,
    /// A load of at most this many records is by hand, not the register's feed. Default 5.
    pub manual_max_records: u64,
}

impl Default for StagedTrackingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            account_days: 14,
            load_hours: 48,
            manual_max_records: 5,
        }
    }
}

/// Rule 6c: emergency requests for one plate filed again as each lapses unapproved.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EmergencyConfig {
    pub enabled: bool,
    /// Emergency requests for one plate this many hours apart or less belong to one run.
    /// Default 24.
    pub run_gap_hours: u32,
}

impl Default for EmergencyConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            run_gap_hours: 24,
        }
    }
}

/// Rule 4c: read views refused because the read was never shown to the user.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct EnumerationConfig {
    pub enabled: bool,
    /// Refused views this many minutes apart or less belong to one walk. Default 60.
    pub walk_gap_minutes: u32,
    /// Read ids at most this far apart count as stepping through ids. Default 5.
    pub step: i64,
}

impl Default for EnumerationConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            walk_gap_minutes: 60,
            step: 5,
        }
    }
}

/// Routine review: a share of all queries, picked by a keyed hash of the ledger index (so the
/// same entry is always picked or not), goes to the supervisors of the user's district.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SamplingConfig {
    pub enabled: bool,
    /// Share of uses sampled, 0 to 1. Default 0.01.
    pub share: f64,
    /// Key of the sampling hash (change it so staff cannot predict which entries are picked).
    /// Default 0x5eed.
    pub seed: u64,
}

impl Default for SamplingConfig {
    fn default() -> Self {
        Self {
            enabled: true,
            share: 0.01,
            seed: 0x5eed,
        }
    }
}

impl IntegrityConfig {
    /// Parses a JSON configuration; settings left out keep their defaults.
    pub fn from_json(text: &str) -> Result<Self> {
        let cfg: IntegrityConfig =
            serde_json::from_str(text).map_err(|e| IntegrityError::Config {
                field: "config".into(),
                message: e.to_string(),
            })?;
        cfg.validate()?;
        Ok(cfg)
    }

    pub fn validate(&self) -> Result<()> {
        let bad = |field: &str, message: &str| {
            Err(IntegrityError::Config {
                field: field.into(),
                message: message.into(),
            })
        };
        if !(0.0..=1.0).contains(&self.sampling.share) {
            return bad("sampling.share", "must be between 0 and 1");
        }
        if self.volume.mad_multiplier.is_nan() || self.volume.mad_multiplier <= 0.0 {
            return bad("volume.mad_multiplier", "must be positive");
        }
        if !(0.0..=1.0).contains(&self.hours.max_share) {
            return bad("hours.max_share", "must be between 0 and 1");
        }
        if !(-12..=14).contains(&self.hours.utc_offset_hours) {
            return bad("hours.utc_offset_hours", "must be between -12 and 14");
        }
        // Windows and gaps: zero would forget everything at once.
        for (field, window) in [
            (
                "repeated_interest.window_days",
                self.repeated_interest.window_days,
            ),
            ("justification.window_days", self.justification.window_days),
            ("volume.baseline_days", self.volume.baseline_days),
            (
                "justification.outside_window_days",
                self.justification.outside_window_days,
            ),
            ("approval.window_days", self.approval.window_days),
            (
                "staged_tracking.account_days",
                self.staged_tracking.account_days,
            ),
            (
                "staged_tracking.load_hours",
                self.staged_tracking.load_hours,
            ),
            ("emergency.run_gap_hours", self.emergency.run_gap_hours),
            (
                "enumeration.walk_gap_minutes",
                self.enumeration.walk_gap_minutes,
            ),
        ] {
            if window == 0 {
                return bad(field, "must be at least 1");
            }
        }
        if self.polling.min_searches < 2 {
            return bad("polling.min_searches", "must be at least 2");
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_partial_file_keeps_the_defaults_and_unknown_settings_are_refused() {
        let c = IntegrityConfig::from_json(
            r#"{"polling":{"min_searches":6},"volume":{"enabled":false}}"#,
        )
        .unwrap();
        assert_eq!(c.polling.min_searches, 6);
        assert_eq!(c.polling.max_gap_minutes, 30);
        assert!(!c.volume.enabled);
        assert!(c.own_vehicle.enabled);
        assert!(IntegrityConfig::from_json(r#"{"polling":{"min_searchs":6}}"#).is_err());
        let e = IntegrityConfig::from_json(r#"{"sampling":{"share":2}}"#).unwrap_err();
        assert!(e.to_string().contains("sampling.share"));
        let e = IntegrityConfig::from_json(r#"{"approval":{"window_days":0}}"#).unwrap_err();
        assert!(e.to_string().contains("approval.window_days"));
    }
}

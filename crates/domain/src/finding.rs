//! What the rules yield.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Which rule found it. The six families of the integrity rules, split where one family has
/// distinct patterns, plus the routine sample.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Rule {
    /// 1. A plate registered to the user or their household (or a declared associate).
    OwnVehicle,
    /// 2. Tracking unlocked by a stolen report with the marks of a false one.
    StolenReport,
    /// 3a. A file number neither assigned to the user nor in their district.
    FileNotTheirs,
    /// 3b. One file number used for many unrelated plates.
    FileManyPlates,
    /// 3c. Near-identical justification text across many requests under different files.
    BoilerplateJustification,
    /// 4a. One plate queried across incidents or over weeks without a tracking basis.
    RepeatedInterest,
    /// 4b. Repeated historical searches of one plate, each returning near-live sightings.
    Polling,
    /// 5a. A day's volume far above peers in the same role and district.
    UnusualVolume,
    /// 5b. Activity at hours the user is almost never active.
    UnusualHours,
    /// 6a. Renewals chained past the policy's limits.
    RenewalChain,
    /// 6b. Tracking sought or kept after the vehicle was recovered.
    TrackingAfterRecovery,
    /// 7a. A supervisor tried to approve their own request, or requests of another district.
    ApprovalConflict,
    /// 7b. An administrator set up an account and loaded a stolen report by hand, and that
    /// account then tracked on a stolen report: tracking arranged by one person acting alone.
    StagedTracking,
    /// 6c. Emergency tracking requests for one plate filed again and again as each lapses
    /// without a supervisor's approval.
    EmergencyChain,
    /// 4c. Reads asked for by id that were never shown to the user (walking read ids).
    ReadEnumeration,
    /// Not a suspicion: a query picked at random for a supervisor's routine review.
    RoutineSample,
    /// Not about one member of staff: the audit ledger's stored entries differ from what was
    /// written when they were appended (found by the server's own check of its ledger).
    LedgerAltered,
}

impl Rule {
    pub const ALL: [Rule; 17] = [
        Rule::OwnVehicle,
        Rule::StolenReport,
        Rule::FileNotTheirs,
        Rule::FileManyPlates,
        Rule::BoilerplateJustification,
        Rule::RepeatedInterest,
        Rule::Polling,
        Rule::UnusualVolume,
        Rule::UnusualHours,
        Rule::RenewalChain,
        Rule::TrackingAfterRecovery,
        Rule::ApprovalConflict,
        Rule::StagedTracking,
        Rule::EmergencyChain,
        Rule::ReadEnumeration,
        Rule::RoutineSample,
        Rule::LedgerAltered,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Rule::OwnVehicle => "own_vehicle",
            Rule::StolenReport => "stolen_report",
            Rule::FileNotTheirs => "file_not_theirs",
            Rule::FileManyPlates => "file_many_plates",
            Rule::BoilerplateJustification => "boilerplate_justification",
            Rule::RepeatedInterest => "repeated_interest",
            Rule::Polling => "polling",
            Rule::UnusualVolume => "unusual_volume",
            Rule::UnusualHours => "unusual_hours",
            Rule::RenewalChain => "renewal_chain",
            Rule::TrackingAfterRecovery => "tracking_after_recovery",
            Rule::ApprovalConflict => "approval_conflict",
            Rule::StagedTracking => "staged_tracking",
            Rule::EmergencyChain => "emergency_chain",
            Rule::ReadEnumeration => "read_enumeration",
            Rule::RoutineSample => "routine_sample",
            Rule::LedgerAltered => "ledger_altered",
        }
    }

    pub fn parse(s: &str) -> Option<Rule> {
        Rule::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// How serious a finding is. Ordered: `Critical` is the greatest.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    PartialOrd,
    Ord,
    Serialize,
    Deserialize,
    utoipa::ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// For routine review (samples).
    Info,
    Low,
    Medium,
    High,
    Critical,
}

impl Severity {
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Low => "low",
            Severity::Medium => "medium",
            Severity::High => "high",
            Severity::Critical => "critical",
        }
    }

    pub fn parse(s: &str) -> Option<Severity> {
        [
            Severity::Info,
            Severity::Low,
            Severity::Medium,
            Severity::High,
            Severity::Critical,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// Most ledger indices a finding keeps as evidence (the first ones, and the count of all).
pub const MAX_EVIDENCE: usize = 50;

/// One finding: a rule, how serious, whose conduct, the evidence, and an explanation.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Finding {
    pub rule: Rule,
    pub severity: Severity,
    /// The member of staff whose conduct it is about.
    pub staff_id: String,
    /// What it is about within the rule (a plate, a file number, a day): one finding per
    /// `(rule, staff_id, key)`, so a later run adds evidence rather than a duplicate.
    pub key: String,
    /// Ledger entry indices, ascending, at most [`MAX_EVIDENCE`].
    pub evidence: Vec<u64>,
    /// How many uses the finding rests on (may exceed `evidence.len()`).
    pub uses: u64,
    /// In plain language, for the integrity officer and the member of staff.
    pub explanation: String,
    pub first_at: DateTime<Utc>,
    pub last_at: DateTime<Utc>,
}

impl Finding {
    /// Adds a use to the evidence (the rules call it as they find more).
    pub fn add_evidence(&mut self, index: u64, at: DateTime<Utc>) {
        self.uses += 1;
        if self.evidence.len() < MAX_EVIDENCE && !self.evidence.contains(&index) {
            self.evidence.push(index);
            self.evidence.sort_unstable();
        }
        self.first_at = self.first_at.min(at);
        self.last_at = self.last_at.max(at);
    }
}

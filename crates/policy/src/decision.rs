//! Every check produces a [`Decision`], granted or refused, handed to one [`DecisionRecorder`]
//! before the result is returned. If the decision cannot be recorded, the request fails:
//! [`enforce`] is the only way an [`Evaluation`] becomes a result.

use crate::error::{PolicyError, RefusalKind, Result};
use anpr_domain::{Actor, NetworkId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Mutex;

/// What was decided about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionAction {
    Search,
    ViewRead,
    ViewImage,
    Export,
    TrackingRequest,
    TrackingApprove,
    TrackingRefuse,
    TrackingRevoke,
    /// The platform ended an authorisation (expiry, no approval in time, stolen report cancelled).
    TrackingEnd,
    LookbackRequest,
    LookbackApprove,
    LookbackRefuse,
    LookbackRevoke,
    LookbackEnd,
    /// Listing authorisations (the approval queue, a district's activity).
    ListAuthorisations,
    /// Answering a subject access request about one plate (privacy officers).
    SubjectAccess,
    /// Placing a read on legal hold (kept past retention) or releasing it.
    LegalHold,
    /// Seeing a tracking authorisation's sightings: the path of the car (or, for an overseer
    /// without a reason, only how many there are).
    ViewSightings,
    /// Seeing integrity review cases (the review queue, a case, one's own cases).
    ViewIntegrityCases,
    /// Which alerts a user receives (the alert list and stream).
    ReceiveAlerts,
    /// Listing one's open incident files (and the purposes each fits).
    ListFiles,
    /// Reading or changing a camera network's sharing controls, or its watch notices (its
    /// network auditor).
    NetworkControls,
}

impl DecisionAction {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionAction::Search => "search",
            DecisionAction::ViewRead => "view_read",
            DecisionAction::ViewImage => "view_image",
            DecisionAction::Export => "export",
            DecisionAction::TrackingRequest => "tracking_request",
            DecisionAction::TrackingApprove => "tracking_approve",
            DecisionAction::TrackingRefuse => "tracking_refuse",
            DecisionAction::TrackingRevoke => "tracking_revoke",
            DecisionAction::TrackingEnd => "tracking_end",
            DecisionAction::LookbackRequest => "lookback_request",
            DecisionAction::LookbackApprove => "lookback_approve",
            DecisionAction::LookbackRefuse => "lookback_refuse",
            DecisionAction::LookbackRevoke => "lookback_revoke",
            DecisionAction::LookbackEnd => "lookback_end",
            DecisionAction::ListAuthorisations => "list_authorisations",
            DecisionAction::SubjectAccess => "subject_access",
            DecisionAction::LegalHold => "legal_hold",
            DecisionAction::ViewSightings => "view_sightings",
            DecisionAction::ViewIntegrityCases => "view_integrity_cases",
            DecisionAction::ReceiveAlerts => "receive_alerts",
            DecisionAction::ListFiles => "list_files",
            DecisionAction::NetworkControls => "network_controls",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum DecisionOutcome {
    /// Allowed as asked.
    Allowed,
    /// Allowed, narrowed (results withheld, networks or time range narrowed).
    AllowedWithLimits,
    /// Recorded, waiting for a supervisor's approval.
    PendingApproval,
    Refused,
}

impl DecisionOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            DecisionOutcome::Allowed => "allowed",
            DecisionOutcome::AllowedWithLimits => "allowed_with_limits",
            DecisionOutcome::PendingApproval => "pending_approval",
            DecisionOutcome::Refused => "refused",
        }
    }
}

/// One recorded decision: who, what, when, why, on what basis, and the outcome.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Decision {
    pub at: DateTime<Utc>,
    /// Correlates the decision with the request's logs.
    pub request_id: String,
    /// `staff:S1001`, `system:tracking`.
    pub actor: String,
    pub user_id: Option<UserId>,
    pub district: Option<String>,
    pub action: DecisionAction,
    /// The plate, pattern or read the decision is about.
    pub target: Option<String>,
    pub purpose_code: Option<String>,
    pub file_number: Option<String>,
    pub justification: Option<String>,
    /// What the decision rested on (the incident, the stolen report, the authorisation).
    pub basis: Option<String>,
    pub outcome: DecisionOutcome,
    pub refusal_code: Option<String>,
    pub refusal_reason: Option<String>,
    /// Narrowings and warnings given to the user.
    pub notes: Vec<String>,
    /// A training plate: synthetic data only. Such a decision rests on no file
    /// (`file_number` is `None`), granted or refused.
    pub training: bool,
    /// A tracking authorisation that also matches OCR-confusable reads (every plate sharing
    /// its plate's confusion-class key): what its watch can alert on is wider than its plate.
    #[serde(default)]
    pub fuzzy: bool,
    pub authorisation_id: Option<i64>,
    /// The camera networks whose data the decision is about: those a search was narrowed to,
    /// a viewed read's network, those a tracking authorisation may alert on (usage reports
    /// count by network from this).
    #[serde(default)]
    pub networks: Vec<NetworkId>,
}

impl Decision {
    /// A decision about `action` by `actor`, refused until filled in otherwise.
    pub fn new(actor: &Actor, action: DecisionAction, request_id: &str, at: DateTime<Utc>) -> Self {
        let (user_id, district) = match actor {
            Actor::Staff {
                user_id, district, ..
            } => (Some(*user_id), Some(district.clone())),
            _ => (None, None),
        };
        Decision {
            at,
            request_id: request_id.to_string(),
            actor: actor.label(),
            user_id,
            district,
            action,
            target: None,
            purpose_code: None,
            file_number: None,
            justification: None,
            basis: None,
            outcome: DecisionOutcome::Refused,
            refusal_code: None,
            refusal_reason: None,
            notes: vec![],
            training: false,
            fuzzy: false,
            authorisation_id: None,
            networks: vec![],
        }
    }

    /// Marks the decision refused by `e`.
    pub fn refuse(&mut self, e: &PolicyError) {
        self.outcome = DecisionOutcome::Refused;
        self.refusal_code = Some(
            e.kind()
                .map(RefusalKind::as_str)
                .unwrap_or("error")
                .to_string(),
        );
        self.refusal_reason = Some(e.to_string());
    }
}

/// Where decisions go. Until the audit ledger lands a table holds them; the ledger implements
/// the same trait. Called synchronously before the result is returned.
pub trait DecisionRecorder: Send + Sync {
    fn record(&self, d: &Decision) -> Result<()>;
}

/// A decision and the result it stands for. Only [`enforce`] opens it.
#[derive(Debug)]
#[must_use = "an evaluation must be enforced, which records its decision"]
pub struct Evaluation<T> {
    pub decision: Decision,
    outcome: Result<T>,
}

impl<T> Evaluation<T> {
    pub fn new(decision: Decision, outcome: Result<T>) -> Self {
        let mut decision = decision;
        if let Err(e) = &outcome {
            decision.refuse(e);
        }
        Evaluation { decision, outcome }
    }

    /// The outcome without recording; for tests and benchmarks of the evaluation alone.
    pub fn peek(&self) -> &Result<T> {
        &self.outcome
    }
}

/// Records the decision, then returns the result; if recording fails the request fails.
pub fn enforce<T>(recorder: &dyn DecisionRecorder, eval: Evaluation<T>) -> Result<(T, Decision)> {
    recorder.record(&eval.decision)?;
    eval.outcome.map(|t| (t, eval.decision))
}

/// Keeps decisions in memory (tests).
#[derive(Default)]
pub struct MemoryRecorder {
    pub decisions: Mutex<Vec<Decision>>,
    /// When set, every `record` fails (to test that requests fail with it).
    pub fail: std::sync::atomic::AtomicBool,
}

impl MemoryRecorder {
    pub fn all(&self) -> Vec<Decision> {
        self.decisions.lock().expect("recorder lock").clone()
    }
}

impl DecisionRecorder for MemoryRecorder {
    fn record(&self, d: &Decision) -> Result<()> {
        if self.fail.load(std::sync::atomic::Ordering::SeqCst) {
            return Err(PolicyError::Recording("recorder unavailable".into()));
        }
        self.decisions
            .lock()
            .expect("recorder lock")
            .push(d.clone());
        Ok(())
    }
}

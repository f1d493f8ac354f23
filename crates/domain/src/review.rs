//! The review workflow as plain data and one transition function: a finding opens a case; the
//! integrity unit (or, for routine samples, a supervisor of the member of staff's district)
//! assigns it, asks the member of staff to explain, records the explanation, and closes it as
//! explained, training, or a misconduct referral. Storing cases and recording each step in the
//! ledger is the caller's job; which step is allowed from which state is decided here.

use crate::finding::{Finding, Rule, Severity};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// Who works the case.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseQueue {
    /// The integrity unit (every suspicion).
    Integrity,
    /// The supervisors of the staff member's district (routine samples).
    Supervisor,
}

impl CaseQueue {
    pub fn for_rule(rule: Rule) -> Self {
        if rule == Rule::RoutineSample {
            CaseQueue::Supervisor
        } else {
            CaseQueue::Integrity
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            CaseQueue::Integrity => "integrity",
            CaseQueue::Supervisor => "supervisor",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [CaseQueue::Integrity, CaseQueue::Supervisor]
            .into_iter()
            .find(|q| q.as_str() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseStatus {
    Open,
    Assigned,
    /// Waiting for the member of staff's explanation.
    ExplanationRequested,
    /// The member of staff answered; waiting for the reviewer.
    Explained,
    Closed,
}

impl CaseStatus {
    pub const ALL: [CaseStatus; 5] = [
        CaseStatus::Open,
        CaseStatus::Assigned,
        CaseStatus::ExplanationRequested,
        CaseStatus::Explained,
        CaseStatus::Closed,
    ];
    pub fn as_str(self) -> &'static str {
        match self {
            CaseStatus::Open => "open",
            CaseStatus::Assigned => "assigned",
            CaseStatus::ExplanationRequested => "explanation_requested",
            CaseStatus::Explained => "explained",
            CaseStatus::Closed => "closed",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        CaseStatus::ALL.into_iter().find(|x| x.as_str() == s)
    }
}

/// How a case was closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CaseOutcome {
    /// The use was justified.
    Explained,
    /// Not misconduct, but the member of staff needs training.
    Training,
    /// Referred for a misconduct investigation.
    MisconductReferral,
}

impl CaseOutcome {
    pub fn as_str(self) -> &'static str {
        match self {
            CaseOutcome::Explained => "explained",
            CaseOutcome::Training => "training",
            CaseOutcome::MisconductReferral => "misconduct_referral",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            CaseOutcome::Explained,
            CaseOutcome::Training,
            CaseOutcome::MisconductReferral,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
}

/// A finding as stored, with its id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StoredFinding {
    pub id: i64,
    #[serde(flatten)]
    pub finding: Finding,
}

/// A review case: one per finding.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Case {
    pub id: i64,
    pub queue: CaseQueue,
    pub status: CaseStatus,
    /// The member of staff whose conduct it is about.
    pub staff_id: String,
    /// Their district (a routine sample goes to its supervisors).
    pub district: Option<String>,
    pub assigned_to: Option<String>,
    /// What the reviewer asked the member of staff.
    pub explanation_request: Option<String>,
    pub explanation: Option<String>,
    pub explained_at: Option<DateTime<Utc>>,
    pub outcome: Option<CaseOutcome>,
    pub closing_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<DateTime<Utc>>,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub finding: StoredFinding,
}

impl Case {
    pub fn severity(&self) -> Severity {
        self.finding.finding.severity
    }
}

/// One step of the workflow.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    Assign {
        to: String,
    },
    RequestExplanation {
        question: String,
    },
    /// By the member of staff the case is about.
    Explain {
        text: String,
    },
    Close {
        outcome: CaseOutcome,
        note: String,
    },
}

/// Why a step is not allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StepError {
    #[error("the case is {0}; {1}")]
    State(&'static str, &'static str),
    #[error("{field}: {message}")]
    Invalid {
        field: &'static str,
        message: &'static str,
    },
}

/// Most characters of a free-text field (question, explanation, note).
pub const MAX_TEXT: usize = 4000;

fn text(field: &'static str, s: &str) -> Result<String, StepError> {
    let t = s.trim();
    if t.is_empty() || t.chars().count() > MAX_TEXT {
        return Err(StepError::Invalid {
            field,
            message: "must be 1 to 4000 characters",
        });
    }
    Ok(t.to_string())
}

/// Applies a step by `actor` at `now`, or says why it cannot be taken.
pub fn apply(case: &Case, step: &Step, actor: &str, now: DateTime<Utc>) -> Result<Case, StepError> {
    use CaseStatus as S;
    let mut c = case.clone();
    c.updated_at = now;
    match step {
        Step::Assign { to } => {
            if c.status == S::Closed {
                return Err(StepError::State(
                    "closed",
                    "a closed case cannot be reassigned",
                ));
            }
            c.assigned_to = Some(text("assigned_to", to)?);
            if c.status == S::Open {
                c.status = S::Assigned;
            }
        }
        Step::RequestExplanation { question } => {
            if !matches!(c.status, S::Open | S::Assigned | S::Explained) {
                return Err(StepError::State(
                    case.status.as_str(),
                    "an explanation cannot be requested now",
                ));
            }
            c.explanation_request = Some(text("question", question)?);
            c.assigned_to.get_or_insert_with(|| actor.to_string());
            c.status = S::ExplanationRequested;
        }
        Step::Explain { text: t } => {
            if c.status != S::ExplanationRequested {
                return Err(StepError::State(
                    case.status.as_str(),
                    "no explanation has been requested",
                ));
            }
            c.explanation = Some(text("explanation", t)?);
            c.explained_at = Some(now);
            c.status = S::Explained;
        }
        Step::Close { outcome, note } => {
            if c.status == S::Closed {
                return Err(StepError::State("closed", "it is already closed"));
            }
            if c.staff_id == actor {
                return Err(StepError::State(
                    case.status.as_str(),
                    "nobody may close a case about themselves",
                ));
            }
            c.closing_note = Some(text("note", note)?);
            c.outcome = Some(*outcome);
            c.closed_by = Some(actor.to_string());
            c.closed_at = Some(now);
            c.status = S::Closed;
        }
    }
    Ok(c)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn case() -> Case {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        Case {
            id: 1,
            queue: CaseQueue::Integrity,
            status: CaseStatus::Open,
            staff_id: "S1".into(),
            district: Some("Waikato".into()),
            assigned_to: None,
            explanation_request: None,
            explanation: None,
            explained_at: None,
            outcome: None,
            closing_note: None,
            closed_by: None,
            closed_at: None,
            opened_at: at,
            updated_at: at,
            finding: StoredFinding {
                id: 1,
                finding: Finding {
                    rule: Rule::OwnVehicle,
                    severity: Severity::High,
                    staff_id: "S1".into(),
                    key: "ABC123".into(),
                    evidence: vec![3],
                    uses: 1,
                    explanation: "x".into(),
                    first_at: at,
                    last_at: at,
                },
            },
        }
    }

    #[test]
    fn the_whole_workflow_in_order() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        let c = apply(&case(), &Step::Assign { to: "I1".into() }, "I1", now).unwrap();
        assert_eq!(c.status, CaseStatus::Assigned);
        let c = apply(
            &c,
            &Step::RequestExplanation {
                question: "Why?".into(),
            },
            "I1",
            now,
        )
        .unwrap();
        assert_eq!(c.status, CaseStatus::ExplanationRequested);
        let c = apply(
            &c,
            &Step::Explain {
                text: "It was a stolen car report".into(),
            },
            "S1",
            now,
        )
        .unwrap();
        assert_eq!(c.status, CaseStatus::Explained);
        let c = apply(
            &c,
            &Step::Close {
                outcome: CaseOutcome::Training,
                note: "Refresher".into(),
            },
            "I1",
            now,
        )
        .unwrap();
        assert_eq!(
            (c.status, c.outcome),
            (CaseStatus::Closed, Some(CaseOutcome::Training))
        );
        assert_eq!(c.closed_by.as_deref(), Some("I1"));
    }

    #[test]
    fn steps_out_of_order_or_empty_are_refused() {
        let now = Utc.with_ymd_and_hms(2026, 3, 2, 9, 0, 0).unwrap();
        assert!(matches!(
            apply(&case(), &Step::Explain { text: "x".into() }, "S1", now),
            Err(StepError::State(..))
        ));
        assert!(matches!(
            apply(
                &case(),
                &Step::RequestExplanation {
                    question: "  ".into()
                },
                "I1",
                now
            ),
            Err(StepError::Invalid { .. })
        ));
        let closed = apply(
            &case(),
            &Step::Close {
                outcome: CaseOutcome::Explained,
                note: "ok".into(),
            },
            "I1",
            now,
        )
        .unwrap();
        assert!(apply(&closed, &Step::Assign { to: "I2".into() }, "I1", now).is_err());
        assert!(apply(
            &closed,
            &Step::Close {
                outcome: CaseOutcome::Explained,
                note: "ok".into()
            },
            "I1",
            now
        )
        .is_err());
        // Nobody closes their own case.
        assert!(apply(
            &case(),
            &Step::Close {
                outcome: CaseOutcome::Explained,
                note: "fine".into()
            },
            "S1",
            now
        )
        .is_err());
    }
}

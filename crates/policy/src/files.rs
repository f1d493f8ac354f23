//! The incident files a member of staff may state as the basis of a use — the open files of
//! their district and those assigned to them ([`crate::Policy::check_incident`]'s rule) — each
//! with the purposes that fit it, so that nobody learns which purpose fits which file by being
//! refused. Listing them is a look into the incident register: decided and recorded like any.

use crate::decision::{Decision, DecisionAction, DecisionOutcome, Evaluation};
use crate::permissions::{self, Permission};
use crate::registers::IncidentRecord;
use crate::{Policy, Subject};
use chrono::{DateTime, Utc};
use serde::Serialize;

/// Most files one listing returns: the newest of the district's, and every one assigned.
pub const MAX_FILES: u32 = 200;

/// Whose files a listing may show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FilesGrant {
    /// The user's district: its open files.
    pub district: String,
    /// The user: the open files assigned to them, in any district.
    pub staff_id: String,
    pub limit: u32,
}

/// One file the user may state, and the purposes it can justify.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct OpenFile {
    pub file_number: String,
    pub incident_type: String,
    pub district: String,
    pub opened_at: DateTime<Utc>,
    /// Assigned to the user (rather than theirs through their district).
    pub assigned_to_you: bool,
    /// The codes of the purposes that fit it, in the policy's order.
    pub purposes: Vec<String>,
}

impl Policy {
    /// Decides a listing of the user's open files: anyone who states purposes (a searcher or
    /// a tracker) may list their own.
    pub fn evaluate_open_files(
        &self,
        s: &Subject,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Evaluation<FilesGrant> {
        let mut d = Decision::new(&s.actor(), DecisionAction::ListFiles, request_id, now);
        d.target = Some(format!("open incident files of {}", s.staff_id));
        let outcome = self.check_active(s).and_then(|()| {
            permissions::require_any(
                &s.roles,
                &[Permission::SearchHistory, Permission::RequestTracking],
            )?;
            Ok(FilesGrant {
                district: s.district.clone(),
                staff_id: s.staff_id.clone(),
                limit: MAX_FILES,
            })
        });
        if outcome.is_ok() {
            d.outcome = DecisionOutcome::Allowed;
            d.basis = Some(format!(
                "open files of {} district and those assigned to {}",
                s.district, s.staff_id
            ));
        }
        Evaluation::new(d, outcome)
    }

    /// Of `incidents` (what the store found for `grant`), those the grant's user may state
    /// now and some purpose fits, with the purposes; assigned files first, then newest first.
    pub fn open_files(
        &self,
        grant: &FilesGrant,
        incidents: Vec<IncidentRecord>,
        now: DateTime<Utc>,
    ) -> Vec<OpenFile> {
        let mut files: Vec<OpenFile> = incidents
            .into_iter()
            .filter(|i| i.is_open(now))
            .filter_map(|i| {
                let assigned = i.assigned_staff.iter().any(|a| a == &grant.staff_id);
                if !assigned && !i.district.eq_ignore_ascii_case(&grant.district) {
                    return None;
                }
                let purposes: Vec<String> = self
                    .config
                    .purposes_for(&i.incident_type)
                    .map(|p| p.code.clone())
                    .collect();
                (!purposes.is_empty()).then_some(OpenFile {
                    file_number: i.file_number,
                    incident_type: i.incident_type,
                    district: i.district,
                    opened_at: i.opened_at,
                    assigned_to_you: assigned,
                    purposes,
                })
            })
            .collect();
        files.sort_by(|a, b| {
            b.assigned_to_you
                .cmp(&a.assigned_to_you)
                .then(b.opened_at.cmp(&a.opened_at))
                .then(a.file_number.cmp(&b.file_number))
        });
        files.truncate(grant.limit as usize);
        files
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::RefusalKind as K;
    use anpr_domain::Role;
    use chrono::Duration;

    fn subject(roles: &[Role]) -> Subject {
        Subject {
            user_id: 1,
            staff_id: "S1".into(),
            district: "Waikato".into(),
            roles: roles.to_vec(),
            active: true,
        }
    }

    fn incident(file: &str, kind: &str, district: &str, assigned: &[&str]) -> IncidentRecord {
        IncidentRecord {
            file_number: file.into(),
            incident_type: kind.into(),
            district: district.into(),
            opened_at: Utc::now() - Duration::days(2),
            closed_at: None,
            assigned_staff: assigned.iter().map(|s| s.to_string()).collect(),
        }
    }

    #[test]
    fn a_searcher_lists_open_district_and_assigned_files_with_the_purposes_that_fit() {
        let policy = Policy::default();
        let now = Utc::now();
        let eval = policy.evaluate_open_files(&subject(&[Role::Searcher]), "r1", now);
        assert_eq!(eval.decision.action, DecisionAction::ListFiles);
        let grant = eval.peek().clone().unwrap();
        let mut closed = incident("F-CLOSED", "vehicle_theft", "Waikato", &[]);
        closed.closed_at = Some(now - Duration::hours(1));
        let files = policy.open_files(
            &grant,
            vec![
                incident("F-THEFT", "vehicle_theft", "waikato", &[]),
                incident("F-MISSING", "missing_person", "Waikato", &[]),
                incident("F-AKL", "homicide", "Auckland City", &["S1"]),
                incident("F-OTHER", "homicide", "Auckland City", &["S2"]),
                incident("F-ODD", "lost_property", "Waikato", &[]),
                closed,
            ],
            now,
        );
        let listed: Vec<(&str, Vec<&str>)> = files
            .iter()
            .map(|f| {
                (
                    f.file_number.as_str(),
                    f.purposes.iter().map(String::as_str).collect(),
                )
            })
            .collect();
        assert_eq!(
            listed,
            vec![
                ("F-AKL", vec!["serious_crime"]),
                ("F-MISSING", vec!["missing_person", "threat_to_life"]),
                ("F-THEFT", vec!["stolen_vehicle"]),
            ]
        );
        assert!(files[0].assigned_to_you && !files[1].assigned_to_you);
    }

    #[test]
    fn only_those_who_state_purposes_list_files() {
        let policy = Policy::default();
        let eval = policy.evaluate_open_files(&subject(&[Role::Auditor]), "r2", Utc::now());
        assert_eq!(
            eval.peek().as_ref().unwrap_err().kind(),
            Some(K::MissingPermission)
        );
        assert_eq!(eval.decision.outcome, DecisionOutcome::Refused);
        let mut gone = subject(&[Role::Tracker]);
        gone.active = false;
        let eval = policy.evaluate_open_files(&gone, "r3", Utc::now());
        assert_eq!(eval.peek().as_ref().unwrap_err().kind(), Some(K::Inactive));
        assert!(policy
            .evaluate_open_files(&subject(&[Role::Tracker]), "r4", Utc::now())
            .peek()
            .is_ok());
    }
}

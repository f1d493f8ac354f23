//! Who sees what of the platform's own oversight, and who may decide what, as pure functions
//! the application layer calls: separation of duties at decision time (nobody decides a
//! matter that is their own), the districts a usage report covers, the integrity unit's review
//! cases, the alerts a user receives, and the network sharing agreements.
//!
//! Separation of duties has an account-time half — role combinations one account may not hold
//! ([`crate::permissions::check_role_combination`]) — and a decision-time half, here: whoever
//! asked for something, or whom it is about, never decides it. [`separation_of_duties`] is the
//! one check, called wherever a decision could fall to its own subject: approving or refusing
//! an authorisation (and so the approval queue), reviewing an integrity case, changing an
//! account.

use crate::decision::{Decision, DecisionAction, DecisionOutcome, Evaluation};
use crate::error::{PolicyError as E, RefusalKind as K, Result};
use crate::permissions::{self, Permission};
use crate::{Policy, Subject};
use anpr_domain::{AlertAudience, NetworkId, UserId};
use chrono::{DateTime, Utc};

/// Whom a matter concerns: the member of staff who asked for it, or whom it is about. Either
/// identity matching the actor's makes it the actor's own.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Concerned<'a> {
    pub user_id: Option<UserId>,
    pub staff_id: Option<&'a str>,
}

impl<'a> Concerned<'a> {
    /// An account, known by both its user id and its staff id.
    pub fn member(user_id: UserId, staff_id: &'a str) -> Self {
        Concerned {
            user_id: Some(user_id),
            staff_id: Some(staff_id),
        }
    }

    /// A member of staff known by their staff id only (an integrity case, an account by
    /// name).
    pub fn staff(staff_id: &'a str) -> Self {
        Concerned {
            user_id: None,
            staff_id: Some(staff_id),
        }
    }
}

/// What the actor would do about the matter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Duty<'a> {
    /// Approve or refuse (`verb`) a request of `district`.
    Decide { verb: &'a str, district: &'a str },
    /// Review an integrity case (see it in the review queue, assign, ask, close).
    ReviewCase,
    /// Change an account (roles, enabled).
    ChangeAccount,
}

/// Whether the matter concerning `c` is `actor`'s own.
pub fn is_own(actor: &Subject, c: Concerned<'_>) -> bool {
    c.user_id == Some(actor.user_id) || c.staff_id.is_some_and(|s| s.trim() == actor.staff_id)
}

/// Separation of duties at decision time: refuses (`conflict_of_duty`) when the matter is the
/// actor's own — their own request, a case about them, their own account.
pub fn separation_of_duties(actor: &Subject, duty: Duty<'_>, c: Concerned<'_>) -> Result<()> {
    if !is_own(actor, c) {
        return Ok(());
    }
    Err(E::refused(
        K::ConflictOfDuty,
        match duty {
            Duty::Decide { verb, district } => format!(
                "you cannot {verb} your own request: another supervisor of {district} district \
                 must decide it"
            ),
            Duty::ReviewCase => "you cannot review a case about your own conduct: another \
                                 reviewer must take it"
                .to_string(),
            Duty::ChangeAccount => {
                "you cannot change your own account; ask another administrator".to_string()
            }
        },
    ))
}

/// What a usage report may cover.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReportScope {
    /// Every district (overseers and administrators).
    National,
    /// Only the use recorded in these districts (a supervisor's own).
    Districts(Vec<String>),
}

impl Policy {
    /// What a usage report (aggregate counts of use) may cover for `s`: overseers (who see
    /// every district's activity) and administrators the country; a supervisor their own
    /// district, whatever the grouping — by month, purpose or network the counts are still
    /// their district's only. No data about a person is in it, so no decision is recorded; the
    /// request itself is a ledger entry.
    pub fn usage_report_scope(&self, s: &Subject) -> Result<ReportScope> {
        self.check_active(s)?;
        permissions::require(&s.roles, Permission::ViewReports)?;
        if s.has(Permission::ViewAllActivity) || s.has(Permission::Administer) {
            return Ok(ReportScope::National);
        }
        if s.has(Permission::ViewDistrictActivity) {
            return Ok(ReportScope::Districts(vec![s.district.clone()]));
        }
        // A role given reports but neither: fail closed.
        permissions::require(&s.roles, Permission::ViewAllActivity)?;
        Ok(ReportScope::National)
    }

    /// Whether `s` may list the network sharing agreements: overseers and administrators.
    pub fn may_view_agreements(&self, s: &Subject) -> Result<()> {
        self.check_active(s)?;
        if s.has(Permission::ViewAllActivity) {
            return Ok(());
        }
        permissions::require(&s.roles, Permission::Administer)
    }
}

/// An integrity review case as the policy sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CaseFacts<'a> {
    /// The member of staff whose conduct it is about.
    pub staff_id: &'a str,
    /// Their district.
    pub district: Option<&'a str>,
    /// A routine sample (the supervisors' queue) rather than a suspicion (the integrity unit's).
    pub routine_sample: bool,
    /// The member of staff has been asked to explain.
    pub explanation_requested: bool,
}

/// Which side of the integrity workflow a request is on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaseView {
    /// The review queue and its steps (integrity unit; supervisors for routine samples).
    Review,
    /// A member of staff's own cases ("My cases").
    Own,
}

/// Which integrity cases a user sees.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CaseScope {
    viewer: Subject,
    view: CaseView,
    /// The integrity unit: every case (but one about themselves).
    pub integrity_unit: bool,
    /// A supervisor: the routine samples of this district (but one about themselves).
    pub sample_district: Option<String>,
}

impl CaseScope {
    /// The review scope of `s`, undecided: used for whoever a case is assigned to.
    pub fn reviewer(s: &Subject) -> Result<CaseScope> {
        if !s.active {
            return Err(E::refused(K::Inactive, "this account is disabled"));
        }
        let integrity_unit = s.has(Permission::ReviewIntegrity);
        // Supervisors review the routine samples of their district.
        let sample_district =
            (!integrity_unit && s.has(Permission::ApproveRequests)).then(|| s.district.clone());
        if !integrity_unit && sample_district.is_none() {
            permissions::require(&s.roles, Permission::ReviewIntegrity)?;
        }
        Ok(CaseScope {
            viewer: s.clone(),
            view: CaseView::Review,
            integrity_unit,
            sample_district,
        })
    }

    /// A member of staff's own cases, once an explanation has been asked for (an open
    /// investigation is not disclosed to its subject before that).
    pub fn own(s: &Subject) -> Result<CaseScope> {
        if !s.active {
            return Err(E::refused(K::Inactive, "this account is disabled"));
        }
        Ok(CaseScope {
            viewer: s.clone(),
            view: CaseView::Own,
            integrity_unit: false,
            sample_district: None,
        })
    }

    pub fn view(&self) -> CaseView {
        self.view
    }

    /// Whether the case is visible in this scope.
    pub fn sees(&self, c: &CaseFacts<'_>) -> bool {
        let own = is_own(&self.viewer, Concerned::staff(c.staff_id));
        match self.view {
            CaseView::Own => own && c.explanation_requested,
            CaseView::Review => {
                separation_of_duties(&self.viewer, Duty::ReviewCase, Concerned::staff(c.staff_id))
                    .is_ok()
                    && (self.integrity_unit
                        || (c.routine_sample
                            && matches!(
                                (c.district, &self.sample_district),
                                (Some(d), Some(mine)) if d.eq_ignore_ascii_case(mine)
                            )))
            }
        }
    }

    fn describe(&self) -> String {
        match self.view {
            CaseView::Own => "own cases once an explanation is asked for".to_string(),
            CaseView::Review if self.integrity_unit => {
                "integrity unit: every case but one's own".to_string()
            }
            CaseView::Review => format!(
                "routine samples of {} district",
                self.sample_district.as_deref().unwrap_or_default()
            ),
        }
    }
}

impl Policy {
    /// Decides which integrity cases `s` sees on `view`'s side of the workflow; `target` names
    /// the case when the request is about one. The decision is recorded: a case discloses a
    /// member of staff's conduct.
    pub fn evaluate_case_access(
        &self,
        s: &Subject,
        view: CaseView,
        target: Option<i64>,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Evaluation<CaseScope> {
        let mut d = Decision::new(
            &s.actor(),
            DecisionAction::ViewIntegrityCases,
            request_id,
            now,
        );
        d.target = target.map(|id| format!("case {id}"));
        let outcome = match view {
            CaseView::Review => CaseScope::reviewer(s),
            CaseView::Own => CaseScope::own(s),
        };
        if let Ok(scope) = &outcome {
            d.outcome = DecisionOutcome::Allowed;
            d.basis = Some(scope.describe());
        }
        Evaluation::new(d, outcome)
    }

    /// Decides which alerts `s` receives (the alert list and stream): everyone the alerts of
    /// their own tracking requests; a supervisor (who may approve) those of the districts they
    /// see; a camera network's own staff (`network_operator`, whose account names
    /// `network_id`) that network's hot-list alerts. Nobody else — not even overseers, who see
    /// the authorisations but are not told where a car is. Police staff who may see no
    /// authorisation at all (an administrator, a privacy officer) are refused.
    pub fn evaluate_alert_audience(
        &self,
        s: &Subject,
        network_id: Option<NetworkId>,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Evaluation<AlertAudience> {
        let mut d = Decision::new(&s.actor(), DecisionAction::ReceiveAlerts, request_id, now);
        let outcome = self.alert_audience(s, network_id);
        if let Ok(a) = &outcome {
            d.outcome = DecisionOutcome::Allowed;
            d.basis = Some(match (a.hot_list_network, a.districts.is_empty()) {
                (Some(n), _) => format!("hot-list alerts of network {n}"),
                (None, true) => "alerts of own tracking requests".to_string(),
                (None, false) => format!(
                    "alerts of own tracking requests and of {} district",
                    a.districts.join(", ")
                ),
            });
        }
        Evaluation::new(d, outcome)
    }

    fn alert_audience(&self, s: &Subject, network_id: Option<NetworkId>) -> Result<AlertAudience> {
        if s.has(Permission::ReceiveHotListAlerts) {
            self.check_active(s)?;
            return Ok(AlertAudience {
                user_id: s.user_id,
                districts: Vec::new(),
                hot_list_network: network_id,
            });
        }
        let visibility = self.visibility(s)?;
        Ok(AlertAudience {
            user_id: s.user_id,
            districts: if s.has(Permission::ApproveRequests) {
                visibility.districts
            } else {
                Vec::new()
            },
            hot_list_network: None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::Role;

    fn subject(id: UserId, staff: &str, district: &str, roles: &[Role]) -> Subject {
        Subject {
            user_id: id,
            staff_id: staff.into(),
            district: district.into(),
            roles: roles.to_vec(),
            active: true,
        }
    }

    fn case<'a>(staff: &'a str, district: &'a str, sample: bool, asked: bool) -> CaseFacts<'a> {
        CaseFacts {
            staff_id: staff,
            district: Some(district),
            routine_sample: sample,
            explanation_requested: asked,
        }
    }

    #[test]
    fn nobody_decides_their_own_matter() {
        let s = subject(7, "S7", "Waikato", &[Role::Supervisor]);
        for c in [
            Concerned::member(7, "other"),
            Concerned::member(8, "S7"),
            Concerned::staff("S7"),
        ] {
            assert!(is_own(&s, c), "{c:?}");
            for duty in [
                Duty::Decide {
                    verb: "approve",
                    district: "Waikato",
                },
                Duty::ReviewCase,
                Duty::ChangeAccount,
            ] {
                let e = separation_of_duties(&s, duty, c).unwrap_err();
                assert_eq!(e.kind(), Some(K::ConflictOfDuty));
            }
        }
        assert!(separation_of_duties(&s, Duty::ReviewCase, Concerned::member(8, "S8")).is_ok());
        let e = separation_of_duties(
            &s,
            Duty::Decide {
                verb: "approve",
                district: "Waikato",
            },
            Concerned::staff("S7"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("your own request"), "{e}");
    }

    #[test]
    fn usage_reports_cover_the_supervisors_district_and_the_country_for_overseers() {
        let p = Policy::default();
        for r in [Role::Auditor, Role::Integrity, Role::Admin] {
            assert_eq!(
                p.usage_report_scope(&subject(1, "X", "Waikato", &[r]))
                    .unwrap(),
                ReportScope::National,
                "{r:?}"
            );
        }
        for roles in [
            &[Role::Supervisor][..],
            &[Role::Supervisor, Role::Searcher, Role::Tracker],
        ] {
            assert_eq!(
                p.usage_report_scope(&subject(1, "X", "Waikato", roles))
                    .unwrap(),
                ReportScope::Districts(vec!["Waikato".into()])
            );
        }
        for r in [Role::Searcher, Role::PrivacyOfficer, Role::NetworkOperator] {
            let e = p
                .usage_report_scope(&subject(1, "X", "Waikato", &[r]))
                .unwrap_err();
            assert_eq!(e.kind(), Some(K::MissingPermission));
        }
        let mut off = subject(1, "X", "Waikato", &[Role::Auditor]);
        off.active = false;
        assert_eq!(
            p.usage_report_scope(&off).unwrap_err().kind(),
            Some(K::Inactive)
        );
    }

    #[test]
    fn integrity_cases_go_to_the_unit_samples_to_the_district_and_never_to_their_subject() {
        let unit = CaseScope::reviewer(&subject(1, "I1", "National", &[Role::Integrity])).unwrap();
        assert!(unit.sees(&case("S1", "Waikato", false, false)));
        assert!(unit.sees(&case("S1", "Canterbury", true, false)));
        assert!(!unit.sees(&case("I1", "National", false, false)), "own");

        let sup = CaseScope::reviewer(&subject(2, "SUP", "Waikato", &[Role::Supervisor])).unwrap();
        assert!(sup.sees(&case("S1", "Waikato", true, false)));
        assert!(sup.sees(&case("S1", "waikato", true, false)));
        assert!(!sup.sees(&case("S1", "Waikato", false, false)), "suspicion");
        assert!(
            !sup.sees(&case("S1", "Canterbury", true, false)),
            "elsewhere"
        );
        assert!(!sup.sees(&case("SUP", "Waikato", true, false)), "own");

        let e = CaseScope::reviewer(&subject(3, "S3", "Waikato", &[Role::Searcher])).unwrap_err();
        assert_eq!(e.kind(), Some(K::MissingPermission));
        assert!(
            e.to_string().contains("work the integrity review cases"),
            "{e}"
        );

        let mine = CaseScope::own(&subject(3, "S3", "Waikato", &[Role::Searcher])).unwrap();
        assert!(mine.sees(&case("S3", "Waikato", false, true)));
        assert!(
            !mine.sees(&case("S3", "Waikato", false, false)),
            "not asked yet"
        );
        assert!(
            !mine.sees(&case("S1", "Waikato", true, true)),
            "someone else's"
        );

        let p = Policy::default();
        let e = p.evaluate_case_access(
            &subject(3, "S3", "Waikato", &[Role::Searcher]),
            CaseView::Review,
            Some(9),
            "r",
            Utc::now(),
        );
        assert_eq!(e.decision.action, DecisionAction::ViewIntegrityCases);
        assert_eq!(e.decision.outcome, DecisionOutcome::Refused);
        assert_eq!(e.decision.target.as_deref(), Some("case 9"));
    }

    #[test]
    fn alerts_go_to_requesters_their_supervisors_and_network_staff() {
        let p = Policy::default();
        let now = Utc::now();
        let aud = |roles: &[Role], network: Option<NetworkId>| {
            p.evaluate_alert_audience(&subject(5, "X", "Waikato", roles), network, "r", now)
                .peek()
                .clone()
        };
        let sup = aud(&[Role::Supervisor], None).unwrap();
        assert_eq!(sup.districts, vec!["Waikato".to_string()]);
        assert_eq!(sup.user_id, 5);
        let tracker = aud(&[Role::Searcher, Role::Tracker], None).unwrap();
        assert!(tracker.districts.is_empty() && tracker.hot_list_network.is_none());
        let auditor = aud(&[Role::Auditor], None).unwrap();
        assert!(
            auditor.districts.is_empty(),
            "overseers are not told where cars are"
        );
        let op = aud(&[Role::NetworkOperator], Some(3)).unwrap();
        assert_eq!(op.hot_list_network, Some(3));
        assert!(op.districts.is_empty());
        for r in [Role::Admin, Role::PrivacyOfficer] {
            assert_eq!(
                aud(&[r], None).unwrap_err().kind(),
                Some(K::MissingPermission)
            );
        }
    }

    #[test]
    fn agreements_are_for_overseers_and_administrators() {
        let p = Policy::default();
        for r in [Role::Auditor, Role::Integrity, Role::Admin] {
            p.may_view_agreements(&subject(1, "X", "W", &[r])).unwrap();
        }
        for r in [Role::Searcher, Role::Supervisor, Role::PrivacyOfficer] {
            let e = p
                .may_view_agreements(&subject(1, "X", "W", &[r]))
                .unwrap_err();
            assert!(e.to_string().contains("administer"), "{e}");
        }
    }
}

//! Who sees what of the platform's own oversight, and who may decide what, as pure functions
//! the application layer calls: separation of duties at decision time (nobody decides a
//! matter that is their own) and the districts a usage report covers.
//!
//! Separation of duties has an account-time half — role combinations one account may not hold
//! ([`crate::permissions::check_role_combination`]) — and a decision-time half, here: whoever
//! asked for something, or whom it is about, never decides it. [`separation_of_duties`] is the
//! one check, called wherever a decision could fall to its own subject: approving or refusing
//! an authorisation (and so the approval queue), changing an account.

use crate::error::{PolicyError as E, RefusalKind as K, Result};
use crate::permissions::{self, Permission};
use crate::{Policy, Subject};
use anpr_domain::UserId;

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
}

//! Who sees what of the platform's own oversight, as pure functions the application layer
//! calls: the districts a usage report covers.

use crate::error::Result;
use crate::permissions::{self, Permission};
use crate::{Policy, Subject};

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
    use crate::error::RefusalKind as K;
    use anpr_domain::{Role, UserId};

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

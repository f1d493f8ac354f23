//! Tiers: which roles grant which permissions, and which role combinations are forbidden.
//!
//! Separation of duties has two parts. At decision time nobody decides a matter that is their
//! own — an approver is never the requester, a reviewer never the subject of the case, an
//! administrator never changes their own account — whatever roles they hold (one function,
//! [`crate::oversight::separation_of_duties`]). At account time some combinations are
//! refused outright, because together they would let one person create the basis for their own
//! access or oversee themselves:
//!
//! * `camera` is for devices only and combines with nothing;
//! * `network_operator` is a camera network's own staff, not police: it combines with nothing;
//! * `network_auditor` is a camera network's own overseer (the data owner's side, who sets
//!   the network's sharing controls): it combines with nothing either;
//! * `admin` (who loads the registers and manages users) cannot also hold `searcher`, `tracker`
//!   or `supervisor`: whoever can write the stolen vehicle register must not be able to track on
//!   it (the audit found false stolen reports used exactly so);
//! * `integrity` and `auditor` (the overseers) cannot hold any operational role (`searcher`,
//!   `tracker`, `supervisor`, `admin`); they may hold each other.
//! * `privacy_officer` (who answers subject access requests, and so sees every read of a plate
//!   outside the search policy) cannot hold an operational role (`searcher`, `tracker`,
//!   `supervisor`): what a subject access request reveals must not become a search.
//!
//! `supervisor` with `searcher` or `tracker` is allowed: such a person's own requests are
//! approved by another supervisor.
//!
//! These hold per account. Because one person may set up several accounts (an admin makes
//! users), [`crate::tracking`] also looks at who loaded the register rows a tracking request
//! rests on and who gave the requester their roles (`AccessFacts::loads`, `role_changes`).

use crate::error::{PolicyError, RefusalKind, Result};
use anpr_domain::Role;
use serde::{Deserialize, Serialize};

/// What an action needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// Historical search of plate reads.
    SearchHistory,
    /// Viewing a read or its images.
    ViewReads,
    /// Taking data out of the platform.
    Export,
    /// Asking for older data than the routine look-back.
    RequestLookback,
    /// Asking for real-time tracking of a plate.
    RequestTracking,
    /// Approving or refusing tracking and look-back requests of one's district.
    ApproveRequests,
    /// Seeing the authorisations of one's district.
    ViewDistrictActivity,
    /// Seeing every authorisation and decision (overseers).
    ViewAllActivity,
    /// Placing reads on legal hold.
    PlaceLegalHold,
    /// Reading the Prometheus metrics.
    ReadMetrics,
    /// Reading the audit ledger (tree heads, proofs, entries).
    ReadLedger,
    /// Users, networks, sites, cameras and sharing agreements.
    Administer,
    /// Loading the registers.
    AdministerRegisters,
    /// Sending plate reads.
    IngestReads,
    /// Receiving one's own network's "vehicle of interest" hot-list alerts (no personal data).
    ReceiveHotListAlerts,
    /// Usage reports and the transparency report (aggregate counts, no personal data).
    ViewReports,
    /// Answering a subject access request: every read of a plate still held, and the queries
    /// that touched it.
    SubjectAccess,
    /// Working the integrity unit's review cases and running the integrity rules.
    ReviewIntegrity,
    /// Setting one's own network's sharing controls (suspend, purposes, maximum look-back) and
    /// reading the notices of watches that cover its cameras: the data owner's side.
    ControlNetworkSharing,
}

impl Permission {
    pub const ALL: [Permission; 19] = [
        Permission::SearchHistory,
        Permission::ViewReads,
        Permission::Export,
        Permission::RequestLookback,
        Permission::RequestTracking,
        Permission::ApproveRequests,
        Permission::ViewDistrictActivity,
        Permission::ViewAllActivity,
        Permission::PlaceLegalHold,
        Permission::ReadMetrics,
        Permission::ReadLedger,
        Permission::Administer,
        Permission::AdministerRegisters,
        Permission::IngestReads,
        Permission::ReceiveHotListAlerts,
        Permission::ViewReports,
        Permission::SubjectAccess,
        Permission::ReviewIntegrity,
        Permission::ControlNetworkSharing,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::SearchHistory => "search_history",
            Permission::ViewReads => "view_reads",
            Permission::Export => "export",
            Permission::RequestLookback => "request_lookback",
            Permission::RequestTracking => "request_tracking",
            Permission::ApproveRequests => "approve_requests",
            Permission::ViewDistrictActivity => "view_district_activity",
            Permission::ViewAllActivity => "view_all_activity",
            Permission::PlaceLegalHold => "place_legal_hold",
            Permission::ReadMetrics => "read_metrics",
            Permission::ReadLedger => "read_ledger",
            Permission::Administer => "administer",
            Permission::AdministerRegisters => "administer_registers",
            Permission::IngestReads => "ingest_reads",
            Permission::ReceiveHotListAlerts => "receive_hot_list_alerts",
            Permission::ViewReports => "view_reports",
            Permission::SubjectAccess => "subject_access",
            Permission::ReviewIntegrity => "review_integrity",
            Permission::ControlNetworkSharing => "control_network_sharing",
        }
    }

    /// What the permission allows, in words for the person refused it.
    pub fn describe(self) -> &'static str {
        match self {
            Permission::SearchHistory => "search plate reads",
            Permission::ViewReads => "open reads and their images",
            Permission::Export => "export data",
            Permission::RequestLookback => "ask to search further back",
            Permission::RequestTracking => "request real-time tracking",
            Permission::ApproveRequests => "approve or refuse requests",
            Permission::ViewDistrictActivity => "see the district's authorisations",
            Permission::ViewAllActivity => "see every authorisation and decision",
            Permission::PlaceLegalHold => "place reads on legal hold",
            Permission::ReadMetrics => "read the server's metrics",
            Permission::ReadLedger => "read the audit ledger",
            Permission::Administer => "administer users and the camera catalog",
            Permission::AdministerRegisters => "load the registers",
            Permission::IngestReads => "send plate reads",
            Permission::ReceiveHotListAlerts => "receive the network's hot-list alerts",
            Permission::ViewReports => "see the usage reports",
            Permission::SubjectAccess => "answer subject access requests",
            Permission::ReviewIntegrity => "work the integrity review cases",
            Permission::ControlNetworkSharing => {
                "set a camera network's sharing controls and read its watch notices"
            }
        }
    }

    /// The roles that grant this permission.
    pub fn roles(self) -> &'static [Role] {
        use Role::*;
        match self {
            Permission::SearchHistory
            | Permission::ViewReads
            | Permission::Export
            | Permission::RequestLookback => &[Searcher],
            Permission::RequestTracking => &[Tracker],
            Permission::ApproveRequests | Permission::ViewDistrictActivity => &[Supervisor],
            Permission::ViewAllActivity | Permission::ReadLedger => &[Integrity, Auditor],
            Permission::PlaceLegalHold => &[Supervisor, Admin],
            Permission::ReadMetrics => &[Admin, Auditor],
            Permission::Administer | Permission::AdministerRegisters => &[Admin],
            Permission::IngestReads => &[Camera],
            Permission::ReceiveHotListAlerts => &[NetworkOperator],
            Permission::ViewReports => &[Auditor, Supervisor, Integrity, Admin],
            Permission::SubjectAccess => &[PrivacyOfficer, Admin],
            Permission::ReviewIntegrity => &[Integrity],
            Permission::ControlNetworkSharing => &[NetworkAuditor],
        }
    }
}

/// Whether `roles` grant `permission`.
pub fn grants(roles: &[Role], permission: Permission) -> bool {
    permission.roles().iter().any(|r| roles.contains(r))
}

/// Refuses unless `roles` grant `permission`, naming the permission and the roles that grant it.
pub fn require(roles: &[Role], permission: Permission) -> Result<()> {
    require_any(roles, &[permission])
}

/// Refuses unless `roles` grant one of `permissions`, saying in words what they allow and which
/// roles grant them.
pub fn require_any(roles: &[Role], permissions: &[Permission]) -> Result<()> {
    if permissions.iter().any(|p| grants(roles, *p)) {
        return Ok(());
    }
    let what: Vec<&str> = permissions.iter().map(|p| p.describe()).collect();
    let mut granting: Vec<&str> = Vec::new();
    for r in permissions.iter().flat_map(|p| p.roles()) {
        if !granting.contains(&r.as_str()) {
            granting.push(r.as_str());
        }
    }
    Err(PolicyError::refused(
        RefusalKind::MissingPermission,
        format!(
            "your roles do not allow you to {}: that needs the role {}; ask an administrator \
             if your work needs it",
            what.join(" or "),
            granting.join(" or ")
        ),
    ))
}

/// Pairs of roles one person may not hold together (see the module documentation).
pub const FORBIDDEN_PAIRS: &[(Role, Role, &str)] = &[
    (
        Role::Admin,
        Role::Searcher,
        "whoever loads the registers must not search on them",
    ),
    (
        Role::Admin,
        Role::Tracker,
        "whoever loads the stolen vehicle register must not track on it",
    ),
    (
        Role::Admin,
        Role::Supervisor,
        "whoever manages users and registers must not approve on them",
    ),
    (
        Role::Integrity,
        Role::Searcher,
        "overseers must not use what they oversee",
    ),
    (
        Role::Integrity,
        Role::Tracker,
        "overseers must not use what they oversee",
    ),
    (
        Role::Integrity,
        Role::Supervisor,
        "overseers must not approve what they oversee",
    ),
    (
        Role::Integrity,
        Role::Admin,
        "overseers must not administer what they oversee",
    ),
    (
        Role::Auditor,
        Role::Searcher,
        "overseers must not use what they oversee",
    ),
    (
        Role::Auditor,
        Role::Tracker,
        "overseers must not use what they oversee",
    ),
    (
        Role::Auditor,
        Role::Supervisor,
        "overseers must not approve what they oversee",
    ),
    (
        Role::Auditor,
        Role::Admin,
        "overseers must not administer what they oversee",
    ),
    (
        Role::PrivacyOfficer,
        Role::Searcher,
        "whoever answers subject access requests must not search on what they reveal",
    ),
    (
        Role::PrivacyOfficer,
        Role::Tracker,
        "whoever answers subject access requests must not track on what they reveal",
    ),
    (
        Role::PrivacyOfficer,
        Role::Supervisor,
        "whoever answers subject access requests must not approve searches or tracking",
    ),
];

/// Refuses a role set that breaks separation of duties.
pub fn check_role_combination(roles: &[Role]) -> Result<()> {
    if roles.contains(&Role::NetworkAuditor) && roles.len() > 1 {
        return Err(PolicyError::refused_field(
            RefusalKind::ForbiddenRoleCombination,
            "roles",
            "the network auditor role is for a camera network's own overseer and combines with \
             no police or operational role: choose it alone",
        ));
    }
    if roles.contains(&Role::Camera) {
        return Err(PolicyError::refused_field(
            RefusalKind::ForbiddenRoleCombination,
            "roles",
            "the camera role is for camera devices, not staff: choose other roles",
        ));
    }
    if roles.contains(&Role::NetworkOperator) && roles.len() > 1 {
        return Err(PolicyError::refused_field(
            RefusalKind::ForbiddenRoleCombination,
            "roles",
            "the network operator role is for a camera network's own staff and combines with no \
             police role: choose it alone",
        ));
    }
    for (a, b, why) in FORBIDDEN_PAIRS {
        if roles.contains(a) && roles.contains(b) {
            return Err(PolicyError::refused_field(
                RefusalKind::ForbiddenRoleCombination,
                "roles",
                format!(
                    "roles {} and {} cannot be held together: {why}; choose one of them",
                    a.as_str(),
                    b.as_str()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_permission_is_granted_by_some_role() {
        for p in Permission::ALL {
            assert!(!p.roles().is_empty(), "{p:?}");
        }
    }

    #[test]
    fn integrity_and_admin_cannot_search() {
        for r in [
            Role::Integrity,
            Role::Admin,
            Role::Auditor,
            Role::Supervisor,
        ] {
            assert!(require(&[r], Permission::SearchHistory).is_err(), "{r:?}");
        }
        let e = require(&[Role::Admin], Permission::SearchHistory).unwrap_err();
        assert!(e.to_string().contains("search plate reads"), "{e}");
    }

    #[test]
    fn no_allowed_combination_both_loads_registers_and_tracks() {
        // Every subset of roles: whatever passes the combination check cannot both administer
        // registers and request tracking, nor oversee and operate.
        let roles = Role::ALL;
        for mask in 0u32..(1 << roles.len()) {
            let set: Vec<Role> = (0..roles.len())
                .filter(|i| mask & (1 << i) != 0)
                .map(|i| roles[i])
                .collect();
            if check_role_combination(&set).is_err() {
                continue;
            }
            let admin = grants(&set, Permission::AdministerRegisters);
            let operate = grants(&set, Permission::RequestTracking)
                || grants(&set, Permission::SearchHistory)
                || grants(&set, Permission::ApproveRequests);
            let oversee = grants(&set, Permission::ViewAllActivity);
            assert!(!(admin && operate), "{set:?}");
            assert!(!(oversee && (operate || admin)), "{set:?}");
            let hot_list = grants(&set, Permission::ReceiveHotListAlerts);
            assert!(!(hot_list && (operate || admin || oversee)), "{set:?}");
            if set.contains(&Role::NetworkAuditor) {
                assert_eq!(set, vec![Role::NetworkAuditor]);
            }
        }
    }

    #[test]
    fn common_combinations_are_allowed() {
        check_role_combination(&[Role::Searcher, Role::Tracker]).unwrap();
        check_role_combination(&[Role::Searcher, Role::Supervisor]).unwrap();
        check_role_combination(&[Role::Integrity, Role::Auditor]).unwrap();
        assert!(check_role_combination(&[Role::Admin, Role::Tracker]).is_err());
        assert!(check_role_combination(&[Role::Camera]).is_err());
        check_role_combination(&[Role::NetworkOperator]).unwrap();
        assert!(check_role_combination(&[Role::NetworkOperator, Role::Searcher]).is_err());
        check_role_combination(&[Role::PrivacyOfficer, Role::Admin]).unwrap();
        assert!(check_role_combination(&[Role::PrivacyOfficer, Role::Searcher]).is_err());
        check_role_combination(&[Role::NetworkAuditor]).unwrap();
        for r in Role::ALL.into_iter().filter(|r| *r != Role::NetworkAuditor) {
            let e = check_role_combination(&[Role::NetworkAuditor, r]).unwrap_err();
            assert!(e.to_string().contains("network auditor"), "{e}");
        }
    }

    #[test]
    fn reports_and_subject_access_go_to_their_roles() {
        for r in [
            Role::Auditor,
            Role::Supervisor,
            Role::Integrity,
            Role::Admin,
        ] {
            require(&[r], Permission::ViewReports).unwrap();
        }
        for r in [Role::Searcher, Role::Tracker, Role::PrivacyOfficer] {
            assert!(require(&[r], Permission::ViewReports).is_err(), "{r:?}");
        }
        require(&[Role::PrivacyOfficer], Permission::SubjectAccess).unwrap();
        require(&[Role::Admin], Permission::SubjectAccess).unwrap();
        for r in [
            Role::Searcher,
            Role::Auditor,
            Role::Integrity,
            Role::Supervisor,
        ] {
            assert!(require(&[r], Permission::SubjectAccess).is_err(), "{r:?}");
        }
    }
}

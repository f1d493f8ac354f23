//! The access-control policy of the accountable ANPR platform.
//!
//! Every data access, tracking request and approval is decided here, as a pure function of
//! the request, the register facts ([`registers::AccessFacts`], gathered by a handful of point
//! lookups through [`registers::RegisterView`]) and the time. No HTTP and no SQL: the server
//! gathers the facts, calls [`Policy`], hands the [`Decision`] to the one [`DecisionRecorder`]
//! through [`enforce`] (which records before it returns anything), and applies the grant.
//!
//! The rules, in the order they are checked for a data access ([`access`]):
//! 1. the account is active and its roles grant the action's [`Permission`];
//! 2. the purpose is complete, its code is configured, and the rate limits admit it;
//! 3. a training plate (configured prefix or list) gets synthetic sightings and nothing else:
//!    it needs no file number, and its decision is marked `training` with no file, so that
//!    nothing that counts files or use ever counts it;
//! 4. the user is in the staff register (else the own-vehicle block could not be applied);
//! 5. the file number is in the incident register, open, in the user's district or assigned to
//!    them, and of an incident type the purpose fits;
//! 6. at least one network's sharing agreement permits the user's district; the search is
//!    narrowed to those networks;
//! 7. no enumeration: a read or image view (by id) is allowed only of a read shown to the same
//!    user — by a search page or an alert delivered to them ([`registers::Disclosure`]) — under
//!    the same purpose code and file number within `disclosure_window_hours`. Checked before
//!    anything about the read, so an unknown id, another network's read, a near-live or
//!    connected vehicle's read and a read never shown all get one refusal
//!    (`read_not_available`) that tells nothing about the read;
//! 8. own-vehicle block: a plate registered to the user, anyone at their home address or a
//!    declared associate is refused (patterns exclude such plates), telling them to ask another
//!    officer (for a read, after the time rules below, so that a refusal naming the vehicle
//!    never tells that it was just seen);
//! 9. tiered look-back: routine searches reach back `routine_lookback_days`; older needs an
//!    approved look-back authorisation for the plate, used under its own file and purpose;
//! 10. no tracking by the back door: results newer than `near_live_minutes` are withheld
//!     unless the user holds a tracking authorisation for the plate and makes the request under
//!     that authorisation's own file and purpose.
//!
//! A legal hold is decided like a use of the read, with its purpose
//! ([`Policy::evaluate_legal_hold`]); a tracking authorisation's sightings (the car's path) go
//! to its requester and district supervisors under its purpose, and to overseers only as a
//! count unless an integrity case gives them a reason ([`Policy::evaluate_sightings`]).
//!
//! Real-time tracking authorisations (requests, approvals, expiry, stopping) are in
//! [`tracking`]; tiers and account-time separation of duties in [`permissions`]; who sees the
//! platform's own oversight (usage reports, integrity cases, alerts, agreements) and
//! decision-time separation of duties in [`oversight`]; the incident files a user may state,
//! with the purposes that fit each, in [`files`].

pub mod access;
pub mod config;
pub mod decision;
pub mod error;
pub mod files;
pub mod network;
pub mod oversight;
pub mod permissions;
pub mod ratelimit;
pub mod registers;
pub mod tracking;
pub mod training;

pub use access::{
    DataAction, DataGrant, DataRequest, IdentityCheck, LegalHoldRequest, Notice,
    SubjectAccessGrant, SubjectAccessRequest, Target,
};
pub use config::{PolicyConfig, PurposeDef, TrackingBasisKind};
pub use decision::{
    enforce, Decision, DecisionAction, DecisionOutcome, DecisionRecorder, Evaluation,
    MemoryRecorder,
};
pub use error::{PolicyError, RefusalKind, Result};
pub use files::{FilesGrant, OpenFile};
pub use network::{ControlsAction, NetworkControls, Withholding};
pub use permissions::Permission;
pub use registers::{
    AccessFacts, ChangedBy, DisclosedBy, Disclosure, FactsQuery, RecentAccesses, RegisterView,
    ReviewCase, RoleChange, RowLoad, RowRef,
};
pub use tracking::{
    AuthStatus, Authorisation, AuthorisationKind, Basis, SightingsGrant, SightingsRequest,
};

use anpr_domain::{Actor, Role, User, UserId};
use error::PolicyError as E;

/// Who is asking: the signed-in user as the policy sees them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Subject {
    pub user_id: UserId,
    pub staff_id: String,
    pub district: String,
    pub roles: Vec<Role>,
    pub active: bool,
}

impl Subject {
    pub fn from_user(u: &User) -> Self {
        Subject {
            user_id: u.id,
            staff_id: u.staff_id.clone(),
            district: u.district.clone(),
            roles: u.roles.clone(),
            active: u.active,
        }
    }

    pub fn actor(&self) -> Actor {
        Actor::Staff {
            user_id: self.user_id,
            staff_id: self.staff_id.clone(),
            district: self.district.clone(),
            roles: self.roles.clone(),
        }
    }

    pub fn has(&self, p: Permission) -> bool {
        permissions::grants(&self.roles, p)
    }
}

/// The policy: its configuration and the rate limiter (its only state).
pub struct Policy {
    config: PolicyConfig,
    rate: ratelimit::RateLimiter,
}

impl Policy {
    pub fn new(config: PolicyConfig) -> Result<Self> {
        config.validate()?;
        Ok(Policy {
            config,
            rate: Default::default(),
        })
    }

    pub fn config(&self) -> &PolicyConfig {
        &self.config
    }

    /// Where the rate limits' windows for a data access under `purpose` start at `now` (the
    /// per-user window, the purpose's): the caller counts the user's allowed accesses in them
    /// ([`RecentAccesses`]).
    pub fn rate_windows(
        &self,
        purpose: &str,
        now: chrono::DateTime<chrono::Utc>,
    ) -> (chrono::DateTime<chrono::Utc>, chrono::DateTime<chrono::Utc>) {
        ratelimit::windows(&self.config.rate_limits, purpose.trim(), now)
    }

    fn check_active(&self, s: &Subject) -> Result<()> {
        if s.active {
            Ok(())
        } else {
            Err(E::refused(
                RefusalKind::Inactive,
                "this account is disabled",
            ))
        }
    }
}

impl Default for Policy {
    fn default() -> Self {
        Policy::new(PolicyConfig::default()).expect("the default configuration is valid")
    }
}

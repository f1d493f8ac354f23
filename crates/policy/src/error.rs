//! The policy's one error type: a refusal with its reason, or a failure to look up or record.

use serde::{Deserialize, Serialize};
use thiserror::Error;

/// Why a request was refused. Stable codes (`as_str`) reach the client and the decision record;
/// the HTTP layer maps each kind to a status in one place.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RefusalKind {
    /// The account is disabled.
    Inactive,
    /// The user's roles do not grant the permission the action needs.
    MissingPermission,
    /// The purpose is missing or malformed (too short a justification, ...).
    InvalidPurpose,
    /// The purpose code is not in the configured list.
    UnknownPurpose,
    /// The file number is not in the incident register.
    UnknownFileNumber,
    /// The incident file is closed.
    FileClosed,
    /// The incident is in a district the user does not serve and is not assigned to them.
    FileNotYours,
    /// The incident's type does not fit the stated purpose.
    PurposeMismatch,
    /// The user has no entry in the staff register, so the own-vehicle block cannot be applied.
    NotInStaffRegister,
    /// The vehicle is registered to the user, their household or a declared associate.
    OwnVehicle,
    /// No network shares the data with the user's district for this use.
    NoNetworkAgreement,
    /// The time range reaches past the routine look-back and no approval covers it.
    LookbackNeedsApproval,
    /// A single read newer than the near-live window, without a tracking authorisation.
    NearLiveWithheld,
    /// Too many requests in the window.
    RateLimited,
    /// No basis for real-time tracking in the registers (no active stolen report, ...).
    NoTrackingBasis,
    /// One person would request and approve the same thing, or approve for a vehicle connected
    /// to them.
    ConflictOfDuty,
    /// The reviewer is not a supervisor of the request's district.
    WrongDistrict,
    /// The authorisation is not in a state that allows this (already decided, ended, ...).
    InvalidState,
    /// The request itself is malformed (duration too long, missing reason, ...).
    InvalidRequest,
    /// The role combination breaks separation of duties.
    ForbiddenRoleCombination,
    /// A read view (or a legal hold) of a read the user may not reach by id: not shown to them
    /// under this purpose and file within the window, unknown, another network's, near-live
    /// or a connected vehicle's. One code and one message for all, so that the answer tells
    /// nothing about the read.
    ReadNotAvailable,
}

impl RefusalKind {
    /// Every kind, so that what must cover them all (the UI's messages) can be checked.
    pub const ALL: [RefusalKind; 21] = [
        RefusalKind::Inactive,
        RefusalKind::MissingPermission,
        RefusalKind::InvalidPurpose,
        RefusalKind::UnknownPurpose,
        RefusalKind::UnknownFileNumber,
        RefusalKind::FileClosed,
        RefusalKind::FileNotYours,
        RefusalKind::PurposeMismatch,
        RefusalKind::NotInStaffRegister,
        RefusalKind::OwnVehicle,
        RefusalKind::NoNetworkAgreement,
        RefusalKind::LookbackNeedsApproval,
        RefusalKind::NearLiveWithheld,
        RefusalKind::RateLimited,
        RefusalKind::NoTrackingBasis,
        RefusalKind::ConflictOfDuty,
        RefusalKind::WrongDistrict,
        RefusalKind::InvalidState,
        RefusalKind::InvalidRequest,
        RefusalKind::ForbiddenRoleCombination,
        RefusalKind::ReadNotAvailable,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RefusalKind::Inactive => "inactive",
            RefusalKind::MissingPermission => "missing_permission",
            RefusalKind::InvalidPurpose => "invalid_purpose",
            RefusalKind::UnknownPurpose => "unknown_purpose",
            RefusalKind::UnknownFileNumber => "unknown_file_number",
            RefusalKind::FileClosed => "file_closed",
            RefusalKind::FileNotYours => "file_not_yours",
            RefusalKind::PurposeMismatch => "purpose_mismatch",
            RefusalKind::NotInStaffRegister => "not_in_staff_register",
            RefusalKind::OwnVehicle => "own_vehicle",
            RefusalKind::NoNetworkAgreement => "no_network_agreement",
            RefusalKind::LookbackNeedsApproval => "lookback_needs_approval",
            RefusalKind::NearLiveWithheld => "near_live_withheld",
            RefusalKind::RateLimited => "rate_limited",
            RefusalKind::NoTrackingBasis => "no_tracking_basis",
            RefusalKind::ConflictOfDuty => "conflict_of_duty",
            RefusalKind::WrongDistrict => "wrong_district",
            RefusalKind::InvalidState => "invalid_state",
            RefusalKind::InvalidRequest => "invalid_request",
            RefusalKind::ForbiddenRoleCombination => "forbidden_role_combination",
            RefusalKind::ReadNotAvailable => "read_not_available",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum PolicyError {
    /// The policy refused the request. `field` names the request field at fault, when one is.
    #[error("{message}")]
    Refused {
        kind: RefusalKind,
        field: Option<String>,
        message: String,
    },
    /// A register could not be read; the request fails closed.
    #[error("register lookup failed: {0}")]
    Register(String),
    /// The decision could not be recorded; the request fails (nothing is returned unrecorded).
    #[error("decision could not be recorded: {0}")]
    Recording(String),
    /// The policy configuration is inconsistent.
    #[error("policy configuration: {0}")]
    Config(String),
}

impl PolicyError {
    pub fn refused(kind: RefusalKind, message: impl Into<String>) -> Self {
        PolicyError::Refused {
            kind,
            field: None,
            message: message.into(),
        }
    }

    pub fn refused_field(
        kind: RefusalKind,
        field: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        PolicyError::Refused {
            kind,
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// The refusal kind, when this is a refusal.
    pub fn kind(&self) -> Option<RefusalKind> {
        match self {
            PolicyError::Refused { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

pub type Result<T, E = PolicyError> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::RefusalKind;

    #[test]
    fn all_lists_every_kind_once() {
        // A new kind fails to compile here until it is placed: then add it to `ALL`.
        let position = |k: RefusalKind| match k {
            RefusalKind::Inactive => 0,
            RefusalKind::MissingPermission => 1,
            RefusalKind::InvalidPurpose => 2,
            RefusalKind::UnknownPurpose => 3,
            RefusalKind::UnknownFileNumber => 4,
            RefusalKind::FileClosed => 5,
            RefusalKind::FileNotYours => 6,
            RefusalKind::PurposeMismatch => 7,
            RefusalKind::NotInStaffRegister => 8,
            RefusalKind::OwnVehicle => 9,
            RefusalKind::NoNetworkAgreement => 10,
            RefusalKind::LookbackNeedsApproval => 11,
            RefusalKind::NearLiveWithheld => 12,
            RefusalKind::RateLimited => 13,
            RefusalKind::NoTrackingBasis => 14,
            RefusalKind::ConflictOfDuty => 15,
            RefusalKind::WrongDistrict => 16,
            RefusalKind::InvalidState => 17,
            RefusalKind::InvalidRequest => 18,
            RefusalKind::ForbiddenRoleCombination => 19,
            RefusalKind::ReadNotAvailable => 20,
        };
        for (i, k) in RefusalKind::ALL.iter().enumerate() {
            assert_eq!(position(*k), i, "{k:?}");
        }
    }
}

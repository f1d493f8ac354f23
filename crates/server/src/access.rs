//! The one call in the request path where access decisions are made.
//!
//! Every search and image view builds a [`RequestContext`] and passes it here before any data
//! is touched. Today this checks the role and that a purpose was stated; the access-control
//! policy (registers, file numbers, own-vehicle block) and the audit ledger plug in here
//! without the handlers changing.

use crate::auth::StaffAuth;
use crate::error::{ApiError, ApiResult};
use anpr_domain::{Purpose, RequestContext, Role};
use chrono::Utc;

/// Shortest justification accepted: long enough to force a sentence, not a shrug.
pub const MIN_JUSTIFICATION_CHARS: usize = 20;

/// What a request wants to do with plate data.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAction {
    Search,
    ViewRead,
    ViewImage,
}

pub fn validate_purpose(p: &Purpose) -> ApiResult<()> {
    let check = |field: &str, value: &str, min: usize, max: usize| {
        let n = value.trim().chars().count();
        if n < min || n > max {
            Err(ApiError::invalid(
                format!("purpose.{field}"),
                format!("must be {min} to {max} characters"),
            ))
        } else {
            Ok(())
        }
    };
    check("code", &p.code, 1, 64)?;
    check("file_number", &p.file_number, 1, 64)?;
    check(
        "justification",
        &p.justification,
        MIN_JUSTIFICATION_CHARS,
        2000,
    )
}

/// Builds the request context and decides whether the action may go ahead.
pub fn authorise(
    staff: &StaffAuth,
    action: DataAction,
    purpose: Option<Purpose>,
) -> ApiResult<RequestContext> {
    staff.require(Role::Searcher)?;
    let purpose = match (action, purpose) {
        (_, Some(p)) => {
            validate_purpose(&p)?;
            Some(p)
        }
        (DataAction::Search, None) => {
            return Err(ApiError::invalid(
                "purpose",
                "a search needs a purpose code, an incident file number and a justification",
            ))
        }
        (_, None) => None,
    };
    Ok(RequestContext {
        actor: staff.actor(),
        purpose,
        request_id: new_request_id(),
        at: Utc::now(),
    })
}

fn new_request_id() -> String {
    use rand::RngCore;
    let mut b = [0u8; 8];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

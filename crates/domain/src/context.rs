//! Who is asking, and why.
//!
//! Every data access in the platform carries a [`RequestContext`]. The access-control policy and
//! the audit ledger read it; handlers only build it and pass it down, so those concerns plug in
//! without touching the handlers.

use crate::model::{CameraId, Role, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Actor {
    /// A member of staff signed in with a session.
    Staff {
        user_id: UserId,
        staff_id: String,
        district: String,
        roles: Vec<Role>,
    },
    /// A camera ingesting reads with its API key.
    Camera { camera_id: CameraId },
    /// The platform itself (retention purge, background tasks) or an operator at the CLI.
    System { component: String },
}

impl Actor {
    pub fn has_role(&self, role: Role) -> bool {
        match self {
            Actor::Staff { roles, .. } => roles.contains(&role),
            Actor::Camera { .. } => role == Role::Camera,
            Actor::System { .. } => false,
        }
    }

    /// A short stable label for logs and the ledger (`staff:S1234`, `camera:7`, `system:purge`).
    pub fn label(&self) -> String {
        match self {
            Actor::Staff { staff_id, .. } => format!("staff:{staff_id}"),
            Actor::Camera { camera_id } => format!("camera:{camera_id}"),
            Actor::System { component } => format!("system:{component}"),
        }
    }
}

/// The stated reason for a query: a purpose code, an incident file number and a justification.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Purpose {
    pub code: String,
    pub file_number: String,
    pub justification: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RequestContext {
    pub actor: Actor,
    pub purpose: Option<Purpose>,
    /// Correlates the request across logs and ledger entries.
    pub request_id: String,
    pub at: DateTime<Utc>,
}

impl RequestContext {
    /// The platform itself acting at `at` (the domain has no clock: time is passed in).
    pub fn system(component: &str, at: DateTime<Utc>) -> Self {
        RequestContext {
            actor: Actor::System {
                component: component.to_string(),
            },
            purpose: None,
            request_id: String::new(),
            at,
        }
    }
}

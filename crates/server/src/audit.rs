//! The audit middleware: every API request is a use, recorded in the ledger before its
//! response leaves the server.
//!
//! [`record`] wraps every route. It hands the request an [`AuditHandle`]; the authentication
//! extractors put the actor in it and the application's operations add what they know (the
//! purpose, the query, a digest of the read ids returned, the facts the integrity rules read).
//! When the handler is done the middleware ends the use with the response's outcome and waits
//! until its entry is durable; only then does the response go out. If the ledger cannot record,
//! the caller gets a 503 instead of the data (write-ahead).

use crate::error::ApiError;
use crate::state::AppState;
use anpr_app::AppError;
use anpr_ledger::{AuditFacts, Outcome};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::json;

pub use anpr_app::audit::{AuditHandle, Channel};

/// The handle of the request being served (an empty one outside the middleware).
pub struct Audit(pub AuditHandle);

impl std::ops::Deref for Audit {
    type Target = AuditHandle;
    fn deref(&self) -> &AuditHandle {
        &self.0
    }
}

impl FromRequestParts<AppState> for Audit {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(Audit(
            parts
                .extensions
                .get::<AuditHandle>()
                .cloned()
                .unwrap_or_default(),
        ))
    }
}

/// Why a request was refused, attached to error responses for the audit trail.
#[derive(Clone)]
pub struct RefusalReason(pub String);

/// The policy's refusal code (`own_vehicle`, `file_not_yours`, ...), attached to responses the
/// policy refused, recorded as `refusal_code` so the integrity rules can count attempts.
#[derive(Clone)]
pub struct RefusalCode(pub &'static str);

/// Paths that carry no data and no identity: not worth a ledger entry each.
fn unaudited(path: &str) -> bool {
    matches!(path, "/healthz" | "/api/openapi.json")
}

pub async fn record(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    mut request: Request,
    next: Next,
) -> Response {
    let path = matched
        .as_ref()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    if unaudited(&path) {
        return next.run(request).await;
    }
    let method = request.method().as_str().to_string();
    let uri = request.uri().to_string();
    let handle = AuditHandle::default();
    handle.facts(AuditFacts::new().channel(Channel::Api));
    request.extensions_mut().insert(handle.clone());
    let response = next.run(request).await;

    let status = response.status();
    let reason = response
        .extensions()
        .get::<RefusalReason>()
        .map(|r| r.0.clone())
        .unwrap_or_else(|| status.to_string());
    let outcome = if status.is_success() || status.is_redirection() {
        Outcome::granted()
    } else if status.is_server_error() {
        Outcome::error(reason)
    } else {
        Outcome::refused(reason)
    };
    if let Some(code) = response.extensions().get::<RefusalCode>() {
        handle.refused_with(code.0);
    }
    let mut extra = serde_json::Map::new();
    extra.insert("method".into(), json!(method));
    extra.insert("path".into(), json!(uri));
    extra.insert("status".into(), json!(status.as_u16()));
    match handle.finish(&state, outcome, extra).await {
        Ok(_) => response,
        Err(e) => {
            tracing::error!(error = %e, "audit ledger append failed; response withheld");
            ApiError(AppError::Unavailable(
                "the audit ledger could not record this request, so its result is withheld".into(),
            ))
            .into_response()
        }
    }
}

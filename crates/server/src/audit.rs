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
use crate::flood;
use crate::state::AppState;
use anpr_app::AppError;
use anpr_ledger::{Action, AuditFacts, Outcome};
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

/// Where staff sign in: never held back at once (an officer behind an address someone else
/// floods can still sign in; the sign-in throttle bounds guessing), but over the threshold their
/// failures are counted in the minute's entry like any other request without credentials.
const SIGN_IN_PATHS: [&str; 2] = ["/api/v1/auth/login", "/api/v1/auth/session"];

/// Whether a request carries credentials of any kind (a bearer token or key, a session
/// cookie), valid or not: one without is held back at once when its address is over the
/// threshold; one with is always answered, so a signed-in officer behind a busy address is
/// never held back.
fn presents_credentials(headers: &axum::http::HeaderMap) -> bool {
    headers.contains_key(axum::http::header::AUTHORIZATION)
        || crate::auth::session_cookie(headers).is_some()
}

/// The answer to a request held back by the flood guard.
fn throttled(now: chrono::DateTime<chrono::Utc>) -> Response {
    let wait = flood::FloodGuard::seconds_left(now);
    ApiError(AppError::RateLimited {
        message: format!(
            "too many requests without valid credentials from your network address; sign in, \
             or try again in {wait} seconds"
        ),
        retry_after_secs: wait,
    })
    .into_response()
}

/// Records each finished minute's held-back requests as one `throttled` entry per address,
/// every few seconds until the process ends.
pub fn spawn_flood_recorder(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(10));
        loop {
            tick.tick().await;
            record_held_back(&state, chrono::Utc::now()).await;
        }
    })
}

/// Appends one `throttled` entry for each minute before `now`'s with requests held back.
pub async fn record_held_back(state: &AppState, now: chrono::DateTime<chrono::Utc>) {
    for held in state.flood.take_finished(now) {
        let event = anpr_ledger::Event::new(anpr_ledger::Actor::anonymous(), Action::Throttled)
            .query(json!({
                "client": held.client.to_string(),
                "minute": held.minute.to_rfc3339(),
                "requests": held.requests,
            }))
            .facts(AuditFacts::new().channel(Channel::Api))
            .outcome(Outcome::refused(format!(
                "{} requests without valid credentials held back in one minute",
                held.requests
            )));
        if let Err(e) = anpr_app::audit::append(state, event).await {
            tracing::error!(error = %e, client = %held.client, "recording held-back requests failed");
        }
    }
}

/// Paths that carry no data and no identity: not worth a ledger entry each.
fn unaudited(path: &str) -> bool {
    matches!(path, "/healthz" | "/api/openapi.json")
}

pub async fn record(
    State(state): State<AppState>,
    matched: Option<MatchedPath>,
    request: Request,
    next: Next,
) -> Response {
    let path = matched
        .as_ref()
        .map(|m| m.as_str().to_string())
        .unwrap_or_else(|| request.uri().path().to_string());
    if unaudited(&path) {
        return next.run(request).await;
    }
    audited(state, &path, request, |r| next.run(r)).await
}

/// The fallback under `/api/`: no route serves the path, but the request is a use all the
/// same, recorded like any other (through the flood guard when it has no valid credentials).
pub async fn unrouted(State(state): State<AppState>, request: Request) -> Response {
    let path = request.uri().path().to_string();
    audited(state, &path, request, |_| async {
        ApiError(AppError::NotFound(
            "no such endpoint: check the path against the API reference (/api/openapi.json)".into(),
        ))
        .into_response()
    })
    .await
}

/// The session or camera credentials of a request, kept aside while it is served.
fn credentials(headers: &axum::http::HeaderMap) -> axum::http::HeaderMap {
    let mut kept = axum::http::HeaderMap::new();
    for name in [
        axum::http::header::AUTHORIZATION,
        axum::http::header::COOKIE,
    ] {
        for value in headers.get_all(&name) {
            kept.append(name.clone(), value.clone());
        }
    }
    kept
}

/// Names the actor of a request no handler authenticated (a 404 or 405: no extractor ran)
/// from its credentials: a valid session is that member of staff, a valid camera key that
/// camera; anything else leaves it anonymous.
async fn resolve_actor(state: &AppState, handle: &AuditHandle, headers: axum::http::HeaderMap) {
    let (mut parts, ()) = Request::new(()).into_parts();
    parts.headers = headers;
    parts.extensions.insert(handle.clone());
    if crate::auth::StaffAuth::from_request_parts(&mut parts, state)
        .await
        .is_err()
        && !handle.authenticated()
    {
        let _ = crate::auth::CameraAuth::from_request_parts(&mut parts, state).await;
    }
    handle.action(Action::Unrouted);
}

async fn audited<F, Fut>(state: AppState, path: &str, mut request: Request, run: F) -> Response
where
    F: FnOnce(Request) -> Fut,
    Fut: std::future::Future<Output = Response>,
{
    let client = request
        .extensions()
        .get::<crate::connections::ClientAddr>()
        .map(|c| c.0);
    let now = chrono::Utc::now();
    let signing_in = request.method() == axum::http::Method::POST && SIGN_IN_PATHS.contains(&path);
    if let Some(ip) = client.filter(|ip| {
        !signing_in && !presents_credentials(request.headers()) && state.flood.is_over(*ip, now)
    }) {
        state.flood.count(ip, now);
        return throttled(now);
    }
    let method = request.method().as_str().to_string();
    let uri = request.uri().to_string();
    let presented = presents_credentials(request.headers()).then(|| credentials(request.headers()));
    let handle = AuditHandle::default();
    handle.facts(AuditFacts::new().channel(Channel::Api));
    request.extensions_mut().insert(handle.clone());
    let response = run(request).await;

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
    if matches!(status.as_u16(), 404 | 405) && handle.current_action().is_none() {
        if let Some(headers) = presented {
            resolve_actor(&state, &handle, headers).await;
        } else {
            handle.action(Action::Unrouted);
        }
    }
    if let Some(code) = response.extensions().get::<RefusalCode>() {
        handle.refused_with(code.0);
    }
    let mut extra = serde_json::Map::new();
    extra.insert("method".into(), json!(method));
    extra.insert("path".into(), json!(uri));
    extra.insert("status".into(), json!(status.as_u16()));
    if !handle.authenticated() {
        if let Some(ip) = client {
            extra.insert("client".into(), json!(ip.to_string()));
            if state.flood.count(ip, now) == flood::Verdict::Count {
                // Counted in the minute's `throttled` entry instead of one of its own.
                return response;
            }
        }
    }
    match handle.finish(&state, outcome, extra).await {
        Ok(_) => response,
        // A record written beside the append says what failed itself.
        Err(e @ AppError::Unavailable(_)) => ApiError(e).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "audit ledger append failed; response withheld");
            ApiError(AppError::Unavailable(
                "the audit ledger could not record this request, so its result is withheld".into(),
            ))
            .into_response()
        }
    }
}

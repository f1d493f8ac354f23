//! The audit trail: every API request becomes an entry of the tamper-evident ledger before its
//! response leaves the server.
//!
//! [`record`] is a middleware around every route. It hands the request an [`AuditHandle`]; the
//! authentication extractors put the actor in it and handlers add what only they know (the
//! purpose, the query, a digest of the read ids returned). When the handler is done the
//! middleware appends the entry and waits until it is durable; only then does the response go
//! out. If the ledger cannot record, the caller gets a 503 instead of the data (write-ahead).
//! Refused and failed requests are recorded as carefully as granted ones.

use crate::error::ApiError;
use crate::state::AppState;
use anpr_domain::Purpose;
use anpr_ledger::{Action, Actor, Event, Outcome, ResultDigest};
use axum::extract::{FromRequestParts, MatchedPath, Request, State};
use axum::http::request::Parts;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde_json::{json, Value};
use std::sync::{Arc, Mutex};

#[derive(Default)]
struct Slot {
    actor: Option<Actor>,
    action: Option<Action>,
    purpose: Option<Purpose>,
    query: Option<Value>,
    /// Facts for oversight added to the recorded query (the plate a read shows, the age of the
    /// newest sighting disclosed, the authorisation a request created).
    facts: serde_json::Map<String, Value>,
    result: Option<ResultDigest>,
}

/// What a request tells the audit trail about itself.
#[derive(Clone, Default)]
pub struct AuditHandle(Arc<Mutex<Slot>>);

impl AuditHandle {
    fn with(&self, f: impl FnOnce(&mut Slot)) {
        f(&mut self.0.lock().expect("audit slot lock"));
    }
    pub fn actor(&self, actor: Actor) {
        self.with(|s| s.actor = Some(actor));
    }
    pub fn action(&self, action: Action) {
        self.with(|s| s.action = Some(action));
    }
    pub fn purpose(&self, purpose: &Purpose) {
        self.with(|s| s.purpose = Some(purpose.clone()));
    }
    pub fn query(&self, query: Value) {
        self.with(|s| s.query = Some(query));
    }
    /// A fact the integrity rules need, recorded with the query under `key`. Facts about
    /// oversight only: never plate data beyond what the request itself named or was shown.
    pub fn fact(&self, key: &str, value: Value) {
        self.with(|s| {
            s.facts.insert(key.to_string(), value);
        });
    }
    /// The reads a response discloses, as a count and a hash (never the data itself).
    pub fn disclosed(&self, read_ids: &[i64]) {
        self.with(|s| s.result = Some(ResultDigest::of_ids(read_ids)));
    }
}

impl FromRequestParts<AppState> for AuditHandle {
    type Rejection = std::convert::Infallible;
    async fn from_request_parts(parts: &mut Parts, _: &AppState) -> Result<Self, Self::Rejection> {
        Ok(parts
            .extensions
            .get::<AuditHandle>()
            .cloned()
            .unwrap_or_default())
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

/// The action a route stands for when its handler did not name one.
fn default_action(method: &str, path: &str) -> Action {
    match (method, path) {
        ("POST", "/api/v1/auth/login") => Action::Login,
        ("POST", "/api/v1/auth/logout") => Action::Logout,
        ("POST", "/api/v1/auth/session") => Action::Login,
        ("DELETE", "/api/v1/auth/session") => Action::Logout,
        ("POST", "/api/v1/users")
        | ("PUT", "/api/v1/users/{staff_id}/roles")
        | ("PUT", "/api/v1/users/{staff_id}/active") => Action::Other("user_change".into()),
        ("POST", "/api/v1/searches") => Action::Search,
        ("GET", "/api/v1/reads/{id}/image/{kind}") => Action::ImageView,
        ("POST", "/api/v1/reads") | ("POST", "/api/v1/reads:batch") => {
            Action::Other("ingest".into())
        }
        ("POST", "/api/v1/networks") | ("POST", "/api/v1/sites") | ("POST", "/api/v1/cameras") => {
            Action::Other("catalog_change".into())
        }
        ("PUT", "/api/v1/reads/{id}/legal-hold") => Action::Other("legal_hold".into()),
        ("POST", "/api/v1/tracking") => Action::TrackingRequest,
        ("POST", "/api/v1/tracking/{id}/{action}") => Action::Other("tracking_review".into()),
        ("POST", "/api/v1/lookback") => Action::Other("lookback_request".into()),
        ("POST", "/api/v1/lookback/{id}/{action}") => Action::Other("lookback_review".into()),
        ("POST", "/api/v1/registers/{kind}") => Action::RegisterImport,
        ("PUT", "/api/v1/networks/{id}/agreement") => Action::Other("agreement_change".into()),
        ("GET", "/api/v1/reads/{id}") => Action::Other("read_view".into()),
        (_, p) if p.starts_with("/api/v1/ledger") => Action::Other("ledger_read".into()),
        ("GET", "/api/v1/reports/usage") => Action::Other("report_usage".into()),
        ("GET", "/api/v1/reports/transparency") => Action::Other("report_transparency".into()),
        ("POST", "/api/v1/reports/subject-access") => Action::Other("subject_access".into()),
        _ => Action::Other("api_read".into()),
    }
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
    request.extensions_mut().insert(handle.clone());
    let response = next.run(request).await;

    let status = response.status();
    let slot = std::mem::take(&mut *handle.0.lock().expect("audit slot lock"));
    let mut action = slot
        .action
        .unwrap_or_else(|| default_action(&method, &path));
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
        if matches!(status.as_u16(), 401 | 403) && action != Action::Login {
            action = Action::Denied;
        } else if action == Action::Login {
            action = Action::LoginFailed;
        }
        Outcome::refused(reason)
    };
    let mut query = slot.query.unwrap_or_else(|| json!({}));
    if let Value::Object(map) = &mut query {
        map.extend(slot.facts);
        if let Some(code) = response.extensions().get::<RefusalCode>() {
            map.insert("refusal_code".into(), json!(code.0));
        }
        map.insert("method".into(), json!(method));
        map.insert("path".into(), json!(uri));
        map.insert("status".into(), json!(status.as_u16()));
    }
    let mut event = Event::new(slot.actor.unwrap_or_else(Actor::anonymous), action)
        .query(query)
        .outcome(outcome);
    if let Some(p) = slot.purpose {
        event = event
            .purpose(p.code)
            .file_number(p.file_number)
            .justification(p.justification);
    }
    if let Some(r) = slot.result {
        event = event.result(r);
    }
    match append(&state, event).await {
        Ok(_) => response,
        Err(e) => {
            tracing::error!(error = %e, "audit ledger append failed; response withheld");
            ApiError::Unavailable(
                "the audit ledger could not record this request, so its result is withheld".into(),
            )
            .into_response()
        }
    }
}

/// Appends one event and returns its index once it is durable.
pub async fn append(state: &AppState, event: Event) -> anyhow::Result<u64> {
    let ledger = state.ledger.clone();
    let idx = tokio::task::spawn_blocking(move || ledger.append(&[event])).await??;
    Ok(idx[0])
}

/// Signs a tree head whenever entries arrived and the interval passed, until the process ends.
pub fn spawn_signer(state: AppState) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(5));
        let mut leadership =
            crate::leadership::Leadership::new(anpr_store::BackgroundTask::TreeHeads);
        loop {
            tick.tick().await;
            if !leadership.holds(&state).await {
                continue;
            }
            let ledger = state.ledger.clone();
            let signed =
                tokio::task::spawn_blocking(move || ledger.maybe_sign(chrono::Utc::now())).await;
            match signed {
                Ok(Ok(Some(head))) => tracing::debug!(size = head.size, "signed tree head"),
                Ok(Ok(None)) => {}
                Ok(Err(e)) => tracing::error!(error = %e, "signing a tree head failed"),
                Err(e) => tracing::error!(error = %e, "tree-head signer panicked"),
            }
        }
    })
}

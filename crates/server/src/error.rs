//! The one place where every error of the platform becomes an HTTP status and a JSON body.

use anpr_store::StoreError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    Unauthenticated(String),
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    #[error("{message}")]
    Unprocessable {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    #[error("{0}")]
    PayloadTooLarge(String),
    #[error("{0}")]
    TooManyRequests(String),
    #[error("{0}")]
    Unavailable(String),
    /// A refusal by the access policy: its status, its stable code (`own_vehicle`,
    /// `unknown_file_number`, ...) and the field at fault.
    #[error("{message}")]
    Policy {
        status: StatusCode,
        code: &'static str,
        field: Option<String>,
        message: String,
    },
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

/// The JSON body of every error response.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorBody {
    pub error: ErrorDetail,
}

#[derive(Serialize, utoipa::ToSchema)]
pub struct ErrorDetail {
    /// Stable machine-readable code (`unauthenticated`, `invalid_field`, ...).
    pub code: &'static str,
    pub message: String,
    /// The request field at fault, when there is one (`reads[3].captured_at`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
}

impl ApiError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        ApiError::Internal(e.into())
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        ApiError::Unprocessable {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    fn parts(&self) -> (StatusCode, &'static str, Option<String>) {
        match self {
            ApiError::Unauthenticated(_) => (StatusCode::UNAUTHORIZED, "unauthenticated", None),
            ApiError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden", None),
            ApiError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found", None),
            ApiError::BadRequest { field, .. } => {
                (StatusCode::BAD_REQUEST, "bad_request", field.clone())
            }
            ApiError::Unprocessable { field, .. } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_field",
                field.clone(),
            ),
            ApiError::Conflict(_) => (StatusCode::CONFLICT, "conflict", None),
            ApiError::PayloadTooLarge(_) => {
                (StatusCode::PAYLOAD_TOO_LARGE, "payload_too_large", None)
            }
            ApiError::TooManyRequests(_) => {
                (StatusCode::TOO_MANY_REQUESTS, "too_many_requests", None)
            }
            ApiError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable", None),
            ApiError::Policy {
                status,
                code,
                field,
                ..
            } => (*status, *code, field.clone()),
            ApiError::Internal(e) if storage_full(e) => (
                StatusCode::INSUFFICIENT_STORAGE,
                "insufficient_storage",
                None,
            ),
            ApiError::Internal(_) => (StatusCode::INTERNAL_SERVER_ERROR, "internal", None),
        }
    }
}

/// The answer to a handler that panicked: the same 500 `internal` body as any internal error
/// (the panic's message goes to the log only), so the client gets an answer, the connection and
/// the requests pipelined on it live on, and the audit layer still records the request.
pub fn panic_response(panic: Box<dyn std::any::Any + Send + 'static>) -> Response {
    let message = panic
        .downcast_ref::<&str>()
        .map(|s| s.to_string())
        .or_else(|| panic.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "a panic without a message".to_string());
    ApiError::Internal(anyhow::anyhow!("handler panicked: {message}")).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let (status, code, field) = self.parts();
        if let ApiError::Internal(e) = &self {
            // The cause goes to the log, never to the client.
            tracing::error!(error = ?e, "internal error");
        }
        let message = if status == StatusCode::INSUFFICIENT_STORAGE {
            "the server's storage is full, so nothing was stored; try again later".to_string()
        } else {
            self.to_string()
        };
        let body = ErrorBody {
            error: ErrorDetail {
                code,
                message,
                field,
            },
        };
        let reason = crate::audit::RefusalReason(body.error.message.clone());
        let mut resp = (status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(reason);
        if matches!(self, ApiError::Policy { .. }) {
            resp.extensions_mut()
                .insert(crate::audit::RefusalCode(code));
        }
        match status {
            StatusCode::UNAUTHORIZED => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INSUFFICIENT_STORAGE => {
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            _ => {}
        }
        resp
    }
}

/// Whether an error comes from a full disk: `ENOSPC` from a file write, or SQLite's
/// `SQLITE_FULL` (which reaches us as text through the store's writer task).
fn storage_full(e: &anyhow::Error) -> bool {
    e.chain().any(|cause| {
        if let Some(io) = cause.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::StorageFull || io.raw_os_error() == Some(28) {
                return true;
            }
        }
        let text = cause.to_string();
        text.contains("database or disk is full") || text.contains("No space left on device")
    })
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => ApiError::NotFound(what),
            StoreError::Conflict(m) => ApiError::Conflict(m),
            StoreError::Invalid(d) => ApiError::from(d),
            StoreError::TooBroad(m) => ApiError::Unprocessable {
                field: Some("plate".into()),
                message: m,
            },
            StoreError::Policy(p) => ApiError::from(p),
            other => ApiError::internal(other),
        }
    }
}

/// The access policy's refusals: 403 when the request is well-formed but not allowed (wrong
/// tier, closed or foreign file, own vehicle, no agreement, needs approval), 422 when a field is
/// wrong (unknown purpose or file number, purpose that does not fit the incident), 409 for a
/// decision on an authorisation that is no longer pending, 429 for rate limits. A decision that
/// cannot be recorded fails the request with 503: nothing is returned unrecorded.
impl From<anpr_policy::PolicyError> for ApiError {
    fn from(e: anpr_policy::PolicyError) -> Self {
        use anpr_policy::{PolicyError as P, RefusalKind as K};
        match e {
            P::Refused {
                kind,
                field,
                message,
            } => {
                let status = match kind {
                    K::InvalidPurpose
                    | K::UnknownPurpose
                    | K::UnknownFileNumber
                    | K::PurposeMismatch
                    | K::InvalidRequest
                    | K::ForbiddenRoleCombination => StatusCode::UNPROCESSABLE_ENTITY,
                    K::InvalidState => StatusCode::CONFLICT,
                    K::RateLimited => StatusCode::TOO_MANY_REQUESTS,
                    K::Inactive
                    | K::MissingPermission
                    | K::FileClosed
                    | K::FileNotYours
                    | K::NotInStaffRegister
                    | K::OwnVehicle
                    | K::NoNetworkAgreement
                    | K::LookbackNeedsApproval
                    | K::NearLiveWithheld
                    | K::NoTrackingBasis
                    | K::ConflictOfDuty
                    | K::WrongDistrict => StatusCode::FORBIDDEN,
                };
                ApiError::Policy {
                    status,
                    code: kind.as_str(),
                    field,
                    message,
                }
            }
            P::Recording(m) => {
                tracing::error!(error = %m, "decision could not be recorded");
                ApiError::Unavailable(
                    "the access decision could not be recorded, so nothing is returned; try again"
                        .into(),
                )
            }
            other => ApiError::internal(other),
        }
    }
}

impl From<anpr_integrity::review::StepError> for ApiError {
    fn from(e: anpr_integrity::review::StepError) -> Self {
        use anpr_integrity::review::StepError;
        match &e {
            StepError::State(..) => ApiError::Conflict(e.to_string()),
            StepError::Invalid { field, message } => ApiError::invalid(*field, *message),
        }
    }
}

impl From<anpr_integrity::IntegrityError> for ApiError {
    fn from(e: anpr_integrity::IntegrityError) -> Self {
        use anpr_integrity::IntegrityError;
        match e {
            IntegrityError::Config { field, message } => ApiError::invalid(field, message),
            IntegrityError::Registers(m) => {
                tracing::error!(error = %m, "register lookup failed in an integrity run");
                ApiError::Unavailable("the registers could not be read".into())
            }
            e @ IntegrityError::Entry { .. } => ApiError::Internal(e.into()),
        }
    }
}

impl From<anpr_domain::DomainError> for ApiError {
    fn from(e: anpr_domain::DomainError) -> Self {
        let anpr_domain::DomainError::Invalid { field, message } = e;
        ApiError::Unprocessable {
            message: format!("{field}: {message}"),
            field: Some(field),
        }
    }
}

impl From<anpr_ingest::IngestError> for ApiError {
    fn from(e: anpr_ingest::IngestError) -> Self {
        let field = Some(e.field().to_string());
        let message = e.to_string();
        match e.http_status() {
            413 => ApiError::PayloadTooLarge(message),
            400 => ApiError::BadRequest { field, message },
            422 => ApiError::Unprocessable { field, message },
            _ => ApiError::internal(e),
        }
    }
}

/// A bad report parameter: 400, naming it.
impl From<anpr_reports::ReportError> for ApiError {
    fn from(e: anpr_reports::ReportError) -> Self {
        ApiError::BadRequest {
            field: Some(e.field().to_string()),
            message: e.to_string(),
        }
    }
}

impl From<anpr_blobs::BlobError> for ApiError {
    fn from(e: anpr_blobs::BlobError) -> Self {
        ApiError::internal(e)
    }
}

/// Turns axum's own rejections (bad JSON, wrong content type, body too large) into our body.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        match r {
            J::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                ApiError::PayloadTooLarge(b.body_text())
            }
            J::JsonDataError(e) => ApiError::Unprocessable {
                field: None,
                message: e.body_text(),
            },
            other => ApiError::BadRequest {
                field: None,
                message: other.body_text(),
            },
        }
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;
    use axum::routing::get;
    use tower::ServiceExt;
    use tower_http::catch_panic::CatchPanicLayer;

    async fn panics() -> &'static str {
        panic!("secret detail of a bug")
    }

    #[tokio::test]
    async fn a_panicking_handler_gets_a_json_500_without_its_message() {
        let app = axum::Router::new()
            .route("/boom", get(panics))
            .layer(CatchPanicLayer::custom(panic_response));
        let request = axum::http::Request::get("/boom")
            .body(axum::body::Body::empty())
            .unwrap();
        let response = app.oneshot(request).await.unwrap();
        assert_eq!(response.status(), StatusCode::INTERNAL_SERVER_ERROR);
        let body = axum::body::to_bytes(response.into_body(), 1 << 16)
            .await
            .unwrap();
        let body: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(body["error"]["code"], "internal");
        assert!(!body.to_string().contains("secret detail"), "{body}");
    }
}

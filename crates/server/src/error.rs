//! The one place where every error of the platform becomes an HTTP status and a JSON body.

pub use anpr_app::AppError;
use axum::http::{header, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Serialize;

/// An [`AppError`] on its way to becoming an HTTP response.
#[derive(Debug)]
pub struct ApiError(pub AppError);

impl std::fmt::Display for ApiError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for ApiError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
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

/// The status of each application error. The policy's refusals: 403 when the request is
/// well-formed but not allowed (wrong tier, closed or foreign file, own vehicle, no agreement,
/// needs approval), 422 when a field is wrong (unknown purpose or file number, purpose that does
/// not fit the incident), 409 for a decision on an authorisation that is no longer pending, 429
/// for rate limits, 404 for a read not shown to the user (one answer whatever the read). A use
/// that cannot be recorded is a 503: nothing is returned unrecorded.
pub fn status_of(e: &AppError) -> StatusCode {
    use anpr_policy::RefusalKind as K;
    match e {
        AppError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
        AppError::Forbidden(_) => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::BadRequest { .. } => StatusCode::BAD_REQUEST,
        AppError::Invalid { .. } | AppError::UnknownDistrict { .. } => {
            StatusCode::UNPROCESSABLE_ENTITY
        }
        AppError::Conflict(_) => StatusCode::CONFLICT,
        AppError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        AppError::RateLimited { .. } => StatusCode::TOO_MANY_REQUESTS,
        AppError::Unavailable(_) | AppError::DecodeBusy { .. } => StatusCode::SERVICE_UNAVAILABLE,
        AppError::StorageFull(_) => StatusCode::INSUFFICIENT_STORAGE,
        AppError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        AppError::Refused { kind, .. } => match kind {
            K::InvalidPurpose
            | K::UnknownPurpose
            | K::UnknownFileNumber
            | K::PurposeMismatch
            | K::InvalidRequest
            | K::ForbiddenRoleCombination => StatusCode::UNPROCESSABLE_ENTITY,
            K::InvalidState => StatusCode::CONFLICT,
            // Whether the read exists is not revealed.
            K::ReadNotAvailable => StatusCode::NOT_FOUND,
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
        },
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
    ApiError(AppError::Internal(anyhow::anyhow!(
        "handler panicked: {message}"
    )))
    .into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let error = self.0;
        let status = status_of(&error);
        if let AppError::Internal(e) | AppError::StorageFull(e) = &error {
            // The cause goes to the log, never to the client.
            tracing::error!(error = ?e, "internal error");
        }
        let body = ErrorBody {
            error: ErrorDetail {
                code: error.code(),
                message: error.to_string(),
                field: error.field().map(str::to_string),
            },
        };
        let reason = crate::audit::RefusalReason(body.error.message.clone());
        let mut resp = (status, axum::Json(body)).into_response();
        resp.extensions_mut().insert(reason);
        if let Some(kind) = error.refusal() {
            resp.extensions_mut()
                .insert(crate::audit::RefusalCode(kind.as_str()));
        }
        match status {
            StatusCode::UNAUTHORIZED => {
                resp.headers_mut()
                    .insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
            }
            StatusCode::SERVICE_UNAVAILABLE
            | StatusCode::TOO_MANY_REQUESTS
            | StatusCode::INSUFFICIENT_STORAGE => {
                let seconds = error.retry_after_s().unwrap_or(1);
                resp.headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            _ => {}
        }
        resp
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        ApiError(e)
    }
}

/// Every crate's error reaches HTTP through the application's [`AppError`].
macro_rules! through_app_error {
    ($($t:ty),* $(,)?) => {$(
        impl From<$t> for ApiError {
            fn from(e: $t) -> Self {
                ApiError(AppError::from(e))
            }
        }
    )*};
}

through_app_error!(
    anpr_store::StoreError,
    anpr_policy::PolicyError,
    anpr_domain::DomainError,
    anpr_ingest::IngestError,
    anpr_reports::ReportError,
    anpr_blobs::BlobError,
    anpr_integrity::IntegrityError,
    anpr_integrity::review::StepError,
    anpr_ledger::Error,
);

/// Turns axum's own rejections (bad JSON, wrong content type, body too large) into our body.
impl From<axum::extract::rejection::JsonRejection> for ApiError {
    fn from(r: axum::extract::rejection::JsonRejection) -> Self {
        use axum::extract::rejection::JsonRejection as J;
        ApiError(match r {
            J::BytesRejection(b) if b.status() == StatusCode::PAYLOAD_TOO_LARGE => {
                AppError::body_too_large(b.body_text())
            }
            J::JsonDataError(e) => AppError::Invalid {
                field: None,
                message: e.body_text(),
            },
            other => AppError::BadRequest {
                field: None,
                message: other.body_text(),
            },
        })
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

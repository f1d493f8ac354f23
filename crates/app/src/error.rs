//! The application layer's one error type. Every crate's error becomes an [`AppError`] here;
//! the entry points (the HTTP server, the CLI) turn it into a status or an exit message in one
//! place each.

use anpr_policy::RefusalKind;
use anpr_store::StoreError;

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No valid credentials (or a session that ended).
    #[error("{0}")]
    Unauthenticated(String),
    /// Authenticated, but not allowed (outside the policy's decisions: a deactivated camera, a
    /// change without the page's security token, ...).
    #[error("{0}")]
    Forbidden(String),
    #[error("{0} not found")]
    NotFound(String),
    /// The request cannot be read at all (malformed body, wrong content type).
    #[error("{message}")]
    BadRequest {
        field: Option<String>,
        message: String,
    },
    /// The request is readable but a field is wrong.
    #[error("{message}")]
    Invalid {
        field: Option<String>,
        message: String,
    },
    #[error("{0}")]
    Conflict(String),
    /// A district typed that is not one of the deployment's (`PolicyConfig::districts`): the
    /// message lists those it has.
    #[error("{}", unknown_district_message(given, known))]
    UnknownDistrict { given: String, known: Vec<String> },
    /// Too large to take: a body, a batch, an image (its `field` when one is at fault).
    #[error("{message}")]
    TooLarge {
        field: Option<String>,
        message: String,
    },
    /// Too many attempts: try again after `retry_after_secs`.
    #[error("{message}")]
    RateLimited {
        message: String,
        retry_after_secs: u64,
    },
    /// Something the use needs is not available now (the ledger, a full queue); try later.
    #[error("{0}")]
    Unavailable(String),
    /// The images being decoded hold the whole decode budget: nothing of the request was kept.
    #[error(
        "the server is busy decoding other images, so this request was not processed and \
         nothing of it was stored; send it again in {retry_after_s} seconds"
    )]
    DecodeBusy { retry_after_s: u64 },
    /// A refusal by the access policy: its kind (which carries the stable code: `own_vehicle`,
    /// `unknown_file_number`, ...) and the field at fault.
    #[error("{message}")]
    Refused {
        kind: RefusalKind,
        field: Option<String>,
        message: String,
    },
    /// The storage is full: nothing was stored.
    #[error("the server's storage is full, so nothing was stored; try again later")]
    StorageFull(#[source] anyhow::Error),
    #[error("internal error")]
    Internal(#[source] anyhow::Error),
}

pub type AppResult<T> = Result<T, AppError>;

impl AppError {
    pub fn internal(e: impl Into<anyhow::Error>) -> Self {
        let e = e.into();
        if storage_full(&e) {
            AppError::StorageFull(e)
        } else {
            AppError::Internal(e)
        }
    }

    /// The request body as a whole is larger than the server accepts.
    pub fn body_too_large(message: impl Into<String>) -> Self {
        AppError::TooLarge {
            field: Some("body".into()),
            message: message.into(),
        }
    }

    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        AppError::Invalid {
            field: Some(field.into()),
            message: message.into(),
        }
    }

    /// Every code [`AppError::code`] gives besides the policy's refusals (which are
    /// [`RefusalKind::ALL`]'s), so that what must cover them all (the UI's messages) can be
    /// checked.
    pub const CODES: [&'static str; 13] = [
        "unauthenticated",
        "forbidden",
        "not_found",
        "bad_request",
        "invalid_field",
        "conflict",
        "unknown_district",
        "payload_too_large",
        "too_many_requests",
        "unavailable",
        "decode_busy",
        "insufficient_storage",
        "internal",
    ];

    /// The stable code programs read (`own_vehicle`, `invalid_field`, ...).
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Unauthenticated(_) => "unauthenticated",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::BadRequest { .. } => "bad_request",
            AppError::Invalid { .. } => "invalid_field",
            AppError::Conflict(_) => "conflict",
            AppError::UnknownDistrict { .. } => "unknown_district",
            AppError::TooLarge { .. } => "payload_too_large",
            AppError::RateLimited { .. } => "too_many_requests",
            AppError::Unavailable(_) => "unavailable",
            AppError::DecodeBusy { .. } => "decode_busy",
            AppError::Refused { kind, .. } => kind.as_str(),
            AppError::StorageFull(_) => "insufficient_storage",
            AppError::Internal(_) => "internal",
        }
    }

    /// The request field at fault, when there is one.
    pub fn field(&self) -> Option<&str> {
        match self {
            AppError::BadRequest { field, .. }
            | AppError::Invalid { field, .. }
            | AppError::TooLarge { field, .. }
            | AppError::Refused { field, .. } => field.as_deref(),
            AppError::UnknownDistrict { .. } => Some("district"),
            _ => None,
        }
    }

    /// Seconds after which the same request may succeed, for a refusal that says so.
    pub fn retry_after_s(&self) -> Option<u64> {
        match self {
            AppError::DecodeBusy { retry_after_s }
            | AppError::RateLimited {
                retry_after_secs: retry_after_s,
                ..
            } => Some(*retry_after_s),
            _ => None,
        }
    }

    /// The policy's refusal kind, when the policy refused.
    pub fn refusal(&self) -> Option<RefusalKind> {
        match self {
            AppError::Refused { kind, .. } => Some(*kind),
            _ => None,
        }
    }
}

fn unknown_district_message(given: &str, known: &[String]) -> String {
    let given = given.trim();
    let what = if given.is_empty() {
        "No police district was given".to_string()
    } else {
        format!("{given} is not a police district of this deployment")
    };
    format!("{what}; choose one of: {}.", known.join(", "))
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

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => AppError::NotFound(what),
            StoreError::Conflict(m) => AppError::Conflict(m),
            StoreError::Invalid(d) => AppError::from(d),
            StoreError::TooBroad(m) => AppError::Invalid {
                field: Some("plate".into()),
                message: m,
            },
            StoreError::Policy(p) => AppError::from(p),
            other => AppError::internal(other),
        }
    }
}

/// A decision that cannot be recorded fails the use: nothing is returned unrecorded.
impl From<anpr_policy::PolicyError> for AppError {
    fn from(e: anpr_policy::PolicyError) -> Self {
        use anpr_policy::PolicyError as P;
        match e {
            P::Refused {
                kind,
                field,
                message,
            } => AppError::Refused {
                kind,
                field,
                message,
            },
            P::Recording(m) => {
                tracing::error!(error = %m, "decision could not be recorded");
                AppError::Unavailable(
                    "the access decision could not be recorded, so nothing is returned; try again"
                        .into(),
                )
            }
            other => AppError::internal(other),
        }
    }
}

impl From<anpr_integrity::review::StepError> for AppError {
    fn from(e: anpr_integrity::review::StepError) -> Self {
        use anpr_integrity::review::StepError;
        match &e {
            StepError::State(..) => AppError::Conflict(e.to_string()),
            StepError::Invalid { field, message } => AppError::invalid(*field, *message),
        }
    }
}

impl From<anpr_integrity::IntegrityError> for AppError {
    fn from(e: anpr_integrity::IntegrityError) -> Self {
        use anpr_integrity::IntegrityError;
        match e {
            IntegrityError::Config { field, message } => AppError::invalid(field, message),
            IntegrityError::Registers(m) => {
                tracing::error!(error = %m, "register lookup failed in an integrity run");
                AppError::Unavailable("the registers could not be read".into())
            }
            e @ IntegrityError::Entry { .. } => AppError::internal(e),
        }
    }
}

impl From<anpr_domain::DomainError> for AppError {
    fn from(e: anpr_domain::DomainError) -> Self {
        let anpr_domain::DomainError::Invalid { field, message } = e;
        AppError::Invalid {
            message: format!("{field}: {message}"),
            field: Some(field),
        }
    }
}

impl From<anpr_ingest::IngestError> for AppError {
    fn from(e: anpr_ingest::IngestError) -> Self {
        let field = Some(e.field().to_string());
        let message = e.to_string();
        match e.http_status() {
            413 => AppError::TooLarge { field, message },
            400 => AppError::BadRequest { field, message },
            422 => AppError::Invalid { field, message },
            _ => AppError::internal(e),
        }
    }
}

/// A bad report parameter, naming it.
impl From<anpr_reports::ReportError> for AppError {
    fn from(e: anpr_reports::ReportError) -> Self {
        AppError::BadRequest {
            field: Some(e.field().to_string()),
            message: e.to_string(),
        }
    }
}

impl From<anpr_blobs::BlobError> for AppError {
    fn from(e: anpr_blobs::BlobError) -> Self {
        AppError::internal(e)
    }
}

impl From<anpr_ledger::Error> for AppError {
    fn from(e: anpr_ledger::Error) -> Self {
        tracing::error!(error = %e, "audit ledger failure");
        AppError::Unavailable(
            "the audit ledger could not record this use, so its result is withheld; try again"
                .into(),
        )
    }
}

impl From<tokio::task::JoinError> for AppError {
    fn from(e: tokio::task::JoinError) -> Self {
        AppError::internal(e)
    }
}

#[cfg(test)]
mod tests {
    use super::AppError;

    #[test]
    fn an_unknown_district_is_named_with_the_known_ones() {
        let e = AppError::UnknownDistrict {
            given: " Narnia ".into(),
            known: vec!["Waikato".into(), "Southern".into()],
        };
        assert_eq!(
            e.to_string(),
            "Narnia is not a police district of this deployment; choose one of: Waikato, Southern."
        );
        assert_eq!(
            (e.code(), e.field()),
            ("unknown_district", Some("district"))
        );
    }

    #[test]
    fn codes_lists_every_code_but_the_refusals() {
        let m = || "m".to_string();
        let every = [
            AppError::Unauthenticated(m()),
            AppError::Forbidden(m()),
            AppError::NotFound(m()),
            AppError::BadRequest {
                field: None,
                message: m(),
            },
            AppError::Invalid {
                field: None,
                message: m(),
            },
            AppError::Conflict(m()),
            AppError::UnknownDistrict {
                given: m(),
                known: vec![m()],
            },
            AppError::TooLarge {
                field: None,
                message: m(),
            },
            AppError::RateLimited {
                message: m(),
                retry_after_secs: 1,
            },
            AppError::Unavailable(m()),
            AppError::DecodeBusy { retry_after_s: 1 },
            AppError::StorageFull(anyhow::anyhow!("full")),
            AppError::Internal(anyhow::anyhow!("bug")),
        ];
        // A new variant fails to compile in this match until it is listed above and in CODES.
        for e in &every {
            match e {
                AppError::Unauthenticated(_)
                | AppError::Forbidden(_)
                | AppError::NotFound(_)
                | AppError::BadRequest { .. }
                | AppError::Invalid { .. }
                | AppError::Conflict(_)
                | AppError::UnknownDistrict { .. }
                | AppError::TooLarge { .. }
                | AppError::RateLimited { .. }
                | AppError::Unavailable(_)
                | AppError::DecodeBusy { .. }
                | AppError::StorageFull(_)
                | AppError::Internal(_) => {}
                AppError::Refused { .. } => unreachable!(),
            }
        }
        let codes: Vec<&str> = every.iter().map(AppError::code).collect();
        assert_eq!(codes, AppError::CODES);
    }
}

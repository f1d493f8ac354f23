use thiserror::Error;

/// A value that breaks a domain rule. Every variant names the offending field so that the HTTP
/// layer can answer with a 4xx that tells the client exactly what to fix.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum DomainError {
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl DomainError {
    pub fn invalid(field: impl Into<String>, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            field: field.into(),
            message: message.into(),
        }
    }

    /// The field the error is about.
    pub fn field(&self) -> &str {
        match self {
            DomainError::Invalid { field, .. } => field,
        }
    }

    /// The same error reported against a field nested inside `prefix` (e.g. `reads[3].plate`).
    pub fn within(self, prefix: &str) -> Self {
        match self {
            DomainError::Invalid { field, message } => DomainError::Invalid {
                field: format!("{prefix}.{field}"),
                message,
            },
        }
    }
}

use thiserror::Error;

#[derive(Debug, Clone, PartialEq, Eq, Error)]
pub enum ReportError {
    /// A report parameter is missing or malformed; `field` names it (`from`, `by`, `month`).
    #[error("{field}: {message}")]
    Invalid { field: String, message: String },
}

impl ReportError {
    pub fn invalid(field: &str, message: impl Into<String>) -> Self {
        ReportError::Invalid {
            field: field.to_string(),
            message: message.into(),
        }
    }

    pub fn field(&self) -> &str {
        match self {
            ReportError::Invalid { field, .. } => field,
        }
    }
}

pub type Result<T> = std::result::Result<T, ReportError>;

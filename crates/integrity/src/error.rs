//! The crate's one error type.

use thiserror::Error;

#[derive(Debug, Error)]
pub enum IntegrityError {
    /// A register could not be read.
    #[error("register lookup failed: {0}")]
    Registers(String),
    /// A ledger entry could not be read as an event.
    #[error("ledger entry {index}: {message}")]
    Entry { index: u64, message: String },
    /// The rule configuration is invalid (names the setting at fault).
    #[error("integrity configuration: {field}: {message}")]
    Config { field: String, message: String },
}

impl From<anpr_policy::PolicyError> for IntegrityError {
    fn from(e: anpr_policy::PolicyError) -> Self {
        IntegrityError::Registers(e.to_string())
    }
}

pub type Result<T> = std::result::Result<T, IntegrityError>;

use anpr_domain::DomainError;
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    #[error("{0} not found")]
    NotFound(String),
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The query would touch too much data to be a targeted search.
    #[error("query too broad: {0}")]
    TooBroad(String),
    /// The access policy refused the change (a forbidden role combination).
    #[error(transparent)]
    Policy(#[from] anpr_policy::PolicyError),
    #[error("database error: {0}")]
    Database(#[from] rusqlite::Error),
    #[error("database error: {0}")]
    Postgres(#[from] tokio_postgres::Error),
    /// The database URL is wrong, or no connection could be made (with what to do about it).
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),
    #[error("database connection pool: {0}")]
    Pool(String),
    #[error("storage schema: {0}")]
    Schema(String),
    #[error("storage task failed: {0}")]
    Task(String),
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

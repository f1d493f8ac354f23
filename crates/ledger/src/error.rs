//! The one error type of the crate.
//!
//! Verification *findings* (an edited entry, a forked head) are not errors: they are reported in a
//! [`crate::VerifyReport`] so that a verifier can list every problem it found. `Error` is for things
//! that stop an operation: bad input, an invalid proof handed to a pure checker, I/O and SQLite
//! failures, a damaged log that must not be appended to.

use std::path::PathBuf;

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// A caller passed arguments that make no sense (index beyond size, from > to, ...).
    #[error("invalid argument: {0}")]
    InvalidArgument(String),

    /// A Merkle proof, tree head or entry failed a cryptographic check.
    #[error("verification failed: {0}")]
    Verification(String),

    /// An entry body is not a valid canonical version-1 event.
    #[error("bad entry encoding: {0}")]
    Encoding(String),

    /// The log on disk is inconsistent in a way that makes appending unsafe (for example entries
    /// were removed behind the log's back). Run `verify_full` to see where.
    #[error("ledger is damaged, refusing to append: {0}")]
    Damaged(String),

    /// The stored log differs from what was appended (an entry, a leaf hash, a node or a head
    /// was changed behind the ledger's back), so nothing is signed over it.
    #[error("the stored audit ledger differs from what was appended: {0}")]
    Altered(crate::report::Problem),

    /// A key file (the signing key, or a public key given to check with) is missing,
    /// unreadable, malformed or too widely readable.
    #[error("key file {path}: {reason}")]
    Key {
        /// The key file.
        path: PathBuf,
        /// What is wrong with it.
        reason: String,
    },

    /// A group commit failed; the message is the error of the batch (I/O and SQLite errors cannot
    /// be cloned to every caller that shared the transaction).
    #[error("append failed: {0}")]
    Append(String),

    /// The database URL is wrong, or no connection to PostgreSQL could be made (the message
    /// says what to do).
    #[error("cannot connect to PostgreSQL: {0}")]
    Connect(String),

    /// SQLite failed.
    #[error("sqlite: {0}")]
    Sqlite(#[from] rusqlite::Error),

    /// File I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),

    /// JSON (de)serialisation failed.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

pub(crate) fn invalid(msg: impl Into<String>) -> Error {
    Error::InvalidArgument(msg.into())
}

pub(crate) fn failed(msg: impl Into<String>) -> Error {
    Error::Verification(msg.into())
}

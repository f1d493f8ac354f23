//! The crate's one error type.

use std::path::PathBuf;

/// Why a witness refuses a checkpoint; each maps to the status `tlog-witness` gives it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// 400: the request is not an `add-checkpoint` body.
    #[error("malformed request: {0}")]
    Malformed(String),
    /// 404: the witness does not know the log.
    #[error("unknown log {0:?}: start the witness with --log and the log's verifier key")]
    UnknownLog(String),
    /// 403: no valid signature by the log's known key.
    #[error("the checkpoint is not validly signed by the log's key: {0}")]
    BadSignature(String),
    /// 409: the client's old size is not the size the witness last cosigned.
    #[error("the witness last cosigned size {0}; prove consistency from that size")]
    Conflict(u64),
    /// 422: the checkpoint does not extend what the witness cosigned (a fork or a bad proof).
    #[error("the checkpoint does not extend the one the witness cosigned: {0}")]
    Inconsistent(String),
}

impl Refusal {
    /// The HTTP status of the refusal.
    pub fn status(&self) -> u16 {
        match self {
            Refusal::Malformed(_) => 400,
            Refusal::BadSignature(_) => 403,
            Refusal::UnknownLog(_) => 404,
            Refusal::Conflict(_) => 409,
            Refusal::Inconsistent(_) => 422,
        }
    }
}

/// Everything that can go wrong in this crate.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The witness refused a checkpoint.
    #[error(transparent)]
    Refused(#[from] Refusal),
    /// A witness answered a push with a status this client does not act on.
    #[error("witness {url} answered {status}: {body}")]
    Answer {
        url: String,
        status: u16,
        body: String,
    },
    /// The witness could not be reached.
    #[error("cannot reach witness {url}: {reason}; check that it runs and the URL is right")]
    Unreachable { url: String, reason: String },
    /// The witness's state directory cannot be used.
    #[error("witness state {path}: {reason}")]
    State { path: PathBuf, reason: String },
    /// Formats, keys and proofs.
    #[error(transparent)]
    Ledger(#[from] anpr_ledger::Error),
    /// File I/O failed.
    #[error("i/o: {0}")]
    Io(#[from] std::io::Error),
}

/// Result with the crate's [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

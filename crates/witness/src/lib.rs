//! A witness of the audit ledger, as the C2SP `tlog-witness` protocol describes one: an
//! overseer's small service, with its own key, that cosigns a log's new checkpoint only when a
//! consistency proof shows that it extends the last checkpoint the witness cosigned for that
//! log. A history rewritten by whoever holds the log's signing key then lacks the witnesses'
//! cosignatures, and a reader who requires them rejects it without ever having saved a head.
//!
//! * [`Witness`] decides one `add-checkpoint` request (pure but for its state file) and
//!   [`service::router`] serves it over HTTP: `POST /add-checkpoint`, and
//!   `GET /<hex SHA-256 of the origin>/checkpoint` for monitors.
//! * [`state::State`] keeps the latest cosigned checkpoint of each log in its own file, written
//!   and synced before the cosignature is returned.
//! * [`client::push`] is the log's side: it submits a checkpoint with a consistency proof and,
//!   when the witness answers with another size (409), proves from that size instead.
//!
//! The formats and proof checks are `anpr-ledger`'s (`anpr_ledger::note`, `merkle`); this crate
//! never opens the platform's stores or its ledger.

pub mod client;
mod error;
pub mod service;
pub mod state;
mod witness;

pub use error::{Error, Refusal, Result};
pub use witness::{request_body, Witness, KEY_FILE, NAME_FILE};

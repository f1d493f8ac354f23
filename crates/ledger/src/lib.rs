//! Tamper-evident audit ledger: every use of the platform as an entry of an append-only Merkle
//! log, the way Certificate Transparency logs certificates, so that an overseer outside the police
//! can check that the record of use is complete and unaltered.
//!
//! # Design
//!
//! * **Entries** ([`event`]) are canonical JSON (sorted keys, no whitespace, `"v":1`, or `"v":2`
//!   with a random entry salt for the redactable entries appended now, see [`redact`]) of an
//!   [`Event`]: sequence number, time, actor, action, purpose, file number, justification, query
//!   parameters, a digest of the results (count and hash of read ids, never the data), outcome.
//!   What an entry records is typed ([`audit`]): the [`Action`], and the [`AuditFacts`] for
//!   oversight written into its query under fixed keys.
//! * **Tree** ([`merkle`]): RFC 6962 / RFC 9162. Leaf hash = SHA-256(0x00 ‖ entry bytes) for a
//!   version-1 entry, SHA-256(0x00 ‖ its commitments document) for a version-2 one
//!   ([`entry_leaf_hash`], the one function every part of the crate hashes a body with), node
//!   hash = SHA-256(0x01 ‖ left ‖ right), the RFC's shape for any size (split at the largest power
//!   of two below n), empty tree = SHA-256(""). Inclusion and consistency proofs are exactly the
//!   RFC's PATH and PROOF, verified with the algorithms of RFC 9162 §2.1.3.2 and §2.1.4.2.
//! * **Storage** ([`store`]): a directory holding
//!   - `ledger.sqlite` — `entries(idx, time, body, leaf_hash)`, `tree_heads`, `checkpoints` and
//!     `cosignatures` (the heads as C2SP signed notes, see [`note`]), `meta`; WAL journal,
//!     `synchronous=FULL`. This is the source of truth.
//!   - `ledger-nodes/level-NN` — the hash of every perfect subtree, 32-byte records per level
//!     (≈ 64 bytes per entry in all). Any proof node is one record or a fold of O(log n) records
//!     at the right edge, so proofs take O(log n) reads and never recompute the tree. These files
//!     are derived data: synced every 2^20 entries and at each signed head, rebuilt from the stored
//!     leaf hashes at open for whatever was not synced. Open also checks, in O(log n), the last
//!     leaf hashes and the latest signed head against them; a log that fails (or that has fewer
//!     entries than were ever synced or signed) is opened *damaged*: readable and verifiable, but
//!     refusing appends and signatures ([`Ledger::damaged`]).
//!   - `ledger-signing-key` (PKCS#8 PEM, mode 0600) and `ledger-signing-key.pub` (SPKI PEM).
//!   - `append.lock` ([`APPEND_LOCK_FILE`]), empty: the directory's `flock`.
//!
//!   Any number of handles and processes may open one directory (the CLI beside a running
//!   `anpr serve`). Appends are serialised by an exclusive `flock` on `append.lock`, held from
//!   before the store's `BEGIN IMMEDIATE` until the batch's node hashes are written; inside it
//!   the ledger reads where the log ends now, catches up on the leaf hashes the others appended
//!   (extending its frontier and the node files) and numbers its entries after them.
//!   [`Ledger::refresh`], signing and `verify_full` catch up the same way; heads are signed under
//!   the lock, so they are stored in the order the log grew. Node records are written with
//!   `pwrite` at their own offsets (two writers of a record write the same 32 bytes) and never
//!   cut short: recovery at open, under the lock, rewrites what was not synced in place.
//!
//!   Several servers share one log through [`store::PgStore`] instead of `ledger.sqlite`:
//!   entries and heads in PostgreSQL, appends serialised by an advisory lock and numbered after
//!   catching up on the other processes' entries in the same way; node files and keys stay in
//!   each server's directory, and every server must hold the same key.
//! * **Appends** ([`Ledger::append`]) are group-committed: concurrent callers share one SQLite
//!   transaction and one fsync; each call returns only after its transaction is durable. A crash
//!   loses only unacknowledged appends. Sequence number = log index, assigned at commit (after
//!   whatever other handles and processes committed before).
//! * **Threads**: [`Ledger`] is `Send + Sync`; proofs read the node files with `pread` under a shared
//!   lock only, entries are read on a second SQLite connection, `verify_full` on a third.
//! * **Signed tree heads** ([`TreeHead`]): Ed25519 over the text
//!   `"anpr-ledger tree head v1\nkey_id=<hex>\nsize=<n>\nroot_hash=<hex>\ntimestamp=<rfc3339>\n"`
//!   (see [`head`]); heads signed now use version 2 of that text, which adds one line per
//!   network with the number of version-2 entries below `size` that touched it (its
//!   `network_ids` fact). [`Ledger::maybe_sign`] signs when entries arrived and the interval
//!   (60 s by default) has passed. Every head is kept.
//! * **Network slices** ([`slice`], [`statement`]): a camera network's entries of a month,
//!   redacted to what it may see, with inclusion proofs, checked complete against the heads'
//!   counters by [`verify_slice`]; its signed monthly statement, recomputed by
//!   [`verify_statement`].
//! * **Verification**: [`Ledger::verify_full`] recomputes everything from the entry bodies and
//!   reports the first bad index and what is wrong (edited, deleted, reordered, inserted,
//!   truncated, bad signature, forked head); [`verify_remote`] checks a server against a head an
//!   overseer saved earlier, from JSON alone; a [`Monitor`] checks every entry added since the
//!   last head it verified, from the frontier it saved at that head.
//!
//! # Wire formats
//!
//! In JSON, every binary value — hashes, signatures — is lowercase hex; entry bodies are strings
//! holding the canonical JSON text. [`TreeHead`], [`InclusionProof`], [`ConsistencyProof`],
//! [`StoredEntry`], [`EntryProof`] and [`VerifyReport`] are serde types ready for the HTTP API.
//! (Only the test vectors of transparency-dev use base64; the tests convert them.)
//!
//! # For ARCHITECTURE.md
//!
//! The audit ledger (`crates/ledger`) records every use of the platform as an entry of an RFC 6962
//! Merkle log: canonical, versioned JSON events in the ledger's own SQLite file (WAL,
//! `synchronous=FULL`), the hash of every perfect subtree in per-level flat files so that
//! inclusion and consistency proofs are O(log n) reads, and Ed25519-signed tree heads, all kept.
//! Callers append the event before returning the result it describes; concurrent appends are
//! group-committed and acknowledged only once durable, so a crash loses only requests that never
//! got an answer. Processes sharing a ledger directory (the CLI beside the server) append under
//! an `flock` on its `append.lock`, each first catching up on the others' leaf hashes and
//! numbering its entries after them. `verify_full` rebuilds the tree from the stored bodies and
//! checks every stored hash and signed head, reporting the first bad index; `verify_remote` lets
//! an overseer check a running server, from its JSON alone, against a tree head saved earlier.
//! Architecture
//! invariant: the ledger only ever appends — no code path updates or deletes an entry, a stored
//! hash or a signed tree head, and nothing outside `crates/ledger` writes to its files.

mod append_lock;
pub mod audit;
pub mod bench;
pub mod bounded;
mod canonical;
mod checker;
pub mod error;
pub mod event;
pub mod evidence;
mod find;
pub mod head;
mod hexser;
pub mod keys;
mod ledger;
pub mod merkle;
pub mod monitor;
pub mod note;
mod proofs;
pub mod redact;
mod remote;
mod report;
pub mod slice;
pub mod statement;
pub mod store;
mod verify;

pub use append_lock::APPEND_LOCK_FILE;
pub use audit::{Action, AuditFacts, Channel, PlateMode};
pub use checker::Checker;
pub use error::{Error, Result};
pub use event::{Actor, ActorKind, Event, Outcome, OutcomeKind, ResultDigest};
pub use evidence::EvidenceDigest;
pub use find::{EntryFilter, FoundEntries, MAX_FOUND_PER_CALL, MAX_SCANNED_PER_CALL};
pub use head::TreeHead;
pub use hexser::parse_hash;
pub use ledger::{Ledger, Options, MAX_ENTRIES_PER_CALL, NODES_DIR};
pub use merkle::Hash;
pub use monitor::{Monitor, MonitorState};
pub use proofs::{ConsistencyProof, EntryProof, InclusionProof};
pub use redact::{entry_leaf_hash, hmac_sha256, Redacted};
pub use remote::{verify_remote, verify_samples};
pub use report::{Problem, ProblemKind, VerifyReport};
pub use slice::{verify_slice, Month, NetworkSlice, SliceEntry, VerifiedSlice};
pub use statement::{verify_statement, NetworkStatement, SignedStatement, StatementCounts};
pub use store::{EntryPage, StoredEntry};

#[cfg(test)]
mod send_sync {
    #[test]
    fn ledger_is_send_and_sync() {
        fn check<T: Send + Sync>() {}
        check::<super::Ledger>();
    }
}

//! Continuous integrity monitoring: the audit that took six months, as one pass over the ledger.
//!
//! The input is the audit ledger's entries ([`anpr_ledger::Event`], each turned into a [`Use`]
//! by [`Use::from_event`]) and the registers (through the [`Facts`] read trait, which
//! [`RegisterFacts`] implements over the policy's `RegisterView`). The output is [`Finding`]s:
//! which rule, how serious, whose conduct, which ledger entries are the evidence, and a
//! plain-language explanation an integrity officer can act on.
//!
//! [`Engine`] is a streaming pass: every use is looked at once, against per-member-of-staff and
//! per-(staff, plate) state in hash maps, so the cost is linear in the entries and an engine
//! kept between runs checks the newest entries incrementally (`feed` the new ones, then
//! `finish`). The rules and their thresholds are in [`IntegrityConfig`], loaded from a JSON
//! file with defaults for everything left out.
//!
//! The rules (see [`Rule`]): own or connected vehicle (by plate, by pattern, by subject access);
//! stolen report used to unlock tracking; weak or reused justification; repeated interest,
//! polling and walking read ids; unusual volume or hours; tracking beyond need (renewal chains,
//! after recovery, rolling emergencies); approvals not the supervisor's to give; tracking one
//! administrator staged alone. Each weighs evidence (see `evidence` and each rule's module
//! docs): no single ordinary condition of police work makes a finding. [`Rule::RoutineSample`]
//! is not a suspicion: a configurable share of queries picked at random for a supervisor's
//! routine review.

mod config;
mod engine;
mod error;
mod evidence;
mod facts;
mod hash;
mod histogram;
use anpr_domain::finding;
/// The review workflow (data and transitions) lives in the domain, so the store keeps cases
/// without depending on the rules.
pub use anpr_domain::review;
mod rules;
mod score;
mod text;
mod usage;
mod window;

pub use config::*;
pub use engine::{Engine, RunStats};
pub use error::{IntegrityError, Result};
pub use facts::{Facts, MemoryFacts, RegisterFacts, StaffProfile};
pub use finding::{Finding, Rule, Severity, MAX_EVIDENCE};
pub use score::{score, ClassScore, Expected, RuleScore, Score};
pub use text::{near_duplicate_keys, normalise_justification};
pub use usage::{Use, UseKeys, UseKind};

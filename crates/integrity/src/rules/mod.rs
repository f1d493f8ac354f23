//! The rule families, each an `impl Engine` block with its own tests. Each module's docs state
//! its evidence model: which facts raise suspicion, by how much, and what total makes a finding
//! (see [`crate::evidence`]).

mod activity;
pub(crate) mod approval;
pub(crate) mod emergency;
pub(crate) mod enumeration;
mod interest;
mod justification;
mod own_vehicle;
mod staged;
mod stolen;
mod tracking;

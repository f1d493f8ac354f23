//! The rule families, each an `impl Engine` block with its own tests.

mod activity;
mod interest;
mod justification;
mod own_vehicle;
mod stolen;
mod tracking;

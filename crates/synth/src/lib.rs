//! Synthetic but realistic data for the demo and the benchmark.
//!
//! The platform must be shown and measured without real plate reads, which are personal
//! information. This crate makes a stand-in that behaves like the real thing where it
//! matters: real New Zealand towns at their true coordinates and police districts, plausible
//! NZ plates, plate images an OCR engine can read, and sightings with the skew of real traffic
//! (busy plates, commuters, daytime peaks in NZ local time). Everything is deterministic in a
//! seed and does no I/O: it returns values and bytes, and the caller stores them.

#![forbid(unsafe_code)]

pub mod catalog;
mod error;
pub mod font;
mod mix;
pub mod places;
pub mod plates;
pub mod reads;
pub mod render;
pub mod usage;

pub use error::SynthError;

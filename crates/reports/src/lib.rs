//! Reports on the use of the platform, shaped as pure functions.
//!
//! The store aggregates (SQL `GROUP BY` over the recorded decisions, the alerts and, when the
//! integrity unit's findings table exists, its findings) into [`usage::UsageRow`]s; this crate
//! turns them into what people read:
//!
//! * [`usage`]: the usage report for auditors, supervisors, the integrity unit and admins —
//!   counts per month, optionally by district, purpose or network, as JSON or CSV;
//! * [`transparency`]: the public transparency report of one month — national figures, a
//!   district breakdown where it is safe, and 24 months of trend drawn as an inline SVG chart —
//!   with counts below [`suppress::THRESHOLD`] suppressed, and complementary suppression so that
//!   no suppressed count can be worked out from the totals;
//! * [`subject`]: the answer to a subject access request about one plate.
//!
//! No I/O, no clock (times are passed in), no SQL and no HTTP: every function here can be tested
//! against hand-counted fixtures.

mod chart;
mod error;
pub mod period;
pub mod subject;
pub mod suppress;
pub mod transparency;
pub mod usage;

pub use chart::escape;
pub use error::{ReportError, Result};
pub use period::Month;
pub use usage::{Grouping, Measure, Measures, UsageCounts, UsageQuery, UsageReport, UsageRow};

//! Domain types of the accountable ANPR platform.
//!
//! Everything here is plain data and pure functions: plate normalisation and format profiles,
//! the OCR confusion classes, the search query language, geography, the accepted image formats, and the request context
//! that says who is asking and why. No I/O, so every other crate can depend on it and it can be
//! tested exhaustively.

pub mod alert;
pub mod confusion;
pub mod context;
pub mod error;
pub mod finding;
pub mod geo;
pub mod image_format;
pub mod model;
pub mod plate;
pub mod query;
pub mod review;
pub mod usage;

pub use alert::{Alert, AlertAudience, AlertKind};
pub use confusion::{class_key, confusable};
pub use context::{Actor, Purpose, RequestContext};
pub use error::DomainError;
pub use geo::{Area, GeoPoint};
pub use image_format::ImageFormat;
pub use model::*;
pub use plate::{NormalisedPlate, PlateFormat};
pub use query::{PlatePattern, SearchQuery, TimeRange};

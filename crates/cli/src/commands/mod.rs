pub mod bundle;
pub mod catalog;
pub mod demo;
pub mod import;
pub mod ledger;
pub mod purge;
pub mod search;
pub mod serve;
pub mod user;

use anpr_server::{AppState, ServerConfig};
use std::path::Path;

/// Opens the embedded deployment for a command-line operation.
pub fn open(data: &Path) -> anyhow::Result<AppState> {
    AppState::open_embedded(data, ServerConfig::default())
}

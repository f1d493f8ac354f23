pub mod catalog;
pub mod demo;
pub mod import;
pub mod purge;
pub mod registers;
pub mod search;
pub mod serve;
pub mod user;

use anpr_server::{AppState, ServerConfig};
use std::path::Path;

/// Opens the embedded deployment for a command-line operation.
pub fn open(data: &Path) -> anyhow::Result<AppState> {
    AppState::open_embedded(data, ServerConfig::default())
}

/// Reads a password from `ANPR_PASSWORD` or, failing that, one line of standard input.
pub fn read_password(prompt: &str) -> anyhow::Result<String> {
    match std::env::var("ANPR_PASSWORD") {
        Ok(p) => Ok(p),
        Err(_) => {
            let mut line = String::new();
            eprintln!("{prompt}");
            std::io::stdin().read_line(&mut line)?;
            Ok(line.trim_end_matches(['\r', '\n']).to_string())
        }
    }
}

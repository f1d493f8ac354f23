//! Prerequisites of the workspace's tests, in one place so that every test treats a missing
//! one alike: on a developer's machine it skips, saying what is missing and how to get it; in
//! CI (`ANPR_REQUIRE_ALL_TESTS=1`, set by `.ci/run`) it fails, so that a skip never reads as a
//! pass.
//!
//! Architecture invariant: a dev-dependency only, with no dependencies of its own; no product
//! crate links it.

use std::path::{Path, PathBuf};

/// The variable that turns a skip into a failure.
pub const REQUIRE_ALL: &str = "ANPR_REQUIRE_ALL_TESTS";

/// Whether every prerequisite is required (CI).
pub fn all_required() -> bool {
    std::env::var(REQUIRE_ALL).as_deref() == Ok("1")
}

/// Skips the calling test because `reason` (what is missing, and how to get it): prints it,
/// or panics when [`all_required`].
pub fn skip(reason: &str) {
    if all_required() {
        panic!("prerequisite missing, and {REQUIRE_ALL}=1 requires every test to run: {reason}");
    }
    eprintln!("skipped: {reason}");
}

/// The PostgreSQL server's URL for tests (`ANPR_TEST_POSTGRES_URL`), or `None` after
/// [`skip`].
pub fn postgres_url() -> Option<String> {
    match std::env::var("ANPR_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => Some(url),
        _ => {
            skip(
                "ANPR_TEST_POSTGRES_URL is not set (e.g. postgres://postgres@127.0.0.1:5432/test)",
            );
            None
        }
    }
}

/// The shared test material (`../shared` beside the repository, or `ANPR_SHARED_DIR`).
pub fn shared_dir() -> PathBuf {
    std::env::var_os("ANPR_SHARED_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared"))
}

/// `relative` under [`shared_dir`] if it is there, or `None` after [`skip`].
pub fn shared(relative: &str) -> Option<PathBuf> {
    let path = shared_dir().join(relative);
    if path.exists() {
        Some(path)
    } else {
        skip(&format!(
            "{} is absent (the shared test material; set ANPR_SHARED_DIR to where it is)",
            path.display()
        ));
        None
    }
}

/// The recognition models' directory (`ANPR_MODELS_DIR`) if it is set and `installed` says
/// the models are there, or `None` after [`skip`].
pub fn models_dir(installed: impl Fn(&Path) -> bool) -> Option<PathBuf> {
    let dir = std::env::var_os("ANPR_MODELS_DIR")
        .filter(|d| !d.is_empty())
        .map(PathBuf::from);
    match dir {
        Some(dir) if installed(&dir) => Some(dir),
        Some(dir) => {
            skip(&format!(
                "the recognition models are not installed in {} (run `anpr models install --models {0}`)",
                dir.display()
            ));
            None
        }
        None => {
            skip("ANPR_MODELS_DIR is not set (run `anpr models install` and point ANPR_MODELS_DIR at the models)");
            None
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::process::Command;

    const CHILD: &str = "ANPR_TESTKIT_CHILD";
    const NAME: &str = "tests::a_skip_passes_with_a_message_and_fails_when_all_are_required";

    /// Runs this very test again in a child process, as the part that skips.
    fn child(require_all: Option<&str>) -> std::process::Output {
        let mut cmd = Command::new(std::env::current_exe().unwrap());
        cmd.args(["--exact", NAME, "--nocapture", "--test-threads=1"])
            .env(CHILD, "1")
            .env_remove(REQUIRE_ALL);
        if let Some(value) = require_all {
            cmd.env(REQUIRE_ALL, value);
        }
        cmd.output().unwrap()
    }

    #[test]
    fn a_skip_passes_with_a_message_and_fails_when_all_are_required() {
        if std::env::var_os(CHILD).is_some() {
            skip("the frobnicator is not installed");
            return;
        }
        let skipped = child(None);
        let said = String::from_utf8_lossy(&skipped.stderr);
        assert!(skipped.status.success(), "{said}");
        assert!(
            said.contains("skipped: the frobnicator is not installed"),
            "{said}"
        );

        let failed = child(Some("1"));
        let said = String::from_utf8_lossy(&failed.stdout).to_string()
            + &String::from_utf8_lossy(&failed.stderr);
        assert!(!failed.status.success(), "{said}");
        assert!(
            said.contains("ANPR_REQUIRE_ALL_TESTS=1 requires every test to run"),
            "{said}"
        );

        // Only "1" requires: any other value leaves skips as skips.
        assert!(child(Some("0")).status.success());
    }
}

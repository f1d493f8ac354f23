//! The deployment's files on disk: the database holds password and session hashes and the
//! registers' personal data, the images are of people's cars, so nothing the platform creates
//! is readable by other local users (directories 0700, files 0600).
//!
//! Paths that already exist are left as they are (an operator may have reasons, such as a
//! backup agent in the group); the server warns at start about each one others can read.

use std::fs::{DirBuilder, OpenOptions};
use std::io;
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt, PermissionsExt};
use std::path::Path;

/// Creates `dir` and any missing parents with mode 0700.
pub fn private_dir(dir: &Path) -> io::Result<()> {
    DirBuilder::new().recursive(true).mode(0o700).create(dir)
}

/// Creates `file` empty with mode 0600 unless it exists. SQLite takes an empty file as a new
/// database (and `VACUUM INTO` as its target), and creates its `-wal` and `-shm` files with
/// the database's mode.
pub fn private_file(file: &Path) -> io::Result<()> {
    match OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)
    {
        Ok(_) => Ok(()),
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => Ok(()),
        Err(e) => Err(e),
    }
}

/// A warning for people when other local users can read or enter `path`; `None` when they
/// cannot or it does not exist.
pub fn exposure_warning(path: &Path) -> Option<String> {
    let mode = std::fs::metadata(path).ok()?.permissions().mode() & 0o777;
    (mode & 0o077 != 0).then(|| {
        let fix = if path.is_dir() {
            "chmod 700"
        } else {
            "chmod 600"
        };
        format!(
            "{} is readable by other users of this machine (mode {mode:o}); it holds personal \
             data: run `{fix} {}` unless that is intended",
            path.display(),
            path.display()
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mode(p: &Path) -> u32 {
        std::fs::metadata(p).unwrap().permissions().mode() & 0o777
    }

    #[test]
    fn created_paths_are_private_and_existing_ones_are_left_with_a_warning() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = tmp.path().join("a/b");
        private_dir(&dir).unwrap();
        assert_eq!(mode(&dir), 0o700);
        assert_eq!(mode(&tmp.path().join("a")), 0o700);
        let file = dir.join("db");
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o600);
        assert_eq!(exposure_warning(&file), None);
        assert_eq!(exposure_warning(&dir), None);

        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o644)).unwrap();
        private_file(&file).unwrap();
        assert_eq!(mode(&file), 0o644, "an existing file is not changed");
        let warning = exposure_warning(&file).unwrap();
        assert!(warning.contains("chmod 600"), "{warning}");
        assert_eq!(exposure_warning(&tmp.path().join("missing")), None);
    }
}

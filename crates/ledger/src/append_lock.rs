//! The ledger directory's append lock: an advisory `flock(2)` on `<dir>/append.lock`, shared by
//! every [`crate::Ledger`] handle on the directory, in this process or another (the CLI beside
//! a running server).
//!
//! Held exclusively while a handle opens the ledger (creating the key, recovering the node
//! files), for each group commit from before the entry store's `begin_append` until the batch's
//! node hashes are written, while a tree head is signed and stored, and while `verify_full`
//! takes its snapshot. So, while it is held, nobody else commits entries, and no node file holds
//! hashes of entries the holder cannot see.
//!
//! `flock` locks belong to the open file description, so two handles in one process (each with
//! its own descriptor) exclude each other as two processes do; a handle takes its lock only
//! while holding its writer mutex, never twice at once. The kernel drops the lock of a process
//! that dies.

use std::fs::{File, OpenOptions};
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::OpenOptionsExt;
use std::path::Path;

use crate::error::Result;

/// File name of the lock file inside the ledger directory (it stays empty).
pub const APPEND_LOCK_FILE: &str = "append.lock";

/// The lock file of one ledger directory.
#[derive(Debug)]
pub(crate) struct AppendLock {
    file: File,
}

/// The lock, held until dropped.
#[must_use = "the lock is released when the guard is dropped"]
pub(crate) struct Held<'a>(&'a AppendLock);

fn flock(file: &File, op: libc::c_int) -> io::Result<()> {
    loop {
        // SAFETY: flock only reads its arguments; the descriptor is open for as long as `file`.
        if unsafe { libc::flock(file.as_raw_fd(), op) } == 0 {
            return Ok(());
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

impl AppendLock {
    /// Opens (creating if needed) the lock file of the ledger directory `dir`.
    pub(crate) fn open(dir: &Path) -> Result<Self> {
        let file = OpenOptions::new()
            .read(true)
            .write(true)
            .create(true)
            .truncate(false)
            .mode(0o600)
            .open(dir.join(APPEND_LOCK_FILE))?;
        Ok(Self { file })
    }

    /// Waits until no other handle holds the lock, then holds it until the guard is dropped.
    pub(crate) fn lock(&self) -> Result<Held<'_>> {
        flock(&self.file, libc::LOCK_EX)?;
        Ok(Held(self))
    }
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        // Cannot fail for a valid descriptor; closing it would release the lock anyway.
        let _ = flock(&self.0.file, libc::LOCK_UN);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc;
    use std::time::Duration;

    #[test]
    fn two_descriptors_exclude_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let a = AppendLock::open(dir.path()).unwrap();
        let b = AppendLock::open(dir.path()).unwrap();
        let held = a.lock().unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::scope(|s| {
            s.spawn(|| {
                let _held = b.lock().unwrap();
                tx.send(()).unwrap();
            });
            assert!(rx.recv_timeout(Duration::from_millis(200)).is_err());
            drop(held);
            rx.recv_timeout(Duration::from_secs(10)).unwrap();
        });
        drop(a.lock().unwrap());
    }
}

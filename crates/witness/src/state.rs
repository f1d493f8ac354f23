//! The witness's memory: for each log, the latest checkpoint it cosigned (the note as it
//! answered it, log signatures and its own cosignature), one file per log named by the
//! SHA-256 of the origin. A file is written aside, synced, renamed over the old one and the
//! directory synced, so a crash leaves the old checkpoint or the new, never a torn one; and it
//! is durable before the cosignature leaves the witness, so a restarted witness never cosigns
//! a fork of what it already vouched for.

use std::collections::HashMap;
use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};

use anpr_ledger::note::{Checkpoint, Note};
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// Directory (inside the witness's) of the per-log files.
const LOGS_DIR: &str = "logs";

/// The latest cosigned checkpoints, on disk and in memory.
pub struct State {
    dir: PathBuf,
    latest: HashMap<String, Note>,
}

/// The file name a log's state is kept under, and the `<origin hash>` of the monitoring URL.
pub fn origin_hash(origin: &str) -> String {
    hex::encode(Sha256::digest(origin.as_bytes()))
}

impl State {
    /// Loads the state kept in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        let dir = dir.join(LOGS_DIR);
        fs::create_dir_all(&dir)?;
        let mut latest = HashMap::new();
        for entry in fs::read_dir(&dir)? {
            let path = entry?.path();
            if path.extension().is_some_and(|e| e == "tmp") {
                continue;
            }
            let bad = |reason: String| Error::State {
                path: path.clone(),
                reason: format!(
                    "{reason}; the file was changed outside the witness: restore it from a backup"
                ),
            };
            let text = fs::read_to_string(&path)?;
            let note = Note::parse(&text).map_err(|e| bad(e.to_string()))?;
            let cp = Checkpoint::parse(&note.text).map_err(|e| bad(e.to_string()))?;
            latest.insert(cp.origin, note);
        }
        Ok(Self { dir, latest })
    }

    /// The latest checkpoint cosigned for `origin`.
    pub fn latest(&self, origin: &str) -> Option<&Note> {
        self.latest.get(origin)
    }

    /// Records `note` as the latest cosigned checkpoint of `origin`, durably.
    pub fn record(&mut self, origin: &str, note: Note) -> Result<()> {
        let path = self.dir.join(origin_hash(origin));
        let tmp = path.with_extension("tmp");
        {
            let mut f = fs::File::create(&tmp)?;
            f.write_all(note.to_string().as_bytes())?;
            f.sync_all()?;
        }
        fs::rename(&tmp, &path)?;
        fs::File::open(&self.dir)?.sync_all()?;
        self.latest.insert(origin.to_owned(), note);
        Ok(())
    }
}

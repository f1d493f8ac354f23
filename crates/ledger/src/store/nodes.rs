//! Perfect-subtree hashes in flat files, one per level: `level-NN` holds `node(NN, i)` for
//! i = 0, 1, 2, ... as consecutive 32-byte records.
//!
//! Why flat files and not table rows: a 100-million-entry log has about 200 million perfect nodes;
//! as SQLite rows they cost tens of bytes of overhead each and minutes to insert, as records they
//! cost exactly 32 bytes (6.4 GB) and a sequential write. A node is found by arithmetic, so a proof
//! is a few dozen `pread`s. Readers need no lock beyond a brief shared one on the file list.
//!
//! Several handles and processes may share the files (everyone with the ledger directory
//! open). Every write is a `pwrite` of whole records at their own offsets, and `node(l, i)` has
//! exactly one possible value, so two writers of the same record write the same bytes and
//! either order leaves the same file. Nothing the ledger runs cuts a file short.

use std::fs::{self, File, OpenOptions};
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::sync::RwLock;

use crate::error::{invalid, Result};
use crate::merkle::{Hash, NodeSource};

const RECORD: u64 = 32;

/// The level files of one log.
#[derive(Debug)]
pub struct NodeFiles {
    dir: PathBuf,
    levels: RwLock<Vec<File>>,
}

fn file_name(level: u32) -> String {
    format!("level-{level:02}")
}

impl NodeFiles {
    /// Opens (creating the directory if needed) the level files in `dir`.
    pub fn open(dir: &Path) -> Result<Self> {
        fs::create_dir_all(dir)?;
        let mut levels = Vec::new();
        loop {
            let path = dir.join(file_name(levels.len() as u32));
            if !path.exists() {
                break;
            }
            levels.push(OpenOptions::new().read(true).write(true).open(path)?);
        }
        Ok(Self {
            dir: dir.to_owned(),
            levels: RwLock::new(levels),
        })
    }

    /// The directory holding the level files.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    fn files(&self) -> std::sync::RwLockReadGuard<'_, Vec<File>> {
        self.levels.read().unwrap_or_else(|p| p.into_inner())
    }

    /// Number of level files.
    pub fn levels(&self) -> u32 {
        self.files().len() as u32
    }

    /// Number of complete records at `level` (0 when the level has no file).
    pub fn len(&self, level: u32) -> Result<u64> {
        match self.files().get(level as usize) {
            Some(f) => Ok(f.metadata()?.len() / RECORD),
            None => Ok(0),
        }
    }

    /// Cuts `level` down to `records` records (also dropping a torn partial record). Only for a
    /// directory no other handle or process has open: theirs would read past the new end.
    pub fn truncate(&self, level: u32, records: u64) -> Result<()> {
        if let Some(f) = self.files().get(level as usize) {
            f.set_len(records * RECORD)?;
        }
        Ok(())
    }

    /// Writes `hashes` as records `index..` of `level`, creating level files as needed.
    pub fn write(&self, level: u32, index: u64, hashes: &[Hash]) -> Result<()> {
        if self.files().len() <= level as usize {
            let mut files = self.levels.write().unwrap_or_else(|p| p.into_inner());
            while files.len() <= level as usize {
                let path = self.dir.join(file_name(files.len() as u32));
                files.push(
                    OpenOptions::new()
                        .read(true)
                        .write(true)
                        .create(true)
                        .truncate(false)
                        .open(path)?,
                );
            }
        }
        self.files()[level as usize].write_all_at(hashes.as_flattened(), index * RECORD)?;
        Ok(())
    }

    /// Reads records `index..index + out.len()` of `level`.
    pub fn read(&self, level: u32, index: u64, out: &mut [Hash]) -> Result<()> {
        let files = self.files();
        let f = files
            .get(level as usize)
            .ok_or_else(|| invalid(format!("no node level {level}")))?;
        f.read_exact_at(out.as_flattened_mut(), index * RECORD)
            .map_err(|e| {
                invalid(format!(
                    "nodes {index}..{} of level {level} are not stored: {e}",
                    index + out.len() as u64
                ))
            })
    }

    /// Flushes every level file and the directory to stable storage.
    pub fn sync(&self) -> Result<()> {
        for f in self.files().iter() {
            f.sync_data()?;
        }
        File::open(&self.dir)?.sync_all()?;
        Ok(())
    }
}

impl NodeSource for NodeFiles {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        let mut h = [[0u8; 32]; 1];
        self.read(level, index, &mut h)?;
        Ok(h[0])
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::merkle::{inclusion_proof, leaf_hash, MemoryTree};

    #[test]
    fn files_answer_like_memory() {
        let dir = tempfile::tempdir().unwrap();
        let files = NodeFiles::open(dir.path()).unwrap();
        let mut mem = MemoryTree::new();
        let mut frontier = crate::merkle::Frontier::new();
        for i in 0..77u32 {
            let leaf = leaf_hash(&i.to_le_bytes());
            mem.push(leaf);
            frontier.push(leaf, |l, j, h| files.write(l, j, &[*h]).unwrap());
        }
        drop(files);
        let files = NodeFiles::open(dir.path()).unwrap();
        assert_eq!(files.levels(), 7);
        assert_eq!(files.len(0).unwrap(), 77);
        assert_eq!(files.len(6).unwrap(), 1);
        for i in 0..77 {
            assert_eq!(
                inclusion_proof(&files, i, 77).unwrap(),
                inclusion_proof(&mem, i, 77).unwrap()
            );
        }
        assert!(files.node(0, 77).is_err());
        files.truncate(0, 10).unwrap();
        assert_eq!(files.len(0).unwrap(), 10);
    }
}

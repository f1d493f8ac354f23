//! Content-addressed storage of plate and overview images.
//!
//! Images are named by their SHA-256, so the same image sent twice is stored once and a stored
//! image can be checked against its name at any time. The database holds only the hashes.
//!
//! Durability is batched: [`BlobStore::put`] writes each file to a temporary name and renames it
//! into place (so a reader never sees half an image), and one [`BlobStore::sync`] per ingest batch
//! makes all of them durable before the batch's reads are committed. One `syncfs` per batch
//! instead of one `fsync` per file is what makes thousands of images a second affordable.

use anpr_domain::ImageHash;
use sha2::{Digest, Sha256};
use std::fs;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

mod object;
pub use object::ObjectBlobStore;

#[derive(Debug, thiserror::Error)]
pub enum BlobError {
    #[error("image store I/O error at {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: io::Error,
    },
    #[error("stored image {0} does not match its hash (corrupted on disk)")]
    Corrupt(String),
    /// The object store failed or could not be reached (or its URL is not usable).
    #[error("image object store: {0}")]
    Remote(String),
}

fn io_err(path: &Path) -> impl FnOnce(io::Error) -> BlobError + '_ {
    move |source| BlobError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// Where images live: the local directory (the embedded default) or an S3-compatible object
/// store ([`ObjectBlobStore`]), which several server processes share.
pub trait BlobStore: Send + Sync {
    /// Stores `bytes` under their hash; storing existing content is a no-op.
    fn put(&self, bytes: &[u8]) -> Result<ImageHash, BlobError> {
        let hash = hash_of(bytes);
        self.put_hashed(&hash, bytes)?;
        Ok(hash)
    }
    /// Stores `bytes` whose SHA-256 the caller has just computed (ingestion hashes each image
    /// once, for the read's row; hashing it again here would double the cost).
    fn put_hashed(&self, hash: &ImageHash, bytes: &[u8]) -> Result<(), BlobError>;
    /// Makes every `put` so far durable.
    fn sync(&self) -> Result<(), BlobError>;
    fn get(&self, hash: &ImageHash) -> Result<Option<Vec<u8>>, BlobError>;
    /// Removes an image; removing a missing image is not an error.
    fn delete(&self, hash: &ImageHash) -> Result<(), BlobError>;
}

pub fn hash_of(bytes: &[u8]) -> ImageHash {
    ImageHash(hex::encode(Sha256::digest(bytes)))
}

/// Images as files under a directory, fanned out by the first two bytes of the hash
/// (`ab/cd/abcd….img`) so no directory grows past a few thousand entries.
pub struct LocalBlobStore {
    root: PathBuf,
    tmp_counter: AtomicU64,
    /// Images written so far, and how many of them the last completed sync covered: a sync
    /// requested while another is under way waits for it and skips its own if it covered
    /// everything this caller wrote (concurrent ingest requests share one `syncfs`).
    written: AtomicU64,
    synced: std::sync::Mutex<u64>,
}

impl LocalBlobStore {
    pub fn open(root: impl Into<PathBuf>) -> Result<Self, BlobError> {
        let root = root.into();
        let tmp = root.join("tmp");
        fs::create_dir_all(&tmp).map_err(io_err(&tmp))?;
        // Leftovers of writes interrupted by a crash were never renamed into place: no read
        // refers to them, so they are removed.
        if let Ok(entries) = fs::read_dir(&tmp) {
            for entry in entries.flatten() {
                let _ = fs::remove_file(entry.path());
            }
        }
        Ok(LocalBlobStore {
            root,
            tmp_counter: AtomicU64::new(0),
            written: AtomicU64::new(0),
            synced: std::sync::Mutex::new(0),
        })
    }

    pub fn root(&self) -> &Path {
        &self.root
    }

    pub fn path_of(&self, hash: &ImageHash) -> PathBuf {
        let h = hash.as_str();
        self.root
            .join(&h[0..2])
            .join(&h[2..4])
            .join(format!("{h}.img"))
    }
}

impl BlobStore for LocalBlobStore {
    fn put_hashed(&self, hash: &ImageHash, bytes: &[u8]) -> Result<(), BlobError> {
        let dest = self.path_of(hash);
        if dest.exists() {
            return Ok(());
        }
        let dir = dest.parent().expect("fan-out path has a parent");
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let n = self.tmp_counter.fetch_add(1, Ordering::Relaxed);
        let tmp =
            self.root
                .join("tmp")
                .join(format!("{}-{}-{n}", hash.as_str(), std::process::id()));
        let written = fs::File::create(&tmp)
            .and_then(|mut f| f.write_all(bytes))
            .map_err(io_err(&tmp))
            .and_then(|()| fs::rename(&tmp, &dest).map_err(io_err(&dest)));
        if let Err(e) = written {
            // A full disk stays full if every failed write leaves its partial file behind.
            let _ = fs::remove_file(&tmp);
            return Err(e);
        }
        self.written.fetch_add(1, Ordering::SeqCst);
        Ok(())
    }

    fn sync(&self) -> Result<(), BlobError> {
        let mine = self.written.load(Ordering::SeqCst);
        let mut synced = self.synced.lock().expect("sync lock");
        if *synced >= mine {
            return Ok(());
        }
        let covers = self.written.load(Ordering::SeqCst);
        let dir = fs::File::open(&self.root).map_err(io_err(&self.root))?;
        sync_filesystem(&dir).map_err(io_err(&self.root))?;
        *synced = covers;
        Ok(())
    }

    fn get(&self, hash: &ImageHash) -> Result<Option<Vec<u8>>, BlobError> {
        let path = self.path_of(hash);
        match fs::read(&path) {
            Ok(bytes) => {
                if hash_of(&bytes) != *hash {
                    return Err(BlobError::Corrupt(hash.0.clone()));
                }
                Ok(Some(bytes))
            }
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(io_err(&path)(e)),
        }
    }

    fn delete(&self, hash: &ImageHash) -> Result<(), BlobError> {
        let path = self.path_of(hash);
        match fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(io_err(&path)(e)),
        }
    }
}

#[cfg(target_os = "linux")]
fn sync_filesystem(f: &fs::File) -> io::Result<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: syncfs only reads the descriptor, which `f` keeps open for the call.
    let rc = unsafe { libc::syncfs(f.as_raw_fd()) };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

#[cfg(not(target_os = "linux"))]
fn sync_filesystem(_f: &fs::File) -> io::Result<()> {
    // Without syncfs, fall back to a global sync.
    unsafe { libc::sync() };
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stores_by_content_and_deduplicates() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let a = store.put(b"first image").unwrap();
        let again = store.put(b"first image").unwrap();
        assert_eq!(a, again);
        store.sync().unwrap();
        assert_eq!(store.get(&a).unwrap().unwrap(), b"first image");
        assert_eq!(
            a.as_str(),
            "fb4516b50946085bd15d6807d1526c967afdfae509a6088b7817853bac9bed0c"
        );
        store.delete(&a).unwrap();
        assert!(store.get(&a).unwrap().is_none());
        store.delete(&a).unwrap();
    }

    #[test]
    fn detects_corruption_on_disk() {
        let dir = tempfile::tempdir().unwrap();
        let store = LocalBlobStore::open(dir.path()).unwrap();
        let h = store.put(b"evidence").unwrap();
        fs::write(store.path_of(&h), b"tampered").unwrap();
        assert!(matches!(store.get(&h), Err(BlobError::Corrupt(_))));
    }

    #[test]
    fn clears_interrupted_writes_on_open() {
        let dir = tempfile::tempdir().unwrap();
        LocalBlobStore::open(dir.path()).unwrap();
        fs::write(dir.path().join("tmp").join("half-written"), b"x").unwrap();
        LocalBlobStore::open(dir.path()).unwrap();
        assert_eq!(fs::read_dir(dir.path().join("tmp")).unwrap().count(), 0);
    }
}

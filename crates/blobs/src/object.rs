//! Images in an S3-compatible object store (AWS S3, MinIO, Ceph, ...), so that several server
//! processes share them: the same content addressing as [`crate::LocalBlobStore`]
//! (`prefix/ab/cd/abcd….img`), each object written whole by one PUT, which the store makes
//! durable before it answers.
//!
//! [`BlobStore`] is synchronous (ingestion calls it on blocking threads, like file I/O); the
//! object store's client is async, so it runs on a small runtime of its own and each call
//! waits for its answer, which works from any thread.

use crate::{BlobError, BlobStore};
use anpr_domain::ImageHash;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as ObjectPath;
use object_store::{ObjectStore, PutPayload};
use std::future::Future;
use std::sync::Arc;

/// Images in an object store under one prefix.
pub struct ObjectBlobStore {
    store: Arc<dyn ObjectStore>,
    prefix: String,
    /// Taken on drop and shut down without waiting (dropping a runtime inside another
    /// runtime's thread would panic).
    runtime: Option<tokio::runtime::Runtime>,
}

fn remote(e: impl std::fmt::Display) -> BlobError {
    BlobError::Remote(e.to_string())
}

impl ObjectBlobStore {
    /// Opens `s3://bucket/prefix`; credentials, region and endpoint come from the standard
    /// variables (`AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_REGION`, `AWS_ENDPOINT`
    /// for an S3-compatible server, `AWS_ALLOW_HTTP=true` for one without TLS).
    pub fn open(url: &str) -> Result<Self, BlobError> {
        let rest = url
            .strip_prefix("s3://")
            .ok_or_else(|| remote(format!("images URL {url:?}: expected s3://bucket/prefix")))?;
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        let store = AmazonS3Builder::from_env()
            .with_bucket_name(bucket)
            .build()
            .map_err(remote)?;
        Self::with_store(Arc::new(store), prefix)
    }

    /// Images in `store` under `prefix` (any `object_store` backend).
    pub fn with_store(store: Arc<dyn ObjectStore>, prefix: &str) -> Result<Self, BlobError> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .thread_name("object-store")
            .enable_all()
            .build()
            .map_err(remote)?;
        Ok(ObjectBlobStore {
            store,
            prefix: prefix.trim_matches('/').to_string(),
            runtime: Some(runtime),
        })
    }

    fn path(&self, hash: &ImageHash) -> Result<ObjectPath, BlobError> {
        let h = hash.as_str();
        // The hash is 64 lowercase hex digits (checked by `ImageHash`); the layout is the local
        // store's, so a directory synced to a bucket is served as it is.
        let key = format!("{}/{}/{h}.img", &h[0..2], &h[2..4]);
        let full = if self.prefix.is_empty() {
            key
        } else {
            format!("{}/{key}", self.prefix)
        };
        ObjectPath::parse(full).map_err(remote)
    }

    /// Runs `f` on the store's runtime and waits for it here.
    fn wait<T: Send + 'static>(
        &self,
        f: impl Future<Output = Result<T, BlobError>> + Send + 'static,
    ) -> Result<T, BlobError> {
        let (tx, rx) = std::sync::mpsc::sync_channel(1);
        self.runtime
            .as_ref()
            .expect("runtime lives until drop")
            .spawn(async move {
                let _ = tx.send(f.await);
            });
        rx.recv()
            .map_err(|_| remote("the request was dropped unanswered"))?
    }
}

impl Drop for ObjectBlobStore {
    fn drop(&mut self) {
        if let Some(rt) = self.runtime.take() {
            rt.shutdown_background();
        }
    }
}

impl BlobStore for ObjectBlobStore {
    fn put_hashed(&self, hash: &ImageHash, bytes: &[u8]) -> Result<(), BlobError> {
        let (store, path) = (self.store.clone(), self.path(hash)?);
        let payload = PutPayload::from(bytes.to_vec());
        self.wait(async move {
            // Content-addressed: writing existing content again changes nothing.
            store.put(&path, payload).await.map_err(remote)?;
            Ok(())
        })
    }

    fn sync(&self) -> Result<(), BlobError> {
        // Every PUT was durable when it was answered.
        Ok(())
    }

    fn get(&self, hash: &ImageHash) -> Result<Option<Vec<u8>>, BlobError> {
        let (store, path) = (self.store.clone(), self.path(hash)?);
        self.wait(async move {
            match store.get(&path).await {
                Ok(found) => Ok(Some(found.bytes().await.map_err(remote)?.to_vec())),
                Err(object_store::Error::NotFound { .. }) => Ok(None),
                Err(e) => Err(remote(e)),
            }
        })
    }

    fn delete(&self, hash: &ImageHash) -> Result<(), BlobError> {
        let (store, path) = (self.store.clone(), self.path(hash)?);
        self.wait(async move {
            match store.delete(&path).await {
                Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
                Err(e) => Err(remote(e)),
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use object_store::memory::InMemory;

    #[test]
    fn images_are_stored_by_hash_under_the_prefix_and_deleted() {
        let memory = Arc::new(InMemory::new());
        let blobs = ObjectBlobStore::with_store(memory.clone(), "/deployment/images/").unwrap();
        let hash = blobs.put(b"jpeg bytes").unwrap();
        assert_eq!(
            blobs.get(&hash).unwrap().as_deref(),
            Some(&b"jpeg bytes"[..])
        );
        let h = hash.as_str();
        let path = format!("deployment/images/{}/{}/{h}.img", &h[0..2], &h[2..4]);
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        assert!(rt
            .block_on(memory.head(&ObjectPath::parse(path).unwrap()))
            .is_ok());
        blobs.delete(&hash).unwrap();
        blobs.delete(&hash).unwrap();
        assert_eq!(blobs.get(&hash).unwrap(), None);
    }

    #[test]
    fn only_s3_urls_are_taken() {
        assert!(ObjectBlobStore::open("ftp://bucket/x").is_err());
    }
}

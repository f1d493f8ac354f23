//! The deployment's Ed25519 signing key: created at first open, kept beside the log.
//!
//! `<dir>/ledger-signing-key` holds the private key as PKCS#8 PEM with mode 0600 (the ledger
//! refuses to open a key that group or others can read); `<dir>/ledger-signing-key.pub` holds the
//! public key as SPKI PEM, so that overseers can use it with any tool (`openssl pkey -pubin`).
//! Both are written to a temporary file, synced, and renamed, so a crash never leaves half a key.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
use ed25519_dalek::SigningKey;
/// The deployment's public key, as [`read_public_key`] gives it (re-exported so that verifiers
/// need not depend on the signature crate).
pub use ed25519_dalek::VerifyingKey;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// File name of the private key inside the ledger directory.
pub const KEY_FILE: &str = "ledger-signing-key";
/// File name of the public key inside the ledger directory.
pub const PUBLIC_KEY_FILE: &str = "ledger-signing-key.pub";

/// The key id written in tree heads: the first 8 bytes of SHA-256 of the raw 32-byte public key,
/// in hex. It tells a verifier which key to use after a key rotation; it is not a security check.
pub fn key_id(key: &VerifyingKey) -> String {
    hex::encode(&Sha256::digest(key.as_bytes())[..8])
}

/// The public key as SPKI PEM (what the `.pub` file holds).
pub fn public_key_pem(key: &VerifyingKey) -> String {
    key.to_public_key_pem(LineEnding::LF)
        .expect("an Ed25519 public key always encodes")
}

/// Parses a public key given as SPKI PEM or as 64 hex characters (raw key).
pub fn parse_public_key(text: &str) -> Result<VerifyingKey> {
    let t = text.trim();
    if t.starts_with("-----BEGIN") {
        return VerifyingKey::from_public_key_pem(t)
            .map_err(|e| Error::Verification(format!("bad public key PEM: {e}")));
    }
    let raw: [u8; 32] = hex::decode(t)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| {
            Error::Verification("public key is neither PEM nor 64 hex characters".into())
        })?;
    VerifyingKey::from_bytes(&raw).map_err(|e| Error::Verification(format!("bad public key: {e}")))
}

/// Reads a public key file (PEM or hex).
pub fn read_public_key(path: &Path) -> Result<VerifyingKey> {
    parse_public_key(&fs::read_to_string(path)?)
}

fn key_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Key {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Loads `<dir>/ledger-signing-key`, creating it (and the public key beside it) when absent.
pub(crate) fn load_or_create(dir: &Path) -> Result<SigningKey> {
    let path = dir.join(KEY_FILE);
    let key = match fs::metadata(&path) {
        Ok(meta) => {
            if meta.permissions().mode() & 0o077 != 0 {
                return Err(key_err(
                    &path,
                    format!(
                        "mode {:o} lets others read it; chmod 600",
                        meta.permissions().mode() & 0o777
                    ),
                ));
            }
            let pem = fs::read_to_string(&path).map_err(|e| key_err(&path, e.to_string()))?;
            SigningKey::from_pkcs8_pem(&pem)
                .map_err(|e| key_err(&path, format!("not a PKCS#8 Ed25519 key: {e}")))?
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = SigningKey::generate(&mut rand::rngs::OsRng);
            let pem = key
                .to_pkcs8_pem(LineEnding::LF)
                .map_err(|e| key_err(&path, e.to_string()))?;
            write_atomically(dir, KEY_FILE, pem.as_bytes(), 0o600)?;
            key
        }
        Err(e) => return Err(key_err(&path, e.to_string())),
    };
    let pub_path = dir.join(PUBLIC_KEY_FILE);
    match read_public_key(&pub_path) {
        Ok(vk) if vk == key.verifying_key() => {}
        Ok(_) => return Err(key_err(&pub_path, "does not match the private key")),
        Err(_) => write_atomically(
            dir,
            PUBLIC_KEY_FILE,
            public_key_pem(&key.verifying_key()).as_bytes(),
            0o644,
        )?,
    }
    Ok(key)
}

fn write_atomically(dir: &Path, name: &str, data: &[u8], mode: u32) -> Result<()> {
    let tmp: PathBuf = dir.join(format!("{name}.tmp"));
    let _ = fs::remove_file(&tmp);
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)?;
    f.write_all(data)?;
    f.sync_all()?;
    fs::rename(&tmp, dir.join(name))?;
    fs::File::open(dir)?.sync_all()?;
    Ok(())
}

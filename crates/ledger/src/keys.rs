//! The deployment's Ed25519 signing key.
//!
//! Whoever can edit the entries and holds the key can rewrite history and re-sign it, so in
//! production the private key lives outside the data directory ([`KeySource::Files`]:
//! `anpr serve --signing-key FILE`). A new embedded deployment without one creates
//! `<dir>/ledger-signing-key` so that the demo runs in one command ([`KeySource::Directory`]),
//! and the server warns about it. Either way the file is PKCS#8 PEM that only its owner may read
//! (mode 0600: a key that group or others can read is refused), and
//! `<dir>/ledger-signing-key.pub` holds the public key as SPKI PEM, so that overseers can use it
//! with any tool (`openssl pkey -pubin`). Keys are written to a temporary file, synced, and
//! renamed, so a crash never leaves half a key.
//!
//! A key rollover ([`KeySource::Files`] with `previous`): heads are signed by the new key and,
//! over the same message, by the key it replaces, so that an overseer who trusts the old key
//! accepts the new one from a head the old one signed. The `.pub` file may name the old key
//! only during a rollover; any other change of key is refused.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};

use ed25519_dalek::pkcs8::{spki::der::pem::LineEnding, DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::pkcs8::{EncodePrivateKey, EncodePublicKey};
/// The signature crate's key types (re-exported so that verifiers need not depend on it).
pub use ed25519_dalek::{SigningKey, VerifyingKey};
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
    let text = fs::read_to_string(path).map_err(|e| {
        key_err(
            path,
            format!(
                "cannot read it ({e}): give the deployment's public key file \
                 (ledger/ledger-signing-key.pub), obtained from its operators"
            ),
        )
    })?;
    parse_public_key(&text).map_err(|e| key_err(path, e.to_string()))
}

fn key_err(path: &Path, reason: impl Into<String>) -> Error {
    Error::Key {
        path: path.to_owned(),
        reason: reason.into(),
    }
}

/// Where the ledger's signing key comes from.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum KeySource {
    /// `<dir>/ledger-signing-key` if it exists; else, for a ledger that has never signed, a new
    /// key created there; else (the key is kept elsewhere) none: entries are appended but
    /// nothing is signed.
    #[default]
    Directory,
    /// A key file outside the ledger directory, and during a rollover the key it replaces.
    Files {
        current: PathBuf,
        previous: Option<PathBuf>,
    },
}

/// The keys a ledger signs with.
pub(crate) struct Keys {
    /// `None`: this process appends but cannot sign (the key is kept elsewhere).
    pub signing: Option<SigningKey>,
    /// During a rollover, the key being replaced: it signs every head too.
    pub previous: Option<SigningKey>,
    pub public: VerifyingKey,
    /// The private key sits in the ledger directory, beside the entries.
    pub in_directory: bool,
    /// Every key the log's heads may be signed with: this one, and the keys it replaced, each
    /// endorsed by its successor (see [`RETIRED_KEYS_FILE`]).
    pub known: Vec<VerifyingKey>,
}

/// File name, inside the ledger directory, of the keys that signed heads before a rollover:
/// JSON `[{"public_key": hex, "successor": key id, "endorsement": hex}]`, where the endorsement
/// is the successor's signature over [`endorsement_message`]. A key counts only when a key
/// already trusted endorsed it, so whoever can write the directory cannot add one of theirs.
pub const RETIRED_KEYS_FILE: &str = "ledger-retired-keys.json";

#[derive(serde::Serialize, serde::Deserialize)]
struct Retired {
    public_key: String,
    successor: String,
    endorsement: String,
}

/// What a successor key signs to endorse the key it replaced.
pub fn endorsement_message(retired: &VerifyingKey, successor_id: &str) -> Vec<u8> {
    format!(
        "anpr-ledger key rollover v1\nretired={}\nsuccessor={successor_id}\n",
        hex::encode(retired.as_bytes())
    )
    .into_bytes()
}

/// The keys endorsed, directly or through a chain, by `current`.
fn known_keys(dir: &Path, current: VerifyingKey) -> Vec<VerifyingKey> {
    let retired: Vec<Retired> = fs::read(dir.join(RETIRED_KEYS_FILE))
        .ok()
        .and_then(|b| serde_json::from_slice(&b).ok())
        .unwrap_or_default();
    let mut known = vec![current];
    loop {
        let before = known.len();
        for r in &retired {
            let Ok(key) = parse_public_key(&r.public_key) else {
                continue;
            };
            let Some(successor) = known.iter().find(|k| key_id(k) == r.successor) else {
                continue;
            };
            let sig = hex::decode(&r.endorsement)
                .ok()
                .and_then(|b| <[u8; 64]>::try_from(b).ok())
                .map(|b| ed25519_dalek::Signature::from_bytes(&b));
            let endorsed = sig.is_some_and(|sig| {
                successor
                    .verify_strict(&endorsement_message(&key, &r.successor), &sig)
                    .is_ok()
            });
            if endorsed && !known.contains(&key) {
                known.push(key);
            }
        }
        if known.len() == before {
            return known;
        }
    }
}

/// Records that `current` replaces `previous`, once.
fn record_rollover(dir: &Path, current: &SigningKey, previous: &VerifyingKey) -> Result<()> {
    let path = dir.join(RETIRED_KEYS_FILE);
    let mut retired: Vec<Retired> = match fs::read(&path) {
        Ok(b) => serde_json::from_slice(&b)?,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
        Err(e) => return Err(e.into()),
    };
    let public_key = hex::encode(previous.as_bytes());
    if retired.iter().any(|r| r.public_key == public_key) {
        return Ok(());
    }
    let successor = key_id(&current.verifying_key());
    let endorsement = hex::encode(
        ed25519_dalek::Signer::sign(current, &endorsement_message(previous, &successor)).to_bytes(),
    );
    retired.push(Retired {
        public_key,
        successor,
        endorsement,
    });
    write_atomically(
        dir,
        RETIRED_KEYS_FILE,
        &serde_json::to_vec_pretty(&retired)?,
        0o644,
    )
}

/// Creates a new key file (mode 0600) that must not exist yet, and returns its public key.
pub fn create_key_file(path: &Path) -> Result<VerifyingKey> {
    let key = SigningKey::generate(&mut rand::rngs::OsRng);
    let pem = key
        .to_pkcs8_pem(LineEnding::LF)
        .map_err(|e| key_err(path, e.to_string()))?;
    let mut f = OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(path)
        .map_err(|e| key_err(path, format!("cannot create it: {e}")))?;
    f.write_all(pem.as_bytes())?;
    f.sync_all()?;
    Ok(key.verifying_key())
}

/// Reads a private key file, refusing one that group or others can read.
pub fn read_key_file(path: &Path) -> Result<SigningKey> {
    let meta = fs::metadata(path).map_err(|e| match e.kind() {
        std::io::ErrorKind::NotFound => key_err(
            path,
            "no such file; create a key with `anpr ledger new-key FILE`",
        ),
        _ => key_err(path, e.to_string()),
    })?;
    if meta.permissions().mode() & 0o077 != 0 {
        return Err(key_err(
            path,
            format!(
                "mode {:o} lets others read it; chmod 600",
                meta.permissions().mode() & 0o777
            ),
        ));
    }
    let pem = fs::read_to_string(path).map_err(|e| key_err(path, e.to_string()))?;
    SigningKey::from_pkcs8_pem(&pem)
        .map_err(|e| key_err(path, format!("not a PKCS#8 Ed25519 key: {e}")))
}

/// Resolves `source` for the ledger in `dir` (see [`KeySource`]) and keeps the `.pub` file
/// naming the signing key.
pub(crate) fn load(dir: &Path, source: &KeySource) -> Result<Keys> {
    let in_dir = dir.join(KEY_FILE);
    let pub_path = dir.join(PUBLIC_KEY_FILE);
    let recorded = read_public_key(&pub_path).ok();
    let (signing, previous) = match source {
        KeySource::Files { current, previous } => {
            if in_dir.exists() {
                return Err(key_err(
                    &in_dir,
                    "a private key still sits in the ledger directory while the signing key is                      kept apart: move it away (or delete it once it is no longer needed)",
                ));
            }
            if let Ok(dir_abs) = dir.canonicalize() {
                if current
                    .canonicalize()
                    .is_ok_and(|k| k.starts_with(&dir_abs))
                {
                    return Err(key_err(
                        current,
                        "the signing key must be kept outside the ledger directory",
                    ));
                }
            }
            let key = read_key_file(current)?;
            let previous = previous.as_deref().map(read_key_file).transpose()?;
            (key, previous)
        }
        KeySource::Directory if in_dir.exists() => (read_key_file(&in_dir)?, None),
        KeySource::Directory => match recorded {
            Some(public) => {
                return Ok(Keys {
                    signing: None,
                    previous: None,
                    public,
                    in_directory: false,
                    known: known_keys(dir, public),
                })
            }
            None => {
                let key = SigningKey::generate(&mut rand::rngs::OsRng);
                let pem = key
                    .to_pkcs8_pem(LineEnding::LF)
                    .map_err(|e| key_err(&in_dir, e.to_string()))?;
                write_atomically(dir, KEY_FILE, pem.as_bytes(), 0o600)?;
                (key, None)
            }
        },
    };
    let public = signing.verifying_key();
    let rollover_from = previous.as_ref().map(|k| k.verifying_key());
    match recorded {
        Some(vk) if vk == public => {}
        Some(vk) if Some(vk) == rollover_from => {}
        Some(vk) => {
            return Err(key_err(
                &pub_path,
                format!(
                    "the ledger is signed with key {} but the signing key given is {}: to change                      keys, give the old one as the previous key for a rollover",
                    key_id(&vk),
                    key_id(&public)
                ),
            ))
        }
        None => {}
    }
    if let Some(old) = &rollover_from {
        record_rollover(dir, &signing, old)?;
    }
    if recorded != Some(public) {
        write_atomically(
            dir,
            PUBLIC_KEY_FILE,
            public_key_pem(&public).as_bytes(),
            0o644,
        )?;
    }
    Ok(Keys {
        in_directory: matches!(source, KeySource::Directory),
        signing: Some(signing),
        previous,
        public,
        known: known_keys(dir, public),
    })
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

//! Signed tree heads: the deployment's signed statement "the log had `size` entries with root
//! `root_hash` at `timestamp`".
//!
//! The signature is pure Ed25519 (RFC 8032) over this exact UTF-8 text, five lines each ending in
//! `\n`:
//!
//! ```text
//! anpr-ledger tree head v1
//! key_id=<16 hex digits>
//! size=<decimal>
//! root_hash=<64 hex digits>
//! timestamp=<RFC 3339 UTC, as in the head>
//! ```
//!
//! A head that carries per-network counters ([`TreeHead::network_counts`], every head signed
//! since redactable entries) is signed over version 2 of the text: first line
//! `anpr-ledger tree head v2`, the same four lines, then one line `network <id>=<count>` per
//! network with a non-zero count, in increasing id order. A network's count is the number of
//! version-2 entries with index below `size` whose `network_ids` fact names it (see
//! [`crate::slice`]). Heads without counters keep the version-1 text and verify as before.
//!
//! The timestamp string is signed verbatim (the ledger writes millisecond precision with `Z`), so
//! a verifier never has to re-format a time to check a signature.
//!
//! During a key rollover the key being replaced signs the same text too (`previous_key`): the
//! text names the new key's id, so an overseer who trusts the old key learns the new one from a
//! head the old one signed. A head verifies under a key when either signature is that key's.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use ed25519_dalek::{Signature, Signer, SigningKey, VerifyingKey};
use serde::{Deserialize, Serialize};

use crate::error::{failed, Result};
use crate::hexser;
use crate::keys::key_id;
use crate::merkle::Hash;

/// First line of the signed message; bump it to change the format.
pub const TREE_HEAD_CONTEXT: &str = "anpr-ledger tree head v1";

/// First line of the signed message of a head with per-network counters.
pub const TREE_HEAD_CONTEXT_V2: &str = "anpr-ledger tree head v2";

/// Network id → number of redactable entries below a head's size that touched it.
pub type NetworkCounts = BTreeMap<i64, u64>;

/// A signed tree head. In JSON: `{"size":N,"root_hash":"<hex>","timestamp":"<rfc3339>",
/// "key_id":"<hex>","signature":"<hex>"}`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeHead {
    /// Number of entries covered.
    pub size: u64,
    /// RFC 6962 root of the first `size` entries.
    #[serde(with = "hexser::hash")]
    pub root_hash: Hash,
    /// When it was signed, RFC 3339 UTC.
    pub timestamp: String,
    /// Which key signed it ([`crate::keys::key_id`]).
    pub key_id: String,
    /// Ed25519 signature over [`TreeHead::signed_message`], 128 hex digits.
    pub signature: String,
    /// During a key rollover: the replaced key's signature over the same message.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_key: Option<KeySignature>,
    /// Per-network counters (see the module documentation); `None` on heads signed before
    /// they existed. Only non-zero counts are listed.
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "counts_by_text_key"
    )]
    pub network_counts: Option<NetworkCounts>,
}

/// Reads the counters' map with its keys as JSON has them, text, and parses them itself: inside
/// a `#[serde(flatten)]` (a served head beside its checkpoint) serde cannot turn a text key
/// into an integer on its own.
fn counts_by_text_key<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> std::result::Result<Option<NetworkCounts>, D::Error> {
    let Some(text) = Option::<BTreeMap<String, u64>>::deserialize(d)? else {
        return Ok(None);
    };
    text.into_iter()
        .map(|(k, n)| {
            k.parse::<i64>()
                .map(|id| (id, n))
                .map_err(|_| serde::de::Error::custom(format!("network id {k:?} is not a number")))
        })
        .collect::<std::result::Result<NetworkCounts, _>>()
        .map(Some)
}

/// A signature by another key over a head's [`TreeHead::signed_message`].
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct KeySignature {
    pub key_id: String,
    /// 128 hex digits.
    pub signature: String,
}

impl TreeHead {
    /// Signs a head with the deployment key.
    pub fn sign(size: u64, root_hash: Hash, time: DateTime<Utc>, key: &SigningKey) -> Self {
        Self::sign_rollover(size, root_hash, time, key, None)
    }

    /// Signs a head with per-network counters (version 2 of the signed text).
    pub fn sign_with_counts(
        size: u64,
        root_hash: Hash,
        time: DateTime<Utc>,
        counts: NetworkCounts,
        key: &SigningKey,
        previous: Option<&SigningKey>,
    ) -> Self {
        Self::sign_full(size, root_hash, time, Some(counts), key, previous)
    }

    /// Signs a head with the deployment key and, during a rollover, the key it replaces.
    pub fn sign_rollover(
        size: u64,
        root_hash: Hash,
        time: DateTime<Utc>,
        key: &SigningKey,
        previous: Option<&SigningKey>,
    ) -> Self {
        Self::sign_full(size, root_hash, time, None, key, previous)
    }

    fn sign_full(
        size: u64,
        root_hash: Hash,
        time: DateTime<Utc>,
        counts: Option<NetworkCounts>,
        key: &SigningKey,
        previous: Option<&SigningKey>,
    ) -> Self {
        let mut head = TreeHead {
            size,
            root_hash,
            timestamp: time.to_rfc3339_opts(SecondsFormat::Millis, true),
            key_id: key_id(&key.verifying_key()),
            signature: String::new(),
            previous_key: None,
            network_counts: counts.map(|mut c| {
                c.retain(|_, n| *n > 0);
                c
            }),
        };
        let message = head.signed_message();
        head.signature = hex::encode(key.sign(&message).to_bytes());
        head.previous_key = previous.map(|old| KeySignature {
            key_id: key_id(&old.verifying_key()),
            signature: hex::encode(old.sign(&message).to_bytes()),
        });
        head
    }

    /// The exact bytes the signature covers (see the module documentation).
    pub fn signed_message(&self) -> Vec<u8> {
        let context = match self.network_counts {
            None => TREE_HEAD_CONTEXT,
            Some(_) => TREE_HEAD_CONTEXT_V2,
        };
        let mut text = format!(
            "{context}\nkey_id={}\nsize={}\nroot_hash={}\ntimestamp={}\n",
            self.key_id,
            self.size,
            hex::encode(self.root_hash),
            self.timestamp
        );
        for (id, n) in self.network_counts.iter().flatten() {
            // A zero count is never listed, so that one set of counters has one text.
            if *n > 0 {
                text.push_str(&format!("network {id}={n}\n"));
            }
        }
        text.into_bytes()
    }

    /// The signed count of entries that touched `network`, `None` when the head carries no
    /// counters.
    pub fn network_count(&self, network: i64) -> Option<u64> {
        self.network_counts
            .as_ref()
            .map(|c| c.get(&network).copied().unwrap_or(0))
    }

    /// The signing time.
    pub fn time(&self) -> Result<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.timestamp)
            .map(|t| t.with_timezone(&Utc))
            .map_err(|e| failed(format!("tree head timestamp {:?}: {e}", self.timestamp)))
    }

    /// Checks the timestamp's form and that `key` signed the head, as its key or (during a
    /// rollover) as the key being replaced.
    pub fn verify_signature(&self, key: &VerifyingKey) -> Result<()> {
        let id = key_id(key);
        let signature = if self.key_id == id {
            &self.signature
        } else {
            match &self.previous_key {
                Some(p) if p.key_id == id => &p.signature,
                _ => {
                    return Err(failed(format!(
                        "tree head of size {} was signed by key {}, not {id}",
                        self.size, self.key_id
                    )))
                }
            }
        };
        self.time()?;
        let raw: [u8; 64] = hex::decode(signature)
            .ok()
            .and_then(|v| v.try_into().ok())
            .ok_or_else(|| {
                failed(format!(
                    "tree head of size {}: signature is not 128 hex digits",
                    self.size
                ))
            })?;
        key.verify_strict(&self.signed_message(), &Signature::from_bytes(&raw))
            .map_err(|_| failed(format!("tree head of size {}: bad signature", self.size)))
    }
}

/// Checks that one of `keys` signed `head` (the error names the first key's failure).
pub fn verify_by_any(head: &TreeHead, keys: &[VerifyingKey]) -> Result<()> {
    let mut first = None;
    for key in keys {
        match head.verify_signature(key) {
            Ok(()) => return Ok(()),
            Err(e) => {
                first.get_or_insert(e);
            }
        }
    }
    Err(first.unwrap_or_else(|| failed("no key to check the tree head with")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sign_verify_and_tamper() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let t: DateTime<Utc> = "2025-01-02T03:04:05.678Z".parse().unwrap();
        let head = TreeHead::sign(5, [9u8; 32], t, &key);
        assert_eq!(head.timestamp, "2025-01-02T03:04:05.678Z");
        head.verify_signature(&key.verifying_key()).unwrap();
        let json = serde_json::to_string(&head).unwrap();
        let back: TreeHead = serde_json::from_str(&json).unwrap();
        back.verify_signature(&key.verifying_key()).unwrap();

        let mut bad = head.clone();
        bad.size = 6;
        assert!(bad.verify_signature(&key.verifying_key()).is_err());
        let mut bad = head.clone();
        bad.root_hash[0] ^= 1;
        assert!(bad.verify_signature(&key.verifying_key()).is_err());
        let mut bad = head.clone();
        bad.timestamp = "2025-01-02T03:04:05.679Z".into();
        assert!(bad.verify_signature(&key.verifying_key()).is_err());
        let other = SigningKey::from_bytes(&[8u8; 32]);
        assert!(head.verify_signature(&other.verifying_key()).is_err());
    }

    #[test]
    fn a_rollover_head_verifies_under_either_key() {
        let (old, new) = (
            SigningKey::from_bytes(&[7u8; 32]),
            SigningKey::from_bytes(&[8u8; 32]),
        );
        let t: DateTime<Utc> = "2025-01-02T03:04:05.678Z".parse().unwrap();
        let head = TreeHead::sign_rollover(5, [9u8; 32], t, &new, Some(&old));
        head.verify_signature(&new.verifying_key()).unwrap();
        head.verify_signature(&old.verifying_key()).unwrap();
        let json = serde_json::to_string(&head).unwrap();
        assert!(json.contains("previous_key"));
        let mut bad = head.clone();
        bad.size = 6;
        assert!(bad.verify_signature(&old.verifying_key()).is_err());
        let third = SigningKey::from_bytes(&[9u8; 32]);
        assert!(head.verify_signature(&third.verifying_key()).is_err());
        // A head from before rollovers existed has no such field and still parses.
        let plain = TreeHead::sign(5, [9u8; 32], t, &new);
        assert!(!serde_json::to_string(&plain)
            .unwrap()
            .contains("previous_key"));
    }

    #[test]
    fn counters_are_signed() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let t = "2025-01-02T03:04:05Z".parse().unwrap();
        let counts: NetworkCounts = [(1, 3), (2, 0), (10, 1)].into_iter().collect();
        let head = TreeHead::sign_with_counts(5, [0xab; 32], t, counts, &key, None);
        head.verify_signature(&key.verifying_key()).unwrap();
        let msg = String::from_utf8(head.signed_message()).unwrap();
        assert_eq!(
            msg,
            format!(
                "anpr-ledger tree head v2\nkey_id={}\nsize=5\nroot_hash={}\ntimestamp=2025-01-02T03:04:05.000Z\nnetwork 1=3\nnetwork 10=1\n",
                head.key_id,
                "ab".repeat(32)
            )
        );
        assert_eq!(head.network_count(1), Some(3));
        assert_eq!(head.network_count(2), Some(0));
        let back: TreeHead = serde_json::from_str(&serde_json::to_string(&head).unwrap()).unwrap();
        back.verify_signature(&key.verifying_key()).unwrap();
        let mut bad = head.clone();
        bad.network_counts.as_mut().unwrap().insert(1, 2);
        assert!(bad.verify_signature(&key.verifying_key()).is_err());
        let mut bad = head.clone();
        bad.network_counts = None;
        assert!(bad.verify_signature(&key.verifying_key()).is_err());
    }

    #[test]
    fn signed_message_format_is_stable() {
        let key = SigningKey::from_bytes(&[7u8; 32]);
        let head = TreeHead::sign(5, [0xab; 32], "2025-01-02T03:04:05Z".parse().unwrap(), &key);
        let msg = String::from_utf8(head.signed_message()).unwrap();
        assert_eq!(
            msg,
            format!(
                "anpr-ledger tree head v1\nkey_id={}\nsize=5\nroot_hash={}\ntimestamp=2025-01-02T03:04:05.000Z\n",
                head.key_id,
                "ab".repeat(32)
            )
        );
    }
}

//! Redactable entries (encoding version 2): a leaf hash that commits to each field separately, so
//! that an entry shown with only some of its fields still verifies against a signed tree head.
//!
//! A version-2 body is the canonical JSON of a version-1 body with `"v":2` and one more top-level
//! key, `"salt"`: 32 random bytes in hex, drawn when the entry is appended. Its *fields* are
//! every top-level key but `salt`, `v` and `query`, plus every key `k` of `query` as the field
//! `query.k` (a `query` that is not an object is the one field `query`). For each field:
//!
//! ```text
//! field salt  = HMAC-SHA256(key = entry salt, message = field name)
//! commitment  = SHA-256("anpr-ledger field v2\n" ‖ field salt ‖ u64be(len(name)) ‖ name ‖ canonical JSON of the value)
//! leaf doc    = canonical JSON of {"commitments":{name: hex commitment, ...},"v":2}
//! leaf hash   = SHA-256(0x00 ‖ leaf doc)                      (the RFC 6962 leaf of the doc)
//! ```
//!
//! Revealing a field means giving its value and its field salt: anyone recomputes its commitment,
//! takes the other fields' commitments as given, and rebuilds the leaf hash. The field salt is an
//! HMAC of the entry salt, so revealing one field's salt says nothing about the others', and a
//! withheld field cannot be guessed from its commitment even when its value has few possibilities
//! (a purpose code, a plate). What a redacted entry does show is which fields the entry has (the
//! commitments' names): that a file number or a plate was recorded, not what it was.
//!
//! Version-1 entries keep their leaf hash, SHA-256(0x00 ‖ body). [`entry_leaf_hash`] is the one
//! function every part of the crate uses to hash a stored body, whatever its version.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::canonical;
use crate::error::{failed, Result};
use crate::merkle::{self, Hash};

/// The encoding version of redactable entries.
pub const REDACTABLE_VERSION: u32 = 2;

/// Domain separation of field commitments.
const FIELD_TAG: &[u8] = b"anpr-ledger field v2\n";

/// Top-level keys of a version-2 body that are not fields.
const NOT_FIELDS: [&str; 3] = ["salt", "v", "query"];

/// The random per-entry key of a version-2 entry.
pub type EntrySalt = [u8; 32];

/// A fresh entry salt.
pub fn new_salt() -> EntrySalt {
    rand::random()
}

/// HMAC-SHA256 (RFC 2104): the field salts here, and the platform's other keyed hashes.
pub fn hmac_sha256(key: &[u8], message: &[u8]) -> Hash {
    use hmac::Mac;
    let mut mac = hmac::Hmac::<Sha256>::new_from_slice(key).expect("HMAC takes a key of any size");
    mac.update(message);
    mac.finalize().into_bytes().into()
}

/// The salt of field `name` of an entry with salt `salt`.
pub fn field_salt(salt: &EntrySalt, name: &str) -> Hash {
    hmac_sha256(salt, name.as_bytes())
}

/// The commitment to field `name` holding `value`, under its field salt.
pub fn field_commitment(field_salt: &Hash, name: &str, value: &Value) -> Hash {
    Sha256::new()
        .chain_update(FIELD_TAG)
        .chain_update(field_salt)
        .chain_update((name.len() as u64).to_be_bytes())
        .chain_update(name.as_bytes())
        .chain_update(canonical::to_vec(value))
        .finalize()
        .into()
}

/// The leaf hash of an entry given every field's commitment.
pub fn leaf_from_commitments(commitments: &BTreeMap<String, Hash>) -> Hash {
    merkle::leaf_hash(&leaf_document(commitments))
}

/// The leaf document: written directly, as appends compute one per entry. A `BTreeMap<String,
/// _>` iterates in the byte order of its keys, which is the canonical order.
pub fn leaf_document(commitments: &BTreeMap<String, Hash>) -> Vec<u8> {
    let mut out = Vec::with_capacity(32 + commitments.len() * 90);
    out.extend_from_slice(b"{\"commitments\":{");
    for (i, (name, c)) in commitments.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        serde_json::to_writer(&mut out, name).expect("a string serialises");
        out.extend_from_slice(b":\"");
        out.extend_from_slice(hex::encode(c).as_bytes());
        out.push(b'"');
    }
    out.extend_from_slice(b"},\"v\":2}");
    out
}

/// A parsed version-2 body: its salt and fields.
#[derive(Clone, Debug)]
pub struct Fields {
    pub salt: EntrySalt,
    /// Field name → value, as in the body.
    pub values: BTreeMap<String, Value>,
}

impl Fields {
    /// Reads a body that is a canonical version-2 entry; `None` for anything else (a version-1
    /// body, or bytes that are not a well-formed, canonical version-2 entry).
    pub fn of_body(body: &[u8]) -> Option<Self> {
        if !body.ends_with(b",\"v\":2}") {
            return None;
        }
        let value: Value = serde_json::from_slice(body).ok()?;
        if canonical::to_vec(&value) != body {
            return None;
        }
        let Value::Object(mut top) = value else {
            return None;
        };
        if top.get("v") != Some(&Value::from(REDACTABLE_VERSION)) {
            return None;
        }
        let salt: EntrySalt = hex::decode(top.remove("salt")?.as_str()?)
            .ok()?
            .try_into()
            .ok()?;
        let mut values = BTreeMap::new();
        for (k, v) in top {
            if NOT_FIELDS.contains(&k.as_str()) {
                if k == "query" {
                    match v {
                        Value::Object(q) => {
                            for (qk, qv) in q {
                                values.insert(format!("query.{qk}"), qv);
                            }
                        }
                        other => {
                            values.insert("query".into(), other);
                        }
                    }
                }
                continue;
            }
            values.insert(k, v);
        }
        Some(Self { salt, values })
    }

    /// Every field's commitment.
    pub fn commitments(&self) -> BTreeMap<String, Hash> {
        self.values
            .iter()
            .map(|(k, v)| {
                (
                    k.clone(),
                    field_commitment(&field_salt(&self.salt, k), k, v),
                )
            })
            .collect()
    }

    /// The entry's leaf hash.
    pub fn leaf_hash(&self) -> Hash {
        leaf_from_commitments(&self.commitments())
    }

    /// The entry with only the fields `reveal` names (those it has) opened.
    pub fn redact(&self, reveal: &[&str]) -> Redacted {
        let mut revealed = BTreeMap::new();
        let mut hidden = BTreeMap::new();
        for (k, v) in &self.values {
            let salt = field_salt(&self.salt, k);
            if reveal.contains(&k.as_str()) {
                revealed.insert(
                    k.clone(),
                    Revealed {
                        value: v.clone(),
                        salt: hex::encode(salt),
                    },
                );
            } else {
                hidden.insert(k.clone(), hex::encode(field_commitment(&salt, k, v)));
            }
        }
        Redacted { revealed, hidden }
    }
}

/// The leaf hash of a stored entry body, whatever its version: for a version-2 entry the leaf of
/// its commitments, for anything else SHA-256(0x00 ‖ body) (RFC 6962's leaf of the bytes).
pub fn entry_leaf_hash(body: &[u8]) -> Hash {
    match Fields::of_body(body) {
        Some(f) => f.leaf_hash(),
        None => merkle::leaf_hash(body),
    }
}

/// The leaf hash of a body and, for a version-2 entry, the networks its `network_ids` fact
/// names (`None` for a version-1 entry, which the per-network counters do not count).
pub(crate) fn leaf_and_networks(body: &[u8]) -> (Hash, Option<Vec<i64>>) {
    match Fields::of_body(body) {
        Some(f) => {
            let nets = network_ids(f.values.get("query.network_ids"));
            (f.leaf_hash(), Some(nets))
        }
        None => (merkle::leaf_hash(body), None),
    }
}

/// The distinct network ids a `network_ids` value names (leniently: what is not an integer
/// list names none, as the facts reader does).
pub(crate) fn network_ids(v: Option<&Value>) -> Vec<i64> {
    let mut ids: Vec<i64> = match v {
        Some(Value::Array(items)) => {
            let ids: Option<Vec<i64>> = items.iter().map(Value::as_i64).collect();
            ids.unwrap_or_default()
        }
        _ => Vec::new(),
    };
    ids.sort_unstable();
    ids.dedup();
    ids
}

/// An opened field: its value and field salt (hex).
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Revealed {
    pub value: Value,
    pub salt: String,
}

/// An entry redacted to some fields: the revealed ones with their salts, the others' commitments
/// (hex). Enough to recompute the leaf hash, and nothing of the hidden values.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Redacted {
    pub revealed: BTreeMap<String, Revealed>,
    pub hidden: BTreeMap<String, String>,
}

impl Redacted {
    /// Recomputes the leaf hash: each revealed field's commitment from its value and salt, the
    /// hidden ones as given. Fails on a malformed salt or commitment, or a field both revealed
    /// and hidden.
    pub fn leaf_hash(&self) -> Result<Hash> {
        let mut all = BTreeMap::new();
        for (name, r) in &self.revealed {
            let salt = crate::hexser::parse_hash(&r.salt)
                .map_err(|_| failed(format!("field {name}: the salt is not 64 hex digits")))?;
            all.insert(name.clone(), field_commitment(&salt, name, &r.value));
        }
        for (name, c) in &self.hidden {
            let c = crate::hexser::parse_hash(c).map_err(|_| {
                failed(format!("field {name}: the commitment is not 64 hex digits"))
            })?;
            if all.insert(name.clone(), c).is_some() {
                return Err(failed(format!("field {name} is both revealed and hidden")));
            }
        }
        Ok(leaf_from_commitments(&all))
    }

    /// Hides every revealed field not in `keep` (its commitment replaces it).
    pub fn reduce_to(&mut self, keep: &[&str]) -> Result<()> {
        let names: Vec<String> = self.revealed.keys().cloned().collect();
        for name in names {
            if keep.contains(&name.as_str()) {
                continue;
            }
            let r = self.revealed.remove(&name).expect("listed");
            let salt = crate::hexser::parse_hash(&r.salt)
                .map_err(|_| failed(format!("field {name}: the salt is not 64 hex digits")))?;
            self.hidden.insert(
                name.clone(),
                hex::encode(field_commitment(&salt, &name, &r.value)),
            );
        }
        Ok(())
    }

    /// A revealed field's value.
    pub fn value(&self, name: &str) -> Option<&Value> {
        self.revealed.get(name).map(|r| &r.value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    /// A version-2 body and its leaf hash as computed from the specification above by an
    /// independent implementation (Python's `hmac`, `hashlib` and `json`); the browser's check
    /// (`crates/web/assets/js/merkle.js`, `e2e/merkle.test.mjs`) pins the same vector.
    #[test]
    fn a_version_2_leaf_matches_an_independent_implementation() {
        let body = r#"{"action":"search","actor":{"id":"S1001","role":"searcher"},"outcome":{"result":"granted"},"purpose":"INV","query":{"district":"Waikato","network_ids":[1,2],"note":"é \"q\"\n","radius_km":2.5},"salt":"000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f","time":"2026-12-07T00:00:00Z","v":2}"#;
        assert!(
            Fields::of_body(body.as_bytes()).is_some(),
            "a canonical v2 body"
        );
        assert_eq!(
            hex::encode(entry_leaf_hash(body.as_bytes())),
            "92ca02a25265944fdd57fbffbd0cc630b3161d577c69abbab71e60c21bdebfaf"
        );
    }

    /// RFC 4231 has no 32-byte-key case; this one checks the construction against a known value
    /// computed by Python's `hmac.new(bytes(range(32)), b"purpose", "sha256")`.
    #[test]
    fn the_leaf_document_is_canonical_json() {
        let c: BTreeMap<String, Hash> = [("b".to_string(), [1u8; 32]), ("a\"é".into(), [2u8; 32])]
            .into_iter()
            .collect();
        let doc: Map<String, Value> = c
            .iter()
            .map(|(k, h)| (k.clone(), Value::String(hex::encode(h))))
            .collect();
        let want = serde_json::json!({"commitments": doc, "v": REDACTABLE_VERSION});
        assert_eq!(leaf_document(&c), canonical::to_vec(&want));
    }

    #[test]
    fn hmac_matches_a_reference() {
        let key: [u8; 32] = core::array::from_fn(|i| i as u8);
        assert_eq!(
            hex::encode(hmac_sha256(&key, b"purpose")),
            "ad43d8b7d1908a5b1567908f65764f17e3effcf8308b75fb3a45a86684356771"
        );
    }
}

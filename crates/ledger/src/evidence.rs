//! What an export's entry binds: the SHA-256 of the exported read record and of each image, so
//! that an evidence bundle proven by an inclusion proof under a signed head proves its contents
//! too, not only that some export of that read id happened.
//!
//! The read record's hash is over its canonical JSON (keys sorted at every depth, no whitespace,
//! see [`crate::canonical`]) of the record as a JSON value, so the layout of the bundle's file
//! does not matter but every field, every value and every extra key does. An image's hash is
//! over its bytes, keyed by its role (`overview`, `plate`).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};

use crate::error::{Error, Result};

/// The key of the entry's `query` that holds the [`EvidenceDigest`].
pub const EVIDENCE_KEY: &str = "evidence";

/// The hashes an export's entry records of what left the platform.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceDigest {
    // Fields in key order: the derived serialisation is the canonical one.
    /// Image role → lowercase hex SHA-256 of its bytes.
    pub images: BTreeMap<String, String>,
    /// Lowercase hex SHA-256 of the read record's canonical JSON ([`EvidenceDigest::record_sha256`]).
    pub read_sha256: String,
}

impl EvidenceDigest {
    /// The digest of a read record (as JSON) and its images, each `(role, bytes)`.
    pub fn of(record: &Value, images: &[(&str, &[u8])]) -> Self {
        Self {
            images: images
                .iter()
                .map(|(role, bytes)| (role.to_string(), bytes_sha256(bytes)))
                .collect(),
            read_sha256: Self::record_sha256(record),
        }
    }

    /// SHA-256 of the canonical JSON of `record`.
    pub fn record_sha256(record: &Value) -> String {
        bytes_sha256(&crate::canonical::to_vec(record))
    }

    /// Writes the digest into an entry's `query` (an object) under [`EVIDENCE_KEY`].
    pub fn write_into(&self, query: &mut Value) {
        if let Value::Object(q) = query {
            q.insert(
                EVIDENCE_KEY.into(),
                serde_json::to_value(self).expect("a digest serialises"),
            );
        }
    }

    /// The digest an entry's `query` records: `Ok(None)` when it records none (an export
    /// written before entries bound their contents), an error when it is malformed.
    pub fn from_query(query: &Value) -> Result<Option<Self>> {
        match query.get(EVIDENCE_KEY) {
            None => Ok(None),
            Some(v) => serde_json::from_value(v.clone())
                .map(Some)
                .map_err(|e| Error::Encoding(format!("the entry's {EVIDENCE_KEY} record: {e}"))),
        }
    }
}

/// Lowercase hex SHA-256 of `bytes`.
pub fn bytes_sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_record_hash_ignores_layout_but_not_content() {
        let a = json!({"plate": "ABC123", "confidence": 0.9, "box": {"x": 1, "y": 2}});
        let b: Value = serde_json::from_str(
            "{ \"box\": {\"y\": 2, \"x\": 1},\n \"confidence\": 0.9, \"plate\": \"ABC123\" }",
        )
        .unwrap();
        assert_eq!(
            EvidenceDigest::record_sha256(&a),
            EvidenceDigest::record_sha256(&b)
        );
        for changed in [
            json!({"plate": "ABC124", "confidence": 0.9, "box": {"x": 1, "y": 2}}),
            json!({"plate": "ABC123", "confidence": 0.91, "box": {"x": 1, "y": 2}}),
            json!({"plate": "ABC123", "confidence": 0.9, "box": {"x": 1, "y": 3}}),
            json!({"plate": "ABC123", "confidence": 0.9, "box": {"x": 1, "y": 2}, "note": null}),
        ] {
            assert_ne!(
                EvidenceDigest::record_sha256(&a),
                EvidenceDigest::record_sha256(&changed)
            );
        }
    }

    #[test]
    fn round_trips_through_a_query() {
        let d = EvidenceDigest::of(&json!({"id": 1}), &[("plate", b"img"), ("overview", b"o")]);
        let mut q = json!({"read_id": 1});
        d.write_into(&mut q);
        assert_eq!(EvidenceDigest::from_query(&q).unwrap(), Some(d));
        assert_eq!(
            EvidenceDigest::from_query(&json!({"read_id": 1})).unwrap(),
            None
        );
        assert!(EvidenceDigest::from_query(&json!({"evidence": {"read_sha256": 1}})).is_err());
    }
}

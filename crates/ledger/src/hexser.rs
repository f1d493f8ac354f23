//! Serde helpers: every binary value in this crate's JSON (hashes, signatures, key ids) is
//! lowercase hex, so that one rule covers the whole wire format.

use serde::{de::Error as _, Deserialize, Deserializer, Serializer};

use crate::merkle::Hash;

/// Parses a 64-character hex string into a hash.
pub fn parse_hash(s: &str) -> Result<Hash, String> {
    let v = hex::decode(s).map_err(|e| format!("bad hex hash {s:?}: {e}"))?;
    v.try_into()
        .map_err(|v: Vec<u8>| format!("hash has {} bytes, want 32", v.len()))
}

/// `#[serde(with = "hexser::hash")]` for a [`Hash`].
pub mod hash {
    use super::*;

    /// Serialises as lowercase hex.
    pub fn serialize<S: Serializer>(h: &Hash, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&hex::encode(h))
    }

    /// Parses 64 hex characters.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Hash, D::Error> {
        let s = String::deserialize(d)?;
        parse_hash(&s).map_err(D::Error::custom)
    }
}

/// `#[serde(with = "hexser::hashes")]` for a `Vec<Hash>`.
pub mod hashes {
    use super::*;
    use serde::ser::SerializeSeq;

    /// Serialises as an array of lowercase hex strings.
    pub fn serialize<S: Serializer>(v: &[Hash], s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(v.len()))?;
        for h in v {
            seq.serialize_element(&hex::encode(h))?;
        }
        seq.end()
    }

    /// Parses an array of 64-character hex strings.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<Hash>, D::Error> {
        let v = Vec::<String>::deserialize(d)?;
        v.iter()
            .map(|s| parse_hash(s).map_err(D::Error::custom))
            .collect()
    }
}

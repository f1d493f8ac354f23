//! Canonical JSON for arbitrary values: object keys sorted by their UTF-8 bytes at every depth, no
//! whitespace, serde_json's number and string formatting.
//!
//! This does not rely on `serde_json::Map` being a `BTreeMap`: another crate in the build may turn
//! on serde_json's `preserve_order` feature, which would silently change a map-based encoding.

use serde::ser::{SerializeMap, SerializeSeq};
use serde::{Serialize, Serializer};
use serde_json::Value;

/// Serialises the wrapped value canonically.
#[derive(Clone, Copy, Debug)]
pub struct CanonicalJson<'a>(pub &'a Value);

impl Serialize for CanonicalJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self.0 {
            Value::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(&CanonicalJson(item))?;
                }
                seq.end()
            }
            Value::Object(obj) => {
                let mut entries: Vec<(&String, &Value)> = obj.iter().collect();
                entries.sort_unstable_by(|a, b| a.0.as_bytes().cmp(b.0.as_bytes()));
                let mut map = s.serialize_map(Some(entries.len()))?;
                for (k, v) in entries {
                    map.serialize_entry(k, &CanonicalJson(v))?;
                }
                map.end()
            }
            scalar => scalar.serialize(s),
        }
    }
}

/// The canonical bytes of a JSON value.
pub fn to_vec(v: &Value) -> Vec<u8> {
    serde_json::to_vec(&CanonicalJson(v)).expect("a JSON value always serialises")
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn sorts_keys_at_every_depth() {
        let v = json!({"b": 1, "a": {"d": [ {"y": 1, "x": 2} ], "c": "é\n"}, "B": null});
        assert_eq!(
            String::from_utf8(to_vec(&v)).unwrap(),
            r#"{"B":null,"a":{"c":"é\n","d":[{"x":2,"y":1}]},"b":1}"#
        );
    }
}

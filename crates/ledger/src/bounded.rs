//! Entries of bounded size. A request can carry megabytes (a query string, a list of a million
//! network ids, a justification pasted a thousand times); the ledger records what a person or
//! an investigator needs — that such a parameter was sent, how large it was and its SHA-256,
//! which matches the parameter if it is ever produced — never the bulk itself. Without this,
//! anyone able to send a request could fill the ledger's disk.

use serde_json::{json, Map, Value};
use sha2::{Digest, Sha256};

/// Longest text recorded as it was sent, in characters.
pub const MAX_TEXT_CHARS: usize = 512;
/// Longest justification recorded as it was sent (the policy refuses longer ones).
pub const MAX_JUSTIFICATION_CHARS: usize = 2000;
/// Most items of a list, or keys of an object, recorded as they were sent.
pub const MAX_ITEMS: usize = 100;
/// Deepest nesting recorded as it was sent.
const MAX_DEPTH: usize = 8;

fn sha256_hex(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

/// `text`, or, when longer than `max` characters, a note of its length and SHA-256.
pub fn bound_text(text: String, max: usize) -> String {
    let chars = text.chars().count();
    if chars <= max {
        return text;
    }
    format!(
        "[{chars} characters, not recorded; sha256 {}]",
        sha256_hex(text.as_bytes())
    )
}

fn digest_of(kind: &str, size_key: &str, size: usize, value: &Value) -> Value {
    json!({
        "omitted": kind,
        size_key: size,
        "sha256": sha256_hex(value.to_string().as_bytes()),
    })
}

/// `value` with every text, list or object too large to record replaced by a note of its
/// size and SHA-256: a text by a text (of its UTF-8 bytes), a list or object by an object
/// `{"omitted", "items" or "keys", "sha256"}` (of its JSON).
pub fn bound_value(value: Value) -> Value {
    bound_at(value, 0)
}

fn bound_at(value: Value, depth: usize) -> Value {
    match value {
        // A text stays a text (the facts readers expect one where they read one).
        Value::String(s) => Value::String(bound_text(s, MAX_TEXT_CHARS)),
        Value::Array(items) => {
            if items.len() > MAX_ITEMS || depth >= MAX_DEPTH {
                let n = items.len();
                digest_of("list", "items", n, &Value::Array(items))
            } else {
                Value::Array(items.into_iter().map(|v| bound_at(v, depth + 1)).collect())
            }
        }
        Value::Object(map) => {
            if map.len() > MAX_ITEMS || depth >= MAX_DEPTH {
                let n = map.len();
                digest_of("object", "keys", n, &Value::Object(map))
            } else {
                let bounded: Map<String, Value> = map
                    .into_iter()
                    .map(|(k, v)| (bound_text(k, MAX_TEXT_CHARS), bound_at(v, depth + 1)))
                    .collect();
                Value::Object(bounded)
            }
        }
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn small_values_are_kept_as_sent() {
        let v = json!({"plate": "ABC123", "network_ids": [1, 2, 3], "nested": {"a": [true]}});
        assert_eq!(bound_value(v.clone()), v);
        assert_eq!(bound_text("why".into(), 10), "why");
    }

    #[test]
    fn large_values_become_their_size_and_digest() {
        let ids: Vec<u64> = (0..1_200_000).collect();
        let sent = json!({"network_ids": ids, "path": "x".repeat(12_000)});
        let kept = bound_value(sent.clone());
        assert_eq!(kept["network_ids"]["omitted"], "list");
        assert_eq!(kept["network_ids"]["items"], 1_200_000);
        assert_eq!(
            kept["network_ids"]["sha256"],
            sha256_hex(sent["network_ids"].to_string().as_bytes())
        );
        assert!(
            kept["path"]
                .as_str()
                .unwrap()
                .starts_with("[12000 characters, not recorded; sha256 "),
            "{kept}"
        );
        assert!(kept.to_string().len() < 400, "{kept}");
        let j = bound_text("because ".repeat(12_500), MAX_JUSTIFICATION_CHARS);
        assert!(
            j.starts_with("[100000 characters, not recorded; sha256 "),
            "{j}"
        );
    }

    #[test]
    fn deep_nesting_is_cut_off() {
        let mut v = json!(1);
        for _ in 0..1000 {
            v = json!([v]);
        }
        let kept = bound_value(v);
        assert!(kept.to_string().len() < 200, "{kept}");
    }
}

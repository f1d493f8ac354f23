//! A network's signed monthly statement: how police used its data in a month, counted from its
//! ledger slice ([`crate::slice`]), with the signed tree head the counts come from, signed with
//! the ledger's key. Anyone holding the slice recomputes it ([`verify_statement`]).
//!
//! The signature is Ed25519 over `"anpr-network-statement v1\n"` followed by the canonical JSON
//! of the statement (every field but `key_id` and `signature`).

use std::collections::BTreeMap;

use ed25519_dalek::{Signature, Signer, VerifyingKey};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{failed, Error, Result};
use crate::head::TreeHead;
use crate::keys::key_id;
use crate::slice::{verify_slice, Month, NetworkSlice};

/// First line of the signed message.
pub const STATEMENT_CONTEXT: &str = "anpr-network-statement v1";

/// The counts of a network's month.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementCounts {
    /// Uses in the month that touched the network.
    pub uses: u64,
    /// Of them, described below; the others are counted only (files still open).
    pub described: u64,
    pub counted_only: u64,
    /// Described uses by action, purpose code, district and outcome (`none` where not recorded).
    pub by_action: BTreeMap<String, u64>,
    pub by_purpose: BTreeMap<String, u64>,
    pub by_district: BTreeMap<String, u64>,
    pub by_outcome: BTreeMap<String, u64>,
    /// The network's reads disclosed by the described uses.
    pub reads_disclosed: u64,
}

/// A network's monthly statement.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkStatement {
    pub network_id: i64,
    pub month: Month,
    /// The signed head the counts were computed at (its counter for the network covers every
    /// use of it below its size).
    pub head: TreeHead,
    pub counts: StatementCounts,
}

/// A statement with the ledger key's signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedStatement {
    pub statement: NetworkStatement,
    pub key_id: String,
    /// 128 hex digits.
    pub signature: String,
}

fn key_of(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Null) | None => "none".into(),
        Some(other) => other.to_string(),
    }
}

impl NetworkStatement {
    /// The statement of a slice's month (a slice without a month is refused: a statement is
    /// monthly). Takes the slice as given: check it with [`verify_slice`] first.
    pub fn from_slice(slice: &NetworkSlice) -> Result<Self> {
        let month = slice.month.ok_or_else(|| {
            Error::InvalidArgument("a statement is for one month: ask for a month's slice".into())
        })?;
        let mut c = StatementCounts::default();
        let network = slice.network_id.to_string();
        for e in slice.in_month() {
            c.uses += 1;
            if !e.described() {
                c.counted_only += 1;
                continue;
            }
            c.described += 1;
            let f = &e.fields;
            *c.by_action.entry(key_of(f.value("action"))).or_default() += 1;
            *c.by_purpose.entry(key_of(f.value("purpose"))).or_default() += 1;
            *c.by_district
                .entry(key_of(f.value("query.district")))
                .or_default() += 1;
            let outcome = f.value("outcome").and_then(|o| o.get("result"));
            *c.by_outcome.entry(key_of(outcome)).or_default() += 1;
            c.reads_disclosed += f
                .value("query.network_reads")
                .and_then(|r| r.get(&network))
                .and_then(Value::as_u64)
                .unwrap_or(0);
        }
        Ok(Self {
            network_id: slice.network_id,
            month,
            head: slice.head.clone(),
            counts: c,
        })
    }

    /// The exact bytes the signature covers.
    pub fn signed_message(&self) -> Vec<u8> {
        let v = serde_json::to_value(self).expect("a statement serialises");
        let mut m = format!("{STATEMENT_CONTEXT}\n").into_bytes();
        m.extend_from_slice(&crate::canonical::to_vec(&v));
        m
    }
}

impl crate::Ledger {
    /// Signs a statement with the ledger's key.
    pub fn sign_statement(&self, statement: NetworkStatement) -> Result<SignedStatement> {
        let key = self.signing_key().ok_or_else(|| {
            failed("this process holds no signing key: statements are signed where heads are")
        })?;
        let signature = hex::encode(key.sign(&statement.signed_message()).to_bytes());
        Ok(SignedStatement {
            statement,
            key_id: key_id(&key.verifying_key()),
            signature,
        })
    }
}

/// Checks a signed statement against its slice: the statement's signature by one of `keys`,
/// the slice ([`verify_slice`]: head, proofs, completeness), that both are for the same network,
/// month and head, and that every count recomputed from the slice is the statement's. The error
/// names the first count that differs.
pub fn verify_statement(
    signed: &SignedStatement,
    slice: &NetworkSlice,
    keys: &[VerifyingKey],
) -> Result<()> {
    let key = keys
        .iter()
        .find(|k| key_id(k) == signed.key_id)
        .ok_or_else(|| {
            failed(format!(
                "the statement was signed by key {}, which is not among the keys given",
                signed.key_id
            ))
        })?;
    let raw: [u8; 64] = hex::decode(&signed.signature)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| failed("the statement's signature is not 128 hex digits"))?;
    key.verify_strict(
        &signed.statement.signed_message(),
        &Signature::from_bytes(&raw),
    )
    .map_err(|_| {
        failed("the statement's signature does not verify: it was changed after signing")
    })?;
    verify_slice(slice, keys)?;
    let s = &signed.statement;
    if (s.network_id, Some(s.month), &s.head) != (slice.network_id, slice.month, &slice.head) {
        return Err(failed(
            "the slice is not the statement's: they differ in network, month or tree head",
        ));
    }
    let recomputed = NetworkStatement::from_slice(slice)?.counts;
    let (a, b) = (
        serde_json::to_value(&s.counts)?,
        serde_json::to_value(&recomputed)?,
    );
    if a != b {
        return Err(failed(format!(
            "the statement's counts are not the slice's: {}",
            first_difference("", &a, &b)
        )));
    }
    Ok(())
}

/// Where two count documents first differ, in words.
fn first_difference(path: &str, stated: &Value, recomputed: &Value) -> String {
    if let (Value::Object(a), Value::Object(b)) = (stated, recomputed) {
        let keys: std::collections::BTreeSet<&String> = a.keys().chain(b.keys()).collect();
        for k in keys {
            let (x, y) = (
                a.get(k).unwrap_or(&Value::Null),
                b.get(k).unwrap_or(&Value::Null),
            );
            if x != y {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                return first_difference(&p, x, y);
            }
        }
    }
    format!("{path} is {stated} in the statement, {recomputed} from the slice")
}

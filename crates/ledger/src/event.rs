//! The ledger entry: one use of the platform, in a canonical, versioned JSON encoding.
//!
//! The leaf hash covers the exact bytes of the encoding, so the encoding must be a function of
//! the event alone: JSON with object keys sorted by their UTF-8 bytes at every depth, no
//! whitespace, absent optional fields omitted (never `null`), times in RFC 3339 UTC with `Z` and
//! only as many fractional digits as needed (0, 3, 6 or 9), and a version field `"v":1`. Version 1
//! top-level keys, in order: `action`, `actor`, `file_number`?, `justification`?, `outcome`,
//! `purpose`?, `query`, `result`?, `seq`, `time`, `v`.
//!
//! Personal data stays out of the ledger: results are recorded as a [`ResultDigest`] (a count and a
//! hash of the read ids), never as plates or images.

use std::collections::BTreeMap;

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::Value;
use sha2::{Digest, Sha256};

pub use crate::audit::Action;
use crate::audit::AuditFacts;
use crate::bounded::{bound_text, bound_value, MAX_JUSTIFICATION_CHARS, MAX_TEXT_CHARS};
use crate::canonical::CanonicalJson;
use crate::error::{Error, Result};
use crate::merkle::Hash;
use crate::redact::{
    field_commitment, field_salt, leaf_from_commitments, EntrySalt, Fields, REDACTABLE_VERSION,
};

/// The field of the sequence number, the one commitment that depends on the position.
const SEQ_FIELD: &str = "seq";

/// The encoding version written in every entry (`"v":1`).
pub const EVENT_VERSION: u32 = 1;

/// One recorded use of the platform.
#[derive(Clone, Debug, PartialEq)]
pub struct Event {
    /// Position in the log; assigned by [`crate::Ledger::append`], which overwrites it.
    pub seq: u64,
    /// When it happened (UTC).
    pub time: DateTime<Utc>,
    /// Who did it.
    pub actor: Actor,
    /// What was done.
    pub action: Action,
    /// Purpose code, for actions that need one.
    pub purpose: Option<String>,
    /// Police file (case) number, for actions that need one.
    pub file_number: Option<String>,
    /// Free-text justification given by the user.
    pub justification: Option<String>,
    /// The query parameters as received (never the results).
    pub query: Value,
    /// Digest of what was returned, for searches, views and exports.
    pub result: Option<ResultDigest>,
    /// Whether it was allowed.
    pub outcome: Outcome,
}

/// Who acted.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Actor {
    // Fields in key order: the derived serialisation is the canonical one.
    /// Staff id, camera id, or "system".
    pub id: String,
    /// Staff member, camera or the platform itself.
    pub kind: ActorKind,
    /// The role the actor acted in ("analyst", "supervisor", "camera", "system", ...).
    pub role: String,
}

/// The kind of actor.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ActorKind {
    /// A person with a staff id.
    Staff,
    /// A camera (for example pushing reads or images).
    Camera,
    /// The platform itself (expiry, purge, scheduled jobs).
    System,
    /// A caller without valid credentials (a denied attempt to use the API).
    Anonymous,
}

impl Actor {
    /// A staff member acting in `role`.
    pub fn staff(id: impl Into<String>, role: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: ActorKind::Staff,
            role: role.into(),
        }
    }

    /// A camera.
    pub fn camera(id: impl Into<String>) -> Self {
        Self {
            id: id.into(),
            kind: ActorKind::Camera,
            role: "camera".into(),
        }
    }

    /// A caller without valid credentials.
    pub fn anonymous() -> Self {
        Self {
            id: "anonymous".into(),
            kind: ActorKind::Anonymous,
            role: "none".into(),
        }
    }

    /// The platform itself.
    pub fn system() -> Self {
        Self {
            id: "system".into(),
            kind: ActorKind::System,
            role: "system".into(),
        }
    }
}

/// Whether the action was allowed, and why not.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Outcome {
    // Fields in key order: the derived serialisation is the canonical one.
    /// Why it was refused or failed (or a note on a grant).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Granted, refused or error.
    pub result: OutcomeKind,
}

/// The three outcomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeKind {
    /// Done.
    Granted,
    /// Refused by policy.
    Refused,
    /// Failed.
    Error,
    /// Accepted but not yet in effect: it waits for someone else's decision (a tracking or
    /// look-back request a supervisor must approve).
    Pending,
}

impl Outcome {
    /// Granted, no reason.
    pub fn granted() -> Self {
        Self {
            reason: None,
            result: OutcomeKind::Granted,
        }
    }

    /// Refused, with the reason.
    pub fn refused(reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            result: OutcomeKind::Refused,
        }
    }

    /// Failed, with the reason.
    pub fn error(reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            result: OutcomeKind::Error,
        }
    }

    /// Waiting for another person's decision, with what it waits for.
    pub fn pending(reason: impl Into<String>) -> Self {
        Self {
            reason: Some(reason.into()),
            result: OutcomeKind::Pending,
        }
    }
}

/// What a search, view or export returned, without the personal data: how many reads, and
/// SHA-256 over their ids, sorted ascending and deduplicated, each as 8 bytes big-endian
/// (two's complement). An overseer given the ids can recompute it; nobody can go the other way.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ResultDigest {
    // Fields in key order: the derived serialisation is the canonical one.
    /// Number of distinct read ids.
    pub count: u64,
    /// Lowercase hex SHA-256 of the sorted ids.
    pub sha256: String,
}

impl ResultDigest {
    /// The digest of a set of read ids (order and duplicates do not matter).
    pub fn of_ids(ids: &[i64]) -> Self {
        let mut v = ids.to_vec();
        v.sort_unstable();
        v.dedup();
        let mut h = Sha256::new();
        for id in &v {
            h.update(id.to_be_bytes());
        }
        Self {
            count: v.len() as u64,
            sha256: hex::encode(h.finalize()),
        }
    }
}

impl Event {
    /// A granted event by `actor` now, with no purpose, file number, justification, result or
    /// query parameters (an empty object). `seq` is set by the ledger.
    pub fn new(actor: Actor, action: Action) -> Self {
        Self {
            seq: 0,
            time: Utc::now(),
            actor,
            action,
            purpose: None,
            file_number: None,
            justification: None,
            query: Value::Object(Default::default()),
            result: None,
            outcome: Outcome::granted(),
        }
    }

    /// Sets the time.
    pub fn at(mut self, time: DateTime<Utc>) -> Self {
        self.time = time;
        self
    }

    /// Sets the purpose code.
    pub fn purpose(mut self, p: impl Into<String>) -> Self {
        self.purpose = Some(bound_text(p.into(), MAX_TEXT_CHARS));
        self
    }

    /// Sets the file number.
    pub fn file_number(mut self, f: impl Into<String>) -> Self {
        self.file_number = Some(bound_text(f.into(), MAX_TEXT_CHARS));
        self
    }

    /// Sets the justification (one longer than the policy allows is recorded by its length
    /// and SHA-256, see [`crate::bounded`]).
    pub fn justification(mut self, j: impl Into<String>) -> Self {
        self.justification = Some(bound_text(j.into(), MAX_JUSTIFICATION_CHARS));
        self
    }

    /// Sets the query parameters: the request's parameters that are not facts, as free JSON,
    /// each too large to record kept as its size and SHA-256 ([`crate::bounded`]). Set them
    /// before [`Event::facts`], which writes into them; the keys in [`AuditFacts::KEYS`] are
    /// the facts'.
    pub fn query(mut self, q: Value) -> Self {
        self.query = bound_value(q);
        self
    }

    /// Records facts for oversight: every fact set is written into the query under its key,
    /// replacing what was there (see [`AuditFacts::write_into`]).
    pub fn facts(mut self, facts: AuditFacts<'_>) -> Self {
        facts.write_into(&mut self.query);
        self.query = bound_value(std::mem::take(&mut self.query));
        self
    }

    /// The facts the event records, read from its query (borrowing its strings).
    pub fn audit_facts(&self) -> AuditFacts<'_> {
        AuditFacts::from_query(&self.query)
    }

    /// Sets the result digest.
    pub fn result(mut self, r: ResultDigest) -> Self {
        self.result = Some(r);
        self
    }

    /// Sets the outcome.
    pub fn outcome(mut self, o: Outcome) -> Self {
        self.outcome = o;
        self
    }

    /// The canonical version-1 encoding: the exact bytes that go into the log and under the leaf
    /// hash of an entry from before redactable entries.
    pub fn encode(&self) -> Vec<u8> {
        Prepared::new(self).body(self.seq)
    }

    /// The canonical version-2 (redactable) encoding with entry salt `salt`, as
    /// [`crate::Ledger::append`] writes it (see [`crate::redact`]).
    pub fn encode_redactable(&self, salt: &EntrySalt) -> Vec<u8> {
        Prepared::redactable(self, salt).body(self.seq)
    }

    /// Decodes a canonical version-1 or version-2 entry (the entry salt of a version-2 one is
    /// dropped: [`Event::entry_salt`] reads it). Refuses other versions, unknown fields, a salt
    /// in a version-1 entry or none in a version-2 one, and any encoding that is not
    /// byte-for-byte the canonical one (so that one event has one hash).
    pub fn decode(bytes: &[u8]) -> Result<Self> {
        let w: WireOwned = serde_json::from_slice(bytes)
            .map_err(|e| Error::Encoding(format!("not a version-{EVENT_VERSION} event: {e}")))?;
        let salt = match (w.v, &w.salt) {
            (EVENT_VERSION, None) => None,
            (REDACTABLE_VERSION, Some(s)) => Some(parse_salt(s)?),
            (EVENT_VERSION | REDACTABLE_VERSION, _) => {
                return Err(Error::Encoding(format!(
                    "a version-{} event {} an entry salt",
                    w.v,
                    if w.salt.is_some() { "has" } else { "lacks" }
                )))
            }
            (v, _) => return Err(Error::Encoding(format!("unsupported event version {v}"))),
        };
        let time = DateTime::parse_from_rfc3339(&w.time)
            .map_err(|e| Error::Encoding(format!("bad time {:?}: {e}", w.time)))?
            .with_timezone(&Utc);
        let ev = Event {
            seq: w.seq,
            time,
            actor: w.actor,
            action: w.action,
            purpose: w.purpose,
            file_number: w.file_number,
            justification: w.justification,
            query: w.query,
            result: w.result,
            outcome: w.outcome,
        };
        let canonical = match &salt {
            None => ev.encode(),
            Some(s) => ev.encode_redactable(s),
        };
        if canonical != bytes {
            return Err(Error::Encoding("entry is not in canonical form".into()));
        }
        Ok(ev)
    }

    /// The entry salt of a canonical version-2 body (`None` for a version-1 body).
    pub fn entry_salt(bytes: &[u8]) -> Result<Option<EntrySalt>> {
        let w: WireOwned = serde_json::from_slice(bytes)
            .map_err(|e| Error::Encoding(format!("not an event: {e}")))?;
        w.salt.as_deref().map(parse_salt).transpose()
    }
}

fn parse_salt(s: &str) -> Result<EntrySalt> {
    hex::decode(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| Error::Encoding("the entry salt is not 64 hex digits".into()))
}

/// JSON of an event is its canonical encoding (with `v`).
impl Serialize for Event {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let v: Value = serde_json::from_slice(&self.encode()).map_err(serde::ser::Error::custom)?;
        v.serialize(s)
    }
}

impl<'de> Deserialize<'de> for Event {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        let bytes = crate::canonical::to_vec(&v);
        Event::decode(&bytes).map_err(serde::de::Error::custom)
    }
}

/// The top-level keys that sort before `seq`, in key order.
#[derive(Serialize)]
struct WireHead<'a> {
    action: &'a Action,
    actor: &'a Actor,
    #[serde(skip_serializing_if = "Option::is_none")]
    file_number: &'a Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    justification: &'a Option<String>,
    outcome: &'a Outcome,
    #[serde(skip_serializing_if = "Option::is_none")]
    purpose: &'a Option<String>,
    query: CanonicalJson<'a>,
    #[serde(skip_serializing_if = "Option::is_none")]
    result: &'a Option<ResultDigest>,
    /// Version 2 only.
    #[serde(skip_serializing_if = "Option::is_none")]
    salt: Option<String>,
}

/// The top-level keys that sort after `seq`, in key order.
#[derive(Serialize)]
struct WireTail {
    time: String,
    v: u32,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct WireOwned {
    action: Action,
    actor: Actor,
    #[serde(default)]
    file_number: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    outcome: Outcome,
    #[serde(default)]
    purpose: Option<String>,
    query: Value,
    #[serde(default)]
    result: Option<ResultDigest>,
    #[serde(default)]
    salt: Option<String>,
    seq: u64,
    time: String,
    v: u32,
}

/// An event encoded except for its sequence number, so that the expensive part of encoding runs
/// in the caller's thread, outside the writer's lock, before the position in the log is known.
#[derive(Clone, Debug)]
pub(crate) struct Prepared {
    /// `{"action":...,"result":...` — everything before `,"seq":`.
    head: Vec<u8>,
    /// `"time":"...","v":1}` — everything after the seq value and its comma.
    tail: Vec<u8>,
    /// Event time in microseconds since the Unix epoch, for the entries table.
    pub(crate) time_us: i64,
    /// Version 2: the entry salt and every field's commitment but `seq`'s, computed here so that
    /// the commit only adds the one that depends on the position.
    redactable: Option<(EntrySalt, BTreeMap<String, Hash>)>,
}

impl Prepared {
    /// The version-1 encoding.
    pub(crate) fn new(ev: &Event) -> Self {
        Self::encode(ev, None)
    }

    /// The version-2 (redactable) encoding with entry salt `salt`.
    pub(crate) fn redactable(ev: &Event, salt: &EntrySalt) -> Self {
        Self::encode(ev, Some(salt))
    }

    /// The version-2 encoding of `ev` with a fresh entry salt, its commitments computed.
    pub(crate) fn for_append(ev: &Event) -> Self {
        let salt = crate::redact::new_salt();
        let mut p = Self::redactable(ev, &salt);
        let fields = Fields::of_body(&p.body(0)).expect("a version-2 encoding reads back");
        let mut commitments = fields.commitments();
        commitments.remove(SEQ_FIELD);
        p.redactable = Some((salt, commitments));
        p
    }

    /// The leaf hash of [`Prepared::body`]`(seq)`, whose bytes are `body`.
    pub(crate) fn leaf_hash(&self, body: &[u8], seq: u64) -> Hash {
        match &self.redactable {
            None => crate::merkle::leaf_hash(body),
            Some((salt, others)) => {
                let mut all = others.clone();
                let c = field_commitment(&field_salt(salt, SEQ_FIELD), SEQ_FIELD, &seq.into());
                all.insert(SEQ_FIELD.to_owned(), c);
                leaf_from_commitments(&all)
            }
        }
    }

    fn encode(ev: &Event, salt: Option<&EntrySalt>) -> Self {
        let head = WireHead {
            action: &ev.action,
            actor: &ev.actor,
            file_number: &ev.file_number,
            justification: &ev.justification,
            outcome: &ev.outcome,
            purpose: &ev.purpose,
            query: CanonicalJson(&ev.query),
            result: &ev.result,
            salt: salt.map(hex::encode),
        };
        let tail = WireTail {
            time: ev.time.to_rfc3339_opts(SecondsFormat::AutoSi, true),
            v: if salt.is_some() {
                REDACTABLE_VERSION
            } else {
                EVENT_VERSION
            },
        };
        let mut head = serde_json::to_vec(&head).expect("event head serialises");
        head.pop(); // the closing brace
        let mut tail = serde_json::to_vec(&tail).expect("event tail serialises");
        tail.remove(0); // the opening brace
        Self {
            head,
            tail,
            time_us: ev.time.timestamp_micros(),
            redactable: None,
        }
    }

    /// The canonical body with sequence number `seq`.
    pub(crate) fn body(&self, seq: u64) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.head.len() + self.tail.len() + 30);
        out.extend_from_slice(&self.head);
        out.extend_from_slice(b",\"seq\":");
        out.extend_from_slice(seq.to_string().as_bytes());
        out.push(b',');
        out.extend_from_slice(&self.tail);
        out
    }
}

/// The `seq` of a body that ends in the canonical version-1 tail `,"seq":N,"time":"T","v":1}`
/// or the version-2 one `,"salt":"<64 hex>","seq":N,"time":"T","v":2}`, read from the end
/// without parsing the rest: the full verifier runs this on every entry, and a JSON parse would
/// cost more than the hashing. (A body with that tail but garbage before it is still caught: its
/// leaf hash differs from the one recorded at append time.)
pub(crate) fn canonical_seq(body: &[u8]) -> Option<u64> {
    if let Some(rest) = body.strip_suffix(b"\",\"v\":2}") {
        return seq_before(rest, true);
    }
    seq_before(body.strip_suffix(b"\",\"v\":1}")?, false)
}

/// The `seq` of a body cut before the closing quote of its time, `salted` when a version-2
/// entry salt must come just before the `seq`.
fn seq_before(rest: &[u8], salted: bool) -> Option<u64> {
    let q = rest.iter().rposition(|&b| b == b'"')?;
    let rest = rest[..q].strip_suffix(b",\"time\":")?;
    let d = rest.iter().rposition(|b| !b.is_ascii_digit())?;
    let digits = &rest[d + 1..];
    let before = rest[..=d].strip_suffix(b",\"seq\":")?;
    if salted {
        let hex = before.strip_suffix(b"\"")?;
        let salt = hex.get(hex.len().checked_sub(64)?..)?;
        if !salt.iter().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
            return None;
        }
        hex[..hex.len() - 64].strip_suffix(b",\"salt\":\"")?;
    }
    if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
        return None;
    }
    std::str::from_utf8(digits).ok()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn sample() -> Event {
        Event::new(Actor::staff("S1234", "analyst"), Action::Search)
            .at("2025-03-01T12:34:56.789Z".parse().unwrap())
            .purpose("INV")
            .file_number("F-2025-0042")
            .justification("stolen vehicle")
            .query(json!({"plate": "ABC123", "from": "2025-01-01", "nested": {"z": 1, "a": [true, null, 2.5]}}))
            .result(ResultDigest::of_ids(&[3, 1, 2, 2]))
    }

    #[test]
    fn encoding_is_sorted_compact_and_versioned() {
        let mut e = sample();
        e.seq = 42;
        let bytes = e.encode();
        let text = std::str::from_utf8(&bytes).unwrap();
        let digest = ResultDigest::of_ids(&[1, 2, 3]).sha256;
        let want = format!(
            "{}{}{}{}{}{}",
            r#"{"action":"search","actor":{"id":"S1234","kind":"staff","role":"analyst"},"#,
            r#""file_number":"F-2025-0042","justification":"stolen vehicle","outcome":{"result":"granted"},"#,
            r#""purpose":"INV","query":{"from":"2025-01-01","nested":{"a":[true,null,2.5],"z":1},"plate":"ABC123"},"#,
            r#""result":{"count":3,"sha256":""#,
            digest,
            r#""},"seq":42,"time":"2025-03-01T12:34:56.789Z","v":1}"#
        );
        assert_eq!(text, want);
        // The split encoding equals a generic canonicalisation of the same JSON value.
        let v: Value = serde_json::from_slice(&bytes).unwrap();
        assert_eq!(crate::canonical::to_vec(&v), bytes);
        assert_eq!(Event::decode(&bytes).unwrap(), e);
    }

    #[test]
    fn canonical_seq_reads_the_tail() {
        let mut e = sample();
        for seq in [0, 7, 10, 123_456_789_012] {
            e.seq = seq;
            assert_eq!(canonical_seq(&e.encode()), Some(seq));
        }
        let body = String::from_utf8(e.encode()).unwrap();
        assert_eq!(
            canonical_seq(body.replace("\"v\":1", "\"v\":2").as_bytes()),
            None
        );
        assert_eq!(
            canonical_seq(body.replace(",\"seq\":", ",\"seq\":0").as_bytes()),
            None
        );
        assert_eq!(
            canonical_seq(body.replace(",\"seq\":", ",\"seq\": ").as_bytes()),
            None
        );
        assert_eq!(canonical_seq(b"garbage"), None);
    }

    #[test]
    fn result_digest_is_order_and_duplicate_free() {
        let d = ResultDigest::of_ids(&[5, -1, 5, 3]);
        assert_eq!(d.count, 3);
        let mut h = Sha256::new();
        for i in [-1i64, 3, 5] {
            h.update(i.to_be_bytes());
        }
        assert_eq!(d.sha256, hex::encode(h.finalize()));
        assert_eq!(
            ResultDigest::of_ids(&[]).sha256,
            hex::encode(Sha256::digest(b""))
        );
    }

    #[test]
    fn unknown_actions_survive_a_round_trip() {
        let mut e = Event::new(Actor::system(), Action::Other("key_rotation".into()));
        e.seq = 7;
        let back = Event::decode(&e.encode()).unwrap();
        assert_eq!(back.action, Action::Other("key_rotation".into()));
        for a in Action::known() {
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
        }
    }

    #[test]
    fn decode_refuses_non_canonical_and_other_versions() {
        let e = sample();
        let good = String::from_utf8(e.encode()).unwrap();
        let spaced = good.replacen(':', ": ", 1);
        assert!(Event::decode(spaced.as_bytes()).is_err());
        let v2 = good.replace("\"v\":1", "\"v\":2");
        assert!(Event::decode(v2.as_bytes()).is_err());
        let extra = good.replace("\"v\":1", "\"v\":1,\"zz\":0");
        assert!(Event::decode(extra.as_bytes()).is_err());
        let bare = String::from_utf8(Event::new(Actor::system(), Action::Purge).encode()).unwrap();
        assert!(Event::decode(bare.as_bytes()).is_ok());
        let nulls = bare.replace("\"query\"", "\"purpose\":null,\"query\"");
        assert!(Event::decode(nulls.as_bytes()).is_err());
    }

    /// Facts written through the typed API land in the query as the same keys a hand-written
    /// query would hold: the canonical encoding (keys sorted at every depth) and so the leaf
    /// hash are those of the equivalent JSON.
    #[test]
    fn typed_facts_encode_as_the_equivalent_json() {
        use crate::audit::{AuditFacts, Channel, PlateMode};
        let typed = Event::new(Actor::staff("S1", "searcher"), Action::Search)
            .at("2025-03-01T12:34:56Z".parse().unwrap())
            .query(json!({"to": null, "from": "2025-01-01"}))
            .facts(
                AuditFacts::new()
                    .plate("ABC123")
                    .mode(PlateMode::Exact)
                    .refusal_code("own_vehicle")
                    .channel(Channel::Api)
                    .network_ids(vec![2, 1]),
            )
            .outcome(Outcome::refused("registered to you"));
        let by_hand = Event::new(Actor::staff("S1", "searcher"), Action::Search)
            .at("2025-03-01T12:34:56Z".parse().unwrap())
            .query(
                json!({"plate": "ABC123", "mode": "exact", "refusal_code": "own_vehicle",
                          "channel": "api", "network_ids": [2, 1], "from": "2025-01-01",
                          "to": null}),
            )
            .outcome(Outcome::refused("registered to you"));
        assert_eq!(typed.encode(), by_hand.encode());
        let text = String::from_utf8(typed.encode()).unwrap();
        assert!(text.contains(
            r#""query":{"channel":"api","from":"2025-01-01","mode":"exact","network_ids":[2,1],"plate":"ABC123","refusal_code":"own_vehicle","to":null}"#
        ), "{text}");
        let back = Event::decode(&typed.encode()).unwrap();
        assert_eq!(back, typed);
        let facts = back.audit_facts();
        assert_eq!(facts.plate.as_deref(), Some("ABC123"));
        assert_eq!(facts.refusal_code.as_deref(), Some("own_vehicle"));
        assert_eq!(facts.mode, Some(PlateMode::Exact));
        assert_eq!(facts.channel, Some(Channel::Api));
        assert_eq!(facts.read_id, None);
    }

    #[test]
    fn serde_json_of_an_event_is_its_encoding() {
        let e = sample();
        assert_eq!(serde_json::to_vec(&e).unwrap(), e.encode());
        let back: Event = serde_json::from_slice(&e.encode()).unwrap();
        assert_eq!(back, e);
    }
}

//! A use of the platform as the rules see it, read from one audit-ledger entry.
//!
//! The ledger entry holds everything the rules need: who (staff id, the roles they acted in),
//! what (search, view, tracking request), when, the purpose, file number and justification, the
//! outcome, and in its `query` object the plate asked about and the facts the server adds for
//! oversight (`refusal_code`, `newest_result_age_s`, and for tracking `authorisation_id`,
//! `basis`, `stolen_entry_id`, `renews`, `duration_minutes`).

use crate::error::{IntegrityError, Result};
use crate::hash::hash_str;
use crate::text::{band_keys, BANDS};
use anpr_domain::NormalisedPlate;
use anpr_ledger::{Action, ActorKind, Event, OutcomeKind};
use chrono::{DateTime, Utc};
use serde::de::{Deserializer, IgnoredAny, MapAccess, Visitor};
use serde::Deserialize;
use serde_json::Value;
use std::borrow::Cow;

/// What kind of use it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UseKind {
    Search,
    ReadView,
    ImageView,
    Export,
    TrackingRequest,
    LookbackRequest,
}

impl UseKind {
    pub fn as_str(self) -> &'static str {
        match self {
            UseKind::Search => "search",
            UseKind::ReadView => "read view",
            UseKind::ImageView => "image view",
            UseKind::Export => "export",
            UseKind::TrackingRequest => "tracking request",
            UseKind::LookbackRequest => "look-back request",
        }
    }

    /// The kind a refused request stood for, from the path the ledger recorded with it.
    fn from_path(method: &str, path: &str) -> Option<Self> {
        let path = path.split('?').next().unwrap_or(path);
        match method {
            "POST" if path == "/api/v1/searches" => Some(UseKind::Search),
            "POST" if path == "/api/v1/tracking" => Some(UseKind::TrackingRequest),
            "POST" if path == "/api/v1/lookback" => Some(UseKind::LookbackRequest),
            "GET" if path.starts_with("/api/v1/reads/") && path.contains("/image/") => {
                Some(UseKind::ImageView)
            }
            "GET" if path.starts_with("/api/v1/reads/") => Some(UseKind::ReadView),
            _ => None,
        }
    }
}

/// One use by a member of staff.
#[derive(Debug, Clone, PartialEq)]
pub struct Use {
    /// The ledger entry's index: the evidence a finding cites.
    pub index: u64,
    pub at: DateTime<Utc>,
    pub staff_id: String,
    /// The roles the member of staff acted in, as the ledger records them (`searcher,tracker`).
    pub role: String,
    pub kind: UseKind,
    /// The exact plate asked about (normalised); `None` for wildcard and fuzzy patterns.
    pub plate: Option<String>,
    pub purpose: Option<String>,
    pub file_number: Option<String>,
    pub justification: Option<String>,
    /// Granted (including narrowed or pending approval) rather than refused or failed.
    pub granted: bool,
    /// The policy's refusal code (`own_vehicle`, `file_not_yours`, ...), when refused.
    pub refusal_code: Option<String>,
    /// Age of the newest sighting the response disclosed, in seconds (searches).
    pub newest_result_age_s: Option<u64>,
    /// How many reads the response disclosed.
    pub result_count: Option<u64>,
    /// Tracking: the authorisation created.
    pub authorisation_id: Option<i64>,
    /// Tracking: what the authorisation rests on (`stolen_vehicle`, `supervised`, ...).
    pub basis: Option<String>,
    /// Tracking on a stolen report: which one.
    pub stolen_entry_id: Option<i64>,
    /// Tracking: the authorisation this one renews.
    pub renews: Option<i64>,
    /// Tracking: how long was asked for.
    pub duration_minutes: Option<u32>,
}

/// What the rules derive from a use alone — the hashes of its staff id, plate and file number and the
/// near-duplicate keys of its justification — computed where the use is decoded, so that this
/// work runs on the decoding thread, not the rules' (see `Engine::feed_keyed`).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct UseKeys {
    pub(crate) staff: u64,
    pub(crate) plate: u64,
    pub(crate) file: u64,
    pub(crate) bands: Option<[u64; BANDS]>,
}

impl UseKeys {
    pub fn of(u: &Use) -> UseKeys {
        UseKeys {
            staff: hash_str(&u.staff_id),
            plate: u.plate.as_deref().map_or(0, hash_str),
            file: u.file_number.as_deref().map_or(0, hash_str),
            bands: u.justification.as_deref().and_then(band_keys),
        }
    }
}

fn str_field(q: &Value, key: &str) -> Option<String> {
    q.get(key).and_then(Value::as_str).map(str::to_string)
}

fn i64_field(q: &Value, key: &str) -> Option<i64> {
    q.get(key).and_then(Value::as_i64)
}

/// The exact plate of a query, normalised; wildcard and fuzzy patterns have none.
fn exact_plate(q: &Value) -> Option<String> {
    let raw = q.get("plate")?.as_str()?;
    let mode = q.get("mode").and_then(Value::as_str).unwrap_or("exact");
    if mode != "exact" || raw.contains(['?', '*']) {
        return None;
    }
    NormalisedPlate::parse(raw)
        .ok()
        .map(NormalisedPlate::into_string)
}

/// The parts of an entry the rules read, parsed straight from its bytes: strings borrowed where
/// they hold no escapes, the query's other keys skipped unparsed, no re-encoding. A full pass
/// decodes every entry of the ledger, and [`Event::decode`]'s canonical-form check (an encode
/// per entry, there so that one event has one hash) is the ledger verifier's business, not the
/// rules'.
#[derive(Deserialize)]
struct LeanEvent<'a> {
    v: u32,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    actor: LeanActor<'a>,
    #[serde(borrow)]
    action: Cow<'a, str>,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    file_number: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    query: LeanQuery,
    #[serde(default)]
    result: Option<LeanResult>,
    outcome: LeanOutcome,
}

#[derive(Deserialize)]
struct LeanActor<'a> {
    #[serde(borrow)]
    id: Cow<'a, str>,
    kind: ActorKind,
    #[serde(borrow)]
    role: Cow<'a, str>,
}

#[derive(Deserialize)]
struct LeanResult {
    count: u64,
}

#[derive(Deserialize)]
struct LeanOutcome {
    result: OutcomeKind,
}

/// The query keys the rules read, each as the JSON value it holds (read with the same
/// `as_str`/`as_u64` accessors as [`Use::from_event`], so both read an entry alike); any other
/// key, and a query that is not an object, is skipped.
#[derive(Default)]
struct LeanQuery {
    plate: Option<Value>,
    mode: Option<Value>,
    method: Option<Value>,
    path: Option<Value>,
    refusal_code: Option<Value>,
    newest_result_age_s: Option<Value>,
    authorisation_id: Option<Value>,
    basis: Option<Value>,
    stolen_entry_id: Option<Value>,
    renews: Option<Value>,
    duration_minutes: Option<Value>,
}

impl<'de> Deserialize<'de> for LeanQuery {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = LeanQuery;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_map<A: MapAccess<'de>>(
                self,
                mut m: A,
            ) -> std::result::Result<LeanQuery, A::Error> {
                let mut q = LeanQuery::default();
                while let Some(key) = m.next_key::<Cow<'de, str>>()? {
                    let slot = match key.as_ref() {
                        "plate" => &mut q.plate,
                        "mode" => &mut q.mode,
                        "method" => &mut q.method,
                        "path" => &mut q.path,
                        "refusal_code" => &mut q.refusal_code,
                        "newest_result_age_s" => &mut q.newest_result_age_s,
                        "authorisation_id" => &mut q.authorisation_id,
                        "basis" => &mut q.basis,
                        "stolen_entry_id" => &mut q.stolen_entry_id,
                        "renews" => &mut q.renews,
                        "duration_minutes" => &mut q.duration_minutes,
                        _ => {
                            m.next_value::<IgnoredAny>()?;
                            continue;
                        }
                    };
                    // A repeated key keeps its last value, as serde_json's own map does.
                    *slot = Some(m.next_value::<Value>()?);
                }
                Ok(q)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut s: A,
            ) -> std::result::Result<LeanQuery, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(LeanQuery::default())
            }
            fn visit_unit<E>(self) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
            fn visit_bool<E>(self, _: bool) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
            fn visit_i64<E>(self, _: i64) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
            fn visit_u64<E>(self, _: u64) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
            fn visit_f64<E>(self, _: f64) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
            fn visit_str<E>(self, _: &str) -> std::result::Result<LeanQuery, E> {
                Ok(LeanQuery::default())
            }
        }
        d.deserialize_any(V)
    }
}

fn val_str(v: &Option<Value>) -> Option<&str> {
    v.as_ref().and_then(Value::as_str)
}

impl Use {
    /// The use a stored ledger entry (its canonical JSON bytes) records, or `None` for entries
    /// that are not a member of staff's use of plate data; the same as decoding the entry with
    /// [`Event::decode`] and calling [`Use::from_event`], without building the whole event.
    /// Refuses bytes that are not a version-1 event.
    pub fn from_entry(index: u64, body: &[u8]) -> Result<Option<Use>> {
        let bad = |message: String| IntegrityError::Entry { index, message };
        let e: LeanEvent = serde_json::from_slice(body)
            .map_err(|err| bad(format!("not a version-1 event: {err}")))?;
        if e.v != 1 {
            return Err(bad(format!("unsupported event version {}", e.v)));
        }
        if e.actor.kind != ActorKind::Staff {
            return Ok(None);
        }
        let q = &e.query;
        let kind = match e.action.as_ref() {
            "search" => UseKind::Search,
            "image_view" => UseKind::ImageView,
            "export" => UseKind::Export,
            "tracking_request" => UseKind::TrackingRequest,
            "read_view" => UseKind::ReadView,
            "lookback_request" => UseKind::LookbackRequest,
            "denied" => match UseKind::from_path(
                val_str(&q.method).unwrap_or(""),
                val_str(&q.path).unwrap_or(""),
            ) {
                Some(k) => k,
                None => return Ok(None),
            },
            _ => return Ok(None),
        };
        let at = DateTime::parse_from_rfc3339(&e.time)
            .map_err(|err| bad(format!("bad time {:?}: {err}", e.time)))?
            .with_timezone(&Utc);
        let plate = val_str(&q.plate).and_then(|raw| {
            let mode = val_str(&q.mode).unwrap_or("exact");
            if mode != "exact" || raw.contains(['?', '*']) {
                return None;
            }
            NormalisedPlate::parse(raw)
                .ok()
                .map(NormalisedPlate::into_string)
        });
        let i64_of = |v: &Option<Value>| v.as_ref().and_then(Value::as_i64);
        Ok(Some(Use {
            index,
            at,
            staff_id: e.actor.id.into_owned(),
            role: e.actor.role.into_owned(),
            kind,
            plate,
            purpose: e.purpose,
            file_number: e.file_number,
            justification: e.justification,
            granted: e.outcome.result == OutcomeKind::Granted,
            refusal_code: val_str(&q.refusal_code).map(str::to_string),
            newest_result_age_s: q.newest_result_age_s.as_ref().and_then(Value::as_u64),
            result_count: e.result.map(|r| r.count),
            authorisation_id: i64_of(&q.authorisation_id),
            basis: val_str(&q.basis).map(str::to_string),
            stolen_entry_id: i64_of(&q.stolen_entry_id),
            renews: i64_of(&q.renews),
            duration_minutes: q
                .duration_minutes
                .as_ref()
                .and_then(Value::as_u64)
                .map(|m| m.min(u32::MAX as u64) as u32),
        }))
    }

    /// The use an entry records, or `None` for entries that are not a member of staff's use of
    /// plate data (sign-ins, ingestion, administration, the platform's own actions).
    pub fn from_event(index: u64, e: &Event) -> Option<Use> {
        if e.actor.kind != ActorKind::Staff {
            return None;
        }
        let q = &e.query;
        let kind = match &e.action {
            Action::Search => UseKind::Search,
            Action::ImageView => UseKind::ImageView,
            Action::Export => UseKind::Export,
            Action::TrackingRequest => UseKind::TrackingRequest,
            Action::ReadView => UseKind::ReadView,
            Action::LookbackRequest => UseKind::LookbackRequest,
            Action::Denied => UseKind::from_path(
                q.get("method").and_then(Value::as_str).unwrap_or(""),
                q.get("path").and_then(Value::as_str).unwrap_or(""),
            )?,
            _ => return None,
        };
        let granted = e.outcome.result == OutcomeKind::Granted;
        Some(Use {
            index,
            at: e.time,
            staff_id: e.actor.id.clone(),
            role: e.actor.role.clone(),
            kind,
            plate: exact_plate(q),
            purpose: e.purpose.clone(),
            file_number: e.file_number.clone(),
            justification: e.justification.clone(),
            granted,
            refusal_code: str_field(q, "refusal_code"),
            newest_result_age_s: q.get("newest_result_age_s").and_then(Value::as_u64),
            result_count: e.result.as_ref().map(|r| r.count),
            authorisation_id: i64_field(q, "authorisation_id"),
            basis: str_field(q, "basis"),
            stolen_entry_id: i64_field(q, "stolen_entry_id"),
            renews: i64_field(q, "renews"),
            duration_minutes: q
                .get("duration_minutes")
                .and_then(Value::as_u64)
                .map(|m| m.min(u32::MAX as u64) as u32),
        })
    }

    /// A use with only the essentials set (tests and the simulator fill in the rest).
    pub fn new(index: u64, at: DateTime<Utc>, staff_id: &str, kind: UseKind) -> Use {
        Use {
            index,
            at,
            staff_id: staff_id.to_string(),
            role: "searcher".into(),
            kind,
            plate: None,
            purpose: None,
            file_number: None,
            justification: None,
            granted: true,
            refusal_code: None,
            newest_result_age_s: None,
            result_count: None,
            authorisation_id: None,
            basis: None,
            stolen_entry_id: None,
            renews: None,
            duration_minutes: None,
        }
    }

    pub fn refused_as(&self, code: &str) -> bool {
        !self.granted && self.refusal_code.as_deref() == Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_ledger::{Actor, Outcome};
    use serde_json::json;

    #[test]
    fn a_refused_search_is_read_back_from_its_path() {
        let e = Event::new(Actor::staff("S1", "searcher"), Action::Denied)
            .query(
                json!({"plate": "abc-123", "method": "POST", "path": "/api/v1/searches",
                          "status": 403, "refusal_code": "own_vehicle"}),
            )
            .outcome(Outcome::refused("registered to you"));
        let u = Use::from_event(7, &e).unwrap();
        assert_eq!(u.kind, UseKind::Search);
        assert_eq!(u.plate.as_deref(), Some("ABC123"));
        assert!(u.refused_as("own_vehicle"));
        assert_eq!(u.index, 7);
    }

    #[test]
    fn patterns_have_no_exact_plate_and_other_actors_are_not_uses() {
        let e = Event::new(Actor::staff("S1", "searcher"), Action::Search)
            .query(json!({"plate": "AB?12*"}));
        assert_eq!(Use::from_event(0, &e).unwrap().plate, None);
        let e = Event::new(Actor::staff("S1", "searcher"), Action::Search)
            .query(json!({"plate": "ABC123", "mode": "fuzzy"}));
        assert_eq!(Use::from_event(0, &e).unwrap().plate, None);
        let e = Event::new(Actor::camera("3"), Action::Other("ingest".into()));
        assert!(Use::from_event(0, &e).is_none());
        let e = Event::new(Actor::staff("S1", "searcher"), Action::Login);
        assert!(Use::from_event(0, &e).is_none());
    }

    /// The lean reader of stored bytes sees every entry exactly as decoding the event does.
    #[test]
    fn from_entry_reads_what_from_event_reads() {
        let sim = anpr_synth::usage::simulate(&anpr_synth::usage::SimConfig::small(7));
        let mut extra = vec![
            Event::new(Actor::staff("S1", "searcher"), Action::Search).query(json!(null)),
            Event::new(Actor::staff("S1", "searcher"), Action::Search).query(json!([1, 2])),
            Event::new(Actor::staff("S\\1\"", "search\u{e9}r"), Action::Search).query(
                json!({"plate": "ab\\c", "newest_result_age_s": -3, "renews": "7",
                       "duration_minutes": 1e3, "other": {"plate": "NOTME"}}),
            ),
            Event::new(
                Actor::staff("S1", "tracker"),
                Action::Other("lookback_request".into()),
            )
            .query(json!({"plate": "XYZ999", "duration_minutes": u64::MAX})),
            Event::new(Actor::staff("S1", "searcher"), Action::Denied)
                .query(json!({"method": "GET", "path": "/api/v1/reads/9/image/plate?x=1"}))
                .outcome(Outcome::refused("no")),
            Event::new(Actor::staff("S1", "searcher"), Action::Denied)
                .query(json!({"method": "GET", "path": "/api/v1/users"})),
            Event::new(Actor::camera("3"), Action::Search),
        ];
        extra.extend(sim.events.iter().cloned());
        let mut uses = 0;
        for (i, e) in extra.iter().enumerate() {
            let bytes = e.encode();
            let decoded = Event::decode(&bytes).unwrap();
            let want = Use::from_event(i as u64, &decoded);
            uses += want.is_some() as usize;
            assert_eq!(
                Use::from_entry(i as u64, &bytes).unwrap(),
                want,
                "entry {i}"
            );
        }
        assert!(uses > 1000, "{uses} uses compared");
        assert!(Use::from_entry(0, b"{\"v\":2}").is_err());
        assert!(Use::from_entry(0, b"not json").is_err());
    }

    #[test]
    fn tracking_facts_are_read_from_the_query() {
        let e = Event::new(Actor::staff("S1", "tracker"), Action::TrackingRequest).query(json!({
            "plate": "ABC123", "authorisation_id": 12, "basis": "stolen_vehicle",
            "stolen_entry_id": 4, "renews": 11, "duration_minutes": 720}));
        let u = Use::from_event(3, &e).unwrap();
        assert_eq!(u.authorisation_id, Some(12));
        assert_eq!(u.basis.as_deref(), Some("stolen_vehicle"));
        assert_eq!(u.stolen_entry_id, Some(4));
        assert_eq!(u.renews, Some(11));
        assert_eq!(u.duration_minutes, Some(720));
    }
}

//! A use of the platform as the rules see it, read from one audit-ledger entry.
//!
//! The ledger entry holds everything the rules need: who (staff id, the roles they acted in),
//! what (the [`Action`]: search, view, tracking request, ...), when, the purpose, file number
//! and justification, the outcome, and the [`AuditFacts`] recorded for oversight (the plate
//! asked about or shown, `refusal_code`, `newest_result_age_s`, and for tracking
//! `authorisation_id`, `basis`, `stolen_entry_id`, `renews`, `duration_minutes`). Both are read
//! through `anpr-ledger`'s typed schema only: which use an entry is comes from its action
//! ([`UseKind::of_action`]), never from a recorded HTTP path, and no fact is read by a key
//! spelled here.

use crate::error::{IntegrityError, Result};
use crate::hash::hash_str;
use crate::text::{band_keys, BANDS};
use anpr_domain::query::MatchMode;
use anpr_domain::{NormalisedPlate, PlatePattern};
use anpr_ledger::{Action, ActorKind, AuditFacts, Event, OutcomeKind, PlateMode};
use chrono::{DateTime, Utc};
use serde::Deserialize;
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
    /// A supervisor's approval of a tracking or look-back request (granted or refused).
    Approval,
    /// A privacy officer's subject access request about a plate.
    SubjectAccess,
    /// An administrator created an account or changed its roles or status.
    AccountChange,
    /// A register (stolen reports, staff, ...) loaded by a member of staff.
    RegisterImport,
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
            UseKind::Approval => "approval",
            UseKind::SubjectAccess => "subject access request",
            UseKind::AccountChange => "account change",
            UseKind::RegisterImport => "register import",
        }
    }

    /// A use of plate data by a member of staff in their own work (searches, views, exports,
    /// tracking and look-back requests): what the rules about queries, volume, hours and
    /// sampling look at. The other kinds are duties that bear on others' uses (approving,
    /// administering accounts and registers, answering subject access requests), judged only
    /// by the rules written for them.
    pub fn is_query(self) -> bool {
        matches!(
            self,
            UseKind::Search
                | UseKind::ReadView
                | UseKind::ImageView
                | UseKind::Export
                | UseKind::TrackingRequest
                | UseKind::LookbackRequest
        )
    }

    /// The kind of use an action records, or `None` for an action that is not a member of
    /// staff's use of plate data. A refused use keeps its action (with a refused outcome), so
    /// it is classified like a granted one.
    ///
    /// The `match` names every variant and has no wildcard arm: a variant added to
    /// [`Action`] does not compile until it is put on one side or the other.
    pub fn of_action(action: &Action) -> Option<UseKind> {
        match action {
            Action::Search => Some(UseKind::Search),
            Action::ReadView => Some(UseKind::ReadView),
            Action::ImageView => Some(UseKind::ImageView),
            Action::Export => Some(UseKind::Export),
            Action::TrackingRequest => Some(UseKind::TrackingRequest),
            Action::LookbackRequest => Some(UseKind::LookbackRequest),
            // Disclosures that rest on a use judged already: the authorisation whose sightings
            // or alerts they are (its tracking request), or a privacy officer's duty.
            Action::SightingsView
            | Action::AlertDelivered
            | Action::AlertAck
            | Action::AlertList
            | Action::AlertStream => None,
            // A privacy officer's duty, judged for plates connected to the officer.
            Action::SubjectAccess => Some(UseKind::SubjectAccess),
            // Approvals, judged for who approves; the requester's use is the request.
            Action::TrackingApproval | Action::LookbackApproval => Some(UseKind::Approval),
            // Accounts and registers, judged for tracking one administrator arranges alone.
            Action::UserChange => Some(UseKind::AccountChange),
            Action::RegisterImport => Some(UseKind::RegisterImport),
            // The other decisions on authorisations, and their ends.
            Action::TrackingRefusal
            | Action::TrackingRevocation
            | Action::TrackingEnd
            | Action::TrackingExpiry
            | Action::LookbackRefusal
            | Action::LookbackRevocation
            | Action::LookbackEnd
            | Action::AuthorisationList
            | Action::AuthorisationView => None,
            // Signing in, administration, registers, reports, oversight: no plate data used.
            Action::Login
            | Action::LoginFailed
            | Action::Logout
            | Action::Session
            | Action::HotListLoad
            | Action::HotListView
            | Action::Ingest
            | Action::RegisterRead
            | Action::CatalogChange
            | Action::CatalogRead
            | Action::CameraKeyChange
            | Action::AgreementChange
            | Action::LegalHold
            | Action::NetworkControlsView
            | Action::NetworkControlsChange
            | Action::NetworkWatchNotices
            | Action::NetworkUses
            | Action::NetworkLedgerSlice
            | Action::NetworkStatement
            | Action::UserList
            | Action::Purge
            | Action::ReportUsage
            | Action::ReportTransparency
            | Action::IntegrityRun
            | Action::IntegrityCaseView
            | Action::IntegrityCaseChange
            | Action::IntegrityExplanation
            | Action::LedgerRead
            | Action::MetricsRead => None,
            // Callers who could not be authenticated, and requests no route serves: no use of
            // the platform to judge.
            Action::Denied | Action::Throttled | Action::Unrouted => None,
            // A name this version does not know is no use it can judge; a known name held in
            // `Other` (built by hand, never decoded so) counts as its variant.
            Action::Other(name) => match Action::named(name) {
                Some(a) => UseKind::of_action(&a),
                None => None,
            },
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
    /// A wildcard or fuzzy pattern asked about (`None` for an exact plate).
    pub pattern: Option<PlatePattern>,
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
    /// Tracking: asked for as an emergency.
    pub emergency: bool,
    /// A read view: which read.
    pub read_id: Option<i64>,
    /// An account change: whose account.
    pub target_staff_id: Option<String>,
    /// A register import: which register, and how many records it held.
    pub register: Option<String>,
    pub records: Option<u64>,
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

/// The exact plate of the facts, normalised; wildcard and fuzzy patterns have none.
fn exact_plate(f: &AuditFacts) -> Option<String> {
    let raw = f.plate.as_deref()?;
    if f.mode.unwrap_or(PlateMode::Exact) != PlateMode::Exact || raw.contains(['?', '*']) {
        return None;
    }
    NormalisedPlate::parse(raw)
        .ok()
        .map(NormalisedPlate::into_string)
}

/// The wildcard or fuzzy pattern of the facts, as the search parsed it.
fn pattern(f: &AuditFacts) -> Option<PlatePattern> {
    let raw = f.plate.as_deref()?;
    let mode = match f.mode {
        Some(PlateMode::Fuzzy) => MatchMode::Fuzzy,
        Some(PlateMode::Wildcard) => MatchMode::Wildcard,
        _ if raw.contains(['?', '*']) => MatchMode::Wildcard,
        _ => return None,
    };
    PlatePattern::parse(raw, Some(mode), f.max_edits).ok()
}

/// The parts of an entry the rules read, parsed straight from its bytes: strings borrowed where
/// they hold no escapes, the query read as [`AuditFacts`] (its other keys skipped unparsed), no
/// re-encoding. A full pass decodes every entry of the ledger, and [`Event::decode`]'s
/// canonical-form check (an encode per entry, there so that one event has one hash) is the
/// ledger verifier's business, not the rules'.
#[derive(Deserialize)]
struct LeanEvent<'a> {
    v: u32,
    #[serde(borrow)]
    time: Cow<'a, str>,
    #[serde(borrow)]
    actor: LeanActor<'a>,
    action: Action,
    #[serde(default)]
    purpose: Option<String>,
    #[serde(default)]
    file_number: Option<String>,
    #[serde(default)]
    justification: Option<String>,
    #[serde(borrow)]
    query: AuditFacts<'a>,
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

impl Use {
    /// The use a stored ledger entry (its canonical JSON bytes) records, or `None` for entries
    /// that are not a member of staff's use of plate data; the same as decoding the entry with
    /// [`Event::decode`] and calling [`Use::from_event`], without building the whole event.
    /// Refuses bytes that are not a version-1 or version-2 (redactable) event.
    pub fn from_entry(index: u64, body: &[u8]) -> Result<Option<Use>> {
        let bad = |message: String| IntegrityError::Entry { index, message };
        let e: LeanEvent = serde_json::from_slice(body)
            .map_err(|err| bad(format!("not a ledger event: {err}")))?;
        if e.v != 1 && e.v != 2 {
            return Err(bad(format!("unsupported event version {}", e.v)));
        }
        if e.actor.kind != ActorKind::Staff {
            return Ok(None);
        }
        let Some(kind) = UseKind::of_action(&e.action) else {
            return Ok(None);
        };
        let at = DateTime::parse_from_rfc3339(&e.time)
            .map_err(|err| bad(format!("bad time {:?}: {err}", e.time)))?
            .with_timezone(&Utc);
        Ok(Some(Use {
            purpose: e.purpose,
            file_number: e.file_number,
            justification: e.justification,
            granted: matches!(
                e.outcome.result,
                OutcomeKind::Granted | OutcomeKind::Pending
            ),
            result_count: e.result.map(|r| r.count),
            ..Use::with_facts(
                index,
                at,
                e.actor.id.into_owned(),
                e.actor.role.into_owned(),
                kind,
                e.query,
            )
        }))
    }

    /// The use an entry records, or `None` for entries that are not a member of staff's use of
    /// plate data (sign-ins, ingestion, administration, the platform's own actions).
    pub fn from_event(index: u64, e: &Event) -> Option<Use> {
        if e.actor.kind != ActorKind::Staff {
            return None;
        }
        let kind = UseKind::of_action(&e.action)?;
        Some(Use {
            purpose: e.purpose.clone(),
            file_number: e.file_number.clone(),
            justification: e.justification.clone(),
            granted: matches!(
                e.outcome.result,
                OutcomeKind::Granted | OutcomeKind::Pending
            ),
            result_count: e.result.as_ref().map(|r| r.count),
            ..Use::with_facts(
                index,
                e.time,
                e.actor.id.clone(),
                e.actor.role.clone(),
                kind,
                e.audit_facts(),
            )
        })
    }

    /// A granted use with what the rules read from the entry's facts, and no purpose, file
    /// number, justification or result (the callers set them): one reading of the facts for
    /// [`Use::from_entry`] and [`Use::from_event`] alike.
    fn with_facts(
        index: u64,
        at: DateTime<Utc>,
        staff_id: String,
        role: String,
        kind: UseKind,
        f: AuditFacts<'_>,
    ) -> Use {
        Use {
            index,
            at,
            staff_id,
            role,
            kind,
            plate: exact_plate(&f),
            pattern: pattern(&f),
            purpose: None,
            file_number: None,
            justification: None,
            granted: true,
            refusal_code: f.refusal_code.map(Cow::into_owned),
            newest_result_age_s: f.newest_result_age_s,
            result_count: None,
            authorisation_id: f.authorisation_id,
            basis: f.basis.map(Cow::into_owned),
            stolen_entry_id: f.stolen_entry_id,
            renews: f.renews,
            duration_minutes: f.duration_minutes,
            emergency: f.emergency.unwrap_or(false),
            read_id: f.read_id,
            target_staff_id: f.target_staff_id.map(Cow::into_owned),
            register: f.register.map(Cow::into_owned),
            records: f.reads,
        }
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
            pattern: None,
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
            emergency: false,
            read_id: None,
            target_staff_id: None,
            register: None,
            records: None,
        }
    }

    pub fn refused_as(&self, code: &str) -> bool {
        !self.granted && self.refusal_code.as_deref() == Some(code)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_ledger::{Actor, Channel, Outcome};
    use serde_json::json;

    fn staff() -> Actor {
        Actor::staff("S1", "searcher")
    }

    #[test]
    fn a_refused_search_keeps_its_action_and_code() {
        let e = Event::new(staff(), Action::Search)
            .facts(
                AuditFacts::new()
                    .plate("abc-123")
                    .refusal_code("own_vehicle")
                    .channel(Channel::Api),
            )
            .outcome(Outcome::refused("registered to you"));
        let u = Use::from_event(7, &e).unwrap();
        assert_eq!(u.kind, UseKind::Search);
        assert_eq!(u.plate.as_deref(), Some("ABC123"));
        assert!(u.refused_as("own_vehicle"));
        assert_eq!(u.index, 7);
        assert_eq!(Use::from_entry(7, &e.encode()).unwrap(), Some(u));
    }

    /// Which use an entry is comes from its action alone. A `denied` entry is a caller who
    /// could not be authenticated; entries written before the typed schema, which recorded a
    /// member of staff's refused search as `denied` with its HTTP path, are not read as uses.
    #[test]
    fn denied_and_recorded_paths_are_not_uses() {
        let anonymous = Event::new(Actor::anonymous(), Action::Denied)
            .query(json!({"method": "POST", "path": "/api/v1/searches", "status": 401}))
            .outcome(Outcome::refused("401 Unauthorized"));
        assert!(Use::from_event(0, &anonymous).is_none());
        let legacy = Event::new(staff(), Action::Denied)
            .query(
                json!({"plate": "ABC123", "method": "POST", "path": "/api/v1/searches",
                          "status": 403, "refusal_code": "own_vehicle"}),
            )
            .outcome(Outcome::refused("registered to you"));
        assert!(Use::from_event(0, &legacy).is_none());
        assert!(Use::from_entry(0, &legacy.encode()).unwrap().is_none());
    }

    /// Every action is classified by an exhaustive `match` (see [`UseKind::of_action`]); this
    /// pins which actions are uses, and that the lean reader of bytes agrees on every one.
    #[test]
    fn every_action_is_classified() {
        let uses: Vec<(String, UseKind)> = Action::known()
            .filter_map(|a| UseKind::of_action(&a).map(|k| (a.as_str().to_owned(), k)))
            .collect();
        let want = [
            ("search", UseKind::Search),
            ("read_view", UseKind::ReadView),
            ("image_view", UseKind::ImageView),
            ("export", UseKind::Export),
            ("tracking_request", UseKind::TrackingRequest),
            ("tracking_approval", UseKind::Approval),
            ("lookback_request", UseKind::LookbackRequest),
            ("lookback_approval", UseKind::Approval),
            ("register_import", UseKind::RegisterImport),
            ("user_change", UseKind::AccountChange),
            ("subject_access", UseKind::SubjectAccess),
        ];
        let want: Vec<(String, UseKind)> = want.iter().map(|(n, k)| (n.to_string(), *k)).collect();
        assert_eq!(uses, want);
        for a in Action::known() {
            // A known name held in `Other` (built by hand) is classified as its variant.
            assert_eq!(
                UseKind::of_action(&Action::Other(a.as_str().into())),
                UseKind::of_action(&a)
            );
            for outcome in [Outcome::granted(), Outcome::refused("no")] {
                let e = Event::new(staff(), a.clone())
                    .facts(AuditFacts::new().plate("ABC123"))
                    .outcome(outcome);
                let u = Use::from_event(1, &e);
                assert_eq!(u.as_ref().map(|u| u.kind), UseKind::of_action(&a), "{a}");
                assert_eq!(Use::from_entry(1, &e.encode()).unwrap(), u, "{a}");
            }
        }
        assert_eq!(
            UseKind::of_action(&Action::Other("key_rotation".into())),
            None
        );
    }

    #[test]
    fn patterns_have_no_exact_plate_and_other_actors_are_not_uses() {
        let e = Event::new(staff(), Action::Search).facts(AuditFacts::new().plate("AB?12*"));
        assert_eq!(Use::from_event(0, &e).unwrap().plate, None);
        let e = Event::new(staff(), Action::Search)
            .facts(AuditFacts::new().plate("ABC123").mode(PlateMode::Fuzzy));
        assert_eq!(Use::from_event(0, &e).unwrap().plate, None);
        let e = Event::new(staff(), Action::Search)
            .facts(AuditFacts::new().plate("ABC123").mode(PlateMode::Exact));
        assert_eq!(
            Use::from_event(0, &e).unwrap().plate.as_deref(),
            Some("ABC123")
        );
        let e = Event::new(Actor::camera("3"), Action::Ingest);
        assert!(Use::from_event(0, &e).is_none());
        let e = Event::new(Actor::camera("3"), Action::Search);
        assert!(Use::from_event(0, &e).is_none());
        let e = Event::new(staff(), Action::Login);
        assert!(Use::from_event(0, &e).is_none());
    }

    /// The lean reader of stored bytes sees every entry exactly as decoding the event does.
    #[test]
    fn from_entry_reads_what_from_event_reads() {
        let sim = anpr_synth::usage::simulate(&anpr_synth::usage::SimConfig::small(7));
        // Queries as no typed writer makes them: not objects, facts of the wrong type or out of
        // range, escapes, a fact's key nested in a parameter.
        let mut extra = vec![
            Event::new(staff(), Action::Search).query(json!(null)),
            Event::new(staff(), Action::Search).query(json!([1, 2])),
            Event::new(Actor::staff("S\\1\"", "search\u{e9}r"), Action::Search).query(
                json!({"plate": "ab\\c", "newest_result_age_s": -3, "renews": "7",
                       "duration_minutes": 1e3, "other": {"plate": "NOTME"}}),
            ),
            Event::new(Actor::staff("S1", "tracker"), Action::LookbackRequest)
                .query(json!({"plate": "XYZ999", "duration_minutes": u64::MAX})),
            Event::new(staff(), Action::ImageView)
                .facts(
                    AuditFacts::new()
                        .read_id(9)
                        .plate("XYZ999")
                        .refusal_code("x"),
                )
                .outcome(Outcome::refused("no")),
            Event::new(staff(), Action::UserList),
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
        let e = Event::new(Actor::staff("S1", "tracker"), Action::TrackingRequest).facts(
            AuditFacts::new()
                .plate("ABC123")
                .authorisation_id(12)
                .basis("stolen_vehicle")
                .stolen_entry_id(4)
                .renews(11)
                .duration_minutes(720),
        );
        let u = Use::from_event(3, &e).unwrap();
        assert_eq!(u.authorisation_id, Some(12));
        assert_eq!(u.basis.as_deref(), Some("stolen_vehicle"));
        assert_eq!(u.stolen_entry_id, Some(4));
        assert_eq!(u.renews, Some(11));
        assert_eq!(u.duration_minutes, Some(720));
        assert_eq!(u.plate.as_deref(), Some("ABC123"));
    }
}

//! The audit-event schema: what an entry says was done ([`Action`]) and the facts recorded with
//! it for oversight ([`AuditFacts`]).
//!
//! Writers (the server's audit trail, the command line, the simulator) and readers (the
//! integrity rules, overseers' tools) share these types, so that a fact the rules read is a
//! field the writer had to fill in, not a string both sides happen to spell alike. The encoding
//! is unchanged in form: the action is its snake_case name, and the facts are keys of the
//! entry's `query` object (sorted with the rest of it by the canonical encoding), beside the
//! request parameters that are not facts.

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use serde::de::{Deserializer, IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Serialize, Serializer};
use serde_json::Value;

macro_rules! actions {
    ($( $(#[$doc:meta])* $variant:ident = $name:literal, )*) => {
        /// What was done: one named variant for every use the platform records, written as its
        /// snake_case name.
        ///
        /// Equality and hashing go by that name, so [`Action::Other`] holding a known name equals
        /// the named variant (a `match` does not see it so: parse names with [`FromStr`], which
        /// never yields `Other` for a known name).
        #[derive(Clone, Debug)]
        pub enum Action {
            $( $(#[$doc])* $variant, )*
            /// An action this version does not know, by the name a newer version wrote. Decoding
            /// gives it and it re-encodes unchanged, so older readers can still read newer logs;
            /// the platform itself never records it.
            Other(String),
        }

        impl Action {
            /// Every named action (all but [`Action::Other`]), in declaration order.
            pub const NAMED: &'static [Action] = &[$(Action::$variant,)*];

            /// The snake_case name written in entries.
            pub fn as_str(&self) -> &str {
                match self {
                    $(Action::$variant => $name,)*
                    Action::Other(s) => s,
                }
            }

            /// The named action called `name`, if this version knows it.
            pub fn named(name: &str) -> Option<Action> {
                match name {
                    $($name => Some(Action::$variant),)*
                    _ => None,
                }
            }
        }
    };
}

actions! {
    // Signing in.
    /// A successful sign-in (an API token or a browser session opened).
    Login = "login",
    /// A sign-in refused (wrong password, locked or inactive account).
    LoginFailed = "login_failed",
    /// A sign-out (a token or browser session closed).
    Logout = "logout",
    /// The caller reading their own session (`auth/me`, the browser session).
    Session = "session",

    // Plate data.
    /// A search of reads (facts: `plate`, `mode`, `max_edits`, `newest_result_age_s`).
    Search = "search",
    /// Viewing one read's details (facts: `read_id`, `plate` shown).
    ReadView = "read_view",
    /// Viewing a read's plate or overview image (facts: `read_id`, `plate` shown).
    ImageView = "image_view",
    /// Data left the platform (evidence bundle, CSV, ...).
    Export = "export",
    /// The sightings of a tracking authorisation's watch (fact: `authorisation_id`).
    SightingsView = "sightings_view",

    // Tracking (real-time) authorisations.
    /// A request to track a vehicle (facts: `plate`, `emergency`, `fuzzy`, `duration_minutes`,
    /// `renews`, and once granted `authorisation_id`, `basis`, `stolen_entry_id`).
    TrackingRequest = "tracking_request",
    /// A supervisor approved a tracking request (fact: `authorisation_id`).
    TrackingApproval = "tracking_approval",
    /// A supervisor refused a tracking request (fact: `authorisation_id`).
    TrackingRefusal = "tracking_refusal",
    /// A supervisor revoked a tracking authorisation (fact: `authorisation_id`).
    TrackingRevocation = "tracking_revocation",
    /// The platform ended a tracking authorisation by itself — expiry, an undecided request
    /// lapsing, an emergency not approved in time, the stolen report cancelled — with the
    /// reason in the fact `end_reason` (and `authorisation_id`). Every end the platform makes is
    /// recorded under this action.
    TrackingEnd = "tracking_end",
    /// A tracking authorisation expired. Not recorded by this version (which records every
    /// end the platform makes as [`Action::TrackingEnd`]); kept so entries that used the name
    /// read as a named action: read it as a `TrackingEnd` with `end_reason` `expired`.
    TrackingExpiry = "tracking_expiry",

    // Look-back (historical, beyond the searcher's tier) authorisations.
    /// A request to look back further than the caller's tier allows (fact: `plate`).
    LookbackRequest = "lookback_request",
    /// A supervisor approved a look-back request (fact: `authorisation_id`).
    LookbackApproval = "lookback_approval",
    /// A supervisor refused a look-back request (fact: `authorisation_id`).
    LookbackRefusal = "lookback_refusal",
    /// A supervisor revoked a look-back authorisation (fact: `authorisation_id`).
    LookbackRevocation = "lookback_revocation",
    /// The platform ended a look-back authorisation by itself (facts: `authorisation_id`,
    /// `end_reason`).
    LookbackEnd = "lookback_end",
    /// A listing of tracking or look-back authorisations (one's own, or a supervisor's queue).
    AuthorisationList = "authorisation_list",
    /// One tracking or look-back authorisation (fact: `authorisation_id`).
    AuthorisationView = "authorisation_view",

    // Alerts.
    /// An alert was delivered to a user (fact: `authorisation_id`).
    AlertDelivered = "alert_delivered",
    /// A user acknowledged an alert.
    AlertAck = "alert_ack",
    /// The list of one's alerts.
    AlertList = "alert_list",
    /// A user subscribed to the stream of their alerts.
    AlertStream = "alert_stream",

    // The stolen-vehicle hot list.
    /// The hot list was loaded (fact: `reads`, the entries loaded).
    HotListLoad = "hot_list_load",
    /// The hot list's summary was read.
    HotListView = "hot_list_view",

    // Ingestion, registers and the catalog.
    /// A camera pushed reads (fact: `reads`, the number in the batch).
    Ingest = "ingest",
    /// A register (staff, vehicles, incidents, stolen reports, ...) was imported (fact:
    /// `reads`, the records in it).
    RegisterImport = "register_import",
    /// Register counts or the network sharing agreements read.
    RegisterRead = "register_read",
    /// A network, site or camera created or changed.
    CatalogChange = "catalog_change",
    /// Networks, sites or cameras listed.
    CatalogRead = "catalog_read",
    /// A camera's API keys rotated or revoked (the camera and the rotation's overlap are in the
    /// query; a key never is).
    CameraKeyChange = "camera_key_change",
    /// A network's sharing agreement changed (fact: `network_ids`).
    AgreementChange = "agreement_change",
    /// A read put under legal hold or released (fact: `read_id`).
    LegalHold = "legal_hold",

    // The data owners' side of a camera network.
    /// A network's own sharing controls read by its network auditor (query: `network_id`).
    NetworkControlsView = "network_controls_view",
    /// A network's own sharing controls changed by its network auditor — suspended or resumed,
    /// purposes withheld, maximum look-back (query: the network and what changed).
    NetworkControlsChange = "network_controls_change",
    /// The notices of tracking watches that cover a network's cameras, read by its network
    /// auditor (query: `network_id`).
    NetworkWatchNotices = "network_watch_notices",
    /// The police uses that touched a network's data, read by its network auditor (query:
    /// `network_id`, `month`).
    NetworkUses = "network_uses",
    /// A network's ledger slice (every entry that touched it, redacted, with proofs) fetched by
    /// its network auditor (query: `network_id`, `month`).
    NetworkLedgerSlice = "network_ledger_slice",
    /// A network's signed monthly statement fetched by its network auditor (query:
    /// `network_id`, `month`).
    NetworkStatement = "network_statement",

    // Users.
    /// A user account created, or its roles or active flag changed (fact: `target_staff_id`).
    UserChange = "user_change",
    /// The user accounts listed.
    UserList = "user_list",

    // Retention.
    /// Data was purged by retention.
    Purge = "purge",

    // Reports and subject access.
    /// The usage report.
    ReportUsage = "report_usage",
    /// The public transparency report.
    ReportTransparency = "report_transparency",
    /// A privacy officer's subject access request (facts: `plate`, `reference`).
    SubjectAccess = "subject_access",

    // Integrity monitoring.
    /// A run of the integrity rules.
    IntegrityRun = "integrity_run",
    /// Integrity review cases read (the queue, one case, one's own cases).
    IntegrityCaseView = "integrity_case_view",
    /// A step of an integrity case (assigned, explanation asked for, closed).
    IntegrityCaseChange = "integrity_case_change",
    /// A member of staff's explanation given to an integrity case.
    IntegrityExplanation = "integrity_explanation",

    // Oversight and operations.
    /// Signed tree heads, proofs or entries of this ledger read.
    LedgerRead = "ledger_read",
    /// The operational metrics read.
    MetricsRead = "metrics_read",

    /// A request whose caller could not be authenticated (the actor is anonymous). A known
    /// actor's refused request keeps its own action, with a refused outcome and the policy's
    /// `refusal_code`.
    Denied = "denied",
    /// Requests without valid credentials from one client address beyond the per-minute
    /// threshold, answered 429 and counted in this one entry instead of one each (query:
    /// `client`, `requests`, `minute`).
    Throttled = "throttled",
    /// A request to an API path or method the platform does not serve (404, 405), by whoever
    /// its credentials name (anonymous without valid ones).
    Unrouted = "unrouted",
}

impl Action {
    /// Every named action (not `Other`).
    pub fn known() -> impl Iterator<Item = Action> {
        Action::NAMED.iter().cloned()
    }
}

impl PartialEq for Action {
    fn eq(&self, other: &Self) -> bool {
        self.as_str() == other.as_str()
    }
}

impl Eq for Action {}

impl std::hash::Hash for Action {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.as_str().hash(state)
    }
}

impl FromStr for Action {
    type Err = std::convert::Infallible;

    /// Never fails: unknown names become [`Action::Other`], known names never do.
    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Ok(Action::named(s).unwrap_or_else(|| Action::Other(s.to_owned())))
    }
}

impl fmt::Display for Action {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl Serialize for Action {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Action {
    /// A named action allocates nothing: the name is matched where it lies.
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct V;
        impl Visitor<'_> for V {
            type Value = Action;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("an action name")
            }
            fn visit_str<E: serde::de::Error>(self, s: &str) -> Result<Action, E> {
                Ok(s.parse().unwrap_or_else(|never| match never {}))
            }
        }
        d.deserialize_str(V)
    }
}

/// How a plate was asked about or matched.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PlateMode {
    /// One plate, exactly.
    Exact,
    /// A pattern with `?` (one character) and `*` (any run).
    Wildcard,
    /// OCR-confusable characters, and a few edits more.
    Fuzzy,
}

impl PlateMode {
    /// The name written in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            PlateMode::Exact => "exact",
            PlateMode::Wildcard => "wildcard",
            PlateMode::Fuzzy => "fuzzy",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "exact" => Some(PlateMode::Exact),
            "wildcard" => Some(PlateMode::Wildcard),
            "fuzzy" => Some(PlateMode::Fuzzy),
            _ => None,
        }
    }
}

/// Where a use came from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    /// A request to the HTTP API (the browser pages included).
    Api,
    /// The command line on the server's host.
    Cli,
    /// The platform itself (expiry, retention, scheduled runs).
    System,
}

impl Channel {
    /// The name written in entries.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Api => "api",
            Channel::Cli => "cli",
            Channel::System => "system",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        match s {
            "api" => Some(Channel::Api),
            "cli" => Some(Channel::Cli),
            "system" => Some(Channel::System),
            _ => None,
        }
    }
}

/// One JSON value of a fact as read, before it is checked against the fact's type: strings
/// borrowed where they hold no escapes, objects and nested arrays skipped unparsed.
enum Scalar<'a> {
    Str(Cow<'a, str>),
    U64(u64),
    I64(i64),
    Bool(bool),
    Ints(Vec<i64>),
    Counts(BTreeMap<i64, u64>),
    Other,
}

impl<'de> Deserialize<'de> for Scalar<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Scalar<'de>;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_borrowed_str<E>(self, s: &'de str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Borrowed(s)))
            }
            fn visit_str<E>(self, s: &str) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s.to_owned())))
            }
            fn visit_string<E>(self, s: String) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Str(Cow::Owned(s)))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::U64(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::I64(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Bool(v))
            }
            fn visit_unit<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_none<E>(self) -> Result<Scalar<'de>, E> {
                Ok(Scalar::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Scalar<'de>, A::Error> {
                // An object of counts by integer key (`{"1": 4}`); anything else is skipped.
                let mut counts = Some(BTreeMap::new());
                while let Some((key, value)) = m.next_entry::<Cow<'de, str>, Element>()? {
                    match (key.parse::<i64>(), value, &mut counts) {
                        (Ok(k), Element::Int(v), Some(c)) if v >= 0 => {
                            c.insert(k, v as u64);
                        }
                        _ => counts = None,
                    }
                }
                Ok(counts.map_or(Scalar::Other, Scalar::Counts))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Scalar<'de>, A::Error> {
                let mut ints = Some(Vec::new());
                while let Some(item) = s.next_element::<Element>()? {
                    match (item, &mut ints) {
                        (Element::Int(v), Some(ints)) => ints.push(v),
                        _ => ints = None,
                    }
                }
                Ok(ints.map_or(Scalar::Other, Scalar::Ints))
            }
        }
        d.deserialize_any(V)
    }
}

/// An element of an array fact: an integer, or anything else (skipped).
enum Element {
    Int(i64),
    Other,
}

impl<'de> Deserialize<'de> for Element {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Element;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_u64<E>(self, v: u64) -> Result<Element, E> {
                Ok(i64::try_from(v).map_or(Element::Other, Element::Int))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Element, E> {
                Ok(Element::Int(v))
            }
            fn visit_f64<E>(self, _: f64) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_bool<E>(self, _: bool) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_str<E>(self, _: &str) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_unit<E>(self) -> Result<Element, E> {
                Ok(Element::Other)
            }
            fn visit_map<A: MapAccess<'de>>(self, mut m: A) -> Result<Element, A::Error> {
                while m.next_entry::<IgnoredAny, IgnoredAny>()?.is_some() {}
                Ok(Element::Other)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut s: A) -> Result<Element, A::Error> {
                while s.next_element::<IgnoredAny>()?.is_some() {}
                Ok(Element::Other)
            }
        }
        d.deserialize_any(V)
    }
}

/// The type of a fact's value, read from a [`Scalar`]: a value of another type, or out of
/// range, reads as the fact not being recorded.
trait FactValue<'a>: Sized {
    fn from_scalar(s: Scalar<'a>) -> Option<Self>;
}

impl<'a> FactValue<'a> for Cow<'a, str> {
    fn from_scalar(s: Scalar<'a>) -> Option<Self> {
        match s {
            Scalar::Str(s) => Some(s),
            _ => None,
        }
    }
}

impl FactValue<'_> for bool {
    fn from_scalar(s: Scalar<'_>) -> Option<Self> {
        match s {
            Scalar::Bool(b) => Some(b),
            _ => None,
        }
    }
}

macro_rules! integer_fact {
    ($($t:ty),*) => {$(
        impl FactValue<'_> for $t {
            fn from_scalar(s: Scalar<'_>) -> Option<Self> {
                match s {
                    Scalar::U64(v) => <$t>::try_from(v).ok(),
                    Scalar::I64(v) => <$t>::try_from(v).ok(),
                    _ => None,
                }
            }
        }
    )*};
}
integer_fact!(u8, u32, u64, i64);

impl FactValue<'_> for Vec<i64> {
    fn from_scalar(s: Scalar<'_>) -> Option<Self> {
        match s {
            Scalar::Ints(v) => Some(v),
            _ => None,
        }
    }
}

impl FactValue<'_> for BTreeMap<i64, u64> {
    fn from_scalar(s: Scalar<'_>) -> Option<Self> {
        match s {
            Scalar::Counts(v) => Some(v),
            _ => None,
        }
    }
}

impl FactValue<'_> for PlateMode {
    fn from_scalar(s: Scalar<'_>) -> Option<Self> {
        match s {
            Scalar::Str(s) => PlateMode::parse(&s),
            _ => None,
        }
    }
}

impl FactValue<'_> for Channel {
    fn from_scalar(s: Scalar<'_>) -> Option<Self> {
        match s {
            Scalar::Str(s) => Channel::parse(&s),
            _ => None,
        }
    }
}

macro_rules! audit_facts {
    ($( $(#[$doc:meta])* $field:ident : $ty:ty => $arg:ty, )*) => {
        /// The facts an entry records for oversight — what the integrity rules and overseers
        /// read — each optional, written into the entry's `query` object under its field's
        /// name. The request's other parameters (a search's time range, area, ...) may stay
        /// there as free JSON beside them; every key the rules read is a field here.
        ///
        /// Strings borrow from what they were read from where they can ([`AuditFacts::from_query`],
        /// or deserialising straight from an entry's bytes); [`AuditFacts::into_owned`] detaches
        /// them. Reading is lenient: a key holding a value of another type, or out of range,
        /// reads as the fact not recorded, and a query that is not an object records none.
        #[derive(Clone, Debug, Default, PartialEq, Eq, Serialize)]
        pub struct AuditFacts<'a> {
            $(
                $(#[$doc])*
                #[serde(skip_serializing_if = "Option::is_none")]
                pub $field: Option<$ty>,
            )*
        }

        impl<'a> AuditFacts<'a> {
            /// The keys facts are written under, sorted: reserved for facts in a `query`.
            pub const KEYS: &'static [&'static str] = &[$(stringify!($field),)*];

            $(
                $(#[$doc])*
                pub fn $field(mut self, value: $arg) -> Self {
                    self.$field = Some(value.into());
                    self
                }
            )*

            /// Every fact set in `other` replaces this one's; the others stay.
            pub fn merge(&mut self, other: AuditFacts<'a>) {
                $(
                    if other.$field.is_some() {
                        self.$field = other.$field;
                    }
                )*
            }

            /// No fact recorded.
            pub fn is_empty(&self) -> bool {
                true $(&& self.$field.is_none())*
            }

            /// The same facts, owning their strings.
            pub fn into_owned(self) -> AuditFacts<'static> {
                AuditFacts {
                    $($field: self.$field.map(IntoOwned::into_owned),)*
                }
            }
        }

        impl<'de: 'a, 'a> Deserialize<'de> for AuditFacts<'a> {
            /// Reads the facts of a `query` value, skipping its other keys unparsed. Never
            /// fails on well-formed JSON (see the type's documentation).
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V<'a>(std::marker::PhantomData<&'a ()>);
                impl<'de: 'a, 'a> Visitor<'de> for V<'a> {
                    type Value = AuditFacts<'a>;
                    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                        f.write_str("a JSON value")
                    }
                    fn visit_map<A: MapAccess<'de>>(
                        self,
                        mut m: A,
                    ) -> Result<AuditFacts<'a>, A::Error> {
                        let mut facts = AuditFacts::default();
                        while let Some(key) = m.next_key::<Cow<'de, str>>()? {
                            // A repeated key keeps its last value, as serde_json's own map does.
                            match key.as_ref() {
                                $(stringify!($field) => {
                                    facts.$field = FactValue::from_scalar(m.next_value::<Scalar<'de>>()?);
                                })*
                                _ => {
                                    m.next_value::<IgnoredAny>()?;
                                }
                            }
                        }
                        Ok(facts)
                    }
                    fn visit_seq<A: SeqAccess<'de>>(
                        self,
                        mut s: A,
                    ) -> Result<AuditFacts<'a>, A::Error> {
                        while s.next_element::<IgnoredAny>()?.is_some() {}
                        Ok(AuditFacts::default())
                    }
                    fn visit_unit<E>(self) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_none<E>(self) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_bool<E>(self, _: bool) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_i64<E>(self, _: i64) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_u64<E>(self, _: u64) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_f64<E>(self, _: f64) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                    fn visit_str<E>(self, _: &str) -> Result<AuditFacts<'a>, E> {
                        Ok(AuditFacts::default())
                    }
                }
                d.deserialize_any(V(std::marker::PhantomData))
            }
        }
    };
}

// Fields in key order (the canonical encoding sorts them anyway; `KEYS` is sorted because of it).
audit_facts! {
    /// The authorisation a request created, reviewed, ended or drew on (tracking, look-back,
    /// alerts, sightings).
    authorisation_id: i64 => i64,
    /// What a tracking authorisation rests on (`stolen_vehicle`, `supervised`, `emergency`, ...).
    basis: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// Where the use came from.
    channel: Channel => Channel,
    /// The acting member of staff's district (as their user account has it, from the staff
    /// register), on every use that reaches a network's data.
    district: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// Tracking and look-back: how long was asked for, in minutes.
    duration_minutes: u32 => u32,
    /// Tracking: asked for as an emergency (to be approved within the hour).
    emergency: bool => bool,
    /// Why the platform ended an authorisation by itself (`expired`, `lapsed`,
    /// `emergency_not_approved`, `stolen_report_cancelled`).
    end_reason: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// Tracking: match the plate's OCR-confusable variants too.
    fuzzy: bool => bool,
    /// A fuzzy search: edits allowed beyond OCR confusions.
    max_edits: u8 => u8,
    /// How `plate` was asked about (absent: exact, unless it holds `?` or `*`).
    mode: PlateMode => PlateMode,
    /// The networks a use was narrowed to or a change was about. Every use that reaches a
    /// network's data names it here: a search, every permitted network it reached; a read or
    /// image view or an export, the read's network; a tracking request or its review, the
    /// networks whose cameras the watch covers; an alert, the camera's network; a look-back
    /// request or its review, the networks it covers.
    network_ids: Vec<i64> => Vec<i64>,
    /// Reads disclosed, per network (`{"<network id>": count}`): only networks with reads
    /// disclosed are named.
    network_reads: BTreeMap<i64, u64> => BTreeMap<i64, u64>,
    /// A search: the age of the newest sighting the response disclosed, in seconds.
    newest_result_age_s: u64 => u64,
    /// The plate or pattern asked about, or the plate a read or image shown bears.
    plate: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// The read viewed, or put under legal hold.
    read_id: i64 => i64,
    /// How many records a batch held (reads ingested, register records imported).
    reads: u64 => u64,
    /// A subject access request's reference.
    reference: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// The access policy's refusal code (`own_vehicle`, `file_not_yours`, ...), when it refused.
    refusal_code: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// A register import: which register (`stolen`, `staff`, `vehicles`, ...).
    register: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// Tracking: the authorisation a request renews.
    renews: i64 => i64,
    /// Tracking on a stolen report: the stolen-vehicle register entry it rests on.
    stolen_entry_id: i64 => i64,
    /// A user change: whose account.
    target_staff_id: Cow<'a, str> => impl Into<Cow<'a, str>>,
    /// A search of a reserved training plate (its sightings are made up; it is not counted as
    /// use).
    training: bool => bool,
}

/// Detaching a fact's value from what it was read from.
trait IntoOwned {
    type Owned;
    fn into_owned(self) -> Self::Owned;
}

impl IntoOwned for Cow<'_, str> {
    type Owned = Cow<'static, str>;
    fn into_owned(self) -> Cow<'static, str> {
        Cow::Owned(Cow::into_owned(self))
    }
}

macro_rules! owned_already {
    ($($t:ty),*) => {$(
        impl IntoOwned for $t {
            type Owned = $t;
            fn into_owned(self) -> $t {
                self
            }
        }
    )*};
}
owned_already!(
    u8,
    u32,
    u64,
    i64,
    bool,
    Vec<i64>,
    BTreeMap<i64, u64>,
    PlateMode,
    Channel
);

impl<'a> AuditFacts<'a> {
    /// No facts; set them with the methods named after the fields.
    pub fn new() -> Self {
        Self::default()
    }

    /// The facts recorded in a `query` value, borrowing its strings. Keys that are not facts
    /// are ignored; see the type's documentation for values of another type.
    pub fn from_query(query: &'a Value) -> AuditFacts<'a> {
        AuditFacts::deserialize(query).unwrap_or_default()
    }

    /// Writes every fact that is set into `query` under its key, replacing what was there; keys
    /// of facts not set are left alone. A query that is not an object becomes one.
    pub fn write_into(&self, query: &mut Value) {
        let Value::Object(facts) = serde_json::to_value(self).expect("facts serialise") else {
            unreachable!("facts serialise as an object")
        };
        if !query.is_object() {
            *query = Value::Object(Default::default());
        }
        if let Value::Object(q) = query {
            q.extend(facts);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn every_fact() -> AuditFacts<'static> {
        AuditFacts::new()
            .authorisation_id(12)
            .basis("stolen_vehicle")
            .channel(Channel::Api)
            .district("Waikato")
            .duration_minutes(720)
            .emergency(false)
            .end_reason("expired")
            .fuzzy(true)
            .max_edits(1)
            .mode(PlateMode::Fuzzy)
            .network_ids(vec![1, 3])
            .network_reads(BTreeMap::from([(1, 4), (3, 0)]))
            .newest_result_age_s(90)
            .plate("ABC123")
            .read_id(-4)
            .reads(1000)
            .reference("SAR-1")
            .refusal_code("own_vehicle")
            .register("stolen")
            .renews(11)
            .stolen_entry_id(4)
            .target_staff_id(String::from("S1001"))
            .training(false)
    }

    #[test]
    fn every_action_name_round_trips_and_unknown_names_are_other() {
        let mut names = std::collections::HashSet::new();
        for a in Action::known() {
            assert!(names.insert(a.as_str().to_owned()), "{a} twice");
            assert_eq!(a.as_str().parse::<Action>().unwrap(), a);
            assert!(!matches!(a.as_str().parse().unwrap(), Action::Other(_)));
            let json = serde_json::to_string(&a).unwrap();
            assert_eq!(json, format!("\"{}\"", a.as_str()));
            let back: Action = serde_json::from_str(&json).unwrap();
            assert!(std::mem::discriminant(&back) == std::mem::discriminant(&a));
            assert!(a
                .as_str()
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b == b'_'));
        }
        let other: Action = serde_json::from_str("\"key_rotation\"").unwrap();
        assert_eq!(other, Action::Other("key_rotation".into()));
        assert_eq!(serde_json::to_string(&other).unwrap(), "\"key_rotation\"");
        // Escaped names decode too.
        let back: Action = serde_json::from_str("\"read\\u005fview\"").unwrap();
        assert!(matches!(back, Action::ReadView));
        // Equality goes by name.
        assert_eq!(Action::Other("read_view".into()), Action::ReadView);
        assert_ne!(Action::Other("read_views".into()), Action::ReadView);
    }

    /// Every variant is in `NAMED` (a variant added to the enum but not the list fails to
    /// compile here first).
    #[test]
    fn named_lists_every_variant() {
        for a in Action::known() {
            let listed = match a {
                Action::Other(_) => false,
                Action::Login
                | Action::LoginFailed
                | Action::Logout
                | Action::Session
                | Action::Search
                | Action::ReadView
                | Action::ImageView
                | Action::Export
                | Action::SightingsView
                | Action::TrackingRequest
                | Action::TrackingApproval
                | Action::TrackingRefusal
                | Action::TrackingRevocation
                | Action::TrackingEnd
                | Action::TrackingExpiry
                | Action::LookbackRequest
                | Action::LookbackApproval
                | Action::LookbackRefusal
                | Action::LookbackRevocation
                | Action::LookbackEnd
                | Action::AuthorisationList
                | Action::AuthorisationView
                | Action::AlertDelivered
                | Action::AlertAck
                | Action::AlertList
                | Action::AlertStream
                | Action::HotListLoad
                | Action::HotListView
                | Action::Ingest
                | Action::RegisterImport
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
                | Action::UserChange
                | Action::UserList
                | Action::Purge
                | Action::ReportUsage
                | Action::ReportTransparency
                | Action::SubjectAccess
                | Action::IntegrityRun
                | Action::IntegrityCaseView
                | Action::IntegrityCaseChange
                | Action::IntegrityExplanation
                | Action::LedgerRead
                | Action::MetricsRead
                | Action::Denied
                | Action::Throttled
                | Action::Unrouted => true,
            };
            assert!(listed);
        }
        assert_eq!(Action::NAMED.len(), 57);
    }

    #[test]
    fn facts_round_trip_under_their_keys() {
        let facts = every_fact();
        let v = serde_json::to_value(&facts).unwrap();
        let keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
        let mut sorted = AuditFacts::KEYS.to_vec();
        sorted.sort_unstable();
        assert_eq!(sorted, AuditFacts::KEYS, "KEYS is sorted");
        assert_eq!(
            keys,
            AuditFacts::KEYS,
            "every field written, under its name"
        );
        assert_eq!(v["mode"], "fuzzy");
        assert_eq!(v["channel"], "api");
        assert_eq!(v["network_ids"], json!([1, 3]));
        assert_eq!(v["network_reads"], json!({"1": 4, "3": 0}));
        assert_eq!(AuditFacts::from_query(&v), facts);
        let text = serde_json::to_string(&v).unwrap();
        let borrowed: AuditFacts = serde_json::from_str(&text).unwrap();
        assert_eq!(borrowed, facts);
        assert!(matches!(borrowed.plate, Some(Cow::Borrowed(_))));
        assert_eq!(borrowed.into_owned(), facts);
        assert!(AuditFacts::new().is_empty() && !facts.is_empty());
        assert_eq!(serde_json::to_value(AuditFacts::new()).unwrap(), json!({}));
    }

    #[test]
    fn reading_is_lenient_and_skips_other_keys() {
        let q = json!({
            "plate": "ab\"c", "mode": "bogus", "renews": "7", "duration_minutes": u64::MAX,
            "newest_result_age_s": -3, "max_edits": 300, "read_id": 1.5, "emergency": 1,
            "network_ids": [1, "x"], "reads": 5, "from": {"plate": "NOTME"}, "area": [[1, 2]],
            "network_reads": {"1": 2, "x": 1}, "district": 3,
        });
        let f = AuditFacts::from_query(&q);
        let want = AuditFacts::new().plate("ab\"c").reads(5);
        assert_eq!(f, want);
        let text = serde_json::to_string(&q).unwrap();
        assert_eq!(serde_json::from_str::<AuditFacts>(&text).unwrap(), want);
        for other in [
            json!(null),
            json!([1, 2]),
            json!("plate"),
            json!(3),
            json!(true),
        ] {
            assert!(AuditFacts::from_query(&other).is_empty());
            let text = other.to_string();
            assert!(serde_json::from_str::<AuditFacts>(&text)
                .unwrap()
                .is_empty());
        }
        // The last of a repeated key counts, as in serde_json's own map.
        let f: AuditFacts = serde_json::from_str(r#"{"read_id":1,"read_id":2}"#).unwrap();
        assert_eq!(f.read_id, Some(2));
    }

    #[test]
    fn written_facts_replace_their_keys_and_keep_the_rest() {
        let mut q = json!({"from": "2025-01-01", "plate": "OLD1", "read_id": 3});
        AuditFacts::new().plate("NEW1").write_into(&mut q);
        assert_eq!(
            q,
            json!({"from": "2025-01-01", "plate": "NEW1", "read_id": 3})
        );
        let mut q = json!(null);
        AuditFacts::new().reads(2).write_into(&mut q);
        assert_eq!(q, json!({"reads": 2}));
        let mut a = AuditFacts::new().plate("A").read_id(1);
        a.merge(AuditFacts::new().read_id(2).basis("supervised"));
        assert_eq!(
            a,
            AuditFacts::new().plate("A").read_id(2).basis("supervised")
        );
    }
}

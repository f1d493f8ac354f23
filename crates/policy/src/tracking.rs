//! Authorisations: real-time tracking of a plate, and look-back past the routine window.
//!
//! Tracking needs role `tracker` and a basis checked against the registers, never the
//! requester's word:
//! * **stolen vehicle** — an active stolen-register entry for the plate under the request's
//!   file. It starts at once, unless the entry was recorded by the requester, or less than
//!   `recent_stolen_hours` ago by someone in the requester's team, or its complainant is not the
//!   registered owner (or the vehicle is not in the motor vehicle register): then a supervisor
//!   approves it first.
//! * **supervised** (serious crime, missing person, threat to life) — always a supervisor's
//!   approval, by a different person who holds `supervisor` in the requester's district, with
//!   their reason. The **emergency** path (threat to life) starts at once, and stops by itself
//!   unless approved within `emergency_approval_minutes` — but not when the requester's own
//!   emergency authorisation of the same plate ended (revoked, stopped, expired, refused) less
//!   than `emergency_cooldown_hours` ago: then a supervisor approves it first, so that revoking
//!   and asking again never gives a new hour without approval.
//! * **who loaded the basis** — separation of duties holds per account, not per person, so
//!   an admin (who may not track) must not be able to make an account that does and hand it a
//!   basis. A request resting on register rows loaded by hand by a member of staff rather than
//!   by a declared register feed (the incident, the stolen report, the vehicle record) waits
//!   for a supervisor, the emergency path included; so does any request by a user whose
//!   operational roles were set less than `recent_role_grant_days` ago by a member of staff who
//!   also loaded rows it rests on (the requester's own staff record included).
//!
//! Every authorisation lasts at most `stolen_max_hours` / `other_max_hours`, expires by itself,
//! stops when its stolen report is cancelled or recovered, lapses if nobody decides it within
//! `pending_lapse_hours`, and is renewed only by a fresh request that always needs approval.
//! A look-back authorisation lets one user search one plate under one file further back than
//! the routine window; a supervisor of the district approves it.

use crate::access::{confusable_vehicle_refusal, fill_purpose, own_vehicle_refusal};
use crate::config::{PolicyConfig, TrackingBasisKind};
use crate::decision::{Decision, DecisionAction, DecisionOutcome, Evaluation};
use crate::error::{PolicyError as E, RefusalKind as K, Result};
use crate::oversight::{is_own, separation_of_duties, Concerned, Duty};
use crate::permissions::{self, Permission};
use crate::registers::{
    AccessFacts, FactsQuery, ReviewCase, RowRef, StolenEntry, Use, OPERATIONAL_ROLES,
};
use crate::{Policy, Subject};
use anpr_domain::{Actor, Purpose, UserId};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthorisationKind {
    Tracking,
    Lookback,
}

impl AuthorisationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthorisationKind::Tracking => "tracking",
            AuthorisationKind::Lookback => "lookback",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "tracking" => Some(AuthorisationKind::Tracking),
            "lookback" => Some(AuthorisationKind::Lookback),
            _ => None,
        }
    }
}

/// What an authorisation rests on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Basis {
    StolenVehicle,
    Supervised,
    /// Threat to life: started at once, approval due within the hour.
    Emergency,
    Lookback,
}

impl Basis {
    pub fn as_str(self) -> &'static str {
        match self {
            Basis::StolenVehicle => "stolen_vehicle",
            Basis::Supervised => "supervised",
            Basis::Emergency => "emergency",
            Basis::Lookback => "lookback",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "stolen_vehicle" => Some(Basis::StolenVehicle),
            "supervised" => Some(Basis::Supervised),
            "emergency" => Some(Basis::Emergency),
            "lookback" => Some(Basis::Lookback),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AuthStatus {
    /// Waiting for a supervisor.
    Pending,
    /// In force (between `starts_at` and `expires_at`).
    Active,
    Refused,
    Revoked,
    /// Reached its end, or lapsed undecided.
    Expired,
    /// Stopped by the platform: stolen report cancelled, emergency not approved in time.
    Stopped,
}

impl AuthStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthStatus::Pending => "pending",
            AuthStatus::Active => "active",
            AuthStatus::Refused => "refused",
            AuthStatus::Revoked => "revoked",
            AuthStatus::Expired => "expired",
            AuthStatus::Stopped => "stopped",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [
            AuthStatus::Pending,
            AuthStatus::Active,
            AuthStatus::Refused,
            AuthStatus::Revoked,
            AuthStatus::Expired,
            AuthStatus::Stopped,
        ]
        .into_iter()
        .find(|x| x.as_str() == s)
    }
    /// Not yet ended.
    pub fn is_open(self) -> bool {
        matches!(self, AuthStatus::Pending | AuthStatus::Active)
    }
}

/// A tracking or look-back authorisation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct Authorisation {
    /// 0 until stored.
    pub id: i64,
    pub kind: AuthorisationKind,
    pub plate: String,
    pub requester_user_id: UserId,
    pub requester_staff_id: String,
    /// The requester's district: its supervisors decide.
    pub district: String,
    pub purpose_code: String,
    pub file_number: String,
    pub justification: String,
    pub basis: Basis,
    /// The stolen report a stolen-vehicle basis rests on.
    pub stolen_entry_id: Option<i64>,
    /// Why a supervisor must approve (empty when it started at once).
    pub approval_reasons: Vec<String>,
    pub status: AuthStatus,
    pub requested_at: DateTime<Utc>,
    /// Emergency: stops unless approved by then.
    pub approval_deadline: Option<DateTime<Utc>>,
    /// How long it lasts once started.
    pub duration_minutes: u32,
    pub starts_at: Option<DateTime<Utc>>,
    pub expires_at: Option<DateTime<Utc>>,
    pub decided_by_staff_id: Option<String>,
    pub decided_at: Option<DateTime<Utc>>,
    pub decision_reason: Option<String>,
    pub ended_at: Option<DateTime<Utc>>,
    pub end_reason: Option<String>,
    /// The authorisation this one renews.
    pub renews: Option<i64>,
    /// Look-back: the earliest time the user may search.
    pub lookback_from: Option<DateTime<Utc>>,
    /// Tracking: also alert on reads differing only by OCR-confusable characters.
    #[serde(default)]
    pub fuzzy: bool,
}

impl Authorisation {
    /// Waiting for a supervisor's decision: pending, or an emergency that started at once and
    /// nobody has approved yet.
    pub fn awaits_decision(&self) -> bool {
        self.status == AuthStatus::Pending
            || (self.status == AuthStatus::Active
                && self.basis == Basis::Emergency
                && self.decided_at.is_none())
    }

    /// Whom the authorisation concerns for separation of duties: its requester.
    pub fn requester(&self) -> Concerned<'_> {
        Concerned::member(self.requester_user_id, &self.requester_staff_id)
    }

    fn end_actions(
        &self,
    ) -> (
        DecisionAction,
        DecisionAction,
        DecisionAction,
        DecisionAction,
    ) {
        match self.kind {
            AuthorisationKind::Tracking => (
                DecisionAction::TrackingApprove,
                DecisionAction::TrackingRefuse,
                DecisionAction::TrackingRevoke,
                DecisionAction::TrackingEnd,
            ),
            AuthorisationKind::Lookback => (
                DecisionAction::LookbackApprove,
                DecisionAction::LookbackRefuse,
                DecisionAction::LookbackRevoke,
                DecisionAction::LookbackEnd,
            ),
        }
    }

    /// The change the platform makes by itself at `now`, if one is due: the new status and why.
    /// `stolen` is the stolen report a stolen-vehicle basis rests on (`None`: not found).
    pub fn due_transition(
        &self,
        now: DateTime<Utc>,
        stolen: Option<&StolenEntry>,
        cfg: &PolicyConfig,
    ) -> Option<(AuthStatus, String)> {
        if !self.status.is_open() {
            return None;
        }
        if self.basis == Basis::StolenVehicle && !stolen.is_some_and(|s| s.record.is_active()) {
            let what = stolen
                .map(|s| s.record.status.as_str())
                .unwrap_or("removed");
            return Some((
                AuthStatus::Stopped,
                format!("the stolen vehicle report was {what}"),
            ));
        }
        match self.status {
            AuthStatus::Active => {
                if self.basis == Basis::Emergency
                    && self.decided_at.is_none()
                    && self.approval_deadline.is_some_and(|d| d <= now)
                {
                    return Some((
                        AuthStatus::Stopped,
                        format!(
                            "emergency tracking was not approved within {} minutes",
                            cfg.emergency_approval_minutes
                        ),
                    ));
                }
                if self.expires_at.is_some_and(|e| e <= now) {
                    return Some((
                        AuthStatus::Expired,
                        "reached the end of its authorised duration".into(),
                    ));
                }
                None
            }
            AuthStatus::Pending => {
                (self.requested_at + Duration::hours(cfg.pending_lapse_hours) <= now).then(|| {
                    (
                        AuthStatus::Expired,
                        format!(
                            "no supervisor decided it within {} hours",
                            cfg.pending_lapse_hours
                        ),
                    )
                })
            }
            _ => None,
        }
    }

    /// Whether the authorisation lets its holder see data about its plate now.
    pub fn in_force(&self, now: DateTime<Utc>, facts: &AccessFacts, cfg: &PolicyConfig) -> bool {
        let stolen = self.stolen_entry_id.and_then(|id| facts.stolen_entry(id));
        self.status == AuthStatus::Active
            && self.starts_at.is_some_and(|s| s <= now)
            && self.due_transition(now, stolen, cfg).is_none()
    }

    /// Applies a due transition (see [`Authorisation::due_transition`]).
    pub fn end(&mut self, status: AuthStatus, reason: String, now: DateTime<Utc>) {
        self.status = status;
        self.ended_at = Some(now);
        self.end_reason = Some(reason);
    }
}

/// A request for real-time tracking of one plate.
#[derive(Debug, Clone)]
pub struct TrackingRequest<'a> {
    pub subject: &'a Subject,
    /// Normalised.
    pub plate: &'a str,
    pub purpose: Option<&'a Purpose>,
    /// Threat to life: start at once, approval within the hour.
    pub emergency: bool,
    /// Also match OCR-confusable reads (same confusion classes as search).
    pub fuzzy: bool,
    /// Default: the longest the basis allows.
    pub duration_minutes: Option<u32>,
    /// The earlier authorisation this renews.
    pub renews: Option<&'a Authorisation>,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> TrackingRequest<'a> {
    pub fn facts_query(&self) -> FactsQuery<'a> {
        FactsQuery {
            staff_id: &self.subject.staff_id,
            user_id: self.subject.user_id,
            file_number: self.purpose.map(|p| p.file_number.trim()),
            plate: Some(self.plate),
            for_tracking: true,
        }
    }
}

/// A request to search one plate further back than the routine window.
#[derive(Debug, Clone)]
pub struct LookbackRequest<'a> {
    pub subject: &'a Subject,
    pub plate: &'a str,
    pub purpose: Option<&'a Purpose>,
    pub from: DateTime<Utc>,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> LookbackRequest<'a> {
    pub fn facts_query(&self) -> FactsQuery<'a> {
        FactsQuery {
            staff_id: &self.subject.staff_id,
            user_id: self.subject.user_id,
            file_number: self.purpose.map(|p| p.file_number.trim()),
            plate: Some(self.plate),
            for_tracking: false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReviewKind {
    Approve,
    Refuse,
    Revoke,
}

/// A supervisor's decision on an authorisation, or its withdrawal.
#[derive(Debug, Clone)]
pub struct Review<'a> {
    pub subject: &'a Subject,
    pub kind: ReviewKind,
    /// As stored, with any due transition already applied.
    pub authorisation: &'a Authorisation,
    pub reason: &'a str,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> Review<'a> {
    /// The reviewer's facts: their connected vehicles (no one approves for their own car).
    pub fn facts_query(&self) -> FactsQuery<'a> {
        FactsQuery {
            staff_id: &self.subject.staff_id,
            user_id: self.subject.user_id,
            file_number: None,
            plate: None,
            for_tracking: false,
        }
    }
}

/// What [`Policy::common_request_checks`] checks.
#[derive(Clone, Copy)]
struct RequestCheck<'a> {
    subject: &'a Subject,
    permission: Permission,
    plate: &'a str,
    /// A fuzzy watch: it matches every plate sharing the plate's confusion-class key.
    fuzzy: bool,
    purpose: Option<&'a Purpose>,
    now: DateTime<Utc>,
}

/// Which authorisations a user may list.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Visibility {
    pub all: bool,
    pub districts: Vec<String>,
    /// Their own requests.
    pub own: Option<UserId>,
}

impl Visibility {
    /// What the listing rests on, for its decision record.
    pub fn describe(&self) -> String {
        if self.all {
            "all districts".to_string()
        } else if !self.districts.is_empty() {
            format!("{} district", self.districts.join(", "))
        } else {
            "own requests".to_string()
        }
    }

    pub fn sees(&self, a: &Authorisation) -> bool {
        self.all
            || self
                .districts
                .iter()
                .any(|d| d.eq_ignore_ascii_case(&a.district))
            || self.own == Some(a.requester_user_id)
    }
}

impl Policy {
    fn stolen_basis<'f>(
        &self,
        req: &TrackingRequest<'_>,
        facts: &'f AccessFacts,
        reasons: &mut Vec<String>,
    ) -> Result<&'f StolenEntry> {
        let s = req.subject;
        let file = req.purpose.map(|p| p.file_number.trim()).unwrap_or("");
        let entry = facts
            .stolen
            .iter()
            .find(|e| {
                e.record.plate == req.plate && e.record.is_active() && e.record.file_number == file
            })
            .ok_or_else(|| {
                E::refused(
                    K::NoTrackingBasis,
                    format!(
                        "there is no active report of {} as stolen under file {file} in the \
                         stolen vehicle register; the stolen-vehicle basis is checked against \
                         the register",
                        req.plate
                    ),
                )
            })?;
        let r = &entry.record;
        if r.recorded_by_staff_id == s.staff_id {
            reasons.push("the stolen report was recorded by you".into());
        } else if req.now - r.reported_at < Duration::hours(self.config.recent_stolen_hours) {
            let my_team = facts.staff.as_ref().and_then(|x| x.team.as_deref());
            let their_team = facts
                .stolen_recorders
                .iter()
                .find(|x| x.staff_id == r.recorded_by_staff_id)
                .and_then(|x| x.team.as_deref());
            if my_team.is_some() && my_team == their_team {
                reasons.push(format!(
                    "the stolen report was recorded less than {} hours ago by a member of your \
                     team",
                    self.config.recent_stolen_hours
                ));
            }
        }
        match &facts.vehicle {
            None => reasons.push(
                "the vehicle is not in the motor vehicle register, so the complainant cannot be \
                 checked against the registered owner"
                    .into(),
            ),
            Some(v) if v.owner_person_id != r.complainant_person_id => {
                reasons.push("the complainant is not the registered owner".into())
            }
            Some(_) => {}
        }
        Ok(entry)
    }

    /// Why an emergency request must wait for a supervisor when the requester's own emergency
    /// authorisation of the plate ended (any end; or is due to end now) less than
    /// `emergency_cooldown_hours` ago: otherwise revoking it and asking again would give a new
    /// hour without approval, for ever.
    fn recent_emergency_end(
        &self,
        req: &TrackingRequest<'_>,
        facts: &AccessFacts,
    ) -> Option<String> {
        let now = req.now;
        let mine = |a: &&Authorisation| {
            a.kind == AuthorisationKind::Tracking
                && a.basis == Basis::Emergency
                && a.plate == req.plate
                && a.requester_user_id == req.subject.user_id
        };
        let ended = facts.ended_emergencies.iter().filter(mine).map(|a| {
            let at = a
                .ended_at
                .or(a.decided_at)
                .or(a.expires_at)
                .unwrap_or(a.requested_at);
            (at, a, a.status.as_str().to_string())
        });
        // Still open but due to end (the sweep has not got to it): it ends now.
        let due = facts.authorisations.iter().filter(mine).filter_map(|a| {
            let stolen = a.stolen_entry_id.and_then(|id| facts.stolen_entry(id));
            a.due_transition(now, stolen, &self.config)
                .map(|(status, _)| (now, a, status.as_str().to_string()))
        });
        let window = Duration::hours(self.config.emergency_cooldown_hours);
        let (at, a, how) = ended
            .chain(due)
            .filter(|(at, _, _)| now - *at < window)
            .max_by_key(|(at, _, _)| *at)?;
        Some(format!(
            "your emergency tracking of {} (authorisation #{}) ended ({how}) at {}, less than \
             {} hours ago: a new emergency request for the same plate does not start at once; \
             a supervisor of your district must approve it first",
            req.plate,
            a.id,
            at.format("%Y-%m-%d %H:%M UTC"),
            self.config.emergency_cooldown_hours
        ))
    }

    /// Why a tracking request must wait for a second person because of who loaded the register
    /// rows it rests on. Separation of duties holds per account, not per person: an admin
    /// cannot track, but could make an account that does and hand it a basis. So
    /// * rows loaded by hand by a member of staff (not from a declared register feed) — the
    ///   incident, the stolen report and the vehicle record it is checked against — are never
    ///   the basis of tracking that starts without a supervisor;
    /// * a requester whose operational roles were set less than `recent_role_grant_days` ago
    ///   by a member of staff cannot act without approval on rows that same person loaded
    ///   (their own staff record included, which decides the own-vehicle block and their team).
    fn who_loaded_the_basis(
        &self,
        req: &TrackingRequest<'_>,
        facts: &AccessFacts,
        stolen_entry_id: Option<i64>,
    ) -> Vec<String> {
        let me = req.subject.staff_id.as_str();
        let file = req.purpose.map(|p| p.file_number.trim()).unwrap_or("");
        let mut basis_rows = vec![RowRef::Incident(file.to_string())];
        if let Some(id) = stolen_entry_id {
            basis_rows.push(RowRef::Stolen(id));
            basis_rows.push(RowRef::Vehicle(req.plate.to_string()));
        }
        let by_hand = |r: &RowRef| facts.loaded_by(r).and_then(|l| l.by.staff_id());
        let mut out = Vec::new();

        let hand_loaded: Vec<String> = basis_rows
            .iter()
            .filter_map(|r| by_hand(r).map(|x| format!("{} (by {x})", r.describe(me))))
            .collect();
        if !hand_loaded.is_empty() {
            out.push(format!(
                "{} {} loaded by hand, not from a register feed: tracking that rests on a row \
                 loaded by hand needs a second person's approval, so a supervisor of your \
                 district must approve it",
                and_list(&hand_loaded),
                if hand_loaded.len() == 1 {
                    "was"
                } else {
                    "were"
                }
            ));
        }

        let since = req.now - Duration::days(self.config.recent_role_grant_days);
        let mut setters: Vec<&str> = facts
            .role_changes
            .iter()
            .filter(|c| c.at > since && c.roles.iter().any(|r| OPERATIONAL_ROLES.contains(r)))
            .filter_map(|c| c.set_by.as_ref()?.staff_id())
            .collect();
        setters.sort_unstable();
        setters.dedup();
        let mut rows = basis_rows;
        rows.insert(0, RowRef::Staff(me.to_string()));
        for x in setters {
            let theirs: Vec<String> = rows
                .iter()
                .filter(|r| by_hand(r) == Some(x))
                .map(|r| r.describe(me))
                .collect();
            if !theirs.is_empty() {
                out.push(format!(
                    "your roles were set by {x} less than {} days ago, and {x} also loaded {}: \
                     one person cannot both give an account its powers and load the register \
                     rows it acts on, so a supervisor of your district must approve this request",
                    self.config.recent_role_grant_days,
                    and_list(&theirs)
                ));
            }
        }
        out
    }

    /// Decides a tracking request: refused, started at once, or waiting for approval. On
    /// success the returned authorisation is ready to store (id 0).
    pub fn evaluate_tracking_request(
        &self,
        req: &TrackingRequest<'_>,
        facts: &AccessFacts,
    ) -> Evaluation<Authorisation> {
        let mut d = Decision::new(
            &req.subject.actor(),
            DecisionAction::TrackingRequest,
            req.request_id,
            req.now,
        );
        // A fuzzy watch is recorded as the fuzzy pattern it is (`AJC7S8~0`: every plate with
        // its confusion-class key), so that whoever reads the record (a subject access request
        // for AJC758 included) sees what it could alert on.
        d.target = Some(if req.fuzzy {
            format!("{}~0", req.plate)
        } else {
            req.plate.to_string()
        });
        d.fuzzy = req.fuzzy;
        fill_purpose(&mut d, req.purpose);
        let outcome = self.tracking_request(req, facts, &mut d);
        if let Ok(a) = &outcome {
            d.outcome = match a.status {
                AuthStatus::Pending => DecisionOutcome::PendingApproval,
                _ => DecisionOutcome::Allowed,
            };
            // After what the networks' own controls withheld (noted while deciding).
            d.notes.extend(a.approval_reasons.iter().cloned());
            if a.basis == Basis::Emergency && a.status == AuthStatus::Active {
                d.notes.push(format!(
                    "emergency: started at once; stops unless approved within {} minutes",
                    self.config.emergency_approval_minutes
                ));
            }
        }
        Evaluation::new(d, outcome)
    }

    /// The checks every request for an authorisation shares: tier, purpose, rate, training
    /// plate, staff register, file number, own vehicle.
    fn common_request_checks(
        &self,
        ask: RequestCheck<'_>,
        facts: &AccessFacts,
        d: &mut Decision,
    ) -> Result<&crate::config::PurposeDef> {
        let RequestCheck {
            subject: s,
            permission,
            plate,
            fuzzy,
            purpose,
            now,
        } = ask;
        self.check_active(s)?;
        permissions::require(&s.roles, permission)?;
        if self.config.training.contains(plate) {
            return Err(E::refused_field(
                K::InvalidRequest,
                "plate",
                format!(
                    "{plate} is a reserved training plate: it has synthetic sightings only, and \
                     cannot be tracked or looked back on; search it instead (no file number \
                     needed)"
                ),
            ));
        }
        let def = self.check_purpose(purpose)?;
        self.rate
            .admit(&self.config.rate_limits, s.user_id, &def.code, now)?;
        if facts.staff.is_none() {
            return Err(E::refused(
                K::NotInStaffRegister,
                format!(
                    "staff id {} is not in the staff register; ask the register administrators \
                     to add you",
                    s.staff_id
                ),
            ));
        }
        let file = purpose.map(|p| p.file_number.as_str()).unwrap_or("");
        let inc = self.check_incident(s, def, file, facts, now)?;
        d.basis = Some(format!(
            "incident {} ({}, {} district, open)",
            inc.file_number, inc.incident_type, inc.district
        ));
        if let Some(c) = facts.connection(plate) {
            return Err(own_vehicle_refusal(plate, c));
        }
        if fuzzy {
            if let Some(v) = facts.confusable_connection(plate) {
                return Err(confusable_vehicle_refusal("a fuzzy watch of", plate, v));
            }
        }
        Ok(def)
    }

    fn tracking_request(
        &self,
        req: &TrackingRequest<'_>,
        facts: &AccessFacts,
        d: &mut Decision,
    ) -> Result<Authorisation> {
        let s = req.subject;
        let now = req.now;
        let def = self.common_request_checks(
            RequestCheck {
                subject: s,
                permission: Permission::RequestTracking,
                plate: req.plate,
                fuzzy: req.fuzzy,
                purpose: req.purpose,
                now,
            },
            facts,
            d,
        )?;
        let basis_kind = def.tracking.ok_or_else(|| {
            E::refused_field(
                K::NoTrackingBasis,
                "purpose.code",
                format!(
                    "the purpose {} cannot justify real-time tracking: choose a purpose that can, \
                     or search instead",
                    def.label
                ),
            )
        })?;
        let mut notices = Vec::new();
        d.networks =
            self.permitted_networks(s, Use::Tracking, &def.code, facts, &[], &mut notices)?;
        d.notes
            .extend(notices.iter().map(|n| format!("{}: {}", n.code, n.message)));
        if req.emergency && !def.emergency {
            return Err(E::refused_field(
                K::InvalidRequest,
                "emergency",
                "the emergency path is only for a threat to life (purpose with the emergency \
                 path)",
            ));
        }
        match req.renews {
            Some(prev) => {
                if prev.kind != AuthorisationKind::Tracking
                    || prev.requester_user_id != s.user_id
                    || prev.plate != req.plate
                {
                    return Err(E::refused_field(
                        K::InvalidRequest,
                        "renews",
                        format!(
                            "authorisation #{} is not your tracking of {}",
                            prev.id, req.plate
                        ),
                    ));
                }
                if req.emergency {
                    return Err(E::refused_field(
                        K::InvalidRequest,
                        "emergency",
                        "a renewal is never an emergency start; it needs a fresh approval",
                    ));
                }
            }
            None => {
                if let Some(open) = facts.authorisations.iter().find(|a| {
                    a.kind == AuthorisationKind::Tracking
                        && a.plate == req.plate
                        && a.requester_user_id == s.user_id
                        && a.status.is_open()
                        && a.due_transition(
                            now,
                            a.stolen_entry_id.and_then(|id| facts.stolen_entry(id)),
                            &self.config,
                        )
                        .is_none()
                }) {
                    return Err(E::refused(
                        K::InvalidState,
                        format!(
                            "you already hold tracking authorisation #{} ({}) for {}: renew \
                             that one instead (Renew on its live view)",
                            open.id,
                            open.status.as_str(),
                            req.plate
                        ),
                    ));
                }
            }
        }

        let mut reasons = Vec::new();
        let (basis, stolen_entry_id, max_hours) = match basis_kind {
            TrackingBasisKind::StolenVehicle => {
                let e = self.stolen_basis(req, facts, &mut reasons)?;
                d.basis = Some(format!(
                    "{}; stolen report #{} of {} (reported {})",
                    d.basis.as_deref().unwrap_or_default(),
                    e.id,
                    e.record.plate,
                    e.record.reported_at.format("%Y-%m-%d %H:%M UTC")
                ));
                (
                    Basis::StolenVehicle,
                    Some(e.id),
                    self.config.stolen_max_hours,
                )
            }
            TrackingBasisKind::Supervised => {
                reasons.push(format!(
                    "the purpose {} always needs a supervisor's approval",
                    def.label
                ));
                let basis = if req.emergency {
                    Basis::Emergency
                } else {
                    Basis::Supervised
                };
                (basis, None, self.config.other_max_hours)
            }
        };
        if req.renews.is_some() {
            reasons.push("a renewal needs a fresh approval".into());
        }
        // Reasons that hold back even the emergency path: the request waits for a supervisor.
        let mut hold = Vec::new();
        if basis == Basis::Emergency {
            if let Some(why) = self.recent_emergency_end(req, facts) {
                hold.push(why);
            }
        }
        hold.extend(self.who_loaded_the_basis(req, facts, stolen_entry_id));
        let max_minutes = (max_hours * 60) as u32;
        let duration = match req.duration_minutes {
            None => max_minutes,
            Some(m) if (1..=max_minutes).contains(&m) => m,
            Some(_) => {
                return Err(E::refused_field(
                    K::InvalidRequest,
                    "duration_minutes",
                    format!("must be 1 to {max_minutes} minutes ({max_hours} hours) on this basis"),
                ))
            }
        };
        let starts_now = hold.is_empty() && (reasons.is_empty() || basis == Basis::Emergency);
        reasons.extend(hold);
        let purpose = req.purpose.expect("checked above");
        Ok(Authorisation {
            id: 0,
            kind: AuthorisationKind::Tracking,
            plate: req.plate.to_string(),
            requester_user_id: s.user_id,
            requester_staff_id: s.staff_id.clone(),
            district: s.district.clone(),
            purpose_code: def.code.clone(),
            file_number: purpose.file_number.trim().to_string(),
            justification: purpose.justification.trim().to_string(),
            basis,
            stolen_entry_id,
            approval_reasons: reasons,
            status: if starts_now {
                AuthStatus::Active
            } else {
                AuthStatus::Pending
            },
            requested_at: now,
            approval_deadline: (basis == Basis::Emergency && starts_now)
                .then(|| now + Duration::minutes(self.config.emergency_approval_minutes)),
            duration_minutes: duration,
            starts_at: starts_now.then_some(now),
            expires_at: starts_now.then(|| now + Duration::minutes(duration as i64)),
            decided_by_staff_id: None,
            decided_at: None,
            decision_reason: None,
            ended_at: None,
            end_reason: None,
            renews: req.renews.map(|a| a.id),
            fuzzy: req.fuzzy,
            lookback_from: None,
        })
    }

    /// Decides a look-back request: refused, or waiting for a supervisor's approval.
    pub fn evaluate_lookback_request(
        &self,
        req: &LookbackRequest<'_>,
        facts: &AccessFacts,
    ) -> Evaluation<Authorisation> {
        let mut d = Decision::new(
            &req.subject.actor(),
            DecisionAction::LookbackRequest,
            req.request_id,
            req.now,
        );
        d.target = Some(format!(
            "{} from {}",
            req.plate,
            req.from.format("%Y-%m-%d")
        ));
        fill_purpose(&mut d, req.purpose);
        let outcome = self.lookback_request(req, facts, &mut d);
        if outcome.is_ok() {
            d.outcome = DecisionOutcome::PendingApproval;
        }
        Evaluation::new(d, outcome)
    }

    fn lookback_request(
        &self,
        req: &LookbackRequest<'_>,
        facts: &AccessFacts,
        d: &mut Decision,
    ) -> Result<Authorisation> {
        let s = req.subject;
        let now = req.now;
        let def = self.common_request_checks(
            RequestCheck {
                subject: s,
                permission: Permission::RequestLookback,
                plate: req.plate,
                fuzzy: false,
                purpose: req.purpose,
                now,
            },
            facts,
            d,
        )?;
        let mut notices = Vec::new();
        self.permitted_networks(s, Use::Search, &def.code, facts, &[], &mut notices)?;
        d.notes
            .extend(notices.iter().map(|n| format!("{}: {}", n.code, n.message)));
        let max_from = now - Duration::days(self.config.max_lookback_days);
        let routine_from = now - Duration::days(self.config.routine_lookback_days);
        if req.from < max_from {
            return Err(E::refused_field(
                K::InvalidRequest,
                "from",
                format!(
                    "searches reach back at most {} days, even with approval",
                    self.config.max_lookback_days
                ),
            ));
        }
        if req.from >= routine_from {
            return Err(E::refused_field(
                K::InvalidRequest,
                "from",
                format!(
                    "within the routine {} days no approval is needed",
                    self.config.routine_lookback_days
                ),
            ));
        }
        let purpose = req.purpose.expect("checked above");
        let minutes = (self.config.lookback_valid_days * 24 * 60) as u32;
        Ok(Authorisation {
            id: 0,
            kind: AuthorisationKind::Lookback,
            plate: req.plate.to_string(),
            requester_user_id: s.user_id,
            requester_staff_id: s.staff_id.clone(),
            district: s.district.clone(),
            purpose_code: def.code.clone(),
            file_number: purpose.file_number.trim().to_string(),
            justification: purpose.justification.trim().to_string(),
            basis: Basis::Lookback,
            stolen_entry_id: None,
            approval_reasons: vec![format!(
                "data older than {} days needs a supervisor's approval",
                self.config.routine_lookback_days
            )],
            status: AuthStatus::Pending,
            requested_at: now,
            approval_deadline: None,
            duration_minutes: minutes,
            starts_at: None,
            expires_at: None,
            decided_by_staff_id: None,
            decided_at: None,
            decision_reason: None,
            ended_at: None,
            end_reason: None,
            renews: None,
            lookback_from: Some(req.from),
            fuzzy: false,
        })
    }

    /// Decides an approval, refusal or revocation. On success returns the updated
    /// authorisation.
    pub fn evaluate_review(
        &self,
        r: &Review<'_>,
        reviewer_facts: &AccessFacts,
    ) -> Evaluation<Authorisation> {
        let a = r.authorisation;
        let (approve, refuse, revoke, _) = a.end_actions();
        let action = match r.kind {
            ReviewKind::Approve => approve,
            ReviewKind::Refuse => refuse,
            ReviewKind::Revoke => revoke,
        };
        let mut d = Decision::new(&r.subject.actor(), action, r.request_id, r.now);
        d.target = Some(a.plate.clone());
        d.purpose_code = Some(a.purpose_code.clone());
        d.file_number = Some(a.file_number.clone());
        d.justification = Some(r.reason.trim().chars().take(2000).collect());
        d.authorisation_id = Some(a.id);
        d.fuzzy = a.fuzzy;
        d.basis = Some(format!(
            "{} authorisation #{} requested by {}",
            a.kind.as_str(),
            a.id,
            a.requester_staff_id
        ));
        let outcome = self.review(r, reviewer_facts);
        if outcome.is_ok() {
            d.outcome = DecisionOutcome::Allowed;
        }
        Evaluation::new(d, outcome)
    }

    fn review(&self, r: &Review<'_>, facts: &AccessFacts) -> Result<Authorisation> {
        let s = r.subject;
        let a = r.authorisation;
        let now = r.now;
        self.check_active(s)?;
        let own = is_own(s, a.requester());
        match r.kind {
            ReviewKind::Approve | ReviewKind::Refuse => {
                permissions::require(&s.roles, Permission::ApproveRequests)?;
            }
            ReviewKind::Revoke => {
                if !own {
                    permissions::require(&s.roles, Permission::ApproveRequests)?;
                }
            }
        }
        if r.reason.trim().chars().count() < self.config.min_reason_chars {
            return Err(E::refused_field(
                K::InvalidRequest,
                "reason",
                format!(
                    "state the reason (at least {} characters)",
                    self.config.min_reason_chars
                ),
            ));
        }
        let verb = match r.kind {
            ReviewKind::Approve => "approve",
            ReviewKind::Refuse => "refuse",
            ReviewKind::Revoke => "revoke",
        };
        if r.kind != ReviewKind::Revoke {
            separation_of_duties(
                s,
                Duty::Decide {
                    verb,
                    district: &a.district,
                },
                a.requester(),
            )?;
        }
        if !own && !s.district.eq_ignore_ascii_case(&a.district) {
            return Err(E::refused(
                K::WrongDistrict,
                format!(
                    "authorisation #{} belongs to {} district; only its supervisors may {verb} it",
                    a.id, a.district
                ),
            ));
        }
        if r.kind == ReviewKind::Approve {
            if let Some(c) = facts.connection(&a.plate) {
                return Err(E::refused(
                    K::ConflictOfDuty,
                    format!(
                        "vehicle {} {}: you cannot approve a request about it; ask another \
                         supervisor",
                        a.plate,
                        c.explain()
                    ),
                ));
            }
            if let Some(v) = a
                .fuzzy
                .then(|| facts.confusable_connection(&a.plate))
                .flatten()
            {
                return Err(E::refused(
                    K::ConflictOfDuty,
                    format!(
                        "this fuzzy watch of {} would also alert on vehicle {}, which {} \
                         (cameras confuse the characters in which the two plates differ): you \
                         cannot approve it; ask another supervisor",
                        a.plate,
                        v.plate,
                        v.connection.explain()
                    ),
                ));
            }
        }
        let awaiting = a.awaits_decision();
        let mut out = a.clone();
        match r.kind {
            ReviewKind::Approve | ReviewKind::Refuse if !awaiting => {
                return Err(E::refused(
                    K::InvalidState,
                    format!(
                        "authorisation #{} is {} and not awaiting a decision; a renewal is a \
                         fresh request",
                        a.id,
                        a.status.as_str()
                    ),
                ))
            }
            ReviewKind::Revoke if !a.status.is_open() => {
                return Err(E::refused(
                    K::InvalidState,
                    format!(
                        "authorisation #{} has already ended ({})",
                        a.id,
                        a.status.as_str()
                    ),
                ))
            }
            ReviewKind::Approve => {
                let starts = a.starts_at.unwrap_or(now);
                out.status = AuthStatus::Active;
                out.starts_at = Some(starts);
                out.expires_at = Some(starts + Duration::minutes(a.duration_minutes as i64));
                out.decided_by_staff_id = Some(s.staff_id.clone());
                out.decided_at = Some(now);
                out.decision_reason = Some(r.reason.trim().to_string());
            }
            ReviewKind::Refuse => {
                out.decided_by_staff_id = Some(s.staff_id.clone());
                out.decided_at = Some(now);
                out.decision_reason = Some(r.reason.trim().to_string());
                out.end(
                    AuthStatus::Refused,
                    format!("refused by {}", s.staff_id),
                    now,
                );
            }
            ReviewKind::Revoke => {
                out.end(
                    AuthStatus::Revoked,
                    format!("revoked by {}: {}", s.staff_id, r.reason.trim()),
                    now,
                );
            }
        }
        Ok(out)
    }

    /// The decision recorded when the platform ends an authorisation by itself.
    pub fn end_decision(&self, a: &Authorisation, now: DateTime<Utc>) -> Decision {
        let (_, _, _, end) = a.end_actions();
        let mut d = Decision::new(
            &Actor::System {
                component: "authorisations".into(),
            },
            end,
            "",
            now,
        );
        d.target = Some(a.plate.clone());
        d.purpose_code = Some(a.purpose_code.clone());
        d.file_number = Some(a.file_number.clone());
        d.authorisation_id = Some(a.id);
        d.fuzzy = a.fuzzy;
        d.basis = a.end_reason.clone();
        d.outcome = DecisionOutcome::Allowed;
        d.notes = vec![format!("status: {}", a.status.as_str())];
        d
    }

    /// Which authorisations a user may list: overseers all, supervisors their district, anyone
    /// who may request their own.
    pub fn evaluate_listing(
        &self,
        s: &Subject,
        request_id: &str,
        now: DateTime<Utc>,
    ) -> Evaluation<Visibility> {
        let mut d = Decision::new(
            &s.actor(),
            DecisionAction::ListAuthorisations,
            request_id,
            now,
        );
        let outcome = self.visibility(s);
        if let Ok(v) = &outcome {
            d.outcome = DecisionOutcome::Allowed;
            d.basis = Some(v.describe());
        }
        Evaluation::new(d, outcome)
    }

    /// Which authorisations `s` may see (see [`Policy::evaluate_listing`]), undecided.
    pub(crate) fn visibility(&self, s: &Subject) -> Result<Visibility> {
        self.check_active(s)?;
        let v = Visibility {
            all: s.has(Permission::ViewAllActivity),
            districts: if s.has(Permission::ViewDistrictActivity) {
                vec![s.district.clone()]
            } else {
                vec![]
            },
            own: (s.has(Permission::RequestTracking) || s.has(Permission::RequestLookback))
                .then_some(s.user_id),
        };
        if !v.all && v.districts.is_empty() && v.own.is_none() {
            permissions::require(&s.roles, Permission::ViewDistrictActivity)?;
        }
        Ok(v)
    }
}

/// How the reasons a request waits read to its reviewer. The policy words them for the
/// requester, who reads them in the answer to their request ("the stolen report was recorded by
/// you"); the supervisor deciding it must read who is meant. Each second-person phrase the
/// reasons above use is named here with its wording for the reviewer; `{requester}` is who asked
/// (their staff id and name), named at the first mention.
const FOR_THE_REVIEWER: &[(&str, &str)] = &[
    ("recorded by you", "recorded by the requester, {requester}"),
    ("a member of your team", "a member of the requester's team"),
    (
        "your emergency tracking",
        "the requester's emergency tracking",
    ),
    ("your staff record", "the requester's staff record"),
    ("your roles were set", "the requester's roles were set"),
    (
        "a supervisor of your district",
        "a supervisor of the requester's district",
    ),
];

/// The reasons `reasons` (worded for the requester) as the reviewer reads them: the requester
/// named where the policy says "you", and "the requester" where it says "your".
/// `requester` names them, e.g. "S1234 (Ann Smith)".
pub fn reasons_for_reviewer(reasons: &[String], requester: &str) -> Vec<String> {
    reasons
        .iter()
        .map(|reason| {
            FOR_THE_REVIEWER
                .iter()
                .fold(reason.clone(), |text, (theirs, ours)| {
                    text.replace(theirs, &ours.replace("{requester}", requester))
                })
        })
        .collect()
}

#[cfg(test)]
mod reviewer_wording {
    use super::*;

    #[test]
    fn reasons_read_to_the_reviewer_name_the_requester_not_you() {
        let reasons = [
            "the stolen report was recorded by you",
            "the stolen report was recorded less than 24 hours ago by a member of your team",
            "your emergency tracking of ABC123 (authorisation #4) ended (revoked) at 2026-12-01 \
             10:00 UTC, less than 24 hours ago: a new emergency request for the same plate does \
             not start at once; a supervisor of your district must approve it first",
            "your staff record (by S9) was loaded by hand, not from a register feed: tracking \
             that rests on a row loaded by hand needs a second person's approval, so a \
             supervisor of your district must approve it",
            "your roles were set by S9 less than 30 days ago, and S9 also loaded your staff \
             record: one person cannot both give an account its powers and load the register \
             rows it acts on, so a supervisor of your district must approve this request",
            "the complainant is not the registered owner",
        ]
        .map(String::from);
        let read = reasons_for_reviewer(&reasons, "S1234 (Ann Smith)");
        assert_eq!(
            read[0],
            "the stolen report was recorded by the requester, S1234 (Ann Smith)"
        );
        assert!(read[1].ends_with("by a member of the requester's team"));
        assert!(read[2].starts_with("the requester's emergency tracking of ABC123"));
        assert_eq!(read[5], reasons[5], "a reason without you is left as it is");
        for r in &read {
            let words: Vec<&str> = r.split(|c: char| !c.is_alphanumeric()).collect();
            assert!(
                !words.contains(&"you") && !words.contains(&"your"),
                "still worded for the requester: {r}"
            );
        }
    }
}

/// Whether `a` is in `s`'s approval queue: it waits for a decision, in a district `s`
/// supervises, and is not `s`'s own request (separation of duties: another supervisor decides
/// it).
pub fn in_approval_queue(s: &Subject, a: &Authorisation) -> bool {
    s.active
        && s.has(Permission::ApproveRequests)
        && s.district.eq_ignore_ascii_case(&a.district)
        && a.awaits_decision()
        && !is_own(s, a.requester())
}

/// A request to see a tracking authorisation's sightings: the path of the car.
#[derive(Debug, Clone)]
pub struct SightingsRequest<'a> {
    pub subject: &'a Subject,
    pub authorisation: &'a Authorisation,
    /// The open integrity cases about the authorisation's requester (looked up for overseers
    /// who review integrity cases; empty otherwise).
    pub cases: &'a [ReviewCase],
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

/// What a sightings request may see.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SightingsGrant {
    /// The sightings themselves (where and when the car was seen); `false`: how many only.
    pub path: bool,
    /// The integrity case that gave an overseer their reason, when one did.
    pub case_id: Option<i64>,
}

impl Policy {
    /// Decides who sees a watch's sightings. The path of a tracked car goes to those the
    /// tracking is for — its requester and the supervisors of its district — under the
    /// authorisation's own purpose and file, which the decision records. Overseers (who see
    /// every authorisation) see how many sightings there were, not where: unless an open
    /// integrity case about the authorisation's requester, in the integrity unit's queue and
    /// theirs to work (unassigned or assigned to them), gives a reviewer a reason, which the
    /// decision names. The result must go through [`crate::enforce`].
    pub fn evaluate_sightings(&self, req: &SightingsRequest<'_>) -> Evaluation<SightingsGrant> {
        let s = req.subject;
        let a = req.authorisation;
        let mut d = Decision::new(
            &s.actor(),
            DecisionAction::ViewSightings,
            req.request_id,
            req.now,
        );
        d.target = Some(a.plate.clone());
        d.authorisation_id = Some(a.id);
        d.fuzzy = a.fuzzy;
        let outcome = (|| {
            self.check_active(s)?;
            let requester = a.requester_user_id == s.user_id && s.has(Permission::RequestTracking);
            let supervisor =
                s.has(Permission::ApproveRequests) && s.district.eq_ignore_ascii_case(&a.district);
            if requester || supervisor {
                fill_purpose(
                    &mut d,
                    Some(&Purpose {
                        code: a.purpose_code.clone(),
                        file_number: a.file_number.clone(),
                        justification: a.justification.clone(),
                    }),
                );
                d.basis = Some(format!(
                    "tracking authorisation #{} ({}), {}",
                    a.id,
                    a.status.as_str(),
                    if requester {
                        "its requester".to_string()
                    } else {
                        format!("a supervisor of {} district", a.district)
                    }
                ));
                return Ok(SightingsGrant {
                    path: true,
                    case_id: None,
                });
            }
            if !s.has(Permission::ViewAllActivity) {
                return Err(E::refused(
                    K::WrongDistrict,
                    format!(
                        "the sightings of tracking authorisation #{} go to its requester and the \
                         supervisors of {} district",
                        a.id, a.district
                    ),
                ));
            }
            let reason = s
                .has(Permission::ReviewIntegrity)
                .then(|| {
                    req.cases.iter().find(|c| {
                        c.open
                            && c.integrity_queue
                            && c.staff_id == a.requester_staff_id
                            && c.assigned_to.as_ref().is_none_or(|to| to == &s.staff_id)
                    })
                })
                .flatten();
            match reason {
                Some(c) => {
                    d.basis = Some(format!(
                        "integrity case #{} ({}) about {}, the requester of tracking \
                         authorisation #{}",
                        c.id, c.rule, c.staff_id, a.id
                    ));
                    Ok(SightingsGrant {
                        path: true,
                        case_id: Some(c.id),
                    })
                }
                None => {
                    d.basis = Some(format!(
                        "oversight of tracking authorisation #{}: how many sightings, not where",
                        a.id
                    ));
                    d.notes = vec![format!("path_withheld: {}", Self::path_withheld_message(a))];
                    Ok(SightingsGrant {
                        path: false,
                        case_id: None,
                    })
                }
            }
        })();
        match &outcome {
            Ok(g) if g.path => d.outcome = DecisionOutcome::Allowed,
            Ok(_) => d.outcome = DecisionOutcome::AllowedWithLimits,
            Err(_) => {}
        }
        Evaluation::new(d, outcome)
    }

    /// Why an overseer is shown how many sightings a watch had but not where.
    pub fn path_withheld_message(a: &Authorisation) -> String {
        format!(
            "where the car was seen goes only to the requester of tracking authorisation #{} and \
             the supervisors of {} district; an overseer sees the authorisation, how many \
             sightings it had and its ledger entries, and the path only while an integrity case \
             about its requester is theirs to work",
            a.id, a.district
        )
    }
}

/// "a", "a and b", "a, b and c".
fn and_list(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [init @ .., last] => format!("{} and {last}", init.join(", ")),
    }
}

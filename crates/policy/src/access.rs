//! Data access: historical search, viewing a read or its images, export.

use crate::config::PurposeDef;
use crate::decision::{Decision, DecisionAction, DecisionOutcome, Evaluation};
use crate::error::{PolicyError as E, RefusalKind as K, Result};
use crate::permissions::{self, Permission};
use crate::registers::{
    AccessFacts, ConnectedVehicle, Connection, DisclosedBy, Disclosure, FactsQuery, IncidentRecord,
    Use,
};
use crate::tracking::{Authorisation, AuthorisationKind};
use crate::{ratelimit, Policy, Subject};
use anpr_domain::{NetworkId, PlatePattern, Purpose, ReadId, TimeRange};
use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DataAction {
    Search,
    ViewRead,
    ViewImage,
    Export,
}

impl DataAction {
    pub fn permission(self) -> Permission {
        match self {
            DataAction::Search => Permission::SearchHistory,
            DataAction::ViewRead | DataAction::ViewImage => Permission::ViewReads,
            DataAction::Export => Permission::Export,
        }
    }

    pub fn decision_action(self) -> DecisionAction {
        match self {
            DataAction::Search => DecisionAction::Search,
            DataAction::ViewRead => DecisionAction::ViewRead,
            DataAction::ViewImage => DecisionAction::ViewImage,
            DataAction::Export => DecisionAction::Export,
        }
    }
}

/// What the request is about.
#[derive(Debug, Clone, Copy)]
pub enum Target<'a> {
    /// A search pattern.
    Pattern(&'a PlatePattern),
    /// One stored read (its metadata, fetched but not yet returned).
    Read {
        read_id: ReadId,
        plate: &'a str,
        captured_at: DateTime<Utc>,
        network_id: NetworkId,
    },
    /// A read id that does not exist: checked like any view (tier, purpose, file) so that the
    /// answer "not found" goes only to someone who could have seen it, and is recorded.
    MissingRead(ReadId),
}

impl Target<'_> {
    /// The one plate the request is about, when it is about one.
    pub fn exact_plate(&self) -> Option<&str> {
        match self {
            Target::Pattern(PlatePattern::Exact(p)) => Some(p.as_str()),
            Target::Pattern(_) | Target::MissingRead(_) => None,
            Target::Read { plate, .. } => Some(plate),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Target::Pattern(p) => p.describe(),
            Target::Read { read_id, plate, .. } => format!("read {read_id} ({plate})"),
            Target::MissingRead(id) => format!("read {id} (not found)"),
        }
    }
}

#[derive(Debug, Clone)]
pub struct DataRequest<'a> {
    pub subject: &'a Subject,
    pub action: DataAction,
    pub purpose: Option<&'a Purpose>,
    pub target: Target<'a>,
    /// The time range asked for (searches).
    pub time: TimeRange,
    /// Networks asked for; empty means all.
    pub network_ids: &'a [NetworkId],
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> DataRequest<'a> {
    /// The register lookups this request needs.
    pub fn facts_query(&self) -> FactsQuery<'a> {
        FactsQuery {
            staff_id: &self.subject.staff_id,
            user_id: self.subject.user_id,
            file_number: self.purpose.map(|p| p.file_number.trim()),
            plate: match self.target {
                Target::Pattern(PlatePattern::Exact(p)) => Some(p.as_str()),
                Target::Pattern(_) | Target::MissingRead(_) => None,
                Target::Read { plate, .. } => Some(plate),
            },
            for_tracking: false,
        }
    }
}

/// Something the user is told about how their request was narrowed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct Notice {
    /// `near_live_withheld`, `connected_vehicles_excluded`, `networks_narrowed`,
    /// `routine_lookback`, `training`; the networks' own controls: `network_suspended`,
    /// `network_purpose_withheld`, `network_lookback_limited`.
    pub code: &'static str,
    pub message: String,
    /// Whether results were withheld because of it (rather than information only).
    pub withheld: bool,
}

/// What the policy allows a data request to see.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DataGrant {
    /// Networks the request may see (the search is narrowed to them).
    pub networks: Vec<NetworkId>,
    /// The time range the request may see.
    pub time: TimeRange,
    /// Plates whose reads must not be returned (vehicles connected to the user).
    pub exclude_plates: Vec<String>,
    /// A training plate: answer with synthetic sightings of `training_plate`, never real data.
    pub training: bool,
    pub training_plate: Option<String>,
    pub notices: Vec<Notice>,
    /// The authorisation the grant rests on (tracking or look-back), when one.
    pub authorisation_id: Option<i64>,
    /// Networks among `networks` that serve nothing older than a time of their own (their
    /// owner's maximum look-back): the search leaves out their older reads.
    pub network_floors: Vec<(NetworkId, DateTime<Utc>)>,
    /// A search page may carry each read's plate crop beside it, as the page's thumbnails:
    /// this decision is their view (one per page), for a user who may open reads and their
    /// images anyway.
    pub plate_images: bool,
}

/// Refuses a fuzzy watch or search (`what`: "a fuzzy watch of", "a fuzzy search for") of
/// `plate`, which would match the connected vehicle `v` as surely as `plate` itself.
pub(crate) fn confusable_vehicle_refusal(what: &str, plate: &str, v: &ConnectedVehicle) -> E {
    E::refused(
        K::OwnVehicle,
        format!(
            "{what} {plate} would also match vehicle {}, which {}: cameras confuse the \
             characters in which the two plates differ. You may not query a vehicle connected \
             to you, and this attempt is recorded. If it is needed for an investigation, ask \
             another officer to make the request.",
            v.plate,
            v.connection.explain()
        ),
    )
}

pub(crate) fn own_vehicle_refusal(plate: &str, c: Connection) -> E {
    E::refused(
        K::OwnVehicle,
        format!(
            "vehicle {plate} {}: you may not query a vehicle connected to you, and this attempt \
             is recorded. If it is needed for an investigation, ask another officer to make the \
             query.",
            c.explain()
        ),
    )
}

impl Policy {
    /// Decides a data access. The result must go through [`crate::enforce`].
    pub fn evaluate_data_access(
        &self,
        req: &DataRequest<'_>,
        facts: &AccessFacts,
    ) -> Evaluation<DataGrant> {
        let mut d = Decision::new(
            &req.subject.actor(),
            req.action.decision_action(),
            req.request_id,
            req.now,
        );
        d.target = Some(req.target.describe());
        fill_purpose(&mut d, req.purpose);
        let outcome = self.data_access(req, facts, &mut d);
        d.networks = match (&req.target, &outcome) {
            (Target::Read { network_id, .. }, _) => vec![*network_id],
            (_, Ok(g)) => g.networks.clone(),
            (_, Err(_)) => req.network_ids.to_vec(),
        };
        if let Ok(g) = &outcome {
            d.outcome = if g.notices.iter().any(|n| n.withheld) {
                DecisionOutcome::AllowedWithLimits
            } else {
                DecisionOutcome::Allowed
            };
            d.notes = g
                .notices
                .iter()
                .map(|n| format!("{}: {}", n.code, n.message))
                .collect();
            d.training = g.training;
            d.authorisation_id = g.authorisation_id;
        }
        Evaluation::new(d, outcome)
    }

    /// Checks a purpose for completeness and that its code is configured.
    pub fn check_purpose(&self, p: Option<&Purpose>) -> Result<&PurposeDef> {
        self.check_purpose_with(p, true)
    }

    /// As [`Policy::check_purpose`]; `file_required: false` for a training use, which rests on
    /// no file (its file number may be empty).
    fn check_purpose_with(&self, p: Option<&Purpose>, file_required: bool) -> Result<&PurposeDef> {
        let p = p.ok_or_else(|| {
            E::refused_field(
                K::InvalidPurpose,
                "purpose",
                "this request needs a purpose: a purpose code, an incident file number and a \
                 justification",
            )
        })?;
        let min = self.config.min_justification_chars;
        for (field, what, value, lo, hi) in [
            ("code", "the purpose code", &p.code, 1, 64),
            (
                "file_number",
                "the incident file number",
                &p.file_number,
                usize::from(file_required),
                64,
            ),
            (
                "justification",
                "the justification",
                &p.justification,
                min,
                2000,
            ),
        ] {
            let n = value.trim().chars().count();
            if n < lo || n > hi {
                return Err(E::refused_field(
                    K::InvalidPurpose,
                    format!("purpose.{field}"),
                    format!("{what} must be {lo} to {hi} characters long (it is {n})"),
                ));
            }
        }
        if distinct_words(&p.justification) < MIN_JUSTIFICATION_WORDS {
            return Err(E::refused_field(
                K::InvalidPurpose,
                "purpose.justification",
                format!(
                    "the justification must say in words why this use is needed (at least \
                     {MIN_JUSTIFICATION_WORDS} different words, such as \"vehicle seen leaving \
                     the scene\"); it is recorded and reviewed"
                ),
            ));
        }
        let code = p.code.trim();
        self.config.purpose(code).ok_or_else(|| {
            let known: Vec<&str> = self
                .config
                .purposes
                .iter()
                .map(|p| p.code.as_str())
                .collect();
            E::refused_field(
                K::UnknownPurpose,
                "purpose.code",
                format!(
                    "there is no purpose {}; choose one of: {}",
                    truncate(code),
                    known.join(", ")
                ),
            )
        })
    }

    /// The file number exists, is open, is the user's (district or assignment) and fits the
    /// purpose.
    pub(crate) fn check_incident<'f>(
        &self,
        s: &Subject,
        purpose: &PurposeDef,
        file_number: &str,
        facts: &'f AccessFacts,
        now: DateTime<Utc>,
    ) -> Result<&'f IncidentRecord> {
        let file = file_number.trim();
        let inc = facts
            .incident
            .as_ref()
            .filter(|i| i.file_number == file)
            .ok_or_else(|| {
                E::refused_field(
                    K::UnknownFileNumber,
                    "purpose.file_number",
                    format!(
                        "file number {} is not in the incident register: check the number, or \
                         choose one of your open files",
                        truncate(file)
                    ),
                )
            })?;
        if !inc.is_open(now) {
            return Err(E::refused_field(
                K::FileClosed,
                "purpose.file_number",
                format!(
                    "incident file {file} is closed, and a closed file cannot justify a query: \
                     choose an open file"
                ),
            ));
        }
        if !inc.district.eq_ignore_ascii_case(&s.district)
            && !inc.assigned_staff.iter().any(|a| a == &s.staff_id)
        {
            return Err(E::refused_field(
                K::FileNotYours,
                "purpose.file_number",
                format!(
                    "incident file {file} is in {} district, which you do not serve, and is not \
                     assigned to you: choose a file of your district or one assigned to you",
                    inc.district
                ),
            ));
        }
        if !purpose.incident_types.contains(&inc.incident_type) {
            return Err(E::refused_field(
                K::PurposeMismatch,
                "purpose.code",
                self.purpose_mismatch(purpose, file, &inc.incident_type),
            ));
        }
        Ok(inc)
    }

    /// Why `purpose` cannot rest on `file`, an incident of `incident_type`, and which purposes
    /// can.
    fn purpose_mismatch(&self, purpose: &PurposeDef, file: &str, incident_type: &str) -> String {
        let words = incident_type.replace('_', " ");
        let a = if words.starts_with(['a', 'e', 'i', 'o', 'u']) {
            "an"
        } else {
            "a"
        };
        let kind = format!("{a} {words}");
        let fitting: Vec<&str> = self
            .config
            .purposes_for(incident_type)
            .map(|p| p.label.as_str())
            .collect();
        let instead = match fitting.as_slice() {
            [] => format!("no purpose fits {kind} incident, so choose another file"),
            [one] => format!("for this file choose the purpose {one}"),
            many => format!(
                "for this file choose one of the purposes {}",
                many.join(", ")
            ),
        };
        format!(
            "the purpose {} does not fit incident file {file}, which is {kind} incident: \
             {instead}",
            purpose.label
        )
    }

    /// Networks whose agreements let the user's district make this use of their data, narrowed
    /// to those asked for.
    ///
    /// Then the networks' own controls ([`crate::network`]): a network that suspended sharing,
    /// or does not share for `purpose_code`, is withheld, with a notice that names it and says
    /// why (the decision's notes keep it).
    pub(crate) fn permitted_networks(
        &self,
        s: &Subject,
        use_: Use,
        purpose_code: &str,
        facts: &AccessFacts,
        requested: &[NetworkId],
        notices: &mut Vec<Notice>,
    ) -> Result<Vec<NetworkId>> {
        let what = match use_ {
            Use::Search => "historical search",
            Use::Tracking => "real-time tracking",
        };
        // Agreed for the district; then each network's own controls for this purpose.
        let wanted = |n: &NetworkId| requested.is_empty() || requested.contains(n);
        let mut permitted = Vec::new();
        let mut withheld = Vec::new();
        for n in facts
            .agreements
            .iter()
            .filter(|a| a.permits(use_, &s.district))
            .map(|a| a.network_id)
        {
            match crate::network::withholding(&facts.controls, n, purpose_code) {
                None => permitted.push(n),
                // Told only about the networks the request would have reached.
                Some(w) if wanted(&n) => withheld.push((n, w)),
                Some(_) => {}
            }
        }
        for (n, w) in &withheld {
            notices.push(Notice {
                code: w.code(),
                message: format!(
                    "network {n} was not {}: {}",
                    match use_ {
                        Use::Search => "searched",
                        Use::Tracking => "covered",
                    },
                    w.reason()
                ),
                withheld: true,
            });
        }
        if !withheld.is_empty() && !permitted.iter().any(wanted) {
            let why: Vec<String> = withheld
                .iter()
                .map(|(n, w)| format!("network {n}: {}", w.reason()))
                .collect();
            return Err(E::refused(
                K::NoNetworkAgreement,
                format!(
                    "no camera network you may use serves {what} for this request now ({}); \
                     the networks' owners decide this, and it cannot be overridden",
                    why.join("; ")
                ),
            ));
        }
        if permitted.is_empty() {
            return Err(E::refused(
                K::NoNetworkAgreement,
                format!(
                    "no camera network shares its data with {} district for {what}",
                    s.district
                ),
            ));
        }
        if requested.is_empty() {
            return Ok(permitted);
        }
        let requested: Vec<NetworkId> = requested
            .iter()
            .copied()
            .filter(|n| !withheld.iter().any(|(w, _)| w == n))
            .collect();
        let requested = requested.as_slice();
        let (ok, denied): (Vec<NetworkId>, Vec<NetworkId>) =
            requested.iter().partition(|n| permitted.contains(n));
        let list = |v: &[NetworkId]| {
            v.iter()
                .map(|n| n.to_string())
                .collect::<Vec<_>>()
                .join(", ")
        };
        if ok.is_empty() {
            return Err(E::refused_field(
                K::NoNetworkAgreement,
                "network_ids",
                format!(
                    "the networks you chose ({}) do not share their data with {} district for \
                     {what}: choose other networks, or all of them",
                    list(&denied),
                    s.district
                ),
            ));
        }
        if !denied.is_empty() {
            notices.push(Notice {
                code: "networks_narrowed",
                message: if denied.len() == 1 {
                    format!(
                        "network {} was not searched: it does not share its data with {} \
                         district",
                        list(&denied),
                        s.district
                    )
                } else {
                    format!(
                        "networks {} were not searched: they do not share their data with {} \
                         district",
                        list(&denied),
                        s.district
                    )
                },
                withheld: true,
            });
        }
        Ok(ok)
    }

    /// The training plate a pattern stands for, when it is one.
    pub fn training_plate(&self, pattern: &PlatePattern) -> Option<String> {
        let t = &self.config.training;
        match pattern {
            PlatePattern::Exact(p) | PlatePattern::Fuzzy { plate: p, .. } => {
                t.contains(p.as_str()).then(|| p.to_string())
            }
            PlatePattern::Wildcard(w) => {
                let literal: String = w.chars().take_while(|c| *c != '?' && *c != '*').collect();
                let reserved = t.prefixes.iter().any(|p| literal.starts_with(p.as_str()))
                    || t.plates.iter().any(|p| p == w);
                reserved.then(|| w.replace('?', "0").replace('*', ""))
            }
        }
    }

    /// The latest time read `read_id` was shown to the user under purpose `code` and file
    /// `file`, if within the disclosure window.
    pub fn shown<'f>(
        &self,
        s: &Subject,
        read_id: ReadId,
        code: &str,
        file: &str,
        facts: &'f AccessFacts,
        now: DateTime<Utc>,
    ) -> Option<&'f Disclosure> {
        let since = now - Duration::hours(self.config.disclosure_window_hours);
        facts
            .disclosures
            .iter()
            .filter(|d| {
                d.user_id == s.user_id
                    && d.read_id == read_id
                    && read_id > 0
                    && d.purpose_code == code.trim()
                    && d.file_number == file.trim()
                    && d.at >= since
                    && d.at <= now + Duration::minutes(5)
            })
            .max_by_key(|d| d.at)
    }

    /// The one refusal of a read view the user may not make, whatever the read.
    fn read_not_shown(&self) -> E {
        E::refused(
            K::ReadNotAvailable,
            format!(
                "no read with this id was shown to you under this purpose code and file number \
                 in the last {} hours: open reads from your search results or alerts, under the \
                 purpose and file number of that search or tracking authorisation. This attempt \
                 is recorded.",
                self.config.disclosure_window_hours
            ),
        )
    }

    fn data_access(
        &self,
        req: &DataRequest<'_>,
        facts: &AccessFacts,
        d: &mut Decision,
    ) -> Result<DataGrant> {
        let s = req.subject;
        let now = req.now;
        // A training plate: the decision says so whatever its outcome, and rests on no file
        // (file rules and usage counts never count it).
        let training = match &req.target {
            Target::Pattern(p) => self.training_plate(p),
            Target::Read { .. } | Target::MissingRead(_) => None,
        };
        if training.is_some() {
            d.training = true;
            d.file_number = None;
        }
        self.check_active(s)?;
        permissions::require(&s.roles, req.action.permission())?;
        let purpose = self.check_purpose_with(req.purpose, training.is_none())?;
        ratelimit::check_recorded(
            &self.config.rate_limits,
            &purpose.code,
            facts.recent_accesses,
        )?;
        self.rate
            .admit(&self.config.rate_limits, s.user_id, &purpose.code, now)?;

        // Training plates: synthetic sightings, no register checks, no file, never real data.
        match &req.target {
            Target::Pattern(_) => {
                if let Some(plate) = training {
                    d.basis = Some("training plate: synthetic sightings only".into());
                    return Ok(DataGrant {
                        training: true,
                        training_plate: Some(plate),
                        time: req.time,
                        notices: vec![Notice {
                            code: "training",
                            message: "TRAINING: this is a reserved training plate; the sightings \
                                      are synthetic"
                                .into(),
                            withheld: false,
                        }],
                        ..Default::default()
                    });
                }
            }
            Target::Read { .. } | Target::MissingRead(_) => {}
        }

        if facts.staff.is_none() {
            return Err(E::refused(
                K::NotInStaffRegister,
                format!(
                    "staff id {} is not in the staff register, so vehicles connected to you \
                     cannot be excluded; ask the register administrators to add you",
                    s.staff_id
                ),
            ));
        }
        let file = req.purpose.map(|p| p.file_number.as_str()).unwrap_or("");
        let incident = self.check_incident(s, purpose, file, facts, now)?;
        let mut basis = format!(
            "incident {} ({}, {} district, open)",
            incident.file_number, incident.incident_type, incident.district
        );

        let mut notices = Vec::new();
        let networks = self.permitted_networks(
            s,
            Use::Search,
            &purpose.code,
            facts,
            req.network_ids,
            &mut notices,
        )?;

        // A read is opened by id only if it was shown to this user, under this purpose and
        // file, within the window. Everything else about a read (unknown, another network's,
        // near-live, a connected vehicle's, a training plate's) gets the same answer, so the
        // answer tells nothing about the read: ids cannot be enumerated.
        match &req.target {
            Target::Read { read_id, plate, .. } => {
                let shown = self
                    .shown(s, *read_id, &purpose.code, file, facts, now)
                    .ok_or_else(|| self.read_not_shown())?;
                if self.config.training.contains(plate) {
                    return Err(self.read_not_shown());
                }
                basis.push_str(&format!(
                    "; shown to them by {} at {}",
                    match shown.by {
                        DisclosedBy::Search => "a search",
                        DisclosedBy::Alert => "an alert",
                    },
                    shown.at.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
            Target::MissingRead(_) => return Err(self.read_not_shown()),
            Target::Pattern(_) => {}
        }

        // Own-vehicle block (a read's is checked after the time rules below: a refusal naming
        // the vehicle must not tell that it was seen minutes ago).
        let mut exclude = Vec::new();
        match &req.target {
            Target::Pattern(PlatePattern::Exact(p)) => {
                if let Some(c) = facts.connection(p.as_str()) {
                    return Err(own_vehicle_refusal(p.as_str(), c));
                }
            }
            Target::Read { .. } | Target::MissingRead(_) => {}
            Target::Pattern(p) => {
                if let PlatePattern::Fuzzy { plate, .. } = p {
                    // A fuzzy search matches every plate sharing its key: when a connected
                    // vehicle's does, it is a search for that vehicle.
                    if let Some(c) = facts.connection(plate.as_str()) {
                        return Err(own_vehicle_refusal(plate.as_str(), c));
                    }
                    if let Some(v) = facts.confusable_connection(plate.as_str()) {
                        return Err(confusable_vehicle_refusal(
                            "a fuzzy search for",
                            plate.as_str(),
                            v,
                        ));
                    }
                }
                // The store drops these plates and every plate confusable with them (the
                // same class key) before fetching any read.
                exclude = facts.connected.iter().map(|c| c.plate.clone()).collect();
                let could_match = match p {
                    // Up to confusions: `AJC7S?` matches AJC7S8, a misread of AJC758.
                    PlatePattern::Wildcard(_) => exclude.iter().any(|c| p.covers(c)),
                    _ => !exclude.is_empty(),
                };
                if could_match {
                    notices.push(Notice {
                        code: "connected_vehicles_excluded",
                        message: "vehicles connected to you (yours, your household's, your \
                                  declared associates') are excluded from the results; if one \
                                  is needed, ask another officer"
                            .into(),
                        withheld: true,
                    });
                }
            }
        }

        // Authorisations the user holds for this plate, in force now. One lifts the near-live
        // window (tracking) or the routine look-back (look-back) only for a request made under
        // its own file and purpose: it was granted for that investigation, not for the plate.
        let exact = req.target.exact_plate();
        let in_force = |kind: AuthorisationKind, own_file: bool| -> Option<&Authorisation> {
            let plate = exact?;
            facts.authorisations.iter().find(|a| {
                a.kind == kind
                    && a.plate == plate
                    && a.requester_user_id == s.user_id
                    && (!own_file
                        || (a.file_number == file.trim() && a.purpose_code == purpose.code))
                    && a.in_force(now, facts, &self.config)
            })
        };
        let tracking = in_force(AuthorisationKind::Tracking, true);
        let tracking_elsewhere = in_force(AuthorisationKind::Tracking, false);
        let lookback =
            in_force(AuthorisationKind::Lookback, true).filter(|a| a.lookback_from.is_some());

        let max_from = now - Duration::days(self.config.max_lookback_days);
        let routine_from = now - Duration::days(self.config.routine_lookback_days);
        let earliest = match lookback {
            Some(a) => a.lookback_from.unwrap_or(routine_from).max(max_from),
            None => routine_from,
        };
        let cutoff = now - Duration::minutes(self.config.near_live_minutes);
        let mut authorisation_id = None;
        if let Some(a) = lookback {
            basis.push_str(&format!("; look-back authorisation #{}", a.id));
            authorisation_id = Some(a.id);
        }
        if let Some(a) = tracking {
            basis.push_str(&format!("; tracking authorisation #{}", a.id));
            authorisation_id = Some(a.id);
        }
        let lookback_refusal = || {
            E::refused_field(
                K::LookbackNeedsApproval,
                "from",
                format!(
                    "routine searches reach back {} days; older data needs a supervisor's \
                     approval: request a look-back for this plate and file, up to {} days, or \
                     start the search later",
                    self.config.routine_lookback_days, self.config.max_lookback_days
                ),
            )
        };
        let near_live_message = || {
            let mut m = format!(
                "results newer than {} minutes are withheld: following a vehicle in near-real \
                 time is tracking, and needs a tracking authorisation (request one on the Track \
                 screen)",
                self.config.near_live_minutes
            );
            if let Some(a) = tracking_elsewhere.filter(|_| tracking.is_none()) {
                m.push_str(&format!(
                    "; your tracking authorisation #{} for this plate covers only file {} \
                     under the purpose {}: make the request under that file and purpose",
                    a.id,
                    a.file_number,
                    a.purpose_code.replace('_', " ")
                ));
            }
            m
        };

        let mut time = req.time;
        match &req.target {
            Target::Read {
                captured_at,
                network_id,
                ..
            } => {
                if let Some(w) =
                    crate::network::withholding(&facts.controls, *network_id, &purpose.code)
                {
                    return Err(E::refused(
                        K::NoNetworkAgreement,
                        format!(
                            "network {network_id} does not serve this read: {}",
                            w.reason()
                        ),
                    ));
                }
                if !networks.contains(network_id) {
                    return Err(E::refused(
                        K::NoNetworkAgreement,
                        format!(
                            "network {network_id} does not share its data with {} district",
                            s.district
                        ),
                    ));
                }
                if *captured_at < earliest {
                    return Err(lookback_refusal());
                }
                let owner = crate::network::controls_of(&facts.controls, *network_id);
                if owner.earliest(now).is_some_and(|e| *captured_at < e) {
                    return Err(E::refused(
                        K::LookbackNeedsApproval,
                        format!(
                            "network {network_id} serves reads of the last {} days only (its \
                             owner's maximum look-back), and this read is older",
                            owner.max_lookback_days.unwrap_or_default()
                        ),
                    ));
                }
                if *captured_at > cutoff && tracking.is_none() {
                    return Err(E::refused(K::NearLiveWithheld, near_live_message()));
                }
                if let Target::Read { plate, .. } = &req.target {
                    if let Some(c) = facts.connection(plate) {
                        return Err(own_vehicle_refusal(plate, c));
                    }
                }
            }
            Target::MissingRead(_) => {}
            Target::Pattern(_) => {
                match time.from {
                    None => {
                        time.from = Some(earliest);
                        notices.push(Notice {
                            code: "routine_lookback",
                            message: format!(
                                "the search reaches back {} days",
                                (now - earliest).num_days()
                            ),
                            withheld: false,
                        });
                    }
                    Some(f) if f < earliest => return Err(lookback_refusal()),
                    Some(_) => {}
                }
                if tracking.is_none() && time.to.is_none_or(|t| t > cutoff) {
                    time.to = Some(cutoff);
                    if time.from.is_some_and(|f| f > cutoff) {
                        time.from = Some(cutoff);
                    }
                    notices.push(Notice {
                        code: "near_live_withheld",
                        message: near_live_message(),
                        withheld: true,
                    });
                }
            }
        }
        // The networks' own maximum look-back: each one's older reads are left out, and a
        // network none of whose reads in the range are young enough is not searched at all.
        let mut networks = networks;
        let mut network_floors = Vec::new();
        if let Target::Pattern(_) = &req.target {
            let mut kept = Vec::with_capacity(networks.len());
            for n in networks {
                let owner = crate::network::controls_of(&facts.controls, n);
                let Some(floor) = owner.earliest(now) else {
                    kept.push(n);
                    continue;
                };
                let days = owner.max_lookback_days.unwrap_or_default();
                if time.to.is_some_and(|t| t <= floor) {
                    notices.push(Notice {
                        code: "network_lookback_limited",
                        message: format!(
                            "network {n} was not searched: it serves reads of the last {days} \
                             days only (its owner's maximum look-back), and the search ends \
                             before that"
                        ),
                        withheld: true,
                    });
                    continue;
                }
                if time.from.is_none_or(|f| f < floor) {
                    network_floors.push((n, floor));
                    notices.push(Notice {
                        code: "network_lookback_limited",
                        message: format!(
                            "network {n} serves reads of the last {days} days only (its \
                             owner's maximum look-back): its older reads are not searched"
                        ),
                        withheld: true,
                    });
                }
                kept.push(n);
            }
            if kept.is_empty() {
                return Err(E::refused_field(
                    K::LookbackNeedsApproval,
                    "from",
                    "no camera network you may search serves reads this old (their owners' \
                     maximum look-back): search a later time range",
                ));
            }
            networks = kept;
        }
        d.basis = Some(basis);
        Ok(DataGrant {
            networks,
            network_floors,
            time,
            exclude_plates: exclude,
            training: false,
            training_plate: None,
            notices,
            authorisation_id,
            plate_images: req.action == DataAction::Search
                && permissions::grants(&s.roles, Permission::ViewReads),
        })
    }
}

pub(crate) fn fill_purpose(d: &mut Decision, p: Option<&Purpose>) {
    if let Some(p) = p {
        d.purpose_code = Some(truncate(p.code.trim()));
        d.file_number = Some(truncate(p.file_number.trim()));
        d.justification = Some(p.justification.trim().chars().take(2000).collect());
    }
}

/// How the identity of the person making a subject access request was checked: they asked
/// about a plate, and only the vehicle's owner (or someone acting for them) may be told where
/// it was seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IdentityCheck {
    /// One of the configured methods (`passport`, `driver_licence`, `firearms_licence`,
    /// `kiwi_access_card`, `realme_verified_identity` by default).
    pub method: String,
    /// The staff id of whoever checked it.
    pub by: String,
}

/// A subject access request: a privacy officer (or an administrator) answering a person's
/// request under the Privacy Act for what is held about a plate.
#[derive(Debug, Clone)]
pub struct SubjectAccessRequest<'a> {
    pub subject: &'a Subject,
    /// The plate asked about, normalised.
    pub plate: &'a str,
    /// The request's own reference (required).
    pub reference: Option<&'a str>,
    /// How the person's identity was checked (required).
    pub identity: Option<&'a IdentityCheck>,
    /// How many subject access requests the requester had answered since
    /// [`Policy::subject_access_window_start`]: a fact from the recorded decisions.
    pub answered_recently: u64,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> SubjectAccessRequest<'a> {
    /// The register lookups this request needs: the requester's own (for the vehicles
    /// connected to them).
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

/// What a subject access request may disclose.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SubjectAccessGrant {
    /// Sightings up to this time may be listed and counted; newer ones are within the
    /// near-live window and withheld (where a car is now is not what the Act gives access to,
    /// and an answer that held it would be tracking on request).
    pub reads_until: DateTime<Utc>,
    pub notices: Vec<Notice>,
}

impl Policy {
    /// Where the per-requester window of subject access requests begins at `now`: the caller
    /// counts the requests the requester had answered since then
    /// ([`SubjectAccessRequest::answered_recently`]).
    pub fn subject_access_window_start(&self, now: DateTime<Utc>) -> DateTime<Utc> {
        now - Duration::minutes(self.config.subject_access.per_requester.window_minutes as i64)
    }

    /// Decides a subject access request. In order: the account is active and holds the
    /// `subject_access` permission; the request has a reference and says how the person's
    /// identity was checked (a configured method, and by whom); the requester is within their
    /// limit of answered requests; they are in the staff register and the plate is not
    /// connected to them (their own, their household's, a declared associate's: someone else
    /// must handle it). Sightings newer than the near-live window are withheld, and the grant
    /// says so. The result must go through [`crate::enforce`].
    pub fn evaluate_subject_access(
        &self,
        req: &SubjectAccessRequest<'_>,
        facts: &AccessFacts,
    ) -> Evaluation<SubjectAccessGrant> {
        let s = req.subject;
        let mut d = Decision::new(
            &s.actor(),
            DecisionAction::SubjectAccess,
            req.request_id,
            req.now,
        );
        d.target = Some(req.plate.to_string());
        let reference = req.reference.map(str::trim).filter(|r| !r.is_empty());
        let mut basis = match reference {
            Some(r) => format!("subject access request {}", truncate(r)),
            None => "subject access request".to_string(),
        };
        if let Some(i) = req.identity {
            basis.push_str(&format!(
                "; identity checked by {} ({})",
                truncate(i.by.trim()),
                truncate(i.method.trim())
            ));
        }
        d.basis = Some(basis);
        let outcome = self.subject_access(req, reference, facts);
        if let Ok(g) = &outcome {
            d.outcome = if g.notices.iter().any(|n| n.withheld) {
                DecisionOutcome::AllowedWithLimits
            } else {
                DecisionOutcome::Allowed
            };
            d.notes = g
                .notices
                .iter()
                .map(|n| format!("{}: {}", n.code, n.message))
                .collect();
        }
        Evaluation::new(d, outcome)
    }

    fn subject_access(
        &self,
        req: &SubjectAccessRequest<'_>,
        reference: Option<&str>,
        facts: &AccessFacts,
    ) -> Result<SubjectAccessGrant> {
        let s = req.subject;
        let cfg = &self.config.subject_access;
        self.check_active(s)?;
        permissions::require(&s.roles, Permission::SubjectAccess)?;
        match reference {
            Some(r) if r.chars().count() <= 64 => {}
            _ => {
                return Err(E::refused_field(
                    K::InvalidRequest,
                    "reference",
                    "a subject access request needs its own reference (1 to 64 characters), \
                     recorded with the answer",
                ))
            }
        }
        let methods = || cfg.identity_methods.join(", ");
        let identity = req.identity.ok_or_else(|| {
            E::refused_field(
                K::InvalidRequest,
                "identity_checked",
                format!(
                    "say how the identity of the person asking was checked before answering: \
                     identity_checked with a method ({}) and the staff id of whoever checked it",
                    methods()
                ),
            )
        })?;
        if !cfg
            .identity_methods
            .iter()
            .any(|m| m == identity.method.trim())
        {
            return Err(E::refused_field(
                K::InvalidRequest,
                "identity_checked.method",
                format!(
                    "there is no identity check method {}; choose one of: {}",
                    truncate(identity.method.trim()),
                    methods()
                ),
            ));
        }
        let by = identity.by.trim().chars().count();
        if by == 0 || by > 64 {
            return Err(E::refused_field(
                K::InvalidRequest,
                "identity_checked.by",
                "say who checked the identity: their staff id (1 to 64 characters)",
            ));
        }
        let limit = cfg.per_requester;
        if req.answered_recently >= limit.max as u64 {
            return Err(E::refused(
                K::RateLimited,
                format!(
                    "you have reached the limit of {} subject access requests answered in {} \
                     minutes; try again later or ask another privacy officer",
                    limit.max, limit.window_minutes
                ),
            ));
        }
        if facts.staff.is_none() {
            return Err(E::refused(
                K::NotInStaffRegister,
                format!(
                    "staff id {} is not in the staff register, so vehicles connected to you \
                     cannot be recognised; ask the register administrators to add you",
                    s.staff_id
                ),
            ));
        }
        if let Some(c) = facts.connection(req.plate) {
            return Err(E::refused(
                K::OwnVehicle,
                format!(
                    "vehicle {} {}: you may not answer a subject access request about a vehicle \
                     connected to you, and this attempt is recorded; someone else must handle \
                     it (another privacy officer)",
                    req.plate,
                    c.explain()
                ),
            ));
        }
        let minutes = self.config.near_live_minutes;
        Ok(SubjectAccessGrant {
            reads_until: req.now - Duration::minutes(minutes),
            notices: vec![Notice {
                code: "near_live_withheld",
                message: format!(
                    "sightings from the last {minutes} minutes are not listed or counted: a \
                     subject access answer tells what is held, not where the vehicle is now"
                ),
                withheld: true,
            }],
        })
    }
}

/// A request to place a read on legal hold (kept past its network's retention, e.g. for a
/// court) or to release it.
#[derive(Debug, Clone)]
pub struct LegalHoldRequest<'a> {
    pub subject: &'a Subject,
    pub purpose: Option<&'a Purpose>,
    /// The read ([`Target::Read`], its metadata fetched but not returned) or
    /// [`Target::MissingRead`].
    pub target: Target<'a>,
    pub hold: bool,
    /// Why (the court file, the investigation), recorded with the decision.
    pub reason: &'a str,
    pub request_id: &'a str,
    pub now: DateTime<Utc>,
}

impl<'a> LegalHoldRequest<'a> {
    /// The register lookups this request needs.
    pub fn facts_query(&self) -> FactsQuery<'a> {
        FactsQuery {
            staff_id: &self.subject.staff_id,
            user_id: self.subject.user_id,
            file_number: self.purpose.map(|p| p.file_number.trim()),
            plate: match self.target {
                Target::Read { plate, .. } => Some(plate),
                _ => None,
            },
            for_tracking: false,
        }
    }
}

impl Policy {
    /// Decides a legal hold (or its release): a use of the read like any other, so it is
    /// decided and recorded with its purpose. The account is active and holds
    /// `place_legal_hold` (supervisors, administrators); the purpose is complete and its code
    /// configured; the reason is stated; the user is in the staff register; the file number is
    /// in the incident register, open, theirs and fits the purpose; the read's network shares
    /// its data with the user's district; and the read is not of a vehicle connected to the
    /// user (a conflict of interest either way). The read's age is no bar: a hold is how old
    /// reads are kept. An unknown read, another network's and a connected vehicle's get one
    /// answer that tells nothing about the read. The result must go through
    /// [`crate::enforce`].
    pub fn evaluate_legal_hold(
        &self,
        req: &LegalHoldRequest<'_>,
        facts: &AccessFacts,
    ) -> Evaluation<()> {
        let s = req.subject;
        let mut d = Decision::new(
            &s.actor(),
            DecisionAction::LegalHold,
            req.request_id,
            req.now,
        );
        d.target = Some(req.target.describe());
        fill_purpose(&mut d, req.purpose);
        if let Target::Read { network_id, .. } = req.target {
            d.networks = vec![network_id];
        }
        let outcome = (|| {
            self.check_active(s)?;
            permissions::require(&s.roles, Permission::PlaceLegalHold)?;
            let purpose = self.check_purpose(req.purpose)?;
            let reason = req.reason.trim();
            let min = self.config.min_reason_chars;
            if reason.chars().count() < min || reason.chars().count() > 2000 {
                return Err(E::refused_field(
                    K::InvalidRequest,
                    "reason",
                    format!("state why the read is {} (at least {min} characters)", {
                        if req.hold {
                            "held"
                        } else {
                            "released"
                        }
                    }),
                ));
            }
            if facts.staff.is_none() {
                return Err(E::refused(
                    K::NotInStaffRegister,
                    format!(
                        "staff id {} is not in the staff register, so vehicles connected to you \
                         cannot be excluded; ask the register administrators to add you",
                        s.staff_id
                    ),
                ));
            }
            let file = req.purpose.map(|p| p.file_number.as_str()).unwrap_or("");
            let incident = self.check_incident(s, purpose, file, facts, req.now)?;
            let unavailable = || {
                E::refused(
                    K::ReadNotAvailable,
                    "no read with this id can be held or released by you (it is unknown, its \
                     network does not share its data with your district, or it is of a vehicle \
                     connected to you); this attempt is recorded",
                )
            };
            match req.target {
                Target::Read {
                    plate, network_id, ..
                } => {
                    let shared = facts
                        .agreements
                        .iter()
                        .any(|a| a.network_id == network_id && a.permits(Use::Search, &s.district));
                    if !shared || facts.connection(plate).is_some() {
                        return Err(unavailable());
                    }
                }
                Target::MissingRead(_) | Target::Pattern(_) => return Err(unavailable()),
            }
            d.basis = Some(format!(
                "incident {} ({}, {} district, open); {}: {}",
                incident.file_number,
                incident.incident_type,
                incident.district,
                if req.hold { "hold" } else { "release" },
                truncate_long(reason)
            ));
            Ok(())
        })();
        if outcome.is_ok() {
            d.outcome = DecisionOutcome::Allowed;
        }
        Evaluation::new(d, outcome)
    }
}

/// At most 500 characters of a stated reason in a decision's basis.
fn truncate_long(s: &str) -> String {
    if s.chars().count() <= 500 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(500).collect();
        t.push('…');
        t
    }
}

/// At most 64 characters of user input in messages and records.
/// Different words a justification needs: a reason, not filler that meets a length.
pub const MIN_JUSTIFICATION_WORDS: usize = 3;

/// The different words in `text` (case aside), a word being a run of letters and digits with
/// at least two letters: "...................." has none, "test test test test" one.
pub fn distinct_words(text: &str) -> usize {
    text.split(|c: char| !c.is_alphanumeric())
        .filter(|w| w.chars().filter(|c| c.is_alphabetic()).count() >= 2)
        .map(str::to_lowercase)
        .collect::<std::collections::HashSet<_>>()
        .len()
}

pub(crate) fn truncate(s: &str) -> String {
    if s.chars().count() <= 64 {
        s.to_string()
    } else {
        let mut t: String = s.chars().take(64).collect();
        t.push('…');
        t
    }
}

#[cfg(test)]
mod tests {
    use super::distinct_words;
    use crate::Policy;

    #[test]
    fn a_justification_is_counted_in_words_not_characters() {
        assert_eq!(distinct_words("...................."), 0);
        assert_eq!(distinct_words("test test test test test"), 1);
        assert_eq!(distinct_words("a1 b2 c3 d4 e5 f6 g7 h8"), 0);
        assert_eq!(distinct_words("Vehicle seen leaving the scene"), 5);
        assert_eq!(distinct_words("Stolen STOLEN stolen car, 260101/2000"), 2);
        assert_eq!(distinct_words("Fahrzeug gesehen während Einsatz"), 4);
    }

    #[test]
    fn a_purpose_mismatch_names_the_incident_type_and_the_purposes_that_fit() {
        let policy = Policy::default();
        let def = |code: &str| policy.config().purpose(code).unwrap().clone();
        assert_eq!(
            policy.purpose_mismatch(&def("missing_person"), "F1", "homicide"),
            "the purpose Missing person does not fit incident file F1, which is a homicide \
             incident: for this file choose the purpose Serious crime investigation"
        );
        assert_eq!(
            policy.purpose_mismatch(&def("road_policing"), "F2", "kidnapping"),
            "the purpose Road policing does not fit incident file F2, which is a kidnapping \
             incident: for this file choose one of the purposes Serious crime investigation, \
             Threat to life"
        );
        assert_eq!(
            policy.purpose_mismatch(&def("stolen_vehicle"), "F3", "arson"),
            "the purpose Stolen vehicle does not fit incident file F3, which is an arson \
             incident: for this file choose the purpose Serious crime investigation"
        );
        assert!(policy
            .purpose_mismatch(&def("stolen_vehicle"), "F4", "lost_property")
            .ends_with(
                "a lost property incident: no purpose fits a lost property incident, so \
                        choose another file"
            ));
    }
}

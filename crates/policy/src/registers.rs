//! The authoritative registers the policy checks against, as plain data, and the one read
//! interface ([`RegisterView`]) through which the policy sees them.
//!
//! The registers are fed by other systems (motor vehicle register, HR, the stolen vehicle and
//! incident systems); officers can never write them. Each record type validates itself, so an
//! import refuses a bad row with the field at fault.

use crate::error::Result;
use crate::tracking::{Authorisation, Basis};
use anpr_domain::{DomainError, NetworkId, NormalisedPlate, ReadId, Role, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Deserializer, Serialize};
use std::collections::{BTreeSet, HashMap};

/// Longest identifier accepted in a register (person, address, staff, file number).
pub const MAX_ID_LEN: usize = 64;

fn check_id(field: &str, value: &str) -> std::result::Result<String, DomainError> {
    let v = value.trim();
    if v.is_empty() || v.chars().count() > MAX_ID_LEN {
        return Err(DomainError::invalid(
            field,
            format!("must be 1 to {MAX_ID_LEN} characters"),
        ));
    }
    if v.chars().any(|c| c.is_control()) {
        return Err(DomainError::invalid(
            field,
            "must not hold control characters",
        ));
    }
    Ok(v.to_string())
}

fn check_opt(
    field: &str,
    value: &Option<String>,
) -> std::result::Result<Option<String>, DomainError> {
    match value.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => check_id(field, v).map(Some),
    }
}

fn plate(field: &str, value: &str) -> std::result::Result<String, DomainError> {
    NormalisedPlate::parse(value)
        .map(NormalisedPlate::into_string)
        .map_err(|e| DomainError::invalid(field, e.to_string()))
}

/// A list given either as a JSON array or, in CSV, as one field separated by `;` or `|`.
fn list<'de, D: Deserializer<'de>>(d: D) -> std::result::Result<Vec<String>, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        Many(Vec<String>),
        One(String),
    }
    Ok(match Option::<OneOrMany>::deserialize(d)? {
        None => vec![],
        Some(OneOrMany::Many(v)) => v,
        Some(OneOrMany::One(s)) => s
            .split([';', '|'])
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

/// Motor vehicle register: a plate and its registered person and address.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct VehicleRecord {
    pub plate: String,
    pub owner_person_id: String,
    pub owner_address_id: String,
    #[serde(default)]
    pub make: Option<String>,
    #[serde(default)]
    pub model: Option<String>,
    #[serde(default)]
    pub colour: Option<String>,
}

impl VehicleRecord {
    pub fn validated(&self) -> std::result::Result<Self, DomainError> {
        Ok(VehicleRecord {
            plate: plate("plate", &self.plate)?,
            owner_person_id: check_id("owner_person_id", &self.owner_person_id)?,
            owner_address_id: check_id("owner_address_id", &self.owner_address_id)?,
            make: check_opt("make", &self.make)?,
            model: check_opt("model", &self.model)?,
            colour: check_opt("colour", &self.colour)?,
        })
    }
}

/// Staff register: a member of staff as a person with a home address and a team.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StaffRecord {
    pub staff_id: String,
    pub person_id: String,
    pub home_address_id: String,
    #[serde(default)]
    pub team: Option<String>,
}

impl StaffRecord {
    pub fn validated(&self) -> std::result::Result<Self, DomainError> {
        Ok(StaffRecord {
            staff_id: check_id("staff_id", &self.staff_id)?,
            person_id: check_id("person_id", &self.person_id)?,
            home_address_id: check_id("home_address_id", &self.home_address_id)?,
            team: check_opt("team", &self.team)?,
        })
    }
}

/// A person a member of staff has declared as an associate (relative, partner, friend): their
/// vehicles are blocked to that member of staff as their own are.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct AssociateRecord {
    pub staff_id: String,
    pub person_id: String,
    #[serde(default)]
    pub relationship: Option<String>,
}

impl AssociateRecord {
    pub fn validated(&self) -> std::result::Result<Self, DomainError> {
        Ok(AssociateRecord {
            staff_id: check_id("staff_id", &self.staff_id)?,
            person_id: check_id("person_id", &self.person_id)?,
            relationship: check_opt("relationship", &self.relationship)?,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum StolenStatus {
    Active,
    Recovered,
    Cancelled,
}

impl StolenStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            StolenStatus::Active => "active",
            StolenStatus::Recovered => "recovered",
            StolenStatus::Cancelled => "cancelled",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "active" => Some(StolenStatus::Active),
            "recovered" => Some(StolenStatus::Recovered),
            "cancelled" => Some(StolenStatus::Cancelled),
            _ => None,
        }
    }
}

/// Stolen vehicle register: one report of a plate stolen, under an incident file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StolenRecord {
    pub plate: String,
    pub file_number: String,
    pub reported_at: DateTime<Utc>,
    pub complainant_person_id: String,
    pub recorded_by_staff_id: String,
    pub status: StolenStatus,
    #[serde(default)]
    pub cancelled_at: Option<DateTime<Utc>>,
}

impl StolenRecord {
    pub fn validated(&self) -> std::result::Result<Self, DomainError> {
        Ok(StolenRecord {
            plate: plate("plate", &self.plate)?,
            file_number: check_id("file_number", &self.file_number)?,
            reported_at: self.reported_at,
            complainant_person_id: check_id("complainant_person_id", &self.complainant_person_id)?,
            recorded_by_staff_id: check_id("recorded_by_staff_id", &self.recorded_by_staff_id)?,
            status: self.status,
            cancelled_at: self.cancelled_at,
        })
    }

    pub fn is_active(&self) -> bool {
        self.status == StolenStatus::Active
    }
}

/// A stolen report as stored, with its id (authorisations refer to it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct StolenEntry {
    pub id: i64,
    #[serde(flatten)]
    pub record: StolenRecord,
}

/// Incident register: a file number, its type and district, open or closed, and who is on it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct IncidentRecord {
    pub file_number: String,
    pub incident_type: String,
    pub district: String,
    pub opened_at: DateTime<Utc>,
    #[serde(default)]
    pub closed_at: Option<DateTime<Utc>>,
    /// Staff ids assigned to the file (CSV: separated by `;`).
    #[serde(default, deserialize_with = "list")]
    pub assigned_staff: Vec<String>,
}

impl IncidentRecord {
    pub fn validated(&self) -> std::result::Result<Self, DomainError> {
        let mut assigned = Vec::with_capacity(self.assigned_staff.len());
        for s in &self.assigned_staff {
            assigned.push(check_id("assigned_staff", s)?);
        }
        Ok(IncidentRecord {
            file_number: check_id("file_number", &self.file_number)?,
            incident_type: check_id("incident_type", &self.incident_type)?,
            district: check_id("district", &self.district)?,
            opened_at: self.opened_at,
            closed_at: self.closed_at,
            assigned_staff: assigned,
        })
    }

    pub fn is_open(&self, now: DateTime<Utc>) -> bool {
        self.opened_at <= now && self.closed_at.is_none_or(|c| c > now)
    }
}

/// Which police districts (or agencies) may use a network's data, and how. `*` means every
/// district.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct NetworkAgreement {
    pub network_id: NetworkId,
    /// Who may run historical search on the network's reads.
    pub search: Vec<String>,
    /// Who may run real-time tracking on them.
    pub tracking: Vec<String>,
    /// Whether the network's own staff (`network_operator`) receive "vehicle of interest"
    /// alerts when a plate on the stolen-vehicle hot list is seen on its cameras. Off unless
    /// the agreement says so.
    #[serde(default)]
    pub hot_list_alerts: bool,
}

/// What an agreement is consulted for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Use {
    Search,
    Tracking,
}

impl NetworkAgreement {
    pub fn permits(&self, use_: Use, district: &str) -> bool {
        let parties = match use_ {
            Use::Search => &self.search,
            Use::Tracking => &self.tracking,
        };
        parties
            .iter()
            .any(|p| p == "*" || p.eq_ignore_ascii_case(district))
    }
}

/// How a vehicle is connected to a member of staff.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Connection {
    /// Registered to them.
    Own,
    /// Registered to someone at their home address.
    Household,
    /// Registered to a declared associate.
    Associate,
}

impl Connection {
    pub fn explain(self) -> &'static str {
        match self {
            Connection::Own => "is registered to you",
            Connection::Household => "is registered to someone at your home address",
            Connection::Associate => "is registered to a person you declared as an associate",
        }
    }
}

/// Who made a change: loaded a register row, or set a user's roles. Stored as a label
/// (`staff:S1006`, `feed:nzta-mvr`, `cli:operator`), parsed by [`ChangedBy::parse`].
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", content = "id", rename_all = "snake_case")]
pub enum ChangedBy {
    /// A declared register feed, loading under its own credential (`feed:<name>`).
    Feed(String),
    /// A member of staff, by hand (the admin API, signed in): `staff:<staff id>`.
    Staff(String),
    /// Anyone else: an operator at the server's command line (`cli:<user>`), the platform, or a
    /// label no rule knows. Kept as given.
    Operator(String),
}

impl ChangedBy {
    pub fn parse(label: &str) -> ChangedBy {
        let label = label.trim();
        match label.split_once(':') {
            Some(("staff", id)) if !id.trim().is_empty() => ChangedBy::Staff(id.trim().into()),
            Some(("feed", name)) if !name.trim().is_empty() => ChangedBy::Feed(name.trim().into()),
            _ => ChangedBy::Operator(label.into()),
        }
    }

    /// The label it is stored as; [`ChangedBy::parse`] reads it back.
    pub fn label(&self) -> String {
        match self {
            ChangedBy::Feed(name) => format!("feed:{name}"),
            ChangedBy::Staff(id) => format!("staff:{id}"),
            ChangedBy::Operator(label) => label.clone(),
        }
    }

    /// The member of staff who made the change by hand, when one did.
    pub fn staff_id(&self) -> Option<&str> {
        match self {
            ChangedBy::Staff(id) => Some(id),
            _ => None,
        }
    }
}

impl std::fmt::Display for ChangedBy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ChangedBy::Feed(name) => write!(f, "the register feed {name}"),
            ChangedBy::Staff(id) => write!(f, "{id}"),
            ChangedBy::Operator(label) => write!(f, "{label}"),
        }
    }
}

/// A register row a decision may rest on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum RowRef {
    /// A staff register row, by staff id.
    Staff(String),
    /// A motor vehicle register row, by plate.
    Vehicle(String),
    /// A stolen report, by its id.
    Stolen(i64),
    /// An incident register row, by file number.
    Incident(String),
}

impl RowRef {
    /// The row in plain words ("the stolen report #4", "your staff record").
    pub fn describe(&self, requester_staff_id: &str) -> String {
        match self {
            RowRef::Staff(id) if id == requester_staff_id => "your staff record".into(),
            RowRef::Staff(id) => format!("the staff record of {id}"),
            RowRef::Vehicle(plate) => format!("the motor vehicle record of {plate}"),
            RowRef::Stolen(id) => format!("the stolen report #{id}"),
            RowRef::Incident(file) => format!("the incident file {file}"),
        }
    }
}

/// Who last put a register row in its present state, and when (the import that last changed
/// it: a row an import left unchanged keeps its earlier load).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RowLoad {
    pub import_id: i64,
    pub at: DateTime<Utc>,
    pub by: ChangedBy,
}

/// One change of a user's roles (creation included): what they became, who set them and when.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoleChange {
    pub roles: Vec<Role>,
    /// `None`: not known (set before this was recorded, or by a caller that did not say).
    pub set_by: Option<ChangedBy>,
    pub at: DateTime<Utc>,
}

/// The roles that act on plate data and the registers: what a fresh account must not receive
/// from the person who also loads the rows it acts on.
pub const OPERATIONAL_ROLES: [Role; 3] = [Role::Searcher, Role::Tracker, Role::Supervisor];

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectedVehicle {
    pub plate: String,
    pub connection: Connection,
}

/// Read access to the registers. Implementations answer from indexed storage (point lookups),
/// so one policy decision costs a handful of lookups whatever the registers' size.
pub trait RegisterView {
    fn staff(&self, staff_id: &str) -> Result<Option<StaffRecord>>;
    fn associates(&self, staff_id: &str) -> Result<Vec<AssociateRecord>>;
    fn vehicle(&self, plate: &str) -> Result<Option<VehicleRecord>>;
    /// Vehicles registered to any of `person_ids` or at `address_id`.
    fn vehicles_of(&self, person_ids: &[&str], address_id: &str) -> Result<Vec<VehicleRecord>>;
    fn incident(&self, file_number: &str) -> Result<Option<IncidentRecord>>;
    /// The incidents among `file_numbers` that the register holds, in any order: one lookup
    /// for many (a pass over the ledger asks for a page's worth of file numbers at once).
    fn incidents(&self, file_numbers: &[&str]) -> Result<Vec<IncidentRecord>> {
        let mut out = Vec::new();
        for f in file_numbers {
            out.extend(self.incident(f)?);
        }
        Ok(out)
    }
    /// Every stolen report of the plate, newest first.
    fn stolen(&self, plate: &str) -> Result<Vec<StolenEntry>>;
    fn agreements(&self) -> Result<Vec<NetworkAgreement>>;
    /// The user's pending and active authorisations for the plate.
    fn authorisations(&self, user_id: UserId, plate: &str) -> Result<Vec<Authorisation>>;
    /// The user's authorisations for the plate on `basis` that have ended (refused, revoked,
    /// expired or stopped), most recently ended first, at most [`MAX_ENDED`]. The most recent
    /// end is what the rules look at: older ones cannot push it out of the list.
    fn ended_authorisations(
        &self,
        user_id: UserId,
        plate: &str,
        basis: Basis,
    ) -> Result<Vec<Authorisation>>;
    /// Who last loaded the row, and when (`None`: no such row).
    fn loaded_by(&self, row: &RowRef) -> Result<Option<RowLoad>>;
    /// The user's role changes, newest first, at most [`MAX_ROLE_CHANGES`].
    fn role_changes(&self, user_id: UserId) -> Result<Vec<RoleChange>>;
}

/// Most ended authorisations [`RegisterView::ended_authorisations`] returns.
pub const MAX_ENDED: usize = 10;

/// Most role changes [`RegisterView::role_changes`] returns.
pub const MAX_ROLE_CHANGES: usize = 20;

/// How a read came to be shown to a user.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DisclosedBy {
    /// A page of a historical search's results.
    Search,
    /// A tracking alert delivered to them (the stream, the list, a watch's sightings).
    Alert,
}

impl DisclosedBy {
    pub fn as_str(self) -> &'static str {
        match self {
            DisclosedBy::Search => "search",
            DisclosedBy::Alert => "alert",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "search" => Some(DisclosedBy::Search),
            "alert" => Some(DisclosedBy::Alert),
            _ => None,
        }
    }
}

/// A read shown to a user under a purpose code and file number: what lets them open it by id
/// afterwards (read ids cannot be enumerated). Written by the application when a search page
/// or an alert discloses reads; the store keeps the latest per (user, read, purpose, file).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disclosure {
    pub user_id: UserId,
    pub read_id: ReadId,
    /// The purpose code it was shown under (trimmed).
    pub purpose_code: String,
    /// The incident file number it was shown under (trimmed).
    pub file_number: String,
    pub at: DateTime<Utc>,
    pub by: DisclosedBy,
}

/// An integrity review case as the policy sees it: a reason an overseer may have to look
/// further than counts (a tracked car's path).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReviewCase {
    pub id: i64,
    /// The member of staff whose conduct it is about.
    pub staff_id: String,
    /// The rule that found it (`renewal_chain`, `stolen_report`, ...).
    pub rule: String,
    /// In the integrity unit's queue (not a supervisor's routine sample).
    pub integrity_queue: bool,
    /// Not closed.
    pub open: bool,
    pub assigned_to: Option<String>,
}

/// What a decision needs to know, gathered from the registers before evaluating.
#[derive(Debug, Clone, Copy)]
pub struct FactsQuery<'a> {
    pub staff_id: &'a str,
    pub user_id: UserId,
    pub file_number: Option<&'a str>,
    /// The exact plate the request is about, when there is one.
    pub plate: Option<&'a str>,
    /// Also fetch the vehicle record and the stolen reports' recorders (tracking requests).
    pub for_tracking: bool,
}

/// The register facts one decision is made on. Plain data: evaluation is a pure function of
/// these, the request and the time.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AccessFacts {
    pub staff: Option<StaffRecord>,
    pub associates: Vec<AssociateRecord>,
    /// Vehicles connected to the member of staff (own, household, associates).
    pub connected: Vec<ConnectedVehicle>,
    pub incident: Option<IncidentRecord>,
    pub vehicle: Option<VehicleRecord>,
    pub stolen: Vec<StolenEntry>,
    /// Staff records of the people who recorded `stolen` (for their team).
    pub stolen_recorders: Vec<StaffRecord>,
    pub agreements: Vec<NetworkAgreement>,
    pub authorisations: Vec<Authorisation>,
    /// The requester's emergency tracking authorisations of the plate that have ended, most
    /// recently ended first (tracking requests).
    pub ended_emergencies: Vec<Authorisation>,
    /// Who last loaded the register rows a tracking request rests on: the requester's staff
    /// record, the incident, the vehicle record and the plate's stolen reports (tracking
    /// requests).
    pub loads: Vec<(RowRef, RowLoad)>,
    /// The requester's role changes, newest first (tracking requests).
    pub role_changes: Vec<RoleChange>,
    /// When the read a view is about was shown to the user, and under which purpose and file
    /// (read and image views; looked up by the caller, not by [`gather`]).
    pub disclosures: Vec<Disclosure>,
    /// The user's data accesses allowed within the rate limits' windows, counted from the
    /// recorded decisions (looked up by the caller, not by [`gather`]): what makes the limits
    /// hold across every server process and the command line.
    pub recent_accesses: RecentAccesses,
    /// The camera networks' own sharing controls (looked up by the caller, not by [`gather`]:
    /// the application keeps them fresh across processes); a network not listed has none.
    pub controls: Vec<crate::network::NetworkControls>,
}

/// Allowed data accesses (searches, read and image views, exports) of one user, counted from
/// the decision log over the windows [`crate::Policy::rate_windows`] names.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct RecentAccesses {
    /// Under any purpose, within the per-user window.
    pub any_purpose: u64,
    /// Under the request's purpose code, within that purpose's window.
    pub this_purpose: u64,
}

impl AccessFacts {
    pub fn connection(&self, plate: &str) -> Option<Connection> {
        self.connected
            .iter()
            .find(|c| c.plate == plate)
            .map(|c| c.connection)
    }

    /// The connected vehicle (strongest connection first) whose plate shares `plate`'s
    /// confusion-class key: everything a fuzzy watch or search of `plate` matches exactly,
    /// it matches too (see [`anpr_domain::confusion`]).
    pub fn confusable_connection(&self, plate: &str) -> Option<&ConnectedVehicle> {
        self.connected
            .iter()
            .find(|c| anpr_domain::confusable(&c.plate, plate))
    }

    pub fn stolen_entry(&self, id: i64) -> Option<&StolenEntry> {
        self.stolen.iter().find(|s| s.id == id)
    }

    /// Who last loaded `row`, when the facts hold it.
    pub fn loaded_by(&self, row: &RowRef) -> Option<&RowLoad> {
        self.loads.iter().find(|(r, _)| r == row).map(|(_, l)| l)
    }
}

/// Vehicles connected to a member of staff, strongest connection first.
pub fn connected_vehicles(
    view: &dyn RegisterView,
    staff: &StaffRecord,
    associates: &[AssociateRecord],
) -> Result<Vec<ConnectedVehicle>> {
    let mut people: Vec<&str> = vec![staff.person_id.as_str()];
    people.extend(associates.iter().map(|a| a.person_id.as_str()));
    let mut out: Vec<ConnectedVehicle> = view
        .vehicles_of(&people, &staff.home_address_id)?
        .into_iter()
        .map(|v| {
            let connection = if v.owner_person_id == staff.person_id {
                Connection::Own
            } else if v.owner_address_id == staff.home_address_id {
                Connection::Household
            } else {
                Connection::Associate
            };
            ConnectedVehicle {
                plate: v.plate,
                connection,
            }
        })
        .collect();
    out.sort_by_key(|c| (c.connection as u8, c.plate.clone()));
    out.dedup_by(|a, b| a.plate == b.plate);
    Ok(out)
}

/// Gathers the facts for one decision: a handful of point lookups.
pub fn gather(view: &dyn RegisterView, q: &FactsQuery<'_>) -> Result<AccessFacts> {
    let mut f = AccessFacts {
        staff: view.staff(q.staff_id)?,
        ..Default::default()
    };
    if let Some(staff) = &f.staff {
        f.associates = view.associates(q.staff_id)?;
        f.connected = connected_vehicles(view, staff, &f.associates)?;
    }
    if let Some(file) = q.file_number {
        f.incident = view.incident(file)?;
    }
    f.agreements = view.agreements()?;
    if q.for_tracking {
        // Who loaded the rows a tracking request rests on, and who gave the requester their
        // roles: separation of duties holds per account, and one person must not be able to
        // both make an account and manufacture its basis.
        let mut rows = Vec::new();
        if f.staff.is_some() {
            rows.push(RowRef::Staff(q.staff_id.to_string()));
        }
        if let Some(file) = q.file_number {
            rows.push(RowRef::Incident(file.to_string()));
        }
        if let Some(plate) = q.plate {
            rows.push(RowRef::Vehicle(plate.to_string()));
        }
        for row in rows {
            if let Some(load) = view.loaded_by(&row)? {
                f.loads.push((row, load));
            }
        }
        f.role_changes = view.role_changes(q.user_id)?;
    }
    if let Some(plate) = q.plate {
        f.authorisations = view.authorisations(q.user_id, plate)?;
        f.stolen = view.stolen(plate)?;
        if q.for_tracking {
            f.ended_emergencies = view.ended_authorisations(q.user_id, plate, Basis::Emergency)?;
            f.vehicle = view.vehicle(plate)?;
            let recorders: BTreeSet<&str> = f
                .stolen
                .iter()
                .map(|s| s.record.recorded_by_staff_id.as_str())
                .collect();
            for r in recorders {
                if let Some(s) = view.staff(r)? {
                    f.stolen_recorders.push(s);
                }
            }
            for e in &f.stolen {
                let row = RowRef::Stolen(e.id);
                if let Some(load) = view.loaded_by(&row)? {
                    f.loads.push((row, load));
                }
            }
        }
    }
    Ok(f)
}

/// Registers held in memory: for tests and for tools that evaluate the policy offline.
#[derive(Debug, Clone, Default)]
pub struct MemoryRegisters {
    pub vehicles: HashMap<String, VehicleRecord>,
    pub staff: HashMap<String, StaffRecord>,
    pub associates: Vec<AssociateRecord>,
    pub stolen: Vec<StolenEntry>,
    pub incidents: HashMap<String, IncidentRecord>,
    pub agreements: Vec<NetworkAgreement>,
    pub authorisations: Vec<Authorisation>,
    /// Who loaded which row (rows not listed: unknown).
    pub loads: HashMap<RowRef, RowLoad>,
    /// Role changes by user, in the order they were made.
    pub role_changes: HashMap<UserId, Vec<RoleChange>>,
}

impl MemoryRegisters {
    pub fn add_vehicle(&mut self, plate: &str, person: &str, address: &str) {
        self.vehicles.insert(
            plate.to_string(),
            VehicleRecord {
                plate: plate.into(),
                owner_person_id: person.into(),
                owner_address_id: address.into(),
                make: None,
                model: None,
                colour: None,
            },
        );
    }

    pub fn add_staff(&mut self, staff_id: &str, person: &str, address: &str, team: Option<&str>) {
        self.staff.insert(
            staff_id.to_string(),
            StaffRecord {
                staff_id: staff_id.into(),
                person_id: person.into(),
                home_address_id: address.into(),
                team: team.map(str::to_string),
            },
        );
    }

    pub fn add_incident(&mut self, incident: IncidentRecord) {
        self.incidents
            .insert(incident.file_number.clone(), incident);
    }

    pub fn add_stolen(&mut self, record: StolenRecord) -> i64 {
        let id = self.stolen.len() as i64 + 1;
        self.stolen.push(StolenEntry { id, record });
        id
    }
}

impl RegisterView for MemoryRegisters {
    fn staff(&self, staff_id: &str) -> Result<Option<StaffRecord>> {
        Ok(self.staff.get(staff_id).cloned())
    }
    fn associates(&self, staff_id: &str) -> Result<Vec<AssociateRecord>> {
        Ok(self
            .associates
            .iter()
            .filter(|a| a.staff_id == staff_id)
            .cloned()
            .collect())
    }
    fn vehicle(&self, plate: &str) -> Result<Option<VehicleRecord>> {
        Ok(self.vehicles.get(plate).cloned())
    }
    fn vehicles_of(&self, person_ids: &[&str], address_id: &str) -> Result<Vec<VehicleRecord>> {
        Ok(self
            .vehicles
            .values()
            .filter(|v| {
                person_ids.contains(&v.owner_person_id.as_str()) || v.owner_address_id == address_id
            })
            .cloned()
            .collect())
    }
    fn incident(&self, file_number: &str) -> Result<Option<IncidentRecord>> {
        Ok(self.incidents.get(file_number).cloned())
    }
    fn stolen(&self, plate: &str) -> Result<Vec<StolenEntry>> {
        let mut v: Vec<StolenEntry> = self
            .stolen
            .iter()
            .filter(|s| s.record.plate == plate)
            .cloned()
            .collect();
        v.sort_by_key(|e| std::cmp::Reverse(e.record.reported_at));
        Ok(v)
    }
    fn agreements(&self) -> Result<Vec<NetworkAgreement>> {
        Ok(self.agreements.clone())
    }
    fn authorisations(&self, user_id: UserId, plate: &str) -> Result<Vec<Authorisation>> {
        Ok(self
            .authorisations
            .iter()
            .filter(|a| a.requester_user_id == user_id && a.plate == plate && a.status.is_open())
            .cloned()
            .collect())
    }
    fn ended_authorisations(
        &self,
        user_id: UserId,
        plate: &str,
        basis: Basis,
    ) -> Result<Vec<Authorisation>> {
        let mut v: Vec<Authorisation> = self
            .authorisations
            .iter()
            .filter(|a| {
                a.requester_user_id == user_id
                    && a.plate == plate
                    && a.basis == basis
                    && !a.status.is_open()
            })
            .cloned()
            .collect();
        v.sort_by_key(|a| std::cmp::Reverse((a.ended_at, a.id)));
        v.truncate(MAX_ENDED);
        Ok(v)
    }
    fn loaded_by(&self, row: &RowRef) -> Result<Option<RowLoad>> {
        Ok(self.loads.get(row).cloned())
    }
    fn role_changes(&self, user_id: UserId) -> Result<Vec<RoleChange>> {
        Ok(self
            .role_changes
            .get(&user_id)
            .map(|v| v.iter().rev().take(MAX_ROLE_CHANGES).cloned().collect())
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_validate_and_normalise() {
        let v = VehicleRecord {
            plate: " abc-123 ".into(),
            owner_person_id: "P1".into(),
            owner_address_id: "A1".into(),
            make: Some("".into()),
            model: None,
            colour: None,
        }
        .validated()
        .unwrap();
        assert_eq!(v.plate, "ABC123");
        assert_eq!(v.make, None);
        let bad = VehicleRecord {
            plate: "🚗".into(),
            ..v.clone()
        };
        assert_eq!(bad.validated().unwrap_err().field(), "plate");
        let bad = VehicleRecord {
            owner_person_id: " ".into(),
            ..v
        };
        assert_eq!(bad.validated().unwrap_err().field(), "owner_person_id");
    }

    #[test]
    fn incident_assigned_staff_from_json_or_csv_text() {
        let a: IncidentRecord = serde_json::from_str(
            r#"{"file_number":"F1","incident_type":"burglary","district":"Waikato",
                "opened_at":"2026-01-01T00:00:00Z","assigned_staff":["S1","S2"]}"#,
        )
        .unwrap();
        let b: IncidentRecord = serde_json::from_str(
            r#"{"file_number":"F1","incident_type":"burglary","district":"Waikato",
                "opened_at":"2026-01-01T00:00:00Z","assigned_staff":"S1; S2"}"#,
        )
        .unwrap();
        assert_eq!(a.assigned_staff, b.assigned_staff);
    }

    #[test]
    fn who_made_a_change_is_read_from_its_label() {
        let staff = ChangedBy::parse("staff:S1006");
        assert_eq!(staff, ChangedBy::Staff("S1006".into()));
        assert_eq!(staff.staff_id(), Some("S1006"));
        assert_eq!(
            ChangedBy::parse("feed:nzta-mvr"),
            ChangedBy::Feed("nzta-mvr".into())
        );
        for other in ["cli:operator", "test", "staff:", " feed: ", "system"] {
            let by = ChangedBy::parse(other);
            assert!(matches!(by, ChangedBy::Operator(_)), "{other}");
            assert_eq!(by.staff_id(), None);
        }
        for by in [
            ChangedBy::Staff("S1".into()),
            ChangedBy::Feed("hr".into()),
            ChangedBy::Operator("cli:ops".into()),
        ] {
            assert_eq!(ChangedBy::parse(&by.label()), by);
        }
    }

    #[test]
    fn agreements_match_districts_or_everyone() {
        let a = NetworkAgreement {
            network_id: 1,
            search: vec!["Waikato".into()],
            tracking: vec!["*".into()],
            hot_list_alerts: false,
        };
        assert!(a.permits(Use::Search, "waikato"));
        assert!(!a.permits(Use::Search, "Canterbury"));
        assert!(a.permits(Use::Tracking, "Canterbury"));
    }
}

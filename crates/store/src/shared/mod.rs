//! What every backend shares, so that SQLite and PostgreSQL behave alike: the in-memory camera
//! catalog, time conversions, the search plan (pattern → plate ids through the dictionary,
//! place filters → camera ids, cursor paging, hits completed from the catalog), the validation
//! of what is stored, the cache of register facts keyed by member of staff, how a camera's new
//! key ends the keys it replaces; what the usage
//! counts count and which recorded queries touched a plate (`reports`); how integrity cases
//! are read and findings merged (`cases`).

mod cases;
mod reports;

pub(crate) use cases::*;
pub(crate) use reports::*;

use crate::dictionary::{DictionaryError, PlateDictionary};
use crate::{RegisterBatch, Result, SearchHit, StoreError};
use anpr_domain::query::Cursor;
use anpr_domain::{
    Camera, DomainError, Network, NetworkId, PlatePattern, PlateRead, Role, SearchQuery, Site,
};
use anpr_policy::registers::{
    AssociateRecord, ChangedBy, IncidentRecord, NetworkAgreement, RegisterView, RoleChange,
    RowLoad, RowRef, StaffRecord, StolenEntry, StolenRecord, VehicleRecord,
};
use anpr_policy::{Authorisation, PolicyError};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

/// Counts one failed sign-in under a throttle key (`$1`) at `$2`: failures last seen before
/// `$3` are forgotten and counting starts again from one. The statements here are written for
/// PostgreSQL; SQLite runs them through [`numbered_for_sqlite`].
pub(crate) const SQL_RECORD_SIGN_IN_FAILURE: &str = "
    INSERT INTO sign_in_failures (key, failures, last_failure) VALUES ($1, 1, $2)
    ON CONFLICT (key) DO UPDATE SET
        failures = CASE WHEN sign_in_failures.last_failure < $3 THEN 1
                        ELSE sign_in_failures.failures + 1 END,
        last_failure = $2";

/// The allowed data accesses (searches, read and image views, exports) of user `$1` at or
/// after `$2`, and those of them under purpose `$3` at or after `$4` (`$5`: the earlier of the
/// two starts, which the index range uses): what the policy's rate limits count.
pub(crate) const SQL_RECENT_DATA_ACCESSES: &str = "
    SELECT COALESCE(SUM(CASE WHEN at >= $2 THEN 1 ELSE 0 END), 0),
           COALESCE(SUM(CASE WHEN purpose_code = $3 AND at >= $4 THEN 1 ELSE 0 END), 0)
    FROM decisions
    WHERE user_id = $1 AND at >= $5
      AND action IN ('search', 'view_read', 'view_image', 'export')
      AND outcome IN ('allowed', 'allowed_with_limits')";

/// A statement written with PostgreSQL's `$N` parameters, for SQLite: its `?N` means the same
/// (its `$N` is a named parameter numbered by first appearance, not by N).
pub(crate) fn numbered_for_sqlite(sql: &str) -> String {
    sql.replace('$', "?")
}

/// Most distinct plates one search may resolve to. A pattern broader than this is not a
/// targeted search; the user is asked to narrow it.
pub const MAX_PLATES_PER_SEARCH: usize = 5_000;

/// Length of the capture-time bucket: reads are indexed (SQLite) or partitioned (PostgreSQL)
/// by capture day.
pub(crate) const DAY_MS: i64 = 86_400_000;

pub(crate) fn day_of(ms: i64) -> i64 {
    ms.div_euclid(DAY_MS)
}

pub(crate) fn to_ms(t: DateTime<Utc>) -> i64 {
    t.timestamp_millis()
}

pub(crate) fn from_ms(ms: i64) -> DateTime<Utc> {
    Utc.timestamp_millis_opt(ms)
        .single()
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// When each of a camera's live keys (newest first) ends once a new key is added: the newest
/// at `replaced_end` at the latest (the rotation's overlap), any older one at `now`, so that a
/// camera never holds more than two live keys.
pub(crate) fn replaced_ends(
    live: &[crate::CameraKey],
    now: DateTime<Utc>,
    replaced_end: DateTime<Utc>,
) -> Vec<(i64, DateTime<Utc>)> {
    live.iter()
        .enumerate()
        .map(|(i, key)| {
            let end = match i {
                0 => key.expires_at.map_or(replaced_end, |e| e.min(replaced_end)),
                _ => now,
            };
            (key.id, end)
        })
        .collect()
}

/// Which cameras' reads a search may return.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum CameraBound {
    Any,
    /// Every camera with an id up to this one.
    UpTo(i64),
    Only(Vec<i64>),
}

/// The camera catalog, small and read on every search and ingest, so kept in memory.
#[derive(Debug, Clone, Default)]
pub(crate) struct Catalog {
    pub networks: Vec<Network>,
    pub sites: Vec<Site>,
    pub cameras: Vec<Camera>,
}

impl Catalog {
    pub fn site_of_camera(&self, camera_id: i64) -> Option<&Site> {
        let cam = self.cameras.iter().find(|c| c.id == camera_id)?;
        self.sites.iter().find(|s| s.id == cam.site_id)
    }

    pub fn longest_retention_days(&self) -> Option<u32> {
        self.networks.iter().map(|n| n.retention_days).max()
    }

    pub fn network(&self, id: i64) -> Option<&Network> {
        self.networks.iter().find(|n| n.id == id)
    }

    /// Camera ids of one network.
    pub fn cameras_of_network(&self, network: i64) -> Vec<i64> {
        self.cameras
            .iter()
            .filter(|c| {
                self.sites
                    .iter()
                    .any(|s| s.id == c.site_id && s.network_id == network)
            })
            .map(|c| c.id)
            .collect()
    }

    /// Cameras the query's place filters allow; `None` when it has none.
    pub fn camera_filter(&self, q: &SearchQuery) -> Option<Vec<i64>> {
        if q.network_ids.is_empty()
            && q.site_ids.is_empty()
            && q.camera_ids.is_empty()
            && q.area.is_none()
        {
            return None;
        }
        let sites: HashMap<i64, &Site> = self.sites.iter().map(|s| (s.id, s)).collect();
        let cams = self
            .cameras
            .iter()
            .filter(|c| q.camera_ids.is_empty() || q.camera_ids.contains(&c.id))
            .filter(|c| {
                let Some(site) = sites.get(&c.site_id) else {
                    return false;
                };
                (q.site_ids.is_empty() || q.site_ids.contains(&site.id))
                    && (q.network_ids.is_empty() || q.network_ids.contains(&site.network_id))
                    && q.area.is_none_or(|a| a.contains(&site.location))
            })
            .map(|c| c.id)
            .collect();
        Some(cams)
    }

    /// The cameras whose reads older than a time of their own the query must leave out (its
    /// networks' floors: their owners' maximum look-back), with that time in milliseconds.
    pub fn camera_floors(&self, q: &SearchQuery) -> Vec<(i64, i64)> {
        let mut out = Vec::new();
        for (network, floor) in &q.network_floors {
            for cam in self.cameras_of_network(*network) {
                out.push((cam, to_ms(*floor)));
            }
        }
        out
    }

    /// The camera filter as a search states it in SQL. When the query's place filters allow
    /// every camera this catalog knows, a list of all of them would cost the database an
    /// ephemeral index per statement for nothing: `UpTo` bounds the ids instead, which still
    /// leaves out a camera added since this catalog was loaded (ids only grow; cameras are
    /// never deleted), so a network the caller may not search never slips in unseen.
    pub fn camera_bound(&self, q: &SearchQuery) -> CameraBound {
        match self.camera_filter(q) {
            None => CameraBound::Any,
            Some(cams) if !cams.is_empty() && cams.len() == self.cameras.len() => {
                CameraBound::UpTo(self.cameras.iter().map(|c| c.id).max().unwrap_or(0))
            }
            Some(cams) => CameraBound::Only(cams),
        }
    }

    /// A read with where it was seen, as search returns it.
    pub fn hit(&self, read: PlateRead) -> SearchHit {
        let site = self.site_of_camera(read.camera_id);
        let network = site.and_then(|s| self.network(s.network_id));
        SearchHit {
            site_name: site.map(|s| s.name.clone()).unwrap_or_default(),
            site_kind: site.map(|s| s.kind).unwrap_or(anpr_domain::SiteKind::Other),
            network_name: network.map(|n| n.name.clone()).unwrap_or_default(),
            location: site
                .map(|s| s.location)
                .unwrap_or(anpr_domain::GeoPoint { lat: 0.0, lon: 0.0 }),
            district: site.map(|s| s.district.clone()).unwrap_or_default(),
            read,
        }
    }
}

impl From<DictionaryError> for StoreError {
    fn from(e: DictionaryError) -> Self {
        match e {
            DictionaryError::TooManyPlates(n) => StoreError::TooBroad(format!(
                "the plate pattern matches more than {n} distinct plates; add known characters"
            )),
            DictionaryError::TooComplex(m) => StoreError::TooBroad(m),
        }
    }
}

/// The plate ids a query's pattern resolves to, its excluded plates removed: each excluded
/// plate with every plate confusable with it (the same confusion-class key), since a camera's
/// misread of an excluded vehicle is still that vehicle.
pub(crate) fn resolve_plates(dictionary: &PlateDictionary, q: &SearchQuery) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = match &q.plate {
        PlatePattern::Exact(p) => dictionary.get(p.as_str()).into_iter().collect(),
        PlatePattern::Wildcard(w) => dictionary.wildcard(w, MAX_PLATES_PER_SEARCH)?,
        PlatePattern::Fuzzy { plate, max_edits } => {
            dictionary.fuzzy(plate.as_str(), *max_edits, MAX_PLATES_PER_SEARCH)?
        }
    };
    if !q.exclude_plates.is_empty() {
        let mut excluded = std::collections::HashSet::new();
        for plate in &q.exclude_plates {
            excluded.extend(dictionary.get(plate));
            excluded.extend(dictionary.fuzzy(plate, 0, usize::MAX)?);
        }
        ids.retain(|p| !excluded.contains(p));
    }
    Ok(ids)
}

/// Trims a page fetched with one row too many to the query's limit, with the cursor of the
/// next page when there is one.
pub(crate) fn paginate(reads: &mut Vec<PlateRead>, limit: u32) -> Option<String> {
    if reads.len() <= limit as usize {
        return None;
    }
    reads.truncate(limit as usize);
    reads.last().map(|r| {
        Cursor {
            captured_at_ms: to_ms(r.captured_at),
            read_id: r.id,
        }
        .encode()
    })
}

pub(crate) fn non_empty(field: &str, value: &str, max: usize) -> Result<()> {
    let len = value.trim().chars().count();
    if len == 0 || len > max {
        return Err(DomainError::invalid(field, format!("must be 1 to {max} characters")).into());
    }
    Ok(())
}

pub(crate) fn check_retention(retention_days: u32) -> Result<()> {
    if retention_days == 0 || retention_days > 3650 {
        return Err(DomainError::invalid("retention_days", "must be between 1 and 3650").into());
    }
    Ok(())
}

pub(crate) fn check_heading(heading_deg: Option<u16>) -> Result<()> {
    if heading_deg.is_some_and(|h| h >= 360) {
        return Err(DomainError::invalid("heading_deg", "must be below 360").into());
    }
    Ok(())
}

pub(crate) fn check_staff_id(staff_id: &str) -> Result<()> {
    if staff_id.is_empty() || staff_id.len() > 32 {
        return Err(DomainError::invalid("staff_id", "must be 1 to 32 characters").into());
    }
    Ok(())
}

pub(crate) fn check_badge(badge: &Option<String>) -> Result<Option<String>> {
    match badge.as_deref().map(str::trim) {
        None | Some("") => Ok(None),
        Some(b) if b.chars().count() <= 32 && !b.chars().any(char::is_control) => {
            Ok(Some(b.to_string()))
        }
        Some(_) => {
            Err(DomainError::invalid("badge_number", "must be at most 32 characters").into())
        }
    }
}

/// A network's own staff (`network_operator`, `network_auditor`) belong to that network;
/// police staff to none.
/// `field` names what the caller changed (the network on creation, the roles later).
pub(crate) fn check_network_binding(
    roles: &[Role],
    network_id: Option<NetworkId>,
    field: &str,
) -> Result<()> {
    let bound = roles.contains(&Role::NetworkOperator) || roles.contains(&Role::NetworkAuditor);
    if bound != network_id.is_some() {
        return Err(DomainError::invalid(
            field,
            "a `network_operator` or `network_auditor` needs the network they work for, and \
             only they have one",
        )
        .into());
    }
    Ok(())
}

/// Who set a user's roles, as given by the caller: a label of at most 100 characters.
pub(crate) fn check_changed_by(by: Option<&ChangedBy>) -> Result<()> {
    match by {
        Some(by) => check_text("by", &by.label(), 100),
        None => Ok(()),
    }
}

pub(crate) fn roles_to_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
}

/// A network's withheld purpose codes as stored (comma-separated; codes hold no commas).
pub(crate) fn purposes_from_text(s: &str) -> Vec<String> {
    s.split(',')
        .map(str::trim)
        .filter(|p| !p.is_empty())
        .map(str::to_string)
        .collect()
}

pub(crate) fn roles_from_text(s: &str) -> Vec<Role> {
    s.split(',').filter_map(Role::parse).collect()
}

pub(crate) fn check_text(field: &str, v: &str, max: usize) -> Result<()> {
    let n = v.trim().chars().count();
    if n == 0 || n > max || v.chars().any(char::is_control) {
        return Err(DomainError::invalid(field, format!("must be 1 to {max} characters")).into());
    }
    Ok(())
}

pub(crate) fn json<T: Serialize>(v: &T) -> String {
    serde_json::to_string(v).unwrap_or_default()
}

/// What an upsert did to one register row (`Updated` holds the row before, as JSON).
pub(crate) enum Change {
    Inserted,
    Updated(String),
    Unchanged,
}

/// Validates every row first, so a bad row refuses the whole batch naming its index.
pub(crate) fn validate_batch(batch: RegisterBatch) -> Result<RegisterBatch> {
    fn all<T>(
        rows: Vec<T>,
        f: impl Fn(&T) -> std::result::Result<T, DomainError>,
    ) -> Result<Vec<T>> {
        rows.iter()
            .enumerate()
            .map(|(i, r)| f(r).map_err(|e| e.within(&format!("rows[{i}]")).into()))
            .collect()
    }
    Ok(match batch {
        RegisterBatch::Vehicles(v) => RegisterBatch::Vehicles(all(v, VehicleRecord::validated)?),
        RegisterBatch::Staff(v) => RegisterBatch::Staff(all(v, StaffRecord::validated)?),
        RegisterBatch::Associates(v) => {
            RegisterBatch::Associates(all(v, AssociateRecord::validated)?)
        }
        RegisterBatch::Stolen(v) => RegisterBatch::Stolen(all(v, StolenRecord::validated)?),
        RegisterBatch::Incidents(v) => RegisterBatch::Incidents(all(v, IncidentRecord::validated)?),
    })
}

/// An agreement's parties, checked, trimmed, deduplicated and sorted.
pub(crate) fn clean_parties(parties: &[String], field: &str) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for p in parties {
        check_text(field, p, 64)?;
        let p = p.trim().to_string();
        if !out.contains(&p) {
            out.push(p);
        }
    }
    out.sort();
    Ok(out)
}

/// Groups `(network, use, party)` rows, ordered by network, into agreements.
/// The agreement row that lets a network's own staff receive hot-list alerts (its party is
/// the network itself).
pub(crate) const HOT_LIST_USE: &str = "hot_list";

pub(crate) fn group_agreements(
    rows: impl IntoIterator<Item = (i64, String, String)>,
) -> Vec<NetworkAgreement> {
    let mut out: Vec<NetworkAgreement> = Vec::new();
    for (network_id, use_, party) in rows {
        if out.last().is_none_or(|a| a.network_id != network_id) {
            out.push(NetworkAgreement {
                network_id,
                search: vec![],
                tracking: vec![],
                hot_list_alerts: false,
            });
        }
        let a = out.last_mut().expect("pushed above");
        match use_.as_str() {
            "search" => a.search.push(party),
            "tracking" => a.tracking.push(party),
            HOT_LIST_USE => a.hot_list_alerts = true,
            _ => {}
        }
    }
    out
}

/// Register facts by member of staff, for one register version.
#[derive(Default)]
pub(crate) struct RegisterCache {
    version: i64,
    staff: HashMap<String, Option<StaffRecord>>,
    associates: HashMap<String, Vec<AssociateRecord>>,
    vehicles_of: HashMap<String, Vec<VehicleRecord>>,
    agreements: Option<Vec<NetworkAgreement>>,
}

/// Entries kept before the cache starts afresh (a bound, not a working-set size: a national
/// force has about 15,000 staff).
const MAX_CACHED: usize = 100_000;

impl RegisterCache {
    fn len(&self) -> usize {
        self.staff.len() + self.associates.len() + self.vehicles_of.len()
    }
}

/// A register view that answers the lookups every decision repeats for the same member of
/// staff — their staff record, declared associates, the vehicles connected to them — and the
/// sharing agreements from a [`RegisterCache`] valid for one `register_version` (bumped in the
/// same transaction as every register import and agreement change, by any process). The
/// lookups that depend on the request (incident, stolen reports, authorisations) always go to
/// the database.
pub(crate) struct CachedRegisters<'a> {
    db: &'a dyn RegisterView,
    cache: &'a Mutex<RegisterCache>,
}

impl<'a> CachedRegisters<'a> {
    /// Over `db`, with `cache` emptied first if the registers are now at another `version`.
    pub fn new(db: &'a dyn RegisterView, cache: &'a Mutex<RegisterCache>, version: i64) -> Self {
        let mut c = cache.lock().expect("register cache lock");
        if c.version != version || c.len() > MAX_CACHED {
            *c = RegisterCache {
                version,
                ..Default::default()
            };
        }
        drop(c);
        CachedRegisters { db, cache }
    }

    /// The cached value for `key`, or `load`ed and cached.
    fn through<T: Clone>(
        &self,
        pick: impl Fn(&mut RegisterCache) -> &mut HashMap<String, T>,
        key: &str,
        load: impl FnOnce() -> anpr_policy::Result<T>,
    ) -> anpr_policy::Result<T> {
        if let Some(v) = pick(&mut self.cache.lock().expect("register cache lock")).get(key) {
            return Ok(v.clone());
        }
        let v = load()?;
        pick(&mut self.cache.lock().expect("register cache lock"))
            .insert(key.to_string(), v.clone());
        Ok(v)
    }
}

impl RegisterView for CachedRegisters<'_> {
    fn staff(&self, staff_id: &str) -> anpr_policy::Result<Option<StaffRecord>> {
        self.through(|c| &mut c.staff, staff_id, || self.db.staff(staff_id))
    }

    fn associates(&self, staff_id: &str) -> anpr_policy::Result<Vec<AssociateRecord>> {
        self.through(
            |c| &mut c.associates,
            staff_id,
            || self.db.associates(staff_id),
        )
    }

    fn vehicle(&self, plate: &str) -> anpr_policy::Result<Option<VehicleRecord>> {
        self.db.vehicle(plate)
    }

    fn vehicles_of(
        &self,
        person_ids: &[&str],
        address_id: &str,
    ) -> anpr_policy::Result<Vec<VehicleRecord>> {
        // Ids cannot hold control characters, so \u{1f} separates them unambiguously.
        let key = format!("{}\u{1f}{address_id}", person_ids.join("\u{1f}"));
        self.through(
            |c| &mut c.vehicles_of,
            &key,
            || self.db.vehicles_of(person_ids, address_id),
        )
    }

    fn incident(&self, file_number: &str) -> anpr_policy::Result<Option<IncidentRecord>> {
        self.db.incident(file_number)
    }

    fn stolen(&self, plate: &str) -> anpr_policy::Result<Vec<StolenEntry>> {
        self.db.stolen(plate)
    }

    fn agreements(&self) -> anpr_policy::Result<Vec<NetworkAgreement>> {
        if let Some(a) = &self.cache.lock().expect("register cache lock").agreements {
            return Ok(a.clone());
        }
        let a = self.db.agreements()?;
        self.cache.lock().expect("register cache lock").agreements = Some(a.clone());
        Ok(a)
    }

    fn authorisations(
        &self,
        user_id: anpr_domain::UserId,
        plate: &str,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.db.authorisations(user_id, plate)
    }

    fn ended_authorisations(
        &self,
        user_id: anpr_domain::UserId,
        plate: &str,
        basis: anpr_policy::Basis,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.db.ended_authorisations(user_id, plate, basis)
    }

    fn loaded_by(&self, row: &RowRef) -> anpr_policy::Result<Option<RowLoad>> {
        self.db.loaded_by(row)
    }

    /// Never cached: role changes do not bump the register version.
    fn role_changes(&self, user_id: anpr_domain::UserId) -> anpr_policy::Result<Vec<RoleChange>> {
        self.db.role_changes(user_id)
    }
}

/// The query (both dialects, one placeholder written `{p}`) for who last loaded a register row:
/// the row's import and who made it.
pub(crate) fn row_load_sql(row: &RowRef, p: &str) -> String {
    let (table, key) = match row {
        RowRef::Staff(_) => ("reg_staff", "staff_id"),
        RowRef::Vehicle(_) => ("reg_vehicles", "plate"),
        RowRef::Stolen(_) => ("reg_stolen", "id"),
        RowRef::Incident(_) => ("reg_incidents", "file_number"),
    };
    format!(
        "SELECT i.id, i.at, i.imported_by FROM {table} r
         JOIN register_imports i ON i.id = r.import_id WHERE r.{key} = {p}"
    )
}

/// A database error met while looking up a register, as the policy reports it.
pub(crate) fn lookup_error(e: impl std::fmt::Display) -> PolicyError {
    PolicyError::Register(e.to_string())
}

/// The authorisation columns, in the order both backends store and read them.
pub(crate) const AUTH_COLUMNS: &str = "id, kind, plate, requester_user_id, requester_staff_id, \
     district, purpose_code, file_number, justification, basis, stolen_entry_id, \
     approval_reasons, status, requested_at, approval_deadline, duration_minutes, starts_at, \
     expires_at, decided_by_staff_id, decided_at, decision_reason, ended_at, end_reason, renews, \
     lookback_from, fuzzy";

/// The disclosures of one batch, one per (user, read, purpose code, file number), the latest
/// kept: a batch written with `ON CONFLICT DO UPDATE` must not name one row twice.
pub(crate) fn dedup_disclosures(
    mut d: Vec<anpr_policy::Disclosure>,
) -> Vec<anpr_policy::Disclosure> {
    d.retain(|x| x.read_id > 0);
    d.sort_by(|a, b| {
        (a.user_id, a.read_id, &a.purpose_code, &a.file_number, b.at).cmp(&(
            b.user_id,
            b.read_id,
            &b.purpose_code,
            &b.file_number,
            a.at,
        ))
    });
    d.dedup_by(|a, b| {
        a.user_id == b.user_id
            && a.read_id == b.read_id
            && a.purpose_code == b.purpose_code
            && a.file_number == b.file_number
    });
    d
}

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_domain::{GeoPoint, PlatePattern, SiteKind};

    fn catalog() -> Catalog {
        let site = |id, network_id| Site {
            id,
            network_id,
            name: format!("site {id}"),
            kind: SiteKind::FuelStation,
            address: String::new(),
            location: GeoPoint::new(-36.85, 174.76).unwrap(),
            district: "Auckland City".into(),
        };
        let camera = |id, site_id| Camera {
            id,
            site_id,
            name: format!("camera {id}"),
            heading_deg: None,
            active: true,
        };
        Catalog {
            networks: vec![],
            sites: vec![site(1, 10), site(2, 20)],
            cameras: vec![camera(5, 1), camera(7, 2), camera(9, 2)],
        }
    }

    fn query(networks: &[i64]) -> SearchQuery {
        let mut q = SearchQuery::for_plate(PlatePattern::parse("ABC123", None, None).unwrap());
        q.network_ids = networks.to_vec();
        q
    }

    #[test]
    fn a_filter_that_allows_every_known_camera_bounds_the_ids_instead_of_listing_them() {
        let c = catalog();
        assert_eq!(c.camera_bound(&query(&[])), CameraBound::Any);
        // Every camera this catalog knows: cameras added later (higher ids) stay out.
        assert_eq!(c.camera_bound(&query(&[10, 20])), CameraBound::UpTo(9));
        assert_eq!(c.camera_bound(&query(&[20])), CameraBound::Only(vec![7, 9]));
        assert_eq!(c.camera_bound(&query(&[30])), CameraBound::Only(vec![]));
    }
}

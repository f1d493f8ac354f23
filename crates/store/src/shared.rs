//! What every backend shares, so that SQLite and PostgreSQL behave alike: the in-memory camera
//! catalog, time conversions, the search plan (pattern → plate ids through the dictionary,
//! place filters → camera ids, cursor paging, hits completed from the catalog), the validation
//! of what is stored, the cache of register facts keyed by member of staff, what the usage
//! counts count and which recorded queries touched a plate, and how integrity cases are read
//! and findings merged.

use crate::dictionary::{edit_distance_within, DictionaryError, PlateDictionary};
use crate::{RegisterBatch, Result, SearchHit, StoreError};
use anpr_domain::confusion::class_key;
use anpr_domain::query::{wildcard_matches, Cursor};
use anpr_domain::{
    Camera, DomainError, Network, NetworkId, PlatePattern, PlateRead, Role, SearchQuery, Site,
};
use anpr_integrity::review::{Case, CaseOutcome, CaseQueue, CaseStatus, StoredFinding};
use anpr_integrity::{Finding, Rule, Severity};
use anpr_policy::registers::{
    AssociateRecord, IncidentRecord, NetworkAgreement, RegisterView, StaffRecord, StolenEntry,
    StolenRecord, VehicleRecord,
};
use anpr_policy::{Authorisation, PolicyError};
use anpr_reports::{Grouping, Measure, Measures, UsageCounts, UsageRow};
use chrono::{DateTime, TimeZone, Utc};
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Mutex;

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
        let cams = self
            .cameras
            .iter()
            .filter(|c| q.camera_ids.is_empty() || q.camera_ids.contains(&c.id))
            .filter(|c| {
                let Some(site) = self.sites.iter().find(|s| s.id == c.site_id) else {
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

/// The plate ids a query's pattern resolves to, its excluded plates removed.
pub(crate) fn resolve_plates(dictionary: &PlateDictionary, q: &SearchQuery) -> Result<Vec<i64>> {
    let mut ids: Vec<i64> = match &q.plate {
        PlatePattern::Exact(p) => dictionary.get(p.as_str()).into_iter().collect(),
        PlatePattern::Wildcard(w) => dictionary.wildcard(w, MAX_PLATES_PER_SEARCH)?,
        PlatePattern::Fuzzy { plate, max_edits } => {
            dictionary.fuzzy(plate.as_str(), *max_edits, MAX_PLATES_PER_SEARCH)?
        }
    };
    for excluded in &q.exclude_plates {
        if let Some(id) = dictionary.get(excluded) {
            ids.retain(|p| *p != id);
        }
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

/// A network's own staff (`network_operator`) belong to that network; police staff to none.
/// `field` names what the caller changed (the network on creation, the roles later).
pub(crate) fn check_network_binding(
    roles: &[Role],
    network_id: Option<NetworkId>,
    field: &str,
) -> Result<()> {
    if roles.contains(&Role::NetworkOperator) != network_id.is_some() {
        return Err(DomainError::invalid(
            field,
            "a `network_operator` needs the network they work for, and only they have one",
        )
        .into());
    }
    Ok(())
}

pub(crate) fn roles_to_text(roles: &[Role]) -> String {
    roles
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(",")
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

/// What each decision count of the usage report counts, as a condition on the `decisions` row
/// `d` that both SQL dialects read alike, so that the backends cannot count differently; each
/// backend only adds up the rows that meet it in its own syntax.
pub(crate) const DECISION_COUNTS: [(Measure, &str); 8] = [
    (
        Measure::Searches,
        "d.action = 'search' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (
        Measure::ReadViews,
        "d.action = 'view_read' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (
        Measure::ImageViews,
        "d.action = 'view_image' AND d.outcome IN ('allowed', 'allowed_with_limits')",
    ),
    (Measure::TrackingRequests, "d.action = 'tracking_request'"),
    (
        Measure::TrackingApprovals,
        "d.action = 'tracking_approve' AND d.outcome = 'allowed'",
    ),
    // A request the policy refused outright never reaches a supervisor, but is a refusal all
    // the same.
    (
        Measure::TrackingRefusals,
        "(d.action = 'tracking_refuse' AND d.outcome = 'allowed') \
         OR (d.action = 'tracking_request' AND d.outcome = 'refused')",
    ),
    (Measure::DeniedAttempts, "d.outcome = 'refused'"),
    (
        Measure::OwnVehicleBlocks,
        "d.outcome = 'refused' AND d.refusal_code = 'own_vehicle'",
    ),
];

/// The group key of decision counts (over `decisions d`) and the join it needs. A decision
/// reaching several networks is counted once under each.
pub(crate) fn decision_group(by: Grouping) -> (&'static str, &'static str) {
    match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(d.district, '')", ""),
        Grouping::Purpose => ("NULLIF(d.purpose_code, '')", ""),
        Grouping::Network => (
            "n.name",
            "LEFT JOIN decision_networks dn ON dn.decision_id = d.id \
             LEFT JOIN networks n ON n.id = dn.network_id",
        ),
    }
}

/// The group key of alert counts (over `alerts a`) and the join it needs: an alert's purpose
/// is its authorisation's (a hot-list alert has none).
pub(crate) fn alert_group(by: Grouping) -> (&'static str, &'static str) {
    match by {
        Grouping::Month => ("NULL", ""),
        Grouping::District => ("NULLIF(a.district, '')", ""),
        Grouping::Purpose => (
            "NULLIF(au.purpose_code, '')",
            "LEFT JOIN authorisations au ON au.id = a.authorisation_id",
        ),
        Grouping::Network => ("n.name", "LEFT JOIN networks n ON n.id = a.network_id"),
    }
}

/// The group key of finding counts (over `integrity_cases`): a finding is about a member of
/// staff, so it has a district but no purpose or network.
pub(crate) fn finding_group(by: Grouping) -> &'static str {
    match by {
        Grouping::District => "NULLIF(district, '')",
        _ => "NULL",
    }
}

/// A partial usage row whose `values[i]` counts `measures[i]`; other measures are 0.
pub(crate) fn usage_row(
    period: Option<String>,
    group: Option<String>,
    measures: &[Measure],
    values: &[Option<i64>],
) -> UsageRow {
    let counts: UsageCounts = Measures::from_fn(|m| {
        measures
            .iter()
            .position(|x| *x == m)
            .and_then(|i| values.get(i).copied().flatten())
            .unwrap_or(0)
            .max(0) as u64
    });
    UsageRow {
        period: period.unwrap_or_default(),
        group,
        counts,
    }
}

/// `LIKE` patterns (no escape character) that a view of one of `plate`'s reads and a look-back
/// for it match, so that a backend can narrow the decisions to those [`target_touches`] may
/// accept before it decides.
pub(crate) fn plate_target_likes(plate: &str) -> (String, String) {
    (format!("read % ({plate})"), format!("{plate} from %"))
}

/// Whether a decision's target (as `anpr-policy` writes it) is about `plate`.
pub(crate) fn target_touches(target: &str, plate: &str) -> bool {
    if target == plate {
        return true;
    }
    if let Some(rest) = target.strip_prefix("read ") {
        return rest.ends_with(&format!(" ({plate})"));
    }
    if let Some(date) = target.strip_prefix(plate) {
        if date.starts_with(" from ") {
            return true;
        }
    }
    if let Some((pattern, edits)) = target.split_once('~') {
        return edits
            .parse::<usize>()
            .is_ok_and(|n| edit_distance_within(&class_key(pattern), &class_key(plate), n));
    }
    target.contains(['?', '*']) && wildcard_matches(target, plate)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn targets_touch_the_plates_they_name_or_match() {
        assert!(target_touches("ABC123", "ABC123"));
        assert!(!target_touches("ABC12", "ABC123"));
        assert!(target_touches("read 17 (ABC123)", "ABC123"));
        assert!(!target_touches("read 17 (XABC123)", "ABC123"));
        assert!(!target_touches("read 17 (not found)", "ABC123"));
        assert!(target_touches("ABC123 from 2026-01-01", "ABC123"));
        assert!(target_touches("AB?12*", "ABC123"));
        assert!(!target_touches("AB?13*", "ABC123"));
        // 0/O and 8/B are confusable: a fuzzy search for A8C1Z3~0 touches ABC123 only if Z~2.
        assert!(target_touches("A8C123~0", "ABC123"));
        assert!(target_touches("ABX123~1", "ABC123"));
        assert!(!target_touches("XYZ999~1", "ABC123"));
    }

    #[test]
    fn a_usage_row_holds_its_measures_and_zero_for_the_rest() {
        let r = usage_row(
            Some("2026-10".into()),
            None,
            &[Measure::Searches, Measure::Alerts, Measure::ReadViews],
            &[Some(3), None, Some(-1)],
        );
        assert_eq!(r.period, "2026-10");
        assert_eq!(r.counts.searches, 3);
        assert_eq!(r.counts.alerts, 0);
        assert_eq!(r.counts.read_views, 0);
        assert_eq!(usage_row(None, None, &[], &[]).period, "");
/// The columns of a case joined with its finding (`c`, `f`), in the order both backends read
/// them into a [`CaseRow`].
pub(crate) const CASE_COLUMNS: &str = "c.id, c.queue, c.status, c.staff_id, c.district, \
     c.assigned_to, c.explanation_request, c.explanation, c.explained_at, c.outcome, \
     c.closing_note, c.closed_by, c.closed_at, c.opened_at, c.updated_at, f.id, f.rule, \
     f.severity, f.key, f.evidence, f.uses, f.explanation, f.first_at, f.last_at";

/// Most cases one listing returns.
pub(crate) const MAX_CASES: u32 = 1000;

/// A case and its finding as stored ([`CASE_COLUMNS`]), the enumerations and evidence still
/// text: both backends parse them here, so that a value this build does not know is refused
/// alike.
pub(crate) struct CaseRow {
    pub id: i64,
    pub queue: String,
    pub status: String,
    pub staff_id: String,
    pub district: Option<String>,
    pub assigned_to: Option<String>,
    pub explanation_request: Option<String>,
    pub explanation: Option<String>,
    pub explained_at: Option<i64>,
    pub outcome: Option<String>,
    pub closing_note: Option<String>,
    pub closed_by: Option<String>,
    pub closed_at: Option<i64>,
    pub opened_at: i64,
    pub updated_at: i64,
    pub finding_id: i64,
    pub rule: String,
    pub severity: String,
    pub key: String,
    pub evidence: String,
    pub uses: i64,
    pub finding_explanation: String,
    pub first_at: i64,
    pub last_at: i64,
}

impl CaseRow {
    /// The case, or the column and the value in it that is not known.
    pub fn parse(self) -> std::result::Result<Case, (&'static str, String)> {
        fn known<T>(
            column: &'static str,
            value: String,
            parse: impl FnOnce(&str) -> Option<T>,
        ) -> std::result::Result<T, (&'static str, String)> {
            parse(&value).ok_or((column, value))
        }
        Ok(Case {
            id: self.id,
            queue: known("queue", self.queue, CaseQueue::parse)?,
            status: known("status", self.status, CaseStatus::parse)?,
            staff_id: self.staff_id.clone(),
            district: self.district,
            assigned_to: self.assigned_to,
            explanation_request: self.explanation_request,
            explanation: self.explanation,
            explained_at: self.explained_at.map(from_ms),
            outcome: self
                .outcome
                .map(|o| known("outcome", o, CaseOutcome::parse))
                .transpose()?,
            closing_note: self.closing_note,
            closed_by: self.closed_by,
            closed_at: self.closed_at.map(from_ms),
            opened_at: from_ms(self.opened_at),
            updated_at: from_ms(self.updated_at),
            finding: StoredFinding {
                id: self.finding_id,
                finding: Finding {
                    rule: known("rule", self.rule, Rule::parse)?,
                    severity: known("severity", self.severity, Severity::parse)?,
                    staff_id: self.staff_id,
                    key: self.key,
                    evidence: serde_json::from_str(&self.evidence)
                        .map_err(|_| ("evidence", self.evidence.clone()))?,
                    uses: self.uses as u64,
                    explanation: self.finding_explanation,
                    first_at: from_ms(self.first_at),
                    last_at: from_ms(self.last_at),
                },
            },
        })
    }
}

/// A finding's evidence as stored: a JSON array of ledger indices.
pub(crate) fn evidence_json(evidence: &[u64]) -> Result<String> {
    serde_json::to_string(evidence).map_err(|e| StoreError::Task(e.to_string()))
}

/// What is stored of a finding that a later run finds again.
pub(crate) struct KnownFinding {
    pub severity: String,
    pub evidence: String,
    pub uses: i64,
    pub first_at: i64,
    pub last_at: i64,
}

/// A known finding merged with a new sighting of it, as it is to be stored.
pub(crate) struct MergedFinding {
    pub severity: Severity,
    pub evidence: String,
    pub uses: i64,
    pub first_at: i64,
    pub last_at: i64,
}

impl KnownFinding {
    pub fn merge(self, f: &Finding) -> Result<MergedFinding> {
        // An incremental run sees only its window: the evidence is merged with what earlier
        // runs stored, never replaced.
        let mut merged: Vec<u64> = serde_json::from_str(&self.evidence).unwrap_or_default();
        merged.extend(&f.evidence);
        merged.sort_unstable();
        merged.dedup();
        merged.truncate(anpr_integrity::MAX_EVIDENCE);
        let severity = Severity::parse(&self.severity)
            .unwrap_or(f.severity)
            .max(f.severity);
        let uses = (self.uses as u64).max(f.uses).max(merged.len() as u64);
        Ok(MergedFinding {
            severity,
            evidence: evidence_json(&merged)?,
            uses: uses as i64,
            first_at: self.first_at.min(to_ms(f.first_at)),
            last_at: self.last_at.max(to_ms(f.last_at)),
        })
    }
}

//! What the access policy reads and writes on PostgreSQL: the registers (with their change
//! log), network sharing agreements, authorisations and decision records.
//!
//! The policy's `RegisterView` is synchronous, so [`PgRegisters`] runs on the blocking pool and
//! waits there on each indexed point query; facts keyed by member of staff are cached for one
//! register version exactly as in the SQLite store ([`CachedRegisters`]).

use super::changes::{self, notify};
use super::{Client, Inner, PgStore};
use crate::shared::{
    check_text, clean_parties, from_ms, group_agreements, json, lookup_error, roles_from_text,
    row_load_sql, to_ms, validate_batch, CachedRegisters, Change, AUTH_COLUMNS, HOT_LIST_USE,
};
use crate::{
    AuthorisationFilter, FactsRequest, ImportReport, ImportSource, RegisterBatch, RegisterKind,
    Result, StoreError,
};
use anpr_domain::UserId;
use anpr_policy::registers::{
    gather, AccessFacts, AssociateRecord, ChangedBy, IncidentRecord, NetworkAgreement,
    RegisterView, RoleChange, RowLoad, RowRef, StaffRecord, StolenEntry, StolenRecord,
    StolenStatus, VehicleRecord, MAX_ENDED, MAX_ROLE_CHANGES,
};
use anpr_policy::{
    AuthStatus, Authorisation, AuthorisationKind, Basis, Decision, DecisionAction, DecisionOutcome,
    DecisionRecorder, PolicyError,
};
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use std::collections::HashMap;
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

type Param = Box<dyn ToSql + Sync + Send>;

const VEHICLE_COLUMNS: &str = "plate, owner_person_id, owner_address_id, make, model, colour";
const STOLEN_COLUMNS: &str = "id, plate, file_number, reported_at, complainant_person_id, \
    recorded_by_staff_id, status, cancelled_at";
const INCIDENT_COLUMNS: &str =
    "file_number, incident_type, district, opened_at, closed_at, assigned_staff";

fn vehicle_from_row(r: &Row) -> VehicleRecord {
    VehicleRecord {
        plate: r.get(0),
        owner_person_id: r.get(1),
        owner_address_id: r.get(2),
        make: r.get(3),
        model: r.get(4),
        colour: r.get(5),
    }
}

fn stolen_from_row(r: &Row) -> StolenEntry {
    let status: String = r.get(6);
    StolenEntry {
        id: r.get(0),
        record: StolenRecord {
            plate: r.get(1),
            file_number: r.get(2),
            reported_at: from_ms(r.get(3)),
            complainant_person_id: r.get(4),
            recorded_by_staff_id: r.get(5),
            // An unknown status is treated as not active: it never grants tracking.
            status: StolenStatus::parse(&status).unwrap_or(StolenStatus::Cancelled),
            cancelled_at: r.get::<_, Option<i64>>(7).map(from_ms),
        },
    }
}

pub(super) fn incident_from_row(r: &Row) -> IncidentRecord {
    let assigned: String = r.get(5);
    IncidentRecord {
        file_number: r.get(0),
        incident_type: r.get(1),
        district: r.get(2),
        opened_at: from_ms(r.get(3)),
        closed_at: r.get::<_, Option<i64>>(4).map(from_ms),
        assigned_staff: assigned
            .split(';')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    }
}

fn bad_value(what: &str, v: &str) -> StoreError {
    StoreError::Schema(format!("unknown {what} {v:?} in the database"))
}

fn auth_from_row(r: &Row) -> Result<Authorisation> {
    let ms = |i: usize| r.get::<_, Option<i64>>(i).map(from_ms);
    let kind: String = r.get(1);
    let basis: String = r.get(9);
    let status: String = r.get(12);
    let reasons: String = r.get(11);
    Ok(Authorisation {
        id: r.get(0),
        kind: AuthorisationKind::parse(&kind).ok_or_else(|| bad_value("kind", &kind))?,
        plate: r.get(2),
        requester_user_id: r.get(3),
        requester_staff_id: r.get(4),
        district: r.get(5),
        purpose_code: r.get(6),
        file_number: r.get(7),
        justification: r.get(8),
        basis: Basis::parse(&basis).ok_or_else(|| bad_value("basis", &basis))?,
        stolen_entry_id: r.get(10),
        approval_reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        status: AuthStatus::parse(&status).ok_or_else(|| bad_value("status", &status))?,
        requested_at: from_ms(r.get(13)),
        approval_deadline: ms(14),
        duration_minutes: r.get::<_, i64>(15) as u32,
        starts_at: ms(16),
        expires_at: ms(17),
        decided_by_staff_id: r.get(18),
        decided_at: ms(19),
        decision_reason: r.get(20),
        ended_at: ms(21),
        end_reason: r.get(22),
        renews: r.get(23),
        lookback_from: ms(24),
        fuzzy: r.get(25),
    })
}

fn auth_params(a: &Authorisation) -> Vec<Param> {
    let t = |v: Option<DateTime<Utc>>| -> Param { Box::new(v.map(to_ms)) };
    vec![
        Box::new(a.kind.as_str().to_string()),
        Box::new(a.plate.clone()),
        Box::new(a.requester_user_id),
        Box::new(a.requester_staff_id.clone()),
        Box::new(a.district.clone()),
        Box::new(a.purpose_code.clone()),
        Box::new(a.file_number.clone()),
        Box::new(a.justification.clone()),
        Box::new(a.basis.as_str().to_string()),
        Box::new(a.stolen_entry_id),
        Box::new(json(&a.approval_reasons)),
        Box::new(a.status.as_str().to_string()),
        Box::new(to_ms(a.requested_at)),
        t(a.approval_deadline),
        Box::new(a.duration_minutes as i64),
        t(a.starts_at),
        t(a.expires_at),
        Box::new(a.decided_by_staff_id.clone()),
        t(a.decided_at),
        Box::new(a.decision_reason.clone()),
        t(a.ended_at),
        Box::new(a.end_reason.clone()),
        Box::new(a.renews),
        t(a.lookback_from),
        Box::new(a.fuzzy),
    ]
}

/// Appends the change feed's channel and the authorisation payload as the last two
/// parameters, for a statement that announces the authorisation it writes.
fn with_announcement(mut params: Vec<Param>) -> Vec<Param> {
    params.push(Box::new(changes::CHANNEL));
    params.push(Box::new(changes::AUTHORISATION));
    params
}

fn refs(params: &[Param]) -> Vec<&(dyn ToSql + Sync)> {
    params
        .iter()
        .map(|p| p.as_ref() as &(dyn ToSql + Sync))
        .collect()
}

async fn authorisation(c: &impl GenericClient, id: i64) -> Result<Option<Authorisation>> {
    let stmt = c
        .prepare_cached(&format!(
            "SELECT {AUTH_COLUMNS} FROM authorisations WHERE id = $1"
        ))
        .await?;
    c.query_opt(&stmt, &[&id])
        .await?
        .map(|r| auth_from_row(&r))
        .transpose()
}

async fn load_agreements(c: &impl GenericClient) -> Result<Vec<NetworkAgreement>> {
    let rows = c
        .query(
            "SELECT network_id, \"use\", party FROM network_agreements
             ORDER BY network_id, \"use\", party",
            &[],
        )
        .await?;
    Ok(group_agreements(
        rows.iter().map(|r| (r.get(0), r.get(1), r.get(2))),
    ))
}

/// The registers as the policy sees them, through one pooled connection, uncached. Every
/// method waits on the runtime: call it on the blocking pool.
pub(crate) struct PgRegisters<'a> {
    client: &'a Client,
    runtime: &'a tokio::runtime::Handle,
}

impl PgRegisters<'_> {
    fn wait<T>(&self, f: impl std::future::Future<Output = Result<T>>) -> anpr_policy::Result<T> {
        self.runtime.block_on(f).map_err(lookup_error)
    }
}

impl RegisterView for PgRegisters<'_> {
    fn staff(&self, staff_id: &str) -> anpr_policy::Result<Option<StaffRecord>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(
                    "SELECT staff_id, person_id, home_address_id, team FROM reg_staff
                     WHERE staff_id = $1",
                )
                .await?;
            Ok(self
                .client
                .query_opt(&stmt, &[&staff_id])
                .await?
                .map(|r| StaffRecord {
                    staff_id: r.get(0),
                    person_id: r.get(1),
                    home_address_id: r.get(2),
                    team: r.get(3),
                }))
        })
    }

    fn associates(&self, staff_id: &str) -> anpr_policy::Result<Vec<AssociateRecord>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(
                    "SELECT staff_id, person_id, relationship FROM reg_associates
                     WHERE staff_id = $1 ORDER BY person_id",
                )
                .await?;
            Ok(self
                .client
                .query(&stmt, &[&staff_id])
                .await?
                .iter()
                .map(|r| AssociateRecord {
                    staff_id: r.get(0),
                    person_id: r.get(1),
                    relationship: r.get(2),
                })
                .collect())
        })
    }

    fn vehicle(&self, plate: &str) -> anpr_policy::Result<Option<VehicleRecord>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {VEHICLE_COLUMNS} FROM reg_vehicles WHERE plate = $1"
                ))
                .await?;
            Ok(self
                .client
                .query_opt(&stmt, &[&plate])
                .await?
                .map(|r| vehicle_from_row(&r)))
        })
    }

    fn vehicles_of(
        &self,
        person_ids: &[&str],
        address_id: &str,
    ) -> anpr_policy::Result<Vec<VehicleRecord>> {
        self.wait(async {
            let by_person = self
                .client
                .prepare_cached(&format!(
                    "SELECT {VEHICLE_COLUMNS} FROM reg_vehicles WHERE owner_person_id = $1
                     ORDER BY plate"
                ))
                .await?;
            let by_address = self
                .client
                .prepare_cached(&format!(
                    "SELECT {VEHICLE_COLUMNS} FROM reg_vehicles WHERE owner_address_id = $1
                     ORDER BY plate"
                ))
                .await?;
            let mut out = Vec::new();
            for p in person_ids {
                for r in self.client.query(&by_person, &[p]).await? {
                    out.push(vehicle_from_row(&r));
                }
            }
            for r in self.client.query(&by_address, &[&address_id]).await? {
                out.push(vehicle_from_row(&r));
            }
            Ok(out)
        })
    }

    fn incident(&self, file_number: &str) -> anpr_policy::Result<Option<IncidentRecord>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {INCIDENT_COLUMNS} FROM reg_incidents WHERE file_number = $1"
                ))
                .await?;
            Ok(self
                .client
                .query_opt(&stmt, &[&file_number])
                .await?
                .map(|r| incident_from_row(&r)))
        })
    }

    fn incidents(&self, file_numbers: &[&str]) -> anpr_policy::Result<Vec<IncidentRecord>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {INCIDENT_COLUMNS} FROM reg_incidents WHERE file_number = ANY($1)"
                ))
                .await?;
            Ok(self
                .client
                .query(&stmt, &[&file_numbers])
                .await?
                .iter()
                .map(incident_from_row)
                .collect())
        })
    }

    fn stolen(&self, plate: &str) -> anpr_policy::Result<Vec<StolenEntry>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {STOLEN_COLUMNS} FROM reg_stolen WHERE plate = $1
                     ORDER BY reported_at DESC"
                ))
                .await?;
            Ok(self
                .client
                .query(&stmt, &[&plate])
                .await?
                .iter()
                .map(stolen_from_row)
                .collect())
        })
    }

    fn agreements(&self) -> anpr_policy::Result<Vec<NetworkAgreement>> {
        self.wait(load_agreements(self.client))
    }

    fn authorisations(
        &self,
        user_id: UserId,
        plate: &str,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {AUTH_COLUMNS} FROM authorisations
                     WHERE plate = $1 AND requester_user_id = $2
                       AND status IN ('pending', 'active') ORDER BY id"
                ))
                .await?;
            self.client
                .query(&stmt, &[&plate, &user_id])
                .await?
                .iter()
                .map(auth_from_row)
                .collect()
        })
    }

    fn ended_authorisations(
        &self,
        user_id: UserId,
        plate: &str,
        basis: Basis,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(&format!(
                    "SELECT {AUTH_COLUMNS} FROM authorisations
                     WHERE plate = $1 AND requester_user_id = $2 AND basis = $3
                       AND status NOT IN ('pending', 'active')
                     ORDER BY ended_at DESC NULLS LAST, id DESC LIMIT $4"
                ))
                .await?;
            self.client
                .query(
                    &stmt,
                    &[&plate, &user_id, &basis.as_str(), &(MAX_ENDED as i64)],
                )
                .await?
                .iter()
                .map(auth_from_row)
                .collect()
        })
    }

    fn loaded_by(&self, row: &RowRef) -> anpr_policy::Result<Option<RowLoad>> {
        self.wait(async {
            let stmt = self.client.prepare_cached(&row_load_sql(row, "$1")).await?;
            let found = match row {
                RowRef::Staff(k) | RowRef::Vehicle(k) | RowRef::Incident(k) => {
                    self.client.query_opt(&stmt, &[k]).await?
                }
                RowRef::Stolen(id) => self.client.query_opt(&stmt, &[id]).await?,
            };
            Ok(found.map(|r| RowLoad {
                import_id: r.get(0),
                at: from_ms(r.get(1)),
                by: ChangedBy::parse(r.get(2)),
            }))
        })
    }

    fn role_changes(&self, user_id: UserId) -> anpr_policy::Result<Vec<RoleChange>> {
        self.wait(async {
            let stmt = self
                .client
                .prepare_cached(
                    "SELECT roles, set_by, at FROM user_role_changes WHERE user_id = $1
                     ORDER BY id DESC LIMIT $2",
                )
                .await?;
            Ok(self
                .client
                .query(&stmt, &[&user_id, &(MAX_ROLE_CHANGES as i64)])
                .await?
                .iter()
                .map(|r| RoleChange {
                    roles: roles_from_text(r.get(0)),
                    set_by: r.get::<_, Option<&str>>(1).map(ChangedBy::parse),
                    at: from_ms(r.get(2)),
                })
                .collect())
        })
    }
}

impl Inner {
    /// Runs `f` over the cached registers. Blocking: call it on the blocking pool.
    fn with_registers_blocking<T>(&self, f: impl FnOnce(&dyn RegisterView) -> T) -> Result<T> {
        let client = self.runtime.block_on(self.client())?;
        let version: i64 = self
            .runtime
            .block_on(client.query_one("SELECT version FROM register_version WHERE id = 1", &[]))?
            .get(0);
        let db = PgRegisters {
            client: &client,
            runtime: &self.runtime,
        };
        Ok(f(&CachedRegisters::new(&db, &self.register_cache, version)))
    }
}

/// Logs what an upsert did, counting it in the report.
struct ChangeLog {
    import: i64,
    keys: Vec<String>,
    changes: Vec<&'static str>,
    befores: Vec<Option<String>>,
}

impl ChangeLog {
    fn note(&mut self, report: &mut ImportReport, key: String, change: Change) {
        let (kind, before) = match change {
            Change::Inserted => {
                report.inserted += 1;
                ("insert", None)
            }
            Change::Updated(before) => {
                report.updated += 1;
                ("update", Some(before))
            }
            Change::Unchanged => {
                report.unchanged += 1;
                return;
            }
        };
        self.keys.push(key);
        self.changes.push(kind);
        self.befores.push(before);
    }

    async fn write(self, tx: &deadpool_postgres::Transaction<'_>) -> Result<()> {
        if self.keys.is_empty() {
            return Ok(());
        }
        tx.execute(
            "INSERT INTO register_changes (import_id, key, change, before)
             SELECT $1, * FROM unnest($2::text[], $3::text[], $4::text[])",
            &[&self.import, &self.keys, &self.changes, &self.befores],
        )
        .await?;
        Ok(())
    }
}

/// Upserts motor vehicle rows in bulk (the register has millions): the rows already stored are
/// fetched in one query, compared in memory, and the changed ones written in one statement.
async fn upsert_vehicles(
    tx: &deadpool_postgres::Transaction<'_>,
    import: i64,
    rows: &[VehicleRecord],
    log: &mut ChangeLog,
    report: &mut ImportReport,
) -> Result<()> {
    let plates: Vec<&str> = rows.iter().map(|v| v.plate.as_str()).collect();
    let mut stored: HashMap<String, VehicleRecord> = tx
        .query(
            &format!("SELECT {VEHICLE_COLUMNS} FROM reg_vehicles WHERE plate = ANY($1)"),
            &[&plates],
        )
        .await?
        .iter()
        .map(|r| {
            let v = vehicle_from_row(r);
            (v.plate.clone(), v)
        })
        .collect();
    // The final state of each changed plate, in first-seen order.
    let mut order: Vec<String> = Vec::new();
    let mut changed: HashMap<String, VehicleRecord> = HashMap::new();
    for v in rows {
        let change = match stored.get(&v.plate) {
            Some(o) if o == v => Change::Unchanged,
            Some(o) => Change::Updated(json(o)),
            None => Change::Inserted,
        };
        if !matches!(change, Change::Unchanged) {
            if !changed.contains_key(&v.plate) {
                order.push(v.plate.clone());
            }
            changed.insert(v.plate.clone(), v.clone());
            stored.insert(v.plate.clone(), v.clone());
        }
        log.note(report, v.plate.clone(), change);
    }
    if order.is_empty() {
        return Ok(());
    }
    let col = |f: fn(&VehicleRecord) -> Option<String>| -> Vec<Option<String>> {
        order.iter().map(|p| f(&changed[p])).collect()
    };
    let person = col(|v| Some(v.owner_person_id.clone()));
    let address = col(|v| Some(v.owner_address_id.clone()));
    let make = col(|v| v.make.clone());
    let model = col(|v| v.model.clone());
    let colour = col(|v| v.colour.clone());
    tx.execute(
        "INSERT INTO reg_vehicles (plate, owner_person_id, owner_address_id, make, model, colour,
             import_id)
         SELECT p, o, a, m, mo, c, $7 FROM unnest($1::text[], $2::text[], $3::text[], $4::text[],
             $5::text[], $6::text[]) AS u(p, o, a, m, mo, c)
         ON CONFLICT (plate) DO UPDATE SET owner_person_id = EXCLUDED.owner_person_id,
             owner_address_id = EXCLUDED.owner_address_id, make = EXCLUDED.make,
             model = EXCLUDED.model, colour = EXCLUDED.colour, import_id = EXCLUDED.import_id",
        &[&order, &person, &address, &make, &model, &colour, &import],
    )
    .await?;
    Ok(())
}

async fn upsert_staff(
    tx: &deadpool_postgres::Transaction<'_>,
    import: i64,
    s: &StaffRecord,
) -> Result<Change> {
    let old = tx
        .query_opt(
            "SELECT staff_id, person_id, home_address_id, team FROM reg_staff WHERE staff_id = $1",
            &[&s.staff_id],
        )
        .await?
        .map(|r| StaffRecord {
            staff_id: r.get(0),
            person_id: r.get(1),
            home_address_id: r.get(2),
            team: r.get(3),
        });
    if old.as_ref() == Some(s) {
        return Ok(Change::Unchanged);
    }
    tx.execute(
        "INSERT INTO reg_staff (staff_id, person_id, home_address_id, team, import_id)
         VALUES ($1, $2, $3, $4, $5)
         ON CONFLICT (staff_id) DO UPDATE SET person_id = EXCLUDED.person_id,
             home_address_id = EXCLUDED.home_address_id, team = EXCLUDED.team,
             import_id = EXCLUDED.import_id",
        &[
            &s.staff_id,
            &s.person_id,
            &s.home_address_id,
            &s.team,
            &import,
        ],
    )
    .await?;
    Ok(match old {
        Some(o) => Change::Updated(json(&o)),
        None => Change::Inserted,
    })
}

async fn upsert_associate(
    tx: &deadpool_postgres::Transaction<'_>,
    import: i64,
    a: &AssociateRecord,
) -> Result<Change> {
    let old: Option<Option<String>> = tx
        .query_opt(
            "SELECT relationship FROM reg_associates WHERE staff_id = $1 AND person_id = $2",
            &[&a.staff_id, &a.person_id],
        )
        .await?
        .map(|r| r.get(0));
    if old.as_ref() == Some(&a.relationship) {
        return Ok(Change::Unchanged);
    }
    tx.execute(
        "INSERT INTO reg_associates (staff_id, person_id, relationship, import_id)
         VALUES ($1, $2, $3, $4)
         ON CONFLICT (staff_id, person_id) DO UPDATE SET relationship = EXCLUDED.relationship,
             import_id = EXCLUDED.import_id",
        &[&a.staff_id, &a.person_id, &a.relationship, &import],
    )
    .await?;
    Ok(match old {
        Some(rel) => Change::Updated(json(&AssociateRecord {
            relationship: rel,
            ..a.clone()
        })),
        None => Change::Inserted,
    })
}

async fn upsert_incident(
    tx: &deadpool_postgres::Transaction<'_>,
    import: i64,
    i: &IncidentRecord,
) -> Result<Change> {
    let old = tx
        .query_opt(
            &format!("SELECT {INCIDENT_COLUMNS} FROM reg_incidents WHERE file_number = $1"),
            &[&i.file_number],
        )
        .await?
        .map(|r| incident_from_row(&r));
    if old.as_ref() == Some(i) {
        return Ok(Change::Unchanged);
    }
    tx.execute(
        "INSERT INTO reg_incidents (file_number, incident_type, district, opened_at, closed_at,
             assigned_staff, import_id) VALUES ($1, $2, $3, $4, $5, $6, $7)
         ON CONFLICT (file_number) DO UPDATE SET incident_type = EXCLUDED.incident_type,
             district = EXCLUDED.district, opened_at = EXCLUDED.opened_at,
             closed_at = EXCLUDED.closed_at, assigned_staff = EXCLUDED.assigned_staff,
             import_id = EXCLUDED.import_id",
        &[
            &i.file_number,
            &i.incident_type,
            &i.district,
            &to_ms(i.opened_at),
            &i.closed_at.map(to_ms),
            &i.assigned_staff.join(";"),
            &import,
        ],
    )
    .await?;
    super::files::set_assigned(tx, i).await?;
    Ok(match old {
        Some(o) => Change::Updated(json(&o)),
        None => Change::Inserted,
    })
}

/// Upserts a stolen report; when it stops being active, the authorisations resting on it stop
/// in the same transaction (their ids are pushed to `stopped`).
async fn upsert_stolen(
    tx: &deadpool_postgres::Transaction<'_>,
    import: i64,
    s: &StolenRecord,
    now: DateTime<Utc>,
    stopped: &mut Vec<i64>,
) -> Result<Change> {
    let old = tx
        .query_opt(
            &format!(
                "SELECT {STOLEN_COLUMNS} FROM reg_stolen WHERE plate = $1 AND file_number = $2"
            ),
            &[&s.plate, &s.file_number],
        )
        .await?
        .map(|r| stolen_from_row(&r));
    if old.as_ref().is_some_and(|o| &o.record == s) {
        return Ok(Change::Unchanged);
    }
    tx.execute(
        "INSERT INTO reg_stolen (plate, file_number, reported_at, complainant_person_id,
             recorded_by_staff_id, status, cancelled_at, import_id)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
         ON CONFLICT (plate, file_number) DO UPDATE SET reported_at = EXCLUDED.reported_at,
             complainant_person_id = EXCLUDED.complainant_person_id,
             recorded_by_staff_id = EXCLUDED.recorded_by_staff_id, status = EXCLUDED.status,
             cancelled_at = EXCLUDED.cancelled_at, import_id = EXCLUDED.import_id",
        &[
            &s.plate,
            &s.file_number,
            &to_ms(s.reported_at),
            &s.complainant_person_id,
            &s.recorded_by_staff_id,
            &s.status.as_str(),
            &s.cancelled_at.map(to_ms),
            &import,
        ],
    )
    .await?;
    let Some(o) = old else {
        return Ok(Change::Inserted);
    };
    if !s.is_active() {
        let reason = format!("the stolen vehicle report was {}", s.status.as_str());
        let rows = tx
            .query(
                "UPDATE authorisations SET status = 'stopped', ended_at = $2, end_reason = $3
                 WHERE stolen_entry_id = $1 AND status IN ('pending', 'active') RETURNING id",
                &[&o.id, &to_ms(now), &reason],
            )
            .await?;
        stopped.extend(rows.iter().map(|r| r.get::<_, i64>(0)));
    }
    Ok(Change::Updated(json(&o.record)))
}

impl PgStore {
    /// Runs `f` over the registers, on the calling thread, which must not be a runtime worker
    /// (the benchmark and other synchronous callers; the server goes through
    /// [`crate::Store::access_facts`]).
    pub fn with_registers_blocking<T>(&self, f: impl FnOnce(&dyn RegisterView) -> T) -> Result<T> {
        self.inner().with_registers_blocking(f)
    }

    pub(crate) async fn access_facts_impl(&self, q: FactsRequest) -> Result<AccessFacts> {
        self.inner()
            .blocking(move |inner| {
                inner
                    .with_registers_blocking(|view| gather(view, &q.as_query()))?
                    .map_err(Into::into)
            })
            .await
    }

    pub(crate) async fn import_register_impl(
        &self,
        batch: RegisterBatch,
        src: ImportSource,
    ) -> Result<ImportReport> {
        check_text("source", &src.source, 200)?;
        check_text("imported_by", &src.imported_by, 100)?;
        let register = batch.kind();
        let batch = validate_batch(batch)?;
        let now = Utc::now();
        let mut client = self.inner().client().await?;
        let tx = client.transaction().await?;
        let import: i64 = tx
            .query_one(
                "INSERT INTO register_imports (at, register, source, imported_by)
                 VALUES ($1, $2, $3, $4) RETURNING id",
                &[
                    &to_ms(now),
                    &register.as_str(),
                    &src.source.trim(),
                    &src.imported_by.trim(),
                ],
            )
            .await?
            .get(0);
        let mut report = ImportReport {
            import_id: import,
            register,
            inserted: 0,
            updated: 0,
            unchanged: 0,
            stopped: vec![],
        };
        let mut log = ChangeLog {
            import,
            keys: vec![],
            changes: vec![],
            befores: vec![],
        };
        let mut stopped = Vec::new();
        match &batch {
            RegisterBatch::Vehicles(rows) => {
                upsert_vehicles(&tx, import, rows, &mut log, &mut report).await?
            }
            RegisterBatch::Staff(rows) => {
                for r in rows {
                    let c = upsert_staff(&tx, import, r).await?;
                    log.note(&mut report, r.staff_id.clone(), c);
                }
            }
            RegisterBatch::Associates(rows) => {
                for r in rows {
                    let c = upsert_associate(&tx, import, r).await?;
                    log.note(&mut report, format!("{}/{}", r.staff_id, r.person_id), c);
                }
            }
            RegisterBatch::Stolen(rows) => {
                for r in rows {
                    let c = upsert_stolen(&tx, import, r, now, &mut stopped).await?;
                    log.note(&mut report, format!("{}/{}", r.plate, r.file_number), c);
                }
            }
            RegisterBatch::Incidents(rows) => {
                for r in rows {
                    let c = upsert_incident(&tx, import, r).await?;
                    log.note(&mut report, r.file_number.clone(), c);
                }
            }
        }
        log.write(&tx).await?;
        tx.execute(
            "UPDATE register_imports SET inserted = $2, updated = $3, unchanged = $4
             WHERE id = $1",
            &[
                &import,
                &(report.inserted as i64),
                &(report.updated as i64),
                &(report.unchanged as i64),
            ],
        )
        .await?;
        if report.inserted + report.updated > 0 {
            tx.execute("UPDATE register_version SET version = version + 1", &[])
                .await?;
            notify(&tx, changes::WATCHES).await?;
        }
        for id in stopped {
            if let Some(a) = authorisation(&tx, id).await? {
                report.stopped.push(a);
            }
        }
        tx.commit().await?;
        Ok(report)
    }

    pub(crate) async fn register_count_impl(&self, kind: RegisterKind) -> Result<u64> {
        let table = match kind {
            RegisterKind::Vehicles => "reg_vehicles",
            RegisterKind::Staff => "reg_staff",
            RegisterKind::Associates => "reg_associates",
            RegisterKind::Stolen => "reg_stolen",
            RegisterKind::Incidents => "reg_incidents",
        };
        let client = self.inner().client().await?;
        Ok(client
            .query_one(&format!("SELECT count(*) FROM {table}"), &[])
            .await?
            .get::<_, i64>(0) as u64)
    }

    pub(crate) async fn network_agreements_impl(&self) -> Result<Vec<NetworkAgreement>> {
        let client = self.inner().client().await?;
        load_agreements(&client).await
    }

    pub(crate) async fn set_network_agreement_impl(
        &self,
        a: NetworkAgreement,
    ) -> Result<NetworkAgreement> {
        let search = clean_parties(&a.search, "search")?;
        let tracking = clean_parties(&a.tracking, "tracking")?;
        let mut client = self.inner().client().await?;
        let tx = client.transaction().await?;
        // Locks the network row, so two changes of one agreement apply one after the other.
        if tx
            .query_opt(
                "SELECT id FROM networks WHERE id = $1 FOR UPDATE",
                &[&a.network_id],
            )
            .await?
            .is_none()
        {
            return Err(StoreError::NotFound(format!("network {}", a.network_id)));
        }
        tx.execute(
            "DELETE FROM network_agreements WHERE network_id = $1",
            &[&a.network_id],
        )
        .await?;
        tx.execute("UPDATE register_version SET version = version + 1", &[])
            .await?;
        notify(&tx, changes::WATCHES).await?;
        for (use_, parties) in [("search", &search), ("tracking", &tracking)] {
            tx.execute(
                "INSERT INTO network_agreements (network_id, \"use\", party)
                 SELECT $1, $2, * FROM unnest($3::text[])",
                &[&a.network_id, &use_, parties],
            )
            .await?;
        }
        if a.hot_list_alerts {
            tx.execute(
                "INSERT INTO network_agreements (network_id, \"use\", party)
                 VALUES ($1, $2, 'network')",
                &[&a.network_id, &HOT_LIST_USE],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(NetworkAgreement {
            network_id: a.network_id,
            search,
            tracking,
            hot_list_alerts: a.hot_list_alerts,
        })
    }

    pub(crate) async fn create_authorisation_impl(
        &self,
        a: Authorisation,
    ) -> Result<Authorisation> {
        let client = self.inner().client().await?;
        let placeholders: Vec<String> = (1..=25).map(|i| format!("${i}")).collect();
        let params = auth_params(&a);
        let id: i64 = client
            .query_one(
                &format!(
                    "WITH i AS (INSERT INTO authorisations ({}) VALUES ({}) RETURNING id)
                     SELECT id, pg_notify($26, $27 || ':' || id) FROM i",
                    AUTH_COLUMNS.trim_start_matches("id, "),
                    placeholders.join(", ")
                ),
                &refs(&with_announcement(params)),
            )
            .await?
            .get(0);
        // Read back: what is returned is exactly what is stored (times in milliseconds).
        authorisation(&client, id)
            .await?
            .ok_or_else(|| StoreError::NotFound("the authorisation just stored".into()))
    }

    pub(crate) async fn authorisation_impl(&self, id: i64) -> Result<Option<Authorisation>> {
        let client = self.inner().client().await?;
        authorisation(&client, id).await
    }

    pub(crate) async fn update_authorisation_impl(
        &self,
        a: Authorisation,
        expected: AuthStatus,
    ) -> Result<()> {
        let sets: Vec<String> = AUTH_COLUMNS
            .split(", ")
            .skip(1)
            .enumerate()
            .map(|(i, c)| format!("{c} = ${}", i + 1))
            .collect();
        let mut params = auth_params(&a);
        params.push(Box::new(a.id));
        params.push(Box::new(expected.as_str().to_string()));
        let client = self.inner().client().await?;
        let n = client
            .query(
                &format!(
                    "WITH u AS (UPDATE authorisations SET {} WHERE id = $26 AND status = $27
                         RETURNING id)
                     SELECT pg_notify($28, $29 || ':' || id) FROM u",
                    sets.join(", ")
                ),
                &refs(&with_announcement(params)),
            )
            .await?
            .len();
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "authorisation {} changed meanwhile; reload it",
                a.id
            )));
        }
        Ok(())
    }

    pub(crate) async fn authorisations_impl(
        &self,
        f: AuthorisationFilter,
    ) -> Result<Vec<Authorisation>> {
        let mut conds = vec!["TRUE".to_string()];
        let mut params: Vec<Param> = Vec::new();
        let mut bind = |sql: &str, v: Param, conds: &mut Vec<String>| {
            params.push(v);
            conds.push(sql.replace('?', &format!("${}", params.len())));
        };
        if let Some(k) = f.kind {
            bind("kind = ?", Box::new(k.as_str().to_string()), &mut conds);
        }
        if let Some(d) = &f.district {
            bind(
                "lower(district) = lower(?)",
                Box::new(d.clone()),
                &mut conds,
            );
        }
        if let Some(u) = f.requester {
            bind("requester_user_id = ?", Box::new(u), &mut conds);
        }
        if let Some(b) = f.before_id {
            bind("id < ?", Box::new(b), &mut conds);
        }
        if !f.statuses.is_empty() {
            let list: Vec<String> = f.statuses.iter().map(|s| s.as_str().to_string()).collect();
            bind("status = ANY(?)", Box::new(list), &mut conds);
        }
        let limit = f.limit.unwrap_or(500).clamp(1, 5000) as i64;
        params.push(Box::new(limit));
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {AUTH_COLUMNS} FROM authorisations WHERE {} ORDER BY id DESC LIMIT ${}",
                conds.join(" AND "),
                params.len()
            ))
            .await?;
        client
            .query(&stmt, &refs(&params))
            .await?
            .iter()
            .map(auth_from_row)
            .collect()
    }

    pub(crate) async fn stolen_entry_impl(&self, id: i64) -> Result<Option<StolenEntry>> {
        let client = self.inner().client().await?;
        Ok(client
            .query_opt(
                &format!("SELECT {STOLEN_COLUMNS} FROM reg_stolen WHERE id = $1"),
                &[&id],
            )
            .await?
            .map(|r| stolen_from_row(&r)))
    }

    pub(crate) async fn recent_data_accesses_impl(
        &self,
        user: UserId,
        purpose: &str,
        since_any: DateTime<Utc>,
        since_purpose: DateTime<Utc>,
    ) -> Result<anpr_policy::RecentAccesses> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(crate::shared::SQL_RECENT_DATA_ACCESSES)
            .await?;
        let row = client
            .query_one(
                &stmt,
                &[
                    &user,
                    &to_ms(since_any),
                    &purpose.trim(),
                    &to_ms(since_purpose),
                    &to_ms(since_any.min(since_purpose)),
                ],
            )
            .await?;
        Ok(anpr_policy::RecentAccesses {
            any_purpose: row.get::<_, i64>(0).max(0) as u64,
            this_purpose: row.get::<_, i64>(1).max(0) as u64,
        })
    }

    pub(crate) async fn allowed_decisions_since_impl(
        &self,
        user: UserId,
        action: DecisionAction,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT COUNT(*) FROM decisions WHERE user_id = $1 AND at >= $2
                 AND action = $3 AND outcome IN ('allowed', 'allowed_with_limits')",
            )
            .await?;
        let n: i64 = client
            .query_one(&stmt, &[&user, &to_ms(since), &action.as_str()])
            .await?
            .get(0);
        Ok(n.max(0) as u64)
    }

    pub(crate) async fn decisions_impl(
        &self,
        user: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Decision>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT at, request_id, actor, user_id, district, action, target, purpose_code,
                 file_number, justification, basis, outcome, refusal_code, refusal_reason, notes,
                 training, authorisation_id,
                 ARRAY(SELECT network_id FROM decision_networks n
                       WHERE n.decision_id = decisions.id ORDER BY network_id), fuzzy
                 FROM decisions
                 WHERE $1::bigint IS NULL OR user_id = $1 ORDER BY id DESC LIMIT $2",
            )
            .await?;
        let rows = client
            .query(&stmt, &[&user, &(limit.clamp(1, 10_000) as i64)])
            .await?;
        rows.iter()
            .map(|r| {
                let action: String = r.get(5);
                let outcome: String = r.get(11);
                let notes: String = r.get(14);
                Ok(Decision {
                    at: from_ms(r.get(0)),
                    request_id: r.get(1),
                    actor: r.get(2),
                    user_id: r.get(3),
                    district: r.get(4),
                    action: serde_json::from_value::<DecisionAction>(action.clone().into())
                        .map_err(|_| bad_value("action", &action))?,
                    target: r.get(6),
                    purpose_code: r.get(7),
                    file_number: r.get(8),
                    justification: r.get(9),
                    basis: r.get(10),
                    outcome: serde_json::from_value::<DecisionOutcome>(outcome.clone().into())
                        .map_err(|_| bad_value("outcome", &outcome))?,
                    refusal_code: r.get(12),
                    refusal_reason: r.get(13),
                    notes: serde_json::from_str(&notes).unwrap_or_default(),
                    training: r.get(15),
                    fuzzy: r.get(18),
                    authorisation_id: r.get(16),
                    networks: r.get(17),
                })
            })
            .collect()
    }

    async fn record_decision(&self, d: &Decision) -> Result<()> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                // One statement: the decision and the networks it was about commit together.
                "WITH d AS (
                     INSERT INTO decisions (at, request_id, actor, user_id, district, action,
                         target, purpose_code, file_number, justification, basis, outcome,
                         refusal_code, refusal_reason, notes, training, authorisation_id,
                         fuzzy)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,
                         $16, $17, $19)
                     RETURNING id)
                 INSERT INTO decision_networks (decision_id, network_id)
                 SELECT d.id, n FROM d, unnest($18::bigint[]) AS n
                 ON CONFLICT DO NOTHING",
            )
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &to_ms(d.at),
                    &d.request_id,
                    &d.actor,
                    &d.user_id,
                    &d.district,
                    &d.action.as_str(),
                    &d.target,
                    &d.purpose_code,
                    &d.file_number,
                    &d.justification,
                    &d.basis,
                    &d.outcome.as_str(),
                    &d.refusal_code,
                    &d.refusal_reason,
                    &json(&d.notes),
                    &d.training,
                    &d.authorisation_id,
                    &d.networks,
                    &d.fuzzy,
                ],
            )
            .await?;
        Ok(())
    }
}

/// Decisions go to the `decisions` table before the caller returns; the durable, write-ahead
/// record of the request is its audit-ledger entry. Synchronous: call it on the blocking pool.
impl DecisionRecorder for PgStore {
    fn record(&self, d: &Decision) -> anpr_policy::Result<()> {
        self.inner()
            .runtime
            .block_on(self.record_decision(d))
            .map_err(|e| PolicyError::Recording(e.to_string()))
    }
}

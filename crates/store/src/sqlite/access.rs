//! What the access policy reads and writes: the registers (with their change log), network
//! sharing agreements, authorisations and decision records.
//!
//! The policy's lookups are point queries on primary keys or indexes through cached prepared
//! statements ([`SqliteRegisters`]), so a decision costs a few microseconds per lookup whatever
//! the size of the motor vehicle register. What is keyed by member of staff is cached for one
//! register version, which every import bumps: another process's import is seen at once.

use super::{from_ms, to_ms, Inner, SqliteStore};
use crate::shared::{
    check_text, clean_parties, group_agreements, json, lookup_error, roles_from_text, row_load_sql,
    validate_batch, CachedRegisters, Change, RegisterCache, HOT_LIST_USE,
};
use crate::{
    AuthorisationFilter, DecisionFacts, FactsRequest, ImportReport, ImportSource, RateWindows,
    RegisterBatch, RegisterKind, Result, StoreError,
};
use anpr_domain::{NetworkId, UserId};
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
use rusqlite::{params, Connection, OptionalExtension, Row, Transaction};
use std::sync::Mutex;

/// The registers as the policy sees them, through one connection, uncached (imports use it
/// inside their transaction); decisions go through [`crate::shared::CachedRegisters`] over it.
pub struct SqliteRegisters<'c> {
    conn: &'c Connection,
}

fn lookup(e: rusqlite::Error) -> PolicyError {
    lookup_error(e)
}

/// Column lists as macros, so that the hot lookups' SQL is a `concat!` constant (no formatting
/// per decision).
macro_rules! vehicle_columns {
    () => {
        "plate, owner_person_id, owner_address_id, make, model, colour"
    };
}
macro_rules! stolen_columns {
    () => {
        "id, plate, file_number, reported_at, complainant_person_id, recorded_by_staff_id, \
         status, cancelled_at"
    };
}
macro_rules! auth_columns {
    () => {
        "id, kind, plate, requester_user_id, requester_staff_id, district, purpose_code, \
         file_number, justification, basis, stolen_entry_id, approval_reasons, status, \
         requested_at, approval_deadline, duration_minutes, starts_at, expires_at, \
         decided_by_staff_id, decided_at, decision_reason, ended_at, end_reason, renews, \
         lookback_from, fuzzy"
    };
}

const VEHICLE_COLUMNS: &str = vehicle_columns!();

fn vehicle_from_row(r: &Row<'_>) -> rusqlite::Result<VehicleRecord> {
    Ok(VehicleRecord {
        plate: r.get(0)?,
        owner_person_id: r.get(1)?,
        owner_address_id: r.get(2)?,
        make: r.get(3)?,
        model: r.get(4)?,
        colour: r.get(5)?,
    })
}

const STOLEN_COLUMNS: &str = stolen_columns!();

fn stolen_from_row(r: &Row<'_>) -> rusqlite::Result<StolenEntry> {
    let status: String = r.get(6)?;
    Ok(StolenEntry {
        id: r.get(0)?,
        record: StolenRecord {
            plate: r.get(1)?,
            file_number: r.get(2)?,
            reported_at: from_ms(r.get(3)?),
            complainant_person_id: r.get(4)?,
            recorded_by_staff_id: r.get(5)?,
            // An unknown status is treated as not active: it never grants tracking.
            status: StolenStatus::parse(&status).unwrap_or(StolenStatus::Cancelled),
            cancelled_at: r.get::<_, Option<i64>>(7)?.map(from_ms),
        },
    })
}

pub(super) fn incident_from_row(r: &Row<'_>) -> rusqlite::Result<IncidentRecord> {
    let assigned: String = r.get(5)?;
    Ok(IncidentRecord {
        file_number: r.get(0)?,
        incident_type: r.get(1)?,
        district: r.get(2)?,
        opened_at: from_ms(r.get(3)?),
        closed_at: r.get::<_, Option<i64>>(4)?.map(from_ms),
        assigned_staff: assigned
            .split(';')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
    })
}

const AUTH_COLUMNS: &str = auth_columns!();

fn bad_value(col: usize, what: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        col,
        rusqlite::types::Type::Text,
        format!("unknown {what}").into(),
    )
}

fn auth_from_row(r: &Row<'_>) -> rusqlite::Result<Authorisation> {
    let ms = |i: usize| -> rusqlite::Result<Option<DateTime<Utc>>> {
        Ok(r.get::<_, Option<i64>>(i)?.map(from_ms))
    };
    let kind: String = r.get(1)?;
    let basis: String = r.get(9)?;
    let status: String = r.get(12)?;
    let reasons: String = r.get(11)?;
    Ok(Authorisation {
        id: r.get(0)?,
        kind: AuthorisationKind::parse(&kind).ok_or_else(|| bad_value(1, "kind"))?,
        plate: r.get(2)?,
        requester_user_id: r.get(3)?,
        requester_staff_id: r.get(4)?,
        district: r.get(5)?,
        purpose_code: r.get(6)?,
        file_number: r.get(7)?,
        justification: r.get(8)?,
        basis: Basis::parse(&basis).ok_or_else(|| bad_value(9, "basis"))?,
        stolen_entry_id: r.get(10)?,
        approval_reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        status: AuthStatus::parse(&status).ok_or_else(|| bad_value(12, "status"))?,
        requested_at: from_ms(r.get(13)?),
        approval_deadline: ms(14)?,
        duration_minutes: r.get(15)?,
        starts_at: ms(16)?,
        expires_at: ms(17)?,
        decided_by_staff_id: r.get(18)?,
        decided_at: ms(19)?,
        decision_reason: r.get(20)?,
        ended_at: ms(21)?,
        end_reason: r.get(22)?,
        renews: r.get(23)?,
        lookback_from: ms(24)?,
        fuzzy: r.get(25)?,
    })
}

impl<'c> SqliteRegisters<'c> {
    pub fn new(conn: &'c Connection) -> Self {
        SqliteRegisters { conn }
    }
}

/// Runs `f` over the registers on `conn`, through the store's cache of facts by member of
/// staff (emptied first if the registers changed since it was filled).
fn with_cached<T>(
    conn: &Connection,
    cache: &Mutex<RegisterCache>,
    f: impl FnOnce(&dyn RegisterView) -> T,
) -> Result<T> {
    let version: i64 = conn
        .prepare_cached("SELECT version FROM register_version WHERE id = 1")?
        .query_row([], |r| r.get(0))?;
    let db = SqliteRegisters::new(conn);
    Ok(f(&CachedRegisters::new(&db, cache, version)))
}

impl RegisterView for SqliteRegisters<'_> {
    fn staff(&self, staff_id: &str) -> anpr_policy::Result<Option<StaffRecord>> {
        self.staff_uncached(staff_id)
    }
    fn associates(&self, staff_id: &str) -> anpr_policy::Result<Vec<AssociateRecord>> {
        self.associates_uncached(staff_id)
    }
    fn vehicle(&self, plate: &str) -> anpr_policy::Result<Option<VehicleRecord>> {
        self.vehicle_uncached(plate)
    }
    fn vehicles_of(
        &self,
        person_ids: &[&str],
        address_id: &str,
    ) -> anpr_policy::Result<Vec<VehicleRecord>> {
        self.vehicles_of_uncached(person_ids, address_id)
    }
    fn incident(&self, file_number: &str) -> anpr_policy::Result<Option<IncidentRecord>> {
        self.incident_uncached(file_number)
    }

    fn incidents(&self, file_numbers: &[&str]) -> anpr_policy::Result<Vec<IncidentRecord>> {
        let files: Vec<rusqlite::types::Value> = file_numbers
            .iter()
            .map(|f| rusqlite::types::Value::Text(f.to_string()))
            .collect();
        self.conn
            .prepare_cached(
                "SELECT file_number, incident_type, district, opened_at, closed_at, assigned_staff
                 FROM reg_incidents WHERE file_number IN rarray(?1)",
            )
            .and_then(|mut s| {
                s.query_map([std::rc::Rc::new(files)], incident_from_row)?
                    .collect()
            })
            .map_err(lookup)
    }

    fn stolen(&self, plate: &str) -> anpr_policy::Result<Vec<StolenEntry>> {
        self.stolen_uncached(plate)
    }
    fn agreements(&self) -> anpr_policy::Result<Vec<NetworkAgreement>> {
        load_agreements(self.conn).map_err(lookup)
    }
    fn authorisations(
        &self,
        user_id: UserId,
        plate: &str,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.authorisations_uncached(user_id, plate)
    }
    fn ended_authorisations(
        &self,
        user_id: UserId,
        plate: &str,
        basis: Basis,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.conn
            .prepare_cached(concat!(
                "SELECT ",
                auth_columns!(),
                " FROM authorisations WHERE plate = ?1 AND requester_user_id = ?2 \
                 AND basis = ?3 AND status NOT IN ('pending', 'active') \
                 ORDER BY ended_at DESC NULLS LAST, id DESC LIMIT ?4"
            ))
            .and_then(|mut s| {
                s.query_map(
                    params![plate, user_id, basis.as_str(), MAX_ENDED as i64],
                    auth_from_row,
                )?
                .collect()
            })
            .map_err(lookup)
    }

    fn loaded_by(&self, row: &RowRef) -> anpr_policy::Result<Option<RowLoad>> {
        let key: rusqlite::types::Value = match row {
            RowRef::Staff(k) | RowRef::Vehicle(k) | RowRef::Incident(k) => k.clone().into(),
            RowRef::Stolen(id) => (*id).into(),
        };
        self.conn
            .prepare_cached(&row_load_sql(row, "?1"))
            .and_then(|mut s| {
                s.query_row([key], |r| {
                    Ok(RowLoad {
                        import_id: r.get(0)?,
                        at: from_ms(r.get(1)?),
                        by: ChangedBy::parse(&r.get::<_, String>(2)?),
                    })
                })
                .optional()
            })
            .map_err(lookup)
    }

    fn role_changes(&self, user_id: UserId) -> anpr_policy::Result<Vec<RoleChange>> {
        self.conn
            .prepare_cached(
                "SELECT roles, set_by, at FROM user_role_changes WHERE user_id = ?1
                 ORDER BY id DESC LIMIT ?2",
            )
            .and_then(|mut s| {
                s.query_map(params![user_id, MAX_ROLE_CHANGES as i64], |r| {
                    Ok(RoleChange {
                        roles: roles_from_text(&r.get::<_, String>(0)?),
                        set_by: r.get::<_, Option<String>>(1)?.map(|l| ChangedBy::parse(&l)),
                        at: from_ms(r.get(2)?),
                    })
                })?
                .collect()
            })
            .map_err(lookup)
    }
}

impl SqliteRegisters<'_> {
    fn staff_uncached(&self, staff_id: &str) -> anpr_policy::Result<Option<StaffRecord>> {
        self.conn
            .prepare_cached(
                "SELECT staff_id, person_id, home_address_id, team FROM reg_staff
                 WHERE staff_id = ?1",
            )
            .and_then(|mut s| {
                s.query_row([staff_id], |r| {
                    Ok(StaffRecord {
                        staff_id: r.get(0)?,
                        person_id: r.get(1)?,
                        home_address_id: r.get(2)?,
                        team: r.get(3)?,
                    })
                })
                .optional()
            })
            .map_err(lookup)
    }

    fn associates_uncached(&self, staff_id: &str) -> anpr_policy::Result<Vec<AssociateRecord>> {
        self.conn
            .prepare_cached(
                "SELECT staff_id, person_id, relationship FROM reg_associates WHERE staff_id = ?1",
            )
            .and_then(|mut s| {
                s.query_map([staff_id], |r| {
                    Ok(AssociateRecord {
                        staff_id: r.get(0)?,
                        person_id: r.get(1)?,
                        relationship: r.get(2)?,
                    })
                })?
                .collect()
            })
            .map_err(lookup)
    }

    fn vehicle_uncached(&self, plate: &str) -> anpr_policy::Result<Option<VehicleRecord>> {
        self.conn
            .prepare_cached(concat!(
                "SELECT ",
                vehicle_columns!(),
                " FROM reg_vehicles WHERE plate = ?1"
            ))
            .and_then(|mut s| s.query_row([plate], vehicle_from_row).optional())
            .map_err(lookup)
    }

    fn vehicles_of_uncached(
        &self,
        person_ids: &[&str],
        address_id: &str,
    ) -> anpr_policy::Result<Vec<VehicleRecord>> {
        let run = || -> rusqlite::Result<Vec<VehicleRecord>> {
            let mut out = Vec::new();
            let mut by_person = self.conn.prepare_cached(concat!(
                "SELECT ",
                vehicle_columns!(),
                " FROM reg_vehicles WHERE owner_person_id = ?1"
            ))?;
            for p in person_ids {
                for v in by_person.query_map([p], vehicle_from_row)? {
                    out.push(v?);
                }
            }
            let mut by_address = self.conn.prepare_cached(concat!(
                "SELECT ",
                vehicle_columns!(),
                " FROM reg_vehicles WHERE owner_address_id = ?1"
            ))?;
            for v in by_address.query_map([address_id], vehicle_from_row)? {
                out.push(v?);
            }
            Ok(out)
        };
        run().map_err(lookup)
    }

    fn incident_uncached(&self, file_number: &str) -> anpr_policy::Result<Option<IncidentRecord>> {
        self.conn
            .prepare_cached(
                "SELECT file_number, incident_type, district, opened_at, closed_at, assigned_staff
                 FROM reg_incidents WHERE file_number = ?1",
            )
            .and_then(|mut s| s.query_row([file_number], incident_from_row).optional())
            .map_err(lookup)
    }

    fn stolen_uncached(&self, plate: &str) -> anpr_policy::Result<Vec<StolenEntry>> {
        self.conn
            .prepare_cached(concat!(
                "SELECT ",
                stolen_columns!(),
                " FROM reg_stolen WHERE plate = ?1 ORDER BY reported_at DESC"
            ))
            .and_then(|mut s| s.query_map([plate], stolen_from_row)?.collect())
            .map_err(lookup)
    }

    fn authorisations_uncached(
        &self,
        user_id: UserId,
        plate: &str,
    ) -> anpr_policy::Result<Vec<Authorisation>> {
        self.conn
            .prepare_cached(concat!(
                "SELECT ",
                auth_columns!(),
                " FROM authorisations WHERE plate = ?1 AND requester_user_id = ?2 \
                 AND status IN ('pending', 'active')"
            ))
            .and_then(|mut s| {
                s.query_map(params![plate, user_id], auth_from_row)?
                    .collect()
            })
            .map_err(lookup)
    }
}

fn load_agreements(conn: &Connection) -> rusqlite::Result<Vec<NetworkAgreement>> {
    let mut stmt = conn.prepare_cached(
        "SELECT network_id, use, party FROM network_agreements ORDER BY network_id, use, party",
    )?;
    let rows = stmt
        .query_map([], |r| {
            Ok((
                r.get::<_, NetworkId>(0)?,
                r.get::<_, String>(1)?,
                r.get::<_, String>(2)?,
            ))
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(group_agreements(rows))
}

fn upsert_vehicle(tx: &Transaction<'_>, import: i64, v: &VehicleRecord) -> Result<Change> {
    let old = tx
        .prepare_cached(&format!(
            "SELECT {VEHICLE_COLUMNS} FROM reg_vehicles WHERE plate = ?1"
        ))?
        .query_row([&v.plate], vehicle_from_row)
        .optional()?;
    let values = params![
        v.plate,
        v.owner_person_id,
        v.owner_address_id,
        v.make,
        v.model,
        v.colour,
        import
    ];
    Ok(match old {
        Some(o) if &o == v => Change::Unchanged,
        Some(o) => {
            tx.prepare_cached(
                "UPDATE reg_vehicles SET owner_person_id = ?2, owner_address_id = ?3, make = ?4,
                 model = ?5, colour = ?6, import_id = ?7 WHERE plate = ?1",
            )?
            .execute(values)?;
            Change::Updated(json(&o))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO reg_vehicles (plate, owner_person_id, owner_address_id, make, model,
                 colour, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(values)?;
            Change::Inserted
        }
    })
}

fn upsert_staff(tx: &Transaction<'_>, import: i64, s: &StaffRecord) -> Result<Change> {
    let old = SqliteRegisters::new(tx).staff(&s.staff_id)?;
    let values = params![s.staff_id, s.person_id, s.home_address_id, s.team, import];
    Ok(match old {
        Some(o) if &o == s => Change::Unchanged,
        Some(o) => {
            tx.prepare_cached(
                "UPDATE reg_staff SET person_id = ?2, home_address_id = ?3, team = ?4,
                 import_id = ?5 WHERE staff_id = ?1",
            )?
            .execute(values)?;
            Change::Updated(json(&o))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO reg_staff (staff_id, person_id, home_address_id, team, import_id)
                 VALUES (?1, ?2, ?3, ?4, ?5)",
            )?
            .execute(values)?;
            Change::Inserted
        }
    })
}

fn upsert_associate(tx: &Transaction<'_>, import: i64, a: &AssociateRecord) -> Result<Change> {
    let old: Option<Option<String>> = tx
        .prepare_cached(
            "SELECT relationship FROM reg_associates WHERE staff_id = ?1 AND person_id = ?2",
        )?
        .query_row(params![a.staff_id, a.person_id], |r| r.get(0))
        .optional()?;
    let values = params![a.staff_id, a.person_id, a.relationship, import];
    Ok(match old {
        Some(rel) if rel == a.relationship => Change::Unchanged,
        Some(rel) => {
            tx.prepare_cached(
                "UPDATE reg_associates SET relationship = ?3, import_id = ?4
                 WHERE staff_id = ?1 AND person_id = ?2",
            )?
            .execute(values)?;
            Change::Updated(json(&AssociateRecord {
                relationship: rel,
                ..a.clone()
            }))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO reg_associates (staff_id, person_id, relationship, import_id)
                 VALUES (?1, ?2, ?3, ?4)",
            )?
            .execute(values)?;
            Change::Inserted
        }
    })
}

fn upsert_incident(tx: &Transaction<'_>, import: i64, i: &IncidentRecord) -> Result<Change> {
    let old = SqliteRegisters::new(tx).incident(&i.file_number)?;
    let values = params![
        i.file_number,
        i.incident_type,
        i.district,
        to_ms(i.opened_at),
        i.closed_at.map(to_ms),
        i.assigned_staff.join(";"),
        import
    ];
    let change = match old {
        Some(o) if &o == i => return Ok(Change::Unchanged),
        Some(o) => {
            tx.prepare_cached(
                "UPDATE reg_incidents SET incident_type = ?2, district = ?3, opened_at = ?4,
                 closed_at = ?5, assigned_staff = ?6, import_id = ?7 WHERE file_number = ?1",
            )?
            .execute(values)?;
            Change::Updated(json(&o))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO reg_incidents (file_number, incident_type, district, opened_at,
                 closed_at, assigned_staff, import_id) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
            )?
            .execute(values)?;
            Change::Inserted
        }
    };
    super::files::set_assigned(tx, i)?;
    Ok(change)
}

/// Upserts a stolen report; when it stops being active, the authorisations resting on it stop
/// in the same transaction (their ids are pushed to `stopped`).
fn upsert_stolen(
    tx: &Transaction<'_>,
    import: i64,
    s: &StolenRecord,
    now: DateTime<Utc>,
    stopped: &mut Vec<i64>,
) -> Result<Change> {
    let old = tx
        .prepare_cached(&format!(
            "SELECT {STOLEN_COLUMNS} FROM reg_stolen WHERE plate = ?1 AND file_number = ?2"
        ))?
        .query_row(params![s.plate, s.file_number], stolen_from_row)
        .optional()?;
    let values = params![
        s.plate,
        s.file_number,
        to_ms(s.reported_at),
        s.complainant_person_id,
        s.recorded_by_staff_id,
        s.status.as_str(),
        s.cancelled_at.map(to_ms),
        import
    ];
    Ok(match old {
        Some(o) if &o.record == s => Change::Unchanged,
        Some(o) => {
            tx.prepare_cached(
                "UPDATE reg_stolen SET reported_at = ?3, complainant_person_id = ?4,
                 recorded_by_staff_id = ?5, status = ?6, cancelled_at = ?7, import_id = ?8
                 WHERE plate = ?1 AND file_number = ?2",
            )?
            .execute(values)?;
            if !s.is_active() {
                let reason = format!("the stolen vehicle report was {}", s.status.as_str());
                let mut stmt = tx.prepare_cached(
                    "UPDATE authorisations SET status = 'stopped', ended_at = ?2, end_reason = ?3
                     WHERE stolen_entry_id = ?1 AND status IN ('pending', 'active')
                     RETURNING id",
                )?;
                for id in stmt.query_map(params![o.id, to_ms(now), reason], |r| r.get(0))? {
                    stopped.push(id?);
                }
            }
            Change::Updated(json(&o.record))
        }
        None => {
            tx.prepare_cached(
                "INSERT INTO reg_stolen (plate, file_number, reported_at, complainant_person_id,
                 recorded_by_staff_id, status, cancelled_at, import_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            )?
            .execute(values)?;
            Change::Inserted
        }
    })
}

impl Inner {
    fn import_register(&self, batch: RegisterBatch, src: &ImportSource) -> Result<ImportReport> {
        check_text("source", &src.source, 200)?;
        check_text("imported_by", &src.imported_by, 100)?;
        let register = batch.kind();
        let batch = validate_batch(batch)?;
        let now = Utc::now();
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "INSERT INTO register_imports (at, register, source, imported_by)
                 VALUES (?1, ?2, ?3, ?4)",
                params![
                    to_ms(now),
                    register.as_str(),
                    src.source.trim(),
                    src.imported_by.trim()
                ],
            )?;
            let import = tx.last_insert_rowid();
            let mut report = ImportReport {
                import_id: import,
                register,
                inserted: 0,
                updated: 0,
                unchanged: 0,
                stopped: vec![],
            };
            let mut stopped = Vec::new();
            {
                let mut log = tx.prepare_cached(
                    "INSERT INTO register_changes (import_id, key, change, before)
                         VALUES (?1, ?2, ?3, ?4)",
                )?;
                let mut note = |key: &str, change: Change| -> Result<()> {
                    match change {
                        Change::Inserted => {
                            report.inserted += 1;
                            log.execute(params![import, key, "insert", None::<String>])?;
                        }
                        Change::Updated(before) => {
                            report.updated += 1;
                            log.execute(params![import, key, "update", before])?;
                        }
                        Change::Unchanged => report.unchanged += 1,
                    }
                    Ok(())
                };
                match &batch {
                    RegisterBatch::Vehicles(rows) => {
                        for r in rows {
                            note(&r.plate, upsert_vehicle(&tx, import, r)?)?;
                        }
                    }
                    RegisterBatch::Staff(rows) => {
                        for r in rows {
                            note(&r.staff_id, upsert_staff(&tx, import, r)?)?;
                        }
                    }
                    RegisterBatch::Associates(rows) => {
                        for r in rows {
                            let key = format!("{}/{}", r.staff_id, r.person_id);
                            note(&key, upsert_associate(&tx, import, r)?)?;
                        }
                    }
                    RegisterBatch::Stolen(rows) => {
                        for r in rows {
                            let key = format!("{}/{}", r.plate, r.file_number);
                            note(&key, upsert_stolen(&tx, import, r, now, &mut stopped)?)?;
                        }
                    }
                    RegisterBatch::Incidents(rows) => {
                        for r in rows {
                            note(&r.file_number, upsert_incident(&tx, import, r)?)?;
                        }
                    }
                }
            }
            tx.execute(
                "UPDATE register_imports SET inserted = ?2, updated = ?3, unchanged = ?4
                 WHERE id = ?1",
                params![import, report.inserted, report.updated, report.unchanged],
            )?;
            if report.inserted + report.updated > 0 {
                tx.execute("UPDATE register_version SET version = version + 1", [])?;
            }
            for id in stopped {
                if let Some(a) = authorisation(&tx, id)? {
                    report.stopped.push(a);
                }
            }
            tx.commit()?;
            Ok(report)
        })
    }

    fn set_agreement(&self, a: &NetworkAgreement) -> Result<NetworkAgreement> {
        let search = clean_parties(&a.search, "search")?;
        let tracking = clean_parties(&a.tracking, "tracking")?;
        if self.catalog().network(a.network_id).is_none() {
            let known = self.with_reader(|c| {
                Ok(c.query_row(
                    "SELECT COUNT(*) FROM networks WHERE id = ?1",
                    [a.network_id],
                    |r| r.get::<_, i64>(0),
                )?)
            })?;
            if known == 0 {
                return Err(StoreError::NotFound(format!("network {}", a.network_id)));
            }
        }
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            tx.execute(
                "DELETE FROM network_agreements WHERE network_id = ?1",
                [a.network_id],
            )?;
            tx.execute("UPDATE register_version SET version = version + 1", [])?;
            for (use_, parties) in [("search", &search), ("tracking", &tracking)] {
                for p in parties {
                    tx.execute(
                        "INSERT INTO network_agreements (network_id, use, party)
                         VALUES (?1, ?2, ?3)",
                        params![a.network_id, use_, p],
                    )?;
                }
            }
            if a.hot_list_alerts {
                tx.execute(
                    "INSERT INTO network_agreements (network_id, use, party)
                     VALUES (?1, ?2, 'network')",
                    params![a.network_id, HOT_LIST_USE],
                )?;
            }
            tx.commit()?;
            Ok(NetworkAgreement {
                network_id: a.network_id,
                search,
                tracking,
                hot_list_alerts: a.hot_list_alerts,
            })
        })
    }

    fn create_authorisation(&self, a: &Authorisation) -> Result<Authorisation> {
        self.with_writer(|conn| {
            conn.execute(
                &format!(
                    "INSERT INTO authorisations ({}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9,
                     ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25)",
                    AUTH_COLUMNS.trim_start_matches("id, ")
                ),
                rusqlite::params_from_iter(auth_params(a).iter().map(|b| b.as_ref())),
            )?;
            // Read back: what is returned is exactly what is stored (times in milliseconds).
            authorisation(conn, conn.last_insert_rowid())?
                .ok_or_else(|| StoreError::NotFound("the authorisation just stored".into()))
        })
    }

    fn update_authorisation(&self, a: &Authorisation, expected: AuthStatus) -> Result<()> {
        self.with_writer(|conn| {
            let sets: Vec<String> = AUTH_COLUMNS
                .split(", ")
                .skip(1)
                .enumerate()
                .map(|(i, c)| format!("{c} = ?{}", i + 1))
                .collect();
            let mut values = auth_params(a);
            values.push(Box::new(a.id));
            values.push(Box::new(expected.as_str()));
            let n = conn.execute(
                &format!(
                    "UPDATE authorisations SET {} WHERE id = ?26 AND status = ?27",
                    sets.join(", ")
                ),
                rusqlite::params_from_iter(values.iter().map(|b| b.as_ref())),
            )?;
            if n == 0 {
                return Err(StoreError::Conflict(format!(
                    "authorisation {} changed meanwhile; reload it",
                    a.id
                )));
            }
            Ok(())
        })
    }

    fn authorisations(&self, f: &AuthorisationFilter) -> Result<Vec<Authorisation>> {
        let mut conds = vec!["1 = 1".to_string()];
        let mut values: Vec<Box<dyn rusqlite::ToSql>> = Vec::new();
        let mut bind = |sql: &str, v: Box<dyn rusqlite::ToSql>, conds: &mut Vec<String>| {
            values.push(v);
            conds.push(sql.replace('?', &format!("?{}", values.len())));
        };
        if let Some(k) = f.kind {
            bind("kind = ?", Box::new(k.as_str()), &mut conds);
        }
        if let Some(d) = &f.district {
            bind(
                "district = ? COLLATE NOCASE",
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
            let list: Vec<String> = f
                .statuses
                .iter()
                .map(|s| format!("'{}'", s.as_str()))
                .collect();
            conds.push(format!("status IN ({})", list.join(", ")));
        }
        let limit = f.limit.unwrap_or(500).clamp(1, 5000);
        self.with_reader(|conn| {
            let mut stmt = conn.prepare(&format!(
                "SELECT {AUTH_COLUMNS} FROM authorisations WHERE {} ORDER BY id DESC LIMIT {limit}",
                conds.join(" AND ")
            ))?;
            let rows = stmt.query_map(
                rusqlite::params_from_iter(values.iter().map(|b| b.as_ref())),
                auth_from_row,
            )?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn record_decision(&self, d: &Decision) -> Result<i64> {
        self.with_use_log(|conn| {
            let tx = conn.transaction()?;
            tx.prepare_cached(
                "INSERT INTO decisions (at, request_id, actor, user_id, district, action, target,
                 purpose_code, file_number, justification, basis, outcome, refusal_code,
                 refusal_reason, notes, training, authorisation_id, fuzzy)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16,
                 ?17, ?18)",
            )?
            .execute(params![
                to_ms(d.at),
                d.request_id,
                d.actor,
                d.user_id,
                d.district,
                d.action.as_str(),
                d.target,
                d.purpose_code,
                d.file_number,
                d.justification,
                d.basis,
                d.outcome.as_str(),
                d.refusal_code,
                d.refusal_reason,
                json(&d.notes),
                d.training,
                d.authorisation_id,
                d.fuzzy
            ])?;
            let id = tx.last_insert_rowid();
            {
                let mut add = tx.prepare_cached(
                    "INSERT OR IGNORE INTO decision_networks (decision_id, network_id)
                     VALUES (?1, ?2)",
                )?;
                for n in &d.networks {
                    add.execute(params![id, n])?;
                }
            }
            tx.commit()?;
            Ok(id)
        })
    }

    fn decisions(&self, user: Option<UserId>, limit: u32) -> Result<Vec<Decision>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT at, request_id, actor, user_id, district, action, target, purpose_code,
                 file_number, justification, basis, outcome, refusal_code, refusal_reason, notes,
                 training, authorisation_id,
                 (SELECT group_concat(network_id) FROM decision_networks
                  WHERE decision_id = decisions.id), fuzzy FROM decisions
                 WHERE ?1 IS NULL OR user_id = ?1 ORDER BY id DESC LIMIT ?2",
            )?;
            let rows = stmt.query_map(params![user, limit.clamp(1, 10_000)], |r| {
                let action: String = r.get(5)?;
                let outcome: String = r.get(11)?;
                let notes: String = r.get(14)?;
                Ok(Decision {
                    at: from_ms(r.get(0)?),
                    request_id: r.get(1)?,
                    actor: r.get(2)?,
                    user_id: r.get(3)?,
                    district: r.get(4)?,
                    action: serde_json::from_value::<DecisionAction>(action.into())
                        .map_err(|_| bad_value(5, "action"))?,
                    target: r.get(6)?,
                    purpose_code: r.get(7)?,
                    file_number: r.get(8)?,
                    justification: r.get(9)?,
                    basis: r.get(10)?,
                    outcome: serde_json::from_value::<DecisionOutcome>(outcome.into())
                        .map_err(|_| bad_value(11, "outcome"))?,
                    refusal_code: r.get(12)?,
                    refusal_reason: r.get(13)?,
                    notes: serde_json::from_str(&notes).unwrap_or_default(),
                    training: r.get(15)?,
                    fuzzy: r.get(18)?,
                    authorisation_id: r.get(16)?,
                    networks: r
                        .get::<_, Option<String>>(17)?
                        .unwrap_or_default()
                        .split(',')
                        .filter_map(|n| n.parse().ok())
                        .collect(),
                })
            })?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }
}

fn authorisation(conn: &Connection, id: i64) -> Result<Option<Authorisation>> {
    Ok(conn
        .prepare_cached(&format!(
            "SELECT {AUTH_COLUMNS} FROM authorisations WHERE id = ?1"
        ))?
        .query_row([id], auth_from_row)
        .optional()?)
}

fn auth_params(a: &Authorisation) -> Vec<Box<dyn rusqlite::ToSql>> {
    let t = |v: Option<DateTime<Utc>>| -> Box<dyn rusqlite::ToSql> { Box::new(v.map(to_ms)) };
    vec![
        Box::new(a.kind.as_str()),
        Box::new(a.plate.clone()),
        Box::new(a.requester_user_id),
        Box::new(a.requester_staff_id.clone()),
        Box::new(a.district.clone()),
        Box::new(a.purpose_code.clone()),
        Box::new(a.file_number.clone()),
        Box::new(a.justification.clone()),
        Box::new(a.basis.as_str()),
        Box::new(a.stolen_entry_id),
        Box::new(json(&a.approval_reasons)),
        Box::new(a.status.as_str()),
        Box::new(to_ms(a.requested_at)),
        t(a.approval_deadline),
        Box::new(a.duration_minutes),
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

static RECENT_DATA_ACCESSES: std::sync::LazyLock<String> = std::sync::LazyLock::new(|| {
    crate::shared::numbered_for_sqlite(crate::shared::SQL_RECENT_DATA_ACCESSES)
});

/// `user`'s allowed data accesses within `w` (see [`crate::Store::recent_data_accesses`]).
fn recent_accesses(
    conn: &Connection,
    user: UserId,
    w: &RateWindows,
) -> Result<anpr_policy::RecentAccesses> {
    // `decisions_user_time`: the user's decisions from the earlier window start.
    let (any, this): (i64, i64) = conn.prepare_cached(&RECENT_DATA_ACCESSES)?.query_row(
        params![
            user,
            to_ms(w.since_any),
            w.purpose,
            to_ms(w.since_purpose),
            to_ms(w.since_any.min(w.since_purpose))
        ],
        |r| Ok((r.get(0)?, r.get(1)?)),
    )?;
    Ok(anpr_policy::RecentAccesses {
        any_purpose: any.max(0) as u64,
        this_purpose: this.max(0) as u64,
    })
}

impl SqliteStore {
    /// Runs `f` over the registers on a reader connection, on the calling thread (for the
    /// benchmark and other synchronous callers; the server goes through
    /// [`crate::Store::access_facts`]).
    pub fn with_registers_blocking<T>(&self, f: impl FnOnce(&dyn RegisterView) -> T) -> Result<T> {
        self.inner
            .with_reader(|conn| with_cached(conn, &self.inner.register_cache, f))
    }

    /// The register facts, the recent accesses and the controls' version on one reader, in one
    /// trip to the blocking pool.
    pub(crate) async fn decision_facts_impl(
        &self,
        q: FactsRequest,
        windows: Option<RateWindows>,
    ) -> Result<DecisionFacts> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                let mut facts = with_cached(conn, &inner.register_cache, |view| {
                    gather(view, &q.as_query())
                })??;
                if let Some(w) = &windows {
                    facts.recent_accesses = recent_accesses(conn, q.user_id, w)?;
                }
                Ok(DecisionFacts {
                    facts,
                    controls_version: super::network::controls_version(conn)?,
                })
            })
        })
        .await
    }

    pub(crate) async fn access_facts_impl(&self, q: FactsRequest) -> Result<AccessFacts> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                with_cached(conn, &inner.register_cache, |view| {
                    gather(view, &q.as_query())
                })?
                .map_err(Into::into)
            })
        })
        .await
    }

    pub(crate) async fn import_register_impl(
        &self,
        batch: RegisterBatch,
        src: ImportSource,
    ) -> Result<ImportReport> {
        self.blocking(move |inner| inner.import_register(batch, &src))
            .await
    }

    pub(crate) async fn register_count_impl(&self, kind: RegisterKind) -> Result<u64> {
        let table = match kind {
            RegisterKind::Vehicles => "reg_vehicles",
            RegisterKind::Staff => "reg_staff",
            RegisterKind::Associates => "reg_associates",
            RegisterKind::Stolen => "reg_stolen",
            RegisterKind::Incidents => "reg_incidents",
        };
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                Ok(
                    c.query_row(&format!("SELECT COUNT(*) FROM {table}"), [], |r| {
                        r.get::<_, i64>(0)
                    })? as u64,
                )
            })
        })
        .await
    }

    pub(crate) async fn network_agreements_impl(&self) -> Result<Vec<NetworkAgreement>> {
        self.blocking(|inner| inner.with_reader(|c| Ok(load_agreements(c)?)))
            .await
    }

    pub(crate) async fn set_network_agreement_impl(
        &self,
        a: NetworkAgreement,
    ) -> Result<NetworkAgreement> {
        self.blocking(move |inner| inner.set_agreement(&a)).await
    }

    pub(crate) async fn create_authorisation_impl(
        &self,
        a: Authorisation,
    ) -> Result<Authorisation> {
        self.blocking(move |inner| inner.create_authorisation(&a))
            .await
    }

    pub(crate) async fn authorisation_impl(&self, id: i64) -> Result<Option<Authorisation>> {
        self.blocking(move |inner| inner.with_reader(|c| authorisation(c, id)))
            .await
    }

    pub(crate) async fn update_authorisation_impl(
        &self,
        a: Authorisation,
        expected: AuthStatus,
    ) -> Result<()> {
        self.blocking(move |inner| inner.update_authorisation(&a, expected))
            .await
    }

    pub(crate) async fn authorisations_impl(
        &self,
        f: AuthorisationFilter,
    ) -> Result<Vec<Authorisation>> {
        self.blocking(move |inner| inner.authorisations(&f)).await
    }

    pub(crate) async fn stolen_entry_impl(&self, id: i64) -> Result<Option<StolenEntry>> {
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                Ok(c.prepare_cached(&format!(
                    "SELECT {STOLEN_COLUMNS} FROM reg_stolen WHERE id = ?1"
                ))?
                .query_row([id], stolen_from_row)
                .optional()?)
            })
        })
        .await
    }

    pub(crate) async fn decisions_impl(
        &self,
        user: Option<UserId>,
        limit: u32,
    ) -> Result<Vec<Decision>> {
        self.blocking(move |inner| inner.decisions(user, limit))
            .await
    }

    pub(crate) async fn recent_data_accesses_impl(
        &self,
        user: UserId,
        purpose: &str,
        since_any: DateTime<Utc>,
        since_purpose: DateTime<Utc>,
    ) -> Result<anpr_policy::RecentAccesses> {
        let windows = RateWindows {
            purpose: purpose.trim().to_string(),
            since_any,
            since_purpose,
        };
        self.blocking(move |inner| inner.with_reader(|conn| recent_accesses(conn, user, &windows)))
            .await
    }

    pub(crate) async fn allowed_decisions_since_impl(
        &self,
        user: UserId,
        action: DecisionAction,
        since: DateTime<Utc>,
    ) -> Result<u64> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                // `decisions_user_time`: the user's decisions from `since`.
                let n: i64 = conn
                    .prepare_cached(
                        "SELECT COUNT(*) FROM decisions WHERE user_id = ?1 AND at >= ?2
                         AND action = ?3 AND outcome IN ('allowed', 'allowed_with_limits')",
                    )?
                    .query_row(params![user, to_ms(since), action.as_str()], |r| r.get(0))?;
                Ok(n.max(0) as u64)
            })
        })
        .await
    }
}

/// Decisions go to the `decisions` table before the caller returns (its own connection, without
/// a per-commit fsync: the durable write-ahead record of the request is its audit-ledger entry).
/// Synchronous: call it from a blocking context.
impl DecisionRecorder for SqliteStore {
    fn record(&self, d: &Decision) -> anpr_policy::Result<()> {
        self.inner
            .record_decision(d)
            .map(|_| ())
            .map_err(|e| PolicyError::Recording(e.to_string()))
    }
}

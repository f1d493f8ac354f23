//! The open incident files a member of staff may state: their district's, newest first, and
//! those assigned to them (`reg_incident_staff`, kept with each file's row).

use super::access::incident_from_row;
use super::{to_ms, SqliteStore};
use crate::Result;
use anpr_policy::registers::IncidentRecord;
use chrono::{DateTime, Utc};
use rusqlite::{params, Transaction};

const COLUMNS: &str = "i.file_number, i.incident_type, i.district, i.opened_at, i.closed_at, \
    i.assigned_staff";

/// Replaces the assignments of `incident` with those its record names.
pub(super) fn set_assigned(tx: &Transaction<'_>, incident: &IncidentRecord) -> Result<()> {
    tx.prepare_cached("DELETE FROM reg_incident_staff WHERE file_number = ?1")?
        .execute([&incident.file_number])?;
    let mut insert = tx.prepare_cached(
        "INSERT OR IGNORE INTO reg_incident_staff (staff_id, file_number) VALUES (?1, ?2)",
    )?;
    for staff in &incident.assigned_staff {
        insert.execute([staff, &incident.file_number])?;
    }
    Ok(())
}

impl SqliteStore {
    pub(crate) async fn open_incidents_impl(
        &self,
        district: &str,
        staff_id: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>> {
        let (district, staff_id) = (district.to_string(), staff_id.to_string());
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                let (now, limit) = (to_ms(now), i64::from(limit));
                let open = "i.opened_at <= ?2 AND (i.closed_at IS NULL OR i.closed_at > ?2)";
                let mut out: Vec<IncidentRecord> = c
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM reg_incidents i INDEXED BY reg_incidents_district
                         WHERE i.district = ?1 COLLATE NOCASE AND {open}
                         ORDER BY i.opened_at DESC LIMIT ?3"
                    ))?
                    .query_map(params![district, now, limit], incident_from_row)?
                    .collect::<rusqlite::Result<_>>()?;
                let assigned = c
                    .prepare_cached(&format!(
                        "SELECT {COLUMNS} FROM reg_incident_staff s
                         JOIN reg_incidents i ON i.file_number = s.file_number
                         WHERE s.staff_id = ?1 AND {open} ORDER BY i.opened_at DESC LIMIT ?3"
                    ))?
                    .query_map(params![staff_id, now, limit], incident_from_row)?
                    .collect::<rusqlite::Result<Vec<_>>>()?;
                for i in assigned {
                    if !out.iter().any(|o| o.file_number == i.file_number) {
                        out.push(i);
                    }
                }
                Ok(out)
            })
        })
        .await
    }
}

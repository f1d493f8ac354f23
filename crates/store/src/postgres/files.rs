//! The open incident files a member of staff may state: their district's, newest first, and
//! those assigned to them (`reg_incident_staff`, kept with each file's row).

use super::access::incident_from_row;
use super::PgStore;
use crate::shared::to_ms;
use crate::Result;
use anpr_policy::registers::IncidentRecord;
use chrono::{DateTime, Utc};

const COLUMNS: &str = "i.file_number, i.incident_type, i.district, i.opened_at, i.closed_at, \
    i.assigned_staff";
const OPEN: &str = "i.opened_at <= $2 AND (i.closed_at IS NULL OR i.closed_at > $2)";

/// Replaces the assignments of `incident` with those its record names.
pub(super) async fn set_assigned(
    tx: &deadpool_postgres::Transaction<'_>,
    incident: &IncidentRecord,
) -> Result<()> {
    tx.execute(
        "DELETE FROM reg_incident_staff WHERE file_number = $1",
        &[&incident.file_number],
    )
    .await?;
    tx.execute(
        "INSERT INTO reg_incident_staff (staff_id, file_number)
         SELECT DISTINCT s, $2 FROM unnest($1::text[]) AS s ON CONFLICT DO NOTHING",
        &[&incident.assigned_staff, &incident.file_number],
    )
    .await?;
    Ok(())
}

impl PgStore {
    pub(crate) async fn open_incidents_impl(
        &self,
        district: &str,
        staff_id: &str,
        now: DateTime<Utc>,
        limit: u32,
    ) -> Result<Vec<IncidentRecord>> {
        let (now, limit) = (to_ms(now), i64::from(limit));
        let client = self.inner().client().await?;
        let by_district = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM reg_incidents i
                 WHERE lower(i.district) = lower($1) AND {OPEN}
                 ORDER BY i.opened_at DESC LIMIT $3"
            ))
            .await?;
        let assigned = client
            .prepare_cached(&format!(
                "SELECT {COLUMNS} FROM reg_incident_staff s
                 JOIN reg_incidents i ON i.file_number = s.file_number
                 WHERE s.staff_id = $1 AND {OPEN} ORDER BY i.opened_at DESC LIMIT $3"
            ))
            .await?;
        let (mine, theirs) = futures_util::future::try_join(
            client.query(&by_district, &[&district, &now, &limit]),
            client.query(&assigned, &[&staff_id, &now, &limit]),
        )
        .await?;
        let mut out: Vec<IncidentRecord> = mine.iter().map(incident_from_row).collect();
        for i in theirs.iter().map(incident_from_row) {
            if !out.iter().any(|o| o.file_number == i.file_number) {
                out.push(i);
            }
        }
        Ok(out)
    }
}

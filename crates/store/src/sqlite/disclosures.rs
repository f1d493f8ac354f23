//! What each user was shown: the reads a search page or an alert disclosed to them, under
//! which purpose and file (read views are allowed only of these).

use super::{from_ms, to_ms, SqliteStore};
use crate::Result;
use anpr_domain::{ReadId, UserId};
use anpr_policy::{DisclosedBy, Disclosure};
use chrono::{DateTime, Utc};
use rusqlite::params;

impl SqliteStore {
    pub(crate) async fn record_disclosures_impl(&self, d: Vec<Disclosure>) -> Result<()> {
        let d = crate::shared::dedup_disclosures(d);
        if d.is_empty() {
            return Ok(());
        }
        // On the use log's connection: no fsync per commit (see `Store::record_disclosures`).
        self.blocking(move |inner| {
            inner.with_use_log(|conn| {
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO disclosures (user_id, read_id, purpose_code, file_number, at,
                             via)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)
                         ON CONFLICT (user_id, read_id, purpose_code, file_number)
                         DO UPDATE SET at = max(at, excluded.at), via = excluded.via",
                    )?;
                    for x in &d {
                        insert.execute(params![
                            x.user_id,
                            x.read_id,
                            x.purpose_code,
                            x.file_number,
                            to_ms(x.at),
                            x.by.as_str()
                        ])?;
                    }
                }
                tx.commit()?;
                Ok(())
            })
        })
        .await
    }

    pub(crate) async fn disclosures_impl(
        &self,
        user: UserId,
        read: ReadId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Disclosure>> {
        self.blocking(move |inner| {
            inner.with_reader(|conn| {
                let mut stmt = conn.prepare_cached(
                    "SELECT purpose_code, file_number, at, via FROM disclosures
                     WHERE user_id = ?1 AND read_id = ?2 AND at >= ?3
                     ORDER BY at DESC LIMIT 50",
                )?;
                let rows = stmt.query_map(params![user, read, to_ms(since)], |r| {
                    let via: String = r.get(3)?;
                    Ok(Disclosure {
                        user_id: user,
                        read_id: read,
                        purpose_code: r.get(0)?,
                        file_number: r.get(1)?,
                        at: from_ms(r.get(2)?),
                        by: DisclosedBy::parse(&via).unwrap_or(DisclosedBy::Search),
                    })
                })?;
                Ok(rows.collect::<rusqlite::Result<_>>()?)
            })
        })
        .await
    }

    pub(crate) async fn prune_disclosures_impl(&self, before: DateTime<Utc>) -> Result<u64> {
        self.blocking(move |inner| {
            inner.with_use_log(|conn| {
                Ok(conn.execute(
                    "DELETE FROM disclosures WHERE at < ?1",
                    params![to_ms(before)],
                )? as u64)
            })
        })
        .await
    }
}

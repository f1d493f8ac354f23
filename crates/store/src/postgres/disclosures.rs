//! What each user was shown: the reads a search page or an alert disclosed to them, under
//! which purpose and file (read views are allowed only of these).

use super::PgStore;
use crate::shared::{from_ms, to_ms};
use crate::Result;
use anpr_domain::{ReadId, UserId};
use anpr_policy::{DisclosedBy, Disclosure};
use chrono::{DateTime, Utc};

impl PgStore {
    pub(crate) async fn record_disclosures_impl(&self, d: Vec<Disclosure>) -> Result<()> {
        let d = crate::shared::dedup_disclosures(d);
        if d.is_empty() {
            return Ok(());
        }
        let users: Vec<i64> = d.iter().map(|x| x.user_id).collect();
        let reads: Vec<i64> = d.iter().map(|x| x.read_id).collect();
        let codes: Vec<&str> = d.iter().map(|x| x.purpose_code.as_str()).collect();
        let files: Vec<&str> = d.iter().map(|x| x.file_number.as_str()).collect();
        let ats: Vec<i64> = d.iter().map(|x| to_ms(x.at)).collect();
        let vias: Vec<&str> = d.iter().map(|x| x.by.as_str()).collect();
        let mut client = self.inner().client().await?;
        // One statement for the batch, committed without waiting for the WAL flush: as on
        // SQLite (`Store::record_disclosures`), the durable record of the use is its ledger
        // entry, and a flush here was one more fsync on every search page.
        let tx = client.transaction().await?;
        tx.batch_execute("SET LOCAL synchronous_commit = off")
            .await?;
        let stmt = tx
            .prepare_cached(
                "INSERT INTO disclosures (user_id, read_id, purpose_code, file_number, at, via)
                 SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::text[], $4::text[],
                     $5::bigint[], $6::text[])
                 ON CONFLICT (user_id, read_id, purpose_code, file_number)
                 DO UPDATE SET at = GREATEST(disclosures.at, EXCLUDED.at), via = EXCLUDED.via",
            )
            .await?;
        tx.execute(&stmt, &[&users, &reads, &codes, &files, &ats, &vias])
            .await?;
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn disclosures_impl(
        &self,
        user: UserId,
        read: ReadId,
        since: DateTime<Utc>,
    ) -> Result<Vec<Disclosure>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT purpose_code, file_number, at, via FROM disclosures
                 WHERE user_id = $1 AND read_id = $2 AND at >= $3
                 ORDER BY at DESC LIMIT 50",
            )
            .await?;
        let rows = client.query(&stmt, &[&user, &read, &to_ms(since)]).await?;
        Ok(rows
            .iter()
            .map(|r| {
                let via: &str = r.get(3);
                Disclosure {
                    user_id: user,
                    read_id: read,
                    purpose_code: r.get(0),
                    file_number: r.get(1),
                    at: from_ms(r.get(2)),
                    by: DisclosedBy::parse(via).unwrap_or(DisclosedBy::Search),
                }
            })
            .collect())
    }

    pub(crate) async fn prune_disclosures_impl(&self, before: DateTime<Utc>) -> Result<u64> {
        let client = self.inner().client().await?;
        Ok(client
            .execute("DELETE FROM disclosures WHERE at < $1", &[&to_ms(before)])
            .await?)
    }
}

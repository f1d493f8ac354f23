//! Integrity findings, review cases and runs on PostgreSQL.

use super::PgStore;
use crate::cases::{CaseFilter, CaseStore, IntegrityRun, SaveReport};
use crate::shared::{
    evidence_json, from_ms, to_ms, CaseRow, KnownFinding, CASE_COLUMNS, MAX_CASES,
};
use crate::{Result, StoreError};
use anpr_domain::finding::Finding;
use anpr_domain::review::{Case, CaseOutcome, CaseQueue, CaseStatus};
use anpr_policy::RegisterView;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use tokio_postgres::types::ToSql;
use tokio_postgres::Row;

type Param = Box<dyn ToSql + Sync + Send>;

fn case_from_row(r: &Row) -> Result<Case> {
    CaseRow {
        id: r.get(0),
        queue: r.get(1),
        status: r.get(2),
        staff_id: r.get(3),
        district: r.get(4),
        assigned_to: r.get(5),
        explanation_request: r.get(6),
        explanation: r.get(7),
        explained_at: r.get(8),
        outcome: r.get(9),
        closing_note: r.get(10),
        closed_by: r.get(11),
        closed_at: r.get(12),
        opened_at: r.get(13),
        updated_at: r.get(14),
        finding_id: r.get(15),
        rule: r.get(16),
        severity: r.get(17),
        key: r.get(18),
        evidence: r.get(19),
        uses: r.get(20),
        finding_explanation: r.get(21),
        first_at: r.get(22),
        last_at: r.get(23),
    }
    .parse()
    .map_err(|(column, value)| {
        StoreError::Schema(format!("unknown {column} {value:?} in the database"))
    })
}

#[async_trait]
impl CaseStore for PgStore {
    async fn save_findings(
        &self,
        findings: Vec<Finding>,
        now: DateTime<Utc>,
    ) -> Result<SaveReport> {
        // Several processes may store findings at once: each locks the findings it merges
        // into, always in key order so that two runs over the same keys cannot deadlock (a
        // stable sort, so a key repeated within the batch is still merged in batch order).
        let mut ordered: Vec<&Finding> = findings.iter().collect();
        ordered.sort_by(|a, b| {
            (a.rule.as_str(), &a.staff_id, &a.key).cmp(&(b.rule.as_str(), &b.staff_id, &b.key))
        });
        let mut client = self.inner().client().await?;
        let tx = client.transaction().await?;
        let find = tx
            .prepare_cached(
                "SELECT id, severity, evidence, uses, first_at, last_at FROM integrity_findings
                 WHERE rule = $1 AND staff_id = $2 AND key = $3 FOR UPDATE",
            )
            .await?;
        // DO NOTHING waits for a concurrent insert of the same key and then yields no row:
        // the finding is then merged into as a known one.
        let insert = tx
            .prepare_cached(
                "INSERT INTO integrity_findings (rule, severity, staff_id, key, evidence, uses,
                 explanation, first_at, last_at, found_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
                 ON CONFLICT (rule, staff_id, key) DO NOTHING RETURNING id",
            )
            .await?;
        let update = tx
            .prepare_cached(
                "UPDATE integrity_findings SET severity = $2, evidence = $3, uses = $4,
                 explanation = $5, first_at = $6, last_at = $7, updated_at = $8 WHERE id = $1",
            )
            .await?;
        let open = tx
            .prepare_cached(
                "INSERT INTO integrity_cases (finding_id, queue, status, staff_id, district,
                 opened_at, updated_at)
                 VALUES ($1, $2, 'open', $3, (SELECT district FROM users WHERE staff_id = $3),
                 $4, $4)",
            )
            .await?;
        let mut report = SaveReport::default();
        for f in ordered {
            let evidence = evidence_json(&f.evidence)?;
            let key: [&(dyn ToSql + Sync); 3] = [&f.rule.as_str(), &f.staff_id, &f.key];
            let mut existing = tx.query_opt(&find, &key).await?;
            if existing.is_none() {
                let inserted = tx
                    .query_opt(
                        &insert,
                        &[
                            &f.rule.as_str(),
                            &f.severity.as_str(),
                            &f.staff_id,
                            &f.key,
                            &evidence,
                            &(f.uses as i64),
                            &f.explanation,
                            &to_ms(f.first_at),
                            &to_ms(f.last_at),
                            &to_ms(now),
                        ],
                    )
                    .await?;
                if let Some(row) = inserted {
                    let id: i64 = row.get(0);
                    tx.execute(
                        &open,
                        &[
                            &id,
                            &CaseQueue::for_rule(f.rule).as_str(),
                            &f.staff_id,
                            &to_ms(now),
                        ],
                    )
                    .await?;
                    report.opened += 1;
                    continue;
                }
                existing = tx.query_opt(&find, &key).await?;
            }
            let Some(row) = existing else {
                return Err(StoreError::Conflict(format!(
                    "finding {} of {} on {:?} was stored and removed meanwhile",
                    f.rule.as_str(),
                    f.staff_id,
                    f.key
                )));
            };
            let id: i64 = row.get(0);
            let m = KnownFinding {
                severity: row.get(1),
                evidence: row.get(2),
                uses: row.get(3),
                first_at: row.get(4),
                last_at: row.get(5),
            }
            .merge(f)?;
            tx.execute(
                &update,
                &[
                    &id,
                    &m.severity.as_str(),
                    &m.evidence,
                    &m.uses,
                    &f.explanation,
                    &m.first_at,
                    &m.last_at,
                    &to_ms(now),
                ],
            )
            .await?;
            report.updated += 1;
        }
        tx.commit().await?;
        Ok(report)
    }

    async fn record_integrity_run(&self, run: IntegrityRun) -> Result<()> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "INSERT INTO integrity_runs (at, from_index, to_index, uses, opened, updated)
                 VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .await?;
        client
            .execute(
                &stmt,
                &[
                    &to_ms(run.at),
                    &(run.from_index as i64),
                    &run.to_index.map(|i| i as i64),
                    &(run.uses as i64),
                    &(run.opened as i64),
                    &(run.updated as i64),
                ],
            )
            .await?;
        Ok(())
    }

    async fn last_integrity_run(&self) -> Result<Option<IntegrityRun>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT at, from_index, to_index, uses, opened, updated FROM integrity_runs
                 ORDER BY id DESC LIMIT 1",
            )
            .await?;
        Ok(client.query_opt(&stmt, &[]).await?.map(|r| IntegrityRun {
            at: from_ms(r.get(0)),
            from_index: r.get::<_, i64>(1) as u64,
            to_index: r.get::<_, Option<i64>>(2).map(|i| i as u64),
            uses: r.get::<_, i64>(3) as u64,
            opened: r.get::<_, i64>(4) as u64,
            updated: r.get::<_, i64>(5) as u64,
        }))
    }

    async fn cases(&self, f: CaseFilter) -> Result<Vec<Case>> {
        let mut clauses: Vec<String> = Vec::new();
        let mut params: Vec<Param> = Vec::new();
        let mut bind = |clause: &str, v: Param, clauses: &mut Vec<String>| {
            params.push(v);
            clauses.push(clause.replace('?', &format!("${}", params.len())));
        };
        if let Some(q) = f.queue {
            bind("c.queue = ?", Box::new(q.as_str()), &mut clauses);
        }
        if let Some(s) = f.staff_id {
            bind("c.staff_id = ?", Box::new(s), &mut clauses);
        }
        if let Some(d) = f.district {
            bind("c.district = ?", Box::new(d), &mut clauses);
        }
        if let Some(a) = f.assigned_to {
            bind("c.assigned_to = ?", Box::new(a), &mut clauses);
        }
        if let Some(b) = f.before_id {
            bind("c.id < ?", Box::new(b), &mut clauses);
        }
        if !f.statuses.is_empty() {
            let statuses: Vec<&'static str> = f.statuses.iter().map(|s| s.as_str()).collect();
            bind("c.status = ANY(?)", Box::new(statuses), &mut clauses);
        }
        params.push(Box::new(i64::from(f.limit.clamp(1, MAX_CASES))));
        let sql = format!(
            "SELECT {CASE_COLUMNS} FROM integrity_cases c
             JOIN integrity_findings f ON f.id = c.finding_id
             {} ORDER BY c.id DESC LIMIT ${}",
            if clauses.is_empty() {
                String::new()
            } else {
                format!("WHERE {}", clauses.join(" AND "))
            },
            params.len()
        );
        let refs: Vec<&(dyn ToSql + Sync)> = params
            .iter()
            .map(|p| p.as_ref() as &(dyn ToSql + Sync))
            .collect();
        let client = self.inner().client().await?;
        let stmt = client.prepare_cached(&sql).await?;
        client
            .query(&stmt, &refs)
            .await?
            .iter()
            .map(case_from_row)
            .collect()
    }

    async fn case(&self, id: i64) -> Result<Option<Case>> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {CASE_COLUMNS} FROM integrity_cases c
                 JOIN integrity_findings f ON f.id = c.finding_id WHERE c.id = $1"
            ))
            .await?;
        client
            .query_opt(&stmt, &[&id])
            .await?
            .map(|r| case_from_row(&r))
            .transpose()
    }

    async fn update_case(&self, c: Case, expected: CaseStatus) -> Result<()> {
        let client = self.inner().client().await?;
        let stmt = client
            .prepare_cached(
                "UPDATE integrity_cases SET status = $2, assigned_to = $3,
                 explanation_request = $4, explanation = $5, explained_at = $6, outcome = $7,
                 closing_note = $8, closed_by = $9, closed_at = $10, updated_at = $11
                 WHERE id = $1 AND status = $12",
            )
            .await?;
        let n = client
            .execute(
                &stmt,
                &[
                    &c.id,
                    &c.status.as_str(),
                    &c.assigned_to,
                    &c.explanation_request,
                    &c.explanation,
                    &c.explained_at.map(to_ms),
                    &c.outcome.map(CaseOutcome::as_str),
                    &c.closing_note,
                    &c.closed_by,
                    &c.closed_at.map(to_ms),
                    &to_ms(c.updated_at),
                    &expected.as_str(),
                ],
            )
            .await?;
        if n == 0 {
            return Err(StoreError::Conflict(format!(
                "case {} is no longer {}",
                c.id,
                expected.as_str()
            )));
        }
        Ok(())
    }

    fn with_registers(&self, f: &mut dyn FnMut(&dyn RegisterView)) -> Result<()> {
        self.with_registers_blocking(|view| f(view))
    }
}

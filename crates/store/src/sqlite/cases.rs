//! Integrity findings, review cases and runs in SQLite.

use super::{from_ms, to_ms, SqliteStore};
use crate::cases::{CaseFilter, CaseStore, IntegrityRun, SaveReport};
use crate::shared::{evidence_json, CaseRow, KnownFinding, CASE_COLUMNS, MAX_CASES};
use crate::{Result, StoreError};
use anpr_domain::finding::Finding;
use anpr_domain::review::{Case, CaseOutcome, CaseQueue, CaseStatus};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Row};

fn bad(column: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {column} {value:?}").into(),
    )
}

fn case_from_row(r: &Row<'_>) -> rusqlite::Result<Case> {
    CaseRow {
        id: r.get(0)?,
        queue: r.get(1)?,
        status: r.get(2)?,
        staff_id: r.get(3)?,
        district: r.get(4)?,
        assigned_to: r.get(5)?,
        explanation_request: r.get(6)?,
        explanation: r.get(7)?,
        explained_at: r.get(8)?,
        outcome: r.get(9)?,
        closing_note: r.get(10)?,
        closed_by: r.get(11)?,
        closed_at: r.get(12)?,
        opened_at: r.get(13)?,
        updated_at: r.get(14)?,
        finding_id: r.get(15)?,
        rule: r.get(16)?,
        severity: r.get(17)?,
        key: r.get(18)?,
        evidence: r.get(19)?,
        uses: r.get(20)?,
        finding_explanation: r.get(21)?,
        first_at: r.get(22)?,
        last_at: r.get(23)?,
    }
    .parse()
    .map_err(|(column, value)| bad(column, &value))
}

fn opt_ms(t: Option<DateTime<Utc>>) -> Option<i64> {
    t.map(to_ms)
}

#[async_trait]
impl CaseStore for SqliteStore {
    async fn save_findings(
        &self,
        findings: Vec<Finding>,
        now: DateTime<Utc>,
    ) -> Result<SaveReport> {
        self.blocking(move |inner| {
            inner.with_writer(|conn| {
                let tx = conn.transaction()?;
                let mut report = SaveReport::default();
                {
                    let mut find = tx.prepare_cached(
                        "SELECT id, severity, evidence, uses, first_at, last_at FROM integrity_findings
                         WHERE rule = ?1 AND staff_id = ?2 AND key = ?3",
                    )?;
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO integrity_findings (rule, severity, staff_id, key, evidence, uses,
                         explanation, first_at, last_at, found_at, updated_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10)",
                    )?;
                    let mut update = tx.prepare_cached(
                        "UPDATE integrity_findings SET severity = ?2, evidence = ?3, uses = ?4,
                         explanation = ?5, first_at = ?6, last_at = ?7, updated_at = ?8 WHERE id = ?1",
                    )?;
                    let mut open = tx.prepare_cached(
                        "INSERT INTO integrity_cases (finding_id, queue, status, staff_id, district,
                         opened_at, updated_at)
                         VALUES (?1, ?2, 'open', ?3, (SELECT district FROM users WHERE staff_id = ?3), ?4, ?4)",
                    )?;
                    for f in &findings {
                        let evidence = evidence_json(&f.evidence)?;
                        let existing = find
                            .query_row(params![f.rule.as_str(), f.staff_id, f.key], |r| {
                                Ok((
                                    r.get::<_, i64>(0)?,
                                    KnownFinding {
                                        severity: r.get(1)?,
                                        evidence: r.get(2)?,
                                        uses: r.get(3)?,
                                        first_at: r.get(4)?,
                                        last_at: r.get(5)?,
                                    },
                                ))
                            })
                            .optional()?;
                        match existing {
                            Some((id, known)) => {
                                let m = known.merge(f)?;
                                update.execute(params![
                                    id,
                                    m.severity.as_str(),
                                    m.evidence,
                                    m.uses,
                                    f.explanation,
                                    m.first_at,
                                    m.last_at,
                                    to_ms(now)
                                ])?;
                                report.updated += 1;
                            }
                            None => {
                                insert.execute(params![
                                    f.rule.as_str(),
                                    f.severity.as_str(),
                                    f.staff_id,
                                    f.key,
                                    evidence,
                                    f.uses as i64,
                                    f.explanation,
                                    to_ms(f.first_at),
                                    to_ms(f.last_at),
                                    to_ms(now)
                                ])?;
                                let id = tx.last_insert_rowid();
                                open.execute(params![
                                    id,
                                    CaseQueue::for_rule(f.rule).as_str(),
                                    f.staff_id,
                                    to_ms(now)
                                ])?;
                                report.opened += 1;
                            }
                        }
                    }
                }
                tx.commit()?;
                Ok(report)
            })
        })
        .await
    }

    async fn record_integrity_run(&self, run: IntegrityRun) -> Result<()> {
        self.blocking(move |inner| {
            inner.with_writer(|conn| {
                conn.execute(
                    "INSERT INTO integrity_runs (at, from_index, to_index, uses, opened, updated)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    params![
                        to_ms(run.at),
                        run.from_index as i64,
                        run.to_index.map(|i| i as i64),
                        run.uses as i64,
                        run.opened as i64,
                        run.updated as i64
                    ],
                )?;
                Ok(())
            })
        })
        .await
    }

    async fn last_integrity_run(&self) -> Result<Option<IntegrityRun>> {
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                Ok(c.query_row(
                    "SELECT at, from_index, to_index, uses, opened, updated FROM integrity_runs
                     ORDER BY id DESC LIMIT 1",
                    [],
                    |r| {
                        Ok(IntegrityRun {
                            at: from_ms(r.get(0)?),
                            from_index: r.get::<_, i64>(1)? as u64,
                            to_index: r.get::<_, Option<i64>>(2)?.map(|i| i as u64),
                            uses: r.get::<_, i64>(3)? as u64,
                            opened: r.get::<_, i64>(4)? as u64,
                            updated: r.get::<_, i64>(5)? as u64,
                        })
                    },
                )
                .optional()?)
            })
        })
        .await
    }

    async fn cases(&self, f: CaseFilter) -> Result<Vec<Case>> {
        self.blocking(move |inner| {
            let mut clauses: Vec<String> = Vec::new();
            let mut args: Vec<Value> = Vec::new();
            let mut bind = |clause: &str, v: Value, clauses: &mut Vec<String>| {
                args.push(v);
                clauses.push(clause.replace('?', &format!("?{}", args.len())));
            };
            if let Some(q) = f.queue {
                bind("c.queue = ?", Value::Text(q.as_str().into()), &mut clauses);
            }
            if let Some(s) = &f.staff_id {
                bind("c.staff_id = ?", Value::Text(s.clone()), &mut clauses);
            }
            if let Some(d) = &f.district {
                bind("c.district = ?", Value::Text(d.clone()), &mut clauses);
            }
            if let Some(a) = &f.assigned_to {
                bind("c.assigned_to = ?", Value::Text(a.clone()), &mut clauses);
            }
            if let Some(b) = f.before_id {
                bind("c.id < ?", Value::Integer(b), &mut clauses);
            }
            if !f.statuses.is_empty() {
                let mut marks = Vec::new();
                for s in &f.statuses {
                    args.push(Value::Text(s.as_str().into()));
                    marks.push(format!("?{}", args.len()));
                }
                clauses.push(format!("c.status IN ({})", marks.join(", ")));
            }
            let limit = f.limit.clamp(1, MAX_CASES);
            let sql = format!(
                "SELECT {CASE_COLUMNS} FROM integrity_cases c JOIN integrity_findings f ON f.id = c.finding_id
                 {} ORDER BY c.id DESC LIMIT {limit}",
                if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) }
            );
            inner.with_reader(|c| {
                let mut stmt = c.prepare(&sql)?;
                let rows = stmt.query_map(params_from_iter(args), case_from_row)?;
                Ok(rows.collect::<rusqlite::Result<Vec<_>>>()?)
            })
        })
        .await
    }

    async fn case(&self, id: i64) -> Result<Option<Case>> {
        self.blocking(move |inner| {
            inner.with_reader(|c| {
                Ok(c.prepare_cached(&format!(
                    "SELECT {CASE_COLUMNS} FROM integrity_cases c
                     JOIN integrity_findings f ON f.id = c.finding_id WHERE c.id = ?1"
                ))?
                .query_row([id], case_from_row)
                .optional()?)
            })
        })
        .await
    }

    fn with_registers(&self, f: &mut dyn FnMut(&dyn anpr_policy::RegisterView)) -> Result<()> {
        self.with_registers_blocking(|view| f(view))
    }

    async fn update_case(&self, c: Case, expected: CaseStatus) -> Result<()> {
        self.blocking(move |inner| {
            inner.with_writer(|conn| {
                let n = conn.execute(
                    "UPDATE integrity_cases SET status = ?2, assigned_to = ?3, explanation_request = ?4,
                     explanation = ?5, explained_at = ?6, outcome = ?7, closing_note = ?8,
                     closed_by = ?9, closed_at = ?10, updated_at = ?11
                     WHERE id = ?1 AND status = ?12",
                    params![
                        c.id,
                        c.status.as_str(),
                        c.assigned_to,
                        c.explanation_request,
                        c.explanation,
                        opt_ms(c.explained_at),
                        c.outcome.map(CaseOutcome::as_str),
                        c.closing_note,
                        c.closed_by,
                        opt_ms(c.closed_at),
                        to_ms(c.updated_at),
                        expected.as_str()
                    ],
                )?;
                if n == 0 {
                    return Err(StoreError::Conflict(format!(
                        "case {} is no longer {}",
                        c.id,
                        expected.as_str()
                    )));
                }
                Ok(())
            })
        })
        .await
    }
}

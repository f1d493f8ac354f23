//! Integrity findings, review cases and runs in SQLite.

use super::{from_ms, to_ms, SqliteStore};
use crate::cases::{CaseFilter, CaseStore, IntegrityRun, SaveReport};
use crate::{Result, StoreError};
use anpr_integrity::review::{Case, CaseOutcome, CaseQueue, CaseStatus, StoredFinding};
use anpr_integrity::{Finding, Rule, Severity};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use rusqlite::{params, params_from_iter, types::Value, OptionalExtension, Row};

/// Most cases one listing returns.
const MAX_LIMIT: u32 = 1000;

const CASE_COLUMNS: &str = "c.id, c.queue, c.status, c.staff_id, c.district, c.assigned_to, \
     c.explanation_request, c.explanation, c.explained_at, c.outcome, c.closing_note, c.closed_by, \
     c.closed_at, c.opened_at, c.updated_at, f.id, f.rule, f.severity, f.key, f.evidence, f.uses, \
     f.explanation, f.first_at, f.last_at";

fn bad(column: &str, value: &str) -> rusqlite::Error {
    rusqlite::Error::FromSqlConversionFailure(
        0,
        rusqlite::types::Type::Text,
        format!("unknown {column} {value:?}").into(),
    )
}

fn case_from_row(r: &Row<'_>) -> rusqlite::Result<Case> {
    let queue: String = r.get(1)?;
    let status: String = r.get(2)?;
    let outcome: Option<String> = r.get(9)?;
    let rule: String = r.get(16)?;
    let severity: String = r.get(17)?;
    let evidence: String = r.get(19)?;
    let staff_id: String = r.get(3)?;
    Ok(Case {
        id: r.get(0)?,
        queue: CaseQueue::parse(&queue).ok_or_else(|| bad("queue", &queue))?,
        status: CaseStatus::parse(&status).ok_or_else(|| bad("status", &status))?,
        staff_id: staff_id.clone(),
        district: r.get(4)?,
        assigned_to: r.get(5)?,
        explanation_request: r.get(6)?,
        explanation: r.get(7)?,
        explained_at: r.get::<_, Option<i64>>(8)?.map(from_ms),
        outcome: match outcome {
            None => None,
            Some(o) => Some(CaseOutcome::parse(&o).ok_or_else(|| bad("outcome", &o))?),
        },
        closing_note: r.get(10)?,
        closed_by: r.get(11)?,
        closed_at: r.get::<_, Option<i64>>(12)?.map(from_ms),
        opened_at: from_ms(r.get(13)?),
        updated_at: from_ms(r.get(14)?),
        finding: StoredFinding {
            id: r.get(15)?,
            finding: Finding {
                rule: Rule::parse(&rule).ok_or_else(|| bad("rule", &rule))?,
                severity: Severity::parse(&severity).ok_or_else(|| bad("severity", &severity))?,
                staff_id,
                key: r.get(18)?,
                evidence: serde_json::from_str(&evidence)
                    .map_err(|_| bad("evidence", &evidence))?,
                uses: r.get::<_, i64>(20)? as u64,
                explanation: r.get(21)?,
                first_at: from_ms(r.get(22)?),
                last_at: from_ms(r.get(23)?),
            },
        },
    })
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
                        let evidence = serde_json::to_string(&f.evidence)
                            .map_err(|e| StoreError::Task(e.to_string()))?;
                        let existing = find
                            .query_row(params![f.rule.as_str(), f.staff_id, f.key], |r| {
                                Ok((
                                    r.get::<_, i64>(0)?,
                                    r.get::<_, String>(1)?,
                                    r.get::<_, String>(2)?,
                                    r.get::<_, i64>(3)?,
                                    r.get::<_, i64>(4)?,
                                    r.get::<_, i64>(5)?,
                                ))
                            })
                            .optional()?;
                        match existing {
                            Some((id, severity, old_evidence, old_uses, first, last)) => {
                                // An incremental run sees only its window: the evidence is
                                // merged with what earlier runs stored, never replaced.
                                let mut merged: Vec<u64> =
                                    serde_json::from_str(&old_evidence).unwrap_or_default();
                                merged.extend(&f.evidence);
                                merged.sort_unstable();
                                merged.dedup();
                                merged.truncate(anpr_integrity::MAX_EVIDENCE);
                                let severity = Severity::parse(&severity)
                                    .unwrap_or(f.severity)
                                    .max(f.severity);
                                let uses = (old_uses as u64).max(f.uses).max(merged.len() as u64);
                                update.execute(params![
                                    id,
                                    severity.as_str(),
                                    serde_json::to_string(&merged)
                                        .map_err(|e| StoreError::Task(e.to_string()))?,
                                    uses as i64,
                                    f.explanation,
                                    first.min(to_ms(f.first_at)),
                                    last.max(to_ms(f.last_at)),
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
            let limit = f.limit.clamp(1, MAX_LIMIT);
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

#[cfg(test)]
mod tests {
    use super::*;
    use anpr_integrity::review::{apply, Step};
    use chrono::TimeZone;

    fn finding(rule: Rule, key: &str, evidence: Vec<u64>) -> Finding {
        let at = Utc.with_ymd_and_hms(2026, 3, 1, 0, 0, 0).unwrap();
        Finding {
            rule,
            severity: Severity::Medium,
            staff_id: "S1".into(),
            key: key.into(),
            uses: evidence.len() as u64,
            evidence,
            explanation: "because".into(),
            first_at: at,
            last_at: at,
        }
    }

    #[tokio::test]
    async fn findings_open_cases_once_and_cases_move_compare_and_set() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(dir.path().join("db.sqlite")).unwrap();
        let now = Utc::now();
        let r = store
            .save_findings(
                vec![
                    finding(Rule::OwnVehicle, "ABC123", vec![1]),
                    finding(Rule::RoutineSample, "entry:9", vec![9]),
                ],
                now,
            )
            .await
            .unwrap();
        assert_eq!((r.opened, r.updated), (2, 0));
        let mut grown = finding(Rule::OwnVehicle, "ABC123", vec![1, 5]);
        grown.severity = Severity::High;
        let r = store.save_findings(vec![grown], now).await.unwrap();
        assert_eq!((r.opened, r.updated), (0, 1));
        let integrity = store
            .cases(CaseFilter {
                queue: Some(CaseQueue::Integrity),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(integrity.len(), 1);
        assert_eq!(integrity[0].finding.finding.evidence, vec![1, 5]);
        // A later run seeing only new evidence adds to it.
        store
            .save_findings(vec![finding(Rule::OwnVehicle, "ABC123", vec![8])], now)
            .await
            .unwrap();
        assert_eq!(integrity[0].severity(), Severity::High);
        let samples = store
            .cases(CaseFilter {
                queue: Some(CaseQueue::Supervisor),
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(samples.len(), 1);

        let c = integrity[0].clone();
        let moved = apply(&c, &Step::Assign { to: "I1".into() }, "I1", now).unwrap();
        store
            .update_case(moved.clone(), CaseStatus::Open)
            .await
            .unwrap();
        // A second reviewer acting on the stale state loses.
        let err = store
            .update_case(moved, CaseStatus::Open)
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Conflict(_)));
        let back = store.case(c.id).await.unwrap().unwrap();
        assert_eq!(back.status, CaseStatus::Assigned);
        assert_eq!(back.assigned_to.as_deref(), Some("I1"));
        assert_eq!(back.finding.finding.evidence, vec![1, 5, 8]);
        assert_eq!(back.severity(), Severity::High);
        let open = store
            .cases(CaseFilter {
                statuses: vec![CaseStatus::Open],
                limit: 10,
                ..Default::default()
            })
            .await
            .unwrap();
        assert_eq!(open.len(), 1); // the sample

        assert!(store.last_integrity_run().await.unwrap().is_none());
        let run = IntegrityRun {
            at: now,
            from_index: 0,
            to_index: Some(41),
            uses: 40,
            opened: 2,
            updated: 1,
        };
        store.record_integrity_run(run.clone()).await.unwrap();
        assert_eq!(
            store.last_integrity_run().await.unwrap().unwrap().to_index,
            Some(41)
        );
    }
}

//! Moving an embedded deployment's database to PostgreSQL: every table copied row for row
//! (ids kept, so links, alert ids and authorisation numbers stay valid) by binary `COPY`, the
//! id sequences moved past the copied ids, and every table counted on both sides afterwards.
//!
//! Columns are matched by name and converted by the PostgreSQL column's type (SQLite's
//! integers become booleans where PostgreSQL has a boolean, its blobs `bytea`), so the copy
//! follows both schemas as they are, not a list kept here.

use crate::postgres::PgStore;
use crate::{Result, StoreError};
use rusqlite::types::Value;
use std::path::Path;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};

/// The tables in an order that satisfies their references.
const TABLES: &[&str] = &[
    "networks",
    "sites",
    "cameras",
    "camera_keys",
    "plates",
    "reads",
    "images",
    "users",
    "user_role_changes",
    "sessions",
    "register_imports",
    "register_changes",
    "reg_vehicles",
    "reg_staff",
    "reg_associates",
    "reg_stolen",
    "reg_incidents",
    "reg_incident_staff",
    "network_agreements",
    "authorisations",
    "decisions",
    "decision_networks",
    "alerts",
    "hot_list",
    "integrity_findings",
    "integrity_cases",
    "integrity_runs",
    "disclosures",
    "network_controls",
    "watch_notices",
];

/// Rows handed from the SQLite reader to the COPY writer at a time.
const CHUNK: usize = 5_000;

/// How many rows each table holds on each side after the copy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TableCount {
    pub table: &'static str,
    pub sqlite: u64,
    pub postgres: u64,
}

/// What a copy did and what the check found.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    pub tables: Vec<TableCount>,
}

impl CopyReport {
    /// Whether every table holds as many rows in PostgreSQL as in SQLite.
    pub fn verified(&self) -> bool {
        self.tables.iter().all(|t| t.sqlite == t.postgres)
    }
}

fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn sqlite_error(e: impl std::fmt::Display) -> StoreError {
    StoreError::Schema(format!("reading the SQLite database: {e}"))
}

/// A SQLite value as the PostgreSQL column type wants it.
fn convert(v: Value, ty: &Type, column: &str) -> Result<Box<dyn ToSql + Send + Sync>> {
    let mismatch = |v: &Value| {
        StoreError::Schema(format!(
            "column {column}: cannot store {v:?} as PostgreSQL {ty}"
        ))
    };
    Ok(
        match (*ty == Type::INT8, *ty == Type::INT4, *ty == Type::BOOL) {
            (true, _, _) => match v {
                Value::Null => Box::new(None::<i64>),
                Value::Integer(i) => Box::new(i),
                v => return Err(mismatch(&v)),
            },
            (_, true, _) => match v {
                Value::Null => Box::new(None::<i32>),
                Value::Integer(i) => Box::new(i32::try_from(i).map_err(|_| mismatch(&v))?),
                v => return Err(mismatch(&v)),
            },
            (_, _, true) => match v {
                Value::Null => Box::new(None::<bool>),
                Value::Integer(i) => Box::new(i != 0),
                v => return Err(mismatch(&v)),
            },
            _ if *ty == Type::FLOAT8 || *ty == Type::FLOAT4 => {
                let f = match v {
                    Value::Null => None,
                    Value::Real(f) => Some(f),
                    Value::Integer(i) => Some(i as f64),
                    v => return Err(mismatch(&v)),
                };
                if *ty == Type::FLOAT8 {
                    Box::new(f)
                } else {
                    Box::new(f.map(|f| f as f32))
                }
            }
            _ if *ty == Type::TEXT => match v {
                Value::Null => Box::new(None::<String>),
                Value::Text(t) => Box::new(t),
                Value::Integer(i) => Box::new(i.to_string()),
                Value::Real(f) => Box::new(f.to_string()),
                v => return Err(mismatch(&v)),
            },
            _ if *ty == Type::BYTEA => match v {
                Value::Null => Box::new(None::<Vec<u8>>),
                Value::Blob(b) => Box::new(b),
                Value::Text(t) => Box::new(t.into_bytes()),
                v => return Err(mismatch(&v)),
            },
            _ => return Err(mismatch(&v)),
        },
    )
}

impl PgStore {
    /// Copies the SQLite database at `sqlite` into this (empty) database, telling `progress`
    /// each table's rows copied so far, then counts every table on both sides.
    pub async fn copy_from_sqlite(
        &self,
        sqlite: &Path,
        progress: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<CopyReport> {
        let mut client = self.inner().client().await?;
        let used: i64 = client
            .query_one(
                "SELECT (SELECT COUNT(*) FROM networks) + (SELECT COUNT(*) FROM users)
                      + (SELECT COUNT(*) FROM reads)",
                &[],
            )
            .await?
            .get(0);
        if used > 0 {
            return Err(StoreError::Conflict(
                "the PostgreSQL database already holds a deployment; migrate into an empty one"
                    .into(),
            ));
        }
        let source = open_sqlite(sqlite)?;
        // Every day that has reads gets its partition before they arrive.
        let days: Vec<i32> = {
            let mut st = source
                .prepare("SELECT DISTINCT day FROM reads")
                .map_err(sqlite_error)?;
            let rows = st
                .query_map([], |r| r.get::<_, i64>(0))
                .map_err(sqlite_error)?;
            rows.map(|d| d.map(|d| d as i32))
                .collect::<rusqlite::Result<_>>()
                .map_err(sqlite_error)?
        };
        drop(source);
        self.inner().ensure_days(&mut client, &days).await?;

        let mut report = CopyReport::default();
        for table in TABLES {
            let copied = self
                .copy_table(&mut client, sqlite, table, progress)
                .await?;
            let postgres: i64 = client
                .query_one(&format!("SELECT COUNT(*) FROM {}", quote(table)), &[])
                .await?
                .get(0);
            report.tables.push(TableCount {
                table,
                sqlite: copied,
                postgres: postgres as u64,
            });
        }
        // The one row of `register_version` exists on both sides: carry the version over.
        let version: i64 = open_sqlite(sqlite)?
            .query_row("SELECT version FROM register_version", [], |r| r.get(0))
            .map_err(sqlite_error)?;
        client
            .execute("UPDATE register_version SET version = $1", &[&version])
            .await?;
        self.advance_sequences(&client).await?;
        // Fresh statistics, so that the first queries are planned on the data as it is.
        client.batch_execute("ANALYZE").await?;
        drop(client);
        self.inner().reload_catalog().await?;
        self.inner().refresh_dictionary().await?;
        Ok(report)
    }

    async fn copy_table(
        &self,
        client: &mut crate::postgres::Client,
        sqlite: &Path,
        table: &'static str,
        progress: &mut (dyn FnMut(&str, u64) + Send),
    ) -> Result<u64> {
        let source = open_sqlite(sqlite)?;
        let sqlite_columns: Vec<String> = {
            let mut st = source
                .prepare(&format!("SELECT name FROM pragma_table_info('{table}')"))
                .map_err(sqlite_error)?;
            let rows = st.query_map([], |r| r.get(0)).map_err(sqlite_error)?;
            rows.collect::<rusqlite::Result<_>>()
                .map_err(sqlite_error)?
        };
        let target = client
            .prepare(&format!("SELECT * FROM {} LIMIT 0", quote(table)))
            .await?;
        // Columns both sides have, typed as PostgreSQL has them.
        let columns: Vec<(String, Type)> = target
            .columns()
            .iter()
            .filter(|c| sqlite_columns.iter().any(|s| s == c.name()))
            .map(|c| (c.name().to_string(), c.type_().clone()))
            .collect();
        let list = columns
            .iter()
            .map(|(c, _)| quote(c))
            .collect::<Vec<_>>()
            .join(", ");
        let types: Vec<Type> = columns.iter().map(|(_, t)| t.clone()).collect();
        let names: Vec<String> = columns.iter().map(|(c, _)| c.clone()).collect();

        // SQLite is read on a thread of its own and handed over in chunks.
        let (tx, mut rx) = tokio::sync::mpsc::channel::<Result<Vec<Vec<Value>>>>(4);
        let select = format!("SELECT {list} FROM {}", quote(table));
        let width = columns.len();
        let reader = tokio::task::spawn_blocking(move || {
            let send_all = || -> Result<()> {
                let mut st = source.prepare(&select).map_err(sqlite_error)?;
                let mut rows = st.query([]).map_err(sqlite_error)?;
                let mut chunk = Vec::with_capacity(CHUNK);
                while let Some(row) = rows.next().map_err(sqlite_error)? {
                    let values = (0..width)
                        .map(|i| row.get::<_, Value>(i))
                        .collect::<rusqlite::Result<Vec<_>>>()
                        .map_err(sqlite_error)?;
                    chunk.push(values);
                    if chunk.len() == CHUNK {
                        let full = std::mem::replace(&mut chunk, Vec::with_capacity(CHUNK));
                        if tx.blocking_send(Ok(full)).is_err() {
                            return Ok(());
                        }
                    }
                }
                if !chunk.is_empty() {
                    let _ = tx.blocking_send(Ok(chunk));
                }
                Ok(())
            };
            if let Err(e) = send_all() {
                let _ = tx.blocking_send(Err(e));
            }
        });

        let tx = client.transaction().await?;
        let sink = tx
            .copy_in(&format!(
                "COPY {} ({list}) FROM STDIN (FORMAT binary)",
                quote(table)
            ))
            .await?;
        let writer = BinaryCopyInWriter::new(sink, &types);
        futures_util::pin_mut!(writer);
        let mut copied = 0u64;
        while let Some(chunk) = rx.recv().await {
            for values in chunk? {
                let row = values
                    .into_iter()
                    .zip(&types)
                    .zip(&names)
                    .map(|((v, t), n)| convert(v, t, n))
                    .collect::<Result<Vec<_>>>()?;
                let refs: Vec<&(dyn ToSql + Sync)> = row
                    .iter()
                    .map(|v| v.as_ref() as &(dyn ToSql + Sync))
                    .collect();
                writer.as_mut().write(&refs).await?;
                copied += 1;
            }
            progress(table, copied);
        }
        writer.finish().await?;
        tx.commit().await?;
        reader.await.map_err(|e| StoreError::Task(e.to_string()))?;
        progress(table, copied);
        Ok(copied)
    }

    /// Moves every id sequence past the ids copied in, so new rows never reuse one.
    async fn advance_sequences(&self, client: &crate::postgres::Client) -> Result<()> {
        for table in TABLES {
            let has_id = client
                .query_opt("SELECT pg_get_serial_sequence($1, 'id')", &[&quote(table)])
                .await
                .ok()
                .flatten()
                .and_then(|r| r.get::<_, Option<String>>(0));
            if let Some(sequence) = has_id {
                client
                    .execute(
                        &format!(
                            "SELECT setval($1::text::regclass, COALESCE((SELECT MAX(id) FROM {}), 0) + 1, false)",
                            quote(table)
                        ),
                        &[&sequence],
                    )
                    .await?;
            }
        }
        client
            .execute(
                "SELECT setval('reads_id_seq', COALESCE((SELECT MAX(id) FROM reads), 0) + 1, false)",
                &[],
            )
            .await?;
        Ok(())
    }
}

fn open_sqlite(path: &Path) -> Result<rusqlite::Connection> {
    if !path.is_file() {
        return Err(StoreError::NotFound(format!(
            "SQLite database {}",
            path.display()
        )));
    }
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(sqlite_error)?;
    // The record of use lives in its own file beside it (`sqlite::uses_path`).
    let uses = crate::sqlite::uses_path(path);
    if uses.is_file() {
        crate::sqlite::attach_uses(&conn, path).map_err(sqlite_error)?;
    }
    Ok(conn)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_convert_to_the_postgres_column_type() {
        assert!(convert(Value::Integer(1), &Type::BOOL, "c").is_ok());
        assert!(convert(Value::Null, &Type::INT8, "c").is_ok());
        assert!(convert(Value::Integer(1 << 40), &Type::INT4, "c").is_err());
        assert!(convert(Value::Blob(vec![1, 2]), &Type::BYTEA, "c").is_ok());
        assert!(convert(Value::Text("x".into()), &Type::INT8, "c").is_err());
        assert!(convert(Value::Real(0.5), &Type::FLOAT4, "c").is_ok());
    }
}

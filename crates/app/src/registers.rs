//! Register rows from CSV (a header row naming the fields) or JSON (an array of objects, or one
//! object per line), read in batches so a five-million-row motor vehicle register streams
//! through in bounded memory. Used by the admin API and `anpr registers import`. Also the
//! network sharing agreements as overseers and administrators read them.

use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::User;
use anpr_policy::registers::{
    AssociateRecord, IncidentRecord, NetworkAgreement, StaffRecord, StolenRecord, VehicleRecord,
};
use anpr_policy::Subject;
use anpr_store::{RegisterBatch, RegisterKind};
use serde::de::DeserializeOwned;
use std::io::{BufRead, BufReader, Read};

/// Every network's sharing agreement, if the policy lets `user` see them (overseers and
/// administrators).
pub async fn agreements(state: &App, user: &User) -> AppResult<Vec<NetworkAgreement>> {
    state
        .policy
        .may_view_agreements(&Subject::from_user(user))?;
    Ok(state.store.network_agreements().await?)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Csv,
    Json,
}

impl Format {
    /// From a file name: `.csv`, or `.json` / `.jsonl` / `.ndjson`.
    pub fn from_path(path: &std::path::Path) -> Option<Format> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Format::Csv),
            "json" | "jsonl" | "ndjson" => Some(Format::Json),
            _ => None,
        }
    }
}

fn bad(location: String, e: impl std::fmt::Display) -> AppError {
    let mut message = e.to_string();
    message.truncate(300);
    AppError::Invalid {
        message: format!("{location}: {message}"),
        field: Some(location),
    }
}

enum Source<R: Read> {
    Csv {
        reader: csv::Reader<R>,
        headers: csv::StringRecord,
        record: csv::StringRecord,
    },
    Lines {
        reader: BufReader<R>,
        line: u64,
        buf: String,
    },
    Array {
        items: std::vec::IntoIter<serde_json::Value>,
        index: usize,
    },
}

/// Batches of rows of one register.
pub struct Batches<R: Read> {
    kind: RegisterKind,
    size: usize,
    source: Source<R>,
    rows: u64,
}

/// Reads `reader` as `format`, yielding batches of at most `size` rows of register `kind`.
pub fn batches<R: Read>(
    kind: RegisterKind,
    format: Format,
    reader: R,
    size: usize,
) -> AppResult<Batches<R>> {
    let source = match format {
        Format::Csv => {
            let mut reader = csv::ReaderBuilder::new()
                .trim(csv::Trim::All)
                .from_reader(reader);
            let headers = reader
                .headers()
                .map_err(|e| bad("line 1".into(), e))?
                .clone();
            Source::Csv {
                reader,
                headers,
                record: csv::StringRecord::new(),
            }
        }
        Format::Json => {
            let mut reader = BufReader::new(reader);
            let first = loop {
                let buf = reader.fill_buf().map_err(|e| bad("input".into(), e))?;
                match buf.iter().position(|b| !b.is_ascii_whitespace()) {
                    Some(i) => {
                        let b = buf[i];
                        reader.consume(i);
                        break Some(b);
                    }
                    None if buf.is_empty() => break None,
                    None => {
                        let n = buf.len();
                        reader.consume(n);
                    }
                }
            };
            if first == Some(b'[') {
                let items: Vec<serde_json::Value> =
                    serde_json::from_reader(reader).map_err(|e| bad("input".into(), e))?;
                Source::Array {
                    items: items.into_iter(),
                    index: 0,
                }
            } else {
                Source::Lines {
                    reader,
                    line: 0,
                    buf: String::new(),
                }
            }
        }
    };
    Ok(Batches {
        kind,
        size: size.max(1),
        source,
        rows: 0,
    })
}

impl<R: Read> Batches<R> {
    /// Rows read so far.
    pub fn rows(&self) -> u64 {
        self.rows
    }

    fn next_row<T: DeserializeOwned>(&mut self) -> AppResult<Option<T>> {
        let row = match &mut self.source {
            Source::Csv {
                reader,
                headers,
                record,
            } => {
                if !reader
                    .read_record(record)
                    .map_err(|e| bad(format!("row {}", self.rows + 1), e))?
                {
                    return Ok(None);
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                record
                    .deserialize::<T>(Some(headers))
                    .map_err(|e| bad(format!("line {line}"), e))?
            }
            Source::Lines { reader, line, buf } => loop {
                buf.clear();
                let n = reader
                    .read_line(buf)
                    .map_err(|e| bad(format!("line {}", *line + 1), e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                if buf.trim().is_empty() {
                    continue;
                }
                break serde_json::from_str::<T>(buf)
                    .map_err(|e| bad(format!("line {line}"), e))?;
            },
            Source::Array { items, index } => {
                let Some(v) = items.next() else {
                    return Ok(None);
                };
                *index += 1;
                serde_json::from_value::<T>(v)
                    .map_err(|e| bad(format!("rows[{}]", *index - 1), e))?
            }
        };
        self.rows += 1;
        Ok(Some(row))
    }

    fn take<T: DeserializeOwned>(&mut self) -> AppResult<Vec<T>> {
        let mut out = Vec::with_capacity(self.size.min(10_000));
        while out.len() < self.size {
            match self.next_row()? {
                Some(r) => out.push(r),
                None => break,
            }
        }
        Ok(out)
    }
}

impl<R: Read> Iterator for Batches<R> {
    type Item = AppResult<RegisterBatch>;

    fn next(&mut self) -> Option<Self::Item> {
        let batch = match self.kind {
            RegisterKind::Vehicles => self.take::<VehicleRecord>().map(RegisterBatch::Vehicles),
            RegisterKind::Staff => self.take::<StaffRecord>().map(RegisterBatch::Staff),
            RegisterKind::Associates => self
                .take::<AssociateRecord>()
                .map(RegisterBatch::Associates),
            RegisterKind::Stolen => self.take::<StolenRecord>().map(RegisterBatch::Stolen),
            RegisterKind::Incidents => self.take::<IncidentRecord>().map(RegisterBatch::Incidents),
        };
        match batch {
            Ok(b) if b.is_empty() => None,
            other => Some(other),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn all(kind: RegisterKind, format: Format, text: &str) -> AppResult<Vec<RegisterBatch>> {
        batches(kind, format, text.as_bytes(), 2)?.collect()
    }

    #[test]
    fn csv_json_array_and_json_lines_read_alike() {
        let csv = "plate,owner_person_id,owner_address_id,make\nABC123,P1,A1,\nXYZ9,P2,A2,Toyota\nQQ1,P3,A3,\n";
        let json = r#"[{"plate":"ABC123","owner_person_id":"P1","owner_address_id":"A1"},
            {"plate":"XYZ9","owner_person_id":"P2","owner_address_id":"A2","make":"Toyota"},
            {"plate":"QQ1","owner_person_id":"P3","owner_address_id":"A3"}]"#;
        let lines = "{\"plate\":\"ABC123\",\"owner_person_id\":\"P1\",\"owner_address_id\":\"A1\"}\n\n{\"plate\":\"XYZ9\",\"owner_person_id\":\"P2\",\"owner_address_id\":\"A2\",\"make\":\"Toyota\"}\n{\"plate\":\"QQ1\",\"owner_person_id\":\"P3\",\"owner_address_id\":\"A3\"}\n";
        let a = all(RegisterKind::Vehicles, Format::Csv, csv).unwrap();
        assert_eq!(a.len(), 2, "batches of two");
        assert_eq!(a, all(RegisterKind::Vehicles, Format::Json, json).unwrap());
        assert_eq!(a, all(RegisterKind::Vehicles, Format::Json, lines).unwrap());
    }

    #[test]
    fn incidents_and_stolen_reports_from_csv() {
        let csv = "file_number,incident_type,district,opened_at,closed_at,assigned_staff\n\
                   F1,burglary,Waikato,2026-01-01T00:00:00Z,,S1;S2\n";
        let b = all(RegisterKind::Incidents, Format::Csv, csv).unwrap();
        let RegisterBatch::Incidents(rows) = &b[0] else {
            panic!("{b:?}")
        };
        assert_eq!(rows[0].assigned_staff, vec!["S1", "S2"]);
        assert_eq!(rows[0].closed_at, None);
        let csv =
            "plate,file_number,reported_at,complainant_person_id,recorded_by_staff_id,status\n\
                   ABC123,F1,2026-01-01T00:00:00Z,P1,S9,active\n";
        assert!(all(RegisterKind::Stolen, Format::Csv, csv).is_ok());
    }

    #[test]
    fn bad_rows_name_their_line() {
        let csv = "plate,owner_person_id\nABC123,P1\n";
        let e = all(RegisterKind::Vehicles, Format::Csv, csv).unwrap_err();
        assert!(e.to_string().starts_with("line 2"), "{e}");
        let lines = "{\"plate\":\"A\"}\n";
        let e = all(RegisterKind::Vehicles, Format::Json, lines).unwrap_err();
        assert!(e.to_string().starts_with("line 1"), "{e}");
        let e = all(RegisterKind::Vehicles, Format::Json, "[1]").unwrap_err();
        assert!(e.to_string().starts_with("rows[0]"), "{e}");
    }
}

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

/// The columns (CSV) or fields (JSON) of a register's rows: those every row needs, then those
/// it may have. `columns_match_the_records` holds them to the record types.
fn columns(kind: RegisterKind) -> (&'static [&'static str], &'static [&'static str]) {
    match kind {
        RegisterKind::Vehicles => (
            &["plate", "owner_person_id", "owner_address_id"],
            &["make", "model", "colour"],
        ),
        RegisterKind::Staff => (&["staff_id", "person_id", "home_address_id"], &["team"]),
        RegisterKind::Associates => (&["staff_id", "person_id"], &["relationship"]),
        RegisterKind::Stolen => (
            &[
                "plate",
                "file_number",
                "reported_at",
                "complainant_person_id",
                "recorded_by_staff_id",
                "status",
            ],
            &["cancelled_at"],
        ),
        RegisterKind::Incidents => (
            &["file_number", "incident_type", "district", "opened_at"],
            &["closed_at", "assigned_staff"],
        ),
    }
}

/// What a file of register `kind` must hold, in words: its columns, those it may add, and how
/// dates are written.
fn expected_columns(kind: RegisterKind) -> String {
    let (needed, optional) = columns(kind);
    let register = match kind {
        RegisterKind::Vehicles => "motor vehicle",
        RegisterKind::Staff => "staff",
        RegisterKind::Associates => "declared associates",
        RegisterKind::Stolen => "stolen vehicle",
        RegisterKind::Incidents => "incident",
    };
    let mut text = format!(
        "The {register} register's file needs the columns {}",
        needed.join(", ")
    );
    if !optional.is_empty() {
        text.push_str(&format!(" and may have {}", optional.join(", ")));
    }
    text.push('.');
    if needed.iter().chain(optional).any(|c| c.ends_with("_at")) {
        text.push_str(" Dates are written like 2026-11-28T10:00:00Z.");
    }
    text
}

/// A row (or the file) that cannot be read, said in plain words: where, what is wrong, and
/// what the register's file must hold. `what` comes from a CSV or JSON parser: its code marks
/// (backticks) and its own position are dropped, as the message names the line itself.
fn bad(kind: RegisterKind, location: &str, what: impl std::fmt::Display) -> AppError {
    let what = what.to_string();
    let mut what = match what.find(" at line ") {
        Some(i) => what[..i].to_string(),
        None => what,
    }
    .replace('`', "");
    what.truncate(300);
    let message = match what.strip_prefix("missing field ") {
        Some(column) => format!("{location} lacks the column {column}."),
        None => format!("{location} cannot be read: {what}."),
    };
    AppError::Invalid {
        message: format!("{message} {}", expected_columns(kind)),
        field: Some("file".into()),
    }
}

/// A date column of `record` whose value is not a date and time: the parser of a date reports
/// no column, so the value is found by looking.
fn bad_date(headers: &csv::StringRecord, record: &csv::StringRecord) -> Option<(String, String)> {
    headers
        .iter()
        .zip(record.iter())
        .find(|(column, value)| {
            column.ends_with("_at")
                && !value.is_empty()
                && chrono::DateTime::parse_from_rfc3339(value).is_err()
        })
        .map(|(column, value)| (column.to_string(), value.to_string()))
}

/// A CSV row's error: the column at fault named from the header (`record`: the row, when it
/// was read).
fn bad_csv_row(
    kind: RegisterKind,
    line: u64,
    headers: &csv::StringRecord,
    record: Option<&csv::StringRecord>,
    e: csv::Error,
) -> AppError {
    let location = format!("Line {line}");
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => bad(
            kind,
            &location,
            format!("it has {len} values where the first line names {expected_len} columns"),
        ),
        csv::ErrorKind::Deserialize { err, .. } => {
            let column = err
                .field()
                .and_then(|i| headers.get(i as usize))
                .map(str::to_string);
            let reason = match err.kind() {
                csv::DeserializeErrorKind::Message(m)
                | csv::DeserializeErrorKind::Unsupported(m) => m.clone(),
                other => other.to_string(),
            };
            if let Some((column, value)) = record.and_then(|r| bad_date(headers, r)) {
                return bad(
                    kind,
                    &location,
                    format!("the value \"{value}\" in the column {column} is not a date and time"),
                );
            }
            match column {
                Some(c) if !reason.starts_with("missing field") => bad(
                    kind,
                    &location,
                    format!("the value in the column {c} is not accepted ({reason})"),
                ),
                _ => bad(kind, &location, reason),
            }
        }
        _ => bad(kind, &location, e),
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
                .map_err(|e| bad(kind, "Line 1", e))?
                .clone();
            let (needed, _) = columns(kind);
            let missing: Vec<&str> = needed
                .iter()
                .copied()
                .filter(|c| !headers.iter().any(|h| h == *c))
                .collect();
            if !missing.is_empty() {
                let (s, them) = if missing.len() == 1 {
                    ("", "")
                } else {
                    ("s", " all")
                };
                return Err(AppError::Invalid {
                    message: format!(
                        "Line 1 lacks the column{s} {}{them}: the first line of a CSV file \
                         names its columns. {}",
                        missing.join(", "),
                        expected_columns(kind)
                    ),
                    field: Some("file".into()),
                });
            }
            Source::Csv {
                reader,
                headers,
                record: csv::StringRecord::new(),
            }
        }
        Format::Json => {
            let mut reader = BufReader::new(reader);
            let first = loop {
                let buf = reader.fill_buf().map_err(|e| bad(kind, "The file", e))?;
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
                    serde_json::from_reader(reader).map_err(|e| bad(kind, "The file", e))?;
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
                let kind = self.kind;
                let read = reader.read_record(record).map_err(|e| {
                    let line = e.position().map(|p| p.line()).unwrap_or(self.rows + 2);
                    bad_csv_row(kind, line, headers, None, e)
                })?;
                if !read {
                    return Ok(None);
                }
                let line = record.position().map(|p| p.line()).unwrap_or(0);
                record
                    .deserialize::<T>(Some(headers))
                    .map_err(|e| bad_csv_row(kind, line, headers, Some(record), e))?
            }
            Source::Lines { reader, line, buf } => loop {
                buf.clear();
                let n = reader
                    .read_line(buf)
                    .map_err(|e| bad(self.kind, &format!("Line {}", *line + 1), e))?;
                if n == 0 {
                    return Ok(None);
                }
                *line += 1;
                if buf.trim().is_empty() {
                    continue;
                }
                break serde_json::from_str::<T>(buf)
                    .map_err(|e| bad(self.kind, &format!("Line {line}"), e))?;
            },
            Source::Array { items, index } => {
                let Some(v) = items.next() else {
                    return Ok(None);
                };
                *index += 1;
                serde_json::from_value::<T>(v)
                    .map_err(|e| bad(self.kind, &format!("Row {}", *index), e))?
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
    fn bad_rows_name_their_line_and_the_columns_in_plain_words() {
        let csv = "plate,owner_person_id\nABC123,P1\n";
        let e = all(RegisterKind::Vehicles, Format::Csv, csv).unwrap_err();
        assert_eq!(
            e.to_string(),
            "Line 1 lacks the column owner_address_id: the first line of a CSV file names its \
             columns. The motor vehicle register's file needs the columns plate, \
             owner_person_id, owner_address_id and may have make, model, colour."
        );
        assert_eq!(e.field(), Some("file"));
        let csv = "file_number,incident_type,district,opened_at\nF1,burglary,Waikato,yesterday\n";
        let e = all(RegisterKind::Incidents, Format::Csv, csv).unwrap_err();
        let text = e.to_string();
        assert!(
            text.starts_with(
                "Line 2 cannot be read: the value \"yesterday\" in the column opened_at is not \
                 a date and time."
            ),
            "{text}"
        );
        assert!(text.contains("like 2026-11-28T10:00:00Z"), "{text}");
        let csv = "staff_id,person_id\nS1,P1,extra\n";
        let e = all(RegisterKind::Associates, Format::Csv, csv).unwrap_err();
        assert!(
            e.to_string()
                .contains("3 values where the first line names 2"),
            "{e}"
        );
        let lines = "{\"plate\":\"A\"}\n";
        let e = all(RegisterKind::Vehicles, Format::Json, lines).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("Line 1 lacks the column owner_person_id."),
            "{e}"
        );
        let e = all(RegisterKind::Vehicles, Format::Json, "[1]").unwrap_err();
        assert!(e.to_string().starts_with("Row 1 cannot be read"), "{e}");
        assert!(!e.to_string().contains('`'), "no code marks: {e}");
    }

    #[test]
    fn columns_match_the_records() {
        // A file with just the needed columns reads, and one without any of them does not.
        for kind in [
            RegisterKind::Vehicles,
            RegisterKind::Staff,
            RegisterKind::Associates,
            RegisterKind::Stolen,
            RegisterKind::Incidents,
        ] {
            let (needed, optional) = columns(kind);
            let value = |c: &str| match c {
                c if c.ends_with("_at") => "2026-01-01T00:00:00Z",
                "status" => "active",
                "plate" => "ABC123",
                _ => "X1",
            };
            let row = |cols: &[&str]| cols.iter().map(|c| value(c)).collect::<Vec<_>>().join(",");
            let every: Vec<&str> = needed.iter().chain(optional).copied().collect();
            let csv = format!("{}\n{}\n", every.join(","), row(&every));
            assert!(
                all(kind, Format::Csv, &csv).is_ok(),
                "{kind:?} every column"
            );
            let csv = format!("{}\n{}\n", needed.join(","), row(needed));
            assert!(
                all(kind, Format::Csv, &csv).is_ok(),
                "{kind:?} needed columns"
            );
            for (i, _) in needed.iter().enumerate() {
                let mut fewer: Vec<&str> = needed.to_vec();
                fewer.remove(i);
                let json = format!(
                    "{{{}}}\n",
                    fewer
                        .iter()
                        .map(|c| format!("\"{c}\":\"{}\"", value(c)))
                        .collect::<Vec<_>>()
                        .join(",")
                );
                assert!(
                    all(kind, Format::Json, &json).is_err(),
                    "{kind:?} without {i}"
                );
            }
        }
    }
}

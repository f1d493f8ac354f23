//! Calendar months and report bounds, in UTC (the platform stores every time in UTC; a month is
//! counted from 00:00 UTC on its first day).

use crate::error::{ReportError, Result};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use std::fmt;

/// Earliest and latest years a report may name: outside them a date is a typo, not a request.
const MIN_YEAR: i32 = 2000;
const MAX_YEAR: i32 = 2100;

/// One calendar month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    /// 1 to 12.
    pub month: u32,
}

const NAMES: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

impl Month {
    /// Parses `YYYY-MM`; `field` names the parameter in the error.
    pub fn parse(field: &str, s: &str) -> Result<Month> {
        let bad = || ReportError::invalid(field, format!("expected a month as YYYY-MM, got {s:?}"));
        let (y, m) = s.trim().split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        if !(MIN_YEAR..=MAX_YEAR).contains(&year) {
            return Err(ReportError::invalid(
                field,
                format!("year {year} is outside {MIN_YEAR}-{MAX_YEAR}"),
            ));
        }
        Ok(Month { year, month })
    }

    pub fn of(t: DateTime<Utc>) -> Month {
        Month {
            year: t.year(),
            month: t.month(),
        }
    }

    /// 00:00 UTC on the first day.
    pub fn start(self) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(self.year, self.month, 1, 0, 0, 0)
            .single()
            .expect("the first of a month at midnight UTC exists")
    }

    /// The start of the next month (the end, exclusive).
    pub fn end(self) -> DateTime<Utc> {
        self.next().start()
    }

    pub fn next(self) -> Month {
        self.plus(1)
    }

    /// The month `n` months later (earlier when negative).
    pub fn plus(self, n: i32) -> Month {
        let index = self.year * 12 + self.month as i32 - 1 + n;
        Month {
            year: index.div_euclid(12),
            month: index.rem_euclid(12) as u32 + 1,
        }
    }

    /// The `n` months ending with this one, oldest first.
    pub fn last(self, n: u32) -> Vec<Month> {
        (0..n as i32).rev().map(|k| self.plus(-k)).collect()
    }

    /// `October 2026`.
    pub fn name(self) -> String {
        format!("{} {}", NAMES[self.month as usize - 1], self.year)
    }
}

/// `2026-10`: the form the store groups by and reports print.
impl fmt::Display for Month {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

/// Parses a report bound. An RFC 3339 time is taken as it is. A day (`2026-10-31`) or a month
/// (`2026-10`) is taken whole: as `from` it starts at its first instant, as `to` (`end = true`)
/// it includes its last, so `from=2026-10&to=2026-10` is all of October.
pub fn parse_bound(field: &str, s: &str, end: bool) -> Result<DateTime<Utc>> {
    let s = s.trim();
    if s.is_empty() {
        return Err(ReportError::invalid(field, "must not be empty"));
    }
    let t = if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        t.with_timezone(&Utc)
    } else if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        let d = if end { d.succ_opt().unwrap_or(d) } else { d };
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight exists"))
    } else if s.len() == 7 {
        let m = Month::parse(field, s)?;
        if end {
            m.end()
        } else {
            m.start()
        }
    } else {
        return Err(ReportError::invalid(
            field,
            format!("expected YYYY-MM, YYYY-MM-DD or an RFC 3339 time, got {s:?}"),
        ));
    };
    if !(MIN_YEAR..=MAX_YEAR + 1).contains(&t.year()) {
        return Err(ReportError::invalid(
            field,
            format!("year {} is outside {MIN_YEAR}-{MAX_YEAR}", t.year()),
        ));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_step_across_years() {
        let m = Month::parse("month", "2026-10").unwrap();
        assert_eq!(m.plus(3).to_string(), "2027-01");
        assert_eq!(m.plus(-10).to_string(), "2025-12");
        assert_eq!(m.name(), "October 2026");
        let last = m.last(24);
        assert_eq!(last.len(), 24);
        assert_eq!(last[0].to_string(), "2024-11");
        assert_eq!(last[23], m);
        assert_eq!(m.end(), Month::parse("m", "2026-11").unwrap().start());
    }

    #[test]
    fn bad_months_name_the_field() {
        for bad in [
            "2026-13", "2026-1", "26-10", "October", "1999-01", "2026-00",
        ] {
            let e = Month::parse("month", bad).unwrap_err();
            assert_eq!(e.field(), "month", "{bad}");
        }
    }

    #[test]
    fn bounds_take_days_and_months_whole() {
        let from = parse_bound("from", "2026-10", false).unwrap();
        let to = parse_bound("to", "2026-10", true).unwrap();
        assert_eq!(from.to_rfc3339(), "2026-10-01T00:00:00+00:00");
        assert_eq!(to.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        let to = parse_bound("to", "2026-10-31", true).unwrap();
        assert_eq!(to.to_rfc3339(), "2026-11-01T00:00:00+00:00");
        let t = parse_bound("to", "2026-10-31T12:00:00+13:00", true).unwrap();
        assert_eq!(t.to_rfc3339(), "2026-10-30T23:00:00+00:00");
        for bad in ["", "yesterday", "2026-10-32", "3000-01-01"] {
            assert_eq!(parse_bound("from", bad, false).unwrap_err().field(), "from");
        }
    }
}

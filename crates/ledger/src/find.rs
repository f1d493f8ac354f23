//! Finding entries by who acted, what they did and when ([`Ledger::find_entries`]): the ledger
//! screen's filters, answered on the server so that a browser never pages through the whole log.
//!
//! The search reads the log newest first through [`Ledger::entries`], so it works the same on
//! every entry store (SQLite and PostgreSQL) and needs no index of its own. One call looks at a
//! bounded number of entries ([`MAX_SCANNED_PER_CALL`]) and says where to go on
//! ([`FoundEntries::next_before`]), so a filter that matches little cannot hold a request for the
//! length of the log.

use chrono::{DateTime, Duration, Utc};
use serde::Deserialize;

use crate::audit::Action;
use crate::error::{invalid, Result};
use crate::ledger::Ledger;
use crate::store::StoredEntry;

/// At most this many entries are looked at by one [`Ledger::find_entries`] call.
pub const MAX_SCANNED_PER_CALL: u64 = 100_000;

/// At most this many matches are returned by one call.
pub const MAX_FOUND_PER_CALL: usize = 200;

/// How far an entry's time may run behind the entries appended before it. Entries are
/// numbered in the order they are committed, and their times are taken a little earlier by
/// whichever process made them (several servers may append to one log), so the times are in
/// order only up to this slack: the search starts and stops this much beyond the range asked.
const CLOCK_SLACK: Duration = Duration::minutes(10);

/// Entries read from the store at a time.
const SCAN_PAGE: u64 = 1_000;

/// What to look for. Every condition given must hold.
#[derive(Clone, Debug, Default)]
pub struct EntryFilter {
    /// Who acted: a staff id, camera id or `system` (the entry's `actor.id`; letter case is
    /// ignored).
    pub actor: Option<String>,
    /// What was done.
    pub action: Option<Action>,
    /// Entries at or after this time.
    pub from: Option<DateTime<Utc>>,
    /// Entries before this time.
    pub to: Option<DateTime<Utc>>,
    /// Only entries with an index below this one (paging on from an earlier answer).
    pub before: Option<u64>,
    /// How many matches to return (1 to [`MAX_FOUND_PER_CALL`]).
    pub limit: usize,
}

/// The matches of one call, newest first.
#[derive(Clone, Debug, Default)]
pub struct FoundEntries {
    pub entries: Vec<StoredEntry>,
    /// Where the next call goes on (as its `before`) when older entries may match too; `None`
    /// when the search reached the start of the log or of the time range.
    pub next_before: Option<u64>,
    /// How many entries this call looked at.
    pub scanned: u64,
}

/// The parts of an entry a filter looks at (the rest of the body is skipped unparsed).
#[derive(Deserialize)]
struct Probe {
    time: DateTime<Utc>,
    actor: ProbeActor,
    action: String,
}

#[derive(Deserialize)]
struct ProbeActor {
    id: String,
}

impl EntryFilter {
    fn check(&self) -> Result<()> {
        if !(1..=MAX_FOUND_PER_CALL).contains(&self.limit) {
            return Err(invalid(format!("limit must be 1 to {MAX_FOUND_PER_CALL}")));
        }
        if let (Some(from), Some(to)) = (self.from, self.to) {
            if from >= to {
                return Err(invalid(
                    "the start of the time range must be before its end",
                ));
            }
        }
        Ok(())
    }

    fn matches(&self, p: &Probe) -> bool {
        self.actor
            .as_deref()
            .is_none_or(|a| p.actor.id.eq_ignore_ascii_case(a.trim()))
            && self.action.as_ref().is_none_or(|a| p.action == a.as_str())
            && self.from.is_none_or(|from| p.time >= from)
            && self.to.is_none_or(|to| p.time < to)
    }
}

impl Ledger {
    /// The entries matching `filter`, newest first: at most `filter.limit` of them, looking at
    /// no more than [`MAX_SCANNED_PER_CALL`] entries.
    pub fn find_entries(&self, filter: &EntryFilter) -> Result<FoundEntries> {
        filter.check()?;
        let size = self.size();
        let mut upper = filter.before.unwrap_or(size).min(size);
        if let Some(to) = filter.to {
            // Skip the entries newer than the range without reading them.
            upper = upper.min(self.first_at_or_after(to + CLOCK_SLACK, upper)?);
        }
        let floor = filter.from.map(|from| from - CLOCK_SLACK);
        let mut found = FoundEntries::default();
        while upper > 0 && found.scanned < MAX_SCANNED_PER_CALL {
            let lower = upper.saturating_sub(SCAN_PAGE);
            let page = self.entries(lower, upper)?;
            for e in page.into_iter().rev() {
                found.scanned += 1;
                let Ok(probe) = serde_json::from_str::<Probe>(&e.body) else {
                    continue; // not an event this version reads: `verify` reports it
                };
                if floor.is_some_and(|floor| probe.time < floor) {
                    return Ok(found); // older than the range: nothing below can match
                }
                let index = e.index;
                if filter.matches(&probe) {
                    found.entries.push(e);
                    if found.entries.len() == filter.limit {
                        found.next_before = (index > 0).then_some(index);
                        return Ok(found);
                    }
                }
            }
            upper = lower;
        }
        found.next_before = (upper > 0).then_some(upper);
        Ok(found)
    }

    /// The lowest index below `upper` whose entry's time is at or after `t` (`upper` when there
    /// is none), by bisection over the times (in order up to [`CLOCK_SLACK`]).
    fn first_at_or_after(&self, t: DateTime<Utc>, upper: u64) -> Result<u64> {
        let (mut lo, mut hi) = (0, upper);
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            let time = self
                .entries(mid, mid + 1)?
                .first()
                .and_then(|e| serde_json::from_str::<Probe>(&e.body).ok())
                .map(|p| p.time);
            match time {
                Some(time) if time >= t => hi = mid,
                // An unreadable entry counts as older: it is read, and skipped, by the scan.
                _ => lo = mid + 1,
            }
        }
        Ok(lo)
    }
}

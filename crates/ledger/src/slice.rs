//! A camera network's slice of the ledger: every entry that touched the network, redacted to what
//! its auditor may see, each with an inclusion proof against a signed tree head whose counters
//! say how many there must be.
//!
//! # Counting
//!
//! An entry *touched* network `n` when it is a redactable (version-2) entry whose `network_ids`
//! fact (`query.network_ids`, a list of integers) names `n`. Every head signed since redactable
//! entries carries, for each network, how many entries below its size touched it
//! ([`TreeHead::network_counts`], signed). Entries from before redactable entries (version 1)
//! cannot be opened field by field, so they are not counted and never appear in a slice: a
//! network's record starts at the first version-2 entry.
//!
//! # Completeness
//!
//! A slice for network `n` at head `H` holds every entry with index below `H.size` that touched
//! `n`. [`verify_slice`] checks `H`'s signature, recomputes each entry's leaf hash from its
//! opened fields and the others' commitments, checks its inclusion proof against `H`'s root, that
//! its opened `network_ids` names `n`, that the indexes are distinct, and that there are exactly
//! `H`'s count for `n` of them. The ledger cannot leave an entry out: it would need a head with a
//! smaller count, which `verify_full` (and anyone recounting the log) rejects, or another entry
//! to take its place, and every entry shown must itself be in the tree and name `n`; two proofs
//! of one index are one entry, so none can be shown twice.
//!
//! A *month* slice covers the entries appended between two signed heads: `from_head`, the
//! newest head with counters signed before the month began, and the head `H` (for a finished
//! month, one signed after it ended). It holds every entry with index in `[from_head.size,
//! H.size)` that touched `n`: exactly `H`'s count minus `from_head`'s, shown by a consistency
//! proof that `H` extends `from_head`. Those whose time falls in the month are opened to the
//! auditor's fields ([`AUDITOR_FIELDS`]), the others (appended in the range but timed outside
//! the month) to their time and `network_ids` only ([`COUNTED_FIELDS`]). The verifier checks
//! that `from_head` was signed before the month began, so no entry of the month can sit below
//! it: an entry's time is when the use was recorded, before it was appended and so before any
//! head that covers it was signed. An entry of the month appended after `H` shows in the next
//! month's slice, opened only to its time: the record of the two slices together stays
//! complete. Slices of consecutive months, each starting at the head the previous one ended
//! near, cover the whole log with work proportional to a month, not to the log.
//!
//! The application may reduce an entry further, to time and `network_ids`, for uses under files
//! still open: counted, not described.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use ed25519_dalek::VerifyingKey;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::{failed, invalid, Result};
use crate::head::{NetworkCounts, TreeHead};
use crate::hexser;
use crate::merkle::{self, Hash};
use crate::redact::{network_ids, Fields, Redacted};
use crate::store::{EntryPage, EntryStore};

/// The fields a network auditor sees of a use of its network.
pub const AUDITOR_FIELDS: &[&str] = &[
    "action",
    "outcome",
    "purpose",
    "query.channel",
    "query.district",
    "query.network_ids",
    "query.network_reads",
    "time",
];

/// The fields of an entry that is counted but not described: outside the month asked for, or
/// under a file still open.
pub const COUNTED_FIELDS: &[&str] = &["query.network_ids", "time"];

/// Field names as they appear in a redacted entry.
pub const NETWORK_IDS_FIELD: &str = "query.network_ids";
pub const TIME_FIELD: &str = "time";

/// A calendar month, UTC (`YYYY-MM`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month {
    pub year: i32,
    pub month: u32,
}

impl Month {
    /// The month of a time.
    pub fn of(t: DateTime<Utc>) -> Self {
        Self {
            year: t.year(),
            month: t.month(),
        }
    }

    /// First instant of the month.
    pub fn start(&self) -> DateTime<Utc> {
        let d = NaiveDate::from_ymd_opt(self.year, self.month, 1).expect("a valid month");
        Utc.from_utc_datetime(&d.and_hms_opt(0, 0, 0).expect("midnight"))
    }

    /// First instant of the next month.
    pub fn end(&self) -> DateTime<Utc> {
        let (y, m) = if self.month == 12 {
            (self.year + 1, 1)
        } else {
            (self.year, self.month + 1)
        };
        Month { year: y, month: m }.start()
    }

    /// Whether `t` falls in the month.
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        t >= self.start() && t < self.end()
    }
}

impl std::str::FromStr for Month {
    type Err = crate::Error;
    fn from_str(s: &str) -> Result<Self> {
        let bad = || {
            invalid(format!(
                "{s:?} is not a month: write it as YYYY-MM, e.g. 2026-03"
            ))
        };
        let (y, m) = s.split_once('-').ok_or_else(bad)?;
        if y.len() != 4 || m.len() != 2 {
            return Err(bad());
        }
        let year: i32 = y.parse().map_err(|_| bad())?;
        let month: u32 = m.parse().map_err(|_| bad())?;
        if !(1..=12).contains(&month) {
            return Err(bad());
        }
        Ok(Month { year, month })
    }
}

impl std::fmt::Display for Month {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:04}-{:02}", self.year, self.month)
    }
}

impl Serialize for Month {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Month {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// One entry of a slice.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct SliceEntry {
    /// Position in the log.
    pub index: u64,
    /// The opened fields with their salts, the others' commitments.
    #[serde(flatten)]
    pub fields: Redacted,
    /// RFC 6962 inclusion path in the tree of the slice's head (hex hashes).
    #[serde(with = "hexser::hashes")]
    pub proof: Vec<Hash>,
    /// What the application adds (a pseudonymous officer id, ...): not covered by the proof.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, Value>,
}

impl SliceEntry {
    /// The entry's time, when opened.
    pub fn time(&self) -> Option<DateTime<Utc>> {
        let t = self.fields.value(TIME_FIELD)?.as_str()?;
        DateTime::parse_from_rfc3339(t)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }

    /// Whether the entry is opened beyond its time and networks.
    pub fn described(&self) -> bool {
        self.fields
            .revealed
            .keys()
            .any(|k| !COUNTED_FIELDS.contains(&k.as_str()))
    }

    /// Reduces the entry to its time and networks (a use under a file still open).
    pub fn reduce_to_counted(&mut self) -> Result<()> {
        self.fields.reduce_to(COUNTED_FIELDS)
    }
}

/// A network's slice of the ledger at a signed head.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct NetworkSlice {
    pub network_id: i64,
    /// The month whose entries are opened; `None`: all are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub month: Option<Month>,
    /// The signed head the slice is complete for.
    pub head: TreeHead,
    /// A month's slice: the newest head with counters signed before the month began; entries
    /// below its size are not in the slice. `None`: the slice starts at the log's beginning.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub from_head: Option<TreeHead>,
    /// Consistency proof from `from_head` to `head` (hex hashes).
    #[serde(
        default,
        skip_serializing_if = "Vec::is_empty",
        with = "hexser::hashes"
    )]
    pub consistency: Vec<Hash>,
    /// Every entry below the head's size that touched the network, in index order.
    pub entries: Vec<SliceEntry>,
}

impl NetworkSlice {
    /// The entries of the slice's month (all when it has none).
    pub fn in_month(&self) -> impl Iterator<Item = &SliceEntry> {
        self.entries.iter().filter(move |e| match self.month {
            None => true,
            Some(m) => e.time().is_some_and(|t| m.contains(t)),
        })
    }
}

/// What [`verify_slice`] established.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedSlice {
    pub network_id: i64,
    pub head_size: u64,
    /// The slice's first index (`from_head`'s size, 0 without one).
    pub from_size: u64,
    /// Entries that touched the network in the slice's range: the heads' signed counts' difference.
    pub total: u64,
    /// The head was signed after the month ended (else the slice shows the month so far).
    pub month_complete: bool,
    /// Of them, in the month (all when the slice has none).
    pub in_month: u64,
    /// Of those, opened to the auditor's fields; the rest are counted, not described.
    pub described: u64,
}

/// Checks a slice from its JSON alone (see the module documentation): the head's signature by one
/// of `keys`, every entry's leaf hash and inclusion proof, that it touched the network, that the
/// indexes are distinct and below the head's size, that entries outside the month are, and
/// completeness: as many entries as the head's counter for the network.
pub fn verify_slice(slice: &NetworkSlice, keys: &[VerifyingKey]) -> Result<VerifiedSlice> {
    let head = &slice.head;
    crate::head::verify_by_any(head, keys)?;
    let Some(count) = head.network_count(slice.network_id) else {
        return Err(failed(format!(
            "the tree head of size {} carries no per-network counters, so the slice's \
             completeness cannot be checked: ask for a slice at a newer head",
            head.size
        )));
    };
    let (from_size, before) = match &slice.from_head {
        None => (0, 0),
        Some(from) => {
            crate::head::verify_by_any(from, keys)?;
            let Some(month) = slice.month else {
                return Err(failed("a slice that starts at a head must be a month's"));
            };
            if from.time()? >= month.start() {
                return Err(failed(format!(
                    "the slice starts at a head signed at {}, not before {month} began: entries                      of the month could sit below it",
                    from.timestamp
                )));
            }
            let before = from.network_count(slice.network_id).ok_or_else(|| {
                failed(format!(
                    "the tree head of size {} the slice starts at carries no counters",
                    from.size
                ))
            })?;
            if from.size > head.size {
                return Err(failed("the slice starts at a head larger than its end"));
            }
            if from.size > 0 {
                merkle::verify_consistency(
                    from.size,
                    head.size,
                    &slice.consistency,
                    &from.root_hash,
                    &head.root_hash,
                )
                .map_err(|_| {
                    failed(format!(
                        "the tree head of size {} does not extend the one of size {} the slice \
                         starts at",
                        head.size, from.size
                    ))
                })?;
            }
            (from.size, before)
        }
    };
    let count = count.checked_sub(before).ok_or_else(|| {
        failed("the heads' counters for the network decrease: they cannot both be right")
    })?;
    let mut seen = BTreeSet::new();
    let (mut in_month, mut described) = (0u64, 0u64);
    for e in &slice.entries {
        let at = format!("entry {}", e.index);
        if e.index >= head.size || e.index < from_size {
            return Err(failed(format!(
                "{at} is outside the slice's range {from_size}..{}",
                head.size
            )));
        }
        if !seen.insert(e.index) {
            return Err(failed(format!("{at} appears twice in the slice")));
        }
        let leaf = e
            .fields
            .leaf_hash()
            .map_err(|x| failed(format!("{at}: {x}")))?;
        merkle::verify_inclusion(e.index, head.size, &leaf, &e.proof, &head.root_hash).map_err(
            |_| {
                failed(format!(
                    "{at}: its fields do not verify against the signed tree head of size {} \
                     (a field was changed, or the proof is wrong)",
                    head.size
                ))
            },
        )?;
        if !network_ids(e.fields.value(NETWORK_IDS_FIELD)).contains(&slice.network_id) {
            return Err(failed(format!(
                "{at} does not show that it touched network {}",
                slice.network_id
            )));
        }
        let time = e
            .time()
            .ok_or_else(|| failed(format!("{at} does not show its time")))?;
        if slice.month.is_none_or(|m| m.contains(time)) {
            in_month += 1;
            if e.described() {
                described += 1;
            }
        }
    }
    if slice.entries.len() as u64 != count {
        return Err(failed(format!(
            "the slice is incomplete: the signed tree heads count {count} entries that touched \
             network {} in {from_size}..{}, the slice holds {}",
            slice.network_id,
            head.size,
            slice.entries.len()
        )));
    }
    let month_complete = match slice.month {
        None => true,
        Some(m) => head.time()? >= m.end(),
    };
    Ok(VerifiedSlice {
        network_id: slice.network_id,
        head_size: head.size,
        from_size,
        total: count,
        month_complete,
        in_month,
        described,
    })
}

/// The body holds a `network_ids` key somewhere: a cheap test before parsing, which every entry
/// that touched a network passes.
fn may_name_networks(body: &[u8]) -> bool {
    const KEY: &[u8] = b"\"network_ids\":";
    body.windows(KEY.len()).any(|w| w == KEY)
}

/// Adds to `counts` the networks touched by the entries with `from <= index < to`.
pub(crate) fn count_networks(
    store: &mut dyn EntryStore,
    from: u64,
    to: u64,
    counts: &mut NetworkCounts,
) -> Result<()> {
    let mut fetch = |a, b, page: &mut EntryPage| store.entry_page(a, b, page);
    each_touching(&mut fetch, from, to, &mut |_, fields| {
        for n in network_ids(fields.values.get(NETWORK_IDS_FIELD)) {
            *counts.entry(n).or_default() += 1;
        }
        Ok(())
    })
}

/// Calls `visit` with every version-2 entry with `from <= index < to` that names a network.
pub(crate) fn each_touching(
    fetch: &mut dyn FnMut(u64, u64, &mut EntryPage) -> Result<()>,
    from: u64,
    to: u64,
    visit: &mut dyn FnMut(u64, Fields) -> Result<()>,
) -> Result<()> {
    let mut page = EntryPage::default();
    let mut at = from;
    while at < to {
        let upto = to.min(at + crate::MAX_ENTRIES_PER_CALL);
        fetch(at, upto, &mut page)?;
        for (index, body) in page.iter() {
            if !may_name_networks(body) {
                continue;
            }
            if let Some(fields) = Fields::of_body(body) {
                if fields.values.contains_key(NETWORK_IDS_FIELD) {
                    visit(index, fields)?;
                }
            }
        }
        // Pages are dense in a sound log; a gap is for `verify_full` to report.
        match page.last_index() {
            Some(last) if last >= at => at = last + 1,
            _ => break,
        }
    }
    Ok(())
}

impl crate::Ledger {
    /// Network `network`'s slice at `head` (a head this log signed, with counters): every entry
    /// below its size that touched the network, from the newest counted head signed before
    /// `month` began (from the start without a month), those in `month` (all, without one)
    /// opened to [`AUDITOR_FIELDS`], the others to [`COUNTED_FIELDS`], each with its inclusion
    /// proof.
    pub fn network_slice(
        &self,
        network: i64,
        head: &TreeHead,
        month: Option<Month>,
    ) -> Result<NetworkSlice> {
        if head.network_counts.is_none() {
            return Err(invalid(format!(
                "the tree head of size {} was signed before heads carried per-network counters; \
                 ask again once the server has signed a newer head (it signs one a minute \
                 while the log grows)",
                head.size
            )));
        }
        self.refresh()?;
        if head.size > self.size() || self.root_at(head.size)? != head.root_hash {
            return Err(invalid(format!(
                "the tree head of size {} is not one of this log's",
                head.size
            )));
        }
        let from_head = match month {
            None => None,
            Some(m) => {
                let start = m.start();
                let mut before = None;
                for h in self.tree_heads()? {
                    if h.network_counts.is_some() && h.size <= head.size && h.time()? < start {
                        before = Some(h);
                    }
                }
                before
            }
        };
        let from = from_head.as_ref().map_or(0, |h| h.size);
        let consistency = if from > 0 && from < head.size {
            self.consistency_proof(from, head.size)?.hashes
        } else {
            Vec::new()
        };
        let mut entries = Vec::new();
        let mut fetch = |a, b, page: &mut EntryPage| self.entry_page(a, b, page);
        each_touching(&mut fetch, from, head.size, &mut |index, fields| {
            if !network_ids(fields.values.get(NETWORK_IDS_FIELD)).contains(&network) {
                return Ok(());
            }
            let time = fields
                .values
                .get(TIME_FIELD)
                .and_then(Value::as_str)
                .and_then(|t| DateTime::parse_from_rfc3339(t).ok())
                .map(|t| t.with_timezone(&Utc));
            let open = match (month, time) {
                (None, _) => AUDITOR_FIELDS,
                (Some(m), Some(t)) if m.contains(t) => AUDITOR_FIELDS,
                _ => COUNTED_FIELDS,
            };
            let proof = merkle::inclusion_proof(&self.nodes, index, head.size)?;
            entries.push(SliceEntry {
                index,
                fields: fields.redact(open),
                proof,
                annotations: BTreeMap::new(),
            });
            Ok(())
        })?;
        Ok(NetworkSlice {
            network_id: network,
            month,
            head: head.clone(),
            from_head,
            consistency,
            entries,
        })
    }

    /// The newest signed head that carries per-network counters.
    pub fn latest_counted_head(&self) -> Result<Option<TreeHead>> {
        Ok(self
            .latest_tree_head()?
            .filter(|h| h.network_counts.is_some()))
    }
}

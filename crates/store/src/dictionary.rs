//! The dictionary of distinct plates, for partial and OCR-fuzzy search without scanning reads.
//!
//! Plates are held in two immutable finite-state transducers built from the `plates` table at
//! start: plate text → plate id, and confusion-class key → ids of the plates with that key.
//! A wildcard pattern runs as an automaton over the first; a fuzzy query as a Levenshtein
//! automaton over the second. Plates first seen since the last build sit in a small hash map
//! (the delta) that queries also consult; when it grows, the transducers are rebuilt off the
//! write path and swapped in.

use anpr_domain::{class_key, query::wildcard_matches};
use fst::{Automaton, IntoStreamer, Map, MapBuilder, Streamer};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// Rebuild once this many plates have arrived since the last build.
const DELTA_REBUILD_THRESHOLD: usize = 20_000;

#[derive(Debug, thiserror::Error)]
pub enum DictionaryError {
    #[error("the pattern matches more than {0} distinct plates")]
    TooManyPlates(usize),
    #[error("the fuzzy pattern is too complex: {0}")]
    TooComplex(String),
}

struct Base {
    plates: Map<Vec<u8>>,
    classes: Map<Vec<u8>>,
    postings: Vec<Box<[i64]>>,
}

impl Base {
    fn build(mut entries: Vec<(String, i64)>) -> Base {
        entries.sort_unstable();
        entries.dedup_by(|a, b| a.0 == b.0);
        let mut plates = MapBuilder::memory();
        for (plate, id) in &entries {
            plates
                .insert(plate, *id as u64)
                .expect("keys are sorted and unique");
        }
        let mut by_class: Vec<(String, i64)> =
            entries.iter().map(|(p, id)| (class_key(p), *id)).collect();
        by_class.sort_unstable();
        let mut classes = MapBuilder::memory();
        let mut postings: Vec<Box<[i64]>> = Vec::new();
        let mut i = 0;
        while i < by_class.len() {
            let key = &by_class[i].0;
            let j = i + by_class[i..].iter().take_while(|(k, _)| k == key).count();
            classes
                .insert(key, postings.len() as u64)
                .expect("keys are sorted and unique");
            postings.push(by_class[i..j].iter().map(|(_, id)| *id).collect());
            i = j;
        }
        Base {
            plates: Map::new(plates.into_inner().expect("in-memory build")).expect("valid fst"),
            classes: Map::new(classes.into_inner().expect("in-memory build")).expect("valid fst"),
            postings,
        }
    }

    fn entries(&self) -> Vec<(String, i64)> {
        let mut out = Vec::with_capacity(self.plates.len());
        let mut stream = self.plates.stream();
        while let Some((k, v)) = stream.next() {
            out.push((String::from_utf8_lossy(k).into_owned(), v as i64));
        }
        out
    }
}

/// Plates first seen since the last build, with their confusion-class keys worked out once,
/// so that a query consults the delta by hash lookup (or one pass over its distinct keys)
/// rather than recomputing a key per plate per query.
#[derive(Clone, Default)]
struct Delta {
    plates: HashMap<String, i64>,
    classes: HashMap<String, Vec<i64>>,
}

impl Delta {
    fn insert(&mut self, plate: String, id: i64) {
        let key = class_key(&plate);
        if let Some(old) = self.plates.insert(plate, id) {
            if let Some(ids) = self.classes.get_mut(&key) {
                ids.retain(|i| *i != old);
            }
        }
        self.classes.entry(key).or_default().push(id);
    }

    /// Drops the plates a rebuild folded into the base.
    fn remove_folded(&mut self, folded: &Delta) {
        self.plates.retain(|k, _| !folded.plates.contains_key(k));
        for (key, ids) in &folded.classes {
            if let Some(mine) = self.classes.get_mut(key) {
                mine.retain(|i| !ids.contains(i));
                if mine.is_empty() {
                    self.classes.remove(key);
                }
            }
        }
    }

    fn len(&self) -> usize {
        self.plates.len()
    }
}

struct Inner {
    base: Arc<Base>,
    delta: Delta,
    /// Highest plate id held, so a refresh asks the database only for newer plates.
    max_id: i64,
}

/// Thread-safe; reads take a shared lock for microseconds.
pub struct PlateDictionary {
    inner: RwLock<Inner>,
    rebuilding: std::sync::atomic::AtomicBool,
}

impl PlateDictionary {
    pub fn from_entries(entries: Vec<(String, i64)>) -> Self {
        let max_id = entries.iter().map(|(_, id)| *id).max().unwrap_or(0);
        PlateDictionary {
            inner: RwLock::new(Inner {
                base: Arc::new(Base::build(entries)),
                delta: Delta::default(),
                max_id,
            }),
            rebuilding: false.into(),
        }
    }

    pub fn len(&self) -> usize {
        let inner = self.inner.read().expect("dictionary lock");
        inner.base.plates.len() + inner.delta.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    pub fn get(&self, plate: &str) -> Option<i64> {
        let inner = self.inner.read().expect("dictionary lock");
        inner
            .delta
            .plates
            .get(plate)
            .copied()
            .or_else(|| inner.base.plates.get(plate).map(|v| v as i64))
    }

    /// Adds plates that are now durably stored. Returns true when a rebuild is due.
    pub fn insert_committed(&self, plates: impl IntoIterator<Item = (String, i64)>) -> bool {
        let mut inner = self.inner.write().expect("dictionary lock");
        for (plate, id) in plates {
            inner.max_id = inner.max_id.max(id);
            if inner.base.plates.get(&plate).is_none() {
                inner.delta.insert(plate, id);
            }
        }
        inner.delta.len() >= DELTA_REBUILD_THRESHOLD
    }

    pub fn max_id(&self) -> i64 {
        self.inner.read().expect("dictionary lock").max_id
    }

    /// Folds the delta into freshly built transducers. Building happens without holding the
    /// lock, so searches and ingestion continue meanwhile; concurrent calls are coalesced.
    pub fn rebuild(&self) {
        use std::sync::atomic::Ordering;
        if self.rebuilding.swap(true, Ordering::AcqRel) {
            return;
        }
        let (base, delta) = {
            let inner = self.inner.read().expect("dictionary lock");
            (inner.base.clone(), inner.delta.clone())
        };
        let mut entries = base.entries();
        entries.extend(delta.plates.iter().map(|(k, v)| (k.clone(), *v)));
        let fresh = Arc::new(Base::build(entries));
        {
            let mut inner = self.inner.write().expect("dictionary lock");
            inner.base = fresh;
            inner.delta.remove_folded(&delta);
        }
        self.rebuilding.store(false, Ordering::Release);
    }

    /// Ids of the plates matching a wildcard pattern (`?` one character, `*` any run).
    pub fn wildcard(&self, pattern: &str, limit: usize) -> Result<Vec<i64>, DictionaryError> {
        let inner = self.inner.read().expect("dictionary lock");
        let automaton = WildcardAutomaton::new(pattern.as_bytes());
        let mut out = Vec::new();
        let mut stream = inner.base.plates.search(&automaton).into_stream();
        while let Some((_, id)) = stream.next() {
            push_bounded(&mut out, id as i64, limit)?;
        }
        for (plate, id) in &inner.delta.plates {
            if wildcard_matches(pattern, plate) {
                push_bounded(&mut out, *id, limit)?;
            }
        }
        Ok(out)
    }

    /// Ids of the plates equal to `plate` up to OCR confusions and `max_edits` edits.
    pub fn fuzzy(
        &self,
        plate: &str,
        max_edits: u8,
        limit: usize,
    ) -> Result<Vec<i64>, DictionaryError> {
        let key = class_key(plate);
        let inner = self.inner.read().expect("dictionary lock");
        let mut out = Vec::new();
        if max_edits == 0 {
            if let Some(ix) = inner.base.classes.get(&key) {
                for id in inner.base.postings[ix as usize].iter() {
                    push_bounded(&mut out, *id, limit)?;
                }
            }
        } else {
            let lev = fst::automaton::Levenshtein::new(&key, max_edits as u32)
                .map_err(|e| DictionaryError::TooComplex(e.to_string()))?;
            let mut stream = inner.base.classes.search(&lev).into_stream();
            while let Some((_, ix)) = stream.next() {
                for id in inner.base.postings[ix as usize].iter() {
                    push_bounded(&mut out, *id, limit)?;
                }
            }
        }
        if max_edits == 0 {
            for id in inner.delta.classes.get(&key).into_iter().flatten() {
                push_bounded(&mut out, *id, limit)?;
            }
        } else {
            for (class, ids) in &inner.delta.classes {
                if edit_distance_within(class, &key, max_edits as usize) {
                    for id in ids {
                        push_bounded(&mut out, *id, limit)?;
                    }
                }
            }
        }
        Ok(out)
    }

    /// Whether a rebuild is due (used by callers that schedule it in the background).
    pub fn rebuild_due(&self) -> bool {
        self.inner.read().expect("dictionary lock").delta.len() >= DELTA_REBUILD_THRESHOLD
    }
}

fn push_bounded(out: &mut Vec<i64>, id: i64, limit: usize) -> Result<(), DictionaryError> {
    if out.len() >= limit {
        return Err(DictionaryError::TooManyPlates(limit));
    }
    out.push(id);
    Ok(())
}

pub use anpr_domain::confusion::edit_distance_within;

/// The wildcard pattern as an NFA whose state is the set of pattern positions reached,
/// packed in a bitmask (patterns are at most a few dozen bytes).
struct WildcardAutomaton<'a> {
    pattern: &'a [u8],
}

impl<'a> WildcardAutomaton<'a> {
    fn new(pattern: &'a [u8]) -> Self {
        debug_assert!(pattern.len() < 64);
        WildcardAutomaton { pattern }
    }

    /// Adds the positions reachable by letting `*` match nothing.
    fn closure(&self, mut set: u64) -> u64 {
        for i in 0..self.pattern.len() {
            if set & (1 << i) != 0 && self.pattern[i] == b'*' {
                set |= 1 << (i + 1);
            }
        }
        set
    }
}

impl Automaton for WildcardAutomaton<'_> {
    type State = u64;

    fn start(&self) -> u64 {
        self.closure(1)
    }

    fn is_match(&self, state: &u64) -> bool {
        state & (1 << self.pattern.len()) != 0
    }

    fn can_match(&self, state: &u64) -> bool {
        *state != 0
    }

    fn accept(&self, state: &u64, byte: u8) -> u64 {
        let mut next = 0u64;
        for (i, &p) in self.pattern.iter().enumerate() {
            if state & (1 << i) == 0 {
                continue;
            }
            match p {
                b'*' => next |= 1 << i,
                b'?' => next |= 1 << (i + 1),
                c if c == byte => next |= 1 << (i + 1),
                _ => {}
            }
        }
        self.closure(next)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn dict(plates: &[&str]) -> PlateDictionary {
        PlateDictionary::from_entries(
            plates
                .iter()
                .enumerate()
                .map(|(i, p)| (p.to_string(), i as i64 + 1))
                .collect(),
        )
    }

    #[test]
    fn exact_lookup_covers_base_and_delta() {
        let d = dict(&["ABC123", "XYZ789"]);
        assert_eq!(d.get("XYZ789"), Some(2));
        assert_eq!(d.get("NOPE1"), None);
        d.insert_committed([("NEW1".to_string(), 9)]);
        assert_eq!(d.get("NEW1"), Some(9));
        d.rebuild();
        assert_eq!(d.get("NEW1"), Some(9));
        assert_eq!(d.len(), 3);
    }

    #[test]
    fn wildcard_search() {
        let d = dict(&["ABC123", "ABX129", "ABC12", "ZZZ999"]);
        d.insert_committed([("ABQ12Z".to_string(), 10)]);
        let mut ids = d.wildcard("AB?12*", 100).unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3, 10]);
        assert_eq!(d.wildcard("*999", 100).unwrap(), vec![4]);
        assert!(matches!(
            d.wildcard("AB*", 2),
            Err(DictionaryError::TooManyPlates(2))
        ));
    }

    #[test]
    fn fuzzy_search_treats_confusions_as_equal() {
        let d = dict(&["ABC123", "A8C123", "ABC1Z3", "XBC124", "QQQ000"]);
        let mut ids = d.fuzzy("ABC123", 0, 100).unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3]);
        let mut ids = d.fuzzy("ABC123", 1, 100).unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3]);
        let mut ids = d.fuzzy("ABC123", 2, 100).unwrap();
        ids.sort();
        assert_eq!(ids, vec![1, 2, 3, 4]);
        d.insert_committed([("A8CI23".to_string(), 20)]);
        assert!(d.fuzzy("ABC123", 0, 100).unwrap().contains(&20));
    }

    proptest! {
        #[test]
        fn wildcard_agrees_with_reference(
            plates in proptest::collection::btree_set("[A-C1-3]{1,6}", 1..40),
            pattern in "[A-C1-3?*]{1,6}",
        ) {
            let plates: Vec<String> = plates.into_iter().collect();
            let d = PlateDictionary::from_entries(
                plates.iter().cloned().zip(0..).collect());
            let mut got = d.wildcard(&pattern, 1000).unwrap();
            got.sort();
            let want: Vec<i64> = plates.iter().zip(0..)
                .filter(|(p, _)| wildcard_matches(&pattern, p)).map(|(_, i)| i).collect();
            prop_assert_eq!(got, want);
        }

        #[test]
        fn fuzzy_agrees_with_reference(
            plates in proptest::collection::btree_set("[A-D0-3]{1,6}", 1..40),
            query in "[A-D0-3]{1,6}",
            edits in 0u8..=2,
        ) {
            let plates: Vec<String> = plates.into_iter().collect();
            let d = PlateDictionary::from_entries(
                plates.iter().cloned().zip(0..).collect());
            let mut got = d.fuzzy(&query, edits, 1000).unwrap();
            got.sort();
            let want: Vec<i64> = plates.iter().zip(0..)
                .filter(|(p, _)| edit_distance_within(&class_key(p), &class_key(&query), edits as usize))
                .map(|(_, i)| i).collect();
            prop_assert_eq!(got, want);
        }

        /// The same answers when some plates sit in the delta, before and after a rebuild folds
        /// them in, and with plates arriving during the rebuild's window.
        #[test]
        fn fuzzy_over_base_and_delta_agrees_with_reference(
            plates in proptest::collection::btree_set("[A-D0-3]{1,6}", 2..40),
            split in 0usize..40,
            query in "[A-D0-3]{1,6}",
            edits in 0u8..=2,
        ) {
            let plates: Vec<(String, i64)> = plates.into_iter().zip(0..).collect();
            let split = split.min(plates.len());
            let d = PlateDictionary::from_entries(plates[..split].to_vec());
            d.insert_committed(plates[split..].to_vec());
            let want: Vec<i64> = plates.iter()
                .filter(|(p, _)| edit_distance_within(&class_key(p), &class_key(&query), edits as usize))
                .map(|(_, i)| *i).collect();
            let mut got = d.fuzzy(&query, edits, 1000).unwrap();
            got.sort();
            prop_assert_eq!(&got, &want);
            d.rebuild();
            let mut got = d.fuzzy(&query, edits, 1000).unwrap();
            got.sort();
            prop_assert_eq!(&got, &want);
        }
    }
}

//! The set of active watches and the matcher.

use anpr_domain::{class_key, NetworkId, UserId};
use anpr_policy::registers::{NetworkAgreement, Use};
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind, Basis};
use chrono::{DateTime, Utc};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

/// An active tracking authorisation, as the matcher needs it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Watch {
    /// The tracking authorisation's id.
    pub authorisation_id: i64,
    /// Normalised.
    pub plate: String,
    /// Also match reads whose plate differs only by OCR-confusable characters.
    pub fuzzy: bool,
    pub requester_user_id: UserId,
    pub district: String,
    /// The authorisation's purpose code: a network that does not share for it (its owner's
    /// controls) is skipped when matching.
    pub purpose_code: String,
    /// The networks whose agreements allow tracking for the district; no other network's
    /// reads ever match.
    pub networks: Vec<NetworkId>,
    pub starts_at: DateTime<Utc>,
    /// When it stops by itself: its expiry, or an emergency's approval deadline while it is
    /// undecided. Past it the watch matches nothing, even before the sweep ends it.
    pub ends_at: Option<DateTime<Utc>>,
}

impl Watch {
    /// The watch an authorisation amounts to, if it is an active tracking authorisation:
    /// `agreements` decide the networks it covers.
    pub fn from_authorisation(a: &Authorisation, agreements: &[NetworkAgreement]) -> Option<Self> {
        if a.kind != AuthorisationKind::Tracking || a.status != AuthStatus::Active {
            return None;
        }
        let deadline = (a.basis == Basis::Emergency && a.decided_at.is_none())
            .then_some(a.approval_deadline)
            .flatten();
        let ends_at = match (a.expires_at, deadline) {
            (Some(e), Some(d)) => Some(e.min(d)),
            (e, d) => e.or(d),
        };
        Some(Watch {
            authorisation_id: a.id,
            plate: a.plate.clone(),
            fuzzy: a.fuzzy,
            requester_user_id: a.requester_user_id,
            district: a.district.clone(),
            purpose_code: a.purpose_code.clone(),
            networks: agreements
                .iter()
                .filter(|g| g.permits(Use::Tracking, &a.district))
                .map(|g| g.network_id)
                .collect(),
            starts_at: a.starts_at?,
            ends_at,
        })
    }

    /// Whether a read of `network` at `captured_at`, arriving at `now`, is within the watch.
    pub fn covers(
        &self,
        network: NetworkId,
        captured_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> bool {
        captured_at >= self.starts_at
            && self.ends_at.is_none_or(|e| now < e && captured_at < e)
            && self.networks.contains(&network)
    }
}

/// The active watches of a deployment. Implementations must make a removed watch stop
/// matching at once: a stopped watch never alerts again.
pub trait WatchSet: Send + Sync + 'static {
    /// Adds or replaces a watch.
    fn upsert(&self, watch: Watch);
    /// Removes the watch of an authorisation (no-op when absent).
    fn remove(&self, authorisation_id: i64);
    /// Replaces every watch (at start, or when sharing agreements change).
    fn replace_all(&self, watches: Vec<Watch>);
    /// The watches a read of `plate` (normalised) from `network` matches.
    fn matches(
        &self,
        plate: &str,
        network: NetworkId,
        captured_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<Arc<Watch>>;
    /// Whether some watch is on `plate` (normalised), exactly or by its confusion class,
    /// whatever its networks and times: a cheap test made before a read is stored, so that a
    /// read that may raise an alert is stored ahead of bulk traffic.
    fn may_match(&self, plate: &str) -> bool;
    fn len(&self) -> usize;
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[derive(Default)]
struct Index {
    by_id: HashMap<i64, Arc<Watch>>,
    exact: HashMap<Box<str>, Vec<Arc<Watch>>>,
    /// Fuzzy watches by the confusion-class key of their plate: a read matches them when its
    /// own key is equal, one hash lookup whatever the number of watches.
    fuzzy: HashMap<Box<str>, Vec<Arc<Watch>>>,
}

impl Index {
    fn insert(&mut self, w: Watch) {
        self.remove(w.authorisation_id);
        let w = Arc::new(w);
        if w.fuzzy {
            self.fuzzy
                .entry(class_key(&w.plate).into())
                .or_default()
                .push(w.clone());
        } else {
            self.exact
                .entry(w.plate.as_str().into())
                .or_default()
                .push(w.clone());
        }
        self.by_id.insert(w.authorisation_id, w);
    }

    fn remove(&mut self, id: i64) {
        let Some(w) = self.by_id.remove(&id) else {
            return;
        };
        let (map, key): (_, Box<str>) = if w.fuzzy {
            (&mut self.fuzzy, class_key(&w.plate).into())
        } else {
            (&mut self.exact, w.plate.as_str().into())
        };
        if let Some(v) = map.get_mut(&key) {
            v.retain(|x| x.authorisation_id != id);
            if v.is_empty() {
                map.remove(&key);
            }
        }
    }
}

/// The embedded watch set: one in-memory index behind a read-write lock (matching takes only
/// the read lock, so concurrent ingests never wait on each other).
#[derive(Default)]
pub struct LocalWatchSet {
    index: RwLock<Index>,
}

impl LocalWatchSet {
    pub fn new() -> Self {
        Self::default()
    }
}

impl WatchSet for LocalWatchSet {
    fn upsert(&self, watch: Watch) {
        self.index.write().expect("watch index lock").insert(watch);
    }

    fn remove(&self, authorisation_id: i64) {
        self.index
            .write()
            .expect("watch index lock")
            .remove(authorisation_id);
    }

    fn replace_all(&self, watches: Vec<Watch>) {
        let mut fresh = Index::default();
        for w in watches {
            fresh.insert(w);
        }
        *self.index.write().expect("watch index lock") = fresh;
    }

    fn matches(
        &self,
        plate: &str,
        network: NetworkId,
        captured_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<Arc<Watch>> {
        let index = self.index.read().expect("watch index lock");
        let mut out = Vec::new();
        let covered = |w: &&Arc<Watch>| w.covers(network, captured_at, now);
        if let Some(v) = index.exact.get(plate) {
            out.extend(v.iter().filter(covered).cloned());
        }
        if !index.fuzzy.is_empty() {
            if let Some(v) = index.fuzzy.get(class_key(plate).as_str()) {
                out.extend(v.iter().filter(covered).cloned());
            }
        }
        out
    }

    fn may_match(&self, plate: &str) -> bool {
        let index = self.index.read().expect("watch index lock");
        index.exact.contains_key(plate)
            || (!index.fuzzy.is_empty() && index.fuzzy.contains_key(class_key(plate).as_str()))
    }

    fn len(&self) -> usize {
        self.index.read().expect("watch index lock").by_id.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::Duration;

    fn watch(id: i64, plate: &str, fuzzy: bool, now: DateTime<Utc>) -> Watch {
        Watch {
            authorisation_id: id,
            plate: plate.into(),
            fuzzy,
            requester_user_id: 7,
            district: "Waikato".into(),
            purpose_code: "stolen_vehicle".into(),
            networks: vec![1],
            starts_at: now - Duration::minutes(5),
            ends_at: Some(now + Duration::hours(1)),
        }
    }

    #[test]
    fn exact_watch_matches_its_plate_on_its_networks_only() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.upsert(watch(1, "ABC123", false, now));
        assert_eq!(set.matches("ABC123", 1, now, now).len(), 1);
        assert!(set.matches("ABC123", 2, now, now).is_empty());
        assert!(set.matches("A8C123", 1, now, now).is_empty());
        assert!(set.matches("ABC124", 1, now, now).is_empty());
    }

    #[test]
    fn fuzzy_watch_matches_confusable_reads() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.upsert(watch(1, "ABC123", true, now));
        assert_eq!(set.matches("A8C1Z3", 1, now, now).len(), 1);
        assert!(set.matches("ABC124", 1, now, now).is_empty());
    }

    #[test]
    fn watch_matches_only_between_start_and_end() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.upsert(watch(1, "ABC123", false, now));
        let before = now - Duration::minutes(10);
        assert!(set.matches("ABC123", 1, before, now).is_empty());
        let later = now + Duration::hours(2);
        assert!(set.matches("ABC123", 1, later, later).is_empty());
        // Read before the end, arriving after it: the watch has stopped.
        assert!(set.matches("ABC123", 1, now, later).is_empty());
    }

    #[test]
    fn removed_watch_never_matches_and_replace_all_resets() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.upsert(watch(1, "ABC123", false, now));
        set.upsert(watch(2, "ABC123", false, now));
        set.upsert(watch(3, "XYZ999", true, now));
        assert_eq!(set.matches("ABC123", 1, now, now).len(), 2);
        set.remove(1);
        set.remove(3);
        let m = set.matches("ABC123", 1, now, now);
        assert_eq!(m.len(), 1);
        assert_eq!(m[0].authorisation_id, 2);
        assert!(set.matches("XYZ999", 1, now, now).is_empty());
        set.replace_all(vec![watch(4, "DEF456", false, now)]);
        assert_eq!(set.len(), 1);
        assert!(set.matches("ABC123", 1, now, now).is_empty());
    }

    #[test]
    fn upsert_replaces_a_watch_of_the_same_authorisation() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.upsert(watch(1, "ABC123", false, now));
        let mut w = watch(1, "ABC123", false, now);
        w.networks = vec![2];
        set.upsert(w);
        assert_eq!(set.len(), 1);
        assert!(set.matches("ABC123", 1, now, now).is_empty());
        assert_eq!(set.matches("ABC123", 2, now, now).len(), 1);
    }
}

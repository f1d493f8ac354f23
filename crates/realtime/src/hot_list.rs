//! The stolen-vehicle hot list as the ingest path consults it: a set of plates.

use std::collections::HashSet;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, RwLock};

/// The plates of the admin-loaded hot list, replaced whole on every load. A hit is only a
/// candidate: the caller confirms it against the stored list and the stolen register (a
/// report cancelled since the load raises nothing) and the network's agreement.
#[derive(Default)]
pub struct HotList {
    plates: RwLock<Arc<HashSet<Box<str>>>>,
    /// Kept apart from the set so the ingest path can skip the lock when the list is empty.
    len: AtomicUsize,
}

impl HotList {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn replace(&self, plates: impl IntoIterator<Item = String>) {
        let set: HashSet<Box<str>> = plates.into_iter().map(String::into_boxed_str).collect();
        let len = set.len();
        *self.plates.write().expect("hot list lock") = Arc::new(set);
        self.len.store(len, Ordering::Release);
    }

    pub fn contains(&self, plate: &str) -> bool {
        !self.is_empty() && self.plates.read().expect("hot list lock").contains(plate)
    }

    /// The subset of `plates` on the list, under one lock.
    pub fn hits<'a>(&self, plates: impl IntoIterator<Item = &'a str>) -> Vec<&'a str> {
        if self.is_empty() {
            return Vec::new();
        }
        let set = Arc::clone(&self.plates.read().expect("hot list lock"));
        plates.into_iter().filter(|p| set.contains(*p)).collect()
    }

    pub fn len(&self) -> usize {
        self.len.load(Ordering::Acquire)
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replace_swaps_the_whole_list() {
        let list = HotList::new();
        assert!(list.is_empty());
        assert!(!list.contains("ABC123"));
        list.replace(["ABC123".to_string(), "XYZ9".to_string()]);
        assert_eq!(list.len(), 2);
        assert!(list.contains("ABC123"));
        assert_eq!(
            list.hits(["XYZ9", "NOPE1", "ABC123"]),
            vec!["XYZ9", "ABC123"]
        );
        list.replace(["NEW1".to_string()]);
        assert!(!list.contains("ABC123"));
        assert!(list.contains("NEW1"));
        list.replace(Vec::new());
        assert!(list.is_empty());
        assert!(list.hits(["NEW1"]).is_empty());
    }
}

//! The filters of `Ledger::find_entries`, checked alike on every entry store.

use anpr_ledger::{Action, Actor, EntryFilter, Event, Ledger};
use chrono::{DateTime, Duration, TimeZone, Utc};

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
}

/// 3,000 entries a minute apart: S1 searches, S2 views images, the platform ends tracking.
pub fn fill(l: &Ledger) {
    let events: Vec<Event> = (0..3_000)
        .map(|i| {
            let (actor, action) = match i % 3 {
                0 => (Actor::staff("S1", "searcher"), Action::Search),
                1 => (Actor::staff("S2", "searcher"), Action::ImageView),
                _ => (Actor::system(), Action::TrackingEnd),
            };
            Event::new(actor, action).at(start() + Duration::minutes(i))
        })
        .collect();
    for chunk in events.chunks(500) {
        l.append(chunk).unwrap();
    }
}

fn indices(l: &Ledger, f: &EntryFilter) -> (Vec<u64>, Option<u64>) {
    let found = l.find_entries(f).unwrap();
    (
        found.entries.iter().map(|e| e.index).collect(),
        found.next_before,
    )
}

pub fn check(l: &Ledger) {
    let all = EntryFilter {
        limit: 5,
        ..Default::default()
    };
    assert_eq!(
        indices(l, &all),
        (vec![2999, 2998, 2997, 2996, 2995], Some(2995))
    );

    // By actor (letter case aside) and action, newest first, paged on with `before`.
    let s2 = EntryFilter {
        actor: Some("s2".into()),
        limit: 3,
        ..Default::default()
    };
    assert_eq!(indices(l, &s2), (vec![2998, 2995, 2992], Some(2992)));
    let next = EntryFilter {
        before: Some(2992),
        ..s2.clone()
    };
    assert_eq!(indices(l, &next).0, vec![2989, 2986, 2983]);
    let ends = EntryFilter {
        action: Some(Action::TrackingEnd),
        limit: 2,
        ..Default::default()
    };
    assert_eq!(indices(l, &ends).0, vec![2999, 2996]);
    let none = EntryFilter {
        actor: Some("S1".into()),
        action: Some(Action::ImageView),
        limit: 10,
        ..Default::default()
    };
    assert_eq!(
        indices(l, &none),
        (vec![], None),
        "no match: the whole log looked at"
    );

    // By time: [from, to) holds minutes 100 to 104, entries 100 to 104.
    let range = EntryFilter {
        from: Some(start() + Duration::minutes(100)),
        to: Some(start() + Duration::minutes(105)),
        limit: 50,
        ..Default::default()
    };
    assert_eq!(indices(l, &range), (vec![104, 103, 102, 101, 100], None));
    let s1_in_range = EntryFilter {
        actor: Some("S1".into()),
        ..range.clone()
    };
    assert_eq!(indices(l, &s1_in_range).0, vec![102]);

    // Nonsense is refused, not answered.
    assert!(l
        .find_entries(&EntryFilter {
            limit: 0,
            ..Default::default()
        })
        .is_err());
    let backwards = EntryFilter {
        from: range.to,
        to: range.from,
        limit: 5,
        ..Default::default()
    };
    assert!(l.find_entries(&backwards).is_err());
}

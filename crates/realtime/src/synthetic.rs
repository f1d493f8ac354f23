//! Made-up watches, for load tests and benchmarks of matching at scale: a million watches is
//! far beyond any deployment's tracking (a few hundred requests a month), so no store is ever
//! filled with them; they are put straight into a process's watch set.

use crate::Watch;
use anpr_domain::{NetworkId, UserId};
use chrono::{DateTime, Duration, Utc};

/// First id of a made-up watch: far above any real authorisation's.
pub const FIRST_ID: i64 = 1_000_000_000;

/// The user made-up watches belong to (no such user exists).
pub const REQUESTER: UserId = 1_000_000;

/// The plate of made-up watch `i`: `W` and seven digits, a shape no camera reads (NZ plates
/// are at most six characters), so only a reader who sends it on purpose ever matches one.
pub fn plate(i: usize) -> String {
    format!("W{:07}", i % 10_000_000)
}

/// `n` made-up watches over `network`, running from a minute before `now` for a day; one in
/// ten OCR-fuzzy.
pub fn watches(n: usize, network: NetworkId, now: DateTime<Utc>) -> Vec<Watch> {
    (0..n)
        .map(|i| Watch {
            authorisation_id: FIRST_ID + i as i64,
            plate: plate(i),
            fuzzy: i % 10 == 0,
            requester_user_id: REQUESTER,
            district: "Nowhere".into(),
            purpose_code: "stolen_vehicle".into(),
            networks: vec![network],
            starts_at: now - Duration::minutes(1),
            ends_at: Some(now + Duration::days(1)),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{LocalWatchSet, WatchSet};

    #[test]
    fn made_up_watches_match_their_own_plates_and_no_real_one() {
        let now = Utc::now();
        let set = LocalWatchSet::new();
        set.replace_all(watches(1_000, 1, now));
        assert_eq!(set.len(), 1_000);
        assert_eq!(set.matches(&plate(7), 1, now, now).len(), 1);
        assert!(
            set.matches(&plate(7), 2, now, now).is_empty(),
            "another network"
        );
        for real in ["ABC123", "BNC123", "W00007", "QX0007"] {
            assert!(set.matches(real, 1, now, now).is_empty(), "{real} matched");
            assert!(!set.may_match(real), "{real} may match");
        }
    }
}

//! Synthetic sightings of training plates, so that nobody needs a real car (least of all their
//! own) to learn the system. A pure function of the plate and the hour: the same search in the
//! same hour shows the same sightings.

use crate::config::PolicyConfig;
use chrono::{DateTime, Duration, DurationRound, Utc};

/// One synthetic sighting: when, and at which of the caller's sites.
#[derive(Debug, Clone, PartialEq)]
pub struct TrainingSighting {
    pub plate: String,
    pub captured_at: DateTime<Utc>,
    /// Index into the sites the caller offers (modulo their number).
    pub site_index: usize,
    pub confidence: f32,
}

/// Days of synthetic history.
pub const TRAINING_DAYS: i64 = 14;

fn splitmix(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// Between 6 and 15 sightings of `plate` over the last [`TRAINING_DAYS`] days, newest first,
/// none inside the near-live window (training shows the same rules as real searches).
pub fn sightings(
    plate: &str,
    now: DateTime<Utc>,
    sites: usize,
    cfg: &PolicyConfig,
) -> Vec<TrainingSighting> {
    let mut state = plate.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
        (h ^ b as u64).wrapping_mul(0x100_0000_01b3)
    });
    let hour = now.duration_trunc(Duration::hours(1)).unwrap_or(now);
    let newest = hour - Duration::minutes(cfg.near_live_minutes + 5);
    let n = 6 + (splitmix(&mut state) % 10) as usize;
    let span = (TRAINING_DAYS * 24 * 60) as u64;
    let mut out: Vec<TrainingSighting> = (0..n)
        .map(|_| {
            let back = splitmix(&mut state) % span;
            TrainingSighting {
                plate: plate.to_string(),
                captured_at: newest - Duration::minutes(back as i64),
                site_index: (splitmix(&mut state) % sites.max(1) as u64) as usize,
                confidence: 0.80 + (splitmix(&mut state) % 20) as f32 / 100.0,
            }
        })
        .collect();
    out.sort_by_key(|s| std::cmp::Reverse(s.captured_at));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deterministic_and_outside_the_near_live_window() {
        let cfg = PolicyConfig::default();
        let now = Utc::now();
        let a = sightings("TEST01", now, 5, &cfg);
        assert_eq!(a, sightings("TEST01", now, 5, &cfg));
        assert!(a.len() >= 6);
        assert!(a
            .iter()
            .all(|s| s.captured_at < now - Duration::minutes(cfg.near_live_minutes)));
        assert!(a.iter().all(|s| s.site_index < 5));
        assert_ne!(a, sightings("TEST02", now, 5, &cfg));
    }
}

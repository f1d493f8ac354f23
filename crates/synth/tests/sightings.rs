//! The sighting generator: deterministic, in time order, and skewed like real traffic.

use anpr_synth::catalog::demo_catalog;
use anpr_synth::plates::plate_population;
use anpr_synth::reads::{nz_local, sightings, SightingSpec, SyntheticRead};
use chrono::{DateTime, Datelike, TimeDelta, Timelike, Utc, Weekday};
use std::collections::HashMap;
use std::time::Instant;

fn start() -> DateTime<Utc> {
    // Monday 6 May 2024, 00:00 NZST.
    DateTime::parse_from_rfc3339("2024-05-05T12:00:00Z")
        .unwrap()
        .to_utc()
}

fn spec(total: u64, seed: u64) -> SightingSpec {
    let catalog = demo_catalog();
    SightingSpec::new(catalog.cameras.len(), start(), 14, total, seed)
        .with_camera_places(catalog.camera_places())
}

#[test]
fn deterministic() {
    let population = plate_population(5_000, 1);
    let a: Vec<SyntheticRead> = sightings(&spec(20_000, 7), &population).collect();
    let b: Vec<SyntheticRead> = sightings(&spec(20_000, 7), &population).collect();
    assert_eq!(a, b);
    let c: Vec<SyntheticRead> = sightings(&spec(20_000, 8), &population).collect();
    assert_ne!(a, c);
}

#[test]
fn in_order_within_the_window_and_well_formed() {
    let population = plate_population(5_000, 1);
    let spec = spec(50_000, 3);
    let cameras = spec.camera_places.len() as u32;
    let it = sightings(&spec, &population);
    assert_eq!(it.len(), 50_000);
    let reads: Vec<_> = it.collect();
    assert_eq!(reads.len(), 50_000);
    let end = start() + TimeDelta::days(14);
    for pair in reads.windows(2) {
        assert!(pair[0].captured_at <= pair[1].captured_at);
    }
    for r in &reads {
        assert!(r.captured_at >= start() && r.captured_at < end);
        assert!(r.camera_index < cameras);
        assert_eq!(r.plate, population[r.plate_index as usize]);
        assert!((0.3..=1.0).contains(&r.confidence));
    }
    assert!(reads.iter().filter(|r| r.make.is_none()).count() < 50_000 / 5);
}

#[test]
fn skewed_like_traffic() {
    let population = plate_population(10_000, 1);
    let reads: Vec<_> = sightings(&spec(200_000, 5), &population).collect();

    // Busy plates: the top 5% of plates get far more than 5% of reads.
    let mut per_plate: HashMap<u32, usize> = HashMap::new();
    for r in &reads {
        *per_plate.entry(r.plate_index).or_default() += 1;
    }
    let mut counts: Vec<usize> = per_plate.values().copied().collect();
    counts.sort_unstable_by(|a, b| b.cmp(a));
    let top: usize = counts.iter().take(population.len() / 20).sum();
    assert!(
        top as f64 > 0.25 * reads.len() as f64,
        "top 5% of plates: {top} reads"
    );

    // Day and night, in New Zealand time.
    let local_hour = |r: &SyntheticRead| nz_local(r.captured_at).hour();
    let day = reads
        .iter()
        .filter(|r| (9..17).contains(&local_hour(r)))
        .count();
    let night = reads.iter().filter(|r| local_hour(r) < 5).count();
    assert!(day > 10 * night, "day {day}, night {night}");
    let weekday = |r: &SyntheticRead| {
        !matches!(
            nz_local(r.captured_at).weekday(),
            Weekday::Sat | Weekday::Sun
        )
    };
    let at = |h: u32| {
        reads
            .iter()
            .filter(|r| weekday(r) && local_hour(r) == h)
            .count()
    };
    assert!(
        at(8) > at(11) && at(17) > at(14),
        "weekday peaks: 8h {} 11h {} 17h {} 14h {}",
        at(8),
        at(11),
        at(17),
        at(14)
    );

    // Commuters: a commuting plate's morning-peak reads are at one camera.
    let commuter = 0u32;
    let mornings: Vec<u32> = reads
        .iter()
        .filter(|r| r.plate_index == commuter && weekday(r) && (7..9).contains(&local_hour(r)))
        .map(|r| r.camera_index)
        .collect();
    assert!(mornings.len() >= 3, "{mornings:?}");
    assert!(mornings.iter().all(|&c| c == mornings[0]), "{mornings:?}");

    // A vehicle has one make and colour wherever it is seen.
    let mut makes: HashMap<u32, &str> = HashMap::new();
    for r in reads.iter().filter(|r| r.make.is_some()) {
        assert_eq!(
            *makes.entry(r.plate_index).or_insert(r.make.unwrap()),
            r.make.unwrap()
        );
    }
}

#[test]
fn degenerate_specs_yield_nothing() {
    let population = plate_population(10, 1);
    assert_eq!(
        sightings(&SightingSpec::new(0, start(), 1, 100, 1), &population).count(),
        0
    );
    assert_eq!(
        sightings(&SightingSpec::new(3, start(), 0, 100, 1), &population).count(),
        0
    );
    assert_eq!(
        sightings(&SightingSpec::new(3, start(), 1, 100, 1), &[]).count(),
        0
    );
    assert_eq!(
        sightings(&SightingSpec::new(3, start(), 1, 0, 1), &population).count(),
        0
    );
    assert_eq!(
        sightings(&SightingSpec::new(1, start(), 1, 5, 1), &population).count(),
        5
    );
}

/// The benchmark's size. Run in release: `cargo test -p anpr-synth --release --test sightings
/// -- --ignored --nocapture`.
#[test]
#[ignore]
fn ten_million_in_seconds() {
    let started = Instant::now();
    let population = plate_population(500_000, 1);
    let plates_took = started.elapsed();
    let spec = SightingSpec::new(120, start(), 60, 10_000_000, 2);
    let started = Instant::now();
    let mut checksum = 0u64;
    for r in sightings(&spec, &population) {
        checksum = checksum
            .wrapping_add(u64::from(r.camera_index) ^ r.captured_at.timestamp_millis() as u64);
    }
    println!(
        "500,000 plates in {plates_took:?}; 10,000,000 sightings in {:?} (checksum {checksum})",
        started.elapsed()
    );
}

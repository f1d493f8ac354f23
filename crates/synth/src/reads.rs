//! Synthetic sightings: which camera saw which plate when, with the skew of real traffic.
//!
//! - Time: more reads by day than by night, commuter peaks on weekdays, a Saturday shopping
//!   peak, all in New Zealand local time (daylight saving included).
//! - Plates: a twentieth of the plates (couriers, locals) make a third of the reads; most
//!   plates are seen rarely.
//! - Places: a vehicle is mostly seen near home, often at the same camera; one in five of the
//!   frequent plates commutes, passing its home camera in the morning peak and its work
//!   camera in the evening peak.
//!
//! Reads come out in time order without sorting: the capture times are generated as sorted
//! uniform order statistics mapped through the day/week profile, so 10 million reads cost one
//! pass and no memory beyond a per-minute table.

use crate::mix::{hash, unit, weighted};
use chrono::{DateTime, Datelike, NaiveDate, TimeDelta, Timelike, Utc, Weekday};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::collections::HashMap;

/// One sighting. The plate is borrowed from the population; nothing is allocated per read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SyntheticRead<'p> {
    pub camera_index: u32,
    pub captured_at: DateTime<Utc>,
    pub plate_index: u32,
    pub plate: &'p str,
    pub confidence: f32,
    pub make: Option<&'static str>,
    pub colour: Option<&'static str>,
}

/// What to generate.
#[derive(Debug, Clone, PartialEq)]
pub struct SightingSpec {
    /// The place (any label: a town index) of each camera; its length is the camera count.
    pub camera_places: Vec<u32>,
    pub start: DateTime<Utc>,
    pub days: u32,
    pub total: u64,
    pub seed: u64,
}

impl SightingSpec {
    /// `cameras` cameras, each its own place.
    pub fn new(cameras: usize, start: DateTime<Utc>, days: u32, total: u64, seed: u64) -> Self {
        SightingSpec {
            camera_places: (0..cameras as u32).collect(),
            start,
            days,
            total,
            seed,
        }
    }

    /// Cameras grouped by place (see [`crate::catalog::Catalog::camera_places`]), so that
    /// vehicles stay mostly in their home town.
    pub fn with_camera_places(mut self, camera_places: Vec<u32>) -> Self {
        self.camera_places = camera_places;
        self
    }
}

/// The sightings of `spec` over `population`, in time order.
pub fn sightings<'p>(spec: &SightingSpec, population: &'p [String]) -> Sightings<'p> {
    let minutes = spec.days as usize * 24 * 60;
    let mut cdf = Vec::with_capacity(minutes + 1);
    let mut class = Vec::with_capacity(minutes);
    cdf.push(0.0);
    let mut sum = 0.0;
    for m in 0..minutes {
        let t = spec.start + TimeDelta::minutes(m as i64);
        let (weight, c) = profile(nz_local(t));
        sum += weight;
        cdf.push(sum);
        class.push(c);
    }
    // Place ids are renumbered densely so any labelling of places works.
    let mut dense: HashMap<u32, u32> = HashMap::new();
    let mut by_place: Vec<Vec<u32>> = Vec::new();
    let mut camera_places = Vec::with_capacity(spec.camera_places.len());
    for (camera, place) in spec.camera_places.iter().enumerate() {
        let next = by_place.len() as u32;
        let place = *dense.entry(*place).or_insert(next);
        if place == next {
            by_place.push(Vec::new());
        }
        by_place[place as usize].push(camera as u32);
        camera_places.push(place);
    }
    let empty = population.is_empty() || spec.camera_places.is_empty() || minutes == 0;
    Sightings {
        population,
        camera_places,
        by_place,
        start: spec.start,
        cdf,
        class,
        bin: 0,
        remaining: if empty { 0 } else { spec.total },
        r: 1.0,
        seed: spec.seed,
        rng: StdRng::seed_from_u64(spec.seed),
    }
}

/// Iterator over synthetic sightings; see [`sightings`].
pub struct Sightings<'p> {
    population: &'p [String],
    camera_places: Vec<u32>,
    by_place: Vec<Vec<u32>>,
    start: DateTime<Utc>,
    /// Cumulative traffic weight at the start of each minute of the window.
    cdf: Vec<f64>,
    class: Vec<Period>,
    bin: usize,
    remaining: u64,
    /// The running product behind the sorted uniforms (see [`Sightings::next_time`]).
    r: f64,
    seed: u64,
    rng: StdRng,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Period {
    Ordinary,
    MorningPeak,
    EveningPeak,
    Night,
}

impl<'p> Iterator for Sightings<'p> {
    type Item = SyntheticRead<'p>;

    fn next(&mut self) -> Option<SyntheticRead<'p>> {
        if self.remaining == 0 {
            return None;
        }
        let (captured_at, period) = self.next_time();
        self.remaining -= 1;
        let plate_index = self.pick_plate(period);
        let camera_index = self.pick_camera(plate_index, period);
        let vehicle = plate_index as u64;
        let make = (self.rng.gen::<f64>() >= 0.08)
            .then(|| weighted(MAKES, unit(hash(self.seed, 20, vehicle))));
        let colour = (self.rng.gen::<f64>() >= 0.05)
            .then(|| weighted(COLOURS, unit(hash(self.seed, 21, vehicle))));
        // Mostly confident, with a tail of poor reads; worse at night.
        let penalty = if period == Period::Night { 0.04 } else { 0.0 };
        let raw = 0.985 - 0.4 * self.rng.gen::<f64>().powi(4) - penalty;
        let confidence = ((raw.clamp(0.3, 0.999) * 1000.0).round() / 1000.0) as f32;
        Some(SyntheticRead {
            camera_index,
            captured_at,
            plate_index,
            plate: &self.population[plate_index as usize],
            confidence,
            make,
            colour,
        })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = usize::try_from(self.remaining).unwrap_or(usize::MAX);
        (n, Some(n))
    }
}

impl ExactSizeIterator for Sightings<'_> {}

impl Sightings<'_> {
    /// The next capture time, never earlier than the last.
    ///
    /// The k-th largest of n uniforms is the (k-1)-th times V^(1/(n-k+1)) for a fresh uniform
    /// V, so the sorted sample can be walked from the top without holding it; reading it as
    /// 1 - r walks it from the bottom. Each value is a position in the cumulative traffic
    /// weight, found by moving forward through the per-minute table.
    fn next_time(&mut self) -> (DateTime<Utc>, Period) {
        let v = 1.0 - self.rng.gen::<f64>();
        self.r *= v.powf(1.0 / self.remaining as f64);
        let last = self.class.len() - 1;
        let target = (1.0 - self.r) * self.cdf[last + 1];
        while self.bin < last && self.cdf[self.bin + 1] <= target {
            self.bin += 1;
        }
        let (lo, hi) = (self.cdf[self.bin], self.cdf[self.bin + 1]);
        let within = if hi > lo {
            ((target - lo) / (hi - lo)).clamp(0.0, 1.0)
        } else {
            0.0
        };
        let millis = self.bin as i64 * 60_000 + (within * 59_999.0) as i64;
        (
            self.start + TimeDelta::milliseconds(millis),
            self.class[self.bin],
        )
    }

    fn pick_plate(&mut self, period: Period) -> u32 {
        let n = self.population.len();
        let commuters = commuter_count(n);
        let peak = matches!(period, Period::MorningPeak | Period::EveningPeak);
        let index = if peak && commuters > 0 && self.rng.gen_bool(0.45) {
            4 * self.rng.gen_range(0..commuters)
        } else if self.rng.gen_bool(0.3) {
            // Regulars (the first 5% of plates: locals, couriers, staff) get 30% of reads,
            // skewed among themselves but no plate more than a dozen times a day.
            let regulars = (n / 20).max(1);
            (regulars as f64 * self.rng.gen::<f64>().powf(1.2)) as usize
        } else {
            self.rng.gen_range(0..n)
        };
        index.min(n - 1) as u32
    }

    fn pick_camera(&mut self, plate: u32, period: Period) -> u32 {
        let cameras = self.camera_places.len() as u64;
        let home = (hash(self.seed, 30, u64::from(plate)) % cameras) as u32;
        let place = &self.by_place[self.camera_places[home as usize] as usize];
        if is_commuter(plate, self.population.len()) {
            match period {
                Period::MorningPeak => return home,
                Period::EveningPeak => {
                    return place
                        [(hash(self.seed, 31, u64::from(plate)) % place.len() as u64) as usize];
                }
                _ => {}
            }
        }
        let roll = self.rng.gen::<f64>();
        if roll < 0.5 {
            home
        } else if roll < 0.85 {
            place[self.rng.gen_range(0..place.len())]
        } else {
            self.rng.gen_range(0..cameras) as u32
        }
    }
}

/// Commuters are every fourth plate among the busiest fifth of the population.
fn commuter_count(population: usize) -> usize {
    population / 20
}

fn is_commuter(plate: u32, population: usize) -> bool {
    plate & 3 == 0 && (plate as usize / 4) < commuter_count(population)
}

/// Relative traffic by local hour, weekdays and weekends.
const WEEKDAY: [f64; 24] = [
    0.15, 0.08, 0.05, 0.05, 0.08, 0.25, 0.7, 1.6, 1.8, 1.2, 1.1, 1.2, 1.3, 1.2, 1.2, 1.4, 1.8, 1.9,
    1.3, 0.9, 0.7, 0.5, 0.35, 0.22,
];
const WEEKEND: [f64; 24] = [
    0.25, 0.15, 0.1, 0.06, 0.05, 0.1, 0.25, 0.5, 0.9, 1.3, 1.6, 1.7, 1.7, 1.6, 1.5, 1.4, 1.3, 1.2,
    1.0, 0.8, 0.6, 0.5, 0.4, 0.3,
];

/// Traffic weight and period of a local time, interpolated between hours so the curve has
/// no steps.
fn profile(local: chrono::NaiveDateTime) -> (f64, Period) {
    let weekend = matches!(local.weekday(), Weekday::Sat | Weekday::Sun);
    let table = if weekend { &WEEKEND } else { &WEEKDAY };
    let hour = local.hour() as usize;
    let frac = f64::from(local.minute()) / 60.0;
    let weight = table[hour] * (1.0 - frac) + table[(hour + 1) % 24] * frac;
    let minute_of_day = hour * 60 + local.minute() as usize;
    let period = match (weekend, minute_of_day) {
        (false, 420..=539) => Period::MorningPeak,
        (false, 960..=1109) => Period::EveningPeak,
        (_, 0..=359) | (_, 1260..) => Period::Night,
        _ => Period::Ordinary,
    };
    (weight, period)
}

/// New Zealand local time: UTC+12, or UTC+13 in daylight saving, which runs from 2:00 on the
/// last Sunday of September to 3:00 on the first Sunday of April (both 14:00 UTC the day
/// before).
pub fn nz_local(t: DateTime<Utc>) -> chrono::NaiveDateTime {
    let year = t.year();
    let switch = |month: u32, last: bool| -> Option<DateTime<Utc>> {
        let sunday = if last {
            let end = NaiveDate::from_ymd_opt(year, month + 1, 1)?.pred_opt()?;
            end - TimeDelta::days(i64::from(end.weekday().num_days_from_sunday()))
        } else {
            let first = NaiveDate::from_ymd_opt(year, month, 1)?;
            first + TimeDelta::days(i64::from((7 - first.weekday().num_days_from_sunday()) % 7))
        };
        Some(
            (sunday - TimeDelta::days(1))
                .and_hms_opt(14, 0, 0)?
                .and_utc(),
        )
    };
    let daylight = match (switch(4, false), switch(9, true)) {
        (Some(ends), Some(starts)) => t < ends || t >= starts,
        _ => false,
    };
    (t + TimeDelta::hours(if daylight { 13 } else { 12 })).naive_utc()
}

/// Makes on New Zealand roads, weighted roughly by how common they are.
const MAKES: &[(&str, u32)] = &[
    ("Toyota", 26),
    ("Mazda", 9),
    ("Ford", 8),
    ("Nissan", 8),
    ("Holden", 6),
    ("Mitsubishi", 6),
    ("Honda", 6),
    ("Suzuki", 5),
    ("Hyundai", 5),
    ("Kia", 4),
    ("Subaru", 4),
    ("Volkswagen", 4),
    ("BMW", 2),
    ("Mercedes-Benz", 2),
    ("Tesla", 1),
    ("Audi", 1),
    ("Isuzu", 2),
    ("BYD", 1),
];

const COLOURS: &[(&str, u32)] = &[
    ("white", 26),
    ("silver", 18),
    ("grey", 14),
    ("black", 12),
    ("blue", 10),
    ("red", 9),
    ("green", 4),
    ("gold", 2),
    ("brown", 2),
    ("orange", 1),
    ("yellow", 1),
    ("purple", 1),
];

#[cfg(test)]
mod tests {
    use super::*;

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn new_zealand_daylight_saving() {
        // 2024: NZDT ended Sunday 7 April, began Sunday 29 September.
        assert_eq!(nz_local(utc("2024-01-15T00:00:00Z")).hour(), 13);
        assert_eq!(nz_local(utc("2024-04-06T13:59:00Z")).hour(), 2);
        assert_eq!(nz_local(utc("2024-04-06T14:00:00Z")).hour(), 2);
        assert_eq!(nz_local(utc("2024-07-01T00:00:00Z")).hour(), 12);
        assert_eq!(nz_local(utc("2024-09-28T13:59:00Z")).hour(), 1);
        assert_eq!(nz_local(utc("2024-09-28T14:00:00Z")).hour(), 3);
    }

    #[test]
    fn profile_has_peaks() {
        let monday = |h: u32| {
            NaiveDate::from_ymd_opt(2024, 5, 6)
                .unwrap()
                .and_hms_opt(h, 0, 0)
                .unwrap()
        };
        assert!(profile(monday(8)).0 > 5.0 * profile(monday(3)).0);
        assert_eq!(profile(monday(8)).1, Period::MorningPeak);
        assert_eq!(profile(monday(17)).1, Period::EveningPeak);
        assert_eq!(profile(monday(2)).1, Period::Night);
        let saturday = NaiveDate::from_ymd_opt(2024, 5, 4)
            .unwrap()
            .and_hms_opt(8, 0, 0)
            .unwrap();
        assert_eq!(profile(saturday).1, Period::Ordinary);
        assert!(is_commuter(0, 1000) && !is_commuter(1, 1000) && !is_commuter(200, 1000));
    }
}

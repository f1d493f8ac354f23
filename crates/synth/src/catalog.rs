//! The demo catalog: two camera networks with fuel stations, supermarkets and malls in real
//! New Zealand towns, and their cameras. Names are made up and brand-free on purpose.

use crate::mix::{hash, unit};
use crate::places::{Place, PLACES};
use anpr_domain::{GeoPoint, SiteKind, DEFAULT_RETENTION_DAYS};

/// The seed of [`demo_catalog`]; fixed so every demo shows the same sites.
pub const DEMO_SEED: u64 = 0x4E5A_414E_5052; // "NZANPR"

#[derive(Debug, Clone, PartialEq)]
pub struct DemoNetwork {
    pub name: &'static str,
    pub retention_days: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoSite {
    /// Index into [`Catalog::networks`].
    pub network: usize,
    /// Index into [`PLACES`].
    pub place: usize,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub location: GeoPoint,
    pub district: &'static str,
}

#[derive(Debug, Clone, PartialEq)]
pub struct DemoCamera {
    /// Index into [`Catalog::sites`].
    pub site: usize,
    pub name: String,
    pub heading_deg: u16,
}

/// Networks, sites and cameras, cross-referenced by index (the store assigns the ids).
#[derive(Debug, Clone, PartialEq)]
pub struct Catalog {
    pub networks: Vec<DemoNetwork>,
    pub sites: Vec<DemoSite>,
    pub cameras: Vec<DemoCamera>,
}

/// The catalog `anpr demo` creates.
pub fn demo_catalog() -> Catalog {
    Catalog::generate(DEMO_SEED)
}

const NETWORKS: [&str; 2] = ["Auror", "SaferCities"];

const STREETS: &[&str] = &[
    "Main Road",
    "High Street",
    "Station Road",
    "Church Street",
    "Victoria Street",
    "King Street",
    "Queen Street",
    "Park Road",
    "George Street",
    "Albert Street",
    "Grey Street",
    "Bridge Street",
    "Commerce Street",
    "Kent Street",
    "Wellington Road",
    "Great North Road",
    "Great South Road",
];

impl Catalog {
    /// A catalog from `seed`: more sites in bigger towns, each network a mix of kinds, one to
    /// three cameras a site.
    pub fn generate(seed: u64) -> Catalog {
        let networks = NETWORKS
            .iter()
            .map(|&name| DemoNetwork {
                name,
                retention_days: DEFAULT_RETENTION_DAYS,
            })
            .collect();
        let mut sites = Vec::new();
        let mut cameras = Vec::new();
        for (place_index, place) in PLACES.iter().enumerate() {
            let count = (place.population / 70_000).clamp(1, 6) as usize;
            let suburb_offset = hash(seed, 1, place_index as u64) as usize;
            for j in 0..count {
                let key = (place_index * 16 + j) as u64;
                let network = (place_index + j) % NETWORKS.len();
                let kind = site_kind(network, place_index / 2 + j, place);
                let suburb = place.suburbs[(suburb_offset + j) % place.suburbs.len()];
                let mut name = site_name(kind, suburb, hash(seed, 2, key));
                // Suburb names repeat across towns (Frankton is in Hamilton and Queenstown).
                if sites
                    .iter()
                    .any(|s: &DemoSite| s.network == network && s.name == name)
                {
                    name = format!("{name} ({})", place.name);
                }
                let site_index = sites.len();
                sites.push(DemoSite {
                    network,
                    place: place_index,
                    name,
                    kind,
                    address: format!(
                        "{} {}, {suburb}, {}",
                        1 + hash(seed, 3, key) % 400,
                        STREETS[(hash(seed, 4, key) % STREETS.len() as u64) as usize],
                        place.name
                    ),
                    location: jitter(place, hash(seed, 5, key), hash(seed, 6, key)),
                    district: place.district,
                });
                let labels = camera_labels(kind);
                let n = 1 + (hash(seed, 7, key) % labels.len() as u64) as usize;
                for (c, label) in labels.iter().take(n).enumerate() {
                    cameras.push(DemoCamera {
                        site: site_index,
                        name: label.to_string(),
                        heading_deg: (hash(seed, 8, key * 4 + c as u64) % 72 * 5) as u16,
                    });
                }
            }
        }
        Catalog {
            networks,
            sites,
            cameras,
        }
    }

    /// The place (index into [`PLACES`]) of each camera, for [`crate::reads::SightingSpec`].
    pub fn camera_places(&self) -> Vec<u32> {
        self.cameras
            .iter()
            .map(|c| self.sites[c.site].place as u32)
            .collect()
    }

    pub fn site_of(&self, camera: usize) -> &DemoSite {
        &self.sites[self.cameras[camera].site]
    }
}

/// The kind of a network's `k`-th site (counted so that neighbouring towns differ).
fn site_kind(network: usize, k: usize, place: &Place) -> SiteKind {
    // Auror's members are retailers with forecourts and car parks; SaferCities also covers
    // shopping centres, which only bigger towns have.
    let auror = [SiteKind::FuelStation, SiteKind::Supermarket];
    let safer = [SiteKind::Mall, SiteKind::Supermarket, SiteKind::FuelStation];
    match network {
        0 => auror[k % auror.len()],
        _ if place.population < 40_000 => SiteKind::Supermarket,
        _ => safer[k % safer.len()],
    }
}

fn site_name(kind: SiteKind, suburb: &str, h: u64) -> String {
    let pick =
        |options: &[&str]| options[(h % options.len() as u64) as usize].replace("{}", suburb);
    match kind {
        SiteKind::FuelStation => pick(&["Fuel Stop {}", "{} Service Station", "Open Road Fuel {}"]),
        SiteKind::Supermarket => pick(&["Fresh Market {}", "{} Grocer", "Value Foods {}"]),
        SiteKind::Mall => pick(&["{} Shopping Centre", "{} Mall", "{} Plaza"]),
        _ => pick(&["{} Retail"]),
    }
}

fn camera_labels(kind: SiteKind) -> &'static [&'static str] {
    match kind {
        SiteKind::FuelStation => &["Forecourt entry", "Forecourt exit"],
        SiteKind::Supermarket => &["Car park entry", "Car park exit"],
        SiteKind::Mall => &["North entrance", "South entrance", "Car park ramp"],
        _ => &["Entrance"],
    }
}

/// A point near the town centre, on the land side for towns on the water.
fn jitter(place: &Place, h1: u64, h2: u64) -> GeoPoint {
    // Uniform over the area (hence the square root), never right on the centre point.
    let distance_km = 0.3 + (place.spread_km - 0.3) * unit(h1).sqrt();
    let bearing_deg = match place.land_bearing_deg {
        Some(b) => f64::from(b) + (unit(h2) - 0.5) * 150.0,
        None => unit(h2) * 360.0,
    };
    let b = bearing_deg.to_radians();
    let dlat = distance_km * b.cos() / 111.32;
    let dlon = distance_km * b.sin() / (111.32 * place.lat.to_radians().cos());
    GeoPoint {
        lat: round6(place.lat + dlat),
        lon: round6(place.lon + dlon),
    }
}

fn round6(x: f64) -> f64 {
    (x * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::places::in_new_zealand;
    use std::collections::HashSet;

    #[test]
    fn deterministic_and_plausible() {
        let a = demo_catalog();
        assert_eq!(a, demo_catalog());
        assert_ne!(a, Catalog::generate(1));
        assert_eq!(a.networks.len(), 2);
        assert!(a.sites.len() >= 40, "{}", a.sites.len());
        for (i, n) in a.networks.iter().enumerate() {
            let kinds: HashSet<_> = a
                .sites
                .iter()
                .filter(|s| s.network == i)
                .map(|s| s.kind)
                .collect();
            assert!(kinds.len() >= 2, "{}: {kinds:?}", n.name);
        }
        let names: HashSet<_> = a.sites.iter().map(|s| (s.network, &s.name)).collect();
        assert_eq!(
            names.len(),
            a.sites.len(),
            "site names are unique within a network"
        );
        for s in &a.sites {
            let place = &PLACES[s.place];
            assert!(in_new_zealand(s.location.lat, s.location.lon));
            let d = s.location.distance_km(&GeoPoint {
                lat: place.lat,
                lon: place.lon,
            });
            assert!(d <= place.spread_km + 0.1, "{} is {d} km out", s.name);
            assert!(s.address.ends_with(place.name), "{}", s.address);
        }
        for site in 0..a.sites.len() {
            let n = a.cameras.iter().filter(|c| c.site == site).count();
            assert!((1..=3).contains(&n));
        }
        assert!(a.cameras.iter().all(|c| c.heading_deg < 360));
        assert_eq!(a.camera_places().len(), a.cameras.len());
    }
}

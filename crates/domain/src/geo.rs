//! Places and areas on the Earth's surface.

use crate::DomainError;
use serde::{Deserialize, Serialize};

const EARTH_RADIUS_KM: f64 = 6371.0088;

#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
pub struct GeoPoint {
    pub lat: f64,
    pub lon: f64,
}

impl GeoPoint {
    pub fn new(lat: f64, lon: f64) -> Result<Self, DomainError> {
        if !(-90.0..=90.0).contains(&lat) || !lat.is_finite() {
            return Err(DomainError::invalid("lat", "must be between -90 and 90"));
        }
        if !(-180.0..=180.0).contains(&lon) || !lon.is_finite() {
            return Err(DomainError::invalid("lon", "must be between -180 and 180"));
        }
        Ok(GeoPoint { lat, lon })
    }

    /// Great-circle distance (haversine), in kilometres.
    pub fn distance_km(&self, other: &GeoPoint) -> f64 {
        let (p1, p2) = (self.lat.to_radians(), other.lat.to_radians());
        let dphi = p2 - p1;
        let dlambda = (other.lon - self.lon).to_radians();
        let a = (dphi / 2.0).sin().powi(2) + p1.cos() * p2.cos() * (dlambda / 2.0).sin().powi(2);
        2.0 * EARTH_RADIUS_KM * a.sqrt().asin()
    }
}

/// A search area: a circle around a point, or a latitude/longitude box.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Area {
    Circle {
        lat: f64,
        lon: f64,
        radius_km: f64,
    },
    /// A box; when `min_lon > max_lon` it crosses the antimeridian (the Chatham Islands do).
    Box {
        min_lat: f64,
        min_lon: f64,
        max_lat: f64,
        max_lon: f64,
    },
}

impl Area {
    pub fn validate(&self) -> Result<(), DomainError> {
        match *self {
            Area::Circle {
                lat,
                lon,
                radius_km,
            } => {
                GeoPoint::new(lat, lon).map_err(|e| e.within("area"))?;
                if !(radius_km > 0.0 && radius_km <= 2000.0) {
                    return Err(DomainError::invalid(
                        "area.radius_km",
                        "must be above 0 and at most 2000",
                    ));
                }
            }
            Area::Box {
                min_lat,
                min_lon,
                max_lat,
                max_lon,
            } => {
                GeoPoint::new(min_lat, min_lon).map_err(|e| e.within("area"))?;
                GeoPoint::new(max_lat, max_lon).map_err(|e| e.within("area"))?;
                if min_lat > max_lat {
                    return Err(DomainError::invalid(
                        "area.min_lat",
                        "must not exceed max_lat",
                    ));
                }
            }
        }
        Ok(())
    }

    pub fn contains(&self, p: &GeoPoint) -> bool {
        match *self {
            Area::Circle {
                lat,
                lon,
                radius_km,
            } => GeoPoint { lat, lon }.distance_km(p) <= radius_km,
            Area::Box {
                min_lat,
                min_lon,
                max_lat,
                max_lon,
            } => {
                let lat_ok = p.lat >= min_lat && p.lat <= max_lat;
                let lon_ok = if min_lon <= max_lon {
                    p.lon >= min_lon && p.lon <= max_lon
                } else {
                    p.lon >= min_lon || p.lon <= max_lon
                };
                lat_ok && lon_ok
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auckland_to_wellington_is_about_490_km() {
        let akl = GeoPoint::new(-36.8485, 174.7633).unwrap();
        let wlg = GeoPoint::new(-41.2865, 174.7762).unwrap();
        let d = akl.distance_km(&wlg);
        assert!((d - 493.0).abs() < 5.0, "{d}");
    }

    #[test]
    fn circle_and_box_contain() {
        let hamilton = GeoPoint::new(-37.787, 175.2793).unwrap();
        let near_akl = Area::Circle {
            lat: -36.8485,
            lon: 174.7633,
            radius_km: 50.0,
        };
        assert!(!near_akl.contains(&hamilton));
        let waikato = Area::Box {
            min_lat: -38.5,
            min_lon: 174.5,
            max_lat: -37.0,
            max_lon: 176.0,
        };
        assert!(waikato.contains(&hamilton));
        let chathams = Area::Box {
            min_lat: -45.0,
            min_lon: 175.0,
            max_lat: -43.0,
            max_lon: -176.0,
        };
        assert!(chathams.contains(&GeoPoint::new(-43.95, -176.56).unwrap()));
        assert!(!chathams.contains(&GeoPoint::new(-43.95, 170.0).unwrap()));
    }

    #[test]
    fn rejects_bad_areas() {
        let bad = Area::Circle {
            lat: 95.0,
            lon: 0.0,
            radius_km: 1.0,
        };
        assert_eq!(bad.validate().unwrap_err().field(), "area.lat");
        let bad = Area::Circle {
            lat: 0.0,
            lon: 0.0,
            radius_km: f64::NAN,
        };
        assert_eq!(bad.validate().unwrap_err().field(), "area.radius_km");
    }
}

//! The platform's entities: networks, sites, cameras, plate reads, users.

use crate::geo::GeoPoint;
use crate::plate::{NormalisedPlate, PlateFormat};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

pub type NetworkId = i64;
pub type SiteId = i64;
pub type CameraId = i64;
pub type ReadId = i64;
pub type UserId = i64;

/// Default retention of plate reads, in days, when a network states none.
pub const DEFAULT_RETENTION_DAYS: u32 = 60;

/// A privately owned camera network (e.g. "Auror", "SaferCities") that shares reads with police.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Network {
    pub id: NetworkId,
    pub name: String,
    pub retention_days: u32,
    /// Whom the network's own staff call at the police about a vehicle of interest (a name, a
    /// desk, a phone number), set by an administrator; shown in each hot-list alert.
    #[serde(default)]
    pub police_contact: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SiteKind {
    FuelStation,
    Supermarket,
    Mall,
    Retail,
    CarPark,
    Other,
}

impl SiteKind {
    pub const ALL: [SiteKind; 6] = [
        SiteKind::FuelStation,
        SiteKind::Supermarket,
        SiteKind::Mall,
        SiteKind::Retail,
        SiteKind::CarPark,
        SiteKind::Other,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SiteKind::FuelStation => "fuel_station",
            SiteKind::Supermarket => "supermarket",
            SiteKind::Mall => "mall",
            SiteKind::Retail => "retail",
            SiteKind::CarPark => "car_park",
            SiteKind::Other => "other",
        }
    }

    pub fn parse(s: &str) -> Option<SiteKind> {
        SiteKind::ALL.into_iter().find(|k| k.as_str() == s)
    }
}

/// A place where a network has cameras.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Site {
    pub id: SiteId,
    pub network_id: NetworkId,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub location: GeoPoint,
    /// Police district the site lies in (e.g. "Waitematā", "Canterbury").
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Camera {
    pub id: CameraId,
    pub site_id: SiteId,
    pub name: String,
    /// Compass heading the camera faces, in degrees.
    pub heading_deg: Option<u16>,
    pub active: bool,
}

/// A pixel rectangle in an image.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct BoundingBox {
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The SHA-256 (lowercase hex) of a stored image; images are stored by content.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(transparent)]
pub struct ImageHash(pub String);

impl ImageHash {
    pub fn parse(s: &str) -> Option<ImageHash> {
        (s.len() == 64
            && s.bytes()
                .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)))
        .then(|| ImageHash(s.to_string()))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ImageKind {
    Overview,
    Plate,
}

impl ImageKind {
    pub fn parse(s: &str) -> Option<ImageKind> {
        match s {
            "overview" => Some(ImageKind::Overview),
            "plate" => Some(ImageKind::Plate),
            _ => None,
        }
    }
}

/// A validated plate read ready to be stored: what ingestion produces from any input format.
#[derive(Debug, Clone, PartialEq)]
pub struct NewRead {
    pub camera_id: CameraId,
    /// The camera's own id for the read, when it sends one; a retried upload with the same id
    /// is recognised and not stored twice.
    pub external_id: Option<String>,
    pub captured_at: DateTime<Utc>,
    pub plate_raw: String,
    pub plate: NormalisedPlate,
    pub confidence: f32,
    pub plate_box: Option<BoundingBox>,
    pub vehicle_make: Option<String>,
    pub vehicle_colour: Option<String>,
    pub overview_image: Option<ImageHash>,
    pub plate_image: Option<ImageHash>,
}

/// A stored plate read with where it was seen.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct PlateRead {
    pub id: ReadId,
    pub camera_id: CameraId,
    pub site_id: SiteId,
    pub network_id: NetworkId,
    pub captured_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub plate_raw: String,
    #[schema(value_type = String)]
    pub plate: NormalisedPlate,
    pub plate_format: PlateFormat,
    pub confidence: f32,
    pub plate_box: Option<BoundingBox>,
    pub vehicle_make: Option<String>,
    pub vehicle_colour: Option<String>,
    pub overview_image: Option<ImageHash>,
    pub plate_image: Option<ImageHash>,
    pub legal_hold: bool,
}

/// What a user may do. A user may hold several roles; see the access-control policy for which
/// combinations are allowed.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    Searcher,
    Tracker,
    Supervisor,
    Integrity,
    Auditor,
    Admin,
    Camera,
    /// A camera network's own staff (a service-station operator): not police. May receive the
    /// network's "vehicle of interest" hot-list alerts, nothing else.
    NetworkOperator,
    /// Answers people's requests for what is held about their vehicle (subject access).
    PrivacyOfficer,
    /// A camera network's own overseer (the data owner's side): sets the network's sharing
    /// controls and sees the notices of watches covering its cameras. Bound to one network;
    /// combines with no other role.
    NetworkAuditor,
}

impl Role {
    pub const ALL: [Role; 10] = [
        Role::Searcher,
        Role::Tracker,
        Role::Supervisor,
        Role::Integrity,
        Role::Auditor,
        Role::Admin,
        Role::Camera,
        Role::NetworkOperator,
        Role::PrivacyOfficer,
        Role::NetworkAuditor,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Searcher => "searcher",
            Role::Tracker => "tracker",
            Role::Supervisor => "supervisor",
            Role::Integrity => "integrity",
            Role::Auditor => "auditor",
            Role::Admin => "admin",
            Role::Camera => "camera",
            Role::NetworkOperator => "network_operator",
            Role::PrivacyOfficer => "privacy_officer",
            Role::NetworkAuditor => "network_auditor",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// A member of staff (without credentials).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct User {
    pub id: UserId,
    pub staff_id: String,
    pub name: String,
    /// Police badge number, when the member of staff has one.
    pub badge_number: Option<String>,
    pub district: String,
    pub roles: Vec<Role>,
    pub active: bool,
    /// The camera network a `network_operator` or `network_auditor` works for; `None` for
    /// police staff.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub network_id: Option<NetworkId>,
}

/// Counts reported by a retention purge.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PurgeReport {
    pub reads_deleted: u64,
    pub reads_kept_on_hold: u64,
    pub images_deleted: u64,
}

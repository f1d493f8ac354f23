//! Values that cross the storage interface.

use anpr_domain::{
    GeoPoint, ImageHash, NetworkId, PlateRead, PurgeReport, ReadId, Role, SiteId, SiteKind, User,
};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewSite {
    pub network_id: NetworkId,
    pub name: String,
    pub kind: SiteKind,
    pub address: String,
    pub location: GeoPoint,
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct NewCamera {
    pub site_id: SiteId,
    pub name: String,
    pub heading_deg: Option<u16>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CameraCredentials {
    pub key_hash: String,
    pub active: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct InsertOutcome {
    pub id: ReadId,
    /// The read was already stored (a retried upload); nothing new was written.
    pub duplicate: bool,
}

/// A read with where it was seen, as search returns it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchHit {
    #[serde(flatten)]
    pub read: PlateRead,
    pub site_name: String,
    pub site_kind: SiteKind,
    pub network_name: String,
    pub location: GeoPoint,
    pub district: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct SearchPage {
    /// Newest first.
    pub hits: Vec<SearchHit>,
    /// Reads matching the whole query, across all pages.
    pub total: u64,
    /// Pass back as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
    /// Distinct plates the pattern resolved to.
    pub plates_matched: usize,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct PurgeBatch {
    pub report: PurgeReport,
    /// Images that no stored read refers to any more; the caller deletes them from the blob
    /// store (after this batch is durable, so a crash can only leave an orphan, never a
    /// dangling reference).
    pub freed_images: Vec<ImageHash>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct StoreStats {
    pub reads: u64,
    pub distinct_plates: u64,
    pub images: u64,
    pub cameras: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct NewUser {
    pub staff_id: String,
    pub name: String,
    pub district: String,
    pub roles: Vec<Role>,
    /// argon2id PHC string.
    pub password_hash: String,
}

#[derive(Debug, Clone, PartialEq)]
pub struct UserCredentials {
    pub user: User,
    pub password_hash: String,
    pub failed_logins: u32,
    pub locked_until: Option<DateTime<Utc>>,
}

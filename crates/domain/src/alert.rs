//! Real-time alerts as stored and delivered: what a tracking watch or the hot list raised, and
//! who may receive it.

use crate::{GeoPoint, NetworkId, ReadId, SiteId, UserId};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A stored alert. `id` only ever increases: it is the SSE event id clients resume from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Alert {
    pub id: i64,
    pub kind: AlertKind,
    /// The tracking authorisation whose watch matched; 0 for a hot-list alert.
    pub authorisation_id: i64,
    pub requester_user_id: UserId,
    pub district: String,
    /// The watched plate.
    pub plate: String,
    pub read_id: ReadId,
    /// The plate as read (differs from `plate` on an OCR-fuzzy match).
    pub read_plate: String,
    pub captured_at: DateTime<Utc>,
    pub camera_id: i64,
    pub site_id: SiteId,
    pub site_name: String,
    /// The site's street address, as the catalog had it when the alert was raised.
    #[serde(default)]
    pub site_address: String,
    /// For a hot-list alert: whom the network's staff call at the police (the network's
    /// contact when the alert was raised). Absent when the network had none, and on a watch's
    /// alert (police need no one to call).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub police_contact: Option<String>,
    pub network_id: NetworkId,
    pub location: GeoPoint,
    /// Links to the read's images (viewing them is decided like any image view).
    pub images: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub acked_at: Option<DateTime<Utc>>,
    pub acked_by_staff_id: Option<String>,
}

/// Who an alert is for: its requester, and the supervisors of its district.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct AlertAudience {
    pub user_id: UserId,
    /// Districts whose alerts this user supervises.
    pub districts: Vec<String>,
    /// The network whose hot-list alerts this user (a `network_operator`) receives, while the
    /// network's agreement allows it.
    pub hot_list_network: Option<NetworkId>,
}

impl AlertAudience {
    pub fn sees(&self, a: &Alert) -> bool {
        match a.kind {
            AlertKind::Watch => {
                a.requester_user_id == self.user_id
                    || self
                        .districts
                        .iter()
                        .any(|d| d.eq_ignore_ascii_case(&a.district))
            }
            AlertKind::HotList => self.hot_list_network == Some(a.network_id),
        }
    }
}

/// Why an alert was raised.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum AlertKind {
    /// A tracking authorisation's watch matched: for the requester and their supervisors.
    Watch,
    /// A plate on the stolen-vehicle hot list was seen: a "vehicle of interest" alert for the
    /// network's own staff, without any personal data or images.
    HotList,
}

impl AlertKind {
    pub fn as_str(self) -> &'static str {
        match self {
            AlertKind::Watch => "watch",
            AlertKind::HotList => "hot_list",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "watch" => Some(AlertKind::Watch),
            "hot_list" => Some(AlertKind::HotList),
            _ => None,
        }
    }
}

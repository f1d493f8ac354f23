//! What the platform's use is counted in: the measures of a usage report, their counts per month
//! and group, and the decisions about one plate that a subject access report discloses.
//!
//! The store counts these (SQL `GROUP BY` over the recorded decisions, the alerts and the
//! integrity findings); `anpr-reports` validates a report's parameters and shapes what people read.
//!
//! What each measure counts (training plates never count):
//!
//!
//! | measure | counted from |
//! |---|---|
//! | `searches` | searches the policy allowed (narrowed or not) |
//! | `read_views` | views of a read's details the policy allowed |
//! | `image_views` | views of a read's image the policy allowed |
//! | `tracking_requests` | tracking requests, whatever their outcome |
//! | `tracking_approvals` | supervisors' approvals of tracking requests |
//! | `tracking_refusals` | supervisors' refusals, and requests the policy refused outright |
//! | `alerts` | real-time alerts raised for tracking authorisations |
//! | `denied_attempts` | access decisions the policy refused (any action) |
//! | `own_vehicle_blocks` | of those, refusals because the vehicle was connected to the user |
//! | `findings_opened` / `findings_closed` | integrity findings opened / closed |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// How a usage report's rows are broken down besides the month.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grouping {
    Month,
    District,
    Purpose,
    Network,
}

impl Grouping {
    pub const ALL: [Grouping; 4] = [
        Grouping::Month,
        Grouping::District,
        Grouping::Purpose,
        Grouping::Network,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Grouping::Month => "month",
            Grouping::District => "district",
            Grouping::Purpose => "purpose",
            Grouping::Network => "network",
        }
    }
}

/// One counted measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    Searches,
    ReadViews,
    ImageViews,
    TrackingRequests,
    TrackingApprovals,
    TrackingRefusals,
    Alerts,
    DeniedAttempts,
    OwnVehicleBlocks,
    FindingsOpened,
    FindingsClosed,
}

impl Measure {
    pub const ALL: [Measure; 11] = [
        Measure::Searches,
        Measure::ReadViews,
        Measure::ImageViews,
        Measure::TrackingRequests,
        Measure::TrackingApprovals,
        Measure::TrackingRefusals,
        Measure::Alerts,
        Measure::DeniedAttempts,
        Measure::OwnVehicleBlocks,
        Measure::FindingsOpened,
        Measure::FindingsClosed,
    ];

    /// The column name in JSON and CSV.
    pub fn name(self) -> &'static str {
        match self {
            Measure::Searches => "searches",
            Measure::ReadViews => "read_views",
            Measure::ImageViews => "image_views",
            Measure::TrackingRequests => "tracking_requests",
            Measure::TrackingApprovals => "tracking_approvals",
            Measure::TrackingRefusals => "tracking_refusals",
            Measure::Alerts => "alerts",
            Measure::DeniedAttempts => "denied_attempts",
            Measure::OwnVehicleBlocks => "own_vehicle_blocks",
            Measure::FindingsOpened => "findings_opened",
            Measure::FindingsClosed => "findings_closed",
        }
    }

    /// A heading for people.
    pub fn label(self) -> &'static str {
        match self {
            Measure::Searches => "Searches",
            Measure::ReadViews => "Sighting views",
            Measure::ImageViews => "Image views",
            Measure::TrackingRequests => "Tracking requests",
            Measure::TrackingApprovals => "Tracking approvals",
            Measure::TrackingRefusals => "Tracking refusals",
            Measure::Alerts => "Tracking alerts",
            Measure::DeniedAttempts => "Refused attempts",
            Measure::OwnVehicleBlocks => "Own-vehicle blocks",
            Measure::FindingsOpened => "Integrity findings opened",
            Measure::FindingsClosed => "Integrity findings closed",
        }
    }

    /// What it counts, in a sentence for the public report.
    pub fn description(self) -> &'static str {
        match self {
            Measure::Searches => "Historical searches of plate sightings that were allowed.",
            Measure::ReadViews => "Views of one sighting's details that were allowed.",
            Measure::ImageViews => "Views of a sighting's photograph that were allowed.",
            Measure::TrackingRequests => {
                "Requests to be alerted in real time when a vehicle is seen."
            }
            Measure::TrackingApprovals => "Tracking requests a supervisor approved.",
            Measure::TrackingRefusals => {
                "Tracking requests a supervisor refused or the access rules refused outright."
            }
            Measure::Alerts => "Real-time alerts sent under an approved tracking authorisation.",
            Measure::DeniedAttempts => "Attempts to use the system that the access rules refused.",
            Measure::OwnVehicleBlocks => {
                "Refused attempts to look up a vehicle connected to the person asking."
            }
            Measure::FindingsOpened => "Possible misuse found by the continuous integrity checks.",
            Measure::FindingsClosed => "Integrity findings that were reviewed and closed.",
        }
    }
}

/// One value per measure.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Measures<T> {
    pub searches: T,
    pub read_views: T,
    pub image_views: T,
    pub tracking_requests: T,
    pub tracking_approvals: T,
    pub tracking_refusals: T,
    pub alerts: T,
    pub denied_attempts: T,
    pub own_vehicle_blocks: T,
    pub findings_opened: T,
    pub findings_closed: T,
}

/// Counts of each measure.
pub type UsageCounts = Measures<u64>;

impl<T> Measures<T> {
    pub fn from_fn(mut f: impl FnMut(Measure) -> T) -> Self {
        Measures {
            searches: f(Measure::Searches),
            read_views: f(Measure::ReadViews),
            image_views: f(Measure::ImageViews),
            tracking_requests: f(Measure::TrackingRequests),
            tracking_approvals: f(Measure::TrackingApprovals),
            tracking_refusals: f(Measure::TrackingRefusals),
            alerts: f(Measure::Alerts),
            denied_attempts: f(Measure::DeniedAttempts),
            own_vehicle_blocks: f(Measure::OwnVehicleBlocks),
            findings_opened: f(Measure::FindingsOpened),
            findings_closed: f(Measure::FindingsClosed),
        }
    }

    pub fn get(&self, m: Measure) -> &T {
        match m {
            Measure::Searches => &self.searches,
            Measure::ReadViews => &self.read_views,
            Measure::ImageViews => &self.image_views,
            Measure::TrackingRequests => &self.tracking_requests,
            Measure::TrackingApprovals => &self.tracking_approvals,
            Measure::TrackingRefusals => &self.tracking_refusals,
            Measure::Alerts => &self.alerts,
            Measure::DeniedAttempts => &self.denied_attempts,
            Measure::OwnVehicleBlocks => &self.own_vehicle_blocks,
            Measure::FindingsOpened => &self.findings_opened,
            Measure::FindingsClosed => &self.findings_closed,
        }
    }
}

impl UsageCounts {
    pub fn add(&mut self, other: &UsageCounts) {
        *self = Measures::from_fn(|m| self.get(m) + other.get(m));
    }

    pub fn is_zero(&self) -> bool {
        Measure::ALL.iter().all(|m| *self.get(*m) == 0)
    }
}

/// What a usage report covers: `[from, to)`, by month and `by`. `anpr_reports::usage::query`
/// builds one that has been checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct UsageQuery {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub by: Grouping,
}

/// Counts of one month (`2026-10`) and, unless the report is by month only, one group (a
/// district, purpose code or network name; `(none)` where a record has none).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UsageRow {
    pub period: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(flatten)]
    pub counts: UsageCounts,
}

/// Rows for the records that have no group (a decision by the platform itself, a finding
/// without a district).
pub const NO_GROUP: &str = "(none)";

/// One recorded decision about a query that touched a plate, as the store found it.
#[derive(Debug, Clone, PartialEq)]
pub struct PlateQuery {
    pub at: DateTime<Utc>,
    /// The decision's action (`search`, `view_image`, `tracking_request`, ...).
    pub action: String,
    /// `allowed`, `allowed_with_limits`, `pending_approval`, `refused`.
    pub outcome: String,
    pub purpose_code: Option<String>,
    /// Its file number names an incident that is open now.
    pub open_incident: bool,
}

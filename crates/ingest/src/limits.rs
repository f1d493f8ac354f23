//! The bounds that keep one camera from costing the platform more than a camera should.

use chrono::{DateTime, NaiveDate, TimeDelta, Utc};

/// Bounds on one image.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ImageLimits {
    /// Largest encoded image accepted, in bytes.
    pub max_bytes: usize,
    /// Largest width × height accepted. Checked from the header before anything is decoded,
    /// so a small file claiming a huge canvas (a decompression bomb) costs nothing.
    pub max_pixels: u64,
}

impl Default for ImageLimits {
    fn default() -> Self {
        ImageLimits {
            max_bytes: 8 * 1024 * 1024,
            max_pixels: 40_000_000,
        }
    }
}

/// Bounds on a request: batch size, clock skew, text lengths and images.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IngestLimits {
    /// Most reads in one batch (the issue's `reads:batch` allows 1,000).
    pub max_batch: usize,
    /// How far a camera's clock may run ahead of ours. Cameras drift; a read minutes in the
    /// future is a slow NTP sync, one days ahead is a camera that lost its clock.
    pub max_clock_skew: TimeDelta,
    /// Nothing before this is a real read: cameras that lost their clock report 1970 or 2000.
    pub earliest: DateTime<Utc>,
    /// Oldest capture accepted, counted back from now: the longest retention of any network
    /// plus a margin. An older read would be deleted by the next retention purge, so it is
    /// refused rather than stored. `None`: no network yet, only `earliest` applies.
    pub max_age: Option<TimeDelta>,
    /// Longest vehicle make or colour, in characters.
    pub max_text_chars: usize,
    /// Longest camera-side read id, in characters.
    pub max_external_id_chars: usize,
    pub image: ImageLimits,
}

impl Default for IngestLimits {
    fn default() -> Self {
        IngestLimits {
            max_batch: 1000,
            max_clock_skew: TimeDelta::minutes(5),
            earliest: NaiveDate::from_ymd_opt(2000, 1, 1)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .map(|t| t.and_utc())
                .unwrap_or(DateTime::<Utc>::MIN_UTC),
            max_age: None,
            max_text_chars: 64,
            max_external_id_chars: 128,
            image: ImageLimits::default(),
        }
    }
}

//! Sliding-window rate limits per user and per (user, purpose), checked twice:
//!
//! - against the allowed data accesses in the decision log ([`RecentAccesses`], counted by the
//!   caller over [`crate::Policy::rate_windows`]), which every server process and the command
//!   line share, so N servers do not allow N times the limit;
//! - against this process's own windows ([`RateLimiter`], the only state the policy keeps),
//!   which count a request the moment it is admitted, so concurrent requests to one process
//!   cannot all pass on the same count before any of them is recorded.
//!
//! Time is passed in, so the limits are tested without waiting.

use crate::config::{Limit, RateLimits};
use crate::error::{PolicyError, RefusalKind, Result};
use crate::registers::RecentAccesses;
use anpr_domain::UserId;
use chrono::{DateTime, Duration, Utc};
use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

/// Request times per user (`None`) and per (user, purpose code).
type Windows = HashMap<(UserId, Option<String>), VecDeque<DateTime<Utc>>>;

#[derive(Default)]
pub struct RateLimiter {
    windows: Mutex<Windows>,
}

fn trim(q: &mut VecDeque<DateTime<Utc>>, limit: Limit, now: DateTime<Utc>) {
    let since = now - Duration::minutes(limit.window_minutes as i64);
    while q.front().is_some_and(|t| *t <= since) {
        q.pop_front();
    }
}

fn rate_limited(limit: Limit, what: &str) -> PolicyError {
    PolicyError::refused(
        RefusalKind::RateLimited,
        format!(
            "you have reached the limit of {} {what} in {} minutes; wait a few minutes and try \
             again, or ask your supervisor if the work needs more",
            limit.max, limit.window_minutes
        ),
    )
}

/// What a purpose's limit counts, in words.
fn under_purpose(purpose: &str) -> String {
    format!("requests under the purpose {}", purpose.replace('_', " "))
}

/// When the windows of `purpose`'s limits start at `now`: the per-user window's start and the
/// purpose's.
pub fn windows(
    limits: &RateLimits,
    purpose: &str,
    now: DateTime<Utc>,
) -> (DateTime<Utc>, DateTime<Utc>) {
    let start = |l: Limit| now - Duration::minutes(l.window_minutes as i64);
    (start(limits.per_user), start(limits.for_purpose(purpose)))
}

/// Refuses when the recorded accesses already fill either window.
pub fn check_recorded(limits: &RateLimits, purpose: &str, recent: RecentAccesses) -> Result<()> {
    let purpose_limit = limits.for_purpose(purpose);
    if recent.any_purpose >= limits.per_user.max as u64 {
        return Err(rate_limited(limits.per_user, "requests"));
    }
    if recent.this_purpose >= purpose_limit.max as u64 {
        return Err(rate_limited(purpose_limit, &under_purpose(purpose)));
    }
    Ok(())
}

impl RateLimiter {
    /// Counts one request of `user` under `purpose` at `now`, or refuses it when either window
    /// is full. A refused request is not counted.
    pub fn admit(
        &self,
        limits: &RateLimits,
        user: UserId,
        purpose: &str,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let mut w = self.windows.lock().expect("rate limiter lock");
        let purpose_limit = limits.for_purpose(purpose);
        for (key, limit, what) in [
            ((user, None), limits.per_user, "requests".to_string()),
            (
                (user, Some(purpose.to_string())),
                purpose_limit,
                under_purpose(purpose),
            ),
        ] {
            let q = w.entry(key).or_default();
            trim(q, limit, now);
            if q.len() as u64 >= limit.max as u64 {
                return Err(rate_limited(limit, &what));
            }
        }
        w.entry((user, None)).or_default().push_back(now);
        w.entry((user, Some(purpose.to_string())))
            .or_default()
            .push_back(now);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[test]
    fn per_user_and_per_purpose_windows() {
        let limits = RateLimits {
            per_user: Limit {
                max: 3,
                window_minutes: 10,
            },
            per_purpose_default: Limit {
                max: 2,
                window_minutes: 10,
            },
            per_purpose: BTreeMap::new(),
        };
        let r = RateLimiter::default();
        let t0 = Utc::now();
        r.admit(&limits, 1, "a", t0).unwrap();
        r.admit(&limits, 1, "a", t0).unwrap();
        let e = r.admit(&limits, 1, "a", t0).unwrap_err();
        assert_eq!(e.kind(), Some(RefusalKind::RateLimited));
        assert!(
            e.to_string().contains("requests under the purpose a "),
            "{e}"
        );
        r.admit(&limits, 1, "b", t0).unwrap();
        let e = r.admit(&limits, 1, "c", t0).unwrap_err();
        assert!(e.to_string().contains("limit of 3 requests"), "{e}");
        // Another user is not affected; the window slides.
        r.admit(&limits, 2, "a", t0).unwrap();
        r.admit(&limits, 1, "a", t0 + Duration::minutes(11))
            .unwrap();
    }

    #[test]
    fn recorded_accesses_fill_the_same_windows() {
        let limits = RateLimits::default();
        let purpose = limits.for_purpose("road_policing");
        let at = |any: u64, this: u64| RecentAccesses {
            any_purpose: any,
            this_purpose: this,
        };
        check_recorded(&limits, "road_policing", at(0, purpose.max as u64 - 1)).unwrap();
        let e = check_recorded(&limits, "road_policing", at(0, purpose.max as u64)).unwrap_err();
        assert_eq!(e.kind(), Some(RefusalKind::RateLimited));
        assert!(
            e.to_string()
                .contains("requests under the purpose road policing"),
            "{e}"
        );
        let e = check_recorded(&limits, "theft", at(limits.per_user.max as u64, 0)).unwrap_err();
        assert!(e.to_string().contains("requests in 60 minutes"), "{e}");
        let t0 = Utc::now();
        let (any, this) = windows(&limits, "road_policing", t0);
        assert_eq!(
            t0 - any,
            Duration::minutes(limits.per_user.window_minutes as i64)
        );
        assert_eq!(t0 - this, Duration::minutes(purpose.window_minutes as i64));
    }
}

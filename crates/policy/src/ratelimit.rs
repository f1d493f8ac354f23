//! Sliding-window rate limits per user and per (user, purpose). The only state the policy
//! keeps; time is passed in, so the limits are tested without waiting. Each process keeps its
//! own windows (a deployment of several servers divides the limits among them or shares a
//! limiter in front).

use crate::config::{Limit, RateLimits};
use crate::error::{PolicyError, RefusalKind, Result};
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
                format!("`{purpose}` requests"),
            ),
        ] {
            let q = w.entry(key).or_default();
            trim(q, limit, now);
            if q.len() as u64 >= limit.max as u64 {
                return Err(PolicyError::refused(
                    RefusalKind::RateLimited,
                    format!(
                        "rate limit: at most {} {what} in {} minutes; try again later",
                        limit.max, limit.window_minutes
                    ),
                ));
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
        assert!(e.to_string().contains("`a` requests"), "{e}");
        r.admit(&limits, 1, "b", t0).unwrap();
        let e = r.admit(&limits, 1, "c", t0).unwrap_err();
        assert!(e.to_string().contains("at most 3 requests"), "{e}");
        // Another user is not affected; the window slides.
        r.admit(&limits, 2, "a", t0).unwrap();
        r.admit(&limits, 1, "a", t0 + Duration::minutes(11))
            .unwrap();
    }
}

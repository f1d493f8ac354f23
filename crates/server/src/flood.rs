//! Requests without valid credentials, counted per client address and minute, so that nobody
//! can fill the ledger (or its disk) without an account.
//!
//! The first [`HttpConfig::unauthenticated_per_minute`](crate::HttpConfig) such requests from
//! an address in a minute are recorded one entry each, as every request is. Beyond that, a
//! request that presents no credentials is answered 429 before any handler runs, and one that
//! presents bad ones is answered as usual; neither gets an entry of its own. Each minute with
//! requests held back becomes one `throttled` entry naming the address and the count. Staff
//! who are signed in are never held back here: what they do is theirs to account for, and
//! recorded one entry each.
//!
//! The counts live in each server process (a deployment of N servers records at most N times
//! the threshold per address and minute; what matters is that it is bounded).

use chrono::{DateTime, DurationRound, TimeDelta, Utc};
use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Mutex;

/// What to do with one request without valid credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Under the threshold: recorded in an entry of its own.
    Record,
    /// Over it: counted toward the minute's `throttled` entry.
    Count,
}

#[derive(Debug, Default)]
struct Minute {
    start: Option<DateTime<Utc>>,
    recorded: u32,
    held_back: u64,
}

/// A minute in which requests from `client` were held back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HeldBack {
    pub client: IpAddr,
    pub minute: DateTime<Utc>,
    pub requests: u64,
}

#[derive(Debug, Default)]
struct Counts {
    current: HashMap<IpAddr, Minute>,
    /// Minutes over, with requests held back, not yet taken.
    finished: Vec<HeldBack>,
}

impl Counts {
    /// `client`'s count for the minute starting `this`, closing its earlier one.
    fn minute(&mut self, client: IpAddr, this: DateTime<Utc>) -> &mut Minute {
        let minute = self.current.entry(client).or_default();
        if minute.start != Some(this) {
            if let (Some(start), true) = (minute.start, minute.held_back > 0) {
                self.finished.push(HeldBack {
                    client,
                    minute: start,
                    requests: minute.held_back,
                });
            }
            *minute = Minute {
                start: Some(this),
                ..Default::default()
            };
        }
        minute
    }
}

#[derive(Debug)]
pub struct FloodGuard {
    per_minute: u32,
    counts: Mutex<Counts>,
}

fn minute_of(t: DateTime<Utc>) -> DateTime<Utc> {
    t.duration_trunc(TimeDelta::minutes(1)).unwrap_or(t)
}

impl FloodGuard {
    pub fn new(per_minute: u32) -> FloodGuard {
        FloodGuard {
            per_minute,
            counts: Mutex::default(),
        }
    }

    fn with<T>(&self, f: impl FnOnce(&mut Counts) -> T) -> T {
        f(&mut self.counts.lock().unwrap_or_else(|p| p.into_inner()))
    }

    /// Whether `client` is past the threshold in the minute of `now` (its requests without
    /// credentials are then answered 429 at once).
    pub fn is_over(&self, client: IpAddr, now: DateTime<Utc>) -> bool {
        self.with(|c| {
            c.current.get(&client).is_some_and(|minute| {
                minute.start == Some(minute_of(now)) && minute.recorded >= self.per_minute
            })
        })
    }

    /// Counts one request without valid credentials from `client` at `now`.
    pub fn count(&self, client: IpAddr, now: DateTime<Utc>) -> Verdict {
        let per_minute = self.per_minute;
        self.with(|c| {
            let minute = c.minute(client, minute_of(now));
            if minute.recorded < per_minute {
                minute.recorded += 1;
                Verdict::Record
            } else {
                minute.held_back += 1;
                Verdict::Count
            }
        })
    }

    /// The minutes before `now`'s in which requests were held back, each taken once; addresses
    /// idle since before `now`'s minute are forgotten.
    pub fn take_finished(&self, now: DateTime<Utc>) -> Vec<HeldBack> {
        let this = minute_of(now);
        self.with(|c| {
            let Counts { current, finished } = c;
            current.retain(|client, minute| {
                let Some(start) = minute.start.filter(|s| *s < this) else {
                    return true;
                };
                if minute.held_back > 0 {
                    finished.push(HeldBack {
                        client: *client,
                        minute: start,
                        requests: minute.held_back,
                    });
                }
                false
            });
            std::mem::take(finished)
        })
    }

    /// Seconds until the minute of `now` ends (a throttled client's `Retry-After`).
    pub fn seconds_left(now: DateTime<Utc>) -> u64 {
        let end = minute_of(now) + TimeDelta::minutes(1);
        (end - now).num_seconds().max(1) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().to_utc()
    }

    #[test]
    fn past_the_threshold_requests_are_counted_and_taken_once_the_minute_ends() {
        let guard = FloodGuard::new(3);
        let ip: IpAddr = "192.0.2.7".parse().unwrap();
        let other: IpAddr = "192.0.2.8".parse().unwrap();
        let t = at("2026-12-06T10:00:05Z");
        for _ in 0..3 {
            assert_eq!(guard.count(ip, t), Verdict::Record);
        }
        assert!(guard.is_over(ip, t));
        assert!(!guard.is_over(other, t));
        for _ in 0..5 {
            assert_eq!(guard.count(ip, t), Verdict::Count);
        }
        assert_eq!(guard.count(other, t), Verdict::Record);
        assert!(guard.take_finished(t).is_empty(), "the minute is not over");
        let later = at("2026-12-06T10:01:00Z");
        assert!(!guard.is_over(ip, later));
        assert_eq!(
            guard.take_finished(later),
            vec![HeldBack {
                client: ip,
                minute: at("2026-12-06T10:00:00Z"),
                requests: 5
            }]
        );
        assert!(guard.take_finished(later).is_empty(), "taken once");
        assert_eq!(guard.count(ip, later), Verdict::Record);
        assert_eq!(FloodGuard::seconds_left(t), 55);
    }
}

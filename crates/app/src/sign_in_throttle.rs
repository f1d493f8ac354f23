//! The sign-in throttle: one mechanism for every entry point (the API, the web UI, the command
//! line), kept in the database so that every server process and the command line share one
//! count.
//!
//! Failures are counted under the staff id claimed, whether or not such an account exists, so
//! that a paused id tells nothing about whether it is real; and under the client's network
//! address when there is one, so that one client cannot try id after id. After a key's free
//! failures, each further failure pauses it for twice as long as the one before, up to a cap.
//! Attempts while paused are answered at once, without checking the password, and do not
//! lengthen the pause. A key with no failure for a day starts again from nothing.

use crate::error::{AppError, AppResult};
use crate::App;
use anpr_store::SignInFailures;
use chrono::{DateTime, Duration, Utc};
use std::net::IpAddr;

/// How failures under one kind of key turn into pauses.
#[derive(Debug, Clone, Copy)]
pub struct Rule {
    /// Failures allowed before the first pause.
    pub free_failures: u32,
    /// The first pause; each further failure doubles it.
    pub first_pause: Duration,
    pub longest_pause: Duration,
}

/// A claimed staff id: a person mistyping gets five tries before a one-minute pause.
pub const ACCOUNT: Rule = Rule {
    free_failures: 5,
    first_pause: Duration::minutes(1),
    longest_pause: Duration::hours(1),
};

/// A client address: room for a shared office's mistakes, not for guessing across ids.
pub const ADDRESS: Rule = Rule {
    free_failures: 20,
    first_pause: Duration::minutes(1),
    longest_pause: Duration::hours(1),
};

/// Failures older than this are forgotten.
pub const FORGET_AFTER: Duration = Duration::hours(24);

/// The rules for both kinds of key (configurable: [`crate::AppConfig::sign_in`]).
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub account: Rule,
    pub address: Rule,
}

impl Default for Rules {
    fn default() -> Self {
        Rules {
            account: ACCOUNT,
            address: ADDRESS,
        }
    }
}

impl Rules {
    /// Never pauses (benchmarks that sign in with wrong passwords thousands of times).
    pub fn lifted() -> Rules {
        let never = Rule {
            free_failures: u32::MAX,
            ..ACCOUNT
        };
        Rules {
            account: never,
            address: never,
        }
    }
}

/// When the key is paused until, after `failures`.
pub fn paused_until(rule: Rule, failures: &SignInFailures) -> Option<DateTime<Utc>> {
    let beyond = failures.failures.checked_sub(rule.free_failures)?;
    let pause = rule
        .first_pause
        .checked_mul(1 << beyond.min(16))
        .unwrap_or(rule.longest_pause)
        .min(rule.longest_pause);
    Some(failures.last_failure + pause)
}

/// The throttle keys of one sign-in attempt.
#[derive(Debug, Clone)]
pub struct Attempt {
    account: String,
    address: Option<String>,
    rules: Rules,
}

impl Attempt {
    /// An attempt to sign in as `staff_id` (as typed) from `client`, when the entry point has
    /// a network client (the command line has none).
    pub fn new(staff_id: &str, client: Option<IpAddr>, rules: Rules) -> Attempt {
        Attempt {
            account: format!("account:{}", staff_id.trim().to_lowercase()),
            address: client.map(|ip| format!("address:{ip}")),
            rules,
        }
    }

    fn keys(&self) -> Vec<String> {
        std::iter::once(self.account.clone())
            .chain(self.address.clone())
            .collect()
    }

    fn rule(&self, key: &str) -> Rule {
        if key == self.account {
            self.rules.account
        } else {
            self.rules.address
        }
    }

    /// Refuses the attempt, saying for how long, while either of its keys is paused.
    pub async fn check(&self, app: &App, now: DateTime<Utc>) -> AppResult<()> {
        let recorded = app.store.sign_in_failures(self.keys()).await?;
        let paused = recorded
            .iter()
            .filter_map(|f| Some((f.key.as_str(), paused_until(self.rule(&f.key), f)?)))
            .filter(|(_, until)| *until > now)
            .max_by_key(|(_, until)| *until);
        let Some((key, until)) = paused else {
            return Ok(());
        };
        let wait = until - now;
        let minutes = (wait.num_seconds() + 59) / 60;
        let whom = if key == self.account {
            "for this staff id"
        } else {
            "from your network address"
        };
        Err(AppError::RateLimited {
            message: format!(
                "too many failed sign-ins {whom}: signing in is paused for {minutes} more \
                 minute{}; check the staff id and password, then try again after the pause",
                if minutes == 1 { "" } else { "s" }
            ),
            retry_after_secs: wait.num_seconds().max(1) as u64,
        })
    }

    /// Counts a failed attempt, and returns a warning for the user when the next failures
    /// would pause their staff id (the same for an id that does not exist).
    pub async fn failed(&self, app: &App, now: DateTime<Utc>) -> AppResult<Option<String>> {
        app.store
            .record_sign_in_failure(self.keys(), now, now - FORGET_AFTER)
            .await?;
        let recorded = app
            .store
            .sign_in_failures(vec![self.account.clone()])
            .await?;
        let failures = recorded.first().map_or(0, |f| f.failures);
        let left = self.rules.account.free_failures.saturating_sub(failures);
        Ok(match left {
            0 => Some(format!(
                "signing in with this staff id is now paused for {} minute(s)",
                paused_until(self.rules.account, &recorded[0])
                    .map_or(1, |until| ((until - now).num_seconds() + 59) / 60)
            )),
            1 | 2 => Some(format!(
                "{left} more failed attempt{} will pause signing in with this staff id",
                if left == 1 { "" } else { "s" }
            )),
            _ => None,
        })
    }

    /// A successful sign-in clears its account's failures (never its address's: a client
    /// with one good password must not reset its count of guesses at others).
    pub async fn succeeded(&self, app: &App) -> AppResult<()> {
        Ok(app
            .store
            .clear_sign_in_failures(self.account.clone())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn after(failures: u32) -> Option<Duration> {
        let t0 = Utc::now();
        let f = SignInFailures {
            key: "account:s1".into(),
            failures,
            last_failure: t0,
        };
        paused_until(ACCOUNT, &f).map(|until| until - t0)
    }

    #[test]
    fn pauses_double_from_the_first_unfree_failure_up_to_the_cap() {
        assert_eq!(after(4), None);
        assert_eq!(after(5), Some(Duration::minutes(1)));
        assert_eq!(after(6), Some(Duration::minutes(2)));
        assert_eq!(after(9), Some(Duration::minutes(16)));
        assert_eq!(after(11), Some(Duration::hours(1)));
        assert_eq!(after(u32::MAX), Some(Duration::hours(1)));
    }

    #[test]
    fn ids_are_counted_as_typed_whatever_their_case_and_spacing() {
        let a = Attempt::new(
            "  S1001 ",
            Some("127.0.0.1".parse().unwrap()),
            Rules::default(),
        );
        let b = Attempt::new("s1001", None, Rules::default());
        assert_eq!(a.account, b.account);
        assert_eq!(a.keys(), vec!["account:s1001", "address:127.0.0.1"]);
        assert_eq!(b.keys(), vec!["account:s1001"]);
    }
}

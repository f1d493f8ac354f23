-- 8: the sign-in throttle, shared by every server and the command line. One row per key: a
-- claimed staff id (`account:<id>`, whether or not the account exists, so that the answers
-- never tell which ids do) or a client address (`address:<ip>`). The lock-out is computed
-- from `failures` and `last_failure`; a success clears its account's row. It replaces the
-- per-account columns on `users`.
CREATE TABLE sign_in_failures (
    key TEXT PRIMARY KEY,
    failures BIGINT NOT NULL,
    last_failure BIGINT NOT NULL
);
ALTER TABLE users DROP COLUMN failed_logins;
ALTER TABLE users DROP COLUMN locked_until;
-- The rate limits count a user's allowed data accesses in their window on every request.
CREATE INDEX decisions_user_time ON decisions (user_id, at);

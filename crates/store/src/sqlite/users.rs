//! Staff users and their sessions.

use super::{from_ms, to_ms, Inner, SqliteStore};
use crate::shared::{
    check_badge, check_changed_by, check_network_binding, check_staff_id, roles_from_text,
    roles_to_text,
};
use crate::shared::{numbered_for_sqlite, SQL_RECORD_SIGN_IN_FAILURE};
use crate::{NewUser, Result, SignInFailures, StoreError, UserCredentials};
use anpr_domain::{Role, User, UserId};
use anpr_policy::registers::ChangedBy;
use chrono::{DateTime, Utc};
use rusqlite::{params, Connection, OptionalExtension, Row};

const USER_COLUMNS: &str = "id, staff_id, name, district, roles, active, badge_number, network_id";

fn user_from_row(r: &Row<'_>) -> rusqlite::Result<User> {
    let roles: String = r.get(4)?;
    Ok(User {
        id: r.get(0)?,
        staff_id: r.get(1)?,
        name: r.get(2)?,
        badge_number: r.get(6)?,
        district: r.get(3)?,
        roles: roles_from_text(&roles),
        active: r.get(5)?,
        network_id: r.get(7)?,
    })
}

/// Records who set a user's roles and when, in the caller's transaction.
fn log_role_change(
    conn: &Connection,
    user: UserId,
    roles: &[Role],
    by: Option<&ChangedBy>,
    at: DateTime<Utc>,
) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO user_role_changes (user_id, roles, set_by, at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![
        user,
        roles_to_text(roles),
        by.map(ChangedBy::label),
        to_ms(at)
    ])?;
    Ok(())
}

static RECORD_SIGN_IN_FAILURE: std::sync::LazyLock<String> =
    std::sync::LazyLock::new(|| numbered_for_sqlite(SQL_RECORD_SIGN_IN_FAILURE));

impl Inner {
    fn create_user(&self, u: &NewUser, by: Option<&ChangedBy>) -> Result<User> {
        let staff_id = u.staff_id.trim();
        check_staff_id(staff_id)?;
        anpr_policy::permissions::check_role_combination(&u.roles)?;
        let badge = check_badge(&u.badge_number)?;
        check_network_binding(&u.roles, u.network_id, "network_id")?;
        check_changed_by(by)?;
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            let exists: Option<i64> = tx
                .query_row(
                    "SELECT id FROM users WHERE staff_id = ?1",
                    [staff_id],
                    |r| r.get(0),
                )
                .optional()?;
            if exists.is_some() {
                return Err(StoreError::Conflict(format!(
                    "user {staff_id} already exists"
                )));
            }
            let now = Utc::now();
            tx.execute(
                "INSERT INTO users (staff_id, name, district, roles, password_hash, created_at,
                                    badge_number, network_id)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
                params![
                    staff_id,
                    u.name,
                    u.district,
                    roles_to_text(&u.roles),
                    u.password_hash,
                    to_ms(now),
                    badge,
                    u.network_id
                ],
            )?;
            let id = tx.last_insert_rowid();
            log_role_change(&tx, id, &u.roles, by, now)?;
            tx.commit()?;
            Ok(User {
                id,
                staff_id: staff_id.to_string(),
                name: u.name.clone(),
                badge_number: badge.clone(),
                district: u.district.clone(),
                roles: u.roles.clone(),
                active: true,
                network_id: u.network_id,
            })
        })
    }

    fn user_credentials(&self, staff_id: &str) -> Result<Option<UserCredentials>> {
        self.with_reader(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {USER_COLUMNS}, password_hash FROM users WHERE staff_id = ?1"
                ))?
                .query_row([staff_id], |r| {
                    Ok(UserCredentials {
                        user: user_from_row(r)?,
                        password_hash: r.get(8)?,
                    })
                })
                .optional()?)
        })
    }

    fn sign_in_failures(&self, keys: &[String]) -> Result<Vec<SignInFailures>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(
                "SELECT failures, last_failure FROM sign_in_failures WHERE key = ?1",
            )?;
            let mut found = Vec::new();
            for key in keys {
                let row = stmt
                    .query_row([key], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, i64>(1)?)))
                    .optional()?;
                if let Some((failures, last)) = row {
                    found.push(SignInFailures {
                        key: key.clone(),
                        failures: failures.clamp(0, u32::MAX as i64) as u32,
                        last_failure: from_ms(last),
                    });
                }
            }
            Ok(found)
        })
    }

    fn record_sign_in_failure(
        &self,
        keys: &[String],
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            {
                let mut stmt = tx.prepare_cached(&RECORD_SIGN_IN_FAILURE)?;
                for key in keys {
                    stmt.execute(params![key, to_ms(at), to_ms(forget_before)])?;
                }
            }
            tx.commit()?;
            Ok(())
        })
    }

    fn clear_sign_in_failures(&self, key: &str) -> Result<()> {
        self.with_writer(|conn| {
            conn.execute("DELETE FROM sign_in_failures WHERE key = ?1", [key])?;
            Ok(())
        })
    }

    fn create_session(&self, token_hash: &str, user: UserId, expires: DateTime<Utc>) -> Result<()> {
        self.with_writer(|conn| {
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                 VALUES (?1, ?2, ?3, ?4)",
                params![token_hash, user, to_ms(Utc::now()), to_ms(expires)],
            )?;
            Ok(())
        })
    }

    fn session_user(&self, token_hash: &str, now: DateTime<Utc>) -> Result<Option<User>> {
        self.with_reader(|conn| {
            Ok(conn
                .prepare_cached(&format!(
                    "SELECT {} FROM sessions s JOIN users u ON u.id = s.user_id
                     WHERE s.token_hash = ?1 AND s.revoked = 0 AND s.expires_at > ?2
                       AND u.active = 1",
                    USER_COLUMNS
                        .split(", ")
                        .map(|c| format!("u.{c}"))
                        .collect::<Vec<_>>()
                        .join(", ")
                ))?
                .query_row(params![token_hash, to_ms(now)], user_from_row)
                .optional()?)
        })
    }

    fn users(&self) -> Result<Vec<User>> {
        self.with_reader(|conn| {
            let mut stmt = conn.prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM users ORDER BY staff_id"
            ))?;
            let rows = stmt.query_map([], user_from_row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        })
    }

    fn user_by_staff_id(conn: &Connection, staff_id: &str) -> Result<User> {
        conn.prepare_cached(&format!(
            "SELECT {USER_COLUMNS} FROM users WHERE staff_id = ?1"
        ))?
        .query_row([staff_id], user_from_row)
        .optional()?
        .ok_or_else(|| StoreError::NotFound(format!("user {staff_id}")))
    }

    /// Enables or disables an account. Disabling revokes every session at once (and
    /// `session_user` refuses inactive users anyway).
    fn set_user_active(&self, staff_id: &str, active: bool) -> Result<User> {
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            let user = Self::user_by_staff_id(&tx, staff_id)?;
            tx.execute(
                "UPDATE users SET active = ?2 WHERE id = ?1",
                params![user.id, active],
            )?;
            if !active {
                tx.execute(
                    "UPDATE sessions SET revoked = 1 WHERE user_id = ?1",
                    [user.id],
                )?;
            }
            tx.commit()?;
            Ok(User { active, ..user })
        })
    }

    fn set_user_roles(
        &self,
        staff_id: &str,
        roles: &[Role],
        by: Option<&ChangedBy>,
    ) -> Result<User> {
        anpr_policy::permissions::check_role_combination(roles)?;
        check_changed_by(by)?;
        self.with_writer(|conn| {
            let tx = conn.transaction()?;
            let user = Self::user_by_staff_id(&tx, staff_id)?;
            check_network_binding(roles, user.network_id, "roles")?;
            tx.execute(
                "UPDATE users SET roles = ?2 WHERE id = ?1",
                params![user.id, roles_to_text(roles)],
            )?;
            log_role_change(&tx, user.id, roles, by, Utc::now())?;
            tx.commit()?;
            Ok(User {
                roles: roles.to_vec(),
                ..user
            })
        })
    }

    fn revoke_session(&self, token_hash: &str) -> Result<()> {
        self.with_writer(|conn| {
            conn.execute(
                "UPDATE sessions SET revoked = 1 WHERE token_hash = ?1",
                [token_hash],
            )?;
            Ok(())
        })
    }
}

impl SqliteStore {
    /// Creates many users in one transaction (the simulator's 6,150 staff: one commit, not
    /// one per user). Refuses the whole batch if any staff id exists.
    pub async fn create_users(&self, users: Vec<NewUser>) -> Result<u64> {
        self.blocking(move |inner| {
            for u in &users {
                anpr_policy::permissions::check_role_combination(&u.roles)?;
            }
            inner.with_writer(|conn| {
                let tx = conn.transaction()?;
                {
                    let mut insert = tx.prepare_cached(
                        "INSERT INTO users (staff_id, name, district, roles, password_hash, created_at)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )?;
                    let now = Utc::now();
                    for u in &users {
                        insert
                            .execute(params![
                                u.staff_id.trim(),
                                u.name,
                                u.district,
                                roles_to_text(&u.roles),
                                u.password_hash,
                                to_ms(now)
                            ])
                            .map_err(|e| match e {
                                rusqlite::Error::SqliteFailure(f, _)
                                    if f.code == rusqlite::ErrorCode::ConstraintViolation =>
                                {
                                    StoreError::Conflict(format!("user {} already exists", u.staff_id))
                                }
                                e => e.into(),
                            })?;
                        log_role_change(&tx, tx.last_insert_rowid(), &u.roles, None, now)?;
                    }
                }
                tx.commit()?;
                Ok(users.len() as u64)
            })
        })
        .await
    }

    pub(crate) async fn create_user_impl(&self, u: NewUser, by: Option<ChangedBy>) -> Result<User> {
        self.blocking(move |inner| inner.create_user(&u, by.as_ref()))
            .await
    }
    pub(crate) async fn user_credentials_impl(
        &self,
        staff_id: &str,
    ) -> Result<Option<UserCredentials>> {
        let staff_id = staff_id.to_string();
        self.blocking(move |inner| inner.user_credentials(&staff_id))
            .await
    }
    pub(crate) async fn sign_in_failures_impl(
        &self,
        keys: Vec<String>,
    ) -> Result<Vec<SignInFailures>> {
        self.blocking(move |inner| inner.sign_in_failures(&keys))
            .await
    }
    pub(crate) async fn record_sign_in_failure_impl(
        &self,
        keys: Vec<String>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        self.blocking(move |inner| inner.record_sign_in_failure(&keys, at, forget_before))
            .await
    }
    pub(crate) async fn clear_sign_in_failures_impl(&self, key: String) -> Result<()> {
        self.blocking(move |inner| inner.clear_sign_in_failures(&key))
            .await
    }
    pub(crate) async fn create_session_impl(
        &self,
        token_hash: &str,
        user: UserId,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let t = token_hash.to_string();
        self.blocking(move |inner| inner.create_session(&t, user, expires))
            .await
    }
    pub(crate) async fn session_user_impl(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let t = token_hash.to_string();
        self.blocking(move |inner| inner.session_user(&t, now))
            .await
    }
    pub(crate) async fn users_impl(&self) -> Result<Vec<User>> {
        self.blocking(|inner| inner.users()).await
    }
    pub(crate) async fn set_user_active_impl(&self, staff_id: &str, active: bool) -> Result<User> {
        let s = staff_id.to_string();
        self.blocking(move |inner| inner.set_user_active(&s, active))
            .await
    }
    pub(crate) async fn set_user_roles_impl(
        &self,
        staff_id: &str,
        roles: Vec<Role>,
        by: Option<ChangedBy>,
    ) -> Result<User> {
        let s = staff_id.to_string();
        self.blocking(move |inner| inner.set_user_roles(&s, &roles, by.as_ref()))
            .await
    }
    pub(crate) async fn revoke_session_impl(&self, token_hash: &str) -> Result<()> {
        let t = token_hash.to_string();
        self.blocking(move |inner| inner.revoke_session(&t)).await
    }
}

//! Staff users and their sessions.

use super::{Client, PgStore};
use crate::shared::SQL_RECORD_SIGN_IN_FAILURE;
use crate::shared::{
    check_badge, check_changed_by, check_network_binding, check_staff_id, from_ms, roles_from_text,
    roles_to_text, to_ms,
};
use crate::{NewUser, Result, SignInFailures, StoreError, UserCredentials};
use anpr_domain::{Role, User, UserId};
use anpr_policy::registers::ChangedBy;
use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use tokio_postgres::Row;

const USER_COLUMNS: &str = "u.id, u.staff_id, u.name, u.district, u.roles, u.active, \
    u.badge_number, u.network_id";

fn user_from_row(r: &Row) -> User {
    let roles: String = r.get(4);
    User {
        id: r.get(0),
        staff_id: r.get(1),
        name: r.get(2),
        badge_number: r.get(6),
        district: r.get(3),
        roles: roles_from_text(&roles),
        active: r.get(5),
        network_id: r.get(7),
    }
}

async fn user_by_staff_id(c: &impl GenericClient, staff_id: &str) -> Result<User> {
    c.query_opt(
        &format!("SELECT {USER_COLUMNS} FROM users u WHERE staff_id = $1"),
        &[&staff_id],
    )
    .await?
    .map(|r| user_from_row(&r))
    .ok_or_else(|| StoreError::NotFound(format!("user {staff_id}")))
}

impl PgStore {
    async fn client(&self) -> Result<Client> {
        self.inner().client().await
    }

    pub(crate) async fn create_user_impl(&self, u: NewUser, by: Option<ChangedBy>) -> Result<User> {
        let staff_id = u.staff_id.trim();
        check_staff_id(staff_id)?;
        anpr_policy::permissions::check_role_combination(&u.roles)?;
        let badge = check_badge(&u.badge_number)?;
        check_network_binding(&u.roles, u.network_id, "network_id")?;
        check_changed_by(by.as_ref())?;
        let client = self.client().await?;
        // One statement: the account and who set its roles commit together.
        let row = client
            .query_opt(
                "WITH u AS (
                     INSERT INTO users (staff_id, name, district, roles, password_hash,
                                        created_at, badge_number, network_id)
                     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
                     ON CONFLICT (staff_id) DO NOTHING RETURNING id)
                 INSERT INTO user_role_changes (user_id, roles, set_by, at)
                 SELECT id, $4, $9, $6 FROM u RETURNING user_id",
                &[
                    &staff_id,
                    &u.name,
                    &u.district,
                    &roles_to_text(&u.roles),
                    &u.password_hash,
                    &to_ms(Utc::now()),
                    &badge,
                    &u.network_id,
                    &by.as_ref().map(ChangedBy::label),
                ],
            )
            .await?
            .ok_or_else(|| StoreError::Conflict(format!("user {staff_id} already exists")))?;
        Ok(User {
            id: row.get(0),
            staff_id: staff_id.to_string(),
            name: u.name,
            badge_number: badge,
            district: u.district,
            roles: u.roles,
            active: true,
            network_id: u.network_id,
        })
    }

    pub(crate) async fn user_credentials_impl(
        &self,
        staff_id: &str,
    ) -> Result<Option<UserCredentials>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS}, u.password_hash FROM users u WHERE staff_id = $1"
            ))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&staff_id])
            .await?
            .map(|r| UserCredentials {
                user: user_from_row(&r),
                password_hash: r.get(8),
            }))
    }

    pub(crate) async fn sign_in_failures_impl(
        &self,
        keys: Vec<String>,
    ) -> Result<Vec<SignInFailures>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(
                "SELECT key, failures, last_failure FROM sign_in_failures WHERE key = ANY($1)",
            )
            .await?;
        Ok(client
            .query(&stmt, &[&keys])
            .await?
            .iter()
            .map(|r| SignInFailures {
                key: r.get(0),
                failures: r.get::<_, i64>(1).clamp(0, u32::MAX as i64) as u32,
                last_failure: from_ms(r.get(2)),
            })
            .collect())
    }

    pub(crate) async fn record_sign_in_failure_impl(
        &self,
        keys: Vec<String>,
        at: DateTime<Utc>,
        forget_before: DateTime<Utc>,
    ) -> Result<()> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let stmt = tx.prepare_cached(SQL_RECORD_SIGN_IN_FAILURE).await?;
        for key in &keys {
            tx.execute(&stmt, &[key, &to_ms(at), &to_ms(forget_before)])
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub(crate) async fn clear_sign_in_failures_impl(&self, key: String) -> Result<()> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM sign_in_failures WHERE key = $1", &[&key])
            .await?;
        Ok(())
    }

    pub(crate) async fn create_session_impl(
        &self,
        token_hash: &str,
        user: UserId,
        expires: DateTime<Utc>,
    ) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at)
                 VALUES ($1, $2, $3, $4)",
                &[&token_hash, &user, &to_ms(Utc::now()), &to_ms(expires)],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn session_user_impl(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<User>> {
        let client = self.client().await?;
        let stmt = client
            .prepare_cached(&format!(
                "SELECT {USER_COLUMNS} FROM sessions s JOIN users u ON u.id = s.user_id
                 WHERE s.token_hash = $1 AND NOT s.revoked AND s.expires_at > $2 AND u.active"
            ))
            .await?;
        Ok(client
            .query_opt(&stmt, &[&token_hash, &to_ms(now)])
            .await?
            .map(|r| user_from_row(&r)))
    }

    pub(crate) async fn revoke_session_impl(&self, token_hash: &str) -> Result<()> {
        let client = self.client().await?;
        client
            .execute(
                "UPDATE sessions SET revoked = TRUE WHERE token_hash = $1",
                &[&token_hash],
            )
            .await?;
        Ok(())
    }

    pub(crate) async fn users_impl(&self) -> Result<Vec<User>> {
        let client = self.client().await?;
        Ok(client
            .query(
                &format!("SELECT {USER_COLUMNS} FROM users u ORDER BY staff_id"),
                &[],
            )
            .await?
            .iter()
            .map(user_from_row)
            .collect())
    }

    /// Enables or disables an account. Disabling revokes every session at once (and
    /// `session_user` refuses inactive users anyway).
    pub(crate) async fn set_user_active_impl(&self, staff_id: &str, active: bool) -> Result<User> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let user = user_by_staff_id(&tx, staff_id).await?;
        tx.execute(
            "UPDATE users SET active = $2 WHERE id = $1",
            &[&user.id, &active],
        )
        .await?;
        if !active {
            tx.execute(
                "UPDATE sessions SET revoked = TRUE WHERE user_id = $1",
                &[&user.id],
            )
            .await?;
        }
        tx.commit().await?;
        Ok(User { active, ..user })
    }

    pub(crate) async fn set_user_roles_impl(
        &self,
        staff_id: &str,
        roles: Vec<Role>,
        by: Option<ChangedBy>,
    ) -> Result<User> {
        anpr_policy::permissions::check_role_combination(&roles)?;
        check_changed_by(by.as_ref())?;
        let client = self.client().await?;
        let user = user_by_staff_id(&client, staff_id).await?;
        check_network_binding(&roles, user.network_id, "roles")?;
        // One statement: the roles and who set them commit together.
        client
            .execute(
                "WITH u AS (UPDATE users SET roles = $2 WHERE id = $1 RETURNING id)
                 INSERT INTO user_role_changes (user_id, roles, set_by, at)
                 SELECT id, $2, $3, $4 FROM u",
                &[
                    &user.id,
                    &roles_to_text(&roles),
                    &by.as_ref().map(ChangedBy::label),
                    &to_ms(Utc::now()),
                ],
            )
            .await?;
        Ok(User { roles, ..user })
    }
}

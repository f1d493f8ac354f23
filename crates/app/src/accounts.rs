//! Staff accounts: list, create, change roles, disable and enable — for an administrator
//! through the API and for the operator at the console alike. Separation of duties is checked
//! on every role set, nobody changes their own account, and the store keeps who set each
//! user's roles (the policy reads it: see `recent_role_grant_days`).

use crate::audit::AuditHandle;
use crate::error::{AppError, AppResult};
use crate::App;
use anpr_domain::{NetworkId, Role, User};
use anpr_ledger::{Action, AuditFacts};
use anpr_policy::Permission;
use anpr_store::{ChangedBy, NewUser};

/// Shortest password accepted for a new account.
pub const MIN_PASSWORD_CHARS: usize = 12;

/// Who administers accounts and cameras' keys.
pub enum Administrator<'a> {
    /// A signed-in member of staff (the API): needs the `administer` permission.
    Staff(&'a User),
    /// The operator at the server's console (`anpr user ...`), by their actor id.
    Console(String),
}

impl Administrator<'_> {
    fn changed_by(&self) -> ChangedBy {
        match self {
            Administrator::Staff(u) => ChangedBy::Staff(u.staff_id.clone()),
            Administrator::Console(id) => ChangedBy::Operator(id.clone()),
        }
    }

    /// Refuses a member of staff without the `administer` permission.
    pub(crate) fn require(&self) -> AppResult<()> {
        match self {
            Administrator::Staff(u) => crate::auth::require_permission(u, Permission::Administer),
            Administrator::Console(_) => Ok(()),
        }
    }

    /// Separation of duties: administrators do not change their own account.
    fn not_self(&self, staff_id: &str) -> AppResult<()> {
        use anpr_policy::oversight::{separation_of_duties, Concerned, Duty};
        match self {
            Administrator::Staff(u) => Ok(separation_of_duties(
                &anpr_policy::Subject::from_user(u),
                Duty::ChangeAccount,
                Concerned::staff(staff_id),
            )?),
            Administrator::Console(_) => Ok(()),
        }
    }
}

/// A new account as asked for.
pub struct NewAccount {
    pub staff_id: String,
    pub name: String,
    pub badge_number: Option<String>,
    pub district: String,
    pub roles: Vec<Role>,
    pub password: String,
    /// The network a `network_operator` or `network_auditor` works for.
    pub network_id: Option<NetworkId>,
}

fn text(field: &str, value: &str, max: usize) -> AppResult<String> {
    let n = value.trim().chars().count();
    if n == 0 || n > max {
        Err(AppError::invalid(field, format!("1 to {max} characters")))
    } else {
        Ok(value.trim().to_string())
    }
}

/// Every account.
pub async fn list(app: &App, audit: &AuditHandle, by: &Administrator<'_>) -> AppResult<Vec<User>> {
    audit.action(Action::UserList);
    by.require()?;
    Ok(app.store.users().await?)
}

/// Every member of staff's name by staff id, to show beside the ids in what a caller has
/// already been allowed to see (a review queue, integrity cases); not a use of its own.
pub(crate) async fn names_by_staff_id(
    app: &App,
) -> AppResult<std::collections::HashMap<String, String>> {
    Ok(app
        .store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.staff_id, u.name))
        .collect())
}

/// Creates an account; role combinations that break separation of duties are refused.
pub async fn create(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    req: NewAccount,
) -> AppResult<User> {
    audit.action(Action::UserChange);
    audit.facts(AuditFacts::new().target_staff_id(req.staff_id.clone()));
    audit.query(serde_json::json!({ "district": req.district, "roles": req.roles }));
    by.require()?;
    let staff_id = text("staff_id", &req.staff_id, 64)?;
    let name = text("name", &req.name, 200)?;
    let district = crate::catalog::district(app, &req.district)?;
    if req.roles.is_empty() {
        return Err(AppError::invalid("roles", "at least one role"));
    }
    if req.password.chars().count() < MIN_PASSWORD_CHARS || req.password.len() > 1024 {
        return Err(AppError::invalid(
            "password",
            format!("the password must be at least {MIN_PASSWORD_CHARS} characters"),
        ));
    }
    anpr_policy::permissions::check_role_combination(&req.roles)?;
    let password = req.password;
    let password_hash = tokio::task::spawn_blocking(move || crate::auth::hash_secret(&password))
        .await?
        .map_err(AppError::internal)?;
    let user = app
        .store
        .create_user_by(
            NewUser {
                staff_id,
                name,
                badge_number: req.badge_number.filter(|b| !b.trim().is_empty()),
                district,
                roles: req.roles,
                password_hash,
                network_id: req.network_id,
            },
            by.changed_by(),
        )
        .await?;
    tracing::info!(user = %user.staff_id, by = ?by.changed_by(), "user created");
    Ok(user)
}

/// Replaces an account's roles.
pub async fn set_roles(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    staff_id: &str,
    roles: Vec<Role>,
) -> AppResult<User> {
    audit.action(Action::UserChange);
    audit.facts(AuditFacts::new().target_staff_id(staff_id.to_string()));
    audit.query(serde_json::json!({ "roles": roles }));
    by.require()?;
    by.not_self(staff_id)?;
    if roles.is_empty() {
        return Err(AppError::invalid(
            "roles",
            "at least one role (or disable the account)",
        ));
    }
    let user = app
        .store
        .set_user_roles_by(staff_id, roles, by.changed_by())
        .await?;
    tracing::info!(user = %user.staff_id, roles = ?user.roles, "roles changed");
    Ok(user)
}

/// Disables (its sessions stop at once) or enables an account.
pub async fn set_active(
    app: &App,
    audit: &AuditHandle,
    by: &Administrator<'_>,
    staff_id: &str,
    active: bool,
) -> AppResult<User> {
    audit.action(Action::UserChange);
    audit.facts(AuditFacts::new().target_staff_id(staff_id.to_string()));
    audit.query(serde_json::json!({ "active": active }));
    by.require()?;
    by.not_self(staff_id)?;
    let user = app.store.set_user_active(staff_id, active).await?;
    tracing::info!(user = %user.staff_id, active, "account status changed");
    Ok(user)
}

use anpr_app::accounts::{self, Administrator, NewAccount};
use anpr_app::audit::AuditHandle;
use anpr_domain::{Role, User};
use anpr_ledger::Action;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a member of staff. The password is read from ANPR_PASSWORD or standard input.
    Add {
        /// The staff id the person signs in with, as in the staff register (e.g. S1234).
        #[arg(long)]
        staff_id: String,
        /// The person's full name.
        #[arg(long)]
        name: String,
        /// The police district they work in: one of the deployment's (the policy's `districts`;
        /// by default New Zealand Police's twelve, e.g. Southern).
        #[arg(long)]
        district: String,
        /// Comma-separated: searcher, tracker, supervisor, integrity, auditor, admin,
        /// privacy_officer, or alone network_operator (a camera network's own staff) or
        /// network_auditor (its data owner's side: its sharing controls). Some combinations
        /// break separation of duties and are refused.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
        /// Police badge number.
        #[arg(long)]
        badge: Option<String>,
        /// The number of the network a `network_operator` or `network_auditor` works for, as
        /// `anpr network list` shows it (required for those roles only).
        #[arg(long)]
        network: Option<i64>,
    },
    /// Disable an account: its sessions stop working at once.
    Disable {
        /// The account's staff id.
        staff_id: String,
    },
    /// Enable a disabled account again (old sessions stay revoked).
    Enable {
        /// The account's staff id.
        staff_id: String,
    },
    /// Show or replace a user's roles.
    Roles {
        /// The account's staff id.
        staff_id: String,
        /// Comma-separated roles to hold from now on (omit to show the current ones).
        #[arg(long, value_delimiter = ',')]
        set: Option<Vec<String>>,
    },
    /// List users.
    List,
}

pub fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    names
        .iter()
        .map(|n| Role::parse(n.trim()).ok_or_else(|| anyhow::anyhow!("unknown role {n:?}")))
        .collect()
}

fn describe(u: &User) -> String {
    let roles: Vec<&str> = u.roles.iter().map(|r| r.as_str()).collect();
    format!(
        "{}\t{}\t{}\t{}\t{}",
        u.staff_id,
        u.name,
        u.district,
        roles.join(","),
        if u.active { "active" } else { "disabled" }
    )
}

pub async fn run(data: &Path, cmd: UserCommand) -> anyhow::Result<()> {
    let state = super::open(data).await?;
    let app = &state;
    match cmd {
        UserCommand::Add {
            staff_id,
            name,
            district,
            roles,
            badge,
            network,
        } => {
            let roles = parse_roles(&roles)?;
            let password = super::read_password(&format!("password for {staff_id}:"))?;
            let account = NewAccount {
                staff_id,
                name,
                badge_number: badge,
                district,
                roles,
                password,
                network_id: network,
            };
            let user = as_operator(&state, |audit, by| async move {
                accounts::create(app, &audit, &by, account).await
            })
            .await?;
            println!("user {} ({}) created", user.staff_id, user.id);
        }
        UserCommand::Disable { staff_id } => {
            let u = as_operator(&state, |audit, by| async move {
                accounts::set_active(app, &audit, &by, &staff_id, false).await
            })
            .await?;
            println!("user {} disabled; their sessions are revoked", u.staff_id);
        }
        UserCommand::Enable { staff_id } => {
            let u = as_operator(&state, |audit, by| async move {
                accounts::set_active(app, &audit, &by, &staff_id, true).await
            })
            .await?;
            println!("user {} enabled", u.staff_id);
        }
        UserCommand::Roles { staff_id, set } => {
            let user = match set {
                Some(names) => {
                    let roles = parse_roles(&names)?;
                    let target = staff_id.clone();
                    as_operator(&state, |audit, by| async move {
                        accounts::set_roles(app, &audit, &by, &target, roles).await
                    })
                    .await?
                }
                None => state
                    .store
                    .users()
                    .await?
                    .into_iter()
                    .find(|u| u.staff_id == staff_id)
                    .ok_or_else(|| anyhow::anyhow!("no user {staff_id}"))?,
            };
            println!("{}", describe(&user));
        }
        UserCommand::List => {
            for u in state.store.users().await? {
                println!("{}", describe(&u));
            }
        }
    }
    Ok(())
}

/// Runs an account change as the operator at the console, ledgered like the API's.
async fn as_operator<T, F, Fut>(state: &anpr_app::App, op: F) -> anyhow::Result<T>
where
    F: FnOnce(AuditHandle, Administrator<'static>) -> Fut,
    Fut: std::future::Future<Output = anpr_app::AppResult<T>>,
{
    super::as_administrator(state, Action::UserChange, op).await
}

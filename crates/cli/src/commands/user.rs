use anpr_domain::Role;
use anpr_store::NewUser;
use clap::Subcommand;
use std::path::Path;

#[derive(Subcommand)]
pub enum UserCommand {
    /// Add a member of staff. The password is read from ANPR_PASSWORD or standard input.
    Add {
        #[arg(long)]
        staff_id: String,
        #[arg(long)]
        name: String,
        #[arg(long)]
        district: String,
        /// Comma-separated: searcher, tracker, supervisor, integrity, auditor, admin.
        #[arg(long, value_delimiter = ',')]
        roles: Vec<String>,
    },
}

pub fn parse_roles(names: &[String]) -> anyhow::Result<Vec<Role>> {
    names
        .iter()
        .map(|n| Role::parse(n.trim()).ok_or_else(|| anyhow::anyhow!("unknown role {n:?}")))
        .collect()
}

pub async fn run(data: &Path, cmd: UserCommand) -> anyhow::Result<()> {
    let state = super::open(data)?;
    match cmd {
        UserCommand::Add {
            staff_id,
            name,
            district,
            roles,
        } => {
            let roles = parse_roles(&roles)?;
            let password = match std::env::var("ANPR_PASSWORD") {
                Ok(p) => p,
                Err(_) => {
                    let mut line = String::new();
                    eprintln!("password for {staff_id}:");
                    std::io::stdin().read_line(&mut line)?;
                    line.trim_end_matches(['\r', '\n']).to_string()
                }
            };
            if password.chars().count() < 12 {
                anyhow::bail!("the password must be at least 12 characters");
            }
            let user = state
                .store
                .create_user(NewUser {
                    staff_id,
                    name,
                    district,
                    roles,
                    password_hash: anpr_server::auth::hash_secret(&password)?,
                })
                .await?;
            println!("user {} ({}) created", user.staff_id, user.id);
        }
    }
    Ok(())
}

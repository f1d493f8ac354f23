use anpr_domain::query::MatchMode;
use anpr_domain::Purpose;
use anpr_server::routes::search::{run_search, SearchRequest};
use chrono::{DateTime, Utc};
use clap::Args;
use std::path::Path;

#[derive(Args)]
pub struct SearchArgs {
    /// Who is searching: the same access policy applies as through the API, and the decision
    /// is recorded. The password is read from ANPR_PASSWORD or standard input.
    #[arg(long)]
    pub staff_id: String,
    /// Plate: exact (ABC123), wildcard (AB?12*) or, with --fuzzy, OCR-fuzzy.
    pub plate: String,
    /// OCR-fuzzy match with up to this many edits beyond confusable characters.
    #[arg(long)]
    pub fuzzy: Option<u8>,
    #[arg(long)]
    pub from: Option<DateTime<Utc>>,
    #[arg(long)]
    pub to: Option<DateTime<Utc>>,
    #[arg(long, default_value_t = 50)]
    pub limit: u32,
    /// Purpose code of the search.
    #[arg(long)]
    pub purpose: String,
    /// Incident file number.
    #[arg(long)]
    pub file_number: String,
    /// Why the search is needed.
    #[arg(long)]
    pub justification: String,
    /// Print the page as JSON instead of a table.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(data: &Path, args: SearchArgs) -> anyhow::Result<()> {
    let purpose = Purpose {
        code: args.purpose,
        file_number: args.file_number,
        justification: args.justification,
    };
    let request = SearchRequest {
        plate: args.plate,
        mode: args.fuzzy.map(|_| MatchMode::Fuzzy),
        max_edits: args.fuzzy,
        from: args.from,
        to: args.to,
        area: None,
        network_ids: vec![],
        site_ids: vec![],
        camera_ids: vec![],
        limit: Some(args.limit),
        cursor: None,
        purpose: Some(purpose),
    };
    let (query, purpose) = request.into_query().map_err(|e| anyhow::anyhow!("{e}"))?;
    let state = super::open(data)?;
    let user = sign_in(&state, &args.staff_id).await?;
    let response = run_search(&state, &user, query, purpose)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    for n in &response.policy.notices {
        eprintln!("note: {}", n.message);
    }
    let page = response.page;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&page)?);
        return Ok(());
    }
    println!(
        "{} reads of {} plate(s); showing {}",
        page.total,
        page.plates_matched,
        page.hits.len()
    );
    for h in &page.hits {
        println!(
            "{}\t{}\t{}\t{:.2}\t{} ({}, {})",
            h.read.id,
            h.read.captured_at.format("%Y-%m-%d %H:%M:%S"),
            h.read.plate,
            h.read.confidence,
            h.site_name,
            h.network_name,
            h.district
        );
    }
    Ok(())
}

/// Checks the staff member's password as a sign-in does, with the same lock-out.
async fn sign_in(
    state: &anpr_server::AppState,
    staff_id: &str,
) -> anyhow::Result<anpr_domain::User> {
    let creds = state.store.user_credentials(staff_id).await?;
    let password = super::read_password(&format!("password for {staff_id}:"))?;
    let hash = creds
        .as_ref()
        .map(|c| c.password_hash.clone())
        .unwrap_or_else(|| anpr_server::auth::dummy_hash().to_string());
    let ok =
        tokio::task::spawn_blocking(move || anpr_server::auth::verify_secret(&password, &hash))
            .await?;
    let denied = || anyhow::anyhow!("wrong staff id or password");
    let creds = creds.ok_or_else(denied)?;
    let now = chrono::Utc::now();
    if creds.locked_until.is_some_and(|t| t > now) {
        anyhow::bail!("account locked after repeated failed sign-ins; try again later");
    }
    if !ok || !creds.user.active {
        let lock = (creds.failed_logins + 1 >= anpr_server::auth::MAX_FAILED_LOGINS)
            .then(|| now + chrono::Duration::minutes(anpr_server::auth::LOCKOUT_MINUTES));
        state
            .store
            .record_login_attempt(creds.user.id, false, lock)
            .await?;
        return Err(denied());
    }
    state
        .store
        .record_login_attempt(creds.user.id, true, None)
        .await?;
    Ok(creds.user)
}

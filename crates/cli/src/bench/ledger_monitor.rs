//! An overseer's monitor over loopback: a fresh embedded deployment whose ledger holds
//! `--entries` entries of about 300 bytes (a search's), served by the real server, downloaded
//! and verified from nothing by `anpr ledger monitor`'s pass; what that costs per million
//! entries in time and bytes.

use super::figure;
use super::realtime::serve;
use crate::commands::ledger_monitor::{monitor_pass, Server};
use anpr_domain::Role;
use anpr_server::{AppState, ServerConfig};
use anpr_store::NewUser;
use serde_json::json;

const PASSWORD: &str = "bench-password-2026";

#[derive(clap::Args)]
pub struct LedgerMonitorArgs {
    /// Entries in the log the monitor downloads and verifies.
    #[arg(long, default_value_t = 1_000_000)]
    entries: u64,
}

pub async fn run(args: LedgerMonitorArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let state = AppState::open_embedded(&tmp.path().join("data"), ServerConfig::default())?;
    state
        .store
        .create_user(NewUser {
            staff_id: "BENCHA1".into(),
            name: "Bench Auditor".into(),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![Role::Auditor],
            password_hash: anpr_app::auth::hash_secret(PASSWORD)?,
            network_id: None,
        })
        .await?;
    let ledger = state.ledger.clone();
    let total = args.entries;
    tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
        while ledger.size() < total {
            let n = (total - ledger.size()).min(5_000);
            ledger.append(&anpr_ledger::bench::events(ledger.size(), n))?;
        }
        Ok(())
    })
    .await??;
    let key = state.ledger.public_key();
    let (base, stop, _server) = serve(state).await?;
    let http = reqwest::Client::new();
    let token: serde_json::Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"staff_id": "BENCHA1", "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    let token = token["token"]
        .as_str()
        .ok_or_else(|| anyhow::anyhow!("login returned no token"))?;
    let no_witnesses = crate::commands::witness_args::WitnessArgs::default();
    let server = Server {
        http: &http,
        url: &base,
        token,
    };
    let state_dir = tmp.path().join("monitor");
    std::fs::create_dir_all(&state_dir)?;
    let page = anpr_ledger::MAX_ENTRIES_PER_CALL;
    let pass = monitor_pass(&server, (&key, &no_witnesses), &state_dir, page, None).await?;
    let _ = stop.send(());
    if !pass.report.is_ok() {
        anyhow::bail!("the benchmark's log does not verify: {}", pass.report);
    }
    let secs = pass.elapsed.as_secs_f64();
    let per_million = 1e6 / pass.entries.max(1) as f64;
    figure("ledger_monitor_entries", pass.entries as f64, "entries");
    figure(
        "ledger_monitor_entries_per_s",
        pass.entries as f64 / secs,
        "entries/s",
    );
    figure(
        "ledger_monitor_seconds_per_million_entries",
        secs * per_million,
        "s",
    );
    figure(
        "ledger_monitor_megabytes_per_million_entries",
        pass.bytes as f64 * per_million / 1e6,
        "MB",
    );
    Ok(())
}

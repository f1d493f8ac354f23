//! What an attacker reaches first, measured end to end through HTTP on a fresh embedded
//! deployment: whether a failed sign-in takes the same time for a real staff id as for one
//! that does not exist, and how many ledger bytes a flood of requests without credentials
//! costs.

use super::figure;
use super::realtime::serve;
use super::stats::Samples;
use anpr_domain::Role;
use anpr_server::{AppState, ServerConfig};
use anpr_store::NewUser;
use serde_json::json;
use std::time::{Duration, Instant};

const PASSWORD: &str = "bench-password-2026";

#[derive(clap::Args)]
pub struct HardeningArgs {
    /// Failed sign-ins timed for each of a real and an unknown staff id, alternated.
    #[arg(long, default_value_t = 1000)]
    tries: usize,
    /// Requests without credentials in the flood, each with a 12 KB query string.
    #[arg(long, default_value_t = 2000)]
    flood: usize,
}

pub async fn run(args: HardeningArgs) -> anyhow::Result<()> {
    sign_in_timing(args.tries).await?;
    flood(args.flood).await
}

async fn sign_in_timing(tries: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    // The pauses lifted, so that every try is a full check (what the pauses add is the same
    // for both kinds of id, and tested).
    let mut config = ServerConfig::default();
    config.app.sign_in = anpr_app::sign_in_throttle::Rules::lifted();
    let state = AppState::open_embedded(tmp.path(), config)?;
    state
        .store
        .create_user(NewUser {
            staff_id: "BENCHS1".into(),
            name: "Bench Searcher".into(),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![Role::Searcher],
            password_hash: anpr_app::auth::hash_secret(PASSWORD)?,
            network_id: None,
        })
        .await?;
    let (base, stop, _server) = serve(state).await?;
    let http = reqwest::Client::new();
    let attempt = |staff_id: &'static str| {
        let (http, url) = (http.clone(), format!("{base}/api/v1/auth/login"));
        async move {
            let started = Instant::now();
            let resp = http
                .post(url)
                .json(&json!({"staff_id": staff_id, "password": "not the password"}))
                .send()
                .await?;
            let status = resp.status().as_u16();
            let body = resp.text().await?;
            anyhow::Ok((started.elapsed(), status, body))
        }
    };
    // Warm-up: connections, argon2's first allocations.
    for _ in 0..10 {
        attempt("BENCHS1").await?;
        attempt("NOSUCHID").await?;
    }
    let (mut known, mut unknown) = (Samples::new(), Samples::new());
    let mut differing_answers = 0;
    for _ in 0..tries {
        let (k, k_status, k_body) = attempt("BENCHS1").await?;
        let (u, u_status, u_body) = attempt("NOSUCHID").await?;
        known.push(k);
        unknown.push(u);
        differing_answers += usize::from(k_status != u_status || k_body != u_body);
    }
    let (k50, u50) = (known.percentile_ms(50.0), unknown.percentile_ms(50.0));
    figure("sign_in_failed_known_id_p50_ms", k50, "ms");
    figure("sign_in_failed_unknown_id_p50_ms", u50, "ms");
    figure("sign_in_known_minus_unknown_p50_ms", k50 - u50, "ms");
    figure(
        "sign_in_known_minus_unknown_p90_ms",
        known.percentile_ms(90.0) - unknown.percentile_ms(90.0),
        "ms",
    );
    figure(
        "sign_in_differing_answers",
        differing_answers as f64,
        "tries",
    );
    let _ = stop.send(());
    Ok(())
}

async fn flood(requests: usize) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let state = AppState::open_embedded(tmp.path(), ServerConfig::default())?;
    let (base, stop, _server) = serve(state.clone()).await?;
    let before = state.ledger.size();
    let http = reqwest::Client::new();
    let url = format!("{base}/api/v1/alerts?filler={}", "q".repeat(12_000));
    let started = Instant::now();
    let mut held_back = 0;
    for _ in 0..requests {
        let status = http.get(&url).send().await?.status().as_u16();
        held_back += usize::from(status == 429);
    }
    let elapsed = started.elapsed();
    // The minute's aggregate entry, as the recorder writes it once the minute is over.
    anpr_server::audit::record_held_back(
        &state,
        chrono::Utc::now() + chrono::TimeDelta::minutes(1),
    )
    .await;
    let ledger = state.ledger.clone();
    let after = ledger.size();
    let bytes: usize = tokio::task::spawn_blocking(move || ledger.entries(before, after))
        .await??
        .iter()
        .map(|e| e.body.len())
        .sum();
    figure(
        "ledger_bytes_per_unauthenticated_flood_request",
        bytes as f64 / requests as f64,
        "bytes",
    );
    figure(
        "ledger_entries_for_flood",
        (after - before) as f64,
        "entries",
    );
    figure("flood_requests_held_back", held_back as f64, "requests");
    figure(
        "flood_requests_per_s",
        requests as f64 / elapsed.as_secs_f64().max(f64::EPSILON),
        "requests/s",
    );
    let _ = stop.send(());
    tokio::time::sleep(Duration::from_millis(100)).await;
    Ok(())
}

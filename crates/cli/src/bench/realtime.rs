//! `anpr bench realtime`: the real-time tracking figures of the issue.
//!
//! 1. `watch_match_p50_us`: one read matched against 1,000,000 watches (a tenth of them
//!    OCR-fuzzy), in the matcher the server uses.
//! 2. `alert_latency_from_send_p50_ms` / `_p99_ms`: from the moment the camera's request is
//!    sent by an HTTP client to the alert's arrival at a connected SSE client, both on loopback,
//!    with the same 1,000,000 watches in the server's watch set and a loaded hot list, while
//!    `--background` connections post `--background-batch`-read batches back to back (the
//!    issue's load: 4 connections of 1,000 reads). The delivery's ledger entry is written
//!    first, as always. `ingest_with_1m_watches_reads_per_s`: the rate those connections
//!    reached meanwhile.
//! 3. `sse_clients_extra_mib`: resident memory added by 1,000 connected alert streams. Client
//!    and server share this process, so the figure counts both ends of every connection.
//!
//! With `--database-url` the alert crosses servers: two servers on one PostgreSQL database
//! (each with its own store, connections and change feed, here in one OS process), reads
//! ingested on the first, the officer's stream on the second:
//! `alert_latency_cross_server_from_send_p50_ms` / `_p99_ms`.

use super::figure;
use super::stats::Samples;
use anpr_domain::{GeoPoint, Role, SiteKind};
use anpr_policy::registers::NetworkAgreement;
use anpr_policy::{AuthStatus, Authorisation, AuthorisationKind, Basis};
use anpr_realtime::{LocalWatchSet, WatchSet};
use anpr_server::{AppState, ServerConfig};
use anpr_store::{NewCamera, NewSite, NewUser};
use chrono::{Duration as Minutes, Utc};
use serde_json::{json, Value};
use std::collections::HashMap;
use std::time::{Duration, Instant};
use tokio::sync::mpsc;

#[derive(clap::Args)]
pub struct RealtimeArgs {
    /// Active watches in the matcher and the server.
    #[arg(long, default_value_t = 1_000_000)]
    watches: usize,
    /// Alerts timed end to end.
    #[arg(long, default_value_t = 500)]
    alerts: usize,
    /// Concurrent SSE clients for the memory figure.
    #[arg(long, default_value_t = 1000)]
    clients: usize,
    /// Background ingest while alerts are timed: connections posting batches of reads that
    /// match no watch, back to back (0: none).
    #[arg(long, default_value_t = 4)]
    background: usize,
    /// Reads per background batch.
    #[arg(long, default_value_t = 1000)]
    background_batch: usize,
    /// Plates on the hot list while alerts are timed.
    #[arg(long, default_value_t = 50_000)]
    hot_list: usize,
}

const PASSWORD: &str = "bench-password-123";

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmRSS:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        })
        .map(|kib| kib / 1024.0)
        .unwrap_or(f64::NAN)
}

pub async fn run(args: RealtimeArgs) -> anyhow::Result<()> {
    // 1. The matcher alone.
    let set = LocalWatchSet::new();
    set.replace_all(anpr_realtime::synthetic::watches(
        args.watches,
        1,
        Utc::now(),
    ));
    let now = Utc::now();
    let probes: Vec<String> = (0..100_000)
        .map(|i| {
            if i % 2 == 0 {
                anpr_realtime::synthetic::plate((i * 7919) % args.watches.max(1))
            } else {
                format!("ZZ{:04}", i % 10_000)
            }
        })
        .collect();
    let mut matched = 0usize;
    let mut samples = Vec::with_capacity(probes.len());
    for p in &probes {
        let t = Instant::now();
        matched += set.matches(p, 1, now, now).len();
        samples.push(t.elapsed());
    }
    samples.sort_unstable();
    eprintln!(
        "bench realtime: {} probes, {matched} matches, {} watches",
        probes.len(),
        set.len()
    );
    figure(
        "watch_match_p50_us",
        samples[samples.len() / 2].as_secs_f64() * 1e6,
        "us",
    );
    drop(set);

    // 2. A server with one officer's watch among `watches` others.
    let tmp = tempfile::Builder::new()
        .prefix("anpr-bench-realtime-")
        .tempdir_in(".")?;
    let db = match crate::commands::database_url() {
        Some(server) => Some(super::core::BenchDatabase::create(server, false).await?),
        None => None,
    };
    // `state`: where the officer's stream connects; `ingest`: where the cameras send reads (a
    // second server on the same database, or the same server).
    let (state, ingest) = match &db {
        Some(db) => {
            let (a, b) = (tmp.path().join("a"), tmp.path().join("b"));
            let ingest = AppState::open(&a, Some(&db.url), ServerConfig::default()).await?;
            // Both servers sign the one ledger with the deployment's key.
            std::fs::create_dir_all(b.join("ledger"))?;
            for f in ["ledger-signing-key", "ledger-signing-key.pub"] {
                std::fs::copy(a.join("ledger").join(f), b.join("ledger").join(f))?;
            }
            let state = AppState::open(&b, Some(&db.url), ServerConfig::default()).await?;
            (state, Some(ingest))
        }
        None => (
            AppState::open_embedded(tmp.path(), ServerConfig::default())?,
            None,
        ),
    };
    let net = state.store.create_network("Bench", 60).await?;
    let site = state
        .store
        .create_site(NewSite {
            network_id: net.id,
            name: "Bench forecourt".into(),
            kind: SiteKind::FuelStation,
            address: "1 Bench Rd, Hamilton".into(),
            location: GeoPoint::new(-37.78, 175.28)?,
            district: "Waikato".into(),
        })
        .await?;
    let (_camera, key) = anpr_app::catalog::provision_camera(
        &state,
        NewCamera {
            site_id: site.id,
            name: "lane 1".into(),
            heading_deg: None,
        },
    )
    .await?;
    let officer = state
        .store
        .create_user(NewUser {
            staff_id: "BENCHT1".into(),
            name: "Bench Tracker".into(),
            badge_number: None,
            district: "Waikato".into(),
            roles: vec![Role::Searcher, Role::Tracker],
            password_hash: anpr_app::auth::hash_secret(PASSWORD)?,
            network_id: None,
        })
        .await?;
    state
        .store
        .set_network_agreement(NetworkAgreement {
            network_id: net.id,
            search: vec!["*".into()],
            tracking: vec!["Waikato".into()],
            hot_list_alerts: false,
        })
        .await?;
    let started = Utc::now();
    state
        .store
        .create_authorisation(Authorisation {
            id: 0,
            kind: AuthorisationKind::Tracking,
            plate: "BNC123".into(),
            requester_user_id: officer.id,
            requester_staff_id: officer.staff_id.clone(),
            district: "Waikato".into(),
            purpose_code: "serious_crime".into(),
            file_number: "BENCH/1".into(),
            justification: "benchmark watch".into(),
            basis: Basis::Supervised,
            stolen_entry_id: None,
            approval_reasons: vec![],
            status: AuthStatus::Active,
            requested_at: started,
            approval_deadline: None,
            duration_minutes: 24 * 60,
            starts_at: Some(started - Minutes::minutes(1)),
            expires_at: Some(started + Minutes::days(1)),
            decided_by_staff_id: Some("BENCHS1".into()),
            decided_at: Some(started),
            decision_reason: Some("benchmark".into()),
            ended_at: None,
            end_reason: None,
            renews: None,
            lookback_from: None,
            fuzzy: false,
        })
        .await?;
    let (base, stop, server) = serve(state.clone()).await?;
    let ingest_server = match &ingest {
        Some(ingest) => Some(serve(ingest.clone()).await?),
        None => None,
    };
    let ingest_base = ingest_server
        .as_ref()
        .map_or(base.clone(), |(b, _, _)| b.clone());
    let matcher = ingest.as_ref().unwrap_or(&state);
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(usize::MAX)
        .build()?;
    let token = login(&http, &base).await?;
    // The server loaded its one watch from the store; the synthetic ones join it.
    for w in anpr_realtime::synthetic::watches(args.watches, net.id, Utc::now()) {
        matcher.watches.upsert(w);
    }
    eprintln!("server watch set: {} watches", matcher.watches.len());
    // A national stolen-vehicle list, none of it among the background's plates.
    matcher
        .hot_list
        .replace((0..args.hot_list).map(|i| format!("HL{i:05}")));

    let mut stream = open_stream(&http, &base, &token).await?;
    let (arrived_tx, mut arrived) = mpsc::unbounded_channel::<(i64, Instant)>();
    let reader = tokio::spawn(async move {
        let mut buf = String::new();
        while let Ok(Some(chunk)) = stream.chunk().await {
            let at = Instant::now();
            buf.push_str(&String::from_utf8_lossy(&chunk));
            while let Some(end) = buf.find("\n\n") {
                let block: String = buf.drain(..end + 2).collect();
                for line in block.lines() {
                    if let Some(data) = line.strip_prefix("data:") {
                        if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                            if let Some(read) = v["read_id"].as_i64() {
                                let _ = arrived_tx.send((read, at));
                            }
                        }
                    }
                }
            }
        }
    });
    // Background load: other cameras' traffic, none of it matching a watch.
    let sent = std::sync::Arc::new(std::sync::atomic::AtomicU64::new(0));
    let load_started = Instant::now();
    // The bodies are made before the clock starts, so that the client's own JSON work does
    // not compete with the server's; without external ids, a body sent again is new reads.
    let batch = args.background_batch.max(1);
    let bodies: std::sync::Arc<Vec<Vec<u8>>> = std::sync::Arc::new(
        (0..8)
            .map(|b| {
                let reads: Vec<Value> = (0..batch)
                    .map(|i| {
                        json!({"plate": format!("QX{:04}", (b * batch + i) % 10_000),
                               "captured_at": Utc::now(), "confidence": 0.8})
                    })
                    .collect();
                serde_json::to_vec(&json!({ "reads": reads })).expect("JSON of plain values")
            })
            .collect(),
    );
    let loaders: Vec<_> = (0..args.background)
        .map(|w| {
            let (http, base, key, sent, bodies) = (
                http.clone(),
                ingest_base.clone(),
                key.clone(),
                sent.clone(),
                bodies.clone(),
            );
            tokio::spawn(async move {
                for n in 0usize.. {
                    let body = bodies[(w + n) % bodies.len()].clone();
                    let ok = http
                        .post(format!("{base}/api/v1/reads:batch"))
                        .bearer_auth(&key)
                        .header(reqwest::header::CONTENT_TYPE, "application/json")
                        .body(body)
                        .send()
                        .await
                        .is_ok_and(|r| r.status().is_success());
                    if ok {
                        sent.fetch_add(batch as u64, std::sync::atomic::Ordering::Relaxed);
                    }
                }
            })
        })
        .collect();
    // Timed once the background has reached its pace.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut acked: HashMap<i64, Instant> = HashMap::new();
    let mut latency = Samples::new();
    for i in 0..args.alerts {
        // Spread over time like sightings, not back to back.
        tokio::time::sleep(Duration::from_millis(20)).await;
        let sent_at = Instant::now();
        let resp = http
            .post(format!("{ingest_base}/api/v1/reads"))
            .bearer_auth(&key)
            .json(
                &json!({"plate": "BNC123", "captured_at": Utc::now(), "confidence": 0.9,
                          "external_id": format!("bench-{i}")}),
            )
            .send()
            .await?;
        anyhow::ensure!(resp.status() == 201, "ingest: {}", resp.status());
        let id = resp.json::<Value>().await?["id"]
            .as_i64()
            .ok_or_else(|| anyhow::anyhow!("no read id"))?;
        acked.insert(id, sent_at);
        // The alert is published before the acknowledgement leaves, so it may already be here.
        loop {
            let (read, when) = tokio::time::timeout(Duration::from_secs(10), arrived.recv())
                .await?
                .ok_or_else(|| anyhow::anyhow!("alert stream ended"))?;
            if let Some(ack) = acked.remove(&read) {
                latency.push(when.saturating_duration_since(ack));
                if read == id {
                    break;
                }
            }
        }
    }
    for l in loaders {
        l.abort();
    }
    let rate = sent.load(std::sync::atomic::Ordering::Relaxed) as f64
        / load_started.elapsed().as_secs_f64();
    eprintln!(
        "background ingest while timing alerts: {} connections of {batch}-read batches",
        args.background
    );
    let name = if ingest.is_some() {
        "alert_latency_cross_server_from_send"
    } else {
        "alert_latency_from_send"
    };
    if args.background > 0 && args.watches >= 1_000_000 && ingest.is_none() {
        figure(
            "ingest_with_1m_watches_reads_per_s",
            rate.round(),
            "reads/s",
        );
    }
    figure(&format!("{name}_p50_ms"), latency.percentile_ms(50.0), "ms");
    figure(&format!("{name}_p99_ms"), latency.percentile_ms(99.0), "ms");
    reader.abort();

    // 3. Memory of many connected clients.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let before = rss_mib();
    let mut clients = Vec::with_capacity(args.clients);
    for _ in 0..args.clients {
        clients.push(open_stream(&http, &base, &token).await?);
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    let after = rss_mib();
    eprintln!("{} SSE clients connected", clients.len());
    figure("sse_clients_extra_mib", after - before, "MiB");
    drop(clients);
    // Stopped, not aborted, so that each server ends its background tasks (its change feed
    // among them) before the database goes.
    for (stop, server) in
        std::iter::once((stop, server)).chain(ingest_server.map(|(_, stop, server)| (stop, server)))
    {
        let _ = stop.send(());
        let _ = tokio::time::timeout(Duration::from_secs(10), server).await;
    }
    drop((state, ingest));
    if let Some(db) = db {
        db.drop_now().await?;
    }
    Ok(())
}

pub(super) type Served = (
    String,
    tokio::sync::oneshot::Sender<()>,
    tokio::task::JoinHandle<anyhow::Result<()>>,
);

/// Serves `state` on a loopback port until told to stop.
pub(super) async fn serve(state: AppState) -> anyhow::Result<Served> {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let base = format!("http://{}", listener.local_addr()?);
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(async move {
        anpr_server::serve(state, listener, async {
            let _ = stopped.await;
        })
        .await
    });
    Ok((base, stop, server))
}

async fn login(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let v: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"staff_id": "BENCHT1", "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .ok_or_else(|| anyhow::anyhow!("login returned no token"))
}

async fn open_stream(
    http: &reqwest::Client,
    base: &str,
    token: &str,
) -> anyhow::Result<reqwest::Response> {
    Ok(http
        .get(format!("{base}/api/v1/alerts/stream"))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?)
}

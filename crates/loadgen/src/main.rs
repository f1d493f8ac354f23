//! `anpr-loadgen`: drives a running `anpr serve` on loopback for a bounded time with camera
//! ingest at a target rate, searching users and open alert streams, then prints latency
//! percentiles per endpoint, error counts and the server's resident memory as
//! `bench: <name> <value> <unit>` lines. Exits non-zero on any error or when the server's
//! memory grew by more than the stated bound.
//!
//! It refuses any address but loopback: it is a test tool, not a way to load someone else's
//! server. `scripts/soak.sh` sets up a demo deployment and runs it.

use anyhow::{bail, Context};
use clap::Parser;
use rand::seq::SliceRandom;
use rand::Rng;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The longest run allowed, so a forgotten soak cannot run forever.
const MAX_DURATION_SECS: u64 = 3600;

#[derive(Parser, Clone)]
#[command(about = "Load and soak generator for anpr serve (loopback only)")]
struct Args {
    /// Base URL of the server; must be a loopback address.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    base: String,
    /// A camera's API key (see DEMO-CREDENTIALS.txt).
    #[arg(long, env = "ANPR_CAMERA_KEY")]
    camera_key: String,
    /// How long to run, in seconds (at most 3600).
    #[arg(long, default_value_t = 60)]
    duration_secs: u64,
    /// Target ingest rate, reads per second.
    #[arg(long, default_value_t = 20_000)]
    ingest_rate: u64,
    /// Reads per ingest request.
    #[arg(long, default_value_t = 500)]
    batch: usize,
    /// Ingest requests in flight at most.
    #[arg(long, default_value_t = 8)]
    ingest_concurrency: usize,
    /// Searching users, each searching then thinking for `think_ms`.
    #[arg(long, default_value_t = 100)]
    searchers: usize,
    #[arg(long, default_value_t = 1000)]
    think_ms: u64,
    /// Searching users whose searches are OCR-fuzzy (one edit beyond OCR confusions), each
    /// thinking for `think_ms` too; timed apart from the exact searches.
    #[arg(long, default_value_t = 0)]
    fuzzy_searchers: usize,
    /// Open alert streams (SSE).
    #[arg(long, default_value_t = 200)]
    sse_clients: usize,
    /// Staff who search (a purpose of their district must be valid for them).
    #[arg(long, default_value = "S1001,S1002,S1007", value_delimiter = ',')]
    search_users: Vec<String>,
    /// Staff whose alert streams are held open.
    #[arg(long, default_value = "S1002,S1003,S1007", value_delimiter = ',')]
    alert_users: Vec<String>,
    #[arg(long, env = "ANPR_PASSWORD", default_value = "demo-password-2026")]
    password: String,
    #[arg(long, default_value = "stolen_vehicle")]
    purpose_code: String,
    #[arg(long, default_value = "260101/1234")]
    file_number: String,
    /// A plate to watch: tracking is requested for it as the first alert user, then one
    /// sighting a second is sent and its alert timed from the ingest request to its arrival
    /// on every stream.
    #[arg(long)]
    watch_plate: Option<String>,
    /// The server's process id, to sample its resident memory.
    #[arg(long)]
    server_pid: Option<u32>,
    /// Fail when the server's resident memory grew by more than this (MiB), start to end.
    #[arg(long, default_value_t = 256)]
    max_rss_growth_mib: u64,
    /// The server's SQLite write-ahead logs (`anpr.sqlite-wal` and `anpr-uses.sqlite-wal` in
    /// its data directory), to sample their size together; repeat for each.
    #[arg(long)]
    wal: Vec<std::path::PathBuf>,
    /// A member of staff who may read the server's metrics (an administrator or auditor): at
    /// the end, the time each step of a use took on the server (`anpr_use_stage_seconds`) is
    /// printed beside the client's figures, to show where a slow request spent its time.
    #[arg(long)]
    metrics_user: Option<String>,
}

/// Latencies and errors of one endpoint.
#[derive(Default)]
struct Endpoint {
    latencies_ms: Mutex<Vec<f64>>,
    errors: AtomicU64,
    first_errors: Mutex<Vec<String>>,
}

impl Endpoint {
    fn ok(&self, started: Instant) {
        let ms = started.elapsed().as_secs_f64() * 1000.0;
        self.latencies_ms.lock().unwrap().push(ms);
    }
    fn error(&self, what: String) {
        self.errors.fetch_add(1, Ordering::Relaxed);
        let mut first = self.first_errors.lock().unwrap();
        if first.len() < 5 {
            first.push(what);
        }
    }
    fn count(&self) -> usize {
        self.latencies_ms.lock().unwrap().len()
    }
    fn percentile(&self, p: f64) -> f64 {
        let mut v = self.latencies_ms.lock().unwrap().clone();
        percentile(&mut v, p)
    }
    fn max(&self) -> f64 {
        self.latencies_ms
            .lock()
            .unwrap()
            .iter()
            .copied()
            .fold(0.0, f64::max)
    }
}

fn percentile(v: &mut [f64], p: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(|a, b| a.total_cmp(b));
    let i = ((v.len() - 1) as f64 * p).round() as usize;
    v[i]
}

#[derive(Default)]
struct Stats {
    ingest: Endpoint,
    search: Endpoint,
    fuzzy_search: Endpoint,
    sse_connect: Endpoint,
    sse_stream: Endpoint,
    watch_ingest: Endpoint,
    reads_sent: AtomicU64,
    /// When each watched read's ingest request was sent, by read id.
    watched_sent: Mutex<HashMap<i64, Instant>>,
    /// Alert arrivals on the streams: read id and when.
    alert_arrivals: Mutex<Vec<(i64, Instant)>>,
}

fn check_loopback(base: &str) -> anyhow::Result<()> {
    let rest = base
        .strip_prefix("http://")
        .context("the base URL must be http://<loopback>:<port>")?;
    let host = rest.split('/').next().unwrap_or_default();
    let host = host.rsplit_once(':').map_or(host, |(h, _)| h);
    if !matches!(host, "127.0.0.1" | "localhost" | "[::1]") {
        bail!("anpr-loadgen only drives a server on loopback, not {host}");
    }
    Ok(())
}

fn rss_mib(pid: u32) -> Option<f64> {
    status_mib(pid, "VmRSS:")
}

/// A size in `/proc/PID/status` (`VmRSS:`, `RssAnon:`, `RssFile:`), in MiB.
fn status_mib(pid: u32, key: &str) -> Option<f64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let kb: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix(key))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()?;
    Some(kb / 1024.0)
}

async fn login(http: &reqwest::Client, args: &Args, staff_id: &str) -> anyhow::Result<String> {
    let resp = http
        .post(format!("{}/api/v1/auth/login", args.base))
        .json(&json!({"staff_id": staff_id, "password": args.password}))
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await?;
    v["token"]
        .as_str()
        .map(str::to_string)
        .with_context(|| format!("login of {staff_id}: {status} {v}"))
}

/// A plausible New Zealand plate, `ABC123`.
fn plate(rng: &mut impl Rng) -> String {
    let l = |rng: &mut dyn rand::RngCore| (b'A' + rng.gen_range(0..26u8)) as char;
    let mut s = String::with_capacity(6);
    for _ in 0..3 {
        s.push(l(rng));
    }
    s.push_str(&format!("{:03}", rng.gen_range(0..1000)));
    s
}

/// Ingest bodies made once and sent over and over (reads without an external id are stored
/// each time): the client spends its CPU on sending, not on JSON.
fn ingest_bodies(args: &Args, plates: &[String]) -> Vec<&'static [u8]> {
    let mut rng = rand::thread_rng();
    let captured = (chrono::Utc::now() - chrono::Duration::minutes(45)).to_rfc3339();
    (0..32)
        .map(|_| {
            let reads: Vec<Value> = (0..args.batch)
                .map(|_| {
                    json!({"plate": plates.choose(&mut rng).unwrap(), "captured_at": captured,
                           "confidence": rng.gen_range(0.5..1.0)})
                })
                .collect();
            bytes_of(serde_json::to_vec(&json!({ "reads": reads })).unwrap())
        })
        .collect()
}

fn bytes_of(v: Vec<u8>) -> &'static [u8] {
    // Leaked on purpose: 32 bodies for the life of the process, shared without copies.
    Box::leak(v.into_boxed_slice())
}

async fn ingest_worker(
    http: reqwest::Client,
    args: Arc<Args>,
    bodies: Arc<Vec<&'static [u8]>>,
    ticks: Arc<tokio::sync::Mutex<tokio::sync::mpsc::Receiver<()>>>,
    stats: Arc<Stats>,
) {
    let url = format!("{}/api/v1/reads:batch", args.base);
    let mut i = 0usize;
    loop {
        let tick = ticks.lock().await.recv().await;
        if tick.is_none() {
            return;
        }
        let body = bodies[i % bodies.len()];
        i += 1;
        let started = Instant::now();
        let sent = http
            .post(&url)
            .bearer_auth(&args.camera_key)
            .header("content-type", "application/json")
            .body(body)
            .send()
            .await;
        match sent {
            Ok(r) if r.status() == 201 => {
                let _ = r.bytes().await;
                stats.ingest.ok(started);
                stats
                    .reads_sent
                    .fetch_add(args.batch as u64, Ordering::Relaxed);
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                stats.ingest.error(format!("{status} {text}"));
            }
            Err(e) => stats.ingest.error(e.to_string()),
        }
    }
}

/// How a searcher asks about a plate.
#[derive(Clone, Copy)]
enum SearchKind {
    Exact,
    /// OCR-fuzzy, one edit allowed beyond the OCR confusions.
    Fuzzy,
}

async fn searcher(
    http: reqwest::Client,
    args: Arc<Args>,
    token: String,
    plates: Arc<Vec<String>>,
    kind: SearchKind,
    deadline: Instant,
    stats: Arc<Stats>,
) {
    let url = format!("{}/api/v1/searches", args.base);
    let timed = match kind {
        SearchKind::Exact => &stats.search,
        SearchKind::Fuzzy => &stats.fuzzy_search,
    };
    // Users do not all start in the same millisecond.
    let jitter = rand::thread_rng().gen_range(0..args.think_ms.max(1));
    tokio::time::sleep(Duration::from_millis(jitter)).await;
    while Instant::now() < deadline {
        let plate = plates.choose(&mut rand::thread_rng()).unwrap().clone();
        let mut body = json!({"plate": plate, "purpose": {
            "code": args.purpose_code, "file_number": args.file_number,
            "justification": "Soak test: vehicle of interest seen near the scene"}});
        if let SearchKind::Fuzzy = kind {
            body["mode"] = json!("fuzzy");
            body["max_edits"] = json!(1);
        }
        let started = Instant::now();
        match http.post(&url).bearer_auth(&token).json(&body).send().await {
            Ok(r) if r.status() == 200 => {
                let _ = r.bytes().await;
                timed.ok(started);
            }
            Ok(r) => {
                let status = r.status();
                let text = r.text().await.unwrap_or_default();
                timed.error(format!("{status} {text}"));
            }
            Err(e) => timed.error(e.to_string()),
        }
        tokio::time::sleep(Duration::from_millis(args.think_ms)).await;
    }
}

async fn sse_client(
    http: reqwest::Client,
    args: Arc<Args>,
    token: String,
    deadline: Instant,
    stats: Arc<Stats>,
) {
    let started = Instant::now();
    let resp = http
        .get(format!("{}/api/v1/alerts/stream", args.base))
        .bearer_auth(&token)
        .send()
        .await;
    let mut resp = match resp {
        Ok(r) if r.status() == 200 => r,
        Ok(r) => return stats.sse_connect.error(format!("{}", r.status())),
        Err(e) => return stats.sse_connect.error(e.to_string()),
    };
    stats.sse_connect.ok(started);
    let mut buf = String::new();
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        match tokio::time::timeout(left, resp.chunk()).await {
            Err(_) => return,
            Ok(Ok(Some(chunk))) => {
                let now = Instant::now();
                buf.push_str(&String::from_utf8_lossy(&chunk));
                while let Some(end) = buf.find("\n\n") {
                    let block: String = buf.drain(..end + 2).collect();
                    for line in block.lines() {
                        if let Some(data) = line.strip_prefix("data:") {
                            if let Ok(v) = serde_json::from_str::<Value>(data.trim()) {
                                if let Some(read_id) = v["read_id"].as_i64() {
                                    stats.alert_arrivals.lock().unwrap().push((read_id, now));
                                }
                            }
                        }
                    }
                }
            }
            Ok(Ok(None)) => return stats.sse_stream.error("the server ended the stream".into()),
            Ok(Err(e)) => return stats.sse_stream.error(e.to_string()),
        }
    }
}

/// One sighting of the watched plate a second, for the alert latency.
async fn watched_sightings(
    http: reqwest::Client,
    args: Arc<Args>,
    plate: String,
    deadline: Instant,
    stats: Arc<Stats>,
) {
    let url = format!("{}/api/v1/reads", args.base);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    // Leave the streams time to connect.
    tokio::time::sleep(Duration::from_secs(2)).await;
    while Instant::now() + Duration::from_secs(2) < deadline {
        tick.tick().await;
        let body = json!({"plate": plate, "captured_at": chrono::Utc::now().to_rfc3339(),
                          "confidence": 0.95});
        let started = Instant::now();
        match http
            .post(&url)
            .bearer_auth(&args.camera_key)
            .json(&body)
            .send()
            .await
        {
            Ok(r) if r.status() == 201 => {
                stats.watch_ingest.ok(started);
                if let Ok(v) = r.json::<Value>().await {
                    if let Some(id) = v["id"].as_i64() {
                        stats.watched_sent.lock().unwrap().insert(id, started);
                    }
                }
            }
            Ok(r) => stats.watch_ingest.error(format!("{}", r.status())),
            Err(e) => stats.watch_ingest.error(e.to_string()),
        }
    }
}

/// Asks for tracking of `plate` as the first alert user (active at once on a stolen-vehicle
/// basis); an authorisation already active for it is fine.
async fn start_watch(
    http: &reqwest::Client,
    args: &Args,
    token: &str,
    plate: &str,
) -> anyhow::Result<()> {
    let resp = http
        .post(format!("{}/api/v1/tracking", args.base))
        .bearer_auth(token)
        .json(&json!({"plate": plate, "purpose": {
            "code": args.purpose_code, "file_number": args.file_number,
            "justification": "Soak test: stolen vehicle to be found"}}))
        .send()
        .await?;
    let status = resp.status();
    let v: Value = resp.json().await?;
    if !(status == 201 && v["status"] == "active" || status == 409) {
        bail!("tracking {plate} was not granted: {status} {v}");
    }
    Ok(())
}

/// The write-ahead logs' size on disk together (a missing one counts 0).
fn wal_bytes(wal: &[std::path::PathBuf]) -> u64 {
    wal.iter()
        .filter_map(|w| std::fs::metadata(w).ok())
        .map(|m| m.len())
        .sum()
}

/// The server's per-step timings: for each stage, its count, mean and p50/p99 read off the
/// histogram's buckets (each quantile is the upper bound of the bucket it falls in).
async fn print_stage_profile(
    http: &reqwest::Client,
    args: &Args,
    staff_id: &str,
) -> anyhow::Result<()> {
    let token = login(http, args, staff_id).await?;
    let text = http
        .get(format!("{}/metrics", args.base))
        .bearer_auth(token)
        .send()
        .await?
        .error_for_status()?
        .text()
        .await?;
    // Of the server's memory, what SQLite holds (its page caches bounded by its heap limit).
    if let Some(bytes) = text
        .lines()
        .find_map(|l| l.strip_prefix("anpr_sqlite_memory_bytes "))
        .and_then(|v| v.trim().parse::<f64>().ok())
    {
        bench(
            "soak_server_sqlite_memory_end_mib",
            format!("{:.0}", bytes / (1 << 20) as f64),
            "MiB",
        );
    }
    for (stage, profile) in stage_profiles(&text) {
        let total = profile.count.max(1) as f64;
        bench(&format!("soak_stage_{stage}_count"), profile.count, "uses");
        bench(
            &format!("soak_stage_{stage}_mean_ms"),
            format!("{:.2}", profile.sum_s * 1000.0 / total),
            "ms",
        );
        for (name, q) in [("p50", 0.5), ("p99", 0.99)] {
            bench(
                &format!("soak_stage_{stage}_{name}_le_ms"),
                format!("{:.2}", profile.quantile_le(q) * 1000.0),
                "ms",
            );
        }
    }
    Ok(())
}

#[derive(Default)]
struct StageProfile {
    /// (upper bound in seconds, cumulative count), in order.
    buckets: Vec<(f64, u64)>,
    sum_s: f64,
    count: u64,
}

impl StageProfile {
    fn quantile_le(&self, q: f64) -> f64 {
        let wanted = (q * self.count as f64).ceil() as u64;
        self.buckets
            .iter()
            .find(|(_, n)| *n >= wanted)
            .map_or(f64::INFINITY, |(le, _)| *le)
    }
}

/// Parses `anpr_use_stage_seconds` out of OpenMetrics text.
fn stage_profiles(text: &str) -> std::collections::BTreeMap<String, StageProfile> {
    let mut out: std::collections::BTreeMap<String, StageProfile> = Default::default();
    for line in text.lines() {
        let Some(rest) = line.strip_prefix("anpr_use_stage_seconds_") else {
            continue;
        };
        let Some((series, value)) = rest.rsplit_once(' ') else {
            continue;
        };
        let label = |name: &str| {
            let start = series.find(&format!("{name}=\""))? + name.len() + 2;
            let end = series[start..].find('"')? + start;
            Some(series[start..end].to_string())
        };
        let Some(stage) = label("stage") else {
            continue;
        };
        let profile = out.entry(stage.to_lowercase()).or_default();
        let value: f64 = value.parse().unwrap_or(0.0);
        if series.starts_with("bucket") {
            let le = label("le").map_or(f64::INFINITY, |l| l.parse().unwrap_or(f64::INFINITY));
            profile.buckets.push((le, value as u64));
        } else if series.starts_with("sum") {
            profile.sum_s = value;
        } else if series.starts_with("count") {
            profile.count = value as u64;
        }
    }
    out
}

fn bench(name: &str, value: impl std::fmt::Display, unit: &str) {
    println!("bench: {name} {value} {unit}");
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    check_loopback(&args.base)?;
    if args.duration_secs == 0 || args.duration_secs > MAX_DURATION_SECS {
        bail!("--duration-secs must be 1..={MAX_DURATION_SECS}");
    }
    if args.batch == 0 || args.ingest_rate == 0 {
        bail!("--batch and --ingest-rate must be positive");
    }
    let args = Arc::new(args);
    let stats = Arc::new(Stats::default());
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .pool_max_idle_per_host(args.ingest_concurrency + args.searchers + args.fuzzy_searchers)
        .build()?;
    let streams = reqwest::Client::builder()
        .pool_max_idle_per_host(0)
        .build()?;

    let mut search_tokens = Vec::new();
    for u in &args.search_users {
        search_tokens.push(login(&http, &args, u).await?);
    }
    let mut alert_tokens = Vec::new();
    for u in &args.alert_users {
        alert_tokens.push(login(&http, &args, u).await?);
    }
    if let Some(plate) = &args.watch_plate {
        start_watch(&http, &args, &alert_tokens[0], plate).await?;
    }
    let mut rng = rand::thread_rng();
    let plates: Arc<Vec<String>> = Arc::new((0..50_000).map(|_| plate(&mut rng)).collect());
    let bodies = Arc::new(ingest_bodies(&args, &plates));

    let rss_start = args.server_pid.and_then(rss_mib);
    let started = Instant::now();
    let deadline = started + Duration::from_secs(args.duration_secs);
    let mut tasks = Vec::new();

    for i in 0..args.sse_clients {
        let token = alert_tokens[i % alert_tokens.len()].clone();
        // Streams stay open a little past the end, for the alerts of the last sightings.
        tasks.push(tokio::spawn(sse_client(
            streams.clone(),
            args.clone(),
            token,
            deadline + Duration::from_secs(5),
            stats.clone(),
        )));
    }
    let searchers = std::iter::repeat_n(SearchKind::Exact, args.searchers)
        .chain(std::iter::repeat_n(SearchKind::Fuzzy, args.fuzzy_searchers));
    for (i, kind) in searchers.enumerate() {
        let token = search_tokens[i % search_tokens.len()].clone();
        tasks.push(tokio::spawn(searcher(
            http.clone(),
            args.clone(),
            token,
            plates.clone(),
            kind,
            deadline,
            stats.clone(),
        )));
    }
    if let Some(plate) = args.watch_plate.clone() {
        tasks.push(tokio::spawn(watched_sightings(
            http.clone(),
            args.clone(),
            plate,
            deadline,
            stats.clone(),
        )));
    }
    // The pacer releases one batch per interval; if every worker is busy it waits, and the
    // batches it could not release go out as soon as a worker is free, as a camera fleet's
    // queues would send them after a stall. The achieved rate is what the server sustained on
    // average, never more than the target.
    let (tx, rx) = tokio::sync::mpsc::channel::<()>(args.ingest_concurrency);
    let rx = Arc::new(tokio::sync::Mutex::new(rx));
    let mut workers = Vec::new();
    for _ in 0..args.ingest_concurrency {
        workers.push(tokio::spawn(ingest_worker(
            http.clone(),
            args.clone(),
            bodies.clone(),
            rx.clone(),
            stats.clone(),
        )));
    }
    let pacer = {
        let args = args.clone();
        tokio::spawn(async move {
            let period = Duration::from_secs_f64(args.batch as f64 / args.ingest_rate as f64);
            let mut tick = tokio::time::interval(period);
            tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
            while Instant::now() < deadline {
                tick.tick().await;
                if tx.send(()).await.is_err() {
                    return;
                }
            }
        })
    };
    let rss_peak = Arc::new(Mutex::new(rss_start.unwrap_or(0.0)));
    // The first minute fills caches and pools: growth after it is what a bound must hold.
    let rss_at_one_minute = Arc::new(Mutex::new(None::<f64>));
    let wal_peak = Arc::new(Mutex::new(0u64));
    let sampler = {
        let (pid, peak) = (args.server_pid, rss_peak.clone());
        let (at_minute, wal_peak, wal) = (
            rss_at_one_minute.clone(),
            wal_peak.clone(),
            args.wal.clone(),
        );
        tokio::spawn(async move {
            let mut tick = tokio::time::interval(Duration::from_millis(500));
            loop {
                tick.tick().await;
                if let Some(mib) = pid.and_then(rss_mib) {
                    let mut p = peak.lock().unwrap();
                    *p = p.max(mib);
                    if started.elapsed() >= Duration::from_secs(60) {
                        at_minute.lock().unwrap().get_or_insert(mib);
                    }
                }
                let len = wal_bytes(&wal);
                let mut p = wal_peak.lock().unwrap();
                *p = (*p).max(len);
            }
        })
    };

    pacer.await?;
    for w in workers {
        w.await?;
    }
    let ingest_elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        t.await?;
    }
    sampler.abort();
    let rss_end = args.server_pid.and_then(rss_mib);

    let d = args.duration_secs;
    bench("soak_duration_s", d, "s");
    bench(
        "soak_ingest_target_reads_per_s",
        args.ingest_rate,
        "reads/s",
    );
    let reads = stats.reads_sent.load(Ordering::Relaxed);
    bench(
        "soak_ingest_reads_per_s",
        format!("{:.0}", reads as f64 / ingest_elapsed),
        "reads/s",
    );
    bench("soak_ingest_reads_total", reads, "reads");
    for (name, e) in [
        ("ingest_batch", &stats.ingest),
        ("search", &stats.search),
        ("fuzzy_search", &stats.fuzzy_search),
        ("sse_connect", &stats.sse_connect),
        ("ingest_watched", &stats.watch_ingest),
    ] {
        if name == "fuzzy_search" && args.fuzzy_searchers == 0 {
            continue;
        }
        bench(&format!("soak_{name}_requests"), e.count(), "requests");
        bench(
            &format!("soak_{name}_p50_ms"),
            format!("{:.2}", e.percentile(0.5)),
            "ms",
        );
        bench(
            &format!("soak_{name}_p90_ms"),
            format!("{:.2}", e.percentile(0.9)),
            "ms",
        );
        bench(
            &format!("soak_{name}_p99_ms"),
            format!("{:.2}", e.percentile(0.99)),
            "ms",
        );
        bench(
            &format!("soak_{name}_max_ms"),
            format!("{:.2}", e.max()),
            "ms",
        );
    }
    bench(
        "soak_search_per_s",
        format!("{:.1}", stats.search.count() as f64 / d as f64),
        "searches/s",
    );
    bench("soak_sse_clients", stats.sse_connect.count(), "clients");
    let arrivals = stats.alert_arrivals.lock().unwrap().clone();
    let sent = stats.watched_sent.lock().unwrap().clone();
    let mut latencies: Vec<f64> = arrivals
        .iter()
        .filter_map(|(id, at)| {
            sent.get(id)
                .map(|s| at.saturating_duration_since(*s).as_secs_f64() * 1000.0)
        })
        .collect();
    let expected = sent.len() * stats.sse_connect.count();
    if args.watch_plate.is_some() {
        bench("soak_alerts_raised", sent.len(), "alerts");
        bench("soak_alert_deliveries", latencies.len(), "deliveries");
        bench("soak_alert_deliveries_expected", expected, "deliveries");
        bench(
            "soak_alert_latency_p50_ms",
            format!("{:.2}", percentile(&mut latencies, 0.5)),
            "ms",
        );
        bench(
            "soak_alert_latency_p99_ms",
            format!("{:.2}", percentile(&mut latencies, 0.99)),
            "ms",
        );
    }
    let mut errors = 0;
    for (name, e) in [
        ("ingest", &stats.ingest),
        ("search", &stats.search),
        ("fuzzy_search", &stats.fuzzy_search),
        ("sse_connect", &stats.sse_connect),
        ("sse_stream", &stats.sse_stream),
        ("ingest_watched", &stats.watch_ingest),
    ] {
        let n = e.errors.load(Ordering::Relaxed);
        errors += n;
        for first in e.first_errors.lock().unwrap().iter() {
            eprintln!("{name} error: {first}");
        }
    }
    bench("soak_errors", errors, "errors");
    let mut failed = errors > 0;
    if args.watch_plate.is_some() && latencies.len() < expected {
        eprintln!(
            "{} of {expected} alert deliveries did not arrive",
            expected - latencies.len()
        );
        failed = true;
    }
    if let (Some(a), Some(b)) = (rss_start, rss_end) {
        bench("soak_server_rss_start_mib", format!("{a:.0}"), "MiB");
        bench("soak_server_rss_end_mib", format!("{b:.0}"), "MiB");
        bench(
            "soak_server_rss_peak_mib",
            format!("{:.0}", *rss_peak.lock().unwrap()),
            "MiB",
        );
        bench("soak_server_rss_growth_mib", format!("{:.0}", b - a), "MiB");
        // What the resident memory is made of at the end: the heap and caches (anonymous), and
        // pages of mapped files (the binary, a memory-mapped database), which the kernel may
        // drop at will.
        if let Some(pid) = args.server_pid {
            for (name, key) in [("anon", "RssAnon:"), ("file", "RssFile:")] {
                if let Some(m) = status_mib(pid, key) {
                    bench(
                        &format!("soak_server_rss_{name}_end_mib"),
                        format!("{m:.0}"),
                        "MiB",
                    );
                }
            }
        }
        if let Some(m) = *rss_at_one_minute.lock().unwrap() {
            bench(
                "soak_server_rss_growth_after_first_minute_mib",
                format!("{:.0}", b - m),
                "MiB",
            );
        }
        if b - a > args.max_rss_growth_mib as f64 {
            eprintln!(
                "the server's memory grew by {:.0} MiB, over the {} MiB bound",
                b - a,
                args.max_rss_growth_mib
            );
            failed = true;
        }
    }
    if let Some(staff_id) = &args.metrics_user {
        if let Err(e) = print_stage_profile(&http, &args, staff_id).await {
            eprintln!("the server's step timings could not be read: {e:#}");
        }
    }
    if !args.wal.is_empty() {
        let end = wal_bytes(&args.wal);
        let mib = |b: u64| format!("{:.0}", b as f64 / (1024.0 * 1024.0));
        bench("soak_wal_peak_mib", mib(*wal_peak.lock().unwrap()), "MiB");
        bench("soak_wal_end_mib", mib(end), "MiB");
    }
    if failed {
        std::process::exit(1);
    }
    Ok(())
}

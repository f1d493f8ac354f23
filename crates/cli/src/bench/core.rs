//! `anpr bench core`: the core platform at national scale.
//!
//! 1. Bulk-loads N synthetic reads (default 10 million, 500,000 distinct plates, 60 days) into a
//!    fresh embedded deployment through the store.
//! 2. Starts `anpr serve` on it as a child process, so its memory can be measured alone.
//! 3. Ingests through the HTTP API in batches, without and with a 30 KB plate crop per read.
//! 4. Times exact, wildcard and OCR-fuzzy searches through the HTTP API (`api_search_*`: session,
//!    policy, decision record and ledger entry; each query cold, then warm), then the same
//!    queries against the search engine alone (`store_search_*`), and the first few of each
//!    kind done the naive way (`like_scan_*`: `LIKE` scans of every read), kind against kind.
//!    Refusals and errors are counted, never timed.

use super::figure;
use super::stats::Samples;
use crate::seed::{self, ImagePlan};
use anpr_domain::Role;
use anpr_store::NewUser;
use anpr_synth::catalog::{demo_catalog, DEMO_SEED};
use anpr_synth::plates::plate_population;
use anpr_synth::reads::SightingSpec;
use anpr_synth::render::{jpeg_with_comment, render_plate_crop_sized};
use chrono::{DateTime, Duration, Utc};
use clap::Args;
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

#[derive(Args)]
pub struct CoreArgs {
    /// Reads loaded before measuring.
    #[arg(long, default_value_t = 10_000_000)]
    reads: u64,
    /// Distinct plates (default: reads / 20).
    #[arg(long)]
    plates: Option<u64>,
    /// Reads ingested through HTTP without images.
    #[arg(long, default_value_t = 500_000)]
    http_reads: u64,
    /// Reads ingested through HTTP with a 30 KB plate crop each.
    #[arg(long, default_value_t = 20_000)]
    image_reads: u64,
    /// Searches timed per mode.
    #[arg(long, default_value_t = 500)]
    queries: usize,
    /// Concurrent HTTP clients for ingestion.
    #[arg(long, default_value_t = 4)]
    clients: usize,
    /// Directory for the deployment (default: a temporary one under the current directory).
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Keep the deployment afterwards.
    #[arg(long)]
    keep: bool,
    /// With `--database-url`: run on the embedded SQLite store first, then on PostgreSQL, and
    /// print each figure's ratio PostgreSQL / SQLite.
    #[arg(long)]
    compare_sqlite: bool,
}

const PASSWORD: &str = "bench-password-123";

pub(super) struct ServerProcess(pub(super) Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl ServerProcess {
    pub(super) fn proc(&self) -> super::process::Proc {
        super::process::Proc::of(self.0.id())
    }

    fn peak_rss_mib(&self) -> anyhow::Result<f64> {
        self.status_mib("VmHWM:")
    }

    fn rss_mib(&self) -> anyhow::Result<f64> {
        self.status_mib("VmRSS:")
    }

    fn status_mib(&self, field: &str) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.0.id()))?;
        let kib: f64 = status
            .lines()
            .find_map(|l| l.strip_prefix(field))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .ok_or_else(|| anyhow::anyhow!("no VmHWM in /proc status"))?;
        Ok(kib / 1024.0)
    }
}

/// Figures of one run, printed as they are measured (with the run's prefix) and kept for the
/// comparison.
struct Figures {
    prefix: &'static str,
    measured: Vec<(String, f64, String)>,
}

impl Figures {
    fn put(&mut self, name: &str, value: f64, unit: &str) {
        figure(&format!("{}{name}", self.prefix), value, unit);
        self.measured
            .push((name.to_string(), value, unit.to_string()));
    }
}

/// A database created for one benchmark run on the PostgreSQL server of `--database-url`,
/// dropped afterwards unless kept.
pub(super) struct BenchDatabase {
    admin: tokio_postgres::Config,
    name: String,
    pub(super) url: String,
    keep: bool,
}

impl BenchDatabase {
    pub(super) async fn create(server_url: &str, keep: bool) -> anyhow::Result<Self> {
        let admin: tokio_postgres::Config = server_url.parse()?;
        let name = format!("anpr_bench_{}", std::process::id());
        admin_sql(
            &admin,
            &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
        )
        .await?;
        admin_sql(&admin, &format!("CREATE DATABASE {name}")).await?;
        // The same server and credentials, another database.
        let base = server_url.split('?').next().unwrap_or(server_url);
        let url = match base.rfind('/') {
            Some(i) if i > base.find("//").map_or(0, |j| j + 1) => {
                format!("{}/{name}", &base[..i])
            }
            _ => format!("{base}/{name}"),
        };
        Ok(BenchDatabase {
            admin,
            name,
            url,
            keep,
        })
    }

    pub(super) async fn drop_now(self) -> anyhow::Result<()> {
        if self.keep {
            eprintln!("--keep: the PostgreSQL database {} stays", self.name);
            return Ok(());
        }
        admin_sql(
            &self.admin,
            &format!("DROP DATABASE IF EXISTS {} WITH (FORCE)", self.name),
        )
        .await
    }
}

async fn admin_sql(admin: &tokio_postgres::Config, sql: &str) -> anyhow::Result<()> {
    let (client, conn) = admin.connect(tokio_postgres::NoTls).await?;
    let task = tokio::spawn(conn);
    client.batch_execute(sql).await?;
    drop(client);
    let _ = task.await;
    Ok(())
}

pub async fn run(args: CoreArgs) -> anyhow::Result<()> {
    let Some(server_url) = crate::commands::database_url() else {
        run_once(&args, None, "").await?;
        return Ok(());
    };
    let sqlite = if args.compare_sqlite {
        Some(run_once(&args, None, "sqlite_").await?)
    } else {
        None
    };
    let db = BenchDatabase::create(server_url, args.keep).await?;
    let prefix = if sqlite.is_some() { "postgres_" } else { "" };
    let pg = run_once(&args, Some(&db.url), prefix).await;
    db.drop_now().await?;
    let pg = pg?;
    if let Some(sqlite) = sqlite {
        for ((name, pg_value, _), (_, sqlite_value, _)) in pg.measured.iter().zip(&sqlite.measured)
        {
            if *sqlite_value > 0.0 {
                figure(
                    &format!("postgres_over_sqlite_{name}"),
                    pg_value / sqlite_value,
                    "x",
                );
            }
        }
    }
    Ok(())
}

async fn run_once(
    args: &CoreArgs,
    database_url: Option<&str>,
    prefix: &'static str,
) -> anyhow::Result<Figures> {
    let mut figures = Figures {
        prefix,
        measured: Vec::new(),
    };
    let open = |dir: std::path::PathBuf| async move {
        anpr_server::AppState::open(&dir, database_url, anpr_server::ServerConfig::default()).await
    };
    let mut tmp = None;
    let dir = match &args.dir {
        // Each run of a comparison in its own directory.
        Some(d) if !prefix.is_empty() => d.join(prefix.trim_end_matches('_')),
        Some(d) => d.clone(),
        None => {
            let t = tempfile::Builder::new()
                .prefix("anpr-bench-core-")
                .tempdir_in(".")?;
            let path = t.path().to_path_buf();
            tmp = Some(t);
            path
        }
    };
    let plates = args.plates.unwrap_or((args.reads / 20).max(1000));
    eprintln!(
        "bench core: {} reads of {} plates over 60 days in {} on {}",
        args.reads,
        plates,
        dir.display(),
        if database_url.is_some() {
            "PostgreSQL"
        } else {
            "SQLite"
        }
    );

    // 1. Bulk load.
    let mut catalog = demo_catalog();
    for n in &mut catalog.networks {
        n.retention_days = 365; // the whole 60-day window stays while we measure
    }
    let population = plate_population(plates as usize, DEMO_SEED);
    let camera_keys;
    {
        let state = open(dir.clone()).await?;
        let seeded = seed::seed_catalog(&state, &catalog).await?;
        camera_keys = seeded.camera_keys.clone();
        state
            .store
            .create_user(NewUser {
                staff_id: "BENCH1".into(),
                name: "Bench Searcher".into(),
                badge_number: None,
                district: "Wellington".into(),
                roles: vec![Role::Searcher],
                password_hash: anpr_app::auth::hash_secret(PASSWORD)?,
                network_id: None,
            })
            .await?;
        // The access policy checks the searcher and the file number against the registers.
        super::access::seed_bench_searcher(&state, "BENCH1", "BENCH/1", "Wellington").await?;
        let spec = SightingSpec::new(
            seeded.camera_ids.len(),
            Utc::now() - Duration::days(60),
            60,
            args.reads,
            DEMO_SEED,
        )
        .with_camera_places(catalog.camera_places());
        let bar = indicatif::ProgressBar::new(args.reads);
        bar.set_style(indicatif::ProgressStyle::with_template(
            "bulk load {bar:40} {pos}/{len} ({per_sec}, eta {eta})",
        )?);
        let started = Instant::now();
        seed::load_sightings(
            &state,
            &seeded.camera_ids,
            &spec,
            &population,
            ImagePlan {
                crop_bytes: None,
                overview_every: 0,
            },
            20_000,
            |n| bar.set_position(n),
        )
        .await?;
        bar.finish_and_clear();
        figures.put(
            "bulk_load_reads_per_s",
            args.reads as f64 / started.elapsed().as_secs_f64(),
            "reads/s",
        );
    }

    // 2. The server, alone in its process.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0")?;
        l.local_addr()?.port()
    };
    let mut command = Command::new(std::env::current_exe()?);
    command.env_remove("ANPR_DATABASE_URL");
    if let Some(url) = database_url {
        command.args(["--database-url", url]);
    }
    let server = ServerProcess(
        command
            .args(["--data", dir.to_str().unwrap_or("."), "serve"])
            .args(["--listen", &format!("127.0.0.1:{port}")])
            .args(["--purge-every-minutes", "100000"])
            // Thousands of searches by one user: lift the policy's rate limits.
            .args(["--policy", &super::access::unlimited_policy_file(&dir)?])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()?;
    wait_healthy(&http, &base).await?;
    let token = login(&http, &base).await?;
    eprintln!("serve RSS after start: {:.0} MiB", server.rss_mib()?);

    // 3. Ingest through HTTP.
    let rate = ingest_json(&http, &base, &camera_keys, &population, args).await?;
    figures.put("ingest_reads_per_s", rate, "reads/s");
    let http_ingest_rate = rate;
    eprintln!("serve RSS after JSON ingest: {:.0} MiB", server.rss_mib()?);
    if std::env::var_os("ANPR_BENCH_SMAPS").is_some() {
        eprintln!(
            "{}",
            std::fs::read_to_string(format!("/proc/{}/smaps_rollup", server.0.id()))?
        );
        eprintln!(
            "{}",
            std::fs::read_to_string(format!("/proc/{}/status", server.0.id()))?
        );
    }
    let rate = ingest_images(&http, &base, &camera_keys, &population, args).await?;
    figures.put("ingest_with_image_reads_per_s", rate, "reads/s");
    eprintln!("serve RSS after image ingest: {:.0} MiB", server.rss_mib()?);

    // 4. Searches.
    let mut rng = rand::rngs::StdRng::seed_from_u64(7);
    let pick =
        |rng: &mut rand::rngs::StdRng| population[rng.gen_range(0..population.len())].clone();
    // The same queries twice: through the HTTP API as an officer makes them (session check,
    // access policy, decision record, durable audit-ledger entry before the answer), and
    // against the search engine alone (the store, in this process), as the baseline below is.
    let exact_plates: Vec<String> = (0..args.queries).map(|_| pick(&mut rng)).collect();
    let wildcard_patterns: Vec<String> = (0..args.queries)
        .map(|_| wildcard_of(&pick(&mut rng)))
        .collect();
    let fuzzy_plates: Vec<String> = (0..args.queries)
        .map(|_| misread(&pick(&mut rng), &mut rng))
        .collect();
    let names = ["exact", "wildcard", "fuzzy"];
    let bodies: [Vec<Value>; 3] = [
        exact_plates.iter().map(|p| json!({"plate": p})).collect(),
        wildcard_patterns
            .iter()
            .map(|p| json!({"plate": p}))
            .collect(),
        fuzzy_plates
            .iter()
            .map(|p| json!({"plate": p, "mode": "fuzzy", "max_edits": 1}))
            .collect(),
    ];
    // Each query twice through the API: the first time cold (its pages not yet read by this
    // server), then warm. A refusal (a pattern broader than the search limit) is counted,
    // never timed.
    for (pass, suffix) in [("cold", ""), ("warm", "_warm")] {
        for (i, kind) in bodies.iter().enumerate() {
            let mut samples = Samples::new();
            let mut refused = 0u64;
            for body in kind {
                match timed_search(&http, &base, &token, body.clone()).await? {
                    Some(took) => samples.push(took),
                    None => refused += 1,
                }
            }
            let name = names[i];
            figures.put(
                &format!("api_search_{name}{suffix}_p50_ms"),
                samples.percentile_ms(50.0),
                "ms",
            );
            figures.put(
                &format!("api_search_{name}{suffix}_p99_ms"),
                samples.percentile_ms(99.0),
                "ms",
            );
            if pass == "cold" {
                figures.put(
                    &format!("api_search_{name}_refused"),
                    refused as f64,
                    "requests",
                );
            }
        }
    }

    // The search engine alone (the store, in this process, no policy or ledger): named
    // store_search_*. Then the naive way, a LIKE scan of every read, for the first queries of
    // each kind: exact against exact, wildcard against wildcard, fuzzy against fuzzy.
    let state = open(dir.clone()).await?;
    let modes = [
        (&exact_plates, None, None),
        (&wildcard_patterns, None, None),
        (
            &fuzzy_plates,
            Some(anpr_domain::query::MatchMode::Fuzzy),
            Some(1),
        ),
    ];
    let (mut store_errors, mut store_refused) = (0u64, 0u64);
    for (i, (plates, mode, edits)) in modes.into_iter().enumerate() {
        let mut store = Samples::new();
        let mut store_first = Samples::new();
        let mut like = Samples::new();
        for (n, p) in plates.iter().enumerate() {
            // A pattern the API refused (too short for a fuzzy search) is refused here too:
            // counted, not timed, as above.
            let Ok(pattern) = anpr_domain::PlatePattern::parse(p, mode, edits) else {
                store_refused += 1;
                continue;
            };
            let query = anpr_domain::SearchQuery::for_plate(pattern);
            let started = Instant::now();
            let answer = state.store.search(&query).await;
            let took = started.elapsed();
            if answer.is_err() {
                store_errors += 1;
                continue;
            }
            store.push(took);
            if n < LIKE_QUERIES {
                store_first.push(took);
                like.push(like_scan(&state, p, i == 2).await?);
            }
        }
        let name = names[i];
        figures.put(
            &format!("store_search_{name}_p50_ms"),
            store.percentile_ms(50.0),
            "ms",
        );
        figures.put(
            &format!("store_search_{name}_p99_ms"),
            store.percentile_ms(99.0),
            "ms",
        );
        let like_p50 = like.percentile_ms(50.0);
        figures.put(&format!("like_scan_{name}_p50_ms"), like_p50, "ms");
        figures.put(
            &format!("store_search_{name}_speedup_vs_like"),
            like_p50 / store_first.percentile_ms(50.0),
            "x",
        );
    }
    figures.put("store_search_errors", store_errors as f64, "errors");
    figures.put("store_search_refused", store_refused as f64, "queries");
    figures.put("serve_peak_rss_mib", server.peak_rss_mib()?, "MiB");
    drop(server);

    // What HTTP ingest costs over the database's own limit: the same rows inserted in the
    // same batches into the same file by the store alone (no HTTP, parsing, policy or ledger),
    // once the server has stopped.
    let raw_rate = raw_insert_rate(&state, &camera_keys, &population, args).await?;
    figures.put("raw_insert_reads_per_s", raw_rate, "reads/s");
    figures.put("ingest_limit_ratio", http_ingest_rate / raw_rate, "x");
    if args.keep {
        if let Some(t) = tmp.take() {
            eprintln!("--keep: the deployment stays in {}", t.keep().display());
        }
    }
    Ok(figures)
}

pub(super) async fn wait_healthy(http: &reqwest::Client, base: &str) -> anyhow::Result<()> {
    for _ in 0..600 {
        if let Ok(r) = http.get(format!("{base}/healthz")).send().await {
            if r.status().is_success() {
                return Ok(());
            }
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    anyhow::bail!("the server did not become healthy within 60 s")
}

async fn login(http: &reqwest::Client, base: &str) -> anyhow::Result<String> {
    let resp: Value = http
        .post(format!("{base}/api/v1/auth/login"))
        .json(&json!({"staff_id": "BENCH1", "password": PASSWORD}))
        .send()
        .await?
        .error_for_status()?
        .json()
        .await?;
    Ok(resp["token"].as_str().unwrap_or_default().to_string())
}

/// `ABC123` becomes `AB?12*`: two known characters, one unknown, two known, then anything.
fn wildcard_of(plate: &str) -> String {
    let c: Vec<char> = plate.chars().collect();
    if c.len() < 5 {
        return format!("{}*", &plate[..2.min(plate.len())]);
    }
    format!("{}{}?{}{}*", c[0], c[1], c[3], c[4])
}

/// The plate as a camera might misread it: one confusable character swapped.
fn misread(plate: &str, rng: &mut impl Rng) -> String {
    let swaps = [
        ('0', 'O'),
        ('O', '0'),
        ('1', 'I'),
        ('I', '1'),
        ('8', 'B'),
        ('B', '8'),
        ('5', 'S'),
        ('S', '5'),
        ('2', 'Z'),
        ('Z', '2'),
    ];
    let mut chars: Vec<char> = plate.chars().collect();
    let i = rng.gen_range(0..chars.len());
    chars[i] = swaps
        .iter()
        .find(|(a, _)| *a == chars[i])
        .map(|(_, b)| *b)
        .unwrap_or('X');
    chars.into_iter().collect()
}

/// One search through the API, timed; `None` when it was refused as broader than the search
/// limit (by design, for some wildcard patterns), which is counted rather than timed.
async fn timed_search(
    http: &reqwest::Client,
    base: &str,
    token: &str,
    mut body: Value,
) -> anyhow::Result<Option<std::time::Duration>> {
    body["purpose"] = json!({"code": "serious_crime", "file_number": "BENCH/1",
                             "justification": "Benchmark of search latency on synthetic data"});
    body["limit"] = json!(50);
    let started = Instant::now();
    let resp = http
        .post(format!("{base}/api/v1/searches"))
        .bearer_auth(token)
        .json(&body)
        .send()
        .await?;
    let status = resp.status();
    let _ = resp.bytes().await?;
    let elapsed = started.elapsed();
    match status.as_u16() {
        200..=299 => Ok(Some(elapsed)),
        422 => Ok(None),
        _ => anyhow::bail!("search {body} failed: {status}"),
    }
}

/// The naive baseline's queries per kind: a LIKE scan reads every read, so a few suffice.
const LIKE_QUERIES: usize = 5;

/// `plate` found the naive way: one `LIKE` scan of every read for an exact plate or a
/// wildcard pattern; for a fuzzy plate, one scan per position with that character left open
/// (the substitutions a misread makes; the engine's fuzzy search also finds insertions and
/// deletions, so the baseline does less than what it is compared with).
async fn like_scan(
    state: &anpr_app::App,
    plate: &str,
    fuzzy: bool,
) -> anyhow::Result<std::time::Duration> {
    let patterns: Vec<String> = if fuzzy {
        (0..plate.len())
            .map(|k| format!("{}_{}", &plate[..k], &plate[k + 1..]))
            .collect()
    } else {
        vec![plate.replace('?', "_").replace('*', "%")]
    };
    let started = Instant::now();
    for pattern in &patterns {
        state.store.search_like_scan(pattern, 50).await?;
    }
    Ok(started.elapsed())
}

/// Sends `batches` requests from `clients` concurrent tasks; `request(i)` builds batch `i`.
/// Returns the wall time from the first send to the last acknowledgement.
async fn drive<F>(
    http: &reqwest::Client,
    batches: u64,
    clients: usize,
    request: F,
) -> anyhow::Result<std::time::Duration>
where
    F: Fn(&reqwest::Client, u64) -> reqwest::RequestBuilder + Send + Sync + 'static,
{
    let next = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let request = Arc::new(request);
    let started = Instant::now();
    let mut tasks = Vec::new();
    for _ in 0..clients.max(1) {
        let (next, request, http) = (next.clone(), request.clone(), http.clone());
        tasks.push(tokio::spawn(async move {
            loop {
                let i = next.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                if i >= batches {
                    return Ok::<(), anyhow::Error>(());
                }
                let resp = request(&http, i).send().await?;
                let status = resp.status();
                if !status.is_success() {
                    let text = resp.text().await.unwrap_or_default();
                    anyhow::bail!("ingest batch {i} failed: {status} {text}");
                }
            }
        }));
    }
    for t in tasks {
        t.await??;
    }
    Ok(started.elapsed())
}

/// A sighting of the last hour: its plate and time.
fn sighting<'p>(rng: &mut impl Rng, population: &'p [String]) -> (&'p str, DateTime<Utc>) {
    let plate = &population[rng.gen_range(0..population.len())];
    (
        plate,
        Utc::now() - Duration::seconds(rng.gen_range(0..3600)),
    )
}

fn http_read(rng: &mut impl Rng, population: &[String], id: String) -> Value {
    let (plate, at) = sighting(rng, population);
    json!({"plate": plate, "captured_at": at.to_rfc3339(), "confidence": 0.9, "external_id": id})
}

/// [`ingest_json`]'s rows (the same generator and seed; their own external ids, so that none
/// is taken for a repeat), inserted by the store alone in batches of 1,000; reads per second.
async fn raw_insert_rate(
    state: &anpr_app::App,
    keys: &[String],
    population: &[String],
    args: &CoreArgs,
) -> anyhow::Result<f64> {
    const BATCH: u64 = 1000;
    let cameras: Vec<i64> = keys
        .iter()
        .filter_map(|k| anpr_app::auth::camera_id_from_key(k))
        .collect();
    anyhow::ensure!(!cameras.is_empty(), "no camera key names its camera");
    let batches = args.http_reads.div_ceil(BATCH);
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let mut rows = Vec::with_capacity(batches as usize);
    for b in 0..batches {
        let mut batch = Vec::with_capacity(BATCH as usize);
        for i in 0..BATCH {
            let (plate, captured_at) = sighting(&mut rng, population);
            batch.push(anpr_domain::NewRead {
                camera_id: cameras[b as usize % cameras.len()],
                external_id: Some(format!("raw-{b}-{i}")),
                captured_at,
                plate_raw: plate.to_string(),
                plate: anpr_domain::NormalisedPlate::parse(plate)?,
                confidence: 0.9,
                plate_box: None,
                vehicle_make: None,
                vehicle_colour: None,
                overview_image: None,
                plate_image: None,
            });
        }
        rows.push(batch);
    }
    let started = Instant::now();
    for batch in rows {
        state.store.insert_reads(batch).await?;
    }
    Ok((batches * BATCH) as f64 / started.elapsed().as_secs_f64())
}

async fn ingest_json(
    http: &reqwest::Client,
    base: &str,
    keys: &[String],
    population: &[String],
    args: &CoreArgs,
) -> anyhow::Result<f64> {
    const BATCH: u64 = 1000;
    let batches = args.http_reads.div_ceil(BATCH);
    // Bodies are built before the clock starts: the figure is the server's, not the client's.
    let mut rng = rand::rngs::StdRng::seed_from_u64(11);
    let bodies: Arc<Vec<Vec<u8>>> = Arc::new(
        (0..batches)
            .map(|b| {
                let reads: Vec<Value> = (0..BATCH)
                    .map(|i| http_read(&mut rng, population, format!("json-{b}-{i}")))
                    .collect();
                serde_json::to_vec(&json!({ "reads": reads })).expect("serialisable")
            })
            .collect(),
    );
    let (url, keys) = (format!("{base}/api/v1/reads:batch"), keys.to_vec());
    let elapsed = drive(http, batches, args.clients, move |http, i| {
        http.post(&url)
            .bearer_auth(&keys[i as usize % keys.len()])
            .header("content-type", "application/json")
            .body(bodies[i as usize].clone())
    })
    .await?;
    Ok((batches * BATCH) as f64 / elapsed.as_secs_f64())
}

/// Multipart batches of reads, each with its own (byte-distinct) 30 KB plate crop, sent as raw
/// image parts the way cameras upload them.
async fn ingest_images(
    http: &reqwest::Client,
    base: &str,
    keys: &[String],
    population: &[String],
    args: &CoreArgs,
) -> anyhow::Result<f64> {
    const BATCH: u64 = 50;
    let batches = args.image_reads.div_ceil(BATCH);
    let crops: Arc<Vec<Vec<u8>>> = Arc::new(
        population
            .iter()
            .take(64)
            .enumerate()
            .map(|(i, p)| render_plate_crop_sized(p, 30_000, i as u64))
            .collect::<Result<_, _>>()?,
    );
    let population: Arc<Vec<String>> = Arc::new(population.to_vec());
    let (url, keys) = (format!("{base}/api/v1/reads:batch"), keys.to_vec());
    let elapsed = drive(http, batches, args.clients, move |http, b| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(b);
        let reads: Vec<Value> = (0..BATCH)
            .map(|i| http_read(&mut rng, &population, format!("img-{b}-{i}")))
            .collect();
        let mut form =
            reqwest::multipart::Form::new().text("metadata", json!({ "reads": reads }).to_string());
        for i in 0..BATCH {
            let crop = &crops[((b * BATCH + i) % crops.len() as u64) as usize];
            let unique = jpeg_with_comment(crop, format!("bench {b}/{i}").as_bytes())
                .expect("the crop is a JPEG");
            form = form.part(
                format!("reads[{i}].plate_image"),
                reqwest::multipart::Part::bytes(unique),
            );
        }
        http.post(&url)
            .bearer_auth(&keys[b as usize % keys.len()])
            .multipart(form)
    })
    .await?;
    Ok((batches * BATCH) as f64 / elapsed.as_secs_f64())
}

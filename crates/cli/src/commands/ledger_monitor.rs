//! `anpr ledger monitor`: an overseer's monitor of a running server's audit ledger, as
//! Certificate Transparency monitors watch a log. Each run downloads the entries added since
//! the last verified head and checks them with `anpr_ledger::monitor`; the state directory
//! keeps the verified head, the frontier at its size, the progress of an interrupted run and
//! every signed head ever received.

use anpr_ledger::keys::VerifyingKey;
use anpr_ledger::monitor::{Monitor, MonitorState};
use anpr_ledger::{ConsistencyProof, InclusionProof, StoredEntry, TreeHead, VerifyReport};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use super::ledger::{client, get_json};

const STATE_FILE: &str = "state.json";
const HEADS_FILE: &str = "heads.jsonl";

#[derive(clap::Args)]
pub struct MonitorArgs {
    /// Server base URL, e.g. https://anpr.example
    url: String,
    /// The monitor's own directory: the last verified head, where an interrupted run stopped,
    /// and every signed head received (created if missing; keep it between runs).
    #[arg(long)]
    state: PathBuf,
    /// The deployment's public key (`ledger/ledger-signing-key.pub`), obtained out of band.
    #[arg(long)]
    public_key: PathBuf,
    /// Session token of an auditor (or set ANPR_TOKEN).
    #[arg(long, env = "ANPR_TOKEN", hide_env_values = true)]
    token: String,
    /// Keep watching: check again every SECONDS until a problem is found.
    #[arg(long, value_name = "SECONDS")]
    follow: Option<u64>,
    /// Entries asked for per request.
    #[arg(long, hide = true, default_value_t = anpr_ledger::MAX_ENTRIES_PER_CALL)]
    page_size: u64,
    /// Stop after this many pages, as an interruption would (for tests).
    #[arg(long, hide = true)]
    max_pages: Option<u64>,
    #[command(flatten)]
    witnesses: super::witness_args::WitnessArgs,
}

/// Where to fetch from.
pub struct Server<'a> {
    pub http: &'a reqwest::Client,
    pub url: &'a str,
    pub token: &'a str,
}

/// What one pass did.
pub struct Pass {
    pub report: VerifyReport,
    pub entries: u64,
    pub bytes: u64,
    pub elapsed: Duration,
    /// The pass stopped at `--max-pages` before the latest head.
    pub interrupted: bool,
    pub head: TreeHead,
    pub resumed_at: u64,
}

pub async fn run(args: MonitorArgs) -> anyhow::Result<()> {
    let key = anpr_ledger::keys::read_public_key(&args.public_key)?;
    let http = client()?;
    let server = Server {
        http: &http,
        url: &args.url,
        token: &args.token,
    };
    std::fs::create_dir_all(&args.state).map_err(|e| {
        anyhow::anyhow!(
            "cannot create the state directory {}: {e}",
            args.state.display()
        )
    })?;
    loop {
        let pass = monitor_pass(
            &server,
            (&key, &args.witnesses),
            &args.state,
            args.page_size,
            args.max_pages,
        )
        .await;
        let pass = match (pass, args.follow) {
            (Ok(pass), _) => pass,
            // An unreachable server is no finding: a follower tries again.
            (Err(e), Some(secs)) => {
                eprintln!("{e:#}; trying again in {secs} s");
                tokio::time::sleep(Duration::from_secs(secs)).await;
                continue;
            }
            (Err(e), None) => return Err(e),
        };
        summarise(&pass, &args.state)?;
        match args.follow {
            Some(secs) if !pass.interrupted => tokio::time::sleep(Duration::from_secs(secs)).await,
            _ => return Ok(()),
        }
    }
}

/// One pass from the saved state to the server's latest head (the newest one `witnesses`
/// cosigned, when they are required), saving progress after each page.
pub async fn monitor_pass(
    server: &Server<'_>,
    (key, witnesses): (&VerifyingKey, &super::witness_args::WitnessArgs),
    dir: &Path,
    page_size: u64,
    max_pages: Option<u64>,
) -> anyhow::Result<Pass> {
    let started = Instant::now();
    let state = load_state(dir)?;
    let seen = load_heads(dir)?;
    let served: super::ledger::ServedHead = get_json(
        server.http,
        server.url,
        &super::ledger::head_path(witnesses),
        server.token,
    )
    .await?;
    let latest = served.head;
    // A head no trusted witness vouches for may belong to a rewritten history.
    let cosigners = witnesses
        .check(&latest, served.checkpoint.as_deref(), key)
        .map_err(|e| anyhow::anyhow!("monitoring FAILED: {e}"))?;
    if !cosigners.is_empty() {
        eprintln!(
            "the head of size {} is cosigned by {}",
            latest.size,
            cosigners.join(", ")
        );
    }
    // Every correctly signed head is kept, a contradicting one most of all: it is the evidence.
    if latest.verify_signature(key).is_ok() && !seen.contains(&latest) {
        append_head(dir, &latest)?;
    }
    let mut m = Monitor::start(key, &state, latest.clone(), &seen).map_err(|e| {
        anyhow::anyhow!(
            "{}: {e}; restore it from a backup, or start over with an empty state directory",
            dir.join(STATE_FILE).display()
        )
    })?;
    let mut pass = Pass {
        report: VerifyReport::default(),
        entries: 0,
        bytes: 0,
        elapsed: Duration::ZERO,
        interrupted: false,
        head: latest,
        resumed_at: m.resumed_at(),
    };
    if let Some((a, b)) = m.consistency_needed() {
        m.check_consistency(&consistency_proof(server, a, b).await?);
    }
    let mut progress = Progress::new(m.resumed_at(), pass.head.size);
    let mut pages = 0;
    let size = pass.head.size;
    let page = |from: u64| (from, size.min(from + page_size.max(1)));
    // The next page downloads while this one is checked.
    let mut ahead: Option<(u64, Fetch)> = None;
    while let Some(from) = m.next_index() {
        if max_pages.is_some_and(|max| pages >= max) {
            pass.interrupted = true;
            break;
        }
        let fetch = match ahead.take() {
            Some((at, fetch)) if at == from => fetch,
            _ => spawn_fetch(server, page(from)),
        };
        let (entries, bytes) = fetch.await??;
        let next = from + entries.len() as u64;
        if next < size && !entries.is_empty() && max_pages.is_none_or(|max| pages + 1 < max) {
            ahead = Some((next, spawn_fetch(server, page(next))));
        }
        pass.bytes += bytes;
        pass.entries += entries.len() as u64;
        m.feed(&entries);
        if !m.report().is_ok() {
            break;
        }
        save_state(dir, &m.pending_state())?;
        pages += 1;
        progress.show(next);
    }
    pass.elapsed = started.elapsed();
    if pass.interrupted {
        pass.report = m.report().clone();
        return Ok(pass);
    }
    let (new_state, report) = m.finish();
    if let Some(s) = new_state {
        save_state(dir, &s)?;
    }
    pass.report = report;
    pass.elapsed = started.elapsed();
    Ok(pass)
}

/// `verify-remote`'s check of every entry since a trusted head, when there are few enough:
/// the monitor's checks from a frontier rebuilt from the trusted tree's last entry.
pub async fn check_every_entry(
    server: &Server<'_>,
    key: &VerifyingKey,
    trusted: &TreeHead,
    latest: TreeHead,
    consistency: &ConsistencyProof,
) -> anyhow::Result<VerifyReport> {
    let last: Option<InclusionProof> = if trusted.size > 0 {
        let path = format!(
            "/api/v1/ledger/proof/inclusion?index={}&size={}",
            trusted.size - 1,
            trusted.size
        );
        Some(get_json(server.http, server.url, &path, server.token).await?)
    } else {
        None
    };
    let mut m = Monitor::from_trusted_head(key, trusted, last.as_ref(), latest);
    m.check_consistency(consistency);
    let mut progress = Progress::new(trusted.size, m.latest().size);
    while let Some(from) = m.next_index() {
        let to = m
            .latest()
            .size
            .min(from + anpr_ledger::MAX_ENTRIES_PER_CALL);
        let (entries, _) = fetch_entries(server, from, to).await?;
        m.feed(&entries);
        progress.show(from + entries.len() as u64);
    }
    let (_, report) = m.finish();
    Ok(report)
}

type Fetch = tokio::task::JoinHandle<anyhow::Result<(Vec<StoredEntry>, u64)>>;

fn spawn_fetch(server: &Server<'_>, (from, to): (u64, u64)) -> Fetch {
    let (http, url, token) = (
        server.http.clone(),
        server.url.to_string(),
        server.token.to_string(),
    );
    tokio::spawn(async move {
        let server = Server {
            http: &http,
            url: &url,
            token: &token,
        };
        fetch_entries(&server, from, to).await
    })
}

/// A page of entries, and the bytes its answer took.
pub(super) async fn fetch_entries(
    server: &Server<'_>,
    from: u64,
    to: u64,
) -> anyhow::Result<(Vec<StoredEntry>, u64)> {
    let url = format!(
        "{}/api/v1/ledger/entries?from={from}&to={to}",
        server.url.trim_end_matches('/')
    );
    let resp = server
        .http
        .get(&url)
        .bearer_auth(server.token)
        .send()
        .await?;
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {}", resp.text().await.unwrap_or_default());
    }
    let body = resp.bytes().await?;
    let entries = serde_json::from_slice(&body)
        .map_err(|e| anyhow::anyhow!("{url}: the server's answer is not a list of entries: {e}"))?;
    Ok((entries, body.len() as u64))
}

async fn consistency_proof(
    server: &Server<'_>,
    from: u64,
    to: u64,
) -> anyhow::Result<ConsistencyProof> {
    let path = format!("/api/v1/ledger/proof/consistency?from={from}&to={to}");
    get_json(server.http, server.url, &path, server.token).await
}

fn summarise(pass: &Pass, dir: &Path) -> anyhow::Result<()> {
    let secs = pass.elapsed.as_secs_f64().max(1e-9);
    let traffic = format!(
        "{} entries ({} bytes) downloaded in {:.1} s, {:.0} entries/s",
        pass.entries,
        pass.bytes,
        secs,
        pass.entries as f64 / secs
    );
    if pass.interrupted {
        println!(
            "stopped before the end as asked: entries {}..{} checked one by one, but not yet against a signed head; run again to continue ({traffic})",
            pass.resumed_at,
            pass.resumed_at + pass.entries
        );
        return Ok(());
    }
    if !pass.report.is_ok() {
        println!("{}", pass.report);
        anyhow::bail!(
            "monitoring FAILED at {}: the server's audit ledger is not what it signed or showed before (first bad index: {}). Keep {} as evidence: it holds every signed head received.",
            pass.head.timestamp,
            pass.report
                .first_bad_index()
                .map_or("none".into(), |i| i.to_string()),
            dir.join(HEADS_FILE).display()
        );
    }
    println!(
        "OK: entries {}..{} checked; every entry up to the signed head of {} entries (root {}, signed {}) is verified; {traffic}",
        pass.resumed_at,
        pass.head.size,
        pass.head.size,
        hex::encode(pass.head.root_hash),
        pass.head.timestamp
    );
    Ok(())
}

/// Progress on standard error every few seconds of a long run.
struct Progress {
    started: Instant,
    shown: Instant,
    from: u64,
    to: u64,
}

impl Progress {
    fn new(from: u64, to: u64) -> Self {
        let now = Instant::now();
        Self {
            started: now,
            shown: now,
            from,
            to,
        }
    }

    fn show(&mut self, at: u64) {
        if self.shown.elapsed() < Duration::from_secs(5) {
            return;
        }
        self.shown = Instant::now();
        let rate = (at - self.from) as f64 / self.started.elapsed().as_secs_f64();
        eprintln!(
            "checked entries up to {at} of {} ({rate:.0} entries/s)",
            self.to
        );
    }
}

fn load_state(dir: &Path) -> anyhow::Result<MonitorState> {
    let path = dir.join(STATE_FILE);
    match std::fs::read(&path) {
        Ok(bytes) => serde_json::from_slice(&bytes).map_err(|e| {
            anyhow::anyhow!(
                "{} is not a monitor state ({e}); restore it from a backup, or start over with an empty directory",
                path.display()
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(MonitorState::default()),
        Err(e) => Err(anyhow::anyhow!("cannot read {}: {e}", path.display())),
    }
}

/// Written to a temporary file, synced and renamed over the old state, then the directory is
/// synced: a crash leaves the old state or the new one, never half of one.
fn save_state(dir: &Path, state: &MonitorState) -> anyhow::Result<()> {
    let tmp = dir.join(format!("{STATE_FILE}.tmp"));
    let mut f = std::fs::File::create(&tmp)?;
    f.write_all(&serde_json::to_vec_pretty(state)?)?;
    f.sync_all()?;
    std::fs::rename(&tmp, dir.join(STATE_FILE))?;
    std::fs::File::open(dir)?.sync_all()?;
    Ok(())
}

fn load_heads(dir: &Path) -> anyhow::Result<Vec<TreeHead>> {
    let path = dir.join(HEADS_FILE);
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => anyhow::bail!("cannot read {}: {e}", path.display()),
    };
    text.lines()
        .filter(|l| !l.trim().is_empty())
        .enumerate()
        .map(|(n, l)| {
            serde_json::from_str(l).map_err(|e| {
                anyhow::anyhow!("{} line {}: not a tree head: {e}", path.display(), n + 1)
            })
        })
        .collect()
}

fn append_head(dir: &Path, head: &TreeHead) -> anyhow::Result<()> {
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(dir.join(HEADS_FILE))?;
    f.write_all(format!("{}\n", serde_json::to_string(head)?).as_bytes())?;
    f.sync_all()?;
    Ok(())
}

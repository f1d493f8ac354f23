//! `anpr ledger ...`: verifying the audit ledger locally and, as an outside overseer, remotely.

use anpr_ledger::{ConsistencyProof, EntryProof, InclusionProof, StoredEntry, TreeHead};
use clap::Subcommand;
use std::path::{Path, PathBuf};

#[derive(Subcommand)]
pub enum LedgerCommand {
    /// Recompute the whole log from the stored entries and check every signed tree head.
    Verify,
    /// Create a new signing key file (mode 0600), to keep outside the data directory and pass
    /// as `--signing-key`; prints its public key for the overseers.
    NewKey {
        /// Where to write it; it must not exist.
        file: PathBuf,
    },
    /// Fetch the server's current signed tree head and print it (save it to check later).
    TreeHead {
        /// Server base URL, e.g. http://127.0.0.1:8080
        url: String,
        /// Session token of an auditor (or set ANPR_TOKEN).
        #[arg(long, env = "ANPR_TOKEN", hide_env_values = true)]
        token: String,
    },
    /// Download the whole ledger up to the server's latest signed tree head (or `--size`
    /// entries) as JSON lines, one entry each (`index`, `leaf_hash`, `body`), with the head in
    /// FILE.head.json: what `anpr report verify-transparency --ledger FILE` recomputes a
    /// transparency report from.
    Download {
        /// Server base URL, e.g. http://127.0.0.1:8080
        url: String,
        /// Session token of an auditor (or set ANPR_TOKEN).
        #[arg(long, env = "ANPR_TOKEN", hide_env_values = true)]
        token: String,
        /// Where to write the entries (JSON lines).
        #[arg(long)]
        out: PathBuf,
        /// Entries to download, from index 0 (default: the latest signed head's size).
        #[arg(long)]
        size: Option<u64>,
    },
    /// Check a running server against a tree head saved earlier: the log only grew (consistency
    /// proof), heads are signed by the deployment's key, and sampled entries are in the tree;
    /// with `--witness-key`, that the head is cosigned by the overseers' witnesses.
    VerifyRemote {
        /// Server base URL, e.g. http://127.0.0.1:8080
        url: String,
        /// A tree head saved earlier (`anpr ledger tree-head URL > head.json`); without it,
        /// only the witnesses' cosignatures vouch that the history was not rewritten.
        #[arg(long)]
        trusted_head: Option<PathBuf>,
        /// The deployment's public key (`ledger/ledger-signing-key.pub`), obtained out of band.
        #[arg(long)]
        public_key: PathBuf,
        #[arg(long, env = "ANPR_TOKEN", hide_env_values = true)]
        token: String,
        /// Entries sampled for inclusion checks, when there are too many new ones to check each.
        #[arg(long, default_value_t = 20)]
        samples: u64,
        /// Check each entry added since the trusted head when there are at most this many;
        /// sample beyond it.
        #[arg(long, default_value_t = 2_000_000)]
        check_all_up_to: u64,
        #[command(flatten)]
        witnesses: super::witness_args::WitnessArgs,
    },
    /// Monitor a running server: download every entry since the last verified head and check
    /// each, the root, the signature and consistency with every head seen before.
    Monitor(super::ledger_monitor::MonitorArgs),
    /// Print the verifier key of the ledger's checkpoints, which witnesses are started with
    /// (`anpr witness serve --log KEY`).
    CheckpointKey,
}

/// A tree head as the server serves it: with its checkpoint, when it has one.
#[derive(serde::Serialize, serde::Deserialize)]
pub(super) struct ServedHead {
    #[serde(flatten)]
    pub head: TreeHead,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub checkpoint: Option<String>,
}

/// The path of the head a reader requiring `witnesses` asks for: the newest one that many
/// witnesses cosigned (the latest may not have reached them yet).
pub(super) fn head_path(witnesses: &super::witness_args::WitnessArgs) -> String {
    match witnesses.required() {
        0 => "/api/v1/ledger/tree-head".to_owned(),
        k => format!("/api/v1/ledger/tree-head?cosigned={k}"),
    }
}

pub async fn run(data: &Path, cmd: LedgerCommand) -> anyhow::Result<()> {
    match cmd {
        LedgerCommand::Verify => verify_local(data).await,
        LedgerCommand::NewKey { file } => {
            let public = anpr_ledger::keys::create_key_file(&file)?;
            println!(
                "created {} (key id {}); its public key, for overseers:\n{}",
                file.display(),
                anpr_ledger::keys::key_id(&public),
                anpr_ledger::keys::public_key_pem(&public)
            );
            Ok(())
        }
        LedgerCommand::TreeHead { url, token } => {
            let head: TreeHead =
                get_json(&client()?, &url, "/api/v1/ledger/tree-head", &token).await?;
            println!("{}", serde_json::to_string_pretty(&head)?);
            Ok(())
        }
        LedgerCommand::VerifyRemote {
            url,
            trusted_head,
            public_key,
            token,
            samples,
            check_all_up_to,
            witnesses,
        } => {
            let checks = RemoteChecks {
                samples,
                check_all_up_to,
                witnesses,
            };
            verify_remote(&url, trusted_head.as_deref(), &public_key, &token, &checks).await
        }
        LedgerCommand::Download {
            url,
            token,
            out,
            size,
        } => download(&url, &token, &out, size).await,
        LedgerCommand::Monitor(args) => super::ledger_monitor::run(args).await,
        LedgerCommand::CheckpointKey => {
            let data = anpr_app::DataDir(data.to_path_buf());
            let key = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
                let ledger =
                    anpr_app::open_ledger(&data, super::database_url(), &super::ledger_keys())?;
                Ok(ledger.note_verifier()?)
            })
            .await??;
            println!("{key}");
            Ok(())
        }
    }
}

async fn verify_local(data: &Path) -> anyhow::Result<()> {
    let data = anpr_app::DataDir(data.to_path_buf());
    let report = tokio::task::spawn_blocking(move || -> anyhow::Result<_> {
        let ledger = anpr_app::open_ledger(&data, super::database_url(), &super::ledger_keys())?;
        if let Some(why) = ledger.damaged() {
            eprintln!("the ledger opened damaged: {why}");
        }
        Ok(ledger.verify_full()?)
    })
    .await??;
    println!("{report}");
    if report.is_ok() {
        Ok(())
    } else {
        anyhow::bail!(
            "ledger verification FAILED; first bad index: {}{}",
            report
                .first_bad_index()
                .map_or("unknown".into(), |i| i.to_string()),
            report
                .first_problem()
                .map_or(String::new(), |p| format!(" ({}: {})", p.kind, p.detail))
        )
    }
}

pub(super) fn client() -> anyhow::Result<reqwest::Client> {
    Ok(reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(60))
        .build()?)
}

pub(super) async fn get_json<T: serde::de::DeserializeOwned>(
    http: &reqwest::Client,
    base: &str,
    path: &str,
    token: &str,
) -> anyhow::Result<T> {
    let url = format!("{}{path}", base.trim_end_matches('/'));
    let resp = http.get(&url).bearer_auth(token).send().await?;
    let status = resp.status();
    if !status.is_success() {
        anyhow::bail!("{url}: {status}: {}", resp.text().await.unwrap_or_default());
    }
    Ok(resp.json().await?)
}

/// What `verify-remote` checks besides the heads.
struct RemoteChecks {
    samples: u64,
    check_all_up_to: u64,
    witnesses: super::witness_args::WitnessArgs,
}

async fn verify_remote(
    url: &str,
    trusted_head: Option<&Path>,
    public_key: &Path,
    token: &str,
    checks: &RemoteChecks,
) -> anyhow::Result<()> {
    let (samples, check_all_up_to) = (checks.samples, checks.check_all_up_to);
    let key = anpr_ledger::keys::read_public_key(public_key)?;
    let http = client()?;
    let served: ServedHead = get_json(&http, url, &head_path(&checks.witnesses), token)
        .await
        .map_err(|e| anyhow::anyhow!("remote verification FAILED: {e}"))?;
    let latest = served.head;
    let cosigners = checks
        .witnesses
        .check(&latest, served.checkpoint.as_deref(), &key)
        .map_err(|e| anyhow::anyhow!("remote verification FAILED: {e}"))?;
    let trusted: TreeHead = match trusted_head {
        Some(path) => serde_json::from_str(&std::fs::read_to_string(path)?)?,
        None => latest.clone(),
    };
    let consistency: ConsistencyProof = get_json(
        &http,
        url,
        &format!(
            "/api/v1/ledger/proof/consistency?from={}&to={}",
            trusted.size.min(latest.size),
            latest.size
        ),
        token,
    )
    .await?;
    let new_entries = latest.size.saturating_sub(trusted.size);
    let every = latest.size >= trusted.size && new_entries <= check_all_up_to;
    if every {
        println!("checking each of the {new_entries} entries added since the trusted head, and {} sampled before it", samples.min(trusted.size));
    } else if latest.size >= trusted.size {
        println!("{new_entries} entries were added since the trusted head, more than --check-all-up-to {check_all_up_to}: checking {samples} sampled entries instead of each");
    }
    let mut rng = rand::thread_rng();
    let mut sampled = Vec::new();
    // Distinct indices: asking for at least as many samples as entries checks every entry.
    // With every new entry checked, the samples come from before the trusted head.
    let population = if every { trusted.size } else { latest.size };
    let picks = samples.min(population) as usize;
    let indices = rand::seq::index::sample(&mut rng, population as usize, picks);
    for index in indices.into_iter().map(|i| i as u64) {
        let entries: Vec<StoredEntry> = get_json(
            &http,
            url,
            &format!("/api/v1/ledger/entries?from={index}&to={}", index + 1),
            token,
        )
        .await?;
        let proof: InclusionProof = get_json(
            &http,
            url,
            &format!(
                "/api/v1/ledger/proof/inclusion?index={index}&size={}",
                latest.size
            ),
            token,
        )
        .await?;
        let entry = entries
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("the server returned no entry {index}"))?;
        sampled.push(EntryProof { entry, proof });
    }
    let report = if every {
        let server = super::ledger_monitor::Server {
            http: &http,
            url,
            token,
        };
        let mut report = super::ledger_monitor::check_every_entry(
            &server,
            &key,
            &trusted,
            latest.clone(),
            &consistency,
        )
        .await?;
        report.merge(anpr_ledger::verify_samples(&latest, &sampled));
        report
    } else {
        anpr_ledger::verify_remote(&key, &trusted, &latest, &consistency, &sampled)
    };
    println!(
        "trusted head: size {}; server head: size {}",
        trusted.size, latest.size
    );
    println!("{report}");
    if report.is_ok() {
        if !cosigners.is_empty() {
            println!(
                "cosigned by {} trusted witness(es): {}",
                cosigners.len(),
                cosigners.join(", ")
            );
        }
        let checked = if every {
            "every new entry and the sampled ones are"
        } else {
            "the sampled entries are"
        };
        if trusted_head.is_some() {
            println!("OK: the server's log extends the trusted head and {checked} in it");
        } else {
            println!("OK: the server's head is signed and the sampled entries are in it");
        }
        Ok(())
    } else {
        anyhow::bail!(
            "remote verification FAILED; first bad index: {}",
            report
                .first_bad_index()
                .map_or("unknown".into(), |i| i.to_string())
        )
    }
}

/// `anpr ledger download`: every entry from 0 up to the latest signed head (or `size`), a page
/// per request, written as JSON lines.
async fn download(url: &str, token: &str, out: &Path, size: Option<u64>) -> anyhow::Result<()> {
    use std::io::Write;
    let http = client()?;
    let head: ServedHead = get_json(&http, url, "/api/v1/ledger/tree-head", token).await?;
    let size = size.unwrap_or(head.head.size);
    let server = super::ledger_monitor::Server {
        http: &http,
        url,
        token,
    };
    let mut file = std::io::BufWriter::new(std::fs::File::create(out)?);
    let mut at = 0;
    while at < size {
        let (page, _) = super::ledger_monitor::fetch_entries(&server, at, size).await?;
        let Some(last) = page.last() else {
            anyhow::bail!("the server holds {at} entries, fewer than the {size} asked for");
        };
        at = last.index + 1;
        for e in &page {
            serde_json::to_writer(&mut file, e)?;
            file.write_all(b"\n")?;
        }
    }
    file.flush()?;
    let head_file = PathBuf::from(format!("{}.head.json", out.display()));
    std::fs::write(&head_file, serde_json::to_vec_pretty(&head)?)?;
    println!(
        "{size} entries written to {} (the latest signed head, of {} entries, in {})",
        out.display(),
        head.head.size,
        head_file.display()
    );
    Ok(())
}

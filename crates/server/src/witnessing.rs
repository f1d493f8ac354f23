//! Pushing the audit ledger's new checkpoints to the overseers' witnesses (C2SP
//! `tlog-witness`) and keeping the cosignatures they return beside the heads.
//!
//! A task of its own, so that no request ever waits for a witness: every second it looks for a
//! signed head newer than what each witness cosigned and pushes its checkpoint with a
//! consistency proof. A witness that cannot be reached is retried with backoff; one that
//! refuses a head as not extending what it cosigned raises an alarm (error log and
//! `anpr_ledger_witness_refusals_total`), since that is what a rewritten ledger looks like.

use std::str::FromStr;
use std::time::{Duration, Instant};

use anpr_ledger::note::NoteVerifier;
use anpr_witness::client::{push, Pushed};

use crate::state::AppState;

/// How often the task looks for a new head.
const TICK: Duration = Duration::from_secs(1);
/// The longest wait before trying a witness again.
const MAX_BACKOFF: Duration = Duration::from_secs(300);

/// A witness the server pushes its checkpoints to: `<verifier key>=<URL>`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct WitnessTarget {
    pub key: NoteVerifier,
    pub url: String,
}

impl FromStr for WitnessTarget {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let split = s
            .find("=http://")
            .or_else(|| s.find("=https://"))
            .ok_or_else(|| {
                format!(
                    "{s:?}: give a witness as <its verifier key>=<its URL>, e.g. \
                 witness.example/w1+1a2b3c4d+BA...=http://witness.example:8090"
                )
            })?;
        let key = NoteVerifier::parse(&s[..split]).map_err(|e| e.to_string())?;
        if key.kind != anpr_ledger::note::TYPE_COSIGNATURE {
            return Err(format!(
                "{}: that is not a witness's key (its type is not cosignature/v1); ask the \
                 witness's operator for the line `anpr witness key` prints",
                &s[..split]
            ));
        }
        Ok(Self {
            key,
            url: s[split + 1..].to_owned(),
        })
    }
}

struct Follower {
    target: WitnessTarget,
    /// The size this witness last cosigned, as far as this process knows (0: ask it).
    cosigned: u64,
    next_try: Instant,
    backoff: Duration,
}

impl Follower {
    fn failed(&mut self) {
        self.backoff = (self.backoff * 2).clamp(Duration::from_secs(1), MAX_BACKOFF);
        self.next_try = Instant::now() + self.backoff;
    }
}

/// Starts pushing to the configured witnesses (nothing when there are none).
pub fn spawn(state: AppState) -> Option<tokio::task::JoinHandle<()>> {
    if state.http.witnesses.is_empty() {
        return None;
    }
    let mut followers: Vec<Follower> = state
        .http
        .witnesses
        .iter()
        .map(|t| Follower {
            target: t.clone(),
            cosigned: 0,
            next_try: Instant::now(),
            backoff: Duration::ZERO,
        })
        .collect();
    Some(tokio::spawn(async move {
        let http = match reqwest::Client::builder()
            .timeout(Duration::from_secs(30))
            .build()
        {
            Ok(h) => h,
            Err(e) => {
                tracing::error!("cannot push tree heads to the witnesses: {e}");
                return;
            }
        };
        loop {
            tokio::time::sleep(TICK).await;
            for f in followers.iter_mut() {
                if Instant::now() >= f.next_try {
                    follow(&state, &http, f).await;
                }
            }
        }
    }))
}

async fn follow(state: &AppState, http: &reqwest::Client, f: &mut Follower) {
    let ledger = state.ledger.clone();
    let latest = tokio::task::spawn_blocking(move || -> anpr_ledger::Result<_> {
        match ledger.latest_tree_head()? {
            Some(h) if h.size > 0 => Ok(ledger.checkpoint(h.size)?.map(|n| (h.size, n))),
            _ => Ok(None),
        }
    })
    .await;
    let (size, mut note) = match latest {
        Ok(Ok(Some(found))) => found,
        Ok(Ok(None)) => return,
        Ok(Err(e)) => {
            tracing::warn!("cannot read the ledger's latest checkpoint for the witnesses: {e}");
            return f.failed();
        }
        Err(_) => return,
    };
    if size <= f.cosigned {
        return;
    }
    // The log's signatures only: what the witness checks and cosigns.
    note.signatures.retain(|s| s.name == state.ledger.origin());
    let ledger = state.ledger.clone();
    let proof = move |from: u64| -> anpr_witness::Result<Vec<anpr_ledger::Hash>> {
        Ok(ledger.consistency_proof(from, size)?.hashes)
    };
    let name = &f.target.key.name;
    match push(http, &f.target.url, &note, f.cosigned, proof).await {
        Ok(Pushed::Cosigned(lines)) => {
            let (ledger, key) = (state.ledger.clone(), f.target.key.clone());
            let stored =
                tokio::task::spawn_blocking(move || ledger.add_cosignature(size, &key, &lines))
                    .await;
            match stored {
                Ok(Ok(())) => {
                    f.cosigned = size;
                    f.backoff = Duration::ZERO;
                }
                Ok(Err(e)) => {
                    tracing::warn!("witness {name} answered a cosignature that is not kept: {e}");
                    f.failed();
                }
                Err(_) => f.failed(),
            }
        }
        Ok(Pushed::Refused {
            status: 422,
            message,
        }) => {
            state.metrics.ledger_witness_refusals.inc();
            tracing::error!(
                "witness {name} refused the audit ledger's tree head of size {size}: it does not \
                 extend the history the witness cosigned before ({message}). The ledger may have \
                 been rewritten: run `anpr ledger verify` and tell the overseers"
            );
            f.failed();
        }
        Ok(Pushed::Refused { status, message }) => {
            tracing::warn!(
                "witness {name} refused the tree head of size {size} ({status}: {message}): \
                 give the witness this ledger's verifier key (`--log`), as \
                 /api/v1/ledger/checkpoint shows it"
            );
            f.failed();
        }
        Err(e) => {
            tracing::warn!("cannot push the tree head of size {size} to witness {name}: {e}");
            f.failed();
        }
    }
}

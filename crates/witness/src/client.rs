//! The log's side of `tlog-witness`: submitting a checkpoint for cosigning.

use anpr_ledger::note::{Checkpoint, Note};
use anpr_ledger::Hash;

use crate::error::{Error, Result};
use crate::witness::request_body;

/// What a witness said to a push.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Its cosignature line(s).
    Cosigned(String),
    /// It refused the checkpoint: 422 (not an extension of what it cosigned: a fork), 409
    /// (it cosigned a longer log than this checkpoint's: a rollback), 403
    /// (not signed by the key it knows for the log) or 404 (it does not know the log).
    Refused { status: u16, message: String },
}

/// Submits `checkpoint` to the witness at `url` (its submission prefix) with a consistency
/// proof from `old` (`proof(old)`; empty from 0). When the witness last cosigned another size
/// (409), proves from that size instead, once.
pub async fn push(
    http: &reqwest::Client,
    url: &str,
    checkpoint: &Note,
    mut old: u64,
    proof: impl Fn(u64) -> Result<Vec<Hash>>,
) -> Result<Pushed> {
    let endpoint = format!("{}/add-checkpoint", url.trim_end_matches('/'));
    let size = Checkpoint::parse(&checkpoint.text)?.size;
    for _ in 0..2 {
        let hashes = if old == 0 { Vec::new() } else { proof(old)? };
        let resp = http
            .post(&endpoint)
            .body(request_body(checkpoint, old, &hashes))
            .send()
            .await
            .map_err(|e| Error::Unreachable {
                url: endpoint.clone(),
                reason: e.to_string(),
            })?;
        let status = resp.status().as_u16();
        let body = resp.text().await.unwrap_or_default();
        match status {
            200 => return Ok(Pushed::Cosigned(body)),
            409 => {
                old = body.trim().parse().map_err(|_| Error::Answer {
                    url: endpoint.clone(),
                    status,
                    body: body.clone(),
                })?;
                if old > size {
                    return Ok(Pushed::Refused {
                        status,
                        message: format!(
                            "the witness cosigned {old} entries of this log, more than the \
                             {size} of this checkpoint: the log lost entries or was rewritten"
                        ),
                    });
                }
            }
            403 | 404 | 422 => {
                return Ok(Pushed::Refused {
                    status,
                    message: body.trim().to_owned(),
                })
            }
            _ => {
                return Err(Error::Answer {
                    url: endpoint,
                    status,
                    body: body.trim().to_owned(),
                })
            }
        }
    }
    Err(Error::Answer {
        url: endpoint,
        status: 409,
        body: "the witness's size kept changing; try again".into(),
    })
}

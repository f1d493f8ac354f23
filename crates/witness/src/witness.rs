//! [`Witness`]: the `add-checkpoint` decision of `tlog-witness`.

use std::path::Path;
use std::sync::Mutex;

use anpr_ledger::merkle::EMPTY_ROOT;
use anpr_ledger::note::{cosign, Checkpoint, Note, NoteVerifier};
use anpr_ledger::{ConsistencyProof, Hash};
use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use ed25519_dalek::SigningKey;

use crate::error::{Error, Refusal, Result};
use crate::state::State;

/// The witness's private key in its directory (PKCS#8 PEM, mode 0600).
pub const KEY_FILE: &str = "witness-key";
/// The name its cosignatures are made under, recorded at creation.
pub const NAME_FILE: &str = "witness-name";
/// `tlog-witness` allows at most this many proof lines.
const MAX_PROOF_LINES: usize = 63;

/// A witness: its key and name, the logs it knows, and what it cosigned.
pub struct Witness {
    name: String,
    key: SigningKey,
    logs: Vec<NoteVerifier>,
    /// Held from the check of the old size to the durable record of the new checkpoint, so
    /// that two pushes cannot both pass the check and the smaller overwrite the larger.
    state: Mutex<State>,
}

impl Witness {
    /// Opens the witness kept in `dir`, creating its key and recording `name` (or a default
    /// derived from the key) at first use; `logs` are the verifier keys of the logs it accepts.
    pub fn open(dir: &Path, name: Option<&str>, logs: Vec<NoteVerifier>) -> Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join(KEY_FILE);
        if !key_path.exists() {
            anpr_ledger::keys::create_key_file(&key_path)?;
        }
        let key = anpr_ledger::keys::read_key_file(&key_path)?;
        let name_path = dir.join(NAME_FILE);
        let recorded = match std::fs::read_to_string(&name_path) {
            Ok(n) => Some(n.trim().to_owned()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => None,
            Err(e) => return Err(e.into()),
        };
        let name = match (recorded, name) {
            (Some(r), Some(n)) if r != n => {
                return Err(Error::State {
                    path: name_path,
                    reason: format!(
                        "this witness cosigns as {r:?}, not {n:?}: its name is part of the \
                         verifier key readers trust, so it never changes; drop --name or give {r:?}"
                    ),
                })
            }
            (Some(r), _) => r,
            (None, given) => {
                let n = given.map(str::to_owned).unwrap_or_else(|| {
                    format!(
                        "anpr-witness/{}",
                        &anpr_ledger::keys::key_id(&key.verifying_key())[..8]
                    )
                });
                NoteVerifier::witness(&n, key.verifying_key())?;
                std::fs::write(&name_path, format!("{n}\n"))?;
                n
            }
        };
        let state = State::open(dir)?;
        Ok(Self {
            name,
            key,
            logs,
            state: Mutex::new(state),
        })
    }

    /// The verifier key readers trust this witness's cosignatures by.
    pub fn verifier(&self) -> NoteVerifier {
        NoteVerifier::witness(&self.name, self.key.verifying_key())
            .expect("the name was checked at open")
    }

    /// The verifier keys of the logs it accepts.
    pub fn logs(&self) -> &[NoteVerifier] {
        &self.logs
    }

    /// The latest checkpoint cosigned for `origin`, with the signatures it was cosigned with.
    pub fn latest(&self, origin: &str) -> Option<Note> {
        self.lock().latest(origin).cloned()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Decides an `add-checkpoint` body (`old <size>`, proof lines, a blank line, the signed
    /// checkpoint) at `now` (Unix seconds): the cosignature line(s) to answer, once the new
    /// checkpoint is durably recorded, or why it is refused.
    pub fn add_checkpoint(&self, body: &str, now: u64) -> Result<String> {
        let req = parse_request(body)?;
        let cp =
            Checkpoint::parse(&req.note.text).map_err(|e| Refusal::Malformed(e.to_string()))?;
        let keys: Vec<NoteVerifier> = self
            .logs
            .iter()
            .filter(|k| k.name == cp.origin)
            .cloned()
            .collect();
        if keys.is_empty() {
            return Err(Refusal::UnknownLog(cp.origin).into());
        }
        req.note
            .verify_signed_by(&keys)
            .map_err(|e| Refusal::BadSignature(e.to_string()))?;
        if req.old > cp.size {
            return Err(Refusal::Malformed(format!(
                "old size {} is beyond the checkpoint's size {}",
                req.old, cp.size
            ))
            .into());
        }
        let mut state = self.lock();
        let (known_size, known_root) = match state.latest(&cp.origin) {
            Some(n) => {
                let known = Checkpoint::parse(&n.text)?;
                (known.size, known.root)
            }
            None => (0, EMPTY_ROOT),
        };
        if req.old != known_size {
            return Err(Refusal::Conflict(known_size).into());
        }
        check_consistency(&req, &cp, &known_root)?;
        let line = cosign(&req.note.text, &self.name, &self.key, now)?;
        let mut kept = Note {
            text: req.note.text.clone(),
            signatures: req
                .note
                .signatures
                .iter()
                .filter(|s| keys.iter().any(|k| k.name == s.name))
                .cloned()
                .collect(),
        };
        kept.signatures.push(line.clone());
        state.record(&cp.origin, kept)?;
        Ok(format!("{line}\n"))
    }
}

fn check_consistency(req: &Request, cp: &Checkpoint, known_root: &Hash) -> Result<(), Refusal> {
    let refuse = |why: String| Err(Refusal::Inconsistent(why));
    if cp.size == 0 && cp.root != EMPTY_ROOT {
        return refuse("a checkpoint of size 0 must have the empty tree's root".into());
    }
    if req.old == 0 {
        if !req.proof.is_empty() {
            return refuse("a proof from size 0 must be empty".into());
        }
        return Ok(());
    }
    let proof = ConsistencyProof {
        from: req.old,
        to: cp.size,
        hashes: req.proof.clone(),
    };
    proof.verify(known_root, &cp.root).or_else(|e| {
        refuse(format!(
            "size {} with this root is not an extension of the cosigned size {} ({e}): the \
             log's history was rewritten, or the proof is wrong",
            cp.size, req.old
        ))
    })
}

struct Request {
    old: u64,
    proof: Vec<Hash>,
    note: Note,
}

fn parse_request(body: &str) -> Result<Request, Refusal> {
    let bad = |why: &str| Refusal::Malformed(why.to_owned());
    let (head, note) = body.split_once("\n\n").ok_or_else(|| {
        bad("expected the old size, proof lines, a blank line and the checkpoint")
    })?;
    let mut lines = head.split('\n');
    let old = lines
        .next()
        .and_then(|l| l.strip_prefix("old "))
        .filter(|s| *s == "0" || (!s.starts_with('0') && s.bytes().all(|b| b.is_ascii_digit())))
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| bad("the first line must be `old <size>`"))?;
    let proof = lines
        .map(|l| {
            B64.decode(l)
                .ok()
                .and_then(|h| Hash::try_from(h.as_slice()).ok())
                .ok_or_else(|| bad("a proof line is not a base64 SHA-256 hash"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    if proof.len() > MAX_PROOF_LINES {
        return Err(bad("more than 63 proof lines"));
    }
    let note = Note::parse(note).map_err(|e| Refusal::Malformed(e.to_string()))?;
    Ok(Request { old, proof, note })
}

/// The `add-checkpoint` request body for `note` with a proof from `old`.
pub fn request_body(note: &Note, old: u64, proof: &[Hash]) -> String {
    let mut body = format!("old {old}\n");
    for h in proof {
        body.push_str(&B64.encode(h));
        body.push('\n');
    }
    body.push('\n');
    body.push_str(&note.to_string());
    body
}

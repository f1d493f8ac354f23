//! `--witness-key` and `--witnesses-required`: which witnesses a reader trusts and how many of
//! them must have cosigned a tree head before the reader believes it. Flattened into every
//! command that checks a head from the server.

use anpr_ledger::note::{Checkpoint, Note, NoteVerifier, TYPE_COSIGNATURE};
use anpr_ledger::TreeHead;
use clap::Args;
use ed25519_dalek::VerifyingKey;

#[derive(Args, Clone, Debug, Default)]
pub struct WitnessArgs {
    /// A witness's verifier key (`anpr witness key` prints it), obtained from its operator;
    /// repeat for several.
    #[arg(long = "witness-key", value_parser = parse_witness_key)]
    pub witness_keys: Vec<NoteVerifier>,
    /// How many of those witnesses must have cosigned the head (default: 1 when any key is
    /// given).
    #[arg(long)]
    pub witnesses_required: Option<usize>,
}

fn parse_witness_key(s: &str) -> Result<NoteVerifier, String> {
    let v = NoteVerifier::parse(s).map_err(|e| e.to_string())?;
    if v.kind != TYPE_COSIGNATURE {
        return Err(format!(
            "{s}: that is not a witness's key (a log's, perhaps); give the line \
             `anpr witness key` prints"
        ));
    }
    Ok(v)
}

impl WitnessArgs {
    /// How many cosignatures are required.
    pub fn required(&self) -> usize {
        self.witnesses_required
            .unwrap_or(usize::from(!self.witness_keys.is_empty()))
    }

    /// Fails, in plain words, unless `checkpoint` is the checkpoint of `head`, signed by the
    /// log's `key`, and carries the required number of valid cosignatures from distinct
    /// trusted witnesses. Returns the names of the witnesses that cosigned.
    pub fn check(
        &self,
        head: &TreeHead,
        checkpoint: Option<&str>,
        key: &VerifyingKey,
    ) -> anyhow::Result<Vec<String>> {
        let k = self.required();
        if k > self.witness_keys.len() {
            anyhow::bail!(
                "--witnesses-required {k} asks for more witnesses than the {} --witness-key given",
                self.witness_keys.len()
            );
        }
        if k == 0 {
            return Ok(Vec::new());
        }
        let text = checkpoint.ok_or_else(|| {
            anyhow::anyhow!(
                "the server's tree head of size {} carries no checkpoint, so no witness vouches \
                 for it: the server predates witnesses or holds no signing key",
                head.size
            )
        })?;
        let note =
            Note::parse(text).map_err(|e| anyhow::anyhow!("the server's checkpoint: {e}"))?;
        let cp = Checkpoint::parse(&note.text)
            .map_err(|e| anyhow::anyhow!("the server's checkpoint: {e}"))?;
        if cp.size != head.size || cp.root != head.root_hash {
            anyhow::bail!(
                "the server's checkpoint (size {}) is not of its tree head (size {}): the server \
                 is inconsistent; tell the overseers",
                cp.size,
                head.size
            );
        }
        let log = NoteVerifier::log(&cp.origin, *key)?;
        note.verify_signed_by(std::slice::from_ref(&log))
            .map_err(|e| anyhow::anyhow!("the server's checkpoint: {e}"))?;
        note.require_cosignatures(&self.witness_keys, k)
            .map_err(|e| anyhow::anyhow!("tree head of size {}: {e}", head.size))?;
        Ok(note
            .cosigners(&self.witness_keys)?
            .into_iter()
            .map(|(v, _)| v.name.clone())
            .collect())
    }
}

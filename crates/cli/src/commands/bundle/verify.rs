//! Checking a bundle offline. The ledger entry is trusted only once its inclusion under a head
//! that the trusted key signed is proven; every byte of the read record and the images is then
//! held to the hashes that entry records, and nothing else may be in the bundle.

use super::{image_name, Manifest, VerifyBundleArgs, FIXED_MEMBERS, FORMAT};
use anpr_ledger::keys::{key_id, VerifyingKey};
use anpr_ledger::{
    Action, Event, EvidenceDigest, InclusionProof, OutcomeKind, ResultDigest, StoredEntry, TreeHead,
};
use anyhow::{anyhow, bail, ensure};
use std::collections::BTreeSet;
use std::io::Read;

type Zip = zip::ZipArchive<std::fs::File>;

/// The outcome of a check that found nothing wrong.
pub struct Verdict {
    /// Whether the head was vouched for by something trusted out of band; when not, the
    /// bundle is only consistent with itself (the command prints UNVERIFIED and fails).
    pub trusted: bool,
    pub message: String,
}

/// What the verifier trusts, given out of band.
struct Anchors<'a> {
    public_key: Option<VerifyingKey>,
    witnesses: &'a crate::commands::witness_args::WitnessArgs,
}

/// Who vouched for the tree head.
enum Trust {
    /// The deployment's key given out of band signed it.
    Key(String),
    /// Enough trusted witnesses cosigned its checkpoint (their names).
    Witnesses(Vec<String>),
    /// Only the key inside the bundle did, which proves nothing about origin.
    Unverified(String),
}

/// The one trust decision: does something the verifier trusts vouch for `head`? The
/// deployment's key given out of band, or the required number of trusted witnesses, whose
/// cosignatures on the head's checkpoint vouch that this history is the one they saw (they
/// cosign only checkpoints the log's key signed). A head that fails the check it is given is
/// refused; a head with nothing trusted to check it against is checked against the bundle's own
/// key (so the rest is at least consistent) and left unverified.
fn trust(
    head: &TreeHead,
    anchors: &Anchors,
    bundled: &VerifyingKey,
    checkpoint: Option<&str>,
) -> anyhow::Result<Trust> {
    let key = anchors.public_key.as_ref().unwrap_or(bundled);
    let cosigners = anchors
        .witnesses
        .check(head, checkpoint, key)
        .map_err(|e| anyhow!("the bundle's witnesses: {e}"))?;
    if let Some(key) = &anchors.public_key {
        head.verify_signature(key).map_err(|e| {
            anyhow!(
                "the tree head is not signed by the public key you gave ({e}): the bundle was not \
                 produced by that deployment, or its tree head was altered"
            )
        })?;
        return Ok(Trust::Key(key_id(key)));
    }
    head.verify_signature(bundled).map_err(|e| {
        anyhow!("the tree head's signature does not verify under the key inside the bundle ({e}): the bundle was altered")
    })?;
    Ok(if cosigners.is_empty() {
        Trust::Unverified(key_id(bundled))
    } else {
        Trust::Witnesses(cosigners)
    })
}

fn member(zip: &mut Zip, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut f = zip
        .by_name(name)
        .map_err(|_| anyhow!("the bundle has no {name}: it is incomplete"))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
}

fn json<T: serde::de::DeserializeOwned>(zip: &mut Zip, name: &str) -> anyhow::Result<T> {
    serde_json::from_slice(&member(zip, name)?)
        .map_err(|e| anyhow!("{name} in the bundle is not what an evidence bundle holds: {e}"))
}

/// Checks a bundle offline; returns an error naming the first thing that does not hold.
pub fn verify(args: &VerifyBundleArgs) -> anyhow::Result<Verdict> {
    let file = std::fs::File::open(&args.file)
        .map_err(|e| anyhow!("cannot open {}: {e}", args.file.display()))?;
    let mut zip = zip::ZipArchive::new(file)
        .map_err(|e| anyhow!("{} is not a ZIP evidence bundle: {e}", args.file.display()))?;
    let manifest: Manifest = json(&mut zip, "manifest.json")?;
    if manifest.format != FORMAT {
        bail!(
            "the bundle is in format {:?}, whose ledger entry does not record the hashes of the \
             read and its images, so its contents cannot be verified: ask for the read to be \
             exported again (format {FORMAT})",
            manifest.format
        );
    }
    let anchors = Anchors {
        public_key: match &args.public_key {
            Some(p) => Some(anpr_ledger::keys::read_public_key(p)?),
            None => None,
        },
        witnesses: &args.witnesses,
    };
    let head: TreeHead = json(&mut zip, "ledger/tree-head.json")?;
    let bundled = anpr_ledger::keys::parse_public_key(
        &String::from_utf8(member(&mut zip, "ledger/public-key.pem")?)
            .map_err(|_| anyhow!("ledger/public-key.pem in the bundle is not text"))?,
    )?;
    let has_checkpoint = zip.by_name(super::CHECKPOINT_MEMBER).is_ok();
    let checkpoint = match has_checkpoint {
        true => Some(
            String::from_utf8(member(&mut zip, super::CHECKPOINT_MEMBER)?)
                .map_err(|_| anyhow!("{} in the bundle is not text", super::CHECKPOINT_MEMBER))?,
        ),
        false => None,
    };
    let trust = trust(&head, &anchors, &bundled, checkpoint.as_deref())?;
    let (entry, event, evidence) = proven_entry(&mut zip, &manifest, &head)?;
    check_images(&mut zip, &evidence)?;
    let read = check_read(&mut zip, &evidence, &manifest, &event)?;
    let expected: Vec<(String, String)> = evidence
        .images
        .iter()
        .map(|(role, sha)| (image_name(role, sha), sha.clone()))
        .collect();
    let mut listed = manifest.images.clone();
    listed.sort();
    ensure!(
        listed == expected,
        "manifest.json lists other images than the export recorded: the manifest was altered"
    );
    let what = format!(
        "read {} with {} image(s); export recorded as ledger entry {} by {}, included in the signed tree of {} entries",
        read.id,
        evidence.images.len(),
        entry.index,
        event.actor.id,
        head.size
    );
    Ok(match trust {
        Trust::Key(id) => Verdict {
            trusted: true,
            message: format!("OK: {what}, signed by the deployment key {id} you gave"),
        },
        Trust::Witnesses(names) => Verdict {
            trusted: true,
            message: format!(
                "OK: {what}, its tree head cosigned by the witness(es) you trust: {}",
                names.join(", ")
            ),
        },
        Trust::Unverified(id) => Verdict {
            trusted: false,
            message: format!(
                "UNVERIFIED: {what}. The read record and images match the hashes in that ledger \
                 entry and the entry is in the tree head, but the head is signed only by the key \
                 inside the bundle ({id}), which anyone can make: who produced the bundle was not \
                 checked. Pass --public-key FILE with the deployment's public key, obtained from \
                 its operators and not from the bundle, or --witness-key with the keys of \
                 witnesses you trust."
            ),
        },
    })
}

/// The export's entry, proven included under `head`, with the hashes it records.
fn proven_entry(
    zip: &mut Zip,
    manifest: &Manifest,
    head: &TreeHead,
) -> anyhow::Result<(StoredEntry, Event, EvidenceDigest)> {
    let entry: StoredEntry = json(zip, "ledger/entry.json")?;
    let proof: InclusionProof = json(zip, "ledger/inclusion.json")?;
    ensure!(
        entry.index == manifest.export_entry_index && proof.index == entry.index,
        "the ledger entry in the bundle is not the export's entry {} that manifest.json names",
        manifest.export_entry_index
    );
    ensure!(
        proof.size == head.size,
        "the inclusion proof is for a tree of {} entries, not the signed tree head's {}",
        proof.size,
        head.size
    );
    ensure!(
        anpr_ledger::entry_leaf_hash(entry.body.as_bytes()) == entry.leaf_hash
            && proof.leaf_hash == entry.leaf_hash,
        "the ledger entry does not hash to its leaf: the entry was altered"
    );
    proof.verify(&head.root_hash).map_err(|e| {
        anyhow!("the ledger entry is not proven in the signed tree head ({e}): the entry or the proof was altered")
    })?;
    let event = Event::decode(entry.body.as_bytes())
        .map_err(|e| anyhow!("the ledger entry is not a valid entry: {e}"))?;
    ensure!(
        event.seq == entry.index,
        "the ledger entry says it is entry {}, not {}",
        event.seq,
        entry.index
    );
    ensure!(
        event.action == Action::Export && event.outcome.result == OutcomeKind::Granted,
        "the ledger entry is not a granted export"
    );
    let evidence = EvidenceDigest::from_query(&event.query)?.ok_or_else(|| {
        anyhow!(
            "the export's ledger entry does not record the hashes of the read and its images, so \
             the bundle's contents cannot be verified: ask for the read to be exported again"
        )
    })?;
    Ok((entry, event, evidence))
}

/// Every image the entry records is in the bundle with its bytes, and nothing else is.
fn check_images(zip: &mut Zip, evidence: &EvidenceDigest) -> anyhow::Result<()> {
    let names: Vec<String> = zip.file_names().map(str::to_owned).collect();
    let mut images: BTreeSet<&str> = BTreeSet::new();
    for name in &names {
        if name.starts_with("images/") {
            images.insert(name);
        } else if !FIXED_MEMBERS.contains(&name.as_str()) {
            bail!("the bundle holds {name}, which is no part of an evidence bundle: it was added");
        }
    }
    for (role, sha) in &evidence.images {
        let prefix = format!("images/{role}-");
        let mut of_role = images.iter().filter(|n| n.starts_with(&prefix));
        let name = of_role.next().ok_or_else(|| {
            anyhow!("the {role} image is missing: the export recorded one (SHA-256 {sha}), the bundle has none")
        })?;
        let name = name.to_string();
        let actual = anpr_ledger::evidence::bytes_sha256(&member(zip, &name)?);
        ensure!(
            &actual == sha,
            "{name} does not match the SHA-256 the export's ledger entry records for the {role} \
             image ({sha}): the image was replaced or altered after export"
        );
        images.remove(name.as_str());
    }
    if let Some(extra) = images.first() {
        bail!("{extra} is not an image the export recorded: it was added to the bundle");
    }
    Ok(())
}

/// read.json is the record the entry binds, of the read the entry and the manifest name.
fn check_read(
    zip: &mut Zip,
    evidence: &EvidenceDigest,
    manifest: &Manifest,
    event: &Event,
) -> anyhow::Result<anpr_domain::PlateRead> {
    let bytes = member(zip, "read.json")?;
    let record: serde_json::Value =
        serde_json::from_slice(&bytes).map_err(|e| anyhow!("read.json is not JSON: {e}"))?;
    let actual = EvidenceDigest::record_sha256(&record);
    ensure!(
        actual == evidence.read_sha256,
        "read.json does not match the read record the export's ledger entry binds (SHA-256 \
         {actual}, recorded {}): the read's details were changed after export",
        evidence.read_sha256
    );
    let read: anpr_domain::PlateRead = serde_json::from_value(record)
        .map_err(|e| anyhow!("read.json is not a read record: {e}"))?;
    ensure!(
        read.id == manifest.read_id
            && event.query["read_id"] == read.id
            && event.result == Some(ResultDigest::of_ids(&[read.id])),
        "the ledger entry, manifest.json and read.json do not name the same read"
    );
    Ok(read)
}

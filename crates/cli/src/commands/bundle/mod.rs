//! Evidence bundles: a read, its images, their hashes and the ledger's proof that the export
//! was recorded, in one ZIP that can be checked offline by anyone with the public key.
//!
//! The export's ledger entry binds the contents ([`anpr_ledger::EvidenceDigest`]: the SHA-256
//! of the read record's canonical JSON and of each image by role), so the inclusion proof under
//! a signed head proves what the bundle holds, not only that the read was exported.

mod verify;

pub use verify::verify;

use anpr_app::audit::{AuditHandle, Channel};
use anpr_domain::{ImageHash, Purpose};
use anpr_ledger::{Action, EvidenceDigest, InclusionProof, Outcome, StoredEntry, TreeHead};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::Write;
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ExportArgs {
    /// The read's number, as `anpr search` prints it in its first column.
    pub id: i64,
    /// Where to write the ZIP bundle, a file path (default: read-<id>.zip here).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Staff id of the person exporting (password from ANPR_PASSWORD or standard input).
    #[arg(long)]
    pub staff_id: String,
    /// Purpose code of the export, one the incident's type allows (e.g. stolen_vehicle).
    #[arg(long)]
    pub purpose: String,
    /// Incident file number from the incident register (e.g. 260101/1) the evidence is for.
    #[arg(long)]
    pub file_number: String,
    /// Why the evidence is exported, in words: at least 20 characters and 3 different words.
    #[arg(long)]
    pub justification: String,
    /// Wait until this many witnesses cosigned the export's tree head (pushed by the running
    /// server), so that the bundle can be verified with their keys instead of the deployment's.
    #[arg(long, default_value_t = 0)]
    pub cosignatures: usize,
    /// How long to wait for those cosignatures, in seconds.
    #[arg(long, default_value_t = 60)]
    pub wait_seconds: u64,
}

#[derive(Args)]
pub struct VerifyBundleArgs {
    /// The bundle, a ZIP file written by `anpr export read` or the web UI's export.
    pub file: PathBuf,
    /// The deployment's public key, obtained from the deployment's operators (never from the
    /// bundle). Without it the bundle is checked against the key it carries, which anyone can
    /// make: the result is UNVERIFIED and the command exits with status 2.
    #[arg(long)]
    pub public_key: Option<PathBuf>,
    /// Witnesses whose cosignatures on the bundle's tree head vouch for it, with or without
    /// the deployment's key.
    #[command(flatten)]
    pub witnesses: super::witness_args::WitnessArgs,
}

/// The checkpoint of the head of `size` with its cosignatures, once it has `cosignatures` of
/// them (the server pushes new heads to its witnesses within seconds).
async fn cosigned_checkpoint(
    ledger: &std::sync::Arc<anpr_ledger::Ledger>,
    size: u64,
    (cosignatures, wait_seconds): (usize, u64),
) -> anyhow::Result<Option<String>> {
    let started = std::time::Instant::now();
    loop {
        let l = ledger.clone();
        let note = tokio::task::spawn_blocking(move || l.checkpoint(size)).await??;
        // The log signs under its origin's name; every other signature is a witness's.
        let cosigned = note.as_ref().map_or(0, |n| {
            n.signatures
                .iter()
                .filter(|sig| sig.name != ledger.origin())
                .count()
        });
        if cosigned >= cosignatures {
            return Ok(note.map(|n| n.to_string()));
        }
        if started.elapsed().as_secs() >= wait_seconds {
            anyhow::bail!(
                "only {cosigned} witness(es) cosigned the export's tree head within {} s, not the                  {} asked for: check that the server runs with --witness and its witnesses are                  up, then export again (or leave out --cosignatures)",
                wait_seconds,
                cosignatures
            );
        }
        tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    }
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    read_id: i64,
    /// File name in the bundle → SHA-256.
    images: Vec<(String, String)>,
    export_entry_index: u64,
}

/// Format 1 bundles' entries bound only the read id: they cannot be verified.
const FORMAT: &str = "anpr-evidence-bundle/2";

/// The members every bundle holds besides its images (under `images/`).
/// The signed checkpoint of the bundle's head with the witnesses' cosignatures, when any.
const CHECKPOINT_MEMBER: &str = "ledger/checkpoint.txt";

const FIXED_MEMBERS: [&str; 7] = [
    "manifest.json",
    "read.json",
    "ledger/entry.json",
    "ledger/inclusion.json",
    "ledger/tree-head.json",
    "ledger/public-key.pem",
    CHECKPOINT_MEMBER,
];

pub async fn export(data: &Path, args: ExportArgs) -> anyhow::Result<()> {
    let wanted = (args.cosignatures, args.wait_seconds);
    let purpose = Purpose {
        code: args.purpose,
        file_number: args.file_number,
        justification: args.justification,
    };
    let state = super::open(data).await?;
    // An export is a data access like any other: the same policy decides, and records; the
    // export is in the ledger, granted or refused, before anything is written.
    let user = super::sign_in(&state, &args.staff_id).await?;
    let audit = AuditHandle::for_staff(Channel::Cli, &user, Action::Export);
    audit.purpose(&purpose);
    audit.query(serde_json::json!({ "read_id": args.id, "kind": "evidence_bundle" }));
    let read = match anpr_app::access::authorise_read(
        &state,
        &user,
        args.id,
        anpr_policy::DataAction::Export,
        Some(purpose.clone()),
        Some(&audit),
    )
    .await
    {
        Ok((_access, read)) => read,
        Err(e) => {
            return Err(super::in_use(&state, &audit, async { Err::<(), _>(e) })
                .await
                .unwrap_err())
        }
    };
    let mut images: Vec<(&str, ImageHash, Vec<u8>)> = Vec::new();
    for (kind, hash) in [
        ("overview", &read.overview_image),
        ("plate", &read.plate_image),
    ] {
        if let Some(h) = hash {
            let bytes = state
                .blobs
                .get(h)?
                .ok_or_else(|| anyhow::anyhow!("the {kind} image {} is missing", h.as_str()))?;
            images.push((kind, h.clone(), bytes));
        }
    }
    // The entry binds the bytes written: the record is hashed as read back from read.json.
    let read_json = serde_json::to_vec_pretty(&read)?;
    let record: serde_json::Value = serde_json::from_slice(&read_json)?;
    let roles: Vec<(&str, &[u8])> = images.iter().map(|(k, _, b)| (*k, b.as_slice())).collect();
    let mut query = serde_json::json!({ "read_id": args.id, "kind": "evidence_bundle" });
    EvidenceDigest::of(&record, &roles).write_into(&mut query);
    audit.query(query);
    audit.disclosed(&[read.id]);
    let index = audit
        .finish(&state, Outcome::granted(), Default::default())
        .await?;
    let ledger = state.ledger.clone();
    let (head, entry, proof) = tokio::task::spawn_blocking(
        move || -> anpr_ledger::Result<(TreeHead, StoredEntry, InclusionProof)> {
            let head = ledger.sign_tree_head()?;
            let entry = ledger
                .entries(index, index + 1)?
                .into_iter()
                .next()
                .ok_or_else(|| anpr_ledger::Error::InvalidArgument("entry vanished".into()))?;
            let proof = ledger.inclusion_proof(index, head.size)?;
            Ok((head, entry, proof))
        },
    )
    .await??;
    let public_key = anpr_ledger::keys::public_key_pem(&state.ledger.public_key());
    let checkpoint = cosigned_checkpoint(&state.ledger, head.size, wanted).await?;

    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("read-{}.zip", read.id)));
    let manifest = Manifest {
        format: FORMAT.into(),
        read_id: read.id,
        images: images
            .iter()
            .map(|(role, h, _)| (image_name(role, h.as_str()), h.as_str().to_string()))
            .collect(),
        export_entry_index: index,
    };
    let file = std::fs::File::create(&out)?;
    let mut zip = zip::ZipWriter::new(file);
    let opts = zip::write::SimpleFileOptions::default();
    let mut add = |name: &str, bytes: &[u8]| -> anyhow::Result<()> {
        zip.start_file(name, opts)?;
        zip.write_all(bytes)?;
        Ok(())
    };
    add("manifest.json", &serde_json::to_vec_pretty(&manifest)?)?;
    add("read.json", &read_json)?;
    for (role, h, bytes) in &images {
        add(&image_name(role, h.as_str()), bytes)?;
    }
    add("ledger/entry.json", &serde_json::to_vec_pretty(&entry)?)?;
    add("ledger/inclusion.json", &serde_json::to_vec_pretty(&proof)?)?;
    add("ledger/tree-head.json", &serde_json::to_vec_pretty(&head)?)?;
    add("ledger/public-key.pem", public_key.as_bytes())?;
    if let Some(note) = &checkpoint {
        add(CHECKPOINT_MEMBER, note.as_bytes())?;
    }
    zip.finish()?;
    println!(
        "wrote {} (read {}, {} image(s), ledger entry {index} in tree of {})",
        out.display(),
        read.id,
        images.len(),
        head.size
    );
    Ok(())
}

/// An image's member name: its role first, so a verifier finds the image of each role.
fn image_name(role: &str, sha256: &str) -> String {
    format!("images/{role}-{sha256}.jpg")
}

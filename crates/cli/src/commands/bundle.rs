//! Evidence bundles: a read, its images, their hashes and the ledger's proof that the export
//! was recorded, in one ZIP that can be checked offline by anyone with the public key.

use anpr_app::audit::{AuditHandle, Channel};
use anpr_app::auth::staff_actor;
use anpr_domain::{ImageHash, Purpose};
use anpr_ledger::{Action, Event, InclusionProof, Outcome, ResultDigest, StoredEntry, TreeHead};
use clap::Args;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

#[derive(Args)]
pub struct ExportArgs {
    /// The read to export.
    pub id: i64,
    /// Where to write the bundle (default: read-<id>.zip).
    #[arg(long)]
    pub out: Option<PathBuf>,
    /// Staff id of the person exporting (password from ANPR_PASSWORD or standard input).
    #[arg(long)]
    pub staff_id: String,
    #[arg(long)]
    pub purpose: String,
    #[arg(long)]
    pub file_number: String,
    #[arg(long)]
    pub justification: String,
}

#[derive(Args)]
pub struct VerifyBundleArgs {
    pub file: PathBuf,
    /// The deployment's public key obtained out of band; without it the key inside the bundle
    /// is used (which proves integrity, not origin).
    #[arg(long)]
    pub public_key: Option<PathBuf>,
}

#[derive(Serialize, Deserialize)]
struct Manifest {
    format: String,
    read_id: i64,
    /// File name in the bundle → SHA-256.
    images: Vec<(String, String)>,
    export_entry_index: u64,
}

const FORMAT: &str = "anpr-evidence-bundle/1";

pub async fn export(data: &Path, args: ExportArgs) -> anyhow::Result<()> {
    let purpose = Purpose {
        code: args.purpose,
        file_number: args.file_number,
        justification: args.justification,
    };
    let state = super::open(data).await?;
    // An export is a data access like any other: the same policy decides, and records; the
    // export is in the ledger, granted or refused, before anything is written.
    let user = super::sign_in(&state, &args.staff_id).await?;
    let audit = AuditHandle::new(Channel::Cli, staff_actor(&user), Action::Export);
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
    let mut images: Vec<(String, ImageHash, Vec<u8>)> = Vec::new();
    for (kind, hash) in [
        ("overview", &read.overview_image),
        ("plate", &read.plate_image),
    ] {
        if let Some(h) = hash {
            let bytes = state
                .blobs
                .get(h)?
                .ok_or_else(|| anyhow::anyhow!("the {kind} image {} is missing", h.as_str()))?;
            images.push((
                format!("images/{kind}-{}.jpg", h.as_str()),
                h.clone(),
                bytes,
            ));
        }
    }
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

    let out = args
        .out
        .unwrap_or_else(|| PathBuf::from(format!("read-{}.zip", read.id)));
    let manifest = Manifest {
        format: FORMAT.into(),
        read_id: read.id,
        images: images
            .iter()
            .map(|(name, h, _)| (name.clone(), h.as_str().to_string()))
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
    add("read.json", &serde_json::to_vec_pretty(&read)?)?;
    for (name, _, bytes) in &images {
        add(name, bytes)?;
    }
    add("ledger/entry.json", &serde_json::to_vec_pretty(&entry)?)?;
    add("ledger/inclusion.json", &serde_json::to_vec_pretty(&proof)?)?;
    add("ledger/tree-head.json", &serde_json::to_vec_pretty(&head)?)?;
    add("ledger/public-key.pem", public_key.as_bytes())?;
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

fn member(zip: &mut zip::ZipArchive<std::fs::File>, name: &str) -> anyhow::Result<Vec<u8>> {
    let mut f = zip
        .by_name(name)
        .map_err(|_| anyhow::anyhow!("the bundle has no {name}"))?;
    let mut out = Vec::new();
    f.read_to_end(&mut out)?;
    Ok(out)
}

/// Checks a bundle offline; returns an error naming the first thing that does not hold.
pub fn verify(args: &VerifyBundleArgs) -> anyhow::Result<String> {
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&args.file)?)?;
    let manifest: Manifest = serde_json::from_slice(&member(&mut zip, "manifest.json")?)?;
    anyhow::ensure!(
        manifest.format == FORMAT,
        "unknown bundle format {}",
        manifest.format
    );
    let read: anpr_domain::PlateRead = serde_json::from_slice(&member(&mut zip, "read.json")?)?;
    anyhow::ensure!(
        read.id == manifest.read_id,
        "read.json is not read {}",
        manifest.read_id
    );
    for (name, sha) in &manifest.images {
        let bytes = member(&mut zip, name)?;
        let actual = anpr_blobs::hash_of(&bytes);
        anyhow::ensure!(actual.as_str() == sha, "{name} does not match its SHA-256");
        let referenced = [&read.overview_image, &read.plate_image]
            .iter()
            .any(|h| h.as_ref().is_some_and(|h| h.as_str() == sha));
        anyhow::ensure!(referenced, "{name} is not an image of read {}", read.id);
    }
    let entry: StoredEntry = serde_json::from_slice(&member(&mut zip, "ledger/entry.json")?)?;
    let proof: InclusionProof =
        serde_json::from_slice(&member(&mut zip, "ledger/inclusion.json")?)?;
    let head: TreeHead = serde_json::from_slice(&member(&mut zip, "ledger/tree-head.json")?)?;
    let key = match &args.public_key {
        Some(p) => anpr_ledger::keys::read_public_key(p)?,
        None => anpr_ledger::keys::parse_public_key(&String::from_utf8(member(
            &mut zip,
            "ledger/public-key.pem",
        )?)?)?,
    };
    head.verify_signature(&key)
        .map_err(|e| anyhow::anyhow!("tree head signature: {e}"))?;
    anyhow::ensure!(
        entry.index == manifest.export_entry_index && proof.index == entry.index,
        "the ledger entry is not the export's"
    );
    anyhow::ensure!(
        proof.size == head.size,
        "the proof is not for the signed head"
    );
    anyhow::ensure!(
        anpr_ledger::merkle::leaf_hash(entry.body.as_bytes()) == entry.leaf_hash
            && proof.leaf_hash == entry.leaf_hash,
        "the ledger entry does not hash to its leaf"
    );
    proof
        .verify(&head.root_hash)
        .map_err(|e| anyhow::anyhow!("inclusion proof: {e}"))?;
    let event = Event::decode(entry.body.as_bytes())?;
    anyhow::ensure!(
        event.action == Action::Export,
        "the ledger entry is not an export"
    );
    anyhow::ensure!(
        event.query["read_id"] == read.id && event.result == Some(ResultDigest::of_ids(&[read.id])),
        "the ledger entry records another read"
    );
    Ok(format!(
        "OK: read {} with {} image(s); export recorded as ledger entry {} by {}, included in the signed tree of {} entries",
        read.id,
        manifest.images.len(),
        entry.index,
        event.actor.id,
        head.size
    ))
}

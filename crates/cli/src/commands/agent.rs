//! `anpr agent`: the camera-side edge agent.
//!
//! An IP camera uploads its JPEGs into a folder (the common FTP-upload integration); the agent
//! watches the folder, recognises each photo, and posts the read with its plate crop and the
//! photo as overview image to the server, authenticated with the camera's key.
//!
//! The folder itself is the spool: a photo is deleted only once the server has acknowledged
//! its read, and photos are sent oldest first, one at a time, so a server that is down for a
//! day loses nothing and receives the reads in order when it comes back. A file that is not a
//! photo (or is truncated) goes to `quarantine/` with a `.reason` file beside it; a photo with
//! no plate in it goes to `no-plate/`. Neither stops the agent.

use anpr_app::decoding::{DecodeBudget, DecodeConfig};
use anpr_app::AppError;
use anpr_recognition::decode::{decode_cost, decode_photo};
use anpr_recognition::{PlateResult, Recogniser, RecognitionError};
use clap::Args;
use image::RgbImage;
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

#[derive(Args, Clone)]
pub struct AgentArgs {
    /// The folder the camera drops its JPEGs into.
    #[arg(long)]
    pub watch: PathBuf,
    /// The server's base URL (`http://anpr.example:8080`).
    #[arg(long)]
    pub server: String,
    /// The camera's API key (as `anpr camera add` printed it).
    #[arg(long, env = "ANPR_CAMERA_KEY", hide_env_values = true)]
    pub camera_key: String,
    /// The recognition models (default: the data directory's models/).
    #[arg(long = "models", env = "ANPR_MODELS_DIR")]
    pub models: Option<PathBuf>,
    /// How often the folder is scanned, in milliseconds.
    #[arg(long, default_value_t = 500)]
    pub poll_ms: u64,
    /// A file counts as completely written once its size and modification time have not
    /// changed for this long, in milliseconds (an FTP upload arrives in pieces).
    #[arg(long, default_value_t = 1000)]
    pub settle_ms: u64,
    /// The longest wait between retries while the server is unreachable, in seconds.
    #[arg(long, default_value_t = 30)]
    pub max_backoff_s: u64,
}

/// Where photos the agent will not send go, under the watched folder.
pub const QUARANTINE: &str = "quarantine";
pub const NO_PLATE: &str = "no-plate";

pub async fn run(data: &Path, args: AgentArgs) -> anyhow::Result<()> {
    let models = args
        .models
        .clone()
        .unwrap_or_else(|| anpr_recognition::models::model_dir(data));
    let recogniser =
        tokio::task::spawn_blocking(move || Recogniser::load(&models, Default::default()))
            .await??;
    let mut agent = Agent::new(args, Arc::new(recogniser))?;
    tracing::info!(folder = %agent.args.watch.display(), server = %agent.args.server, "agent watching");
    tokio::select! {
        r = agent.run() => r,
        _ = tokio::signal::ctrl_c() => {
            tracing::info!("agent stopped; unsent photos stay in the folder");
            Ok(())
        }
    }
}

/// What became of one photo.
#[derive(Debug, PartialEq, Eq)]
pub enum Outcome {
    /// The server stored the read (or already had it); the photo is deleted.
    Sent,
    /// No plate was found; the photo is kept in `no-plate/`.
    NoPlate,
    /// The file is not a readable photo, or the server refused the read for good.
    Quarantined,
    /// The file went away before it was read.
    Gone,
}

pub struct Agent {
    args: AgentArgs,
    recogniser: Arc<Recogniser>,
    /// The agent decodes one photo at a time; the budget still refuses a photo that alone
    /// would take more memory than a decoding thread is given.
    decode_budget: DecodeBudget,
    http: reqwest::Client,
    /// Each file's last seen (size, modification time) and since when it has been unchanged.
    seen: HashMap<PathBuf, ((u64, SystemTime), Instant)>,
}

/// A read ready to post.
struct Prepared {
    metadata: serde_json::Value,
    overview: Vec<u8>,
    plate_crop: Vec<u8>,
    plate: String,
}

impl Agent {
    pub fn new(args: AgentArgs, recogniser: Arc<Recogniser>) -> anyhow::Result<Agent> {
        std::fs::create_dir_all(&args.watch)?;
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(60))
            .connect_timeout(Duration::from_secs(10))
            .build()?;
        Ok(Agent {
            args,
            recogniser,
            decode_budget: DecodeBudget::new(&DecodeConfig::for_threads(1)),
            http,
            seen: HashMap::new(),
        })
    }

    /// Watches the folder until the process ends.
    pub async fn run(&mut self) -> anyhow::Result<()> {
        loop {
            for path in self.ready_files()? {
                self.process(&path).await?;
            }
            tokio::time::sleep(Duration::from_millis(self.args.poll_ms)).await;
        }
    }

    /// The files whose size and modification time have settled, oldest first. Hidden files
    /// (an FTP server's temporary names) and folders are left alone.
    pub fn ready_files(&mut self) -> anyhow::Result<Vec<PathBuf>> {
        let now = Instant::now();
        let settle = Duration::from_millis(self.args.settle_ms);
        let mut present = HashMap::new();
        for entry in std::fs::read_dir(&self.args.watch)? {
            let Ok(entry) = entry else { continue };
            let name = entry.file_name();
            if name.to_string_lossy().starts_with('.') {
                continue;
            }
            let Ok(meta) = entry.metadata() else { continue };
            if !meta.is_file() {
                continue;
            }
            let signature = (
                meta.len(),
                meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
            );
            present.insert(entry.path(), signature);
        }
        self.seen.retain(|p, _| present.contains_key(p));
        let mut ready = Vec::new();
        for (path, signature) in present {
            match self.seen.get(&path) {
                Some((s, since)) if *s == signature => {
                    if now.duration_since(*since) >= settle {
                        ready.push((signature.1, path));
                    }
                }
                _ => {
                    self.seen.insert(path, (signature, now));
                }
            }
        }
        ready.sort();
        Ok(ready.into_iter().map(|(_, p)| p).collect())
    }

    /// Recognises one settled photo and sends its read, retrying until the server answers.
    pub async fn process(&mut self, path: &Path) -> anyhow::Result<Outcome> {
        let bytes = match std::fs::read(path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Outcome::Gone),
            Err(e) => {
                self.set_aside(path, QUARANTINE, &format!("cannot be read: {e}"))?;
                return Ok(Outcome::Quarantined);
            }
        };
        let captured = std::fs::metadata(path)
            .and_then(|m| m.modified())
            .unwrap_or_else(|_| SystemTime::now());
        let room = match decode_cost(&bytes) {
            Ok(cost) => self.decode_budget.admit(&cost, "photo").await,
            Err(e) => {
                self.set_aside(path, QUARANTINE, &format!("not a readable photo: {e}"))?;
                return Ok(Outcome::Quarantined);
            }
        };
        let room = match room {
            Ok(room) => room,
            Err(e @ AppError::TooLarge { .. }) => {
                self.set_aside(path, QUARANTINE, &e.to_string())?;
                return Ok(Outcome::Quarantined);
            }
            Err(e) => return Err(e.into()),
        };
        let recogniser = self.recogniser.clone();
        let started = Instant::now();
        let (bytes, result) = tokio::task::spawn_blocking(move || {
            let result = recognise(&recogniser, &bytes);
            drop(room);
            (bytes, result)
        })
        .await?;
        let (plate, crop) = match result {
            Ok(Some(found)) => found,
            Ok(None) => {
                self.set_aside(path, NO_PLATE, "no plate was found in the photo")?;
                return Ok(Outcome::NoPlate);
            }
            Err(e @ (RecognitionError::Decode(_) | RecognitionError::TooLarge { .. })) => {
                self.set_aside(path, QUARANTINE, &format!("not a readable photo: {e}"))?;
                return Ok(Outcome::Quarantined);
            }
            // The models themselves failed: no photo is to blame, so stop rather than
            // quarantine every photo that follows.
            Err(e) => return Err(e.into()),
        };
        tracing::info!(file = %path.display(), plate = %plate.plate, confidence = plate.confidence,
            ms = started.elapsed().as_millis() as u64, "recognised");
        let prepared = Prepared {
            metadata: metadata(&plate, captured, &bytes),
            plate: plate.plate,
            overview: bytes,
            plate_crop: crop,
        };
        self.send(path, prepared).await
    }

    /// Posts the read until the server acknowledges or refuses it, backing off while it is
    /// unreachable or failing.
    async fn send(&mut self, path: &Path, read: Prepared) -> anyhow::Result<Outcome> {
        let url = format!("{}/api/v1/reads", self.args.server.trim_end_matches('/'));
        let cap = Duration::from_secs(self.args.max_backoff_s.max(1));
        let mut wait = Duration::from_millis(500).min(cap);
        loop {
            if !path.exists() {
                // Someone took the photo away while the server was down.
                return Ok(Outcome::Gone);
            }
            let form = reqwest::multipart::Form::new()
                .part(
                    "metadata",
                    reqwest::multipart::Part::text(read.metadata.to_string())
                        .mime_str("application/json")?,
                )
                .part(
                    "overview_image",
                    reqwest::multipart::Part::bytes(read.overview.clone())
                        .file_name("overview.jpg")
                        .mime_str("image/jpeg")?,
                )
                .part(
                    "plate_image",
                    reqwest::multipart::Part::bytes(read.plate_crop.clone())
                        .file_name("plate.jpg")
                        .mime_str("image/jpeg")?,
                );
            let response = self
                .http
                .post(&url)
                .bearer_auth(&self.args.camera_key)
                .multipart(form)
                .send()
                .await;
            let retry_reason = match response {
                Ok(r) if r.status().is_success() => {
                    std::fs::remove_file(path)?;
                    self.seen.remove(path);
                    tracing::info!(file = %path.display(), plate = %read.plate, "read sent; photo deleted");
                    return Ok(Outcome::Sent);
                }
                Ok(r) => {
                    let status = r.status();
                    let body = r.text().await.unwrap_or_default();
                    // A wrong key, rate limiting, an overloaded or failing server: nothing is
                    // wrong with the photo, so it waits. Any other refusal is about this read
                    // and would be refused forever.
                    let transient = status.is_server_error()
                        || matches!(status.as_u16(), 401 | 403 | 408 | 429);
                    if !transient {
                        self.set_aside(
                            path,
                            QUARANTINE,
                            &format!("the server refused the read ({status}): {body}"),
                        )?;
                        return Ok(Outcome::Quarantined);
                    }
                    format!("server answered {status}: {body}")
                }
                Err(e) => format!("server unreachable: {e}"),
            };
            tracing::warn!(file = %path.display(), retry_in_ms = wait.as_millis() as u64,
                "{retry_reason}; the photo stays in the folder");
            tokio::time::sleep(wait).await;
            wait = (wait * 2).min(cap);
        }
    }

    /// Moves a file into a subfolder of the watched folder, with the reason beside it.
    fn set_aside(&mut self, path: &Path, folder: &str, reason: &str) -> anyhow::Result<()> {
        let dir = self.args.watch.join(folder);
        std::fs::create_dir_all(&dir)?;
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().to_string())
            .unwrap_or_else(|| "unnamed".into());
        let mut target = dir.join(&name);
        if target.exists() {
            let stamp = SystemTime::now()
                .duration_since(SystemTime::UNIX_EPOCH)
                .map_or(0, |d| d.as_millis());
            target = dir.join(format!("{stamp}-{name}"));
        }
        std::fs::rename(path, &target)?;
        let mut reason_file = target.clone().into_os_string();
        reason_file.push(".reason");
        std::fs::write(&reason_file, format!("{reason}\n"))?;
        self.seen.remove(path);
        tracing::warn!(file = %path.display(), to = %target.display(), reason, "photo set aside");
        Ok(())
    }
}

/// The best plate in a photo and a JPEG of it cut from the photo; `None` when there is none.
fn recognise(
    recogniser: &Recogniser,
    bytes: &[u8],
) -> Result<Option<(PlateResult, Vec<u8>)>, RecognitionError> {
    let photo = decode_photo(bytes)?;
    let Some(best) = recogniser.recognise(&photo)?.into_iter().next() else {
        return Ok(None);
    };
    let crop = plate_crop(&photo, &best)?;
    Ok(Some((best, crop)))
}

/// The plate's box with a margin of a quarter of its height, clamped to the photo, as JPEG.
fn plate_crop(photo: &RgbImage, plate: &PlateResult) -> Result<Vec<u8>, RecognitionError> {
    let b = plate.plate_box;
    let margin = b.height / 4;
    let x0 =
        b.x.saturating_sub(margin)
            .min(photo.width().saturating_sub(1));
    let y0 =
        b.y.saturating_sub(margin)
            .min(photo.height().saturating_sub(1));
    let x1 = (b.x + b.width + margin).min(photo.width()).max(x0 + 1);
    let y1 = (b.y + b.height + margin).min(photo.height()).max(y0 + 1);
    let crop = image::imageops::crop_imm(photo, x0, y0, x1 - x0, y1 - y0).to_image();
    let mut out = Vec::new();
    image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)
        .encode_image(&crop)
        .map_err(|e| RecognitionError::Decode(format!("cannot encode the plate crop: {e}")))?;
    Ok(out)
}

/// The read as our ingest API takes it. The external id is the photo's content hash, so a
/// read re-sent after a lost acknowledgement is recognised as the same read, not stored twice.
fn metadata(plate: &PlateResult, captured: SystemTime, photo: &[u8]) -> serde_json::Value {
    let captured: chrono::DateTime<chrono::Utc> = captured.into();
    let b = plate.plate_box;
    serde_json::json!({
        "plate": plate.plate,
        "confidence": f64::from(plate.confidence / 100.0).clamp(0.0, 1.0),
        "captured_at": captured.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        "external_id": format!("agent-{}", &anpr_blobs::hash_of(photo).as_str()[..32]),
        "plate_box": {"x": b.x, "y": b.y, "width": b.width, "height": b.height},
    })
}

//! `anpr bench image-bomb`: many small PNGs that decode to 40 megapixels each, sent at once
//! as overview images without plate text, so that the server must decode every one to read it.
//!
//! The server runs as a child process (`anpr serve` with the recognition models), so that its
//! peak resident memory (VmHWM) is its own. One photo per decoding thread is sent first, so
//! that the models' plans and the threads' working memory are in place; the kernel's peak mark
//! is then reset and the burst sent. The figures: the server's peak memory during the burst,
//! how many uploads were refused with 503 (the decode budget), the bound that the budget
//! states, and the server's CPU time per photo decoded.

use super::core::{wait_healthy, ServerProcess};
use super::figure;
use anpr_app::decoding::DecodeConfig;
use anpr_recognition::decode::WORKING_BYTES;
use anpr_synth::catalog::demo_catalog;
use base64::Engine;
use clap::Args;
use serde_json::json;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Instant;

#[derive(Args)]
pub struct ImageBombArgs {
    /// Uploads sent at once.
    #[arg(long, default_value_t = 16)]
    requests: usize,
    /// Width of each photo, in pixels.
    #[arg(long, default_value_t = 7000)]
    width: u32,
    /// Height of each photo, in pixels.
    #[arg(long, default_value_t = 5700)]
    height: u32,
    /// The recognition models (without them the server decodes nothing).
    #[arg(long = "models", env = "ANPR_MODELS_DIR")]
    models: PathBuf,
    /// The server's decode budget, in MiB (default: the server's own, for this machine).
    #[arg(long)]
    decode_budget_mib: Option<u64>,
    /// The server's decoding threads (default: the server's own, one per core).
    #[arg(long)]
    decode_concurrency: Option<u64>,
    /// How long the server lets a photo wait for room, in milliseconds (default: its own).
    #[arg(long)]
    decode_wait_ms: Option<u64>,
    /// Run this `anpr` binary as the server instead of this one (another build, to compare);
    /// the `--decode-*` options are passed to it only when given.
    #[arg(long)]
    server_binary: Option<PathBuf>,
}

pub async fn run(args: ImageBombArgs) -> anyhow::Result<()> {
    anyhow::ensure!(
        anpr_recognition::models::installed(&args.models),
        "no recognition models in {}: run `anpr models install` (the server must decode to read)",
        args.models.display()
    );
    let dir = tempfile::Builder::new()
        .prefix("anpr-bench-image-bomb-")
        .tempdir_in(".")?;
    // The deployment holds personal data only in name; private like any data directory.
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o700),
    )?;
    let camera_key = {
        let state = anpr_app::App::open(dir.path(), None, Default::default()).await?;
        crate::seed::seed_catalog(&state, &demo_catalog())
            .await?
            .camera_keys
            .into_iter()
            .next()
            .ok_or_else(|| anyhow::anyhow!("the demo catalog has no camera"))?
    };

    let config = expected_config(&args);
    let port = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let binary = match &args.server_binary {
        Some(b) => b.clone(),
        None => std::env::current_exe()?,
    };
    let mut command = Command::new(binary);
    command
        .env_remove("ANPR_DATABASE_URL")
        .args(["--data", dir.path().to_str().unwrap_or("."), "serve"])
        .args(["--listen", &format!("127.0.0.1:{port}")])
        .arg("--models")
        .arg(&args.models);
    let given = [
        ("--decode-budget-mib", args.decode_budget_mib),
        ("--decode-concurrency", args.decode_concurrency),
        ("--decode-wait-ms", args.decode_wait_ms),
    ];
    for (flag, value) in given {
        if let Some(v) = value {
            command.args([flag, &v.to_string()]);
        }
    }
    let server = ServerProcess(
        command
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .spawn()?,
    );
    let base = format!("http://127.0.0.1:{port}");
    let http = reqwest::Client::builder()
        .timeout(std::time::Duration::from_secs(600))
        .build()?;
    wait_healthy(&http, &base).await?;
    let proc = server.proc();
    // Before any photo: the models are loaded, no plan is built and no thread has worked.
    let started_mib = proc.rss_mib();

    let photo = grey_png(args.width, args.height)?;
    let cost = anpr_recognition::decode::decode_cost(&photo)?;
    eprintln!(
        "bench image-bomb: {} PNGs of {} KB, {}x{} pixels ({} MiB each to decode); budget {} MiB, {} threads",
        args.requests,
        photo.len() / 1024,
        args.width,
        args.height,
        cost.bytes >> 20,
        config.budget_bytes >> 20,
        config.concurrency
    );
    let body = json!({
        "captured_at": chrono::Utc::now().to_rfc3339(),
        "overview_image": base64::engine::general_purpose::STANDARD.encode(&photo),
    })
    .to_string();

    // Warm-up: one photo per thread, one after another.
    for _ in 0..config.concurrency {
        let status = post(&http, &base, &camera_key, body.clone()).await?;
        eprintln!("warm-up photo: {status}");
    }
    let settled_mib = proc.rss_mib();
    proc.reset_peak_rss();
    let cpu_before = proc.cpu_seconds();
    let started = Instant::now();
    let uploads: Vec<_> = (0..args.requests)
        .map(|_| {
            let (http, base, key, body) =
                (http.clone(), base.clone(), camera_key.clone(), body.clone());
            tokio::spawn(async move { post(&http, &base, &key, body).await })
        })
        .collect();
    let (mut rejected, mut decoded) = (0u64, 0u64);
    for upload in uploads {
        match upload.await?? {
            503 => rejected += 1,
            // Decoded and read: a grey photo has no plate (422).
            422 | 201 => decoded += 1,
            other => anyhow::bail!("an upload was answered {other}"),
        }
    }
    let seconds = started.elapsed().as_secs_f64();
    let cpu = proc.cpu_seconds() - cpu_before;
    let peak_mib = proc.peak_rss_mib();
    drop(server);

    let mib = |bytes: u64| bytes as f64 / f64::from(1 << 20);
    // What the server holds before any photo, the budget's photos, and each thread's own
    // working memory (which the warm-up left in place).
    let bound =
        started_mib + mib(config.budget_bytes) + config.concurrency as f64 * mib(WORKING_BYTES);
    eprintln!(
        "server RSS at start {started_mib:.0} MiB, after warm-up {settled_mib:.0} MiB; \
         {decoded} decoded, {rejected} refused in {seconds:.1} s"
    );
    figure("image_bomb_peak_rss_mib", peak_mib, "MiB");
    println!("bench: image_bomb_rejected {rejected} requests");
    figure("image_bomb_rss_bound_mib", bound, "MiB");
    println!("bench: image_bomb_decoded {decoded} requests");
    if decoded > 0 {
        figure(
            "image_bomb_server_cpu_s_per_image",
            cpu / decoded as f64,
            "s",
        );
    }
    figure("image_bomb_seconds", seconds, "s");
    Ok(())
}

/// The decode settings the server runs with: what was given, else its defaults, which it
/// derives from this same machine.
fn expected_config(args: &ImageBombArgs) -> DecodeConfig {
    let mut config = match args.decode_concurrency {
        Some(n) => DecodeConfig::for_threads(n as usize),
        None => DecodeConfig::for_this_machine(),
    };
    if let Some(mib) = args.decode_budget_mib {
        config.budget_bytes = mib << 20;
    }
    config
}

/// One grey PNG: a few tens of kilobytes that decode to `width` x `height` pixels.
fn grey_png(width: u32, height: u32) -> anyhow::Result<Vec<u8>> {
    use image::codecs::png::{CompressionType, FilterType, PngEncoder};
    let grey = image::GrayImage::from_pixel(width, height, image::Luma([128]));
    let mut out = Vec::new();
    grey.write_with_encoder(PngEncoder::new_with_quality(
        &mut out,
        CompressionType::Best,
        FilterType::NoFilter,
    ))?;
    Ok(out)
}

async fn post(
    http: &reqwest::Client,
    base: &str,
    camera_key: &str,
    body: String,
) -> anyhow::Result<u16> {
    let resp = http
        .post(format!("{base}/api/v1/reads"))
        .bearer_auth(camera_key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await?;
    let status = resp.status().as_u16();
    let _ = resp.bytes().await?;
    Ok(status)
}

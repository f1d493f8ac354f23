//! Plate recognition on labelled real photos: exact accuracy, single-thread latency (decode
//! included), throughput on all cores.

use super::figure;
use crate::commands::recognise::ModelsDirArgs;
use anpr_recognition::labelled::{self, LabelledPhoto};
use anpr_recognition::{Recogniser, RecogniserOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Instant;

#[derive(clap::Args)]
pub struct RecognitionArgs {
    /// Folders of labelled photos (`NAME.jpg` with `NAME.txt`: `NAME.jpg x y w h PLATE`).
    /// Each gets its own figures, suffixed with the folder's name.
    #[arg(long, required = true, num_args = 1..)]
    images: Vec<PathBuf>,
    /// Region profiles to fit plates to (as OpenALPR's benchmark passes the country); all
    /// profiles when not given.
    #[arg(long, value_delimiter = ',')]
    region: Vec<String>,
    /// Print each photo read wrongly.
    #[arg(long)]
    verbose: bool,
    #[command(flatten)]
    models: ModelsDirArgs,
}

pub fn run(data: &Path, args: RecognitionArgs) -> anyhow::Result<()> {
    let options = RecogniserOptions {
        profiles: args.region.clone(),
        ..RecogniserOptions::default()
    };
    let recogniser = Arc::new(Recogniser::load(&args.models.resolve(data), options)?);
    let mut all = Vec::new();
    for dir in &args.images {
        let set = labelled::read_dir(dir)?;
        anyhow::ensure!(
            !set.is_empty(),
            "{} holds no labelled photos",
            dir.display()
        );
        let suffix = dir
            .file_name()
            .map(|n| format!("_{}", n.to_string_lossy()))
            .unwrap_or_default();
        // Warm the plan cache so that optimising a new input shape is not timed as reading.
        for photo in set.iter().take(8) {
            let _ = recogniser.recognise_bytes(&std::fs::read(&photo.image)?);
        }
        let (exact, mut times) = single_thread(&recogniser, &set, args.verbose)?;
        times.sort_by(f64::total_cmp);
        figure(
            &format!("recognise_exact_accuracy{suffix}"),
            100.0 * exact as f64 / set.len() as f64,
            "%",
        );
        figure(
            &format!("recognise_ms_per_image{suffix}"),
            times[times.len() / 2],
            "ms",
        );
        all.extend(set);
    }
    let start = Instant::now();
    all_cores(&recogniser, &all)?;
    figure(
        "recognise_images_per_s",
        all.len() as f64 / start.elapsed().as_secs_f64(),
        "images/s",
    );
    Ok(())
}

fn single_thread(
    recogniser: &Recogniser,
    set: &[LabelledPhoto],
    verbose: bool,
) -> anyhow::Result<(usize, Vec<f64>)> {
    let mut exact = 0;
    let mut times = Vec::with_capacity(set.len());
    for photo in set {
        let bytes = std::fs::read(&photo.image)?;
        let start = Instant::now();
        let plates = recogniser.recognise_bytes(&bytes)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        let read = plates.first().map(|p| p.plate.as_str()).unwrap_or("");
        if read == photo.plate {
            exact += 1;
        } else if verbose {
            let others: Vec<&str> = plates.iter().map(|p| p.plate.as_str()).collect();
            eprintln!(
                "{}: labelled {}, read {:?}",
                photo.image.display(),
                photo.plate,
                others
            );
        }
    }
    Ok((exact, times))
}

fn all_cores(recogniser: &Arc<Recogniser>, set: &[LabelledPhoto]) -> anyhow::Result<()> {
    let photos: Vec<Vec<u8>> = set
        .iter()
        .map(|p| std::fs::read(&p.image))
        .collect::<Result<_, _>>()?;
    let photos = Arc::new(photos);
    let next = Arc::new(AtomicUsize::new(0));
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    let workers: Vec<_> = (0..threads)
        .map(|_| {
            let (recogniser, photos, next) = (recogniser.clone(), photos.clone(), next.clone());
            std::thread::spawn(move || -> anyhow::Result<()> {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(photo) = photos.get(i) else {
                        return Ok(());
                    };
                    recogniser.recognise_bytes(photo)?;
                }
            })
        })
        .collect();
    for worker in workers {
        worker
            .join()
            .map_err(|_| anyhow::anyhow!("a recognition worker panicked"))??;
    }
    Ok(())
}

//! Plate recognition on labelled real photos: exact accuracy, single-thread latency (decode
//! included), throughput on all cores.

use super::figure;
use crate::commands::recognise::ModelsDirArgs;
use anpr_recognition::formats::PROFILES;
use anpr_recognition::labelled::{self, LabelledPhoto};
use anpr_recognition::{Recogniser, RecogniserOptions};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
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
    /// Also measure the same models run naively (whole photo at full size, no plate formats)
    /// as a baseline in the same run.
    #[arg(long)]
    baseline: bool,
    /// Also measure each folder named after a region (`eu`, `us`, ...) with that region's
    /// plate formats withheld (for `eu`, the British ones too): plates of formats the
    /// pipeline does not know, as a camera abroad or a new series would show it.
    #[arg(long)]
    unseen_formats: bool,
    /// Print each photo read wrongly.
    #[arg(long)]
    verbose: bool,
    /// For tuning: the pipeline's options instead of their defaults (see `RecogniserOptions`).
    #[command(flatten)]
    tuning: TuningArgs,
    #[command(flatten)]
    models: ModelsDirArgs,
}

/// Overrides of the pipeline's options, for measuring a change before making it the default.
#[derive(clap::Args)]
struct TuningArgs {
    /// Longer side of the detection canvas per pass (default 640,960).
    #[arg(long, value_delimiter = ',')]
    sides: Vec<u32>,
    /// Fitted-plate score that ends the search early (default 0.5).
    #[arg(long)]
    confident: Option<f32>,
    /// Characters less sure than this are dropped (default 0.4).
    #[arg(long)]
    min_char_prob: Option<f32>,
    /// Margin left and right of a box before reading, as a share of its height (default 0.15).
    #[arg(long)]
    read_margin: Option<f32>,
    /// Photos smaller than this are enlarged to it for detection (default 640; 0: never).
    #[arg(long)]
    enlarge_small_to: Option<u32>,
    /// Text shorter than this share of a surely read plate is not read (default 0.7; 0: all).
    #[arg(long)]
    skip_text_under: Option<f32>,
    /// Read with region profiles only, learning no layouts from sure reads.
    #[arg(long)]
    no_learning: bool,
}

impl TuningArgs {
    fn apply(&self, mut options: RecogniserOptions) -> RecogniserOptions {
        if !self.sides.is_empty() {
            options.detection_sides = self.sides.clone();
        }
        options.confident = self.confident.unwrap_or(options.confident);
        options.min_char_prob = self.min_char_prob.unwrap_or(options.min_char_prob);
        options.read_margin = self.read_margin.unwrap_or(options.read_margin);
        options.enlarge_small_to = self.enlarge_small_to.unwrap_or(options.enlarge_small_to);
        options.skip_text_under = self.skip_text_under.unwrap_or(options.skip_text_under);
        options.learn_formats &= !self.no_learning;
        options
    }
}

pub fn run(data: &Path, args: RecognitionArgs) -> anyhow::Result<()> {
    let models = args.models.resolve(data);
    let options = args.tuning.apply(RecogniserOptions {
        profiles: args.region.clone(),
        ..RecogniserOptions::default()
    });
    let recogniser = Recogniser::load(&models, options)?;
    // The same models run naively: detection on the whole photo at full size (up to 2000
    // pixels), boxes read as detected, reads taken as read with no plate formats.
    let baseline = if args.baseline {
        Some(Recogniser::load(
            &models,
            RecogniserOptions {
                detection_sides: vec![2000],
                profiles: vec!["none".into()],
                read_margin: 0.0,
                enlarge_small_to: 0,
                skip_text_under: 0.0,
                learn_formats: false,
                ..RecogniserOptions::default()
            },
        )?)
    } else {
        None
    };
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
        measure(&recogniser, &set, "recognise", &suffix, args.verbose)?;
        if let Some(baseline) = &baseline {
            measure(baseline, &set, "recognise_baseline", &suffix, false)?;
        }
        if args.unseen_formats {
            if let Some(profiles) = dir
                .file_name()
                .and_then(|n| profiles_without(&n.to_string_lossy()))
            {
                let blind = Recogniser::load(
                    &models,
                    RecogniserOptions {
                        profiles,
                        ..recogniser.options().clone()
                    },
                )?;
                measure(
                    &blind,
                    &set,
                    "recognise_unseen_formats",
                    &suffix,
                    args.verbose,
                )?;
            }
        }
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

/// Every region profile but the one named `folder` (and, for `eu`, the British one, whose
/// plates the European set also holds); `None` when no profile has that name.
fn profiles_without(folder: &str) -> Option<Vec<String>> {
    let withheld: &[&str] = match folder {
        "eu" => &["eu", "uk"],
        other => &[other][..],
    };
    PROFILES.iter().any(|p| p.code == folder).then(|| {
        PROFILES
            .iter()
            .filter(|p| !withheld.contains(&p.code))
            .map(|p| p.code.to_string())
            .collect()
    })
}

/// Measures `recogniser` on `set`. Layouts learned from sure reads are part of the pipeline,
/// so the set is read in two halves (alternate photos), each by a recogniser that has first
/// learned from the other half's photos alone (no labels), as a deployment that has read
/// plates for a while would; learning is off while a half is measured, so the figures do not
/// depend on the order of the photos.
fn measure(
    recogniser: &Recogniser,
    set: &[LabelledPhoto],
    name: &str,
    suffix: &str,
    verbose: bool,
) -> anyhow::Result<()> {
    let learns = recogniser.options().learn_formats;
    recogniser.set_learning(false);
    // Warm the plan cache so that optimising a new input shape is mostly not timed as reading.
    for photo in set.iter().take(8) {
        let _ = recogniser.recognise_bytes(&std::fs::read(&photo.image)?);
    }
    let (mut exact, mut times, mut cpu_times) = (0, Vec::new(), Vec::new());
    for fold in 0..2 {
        let alternate =
            |start| -> Vec<LabelledPhoto> { set.iter().skip(start).step_by(2).cloned().collect() };
        let (half, rest) = (alternate(fold), alternate(1 - fold));
        recogniser.forget_learned();
        if learns {
            recogniser.set_learning(true);
            all_cores(recogniser, &rest)?;
            recogniser.set_learning(false);
            eprintln!(
                "{name}{suffix}, half {}: layouts learned from the other half: {:?}",
                fold + 1,
                recogniser.learned_formats()
            );
        }
        let (half_exact, half_times, half_cpu_times) = single_thread(recogniser, &half, verbose)?;
        exact += half_exact;
        times.extend(half_times);
        cpu_times.extend(half_cpu_times);
    }
    times.sort_by(f64::total_cmp);
    cpu_times.sort_by(f64::total_cmp);
    figure(
        &format!("{name}_exact_accuracy{suffix}"),
        100.0 * exact as f64 / set.len() as f64,
        "%",
    );
    figure(
        &format!("{name}_ms_per_image{suffix}"),
        times[times.len() / 2],
        "ms",
    );
    // The thread's own CPU time: on a shared machine, wall time also counts waiting.
    figure(
        &format!("{name}_cpu_ms_per_image{suffix}"),
        cpu_times[cpu_times.len() / 2],
        "ms",
    );
    Ok(())
}

fn single_thread(
    recogniser: &Recogniser,
    set: &[LabelledPhoto],
    verbose: bool,
) -> anyhow::Result<(usize, Vec<f64>, Vec<f64>)> {
    let mut exact = 0;
    let mut times = Vec::with_capacity(set.len());
    let mut cpu_times = Vec::with_capacity(set.len());
    for photo in set {
        let bytes = std::fs::read(&photo.image)?;
        let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
        let plates = recogniser.recognise_bytes(&bytes)?;
        times.push(start.elapsed().as_secs_f64() * 1000.0);
        cpu_times.push(thread_cpu_ms() - cpu_start);
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
    Ok((exact, times, cpu_times))
}

/// CPU time this thread has used, in milliseconds.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

fn all_cores(recogniser: &Recogniser, set: &[LabelledPhoto]) -> anyhow::Result<()> {
    let photos: Vec<Vec<u8>> = set
        .iter()
        .map(|p| std::fs::read(&p.image))
        .collect::<Result<_, _>>()?;
    let next = AtomicUsize::new(0);
    let threads = std::thread::available_parallelism().map_or(1, |n| n.get());
    std::thread::scope(|scope| {
        let workers: Vec<_> = (0..threads)
            .map(|_| {
                scope.spawn(|| -> anyhow::Result<()> {
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
    })
}

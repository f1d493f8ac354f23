//! Quick accuracy check while tuning: `cargo run --release -p anpr-recognition --example
//! evaluate -- MODEL_DIR DIR...`. The product's benchmark is `anpr bench recognition`.
//!
//! Environment: `REGION=eu,us` fits to those profiles only, `SIDES=640,960` sets the
//! detection passes, `CONF`, `MIN_CHAR` and `MARGIN` override the options of those names
//! (`confident`, `min_char_prob`, `read_margin`), `V=1` prints each photo read wrongly.

use anpr_recognition::{labelled, Recogniser, RecogniserOptions};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 || args[0].starts_with('-') {
        eprintln!("usage: evaluate MODEL_DIR DIR...  (env: REGION SIDES CONF MIN_CHAR MARGIN V)");
        std::process::exit(2);
    }
    let mut options = RecogniserOptions::default();
    if let Ok(region) = std::env::var("REGION") {
        options.profiles = region.split(',').map(String::from).collect();
    }
    if let Ok(sides) = std::env::var("SIDES") {
        options.detection_sides = sides.split(',').map(|s| s.parse().unwrap()).collect();
    }
    let number = |name: &str| std::env::var(name).ok().map(|v| v.parse::<f32>().unwrap());
    if let Some(v) = number("CONF") {
        options.confident = v;
    }
    if let Some(v) = number("MIN_CHAR") {
        options.min_char_prob = v;
    }
    if let Some(v) = number("MARGIN") {
        options.read_margin = v;
    }
    let recogniser = Recogniser::load(Path::new(&args[0]), options)?;
    let verbose = std::env::var_os("V").is_some();
    for dir in &args[1..] {
        let set = labelled::read_dir(Path::new(dir))?;
        // Optimising a plan for a new input shape is a one-off cost, not reading time.
        for photo in set.iter().take(8) {
            recogniser.recognise_bytes(&std::fs::read(&photo.image)?)?;
        }
        let (mut exact, mut times, mut cpu_times) = (0, Vec::new(), Vec::new());
        for photo in &set {
            let bytes = std::fs::read(&photo.image)?;
            let (start, cpu_start) = (Instant::now(), thread_cpu_ms());
            let plates = recogniser.recognise_bytes(&bytes)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
            cpu_times.push(thread_cpu_ms() - cpu_start);
            let got = plates.first().map(|p| p.plate.as_str()).unwrap_or("");
            if got == photo.plate {
                exact += 1;
            } else if verbose {
                let names: Vec<_> = plates
                    .iter()
                    .map(|p| (&p.plate, p.confidence as u32))
                    .collect();
                println!(
                    "{} want {} got {:?}",
                    photo.image.display(),
                    photo.plate,
                    names
                );
            }
        }
        let mean_cpu = cpu_times.iter().sum::<f64>() / cpu_times.len() as f64;
        times.sort_by(f64::total_cmp);
        cpu_times.sort_by(f64::total_cmp);
        println!(
            "{dir}: {exact}/{} = {:.1} %, median {:.0} ms wall, {:.0} ms CPU (mean {:.0} ms CPU)",
            set.len(),
            100.0 * exact as f64 / set.len() as f64,
            times[times.len() / 2],
            cpu_times[cpu_times.len() / 2],
            mean_cpu
        );
    }
    Ok(())
}

/// CPU time this thread has used, in milliseconds: on a shared machine wall time also counts
/// waiting for a core.
fn thread_cpu_ms() -> f64 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: clock_gettime only writes the timespec it is given.
    unsafe { libc::clock_gettime(libc::CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    ts.tv_sec as f64 * 1000.0 + ts.tv_nsec as f64 / 1e6
}

//! Quick accuracy check while tuning: `cargo run --release -p anpr-recognition --example
//! evaluate -- MODEL_DIR DIR...`. The product's benchmark is `anpr bench recognition`.

use anpr_recognition::{labelled, Recogniser, RecogniserOptions};
use std::path::Path;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut options = RecogniserOptions::default();
    if let Ok(region) = std::env::var("REGION") {
        options.profiles = region.split(',').map(String::from).collect();
    }
    if let Ok(sides) = std::env::var("SIDES") {
        options.detection_sides = sides.split(',').map(|s| s.parse().unwrap()).collect();
    }
    let recogniser = Recogniser::load(Path::new(&args[0]), options)?;
    let verbose = std::env::var_os("V").is_some();
    for dir in &args[1..] {
        let set = labelled::read_dir(Path::new(dir))?;
        let (mut exact, mut times) = (0, Vec::new());
        for photo in &set {
            let bytes = std::fs::read(&photo.image)?;
            let start = Instant::now();
            let plates = recogniser.recognise_bytes(&bytes)?;
            times.push(start.elapsed().as_secs_f64() * 1000.0);
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
        times.sort_by(f64::total_cmp);
        println!(
            "{dir}: {exact}/{} = {:.1} %, median {:.0} ms",
            set.len(),
            100.0 * exact as f64 / set.len() as f64,
            times[times.len() / 2]
        );
    }
    Ok(())
}

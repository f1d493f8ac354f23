//! Parse throughput. Ignored by default (timings belong in benchmarks, not in CI); run with
//! `cargo test -p anpr-ingest --release --test perf -- --ignored --nocapture`.
//!
//! Reports the median and the best of many rounds: on a shared machine the best is the
//! figure least disturbed by other work.

mod common;

use anpr_ingest::{detect_format, parse_reads, IngestLimits};
use common::now;
use std::time::{Duration, Instant};

fn batch(n: usize) -> String {
    let reads: Vec<String> = (0..n)
        .map(|i| {
            format!(
                r#"{{"plate":"{}{}{}{:03}","captured_at":"2024-05-01T11:{:02}:{:02}.{:03}Z","confidence":0.{:02},"external_id":"cam7-{i:08}","plate_box":{{"x":410,"y":300,"width":120,"height":40}},"vehicle":{{"make":"Toyota","colour":"white"}}}}"#,
                (b'A' + (i % 26) as u8) as char,
                (b'A' + (i / 26 % 26) as u8) as char,
                (b'A' + (i / 676 % 26) as u8) as char,
                i % 1000,
                i / 60 % 60,
                i % 60,
                i % 1000,
                50 + i % 50,
            )
        })
        .collect();
    format!("{{\"reads\":[{}]}}", reads.join(","))
}

/// Median and best time of `f` over `rounds` runs.
fn time(rounds: usize, mut f: impl FnMut()) -> (Duration, Duration) {
    let mut times: Vec<Duration> = (0..rounds)
        .map(|_| {
            let started = Instant::now();
            f();
            started.elapsed()
        })
        .collect();
    times.sort();
    (times[rounds / 2], times[0])
}

#[test]
#[ignore]
fn batch_of_1000_parse_time() {
    let body = batch(1000);
    let limits = IngestLimits::default();
    assert_eq!(
        parse_reads(body.as_bytes(), now(), &limits).unwrap().len(),
        1000
    );
    let (median, best) = time(300, || {
        assert_eq!(
            parse_reads(body.as_bytes(), now(), &limits).unwrap().len(),
            1000
        );
    });
    println!(
        "batch of 1000 reads ({} bytes): median {median:?}, best {best:?} per batch; {:.0} reads/s on one core at the median",
        body.len(),
        1000.0 / median.as_secs_f64()
    );
    // Where the time goes: format detection (a skim of the keys) and, as a floor, serde_json
    // skipping the whole body without building anything.
    let (median, best) = time(300, || {
        detect_format(body.as_bytes()).unwrap();
    });
    println!("  of which format detection: median {median:?}, best {best:?}");
    let (median, best) = time(300, || {
        serde_json::from_slice::<serde::de::IgnoredAny>(body.as_bytes()).unwrap();
    });
    println!("  floor, serde_json skipping the body: median {median:?}, best {best:?}");
}

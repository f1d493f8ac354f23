//! Parse throughput. Ignored by default (timings belong in benchmarks, not in CI); run with
//! `cargo test -p anpr-ingest --release --test perf -- --ignored --nocapture`.

mod common;

use anpr_ingest::{parse_reads, IngestLimits};
use common::now;
use std::time::Instant;

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

#[test]
#[ignore]
fn batch_of_1000_parse_time() {
    let body = batch(1000);
    let limits = IngestLimits::default();
    assert_eq!(
        parse_reads(body.as_bytes(), now(), &limits).unwrap().len(),
        1000
    );
    let rounds = 200;
    let started = Instant::now();
    for _ in 0..rounds {
        let reads = parse_reads(body.as_bytes(), now(), &limits).unwrap();
        assert_eq!(reads.len(), 1000);
    }
    let per_batch = started.elapsed() / rounds;
    let reads_per_s = 1000.0 / per_batch.as_secs_f64();
    println!(
        "batch of 1000 reads ({} bytes): {per_batch:?} per batch, {reads_per_s:.0} reads/s on one core",
        body.len()
    );
}

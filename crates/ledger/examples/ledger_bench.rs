//! Runs the ledger benchmark and prints `bench: <name> <value> <unit>` lines.
//!
//! ```text
//! cargo run -p anpr-ledger --release --example ledger_bench -- [--quick] [--append N] [--batch N] [--threads N]
//!     [--proof-log N] [--proofs N] [--verify N] [--dir PATH]
//! ```
//! Without options it uses the issue's sizes (100M-entry synthetic log for proofs, needing about
//! 6.4 GB of disk; 10M real entries for verify, about 4 GB).

use std::process::ExitCode;

use anpr_ledger::bench::{run, BenchOptions};

fn main() -> ExitCode {
    let mut opts = BenchOptions::default();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--quick" {
            opts = BenchOptions {
                dir: opts.dir,
                ..BenchOptions::quick()
            };
            continue;
        }
        let Some(v) = args.next() else {
            eprintln!("{a} needs a value");
            return ExitCode::from(2);
        };
        let num = || v.replace('_', "").parse::<f64>().map(|x| x as u64);
        let ok = match a.as_str() {
            "--append" => num().map(|n| opts.append_entries = n),
            "--batch" => num().map(|n| opts.batch = n as usize),
            "--threads" => num().map(|n| opts.append_threads = n as usize),
            "--proof-log" => num().map(|n| opts.proof_log_size = n),
            "--proofs" => num().map(|n| opts.proofs = n as usize),
            "--verify" => num().map(|n| opts.verify_entries = n),
            "--dir" => {
                opts.dir = Some(v.clone().into());
                Ok(())
            }
            _ => {
                eprintln!("unknown option {a}");
                return ExitCode::from(2);
            }
        };
        if ok.is_err() {
            eprintln!("bad number for {a}: {v}");
            return ExitCode::from(2);
        }
    }
    eprintln!(
        "ledger bench: append {} (batches of {}, {} threads), proofs on a {}-entry log, verify {}",
        opts.append_entries,
        opts.batch,
        opts.append_threads,
        opts.proof_log_size,
        opts.verify_entries
    );
    match run(&opts) {
        Ok(figures) => {
            for f in figures {
                println!("{f}");
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("ledger bench failed: {e}");
            ExitCode::FAILURE
        }
    }
}

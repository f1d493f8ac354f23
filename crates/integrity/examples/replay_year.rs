//! The article's audit replayed in memory and timed: the simulated national year (about 350,000
//! uses) encoded as ledger entries, then decoded with `Use::from_entry` and fed to the rules
//! with the registers in memory. It times what this crate does in `anpr bench integrity`,
//! without the SQLite ledger and registers (which that benchmark adds).
//!
//! ```sh
//! cargo run --release -p anpr-integrity --example replay_year [-- --small] [-- --repeats 5]
//! ```

use anpr_integrity::{score, Engine, Expected, IntegrityConfig, MemoryFacts, Use, UseKeys};
use anpr_policy::registers::StolenEntry;
use anpr_synth::usage::{simulate, SimConfig};
use std::time::Instant;

/// CPU seconds (user and system) this process has used: the machine is shared, so wall time
/// says as much about the neighbours as about the pass.
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<&str> = rest.split_whitespace().collect();
    let tick = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    (tick(11) + tick(12)) / 100.0
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let small = args.iter().any(|a| a == "--small");
    let repeats = args
        .iter()
        .position(|a| a == "--repeats")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok())
        .unwrap_or(5usize)
        .max(1);
    let cfg = if small {
        SimConfig::small(2017)
    } else {
        SimConfig::national(2017)
    };
    let sim = simulate(&cfg);
    let bodies: Vec<Vec<u8>> = sim.events.iter().map(|e| e.encode()).collect();
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    println!(
        "entries {} ({:.1} MiB of canonical JSON)",
        bodies.len(),
        bytes as f64 / (1 << 20) as f64
    );

    let mut m = MemoryFacts::default();
    for s in &sim.staff {
        m.registers.staff.insert(s.staff_id.clone(), s.clone());
    }
    for v in &sim.vehicles {
        m.registers.vehicles.insert(v.plate.clone(), v.clone());
    }
    for i in &sim.incidents {
        m.registers.add_incident(i.clone());
    }
    for (k, s) in sim.stolen.iter().enumerate() {
        m.registers.stolen.push(StolenEntry {
            id: k as i64 + 1,
            record: s.clone(),
        });
    }
    for u in &sim.users {
        m.districts.insert(u.staff_id.clone(), u.district.clone());
    }
    let facts = m.facts();
    let truth: Vec<Expected> = sim
        .truth
        .iter()
        .map(|p| Expected {
            rule: p.rule.clone(),
            staff_id: p.staff_id.clone(),
            key: p.key.clone(),
            class: p.note.clone(),
        })
        .collect();

    let (mut decode, mut full) = (Vec::new(), Vec::new());
    let (mut decode_cpu, mut full_cpu) = (Vec::new(), Vec::new());
    for _ in 0..repeats {
        // Decoding alone: every entry read into a use and its keys.
        let (t, c) = (Instant::now(), cpu_seconds());
        let mut uses = Vec::with_capacity(bodies.len());
        for (i, b) in bodies.iter().enumerate() {
            if let Some(u) = Use::from_entry(i as u64, b).expect("a simulated entry decodes") {
                uses.push(u);
            }
        }
        let keys: Vec<UseKeys> = uses.iter().map(UseKeys::of).collect();
        decode.push(t.elapsed().as_secs_f64());
        decode_cpu.push(cpu_seconds() - c);
        drop((uses, keys));

        // The whole pass on one thread: decoding, keys and every rule.
        let (t, c) = (Instant::now(), cpu_seconds());
        let mut engine = Engine::new(IntegrityConfig::default());
        let mut n = 0;
        for (i, b) in bodies.iter().enumerate() {
            if let Some(u) = Use::from_entry(i as u64, b).expect("a simulated entry decodes") {
                engine.feed(&facts, &u).expect("rules run");
                n += 1;
            }
        }
        engine.finish();
        full.push(t.elapsed().as_secs_f64());
        full_cpu.push(cpu_seconds() - c);
        let s = score(engine.findings(), &truth);
        println!(
            "uses {n}, findings {}, recall {:.3}, precision {:.3}",
            engine.findings().len(),
            s.recall,
            s.precision
        );
    }
    println!(
        "replay_decode_s {:.3} wall, {:.2} cpu (medians of {repeats})",
        median(decode),
        median(decode_cpu)
    );
    println!(
        "replay_full_s {:.3} wall, {:.2} cpu (medians of {repeats})",
        median(full),
        median(full_cpu)
    );
}

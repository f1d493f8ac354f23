//! Cross-check against an independent implementation: `tests/merkle_ref.py`, written from the RFC
//! with Python's hashlib, on random trees of many sizes. Skips (saying so) without python3.

use std::io::Write;
use std::process::{Command, Stdio};

use anpr_ledger::merkle::{self, leaf_hash, MemoryTree};
use rand::{Rng, SeedableRng};
use serde_json::{json, Value};

fn hexes(v: &[[u8; 32]]) -> Vec<String> {
    v.iter().map(hex::encode).collect()
}

#[test]
fn agrees_with_python_reference() {
    if Command::new("python3").arg("--version").output().is_err() {
        anpr_testkit::skip("python3 is not installed (apt-get install python3)");
        return;
    }
    let mut rng = rand::rngs::StdRng::seed_from_u64(6962);
    let mut sizes: Vec<usize> = (1..=130).collect();
    sizes.extend([
        255, 256, 257, 511, 512, 513, 1000, 1023, 1024, 1025, 2047, 2049, 3000,
    ]);
    sizes.extend((0..8).map(|_| rng.gen_range(130..4000)));

    let mut cases = Vec::new();
    let mut trees = Vec::new();
    for &n in &sizes {
        let entries: Vec<Vec<u8>> = (0..n)
            .map(|_| (0..rng.gen_range(0..48)).map(|_| rng.gen()).collect())
            .collect();
        let tree = MemoryTree::from_leaf_hashes(entries.iter().map(|e| leaf_hash(e)));
        let mut inc = Vec::new();
        let mut cons = Vec::new();
        let mut check_inc = Vec::new();
        let mut check_cons = Vec::new();
        for _ in 0..12 {
            let size = rng.gen_range(1..=n as u64);
            let m = rng.gen_range(0..size);
            inc.push((m, size));
            let root = merkle::root(&tree, size).unwrap();
            let proof = merkle::inclusion_proof(&tree, m, size).unwrap();
            let leaf = merkle::NodeSource::node(&tree, 0, m).unwrap();
            check_inc.push(json!([
                m,
                size,
                hex::encode(leaf),
                hexes(&proof),
                hex::encode(root)
            ]));
            if size > 1 {
                let from = rng.gen_range(1..size);
                cons.push((from, size));
                let proof = merkle::consistency_proof(&tree, from, size).unwrap();
                let r1 = merkle::root(&tree, from).unwrap();
                check_cons.push(json!([
                    from,
                    size,
                    hexes(&proof),
                    hex::encode(r1),
                    hex::encode(root)
                ]));
            }
        }
        let root_sizes: Vec<u64> = if n <= 300 {
            (0..=n as u64).collect()
        } else {
            (0..40).map(|_| rng.gen_range(0..=n as u64)).collect()
        };
        cases.push(json!({
            "entries": entries.iter().map(hex::encode).collect::<Vec<_>>(),
            "root_sizes": root_sizes,
            "inclusion": inc,
            "consistency": cons,
            "check_inclusion": check_inc,
            "check_consistency": check_cons,
        }));
        trees.push((tree, root_sizes, inc, cons));
    }

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/merkle_ref.py");
    let mut child = Command::new("python3")
        .arg(script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("start python3");
    let input = serde_json::to_vec(&json!({ "cases": cases })).unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success(), "python reference failed");
    let resp: Value = serde_json::from_slice(&out.stdout).unwrap();

    let mut compared = 0;
    for ((tree, root_sizes, inc, cons), got) in trees.iter().zip(resp["cases"].as_array().unwrap())
    {
        let n = tree.size();
        let leaves: Vec<String> = (0..n)
            .map(|i| hex::encode(merkle::NodeSource::node(tree, 0, i).unwrap()))
            .collect();
        assert_eq!(got["leaf_hashes"], json!(leaves), "leaf hashes, n={n}");
        let roots: Vec<String> = root_sizes
            .iter()
            .map(|s| hex::encode(merkle::root(tree, *s).unwrap()))
            .collect();
        assert_eq!(got["roots"], json!(roots), "roots of sizes up to {n}");
        for ((m, size), p) in inc.iter().zip(got["inclusion"].as_array().unwrap()) {
            let ours = hexes(&merkle::inclusion_proof(tree, *m, *size).unwrap());
            assert_eq!(p, &json!(ours), "inclusion proof {m} in {size}");
            compared += 1;
        }
        for ((m, size), p) in cons.iter().zip(got["consistency"].as_array().unwrap()) {
            let ours = hexes(&merkle::consistency_proof(tree, *m, *size).unwrap());
            assert_eq!(p, &json!(ours), "consistency proof {m} -> {size}");
            compared += 1;
        }
        assert!(
            got["check_inclusion"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b == true),
            "python rejected one of our inclusion proofs (n={n})"
        );
        assert!(
            got["check_consistency"]
                .as_array()
                .unwrap()
                .iter()
                .all(|b| b == true),
            "python rejected one of our consistency proofs (n={n})"
        );
    }
    println!(
        "python reference agrees on {} trees and {compared} proofs",
        trees.len()
    );
}

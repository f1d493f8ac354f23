//! Property tests: the storage-backed, iterative proof generation agrees with a direct transcription
//! of the RFC's recursive definitions, proofs verify, and corrupted proofs do not.

use anpr_ledger::merkle::{self, leaf_hash, node_hash, Hash, MemoryTree};
use proptest::prelude::*;

fn k_of(n: usize) -> usize {
    let mut k = 1;
    while k * 2 < n {
        k *= 2;
    }
    k
}

/// MTH(D[n]).
fn mth(d: &[Hash]) -> Hash {
    match d.len() {
        0 => merkle::EMPTY_ROOT,
        1 => d[0],
        n => {
            let k = k_of(n);
            node_hash(&mth(&d[..k]), &mth(&d[k..]))
        }
    }
}

/// PATH(m, D[n]).
fn path(m: usize, d: &[Hash]) -> Vec<Hash> {
    let n = d.len();
    if n <= 1 {
        return vec![];
    }
    let k = k_of(n);
    if m < k {
        let mut p = path(m, &d[..k]);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = path(m - k, &d[k..]);
        p.push(mth(&d[..k]));
        p
    }
}

/// SUBPROOF(m, D[n], b).
fn subproof(m: usize, d: &[Hash], b: bool) -> Vec<Hash> {
    let n = d.len();
    if m == n {
        return if b { vec![] } else { vec![mth(d)] };
    }
    let k = k_of(n);
    if m <= k {
        let mut p = subproof(m, &d[..k], b);
        p.push(mth(&d[k..]));
        p
    } else {
        let mut p = subproof(m - k, &d[k..], false);
        p.push(mth(&d[..k]));
        p
    }
}

fn leaves(n: usize, seed: u64) -> Vec<Hash> {
    (0..n as u64)
        .map(|i| leaf_hash(&(i ^ seed).to_le_bytes()))
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(300))]

    #[test]
    fn roots_and_proofs_match_the_rfc_definitions(n in 1usize..600, seed: u64, a: u64, b: u64) {
        let d = leaves(n, seed);
        let tree = MemoryTree::from_leaf_hashes(d.iter().copied());
        // Any historical size, not only the whole tree.
        let size = 1 + (a as usize % n);
        let m = b as usize % size;
        let root = merkle::root(&tree, size as u64).unwrap();
        prop_assert_eq!(root, mth(&d[..size]));

        let p = merkle::inclusion_proof(&tree, m as u64, size as u64).unwrap();
        prop_assert_eq!(&p, &path(m, &d[..size]));
        merkle::verify_inclusion(m as u64, size as u64, &d[m], &p, &root).unwrap();

        let from = 1 + (b as usize % size);
        let c = merkle::consistency_proof(&tree, from as u64, size as u64).unwrap();
        prop_assert_eq!(&c, &subproof(from, &d[..size], true));
        merkle::verify_consistency(from as u64, size as u64, &c, &mth(&d[..from]), &root).unwrap();
    }

    #[test]
    fn corrupted_inclusion_proofs_fail(n in 2usize..300, seed: u64, a: u64, which: usize, bit in 0usize..256) {
        let d = leaves(n, seed);
        let tree = MemoryTree::from_leaf_hashes(d.iter().copied());
        let m = (a as usize) % n;
        let root = tree.root();
        let p = merkle::inclusion_proof(&tree, m as u64, n as u64).unwrap();
        let (m64, n64) = (m as u64, n as u64);
        if !p.is_empty() {
            let mut bad = p.clone();
            let i = which % bad.len();
            bad[i][bit / 8] ^= 1 << (bit % 8);
            prop_assert!(merkle::verify_inclusion(m64, n64, &d[m], &bad, &root).is_err());
            let mut short = p.clone();
            short.pop();
            prop_assert!(merkle::verify_inclusion(m64, n64, &d[m], &short, &root).is_err());
        }
        let mut long = p.clone();
        long.push(root);
        prop_assert!(merkle::verify_inclusion(m64, n64, &d[m], &long, &root).is_err());
        let other = (m + 1 + which % (n - 1)) % n;
        prop_assert!(merkle::verify_inclusion(other as u64, n64, &d[m], &p, &root).is_err());
        prop_assert!(merkle::verify_inclusion(m64, n64, &d[other], &p, &root).is_err());
        // (A different size with the same proof shape can verify against the same root: an
        // inclusion proof does not bind the size, the signed tree head does.)
        prop_assert!(merkle::verify_inclusion(n64, n64, &d[m], &p, &root).is_err());
    }

    #[test]
    fn corrupted_consistency_proofs_fail(n in 2usize..300, seed: u64, a: u64, which: usize, bit in 0usize..256) {
        let d = leaves(n, seed);
        let tree = MemoryTree::from_leaf_hashes(d.iter().copied());
        let from = 1 + (a as usize) % (n - 1); // 1..n-1, so the proof is not empty
        let (r1, r2) = (mth(&d[..from]), tree.root());
        let p = merkle::consistency_proof(&tree, from as u64, n as u64).unwrap();
        prop_assert!(!p.is_empty());
        let mut bad = p.clone();
        let i = which % bad.len();
        bad[i][bit / 8] ^= 1 << (bit % 8);
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &bad, &r1, &r2).is_err());
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &p[1..], &r1, &r2).is_err());
        let mut long = p.clone();
        long.push(r2);
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &long, &r1, &r2).is_err());
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &p, &r2, &r1).is_err());
        let mut wrong = r1;
        wrong[bit / 8] ^= 1 << (bit % 8);
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &p, &wrong, &r2).is_err());
        prop_assert!(merkle::verify_consistency(from as u64, n as u64, &p, &r1, &wrong).is_err());
    }
}

#[test]
fn edge_cases() {
    let d = leaves(5, 1);
    let tree = MemoryTree::from_leaf_hashes(d.iter().copied());
    assert!(merkle::inclusion_proof(&tree, 5, 5).is_err());
    assert!(merkle::consistency_proof(&tree, 0, 5).is_err());
    assert!(merkle::consistency_proof(&tree, 4, 3).is_err());
    assert!(merkle::consistency_proof(&tree, 5, 5).unwrap().is_empty());
    assert_eq!(merkle::root(&tree, 0).unwrap(), merkle::EMPTY_ROOT);
    merkle::verify_consistency(0, 0, &[], &merkle::EMPTY_ROOT, &merkle::EMPTY_ROOT).unwrap();
    assert!(merkle::verify_consistency(0, 5, &[], &merkle::EMPTY_ROOT, &tree.root()).is_err());
    merkle::verify_inclusion(0, 1, &d[0], &[], &d[0]).unwrap();
}

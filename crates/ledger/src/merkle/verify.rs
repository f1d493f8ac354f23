//! Proof verification, following the algorithms of RFC 9162 §2.1.3.2 (inclusion) and §2.1.4.2
//! (consistency) step by step, so that a reader can check them against the RFC text.

use super::{node_hash, Hash, EMPTY_ROOT};
use crate::error::{failed, Result};

/// RFC 9162 §2.1.3.2: the root implied by an inclusion proof, or an error when the proof has the
/// wrong shape for `(index, size)`.
pub fn root_from_inclusion(index: u64, size: u64, leaf: &Hash, path: &[Hash]) -> Result<Hash> {
    // 1. leaf_index must be below tree_size.
    if index >= size {
        return Err(failed(format!("inclusion: index {index} >= size {size}")));
    }
    // 2. fn = leaf_index, sn = tree_size - 1. 3. r = hash.
    let (mut f, mut s) = (index, size - 1);
    let mut r = *leaf;
    // 4. For each p in the path:
    for p in path {
        if s == 0 {
            return Err(failed("inclusion: proof is too long"));
        }
        if f & 1 == 1 || f == s {
            r = node_hash(p, &r);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            r = node_hash(&r, p);
        }
        f >>= 1;
        s >>= 1;
    }
    // 5. sn must be 0 (the path reached the root).
    if s != 0 {
        return Err(failed("inclusion: proof is too short"));
    }
    Ok(r)
}

/// Checks that `leaf` is entry `index` of the tree of `size` entries whose root is `root`.
pub fn verify_inclusion(
    index: u64,
    size: u64,
    leaf: &Hash,
    path: &[Hash],
    root: &Hash,
) -> Result<()> {
    let r = root_from_inclusion(index, size, leaf, path)?;
    if &r != root {
        return Err(failed(format!(
            "inclusion: proof for index {index} leads to root {} not {}",
            hex::encode(r),
            hex::encode(root)
        )));
    }
    Ok(())
}

/// Checks that the tree of `size2` entries with root `root2` extends the tree of `size1` entries
/// with root `root1` (RFC 9162 §2.1.4.2).
///
/// Before the RFC's algorithm, which is defined for `0 < size1 < size2`, the edge cases are
/// settled the way the transparency-dev reference does: `size1 > size2` fails; equal sizes need
/// an empty proof and equal roots (and the empty tree's root must be SHA-256 of nothing);
/// `size1 == 0 < size2` fails because such a proof proves nothing.
pub fn verify_consistency(
    size1: u64,
    size2: u64,
    proof: &[Hash],
    root1: &Hash,
    root2: &Hash,
) -> Result<()> {
    if size1 > size2 {
        return Err(failed(format!(
            "consistency: size {size1} > size {size2}: the log shrank"
        )));
    }
    if size1 == size2 {
        if !proof.is_empty() {
            return Err(failed("consistency: equal sizes need an empty proof"));
        }
        if root1 != root2 {
            return Err(failed(format!(
                "consistency: two different roots for size {size1}"
            )));
        }
        if size1 == 0 && root1 != &EMPTY_ROOT {
            return Err(failed("consistency: wrong root for the empty tree"));
        }
        return Ok(());
    }
    if size1 == 0 {
        return Err(failed(
            "consistency: a proof from the empty tree is meaningless",
        ));
    }
    // 1. An empty path fails.
    if proof.is_empty() {
        return Err(failed("consistency: empty proof"));
    }
    // 2. If first is an exact power of 2, prepend first_hash to the path.
    let mut path: Vec<&Hash> = Vec::with_capacity(proof.len() + 1);
    if size1.is_power_of_two() {
        path.push(root1);
    }
    path.extend(proof.iter());
    // 3. fn = first - 1, sn = second - 1.
    let (mut f, mut s) = (size1 - 1, size2 - 1);
    // 4. If LSB(fn) is set, right-shift both until it is not.
    while f & 1 == 1 {
        f >>= 1;
        s >>= 1;
    }
    // 5. fr = sr = first value of the path.
    let (mut fr, mut sr) = (*path[0], *path[0]);
    // 6. For each subsequent value c:
    for c in &path[1..] {
        if s == 0 {
            return Err(failed("consistency: proof is too long"));
        }
        if f & 1 == 1 || f == s {
            fr = node_hash(c, &fr);
            sr = node_hash(c, &sr);
            if f & 1 == 0 {
                while f & 1 == 0 && f != 0 {
                    f >>= 1;
                    s >>= 1;
                }
            }
        } else {
            sr = node_hash(&sr, c);
        }
        f >>= 1;
        s >>= 1;
    }
    // 7. fr must equal first_hash, sr second_hash, and sn must be 0.
    if s != 0 {
        return Err(failed("consistency: proof is too short"));
    }
    if &fr != root1 {
        return Err(failed(format!(
            "consistency: proof does not lead to the old root (size {size1})"
        )));
    }
    if &sr != root2 {
        return Err(failed(format!(
            "consistency: proof does not lead to the new root (size {size2})"
        )));
    }
    Ok(())
}

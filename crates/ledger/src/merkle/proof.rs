//! Proof generation (RFC 9162 §2.1.3.1 PATH and §2.1.4.1 PROOF/SUBPROOF), written as loops over
//! the recursive definitions so that every hash comes from [`subtree_hash`] look-ups.

use super::{split_point, subtree_hash, Hash, NodeSource};
use crate::error::{invalid, Result};

/// The inclusion proof (audit path) of leaf `index` in the tree of the first `size` leaves,
/// ordered from the leaf's sibling up to the root's child, as in RFC 9162.
pub fn inclusion_proof<S: NodeSource + ?Sized>(
    src: &S,
    index: u64,
    size: u64,
) -> Result<Vec<Hash>> {
    if index >= size {
        return Err(invalid(format!(
            "leaf index {index} is not below tree size {size}"
        )));
    }
    // PATH(m, D[n]) = PATH(m, D[0:k]) : MTH(D[k:n])   if m < k
    //               = PATH(m-k, D[k:n]) : MTH(D[0:k]) otherwise
    // The sibling found at the top comes last, so collect top-down and reverse.
    let mut path = Vec::with_capacity(64);
    let (mut start, mut end) = (0u64, size);
    while end - start > 1 {
        let k = split_point(end - start);
        if index < start + k {
            path.push(subtree_hash(src, start + k, end)?);
            end = start + k;
        } else {
            path.push(subtree_hash(src, start, start + k)?);
            start += k;
        }
    }
    path.reverse();
    Ok(path)
}

/// The consistency proof between the tree of the first `from` leaves and the tree of the first
/// `to` leaves, as in RFC 9162. `from == to` gives the empty proof; `from == 0` is refused because
/// the empty tree is consistent with everything and a proof would be meaningless.
pub fn consistency_proof<S: NodeSource + ?Sized>(src: &S, from: u64, to: u64) -> Result<Vec<Hash>> {
    if from == 0 || from > to {
        return Err(invalid(format!(
            "no consistency proof from size {from} to size {to}"
        )));
    }
    // SUBPROOF(m, D[n], b):
    //   m == n: {} if b, else {MTH(D[n])}
    //   m <= k: SUBPROOF(m, D[0:k], b) : MTH(D[k:n])
    //   m > k:  SUBPROOF(m-k, D[k:n], false) : MTH(D[0:k])
    let mut siblings = Vec::with_capacity(64);
    let (mut start, mut end) = (0u64, to);
    let mut whole = true; // b: the subtree is the (old) tree itself
    let mut terminal = None;
    loop {
        let (m, n) = (from - start, end - start);
        if m == n {
            if !whole {
                terminal = Some(subtree_hash(src, start, end)?);
            }
            break;
        }
        let k = split_point(n);
        if m <= k {
            siblings.push(subtree_hash(src, start + k, end)?);
            end = start + k;
        } else {
            siblings.push(subtree_hash(src, start, start + k)?);
            start += k;
            whole = false;
        }
    }
    let mut proof = Vec::with_capacity(siblings.len() + 1);
    proof.extend(terminal);
    proof.extend(siblings.into_iter().rev());
    Ok(proof)
}

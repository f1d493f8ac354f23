//! RFC 6962 / RFC 9162 Merkle tree hashing, proof generation and proof verification.
//!
//! Everything here is pure: trees are read through the [`NodeSource`] trait, which hands out the
//! hash of a *perfect* subtree, `node(level, index)` = MTH(D\[index·2^level .. (index+1)·2^level\]).
//! Every hash that appears in an RFC 6962 tree of any size is either such a node or the hash of a
//! range touching the tree's right edge, which is folded from at most log2(n) perfect nodes. So a
//! store that keeps every perfect node (about 2n hashes) answers roots and proofs in O(log n)
//! look-ups without recomputing anything.

mod proof;
mod verify;

pub use proof::{consistency_proof, inclusion_proof};
pub use verify::{root_from_inclusion, verify_consistency, verify_inclusion};

use sha2::{Digest, Sha256};

use crate::error::{invalid, Result};

/// A SHA-256 hash: leaf hash, node hash or root.
pub type Hash = [u8; 32];

/// MTH({}) = SHA-256(""), the root of the empty tree.
pub const EMPTY_ROOT: Hash = [
    0xe3, 0xb0, 0xc4, 0x42, 0x98, 0xfc, 0x1c, 0x14, 0x9a, 0xfb, 0xf4, 0xc8, 0x99, 0x6f, 0xb9, 0x24,
    0x27, 0xae, 0x41, 0xe4, 0x64, 0x9b, 0x93, 0x4c, 0xa4, 0x95, 0x99, 0x1b, 0x78, 0x52, 0xb8, 0x55,
];

/// Leaf hash: SHA-256(0x00 || entry). The prefix keeps leaves and nodes apart (second preimages).
pub fn leaf_hash(entry: &[u8]) -> Hash {
    let mut h = Sha256::new();
    h.update([0u8]);
    h.update(entry);
    h.finalize().into()
}

/// Interior node hash: SHA-256(0x01 || left || right).
pub fn node_hash(left: &Hash, right: &Hash) -> Hash {
    let mut buf = [0u8; 65];
    buf[0] = 1;
    buf[1..33].copy_from_slice(left);
    buf[33..].copy_from_slice(right);
    Sha256::digest(buf).into()
}

/// Read access to the perfect subtrees of a log.
///
/// `node(0, i)` is the leaf hash of entry `i`; `node(l, i)` is the root of the perfect subtree of
/// `2^l` leaves starting at leaf `i·2^l`. Implementations only need to answer for nodes that lie
/// entirely inside the log.
pub trait NodeSource {
    /// The hash of perfect subtree `index` at `level`.
    fn node(&self, level: u32, index: u64) -> Result<Hash>;
}

impl<T: NodeSource + ?Sized> NodeSource for &T {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        (**self).node(level, index)
    }
}

/// The largest power of two strictly smaller than `n` (`n >= 2`): RFC 6962's split point `k`.
pub(crate) fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// MTH(D\[start..end\]) for a range whose start is aligned to the largest power of two not above
/// its length (true for every range in RFC 6962 roots and proofs). Folds the range's binary
/// decomposition into perfect subtrees from the right: at most log2(n) look-ups.
pub fn subtree_hash<S: NodeSource + ?Sized>(src: &S, start: u64, end: u64) -> Result<Hash> {
    if end <= start {
        return Err(invalid(format!("empty subtree range {start}..{end}")));
    }
    let mut parts: Vec<Hash> = Vec::with_capacity(64);
    let mut pos = start;
    while pos < end {
        let remaining = end - pos;
        let level = 63 - remaining.leading_zeros();
        if pos & ((1u64 << level) - 1) != 0 {
            // Not aligned: fall back to the plain recursive definition (never hit by RFC ranges).
            let k = split_point(end - pos);
            let left = subtree_hash(src, pos, pos + k)?;
            let right = subtree_hash(src, pos + k, end)?;
            parts.push(node_hash(&left, &right));
            break;
        }
        parts.push(src.node(level, pos >> level)?);
        pos += 1u64 << level;
    }
    let mut acc = parts.pop().expect("non-empty range");
    while let Some(left) = parts.pop() {
        acc = node_hash(&left, &acc);
    }
    Ok(acc)
}

/// The root of the first `size` entries (the empty-tree hash for 0).
pub fn root<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Hash> {
    if size == 0 {
        return Ok(EMPTY_ROOT);
    }
    subtree_hash(src, 0, size)
}

/// The "compact range" of a log: the roots of the perfect subtrees that make up its binary
/// decomposition, largest first. Appending a leaf completes zero or more perfect subtrees, which
/// the writer must store; the root is the right-to-left fold of the stack.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Frontier {
    size: u64,
    stack: Vec<Hash>,
}

impl Frontier {
    /// The frontier of an empty log.
    pub fn new() -> Self {
        Self::default()
    }

    /// Loads the frontier of a log of `size` entries from its stored perfect nodes.
    pub fn load<S: NodeSource + ?Sized>(src: &S, size: u64) -> Result<Self> {
        let mut stack = Vec::new();
        let mut pos = 0u64;
        for level in (0..64u32).rev() {
            if size & (1u64 << level) != 0 {
                stack.push(src.node(level, pos >> level)?);
                pos += 1u64 << level;
            }
        }
        Ok(Self { size, stack })
    }

    /// A frontier kept elsewhere (a monitor's state): `hashes` are the perfect subtree roots of
    /// `size`'s binary decomposition, largest first, as [`Frontier::hashes`] gives them.
    pub fn from_hashes(size: u64, hashes: Vec<Hash>) -> Result<Self> {
        if hashes.len() != size.count_ones() as usize {
            return Err(invalid(format!(
                "a frontier of {size} entries has {} subtree hashes, not {}",
                size.count_ones(),
                hashes.len()
            )));
        }
        Ok(Self {
            size,
            stack: hashes,
        })
    }

    /// The frontier of a log of `size` entries from its last leaf hash and that leaf's inclusion
    /// path in the tree of `size`: the last leaf has no right siblings, so its path is the
    /// perfect subtrees to its left. The caller checks [`Frontier::root`] against a signed root.
    pub fn from_last_leaf(size: u64, leaf: Hash, path: &[Hash]) -> Result<Self> {
        // The lowest `inner` path hashes lie inside the last perfect subtree; the rest are the
        // larger subtrees before it, smallest first.
        let inner = size.trailing_zeros() as usize;
        if size == 0 || path.len() != inner + size.count_ones() as usize - 1 {
            return Err(invalid(format!(
                "an inclusion path of {} hashes cannot end a log of {size} entries",
                path.len()
            )));
        }
        let last = path[..inner]
            .iter()
            .fold(leaf, |acc, left| node_hash(left, &acc));
        let mut stack: Vec<Hash> = path[inner..].iter().rev().copied().collect();
        stack.push(last);
        Ok(Self { size, stack })
    }

    /// The perfect subtree roots of the log's decomposition, largest first.
    pub fn hashes(&self) -> &[Hash] {
        &self.stack
    }

    /// Number of leaves appended so far.
    pub fn size(&self) -> u64 {
        self.size
    }

    /// Appends a leaf hash; `emit(level, index, hash)` is called for the leaf itself and for every
    /// perfect subtree the leaf completes, lowest level first.
    pub fn push(&mut self, leaf: Hash, mut emit: impl FnMut(u32, u64, &Hash)) {
        let mut h = leaf;
        let mut index = self.size;
        let mut level = 0u32;
        emit(0, index, &h);
        while index & 1 == 1 {
            let left = self.stack.pop().expect("frontier matches size");
            h = node_hash(&left, &h);
            index >>= 1;
            level += 1;
            emit(level, index, &h);
        }
        self.stack.push(h);
        self.size += 1;
    }

    /// The root of the log so far.
    pub fn root(&self) -> Hash {
        let mut it = self.stack.iter().rev();
        let Some(first) = it.next() else {
            return EMPTY_ROOT;
        };
        it.fold(*first, |acc, left| node_hash(left, &acc))
    }
}

/// An in-memory log holding every perfect node, level by level. Used by tests, by the benchmark's
/// reference checks, and by anyone who wants proofs over a small set of entries.
#[derive(Clone, Debug, Default)]
pub struct MemoryTree {
    levels: Vec<Vec<Hash>>,
    frontier: Frontier,
}

impl MemoryTree {
    /// An empty tree.
    pub fn new() -> Self {
        Self::default()
    }

    /// A tree of the given leaf hashes.
    pub fn from_leaf_hashes(leaves: impl IntoIterator<Item = Hash>) -> Self {
        let mut t = Self::new();
        for l in leaves {
            t.push(l);
        }
        t
    }

    /// Appends a leaf hash.
    pub fn push(&mut self, leaf: Hash) {
        let levels = &mut self.levels;
        self.frontier.push(leaf, |level, _index, h| {
            if levels.len() <= level as usize {
                levels.push(Vec::new());
            }
            levels[level as usize].push(*h);
        });
    }

    /// Number of leaves.
    pub fn size(&self) -> u64 {
        self.frontier.size()
    }

    /// Root of the whole tree.
    pub fn root(&self) -> Hash {
        self.frontier.root()
    }
}

impl NodeSource for MemoryTree {
    fn node(&self, level: u32, index: u64) -> Result<Hash> {
        self.levels
            .get(level as usize)
            .and_then(|l| l.get(usize::try_from(index).ok()?))
            .copied()
            .ok_or_else(|| invalid(format!("no node at level {level} index {index}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_root_is_sha256_of_nothing() {
        assert_eq!(EMPTY_ROOT, <[u8; 32]>::from(Sha256::digest(b"")));
    }

    #[test]
    fn split_point_is_largest_power_below() {
        assert_eq!(split_point(2), 1);
        assert_eq!(split_point(3), 2);
        assert_eq!(split_point(4), 2);
        assert_eq!(split_point(5), 4);
        assert_eq!(split_point(1 << 40), 1 << 39);
        assert_eq!(split_point((1 << 40) + 1), 1 << 40);
    }

    #[test]
    fn frontier_load_matches_pushes() {
        let mut t = MemoryTree::new();
        for i in 0..100u32 {
            t.push(leaf_hash(&i.to_be_bytes()));
            let f = Frontier::load(&t, t.size()).unwrap();
            assert_eq!(f, t.frontier);
            assert_eq!(root(&t, t.size()).unwrap(), t.root());
            let back = Frontier::from_hashes(f.size(), f.hashes().to_vec()).unwrap();
            assert_eq!(back, f);
        }
    }

    #[test]
    fn frontier_from_the_last_leafs_inclusion_path() {
        let mut t = MemoryTree::new();
        for i in 0..70u64 {
            let leaf = leaf_hash(&i.to_be_bytes());
            t.push(leaf);
            let path = inclusion_proof(&t, i, i + 1).unwrap();
            let f = Frontier::from_last_leaf(i + 1, leaf, &path).unwrap();
            assert_eq!(f, t.frontier, "size {}", i + 1);
        }
        assert!(Frontier::from_last_leaf(5, [0; 32], &[]).is_err());
        assert!(Frontier::from_hashes(5, vec![[0; 32]]).is_err());
    }
}

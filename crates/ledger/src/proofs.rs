//! Proofs as they travel: serde types for the HTTP API and for evidence bundles.
//!
//! JSON: `{"index":I,"size":N,"leaf_hash":"<hex>","hashes":["<hex>",...]}` and
//! `{"from":M,"to":N,"hashes":[...]}`; hashes are ordered as in RFC 9162 (bottom-up).

use serde::{Deserialize, Serialize};

use crate::error::{failed, Result};
use crate::hexser;
use crate::merkle::{self, Hash};
use crate::store::StoredEntry;

/// Proof that the entry with `leaf_hash` is entry `index` of the tree of `size` entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct InclusionProof {
    /// Entry index.
    pub index: u64,
    /// Tree size the proof is for.
    pub size: u64,
    /// Leaf hash of the entry.
    #[serde(with = "hexser::hash")]
    pub leaf_hash: Hash,
    /// The audit path.
    #[serde(with = "hexser::hashes")]
    pub hashes: Vec<Hash>,
}

impl InclusionProof {
    /// Checks the proof against the root of a tree of `self.size` entries.
    pub fn verify(&self, root: &Hash) -> Result<()> {
        merkle::verify_inclusion(self.index, self.size, &self.leaf_hash, &self.hashes, root)
    }
}

/// Proof that the tree of `to` entries extends the tree of `from` entries.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ConsistencyProof {
    /// Old tree size.
    pub from: u64,
    /// New tree size.
    pub to: u64,
    /// The proof.
    #[serde(with = "hexser::hashes")]
    pub hashes: Vec<Hash>,
}

impl ConsistencyProof {
    /// Checks the proof between the two roots.
    pub fn verify(&self, old_root: &Hash, new_root: &Hash) -> Result<()> {
        merkle::verify_consistency(self.from, self.to, &self.hashes, old_root, new_root)
    }
}

/// An entry with its inclusion proof: what a verifier samples from a server.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct EntryProof {
    /// The entry as served.
    pub entry: StoredEntry,
    /// Its inclusion proof in the tree of the head being checked.
    pub proof: InclusionProof,
}

impl EntryProof {
    /// Checks that the body hashes to the leaf, and the leaf is included under `root`.
    pub fn verify(&self, root: &Hash) -> Result<()> {
        if crate::redact::entry_leaf_hash(self.entry.body.as_bytes()) != self.entry.leaf_hash {
            return Err(failed(format!(
                "entry {}: body does not hash to its leaf hash",
                self.entry.index
            )));
        }
        if self.proof.leaf_hash != self.entry.leaf_hash || self.proof.index != self.entry.index {
            return Err(failed(format!(
                "entry {}: proof is for another entry",
                self.entry.index
            )));
        }
        self.proof.verify(root)
    }
}

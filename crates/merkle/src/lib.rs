//! The append-only Merkle log of RFC 9162 (section 2.1), hashed with the chain's suite.
//!
//! Leaf hash `H(0x00 || data)`, interior node `H(0x01 || left || right)`, empty tree `H("")`.
//! [`MerkleLog`] keeps every perfect subtree hash (about two hashes per leaf), so any root,
//! inclusion proof or consistency proof for any earlier size is O(log² n) work.

use cairn_crypto::{Hash, Suite};

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("leaf index {index} is not below tree size {size}")]
    IndexOutOfRange { index: u64, size: u64 },
    #[error("proof has the wrong number of hashes")]
    WrongLength,
    #[error("computed root does not match the expected root")]
    RootMismatch,
    #[error("tree size {second} is smaller than {first}")]
    SizesOutOfOrder { first: u64, second: u64 },
    #[error("a consistency proof from an empty tree proves nothing")]
    EmptyFirstTree,
    #[error("a hash is not {} bytes long", cairn_crypto::HASH_LEN)]
    BadHashLength,
    #[error("requested size {size} exceeds the log's size {have}")]
    BeyondLog { size: u64, have: u64 },
}

pub fn leaf_hash(suite: Suite, data: &[u8]) -> Hash {
    let mut h = suite.hasher();
    h.update(&[0]);
    h.update(data);
    h.finalize()
}

pub fn node_hash(suite: Suite, left: &Hash, right: &Hash) -> Hash {
    let mut h = suite.hasher();
    h.update(&[1]);
    h.update(left);
    h.update(right);
    h.finalize()
}

pub fn empty_root(suite: Suite) -> Hash {
    suite.hash(b"")
}

/// Largest power of two strictly below `n` (n >= 2).
fn split_point(n: u64) -> u64 {
    debug_assert!(n >= 2);
    1u64 << (63 - (n - 1).leading_zeros())
}

/// The right edge of a log: the roots of the perfect subtrees that make up its first `size`
/// leaves, largest first. Enough to append leaves and compute roots without the whole tree;
/// consensus uses it to execute blocks speculatively on top of a log it does not own.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Frontier {
    suite: Suite,
    size: u64,
    /// (height of the perfect subtree, its root), heights strictly decreasing.
    peaks: Vec<(u32, Hash)>,
}

impl Frontier {
    pub fn empty(suite: Suite) -> Self {
        Frontier { suite, size: 0, peaks: Vec::new() }
    }

    pub fn size(&self) -> u64 {
        self.size
    }

    pub fn push_leaf_hash(&mut self, hash: Hash) {
        self.size += 1;
        self.peaks.push((0, hash));
        while self.peaks.len() >= 2 && self.peaks[self.peaks.len() - 1].0 == self.peaks[self.peaks.len() - 2].0 {
            let (h, right) = self.peaks.pop().expect("two peaks");
            let (_, left) = self.peaks.pop().expect("two peaks");
            self.peaks.push((h + 1, node_hash(self.suite, &left, &right)));
        }
    }

    /// RFC 9162 root of the leaves so far.
    pub fn root(&self) -> Hash {
        let mut peaks = self.peaks.iter().rev();
        let Some((_, last)) = peaks.next() else { return empty_root(self.suite) };
        peaks.fold(*last, |acc, (_, left)| node_hash(self.suite, left, &acc))
    }
}

/// An append-only Merkle tree that keeps every perfect subtree hash in memory.
#[derive(Clone, Debug)]
pub struct MerkleLog {
    suite: Suite,
    /// `levels[k][i]` is the hash of the perfect subtree over leaves `[i·2^k, (i+1)·2^k)`.
    levels: Vec<Vec<Hash>>,
}

impl MerkleLog {
    pub fn new(suite: Suite) -> Self {
        MerkleLog { suite, levels: vec![Vec::new()] }
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn size(&self) -> u64 {
        self.levels[0].len() as u64
    }

    /// Appends a leaf by its leaf hash; returns its index.
    pub fn push_leaf_hash(&mut self, hash: Hash) -> u64 {
        let index = self.size();
        self.levels[0].push(hash);
        let mut level = 0;
        // Complete every perfect subtree that this leaf closes.
        while self.levels[level].len().is_multiple_of(2) {
            let n = self.levels[level].len();
            let parent = node_hash(self.suite, &self.levels[level][n - 2], &self.levels[level][n - 1]);
            if self.levels.len() == level + 1 {
                self.levels.push(Vec::new());
            }
            self.levels[level + 1].push(parent);
            level += 1;
        }
        index
    }

    /// The right edge of the whole log, to extend speculatively.
    pub fn frontier(&self) -> Frontier {
        let mut peaks = Vec::new();
        for (h, level) in self.levels.iter().enumerate().rev() {
            if level.len() % 2 == 1 {
                peaks.push((h as u32, *level.last().expect("odd length")));
            }
        }
        Frontier { suite: self.suite, size: self.size(), peaks }
    }

    /// Appends leaf data; returns its index.
    pub fn push(&mut self, data: &[u8]) -> u64 {
        self.push_leaf_hash(leaf_hash(self.suite, data))
    }

    pub fn leaf(&self, index: u64) -> Option<Hash> {
        self.levels[0].get(index as usize).copied()
    }

    /// Root of the tree over the first `size` leaves.
    pub fn root_at(&self, size: u64) -> Result<Hash, ProofError> {
        self.check_size(size)?;
        if size == 0 {
            return Ok(empty_root(self.suite));
        }
        Ok(self.subtree(0, size))
    }

    pub fn root(&self) -> Hash {
        self.root_at(self.size()).expect("own size")
    }

    /// RFC 9162 inclusion proof of leaf `index` in the tree of `size` leaves.
    pub fn inclusion_proof(&self, index: u64, size: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(size)?;
        if index >= size {
            return Err(ProofError::IndexOutOfRange { index, size });
        }
        let mut proof = Vec::new();
        self.path(index, 0, size, &mut proof);
        Ok(proof)
    }

    /// RFC 9162 consistency proof between sizes `first` and `second`.
    pub fn consistency_proof(&self, first: u64, second: u64) -> Result<Vec<Hash>, ProofError> {
        self.check_size(second)?;
        if first > second {
            return Err(ProofError::SizesOutOfOrder { first, second });
        }
        if first == 0 {
            return Err(ProofError::EmptyFirstTree);
        }
        let mut proof = Vec::new();
        self.subproof(first, 0, second, true, &mut proof);
        Ok(proof)
    }

    fn check_size(&self, size: u64) -> Result<(), ProofError> {
        if size > self.size() {
            return Err(ProofError::BeyondLog { size, have: self.size() });
        }
        Ok(())
    }

    /// MTH(D[start:end]); perfect aligned subtrees come straight from `levels`.
    fn subtree(&self, start: u64, end: u64) -> Hash {
        let n = end - start;
        debug_assert!(n >= 1);
        if n.is_power_of_two() && start.is_multiple_of(n) {
            let level = n.trailing_zeros() as usize;
            return self.levels[level][(start / n) as usize];
        }
        let k = split_point(n);
        node_hash(self.suite, &self.subtree(start, start + k), &self.subtree(start + k, end))
    }

    fn path(&self, m: u64, start: u64, end: u64, out: &mut Vec<Hash>) {
        let n = end - start;
        if n == 1 {
            return;
        }
        let k = split_point(n);
        if m < k {
            self.path(m, start, start + k, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.path(m - k, start + k, end, out);
            out.push(self.subtree(start, start + k));
        }
    }

    fn subproof(&self, m: u64, start: u64, end: u64, whole: bool, out: &mut Vec<Hash>) {
        let n = end - start;
        if m == n {
            if !whole {
                out.push(self.subtree(start, end));
            }
            return;
        }
        let k = split_point(n);
        if m <= k {
            self.subproof(m, start, start + k, whole, out);
            out.push(self.subtree(start + k, end));
        } else {
            self.subproof(m - k, start + k, end, false, out);
            out.push(self.subtree(start, start + k));
        }
    }
}

/// Verifies an inclusion proof (RFC 9162 section 2.1.3.2).
pub fn verify_inclusion(suite: Suite, index: u64, size: u64, leaf: &Hash, proof: &[Hash], root: &[u8]) -> Result<(), ProofError> {
    if index >= size {
        return Err(ProofError::IndexOutOfRange { index, size });
    }
    let (mut fn_, mut sn) = (index, size - 1);
    let mut r = *leaf;
    for p in proof {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            r = node_hash(suite, p, &r);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            r = node_hash(suite, &r, p);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if r.as_slice() != root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

/// Verifies a consistency proof (RFC 9162 section 2.1.4.2).
pub fn verify_consistency(suite: Suite, first: u64, second: u64, first_root: &[u8], second_root: &[u8], proof: &[Hash]) -> Result<(), ProofError> {
    if first > second {
        return Err(ProofError::SizesOutOfOrder { first, second });
    }
    if first == 0 {
        return Err(ProofError::EmptyFirstTree);
    }
    if first == second {
        if !proof.is_empty() {
            return Err(ProofError::WrongLength);
        }
        return if first_root == second_root { Ok(()) } else { Err(ProofError::RootMismatch) };
    }
    let mut path: Vec<Hash> = Vec::with_capacity(proof.len() + 1);
    if first.is_power_of_two() {
        path.push(first_root.try_into().map_err(|_| ProofError::BadHashLength)?);
    }
    path.extend_from_slice(proof);
    let Some((head, rest)) = path.split_first() else {
        return Err(ProofError::WrongLength);
    };
    let (mut fn_, mut sn) = (first - 1, second - 1);
    while fn_ & 1 == 1 {
        fn_ >>= 1;
        sn >>= 1;
    }
    let (mut fr, mut sr) = (*head, *head);
    for c in rest {
        if sn == 0 {
            return Err(ProofError::WrongLength);
        }
        if fn_ & 1 == 1 || fn_ == sn {
            fr = node_hash(suite, c, &fr);
            sr = node_hash(suite, c, &sr);
            if fn_ & 1 == 0 {
                while fn_ & 1 == 0 && fn_ != 0 {
                    fn_ >>= 1;
                    sn >>= 1;
                }
            }
        } else {
            sr = node_hash(suite, &sr, c);
        }
        fn_ >>= 1;
        sn >>= 1;
    }
    if sn != 0 {
        return Err(ProofError::WrongLength);
    }
    if fr.as_slice() != first_root || sr.as_slice() != second_root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reference MTH straight from the RFC's recursive definition.
    fn mth(suite: Suite, leaves: &[Vec<u8>]) -> Hash {
        match leaves.len() {
            0 => empty_root(suite),
            1 => leaf_hash(suite, &leaves[0]),
            n => {
                let k = split_point(n as u64) as usize;
                node_hash(suite, &mth(suite, &leaves[..k]), &mth(suite, &leaves[k..]))
            }
        }
    }

    #[test]
    fn every_proof_for_every_size_up_to_40_verifies() {
        for suite in Suite::ALL {
            let leaves: Vec<Vec<u8>> = (0..40u32).map(|i| i.to_be_bytes().to_vec()).collect();
            let mut log = MerkleLog::new(suite);
            for l in &leaves {
                log.push(l);
            }
            for size in 0..=40u64 {
                let root = log.root_at(size).unwrap();
                assert_eq!(root, mth(suite, &leaves[..size as usize]), "size {size}");
                for index in 0..size {
                    let proof = log.inclusion_proof(index, size).unwrap();
                    let leaf = log.leaf(index).unwrap();
                    verify_inclusion(suite, index, size, &leaf, &proof, &root).unwrap();
                    let mut bad = leaf;
                    bad[0] ^= 1;
                    assert!(verify_inclusion(suite, index, size, &bad, &proof, &root).is_err());
                }
                for first in 1..=size {
                    let proof = log.consistency_proof(first, size).unwrap();
                    let first_root = log.root_at(first).unwrap();
                    verify_consistency(suite, first, size, &first_root, &root, &proof).unwrap();
                    if first < size {
                        let mut bad = first_root;
                        bad[5] ^= 0x80;
                        assert!(verify_consistency(suite, first, size, &bad, &root, &proof).is_err());
                    }
                }
            }
            assert!(log.inclusion_proof(3, 41).is_err());
            assert_eq!(log.consistency_proof(0, 3), Err(ProofError::EmptyFirstTree));
        }
    }

    #[test]
    fn frontier_extends_any_prefix_to_the_same_roots_as_the_full_log() {
        for suite in Suite::ALL {
            let leaves: Vec<Vec<u8>> = (0..70u32).map(|i| i.to_be_bytes().to_vec()).collect();
            for start in [0usize, 1, 2, 3, 7, 8, 31, 32, 33] {
                let mut log = MerkleLog::new(suite);
                for l in &leaves[..start] {
                    log.push(l);
                }
                let mut frontier = log.frontier();
                assert_eq!(frontier.root(), log.root(), "start {start}");
                for (n, l) in leaves.iter().enumerate().skip(start) {
                    frontier.push_leaf_hash(leaf_hash(suite, l));
                    assert_eq!(frontier.size(), n as u64 + 1);
                    assert_eq!(frontier.root(), mth(suite, &leaves[..=n]), "start {start} size {}", n + 1);
                }
            }
        }
    }
}

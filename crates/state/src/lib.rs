//! The authenticated state: a binary sparse Merkle tree over the suite hash of namespaced keys,
//! with presence and absence proofs (see `docs/encoding.md`, "Authenticated state").
//!
//! The tree is canonical (one root per set of key/value pairs): an empty subtree hashes to
//! [`EMPTY`], a subtree with one key is that key's leaf node wherever it sits, and a subtree
//! with two or more keys is an inner node. Nodes are never rewritten: a block stores the nodes it
//! creates under its height ([`NodeAt`]), a parent links its children by hash and location, so
//! every version of the tree shares the nodes it did not change and any old root can still be
//! walked for an "as of height" proof.
//!
//! Nothing here does I/O or reads a clock: nodes come through [`NodeSource`].

#![forbid(unsafe_code)]

mod overlay;

use std::collections::HashMap;

use cairn_crypto::{Hash, Suite};

pub use overlay::{BlockState, MemStore, Overlay, StateStore, StoreNodes};

/// The hash of an empty subtree.
pub const EMPTY: Hash = [0; 32];
/// Key hashes have 256 bits: no path is longer.
pub const MAX_DEPTH: usize = 256;
/// Version byte of the state proof encoding.
pub const PROOF_VERSION: u8 = 1;
/// Longest module name and key in a state key (bounds what a module can write).
pub const MAX_MODULE_NAME: usize = 64;
pub const MAX_KEY_LEN: usize = 1024;

#[derive(Debug, thiserror::Error)]
pub enum StateError {
    #[error("state node {} is missing from storage", hex(.0))]
    MissingNode(Hash),
    #[error("corrupt state node {}: {}", hex(.0), .1)]
    CorruptNode(Hash, &'static str),
    #[error("state storage: {0}")]
    Storage(String),
    #[error("the stored state root after block {height} is not the one its header names")]
    RootMismatch { height: u64 },
}

/// Why a state proof does not verify. Shown to users after "INVALID: ".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ProofError {
    #[error("state proof is malformed: {0}")]
    Malformed(&'static str),
    #[error("state proof kind says {proof}, but the value is {value}")]
    KindMismatch { proof: &'static str, value: &'static str },
    #[error("the other leaf in an absence proof is not on the key's path")]
    OtherLeafOffPath,
    #[error("state proof does not lead to the block's state root")]
    RootMismatch,
}

fn hex(h: &Hash) -> String {
    h.iter().map(|b| format!("{b:02x}")).collect()
}

/// The namespaced key a module's key is stored under: `str module | bytes key` (u32 lengths).
/// The framework builds it, so a module cannot name another module's keys.
pub fn state_key(module: &str, key: &[u8]) -> Vec<u8> {
    debug_assert!(module.len() <= MAX_MODULE_NAME && key.len() <= MAX_KEY_LEN);
    let mut out = Vec::with_capacity(8 + module.len() + key.len());
    out.extend_from_slice(&(module.len() as u32).to_be_bytes());
    out.extend_from_slice(module.as_bytes());
    out.extend_from_slice(&(key.len() as u32).to_be_bytes());
    out.extend_from_slice(key);
    out
}

pub fn key_hash(suite: Suite, state_key: &[u8]) -> Hash {
    suite.hash(state_key)
}

pub fn value_hash(suite: Suite, value: &[u8]) -> Hash {
    suite.hash(value)
}

pub fn leaf_hash(suite: Suite, key_hash: &Hash, value_hash: &Hash) -> Hash {
    let mut h = suite.hasher();
    h.update(&[0x00]);
    h.update(key_hash);
    h.update(value_hash);
    h.finalize()
}

pub fn inner_hash(suite: Suite, left: &Hash, right: &Hash) -> Hash {
    let mut h = suite.hasher();
    h.update(&[0x01]);
    h.update(left);
    h.update(right);
    h.finalize()
}

/// Bit `i` of a key hash, most significant first (0: left).
fn bit(key: &Hash, i: usize) -> bool {
    debug_assert!(i < MAX_DEPTH);
    key[i / 8] & (0x80 >> (i % 8)) != 0
}

/// Where a stored node lives: the block that created it and its place among that block's new
/// nodes. Storage is addressed by location, not by hash: a block's nodes are written together,
/// in the order it made them, under keys that grow with the height (a few sequential writes per
/// block instead of one random write per node; measured in `cairn bench-state`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct NodeAt {
    pub height: u64,
    pub index: u32,
}

/// A subtree as its parent sees it: its hash and, unless it is empty, where its node is stored.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Child {
    pub hash: Hash,
    pub at: Option<NodeAt>,
}

/// Bytes of a stored link ([`Child::encode`]).
pub const CHILD_BYTES: usize = 32 + 12;

impl Child {
    pub const EMPTY: Child = Child { hash: EMPTY, at: None };

    pub fn is_empty(&self) -> bool {
        self.hash == EMPTY
    }

    /// `hash | u64 height, u32 index`, the location all zeros for the empty tree (a stored root).
    pub fn encode(&self) -> [u8; CHILD_BYTES] {
        let mut out = [0u8; CHILD_BYTES];
        out[..32].copy_from_slice(&self.hash);
        encode_at(self.at, &mut out[32..]);
        out
    }

    /// Checks what a link must be: a location exactly when not empty, at or before `newest`.
    pub fn decode(bytes: &[u8], newest: NodeAt) -> Result<Child, &'static str> {
        if bytes.len() != CHILD_BYTES {
            return Err("wrong length");
        }
        Self::checked(bytes[..32].try_into().expect("length checked"), decode_at(&bytes[32..]), newest)
    }

    fn checked(hash: Hash, at: Option<NodeAt>, newest: NodeAt) -> Result<Child, &'static str> {
        match at {
            None if hash == EMPTY => Ok(Child::EMPTY),
            Some(at) if hash != EMPTY && at.height > 0 && at <= newest => Ok(Child { hash, at: Some(at) }),
            _ => Err("child location does not match its hash"),
        }
    }
}

/// The storage bytes of a block's new nodes, [`NODE_BYTES`] each, in order.
pub fn encode_nodes(nodes: &[Node]) -> Vec<u8> {
    nodes.iter().flat_map(|n| n.encode()).collect()
}

/// A tree node. Its hash covers the hashes only; the children's locations are storage.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Leaf { key_hash: Hash, value_hash: Hash },
    Inner { left: Child, right: Child },
}

/// Bytes of a stored node (fixed, so a node is found in its chunk by its index alone):
/// `u8 tag | 32 | 32 | u64 height, u32 index | u64 height, u32 index`. A leaf is
/// `0x00 | key hash | value hash | zeros`; an inner node `0x01 | left hash | right hash | left
/// location | right location`, a location all zeros for an empty child (no block has height 0).
pub const NODE_BYTES: usize = 1 + 64 + 24;

fn encode_at(at: Option<NodeAt>, out: &mut [u8]) {
    if let Some(at) = at {
        assert!(at.height > 0, "no node is stored at height 0");
        out[..8].copy_from_slice(&at.height.to_be_bytes());
        out[8..12].copy_from_slice(&at.index.to_be_bytes());
    }
}

fn decode_at(bytes: &[u8]) -> Option<NodeAt> {
    let height = u64::from_be_bytes(bytes[..8].try_into().expect("12 bytes"));
    let index = u32::from_be_bytes(bytes[8..12].try_into().expect("12 bytes"));
    (height != 0 || index != 0).then_some(NodeAt { height, index })
}

impl Node {
    pub fn hash(&self, suite: Suite) -> Hash {
        match self {
            Node::Leaf { key_hash, value_hash } => leaf_hash(suite, key_hash, value_hash),
            Node::Inner { left, right } => inner_hash(suite, &left.hash, &right.hash),
        }
    }

    /// The storage bytes ([`NODE_BYTES`]).
    pub fn encode(&self) -> [u8; NODE_BYTES] {
        let mut out = [0u8; NODE_BYTES];
        match self {
            Node::Leaf { key_hash, value_hash } => {
                out[1..33].copy_from_slice(key_hash);
                out[33..65].copy_from_slice(value_hash);
            }
            Node::Inner { left, right } => {
                out[0] = 1;
                out[1..33].copy_from_slice(&left.hash);
                out[33..65].copy_from_slice(&right.hash);
                encode_at(left.at, &mut out[65..77]);
                encode_at(right.at, &mut out[77..89]);
            }
        }
        out
    }

    /// Checks the shape as it decodes: a leaf has no locations; an inner node's child has a
    /// location exactly when it is not empty, made before the node itself (at `at`): an
    /// earlier block, or earlier in the same block. So no chain of links can loop.
    pub fn decode(bytes: &[u8], at: NodeAt) -> Result<Node, &'static str> {
        if bytes.len() != NODE_BYTES {
            return Err("wrong length");
        }
        let a: Hash = bytes[1..33].try_into().expect("length checked");
        let b: Hash = bytes[33..65].try_into().expect("length checked");
        let (la, ra) = (decode_at(&bytes[65..77]), decode_at(&bytes[77..89]));
        match bytes[0] {
            0 if la.is_none() && ra.is_none() => Ok(Node::Leaf { key_hash: a, value_hash: b }),
            0 => Err("leaf with child locations"),
            1 => {
                // Made before the node itself: strictly earlier than `at`.
                let before = match at.index.checked_sub(1) {
                    Some(index) => NodeAt { height: at.height, index },
                    None => NodeAt { height: at.height.saturating_sub(1), index: u32::MAX },
                };
                Ok(Node::Inner { left: Child::checked(a, la, before)?, right: Child::checked(b, ra, before)? })
            }
            _ => Err("unknown tag"),
        }
    }
}

/// Where tree nodes are read from (storage, with the overlays of blocks not yet durable).
pub trait NodeSource {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError>;
}

/// A source with no nodes (an empty tree needs none).
pub struct NoNodes;

impl NodeSource for NoNodes {
    fn node(&self, _: NodeAt) -> Result<Option<Node>, StateError> {
        Ok(None)
    }
}

impl NodeSource for HashMap<NodeAt, Node> {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError> {
        Ok(self.get(&at).copied())
    }
}

/// The node of a non-empty subtree, checked to hash to what its parent says: a location that
/// holds another node (storage corruption, or a block of a fork that lost reading the winner's
/// nodes) is an error, never a wrong root.
fn fetch(suite: Suite, source: &dyn NodeSource, child: &Child) -> Result<Node, StateError> {
    let at = child.at.ok_or(StateError::CorruptNode(child.hash, "non-empty subtree without a location"))?;
    let node = source.node(at)?.ok_or(StateError::MissingNode(child.hash))?;
    if node.hash(suite) != child.hash {
        return Err(StateError::CorruptNode(child.hash, "the node at its location hashes to something else"));
    }
    Ok(node)
}

/// The new root after a batch of updates, and the nodes it created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TreeUpdate {
    pub root: Child,
    /// New nodes, children before parents: node `i` is at `NodeAt { height, index: i }`. Nodes
    /// built and then lifted away by a collapse may be among them: stored, never reached.
    pub nodes: Vec<Node>,
}

/// What a subtree is after an update, as far as collapsing needs to know.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    Empty,
    Leaf,
    Inner,
    /// Untouched and not fetched: only fetched if a sibling's deletion might lift it.
    Unknown,
}

struct Updater<'a> {
    suite: Suite,
    source: &'a dyn NodeSource,
    height: u64,
    /// Pushed, never looked up: the update reads only nodes of the tree before it.
    created: Vec<Node>,
}

impl Updater<'_> {
    fn put(&mut self, node: Node) -> Child {
        let at = NodeAt { height: self.height, index: u32::try_from(self.created.len()).expect("fewer than 2^32 nodes per block") };
        self.created.push(node);
        Child { hash: node.hash(self.suite), at: Some(at) }
    }

    /// `updates` are sorted by key hash, unique, and all share `depth` leading bits with the
    /// subtree `child`. Recursion is bounded by [`MAX_DEPTH`].
    fn update(&mut self, child: Child, depth: usize, updates: &[(Hash, Option<Hash>)]) -> Result<(Child, Shape), StateError> {
        if updates.is_empty() {
            return Ok((child, if child.is_empty() { Shape::Empty } else { Shape::Unknown }));
        }
        if child.is_empty() {
            let inserts: Vec<(Hash, Hash)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            return Ok(self.build(depth, &inserts));
        }
        match fetch(self.suite, self.source, &child)? {
            Node::Leaf { key_hash, value_hash } => {
                // The lone key here is kept unless the batch rewrites or deletes it.
                let mut merged: Vec<(Hash, Hash)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
                if updates.binary_search_by(|(k, _)| k.cmp(&key_hash)).is_err() {
                    let at = merged.partition_point(|(k, _)| *k < key_hash);
                    merged.insert(at, (key_hash, value_hash));
                }
                Ok(self.build(depth, &merged))
            }
            Node::Inner { left, right } => {
                assert!(depth < MAX_DEPTH, "inner node at the deepest level");
                let split = updates.partition_point(|(k, _)| !bit(k, depth));
                let l = self.update(left, depth + 1, &updates[..split])?;
                let r = self.update(right, depth + 1, &updates[split..])?;
                self.combine(l, r)
            }
        }
    }

    /// A subtree from sorted, unique (key hash, value hash) pairs sharing `depth` bits.
    fn build(&mut self, depth: usize, leaves: &[(Hash, Hash)]) -> (Child, Shape) {
        match leaves {
            [] => (Child::EMPTY, Shape::Empty),
            [(k, v)] => (self.put(Node::Leaf { key_hash: *k, value_hash: *v }), Shape::Leaf),
            _ => {
                assert!(depth < MAX_DEPTH, "two keys with the same hash");
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
                let l = self.build(depth + 1, &leaves[..split]);
                let r = self.build(depth + 1, &leaves[split..]);
                self.combine(l, r).expect("built subtrees are known")
            }
        }
    }

    /// The parent of two updated subtrees, keeping the tree canonical: a lone leaf beside an
    /// empty subtree moves up.
    fn combine(&mut self, (l, ls): (Child, Shape), (r, rs): (Child, Shape)) -> Result<(Child, Shape), StateError> {
        match (ls, rs) {
            (Shape::Empty, Shape::Empty) => Ok((Child::EMPTY, Shape::Empty)),
            (Shape::Empty, other) if self.is_leaf(&r, other)? => Ok((r, Shape::Leaf)),
            (other, Shape::Empty) if self.is_leaf(&l, other)? => Ok((l, Shape::Leaf)),
            _ => Ok((self.put(Node::Inner { left: l, right: r }), Shape::Inner)),
        }
    }

    fn is_leaf(&self, child: &Child, shape: Shape) -> Result<bool, StateError> {
        Ok(match shape {
            Shape::Leaf => true,
            Shape::Empty | Shape::Inner => false,
            Shape::Unknown => matches!(fetch(self.suite, self.source, child)?, Node::Leaf { .. }),
        })
    }
}

/// Applies `updates` (key hash → new value hash, or `None` to delete), which must be sorted by
/// key hash and unique, to the tree at `root`; the new nodes are block `height`'s.
pub fn apply(suite: Suite, source: &dyn NodeSource, height: u64, root: Child, updates: &[(Hash, Option<Hash>)]) -> Result<TreeUpdate, StateError> {
    assert!(updates.windows(2).all(|w| w[0].0 < w[1].0), "updates sorted by key hash, unique");
    assert!(height > 0, "block heights start at 1");
    let mut u = Updater { suite, source, height, created: Vec::with_capacity(updates.len() * 4) };
    let (root, _) = u.update(root, 0, updates)?;
    Ok(TreeUpdate { root, nodes: u.created })
}

/// What a state proof shows at the end of the key's path.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Terminal {
    /// The key's leaf: the value travels beside the proof.
    Present,
    /// An empty subtree.
    Empty,
    /// Another key's leaf.
    Other { key_hash: Hash, value_hash: Hash },
}

/// A presence or absence proof: siblings from the root's children down, then the terminal.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StateProof {
    pub siblings: Vec<Hash>,
    pub terminal: Terminal,
}

impl StateProof {
    /// `u8 version | u8 kind | u16 depth | sibling[depth] | kind 2: other key hash, value hash`.
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.siblings.len() <= MAX_DEPTH);
        let mut out = Vec::with_capacity(4 + 32 * self.siblings.len() + 64);
        let kind = match self.terminal {
            Terminal::Present => 0,
            Terminal::Empty => 1,
            Terminal::Other { .. } => 2,
        };
        out.extend_from_slice(&[PROOF_VERSION, kind]);
        out.extend_from_slice(&(self.siblings.len() as u16).to_be_bytes());
        for s in &self.siblings {
            out.extend_from_slice(s);
        }
        if let Terminal::Other { key_hash, value_hash } = &self.terminal {
            out.extend_from_slice(key_hash);
            out.extend_from_slice(value_hash);
        }
        out
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, ProofError> {
        let head = bytes.get(..4).ok_or(ProofError::Malformed("shorter than its header"))?;
        if head[0] != PROOF_VERSION {
            return Err(ProofError::Malformed("unsupported version"));
        }
        let depth = u16::from_be_bytes([head[2], head[3]]) as usize;
        if depth > MAX_DEPTH {
            return Err(ProofError::Malformed("deeper than 256"));
        }
        let extra = match head[1] {
            0 | 1 => 0,
            2 => 64,
            _ => return Err(ProofError::Malformed("unknown kind")),
        };
        if bytes.len() != 4 + 32 * depth + extra {
            return Err(ProofError::Malformed("length does not match its depth and kind"));
        }
        let hash_at = |at: usize| -> Hash { bytes[at..at + 32].try_into().expect("length checked") };
        let siblings = (0..depth).map(|i| hash_at(4 + 32 * i)).collect();
        let end = 4 + 32 * depth;
        let terminal = match head[1] {
            0 => Terminal::Present,
            1 => Terminal::Empty,
            _ => Terminal::Other { key_hash: hash_at(end), value_hash: hash_at(end + 32) },
        };
        Ok(StateProof { siblings, terminal })
    }
}

/// Walks the tree at `root` along `key_hash`: the proof, and the value hash if present.
pub fn prove(suite: Suite, source: &dyn NodeSource, root: Child, key_hash: &Hash) -> Result<(StateProof, Option<Hash>), StateError> {
    let mut siblings = Vec::new();
    let mut node = root;
    loop {
        if node.is_empty() {
            return Ok((StateProof { siblings, terminal: Terminal::Empty }, None));
        }
        match fetch(suite, source, &node)? {
            Node::Leaf { key_hash: k, value_hash } if k == *key_hash => return Ok((StateProof { siblings, terminal: Terminal::Present }, Some(value_hash))),
            Node::Leaf { key_hash, value_hash } => return Ok((StateProof { siblings, terminal: Terminal::Other { key_hash, value_hash } }, None)),
            Node::Inner { left, right } => {
                let depth = siblings.len();
                if depth >= MAX_DEPTH {
                    return Err(StateError::CorruptNode(node.hash, "inner node below the deepest level"));
                }
                let (next, sibling) = if bit(key_hash, depth) { (right, left) } else { (left, right) };
                siblings.push(sibling.hash);
                node = next;
            }
        }
    }
}

/// Checks that `value` (`None`: absent) is what the tree at `root` holds for `key_hash`.
pub fn verify(suite: Suite, root: &Hash, key_hash: &Hash, value: Option<&[u8]>, proof: &StateProof) -> Result<(), ProofError> {
    let depth = proof.siblings.len();
    if depth > MAX_DEPTH {
        return Err(ProofError::Malformed("deeper than 256"));
    }
    let mut node = match (&proof.terminal, value) {
        (Terminal::Present, Some(v)) => leaf_hash(suite, key_hash, &value_hash(suite, v)),
        (Terminal::Present, None) => return Err(ProofError::KindMismatch { proof: "present", value: "absent" }),
        (_, Some(_)) => return Err(ProofError::KindMismatch { proof: "absent", value: "present" }),
        (Terminal::Empty, None) => EMPTY,
        (Terminal::Other { key_hash: other, value_hash }, None) => {
            if other == key_hash || (0..depth).any(|i| bit(other, i) != bit(key_hash, i)) {
                return Err(ProofError::OtherLeafOffPath);
            }
            leaf_hash(suite, other, value_hash)
        }
    };
    for i in (0..depth).rev() {
        let sibling = &proof.siblings[i];
        node = if bit(key_hash, i) { inner_hash(suite, sibling, &node) } else { inner_hash(suite, &node, sibling) };
    }
    if node != *root {
        return Err(ProofError::RootMismatch);
    }
    Ok(())
}

#[cfg(test)]
mod tests;

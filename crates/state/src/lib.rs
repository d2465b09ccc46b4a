//! The authenticated state: a binary sparse Merkle tree over the suite hash of namespaced keys,
//! with presence and absence proofs (see `docs/encoding.md`, "Authenticated state").
//!
//! The tree is canonical (one root per set of key/value pairs): an empty subtree hashes to
//! [`EMPTY`], a subtree with one key is that key's leaf node wherever it sits, and a subtree
//! with two or more keys is an inner node. Nodes are content-addressed (a node's key in storage
//! is its hash), so every version of the tree shares unchanged nodes and any old root can still
//! be walked for an "as of height" proof.
//!
//! Nothing here does I/O or reads a clock: nodes come through [`NodeSource`].

#![forbid(unsafe_code)]

mod overlay;

use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

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

/// A stored tree node (content-addressed by its hash).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Node {
    Leaf { key_hash: Hash, value_hash: Hash },
    Inner { left: Hash, right: Hash },
}

pub const NODE_BYTES: usize = 65;

impl Node {
    pub fn hash(&self, suite: Suite) -> Hash {
        match self {
            Node::Leaf { key_hash, value_hash } => leaf_hash(suite, key_hash, value_hash),
            Node::Inner { left, right } => inner_hash(suite, left, right),
        }
    }

    /// `0x00 | key_hash | value_hash` or `0x01 | left | right`: the hash preimage itself.
    pub fn encode(&self) -> [u8; NODE_BYTES] {
        let mut out = [0u8; NODE_BYTES];
        let (tag, a, b) = match self {
            Node::Leaf { key_hash, value_hash } => (0u8, key_hash, value_hash),
            Node::Inner { left, right } => (1u8, left, right),
        };
        out[0] = tag;
        out[1..33].copy_from_slice(a);
        out[33..].copy_from_slice(b);
        out
    }

    pub fn decode(bytes: &[u8]) -> Option<Node> {
        if bytes.len() != NODE_BYTES {
            return None;
        }
        let a: Hash = bytes[1..33].try_into().ok()?;
        let b: Hash = bytes[33..].try_into().ok()?;
        match bytes[0] {
            0 => Some(Node::Leaf { key_hash: a, value_hash: b }),
            1 => Some(Node::Inner { left: a, right: b }),
            _ => None,
        }
    }
}

/// Tree levels stored together: a page holds the inner nodes of four levels below its root
/// and the leaves down to the fourth level, so a path of depth 20 is 5 reads, not 20, and a
/// block writes a quarter as many entries. (Measured with `cairn bench`: one entry per node made
/// the commit of a 20,000-key block the slowest stage of the pipeline.)
pub const PAGE_LEVELS: usize = 4;
/// A page holds at most 15 inner nodes and 16 leaves.
pub const MAX_PAGE_NODES: usize = 31;
const PAGE_VERSION: u8 = 1;

/// The stored unit of the tree: the nodes under one page root (an inner node at a depth that
/// is a multiple of [`PAGE_LEVELS`], or the tree's root), each with its hash.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Page {
    pub nodes: Vec<(Hash, Node)>,
}

impl Page {
    pub fn get(&self, hash: &Hash) -> Option<Node> {
        self.nodes.iter().find(|(h, _)| h == hash).map(|(_, n)| *n)
    }

    /// `u8 version | u8 count | (hash | node)*count`.
    pub fn encode(&self) -> Vec<u8> {
        assert!(self.nodes.len() <= MAX_PAGE_NODES);
        let mut out = Vec::with_capacity(2 + self.nodes.len() * (32 + NODE_BYTES));
        out.extend_from_slice(&[PAGE_VERSION, self.nodes.len() as u8]);
        for (h, n) in &self.nodes {
            out.extend_from_slice(h);
            out.extend_from_slice(&n.encode());
        }
        out
    }

    /// Decodes a stored page; hashes are trusted (a page is found by its root's hash and read
    /// back from our own disk), but the layout is checked.
    pub fn decode(bytes: &[u8]) -> Option<Page> {
        let (&[version, count], rest) = bytes.split_first_chunk::<2>()?;
        let entry = 32 + NODE_BYTES;
        if version != PAGE_VERSION || count as usize > MAX_PAGE_NODES || rest.len() != count as usize * entry {
            return None;
        }
        let nodes = rest.chunks_exact(entry).map(|c| Some((c[..32].try_into().ok()?, Node::decode(&c[32..])?))).collect::<Option<Vec<_>>>()?;
        Some(Page { nodes })
    }
}

/// Where tree pages are read from (storage, with the overlays of blocks not yet durable).
pub trait NodeSource {
    fn page(&self, root: &Hash) -> Result<Option<Arc<Page>>, StateError>;
}

/// A source with no pages (an empty tree needs none).
pub struct NoNodes;

impl NodeSource for NoNodes {
    fn page(&self, _: &Hash) -> Result<Option<Arc<Page>>, StateError> {
        Ok(None)
    }
}

impl NodeSource for BTreeMap<Hash, Arc<Page>> {
    fn page(&self, root: &Hash) -> Result<Option<Arc<Page>>, StateError> {
        Ok(self.get(root).cloned())
    }
}

/// Reads nodes along a path: from the page being walked, loading the next page at each page
/// boundary.
struct Walker<'a> {
    source: &'a dyn NodeSource,
}

impl Walker<'_> {
    /// The node `hash` at `depth`, with the page its children are read from.
    fn fetch(&self, hash: &Hash, depth: usize, page: &Arc<Page>) -> Result<(Node, Arc<Page>), StateError> {
        if let Some(n) = page.get(hash) {
            return Ok((n, Arc::clone(page)));
        }
        if depth.is_multiple_of(PAGE_LEVELS)
            && let Some(p) = self.source.page(hash)?
        {
            let n = p.get(hash).ok_or(StateError::CorruptNode(*hash, "page does not hold its root"))?;
            return Ok((n, p));
        }
        Err(StateError::MissingNode(*hash))
    }
}

/// The new root after a batch of updates, and the pages it created.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct TreeUpdate {
    pub root: Hash,
    /// New pages by root hash (ordered: deterministic writes).
    pub pages: BTreeMap<Hash, Arc<Page>>,
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
    walker: Walker<'a>,
    /// Nodes this update made. (Hash maps: looked up, never iterated.)
    created: HashMap<Hash, Node>,
    /// Nodes of every page read (untouched siblings are copied into the new pages from here).
    known: HashMap<Hash, Node>,
}

impl Updater<'_> {
    fn put(&mut self, node: Node) -> Hash {
        let h = node.hash(self.suite);
        self.created.insert(h, node);
        h
    }

    fn fetch(&mut self, hash: &Hash, depth: usize, page: &Arc<Page>) -> Result<(Node, Arc<Page>), StateError> {
        let (node, page_after) = self.walker.fetch(hash, depth, page)?;
        if !Arc::ptr_eq(&page_after, page) {
            self.known.extend(page_after.nodes.iter().copied());
        }
        Ok((node, page_after))
    }

    /// `updates` are sorted by key hash, unique, and all share `depth` leading bits with the
    /// subtree at `hash`. Recursion is bounded by [`MAX_DEPTH`].
    fn update(&mut self, hash: Hash, depth: usize, updates: &[(Hash, Option<Hash>)], page: &Arc<Page>) -> Result<(Hash, Shape), StateError> {
        if updates.is_empty() {
            return Ok((hash, if hash == EMPTY { Shape::Empty } else { Shape::Unknown }));
        }
        if hash == EMPTY {
            let inserts: Vec<(Hash, Hash)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
            return Ok(self.build(depth, &inserts));
        }
        match self.fetch(&hash, depth, page)? {
            (Node::Leaf { key_hash, value_hash }, _) => {
                // The lone key here is kept unless the batch rewrites or deletes it.
                let mut merged: Vec<(Hash, Hash)> = updates.iter().filter_map(|(k, v)| v.map(|v| (*k, v))).collect();
                if updates.binary_search_by(|(k, _)| k.cmp(&key_hash)).is_err() {
                    let at = merged.partition_point(|(k, _)| *k < key_hash);
                    merged.insert(at, (key_hash, value_hash));
                }
                Ok(self.build(depth, &merged))
            }
            (Node::Inner { left, right }, page) => {
                assert!(depth < MAX_DEPTH, "inner node at the deepest level");
                let split = updates.partition_point(|(k, _)| !bit(k, depth));
                let l = self.update(left, depth + 1, &updates[..split], &page)?;
                let r = self.update(right, depth + 1, &updates[split..], &page)?;
                self.combine(l, r, depth + 1, &page)
            }
        }
    }

    /// A subtree from sorted, unique (key hash, value hash) pairs sharing `depth` bits.
    fn build(&mut self, depth: usize, leaves: &[(Hash, Hash)]) -> (Hash, Shape) {
        match leaves {
            [] => (EMPTY, Shape::Empty),
            [(k, v)] => (self.put(Node::Leaf { key_hash: *k, value_hash: *v }), Shape::Leaf),
            _ => {
                assert!(depth < MAX_DEPTH, "two keys with the same hash");
                let split = leaves.partition_point(|(k, _)| !bit(k, depth));
                let l = self.build(depth + 1, &leaves[..split]);
                let r = self.build(depth + 1, &leaves[split..]);
                let no_page = Arc::new(Page::default());
                self.combine(l, r, depth + 1, &no_page).expect("built subtrees are known")
            }
        }
    }

    /// The parent of two updated subtrees (children at `child_depth`), keeping the tree
    /// canonical: a lone leaf beside an empty subtree moves up.
    fn combine(&mut self, (lh, ls): (Hash, Shape), (rh, rs): (Hash, Shape), child_depth: usize, page: &Arc<Page>) -> Result<(Hash, Shape), StateError> {
        match (ls, rs) {
            (Shape::Empty, Shape::Empty) => Ok((EMPTY, Shape::Empty)),
            (Shape::Empty, other) if self.is_leaf(&rh, other, child_depth, page)? => Ok((rh, Shape::Leaf)),
            (other, Shape::Empty) if self.is_leaf(&lh, other, child_depth, page)? => Ok((lh, Shape::Leaf)),
            _ => Ok((self.put(Node::Inner { left: lh, right: rh }), Shape::Inner)),
        }
    }

    fn is_leaf(&mut self, hash: &Hash, shape: Shape, depth: usize, page: &Arc<Page>) -> Result<bool, StateError> {
        Ok(match shape {
            Shape::Leaf => true,
            Shape::Empty | Shape::Inner => false,
            Shape::Unknown => matches!(self.fetch(hash, depth, page)?.0, Node::Leaf { .. }),
        })
    }

    fn node(&self, hash: &Hash) -> Option<Node> {
        self.created.get(hash).or_else(|| self.known.get(hash)).copied()
    }

    /// The pages of the new tree that did not exist before: the page of every new page root.
    fn pages(&self, root: Hash) -> Result<BTreeMap<Hash, Arc<Page>>, StateError> {
        let mut out = BTreeMap::new();
        if root == EMPTY {
            return Ok(out);
        }
        let mut roots = vec![root];
        while let Some(page_root) = roots.pop() {
            let mut page = Page::default();
            self.collect(page_root, 0, &mut page, &mut roots)?;
            assert!(page.nodes.len() <= MAX_PAGE_NODES, "a page spans four levels");
            out.insert(page_root, Arc::new(page));
        }
        Ok(out)
    }

    /// Adds the node at `level` (0: the page root) below a page root to `page`, and its
    /// descendants within the page; new inner nodes at the next page boundary go to `roots`.
    fn collect(&self, hash: Hash, level: usize, page: &mut Page, roots: &mut Vec<Hash>) -> Result<(), StateError> {
        if level == PAGE_LEVELS {
            match self.node(&hash) {
                Some(leaf @ Node::Leaf { .. }) => page.nodes.push((hash, leaf)),
                Some(Node::Inner { .. }) if self.created.contains_key(&hash) => roots.push(hash),
                // An unchanged page below: it is stored already.
                _ => {}
            }
            return Ok(());
        }
        let node = self.node(&hash).ok_or(StateError::MissingNode(hash))?;
        page.nodes.push((hash, node));
        if let Node::Inner { left, right } = node {
            for child in [left, right] {
                if child != EMPTY {
                    self.collect(child, level + 1, page, roots)?;
                }
            }
        }
        Ok(())
    }
}

/// Applies `updates` (key hash → new value hash, or `None` to delete), which must be sorted by
/// key hash and unique, to the tree at `root`.
pub fn apply(suite: Suite, source: &dyn NodeSource, root: Hash, updates: &[(Hash, Option<Hash>)]) -> Result<TreeUpdate, StateError> {
    assert!(updates.windows(2).all(|w| w[0].0 < w[1].0), "updates sorted by key hash, unique");
    let capacity = updates.len() * 8;
    let mut u = Updater { suite, walker: Walker { source }, created: HashMap::with_capacity(capacity), known: HashMap::with_capacity(capacity) };
    let (new_root, _) = u.update(root, 0, updates, &Arc::new(Page::default()))?;
    let pages = if new_root == root { BTreeMap::new() } else { u.pages(new_root)? };
    Ok(TreeUpdate { root: new_root, pages })
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
pub fn prove(source: &dyn NodeSource, root: Hash, key_hash: &Hash) -> Result<(StateProof, Option<Hash>), StateError> {
    let walker = Walker { source };
    let mut siblings = Vec::new();
    let mut node = root;
    let mut page = Arc::new(Page::default());
    loop {
        if node == EMPTY {
            return Ok((StateProof { siblings, terminal: Terminal::Empty }, None));
        }
        let depth = siblings.len();
        let (fetched, next_page) = walker.fetch(&node, depth, &page)?;
        page = next_page;
        match fetched {
            Node::Leaf { key_hash: k, value_hash } if k == *key_hash => return Ok((StateProof { siblings, terminal: Terminal::Present }, Some(value_hash))),
            Node::Leaf { key_hash, value_hash } => return Ok((StateProof { siblings, terminal: Terminal::Other { key_hash, value_hash } }, None)),
            Node::Inner { left, right } => {
                if depth >= MAX_DEPTH {
                    return Err(StateError::CorruptNode(node, "inner node below the deepest level"));
                }
                let (next, sibling) = if bit(key_hash, depth) { (right, left) } else { (left, right) };
                siblings.push(sibling);
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

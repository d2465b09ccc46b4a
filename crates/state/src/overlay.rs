//! A block's state on top of its parent's, before either is durable.
//!
//! An [`Overlay`] is the write set and new tree nodes of one executed block, linked to its
//! parent's overlay while the parent is not durable. [`BlockState`] is the state a block
//! executes against: the current transaction's writes, then the block's, then the parent chain's
//! overlays, then the durable store read at the parent's height. Blocks on competing forks each
//! have their own overlay, so executing one never disturbs another.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};

use cairn_crypto::{Hash, Suite};

use crate::{Child, Node, NodeAt, NodeSource, StateError, TreeUpdate, apply, key_hash, value_hash};

/// Durable state: tree nodes by location, each block's root, and each key's value by the height
/// that wrote it.
pub trait StateStore: Send + Sync {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError>;
    /// The state root after block `height` (the root of the latest block at or below it that
    /// wrote state; [`Child::EMPTY`] if none did).
    fn root_at(&self, height: u64) -> Result<Child, StateError>;
    /// The value of `state_key` after block `height` (its latest write at or below it).
    fn value_at(&self, state_key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StateError>;
}

/// The writes and new nodes of one executed block.
#[derive(Debug)]
pub struct Overlay {
    pub height: u64,
    pub root: Hash,
    /// Where the root's node is stored (in this overlay, or an older block's).
    pub root_at: Option<NodeAt>,
    /// The parent's overlay while the parent is not durable (cut once it is).
    parent: Mutex<Option<Arc<Overlay>>>,
    /// State key → value (`None`: deleted), in key order.
    pub values: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Tree nodes the block created, in the order it made them: node `i` is at
    /// `NodeAt { height, index: i }` (what the store writes).
    pub nodes: Vec<Node>,
}

/// Durable blocks whose overlays are still read before the store: the upper levels of the
/// tree change in every block, so the nodes a block reads are mostly those its parent just
/// wrote, and the parent's nodes in memory save a storage read each. Bounds the memory to that many
/// blocks' writes beyond those not yet durable.
const KEEP_DURABLE_OVERLAYS: u64 = 1;

impl Overlay {
    /// The block's root as a parent links it.
    pub fn root(&self) -> Child {
        Child { hash: self.root, at: self.root_at }
    }

    /// Overlays from `tip` back to the last one kept (see [`KEEP_DURABLE_OVERLAYS`]), nearest
    /// first. Cuts the link to older ones, so chains stay as short as the blocks not yet on
    /// disk plus that margin.
    fn chain(tip: Option<Arc<Overlay>>, durable_height: u64) -> Vec<Arc<Overlay>> {
        let mut chain: Vec<Arc<Overlay>> = Vec::new();
        let mut next = tip;
        while let Some(o) = next {
            if o.height + KEEP_DURABLE_OVERLAYS <= durable_height {
                if let Some(last) = chain.last() {
                    *last.parent.lock().unwrap() = None;
                }
                break;
            }
            next = o.parent.lock().unwrap().clone();
            chain.push(o);
        }
        assert!(chain.windows(2).all(|w| w[0].height == w[1].height + 1), "overlay chain has gaps");
        chain
    }
}

/// Nodes of the overlay chain, then the store.
struct ChainNodes<'a> {
    chain: &'a [Arc<Overlay>],
    store: &'a dyn StateStore,
}

impl NodeSource for ChainNodes<'_> {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError> {
        // The chain's heights are consecutive, nearest first: the overlay of `at.height`, if
        // kept, is found by subtraction.
        if let Some(newest) = self.chain.first()
            && let Some(o) = newest.height.checked_sub(at.height).and_then(|back| self.chain.get(back as usize))
        {
            debug_assert_eq!(o.height, at.height);
            return Ok(o.nodes.get(at.index as usize).copied());
        }
        self.store.node(at)
    }
}

/// The state one block executes against, with read-your-writes per transaction and per block.
pub struct BlockState<'a> {
    suite: Suite,
    store: &'a dyn StateStore,
    parent_height: u64,
    parent_root: Child,
    chain: Vec<Arc<Overlay>>,
    block: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    tx: BTreeMap<Vec<u8>, Option<Vec<u8>>>,
    /// Chain parameters in force for the whole block (set before its first transaction from
    /// the parent's state; they change only at the end of a block), by name.
    params: BTreeMap<String, u64>,
}

impl<'a> BlockState<'a> {
    /// Sets the chain parameters in force for this block (before its first transaction).
    pub fn set_params(&mut self, params: BTreeMap<String, u64>) {
        self.params = params;
    }

    /// A chain parameter in force for this block, if a vote set one.
    pub fn param(&self, name: &str) -> Option<u64> {
        self.params.get(name).copied()
    }

    /// The state after the parent block at `parent_height` (root `parent_root`), whose overlay
    /// is `parent` unless it is durable; `durable_height` is the store's tip.
    /// The parent's root is located in its overlay, or else read from the store, which must
    /// hold the same root for that height (checked: an error, not a wrong root, if it does not).
    pub fn new(
        suite: Suite,
        store: &'a dyn StateStore,
        parent_height: u64,
        parent_root: Hash,
        parent: Option<Arc<Overlay>>,
        durable_height: u64,
    ) -> Result<Self, StateError> {
        let chain = Overlay::chain(parent, durable_height);
        let root = match chain.first() {
            Some(first) => {
                assert_eq!(first.height, parent_height, "the parent's overlay is the parent's");
                assert_eq!(first.root, parent_root, "the parent's overlay has the parent's root");
                first.root()
            }
            None => store.root_at(parent_height)?,
        };
        if root.hash != parent_root {
            return Err(StateError::RootMismatch { height: parent_height });
        }
        Ok(BlockState { suite, store, parent_height, parent_root: root, chain, block: BTreeMap::new(), tx: BTreeMap::new(), params: BTreeMap::new() })
    }

    /// Overlays read before the store (blocks not yet durable).
    pub fn chain_len(&self) -> usize {
        self.chain.len()
    }

    /// The value of a (namespaced) state key as the current transaction sees it.
    pub fn get(&self, state_key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        if let Some(v) = self.tx.get(state_key).or_else(|| self.block.get(state_key)) {
            return Ok(v.clone());
        }
        for o in &self.chain {
            if let Some(v) = o.values.get(state_key) {
                return Ok(v.clone());
            }
        }
        self.store.value_at(state_key, self.parent_height)
    }

    pub fn put(&mut self, state_key: Vec<u8>, value: Vec<u8>) {
        self.tx.insert(state_key, Some(value));
    }

    pub fn delete(&mut self, state_key: Vec<u8>) {
        self.tx.insert(state_key, None);
    }

    /// The current transaction succeeded: its writes join the block's.
    pub fn commit_tx(&mut self) {
        let tx = std::mem::take(&mut self.tx);
        self.block.extend(tx);
    }

    /// The current transaction failed: its writes are dropped.
    pub fn abort_tx(&mut self) {
        self.tx.clear();
    }

    /// Computes the block's state root: the overlay its children build on.
    pub fn finish(self, height: u64) -> Result<Overlay, StateError> {
        assert!(self.tx.is_empty(), "every transaction committed or aborted");
        assert_eq!(height, self.parent_height + 1, "a block executes on its parent");
        let suite = self.suite;
        let mut updates: Vec<(Hash, Option<Hash>)> = self.block.iter().map(|(k, v)| (key_hash(suite, k), v.as_ref().map(|v| value_hash(suite, v)))).collect();
        updates.sort_unstable_by_key(|u| u.0);
        let source = ChainNodes { chain: &self.chain, store: self.store };
        let TreeUpdate { root, nodes } = if updates.is_empty() {
            TreeUpdate { root: self.parent_root, nodes: Vec::new() }
        } else {
            apply(suite, &source, height, self.parent_root, &updates)?
        };
        Ok(Overlay { height, root: root.hash, root_at: root.at, parent: Mutex::new(self.chain.first().cloned()), values: self.block, nodes })
    }
}

/// The durable nodes of a store, as a [`NodeSource`] (proofs of final state).
pub struct StoreNodes<'a>(pub &'a dyn StateStore);

impl NodeSource for StoreNodes<'_> {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError> {
        self.0.node(at)
    }
}

/// State kept in memory: for tests, and for replaying a chain to check its state roots.
#[derive(Default)]
pub struct MemStore {
    nodes: HashMap<NodeAt, Node>,
    roots: BTreeMap<u64, Child>,
    values: BTreeMap<(Vec<u8>, u64), Option<Vec<u8>>>,
}

impl MemStore {
    /// Makes a block's overlay durable here.
    pub fn persist(&mut self, o: &Overlay) {
        let at = |index: usize| NodeAt { height: o.height, index: index as u32 };
        self.nodes.extend(o.nodes.iter().enumerate().map(|(i, n)| (at(i), *n)));
        if !o.values.is_empty() {
            self.roots.insert(o.height, o.root());
        }
        for (k, v) in &o.values {
            self.values.insert((k.clone(), o.height), v.clone());
        }
    }
}

impl StateStore for MemStore {
    fn node(&self, at: NodeAt) -> Result<Option<Node>, StateError> {
        Ok(self.nodes.get(&at).copied())
    }

    fn root_at(&self, height: u64) -> Result<Child, StateError> {
        Ok(self.roots.range(..=height).next_back().map_or(Child::EMPTY, |(_, r)| *r))
    }

    fn value_at(&self, key: &[u8], height: u64) -> Result<Option<Vec<u8>>, StateError> {
        Ok(self.values.range((key.to_vec(), 0)..=(key.to_vec(), height)).next_back().and_then(|(_, v)| v.clone()))
    }
}

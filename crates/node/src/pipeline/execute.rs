//! Executing a block on top of a parent state: shared by the single node's producer and by
//! consensus (proposing, verifying, applying a final block fetched from peers).

use std::collections::HashSet;
use std::sync::Arc;
use std::sync::atomic::Ordering;

use cairn_crypto::Hash;
use cairn_exec::TxError;
use cairn_merkle::{Frontier, leaf_hash};
use cairn_state::{BlockState, Overlay};
use cairn_store::{BlockCommit, TxLocation};
use cairn_types::block::{Block, BlockHeader, tx_root};
use cairn_types::log::encode_block_leaf;
use cairn_types::tx::Transaction;

use super::Ledger;
use crate::error::Result;

/// The state after a block: what its children build on.
#[derive(Clone, Debug)]
pub(crate) struct ChainState {
    pub height: u64,
    /// Consensus digest of the block.
    pub digest: [u8; 32],
    /// Cairn block hash (the genesis hash at height 0).
    pub hash: Hash,
    pub time_ms: u64,
    pub frontier: Frontier,
    /// Root of the authenticated state after the block.
    pub state_root: Hash,
    /// The block's state writes while it is not durable (`None` once it is, or when loaded
    /// from disk): children read through it.
    pub overlay: Option<Arc<Overlay>>,
}

/// Why a block is invalid (an honest validator gives it no vote).
#[derive(Debug)]
pub(crate) struct Invalid(pub String);

/// A block executed on a parent state, not yet durable.
pub(crate) struct Executed {
    pub header: BlockHeader,
    /// Everything the block writes (no checkpoint, no consensus record yet).
    pub commit: BlockCommit,
    /// The state after the block (its consensus digest still unset).
    pub state: ChainState,
    /// Leaf hashes of `commit.leaves`, to extend the durable log without hashing again.
    pub leaf_hashes: Vec<Hash>,
    /// Transactions left out (only when not strict), with why.
    pub rejected: Vec<(Hash, TxError)>,
}

impl Ledger {
    /// Executes `txs` as the block at `height` on `parent` at `time_ms`; `in_ancestry` names
    /// transactions already in blocks between the durable tip and `parent`. Strict (verifying
    /// a proposal): any failing transaction makes the block invalid. Otherwise (building a
    /// block) failing transactions are left out and returned.
    pub(crate) fn execute_on(
        &self,
        parent: &ChainState,
        height: u64,
        time_ms: u64,
        txs: Vec<Transaction>,
        in_ancestry: &dyn Fn(&Hash) -> bool,
        strict: bool,
    ) -> Result<Result<Executed, Invalid>> {
        let suite = self.exec.suite();
        let first_leaf = parent.frontier.size();
        let mut commit = BlockCommit { height, first_leaf, ..BlockCommit::default() };
        let mut included: Vec<Transaction> = Vec::with_capacity(txs.len());
        let mut in_block = HashSet::with_capacity(txs.len());
        let mut rejected = Vec::new();
        assert_eq!(height, parent.height + 1, "a block executes on its parent");
        let durable = self.committed_height.load(Ordering::Acquire);
        let mut state = BlockState::new(suite, &self.store, parent.height, parent.state_root, parent.overlay.clone(), durable)?;
        self.exec.begin_block(height, time_ms, first_leaf, &mut state)?;
        for tx in txs {
            let replay = in_block.contains(&tx.id) || in_ancestry(&tx.id) || self.store.contains_tx(&tx.id)?;
            let outcome = if replay {
                Err(TxError::Replay(hex::encode(tx.id)))
            } else {
                self.exec.execute(&tx, height, time_ms, first_leaf + commit.leaves.len() as u64, &mut state)?
            };
            match outcome {
                Ok(effects) => {
                    in_block.insert(tx.id);
                    let loc = TxLocation {
                        height,
                        index_in_block: included.len() as u32,
                        first_leaf: first_leaf + commit.leaves.len() as u64,
                        leaf_count: effects.leaves.len() as u32,
                    };
                    commit.txs.push((tx.id, loc));
                    commit.leaves.extend(effects.leaves);
                    commit.index.extend(effects.index.into_iter().map(|e| (e.index, e.key, e.value)));
                    included.push(tx);
                }
                Err(e) if strict => return Ok(Err(Invalid(format!("transaction {}: {e}", hex::encode(tx.id))))),
                Err(e) => rejected.push((tx.id, e)),
            }
        }
        self.exec.end_block(height, time_ms, first_leaf + commit.leaves.len() as u64, &mut state)?;
        let overlay = state.finish(height)?;
        let mut leaf_hashes: Vec<Hash> = commit.leaves.iter().map(|l| leaf_hash(suite, l)).collect();
        let mut frontier = parent.frontier.clone();
        for h in &leaf_hashes {
            frontier.push_leaf_hash(*h);
        }
        let ids: Vec<Hash> = included.iter().map(|t| t.id).collect();
        let header = BlockHeader {
            chain_id: self.genesis().chain_id.clone(),
            height,
            parent: parent.hash,
            time_ms,
            tx_count: included.len() as u32,
            tx_root: tx_root(suite, &ids),
            log_size: frontier.size(),
            log_root: frontier.root(),
            state_root: Some(overlay.root),
        };
        if header.has_block_leaf() {
            // The header's own leaf: the next checkpoint then covers this block's state root.
            let leaf = encode_block_leaf(&header);
            let h = leaf_hash(suite, &leaf);
            frontier.push_leaf_hash(h);
            leaf_hashes.push(h);
            commit.block_leaf = Some(header.log_size);
            commit.leaves.push(leaf);
        }
        assert_eq!(frontier.size(), header.log_size_after(), "the log after the block has its block leaf");
        let hash = header.hash(suite);
        let block = Block { header: header.clone(), txs: included.iter().map(Transaction::encode).collect() };
        commit.block_bytes = block.encode();
        commit.block_hash = hash;
        commit.state_values = overlay.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect();
        commit.state_nodes = overlay.nodes.clone();
        commit.state_root = (!overlay.values.is_empty()).then(|| overlay.root());
        let state = ChainState { height, digest: [0; 32], hash, time_ms, frontier, state_root: overlay.root, overlay: Some(Arc::new(overlay)) };
        Ok(Ok(Executed { header, commit, state, leaf_hashes, rejected }))
    }
}

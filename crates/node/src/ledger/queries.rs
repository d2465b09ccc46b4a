//! The ledger's read-only queries: durable blocks, leaves and their proofs, state receipts and
//! values, consistency proofs, consensus status and certificates. They read the store and the
//! latest served checkpoint, never the pipeline's state in flight, so they answer only what is
//! durable (and, under consensus, final).

use std::sync::atomic::Ordering;

use cairn_crypto::Hash;
use cairn_store::Store;
use cairn_types::block::{Block, BlockHeader};
use cairn_types::state_receipt::{STATE_RECEIPT_FORMAT, StateReceipt};

use super::Ledger;
use crate::error::{Error, Result};
use crate::pipeline::consensus as replica;

impl Ledger {
    /// Height of the last durable block.
    pub fn height(&self) -> u64 {
        self.committed_height.load(Ordering::Acquire)
    }

    /// Leaves covered by the last durable checkpoint.
    pub fn log_size(&self) -> u64 {
        self.latest_checkpoint().map_or(0, |(size, _)| size)
    }

    /// Bytes the node's databases take on disk.
    pub fn disk_bytes(&self) -> u64 {
        self.store.disk_space()
    }

    pub fn mempool_len(&self) -> usize {
        self.mempool.len()
    }

    pub fn latest_checkpoint(&self) -> Option<(u64, String)> {
        self.cosign.served()
    }

    pub fn block(&self, height: u64) -> Result<Option<Block>> {
        Ok(match self.store.block(height)? {
            Some(b) => Some(Block::decode(&b)?),
            None => None,
        })
    }

    /// A durable block's header alone (the body is not decoded).
    pub fn block_header(&self, height: u64) -> Result<Option<BlockHeader>> {
        Ok(match self.store.block(height)? {
            Some(b) => Some(Block::decode_header(&b)?),
            None => None,
        })
    }

    pub fn block_height_by_hash(&self, hash: &Hash) -> Result<Option<u64>> {
        Ok(self.store.block_height_by_hash(hash)?)
    }

    /// A durable leaf with its inclusion proof against the latest signed checkpoint.
    pub fn leaf_proof(&self, leaf_index: u64) -> Result<Option<cairn_module::LeafProof>> {
        if leaf_index >= self.log_size() {
            return Ok(None);
        }
        let leaf = self.store.leaf(leaf_index)?.ok_or_else(|| Error::Corrupt(format!("durable leaf {leaf_index} missing")))?;
        let (tree_size, checkpoint) = self.latest_checkpoint().ok_or_else(|| Error::Corrupt("no checkpoint yet".into()))?;
        if leaf_index >= tree_size {
            return Err(NotYetSigned.into());
        }
        let inclusion_proof = self.log.read().unwrap().inclusion_proof(leaf_index, tree_size)?;
        Ok(Some(cairn_module::LeafProof { leaf_index, leaf, tree_size, inclusion_proof, checkpoint }))
    }

    /// A receipt for a module's own leaf (a version 2 envelope) against the latest signed
    /// checkpoint. The inner error is the caller's: no such durable leaf, or not a module leaf.
    pub fn leaf_receipt(&self, leaf_index: u64) -> Result<Result<cairn_types::receipt::LeafReceipt, LeafQueryError>> {
        let Some(proof) = self.leaf_proof(leaf_index)? else { return Ok(Err(LeafQueryError::Unknown(leaf_index))) };
        let (module, kind) = match cairn_types::log::decode_envelope(&proof.leaf) {
            Ok((module, kind, _)) => (module.to_string(), kind),
            Err(_) => return Ok(Err(LeafQueryError::NotAModuleLeaf(leaf_index))),
        };
        Ok(Ok(cairn_types::receipt::LeafReceipt {
            format: cairn_types::receipt::LEAF_RECEIPT_FORMAT.into(),
            chain_id: self.genesis().chain_id.clone(),
            module,
            kind,
            leaf_index,
            leaf: proof.leaf,
            tree_size: proof.tree_size,
            inclusion_proof: proof.inclusion_proof,
            checkpoint: proof.checkpoint,
        }))
    }

    /// Consistency proof between two signed tree sizes, with both signed checkpoints.
    /// The outer error is the node's (storage); the inner one the caller's (sizes it cannot prove).
    pub fn consistency(&self, first: u64, second: u64) -> Result<Result<ConsistencyProof, String>> {
        // Only what is served: a checkpoint stored with its block is answered once the node
        // recorded it as signed (`signed.rs`) and serves it.
        if second > self.log_size() {
            return Ok(Err(format!("size {second} is beyond the latest served checkpoint ({})", self.log_size())));
        }
        let (Some(from_checkpoint), Some(to_checkpoint)) = (self.store.checkpoint(first)?, self.store.checkpoint(second)?) else {
            return Ok(Err(format!("no signed checkpoint at size {first} and {second}; sizes must be ones this node signed")));
        };
        match self.log.read().unwrap().consistency_proof(first, second) {
            Ok(proof) => Ok(Ok(ConsistencyProof { proof, from_checkpoint, to_checkpoint })),
            Err(e) => Ok(Err(e.to_string())),
        }
    }
}

/// Why a leaf receipt cannot be given (the caller's side).
#[derive(Debug, thiserror::Error)]
pub enum LeafQueryError {
    #[error("no durable leaf {0}")]
    Unknown(u64),
    #[error("leaf {0} is a version 1 leaf (an evidence record or a transaction): evidence records have receipts at /v1/evidence/{{id}}/receipt")]
    NotAModuleLeaf(u64),
}

/// Why a state receipt cannot be given (the caller's side; storage errors are the node's).
#[derive(Debug, thiserror::Error)]
pub enum StateQueryError {
    #[error("no block with transactions at or below height {0}: the state is empty there and no header proves it")]
    NoStateYet(u64),
    #[error("height {asked} is above the last durable block {height}")]
    FutureHeight { asked: u64, height: u64 },
    #[error("the module name or key is too long")]
    BadKey,
    #[error("not a state key of module {module}: {why}")]
    NotAKey { module: String, why: String },
}

impl Ledger {
    /// A state receipt for `module`'s `key` after the latest block with transactions at or
    /// below `height` (default: the latest), against the latest signed checkpoint.
    pub fn state_receipt(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<Result<StateReceipt, StateQueryError>> {
        let (asked, found) = match self.state_block(module, key, height)? {
            Ok(x) => x,
            Err(e) => return Ok(Err(e)),
        };
        let Some((block_height, leaf_index)) = found else { return Ok(Err(StateQueryError::NoStateYet(asked))) };
        let header = Block::decode_header(&self.store.block(block_height)?.ok_or_else(|| Error::Corrupt("block with a block leaf missing".into()))?)?;
        let header_bytes = header.encode();
        let state_root = header.state_root.ok_or_else(|| Error::Corrupt("a block leaf's header has a state root".into()))?;
        assert_eq!(header.log_size, leaf_index, "the block leaf follows the block's transaction leaves");
        let (tree_size, checkpoint) = self.latest_checkpoint().ok_or_else(|| Error::Corrupt("no checkpoint yet".into()))?;
        if leaf_index >= tree_size {
            return Err(NotYetSigned.into());
        }
        let suite = self.exec.suite();
        let full_key = cairn_state::state_key(module, key);
        let value = self.store.state_value_at(&full_key, block_height)?;
        let root = self.store.state_root_at(block_height)?;
        // Paired with the commit: the stored root of a block is its header's.
        if root.hash != state_root {
            return Err(Error::Corrupt(format!("the stored state root of block {block_height} is not its header's; the database is corrupt")));
        }
        let (proof, value_hash) = cairn_state::prove(suite, &cairn_state::StoreNodes(&self.store), root, &cairn_state::key_hash(suite, &full_key))?;
        // Paired with execution: the versioned value and the tree agree.
        if value_hash != value.as_ref().map(|v| cairn_state::value_hash(suite, v)) {
            return Err(Error::Corrupt(format!("state of {module} at block {block_height} disagrees with its tree; the database is corrupt")));
        }
        let view = match self.exec.state_view(module, key, value.as_deref()) {
            Some(Ok(view)) => view,
            Some(Err(e)) => return Err(Error::Corrupt(format!("state value of {module} does not decode: {e}"))),
            None => serde_json::Value::Null,
        };
        let inclusion_proof = self.log.read().unwrap().inclusion_proof(leaf_index, tree_size)?;
        Ok(Ok(StateReceipt {
            format: STATE_RECEIPT_FORMAT.into(),
            chain_id: self.genesis().chain_id.clone(),
            module: module.into(),
            key: key.to_vec(),
            value,
            view,
            height: block_height,
            header: header_bytes,
            proof: proof.encode(),
            leaf_index,
            tree_size,
            inclusion_proof,
            checkpoint,
        }))
    }

    /// The value of `module`'s `key` after the latest block with transactions at or below
    /// `height` (default: the latest durable block), without a proof.
    pub fn state_value(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<Result<Option<Vec<u8>>, StateQueryError>> {
        let found = match self.state_block(module, key, height)? {
            Ok((_, found)) => found,
            Err(e) => return Ok(Err(e)),
        };
        let Some((block_height, _)) = found else { return Ok(Ok(None)) };
        Ok(Ok(self.store.state_value_at(&cairn_state::state_key(module, key), block_height)?))
    }

    /// The checks every state query makes (key sizes, a key its module can hold, a height not
    /// in the future), then the
    /// height asked (default: the last durable block) and the latest block with transactions at
    /// or below it, with its block leaf (`None`: the state is empty there).
    #[allow(clippy::type_complexity)]
    fn state_block(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<Result<(u64, Option<(u64, u64)>), StateQueryError>> {
        if module.len() > cairn_state::MAX_MODULE_NAME || key.len() > cairn_state::MAX_KEY_LEN {
            return Ok(Err(StateQueryError::BadKey));
        }
        // A key the module cannot hold is the caller's mistake, not an absence to prove.
        if let Some(Err(why)) = self.exec.state_view(module, key, None) {
            return Ok(Err(StateQueryError::NotAKey { module: module.into(), why }));
        }
        let durable = self.height();
        let asked = height.unwrap_or(durable);
        if asked > durable {
            return Ok(Err(StateQueryError::FutureHeight { asked, height: durable }));
        }
        Ok(Ok((asked, self.store.block_leaf_at_or_below(asked)?)))
    }

    pub(crate) fn store(&self) -> &Store {
        &self.store
    }

    /// The state root after the last durable block (`None`: a version 1 block).
    pub fn state_root(&self) -> Result<Option<Hash>> {
        match self.height() {
            0 => Ok(Some(cairn_state::EMPTY)),
            h => Ok(Block::decode_header(&self.store.block(h)?.ok_or_else(|| Error::Corrupt("tip block missing".into()))?)?.state_root),
        }
    }
}

/// An RFC 9162 consistency proof between two tree sizes, with the signed checkpoint of each.
pub struct ConsistencyProof {
    pub proof: Vec<Hash>,
    pub from_checkpoint: String,
    pub to_checkpoint: String,
}

/// A record is final but no checkpoint signed by a quorum covers it yet (a moment's wait).
#[derive(Debug, thiserror::Error)]
#[error("the record is final but not yet covered by a checkpoint signed by a quorum; retry in a moment")]
pub struct NotYetSigned;

/// What `/v1/status` says about consensus.
#[derive(Clone, Debug, serde::Serialize)]
pub struct ConsensusStatus {
    pub validator_index: usize,
    pub validators: usize,
    pub quorum: usize,
    pub finalized_height: u64,
    pub peers_connected: usize,
    pub faults: u64,
    /// What validators vote with: `sm2` (SM2 vote keys, SM3 block digests) or `ed25519`.
    pub votes: &'static str,
}

impl Ledger {
    pub fn is_replicated(&self) -> bool {
        self.replica.is_some()
    }

    pub fn consensus_status(&self) -> Option<ConsensusStatus> {
        let r = self.replica.as_ref()?;
        let peers = r.peers_connected();
        self.metrics.peers_connected.set(peers as i64);
        Some(ConsensusStatus {
            validator_index: r.index,
            validators: self.genesis().validators.len(),
            quorum: self.genesis().quorum(),
            finalized_height: self.height(),
            peers_connected: peers,
            faults: self.store.fault_count().unwrap_or(0),
            votes: if self.genesis().sm2_votes() { "sm2" } else { "ed25519" },
        })
    }

    /// The first final block whose log has `size` leaves after it, its block leaf included (the
    /// block a checkpoint of that size was signed for). Heights' log sizes never decrease:
    /// binary search.
    pub fn block_with_log_size(&self, size: u64) -> Result<Option<u64>> {
        let log_size_at = |h: u64| -> Result<u64> {
            Ok(Block::decode_header(&self.store.block(h)?.ok_or_else(|| Error::Corrupt("block missing".into()))?)?.log_size_after())
        };
        let (mut lo, mut hi) = (1u64, self.height());
        if hi == 0 || log_size_at(hi)? < size {
            return Ok(None);
        }
        while lo < hi {
            let mid = lo + (hi - lo) / 2;
            if log_size_at(mid)? < size {
                lo = mid + 1;
            } else {
                hi = mid;
            }
        }
        Ok((log_size_at(lo)? == size).then_some(lo))
    }

    /// Misbehaviour evidence recorded, newest first.
    pub fn faults(&self, limit: usize) -> Result<Vec<(u64, String)>> {
        Ok(self.store.faults(limit)?)
    }

    /// The finalization certificate that proves block `height` final: its own, or the nearest
    /// later block's (an ancestor is final with its descendant). With the consensus records
    /// (digest, parent digest) of the blocks from `height` to the certified one.
    pub fn certificate(&self, height: u64) -> Result<Option<CertificateProof>> {
        const MAX_CHAIN: usize = 1024;
        let mut chain = Vec::new();
        for (h, record) in self.store.consensus_records_from(height, MAX_CHAIN)? {
            let Some(r) = replica::decode_record(&record) else { return Err(Error::Corrupt(format!("malformed consensus record at {h}"))) };
            if h != height + chain.len() as u64 {
                break;
            }
            let block = self.store.block(h)?.ok_or_else(|| Error::Corrupt("block missing".into()))?;
            let header = Block::decode_header(&block)?;
            chain.push(CertifiedLink { height: h, digest: r.digest, parent: r.parent, header, body_hash: self.block_hash().hash(&block) });
            if let Some(certificate) = r.certificate {
                let first = &chain[0].header;
                let extension = if first.has_block_leaf() {
                    Some((first.log_size_after(), self.log.read().unwrap().consistency_proof(first.log_size, first.log_size_after())?))
                } else {
                    None
                };
                return Ok(Some(CertificateProof { chain, certificate, extension }));
            }
        }
        Ok(None)
    }
}

/// One block on the way from a record's block to a certified block.
#[derive(Clone, Debug)]
pub struct CertifiedLink {
    pub height: u64,
    pub digest: [u8; 32],
    pub parent: [u8; 32],
    pub header: BlockHeader,
    /// SHA-256 of the whole block (the consensus digest covers it).
    pub body_hash: [u8; 32],
}

#[derive(Clone, Debug)]
pub struct CertificateProof {
    /// From the block asked for up to the certified block, in height order.
    pub chain: Vec<CertifiedLink>,
    /// Commonware's encoded finalization certificate of the last block in `chain`.
    pub certificate: Vec<u8>,
    /// For a first block with a block leaf: the log after it (size, consistency proof from the
    /// header's log size), which is what checkpoints signed after it cover.
    pub extension: Option<(u64, Vec<Hash>)>,
}

//! Blocks: a header that commits to the transactions and to the log after them.
//!
//! Header bytes (format version 2; version 1, written by earlier releases, has no state root):
//! ```text
//! u8 version | str chain_id | u64 height | parent[32] | u64 time_ms | u32 tx_count
//! | tx_root[32] | u64 log_size | log_root[32] | v2: state_root[32]
//! ```
//! `log_size`/`log_root` describe the log after the block's transaction leaves; a version 2
//! block with transactions then appends its block leaf (the header), see [`crate::log`].
//! The block hash is the suite hash of the header bytes. `tx_root` is the RFC 9162 root over
//! the transaction ids (each id as leaf data). A stored block is `header | u32 n | bytes(tx)*n`.

use cairn_crypto::{Hash, Suite};

use crate::codec::{DecodeError, Reader, Writer};

/// The header version this release writes.
pub const BLOCK_VERSION: u8 = 2;
/// Headers of earlier releases (no state root), still read.
pub const BLOCK_VERSION_V1: u8 = 1;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BlockHeader {
    pub chain_id: String,
    pub height: u64,
    pub parent: Hash,
    pub time_ms: u64,
    pub tx_count: u32,
    pub tx_root: Hash,
    pub log_size: u64,
    pub log_root: Hash,
    /// Root of the authenticated state after the block; `None` in a version 1 header.
    pub state_root: Option<Hash>,
}

impl BlockHeader {
    pub fn version(&self) -> u8 {
        if self.state_root.is_some() { BLOCK_VERSION } else { BLOCK_VERSION_V1 }
    }

    /// Whether the block appended a block leaf after its transaction leaves.
    pub fn has_block_leaf(&self) -> bool {
        self.state_root.is_some() && self.tx_count > 0
    }

    /// Size of the log after the block, its block leaf included.
    pub fn log_size_after(&self) -> u64 {
        self.log_size + u64::from(self.has_block_leaf())
    }

    pub fn encode_into(&self, w: &mut Writer) {
        w.u8(self.version())
            .str(&self.chain_id)
            .u64(self.height)
            .fixed(&self.parent)
            .u64(self.time_ms)
            .u32(self.tx_count)
            .fixed(&self.tx_root)
            .u64(self.log_size)
            .fixed(&self.log_root);
        if let Some(root) = &self.state_root {
            w.fixed(root);
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_into(&mut w);
        w.into_bytes()
    }

    pub fn hash(&self, suite: Suite) -> Hash {
        suite.hash(&self.encode())
    }

    /// A header on its own (as in a finality proof).
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let h = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(h)
    }

    pub(crate) fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u8("block version")?;
        if version != BLOCK_VERSION && version != BLOCK_VERSION_V1 {
            return Err(DecodeError::Invalid { field: "block version", reason: "unsupported" });
        }
        Ok(BlockHeader {
            chain_id: r.str("chain_id", 128)?.to_string(),
            height: r.u64("height")?,
            parent: r.fixed::<32>("parent")?,
            time_ms: r.u64("time_ms")?,
            tx_count: r.u32("tx_count")?,
            tx_root: r.fixed::<32>("tx_root")?,
            log_size: r.u64("log_size")?,
            log_root: r.fixed::<32>("log_root")?,
            state_root: if version == BLOCK_VERSION { Some(r.fixed::<32>("state_root")?) } else { None },
        })
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Block {
    pub header: BlockHeader,
    /// Canonical transaction bytes, in execution order.
    pub txs: Vec<Vec<u8>>,
}

impl Block {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.header.encode_into(&mut w);
        w.u32(self.txs.len() as u32);
        for tx in &self.txs {
            w.bytes(tx);
        }
        w.into_bytes()
    }

    /// The header of an encoded block, without decoding its transactions.
    pub fn decode_header(bytes: &[u8]) -> Result<BlockHeader, DecodeError> {
        BlockHeader::decode_from(&mut Reader::new(bytes))
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let header = BlockHeader::decode_from(&mut r)?;
        let n = r.count("txs", 1 << 20)?;
        if n != header.tx_count as usize {
            return Err(DecodeError::Invalid { field: "txs", reason: "count differs from header" });
        }
        let mut txs = Vec::with_capacity(n);
        for _ in 0..n {
            txs.push(r.bytes("tx", 64 << 20)?.to_vec());
        }
        r.finish()?;
        Ok(Block { header, txs })
    }
}

/// RFC 9162 root over transaction ids.
pub fn tx_root(suite: Suite, ids: &[Hash]) -> Hash {
    let mut log = cairn_merkle::MerkleLog::new(suite);
    for id in ids {
        log.push(id);
    }
    log.root()
}

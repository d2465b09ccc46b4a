//! The consensus block: parent digest, height, the ledger's commitment to its payload and the
//! payload, in Commonware's codec.
//!
//! Its digest (what validators vote on and finalization certificates name) is
//! `H(parent ‖ height (u64 BE) ‖ commitment ‖ H(payload))`, so that a certificate can be
//! checked against the ledger's block header (whose hash is the commitment) without the
//! block's whole body: see [`crate::certificate`]. `H` is SHA-256, or SM3 on chains that vote
//! in SM2 ([`BlockHash`]); the digest type stays Commonware's 32-byte `sha256::Digest`.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write};
use commonware_consensus::types::Height;
use commonware_consensus::{Block, Heightable};
use commonware_cryptography::sha256::{Digest, Sha256};
use commonware_cryptography::{Digestible, Hasher as _};

/// The hash of block digests: SHA-256, or SM3 where validators vote in SM2 (an `sm2-sm3`
/// chain whose genesis names vote keys), so that such a chain signs no SHA-256 digest.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub enum BlockHash {
    #[default]
    Sha256,
    Sm3,
}

impl BlockHash {
    pub fn hash(self, bytes: &[u8]) -> [u8; 32] {
        match self {
            BlockHash::Sha256 => sha256(bytes),
            BlockHash::Sm3 => cairn_crypto::sm3(bytes),
        }
    }
}

/// Decoding a block: the largest payload, and the hash its digest uses (not on the wire).
#[derive(Clone, Copy, Debug)]
pub struct BlockCfg {
    pub max_payload: RangeCfg<usize>,
    pub hash: BlockHash,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock {
    pub parent: Digest,
    pub height: Height,
    /// The ledger's own hash of the payload (Cairn: the block header hash).
    pub commitment: [u8; 32],
    pub payload: Vec<u8>,
    /// The chain's digest hash (from the codec config; not encoded).
    pub hash: BlockHash,
}

impl ConsensusBlock {
    /// Height 0: the same on every validator (its parent is a fixed label).
    pub fn genesis(hash: BlockHash) -> Self {
        let parent = Digest(hash.hash(b"cairn-consensus-genesis"));
        ConsensusBlock { parent, height: Height::zero(), commitment: [0; 32], payload: Vec::new(), hash }
    }
}

/// Digest of the height-0 block every chain starts from.
pub fn genesis_digest(hash: BlockHash) -> [u8; 32] {
    ConsensusBlock::genesis(hash).digest().0
}

/// The digest of a block from its parts (the payload by its hash, `hash.hash(payload)`).
pub fn block_digest(hash: BlockHash, parent: &[u8; 32], height: u64, commitment: &[u8; 32], body_hash: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 104];
    buf[..32].copy_from_slice(parent);
    buf[32..40].copy_from_slice(&height.to_be_bytes());
    buf[40..72].copy_from_slice(commitment);
    buf[72..].copy_from_slice(body_hash);
    hash.hash(&buf)
}

pub fn sha256(bytes: &[u8]) -> [u8; 32] {
    Sha256::hash(&[bytes]).as_ref().try_into().expect("32-byte digest")
}

impl Write for ConsensusBlock {
    fn write(&self, w: &mut impl BufMut) {
        self.parent.write(w);
        self.height.write(w);
        self.commitment.write(w);
        self.payload.write(w);
    }
}

impl Read for ConsensusBlock {
    type Cfg = BlockCfg;
    fn read_cfg(r: &mut impl Buf, cfg: &Self::Cfg) -> Result<Self, CodecError> {
        let parent = Digest::read(r)?;
        let height = Height::read(r)?;
        let commitment = <[u8; 32]>::read(r)?;
        let payload = Vec::<u8>::read_cfg(r, &(cfg.max_payload, ()))?;
        Ok(ConsensusBlock { parent, height, commitment, payload, hash: cfg.hash })
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        self.parent.encode_size() + self.height.encode_size() + 32 + self.payload.encode_size()
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;
    fn digest(&self) -> Digest {
        let parent: [u8; 32] = self.parent.as_ref().try_into().expect("32-byte digest");
        Digest(block_digest(self.hash, &parent, self.height.get(), &self.commitment, &self.hash.hash(&self.payload)))
    }
}

impl Heightable for ConsensusBlock {
    fn height(&self) -> Height {
        self.height
    }
}

impl Block for ConsensusBlock {
    fn parent(&self) -> Digest {
        self.parent
    }
}

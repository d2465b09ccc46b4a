//! The consensus block: parent digest, height, the ledger's commitment to its payload and the
//! payload, in Commonware's codec.
//!
//! Its digest (what validators vote on and finalization certificates name) is
//! `SHA-256(parent ‖ height (u64 BE) ‖ commitment ‖ SHA-256(payload))`, so that a certificate
//! can be checked against the ledger's block header (whose hash is the commitment) without the
//! block's whole body: see [`crate::certificate`].

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write};
use commonware_consensus::types::Height;
use commonware_consensus::{Block, Heightable};
use commonware_cryptography::sha256::{Digest, Sha256};
use commonware_cryptography::{Digestible, Hasher};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock {
    pub parent: Digest,
    pub height: Height,
    /// The ledger's own hash of the payload (Cairn: the block header hash).
    pub commitment: [u8; 32],
    pub payload: Vec<u8>,
}

impl ConsensusBlock {
    /// Height 0: the same on every validator (its parent is a fixed label).
    pub fn genesis() -> Self {
        ConsensusBlock { parent: Sha256::hash(&[b"cairn-consensus-genesis"]), height: Height::zero(), commitment: [0; 32], payload: Vec::new() }
    }
}

/// Digest of the height-0 block every chain starts from.
pub fn genesis_digest() -> [u8; 32] {
    ConsensusBlock::genesis().digest().0
}

/// The digest of a block from its parts (the payload by its SHA-256).
pub fn block_digest(parent: &[u8; 32], height: u64, commitment: &[u8; 32], body_hash: &[u8; 32]) -> [u8; 32] {
    let mut buf = [0u8; 104];
    buf[..32].copy_from_slice(parent);
    buf[32..40].copy_from_slice(&height.to_be_bytes());
    buf[40..72].copy_from_slice(commitment);
    buf[72..].copy_from_slice(body_hash);
    Sha256::hash(&[&buf[..]]).as_ref().try_into().expect("32-byte digest")
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
    /// Largest payload accepted.
    type Cfg = RangeCfg<usize>;
    fn read_cfg(r: &mut impl Buf, cfg: &Self::Cfg) -> Result<Self, CodecError> {
        let parent = Digest::read(r)?;
        let height = Height::read(r)?;
        let commitment = <[u8; 32]>::read(r)?;
        let payload = Vec::<u8>::read_cfg(r, &(*cfg, ()))?;
        Ok(ConsensusBlock { parent, height, commitment, payload })
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
        Digest(block_digest(&parent, self.height.get(), &self.commitment, &sha256(&self.payload)))
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

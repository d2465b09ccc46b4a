//! The consensus block: parent digest, height and the ledger's payload, in Commonware's codec.

use bytes::BufMut;
use commonware_codec::{Buf, EncodeSize, Error as CodecError, RangeCfg, Read, ReadExt, Write};
use commonware_consensus::types::Height;
use commonware_consensus::{Block, Heightable};
use commonware_cryptography::sha256::{Digest, Sha256};
use commonware_cryptography::{Digestible, Hasher};

use crate::BlockInfo;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConsensusBlock {
    pub parent: Digest,
    pub height: Height,
    pub payload: Vec<u8>,
}

impl ConsensusBlock {
    /// Height 0: the same on every validator (its parent is a fixed label).
    pub fn genesis() -> Self {
        ConsensusBlock { parent: Sha256::hash(&[b"cairn-consensus-genesis"]), height: Height::zero(), payload: Vec::new() }
    }

    pub fn info(&self) -> BlockInfo {
        BlockInfo {
            height: self.height.get(),
            digest: self.digest().as_ref().try_into().expect("32-byte digest"),
            parent: self.parent.as_ref().try_into().expect("32-byte digest"),
            payload: self.payload.clone(),
        }
    }
}

impl Write for ConsensusBlock {
    fn write(&self, w: &mut impl BufMut) {
        self.parent.write(w);
        self.height.write(w);
        self.payload.write(w);
    }
}

impl Read for ConsensusBlock {
    /// Largest payload accepted.
    type Cfg = RangeCfg<usize>;
    fn read_cfg(r: &mut impl Buf, cfg: &Self::Cfg) -> Result<Self, CodecError> {
        let parent = Digest::read(r)?;
        let height = Height::read(r)?;
        let payload = Vec::<u8>::read_cfg(r, &(*cfg, ()))?;
        Ok(ConsensusBlock { parent, height, payload })
    }
}

impl EncodeSize for ConsensusBlock {
    fn encode_size(&self) -> usize {
        self.parent.encode_size() + self.height.encode_size() + self.payload.encode_size()
    }
}

impl Digestible for ConsensusBlock {
    type Digest = Digest;
    fn digest(&self) -> Digest {
        let mut buf = Vec::with_capacity(self.encode_size());
        self.write(&mut buf);
        Sha256::hash(&[&buf])
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

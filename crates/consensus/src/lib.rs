//! Byzantine-fault-tolerant block ordering for Cairn, on Commonware (`=2026.10.0`): simplex
//! consensus with ed25519 validator keys (votes in SM2 on `sm2-sm3` chains that name SM2 vote
//! keys, [`sm2`]; the p2p identity stays ed25519), marshal for block dissemination, back-fill and
//! in-order delivery of finalized blocks, buffered broadcast, and `authenticated::lookup` for
//! the encrypted, mutually authenticated p2p network.
//!
//! The rest of Cairn never names a Commonware type: it implements [`BlockLogic`] (propose,
//! verify, apply a finalized block, hear gossip) over opaque payload bytes and gets
//! [`BlockInfo`]s back. [`network::start`] runs a validator on the real network;
//! [`sim::simulate`] runs a whole cluster in Commonware's deterministic runtime from a seed,
//! which is the simulation-test harness. [`certificate`] checks a finalization certificate
//! offline.

mod block;
pub mod certificate;
mod engine;
pub mod network;
pub mod sim;
pub mod sm2;

pub use block::{BlockHash, block_digest, genesis_digest, sha256};
pub use engine::{VoteScheme, consensus_namespace, p2p_namespace};

/// A block as Cairn sees it: consensus metadata plus the ledger's payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockInfo {
    pub height: u64,
    /// What validators vote on: see [`block_digest`].
    pub digest: [u8; 32],
    pub parent: [u8; 32],
    pub payload: Vec<u8>,
}

/// A finalized block with the finalization certificate consensus produced for it, when this
/// validator saw one (ancestors finalized through a descendant's certificate, and blocks
/// fetched while catching up, have none of their own).
#[derive(Clone, Debug)]
pub struct FinalizedBlock {
    pub info: BlockInfo,
    pub certificate: Option<Vec<u8>>,
}

/// Tells consensus that a finalized block is durable; until then it is delivered again after a
/// restart. Dropping it without acknowledging stalls delivery.
pub struct Ack(Box<dyn FnOnce() + Send>);

impl Ack {
    pub fn new(f: impl FnOnce() + Send + 'static) -> Self {
        Ack(Box::new(f))
    }
    pub fn acknowledge(self) {
        (self.0)()
    }
}

/// Gossip topics: each is its own p2p channel.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Topic {
    /// Admitted transactions, so that every leader can include them.
    Transactions,
    /// Checkpoint signatures, so that every node can serve a quorum-signed checkpoint.
    Cosignatures,
}

/// The replicated state machine that consensus orders blocks for. Payloads are opaque bytes
/// (Cairn encodes its own blocks in them). Implementations must be deterministic: every honest
/// validator must give the same verdict on the same block. `now_ms` is the runtime's clock
/// (simulated time in the deterministic runtime).
pub trait BlockLogic: Send + Sync + 'static {
    /// The ledger's hash of a payload, carried in the block and checked before voting; `None`
    /// if the payload does not parse.
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]>;
    /// Whether the state after `block` is known, so that children can be proposed and verified
    /// on it. Consensus replays unknown ancestors through [`BlockLogic::verify`] first.
    fn has_state(&self, _block: &BlockInfo) -> bool {
        true
    }
    /// The payload of a new block at `height` on top of `parent`, or `None` to wait. With
    /// `allow_empty` (after an idle wait) a block without transactions is welcome: it keeps
    /// views moving without timeouts.
    fn propose(&self, parent: &BlockInfo, height: u64, now_ms: u64, allow_empty: bool) -> Option<Vec<u8>>;
    /// Whether an honest validator votes for `payload` at `height` on top of `parent`.
    fn verify(&self, parent: &BlockInfo, height: u64, payload: &[u8], now_ms: u64) -> bool;
    /// A block became final. Called in height order, at least once (again after a restart):
    /// apply idempotently, then acknowledge.
    fn finalized(&self, block: FinalizedBlock, ack: Ack);
    /// The finalization certificate of final block `height`, found after the block was
    /// delivered without one (fetched while catching up). May come before or after
    /// [`BlockLogic::finalized`] has made the block durable.
    fn certificate(&self, _height: u64, _certificate: Vec<u8>) {}
    /// Misbehaviour evidence consensus detected (conflicting votes), described.
    fn fault(&self, _evidence: String) {}
    /// A view ended without a block (leader timeout or invalid proposal).
    fn view_skipped(&self) {}
    /// A gossip message from validator `from` (an index into the participant list).
    fn gossip(&self, _from: usize, _topic: Topic, _message: &[u8]) {}
}

impl<T: BlockLogic + ?Sized> BlockLogic for std::sync::Arc<T> {
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]> {
        (**self).commitment(payload)
    }
    fn has_state(&self, block: &BlockInfo) -> bool {
        (**self).has_state(block)
    }
    fn propose(&self, parent: &BlockInfo, height: u64, now_ms: u64, allow_empty: bool) -> Option<Vec<u8>> {
        (**self).propose(parent, height, now_ms, allow_empty)
    }
    fn verify(&self, parent: &BlockInfo, height: u64, payload: &[u8], now_ms: u64) -> bool {
        (**self).verify(parent, height, payload, now_ms)
    }
    fn finalized(&self, block: FinalizedBlock, ack: Ack) {
        (**self).finalized(block, ack)
    }
    fn certificate(&self, height: u64, certificate: Vec<u8>) {
        (**self).certificate(height, certificate)
    }
    fn fault(&self, evidence: String) {
        (**self).fault(evidence)
    }
    fn view_skipped(&self) {
        (**self).view_skipped()
    }
    fn gossip(&self, from: usize, topic: Topic, message: &[u8]) {
        (**self).gossip(from, topic, message)
    }
}

/// The logic as consensus holds it.
pub type Logic = std::sync::Arc<dyn BlockLogic>;

/// Largest payload a block may carry.
pub const MAX_PAYLOAD: usize = 64 << 20;

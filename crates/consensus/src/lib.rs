//! Byzantine-fault-tolerant block ordering for Cairn, on Commonware (`=2026.10.0`): simplex
//! consensus with ed25519 validator keys, marshal for block dissemination, back-fill and
//! in-order delivery of finalized blocks, and buffered broadcast.
//!
//! The rest of Cairn never names a Commonware type: it implements [`BlockLogic`] (propose,
//! verify, apply a finalized block) over opaque payload bytes and gets [`BlockInfo`]s back.
//! [`sim`] runs a whole cluster in Commonware's deterministic runtime from a seed, which is
//! the simulation-test harness: the same seed gives the same final state hash.
//!
//! Status: the engine and the deterministic simulation work; the ledger integration (a
//! multi-process `cairn node` on `authenticated::lookup`) is the next step (issue #3).

mod block;
mod engine;
pub mod sim;

pub use engine::NAMESPACE;

/// A block as Cairn sees it: consensus metadata plus the ledger's payload.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct BlockInfo {
    pub height: u64,
    /// SHA-256 of the consensus block's encoding (what validators vote on).
    pub digest: [u8; 32],
    pub parent: [u8; 32],
    pub payload: Vec<u8>,
}

/// The replicated state machine that consensus orders blocks for. Payloads are opaque bytes
/// (Cairn encodes its own blocks in them). Implementations must be deterministic: every honest
/// validator must give the same verdict on the same block.
pub trait BlockLogic: Clone + Send + Sync + 'static {
    /// The payload of a new block at `height` on top of `parent`, or `None` to skip proposing.
    fn propose(&self, parent: &BlockInfo, height: u64) -> Option<Vec<u8>>;
    /// Whether an honest validator votes for `payload` at `height` on top of `parent`.
    fn verify(&self, parent: &BlockInfo, height: u64, payload: &[u8]) -> bool;
    /// A block became final. Called in height order, at least once (again after a restart):
    /// apply idempotently.
    fn finalized(&self, block: &BlockInfo);
}

/// Largest payload a block may carry.
pub const MAX_PAYLOAD: usize = 64 << 20;

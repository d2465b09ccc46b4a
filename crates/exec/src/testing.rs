//! A chain in memory for modules' executor tests: blocks of signed calls executed as a
//! validator would (admission's block checks, `begin_block`, each transaction, `end_block`,
//! the state persisted at the block's height), the state readable at any height.
//!
//! It is test support, shipped in the library so that each module's tests share one runner
//! rather than a copy each.

use cairn_crypto::{Hash, KeyPair};
use cairn_module::TxEffects;
use cairn_state::{BlockState, EMPTY, MemStore, StateStore, state_key};
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction, TxBody};

use crate::{Executor, ModuleFactory, TxError};

/// Block `h`'s time: `genesis_time_ms + h` seconds.
const BLOCK_INTERVAL_MS: u64 = 1000;

pub struct TestChain {
    pub exec: Executor,
    pub store: MemStore,
    pub height: u64,
    pub root: Hash,
    /// Leaves logged so far (the next block's first leaf index).
    pub leaves: u64,
    /// Each block's state root, in order.
    pub roots: Vec<Hash>,
    chain_id: String,
    genesis_time_ms: u64,
    nonce: u64,
}

impl TestChain {
    pub fn new(genesis: Genesis, modules: &[ModuleFactory]) -> Self {
        let (chain_id, genesis_time_ms) = (genesis.chain_id.clone(), genesis.genesis_time_ms);
        TestChain {
            exec: Executor::new(genesis, modules),
            store: MemStore::default(),
            height: 0,
            root: EMPTY,
            leaves: 0,
            roots: Vec::new(),
            chain_id,
            genesis_time_ms,
            nonce: 0,
        }
    }

    /// The next block's time.
    pub fn now(&self) -> u64 {
        self.genesis_time_ms + (self.height + 1) * BLOCK_INTERVAL_MS
    }

    /// A call signed by `signer`, expiring a minute after the next block.
    pub fn tx(&mut self, signer: &KeyPair, module: &str, method: &str, args: Vec<u8>) -> Transaction {
        self.nonce += 1;
        TxBody {
            chain_id: self.chain_id.clone(),
            signer: signer.public_key(),
            nonce: self.nonce,
            expires_at_ms: self.now() + 60_000,
            call: Call { module: module.into(), method: method.into(), args },
        }
        .sign(signer)
    }

    /// Admission of a new submission (with its policies), at the next block's time.
    pub fn admit(&self, tx: &Transaction) -> Result<(), TxError> {
        self.exec.admit(&tx.encode(), self.now()).map(|_| ())
    }

    /// One block of `txs`; per transaction its verdict and effects.
    pub fn block(&mut self, txs: &[Transaction]) -> Vec<Result<TxEffects, TxError>> {
        let height = self.height + 1;
        let time = self.now();
        let mut state = BlockState::new(self.exec.genesis().suite, &self.store, self.height, self.root, None, self.height).expect("state opens");
        self.exec.begin_block(height, time, self.leaves, &mut state).expect("begin_block");
        let mut out = Vec::new();
        for tx in txs {
            let checked = self.exec.admit_many(&[tx.encode()], None).pop().expect("one verdict").map(|_| ());
            let r = checked.and_then(|()| self.exec.execute(tx, height, time, self.leaves, &mut state).expect("state storage"));
            if let Ok(fx) = &r {
                self.leaves += fx.leaves.len() as u64;
            }
            out.push(r);
        }
        self.exec.end_block(height, time, self.leaves, &mut state).expect("end_block");
        let overlay = state.finish(height).expect("state finishes");
        self.store.persist(&overlay);
        self.root = overlay.root;
        self.roots.push(overlay.root);
        self.height = height;
        out
    }

    /// One of `module`'s state values at `height` (`None`: the latest).
    pub fn value(&self, module: &str, key: &[u8], height: Option<u64>) -> Option<Vec<u8>> {
        self.store.value_at(&state_key(module, key), height.unwrap_or(self.height)).expect("state reads")
    }
}

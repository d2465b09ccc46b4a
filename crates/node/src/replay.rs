//! Replaying a chain from its blocks: every block re-executed, from genesis, on a fresh state in
//! memory, and each header's state root compared with the replay's. `cairn replay` runs it on a
//! stopped node's database, so an operator (or a test after `kill -9`) can check that the state
//! on disk is exactly what the blocks say.

use std::path::Path;

use cairn_crypto::Hash;
use cairn_exec::Executor;
use cairn_state::{BlockState, EMPTY, MemStore};
use cairn_store::Store;
use cairn_types::block::Block;
use cairn_types::genesis::Genesis;
use cairn_types::tx::Transaction;

use crate::error::{Error, Result};

/// What a replay found.
#[derive(Debug)]
pub struct ReplayReport {
    pub blocks: u64,
    /// Blocks with a version 2 header, whose state roots were compared.
    pub checked: u64,
    pub state_root: Hash,
    /// The first block whose replay differs from what is stored, and how.
    pub mismatch: Option<String>,
}

/// Re-executes every block of the database at `db` (a stopped node's) and checks its state
/// roots. Holds the whole state in memory: a check for operators and tests, not for a node.
pub fn replay(db: &Path, genesis: &Genesis) -> Result<ReplayReport> {
    let exec = Executor::try_new(genesis.clone(), crate::MODULES).map_err(Error::Config)?;
    let store = Store::open(db, &exec.index_names()).map_err(|source| Error::OpenDatabase { path: db.to_path_buf(), source })?;
    let suite = genesis.suite;
    let tip = store.tip_height()?;
    let mut memory = MemStore::default();
    let (mut root, mut checked) = (EMPTY, 0);
    for height in 1..=tip {
        let block = Block::decode(&store.block(height)?.ok_or_else(|| Error::Corrupt(format!("block {height} missing")))?)?;
        let mut state = BlockState::new(suite, &memory, height - 1, root, None, height - 1)?;
        let first_leaf = first_leaf_of(&store, &block)?;
        exec.begin_block(height, block.header.time_ms, first_leaf, &mut state)?;
        for bytes in &block.txs {
            let tx = Transaction::decode(bytes)?;
            let loc = store.tx(&tx.id)?.ok_or_else(|| Error::Corrupt(format!("transaction of block {height} missing")))?;
            if let Err(e) = exec.execute(&tx, height, block.header.time_ms, loc.first_leaf, &mut state)? {
                let mismatch = Some(format!("block {height}: transaction {} fails on replay: {e}", hex::encode(tx.id)));
                return Ok(ReplayReport { blocks: height - 1, checked, state_root: root, mismatch });
            }
        }
        exec.end_block(height, block.header.time_ms, first_leaf, &mut state)?;
        let overlay = state.finish(height)?;
        // Version 1 blocks (an earlier release) kept no state: the state starts at the first v2 block.
        let Some(stored) = block.header.state_root else { continue };
        if overlay.root != stored {
            let mismatch =
                Some(format!("block {height}: the header's state root {} differs from the replay's {}", hex::encode(stored), hex::encode(overlay.root)));
            return Ok(ReplayReport { blocks: height - 1, checked, state_root: root, mismatch });
        }
        memory.persist(&overlay);
        root = overlay.root;
        checked += 1;
    }
    // Paired with the start-up check: the stored tip state is the replayed one, node for node.
    // (A database of the earlier layout has its tree rebuilt when a node opens it first.)
    if !store.needs_state_rebuild()? && store.state_root_at(tip)?.hash != root {
        let mismatch = Some(format!("the final state root {} is not in the database", hex::encode(root)));
        return Ok(ReplayReport { blocks: tip, checked, state_root: root, mismatch });
    }
    Ok(ReplayReport { blocks: tip, checked, state_root: root, mismatch: None })
}

/// Where a stored block's leaves start in the log: its first transaction's first leaf, or
/// (a block without transactions) the log's size before it, which its header records.
pub(crate) fn first_leaf_of(store: &Store, block: &Block) -> Result<u64> {
    match block.txs.first() {
        None => Ok(block.header.log_size),
        Some(bytes) => {
            let tx = Transaction::decode(bytes)?;
            let loc = store.tx(&tx.id)?.ok_or_else(|| Error::Corrupt(format!("transaction of block {} missing", block.header.height)))?;
            Ok(loc.first_leaf)
        }
    }
}

//! The block pipeline, one for the single node and the consortium. Each stage has one owner
//! and a bounded queue in front of it:
//!
//! | stage | owner | input, bounded by |
//! | --- | --- | --- |
//! | admission | [`Ledger::submit`] (API tasks), `consensus.rs`'s admission thread (gossip) | the mempool's limits; [`consensus::ADMISSION_QUEUE`] |
//! | sequencing | `solo.rs` (a producer thread) or `consensus.rs` (Commonware simplex) | the mempool; the consensus engine's own queues |
//! | execution | [`execute`]: a block on its parent's state, used by both sequencers | one block |
//! | commit | the committer thread ([`Ledger::commit_final`]) | [`SOLO_COMMIT_QUEUE`] or [`CONSENSUS_COMMIT_QUEUE`] blocks |
//! | checkpoint and cosigning | `cosign.rs`'s [`cosign::Cosigner`] | one call per durable block; [`cosign`]'s size limit |
//! | notification | [`crate::notify::Notifier`] | its waiter, rejection and feed limits |
//!
//! The sequencers differ only in how a block becomes final: the solo producer's blocks are final
//! when built, consensus blocks when a quorum finalizes them. Both hand the committer a
//! [`Final`] block: executed, with the state after it. The committer makes it durable (block,
//! leaves, indexes, state; with its checkpoint when this node is a quorum alone) in one batch,
//! then the checkpoint stage signs, and clients hear "committed" once a quorum checkpoint
//! covers their transaction.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Receiver;
use std::time::Instant;

use cairn_consensus::{Ack, FinalizedBlock, Topic};
use cairn_crypto::Hash;
use cairn_store::BlockCommit;

use crate::error::{Error, IoContext, Result};
use crate::ledger::{BlockEvent, Ledger};

pub(crate) mod consensus;
pub(crate) mod cosign;
pub(crate) mod execute;
pub(crate) mod solo;

pub(crate) use execute::ChainState;

/// Blocks built by the solo producer and not yet durable: one, so the producer executes block
/// N+1 while block N is written, and no further (a crash loses at most what no client heard
/// committed, and memory stays one block's worth).
pub(crate) const SOLO_COMMIT_QUEUE: usize = 1;
/// Final consensus blocks queued for the committer. A full queue blocks the consensus task's
/// delivery (back-pressure); 64 covers a burst of blocks fetched while catching up.
pub(crate) const CONSENSUS_COMMIT_QUEUE: usize = 64;

/// A final block, executed, on its way to disk.
pub(crate) struct Final {
    /// The state after the block.
    pub state: ChainState,
    /// What the block writes (no checkpoint yet).
    pub commit: BlockCommit,
    /// Hashes of `commit.leaves`, to extend the durable log without hashing again.
    pub leaf_hashes: Vec<Hash>,
    /// When its execution began.
    pub started: Instant,
}

/// What the committer thread takes.
pub(crate) enum ToCommit {
    /// Built by the solo producer (final at once).
    Built(Box<Final>),
    /// Finalized by consensus: resolved into a [`Final`] on the committer thread (from the
    /// block verified earlier, or executed now when fetched while catching up).
    Finalized(FinalizedBlock, Ack),
}

/// Starts the committer thread: the only writer of blocks, in height order. A failure stops
/// the node (the in-memory log may then be ahead of disk; a restart rebuilds it from disk).
pub(crate) fn spawn_committer(ledger: Arc<Ledger>, rx: Receiver<ToCommit>) -> Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("cairn-committer".into())
        .spawn(move || {
            crate::fatal::on_panic(&ledger, "the block committer", || {
                for item in rx {
                    if ledger.fatal().is_some() {
                        // Stopped after a fault: nothing more is made durable or acknowledged.
                        return;
                    }
                    let (height, done) = match item {
                        ToCommit::Built(f) => (f.state.height, ledger.commit_final(*f).map(|()| None)),
                        ToCommit::Finalized(fb, ack) => (fb.info.height, ledger.commit_finalized(fb).map(|()| Some(ack))),
                    };
                    match done {
                        Ok(ack) => {
                            if let Some(ack) = ack {
                                ack.acknowledge();
                            }
                        }
                        Err(e) => {
                            ledger.fail(format!("committing block {height} failed: {}", e.report()));
                            return;
                        }
                    }
                }
            })
        })
        .io_context(|| "starting the committer thread".into())
}

impl Ledger {
    /// The commit stage: makes the next final block durable, then runs the checkpoint stage.
    pub(crate) fn commit_final(&self, f: Final) -> Result<()> {
        let Final { state, mut commit, leaf_hashes, started } = f;
        let height = state.height;
        assert_eq!(height, self.committed_height.load(Ordering::Acquire) + 1, "blocks become durable in height order");
        let (log_size, log_root, time_ms) = (state.frontier.size(), state.frontier.root(), state.time_ms);
        let own = (!commit.leaves.is_empty()).then(|| self.sign_checkpoint(log_size, log_root));
        if self.cosign.alone() {
            commit.checkpoint = own.clone().map(|note| (log_size, note));
        }
        self.store.commit_block(&commit).map_err(|source| Error::CommitBlock { height, source })?;
        // The in-memory log follows the durable one (a quorum checkpoint adopted from peers is
        // compared with it, so it must not run ahead of disk); its root is the block's.
        {
            let mut log = self.log.write().unwrap();
            assert_eq!(log.size(), commit.first_leaf, "final blocks extend the log in order");
            for h in leaf_hashes {
                log.push_leaf_hash(h);
            }
            if log.root() != log_root {
                return Err(Error::Consensus(format!("log root after block {height} differs from the block's")));
            }
            // A validator catching up after a loss: the chain must reach what it signed before
            // (this block's own signature has not left the node yet).
            self.signed.check_reached(commit.first_leaf, log_size, |size| Ok(log.root_at(size)?))?;
        }
        if own.is_some() {
            // Before anyone sees this signature: a restart on a ledger that lost this block then
            // refuses to sign another root for this size (`signed.rs`).
            self.signed.record(log_size, &log_root)?;
        }
        // Durable now: children read it from the store, not from its overlay.
        *self.final_state.lock().unwrap() = ChainState { overlay: None, ..state };
        self.committed_height.store(height, Ordering::Release);
        self.refresh_members(&commit)?;
        self.sequenced(&commit);
        self.metrics.block_commit_seconds.observe(started.elapsed().as_secs_f64());
        self.publish_block(&commit, time_ms, log_size);
        self.cosign_block(&commit, log_size, log_root, own)
    }

    /// A durable block that wrote the membership keeper's state may have changed who may sign:
    /// admission (and the access guard, which follows it) reloads the membership.
    fn refresh_members(&self, commit: &BlockCommit) -> Result<()> {
        let Some(keeper) = self.exec.membership_keeper() else { return Ok(()) };
        let prefix = cairn_state::state_key(keeper, b"");
        let module_prefix = &prefix[..prefix.len() - 4];
        if commit.state_values.iter().any(|(k, _)| k.starts_with(module_prefix)) {
            self.exec.refresh_members(&self.store, commit.height)?;
        }
        Ok(())
    }

    /// Tells the sequencer that a block it sequenced is durable.
    fn sequenced(&self, commit: &BlockCommit) {
        let ids: Vec<Hash> = commit.txs.iter().map(|(id, _)| *id).collect();
        match &self.replica {
            Some(r) => {
                r.committed(commit.height);
                self.mempool.remove(&ids);
            }
            None => self.solo.committed(&ids),
        }
    }

    /// Metrics and live views for a durable final block.
    fn publish_block(&self, commit: &BlockCommit, time_ms: u64, log_size: u64) {
        let m = &self.metrics;
        m.blocks.inc();
        m.tx_committed.inc_by(commit.txs.len() as u64);
        m.records_committed.inc_by(commit.leaves.len() as u64);
        m.height.set(commit.height as i64);
        m.log_size.set(log_size as i64);
        m.mempool_txs.set(self.mempool.len() as i64);
        m.block_txs.observe(commit.txs.len() as f64);
        self.notifier.publish(BlockEvent {
            module_events: self.module_events(commit),
            height: commit.height,
            hash: hex::encode(commit.block_hash),
            time_ms,
            tx_count: commit.txs.len(),
            records: commit.leaves.len(),
            log_size,
        });
        tracing::debug!(height = commit.height, txs = commit.txs.len(), leaves = commit.leaves.len(), "block committed");
    }

    /// The events the block's state writes mean to the modules that publish events.
    fn module_events(&self, commit: &BlockCommit) -> Vec<(&'static str, serde_json::Value)> {
        let mut out = Vec::new();
        for m in self.exec.modules().filter(|m| m.publishes_events()) {
            let prefix = cairn_state::state_key(m.name(), b"");
            let module_prefix = &prefix[..prefix.len() - 4];
            // `str module | u32 key length | key`: the module's own key follows the prefix.
            let writes: Vec<(&[u8], Option<&[u8]>)> = commit
                .state_values
                .iter()
                .filter(|(k, _)| k.len() >= prefix.len() && k.starts_with(module_prefix))
                .map(|(k, v)| (&k[prefix.len()..], v.as_deref()))
                .collect();
            if !writes.is_empty() {
                out.extend(m.events(commit.height, &writes).into_iter().map(|e| (m.name(), e)));
            }
        }
        out
    }

    /// Sends to the other validators (best effort; nothing for a single node).
    pub(crate) fn gossip(&self, topic: Topic, message: Vec<u8>) -> bool {
        self.replica.as_ref().is_some_and(|r| r.gossip(topic, message))
    }
}

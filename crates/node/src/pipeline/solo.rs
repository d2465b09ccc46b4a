//! The solo sequencer: a single node orders blocks itself. Its producer thread takes
//! transactions from the mempool, executes a block on the state after the last block it built
//! (durable or still queued for the committer) and hands it to the commit stage, final at once.
//!
//! Owner: the producer thread (the last block built lives on its stack) and [`Solo`] (ids of
//! transactions built into blocks not yet durable, so a replay cannot slip in between the
//! stages, and a client asking hears "pending").

use std::collections::{BTreeSet, VecDeque};
use std::sync::atomic::Ordering;
use std::sync::mpsc::SyncSender;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use cairn_crypto::Hash;

use super::execute::Executed;
use super::{ChainState, Final, ToCommit};
use crate::error::{IoContext, Result};
use crate::ledger::{Ledger, now_ms};

#[derive(Default)]
pub(crate) struct Solo {
    /// Transactions in blocks built but not yet durable (at most `SOLO_COMMIT_QUEUE + 1`
    /// blocks' worth).
    in_flight: Mutex<BTreeSet<Hash>>,
}

impl Solo {
    pub(crate) fn contains(&self, id: &Hash) -> bool {
        self.in_flight.lock().unwrap().contains(id)
    }

    /// Which of `ids` are in flight, looked up under one lock.
    pub(crate) fn in_flight_of(&self, ids: impl Iterator<Item = Hash>) -> BTreeSet<Hash> {
        let in_flight = self.in_flight.lock().unwrap();
        if in_flight.is_empty() {
            return BTreeSet::new();
        }
        ids.filter(|id| in_flight.contains(id)).collect()
    }

    /// The commit stage made these durable.
    pub(crate) fn committed(&self, ids: &[Hash]) {
        let mut in_flight = self.in_flight.lock().unwrap();
        for id in ids {
            in_flight.remove(id);
        }
    }
}

impl Ledger {
    /// Runs block production until [`Ledger::stop`]: the producer thread sequences and executes,
    /// the committer thread makes blocks durable, with [`super::SOLO_COMMIT_QUEUE`] between them.
    pub fn spawn_producer(self: &Arc<Self>) -> Result<std::thread::JoinHandle<()>> {
        let (to_committer, from_producer) = std::sync::mpsc::sync_channel::<ToCommit>(super::SOLO_COMMIT_QUEUE);
        let committer = super::spawn_committer(Arc::clone(self), from_producer)?;
        let ledger = Arc::clone(self);
        std::thread::Builder::new()
            .name("cairn-producer".into())
            .spawn(move || {
                crate::fatal::on_panic(&ledger, "the block producer", || ledger.produce(&to_committer));
                drop(to_committer);
                let _ = committer.join();
            })
            .io_context(|| "starting the producer thread".into())
    }

    fn produce(&self, to_committer: &SyncSender<ToCommit>) {
        let interval = Duration::from_millis(self.genesis().params.block_interval_ms);
        let mut last: ChainState = self.final_state.lock().unwrap().clone();
        // Ids of the last blocks built, which may not be durable yet (the one being written and
        // the one queued: `SOLO_COMMIT_QUEUE + 1`); older ones are in the store.
        let mut recent: VecDeque<BTreeSet<Hash>> = VecDeque::with_capacity(super::SOLO_COMMIT_QUEUE + 2);
        let mut deadline = Instant::now() + interval;
        while !self.shutdown.load(Ordering::Acquire) {
            self.mempool.wait_until(deadline);
            if self.shutdown.load(Ordering::Acquire) {
                break;
            }
            match self.build_block(&last, &recent) {
                Ok(Some(block)) => {
                    last = block.state.clone();
                    recent.push_back(block.commit.txs.iter().map(|(id, _)| *id).collect());
                    if recent.len() > super::SOLO_COMMIT_QUEUE + 1 {
                        recent.pop_front();
                    }
                    if to_committer.send(ToCommit::Built(Box::new(block))).is_err() {
                        break; // the committer stopped after a fault
                    }
                }
                Ok(None) => {}
                Err(e) => {
                    self.fail(format!("building a block failed: {}", e.report()));
                    break;
                }
            }
            deadline = Instant::now() + interval;
        }
    }

    /// Executes a block from the mempool on `parent`; `recent` holds the ids of the blocks
    /// built before it that may not be durable. `Ok(None)`: nothing to include.
    fn build_block(&self, parent: &ChainState, recent: &VecDeque<BTreeSet<Hash>>) -> Result<Option<Final>> {
        let p = &self.genesis().params;
        let batch = self.mempool.take(p.max_block_txs as usize, p.max_block_bytes as usize);
        if batch.is_empty() {
            return Ok(None);
        }
        // In flight from now: a client resubmitting one of these hears "replay" at admission.
        self.solo.in_flight.lock().unwrap().extend(batch.iter().map(|t| t.id));
        let started = Instant::now();
        let height = parent.height + 1;
        let time_ms = now_ms().max(parent.time_ms);
        // Transactions in blocks built but not yet durable are replays too (the store has the
        // older ones). The producer's own list: no lock shared with admission.
        let executed = self.execute_on(parent, height, time_ms, batch, &|id| recent.iter().any(|b| b.contains(id)), false)?;
        let Ok(Executed { commit, leaf_hashes, rejected, state, .. }) = executed else { unreachable!("non-strict execution leaves failing transactions out") };
        let left_out: Vec<Hash> = rejected.iter().map(|(id, _)| *id).collect();
        for (id, e) in rejected {
            // A copy of a transaction already in a block is not news to its submitter (whose
            // waiter hears "committed" from that block).
            if !matches!(e, cairn_exec::TxError::Replay(_)) {
                self.remember_rejection(id, e);
            }
        }
        // Left out of the block: no longer in flight (a replay's original stays, by its block).
        let replayed: BTreeSet<Hash> = left_out.iter().filter(|id| recent.iter().any(|b| b.contains(*id))).copied().collect();
        self.solo.committed(&left_out.into_iter().filter(|id| !replayed.contains(id)).collect::<Vec<_>>());
        if commit.txs.is_empty() {
            return Ok(None);
        }
        Ok(Some(Final { state, commit, leaf_hashes, started }))
    }
}

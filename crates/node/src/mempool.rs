//! The bounded pool of admitted transactions waiting for a block.

use std::collections::{HashSet, VecDeque};
use std::sync::{Condvar, Mutex};
use std::time::Instant;

use cairn_crypto::Hash;
use cairn_types::tx::Transaction;

#[derive(Debug, PartialEq, Eq)]
pub enum InsertError {
    Full,
    Duplicate,
}

struct Inner {
    queue: VecDeque<Transaction>,
    ids: HashSet<Hash>,
    bytes: usize,
}

pub struct Mempool {
    inner: Mutex<Inner>,
    ready: Condvar,
    max_txs: usize,
    max_bytes: usize,
    /// Wake the block producer early once this many transactions wait (a full block).
    full_block: usize,
}

impl Mempool {
    pub fn new(max_txs: usize, max_bytes: usize, full_block: usize) -> Self {
        assert!(max_txs > 0 && max_bytes > 0 && full_block > 0);
        Mempool {
            inner: Mutex::new(Inner { queue: VecDeque::new(), ids: HashSet::new(), bytes: 0 }),
            ready: Condvar::new(),
            max_txs,
            max_bytes,
            full_block,
        }
    }

    /// Adds transactions in order; each gets its own verdict.
    pub fn insert_many(&self, txs: Vec<Transaction>) -> Vec<Result<(), InsertError>> {
        let mut g = self.inner.lock().unwrap();
        let mut out = Vec::with_capacity(txs.len());
        for tx in txs {
            let len = tx.encoded_len();
            if g.ids.contains(&tx.id) {
                out.push(Err(InsertError::Duplicate));
            } else if g.queue.len() >= self.max_txs || g.bytes + len > self.max_bytes {
                out.push(Err(InsertError::Full));
            } else {
                g.ids.insert(tx.id);
                g.bytes += len;
                g.queue.push_back(tx);
                out.push(Ok(()));
            }
        }
        if g.queue.len() >= self.full_block {
            self.ready.notify_one();
        }
        out
    }

    pub fn contains(&self, id: &Hash) -> bool {
        self.inner.lock().unwrap().ids.contains(id)
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().queue.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Waits until a full block's worth is queued or `deadline` passes.
    pub fn wait_until(&self, deadline: Instant) {
        let mut g = self.inner.lock().unwrap();
        while g.queue.len() < self.full_block {
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            g = self.ready.wait_timeout(g, deadline - now).unwrap().0;
        }
    }

    /// Wakes a waiting producer (shutdown).
    pub fn wake(&self) {
        self.ready.notify_all();
    }

    /// Removes up to `max_txs` transactions totalling at most `max_bytes`, oldest first.
    pub fn take(&self, max_txs: usize, max_bytes: usize) -> Vec<Transaction> {
        let mut g = self.inner.lock().unwrap();
        let mut out = Vec::new();
        let mut bytes = 0;
        while out.len() < max_txs {
            let Some(front) = g.queue.front() else { break };
            let len = front.encoded_len();
            if !out.is_empty() && bytes + len > max_bytes {
                break;
            }
            let tx = g.queue.pop_front().expect("front exists");
            g.ids.remove(&tx.id);
            g.bytes -= len;
            bytes += len;
            out.push(tx);
        }
        out
    }
}

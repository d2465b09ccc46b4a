//! The bounded pool of admitted transactions waiting for a block.
//!
//! A single node takes transactions out when it builds a block. Under consensus a block may
//! not become final, so proposers *peek* (skipping what ancestors not yet final include) and
//! finalization removes. Every transaction here passed admission, signature included: block
//! verification reuses that verdict for an identical transaction.

use std::collections::{BTreeMap, HashMap};
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
    /// Arrival order → transaction.
    queue: BTreeMap<u64, Transaction>,
    ids: HashMap<Hash, u64>,
    next_seq: u64,
    bytes: usize,
}

impl Inner {
    fn remove_seq(&mut self, seq: u64) -> Option<Transaction> {
        let tx = self.queue.remove(&seq)?;
        self.ids.remove(&tx.id);
        self.bytes -= tx.encoded_len();
        Some(tx)
    }
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
            inner: Mutex::new(Inner { queue: BTreeMap::new(), ids: HashMap::new(), next_seq: 0, bytes: 0 }),
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
            if g.ids.contains_key(&tx.id) {
                out.push(Err(InsertError::Duplicate));
            } else if g.queue.len() >= self.max_txs || g.bytes + len > self.max_bytes {
                out.push(Err(InsertError::Full));
            } else {
                let seq = g.next_seq;
                g.next_seq += 1;
                g.ids.insert(tx.id, seq);
                g.bytes += len;
                g.queue.insert(seq, tx);
                out.push(Ok(()));
            }
        }
        if g.queue.len() >= self.full_block {
            self.ready.notify_one();
        }
        out
    }

    pub fn contains(&self, id: &Hash) -> bool {
        self.inner.lock().unwrap().ids.contains_key(id)
    }

    /// Whether this exact transaction (same body and signature) was admitted.
    pub fn contains_exact(&self, tx: &Transaction) -> bool {
        let g = self.inner.lock().unwrap();
        g.ids.get(&tx.id).and_then(|seq| g.queue.get(seq)).is_some_and(|t| t.signature == tx.signature)
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
            let Some((&seq, front)) = g.queue.first_key_value() else { break };
            let len = front.encoded_len();
            if !out.is_empty() && bytes + len > max_bytes {
                break;
            }
            let tx = g.remove_seq(seq).expect("first exists");
            bytes += len;
            out.push(tx);
        }
        out
    }

    /// Copies of up to `max_txs` transactions totalling at most `max_bytes`, oldest first,
    /// skipping those `skip` names (already in a block not yet final).
    pub fn peek(&self, max_txs: usize, max_bytes: usize, skip: &dyn Fn(&Hash) -> bool) -> Vec<Transaction> {
        let g = self.inner.lock().unwrap();
        let mut out = Vec::new();
        let mut bytes = 0;
        for tx in g.queue.values() {
            if out.len() >= max_txs {
                break;
            }
            if skip(&tx.id) {
                continue;
            }
            let len = tx.encoded_len();
            if !out.is_empty() && bytes + len > max_bytes {
                break;
            }
            bytes += len;
            out.push(tx.clone());
        }
        out
    }

    /// Removes these transactions (they became final, or can never be).
    pub fn remove(&self, ids: &[Hash]) {
        let mut g = self.inner.lock().unwrap();
        for id in ids {
            if let Some(seq) = g.ids.get(id).copied() {
                g.remove_seq(seq);
            }
        }
    }
}

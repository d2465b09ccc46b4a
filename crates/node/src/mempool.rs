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
    /// The signer's organisation already holds its share of the pool.
    OrgShare,
}

/// Which organisation a transaction's signer belongs to (an index; the pool counts per index).
pub type OrgOf = Box<dyn Fn(&Transaction) -> u32 + Send + Sync>;

struct Inner {
    /// Arrival order → transaction.
    queue: BTreeMap<u64, Transaction>,
    ids: HashMap<Hash, u64>,
    next_seq: u64,
    bytes: usize,
    /// Transactions queued per organisation (only with shares).
    per_org: HashMap<u32, usize>,
}

impl Inner {
    fn remove_seq(&mut self, seq: u64, shares: Option<&Shares>) -> Option<Transaction> {
        let tx = self.queue.remove(&seq)?;
        self.ids.remove(&tx.id);
        self.bytes -= tx.encoded_len();
        if let Some(s) = shares
            && let Some(n) = self.per_org.get_mut(&(s.org_of)(&tx))
        {
            *n -= 1;
        }
        Some(tx)
    }
}

/// At most `max_per_org` transactions of one organisation, so one member cannot fill the pool.
struct Shares {
    max_per_org: usize,
    org_of: OrgOf,
}

pub struct Mempool {
    inner: Mutex<Inner>,
    ready: Condvar,
    max_txs: usize,
    max_bytes: usize,
    /// Wake the block producer early once this many transactions wait (a full block).
    full_block: usize,
    shares: Option<Shares>,
}

impl Mempool {
    pub fn new(max_txs: usize, max_bytes: usize, full_block: usize) -> Self {
        assert!(max_txs > 0 && max_bytes > 0 && full_block > 0);
        Mempool {
            inner: Mutex::new(Inner { queue: BTreeMap::new(), ids: HashMap::new(), next_seq: 0, bytes: 0, per_org: HashMap::new() }),
            ready: Condvar::new(),
            max_txs,
            max_bytes,
            full_block,
            shares: None,
        }
    }

    /// Caps each organisation at `max_per_org` queued transactions (`org_of` names a
    /// transaction's organisation).
    pub fn with_shares(mut self, max_per_org: usize, org_of: OrgOf) -> Self {
        assert!(max_per_org > 0);
        self.shares = Some(Shares { max_per_org, org_of });
        self
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
            } else if let Some(s) = &self.shares
                && {
                    let n = g.per_org.entry((s.org_of)(&tx)).or_default();
                    let over = *n >= s.max_per_org;
                    if !over {
                        *n += 1;
                    }
                    over
                }
            {
                out.push(Err(InsertError::OrgShare));
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
            let tx = g.remove_seq(seq, self.shares.as_ref()).expect("first exists");
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
                g.remove_seq(seq, self.shares.as_ref());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::{KeyPair, Suite};
    use cairn_types::tx::{Call, TxBody};

    fn tx(key: &KeyPair, nonce: u64) -> Transaction {
        let body = TxBody {
            chain_id: "c".into(),
            signer: key.public_key(),
            nonce,
            expires_at_ms: 1,
            call: Call { module: "m".into(), method: "x".into(), args: vec![] },
        };
        Transaction::decode(&body.sign(key).encode()).unwrap()
    }

    #[test]
    fn one_organisation_cannot_fill_the_pool() {
        let (a, b) = (KeyPair::generate(Suite::Ed25519Sha256), KeyPair::generate(Suite::Ed25519Sha256));
        let a_bytes = a.public_key().as_bytes().to_vec();
        let pool = Mempool::new(10, 1 << 20, 5).with_shares(4, Box::new(move |t: &Transaction| u32::from(t.body.signer.as_bytes() != a_bytes)));
        let verdicts = pool.insert_many((0..6).map(|n| tx(&a, n)).collect());
        assert_eq!(verdicts.iter().filter(|v| v.is_ok()).count(), 4);
        assert_eq!(verdicts[4], Err(InsertError::OrgShare));
        // The other organisation still gets in.
        assert!(pool.insert_many(vec![tx(&b, 0)])[0].is_ok());
        // Taken into a block, the share frees up again.
        assert_eq!(pool.take(2, 1 << 20).len(), 2);
        assert_eq!(pool.insert_many((10..13).map(|n| tx(&a, n)).collect()).iter().filter(|v| v.is_ok()).count(), 2);
    }
}

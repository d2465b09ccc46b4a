//! Transactions whose signatures this node checked while verifying proposals, so that the same
//! transaction met again (gossiped, in a competing proposal, re-proposed after a view change)
//! is not checked twice. Its own bounded structure: verifying a block never writes into the
//! mempool, whose contents are what this node proposes.
//!
//! Whether a signature check is skipped never changes a verdict (a cached transaction's exact
//! bytes verified before), so the cache may differ between validators.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use cairn_crypto::Hash;
use cairn_types::tx::Transaction;

/// Transactions remembered: about ten full blocks of the default limit; at ~150 bytes each,
/// about 20 MB. The oldest are forgotten first (they are final, or will be checked again).
pub const SIGNATURE_CACHE_TXS: usize = 1 << 17;

#[derive(Default)]
struct Inner {
    /// Transaction id → its signature bytes (a different signature is a different check).
    by_id: HashMap<Hash, Vec<u8>>,
    /// Ids in insertion order, for eviction (never iterated for a verdict).
    order: VecDeque<Hash>,
}

pub struct SignatureCache {
    inner: Mutex<Inner>,
    capacity: usize,
}

impl SignatureCache {
    pub fn new(capacity: usize) -> Self {
        assert!(capacity > 0, "a signature cache holds at least one transaction");
        SignatureCache { inner: Mutex::new(Inner::default()), capacity }
    }

    /// Whether this exact transaction (body and signature) was checked.
    pub fn contains(&self, tx: &Transaction) -> bool {
        self.inner.lock().unwrap().by_id.get(&tx.id).is_some_and(|s| *s == tx.signature)
    }

    /// Remembers transactions whose signatures just verified, forgetting the oldest beyond the
    /// capacity.
    pub fn insert_many<'a>(&self, txs: impl IntoIterator<Item = &'a Transaction>) {
        let mut g = self.inner.lock().unwrap();
        for tx in txs {
            if g.by_id.insert(tx.id, tx.signature.clone()).is_none() {
                g.order.push_back(tx.id);
            }
            while g.order.len() > self.capacity {
                let old = g.order.pop_front().expect("non-empty");
                g.by_id.remove(&old);
            }
        }
        debug_assert_eq!(g.by_id.len(), g.order.len(), "every cached id is in the eviction order once");
    }

    pub fn len(&self) -> usize {
        self.inner.lock().unwrap().by_id.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::{KeyPair, Suite};
    use cairn_types::tx::{Call, TxBody};

    fn tx(key: &KeyPair, nonce: u64) -> Transaction {
        TxBody { chain_id: "c".into(), signer: key.public_key(), nonce, expires_at_ms: 1, call: Call { module: "m".into(), method: "x".into(), args: vec![] } }
            .sign(key)
    }

    #[test]
    fn remembers_exact_transactions_and_forgets_the_oldest() {
        let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[1; 32]).unwrap();
        let cache = SignatureCache::new(2);
        let (a, b, c) = (tx(&key, 1), tx(&key, 2), tx(&key, 3));
        cache.insert_many([&a, &b]);
        assert!(cache.contains(&a) && cache.contains(&b));
        // Same body, another signature: not the transaction that was checked.
        let mut forged = a.clone();
        forged.signature[0] ^= 1;
        assert!(!cache.contains(&forged));
        cache.insert_many([&c]);
        assert_eq!(cache.len(), 2);
        assert!(!cache.contains(&a), "the oldest is forgotten");
        assert!(cache.contains(&b) && cache.contains(&c));
        // Inserting again does not duplicate.
        cache.insert_many([&c, &c]);
        assert_eq!(cache.len(), 2);
    }
}

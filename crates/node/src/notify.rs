//! The notification stage: who waits for which transaction, what was refused at execution
//! lately (for status queries), and the live feed of committed blocks. It owns all three, and
//! each has a limit: a waiter is an open request, so their number is capped ([`MAX_WAITERS`]:
//! beyond it a submitter is answered "pending" at once and polls); rejections are remembered for
//! the last [`RECENT_REJECTIONS`]; the feed keeps [`FEED_BLOCKS`] blocks for slow listeners,
//! who then skip ahead.

use std::collections::{HashMap, VecDeque};
use std::sync::Mutex;

use cairn_crypto::Hash;
use cairn_exec::TxError;
use tokio::sync::{broadcast, oneshot};

use crate::ledger::{BlockEvent, TxOutcome};

/// Submitters waiting for their transaction's block at once. Each holds an HTTP request open
/// for at most the API's `max_wait_ms`; 65,536 of them is more than the connections a node
/// serves, and a few MiB of memory.
pub const MAX_WAITERS: usize = 1 << 16;
/// Rejections kept for status queries: about 100 bytes each.
pub const RECENT_REJECTIONS: usize = 100_000;
/// Committed blocks the live feed keeps for a listener that has not read them yet.
pub const FEED_BLOCKS: usize = 256;

pub struct Notifier {
    waiters: Mutex<Waiters>,
    rejections: Mutex<Rejections>,
    feed: broadcast::Sender<BlockEvent>,
}

#[derive(Default)]
struct Waiters {
    by_id: HashMap<Hash, Vec<oneshot::Sender<TxOutcome>>>,
    count: usize,
}

#[derive(Default)]
struct Rejections {
    by_id: HashMap<Hash, TxError>,
    /// Oldest first: evicted in the order they came.
    order: VecDeque<Hash>,
}

impl Default for Notifier {
    fn default() -> Self {
        Notifier { waiters: Mutex::default(), rejections: Mutex::default(), feed: broadcast::channel(FEED_BLOCKS).0 }
    }
}

impl Notifier {
    /// A receiver told when `id` commits or is refused at execution; `None` when
    /// [`MAX_WAITERS`] already wait.
    pub fn watch(&self, id: Hash) -> Option<oneshot::Receiver<TxOutcome>> {
        let mut w = self.waiters.lock().unwrap();
        if w.count >= MAX_WAITERS {
            // Requests that went away (a client that hung up never unwatches): sweep them first.
            w.by_id.retain(|_, list| {
                list.retain(|s| !s.is_closed());
                !list.is_empty()
            });
            w.count = w.by_id.values().map(Vec::len).sum();
            if w.count >= MAX_WAITERS {
                return None;
            }
        }
        let (tx, rx) = oneshot::channel();
        w.by_id.entry(id).or_default().push(tx);
        w.count += 1;
        Some(rx)
    }

    /// Drops the waiters of `id` that gave up (their receiver is gone).
    pub fn unwatch(&self, id: &Hash) {
        let mut w = self.waiters.lock().unwrap();
        let Some(list) = w.by_id.get_mut(id) else { return };
        let before = list.len();
        list.retain(|s| !s.is_closed());
        let dropped = before - list.len();
        if list.is_empty() {
            w.by_id.remove(id);
        }
        w.count -= dropped;
    }

    /// Tells every waiter of `id`.
    pub fn notify(&self, id: &Hash, outcome: &TxOutcome) {
        let list = {
            let mut w = self.waiters.lock().unwrap();
            let Some(list) = w.by_id.remove(id) else { return };
            w.count -= list.len();
            list
        };
        for s in list {
            let _ = s.send(outcome.clone());
        }
    }

    /// Remembers a refusal at execution (the oldest forgotten past [`RECENT_REJECTIONS`]) and
    /// tells the waiters.
    pub fn reject(&self, id: Hash, e: TxError) {
        {
            let mut r = self.rejections.lock().unwrap();
            if r.by_id.insert(id, e.clone()).is_none() {
                r.order.push_back(id);
                while r.order.len() > RECENT_REJECTIONS {
                    let old = r.order.pop_front().expect("longer than the limit");
                    r.by_id.remove(&old);
                }
            }
            debug_assert_eq!(r.by_id.len(), r.order.len());
        }
        self.notify(&id, &TxOutcome::Rejected(e));
    }

    pub fn rejection(&self, id: &Hash) -> Option<TxError> {
        self.rejections.lock().unwrap().by_id.get(id).cloned()
    }

    /// Sends a committed block to the live feed (nobody listening is fine).
    pub fn publish(&self, event: BlockEvent) {
        let _ = self.feed.send(event);
    }

    pub fn subscribe(&self) -> broadcast::Receiver<BlockEvent> {
        self.feed.subscribe()
    }

    pub fn waiting(&self) -> usize {
        self.waiters.lock().unwrap().count
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn waiters_are_bounded_and_counted_as_they_go() {
        let n = Notifier::default();
        let mut held = Vec::new();
        for i in 0..MAX_WAITERS {
            let id = cairn_crypto::Suite::Ed25519Sha256.hash(&(i as u64 % 1000).to_be_bytes());
            held.push((id, n.watch(id).expect("below the limit")));
        }
        assert!(n.watch([0; 32]).is_none(), "the limit holds");
        // One group notified, one gave up: both free their places.
        let (first, _) = held[0];
        n.notify(&first, &TxOutcome::Rejected(TxError::Replay("x".into())));
        let freed = MAX_WAITERS.div_ceil(1000);
        assert_eq!(n.waiting(), MAX_WAITERS - freed);
        let (second, _) = held.remove(1);
        held.retain(|(id, _)| *id != second);
        n.unwatch(&second);
        assert_eq!(n.waiting(), MAX_WAITERS - 2 * freed);
        assert!(n.watch([0; 32]).is_some());
        // Fill up again, holding every receiver; then half the requests go away without
        // unwatching (a client hung up): the next watch at the limit sweeps them.
        while let Some(rx) = n.watch([1; 32]) {
            held.push(([1; 32], rx));
        }
        held.truncate(held.len() / 2);
        assert!(n.watch([2; 32]).is_some(), "the closed ones made room");
        assert!(n.waiting() <= MAX_WAITERS / 2 + 1);
    }

    #[test]
    fn rejections_are_remembered_up_to_the_limit_and_told() {
        let n = Notifier::default();
        let id = |i: u64| cairn_crypto::Suite::Ed25519Sha256.hash(&i.to_be_bytes());
        let mut rx = n.watch(id(0)).unwrap();
        n.reject(id(0), TxError::Replay("r".into()));
        assert!(matches!(rx.try_recv(), Ok(TxOutcome::Rejected(TxError::Replay(_)))));
        for i in 1..=RECENT_REJECTIONS as u64 {
            n.reject(id(i), TxError::Replay("r".into()));
        }
        assert!(n.rejection(&id(0)).is_none(), "the oldest is forgotten");
        assert!(n.rejection(&id(1)).is_some() && n.rejection(&id(RECENT_REJECTIONS as u64)).is_some());
        assert_eq!(n.waiting(), 0);
    }
}

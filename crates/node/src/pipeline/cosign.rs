//! The checkpoint stage: after a block is durable, this validator signs the checkpoint of the
//! log after it, collects the other validators' signatures over the same text, and once a
//! quorum signed, stores and serves the checkpoint and tells the clients whose transactions it
//! covers. A single node is a quorum of one: its signature goes into the block's own batch and
//! is served when the block is durable.
//!
//! Owner: [`Cosigner`] (the served checkpoint, the signatures being collected, the clients
//! waiting for a checkpoint). Its inputs are the commit stage (one call per durable block) and,
//! under consensus, signatures gossiped by peers.

use std::collections::BTreeMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Mutex, RwLock};

use cairn_consensus::Topic;
use cairn_crypto::Hash;
use cairn_note::{Checkpoint, NoteSignature, NoteVerifier, SignedNote};
use cairn_store::{BlockCommit, TxLocation};

use crate::error::Result;
use crate::ledger::{Ledger, TxOutcome};

/// Checkpoint sizes for which signatures are collected at once.
const MAX_COSIGN_SIZES: usize = 4096;

/// Signatures collected for one checkpoint size: the text each validator signed, by index.
#[derive(Default)]
struct Cosignatures {
    by_validator: BTreeMap<usize, (String, NoteSignature)>,
    /// Set once stored with a quorum.
    done: bool,
}

pub(crate) struct Cosigner {
    /// This validator's index in genesis.
    pub index: usize,
    /// Signatures a checkpoint needs before it is served (1 for a single node).
    quorum: usize,
    /// Checkpoint verifiers, by validator index.
    pub verifiers: Vec<NoteVerifier>,
    /// The newest checkpoint served (signed by a quorum), with its size.
    served: RwLock<Option<(u64, String)>>,
    cosignatures: Mutex<BTreeMap<u64, Cosignatures>>,
    /// Durable transactions whose clients wait for a quorum checkpoint, by the log size that
    /// covers them.
    awaiting: Mutex<BTreeMap<u64, Vec<(Hash, TxLocation)>>>,
    /// A quorum-signed checkpoint heard for a log this node has not reached yet.
    pending_cosigned: Mutex<Option<(u64, String)>>,
    /// The final height at which this node last re-sent its quorum checkpoint (a height, not a
    /// clock, so simulated runs replay exactly).
    last_shared: Mutex<Option<u64>>,
    /// The final height at which the newest quorum checkpoint was served.
    served_at: AtomicU64,
}

impl Cosigner {
    pub(crate) fn new(index: usize, quorum: usize, verifiers: Vec<NoteVerifier>, served: Option<(u64, String)>) -> Self {
        assert!(quorum >= 1 && quorum <= verifiers.len() && index < verifiers.len(), "a quorum of the validators, this one among them");
        Cosigner {
            index,
            quorum,
            verifiers,
            served: RwLock::new(served),
            cosignatures: Mutex::new(BTreeMap::new()),
            awaiting: Mutex::new(BTreeMap::new()),
            pending_cosigned: Mutex::new(None),
            last_shared: Mutex::new(None),
            served_at: AtomicU64::new(0),
        }
    }

    /// Whether this validator's own signature is a quorum: its checkpoint is then written with
    /// the block, in the same batch.
    pub(crate) fn alone(&self) -> bool {
        self.quorum == 1
    }

    pub(crate) fn served(&self) -> Option<(u64, String)> {
        self.served.read().unwrap().clone()
    }
}

impl Ledger {
    /// The checkpoint stage's part of a durable block: `own` is this node's signed checkpoint of
    /// the log after it (`None` for a block without leaves), already stored with the block
    /// when this node is a quorum alone.
    pub(crate) fn cosign_block(&self, commit: &BlockCommit, log_size: u64, log_root: Hash, own: Option<String>) -> Result<()> {
        let c = &self.cosign;
        match own {
            None => {
                if log_size > 0 && self.latest_checkpoint().is_none_or(|(served, _)| served < log_size) {
                    // No quorum checkpoint covers the log yet: a signature of ours (or of peers)
                    // may have been lost on the way. Sign again, once per final block until one
                    // does, so an idle chain still completes its last checkpoint.
                    let note = self.sign_checkpoint(log_size, log_root);
                    self.signed.record(log_size, &log_root)?;
                    self.gossip(Topic::Cosignatures, note.clone().into_bytes());
                    self.add_cosignature(c.index, &note)?;
                } else {
                    // A heartbeat, so peers know this validator is alive between checkpoints.
                    self.gossip(Topic::Cosignatures, Vec::new());
                }
            }
            Some(note) => {
                c.awaiting.lock().unwrap().entry(log_size).or_default().extend(commit.txs.iter().copied());
                if c.alone() {
                    return self.serve_cosigned(log_size, note, Stored::WithBlock);
                }
                // A quorum checkpoint for this size may have been adopted from peers already (the
                // log was extended above): then nobody else will wake these waiters.
                if let Some((served, _)) = self.latest_checkpoint()
                    && served >= log_size
                {
                    self.notify_covered(served);
                }
                self.gossip(Topic::Cosignatures, note.clone().into_bytes());
                self.add_cosignature(c.index, &note)?;
            }
        }
        // A quorum checkpoint heard while behind may be servable now.
        let pending = {
            let mut p = c.pending_cosigned.lock().unwrap();
            if p.as_ref().is_some_and(|(s, _)| *s <= log_size) { p.take() } else { None }
        };
        if let Some((_, note)) = pending {
            self.add_cosignature(c.index, &note)?;
        }
        Ok(())
    }

    pub(crate) fn sign_checkpoint(&self, size: u64, root: Hash) -> String {
        let cp = Checkpoint { origin: self.genesis().origin(), size, root, extensions: vec![] };
        let mut note = SignedNote::new(cp.to_text());
        note.sign(&self.genesis().key_name(self.validator_name()), &self.validator).expect("valid key name");
        note.to_text()
    }

    /// Records a validator's signature over a checkpoint; stores and serves the checkpoint once
    /// a quorum signed the same text this node computed.
    pub(crate) fn add_cosignature(&self, from: usize, note: &str) -> Result<()> {
        let c = &self.cosign;
        let Ok(parsed) = SignedNote::parse(note) else { return Ok(()) };
        let Ok(cp) = Checkpoint::parse(&parsed.text) else { return Ok(()) };
        if cp.origin != self.genesis().origin() {
            return Ok(());
        }
        if parsed.signatures.len() > 1 {
            return self.adopt_cosigned(&parsed, &cp);
        }
        let Some(verifier) = c.verifiers.get(from) else { return Ok(()) };
        let Some(sig) = parsed.signatures.iter().find(|s| s.name == verifier.name && s.key_id == verifier.key_id) else { return Ok(()) };
        if verifier.public_key.verify_raw(parsed.text.as_bytes(), &sig.signature).is_err() {
            tracing::warn!(validator = from, "invalid checkpoint signature gossiped; ignored");
            return Ok(());
        }
        let size = cp.size;
        if from != c.index && self.latest_checkpoint().is_some_and(|(s, _)| size <= s) {
            // The sender is behind (catching up): it needs a quorum checkpoint, not ours alone.
            self.share_latest_cosigned();
        }
        let ready = {
            let mut all = c.cosignatures.lock().unwrap();
            if all.len() >= MAX_COSIGN_SIZES && !all.contains_key(&size) {
                let (&lowest, _) = all.first_key_value().expect("non-empty");
                if size < lowest {
                    return Ok(());
                }
                all.pop_first();
            }
            let entry = all.entry(size).or_default();
            if entry.done {
                drop(all);
                self.share_latest_cosigned();
                return Ok(());
            }
            entry.by_validator.insert(from, (parsed.text.clone(), sig.clone()));
            // Only this node's own text counts: it is what this node computed for the size.
            let Some((mine, _)) = entry.by_validator.get(&c.index) else { return Ok(()) };
            let agreeing: Vec<NoteSignature> = entry.by_validator.values().filter(|(text, _)| text == mine).map(|(_, s)| s.clone()).collect();
            for (v, (text, _)) in &entry.by_validator {
                if text != mine {
                    tracing::warn!(validator = v, size, "validator signed a different checkpoint at this size");
                }
            }
            if agreeing.len() < c.quorum {
                return Ok(());
            }
            entry.done = true;
            Some(SignedNote { text: mine.clone(), signatures: agreeing }.to_text())
        };
        match ready {
            Some(cosigned) => self.serve_cosigned(size, cosigned, Stored::No),
            None => Ok(()),
        }
    }

    /// A checkpoint that arrived already signed by a quorum (re-sent to a node catching up):
    /// served once this node's own log has the same root at that size.
    fn adopt_cosigned(&self, note: &SignedNote, cp: &Checkpoint) -> Result<()> {
        let c = &self.cosign;
        // Stale ones first: peers re-send their latest quorum checkpoint often, and checking
        // its signatures again costs a quorum of verifications (dear with SM2).
        if self.latest_checkpoint().is_some_and(|(s, _)| cp.size <= s) {
            return Ok(());
        }
        if let Err(e) = note.verify_quorum(&c.verifiers, c.quorum) {
            tracing::warn!(error = %e, "gossiped checkpoint lacks a valid quorum; ignored");
            return Ok(());
        }
        let root = {
            let log = self.log.read().unwrap();
            (cp.size <= log.size()).then(|| log.root_at(cp.size)).transpose()?
        };
        match root {
            None => {
                let mut pending = c.pending_cosigned.lock().unwrap();
                if pending.as_ref().is_none_or(|(s, _)| cp.size > *s) {
                    *pending = Some((cp.size, note.to_text()));
                }
                Ok(())
            }
            Some(root) if root == cp.root => self.serve_cosigned(cp.size, note.to_text(), Stored::No),
            Some(_) => {
                tracing::error!(size = cp.size, "a quorum signed a checkpoint with another root than this node's log; this node diverged");
                Ok(())
            }
        }
    }

    /// Tells the clients waiting for transactions that a quorum checkpoint of `size` covers.
    fn notify_covered(&self, size: u64) {
        let covered: Vec<(Hash, TxLocation)> = {
            let mut awaiting = self.cosign.awaiting.lock().unwrap();
            let rest = awaiting.split_off(&(size + 1));
            std::mem::replace(&mut *awaiting, rest).into_values().flatten().collect()
        };
        for (id, loc) in covered {
            self.notify(id, TxOutcome::Committed(loc));
        }
    }

    /// Re-sends this node's latest quorum checkpoint, at most once per final block, and not in
    /// the block it was served in or the next: a signature arriving then is the slowest
    /// validator's, sent before it could have the checkpoint (answering each of those re-sent
    /// the checkpoint to everyone after every block). A validator that still lacks it later
    /// re-signs on an idle chain, and is answered then.
    fn share_latest_cosigned(&self) {
        let c = &self.cosign;
        {
            let height = self.height();
            if height < c.served_at.load(Ordering::Acquire) + 2 {
                return;
            }
            let mut last = c.last_shared.lock().unwrap();
            if last.is_some_and(|h| h >= height) {
                return;
            }
            *last = Some(height);
        }
        if let Some((_, note)) = self.latest_checkpoint() {
            self.gossip(Topic::Cosignatures, note.into_bytes());
        }
    }

    /// Stores a quorum checkpoint (unless it went with its block) and, when it is the newest,
    /// serves it and tells the clients whose transactions it covers.
    fn serve_cosigned(&self, size: u64, cosigned: String, stored: Stored) -> Result<()> {
        let c = &self.cosign;
        if stored == Stored::No {
            self.store.put_checkpoint(size, &cosigned)?;
        }
        let newer = {
            let mut cp = c.served.write().unwrap();
            let newer = cp.as_ref().is_none_or(|(s, _)| size > *s);
            if newer {
                *cp = Some((size, cosigned));
            }
            newer
        };
        if newer {
            c.served_at.store(self.height(), Ordering::Release);
            self.metrics.cosigned_log_size.set(size as i64);
            self.notify_covered(size);
            let mut all = c.cosignatures.lock().unwrap();
            // Sizes below a served checkpoint no longer matter to clients.
            all.retain(|s, c| *s > size || !c.done);
            while all.len() > MAX_COSIGN_SIZES / 2 && all.first_key_value().is_some_and(|(s, _)| *s < size) {
                all.pop_first();
            }
        }
        Ok(())
    }
}

/// Whether a checkpoint about to be served is on disk already.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stored {
    /// Written in its block's batch (a quorum of one).
    WithBlock,
    No,
}

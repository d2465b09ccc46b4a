//! Replicated mode: the ledger as the state machine that consensus (`cairn-consensus`) orders
//! blocks for.
//!
//! - **propose** builds a Cairn block from the mempool on top of the parent's state;
//! - **verify** re-executes a proposal (every signature, replay, parent, time, size, the
//!   transaction root and the log root) before this validator votes for it;
//! - **finalized** hands a final block to the commit stage (`pipeline/mod.rs`), shared with the
//!   single node; the checkpoint stage (`cosign.rs`) then gossips this validator's signature,
//!   and only a checkpoint signed by a quorum is served and tells waiting clients "committed".
//!
//! Blocks not yet final are executed speculatively: each keeps the state after it (tip, log
//! frontier) by consensus digest, so children can be proposed and verified on any notarized
//! parent without touching the durable log.
//!
//! Owner: [`Replica`] (the speculative blocks, the peers' liveness, late certificates, the
//! gossip handle and the queues to the admission and commit threads).

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::atomic::Ordering;
use std::sync::mpsc::{Receiver, SyncSender};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Instant;

use cairn_consensus::network::Gossip;
use cairn_consensus::{Ack, BlockInfo, BlockLogic, FinalizedBlock, Topic};
use cairn_crypto::Hash;
use cairn_exec::TxError;
use cairn_store::BlockCommit;
use cairn_types::block::Block;

use super::execute::{ChainState, Executed, Invalid};
use super::{Final, ToCommit};
use crate::error::{Error, IoContext, Result};
use crate::ledger::{Ledger, now_ms};

/// How far ahead of a validator's clock a block's time may be.
/// How far ahead of a validator's clock a block's time may be.
const MAX_CLOCK_DRIFT_MS: u64 = 10_000;
/// Blocks executed but not final that are kept (forks are rare; this bounds memory).
const MAX_SPECULATIVE: usize = 512;
/// Late finalization certificates kept until their blocks are durable.
const MAX_LATE_CERTIFICATES: usize = 4096;
/// Gossiped transaction batches queued for admission.
pub(crate) const ADMISSION_QUEUE: usize = 256;
/// Transactions in one gossip message.
pub(crate) const GOSSIP_BATCH: usize = 1000;
/// A peer heard from within this is counted as connected.
const PEER_FRESH: std::time::Duration = std::time::Duration::from_secs(5);

/// A block executed ahead of finality.
struct Speculative {
    parent: [u8; 32],
    state: ChainState,
    tx_ids: HashSet<Hash>,
    /// What the block writes, with its leaf hashes; taken by the committer once final.
    commit: Mutex<Option<(BlockCommit, Vec<Hash>)>>,
}

pub(crate) struct Replica {
    /// This validator's index in genesis.
    pub index: usize,
    speculative: Mutex<HashMap<[u8; 32], Arc<Speculative>>>,
    gossip: OnceLock<Gossip>,
    committer: OnceLock<SyncSender<ToCommit>>,
    admission: OnceLock<SyncSender<Vec<u8>>>,
    /// Certificates found after their block was delivered, until the block is durable.
    late_certificates: Mutex<BTreeMap<u64, Vec<u8>>>,
    /// Per validator: when last heard from, and whether counted as connected.
    peers_seen: Mutex<Vec<(Option<Instant>, bool)>>,
}

impl Replica {
    pub(crate) fn new(index: usize, validators: usize) -> Self {
        Replica {
            index,
            speculative: Mutex::new(HashMap::new()),
            gossip: OnceLock::new(),
            committer: OnceLock::new(),
            admission: OnceLock::new(),
            late_certificates: Mutex::new(BTreeMap::new()),
            peers_seen: Mutex::new(vec![(None, false); validators]),
        }
    }

    /// The commit stage made block `height` durable: blocks at or below it are no longer
    /// speculative.
    pub(crate) fn committed(&self, height: u64) {
        self.speculative.lock().unwrap().retain(|_, s| s.state.height > height);
    }

    /// Validators (this one excluded) heard from recently; logs those that fell silent.
    pub(crate) fn peers_connected(&self) -> usize {
        let mut seen = self.peers_seen.lock().unwrap();
        let mut n = 0;
        for (i, (at, connected)) in seen.iter_mut().enumerate() {
            if i == self.index {
                continue;
            }
            let fresh = at.is_some_and(|t| t.elapsed() < PEER_FRESH);
            if *connected && !fresh {
                tracing::warn!(validator = i, "peer disconnected (silent for 5 s)");
            }
            *connected = fresh;
            n += fresh as usize;
        }
        n
    }

    fn heard_from(&self, i: usize) {
        if let Some((at, connected)) = self.peers_seen.lock().unwrap().get_mut(i) {
            if !*connected && i != self.index {
                tracing::info!(validator = i, "peer connected");
                *connected = true;
            }
            *at = Some(Instant::now());
        }
    }

    pub(crate) fn gossip(&self, topic: Topic, message: Vec<u8>) -> bool {
        // Best effort: a transaction dropped here stays in this node's mempool and is proposed
        // when this node leads; a lost checkpoint signature is made up by later checkpoints.
        self.gossip.get().is_some_and(|g| g.send(topic, message))
    }
}

/// Encodes transactions for gossip: `u32 count || (u32 len || bytes)*`.
pub(crate) fn encode_batch<'a>(txs: impl ExactSizeIterator<Item = &'a [u8]>) -> Vec<u8> {
    let mut out = Vec::new();
    out.extend_from_slice(&(txs.len() as u32).to_be_bytes());
    for t in txs {
        out.extend_from_slice(&(t.len() as u32).to_be_bytes());
        out.extend_from_slice(t);
    }
    out
}

pub(crate) fn decode_batch(bytes: &[u8]) -> Option<Vec<&[u8]>> {
    let n = u32::from_be_bytes(bytes.get(..4)?.try_into().ok()?) as usize;
    if n > GOSSIP_BATCH {
        return None;
    }
    let mut out = Vec::with_capacity(n);
    let mut at = 4;
    for _ in 0..n {
        let len = u32::from_be_bytes(bytes.get(at..at + 4)?.try_into().ok()?) as usize;
        at += 4;
        out.push(bytes.get(at..at.checked_add(len)?)?);
        at += len;
    }
    (at == bytes.len()).then_some(out)
}

/// A consensus record as stored per block: digest, parent digest, certificate (may be empty).
pub(crate) fn encode_record(digest: &[u8; 32], parent: &[u8; 32], certificate: Option<&[u8]>) -> Vec<u8> {
    let mut out = Vec::with_capacity(64 + certificate.map_or(0, <[u8]>::len));
    out.extend_from_slice(digest);
    out.extend_from_slice(parent);
    out.extend_from_slice(certificate.unwrap_or_default());
    out
}

pub(crate) struct ConsensusRecord {
    pub digest: [u8; 32],
    pub parent: [u8; 32],
    pub certificate: Option<Vec<u8>>,
}

pub(crate) fn decode_record(bytes: &[u8]) -> Option<ConsensusRecord> {
    Some(ConsensusRecord {
        digest: bytes.get(..32)?.try_into().ok()?,
        parent: bytes.get(32..64)?.try_into().ok()?,
        certificate: (bytes.len() > 64).then(|| bytes[64..].to_vec()),
    })
}

impl Ledger {
    fn replica(&self) -> &Replica {
        self.replica.as_ref().expect("replicated mode")
    }

    /// The state after `parent` and the ids of transactions in its non-final ancestry.
    fn state_after(&self, parent: &BlockInfo) -> Option<(ChainState, HashSet<Hash>)> {
        let r = self.replica();
        // Lock order: speculative, then finalized. The committer updates the final state
        // before it drops speculative entries, so a chain seen here always reaches it.
        let spec = r.speculative.lock().unwrap();
        let fin = self.final_state.lock().unwrap().clone();
        if parent.digest == fin.digest {
            return Some((fin, HashSet::new()));
        }
        let first = spec.get(&parent.digest)?;
        let state = first.state.clone();
        let mut ids = HashSet::new();
        let mut cur = first;
        loop {
            ids.extend(cur.tx_ids.iter().copied());
            if cur.parent == fin.digest {
                return Some((state, ids));
            }
            cur = spec.get(&cur.parent)?;
            if cur.state.height <= fin.height {
                return None;
            }
        }
    }

    fn remember_speculative(&self, digest: [u8; 32], parent: [u8; 32], executed: Executed) {
        let Executed { commit, mut state, leaf_hashes, .. } = executed;
        state.digest = digest;
        let tx_ids = commit.txs.iter().map(|(id, _)| *id).collect();
        let mut spec = self.replica().speculative.lock().unwrap();
        if spec.len() >= MAX_SPECULATIVE {
            // Keep the newest: drop the lowest heights (forks that lost).
            let mut heights: Vec<(u64, [u8; 32])> = spec.iter().map(|(d, s)| (s.state.height, *d)).collect();
            heights.sort();
            for (_, d) in heights.into_iter().take(MAX_SPECULATIVE / 4) {
                spec.remove(&d);
            }
        }
        spec.insert(digest, Arc::new(Speculative { parent, state, tx_ids, commit: Mutex::new(Some((commit, leaf_hashes))) }));
    }

    fn propose_block(&self, parent: &BlockInfo, height: u64, now: u64, allow_empty: bool) -> Result<Option<Vec<u8>>> {
        let Some((state, in_ancestry)) = self.state_after(parent) else { return Ok(None) };
        let p = &self.genesis().params;
        let txs = self.mempool.peek(p.max_block_txs as usize, p.max_block_bytes as usize, &|id| in_ancestry.contains(id));
        if txs.is_empty() && !allow_empty {
            return Ok(None);
        }
        let time_ms = now.max(state.time_ms);
        let Ok(mut executed) = self.execute_on(&state, height, time_ms, txs, &|id| in_ancestry.contains(id), false)? else {
            unreachable!("non-strict execution leaves failing transactions out")
        };
        let rejected = std::mem::take(&mut executed.rejected);
        if !rejected.is_empty() {
            let ids: Vec<Hash> = rejected.iter().map(|(id, _)| *id).collect();
            self.mempool.remove(&ids);
            for (id, e) in rejected {
                // A replay of a final transaction is not news to its submitter.
                if !matches!(e, TxError::Replay(_)) {
                    self.remember_rejection(id, e);
                }
            }
        }
        if executed.commit.txs.is_empty() && !allow_empty {
            return Ok(None);
        }
        let payload = executed.commit.block_bytes.clone();
        let digest = cairn_consensus::block_digest(self.block_hash(), &parent.digest, height, &executed.commit.block_hash, &self.block_hash().hash(&payload));
        self.remember_speculative(digest, parent.digest, executed);
        Ok(Some(payload))
    }

    /// The consensus view of this ledger, committing final blocks on the caller's thread
    /// (`network::start` gets one that hands them to the committer thread instead). For the
    /// deterministic simulation, where every task runs on one thread, and for tests.
    pub fn consensus_logic(self: &Arc<Self>) -> cairn_consensus::Logic {
        Arc::new(ReplicaLogic { ledger: Arc::clone(self), inline_commit: true })
    }

    /// [`Ledger::consensus_logic`] that also gossips (checkpoint cosignatures, transactions)
    /// through `gossip`, as a simulated validator does.
    pub fn consensus_logic_with_gossip(self: &Arc<Self>, gossip: cairn_consensus::network::Gossip) -> cairn_consensus::Logic {
        let _ = self.replica().gossip.set(gossip);
        self.consensus_logic()
    }

    /// Whether an honest validator votes for `payload` as block `height` on `parent`, and if
    /// not, why.
    pub fn verify_proposal(&self, parent: &BlockInfo, height: u64, payload: &[u8], now: u64) -> Result<(), String> {
        match self.verify_block(parent, height, payload, now) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(Invalid(why))) => Err(why),
            Err(e) => Err(e.report().to_string()),
        }
    }

    fn verify_block(&self, parent: &BlockInfo, height: u64, payload: &[u8], now: u64) -> Result<Result<(), Invalid>> {
        let block = match Block::decode(payload) {
            Ok(b) => b,
            Err(e) => return Ok(Err(Invalid(format!("block does not decode: {e}")))),
        };
        let h = &block.header;
        let Some((state, in_ancestry)) = self.state_after(parent) else {
            return Ok(Err(Invalid("parent is not a block this node can build on".into())));
        };
        let p = &self.genesis().params;
        if h.chain_id != self.genesis().chain_id || h.height != height || h.parent != state.hash {
            return Ok(Err(Invalid("wrong chain, height or parent".into())));
        }
        if h.time_ms < state.time_ms || h.time_ms > now + MAX_CLOCK_DRIFT_MS {
            return Ok(Err(Invalid(format!("block time {} outside [{}, now + {MAX_CLOCK_DRIFT_MS} ms]", h.time_ms, state.time_ms))));
        }
        if block.txs.len() > p.max_block_txs as usize || payload.len() as u64 > p.max_block_bytes + (1 << 16) {
            return Ok(Err(Invalid("block over the size limits".into())));
        }
        let mut txs = Vec::with_capacity(block.txs.len());
        for bytes in &block.txs {
            match self.exec.decode_member(bytes) {
                Ok(tx) => txs.push(tx),
                Err(e) => return Ok(Err(Invalid(format!("transaction refused: {e}")))),
            }
        }
        // A transaction this node admitted or already checked in a proposal is not checked
        // again. Mempool and signature cache are consulted chunk by chunk, just before each
        // signature batch: gossip admission may be checking the same transactions right now.
        let mut newly_checked = Vec::new();
        let positions: Vec<usize> = (0..txs.len()).collect();
        for chunk in positions.chunks(self.genesis().suite.verify_batch_size()) {
            let unchecked: Vec<(&cairn_types::tx::Transaction, usize)> = chunk
                .iter()
                .filter(|i| !self.mempool.contains_exact(&txs[**i]) && !self.signatures.contains(&txs[**i]))
                .map(|i| (&txs[*i], block.txs[*i].len()))
                .collect();
            if let Some(e) = self.exec.check_decoded_many(&unchecked, None).into_iter().find_map(Result::err) {
                return Ok(Err(Invalid(format!("transaction refused: {e}"))));
            }
            self.metrics.proposal_signatures_checked.inc_by(unchecked.len() as u64);
            newly_checked.extend(unchecked.into_iter().map(|(tx, _)| tx.clone()));
        }
        let executed = match self.execute_on(&state, height, h.time_ms, txs, &|id| in_ancestry.contains(id), true)? {
            Ok(x) => x,
            Err(invalid) => return Ok(Err(invalid)),
        };
        if executed.header != *h {
            return Ok(Err(Invalid("header differs from re-execution (tx root, log size or log root)".into())));
        }
        let digest = cairn_consensus::block_digest(self.block_hash(), &parent.digest, height, &executed.commit.block_hash, &self.block_hash().hash(payload));
        self.remember_speculative(digest, parent.digest, executed);
        // Remember the signatures just checked: the same transactions arriving by gossip, or in
        // a competing proposal, are then not checked again.
        self.signatures.insert_many(&newly_checked);
        Ok(Ok(()))
    }

    /// Makes a final block durable (the committer thread, in height order).
    /// The commit stage's consensus side: a final block becomes a [`Final`] (the speculative
    /// execution verified earlier, or an execution now when it was fetched while catching up),
    /// is made durable, and late certificates of durable blocks are attached.
    pub(crate) fn commit_finalized(&self, fb: FinalizedBlock) -> Result<()> {
        let r = self.replica();
        let info = &fb.info;
        let committed = self.committed_height.load(Ordering::Acquire);
        if info.height == 0 || info.height <= committed {
            return Ok(()); // redelivered after a restart
        }
        if info.height != committed + 1 {
            return Err(Error::Consensus(format!(
                "final block {} arrived after block {committed}: this validator's ledger database is behind its consensus data \
                 (was db/ deleted alone?); stop it and delete both db/ and the consensus data folder to resync from peers",
                info.height
            )));
        }
        let started = Instant::now();
        let spec = r.speculative.lock().unwrap().get(&info.digest).cloned();
        let executed = spec.and_then(|s| s.commit.lock().unwrap().take().map(|(c, hashes)| (s.state.clone(), c, hashes)));
        let (state, mut commit, leaf_hashes) = match executed {
            Some(x) => x,
            None => self.execute_fetched(info)?,
        };
        commit.consensus = Some(encode_record(&info.digest, &info.parent, fb.certificate.as_deref()));
        let time_ms = state.time_ms;
        self.commit_final(Final { state, commit, leaf_hashes, started })?;
        self.metrics.finalization_seconds.observe(now_ms().saturating_sub(time_ms) as f64 / 1000.0);
        self.metrics.peers_connected.set(r.peers_connected() as i64);
        self.attach_late_certificates()
    }

    /// Executes a final block this node did not verify (fetched while catching up). A quorum
    /// finalized it, so a failure means this node's state diverged.
    fn execute_fetched(&self, info: &BlockInfo) -> Result<(ChainState, BlockCommit, Vec<Hash>)> {
        self.metrics.blocks_fetched.inc();
        tracing::info!(height = info.height, "catching up: applying a final block fetched from peers");
        let fin = self.final_state.lock().unwrap().clone();
        if info.parent != fin.digest {
            return Err(Error::Consensus(format!("final block {} does not extend final block {}", info.height, fin.height)));
        }
        let block = Block::decode(&info.payload).map_err(Error::FinalBlockDecode)?;
        let txs = self
            .exec
            .admit_many(&block.txs, None)
            .into_iter()
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| Error::Consensus(format!("final block {}: {e}", info.height)))?;
        let mut executed = self
            .execute_on(&fin, info.height, block.header.time_ms, txs, &|_| false, true)?
            .map_err(|e| Error::Consensus(format!("final block {} fails re-execution: {}", info.height, e.0)))?;
        if executed.header != block.header {
            return Err(Error::Consensus(format!("final block {}: re-execution gives another header; this node's state diverged", info.height)));
        }
        executed.state.digest = info.digest;
        Ok((executed.state, executed.commit, executed.leaf_hashes))
    }

    fn late_certificate(&self, height: u64, certificate: Vec<u8>) -> Result<()> {
        {
            let mut late = self.replica().late_certificates.lock().unwrap();
            if late.len() >= MAX_LATE_CERTIFICATES {
                late.pop_first();
            }
            late.insert(height, certificate);
        }
        self.attach_late_certificates()
    }

    /// Stores the late certificates of durable blocks in their consensus records.
    fn attach_late_certificates(&self) -> Result<()> {
        let ready: Vec<(u64, Vec<u8>)> = {
            let mut late = self.replica().late_certificates.lock().unwrap();
            let committed = self.committed_height.load(Ordering::Acquire);
            let rest = late.split_off(&(committed + 1));
            std::mem::replace(&mut *late, rest).into_iter().collect()
        };
        for (height, certificate) in ready {
            let Some(record) = self.store.consensus_record(height)?.as_deref().and_then(decode_record) else { continue };
            if record.certificate.is_none() {
                self.store.put_consensus_record(height, &encode_record(&record.digest, &record.parent, Some(&certificate)))?;
            }
        }
        Ok(())
    }

    /// Admits gossiped transactions into the mempool (the admission thread).
    fn admit_gossip(&self, batch: &[u8]) {
        let Some(txs) = decode_batch(batch) else { return };
        let now = now_ms();
        // Chunks of one signature batch, each admitted at once: a proposal verified meanwhile
        // finds them in the mempool and does not check them again (nor do we check what it
        // checked: the signature cache is consulted for each chunk).
        for chunk in txs.chunks(self.genesis().suite.verify_batch_size()) {
            let mut fresh = Vec::with_capacity(chunk.len());
            for bytes in chunk {
                // Cheap checks first: most gossip repeats what a block already carried.
                let Ok(decoded) = self.exec.decode_member(bytes) else { continue };
                if self.mempool.contains(&decoded.id) || self.store.contains_tx(&decoded.id).unwrap_or(true) {
                    continue;
                }
                fresh.push((decoded, bytes.len()));
            }
            let checks =
                self.exec.check_decoded_many_known(&fresh.iter().map(|(t, len)| (t, *len)).collect::<Vec<_>>(), Some(now), &|tx| self.signatures.contains(tx));
            let admitted: Vec<cairn_types::tx::Transaction> = fresh.into_iter().zip(checks).filter_map(|((tx, _), c)| c.ok().map(|()| tx)).collect();
            self.mempool.insert_many(admitted);
        }
        self.metrics.mempool_txs.set(self.mempool.len() as i64);
    }

    /// Starts the committer and admission threads and the consensus validator.
    /// The receiver fires if the p2p network stops (see `cairn_consensus::network::NetworkStopped`).
    pub fn start_replica(self: &Arc<Self>, net: cairn_consensus::network::NetworkConfig) -> Result<cairn_consensus::network::NetworkStopped> {
        let r = self.replica();
        let (commit_tx, commit_rx) = std::sync::mpsc::sync_channel::<ToCommit>(super::CONSENSUS_COMMIT_QUEUE);
        let (admit_tx, admit_rx) = std::sync::mpsc::sync_channel::<Vec<u8>>(ADMISSION_QUEUE);
        let _ = r.committer.set(commit_tx);
        let _ = r.admission.set(admit_tx);
        super::spawn_committer(Arc::clone(self), commit_rx)?;
        let ledger = Arc::clone(self);
        std::thread::Builder::new()
            .name("cairn-admission".into())
            .spawn(move || {
                let rx: Receiver<Vec<u8>> = admit_rx;
                for batch in rx {
                    ledger.admit_gossip(&batch);
                }
            })
            .io_context(|| "starting the admission thread".into())?;
        let (gossip, queue) = cairn_consensus::network::gossip_pair();
        let _ = r.gossip.set(gossip);
        let logic: cairn_consensus::Logic = Arc::new(ReplicaLogic { ledger: Arc::clone(self), inline_commit: false });
        cairn_consensus::network::start(net, logic, queue).map_err(Error::StartConsensus)
    }

    pub(crate) fn replica_gossip_txs(&self, txs: &[&[u8]]) {
        if let Some(r) = self.replica.as_ref() {
            for chunk in txs.chunks(GOSSIP_BATCH) {
                if !r.gossip(Topic::Transactions, encode_batch(chunk.iter().copied())) {
                    self.metrics.gossip_dropped.inc();
                }
            }
        }
    }
}

/// The ledger as consensus sees it.
struct ReplicaLogic {
    ledger: Arc<Ledger>,
    /// Commit final blocks in `finalized` itself rather than on the committer thread.
    inline_commit: bool,
}

impl BlockLogic for ReplicaLogic {
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]> {
        // The header comes first in a block; a malformed body fails verification later.
        Block::decode_header(payload).ok().map(|h| h.hash(self.ledger.exec.suite()))
    }

    fn has_state(&self, block: &BlockInfo) -> bool {
        let r = self.ledger.replica();
        let final_height = self.ledger.final_state.lock().unwrap().height;
        // At or below the final height: known, or a fork of final history (refused later).
        block.height <= final_height || r.speculative.lock().unwrap().contains_key(&block.digest)
    }

    fn propose(&self, parent: &BlockInfo, height: u64, now_ms: u64, allow_empty: bool) -> Option<Vec<u8>> {
        if self.ledger.fatal().is_some() {
            return None;
        }
        match self.ledger.propose_block(parent, height, now_ms, allow_empty) {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e.report(), "proposing failed");
                None
            }
        }
    }

    fn verify(&self, parent: &BlockInfo, height: u64, payload: &[u8], now_ms: u64) -> bool {
        if self.ledger.fatal().is_some() {
            return false;
        }
        match self.ledger.verify_proposal(parent, height, payload, now_ms) {
            Ok(()) => true,
            Err(why) => {
                tracing::warn!(height, reason = %why, "proposal refused: no vote");
                false
            }
        }
    }

    fn finalized(&self, block: FinalizedBlock, ack: Ack) {
        if self.inline_commit {
            let height = block.info.height;
            if let Err(e) = self.ledger.commit_finalized(block) {
                panic!("committing final block {height}: {}", e.report());
            }
            ack.acknowledge();
            return;
        }
        let r = self.ledger.replica();
        if let Some(c) = r.committer.get() {
            // Blocks the consensus task while the committer is busy: back-pressure.
            let _ = c.send(ToCommit::Finalized(block, ack));
        }
    }

    fn certificate(&self, height: u64, certificate: Vec<u8>) {
        if let Err(e) = self.ledger.late_certificate(height, certificate) {
            tracing::error!(height, error = %e.report(), "storing a finalization certificate failed");
        }
    }

    fn fault(&self, evidence: String) {
        tracing::warn!(%evidence, "consensus fault evidence");
        self.ledger.metrics.faults.inc();
        if let Err(e) = self.ledger.store.put_fault(&evidence) {
            tracing::error!(error = %e, "recording fault evidence failed");
        }
    }

    fn view_skipped(&self) {
        tracing::info!("view timed out without a block (leader down, slow or refused)");
        self.ledger.metrics.view_changes.inc();
    }

    fn gossip(&self, from: usize, topic: Topic, message: &[u8]) {
        let r = self.ledger.replica();
        r.heard_from(from);
        match topic {
            Topic::Transactions => {
                if let Some(a) = r.admission.get()
                    && a.try_send(message.to_vec()).is_err()
                {
                    self.ledger.metrics.gossip_dropped.inc();
                    tracing::debug!("admission queue full; gossiped transactions dropped");
                }
            }
            Topic::Cosignatures => {
                if let Ok(note) = std::str::from_utf8(message)
                    && let Err(e) = self.ledger.add_cosignature(from, note)
                {
                    self.ledger.fail(format!("storing a cosigned checkpoint failed: {}", e.report()));
                }
            }
        }
    }
}

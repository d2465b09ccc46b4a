//! The ledger: opening a data folder (with its checks against what was signed), admission
//! into the mempool, transaction status, and the parts the block pipeline (`crate::pipeline`)
//! works on: the store, the durable log, the final state. Queries are in `queries.rs`.
//!
//! A block is fsync'd (with its leaves, indexes and state, in one batch) before any waiter
//! hears that its transaction committed. A storage failure while committing stops the node:
//! the in-memory log may then be ahead of disk, and a restart rebuilds it from disk.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, RwLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use cairn_crypto::{Hash, KeyPair};
use cairn_exec::{Executor, TxError};
use cairn_merkle::{MerkleLog, leaf_hash};
use cairn_note::{Checkpoint, SignedNote};
use cairn_store::{Store, TxLocation};
use cairn_types::block::Block;
use cairn_types::genesis::Genesis;
use cairn_types::tx::Transaction;
use tokio::sync::oneshot;

use crate::config::NodeConfig;
use crate::error::{Error, IoContext, Result};
use crate::mempool::{InsertError, Mempool};
use crate::metrics::Metrics;
use crate::pipeline::{ChainState, consensus, cosign, solo};

mod queries;

pub use queries::{CertificateProof, CertifiedLink, ConsensusStatus, ConsistencyProof, LeafQueryError, NotYetSigned, StateQueryError};

#[derive(Clone, Debug)]
pub enum TxOutcome {
    Committed(TxLocation),
    Rejected(TxError),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SubmitError {
    Tx(TxError),
    MempoolFull,
    /// The signer's organisation holds its share of the mempool already.
    OrgShare,
    /// The node stopped after a fault ([`Ledger::fatal`]): it takes nothing more until restarted.
    Stopped(String),
}

impl std::fmt::Display for SubmitError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SubmitError::Tx(e) => e.fmt(f),
            SubmitError::MempoolFull => f.write_str("the mempool is full; retry later"),
            SubmitError::OrgShare => f.write_str("your organisation's transactions fill its share of the mempool; retry once they are in blocks"),
            SubmitError::Stopped(why) => write!(f, "the node stopped after a fault and must be restarted: {why}"),
        }
    }
}

impl SubmitError {
    pub fn code(&self) -> &str {
        match self {
            SubmitError::Tx(e) => e.code(),
            SubmitError::MempoolFull => "mempool-full",
            SubmitError::OrgShare => "organisation-share",
            SubmitError::Stopped(_) => "node-stopped",
        }
    }
}

/// An admitted transaction, as reported to the submitter.
#[derive(Clone, Debug)]
pub struct Admitted {
    pub id: Hash,
    /// What its module adds to the submit answer (evidence: the ids of the records it will
    /// create), known before commit.
    pub fields: serde_json::Map<String, serde_json::Value>,
}

pub enum TxStatus {
    Committed(TxLocation),
    Pending,
    Rejected(TxError),
    Unknown,
}

pub struct Ledger {
    pub(crate) exec: Executor,
    pub(crate) store: Store,
    genesis_hash: Hash,
    pub(crate) validator: KeyPair,
    validator_name: String,
    /// The durable log (leaf hashes); extended only by the commit stage.
    pub(crate) log: RwLock<MerkleLog>,
    /// The state after the last durable block; written only by the commit stage.
    pub(crate) final_state: Mutex<ChainState>,
    pub(crate) mempool: Mempool,
    /// Signatures checked while verifying proposals (consensus mode).
    pub(crate) signatures: crate::sigcache::SignatureCache,
    /// The notification stage: waiters, recent rejections, the live feed (`notify.rs`).
    pub(crate) notifier: crate::notify::Notifier,
    /// The checkpoint stage: signing, collecting a quorum, serving (`pipeline/cosign.rs`).
    pub(crate) cosign: cosign::Cosigner,
    pub metrics: Metrics,
    pub config: NodeConfig,
    pub(crate) shutdown: AtomicBool,
    /// Set by a stage that cannot go on; the node then stops (see `fatal.rs`).
    fatal: crate::fatal::Fatal,
    started: Instant,
    /// A random id of this process, answered in `/healthz` (`cairn-instance`), so a validator
    /// can tell another process running under its name from itself.
    pub(crate) instance: u64,
    pub(crate) committed_height: AtomicU64,
    /// The last checkpoint this validator signed, kept beside the ledger (`signed.rs`).
    pub(crate) signed: crate::signed::SignedMark,
    /// The solo sequencer's blocks in flight (a single node: `replica` is `None`).
    pub(crate) solo: solo::Solo,
    /// The consensus sequencer, when the chain has a validator set.
    pub(crate) replica: Option<consensus::Replica>,
    /// The key the node signs with for standards bindings' clients (`agent_key`).
    pub(crate) agent: Option<KeyPair>,
}

/// What a live view hears about each committed block.
#[derive(Clone, Debug, serde::Serialize)]
pub struct BlockEvent {
    /// The modules' own events of the block ([`cairn_module::Module::events`]), sent after
    /// the block's as events named after each module.
    #[serde(skip)]
    pub module_events: Vec<(&'static str, serde_json::Value)>,
    pub height: u64,
    pub hash: String,
    pub time_ms: u64,
    pub tx_count: usize,
    pub records: usize,
    pub log_size: u64,
}

/// Moves a validator's ledger and consensus data aside (`<folder>.lost-<unix ms>`), for it to
/// start over; returns where they went.
/// SM3 where validators vote in SM2 (genesis names vote keys), else SHA-256.
pub fn block_hash(genesis: &Genesis) -> cairn_consensus::BlockHash {
    if genesis.sm2_votes() { cairn_consensus::BlockHash::Sm3 } else { cairn_consensus::BlockHash::Sha256 }
}

fn set_aside(config: &NodeConfig) -> Result<String> {
    let stamp = now_ms();
    let mut moved = Vec::new();
    let folders = std::iter::once(&config.db).chain(config.consensus.as_ref().map(|c| &c.data));
    for folder in folders {
        if !folder.exists() {
            continue;
        }
        let mut name = folder.file_name().map(|n| n.to_os_string()).unwrap_or_default();
        name.push(format!(".lost-{stamp}"));
        let to = folder.with_file_name(name);
        std::fs::rename(folder, &to).io_context(|| format!("moving {} aside to {}", folder.display(), to.display()))?;
        moved.push(to.display().to_string());
    }
    Ok(moved.join(" and "))
}

fn dir_is_empty(dir: &std::path::Path) -> bool {
    std::fs::read_dir(dir).map_or(true, |mut d| d.next().is_none())
}

pub fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl Ledger {
    /// Opens (or initialises) the ledger described by `config`.
    pub fn open(config: NodeConfig) -> Result<Arc<Ledger>> {
        Self::open_with(config, crate::MODULES)
    }

    /// [`Ledger::open`] running the modules of `modules` (a binary built with other modules
    /// than `cairn`'s, such as the test kit's). A validator whose ledger lost blocks it had
    /// acknowledged sets its ledger and consensus data aside and starts over, fetching the chain
    /// from its peers; it keeps the mark of what it signed, so it never signs another root for
    /// those sizes (`signed.rs`).
    pub fn open_with(config: NodeConfig, modules: &[cairn_exec::ModuleFactory]) -> Result<Arc<Ledger>> {
        match Self::open_once(&config, modules) {
            Err(Error::LostBlocks { size, root, detail }) => {
                let aside = set_aside(&config)?;
                tracing::warn!(
                    "{detail}; set aside as {aside}; starting over and fetching the chain from the peers. This validator signs nothing that contradicts its checkpoint of {size} leaves"
                );
                std::fs::create_dir_all(&config.db).io_context(|| format!("creating {}", config.db.display()))?;
                let (mark, _) = crate::signed::SignedMark::open(&config.db)?;
                mark.record(size, &root)?;
                drop(mark);
                Self::open_once(&config, modules)
            }
            other => other,
        }
    }

    fn open_once(config: &NodeConfig, modules: &[cairn_exec::ModuleFactory]) -> Result<Arc<Ledger>> {
        let config = config.clone();
        // The one place limits are checked: configs loaded from files and built in code alike.
        config.limits.check().map_err(Error::Config)?;
        let genesis_bytes = std::fs::read(&config.genesis).io_context(|| format!("reading genesis {}", config.genesis.display()))?;
        let genesis = Genesis::from_json(&genesis_bytes).map_err(|source| Error::GenesisFile { path: config.genesis.clone(), source })?;
        let validator = crate::keys::read_key(&config.validator_key)?;
        let Some(v) = genesis.validators.iter().find(|v| v.name == config.validator_name) else {
            return Err(Error::Config(format!(
                "validator {:?} is not in genesis {}; fix validator_name in the config",
                config.validator_name,
                config.genesis.display()
            )));
        };
        if v.public_key != validator.public_key().to_hex() {
            return Err(Error::Config(format!("key {} is not validator {}'s key in genesis", config.validator_key.display(), v.name)));
        }
        let agent = config.agent_key.as_deref().map(crate::keys::read_key).transpose()?;
        if let Some(a) = &agent
            && a.suite() != genesis.suite
        {
            return Err(Error::Config(format!(
                "agent key {} is a {} key; this chain uses {}",
                config.agent_key.as_ref().unwrap().display(),
                a.suite(),
                genesis.suite
            )));
        }
        std::fs::create_dir_all(&config.db).io_context(|| format!("creating {}", config.db.display()))?;
        let exec = Executor::try_new(genesis.clone(), modules).map_err(|why| Error::Config(format!("genesis {}: {why}", config.genesis.display())))?;
        let store = Store::open(&config.db, &exec.index_names()).map_err(|source| Error::OpenDatabase { path: config.db.clone(), source })?;
        let canonical = serde_json::to_vec(&genesis)?;
        match store.genesis()? {
            None => store.put_genesis(&canonical)?,
            Some(stored) if stored == canonical => {}
            Some(_) => {
                return Err(Error::Config(format!(
                    "genesis mismatch: {} differs from the genesis this database was created with; use the original genesis or a new data folder",
                    config.genesis.display()
                )));
            }
        }

        // Rebuild the Merkle tree from the durable leaves and check it against what was signed.
        let suite = genesis.suite;
        let mut log = MerkleLog::new(suite);
        store.for_each_leaf(|_, leaf| {
            log.push_leaf_hash(leaf_hash(suite, leaf));
        })?;
        let genesis_hash = genesis.hash();
        let tip_height = store.tip_height()?;
        let (tip_hash, tip_time_ms, tip_state_root) = if tip_height == 0 {
            (genesis_hash, genesis.genesis_time_ms, cairn_state::EMPTY)
        } else {
            let header = Block::decode_header(&store.block(tip_height)?.ok_or_else(|| Error::Corrupt("tip block missing".into()))?)?;
            if header.log_size_after() != log.size() || log.root_at(header.log_size)? != header.log_root {
                return Err(Error::Inconsistent(format!(
                    "tip block {tip_height} commits to a log of {} leaves, {} are stored",
                    header.log_size_after(),
                    log.size()
                )));
            }
            let state_root = header.state_root.unwrap_or(cairn_state::EMPTY);
            if store.needs_state_rebuild()? {
                rebuild_state_tree(&store, suite)?;
            }
            // Paired with the commit: the tip's state root must be stored (state is written in
            // the block's own batch).
            if store.state_root_at(tip_height)?.hash != state_root {
                return Err(Error::Inconsistent(format!("the state root of tip block {tip_height} is not stored")));
            }
            (header.hash(suite), header.time_ms, state_root)
        };
        // Indexes are derived from blocks: after a crash they may lag; re-execute what they miss.
        let indexed = store.indexed_height()?;
        if indexed < tip_height {
            tracing::info!(from = indexed + 1, to = tip_height, "rebuilding module indexes");
            reindex(&exec, &store, indexed + 1, tip_height)?;
        } else if indexed > tip_height {
            // Index entries of blocks that never became durable; readers skip them. Pull the
            // mark back so that a crash after the next ledger commit is noticed.
            store.write_index(tip_height, &[])?;
        }
        let checkpoint = store.latest_checkpoint()?;
        if let Some((size, note)) = &checkpoint {
            let cp = Checkpoint::parse(&SignedNote::parse(note)?.text)?;
            if cp.size != *size || log.root_at(*size)? != cp.root {
                return Err(Error::Inconsistent(format!("checkpoint at size {size} does not match the stored log")));
            }
        }
        // Paired with the commit stage's record: the ledger reaches every checkpoint this
        // validator ever signed, with the root it signed. Otherwise it lost acknowledged blocks,
        // and going on would sign a second root for a size already signed.
        let (signed, mut last_signed) = crate::signed::SignedMark::open(&config.db)?;
        if let Some((size, _)) = &checkpoint
            && last_signed.is_none_or(|(marked, _)| marked < *size)
        {
            // Stored with its block but the mark not yet written (a crash between the two):
            // it may have been read, so it counts as signed from now on.
            let root = log.root_at(*size)?;
            signed.record(*size, &root)?;
            last_signed = Some((*size, root));
        }
        if let Some((size, root)) = last_signed
            && (size > log.size() || log.root_at(size)? != root)
        {
            let replicated = genesis.validators.iter().any(|v| v.consensus_key.is_some());
            let found = if size > log.size() { format!("has only {} leaves", log.size()) } else { "has another root at that size".to_string() };
            let detail = format!(
                "this validator signed a checkpoint of {size} leaves, but its ledger {found}: it lost blocks it had acknowledged (a truncated or older database)"
            );
            let fresh = log.size() == 0 && config.consensus.as_ref().is_none_or(|c| dir_is_empty(&c.data));
            if replicated && !fresh {
                drop(store);
                return Err(Error::LostBlocks { size, root, detail });
            }
            if !replicated {
                return Err(Error::Inconsistent(format!(
                    "{detail}. It will not sign another root for that size: restore the data folder from a backup; do not delete the mark to go on, clients hold receipts for the lost blocks"
                )));
            }
            // A fresh ledger after a loss: it fetches the chain, checked at the mark.
        }

        let replicated = genesis.validators.iter().any(|v| v.consensus_key.is_some());
        let index = genesis.validators.iter().position(|v| v.name == config.validator_name).expect("checked above");
        let digest = if !replicated {
            [0; 32]
        } else if tip_height == 0 {
            cairn_consensus::genesis_digest(block_hash(&genesis))
        } else {
            let record = store
                .consensus_record(tip_height)?
                .ok_or_else(|| Error::Corrupt("tip block has no consensus record; was this database made by a single node?".into()))?;
            consensus::decode_record(&record).ok_or_else(|| Error::Corrupt("malformed consensus record".into()))?.digest
        };
        let final_state = ChainState {
            height: tip_height,
            digest,
            hash: tip_hash,
            time_ms: tip_time_ms,
            frontier: log.frontier(),
            state_root: tip_state_root,
            overlay: None,
        };
        let verifiers = genesis
            .validators
            .iter()
            .map(|v| {
                let pk = cairn_crypto::PublicKey::from_hex(suite, &v.public_key).expect("validated genesis");
                cairn_note::NoteVerifier::new(&genesis.key_name(&v.name), pk).expect("valid key name")
            })
            .collect();
        // A single node signs its checkpoints alone: it is its own quorum.
        let quorum = if replicated { genesis.quorum() } else { 1 };
        let cosign = cosign::Cosigner::new(index, quorum, verifiers, checkpoint);
        let replica = replicated.then(|| consensus::Replica::new(index, genesis.validators.len()));

        let p = &genesis.params;
        let mut mempool = Mempool::new(config.limits.mempool_max_txs, config.limits.mempool_max_bytes, p.max_block_txs as usize);
        if genesis.organisations.len() > 1 {
            // No organisation's member can fill the pool for everyone else.
            let share = (config.limits.mempool_max_txs * usize::from(config.limits.mempool_max_org_percent) / 100).max(1);
            let org_of: std::collections::BTreeMap<Vec<u8>, u32> = genesis
                .organisations
                .iter()
                .enumerate()
                .flat_map(|(i, o)| {
                    o.members.iter().filter_map(move |m| Some((cairn_crypto::PublicKey::from_hex(suite, m).ok()?.as_bytes().to_vec(), i as u32)))
                })
                .collect();
            mempool = mempool.with_shares(share, Box::new(move |tx| org_of.get(tx.body.signer.as_bytes()).copied().unwrap_or(u32::MAX)));
        }
        // Admission checks signers against the membership the durable state holds.
        exec.refresh_members(&store, tip_height)?;
        let metrics = Metrics::default();
        metrics.height.set(tip_height as i64);
        metrics.log_size.set(log.size() as i64);
        tracing::info!(chain = %genesis.chain_id, suite = %suite, height = tip_height, log_size = log.size(), "ledger opened");
        Ok(Arc::new(Ledger {
            exec,
            store,
            genesis_hash,
            validator,
            validator_name: config.validator_name.clone(),
            log: RwLock::new(log),
            final_state: Mutex::new(final_state),
            mempool,
            signatures: crate::sigcache::SignatureCache::new(crate::sigcache::SIGNATURE_CACHE_TXS),
            notifier: crate::notify::Notifier::default(),
            metrics,
            config,
            shutdown: AtomicBool::new(false),
            fatal: crate::fatal::Fatal::default(),
            started: Instant::now(),
            instance: rand::random(),
            committed_height: AtomicU64::new(tip_height),
            signed,
            solo: solo::Solo::default(),
            cosign,
            replica,
            agent,
        }))
    }

    pub fn genesis(&self) -> &Genesis {
        self.exec.genesis()
    }

    /// The hash of consensus block digests on this chain.
    pub fn block_hash(&self) -> cairn_consensus::BlockHash {
        block_hash(self.genesis())
    }

    pub fn executor(&self) -> &Executor {
        &self.exec
    }

    pub fn genesis_hash(&self) -> Hash {
        self.genesis_hash
    }

    pub fn validator_name(&self) -> &str {
        &self.validator_name
    }

    pub fn uptime(&self) -> Duration {
        self.started.elapsed()
    }

    // ---- submission ----

    /// Admits transactions (all stateless checks and signatures, then replay against the
    /// ledger) and queues those that pass. One verdict per transaction, in order.
    pub fn submit(&self, txs: &[Vec<u8>]) -> Vec<Result<Admitted, SubmitError>> {
        self.submit_checked(txs, |now| self.exec.admit_many(txs, Some(now)))
    }

    /// [`Ledger::submit`] of transactions this node's agent signed over arguments a module
    /// derived itself (see [`cairn_exec::Executor::admit_many_own`]).
    pub fn submit_own(&self, txs: &[Vec<u8>]) -> Vec<Result<Admitted, SubmitError>> {
        self.submit_checked(txs, |now| self.exec.admit_many_own(txs, now))
    }

    fn submit_checked(
        &self,
        txs: &[Vec<u8>],
        admit: impl FnOnce(u64) -> Vec<Result<cairn_types::tx::Transaction, TxError>>,
    ) -> Vec<Result<Admitted, SubmitError>> {
        if let Some(why) = self.fatal() {
            return txs.iter().map(|_| Err(SubmitError::Stopped(why.clone()))).collect();
        }
        let now = now_ms();
        let mut verdicts: Vec<Result<Admitted, SubmitError>> = Vec::with_capacity(txs.len());
        let mut admitted = Vec::new();
        let mut slots = Vec::new();
        let checked_txs = admit(now);
        // One look at the solo pipeline's blocks in flight for the whole batch.
        let in_flight = self.solo.in_flight_of(checked_txs.iter().filter_map(|c| c.as_ref().ok()).map(|t| t.id));
        for checked in checked_txs {
            let known = |id: &Hash| in_flight.contains(id) || self.store.contains_tx(id).unwrap_or(false);
            match checked.and_then(|tx| if known(&tx.id) { Err(TxError::Replay(hex::encode(tx.id))) } else { Ok(tx) }) {
                Ok(tx) => {
                    slots.push(verdicts.len());
                    verdicts.push(Ok(Admitted { id: tx.id, fields: self.exec.admitted_fields(&tx) }));
                    admitted.push(tx);
                }
                Err(e) => verdicts.push(Err(SubmitError::Tx(e))),
            }
        }
        let ids: Vec<Hash> = admitted.iter().map(|t| t.id).collect();
        let mut gossip: Vec<&[u8]> = Vec::new();
        for ((slot, r), id) in slots.iter().copied().zip(self.mempool.insert_many(admitted)).zip(ids) {
            match r {
                Ok(()) => {
                    if self.replica.is_some() {
                        gossip.push(&txs[slot]); // verdicts are one per input, in order
                    }
                }
                Err(InsertError::Duplicate) => verdicts[slot] = Err(SubmitError::Tx(TxError::Replay(hex::encode(id)))),
                Err(InsertError::Full) => verdicts[slot] = Err(SubmitError::MempoolFull),
                Err(InsertError::OrgShare) => verdicts[slot] = Err(SubmitError::OrgShare),
            }
        }
        self.replica_gossip_txs(&gossip);
        for v in &verdicts {
            match v {
                Ok(_) => {
                    self.metrics.tx_accepted.inc();
                }
                Err(e) => self.metrics.rejected(e.code()),
            };
        }
        self.metrics.mempool_txs.set(self.mempool.len() as i64);
        verdicts
    }

    /// Resolves when `id` commits or is rejected at execution; `None` when too many already
    /// wait (`notify::MAX_WAITERS`: the caller answers "pending").
    pub fn watch(&self, id: Hash) -> Option<oneshot::Receiver<TxOutcome>> {
        let rx = self.notifier.watch(id)?;
        // It may have committed before we registered: answer from the store. Under consensus a
        // final transaction counts once a quorum-signed checkpoint covers it (until then the
        // cosigning step notifies).
        match self.status(&id) {
            TxStatus::Committed(loc) if self.covered(&loc) => self.notify(id, TxOutcome::Committed(loc)),
            TxStatus::Committed(_) => {}
            TxStatus::Rejected(e) => self.notify(id, TxOutcome::Rejected(e)),
            TxStatus::Pending | TxStatus::Unknown => {}
        }
        Some(rx)
    }

    /// Whether the latest served checkpoint covers a transaction's leaves.
    fn covered(&self, loc: &TxLocation) -> bool {
        self.log_size() >= loc.first_leaf + loc.leaf_count as u64
    }

    /// Stops waiting for `id` (a waiter timed out).
    pub fn unwatch(&self, id: &Hash) {
        self.notifier.unwatch(id);
    }

    pub(crate) fn notify(&self, id: Hash, outcome: TxOutcome) {
        self.notifier.notify(&id, &outcome);
    }

    pub fn status(&self, id: &Hash) -> TxStatus {
        if let Ok(Some(loc)) = self.store.tx(id) {
            return TxStatus::Committed(loc);
        }
        if self.mempool.contains(id) || self.solo.contains(id) {
            return TxStatus::Pending;
        }
        if let Some(e) = self.notifier.rejection(id) {
            return TxStatus::Rejected(e);
        }
        TxStatus::Unknown
    }

    pub(crate) fn remember_rejection(&self, id: Hash, e: TxError) {
        self.metrics.rejected(e.code());
        self.notifier.reject(id, e);
    }

    // ---- the pipeline's stops ----

    pub fn stop(&self) {
        self.shutdown.store(true, Ordering::Release);
        self.mempool.wake();
    }

    /// A stage cannot go on: records why, stops block production and admission, and lets
    /// [`crate::RunningNode::failed`] resolve (the binary then exits non-zero).
    pub fn fail(&self, why: String) {
        tracing::error!(%why, "stopping the node");
        self.fatal.raise(why);
        self.stop();
    }

    /// Why the node stopped after a fault, if it did.
    pub fn fatal(&self) -> Option<String> {
        self.fatal.reason()
    }

    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<BlockEvent> {
        self.notifier.subscribe()
    }

    /// Resolves with the reason once a stage fails.
    pub async fn failed(&self) -> String {
        self.fatal.wait().await
    }
}

/// Rebuilds the state tree of a database made by an earlier release (nodes stored by hash)
/// in today's layout, and checks every rebuilt root against its block's header.
fn rebuild_state_tree(store: &Store, suite: cairn_crypto::Suite) -> Result<()> {
    tracing::info!("rebuilding the state tree in the current storage layout");
    for (height, root) in store.rebuild_state_tree(suite)? {
        let header = Block::decode_header(&store.block(height)?.ok_or_else(|| Error::Corrupt(format!("block {height} missing")))?)?;
        if header.state_root != Some(root) {
            return Err(Error::Inconsistent(format!("the state rebuilt for block {height} does not have its header's root")));
        }
    }
    // Only now: a rebuild that does not match keeps the old layout for the next attempt.
    store.drop_old_state_nodes()?;
    Ok(())
}

/// Re-executes blocks `from..=to` to rewrite the module indexes they produced.
fn reindex(exec: &Executor, store: &Store, from: u64, to: u64) -> Result<()> {
    for height in from..=to {
        let block = Block::decode(&store.block(height)?.ok_or_else(|| Error::Corrupt(format!("block {height} missing")))?)?;
        let mut entries = Vec::new();
        // Reads see the state after the parent (the store keeps every version); writes are dropped.
        let parent_root = match height - 1 {
            0 => cairn_state::EMPTY,
            h => Block::decode_header(&store.block(h)?.ok_or_else(|| Error::Corrupt(format!("block {h} missing")))?)?.state_root.unwrap_or(cairn_state::EMPTY),
        };
        let mut state = cairn_state::BlockState::new(exec.suite(), store, height - 1, parent_root, None, height - 1)?;
        // The block's own hooks, so its transactions read the state they read when it was made.
        let first_leaf = crate::replay::first_leaf_of(store, &block)?;
        exec.begin_block(height, block.header.time_ms, first_leaf, &mut state)?;
        for bytes in &block.txs {
            let tx = Transaction::decode(bytes)?;
            let loc = store.tx(&tx.id)?.ok_or_else(|| Error::Corrupt(format!("transaction of block {height} missing")))?;
            let effects = exec
                .execute(&tx, height, block.header.time_ms, loc.first_leaf, &mut state)?
                .map_err(|e| Error::Corrupt(format!("re-executing block {height}: {e}")))?;
            entries.extend(effects.index.into_iter().map(|e| (e.index, e.key, e.value)));
        }
        store.write_index(height, &entries)?;
    }
    Ok(())
}

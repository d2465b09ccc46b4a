//! The per-validator wiring: archives, marshal, buffered broadcast, the back-fill resolver and
//! simplex, generic over the runtime and the network. Start order matters: broadcast, marshal,
//! then consensus.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_actor::Feedback;
use commonware_broadcast::buffered;
use commonware_codec::{Encode as _, RangeCfg};
use commonware_consensus::marshal::{self, Update, ancestry::Ancestry, resolver::p2p as marshal_resolver, standard::Inline};
use commonware_consensus::simplex::{
    self, ForwardPolicy, SkipBudget, SkipPolicy,
    elector::RoundRobin,
    types::{Activity, Context},
};
use commonware_consensus::types::{Epoch, FixedEpocher, Height, ViewDelta};
use commonware_consensus::{Application, Heightable as _, Reporter, Reporters};

use commonware_cryptography::certificate::ConstantProvider;
use commonware_cryptography::sha256::{Digest, Sha256};
use commonware_cryptography::{Digested, Digestible, Signer as _, ed25519};
use commonware_p2p::{Blocker, Provider, Receiver, Recipients, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use commonware_storage::archive::immutable;
use commonware_utils::ordered::Set;
use commonware_utils::{Acknowledgement as _, NZDuration, NZU16, NZU64, NZUsize};
use futures::StreamExt as _;
use rand_core::CryptoRng;

use crate::block::{BlockCfg, BlockHash, ConsensusBlock};
use crate::{Ack, BlockInfo, FinalizedBlock, Logic, MAX_PAYLOAD, Topic};

/// Domain of every consensus signature: votes of one chain are worthless on another.
pub fn consensus_namespace(chain_id: &str) -> Vec<u8> {
    format!("CAIRN-CONSENSUS-V1/{chain_id}").into_bytes()
}

/// Domain of the p2p handshake.
pub fn p2p_namespace(chain_id: &str) -> Vec<u8> {
    format!("CAIRN-P2P-V1/{chain_id}").into_bytes()
}

pub type PublicKey = ed25519::PublicKey;
type Ctx = Context<Digest, PublicKey>;

/// What validators vote and certify with: a simplex certificate scheme whose participants are
/// named by their p2p identity. Commonware's ed25519 scheme, or [`crate::sm2::Scheme`] on
/// `sm2-sm3` chains whose genesis names vote keys.
pub trait VoteScheme: simplex::scheme::Scheme<Digest, PublicKey = PublicKey> + Clone + Send + Sync + 'static {
    /// The hash of the block digests these votes sign.
    const BLOCK_HASH: BlockHash;
}

impl VoteScheme for simplex::scheme::ed25519::Scheme {
    const BLOCK_HASH: BlockHash = BlockHash::Sha256;
}

impl VoteScheme for crate::sm2::Scheme<PublicKey> {
    const BLOCK_HASH: BlockHash = BlockHash::Sm3;
}

pub const CH_VOTES: u64 = 0;
pub const CH_CERTS: u64 = 1;
pub const CH_RESOLVER: u64 = 2;
pub const CH_BACKFILL: u64 = 3;
pub const CH_BROADCAST: u64 = 4;
pub const CH_TXS: u64 = 5;
pub const CH_COSIGN: u64 = 6;

/// How long a leader waits for transactions before proposing an empty block. Below the leader
/// timeout, so an idle network finalizes empty blocks instead of timing out views.
const IDLE_PROPOSE: Duration = Duration::from_secs(1);
/// How often a waiting leader asks the ledger again.
const PROPOSE_POLL: Duration = Duration::from_millis(10);
/// Deepest chain of unknown ancestors replayed before a verdict (bounded work).
const MAX_REPLAY: usize = 256;
/// Finalization certificates kept until their block is delivered.
const MAX_PENDING_CERTIFICATES: usize = 4096;

/// The channels a validator needs, as (sender, receiver) pairs.
pub struct Channels<S, R> {
    pub votes: (S, R),
    pub certs: (S, R),
    pub resolver: (S, R),
    pub backfill: (S, R),
    pub broadcast: (S, R),
    pub txs: (S, R),
    pub cosign: (S, R),
}

fn info_of(b: &ConsensusBlock, digest: Digest) -> BlockInfo {
    BlockInfo { height: b.height.get(), digest: digest.0, parent: b.parent.0, payload: b.payload.clone() }
}

/// Adapts a [`BlockLogic`] to marshal's block-level `Application`.
struct App<V> {
    logic: Logic,
    scheme: std::marker::PhantomData<fn() -> V>,
}

impl<V> Clone for App<V> {
    fn clone(&self) -> Self {
        App { logic: self.logic.clone(), scheme: std::marker::PhantomData }
    }
}

impl<V> App<V> {
    /// Re-executes a block (`BlockLogic::verify`) on a blocking-friendly thread of the runtime,
    /// not on its async workers: a block takes milliseconds to seconds to execute, and a
    /// blocked worker would delay the voter's timers.
    async fn verify_off_workers<E: Spawner>(&self, rt: &E, parent: &BlockInfo, height: u64, payload: &[u8], now_ms: u64) -> bool {
        let logic = Arc::clone(&self.logic);
        let (parent, payload) = (parent.clone(), payload.to_vec());
        rt.child("verify").shared(true).spawn(move |_| async move { logic.verify(&parent, height, &payload, now_ms) }).await.unwrap_or(false)
    }

    /// Builds a block (`BlockLogic::propose`, which executes it) on a blocking-friendly thread,
    /// for the same reason as [`App::verify_off_workers`].
    async fn propose_off_workers<E: Spawner>(&self, rt: &E, parent: &BlockInfo, height: u64, now_ms: u64, allow_empty: bool) -> Option<Vec<u8>> {
        let logic = Arc::clone(&self.logic);
        let parent = parent.clone();
        rt.child("propose").shared(true).spawn(move |_| async move { logic.propose(&parent, height, now_ms, allow_empty) }).await.ok().flatten()
    }

    /// Pulls ancestors until one whose state the logic knows, then replays the unknown ones
    /// (oldest first) through `verify`. `first` is the block the chain starts from.
    async fn ensure_state<E: Spawner>(&self, rt: &E, first: BlockInfo, ancestry: &mut impl Ancestry<ConsensusBlock>, now_ms: u64) -> bool {
        let mut chain = vec![first];
        while !self.logic.has_state(chain.last().expect("non-empty")) {
            if chain.len() > MAX_REPLAY {
                return false;
            }
            let Some(b) = ancestry.next().await else { return false };
            chain.push(info_of(b.inner(), b.digest()));
        }
        // chain = [target, parent, ..., known]; replay from the oldest unknown.
        for i in (1..chain.len()).rev() {
            let (parent, child) = (&chain[i], &chain[i - 1]);
            if !self.verify_off_workers(rt, parent, child.height, &child.payload, now_ms).await {
                return false;
            }
        }
        true
    }
}

fn millis<E: Clock>(e: &E) -> u64 {
    e.current().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

impl<E: Clock + Spawner, V: VoteScheme> Application<E> for App<V> {
    type SigningScheme = V;
    type Context = Ctx;
    type Block = ConsensusBlock;
    type Input = ();

    async fn propose(&mut self, (rt, _ctx): (E, Ctx), mut ancestry: impl Ancestry<ConsensusBlock>, _input: ()) -> Option<Digested<ConsensusBlock>> {
        // The first item is the parent, already verified.
        let parent = ancestry.next().await?;
        let parent_info = info_of(parent.inner(), parent.digest());
        let height = parent.height().next();
        if !self.logic.has_state(&parent_info) {
            let grand = ancestry.next().await?;
            let grand_info = info_of(grand.inner(), grand.digest());
            if !self.ensure_state(&rt, grand_info.clone(), &mut ancestry, millis(&rt)).await
                || !self.verify_off_workers(&rt, &grand_info, parent_info.height, &parent_info.payload, millis(&rt)).await
            {
                return None;
            }
        }
        let started = rt.current();
        let payload = loop {
            let waited = rt.current().duration_since(started).unwrap_or_default();
            if let Some(p) = self.propose_off_workers(&rt, &parent_info, height.get(), millis(&rt), waited >= IDLE_PROPOSE).await {
                break p;
            }
            if waited >= IDLE_PROPOSE {
                return None;
            }
            rt.sleep(PROPOSE_POLL).await;
        };
        if payload.len() > MAX_PAYLOAD {
            return None;
        }
        let commitment = self.logic.commitment(&payload)?;
        let block = ConsensusBlock { parent: parent.digest(), height, commitment, payload, hash: V::BLOCK_HASH };
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(&mut self, (rt, _ctx): (E, Ctx), mut ancestry: impl Ancestry<ConsensusBlock>) -> bool {
        // The block under verification first, then its parent.
        let Some(block) = ancestry.next().await else { return false };
        let Some(parent) = ancestry.next().await else { return false };
        let (b, p) = (block.inner(), parent.inner());
        if b.height.get() != p.height.get() + 1
            || b.parent != parent.digest()
            || b.payload.len() > MAX_PAYLOAD
            || self.logic.commitment(&b.payload) != Some(b.commitment)
        {
            return false;
        }
        let parent_info = info_of(p, parent.digest());
        let now = millis(&rt);
        if !self.logic.has_state(&parent_info) {
            let Some(grand) = ancestry.next().await else { return false };
            let grand_info = info_of(grand.inner(), grand.digest());
            if !self.ensure_state(&rt, grand_info.clone(), &mut ancestry, now).await
                || !self.verify_off_workers(&rt, &grand_info, parent_info.height, &parent_info.payload, now).await
            {
                return false;
            }
        }
        self.verify_off_workers(&rt, &parent_info, b.height.get(), &b.payload, now).await
    }
}

/// Finalization certificates seen, by block digest, until the block is delivered.
#[derive(Clone, Default)]
struct Certificates(Arc<Mutex<BTreeMap<[u8; 32], Vec<u8>>>>);

/// Hands finalized blocks (with their certificates) to the logic; the logic acknowledges them
/// to marshal once durable.
#[derive(Clone)]
struct Finalized {
    logic: Logic,
    certificates: Certificates,
    /// Blocks delivered without a certificate: (height, digest), looked up in marshal's archive.
    missing: futures::channel::mpsc::Sender<(u64, [u8; 32])>,
}

impl Reporter for Finalized {
    type Activity = Update<ConsensusBlock>;
    fn report(&mut self, update: Update<ConsensusBlock>) -> Feedback {
        if let Update::Block(block, ack) = update {
            let info = info_of(block.inner(), block.digest());
            let certificate = self.certificates.0.lock().expect("certificates").remove(&info.digest);
            if certificate.is_none() {
                // Best effort: a full queue leaves the block with a later block's certificate.
                let _ = self.missing.try_send((info.height, info.digest));
            }
            self.logic.finalized(FinalizedBlock { info, certificate }, Ack::new(move || ack.acknowledge()));
        }
        Feedback::Ok
    }
}

/// Consensus activity the ledger cares about: certificates, skipped views, fault evidence.
struct Activities<V> {
    logic: Logic,
    certificates: Certificates,
    scheme: std::marker::PhantomData<fn() -> V>,
}

impl<V> Clone for Activities<V> {
    fn clone(&self) -> Self {
        Activities { logic: self.logic.clone(), certificates: self.certificates.clone(), scheme: std::marker::PhantomData }
    }
}

impl<V: VoteScheme> Reporter for Activities<V> {
    type Activity = Activity<V, Digest>;
    fn report(&mut self, activity: Self::Activity) -> Feedback {
        match activity {
            Activity::Finalization(f) => {
                let mut certs = self.certificates.0.lock().expect("certificates");
                if certs.len() >= MAX_PENDING_CERTIFICATES {
                    certs.pop_first();
                }
                certs.insert(f.proposal.payload.0, f.encode().to_vec());
            }
            Activity::Nullification(_) => self.logic.view_skipped(),
            Activity::ConflictingNotarize(e) => self.logic.fault(format!("conflicting notarize: {e:?}")),
            Activity::ConflictingFinalize(e) => self.logic.fault(format!("conflicting finalize: {e:?}")),
            Activity::NullifyFinalize(e) => self.logic.fault(format!("nullify and finalize: {e:?}")),
            _ => {}
        }
        Feedback::Ok
    }
}

/// Outgoing gossip: (topic, message). Bounded; a full queue drops (gossip is best effort: a
/// transaction stays in the mempool of the node that admitted it, which proposes it itself).
pub type GossipQueue = futures::channel::mpsc::Receiver<(Topic, Vec<u8>)>;

fn archive_config<C>(prefix: &str, name: &str, page_cache: &CacheRef, codec_config: C) -> immutable::Config<C> {
    immutable::Config {
        metadata_partition: format!("{prefix}-{name}-metadata"),
        freezer_table_partition: format!("{prefix}-{name}-freezer-table"),
        freezer_table_initial_size: 64,
        freezer_table_resize_frequency: 10,
        freezer_table_resize_chunk_size: 10,
        freezer_key_partition: format!("{prefix}-{name}-freezer-key"),
        freezer_key_page_cache: page_cache.clone(),
        freezer_value_partition: format!("{prefix}-{name}-freezer-value"),
        freezer_value_target_size: 1 << 20,
        freezer_value_compression: None,
        ordinal_partition: format!("{prefix}-{name}-ordinal"),
        items_per_section: NZU64!(1024),
        freezer_key_write_buffer: NZUsize!(1 << 13),
        freezer_value_write_buffer: NZUsize!(1 << 16),
        ordinal_write_buffer: NZUsize!(1 << 13),
        replay_buffer: NZUsize!(1 << 16),
        codec_config,
    }
}

/// Starts one validator's consensus stack on `ctx` (any Commonware runtime) and `channels`
/// (any Commonware network). `me` is this validator's p2p identity; `scheme` signs its votes
/// (it must be a signer, not a verifier).
#[allow(clippy::too_many_arguments)]
pub async fn start_validator<E, V, S, R, P, B>(
    ctx: E,
    storage_prefix: &str,
    me: PublicKey,
    scheme: V,
    peer_provider: P,
    blocker: B,
    channels: Channels<S, R>,
    logic: Logic,
    gossip_out: GossipQueue,
    validator_order: Vec<PublicKey>,
) where
    E: CryptoRng + Spawner + Metrics + Clock + Storage,
    V: VoteScheme,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
{
    assert!(scheme.me().is_some(), "the vote scheme of a validator signs");
    let provider = ConstantProvider::<_, Epoch>::new(scheme.clone());
    // One fixed committee: an endless epoch (a finite one would re-propose its boundary block).
    let epocher = FixedEpocher::new(NZU64!(u64::MAX));
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(1024));
    let block_cfg = BlockCfg { max_payload: RangeCfg::from(0..=MAX_PAYLOAD), hash: V::BLOCK_HASH };
    let genesis = ConsensusBlock::genesis(V::BLOCK_HASH);
    let certificates = Certificates::default();
    let genesis_digest = genesis.digest();
    let prefix = storage_prefix;

    let finalizations = immutable::Archive::init(
        ctx.child("finalizations_by_height"),
        archive_config(prefix, "finalizations", &page_cache, V::certificate_codec_config_unbounded()),
    )
    .await
    .expect("finalizations archive");
    let blocks =
        immutable::Archive::init(ctx.child("finalized_blocks"), archive_config(prefix, "blocks", &page_cache, block_cfg)).await.expect("blocks archive");

    let (marshal_actor, marshal_mailbox, _floor) = marshal::core::Actor::init(
        ctx.child("marshal"),
        finalizations,
        blocks,
        marshal::Config {
            provider,
            epocher: epocher.clone(),
            start: marshal::Start::Genesis(Digested::precomputed(genesis, genesis_digest)),
            partition_prefix: format!("{prefix}-marshal"),
            mailbox_size: NZUsize!(1024),
            view_retention: ViewDelta::new(10),
            prunable_items_per_section: NZU64!(10),
            page_cache: page_cache.clone(),
            replay_buffer: NZUsize!(1 << 16),
            key_write_buffer: NZUsize!(1 << 13),
            value_write_buffer: NZUsize!(1 << 16),
            block_codec_config: block_cfg,
            max_repair: NZUsize!(10),
            max_pending_acks: NZUsize!(16),
            strategy: Sequential,
        },
    )
    .await;

    let (broadcast, broadcast_mailbox) = buffered::Engine::<_, PublicKey, ConsensusBlock, _, _>::new(
        ctx.child("broadcast"),
        buffered::Config {
            public_key: me.clone(),
            mailbox_size: NZUsize!(1024),
            deque_size: 10,
            priority: false,
            codec_config: block_cfg,
            peer_provider: peer_provider.clone(),
            strategy: Sequential,
        },
    );

    let backfill = marshal_resolver::init(
        ctx.child("backfill"),
        marshal_resolver::Config {
            public_key: me,
            peer_provider,
            blocker: blocker.clone(),
            mailbox_size: NZUsize!(1024),
            fetch_timeout: NZDuration!(Duration::from_secs(2)),
            fetch_retry_delay: Duration::from_millis(100),
            priority_requests: false,
            priority_responses: false,
        },
        channels.backfill,
    );

    let (missing, mut missing_rx) = futures::channel::mpsc::channel::<(u64, [u8; 32])>(MAX_PENDING_CERTIFICATES);
    {
        // Certificates of blocks delivered without one, from marshal's finalization archive
        // (blocks fetched while catching up arrive with their finalization).
        let (archive, logic) = (marshal_mailbox.clone(), logic.clone());
        ctx.child("certificates").spawn(move |_| async move {
            while let Some((height, digest)) = missing_rx.next().await {
                let found: Option<simplex::types::Finalization<V, Digest>> = archive.get_finalization(Height::new(height)).await;
                if let Some(f) = found
                    && f.proposal.payload.0 == digest
                {
                    logic.certificate(height, f.encode().to_vec());
                }
            }
        });
    }
    let inline = Inline::new(ctx.child("application"), App::<V> { logic: logic.clone(), scheme: std::marker::PhantomData }, marshal_mailbox, epocher);
    let engine = simplex::Engine::new(
        ctx.child("consensus"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: Reporters::from((inline, Activities::<V> { logic: logic.clone(), certificates: certificates.clone(), scheme: std::marker::PhantomData })),
            track_historical_votes: false,
            strategy: Sequential,
            partition: format!("{prefix}-consensus"),
            mailbox_size: NZUsize!(1024),
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: NZUsize!(1 << 16),
            write_buffer: NZUsize!(1 << 16),
            page_cache,
            leader_timeout: Duration::from_secs(2),
            certification_timeout: Duration::from_secs(4),
            timeout_retry: Duration::from_secs(10),
            view_retention: ViewDelta::new(10),
            skip: SkipPolicy::Enabled { timeout: Duration::from_secs(11), budget: SkipBudget::Participants },
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
        },
    );

    broadcast.start(channels.broadcast);
    start_gossip(&ctx, validator_order, channels.txs, channels.cosign, gossip_out, logic.clone());
    marshal_actor.start(Finalized { logic, certificates, missing }, broadcast_mailbox, backfill);
    engine.start(channels.votes, channels.certs, channels.resolver);
}

/// One task sends queued gossip to every peer; one per channel hands arrivals to the logic.
/// `order`: the validators in the ledger's order (genesis), which gossip indexes refer to.
fn start_gossip<E, S, R>(ctx: &E, order: Vec<PublicKey>, txs: (S, R), cosign: (S, R), mut out: GossipQueue, logic: Logic)
where
    E: Spawner + Metrics + Clock,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
{
    let (mut tx_sender, tx_receiver) = txs;
    let (mut cosign_sender, cosign_receiver) = cosign;
    ctx.child("gossip_out").spawn(move |_| async move {
        while let Some((topic, message)) = out.next().await {
            let sender = match topic {
                Topic::Transactions => &mut tx_sender,
                Topic::Cosignatures => &mut cosign_sender,
            };
            sender.send(Recipients::All, message, false);
        }
    });
    for (name, topic, mut receiver) in [("gossip_txs", Topic::Transactions, tx_receiver), ("gossip_cosign", Topic::Cosignatures, cosign_receiver)] {
        let logic = logic.clone();
        let order = order.clone();
        ctx.child(name).spawn(move |_| async move {
            while let Ok((from, message)) = receiver.recv().await {
                if let Some(index) = order.iter().position(|p| *p == from) {
                    logic.gossip(index, topic, message.as_ref());
                }
            }
        });
    }
}

/// Keys from seeds, for tests and the local test network.
pub fn test_keys(n: usize) -> (Vec<ed25519::PrivateKey>, Set<PublicKey>) {
    use commonware_utils::TryCollect as _;
    let keys: Vec<_> = (0..n as u64).map(ed25519::PrivateKey::from_seed).collect();
    let set = keys.iter().map(|k| k.public_key()).try_collect().expect("distinct keys");
    (keys, set)
}

//! The per-validator wiring: archives, marshal, buffered broadcast, the back-fill resolver and
//! simplex, generic over the runtime and the network. Start order matters: broadcast, marshal,
//! then consensus.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_actor::Feedback;
use commonware_broadcast::buffered;
use commonware_codec::RangeCfg;
use commonware_consensus::marshal::{self, Update, ancestry::Ancestry, resolver::p2p as marshal_resolver, standard::Inline};
use commonware_consensus::simplex::{
    self, ForwardPolicy, SkipBudget, SkipPolicy, elector::RoundRobin, scheme::ed25519::Scheme as EdScheme, types::{Activity, Context},
};
use commonware_consensus::types::{Epoch, FixedEpocher, ViewDelta};
use commonware_consensus::{Application, Heightable as _, Reporter, Reporters};
use commonware_cryptography::certificate::{ConstantProvider, Verifier as _};
use commonware_cryptography::sha256::{Digest, Sha256};
use commonware_cryptography::{Digested, Digestible, Signer as _, ed25519};
use commonware_p2p::{Blocker, Provider, Receiver, Sender};
use commonware_parallel::Sequential;
use commonware_runtime::buffer::paged::CacheRef;
use commonware_runtime::{Clock, Metrics, Spawner, Storage};
use futures::StreamExt as _;
use commonware_storage::archive::immutable;
use commonware_utils::ordered::Set;
use commonware_utils::{Acknowledgement as _, NZDuration, NZU16, NZU64, NZUsize};
use rand_core::CryptoRng;

use crate::block::ConsensusBlock;
use crate::{BlockLogic, MAX_PAYLOAD};

/// Domain of every consensus signature.
pub const NAMESPACE: &[u8] = b"CAIRN-CONSENSUS-V1";

pub type PublicKey = ed25519::PublicKey;
type Ctx = Context<Digest, PublicKey>;

pub const CH_VOTES: u64 = 0;
pub const CH_CERTS: u64 = 1;
pub const CH_RESOLVER: u64 = 2;
pub const CH_BACKFILL: u64 = 3;
pub const CH_BROADCAST: u64 = 4;

/// The five channels a validator needs, as (sender, receiver) pairs.
pub struct Channels<S, R> {
    pub votes: (S, R),
    pub certs: (S, R),
    pub resolver: (S, R),
    pub backfill: (S, R),
    pub broadcast: (S, R),
}

/// Adapts a [`BlockLogic`] to marshal's block-level `Application`.
#[derive(Clone)]
struct App<L: BlockLogic> {
    logic: L,
}

impl<E: Clock, L: BlockLogic> Application<E> for App<L> {
    type SigningScheme = EdScheme;
    type Context = Ctx;
    type Block = ConsensusBlock;
    type Input = ();

    async fn propose(&mut self, _ctx: (E, Ctx), mut ancestry: impl Ancestry<ConsensusBlock>, _input: ()) -> Option<Digested<ConsensusBlock>> {
        // The first item is the parent, already verified.
        let parent = ancestry.next().await?;
        let height = parent.height().next();
        let payload = self.logic.propose(&parent.inner().info(), height.get())?;
        if payload.len() > MAX_PAYLOAD {
            return None;
        }
        let block = ConsensusBlock { parent: parent.digest(), height, payload };
        let digest = block.digest();
        Some(Digested::precomputed(block, digest))
    }

    async fn verify(&mut self, _ctx: (E, Ctx), mut ancestry: impl Ancestry<ConsensusBlock>) -> bool {
        // The block under verification first, then its parent.
        let Some(block) = ancestry.next().await else { return false };
        let Some(parent) = ancestry.next().await else { return false };
        let (b, p) = (block.inner(), parent.inner());
        b.height.get() == p.height.get() + 1
            && b.parent == parent.digest()
            && b.payload.len() <= MAX_PAYLOAD
            && self.logic.verify(&p.info(), b.height.get(), &b.payload)
    }
}

/// Hands finalized blocks to the logic, then acknowledges them to marshal.
#[derive(Clone)]
struct Finalized<L: BlockLogic> {
    logic: L,
}

impl<L: BlockLogic> Reporter for Finalized<L> {
    type Activity = Update<ConsensusBlock>;
    fn report(&mut self, update: Update<ConsensusBlock>) -> Feedback {
        if let Update::Block(block, ack) = update {
            self.logic.finalized(&block.inner().info());
            ack.acknowledge();
        }
        Feedback::Ok
    }
}

/// Misbehaviour evidence consensus reported (conflicting votes), as text.
#[derive(Clone, Default)]
pub struct FaultLog {
    pub entries: Arc<Mutex<Vec<String>>>,
}

impl Reporter for FaultLog {
    type Activity = Activity<EdScheme, Digest>;
    fn report(&mut self, activity: Self::Activity) -> Feedback {
        let entry = match activity {
            Activity::ConflictingNotarize(e) => Some(format!("conflicting notarize: {e:?}")),
            Activity::ConflictingFinalize(e) => Some(format!("conflicting finalize: {e:?}")),
            Activity::NullifyFinalize(e) => Some(format!("nullify and finalize: {e:?}")),
            _ => None,
        };
        if let Some(e) = entry {
            self.entries.lock().expect("fault log").push(e);
        }
        Feedback::Ok
    }
}

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
        freezer_key_write_buffer: NZUsize!(1 << 12),
        freezer_value_write_buffer: NZUsize!(1 << 16),
        ordinal_write_buffer: NZUsize!(1 << 12),
        replay_buffer: NZUsize!(1 << 16),
        codec_config,
    }
}

/// Starts one validator's consensus stack on `ctx` (any Commonware runtime) and `channels`
/// (any Commonware network).
#[allow(clippy::too_many_arguments)]
pub async fn start_validator<E, S, R, P, B, L>(
    ctx: E,
    storage_prefix: &str,
    signer: ed25519::PrivateKey,
    participants: Set<PublicKey>,
    peer_provider: P,
    blocker: B,
    channels: Channels<S, R>,
    logic: L,
    faults: FaultLog,
) where
    E: CryptoRng + Spawner + Metrics + Clock + Storage,
    S: Sender<PublicKey = PublicKey>,
    R: Receiver<PublicKey = PublicKey>,
    P: Provider<PublicKey = PublicKey>,
    B: Blocker<PublicKey = PublicKey>,
    L: BlockLogic,
{
    let me = signer.public_key();
    let scheme = EdScheme::signer(NAMESPACE, participants, signer).expect("signer is a participant");
    let provider = ConstantProvider::<_, Epoch>::new(scheme.clone());
    // One fixed committee: an endless epoch (a finite one would re-propose its boundary block).
    let epocher = FixedEpocher::new(NZU64!(u64::MAX));
    let page_cache = CacheRef::new(NZU16!(4096), NZUsize!(1024));
    let block_cfg: RangeCfg<usize> = (0..=MAX_PAYLOAD).into();
    let genesis = ConsensusBlock::genesis();
    let genesis_digest = genesis.digest();
    let prefix = storage_prefix;

    let finalizations = immutable::Archive::init(
        ctx.child("finalizations_by_height"),
        archive_config(prefix, "finalizations", &page_cache, EdScheme::certificate_codec_config_unbounded()),
    )
    .await
    .expect("finalizations archive");
    let blocks = immutable::Archive::init(ctx.child("finalized_blocks"), archive_config(prefix, "blocks", &page_cache, block_cfg))
        .await
        .expect("blocks archive");

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
            key_write_buffer: NZUsize!(1 << 12),
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

    let inline = Inline::new(ctx.child("application"), App { logic: logic.clone() }, marshal_mailbox, epocher);
    let engine = simplex::Engine::new(
        ctx.child("consensus"),
        simplex::Config {
            scheme,
            elector: RoundRobin::<Sha256>::default(),
            blocker,
            automaton: inline.clone(),
            relay: inline.clone(),
            reporter: Reporters::from((inline, faults)),
            track_historical_votes: false,
            strategy: Sequential,
            partition: format!("{prefix}-consensus"),
            mailbox_size: NZUsize!(1024),
            epoch: Epoch::zero(),
            floor: simplex::Floor::Genesis(genesis_digest),
            replay_buffer: NZUsize!(1 << 16),
            write_buffer: NZUsize!(1 << 16),
            page_cache,
            leader_timeout: Duration::from_secs(1),
            certification_timeout: Duration::from_secs(2),
            timeout_retry: Duration::from_secs(10),
            view_retention: ViewDelta::new(10),
            skip: SkipPolicy::Enabled { timeout: Duration::from_secs(11), budget: SkipBudget::Participants },
            fetch_timeout: NZDuration!(Duration::from_secs(1)),
            fetch_retry_delay: Duration::from_millis(100),
            forward: ForwardPolicy::Disabled,
        },
    );

    broadcast.start(channels.broadcast);
    marshal_actor.start(Finalized { logic }, broadcast_mailbox, backfill);
    engine.start(channels.votes, channels.certs, channels.resolver);
}

/// Keys from seeds, for tests and the local test network.
pub fn test_keys(n: usize) -> (Vec<ed25519::PrivateKey>, Set<PublicKey>) {
    use commonware_utils::TryCollect as _;
    let keys: Vec<_> = (0..n as u64).map(ed25519::PrivateKey::from_seed).collect();
    let set = keys.iter().map(|k| k.public_key()).try_collect().expect("distinct keys");
    (keys, set)
}

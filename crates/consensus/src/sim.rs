//! A whole validator cluster in Commonware's deterministic runtime, over a simulated network
//! with latency, jitter, loss and partitions. Everything is a function of the seed: the same
//! seed gives the same final runtime state hash, so a failure replays exactly.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use commonware_p2p::simulated::{Config, Link, Network};
use commonware_runtime::{Clock, Quota, Runner as _, Supervisor as _, deterministic};
use commonware_utils::{NZU32, NZUsize, Probability};

use crate::engine::{self, CH_BACKFILL, CH_BROADCAST, CH_CERTS, CH_COSIGN, CH_RESOLVER, CH_TXS, CH_VOTES, Channels};
use crate::{Ack, BlockInfo, BlockLogic, FinalizedBlock, Topic};

/// One validator cut off from all others between two moments of simulated time.
#[derive(Clone, Copy, Debug)]
pub struct Partition {
    pub validator: usize,
    pub from: Duration,
    pub until: Duration,
}

#[derive(Clone, Debug)]
pub struct SimConfig {
    pub seed: u64,
    pub validators: usize,
    /// Stop once every validator has finalized this height (or at `max_time`).
    pub target_height: u64,
    pub latency: Duration,
    pub jitter: Duration,
    /// Percent of messages delivered (0–100).
    pub delivery_percent: u64,
    pub partition: Option<Partition>,
    /// A validator that runs no consensus but answers every vote with a conflicting one as
    /// well (equivocation: Commonware's `conflicter`). Needs the `byzantine` feature.
    pub equivocator: Option<usize>,
    /// Vote with SM2 keys ([`crate::sm2::Scheme`]) instead of the Ed25519 identities.
    pub sm2_votes: bool,
    pub max_time: Duration,
}

impl Default for SimConfig {
    fn default() -> Self {
        SimConfig {
            seed: 0,
            validators: 4,
            target_height: 20,
            latency: Duration::from_millis(50),
            jitter: Duration::from_millis(10),
            delivery_percent: 98,
            partition: None,
            equivocator: None,
            sm2_votes: false,
            max_time: Duration::from_secs(300),
        }
    }
}

#[derive(Clone, Debug)]
pub struct SimReport {
    /// Finalized blocks as each validator's logic saw them, in delivery order.
    pub finalized: Vec<Vec<BlockInfo>>,
    pub faults: Vec<String>,
    /// The deterministic runtime's state hash at the end: equal runs give equal hashes.
    pub state: String,
    pub simulated: Duration,
    /// Each validator's finalized height when a partition healed.
    pub heights_at_heal: Option<Vec<u64>>,
}

/// A [`BlockLogic`] that records finalized blocks and fault evidence, wrapping the one under
/// test.
struct Recording<L> {
    inner: L,
    seen: Arc<Mutex<Vec<BlockInfo>>>,
    faults: Arc<Mutex<Vec<String>>>,
}

impl<L: BlockLogic> BlockLogic for Recording<L> {
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]> {
        self.inner.commitment(payload)
    }
    fn has_state(&self, block: &BlockInfo) -> bool {
        self.inner.has_state(block)
    }
    fn propose(&self, parent: &BlockInfo, height: u64, now_ms: u64, allow_empty: bool) -> Option<Vec<u8>> {
        self.inner.propose(parent, height, now_ms, allow_empty)
    }
    fn verify(&self, parent: &BlockInfo, height: u64, payload: &[u8], now_ms: u64) -> bool {
        self.inner.verify(parent, height, payload, now_ms)
    }
    fn finalized(&self, block: FinalizedBlock, ack: Ack) {
        self.seen.lock().expect("recording").push(block.info.clone());
        self.inner.finalized(block, ack);
    }
    fn certificate(&self, height: u64, certificate: Vec<u8>) {
        self.inner.certificate(height, certificate);
    }
    fn fault(&self, evidence: String) {
        self.faults.lock().expect("faults").push(evidence.clone());
        self.inner.fault(evidence);
    }
    fn view_skipped(&self) {
        self.inner.view_skipped();
    }
    fn gossip(&self, from: usize, topic: Topic, message: &[u8]) {
        self.inner.gossip(from, topic, message);
    }
}

/// Runs `cfg.validators` validators, validator `i` with `logic(i)`, until each finalized
/// `cfg.target_height` (or `cfg.max_time` of simulated time passed).
/// Runs `cfg.validators` validators; `logic(i, gossip)` makes validator i's block logic, which
/// may gossip through `gossip` (over the simulated, lossy links like everything else).
pub fn simulate<L: BlockLogic>(cfg: SimConfig, logic: impl Fn(usize, crate::network::Gossip) -> L + Send + 'static) -> SimReport {
    deterministic::Runner::seeded(cfg.seed).start(|ctx| async move {
        let start = ctx.current();
        let (keys, participants) = engine::test_keys(cfg.validators);
        let (network, oracle) = Network::new_with_peers(
            ctx.child("network"),
            Config { max_size: 1 << 20, max_peers_per_set: NZUsize!(cfg.validators), disconnect_on_block: true, tracked_peer_sets: NZUsize!(1) },
            participants.iter().cloned(),
        )
        .await;
        network.start();
        let link =
            Link { latency: cfg.latency, jitter: cfg.jitter, success_rate: Probability::new(cfg.delivery_percent.min(100), 100).expect("valid probability") };
        // Validator i signs with keys[i]; its network identity must be that key (the set is sorted).
        let ids: Vec<_> = keys.iter().map(commonware_cryptography::Signer::public_key).collect();
        let connect = |a: usize, b: usize| (ids[a].clone(), ids[b].clone());
        for a in 0..cfg.validators {
            for b in 0..cfg.validators {
                if a != b {
                    let (x, y) = connect(a, b);
                    oracle.add_link(x, y, link.clone()).await.expect("link");
                }
            }
        }
        let quota = Quota::per_second(NZU32!(10_000));
        let mut seen = Vec::new();
        let mut fault_logs = Vec::new();
        for (i, key) in keys.into_iter().enumerate() {
            let control = oracle.control(ids[i].clone());
            let channels = Channels {
                votes: control.register(CH_VOTES, quota).await.expect("channel"),
                certs: control.register(CH_CERTS, quota).await.expect("channel"),
                resolver: control.register(CH_RESOLVER, quota).await.expect("channel"),
                backfill: control.register(CH_BACKFILL, quota).await.expect("channel"),
                broadcast: control.register(CH_BROADCAST, quota).await.expect("channel"),
                txs: control.register(CH_TXS, quota).await.expect("channel"),
                cosign: control.register(CH_COSIGN, quota).await.expect("channel"),
            };
            let (gossip, gossip_queue) = crate::network::gossip_pair();
            let recording = Recording { inner: logic(i, gossip), seen: Arc::default(), faults: Arc::default() };
            seen.push(recording.seen.clone());
            fault_logs.push(recording.faults.clone());
            let recording: crate::Logic = Arc::new(recording);
            let namespace = crate::consensus_namespace("sim");
            let (validator, prefix) = (ctx.child("validator").with_attribute("index", i), format!("v{i}"));
            if cfg.sm2_votes {
                let vote_keys = sm2_vote_keys(cfg.validators);
                let pairs = ids.iter().cloned().zip(vote_keys.iter().map(cairn_crypto::KeyPair::public_key)).collect();
                let scheme = crate::sm2::Scheme::signer(&namespace, pairs, vote_keys[i].clone()).expect("participant");
                if cfg.equivocator == Some(i) {
                    start_equivocator(ctx.child("equivocator"), scheme, channels.votes);
                    continue;
                }
                let me = ids[i].clone();
                engine::start_validator(validator, &prefix, me, scheme, oracle.manager(), control, channels, recording, gossip_queue, ids.clone()).await;
            } else {
                use commonware_consensus::simplex::scheme::ed25519::Scheme;
                let scheme = Scheme::signer(&namespace, participants.clone(), key).expect("participant");
                if cfg.equivocator == Some(i) {
                    start_equivocator(ctx.child("equivocator"), scheme, channels.votes);
                    continue;
                }
                let me = ids[i].clone();
                engine::start_validator(validator, &prefix, me, scheme, oracle.manager(), control, channels, recording, gossip_queue, ids.clone()).await;
            }
        }

        let mut cut = false;
        let mut healed = false;
        let mut heights_at_heal = None;
        loop {
            ctx.sleep(Duration::from_millis(100)).await;
            let now = ctx.current().duration_since(start).unwrap_or_default();
            if let Some(p) = cfg.partition {
                if !cut && now >= p.from {
                    cut = true;
                    for other in (0..cfg.validators).filter(|o| *o != p.validator) {
                        let (x, y) = connect(p.validator, other);
                        oracle.remove_link(x.clone(), y.clone()).await.expect("cut");
                        oracle.remove_link(y, x).await.expect("cut");
                    }
                }
                if cut && !healed && now >= p.until {
                    healed = true;
                    heights_at_heal = Some(seen.iter().map(|s| s.lock().expect("recording").last().map_or(0, |b| b.height)).collect());
                    for other in (0..cfg.validators).filter(|o| *o != p.validator) {
                        let (x, y) = connect(p.validator, other);
                        oracle.add_link(x.clone(), y.clone(), link.clone()).await.expect("heal");
                        oracle.add_link(y, x, link.clone()).await.expect("heal");
                    }
                }
            }
            let partition_over = cfg.partition.is_none_or(|p| now >= p.until);
            let done = seen
                .iter()
                .enumerate()
                .filter(|(i, _)| cfg.equivocator != Some(*i))
                .all(|(_, s)| s.lock().expect("recording").last().is_some_and(|b| b.height >= cfg.target_height));
            if (done && partition_over) || now >= cfg.max_time {
                break;
            }
        }
        let finalized = seen.iter().map(|s| s.lock().expect("recording").clone()).collect();
        let faults = fault_logs.iter().flat_map(|f| f.lock().expect("faults").clone()).collect();
        SimReport { finalized, faults, state: ctx.auditor().state(), simulated: ctx.current().duration_since(start).unwrap_or_default(), heights_at_heal }
    })
}

/// The p2p identity (Ed25519 public key) of simulated validator `i`: the key of seed `i`.
pub fn identity(i: u64) -> [u8; 32] {
    use commonware_cryptography::Signer as _;
    commonware_cryptography::ed25519::PrivateKey::from_seed(i).public_key().as_ref().try_into().expect("32-byte key")
}

/// SM2 vote keys of a simulated cluster, from fixed seeds (validator i gets seed i + 1).
pub fn sm2_vote_keys(n: usize) -> Vec<cairn_crypto::KeyPair> {
    (0..n)
        .map(|i| {
            let mut seed = [0u8; 32];
            seed[24..].copy_from_slice(&(i as u64 + 1).to_be_bytes());
            cairn_crypto::KeyPair::from_secret_bytes(cairn_crypto::Suite::Sm2Sm3, &seed).expect("a scalar in 1..n")
        })
        .collect()
}

#[cfg(feature = "byzantine")]
fn start_equivocator<E, V, S, R>(ctx: E, scheme: V, votes: (S, R))
where
    E: Clock + rand_core::CryptoRng + commonware_runtime::Spawner + commonware_runtime::Metrics,
    V: engine::VoteScheme,
    S: commonware_p2p::Sender<PublicKey = engine::PublicKey>,
    R: commonware_p2p::Receiver<PublicKey = engine::PublicKey>,
{
    use commonware_consensus::simplex::mocks::conflicter;
    conflicter::Conflicter::<_, _, commonware_cryptography::sha256::Sha256>::new(ctx, conflicter::Config { scheme }).start(votes);
}

#[cfg(not(feature = "byzantine"))]
fn start_equivocator<E, V, S, R>(_: E, _: V, _: (S, R)) {
    panic!("SimConfig::equivocator needs cairn-consensus's `byzantine` feature");
}

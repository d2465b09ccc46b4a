//! One validator on the real network: Commonware's tokio runtime and `authenticated::lookup`
//! (mutually authenticated by validator key, encrypted, full mesh over the genesis peer set;
//! connections from keys or addresses outside it are refused).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use commonware_codec::DecodeExt as _;
use commonware_cryptography::{ChaCha20Poly1305, Signer as _, ed25519};
use commonware_p2p::{Address, AddressableManager as _, authenticated::lookup};
use commonware_runtime::{Quota, Runner as _, Supervisor as _, tokio};
use commonware_stream::cups::{self, Cups};
use commonware_stream::sake::{self, Sake};
use commonware_utils::ordered::{Map, Set};
use commonware_utils::{NZU32, NZUsize, TryCollect as _};

use crate::engine::{self, CH_BACKFILL, CH_BROADCAST, CH_CERTS, CH_COSIGN, CH_RESOLVER, CH_TXS, CH_VOTES, Channels};
use crate::{Logic, MAX_PAYLOAD, Topic};

/// A validator in the genesis peer set.
#[derive(Clone, Debug)]
pub struct Peer {
    /// Ed25519 consensus public key: the p2p identity (and the vote key with [`Votes::Ed25519`]).
    pub public_key: [u8; 32],
    pub address: SocketAddr,
}

/// What the validators vote and certify with.
#[derive(Clone)]
pub enum Votes {
    /// Their Ed25519 consensus keys (the p2p identities): Commonware's ed25519 scheme.
    Ed25519,
    /// SM2 ([`crate::sm2::Scheme`]): this validator's SM2 vote key, and every validator's SM2
    /// vote public key in the order of [`NetworkConfig::peers`]. The p2p identity stays the
    /// Ed25519 consensus key: Commonware's authenticated network handshakes with it.
    Sm2 { key: Box<cairn_crypto::KeyPair>, keys: Vec<cairn_crypto::PublicKey> },
}

impl std::fmt::Debug for Votes {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Votes::Ed25519 => f.write_str("Ed25519"),
            Votes::Sm2 { keys, .. } => write!(f, "Sm2({} vote keys)", keys.len()),
        }
    }
}

#[derive(Clone, Debug)]
pub struct NetworkConfig {
    pub chain_id: String,
    /// Where consensus keeps its journals and archives.
    pub storage_dir: PathBuf,
    /// This validator's Ed25519 consensus secret key (seed).
    pub secret_key: [u8; 32],
    /// Every validator, this one included.
    pub peers: Vec<Peer>,
    /// Address to listen on (this validator's entry in `peers`, or a wildcard of its port).
    pub listen: SocketAddr,
    /// Worker threads of the consensus runtime.
    pub threads: usize,
    pub votes: Votes,
}

#[derive(Debug, thiserror::Error)]
pub enum NetworkError {
    #[error("invalid consensus key: {0}")]
    Key(String),
    #[error("this node's consensus key is not in the genesis peer set")]
    NotAParticipant,
    #[error("the genesis peer set repeats a key")]
    DuplicatePeer,
    #[error("vote keys: {0}")]
    VoteKeys(String),
    #[error("cannot listen for peers on {addr}: {source} (is another process using the port?)")]
    Listen { addr: SocketAddr, source: std::io::Error },
}

/// Resolves, with the reason, if the p2p network stops while the process runs: the validator
/// can no longer take part and should stop rather than linger as a silent member.
pub type NetworkStopped = futures::channel::oneshot::Receiver<String>;

/// Queue for outgoing gossip.
#[derive(Clone)]
pub struct Gossip {
    queue: futures::channel::mpsc::Sender<(Topic, Vec<u8>)>,
}

impl Gossip {
    /// Sends `message` to every other validator; `false` if the queue is full (dropped).
    pub fn send(&self, topic: Topic, message: Vec<u8>) -> bool {
        self.queue.clone().try_send((topic, message)).is_ok()
    }
}

/// Outgoing gossip messages queued before drops.
const GOSSIP_QUEUE: usize = 4096;

pub fn gossip_pair() -> (Gossip, engine::GossipQueue) {
    let (tx, rx) = futures::channel::mpsc::channel(GOSSIP_QUEUE);
    (Gossip { queue: tx }, rx)
}

/// The public key of a consensus secret key.
pub fn public_key(secret: &[u8; 32]) -> Result<[u8; 32], NetworkError> {
    let sk = ed25519::PrivateKey::decode(secret.to_vec()).map_err(|e| NetworkError::Key(e.to_string()))?;
    Ok(sk.public_key().as_ref().try_into().expect("32-byte key"))
}

/// A validator's vote scheme, built before the runtime starts so that a mistake is an error.
enum VoteScheme {
    Ed25519(commonware_consensus::simplex::scheme::ed25519::Scheme),
    Sm2(crate::sm2::Scheme<ed25519::PublicKey>),
}

fn vote_scheme(
    cfg: &NetworkConfig,
    signer: &ed25519::PrivateKey,
    participants: &Set<ed25519::PublicKey>,
    order: &[ed25519::PublicKey],
) -> Result<VoteScheme, NetworkError> {
    let namespace = crate::consensus_namespace(&cfg.chain_id);
    match &cfg.votes {
        Votes::Ed25519 => commonware_consensus::simplex::scheme::ed25519::Scheme::signer(&namespace, participants.clone(), signer.clone())
            .map(VoteScheme::Ed25519)
            .ok_or(NetworkError::NotAParticipant),
        Votes::Sm2 { key, keys } => {
            if keys.len() != order.len() {
                return Err(NetworkError::VoteKeys(format!("{} vote keys for {} validators", keys.len(), order.len())));
            }
            let pairs = order.iter().cloned().zip(keys.iter().cloned()).collect();
            crate::sm2::Scheme::signer(&namespace, pairs, (**key).clone()).map(VoteScheme::Sm2).map_err(|e| NetworkError::VoteKeys(e.to_string()))
        }
    }
}

/// Starts the validator on its own runtime thread; returns once it runs. The runtime lives as
/// long as the process; the returned receiver fires if its p2p network stops.
pub fn start(cfg: NetworkConfig, logic: Logic, gossip_queue: engine::GossipQueue) -> Result<NetworkStopped, NetworkError> {
    let signer = ed25519::PrivateKey::decode(cfg.secret_key.to_vec()).map_err(|e| NetworkError::Key(e.to_string()))?;
    let me = signer.public_key();
    let mut keys = Vec::with_capacity(cfg.peers.len());
    for p in &cfg.peers {
        keys.push((ed25519::PublicKey::decode(p.public_key.to_vec()).map_err(|e| NetworkError::Key(e.to_string()))?, p.address));
    }
    let participants: Set<ed25519::PublicKey> = keys.iter().map(|(k, _)| k.clone()).try_collect().map_err(|_| NetworkError::DuplicatePeer)?;
    if !participants.iter().any(|k| *k == me) {
        return Err(NetworkError::NotAParticipant);
    }
    let addresses: Map<ed25519::PublicKey, Address> =
        keys.iter().map(|(k, a)| (k.clone(), Address::from(*a))).try_collect().map_err(|_| NetworkError::DuplicatePeer)?;
    let order: Vec<ed25519::PublicKey> = keys.iter().map(|(k, _)| k.clone()).collect();
    let namespace = crate::p2p_namespace(&cfg.chain_id);
    let scheme = vote_scheme(&cfg, &signer, &participants, &order)?;
    let handshake = Cups::<_, ChaCha20Poly1305>::new(
        Sake { signer: signer.clone(), synchrony_bound: Duration::from_secs(5), max_handshake_age: Duration::from_secs(10), version: sake::Version::V1 },
        cups::Version::V1,
    );
    let max_message = (MAX_PAYLOAD + (1 << 20)) as u32;
    // Commonware's listener panics inside its task on a failed bind; try the port here first so
    // the common case (the port is taken) is an error at start-up that names the address.
    drop(std::net::TcpListener::bind(cfg.listen).map_err(|source| NetworkError::Listen { addr: cfg.listen, source })?);
    let (stopped_tx, stopped_rx) = futures::channel::oneshot::channel();
    let p2p = lookup::Config::local(handshake, &namespace, cfg.listen, NZUsize!(cfg.peers.len().max(1)), max_message, NZUsize!(4096));
    let runtime = tokio::Config::new().with_storage_directory(cfg.storage_dir.clone()).with_worker_threads(cfg.threads.max(1));
    std::thread::Builder::new()
        .name("cairn-consensus".into())
        .spawn(move || {
            tokio::Runner::new(runtime).start(|ctx| async move {
                let (mut network, mut oracle) = lookup::Network::new(ctx.child("network"), p2p);
                let _ = oracle.track(0, addresses);
                let quota = Quota::per_second(NZU32!(10_000));
                let channels = Channels {
                    votes: network.register(CH_VOTES, quota),
                    certs: network.register(CH_CERTS, quota),
                    resolver: network.register(CH_RESOLVER, quota),
                    backfill: network.register(CH_BACKFILL, quota),
                    broadcast: network.register(CH_BROADCAST, quota),
                    txs: network.register(CH_TXS, quota),
                    cosign: network.register(CH_COSIGN, quota),
                };
                let network = network.start();
                let validator = ctx.child("validator");
                match scheme {
                    VoteScheme::Ed25519(s) => {
                        engine::start_validator(validator, "cairn", me, s, oracle.clone(), oracle, channels, logic, gossip_queue, order).await
                    }
                    VoteScheme::Sm2(s) => {
                        engine::start_validator(validator, "cairn", me, s, oracle.clone(), oracle, channels, logic, gossip_queue, order).await
                    }
                }
                // The network runs until one of its actors fails (a lost listener, say).
                let why = match network.await {
                    Ok(()) => "the p2p network stopped".to_string(),
                    Err(e) => format!("the p2p network failed: {e:?}"),
                };
                let _ = stopped_tx.send(why);
                futures::future::pending::<()>().await;
            });
        })
        .expect("spawn consensus thread");
    Ok(stopped_rx)
}

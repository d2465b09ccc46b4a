//! A Cairn node: the ledger (admission, block production, durable commit, checkpoints) and
//! its HTTP API. The CLI (`cairn`) is a thin shell over this crate.

pub mod access;
pub mod api;
pub mod config;
pub mod console;
pub mod dev;
mod error;
mod fatal;
pub mod finality;
mod host;
pub mod keys;
pub mod ledger;
pub mod mempool;
pub mod metrics;
pub mod notify;
mod pipeline;
pub mod replay;
pub mod serve;
pub mod sigcache;
mod signed;
pub mod submission;
pub mod twin;

use std::sync::Arc;

pub use config::NodeConfig;
use error::IoContext;
pub use error::{Error, Result};
pub use ledger::Ledger;

/// The node's decoders of peers' and clients' bytes, for the fuzz targets (`crates/fuzz`).
#[doc(hidden)]
pub mod decoders {
    /// A gossiped transaction batch; `Some(count)` when it decodes.
    pub fn gossip_batch(bytes: &[u8]) -> Option<usize> {
        crate::pipeline::consensus::decode_batch(bytes).map(|b| b.len())
    }

    /// A stored consensus record; whether it decodes.
    pub fn consensus_record(bytes: &[u8]) -> bool {
        crate::pipeline::consensus::decode_record(bytes).is_some()
    }

    /// A JSON submission's body; `Ok(count)` of transactions when it parses.
    pub fn submission(body: &[u8], max_txs: usize, max_tx_bytes: usize) -> Result<usize, crate::submission::Refusal> {
        crate::submission::parse(body, max_txs, max_tx_bytes).map(|s| s.items.len())
    }
}

/// The modules this node runs, one factory per module crate. Adding a module is one line here
/// (and its crate); the executor stamps the module's name on its state, indexes and errors.
pub const MODULES: &[cairn_exec::ModuleFactory] =
    &[cairn_module_evidence::module, cairn_module_governance::module, cairn_module_trace::module, cairn_module_registry::module];

/// The `cairn <module> ...` subcommands of the modules that have one (one line per module).
pub const MODULE_CLIS: &[cairn_module::ModuleCli] =
    &[cairn_module_evidence::cli::CLI, cairn_module_governance::cli::CLI, cairn_module_trace::cli::CLI, cairn_module_registry::cli::CLI];

/// The readable view of a state value of a module this binary has, for offline verifiers
/// (`cairn verify --state-proof`): `None` for a module it does not have.
pub fn module_state_view(module: &str, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
    MODULE_CLIS.iter().find(|c| c.module == module).and_then(|c| c.state_view).map(|view| view(key, value))
}

/// The consensus network settings of a validator: its key and listen address from the config,
/// the peer set from genesis. Every mistake is named with its fix.
fn network_config(ledger: &Ledger) -> Result<cairn_consensus::network::NetworkConfig> {
    let config = &ledger.config;
    let genesis = ledger.genesis();
    let Some(cc) = config.consensus.as_ref() else {
        return Err(Error::Config("genesis has a validator set, so the config needs a [consensus] section (key, listen, data)".into()));
    };
    let key = keys::read_key(&cc.key)?;
    if key.suite() != cairn_crypto::Suite::Ed25519Sha256 {
        return Err(Error::Config(format!("consensus key {} must be an ed25519-sha256 key", cc.key.display())));
    }
    let me = genesis.validators.iter().find(|v| v.name == config.validator_name).expect("checked at open");
    if me.consensus_key.as_deref() != Some(key.public_key().to_hex().as_str()) {
        return Err(Error::Config(format!("consensus key {} is not validator {}'s consensus_key in genesis", cc.key.display(), me.name)));
    }
    let peers = genesis
        .validators
        .iter()
        .map(|v| {
            let address = v.p2p_address.as_deref().unwrap_or_default().parse().expect("validated genesis");
            cairn_consensus::network::Peer { public_key: v.consensus_key_bytes().expect("validated genesis"), address }
        })
        .collect();
    let votes = votes(genesis, me, cc)?;
    std::fs::create_dir_all(&cc.data).io_context(|| format!("creating {}", cc.data.display()))?;
    Ok(cairn_consensus::network::NetworkConfig {
        chain_id: genesis.chain_id.clone(),
        storage_dir: cc.data.clone(),
        secret_key: key.secret_bytes(),
        peers,
        listen: cc.listen,
        threads: cc.threads,
        votes,
    })
}

/// What this validator votes with: its Ed25519 consensus key, or (genesis names vote keys) its
/// SM2 vote key from `consensus.vote_key`.
fn votes(
    genesis: &cairn_types::genesis::Genesis,
    me: &cairn_types::genesis::ValidatorInfo,
    cc: &config::ConsensusConfig,
) -> Result<cairn_consensus::network::Votes> {
    if !genesis.sm2_votes() {
        if let Some(path) = &cc.vote_key {
            return Err(Error::Config(format!(
                "consensus.vote_key {} is set, but genesis names no vote keys (its validators vote with their consensus keys): remove it",
                path.display()
            )));
        }
        return Ok(cairn_consensus::network::Votes::Ed25519);
    }
    let Some(path) = &cc.vote_key else {
        return Err(Error::Config(format!("genesis names SM2 vote keys, so [consensus] needs vote_key (validator {}'s SM2 key file)", me.name)));
    };
    let key = keys::read_key(path)?;
    if key.suite() != cairn_crypto::Suite::Sm2Sm3 {
        return Err(Error::Config(format!("vote key {} must be an sm2-sm3 key", path.display())));
    }
    if me.vote_key.as_deref().map(str::to_ascii_lowercase) != Some(key.public_key().to_hex()) {
        return Err(Error::Config(format!("vote key {} is not validator {}'s vote_key in genesis", path.display(), me.name)));
    }
    let keys = genesis
        .validators
        .iter()
        .map(|v| cairn_crypto::PublicKey::from_hex(cairn_crypto::Suite::Sm2Sm3, v.vote_key.as_deref().expect("validated genesis")).expect("validated genesis"))
        .collect();
    Ok(cairn_consensus::network::Votes::Sm2 { key: Box::new(key), keys })
}

/// A running node: its ledger, block producer and HTTP server.
pub struct RunningNode {
    pub ledger: Arc<Ledger>,
    pub addr: std::net::SocketAddr,
    producer: Option<std::thread::JoinHandle<()>>,
    server: tokio::task::JoinHandle<std::io::Result<()>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    network_stopped: Option<cairn_consensus::network::NetworkStopped>,
}

impl RunningNode {
    /// Opens the ledger, starts the producer and binds the API (inside a tokio runtime).
    pub async fn start(config: NodeConfig) -> Result<Self> {
        Self::start_with(config, MODULES).await
    }

    /// [`RunningNode::start`] running the modules of `modules`.
    pub async fn start_with(config: NodeConfig, modules: &'static [cairn_exec::ModuleFactory]) -> Result<Self> {
        let listen = config.listen;
        let ledger = tokio::task::spawn_blocking(move || Ledger::open_with(config, modules))
            .await
            .map_err(|source| Error::Task { what: "opening the ledger", source })??;
        let listener = tokio::net::TcpListener::bind(listen).await.io_context(|| format!("binding the API to {listen}"))?;
        let addr = listener.local_addr().io_context(|| format!("reading the address the API is bound to ({listen})"))?;
        let (producer, network_stopped) = if ledger.is_replicated() {
            let net = network_config(&ledger)?;
            let addresses = ledger.genesis().validators.iter().filter_map(|v| v.address.clone()).filter(|a| !twin::is_own(a, addr)).collect();
            twin::check_no_twin(&ledger.config.validator_name, ledger.instance, addresses).await?;
            (None, Some(ledger.start_replica(net)?))
        } else {
            (Some(ledger.spawn_producer()?), None)
        };
        let tls = match ledger.config.tls.as_ref() {
            Some(t) => Some(serve::tls_acceptor(&t.cert, &t.key).map_err(Error::Config)?),
            None => None,
        };
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let app = api::router(Arc::clone(&ledger))?;
        let fd_limit = serve::raise_fd_limit();
        let limits = ledger.config.limits.clone();
        let max_connections = serve::connection_cap(&limits, fd_limit);
        tracing::info!(fd_limit = ?fd_limit, max_connections, tls = tls.is_some(), access = ?ledger.config.access.mode, "serving the API");
        ledger.metrics.api_max_connections.set(max_connections as i64);
        let server = tokio::spawn(async move {
            serve::serve(listener, app, &limits, max_connections, tls, async {
                let _ = stopped.await;
            })
            .await
        });
        Ok(RunningNode { ledger, addr, producer, server, stop: Some(stop), network_stopped })
    }

    /// Resolves with the reason if the node can no longer do its job (a stage failed: see
    /// `fatal.rs`; a validator's p2p network stopped); never resolves for a healthy node.
    pub async fn failed(&mut self) -> String {
        let network = async {
            match self.network_stopped.as_mut() {
                Some(rx) => match rx.await {
                    Ok(why) => why,
                    Err(_) => "the consensus runtime stopped".to_string(),
                },
                None => std::future::pending().await,
            }
        };
        tokio::select! {
            why = network => why,
            why = self.ledger.failed() => why,
        }
    }

    /// Stops serving, lets the producer finish its block, and closes the store.
    pub async fn shutdown(mut self) -> Result<()> {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        let _ = (&mut self.server).await;
        self.ledger.stop();
        if let Some(p) = self.producer.take() {
            let _ = tokio::task::spawn_blocking(move || p.join()).await;
        }
        Ok(())
    }
}

//! Node configuration (TOML) and the data directory layout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NodeConfig {
    /// HTTP API address.
    pub listen: SocketAddr,
    /// Genesis file; relative paths are relative to the config file's folder.
    pub genesis: PathBuf,
    /// This validator's name in genesis.
    pub validator_name: String,
    /// This validator's checkpoint-signing key file.
    pub validator_key: PathBuf,
    /// Database folder.
    pub db: PathBuf,
    #[serde(default)]
    pub limits: Limits,
    /// Who may read what (`open` unless set).
    #[serde(default, skip_serializing_if = "AccessConfig::is_default")]
    pub access: AccessConfig,
    /// TLS for the API; without it the API is plain HTTP (fine on loopback, as `cairn dev`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<TlsConfig>,
    /// Consensus settings; required when genesis has more than one validator.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consensus: Option<ConsensusConfig>,
    /// A member key of this node's organisation that the node signs transactions with for
    /// clients of a standard's binding who cannot sign them (EPCIS 2.0 capture at `/epcis`).
    /// Without it those bindings only read. `cairn dev` and `cairn testnet init` name the
    /// submitter key.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_key: Option<PathBuf>,
    /// The URL clients reach this node's API at (`https://registry.example.gov`), written into
    /// the credentials it issues (their ids and status list URLs). Without it: the scheme the
    /// node serves and the request's `Host`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub public_url: Option<String>,
}

/// Who may read the API.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct AccessConfig {
    pub mode: AccessMode,
    /// Member keys (hex) this node refuses at once, before governance removes them chain-wide
    /// (a leaked key): their signatures and every token they issued.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub deny_keys: Vec<String>,
}

impl AccessConfig {
    fn is_default(&self) -> bool {
        *self == AccessConfig::default()
    }
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AccessMode {
    /// Anyone who reaches the port reads everything (the `cairn dev` default).
    #[default]
    Open,
    /// Reads need a member's signature or an access token, except the public routes (health,
    /// trust file, checkpoints, consistency proofs, the console's files).
    Members,
}

/// The API's certificate chain and private key, PEM files.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TlsConfig {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// This validator's place in the consensus network.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConsensusConfig {
    /// Ed25519 consensus key file (`cairn-key-v1`, suite ed25519-sha256).
    pub key: PathBuf,
    /// p2p listen address.
    pub listen: SocketAddr,
    /// Consensus runtime state (journals, finalized block archive).
    pub data: PathBuf,
    /// Worker threads of the consensus runtime.
    #[serde(default = "default_threads")]
    pub threads: usize,
    /// SM2 vote key file (`cairn-key-v1`, suite sm2-sm3): required when genesis names vote keys
    /// (`vote_key`), to be this validator's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub vote_key: Option<PathBuf>,
}

fn default_threads() -> usize {
    2
}

/// Node-local bounds (not consensus-critical).
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct Limits {
    /// Transactions the mempool holds before it answers 503.
    pub mempool_max_txs: usize,
    /// Bytes the mempool holds before it answers 503.
    pub mempool_max_bytes: usize,
    /// Largest HTTP request body.
    pub max_request_bytes: usize,
    /// Transactions in one submit request.
    pub max_txs_per_request: usize,
    /// Longest a `wait=true` submit waits for its commit.
    pub max_wait_ms: u64,
    /// Open API connections at most (also kept below the open-file limit, see `serve.rs`).
    pub max_connections: usize,
    /// Open API connections from one client address at most; beyond, the connection is
    /// answered `429 too-many-connections` and closed (one client cannot take every slot).
    pub max_connections_per_client: usize,
    /// Time a client has to send a request's headers; also how long an idle keep-alive
    /// connection stays open.
    pub header_timeout_ms: u64,
    /// Time a client has to send a request's body.
    pub body_timeout_ms: u64,
    /// Request-body bytes being received at once, over all requests; beyond, `503 busy`.
    pub max_inflight_request_bytes: usize,
    /// Requests a second from one client address (bursts of twice that); beyond, `429
    /// rate-limited`.
    pub max_requests_per_client_per_s: u32,
    /// Share of the mempool one organisation may hold, in percent, when genesis has more than
    /// one; beyond, `429 organisation-share` (its own transactions must drain first).
    pub mempool_max_org_percent: u8,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            mempool_max_txs: 200_000,
            mempool_max_bytes: 512 << 20,
            max_request_bytes: 64 << 20,
            max_txs_per_request: 10_000,
            max_wait_ms: 30_000,
            max_connections: 4096,
            max_connections_per_client: 512,
            header_timeout_ms: 10_000,
            body_timeout_ms: 30_000,
            max_inflight_request_bytes: 256 << 20,
            mempool_max_org_percent: 50,
            max_requests_per_client_per_s: 5000,
        }
    }
}

impl Limits {
    /// Every limit must let something through: a zero would refuse all work (or, for the
    /// mempool, panic), so it is a configuration mistake, named with its key.
    pub fn check(&self) -> std::result::Result<(), String> {
        let zero = [
            ("mempool_max_txs", self.mempool_max_txs as u64),
            ("mempool_max_bytes", self.mempool_max_bytes as u64),
            ("max_request_bytes", self.max_request_bytes as u64),
            ("max_txs_per_request", self.max_txs_per_request as u64),
            ("max_wait_ms", self.max_wait_ms),
            ("max_connections", self.max_connections as u64),
            ("max_connections_per_client", self.max_connections_per_client as u64),
            ("header_timeout_ms", self.header_timeout_ms),
            ("body_timeout_ms", self.body_timeout_ms),
            ("max_inflight_request_bytes", self.max_inflight_request_bytes as u64),
            ("mempool_max_org_percent", u64::from(self.mempool_max_org_percent)),
            ("max_requests_per_client_per_s", u64::from(self.max_requests_per_client_per_s)),
        ]
        .into_iter()
        .find(|(_, v)| *v == 0);
        if let Some((key, _)) = zero {
            return Err(format!("[limits] {key} = 0 would refuse everything; give a positive value or leave it out for the default"));
        }
        if self.max_request_bytes > u32::MAX as usize {
            return Err("[limits] max_request_bytes is at most 4 GiB - 1".into());
        }
        if self.mempool_max_org_percent > 100 {
            return Err("[limits] mempool_max_org_percent is a percentage: 1 to 100".into());
        }
        if self.max_inflight_request_bytes < self.max_request_bytes {
            return Err("[limits] max_inflight_request_bytes is below max_request_bytes: the largest request could never be received".into());
        }
        Ok(())
    }
}

impl NodeConfig {
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).io_context(|| format!("reading config {}", path.display()))?;
        let mut c: NodeConfig = toml::from_str(&text).map_err(|source| Error::ConfigSyntax { path: path.to_path_buf(), source })?;
        let base = path.parent().unwrap_or(Path::new("."));
        let mut paths = vec![&mut c.genesis, &mut c.validator_key, &mut c.db];
        if let Some(tls) = c.tls.as_mut() {
            paths.push(&mut tls.cert);
            paths.push(&mut tls.key);
        }
        if let Some(cc) = c.consensus.as_mut() {
            paths.push(&mut cc.key);
            paths.push(&mut cc.data);
            if let Some(vote_key) = cc.vote_key.as_mut() {
                paths.push(vote_key);
            }
        }
        if let Some(agent) = c.agent_key.as_mut() {
            paths.push(agent);
        }
        for p in paths {
            if p.is_relative() {
                *p = base.join(&*p);
            }
        }
        Ok(c)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("config serialises")
    }
}

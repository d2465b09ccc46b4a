//! Node configuration (TOML) and the data directory layout.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use anyhow::Context;
use serde::{Deserialize, Serialize};

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
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            mempool_max_txs: 200_000,
            mempool_max_bytes: 512 << 20,
            max_request_bytes: 64 << 20,
            max_txs_per_request: 10_000,
            max_wait_ms: 30_000,
        }
    }
}

impl NodeConfig {
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| format!("reading config {}", path.display()))?;
        let mut c: NodeConfig = toml::from_str(&text).with_context(|| format!("config {} is invalid", path.display()))?;
        let base = path.parent().unwrap_or(Path::new("."));
        for p in [&mut c.genesis, &mut c.validator_key, &mut c.db] {
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

//! `cairn dev`: create (first run) or reopen a single-node chain in a data folder.
//!
//! Layout: `config.toml`, `genesis.json`, `trust.json`, `keys/validator.key`,
//! `keys/submitter.key`, `db/`.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

use cairn_crypto::{KeyPair, Suite};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};

use crate::config::{Limits, NodeConfig};
use crate::error::{Error, IoContext, Result};

pub struct DevPaths {
    pub config: PathBuf,
    pub genesis: PathBuf,
    pub trust: PathBuf,
    pub submitter_key: PathBuf,
    pub validator_key: PathBuf,
}

impl DevPaths {
    pub fn new(dir: &Path) -> Self {
        DevPaths {
            config: dir.join("config.toml"),
            genesis: dir.join("genesis.json"),
            trust: dir.join("trust.json"),
            submitter_key: dir.join("keys/submitter.key"),
            validator_key: dir.join("keys/validator.key"),
        }
    }
}

/// Parameters of a chain made by `cairn dev` or `cairn testnet init`: the core's defaults and
/// each module's own, evidence with digest state on (a dev or test chain shows everything) and
/// governance on with its default policy.
pub fn chain_params() -> Params {
    let evidence = cairn_module_evidence::EvidenceParams { digest_state: true, ..Default::default() };
    let governance = cairn_module_governance::GovernanceParams::default();
    Params::with_modules(
        [(cairn_module_evidence::wire::MODULE.to_string(), evidence.to_json()), (cairn_module_governance::MODULE.to_string(), governance.to_json())].into(),
    )
}

/// Creates the data folder's chain on first use; returns its paths. On later runs it leaves
/// genesis and keys alone (the suite is fixed at creation) and only updates the listen address.
pub fn init_dev(dir: &Path, listen: SocketAddr, suite: Suite) -> Result<(DevPaths, bool)> {
    let paths = DevPaths::new(dir);
    if paths.config.exists() {
        let mut cfg = NodeConfig::load(&paths.config)?;
        let genesis = Genesis::from_json(&std::fs::read(&cfg.genesis).io_context(|| format!("reading genesis {}", cfg.genesis.display()))?)?;
        if genesis.suite != suite {
            tracing::warn!(existing = %genesis.suite, requested = %suite, "data folder already holds a chain; keeping its suite");
        }
        // A folder made before agent keys: its submitter key becomes the agent (EPCIS capture).
        let add_agent = cfg.agent_key.is_none() && paths.submitter_key.exists();
        if cfg.listen != listen || add_agent {
            cfg.listen = listen;
            let text = std::fs::read_to_string(&paths.config).io_context(|| format!("reading config {}", paths.config.display()))?;
            let mut doc: toml::Table = toml::from_str(&text).map_err(|source| Error::ConfigSyntax { path: paths.config.clone(), source })?;
            doc.insert("listen".into(), toml::Value::String(listen.to_string()));
            if add_agent {
                doc.insert("agent_key".into(), toml::Value::String("keys/submitter.key".into()));
            }
            write_atomic(&paths.config, toml::to_string_pretty(&doc)?.as_bytes())?;
        }
        return Ok((paths, false));
    }
    std::fs::create_dir_all(dir).io_context(|| format!("creating data folder {}", dir.display()))?;
    let validator = KeyPair::generate(suite);
    let submitter = KeyPair::generate(suite);
    // Key files are created new; a half-finished earlier init is reported, not overwritten.
    crate::keys::write_key(&paths.validator_key, &validator)?;
    crate::keys::write_key(&paths.submitter_key, &submitter)?;
    let mut tag = [0u8; 4];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut tag);
    let genesis = Genesis {
        chain_id: format!("cairn-dev-{}", hex::encode(tag)),
        suite,
        genesis_time_ms: crate::ledger::now_ms(),
        organisations: vec![Organisation {
            id: "dev-org".into(),
            name: "Development Organisation".into(),
            members: vec![submitter.public_key().to_hex()],
            roles: Default::default(),
        }],
        validators: vec![ValidatorInfo {
            name: "validator-1".into(),
            organisation: "dev-org".into(),
            public_key: validator.public_key().to_hex(),
            address: None,
            consensus_key: None,
            vote_key: None,
            p2p_address: None,
        }],
        params: chain_params(),
    };
    genesis.validate()?;
    write_atomic(&paths.genesis, genesis.to_json().as_bytes())?;
    write_atomic(&paths.trust, serde_json::to_string_pretty(&genesis.trust_file())?.as_bytes())?;
    let cfg = NodeConfig {
        listen,
        genesis: "genesis.json".into(),
        validator_name: "validator-1".into(),
        validator_key: "keys/validator.key".into(),
        db: "db".into(),
        limits: Limits::default(),
        access: Default::default(),
        tls: None,
        consensus: None,
        agent_key: Some("keys/submitter.key".into()),
        public_url: None,
    };
    // The config is written last: its presence marks a complete data folder.
    write_atomic(&paths.config, cfg.to_toml().as_bytes())?;
    Ok((paths, true))
}

/// Writes via a temporary file and rename, so a crash leaves the old file or the new one.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write as _;
        let mut f = std::fs::File::create(&tmp).io_context(|| format!("writing {}", tmp.display()))?;
        f.write_all(bytes).and_then(|()| f.sync_all()).io_context(|| format!("writing {}", tmp.display()))?;
    }
    std::fs::rename(&tmp, path).io_context(|| format!("renaming {} to {}", tmp.display(), path.display()))?;
    Ok(())
}

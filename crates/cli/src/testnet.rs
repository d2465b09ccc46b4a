//! `cairn testnet init|up`: a consortium of N validators on this machine, for a local try-out
//! and for the multi-process tests and benchmarks.
//!
//! Layout of DIR: `genesis.json`, `trust.json`, and per validator `validator-<i>/` with
//! `config.toml`, `keys/{validator,consensus,submitter}.key` (and `keys/vote.key`, the SM2 vote
//! key, on `sm2-sm3` chains), `db/`, `consensus/`, `node.log`.

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};
use cairn_crypto::{KeyPair, Suite};
use cairn_node::config::{ConsensusConfig, Limits, NodeConfig};
use cairn_node::dev::write_atomic;
use cairn_node::keys::write_key;
use cairn_types::genesis::{Genesis, Organisation, ValidatorInfo};

pub struct InitOptions {
    pub validators: usize,
    pub suite: Suite,
    pub p2p_base_port: u16,
    pub api_base_port: u16,
}

pub fn validator_dir(dir: &Path, i: usize) -> PathBuf {
    dir.join(format!("validator-{i}"))
}

pub fn init(dir: &Path, o: &InitOptions) -> anyhow::Result<Genesis> {
    if o.validators == 0 || o.validators > 100 {
        bail!("--validators must be 1 to 100");
    }
    let genesis_path = dir.join("genesis.json");
    if genesis_path.exists() {
        bail!("{} exists: this folder already holds a test network (use another --dir or delete it)", genesis_path.display());
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let localhost = IpAddr::V4(Ipv4Addr::LOCALHOST);
    let mut organisations = Vec::new();
    let mut validators = Vec::new();
    for i in 1..=o.validators {
        let vdir = validator_dir(dir, i);
        let validator = KeyPair::generate(o.suite);
        let consensus = KeyPair::generate(Suite::Ed25519Sha256);
        let submitter = KeyPair::generate(o.suite);
        write_key(&vdir.join("keys/validator.key"), &validator)?;
        write_key(&vdir.join("keys/consensus.key"), &consensus)?;
        write_key(&vdir.join("keys/submitter.key"), &submitter)?;
        // An sm2-sm3 chain votes in SM2 too (the p2p identity stays the Ed25519 consensus key).
        let vote = (o.suite == Suite::Sm2Sm3).then(|| KeyPair::generate(Suite::Sm2Sm3));
        if let Some(vote) = &vote {
            write_key(&vdir.join("keys/vote.key"), vote)?;
        }
        organisations.push(Organisation {
            id: format!("org-{i}"),
            name: format!("Organisation {i}"),
            members: vec![submitter.public_key().to_hex()],
            roles: Default::default(),
        });
        validators.push(ValidatorInfo {
            name: format!("validator-{i}"),
            organisation: format!("org-{i}"),
            public_key: validator.public_key().to_hex(),
            address: Some(format!("http://{}", SocketAddr::new(localhost, o.api_base_port + i as u16 - 1))),
            consensus_key: Some(consensus.public_key().to_hex()),
            vote_key: vote.as_ref().map(|k| k.public_key().to_hex()),
            p2p_address: Some(SocketAddr::new(localhost, o.p2p_base_port + i as u16 - 1).to_string()),
        });
    }
    let mut tag = [0u8; 4];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut tag);
    let genesis = Genesis {
        chain_id: format!("cairn-testnet-{}", hex::encode(tag)),
        suite: o.suite,
        genesis_time_ms: cairn_node::ledger::now_ms(),
        organisations,
        validators,
        params: cairn_node::dev::chain_params(),
    };
    genesis.validate()?;
    for i in 1..=o.validators {
        let config = NodeConfig {
            listen: SocketAddr::new(localhost, o.api_base_port + i as u16 - 1),
            genesis: "../genesis.json".into(),
            validator_name: format!("validator-{i}"),
            validator_key: "keys/validator.key".into(),
            db: "db".into(),
            limits: Limits::default(),
            access: Default::default(),
            tls: None,
            consensus: Some(ConsensusConfig {
                key: "keys/consensus.key".into(),
                listen: SocketAddr::new(localhost, o.p2p_base_port + i as u16 - 1),
                data: "consensus".into(),
                threads: 2,
                vote_key: (o.suite == Suite::Sm2Sm3).then(|| "keys/vote.key".into()),
            }),
            agent_key: Some("keys/submitter.key".into()),
            public_url: None,
        };
        write_atomic(&validator_dir(dir, i).join("config.toml"), config.to_toml().as_bytes())?;
    }
    write_atomic(&dir.join("trust.json"), (serde_json::to_string_pretty(&genesis.trust_file())? + "\n").as_bytes())?;
    // Genesis last: its presence marks a complete folder.
    write_atomic(&genesis_path, genesis.to_json().as_bytes())?;
    Ok(genesis)
}

/// Starts `cairn node` for every validator of DIR; stops them all on Ctrl-C.
pub fn up(dir: &Path) -> anyhow::Result<()> {
    let genesis_path = dir.join("genesis.json");
    let genesis =
        Genesis::from_json(&std::fs::read(&genesis_path).with_context(|| format!("reading {} (run `cairn testnet init` first)", genesis_path.display()))?)?;
    let exe = std::env::current_exe().context("locating the cairn binary")?;
    let mut children: Vec<(String, Child)> = Vec::new();
    for (i, v) in genesis.validators.iter().enumerate() {
        let vdir = validator_dir(dir, i + 1);
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(vdir.join("node.log"))
            .with_context(|| format!("opening {}/node.log", vdir.display()))?;
        let child = Command::new(&exe)
            .args(["node", "--config"])
            .arg(vdir.join("config.toml"))
            .stdin(Stdio::null())
            .stdout(log.try_clone()?)
            .stderr(log)
            .spawn()
            .with_context(|| format!("starting {}", v.name))?;
        println!(
            "  {:<14} API {}  p2p {}  log {}",
            v.name,
            v.address.as_deref().unwrap_or("-"),
            v.p2p_address.as_deref().unwrap_or("-"),
            vdir.join("node.log").display()
        );
        children.push((v.name.clone(), child));
    }
    println!(
        "Cairn test network {} ({} validators, {}): trust file {}",
        genesis.chain_id,
        genesis.validators.len(),
        genesis.suite,
        dir.join("trust.json").display()
    );
    println!("Press Ctrl-C to stop them all.");
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
    let mut exited = None;
    rt.block_on(async {
        let mut tick = tokio::time::interval(std::time::Duration::from_millis(500));
        loop {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => break,
                _ = tick.tick() => {
                    for (name, c) in children.iter_mut() {
                        if let Ok(Some(status)) = c.try_wait() {
                            exited = Some(format!("{name} exited ({status}); see its node.log"));
                        }
                    }
                    if exited.is_some() {
                        break;
                    }
                }
            }
        }
    });
    eprintln!("stopping…");
    for (_, c) in children.iter_mut() {
        // SIGINT: each node stops the way Ctrl-C stops it.
        unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
    }
    for (name, mut c) in children {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        loop {
            match c.try_wait()? {
                Some(_) => break,
                None if std::time::Instant::now() > deadline => {
                    eprintln!("{name} did not stop in 10 s; killing it");
                    let _ = c.kill();
                    let _ = c.wait();
                    break;
                }
                None => std::thread::sleep(std::time::Duration::from_millis(50)),
            }
        }
    }
    match exited {
        Some(why) => bail!(why),
        None => Ok(()),
    }
}

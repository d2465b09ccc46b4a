//! `cairn-testkit`: a Cairn node with the test module (`dev`, as `cairn dev`) and a client
//! that writes one value (`put`). For tests only.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use anyhow::{Context, bail};
use cairn_crypto::Suite;
use cairn_node::{NodeConfig, RunningNode};
use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cairn-testkit", about = "A Cairn node with the test kit's module (tests only)")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Create or reopen a single-node development chain with the test module, and serve it.
    Dev {
        #[arg(long, default_value = "./cairn-testkit-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
    },
    /// Put one value under a key (`testkit.put`), signed with a member key.
    Put {
        #[arg(long)]
        node: String,
        #[arg(long)]
        key: PathBuf,
        /// Wait until the transaction is committed.
        #[arg(long)]
        wait: bool,
        name: String,
        value: String,
    },
}

fn main() -> anyhow::Result<()> {
    match Cli::parse().command {
        Command::Dev { data_dir, listen, suite } => {
            let (paths, _) = cairn_node::dev::init_dev(&data_dir, listen, suite)?;
            let config = NodeConfig::load(&paths.config)?;
            tokio::runtime::Runtime::new()?.block_on(async move {
                let node = RunningNode::start_with(config, cairn_test_kit::MODULES).await?;
                println!("cairn-testkit node at http://{}/", node.addr);
                tokio::signal::ctrl_c().await?;
                anyhow::Ok(node.shutdown().await?)
            })
        }
        Command::Put { node, key, wait, name, value } => put(&node, &key, wait, &name, &value),
    }
}

fn put(node: &str, key_file: &std::path::Path, wait: bool, name: &str, value: &str) -> anyhow::Result<()> {
    let key = cairn_node::keys::read_key(key_file)?;
    let client = reqwest::blocking::Client::builder().timeout(Duration::from_secs(30)).build()?;
    let status: serde_json::Value = client.get(format!("{node}/v1/status")).send()?.error_for_status()?.json()?;
    let chain_id = status["chain_id"].as_str().context("status lacks chain_id")?;
    let now_ms = SystemTime::now().duration_since(UNIX_EPOCH)?.as_millis() as u64;
    let tx = cairn_test_kit::sign_put(&key, chain_id, name, value, now_ms, 60_000);
    let url = format!("{node}/v1/transactions{}", if wait { "?wait=true" } else { "" });
    let resp = client.post(url).header("content-type", "application/json").body(serde_json::to_string(&hex::encode(tx.encode()))?).send()?;
    let code = resp.status();
    let text = resp.text()?;
    if !code.is_success() {
        bail!("{code}: {text}");
    }
    println!("{text}");
    Ok(())
}

//! A stage that cannot go on stops the node without exiting the process: the reason reaches
//! `RunningNode::failed` (the binary then exits non-zero), `/healthz` and submissions answer
//! `503 node-stopped`, and what was committed before stays readable.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cairn_crypto::Suite;
use cairn_module_evidence::wire::{DigestAlg, RecordInput};
use cairn_node::ledger::{SubmitError, TxStatus};
use cairn_node::{NodeConfig, RunningNode};

fn now_ms() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).unwrap().as_millis() as u64
}

fn record(n: u8) -> RecordInput {
    RecordInput {
        digest_alg: DigestAlg::Sha256,
        digest: [n; 32],
        size: 1,
        media_type: "text/plain".into(),
        title: format!("file {n}"),
        reference: None,
        metadata: Default::default(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_stage_stops_the_node_and_says_why() {
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = cairn_node::dev::init_dev(dir.path(), "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    let mut node = RunningNode::start(NodeConfig::load(&paths.config).unwrap()).await.unwrap();
    let key = cairn_node::keys::read_key(&paths.submitter_key).unwrap();
    let chain = node.ledger.genesis().chain_id.clone();
    let deposit = |n| cairn_module_evidence::cli::sign_deposit(&key, &chain, vec![record(n)], now_ms() + 60_000).encode();
    let health = format!("http://{}/healthz", node.addr);

    let first = deposit(1);
    let id = node.ledger.submit(std::slice::from_ref(&first))[0].as_ref().expect("admitted").id;
    let committed = tokio::time::timeout(Duration::from_secs(10), node.ledger.watch(id).expect("room to wait")).await.expect("committed in time").unwrap();
    assert!(matches!(committed, cairn_node::ledger::TxOutcome::Committed(_)));
    assert_eq!(reqwest::get(&health).await.unwrap().status(), 200);

    // The fault a committer meets (a full disk, a store error), raised as it would be.
    node.ledger.fail("committing a block failed: no space left on device".into());
    let why = tokio::time::timeout(Duration::from_secs(5), node.failed()).await.expect("failed() resolves");
    assert!(why.contains("no space left"), "{why}");

    let r = reqwest::get(&health).await.unwrap();
    assert_eq!(r.status(), 503);
    let problem: serde_json::Value = r.json().await.unwrap();
    assert_eq!(problem["code"], "node-stopped");
    assert!(problem["detail"].as_str().unwrap().contains("no space left"), "{problem}");

    // Nothing more is taken; what was committed is still there.
    let verdict = node.ledger.submit(&[deposit(2)]);
    assert!(matches!(&verdict[0], Err(SubmitError::Stopped(w)) if w.contains("no space left")), "{verdict:?}");
    assert!(matches!(node.ledger.status(&id), TxStatus::Committed(_)));
    node.shutdown().await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_node_stops_even_while_a_live_feed_is_open() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let dir = tempfile::tempdir().unwrap();
    let (paths, _) = cairn_node::dev::init_dev(dir.path(), "127.0.0.1:0".parse().unwrap(), Suite::Ed25519Sha256).unwrap();
    let node = RunningNode::start(NodeConfig::load(&paths.config).unwrap()).await.unwrap();
    // A console left open: the live feed's response never ends.
    let mut feed = tokio::net::TcpStream::connect(node.addr).await.unwrap();
    feed.write_all(b"GET /v1/events HTTP/1.1\r\nHost: x\r\n\r\n").await.unwrap();
    let mut head = [0u8; 12];
    feed.read_exact(&mut head).await.unwrap();
    assert_eq!(&head, b"HTTP/1.1 200");
    tokio::time::timeout(Duration::from_secs(20), node.shutdown()).await.expect("shutdown does not wait for the feed for ever").unwrap();
}

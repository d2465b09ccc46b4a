//! What an honest validator votes for: its ledger re-executes every proposal and refuses one
//! with a bad signature, a replay, a wrong parent, a wrong transaction or log root, a wrong
//! height, a time from the future, or a body over the limits.

use std::sync::Arc;

use cairn_consensus::{BlockInfo, genesis_digest};
use cairn_crypto::{KeyPair, Suite};
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_node::config::{Limits, NodeConfig};
use cairn_node::{Ledger, ledger::now_ms};
use cairn_types::block::Block;
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::{Call, TxBody};

struct Fixture {
    _tmp: tempfile::TempDir,
    ledger: Arc<Ledger>,
    submitter: KeyPair,
    chain: String,
}

fn fixture(suite: Suite) -> Fixture {
    let tmp = tempfile::tempdir().unwrap();
    let submitter = KeyPair::generate(suite);
    let validators: Vec<KeyPair> = (0..4).map(|_| KeyPair::generate(suite)).collect();
    let genesis = Genesis {
        chain_id: "verify-test".into(),
        suite,
        genesis_time_ms: 1_000,
        organisations: vec![Organisation {
            id: "court".into(),
            name: "Court".into(),
            members: vec![submitter.public_key().to_hex()],
            roles: Default::default(),
        }],
        validators: validators
            .iter()
            .enumerate()
            .map(|(i, k)| ValidatorInfo {
                name: format!("v{i}"),
                organisation: "court".into(),
                public_key: k.public_key().to_hex(),
                address: None,
                consensus_key: Some(KeyPair::generate(Suite::Ed25519Sha256).public_key().to_hex()),
                vote_key: None,
                p2p_address: Some(format!("127.0.0.1:{}", 7000 + i)),
            })
            .collect(),
        params: Params { max_block_txs: 3, ..Params::default() },
    };
    std::fs::write(tmp.path().join("genesis.json"), genesis.to_json()).unwrap();
    cairn_node::keys::write_key(&tmp.path().join("v0.key"), &validators[0]).unwrap();
    let config = NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        genesis: tmp.path().join("genesis.json"),
        validator_name: "v0".into(),
        validator_key: tmp.path().join("v0.key"),
        db: tmp.path().join("db"),
        limits: Limits::default(),
        access: Default::default(),
        tls: None,
        consensus: None,
        agent_key: None,
        public_url: None,
    };
    let ledger = Ledger::open(config).unwrap();
    Fixture { _tmp: tmp, ledger, submitter, chain: genesis.chain_id }
}

fn deposit(f: &Fixture, nonce: u64) -> Vec<u8> {
    let record = RecordInput {
        digest_alg: DigestAlg::for_suite(f.submitter.suite()),
        digest: DigestAlg::for_suite(f.submitter.suite()).digest(&nonce.to_be_bytes()),
        size: 8,
        media_type: "text/plain".into(),
        title: format!("record {nonce}"),
        reference: None,
        metadata: Default::default(),
    };
    TxBody {
        chain_id: f.chain.clone(),
        signer: f.submitter.public_key(),
        nonce,
        expires_at_ms: now_ms() + 600_000,
        call: Call { module: "evidence".into(), method: "deposit".into(), args: DepositArgs { records: vec![record] }.encode() },
    }
    .sign(&f.submitter)
    .encode()
}

fn genesis_block() -> BlockInfo {
    BlockInfo { height: 0, digest: genesis_digest(cairn_consensus::BlockHash::Sha256), parent: [0; 32], payload: Vec::new() }
}

fn info_of(f: &Fixture, parent: &BlockInfo, payload: &[u8]) -> BlockInfo {
    let block = Block::decode(payload).unwrap();
    let commitment = block.header.hash(f.ledger.genesis().suite);
    let height = block.header.height;
    BlockInfo {
        height,
        digest: cairn_consensus::block_digest(cairn_consensus::BlockHash::Sha256, &parent.digest, height, &commitment, &cairn_consensus::sha256(payload)),
        parent: parent.digest,
        payload: payload.to_vec(),
    }
}

/// A proposal from this validator's mempool, and a verdict on edited copies of it.
fn check(suite: Suite) {
    let f = fixture(suite);
    let logic = f.ledger.consensus_logic();
    let g = genesis_block();
    let now = now_ms();
    let txs: Vec<Vec<u8>> = (1..=2).map(|n| deposit(&f, n)).collect();
    assert!(f.ledger.submit(&txs).iter().all(Result::is_ok));
    let payload = logic.propose(&g, 1, now, false).expect("a block from the mempool");
    let block = Block::decode(&payload).unwrap();
    assert_eq!(block.txs.len(), 2);
    f.ledger.verify_proposal(&g, 1, &payload, now).expect("an honest proposal gets a vote");

    let edited = |edit: &dyn Fn(&mut Block)| {
        let mut b = block.clone();
        edit(&mut b);
        b.encode()
    };
    let refused = |payload: Vec<u8>, height: u64, want: &str| {
        let why = f.ledger.verify_proposal(&g, height, &payload, now).expect_err("no vote");
        assert!(why.contains(want), "expected {want:?}, got {why:?}");
    };
    // One bad signature (a transaction this node never admitted: its signature is checked).
    refused(
        edited(&|b| {
            let last = b.txs[1].len() - 1;
            b.txs[1][last] ^= 1;
        }),
        1,
        "transaction refused",
    );
    // A replay within the block.
    refused(
        edited(&|b| {
            b.txs[1] = b.txs[0].clone();
        }),
        1,
        "already submitted",
    );
    refused(edited(&|b| b.header.parent[0] ^= 1), 1, "parent");
    refused(edited(&|b| b.header.log_root[31] ^= 1), 1, "header differs");
    refused(edited(&|b| b.header.tx_root[0] ^= 1), 1, "header differs");
    refused(edited(&|b| b.header.log_size += 1), 1, "header differs");
    refused(payload.clone(), 2, "height");
    refused(edited(&|b| b.header.time_ms = now + 3_600_000), 1, "block time");
    // Over the block limit (3 transactions here).
    let more: Vec<Vec<u8>> = (3..=5).map(|n| deposit(&f, n)).collect();
    refused(
        edited(&|b| {
            b.txs.extend(more.iter().cloned());
            b.header.tx_count = b.txs.len() as u32;
        }),
        1,
        "size limits",
    );
    refused(b"not a block".to_vec(), 1, "does not decode");

    // A replay of a transaction in a non-final ancestor.
    let b1 = info_of(&f, &g, &payload);
    assert!(logic.has_state(&b1));
    let mut replay = block.clone();
    replay.header.height = 2;
    replay.header.parent = block.header.hash(suite);
    replay.txs.truncate(1);
    replay.header.tx_count = 1;
    let why = f.ledger.verify_proposal(&b1, 2, &replay.encode(), now).expect_err("no vote");
    assert!(why.contains("already submitted"), "{why}");
    // The next proposal on top of block 1 leaves its transactions out.
    let third = deposit(&f, 9);
    assert!(f.ledger.submit(&[third]).iter().all(Result::is_ok));
    let p2 = logic.propose(&b1, 2, now, false).expect("a second block");
    assert_eq!(Block::decode(&p2).unwrap().txs.len(), 1);
    f.ledger.verify_proposal(&b1, 2, &p2, now).unwrap();
}

#[test]
fn proposals_are_re_executed_before_a_vote_ed25519() {
    check(Suite::Ed25519Sha256);
}

#[test]
fn proposals_are_re_executed_before_a_vote_sm2() {
    check(Suite::Sm2Sm3);
}

/// A second ledger on the same chain (another data folder): a validator whose proposals carry
/// transactions the first never admitted.
fn other_ledger(f: &Fixture) -> Arc<Ledger> {
    let dir = f._tmp.path();
    Ledger::open(NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        genesis: dir.join("genesis.json"),
        validator_name: "v0".into(),
        validator_key: dir.join("v0.key"),
        db: dir.join("db-other"),
        limits: Limits::default(),
        access: Default::default(),
        tls: None,
        consensus: None,
        agent_key: None,
        public_url: None,
    })
    .unwrap()
}

#[test]
fn a_signature_checked_in_one_proposal_is_not_checked_again_and_verifying_leaves_the_mempool_alone() {
    let f = fixture(Suite::Ed25519Sha256);
    let other = other_ledger(&f);
    let g = genesis_block();
    let now = now_ms();
    let txs: Vec<Vec<u8>> = (1..=2).map(|n| deposit(&f, n)).collect();
    assert!(other.submit(&txs).iter().all(Result::is_ok));
    let proposal = other.consensus_logic().propose(&g, 1, now, false).expect("a block");
    let checked = || f.ledger.metrics.proposal_signatures_checked.get();
    f.ledger.verify_proposal(&g, 1, &proposal, now).expect("a vote");
    assert_eq!(checked(), 2, "transactions never seen are checked");
    assert_eq!(f.ledger.mempool_len(), 0, "verifying a proposal does not fill this node's mempool");
    // A competing proposal of the same transactions (another time): nothing checked again.
    let competing = other.consensus_logic().propose(&g, 1, now + 1, false).expect("a block");
    assert_ne!(competing, proposal);
    f.ledger.verify_proposal(&g, 1, &competing, now + 1).expect("a vote");
    assert_eq!(checked(), 2, "the signature cache saved the second check");
    // A tampered copy is still checked and refused: the cache holds exact transactions only.
    let mut block = Block::decode(&competing).unwrap();
    let last = block.txs[1].len() - 1;
    block.txs[1][last] ^= 1;
    let why = f.ledger.verify_proposal(&g, 1, &block.encode(), now + 1).expect_err("no vote");
    assert!(why.contains("transaction refused"), "{why}");
}

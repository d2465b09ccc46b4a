//! The whole Cairn cluster in Commonware's deterministic runtime: four real ledgers (real
//! execution, real disk) driven by simplex over the simulated network, from a seed. The same
//! seed gives the same final runtime hash; a bounded sweep of seeds (with message loss and a
//! partition) keeps safety (every ledger has the same block at every height) and liveness
//! (every deposit is committed everywhere). A failing seed is printed; replay it with
//! `CAIRN_SIM_SEED=<seed>`.

use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use cairn_consensus::sim::{Partition, SimConfig, SimReport, simulate};
use cairn_crypto::{KeyPair, Suite};
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_node::config::{Limits, NodeConfig};
use cairn_node::ledger::{Ledger, TxStatus};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::{Call, TxBody};

const VALIDATORS: usize = 4;
const DEPOSITS: u64 = 120;

fn key(seed: u8) -> KeyPair {
    KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[seed; 32]).unwrap()
}

/// Genesis and transactions are functions of nothing but constants, so runs are comparable.
fn genesis() -> Genesis {
    Genesis {
        chain_id: "sim".into(),
        suite: Suite::Ed25519Sha256,
        // The deterministic runtime's clock starts at the Unix epoch.
        genesis_time_ms: 0,
        organisations: vec![Organisation {
            id: "registry".into(),
            name: "Registry".into(),
            members: vec![key(200).public_key().to_hex()],
            roles: Default::default(),
        }],
        validators: (0..VALIDATORS)
            .map(|i| ValidatorInfo {
                name: format!("v{i}"),
                organisation: "registry".into(),
                public_key: key(i as u8 + 1).public_key().to_hex(),
                address: None,
                // The simulator brings its own consensus keys and network.
                consensus_key: Some(key(i as u8 + 100).public_key().to_hex()),
                vote_key: None,
                p2p_address: Some(format!("127.0.0.1:{}", 7000 + i)),
            })
            .collect(),
        params: Params { max_block_txs: 50, max_tx_ttl_ms: 10_000_000_000_000, evidence_digest_state: true, ..Params::default() },
    }
}

fn deposits() -> Vec<Vec<u8>> {
    (0..DEPOSITS).map(|n| deposit(&key(200), n, Some(format!("case-{}", n % 7)))).collect()
}

/// A signed deposit of one record (digest of `n`), with nonce `n`.
fn deposit(submitter: &KeyPair, n: u64, reference: Option<String>) -> Vec<u8> {
    let record = RecordInput {
        digest_alg: DigestAlg::Sha256,
        digest: DigestAlg::Sha256.digest(&n.to_be_bytes()),
        size: 8,
        media_type: "text/plain".into(),
        title: format!("deposit {n}"),
        reference,
        metadata: Default::default(),
    };
    TxBody {
        chain_id: "sim".into(),
        signer: submitter.public_key(),
        nonce: n,
        expires_at_ms: 4_102_444_800_000, // 2100-01-01
        call: Call { module: "evidence".into(), method: "deposit".into(), args: DepositArgs { records: vec![record] }.encode() },
    }
    .sign(submitter)
    .encode()
}

fn open_with(dir: &Path, i: usize, genesis: &Genesis) -> Arc<Ledger> {
    let vdir = dir.join(format!("v{i}"));
    std::fs::create_dir_all(&vdir).unwrap();
    std::fs::write(vdir.join("genesis.json"), genesis.to_json()).unwrap();
    cairn_node::keys::write_key(&vdir.join("validator.key"), &key(i as u8 + 1)).unwrap();
    Ledger::open(NodeConfig {
        listen: "127.0.0.1:0".parse().unwrap(),
        genesis: vdir.join("genesis.json"),
        validator_name: format!("v{i}"),
        validator_key: vdir.join("validator.key"),
        db: vdir.join("db"),
        limits: Limits::default(),
        access: Default::default(),
        tls: None,
        consensus: None,
        agent_key: None,
        public_url: None,
    })
    .unwrap()
}

/// Runs the cluster; every validator's mempool starts with the same deposits.
fn run(cfg: SimConfig, dir: &Path) -> (SimReport, Vec<Arc<Ledger>>) {
    run_with(cfg, dir, &genesis(), deposits())
}

fn run_with(cfg: SimConfig, dir: &Path, genesis: &Genesis, txs: Vec<Vec<u8>>) -> (SimReport, Vec<Arc<Ledger>>) {
    let ledgers: Vec<Arc<Ledger>> = (0..VALIDATORS).map(|i| open_with(dir, i, genesis)).collect();
    for l in &ledgers {
        assert!(l.submit(&txs).iter().all(Result::is_ok));
    }
    let ledgers_for_sim = ledgers.clone();
    let report = simulate(cfg, move |i, gossip| ledgers_for_sim[i].consensus_logic_with_gossip(gossip));
    (report, ledgers)
}

/// Safety and liveness on the ledgers themselves: the same block at every height everywhere,
/// and every deposit committed on every ledger.
fn check(seed: u64, ledgers: &[Arc<Ledger>]) {
    check_honest(seed, ledgers, None)
}

fn check_honest(seed: u64, all: &[Arc<Ledger>], byzantine: Option<usize>) {
    let ledgers: Vec<Arc<Ledger>> = all.iter().enumerate().filter(|(i, _)| Some(*i) != byzantine).map(|(_, l)| Arc::clone(l)).collect();
    let top = ledgers.iter().map(|l| l.height()).min().unwrap();
    eprintln!(
        "seed {seed}: final heights {:?}, log size {}",
        ledgers.iter().map(|l| l.height()).collect::<Vec<_>>(),
        ledgers[0].block(top).unwrap().map_or(0, |b| b.header.log_size)
    );
    for h in 1..=top {
        let first = ledgers[0].block(h).unwrap().unwrap();
        assert!(first.header.state_root.is_some(), "seed {seed}: block {h} has no state root");
        for (i, l) in ledgers.iter().enumerate().skip(1) {
            // The whole block, so its header's state root too: equal state on every replica at
            // every height.
            assert_eq!(l.block(h).unwrap().unwrap(), first, "seed {seed}: validator {i} has another block at height {h}");
        }
    }
    // The state every ledger holds is the state its tip header commits to, and it proves the
    // deposits: a state receipt from each validator verifies with the trust file alone.
    let trust = genesis().trust_file();
    let digest = DigestAlg::Sha256.digest(&0u64.to_be_bytes());
    let key = cairn_module_evidence::wire::digest_state_key(DigestAlg::Sha256, &digest);
    for (i, l) in ledgers.iter().enumerate() {
        assert_eq!(l.state_root().unwrap(), l.block(l.height()).unwrap().unwrap().header.state_root, "seed {seed}: validator {i}");
        let receipt = match l.state_receipt("evidence", &key, None).unwrap() {
            Ok(r) => r,
            Err(e) => panic!("seed {seed}: validator {i}: {e}"),
        };
        let v = cairn_types::state_receipt::verify_state_receipt(&receipt.to_json(), &trust, &cairn_node::module_state_view)
            .unwrap_or_else(|e| panic!("seed {seed}: validator {i}: {e}"));
        assert_eq!(v.view["deposited"], true, "seed {seed}: validator {i}");
    }
    for tx in deposits() {
        let id = cairn_types::tx::Transaction::decode(&tx).unwrap().id;
        for (i, l) in ledgers.iter().enumerate() {
            assert!(matches!(l.status(&id), TxStatus::Committed(_)), "seed {seed}: a deposit is not committed on validator {i}");
        }
    }
}

fn seed() -> u64 {
    std::env::var("CAIRN_SIM_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or(3)
}

#[test]
fn the_cluster_replays_exactly_from_its_seed() {
    let seed = seed();
    eprintln!("cluster simulation seed {seed} (replay with CAIRN_SIM_SEED={seed})");
    let cfg = SimConfig { seed, target_height: 8, ..SimConfig::default() };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let (first, ledgers) = run(cfg.clone(), a.path());
    check(seed, &ledgers);
    let (second, _) = run(cfg, b.path());
    eprintln!("seed {seed}: final runtime state {} both times", first.state);
    assert_eq!(first.state, second.state, "seed {seed}: the same seed gave another final state");
    assert_eq!(first.finalized, second.finalized, "seed {seed}: the same seed gave another history");
}

#[test]
fn a_bounded_sweep_of_seeds_with_loss_and_a_partition_stays_safe_and_live() {
    for seed in 10..14u64 {
        eprintln!("cluster simulation seed {seed}");
        let partition = (seed % 2 == 0).then_some(Partition { validator: (seed % 4) as usize, from: Duration::from_secs(1), until: Duration::from_secs(4) });
        let cfg = SimConfig { seed, target_height: 10, delivery_percent: 80, partition, ..SimConfig::default() };
        let dir = tempfile::tempdir().unwrap();
        let (report, ledgers) = run(cfg, dir.path());
        assert!(report.faults.is_empty(), "seed {seed}: honest validators reported faults: {:?}", report.faults);
        check(seed, &ledgers);
        // Cosignatures are gossip and some were lost: every ledger still ends with a quorum
        // checkpoint over its whole log, so every deposit has a receipt.
        for (i, l) in ledgers.iter().enumerate() {
            let log_size = l.block(l.height()).unwrap().unwrap().header.log_size_after();
            let served = l.latest_checkpoint().map_or(0, |(size, _)| size);
            assert_eq!(served, log_size, "seed {seed}: validator {i} serves no quorum checkpoint over its whole log");
        }
    }
}

#[test]
fn an_equivocating_validator_is_recorded_as_fault_evidence_by_the_honest_ledgers() {
    let seed = seed();
    let cfg = SimConfig { seed, target_height: 8, equivocator: Some(3), ..SimConfig::default() };
    let dir = tempfile::tempdir().unwrap();
    let (_, ledgers) = run(cfg, dir.path());
    check_honest(seed, &ledgers, Some(3));
    // What `/v1/faults` serves: evidence stored durably by the honest ledgers (each sees the
    // conflicting votes that reach it).
    let recorded: Vec<usize> = ledgers.iter().take(3).map(|l| l.faults(100).unwrap().iter().filter(|(_, e)| e.starts_with("conflicting")).count()).collect();
    eprintln!("seed {seed}: equivocation evidence recorded by the honest validators: {recorded:?}");
    assert!(recorded.iter().sum::<usize>() > 0, "seed {seed}: no honest validator recorded the equivocation");
    for (l, n) in ledgers.iter().zip(&recorded) {
        assert_eq!(l.consensus_status().unwrap().faults, *n as u64);
    }
}

/// A governed chain of four organisations (one member key each, seeds 210..214): org-0 proposes
/// a fifth, org-1 and org-2 vote for it, with deposits around the votes.
fn governed_genesis() -> Genesis {
    let mut g = genesis();
    g.organisations = (0..4)
        .map(|i| Organisation {
            id: format!("org-{i}"),
            name: format!("Org {i}"),
            members: vec![key(210 + i).public_key().to_hex()],
            roles: Default::default(),
        })
        .collect();
    for (i, v) in g.validators.iter_mut().enumerate() {
        v.organisation = format!("org-{i}");
    }
    g.params.modules.insert("governance".into(), cairn_module_governance::GovernanceParams::default().to_json());
    g.validate().unwrap();
    g
}

fn governance_txs() -> Vec<Vec<u8>> {
    use cairn_module_governance::action::{Action, Member};
    use cairn_module_governance::policy::Vote;
    let signed = |k: &KeyPair, n: u64, method: &str, args: Vec<u8>| {
        TxBody {
            chain_id: "sim".into(),
            signer: k.public_key(),
            nonce: n,
            expires_at_ms: 4_102_444_800_000,
            call: Call { module: "governance".into(), method: method.into(), args },
        }
        .sign(k)
        .encode()
    };
    let add = Action::AddOrganisation {
        id: "org-5".into(),
        name: "Org 5".into(),
        members: vec![Member { key: key(220).public_key(), roles: vec!["evidence.depositor".into(), "org.admin".into()] }],
    };
    let mut txs: Vec<Vec<u8>> = (0..30).map(|n| deposit(&key(213), n, None)).collect();
    txs.push(signed(&key(210), 1, "propose", cairn_module_governance::encode_propose(&add, 1_000)));
    txs.extend((30..60).map(|n| deposit(&key(213), n, None)));
    txs.push(signed(&key(211), 2, "vote", cairn_module_governance::encode_vote(1, Vote::Approve)));
    txs.extend((60..90).map(|n| deposit(&key(213), n, None)));
    txs.push(signed(&key(212), 3, "vote", cairn_module_governance::encode_vote(1, Vote::Approve)));
    txs
}

#[test]
fn proposals_and_votes_under_loss_and_a_partition_give_one_state_on_every_validator() {
    let genesis = governed_genesis();
    let trust = genesis.trust_file();
    for seed in [20u64, 21] {
        let partition = (seed % 2 == 0).then_some(Partition { validator: 1, from: Duration::from_secs(1), until: Duration::from_secs(4) });
        let cfg = SimConfig { seed, target_height: 10, delivery_percent: 80, partition, ..SimConfig::default() };
        let dir = tempfile::tempdir().unwrap();
        let (report, ledgers) = run_with(cfg, dir.path(), &genesis, governance_txs());
        assert!(report.faults.is_empty(), "seed {seed}: {:?}", report.faults);
        let top = ledgers.iter().map(|l| l.height()).min().unwrap();
        for h in 1..=top {
            let first = ledgers[0].block(h).unwrap().unwrap();
            for (i, l) in ledgers.iter().enumerate().skip(1) {
                assert_eq!(l.block(h).unwrap().unwrap(), first, "seed {seed}: validator {i} has another block (or state root) at height {h}");
            }
        }
        // Every transaction committed everywhere, and the fifth organisation's key is a member
        // on every validator, proven by a state receipt that verifies with the trust file.
        for tx in governance_txs() {
            let id = cairn_types::tx::Transaction::decode(&tx).unwrap().id;
            for (i, l) in ledgers.iter().enumerate() {
                assert!(matches!(l.status(&id), TxStatus::Committed(_)), "seed {seed}: a transaction is not committed on validator {i}");
            }
        }
        let member_key = cairn_module_governance::state::member_key(key(220).public_key().as_bytes());
        for (i, l) in ledgers.iter().enumerate() {
            let receipt = l.state_receipt("governance", &member_key, None).unwrap().unwrap_or_else(|e| panic!("seed {seed}: validator {i}: {e}"));
            let v = cairn_types::state_receipt::verify_state_receipt(&receipt.to_json(), &trust, &cairn_node::module_state_view)
                .unwrap_or_else(|e| panic!("seed {seed}: validator {i}: {e}"));
            assert_eq!(v.view["member"]["organisation"], "org-5", "seed {seed}: validator {i}: {}", v.view);
            assert!(l.executor().members().contains_key(key(220).public_key().as_bytes()), "seed {seed}: admission on validator {i} knows the new member");
        }
    }
}

//! Every refusal class gets its own precise error, and execution is deterministic.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::{Executor, TxError};
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::{Call, TxBody};

const NOW: u64 = 1_700_000_000_000;

fn setup(suite: Suite) -> (Executor, KeyPair) {
    let member = KeyPair::generate(suite);
    let validator = KeyPair::generate(suite);
    let genesis = Genesis {
        chain_id: "test-chain".into(),
        suite,
        genesis_time_ms: NOW,
        organisations: vec![Organisation { id: "court".into(), name: "Court".into(), members: vec![member.public_key().to_hex()], roles: Default::default() }],
        validators: vec![ValidatorInfo {
            name: "v1".into(),
            organisation: "court".into(),
            public_key: validator.public_key().to_hex(),
            address: None,
            consensus_key: None,
            vote_key: None,
            p2p_address: None,
        }],
        // Module parameters as a chain made today names them.
        params: Params {
            max_tx_bytes: 4096,
            ..Params::with_modules(
                [("evidence".to_string(), cairn_module_evidence::EvidenceParams { max_records_per_tx: 3, digest_state: true }.to_json())].into(),
            )
        },
    };
    genesis.validate().unwrap();
    (Executor::new(genesis, &[cairn_module_evidence::module]), member)
}

fn record(i: u8) -> RecordInput {
    RecordInput {
        digest_alg: DigestAlg::Sha256,
        digest: [i; 32],
        size: 10,
        media_type: "application/pdf".into(),
        title: format!("doc {i}"),
        reference: Some("case-1".into()),
        metadata: Default::default(),
    }
}

fn body(key: &KeyPair, records: usize) -> TxBody {
    TxBody {
        chain_id: "test-chain".into(),
        signer: key.public_key(),
        nonce: 7,
        expires_at_ms: NOW + 60_000,
        call: Call { module: "evidence".into(), method: "deposit".into(), args: DepositArgs { records: (0..records as u8).map(record).collect() }.encode() },
    }
}

#[test]
fn refusals_are_precise() {
    for suite in Suite::ALL {
        let (ex, key) = setup(suite);
        let ok = body(&key, 2).sign(&key);
        ex.admit(&ok.encode(), NOW).unwrap();

        let mut b = body(&key, 1);
        b.chain_id = "other-chain".into();
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::WrongChain { .. })));

        let stranger = KeyPair::generate(suite);
        let mut b = body(&stranger, 1);
        b.signer = stranger.public_key();
        assert!(matches!(ex.admit(&b.sign(&stranger).encode(), NOW), Err(TxError::UnknownSigner(_))));

        let mut b = body(&key, 1);
        b.expires_at_ms = NOW - 1;
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::Expired { .. })));
        let mut b = body(&key, 1);
        b.expires_at_ms = NOW + 10 * 3_600_000;
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::ExpiryTooFar { .. })));

        // The module's own refusal, its code stamped with the module's name by the framework.
        let Err(TxError::Module(e)) = ex.admit(&body(&key, 4).sign(&key).encode(), NOW) else { panic!("{suite}: four records accepted") };
        assert_eq!((e.code(), e.http_status, e.message.as_str()), ("evidence.too-many-records", 400, "4 records in one transaction, the limit is 3"));

        let mut b = body(&key, 1);
        b.call.module = "payments".into();
        assert_eq!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::UnknownModule("payments".into())));
        let mut b = body(&key, 1);
        b.call.method = "delete".into();
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::UnknownMethod { .. })));
        let mut b = body(&key, 1);
        b.call.args = vec![0, 0, 0, 1, 9];
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::InvalidArgs(_))));

        // A signature by another key over the same body.
        let mut tx = body(&key, 1).sign(&key);
        tx.signature = KeyPair::generate(suite).sign(cairn_crypto::Domain::Transaction, "test-chain", &tx.body_bytes);
        assert_eq!(ex.admit(&tx.encode(), NOW), Err(TxError::BadSignature));

        assert!(matches!(ex.admit(&[1, 2, 3], NOW), Err(TxError::Malformed(_))));
        assert!(matches!(ex.admit(&vec![0u8; 5000], NOW), Err(TxError::Oversized { len: 5000, max: 4096 })));

        let mut b = body(&key, 1);
        let mut r = record(1);
        r.title = "x".repeat(600);
        b.call.args = DepositArgs { records: vec![r] }.encode();
        assert!(matches!(ex.admit(&b.sign(&key).encode(), NOW), Err(TxError::InvalidArgs(_))));
    }
}

/// Admitting many at once (signatures as one batch) gives each transaction the verdict that
/// admitting it alone gives, wherever in the batch the bad ones sit.
#[test]
fn admitting_many_gives_the_single_verdicts() {
    for suite in Suite::ALL {
        let (ex, key) = setup(suite);
        let mut txs: Vec<Vec<u8>> = (0..200u64)
            .map(|i| {
                let mut b = body(&key, 1);
                b.nonce = i;
                b.sign(&key).encode()
            })
            .collect();
        // A forged signature, a stranger's signature, garbage and an expired one, spread out.
        let mut forged = body(&key, 1).sign(&key);
        forged.signature = KeyPair::generate(suite).sign(cairn_crypto::Domain::Transaction, "test-chain", &forged.body_bytes);
        txs[3] = forged.encode();
        let stranger = KeyPair::generate(suite);
        txs[130] = body(&stranger, 1).sign(&stranger).encode();
        txs[131] = vec![1, 2, 3];
        let mut expired = body(&key, 1);
        expired.expires_at_ms = NOW - 1;
        txs[199] = expired.sign(&key).encode();
        let many = ex.admit_many(&txs, Some(NOW));
        let single: Vec<_> = txs.iter().map(|t| ex.admit(t, NOW)).collect();
        assert_eq!(many, single, "{suite}");
        assert_eq!(many.iter().filter(|v| v.is_err()).count(), 4, "{suite}");
        assert_eq!(many[3], Err(TxError::BadSignature));
        // In a block (no expiry window) the expired one is left to execution to refuse.
        assert!(ex.admit_many(&txs, None)[199].is_ok());
    }
}

#[test]
fn the_nodes_own_submissions_skip_only_the_module_policy() {
    let (ex, key) = setup(Suite::Ed25519Sha256);
    // A title with a control character: a block may hold it, admission's policy refuses it.
    let mut policy_refused = body(&key, 1);
    let mut args = DepositArgs { records: vec![record(1)] };
    args.records[0].title = "line\u{7}bell".into();
    policy_refused.call.args = args.encode();
    let policy_refused = policy_refused.sign(&key).encode();
    let forged = {
        let mut t = body(&key, 1).sign(&key);
        t.signature = KeyPair::generate(Suite::Ed25519Sha256).sign(cairn_crypto::Domain::Transaction, "test-chain", &t.body_bytes);
        t.encode()
    };
    let mut expired = body(&key, 1);
    expired.expires_at_ms = NOW - 1;
    let txs = [policy_refused, forged, expired.sign(&key).encode()];
    let submitted = ex.admit_many(&txs, Some(NOW));
    assert_eq!(submitted[0].as_ref().unwrap_err().code(), "evidence.control-character");
    let own = ex.admit_many_own(&txs, NOW);
    assert!(own[0].is_ok(), "the agent's own call is not re-derived: {:?}", own[0]);
    // Everything else is checked as for any submission.
    assert_eq!(own[1], Err(TxError::BadSignature));
    assert!(matches!(own[2], Err(TxError::Expired { .. })));
}

#[test]
fn execution_is_deterministic_and_indexes_records() {
    let (ex, key) = setup(Suite::Ed25519Sha256);
    let tx = body(&key, 3).sign(&key);
    let store = cairn_state::MemStore::default();
    let run = |time_ms: u64| {
        let mut state = cairn_state::BlockState::new(Suite::Ed25519Sha256, &store, 4, cairn_state::EMPTY, None, 4).unwrap();
        let effects = ex.execute(&tx, 5, time_ms, 100, &mut state).unwrap();
        (effects, state.finish(5).unwrap())
    };
    let (a, state_a) = run(NOW);
    let (b, state_b) = run(NOW);
    assert_eq!(a, b);
    let a = a.unwrap();
    // Every record's digest is counted in state, with its first deposit: same root on every run.
    assert_eq!(state_a.root, state_b.root);
    assert_eq!(state_a.values.len(), 3);
    for (i, r) in [record(0), record(1), record(2)].iter().enumerate() {
        let key = cairn_state::state_key("evidence", &cairn_module_evidence::wire::digest_state_key(r.digest_alg, &r.digest));
        let s = cairn_module_evidence::wire::DigestState::decode(state_a.values[&key].as_ref().unwrap()).unwrap();
        assert_eq!((s.first_record.tx_id, s.first_record.index, s.deposits, s.first_height), (tx.id, i as u32, 1, 5));
    }
    assert_eq!(a.leaves.len(), 3);
    // a digest entry per record, one reference entry for the three records sharing it
    assert_eq!(a.index.len(), 4);
    assert_eq!(a.index[1].index, cairn_module_evidence::INDEX_DIGEST);
    assert_eq!(cairn_module_evidence::leaf_of_key(&a.index[1].key), Some(101));
    assert_eq!(a.index[3].index, cairn_module_evidence::INDEX_REFERENCE);
    assert_eq!(cairn_module_evidence::reference_leaves(&a.index[3].key, &a.index[3].value), vec![100, 101, 102]);
    // Past its expiry at block time, it fails.
    let (expired, state) = run(NOW + 120_000);
    assert!(matches!(expired, Err(TxError::Expired { .. })));
    assert!(state.values.is_empty(), "a refused transaction writes no state");
}

#[test]
fn json_form_builds_the_same_bytes() {
    let (ex, key) = setup(Suite::Ed25519Sha256);
    let tx = body(&key, 1).sign(&key);
    let json = serde_json::json!({
        "chain_id": "test-chain",
        "signer": key.public_key().to_hex(),
        "nonce": 7,
        "expires_at_ms": NOW + 60_000,
        "call": {"module": "evidence", "method": "deposit", "args": DepositArgs { records: vec![record(0)] }},
        "signature": hex::encode(&tx.signature),
    });
    assert_eq!(ex.tx_from_json(json).unwrap(), tx.encode());
}

//! Pinned encodings. A client in another language builds these bytes from the same inputs;
//! if this test fails, the wire format changed and `docs/encoding.md` must say so:
//! transactions (`testdata/vectors/transactions.json`), and the genesis hash, block headers
//! v1 and v2, every kind of log leaf and signed checkpoints (`encodings.json`), in both suites.
//! Regenerate (only for a deliberate format change) with `CAIRN_WRITE_VECTORS=1`.

use std::collections::BTreeMap;

use cairn_crypto::{KeyPair, Suite};
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, EvidenceEntry, RecordInput};
use cairn_note::{Checkpoint, SignedNote};
use cairn_types::block::BlockHeader;
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::log::{LogEntry, ModuleLeaf, TxEntry, encode_block_leaf, encode_module_leaf};
use cairn_types::tx::{Call, Transaction, TxBody};
use serde_json::{Value, json};

/// The evidence record every vector that carries one uses.
fn vector_record(suite: Suite) -> RecordInput {
    RecordInput {
        digest_alg: DigestAlg::for_suite(suite),
        digest: DigestAlg::for_suite(suite).digest(b"hello evidence"),
        size: 14,
        media_type: "text/plain".into(),
        title: "contract scan".into(),
        reference: Some("(2026) Zhe 0192 Min Chu 1".into()),
        metadata: BTreeMap::from([("court".to_string(), "Hangzhou Internet Court".to_string())]),
    }
}

fn vectors() -> Value {
    let mut out = Vec::new();
    for suite in Suite::ALL {
        let key = KeyPair::from_secret_bytes(suite, &[0x11; 32]).unwrap();
        let args = DepositArgs { records: vec![vector_record(suite)] };
        let tx = TxBody {
            chain_id: "vector-chain".into(),
            signer: key.public_key(),
            nonce: 42,
            expires_at_ms: 1_800_000_000_000,
            call: Call { module: "evidence".into(), method: "deposit".into(), args: args.encode() },
        }
        .sign(&key);
        let bytes = tx.encode();
        let decoded = Transaction::decode(&bytes).unwrap();
        decoded.verify_signature().unwrap();
        out.push(json!({
            "suite": suite.name(),
            "secret_key": hex::encode([0x11; 32]),
            "public_key": key.public_key().to_hex(),
            "deposit_args": serde_json::to_value(&args).unwrap(),
            "args_hex": hex::encode(args.encode()),
            "body_hex": hex::encode(&tx.body_bytes),
            "signed_message_hex": hex::encode(cairn_crypto::signing_message(cairn_crypto::Domain::Transaction, "vector-chain", &tx.body_bytes)),
            "tx_id": hex::encode(tx.id),
            "signature_hex": hex::encode(&tx.signature),
            "transaction_hex": hex::encode(&bytes),
            "record_id_0": cairn_module_evidence::wire::RecordId { tx_id: tx.id, index: 0 }.to_string(),
        }));
    }
    json!({ "about": "Canonical transaction encodings (docs/encoding.md). Ed25519 and SM2 (RFC 6979 nonces) signatures are deterministic.", "transactions": out })
}

/// The vectors of `testdata/vectors/<file>`, which must equal `now` (written first when
/// `CAIRN_WRITE_VECTORS` is set).
fn pinned(file: &str, now: Value) -> Value {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors").join(file);
    if std::env::var_os("CAIRN_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let pinned: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(now, pinned, "{file}: an encoding changed");
    pinned
}

#[test]
fn transaction_vectors_are_pinned() {
    let pinned = pinned("transactions.json", vectors());
    // Every pinned transaction decodes and verifies from its hex alone.
    for t in pinned["transactions"].as_array().unwrap() {
        let tx = Transaction::decode(&hex::decode(t["transaction_hex"].as_str().unwrap()).unwrap()).unwrap();
        tx.verify_signature().unwrap();
        assert_eq!(hex::encode(tx.id), t["tx_id"].as_str().unwrap());
    }
}

#[test]
fn malformed_transactions_are_refused_with_reasons() {
    let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7; 32]).unwrap();
    let tx = TxBody {
        chain_id: "c".into(),
        signer: key.public_key(),
        nonce: 1,
        expires_at_ms: 5,
        call: Call { module: "m".into(), method: "x".into(), args: vec![1, 2, 3] },
    }
    .sign(&key);
    let bytes = tx.encode();
    // Every truncation fails to decode.
    for cut in 0..bytes.len() {
        assert!(Transaction::decode(&bytes[..cut]).is_err(), "truncated at {cut}");
    }
    // Trailing garbage is refused.
    let mut long = bytes.clone();
    long.push(0);
    assert!(Transaction::decode(&long).unwrap_err().to_string().contains("left over"));
    // Any flipped byte either fails to decode or fails the signature.
    for i in 0..bytes.len() {
        let mut b = bytes.clone();
        b[i] ^= 0x01;
        if let Ok(t) = Transaction::decode(&b) {
            assert!(t.verify_signature().is_err(), "flip at {i} still verifies");
        }
    }
}

fn genesis(suite: Suite) -> Genesis {
    let member = KeyPair::from_secret_bytes(suite, &[0x21; 32]).unwrap();
    let clerk = KeyPair::from_secret_bytes(suite, &[0x22; 32]).unwrap();
    let validator = KeyPair::from_secret_bytes(suite, &[0x23; 32]).unwrap();
    let consensus = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[0x24; 32]).unwrap();
    let mut roles = BTreeMap::new();
    roles.insert(clerk.public_key().to_hex(), vec!["evidence.depositor".to_string()]);
    Genesis {
        chain_id: "vector-chain".into(),
        suite,
        genesis_time_ms: 1_800_000_000_000,
        organisations: vec![Organisation {
            id: "court".into(),
            name: "杭州互联网法院 \"Hangzhou\" Internet Court".into(),
            members: vec![member.public_key().to_hex(), clerk.public_key().to_hex()],
            roles,
        }],
        validators: vec![ValidatorInfo {
            name: "v1".into(),
            organisation: "court".into(),
            public_key: validator.public_key().to_hex(),
            address: Some("http://127.0.0.1:8080".into()),
            consensus_key: Some(consensus.public_key().to_hex()),
            vote_key: None,
            p2p_address: Some("127.0.0.1:9000".into()),
        }],
        params: Params { evidence_digest_state: true, ..Params::default() },
    }
}

fn header(suite: Suite, v2: bool) -> BlockHeader {
    BlockHeader {
        chain_id: "vector-chain".into(),
        height: 7,
        parent: suite.hash(b"parent"),
        time_ms: 1_800_000_000_123,
        tx_count: 2,
        tx_root: suite.hash(b"txs"),
        log_size: 40,
        log_root: suite.hash(b"log"),
        state_root: v2.then(|| suite.hash(b"state")),
    }
}

fn leaf_json(suite: Suite, what: &str, bytes: &[u8]) -> Value {
    let decoded = LogEntry::decode(bytes).unwrap();
    assert_eq!(decoded.encode(), bytes, "{what} re-encodes to its bytes");
    json!({"what": what, "leaf_hex": hex::encode(bytes), "leaf_hash": hex::encode(cairn_merkle::leaf_hash(suite, bytes))})
}

fn encoding_vectors() -> Value {
    let mut out = Vec::new();
    for suite in Suite::ALL {
        let g = genesis(suite);
        g.validate().unwrap();
        let canonical = serde_json::to_string(&g).unwrap();
        let submitter = KeyPair::from_secret_bytes(suite, &[0x21; 32]).unwrap();
        let record = vector_record(suite);
        let evidence = EvidenceEntry {
            tx_id: suite.hash(b"tx"),
            index_in_tx: 3,
            height: 7,
            time_ms: 1_800_000_000_123,
            organisation: "court".into(),
            submitter: submitter.public_key(),
            record,
        };
        assert_eq!(EvidenceEntry::from_leaf(suite, &evidence.encode_leaf()).unwrap().as_ref(), Some(&evidence), "the module decodes its record");
        let tx = LogEntry::Transaction(TxEntry {
            tx_id: suite.hash(b"tx2"),
            height: 7,
            time_ms: 1_800_000_000_123,
            module: "registry".into(),
            method: "create".into(),
        });
        let module_leaf = encode_module_leaf("trace", 1, b"payload bytes");
        assert_eq!(
            LogEntry::decode(&module_leaf).unwrap(),
            LogEntry::Module(ModuleLeaf { module: "trace".into(), kind: 1, payload: b"payload bytes".to_vec() })
        );
        let v1 = header(suite, false);
        let v2 = header(suite, true);
        let validator = KeyPair::from_secret_bytes(suite, &[0x23; 32]).unwrap();
        let checkpoint = Checkpoint { origin: g.origin(), size: 41, root: suite.hash(b"root"), extensions: vec![] };
        let mut note = SignedNote::new(checkpoint.to_text());
        note.sign(&g.key_name("v1"), &validator).unwrap();
        out.push(json!({
            "suite": suite.name(),
            "genesis": {
                "json": serde_json::to_value(&g).unwrap(),
                "canonical_json": canonical,
                "genesis_hash": hex::encode(suite.hash(canonical.as_bytes())),
            },
            "headers": [
                {"version": 1, "header_hex": hex::encode(v1.encode()), "block_hash": hex::encode(v1.hash(suite))},
                {"version": 2, "header_hex": hex::encode(v2.encode()), "block_hash": hex::encode(v2.hash(suite))},
            ],
            "leaves": [
                leaf_json(suite, "evidence record (version 1, kind 1)", &evidence.encode_leaf()),
                leaf_json(suite, "transaction (version 1, kind 2)", &tx.encode()),
                leaf_json(suite, "block leaf (version 2, module cairn, kind 1)", &encode_block_leaf(&v2)),
                leaf_json(suite, "module leaf (version 2, module trace, kind 1)", &module_leaf),
            ],
            "checkpoint": {"validator_secret_key": hex::encode([0x23; 32]), "key_name": g.key_name("v1"), "signed_note": note.to_text()},
        }));
    }
    json!({ "about": "Genesis hash, block headers, log leaves and signed checkpoints (docs/encoding.md). Signatures are deterministic (Ed25519; SM2 with RFC 6979 nonces).", "suites": out })
}

#[test]
fn genesis_headers_leaves_and_checkpoints_are_pinned() {
    let pinned = pinned("encodings.json", encoding_vectors());
    for s in pinned["suites"].as_array().unwrap() {
        let suite: Suite = s["suite"].as_str().unwrap().parse().unwrap();
        // The genesis hash from the genesis file as an operator writes it (pretty, any layout).
        let pretty = serde_json::to_string_pretty(&s["genesis"]["json"]).unwrap();
        let g = Genesis::from_json(pretty.as_bytes()).unwrap();
        assert_eq!(hex::encode(g.hash()), s["genesis"]["genesis_hash"].as_str().unwrap());
        assert_eq!(hex::encode(suite.hash(s["genesis"]["canonical_json"].as_str().unwrap().as_bytes())), s["genesis"]["genesis_hash"].as_str().unwrap());
        // Headers decode from their bytes alone and hash as pinned.
        for h in s["headers"].as_array().unwrap() {
            let bytes = hex::decode(h["header_hex"].as_str().unwrap()).unwrap();
            let header = BlockHeader::decode(&bytes).unwrap();
            assert_eq!(header.version() as u64, h["version"].as_u64().unwrap());
            assert_eq!(hex::encode(header.hash(suite)), h["block_hash"].as_str().unwrap());
        }
        // The signed checkpoint verifies with the validator's key.
        let note = SignedNote::parse(s["checkpoint"]["signed_note"].as_str().unwrap()).unwrap();
        let key = KeyPair::from_secret_bytes(suite, &hex::decode(s["checkpoint"]["validator_secret_key"].as_str().unwrap()).unwrap()).unwrap();
        let verifier = cairn_note::NoteVerifier::new(s["checkpoint"]["key_name"].as_str().unwrap(), key.public_key()).unwrap();
        assert_eq!(note.verify(&[verifier]).unwrap().len(), 1);
    }
}

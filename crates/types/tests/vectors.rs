//! Pinned encodings. A client in another language builds these bytes from the same inputs;
//! if this test fails, the wire format changed and `docs/encoding.md` must say so.
//! Regenerate (only for a deliberate format change) with `CAIRN_WRITE_VECTORS=1`.

use std::collections::BTreeMap;

use cairn_crypto::{KeyPair, Suite};
use cairn_types::evidence::{DepositArgs, DigestAlg, RecordInput};
use cairn_types::tx::{Call, Transaction, TxBody};
use serde_json::{Value, json};

fn vectors() -> Value {
    let mut out = Vec::new();
    for suite in Suite::ALL {
        let key = KeyPair::from_secret_bytes(suite, &[0x11; 32]).unwrap();
        let mut metadata = BTreeMap::new();
        metadata.insert("court".to_string(), "Hangzhou Internet Court".to_string());
        let args = DepositArgs {
            records: vec![RecordInput {
                digest_alg: DigestAlg::for_suite(suite),
                digest: DigestAlg::for_suite(suite).digest(b"hello evidence"),
                size: 14,
                media_type: "text/plain".into(),
                title: "contract scan".into(),
                reference: Some("(2026) Zhe 0192 Min Chu 1".into()),
                metadata,
            }],
        };
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
            "record_id_0": cairn_types::evidence::RecordId { tx_id: tx.id, index: 0 }.to_string(),
        }));
    }
    json!({ "about": "Canonical transaction encodings (docs/encoding.md). Ed25519 and SM2 (RFC 6979 nonces) signatures are deterministic.", "transactions": out })
}

#[test]
fn transaction_vectors_are_pinned() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/transactions.json");
    let now = vectors();
    if std::env::var_os("CAIRN_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let pinned: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(now, pinned, "canonical encoding changed");
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

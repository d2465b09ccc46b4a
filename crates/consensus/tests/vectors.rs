//! Conformance vectors for consensus encodings (`testdata/vectors/consensus.json`, specified in
//! docs/encoding.md): block digests in both hashes, and a finalization certificate of four
//! validators in each vote scheme (ed25519, and SM2 with RFC 6979 nonces: both deterministic),
//! with the bytes each vote signs. A third party's verifier can be checked against them.

use cairn_consensus::certificate::{Committee, verify};
use cairn_consensus::{BlockHash, block_digest};
use commonware_codec::Encode as _;
use commonware_consensus::simplex::types::{Finalization, Proposal, Subject};
use commonware_consensus::types::{Epoch, Round, View};
use commonware_cryptography::certificate::{Namespace as _, Subject as _};
use commonware_cryptography::sha256::Digest;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_parallel::Sequential;
use commonware_utils::union_unique;
use serde_json::{Value, json};

const CHAIN: &str = "vector-chain";
const VALIDATORS: u64 = 4;

fn identities() -> Vec<ed25519::PrivateKey> {
    (0..VALIDATORS).map(ed25519::PrivateKey::from_seed).collect()
}

fn id_bytes(k: &ed25519::PrivateKey) -> [u8; 32] {
    k.public_key().as_ref().try_into().unwrap()
}

fn digest(hash: BlockHash) -> [u8; 32] {
    block_digest(hash, &[0x11; 32], 7, &[0x22; 32], &hash.hash(b"block body"))
}

fn proposal(hash: BlockHash) -> Proposal<Digest> {
    Proposal::new(Round::new(Epoch::zero(), View::new(9)), View::new(8), Digest(digest(hash)))
}

/// Every validator's finalize vote, assembled: (certificate bytes, per-vote (message, signature)).
fn finalization<S: cairn_consensus::VoteScheme>(signers: &[S], p: &Proposal<Digest>, namespace: &[u8]) -> (Vec<u8>, Vec<Value>) {
    let subject = Subject::Finalize { proposal: p };
    let ns = commonware_consensus::simplex::scheme::Namespace::derive(namespace);
    let message = union_unique(subject.namespace(&ns), &subject.message());
    let votes: Vec<_> = signers.iter().map(|s| s.sign::<Digest>(Subject::Finalize { proposal: p }).unwrap()).collect();
    let signed: Vec<Value> = votes
        .iter()
        .map(|v| json!({"signer": v.signer.get(), "message_hex": hex::encode(&message), "signature_hex": hex::encode(v.signature.encode())}))
        .collect();
    let certificate = signers[0].assemble(commonware_utils::iter::NonEmpty::try_new(votes.into_iter()).unwrap(), &Sequential).unwrap();
    let f = Finalization::<S, Digest> { proposal: p.clone(), certificate };
    (f.encode().to_vec(), signed)
}

fn vectors() -> Value {
    let ids = identities();
    let namespace = cairn_consensus::consensus_namespace(CHAIN);
    let set = commonware_utils::ordered::Set::from_iter_dedup(ids.iter().map(|k| k.public_key()));
    let ed: Vec<_> = ids.iter().map(|k| commonware_consensus::simplex::scheme::ed25519::Scheme::signer(&namespace, set.clone(), k.clone()).unwrap()).collect();
    let (ed_cert, ed_votes) = finalization(&ed, &proposal(BlockHash::Sha256), &namespace);
    let vote_keys = cairn_consensus::sim::sm2_vote_keys(VALIDATORS as usize);
    let pairs: Vec<_> = ids.iter().map(|k| k.public_key()).zip(vote_keys.iter().map(|k| k.public_key())).collect();
    let sm2: Vec<_> = vote_keys.iter().map(|k| cairn_consensus::sm2::Scheme::signer(&namespace, pairs.clone(), k.clone()).unwrap()).collect();
    let (sm2_cert, sm2_votes) = finalization(&sm2, &proposal(BlockHash::Sm3), &namespace);
    let validators: Vec<Value> = ids
        .iter()
        .zip(&vote_keys)
        .map(|(id, v)| json!({"consensus_key": hex::encode(id_bytes(id)), "vote_key": v.public_key().to_hex(), "vote_secret_key": hex::encode(v.secret_bytes())}))
        .collect();
    json!({
        "about": "Consensus block digests and finalization certificates (docs/encoding.md, Consensus). Participants are ordered by consensus_key; signer indices refer to that order.",
        "chain_id": CHAIN,
        "namespace_hex": hex::encode(&namespace),
        "block": {"parent_hex": hex::encode([0x11; 32]), "height": 7, "commitment_hex": hex::encode([0x22; 32]), "body_hex": hex::encode(b"block body"),
                  "digest_sha256": hex::encode(digest(BlockHash::Sha256)), "digest_sm3": hex::encode(digest(BlockHash::Sm3))},
        "validators": validators,
        "ed25519": {"finalization_hex": hex::encode(&ed_cert), "votes": ed_votes},
        "sm2": {"finalization_hex": hex::encode(&sm2_cert), "votes": sm2_votes},
    })
}

#[test]
fn consensus_encodings_are_pinned_and_verify() {
    let now = vectors();
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/consensus.json");
    if std::env::var_os("CAIRN_WRITE_VECTORS").is_some() {
        std::fs::write(&path, serde_json::to_string_pretty(&now).unwrap() + "\n").unwrap();
    }
    let pinned: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
    assert_eq!(now, pinned, "consensus.json: an encoding changed");
    // The pinned certificates verify offline from the vectors alone, each in its own scheme.
    let hex32 = |v: &Value| -> [u8; 32] { hex::decode(v.as_str().unwrap()).unwrap().try_into().unwrap() };
    let ids: Vec<[u8; 32]> = pinned["validators"].as_array().unwrap().iter().map(|v| hex32(&v["consensus_key"])).collect();
    let sm2_keys: Vec<cairn_crypto::PublicKey> = pinned["validators"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| cairn_crypto::PublicKey::from_hex(cairn_crypto::Suite::Sm2Sm3, v["vote_key"].as_str().unwrap()).unwrap())
        .collect();
    let ed = Committee::Ed25519(ids.clone());
    let sm2 = Committee::Sm2(ids.into_iter().zip(sm2_keys.iter().cloned()).collect());
    let cert = |s: &str| hex::decode(pinned[s]["finalization_hex"].as_str().unwrap()).unwrap();
    assert_eq!(verify(CHAIN, &ed, &cert("ed25519")).unwrap().digest, hex32(&pinned["block"]["digest_sha256"]));
    assert_eq!(verify(CHAIN, &sm2, &cert("sm2")).unwrap().digest, hex32(&pinned["block"]["digest_sm3"]));
    assert!(verify(CHAIN, &sm2, &cert("ed25519")).is_err() && verify(CHAIN, &ed, &cert("sm2")).is_err());
    // The certificate (after the 35-byte proposal) fits the scheme's stated bound.
    use commonware_cryptography::certificate::Verifier as _;
    let bound = cairn_consensus::sm2::Scheme::<ed25519::PublicKey>::max_certificate_size(VALIDATORS as u32);
    assert!(cert("sm2").len() - 35 <= bound, "{} > {bound}", cert("sm2").len() - 35);
    // Each SM2 vote is a plain GB/T 32918 signature (default ID) over its message, r ‖ s.
    let order: Vec<usize> = {
        let mut o: Vec<usize> = (0..sm2_keys.len()).collect();
        o.sort_by_key(|i| pinned["validators"][*i]["consensus_key"].as_str().unwrap().to_string());
        o
    };
    for v in pinned["sm2"]["votes"].as_array().unwrap() {
        let key = &sm2_keys[order[v["signer"].as_u64().unwrap() as usize]];
        let message = hex::decode(v["message_hex"].as_str().unwrap()).unwrap();
        let fixed = hex::decode(v["signature_hex"].as_str().unwrap()).unwrap();
        assert!(cairn_crypto::sm2fast::reference_verify(key.as_bytes(), &message, &der(&fixed)), "vote of signer {}", v["signer"]);
    }
}

/// `r ‖ s` as a DER `SEQUENCE { INTEGER r, INTEGER s }` (both below 2^256: short lengths).
fn der(fixed: &[u8]) -> Vec<u8> {
    let int = |x: &[u8]| {
        let x = &x[x.iter().position(|b| *b != 0).unwrap_or(x.len() - 1)..];
        let pad = x[0] >= 0x80;
        let mut out = vec![0x02, (x.len() + pad as usize) as u8];
        if pad {
            out.push(0);
        }
        out.extend_from_slice(x);
        out
    };
    let body = [int(&fixed[..32]), int(&fixed[32..])].concat();
    [vec![0x30, body.len() as u8], body].concat()
}

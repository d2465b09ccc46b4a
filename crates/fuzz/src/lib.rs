//! Fuzz targets: one function per decoder family that reads bytes from outside the node
//! (clients, peers, files a verifier is handed). Each takes any bytes and must return, never
//! panic, loop or allocate without bound; the result is dropped.
//!
//! Two drivers run them:
//! * `tests/corpus.rs`, on stable Rust in the test command (and so in CI): every target over its
//!   seeds (real encodings and the receipt fixtures) and a bounded, seeded set of mutations
//!   (every bit flip of small seeds, truncations, splices, random bytes).
//! * `fuzz/` (cargo-fuzz, nightly, outside the workspace): the same functions under libFuzzer,
//!   for long runs where a nightly toolchain exists (`cargo +nightly fuzz run transaction`).

use cairn_crypto::Suite;

/// A fuzz target: any bytes in, nothing out.
pub type Target = fn(&[u8]);

/// Every target, by the name cargo-fuzz and the corpus folders use.
pub const TARGETS: &[(&str, Target)] = &[
    ("transaction", transaction),
    ("block", block),
    ("log_leaf", log_leaf),
    ("note", note),
    ("evidence", evidence),
    ("state", state),
    ("receipt", receipt),
    ("gossip", gossip),
    ("submission", submission),
    ("trust_genesis", trust_genesis),
    ("access", access),
    ("governance", governance),
    ("trace", trace),
    ("registry", registry),
    ("consensus", consensus),
];

/// A canonical transaction (API binary framing, gossip, blocks).
pub fn transaction(data: &[u8]) {
    if let Ok(tx) = cairn_types::tx::Transaction::decode(data) {
        // What decodes re-encodes to the same bytes (the encoding is canonical).
        assert_eq!(tx.encode(), data, "a decoded transaction re-encodes to its bytes");
    }
}

/// A block and its header (consensus payloads, blocks fetched from peers).
pub fn block(data: &[u8]) {
    let _ = cairn_types::block::Block::decode(data);
    let _ = cairn_types::block::Block::decode_header(data);
}

/// A log leaf (receipts, the console, module views).
pub fn log_leaf(data: &[u8]) {
    let _ = cairn_types::log::LogEntry::decode(data);
    let _ = cairn_types::log::decode_envelope(data);
}

/// Signed notes, checkpoints and C2SP tlog proofs (gossip cosignatures, receipts).
pub fn note(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = cairn_note::SignedNote::parse(text);
    let _ = cairn_note::Checkpoint::parse(text);
    let _ = cairn_note::TlogProof::parse(text);
}

/// The evidence module's wire types: deposit arguments, record leaves, digest state values.
pub fn evidence(data: &[u8]) {
    use cairn_module_evidence::wire::{DepositArgs, DigestState, EvidenceEntry, decode_deposit_in_place};
    let _ = DepositArgs::decode(data);
    let _ = decode_deposit_in_place(data);
    let _ = DigestState::decode(data);
    for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
        let _ = EvidenceEntry::from_leaf(suite, data);
    }
}

/// State proofs (state receipts) and stored tree nodes (a corrupt disk).
pub fn state(data: &[u8]) {
    let _ = cairn_state::StateProof::decode(data);
    let at = cairn_state::NodeAt { height: 1 << 20, index: 7 };
    let _ = cairn_state::Node::decode(data, at);
    let _ = cairn_state::Child::decode(data, at);
}

/// Receipts a verifier is handed: evidence receipts (JSON or tlog proof), leaf receipts, state
/// receipts, finality proofs; checked against a real trust file (four validators).
pub fn receipt(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let trust = trust_file();
    let _ = cairn_module_evidence::receipt::verify_receipt(text, trust, None);
    let _ = cairn_types::receipt::verify_leaf_receipt(text, trust);
    let _ = cairn_types::state_receipt::verify_state_receipt(text, trust, &cairn_node::module_state_view);
    let _ = cairn_node::finality::verify(text, trust);
}

/// Finalization certificates (from peers' finality proofs and `cairn verify --certificate`)
/// in both vote schemes, checked against the four validators of
/// `testdata/vectors/consensus.json`; SM2 signatures (DER and `r ‖ s`) and SEC1 keys.
pub fn consensus(data: &[u8]) {
    use cairn_consensus::certificate::verify;
    let (ed, sm2) = committees();
    let _ = verify("vector-chain", ed, data);
    let _ = verify("vector-chain", sm2, data);
    let _ = cairn_crypto::sm2fast::Sig::from_der(data);
    let _ = cairn_crypto::sm2fast::Sig::from_fixed(data);
    let _ = cairn_crypto::sm2fast::Key::from_sec1(data);
}

/// The committees of the consensus vectors: Ed25519 identities from seeds 0..4, SM2 vote keys
/// as the simulation makes them.
fn committees() -> &'static (cairn_consensus::certificate::Committee, cairn_consensus::certificate::Committee) {
    use cairn_consensus::certificate::Committee;
    static COMMITTEES: std::sync::OnceLock<(Committee, Committee)> = std::sync::OnceLock::new();
    COMMITTEES.get_or_init(|| {
        let ids: Vec<[u8; 32]> = (0..4u64).map(cairn_consensus::sim::identity).collect();
        let votes = cairn_consensus::sim::sm2_vote_keys(4).iter().map(|k| k.public_key()).collect::<Vec<_>>();
        (Committee::Ed25519(ids.clone()), Committee::Sm2(ids.into_iter().zip(votes).collect()))
    })
}

/// Messages from peers: gossiped transaction batches and stored consensus records.
pub fn gossip(data: &[u8]) {
    let _ = cairn_node::decoders::gossip_batch(data);
    let _ = cairn_node::decoders::consensus_record(data);
}

/// A JSON submission's body (`POST /v1/transactions`).
pub fn submission(data: &[u8]) {
    let _ = cairn_node::decoders::submission(data, 100, 1 << 16);
}

/// Trust files and genesis files (operators and verifiers load them).
pub fn trust_genesis(data: &[u8]) {
    let _ = cairn_types::strict_json::check(data);
    let _ = cairn_types::genesis::TrustFile::from_json(data);
    let _ = cairn_types::genesis::Genesis::from_json(data);
}

/// Credentials a client shows a members-only node: RFC 9421 signature headers (the input is
/// `Signature-Input`, `Signature`, path and query, one per line) and bearer tokens (the whole
/// input), checked against a fixed member key.
pub fn access(data: &[u8]) {
    use cairn_access::{AuthError, httpsig, token};
    let Ok(text) = std::str::from_utf8(data) else { return };
    let key = access_key().public_key();
    let mut lines = text.split('\n');
    let (input, signature) = (lines.next().unwrap_or("").to_string(), lines.next().unwrap_or("").to_string());
    let (path, query) = (lines.next().unwrap_or("/"), lines.next());
    let header = |name: &str| match name {
        "signature-input" => Some(input.clone()),
        "signature" => Some(signature.clone()),
        "host" | "date" => Some("node.example".to_string()),
        _ => None,
    };
    let request = httpsig::Request { method: "GET", authority: Some("node.example"), path, query, header: &header };
    let lookup = |k: &[u8]| if k == key.as_bytes() { Ok(key.clone()) } else { Err(AuthError::NotAMember(String::new())) };
    let _ = httpsig::verify(&request, Suite::Ed25519Sha256, 1_764_620_000, &httpsig::REQUIRED_COMPONENTS, lookup);
    let _ = token::verify(text, Suite::Ed25519Sha256, "fuzz", 1_764_620_000_000, lookup);
}

/// Governance actions (the arguments of proposals) and tallies (in proposals' state values,
/// which state receipts carry): what decodes re-encodes to its bytes.
pub fn governance(data: &[u8]) {
    for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
        if let Ok(action) = cairn_module_governance::action::Action::decode(data, suite) {
            assert_eq!(action.encode(), data, "a decoded action re-encodes to its bytes");
        }
    }
    let mut r = cairn_types::codec::Reader::new(data);
    if let Ok(tally) = cairn_module_governance::policy::Tally::decode(&mut r)
        && r.finish().is_ok()
    {
        let mut w = cairn_types::codec::Writer::new();
        tally.encode(&mut w);
        assert_eq!(w.into_bytes(), data, "a decoded tally re-encodes to its bytes");
    }
    // The module's state values (state proofs carry them) and call arguments.
    use cairn_module_governance::{json, state};
    for suite in [Suite::Ed25519Sha256, Suite::Sm2Sm3] {
        if let Ok(p) = state::Proposal::decode(data, suite) {
            assert_eq!(p.encode(), data, "a decoded proposal re-encodes to its bytes");
        }
        if let Ok(o) = state::OrgRecord::decode(data, suite) {
            assert_eq!(o.encode(), data, "a decoded organisation re-encodes to its bytes");
        }
        if let Ok((a, h)) = cairn_module_governance::decode_propose(data, suite) {
            assert_eq!(cairn_module_governance::encode_propose(&a, h), data);
        }
        if let Ok(k) = cairn_module_governance::decode_freeze(data, suite) {
            assert_eq!(cairn_module_governance::encode_freeze(&k), data);
        }
        for prefix in [&b"key/"[..], b"org/", b"prop/", b"orgs", b"open", b"next"] {
            let key = [prefix, data.get(..32).unwrap_or(data)].concat();
            let _ = json::state_view(suite, &key, Some(data));
        }
        let _ = json::events(suite, 7, &[(b"prop/\0\0\0\0\0\0\0\x01", Some(data)), (b"key/", Some(data))]);
    }
    if let Ok(m) = state::MemberRecord::decode(data) {
        assert_eq!(m.encode(), data, "a decoded member record re-encodes to its bytes");
    }
    if let Ok((id, v)) = cairn_module_governance::decode_vote(data) {
        assert_eq!(cairn_module_governance::encode_vote(id, v), data);
    }
    for ids in
        [state::decode_ids(data).ok().map(|i| state::encode_ids(&i)), state::decode_u64s(data).ok().map(|i| state::encode_u64s(&i))].into_iter().flatten()
    {
        assert_eq!(ids, data, "a decoded list re-encodes to its bytes");
    }
}

/// The member key the `access` target's seeds are signed with.
pub fn access_key() -> cairn_crypto::KeyPair {
    cairn_crypto::KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[9; 32]).expect("a valid secret")
}

fn trust_file() -> &'static cairn_types::genesis::TrustFile {
    static TRUST: std::sync::OnceLock<cairn_types::genesis::TrustFile> = std::sync::OnceLock::new();
    TRUST.get_or_init(|| {
        cairn_types::genesis::TrustFile::from_json(include_bytes!("../../../testdata/fixtures/receipts-v1/testnet-4/trust.json"))
            .expect("the fixture trust file")
    })
}

/// The traceability module's decoders: capture arguments, event leaves and state values (bytes
/// from clients, peers and receipts), and EPCIS JSON (capture bodies, `cairn verify --epcis`):
/// documents, events, identifiers, the CBV 2.0 event hash.
pub fn trace(data: &[u8]) {
    use cairn_module_trace::wire::{CaptureArgs, EventEntry, FirstRecord};
    if let Ok(args) = CaptureArgs::decode(data) {
        assert_eq!(args.encode(), data, "decoded capture arguments re-encode to their bytes");
        for (i, e) in args.events.iter().enumerate() {
            let _ = cairn_module_trace::prepare::verify_record(i, e);
        }
    }
    if let Ok(e) = EventEntry::decode_payload(data) {
        assert_eq!(e.encode_payload(), data, "a decoded event leaf re-encodes to its bytes");
    }
    let _ = FirstRecord::decode(data);
    let _ = cairn_module_trace::state_view(data, Some(data));
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = cairn_epcis::epc::canonical_identifier(text);
    let _ = cairn_module_trace::prepare::parse_time_ms(text);
    let _ = cairn_epcis::hash::parse_hash_id(text);
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    if let Ok(doc) = cairn_module_trace::prepare::parse_document(&value) {
        let _ = cairn_module_trace::prepare::prepare_document(&doc, false);
        let ns = cairn_epcis::hash::Namespaces::from_context(&doc.context);
        for e in &doc.events {
            let _ = cairn_epcis::hash::pre_hash_string(e, &ns);
        }
    }
}

/// The registry module's decoders (calls from clients and peers, state values and leaves from
/// receipts, schemas and contents as JSON) and the credential decoders of `cairn-vc` (a
/// credential to verify, its did:key, a status list's `encodedList`). The first byte picks
/// the call's method.
pub fn registry(data: &[u8]) {
    use cairn_module_registry::wire::{self, Call, Entry, Registry, SchemaLeaf, Version, VersionLeaf};
    const METHODS: [&str; 8] = ["create", "schema", "put", "amend", "transfer", "suspend", "reinstate", "revoke"];
    if let Some((m, rest)) = data.split_first()
        && let Ok(call) = Call::decode(METHODS[*m as usize % METHODS.len()], rest)
    {
        assert_eq!(call.encode(), rest, "a decoded registry call re-encodes to its bytes");
    }
    for bytes in
        [Registry::decode(data).map(|v| v.encode()), Entry::decode(data).map(|v| v.encode()), Version::decode(data).map(|v| v.encode())].into_iter().flatten()
    {
        assert_eq!(bytes, data, "a decoded registry state value re-encodes to its bytes");
    }
    if let Ok(l) = VersionLeaf::decode_payload(data) {
        assert_eq!(l.encode_payload(), data);
    }
    if let Ok(l) = SchemaLeaf::decode_payload(data) {
        assert_eq!(l.encode_payload(), data);
    }
    let _ = wire::StateKey::parse(data);
    let _ = cairn_module_registry::json::state_view(data, Some(data));
    let _ = cairn_module_registry::schema::EntrySchema::parse(data, 32);
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = cairn_vc::did::resolve(text);
    let _ = cairn_vc::status::decode(text);
    let Ok(value) = serde_json::from_str::<serde_json::Value>(text) else { return };
    let _ = cairn_vc::proof::verify(&value, &cairn_vc::canon::Contexts::new());
    let _ = cairn_module_registry::personal::check_disclosure(&value);
}

//! Every fuzz target over its seeds and a bounded, seeded set of mutations, on stable Rust: the
//! part of fuzzing the test command (and so CI) runs on every change. A panic in any target is
//! a failure naming the target and the input (hex). Long, coverage-guided runs use `fuzz/`.

use std::path::{Path, PathBuf};

use cairn_crypto::{KeyPair, Suite};
use cairn_module_evidence::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_types::block::{Block, BlockHeader, tx_root};
use cairn_types::tx::{Call, TxBody};

/// Mutations per target (beyond the seeds themselves and their truncations).
const MUTATIONS_PER_TARGET: usize = 20_000;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn files(dir: &str) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut stack = vec![root().join(dir)];
    while let Some(d) = stack.pop() {
        let mut entries: Vec<_> = std::fs::read_dir(&d).unwrap().map(|e| e.unwrap().path()).collect();
        entries.sort();
        for p in entries {
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|e| e == "json" || e == "tlog-proof") {
                out.push(std::fs::read(p).unwrap());
            }
        }
    }
    out
}

fn json_hex_fields(docs: &[Vec<u8>], field: &str) -> Vec<Vec<u8>> {
    docs.iter()
        .filter_map(|d| serde_json::from_slice::<serde_json::Value>(d).ok())
        .filter_map(|v| v[field].as_str().and_then(|h| (0..h.len()).step_by(2).map(|i| u8::from_str_radix(&h[i..i + 2], 16).ok()).collect()))
        .collect()
}

fn deposit() -> (Vec<u8>, Vec<u8>) {
    let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7; 32]).unwrap();
    let record = RecordInput {
        digest_alg: DigestAlg::Sha256,
        digest: DigestAlg::Sha256.digest(b"seed"),
        size: 4,
        media_type: "text/plain".into(),
        title: "seed".into(),
        reference: Some("case-1".into()),
        metadata: [("k".to_string(), "v".to_string())].into_iter().collect(),
    };
    let args = DepositArgs { records: vec![record] }.encode();
    let body = TxBody {
        chain_id: "fuzz".into(),
        signer: key.public_key(),
        nonce: 1,
        expires_at_ms: 1 << 40,
        call: Call { module: "evidence".into(), method: "deposit".into(), args: args.clone() },
    };
    (body.sign(&key).encode(), args)
}

fn seeds(target: &str) -> Vec<Vec<u8>> {
    let receipts: Vec<Vec<u8>> = [files("testdata/fixtures/receipts-v1"), files("testdata/fixtures/state-proofs")].concat();
    let (tx, args) = deposit();
    let header = BlockHeader {
        chain_id: "fuzz".into(),
        height: 3,
        parent: [1; 32],
        time_ms: 1_700_000_000_000,
        tx_count: 1,
        tx_root: tx_root(Suite::Ed25519Sha256, &[[2; 32]]),
        log_size: 9,
        log_root: [3; 32],
        state_root: Some([4; 32]),
    };
    let block = Block { header: header.clone(), txs: vec![tx.clone()] }.encode();
    match target {
        "transaction" => vec![tx],
        "block" => vec![block],
        "log_leaf" => [json_hex_fields(&receipts, "leaf"), vec![cairn_types::log::encode_block_leaf(&header)]].concat(),
        "note" => receipts
            .iter()
            .filter_map(|r| serde_json::from_slice::<serde_json::Value>(r).ok().and_then(|v| v["checkpoint"].as_str().map(|c| c.as_bytes().to_vec())))
            .chain(receipts.iter().filter(|r| r.starts_with(b"c2sp.org")).cloned())
            .collect(),
        "evidence" => [vec![args], json_hex_fields(&receipts, "leaf"), json_hex_fields(&receipts, "value")].concat(),
        "state" => json_hex_fields(&receipts, "proof"),
        "receipt" => receipts,
        "consensus" => {
            let v: serde_json::Value = serde_json::from_slice(&std::fs::read(root().join("testdata/vectors/consensus.json")).unwrap()).unwrap();
            let hex_at = |p: &str| json_hex_fields(&[serde_json::json!({ "h": v.pointer(p).unwrap() }).to_string().into_bytes()], "h").remove(0);
            vec![hex_at("/ed25519/finalization_hex"), hex_at("/sm2/finalization_hex"), hex_at("/sm2/votes/0/signature_hex"), hex_at("/validators/0/vote_key")]
        }
        "gossip" => {
            let mut batch = 1u32.to_be_bytes().to_vec();
            batch.extend_from_slice(&(tx.len() as u32).to_be_bytes());
            batch.extend_from_slice(&tx);
            vec![batch, [[5u8; 64].as_slice(), b"certificate"].concat()]
        }
        "submission" => {
            vec![br#"["00ff", {"chain_id": "c", "call": {}}]"#.to_vec(), br#"{"transactions": ["0011"], "wait": true}"#.to_vec(), br#""00""#.to_vec()]
        }
        "trust_genesis" => files("testdata/fixtures").into_iter().filter(|f| f.windows(15).any(|w| w == b"cairn-trust-v1\"")).collect(),
        "governance" => {
            use cairn_module_governance::action::{Action, Member};
            let key = |seed: u8| KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[seed; 32]).unwrap().public_key();
            let admin = Member { key: key(1), roles: vec!["evidence.depositor".into(), "org.admin".into()] };
            [
                Action::AddOrganisation { id: "court-5".into(), name: "Court 5".into(), members: vec![admin.clone()] },
                Action::RemoveOrganisation { id: "bank-2".into() },
                Action::AddMember { organisation: "court-5".into(), member: admin },
                Action::SetRoles { organisation: "court-5".into(), key: key(2), roles: vec!["org.admin".into()] },
                Action::RotateKey { organisation: "court-5".into(), old: key(1), new: key(3) },
                Action::SetParameter { name: "max_tx_bytes".into(), value: 1 << 20 },
            ]
            .iter()
            .map(Action::encode)
            .chain({
                use cairn_module_governance::policy::{ActionKind, Policy, Tally, Vote};
                let orgs = ["a", "b", "c", "d"].map(String::from).into_iter().collect();
                let (voters, t) = Policy::default().electorate(&ActionKind::AddOrganisation, &orgs).unwrap();
                let mut tally = Tally::new(voters, t, 40).unwrap();
                let mut out = Vec::new();
                for (org, vote) in [("a", Vote::Approve), ("b", Vote::Reject), ("c", Vote::Approve), ("d", Vote::Approve)] {
                    tally.vote(org, vote, 7).unwrap();
                    let mut w = cairn_types::codec::Writer::new();
                    tally.encode(&mut w);
                    out.push(w.into_bytes());
                }
                // The module's state values and arguments.
                use cairn_module_governance::state::{MemberRecord, OrgRecord, Outcome, Proposal};
                let proposal = Proposal {
                    action: Action::RemoveOrganisation { id: "d".into() },
                    proposer: key(1),
                    organisation: "a".into(),
                    made_at: 7,
                    tx: [3; 32],
                    tally,
                    outcome: Outcome::Applied { at: 7 },
                };
                out.push(proposal.encode());
                out.push(cairn_module_governance::encode_propose(&proposal.action, 99));
                out.push(cairn_module_governance::encode_vote(1, Vote::Reject));
                out.push(cairn_module_governance::encode_freeze(&key(2)));
                out.push(OrgRecord { name: "A".into(), removed_at: Some(9), keys: vec![key(1).as_bytes().to_vec()] }.encode());
                let member = MemberRecord {
                    organisation: "a".into(),
                    roles: Some(vec!["org.admin".into()]),
                    status: cairn_module_governance::state::MemberStatus::Frozen,
                    since: 0,
                    changed: 7,
                };
                out.push(member.encode());
                out.push(cairn_module_governance::state::encode_ids(&["a".into(), "b".into()]));
                out.push(cairn_module_governance::state::encode_u64s(&[1, 4]));
                out
            })
            .collect()
        }
        "access" => {
            let key = cairn_fuzz::access_key();
            let h = cairn_access::httpsig::sign(&key, "GET", "/v1/evidence", Some("reference=x"), 1_764_620_000);
            let claims = cairn_access::token::Claims {
                chain_id: "fuzz".into(),
                organisation: "org".into(),
                issuer: key.public_key().to_hex(),
                service: "svc".into(),
                issued_ms: 1_764_000_000_000,
                expires_ms: 1_765_000_000_000,
            };
            vec![
                format!("{}\n{}\n/v1/evidence\nreference=x", h.signature_input, h.signature).into_bytes(),
                cairn_access::token::issue(&key, &claims).unwrap().into_bytes(),
            ]
        }
        "trace" => {
            // Example documents, and their events as capture arguments and leaves.
            let docs: Vec<Vec<u8>> =
                ["Example_9.6.1-ObjectEvent.jsonld", "Example_9.6.4-TransformationEvent.jsonld", "AssociationEvent/AssociationEvent-a.jsonld"]
                    .iter()
                    .map(|f| std::fs::read(root().join("testdata/epcis/examples").join(f)).unwrap())
                    .collect();
            let mut out = docs.clone();
            for d in &docs {
                let doc = cairn_module_trace::prepare::parse_document(&serde_json::from_slice(d).unwrap()).unwrap();
                let (events, problems) = cairn_module_trace::prepare::prepare_document(&doc, false);
                assert!(problems.is_empty(), "{problems:?}");
                let events: Vec<_> = events.into_iter().map(|(_, e)| e).collect();
                out.push(cairn_module_trace::wire::CaptureArgs { proceed: false, events: events.clone() }.encode());
                let entry = cairn_module_trace::wire::EventEntry {
                    tx_id: [7; 32],
                    index: 0,
                    height: 3,
                    time_ms: 1,
                    organisation: "o".into(),
                    submitter: vec![1; 32],
                    event: events[0].clone(),
                };
                out.push(entry.encode_payload());
            }
            out.push(b"urn:epc:id:sgtin:0614141.107346.2017".to_vec());
            out.push(b"2026-03-01T08:00:00.123+08:00".to_vec());
            out
        }
        "registry" => {
            use cairn_module_registry::wire::{Action, Call, Entry, Registry, SchemaLeaf, Status, Version, VersionLeaf};
            let schema = br#"{"properties":{"district":{"type":"string"},"name":{"type":"string"}},"required":["name"],"type":"object","x-cairn-indexed":["district"],"x-cairn-personal":["name"]}"#.to_vec();
            let content = br#"{"fields":{"district":"A"},"personal":{"name":"00"}}"#.to_vec();
            let calls = [
                Call::Create { registry: "civil-births".into(), title_zh: "出生".into(), title_en: "Births".into(), schema: schema.clone() },
                Call::Schema { registry: "civil-births".into(), schema: schema.clone() },
                Call::Put { registry: "civil-births".into(), key: "B1".into(), holder: "did:example:x".into(), content: content.clone() },
                Call::Amend { registry: "civil-births".into(), key: "B1".into(), expected_version: 1, content: content.clone() },
                Call::Transfer { registry: "civil-births".into(), key: "B1".into(), expected_version: 2, holder: "h".into() },
                Call::Status { action: Action::Suspend, registry: "civil-births".into(), key: "B1".into(), expected_version: 3, reason: "r".into() },
            ];
            let methods = ["create", "schema", "put", "amend", "transfer", "suspend", "reinstate", "revoke"];
            let mut out: Vec<Vec<u8>> =
                calls.iter().map(|c| [vec![methods.iter().position(|m| *m == c.method()).unwrap() as u8], c.encode()].concat()).collect();
            let version = Version {
                version: 2,
                action: Action::Amend,
                status: Status::Active,
                reason: String::new(),
                holder: "h".into(),
                schema_version: 1,
                content_digest: [3; 32],
                height: 9,
                time_ms: 1,
                leaf: 4,
            };
            out.push(
                Registry {
                    authority: "org".into(),
                    title_zh: "t".into(),
                    title_en: "t".into(),
                    schema_version: 1,
                    entries: 2,
                    created_height: 1,
                    created_time_ms: 1,
                }
                .encode(),
            );
            out.push(version.encode());
            out.push(Entry { current: version.clone(), status_index: 1, created_height: 2 }.encode());
            out.push(
                VersionLeaf {
                    tx_id: [1; 32],
                    registry: "g".into(),
                    key: "k".into(),
                    organisation: "o".into(),
                    signer: vec![2; 32],
                    version,
                    content: content.clone(),
                }
                .encode_payload(),
            );
            out.push(
                SchemaLeaf {
                    tx_id: [1; 32],
                    registry: "g".into(),
                    organisation: "o".into(),
                    schema_version: 1,
                    title_zh: String::new(),
                    title_en: String::new(),
                    schema: schema.clone(),
                }
                .encode_payload(),
            );
            out.push(schema);
            out.push(br#"{"field":"name","salt":"AAAAAAAAAAAAAAAAAAAAAA","value":"x"}"#.to_vec());
            // A credential (the JCS suite: cheap to canonicalize under mutation), its did:key, a status list.
            let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[5; 32]).unwrap();
            let doc = serde_json::json!({"@context": ["https://www.w3.org/ns/credentials/v2"], "type": ["VerifiableCredential"], "issuer": cairn_vc::did::did_key(&key.public_key()),
                "credentialSubject": {"id": "did:example:x"}});
            let signed = cairn_vc::proof::sign(
                &doc,
                cairn_vc::Cryptosuite::EddsaJcs2022,
                &key.public_key(),
                "2026-01-01T00:00:00Z",
                &cairn_vc::canon::Contexts::new(),
                |d| key.sign_raw(d),
            )
            .unwrap();
            out.push(serde_json::to_vec(&signed).unwrap());
            out.push(cairn_vc::did::verification_method(&key.public_key()).into_bytes());
            out.push(cairn_vc::status::encode(&[0x80]).into_bytes());
            out
        }
        other => panic!("no seeds for target {other}"),
    }
}

/// A small deterministic generator (xorshift64*): the same mutations on every run.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

fn mutate(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seeds[rng.below(seeds.len())].clone();
    for _ in 0..1 + rng.below(4) {
        match rng.below(6) {
            0 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = rng.below(d.len());
                d[i] = [0, 0xff, 0x7f, 0x80, b'"', b'\\', b'{', b'9'][rng.below(8)];
            }
            2 => d.truncate(rng.below(d.len() + 1)),
            3 => {
                let i = rng.below(d.len() + 1);
                let run: Vec<u8> = (0..1 + rng.below(16)).map(|_| rng.next() as u8).collect();
                d.splice(i..i, run);
            }
            4 if d.len() > 8 => {
                // Splice in a slice of another seed (length prefixes meet other data).
                let other = &seeds[rng.below(seeds.len())];
                let (a, b) = (rng.below(d.len()), rng.below(other.len()));
                let n = rng.below(32).min(other.len() - b);
                d.splice(a..a, other[b..b + n].iter().copied());
            }
            _ => {
                // Big-endian lengths set to extremes.
                if d.len() >= 4 {
                    let i = rng.below(d.len() - 3);
                    d[i..i + 4].copy_from_slice(&[0xff, 0xff, 0xff, 0xff]);
                }
            }
        }
    }
    d
}

/// With `CAIRN_FUZZ_SEEDS=<dir>`, writes each target's seeds to `<dir>/<target>/`, the corpus
/// folders cargo-fuzz starts from (`cargo fuzz run <target> <dir>/<target>`).
fn dump_seeds(name: &str, seeds: &[Vec<u8>]) {
    let Some(dir) = std::env::var_os("CAIRN_FUZZ_SEEDS") else { return };
    let dir = Path::new(&dir).join(name);
    std::fs::create_dir_all(&dir).unwrap();
    for (i, s) in seeds.iter().enumerate() {
        std::fs::write(dir.join(format!("seed-{i}")), s).unwrap();
    }
}

fn run(name: &str, target: cairn_fuzz::Target, input: &[u8]) {
    if std::panic::catch_unwind(|| target(input)).is_err() {
        panic!("fuzz target {name} panicked on input {}", input.iter().map(|b| format!("{b:02x}")).collect::<String>());
    }
}

#[test]
fn every_target_survives_its_seeds_and_their_mutations() {
    for (name, target) in cairn_fuzz::TARGETS {
        let seeds = seeds(name);
        dump_seeds(name, &seeds);
        let least = match *name {
            "receipt" => 14, // every fixture: receipts of both suites and the testnet, JSON and tlog proofs, state receipts
            "note" | "log_leaf" | "state" => 6,
            "consensus" => 4, // a certificate in each scheme, an SM2 vote signature, an SM2 key
            _ => 1,
        };
        assert!(seeds.len() >= least, "target {name} has {} seeds, fewer than {least}", seeds.len());
        let mut rng = Rng(0x9E37_79B9_7F4A_7C15 ^ name.len() as u64);
        for s in &seeds {
            run(name, *target, s);
            // Every truncation of a small seed: length prefixes that end early.
            if s.len() <= 600 {
                for n in 0..s.len() {
                    run(name, *target, &s[..n]);
                }
            }
        }
        for _ in 0..MUTATIONS_PER_TARGET {
            run(name, *target, &mutate(&mut rng, &seeds));
        }
        for n in [0, 1, 3, 64, 4096] {
            let noise: Vec<u8> = (0..n).map(|_| rng.next() as u8).collect();
            run(name, *target, &noise);
        }
    }
}

#[test]
fn the_access_seeds_are_accepted_credentials() {
    // Mutations must start from credentials that pass, or they only ever test the first check.
    use cairn_access::{AuthError, httpsig, token};
    let key = cairn_fuzz::access_key().public_key();
    let lookup = |k: &[u8]| if k == key.as_bytes() { Ok(key.clone()) } else { Err(AuthError::NotAMember(String::new())) };
    let seeds = seeds("access");
    let sig = String::from_utf8(seeds[0].clone()).unwrap();
    let lines: Vec<&str> = sig.split('\n').collect();
    let header = |name: &str| match name {
        "signature-input" => Some(lines[0].to_string()),
        "signature" => Some(lines[1].to_string()),
        _ => None,
    };
    let request = httpsig::Request { method: "GET", authority: None, path: lines[2], query: Some(lines[3]), header: &header };
    assert!(httpsig::verify(&request, Suite::Ed25519Sha256, 1_764_620_000, &httpsig::REQUIRED_COMPONENTS, lookup).is_ok());
    assert!(token::verify(std::str::from_utf8(&seeds[1]).unwrap(), Suite::Ed25519Sha256, "fuzz", 1_764_620_000_000, lookup).is_ok());
}

#[test]
fn the_seed_transaction_round_trips() {
    // The transaction target asserts canonical re-encoding: make sure it is exercised.
    let (tx, _) = deposit();
    assert!(cairn_types::tx::Transaction::decode(&tx).is_ok());
    cairn_fuzz::transaction(&tx);
}

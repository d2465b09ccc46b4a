//! A civil registry through the executor, block by block: create, put, amend twice, transfer,
//! suspend, reinstate, revoke, each a version kept as state; stale versions and impossible
//! transitions refused; only the authority's registrars write; personal fields only as salted
//! digests; the schema enforced at execution; status bits; the same roots on a second run.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::TxError;
use cairn_exec::testing::TestChain;
use cairn_module_registry::personal;
use cairn_module_registry::schema::EntrySchema;
use cairn_module_registry::wire::{self, Entry, Purpose, Registry, Status, Version};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::Transaction;
use serde_json::{Value, json};

const T0: u64 = 1_700_000_000_000;
const G: &str = "civil-births";

fn key(seed: u8) -> KeyPair {
    KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[seed; 32]).unwrap()
}

/// `bureau` (key 1: a registrar; key 3: a depositor only) and `court` (key 2: a registrar).
fn chain() -> TestChain {
    let org = |id: &str, keys: &[&KeyPair], roles: Vec<(String, Vec<String>)>| Organisation {
        id: id.into(),
        name: id.to_uppercase(),
        members: keys.iter().map(|k| k.public_key().to_hex()).collect(),
        roles: roles.into_iter().collect(),
    };
    let (k1, k2, k3) = (key(1), key(2), key(3));
    let genesis = Genesis {
        chain_id: "registry-test".into(),
        suite: Suite::Ed25519Sha256,
        genesis_time_ms: T0,
        organisations: vec![
            org(
                "bureau",
                &[&k1, &k3],
                vec![(k1.public_key().to_hex(), vec!["registry.registrar".into()]), (k3.public_key().to_hex(), vec!["evidence.depositor".into()])],
            ),
            org("court", &[&k2], vec![(k2.public_key().to_hex(), vec!["registry.registrar".into()])]),
        ],
        validators: vec![ValidatorInfo {
            name: "v1".into(),
            organisation: "bureau".into(),
            public_key: key(99).public_key().to_hex(),
            address: None,
            consensus_key: None,
            vote_key: None,
            p2p_address: None,
        }],
        params: Params::default(),
    };
    genesis.validate().unwrap();
    TestChain::new(genesis, &[cairn_module_registry::module])
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "certificate": {"type": "string", "pattern": "^B[0-9]{6}$"},
            "district": {"type": "string"},
            "name": {"type": "string", "minLength": 1},
            "birthDate": {"type": "string", "format": "date"},
            "sex": {"enum": ["F", "M", "X"]}
        },
        "required": ["certificate", "district", "name", "birthDate"],
        "additionalProperties": false,
        "x-cairn-indexed": ["certificate", "district"],
        "x-cairn-personal": ["name", "birthDate"]
    })
}

fn call(c: &mut TestChain, signer: &KeyPair, method: &str, args: Value) -> Transaction {
    let m = cairn_module_registry::module(c.exec.genesis()).unwrap();
    let bytes = m.args_from_json(method, args).unwrap();
    c.tx(signer, "registry", method, bytes)
}

fn code<T>(r: &Result<T, TxError>) -> &str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

fn one(c: &mut TestChain, tx: Transaction) -> String {
    code(&c.block(&[tx])[0]).to_string()
}

fn sealed(fields: Value) -> (Value, Vec<Value>) {
    let s = EntrySchema::parse(&cairn_module_registry::schema::jcs(&schema()), 32).unwrap();
    let (content, disclosures) = personal::seal(Suite::Ed25519Sha256, &s, fields.as_object().unwrap()).unwrap();
    (serde_json::from_slice(&content).unwrap(), disclosures)
}

fn entry(c: &TestChain, k: &str, height: Option<u64>) -> Option<Entry> {
    c.value("registry", &wire::entry_state_key(G, k), height).map(|v| Entry::decode(&v).unwrap())
}

fn create(c: &mut TestChain) {
    let tx = call(c, &key(1), "create", json!({"registry": G, "title_zh": "出生登记", "title_en": "Births", "schema": schema()}));
    assert_eq!(one(c, tx), "ok");
}

fn birth() -> Value {
    json!({"certificate": "B000001", "district": "Xuhui", "name": "李小龙", "birthDate": "2026-11-30", "sex": "M"})
}

#[test]
fn an_entry_lives_through_every_change_and_each_version_stays() {
    let mut c = chain();
    create(&mut c);
    let registry = Registry::decode(&c.value("registry", &wire::registry_key(G), None).unwrap()).unwrap();
    assert_eq!((registry.authority.as_str(), registry.schema_version, registry.entries), ("bureau", 1, 0));

    let (content, disclosures) = sealed(birth());
    // The chain never sees a personal value: only digests under "personal".
    assert!(!content.to_string().contains("李小龙"), "{content}");
    assert_eq!(disclosures.len(), 2);
    for d in &disclosures {
        personal::verify_disclosure(Suite::Ed25519Sha256, &content, d).unwrap();
    }
    let tx = call(&mut c, &key(1), "put", json!({"registry": G, "key": "B000001", "holder": "did:example:parent", "content": content}));
    assert_eq!(one(&mut c, tx), "ok");
    let put_height = c.height;
    let e = entry(&c, "B000001", None).unwrap();
    assert_eq!((e.current.version, e.current.status, e.status_index), (1, Status::Active, 0));

    // Amend twice (the district, then the sex), transfer, suspend, reinstate, revoke.
    let mut fields = birth();
    let steps: Vec<(&str, Value)> = vec![
        ("amend", json!({"district": "Minhang"})),
        ("amend", json!({"sex": "X"})),
        ("transfer", json!({"holder": "did:example:child"})),
        ("suspend", json!({"reason": "court-order-17"})),
        ("reinstate", json!({"reason": "order lifted"})),
        ("revoke", json!({"reason": "duplicate-registration"})),
    ];
    for (i, (method, change)) in steps.into_iter().enumerate() {
        let mut args = json!({"registry": G, "key": "B000001", "expected_version": i as u32 + 1});
        if method == "amend" {
            for (k, v) in change.as_object().unwrap() {
                fields[k] = v.clone();
            }
            args["content"] = sealed(fields.clone()).0;
        } else {
            for (k, v) in change.as_object().unwrap() {
                args[k] = v.clone();
            }
        }
        let tx = call(&mut c, &key(1), method, args);
        assert_eq!(one(&mut c, tx), "ok", "{method}");
    }
    let e = entry(&c, "B000001", None).unwrap();
    assert_eq!((e.current.version, e.current.status, e.current.holder.as_str()), (7, Status::Revoked, "did:example:child"));
    assert_eq!(e.current.reason, "duplicate-registration");
    let actions: Vec<&str> =
        (1..=7).map(|v| Version::decode(&c.value("registry", &wire::version_key(G, "B000001", v), None).unwrap()).unwrap().action.name()).collect();
    assert_eq!(actions, ["put", "amend", "amend", "transfer", "suspend", "reinstate", "revoke"]);
    // As of the put's height the entry was version 1, active; before it, absent.
    assert_eq!(entry(&c, "B000001", Some(put_height)).unwrap().current.version, 1);
    assert!(entry(&c, "B000001", Some(put_height - 1)).is_none());
    // The revocation bit is set, the suspension bit cleared again.
    let bits = |p| c.value("registry", &wire::status_chunk_key(G, p, 0), None).unwrap();
    assert_eq!(bits(Purpose::Revocation)[0], 0x80);
    assert_eq!(bits(Purpose::Suspension)[0], 0x00);
    // A revoked entry takes no more changes.
    let tx = call(&mut c, &key(1), "reinstate", json!({"registry": G, "key": "B000001", "expected_version": 7}));
    assert_eq!(one(&mut c, tx), "registry.bad-transition");
}

#[test]
fn stale_versions_impossible_transitions_and_duplicates_are_refused() {
    let mut c = chain();
    create(&mut c);
    let (content, _) = sealed(birth());
    let put = call(&mut c, &key(1), "put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}));
    let again = call(&mut c, &key(1), "put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}));
    let verdicts: Vec<String> = c.block(&[put, again]).iter().map(|r| code(r).to_string()).collect();
    assert_eq!(verdicts, ["ok", "registry.entry-exists"]);
    let stale = call(&mut c, &key(1), "suspend", json!({"registry": G, "key": "B000001", "expected_version": 2}));
    assert_eq!(one(&mut c, stale), "registry.version-conflict");
    let reinstate = call(&mut c, &key(1), "reinstate", json!({"registry": G, "key": "B000001", "expected_version": 1}));
    assert_eq!(one(&mut c, reinstate), "registry.bad-transition");
    let missing = call(&mut c, &key(1), "suspend", json!({"registry": G, "key": "B999999", "expected_version": 1}));
    assert_eq!(one(&mut c, missing), "registry.no-entry");
    let no_registry = call(&mut c, &key(1), "put", json!({"registry": "nope", "key": "k", "holder": "h", "content": content}));
    assert_eq!(one(&mut c, no_registry), "registry.no-registry");
    let twice = call(&mut c, &key(1), "create", json!({"registry": G, "schema": schema()}));
    assert_eq!(one(&mut c, twice), "registry.registry-exists");
}

#[test]
fn only_the_authoritys_registrars_write() {
    let mut c = chain();
    create(&mut c);
    let (content, _) = sealed(birth());
    // A registrar of another organisation.
    let court = call(&mut c, &key(2), "put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}));
    assert_eq!(one(&mut c, court), "registry.not-authority");
    // A member of the authority without the role: refused at admission and at execution.
    let depositor = call(&mut c, &key(3), "put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}));
    assert_eq!(code(&c.admit(&depositor)), "forbidden");
    assert_eq!(one(&mut c, depositor), "forbidden");
    let schema_by_court = call(&mut c, &key(2), "schema", json!({"registry": G, "schema": schema()}));
    assert_eq!(one(&mut c, schema_by_court), "registry.not-authority");
    assert_eq!(Registry::decode(&c.value("registry", &wire::registry_key(G), None).unwrap()).unwrap().entries, 0);
}

#[test]
fn content_must_match_the_schema_and_keep_personal_fields_sealed() {
    let mut c = chain();
    create(&mut c);
    let (good, _) = sealed(birth());
    let digest = good["personal"]["name"].clone();
    let cases: Vec<(&str, Value)> = vec![
        // A personal field in the clear.
        ("clear personal", json!({"fields": {"certificate": "B000001", "district": "X", "name": "李小龙"}, "personal": {"birthDate": digest, "name": digest}})),
        // A digest for a field the schema does not mark personal.
        ("digest of public", json!({"fields": {"certificate": "B000001", "district": "X"}, "personal": {"birthDate": digest, "name": digest, "sex": digest}})),
        // A required personal field without its digest.
        ("missing personal", json!({"fields": {"certificate": "B000001", "district": "X"}, "personal": {"name": digest}})),
        // A public field against its pattern, and a field the schema does not have.
        ("pattern", json!({"fields": {"certificate": "X1", "district": "X"}, "personal": {"birthDate": digest, "name": digest}})),
        ("additional", json!({"fields": {"certificate": "B000001", "district": "X", "eyes": "brown"}, "personal": {"birthDate": digest, "name": digest}})),
        // A digest that is not one.
        ("short digest", json!({"fields": {"certificate": "B000001", "district": "X"}, "personal": {"birthDate": "abc", "name": digest}})),
    ];
    for (i, (what, content)) in cases.into_iter().enumerate() {
        let tx = call(&mut c, &key(1), "put", json!({"registry": G, "key": format!("K{i}"), "holder": "h", "content": content}));
        assert_eq!(one(&mut c, tx), "registry.invalid-content", "{what}");
    }
    // A clear value checked against the full schema before sealing (the client's side).
    let s = EntrySchema::parse(&cairn_module_registry::schema::jcs(&schema()), 32).unwrap();
    let mut bad = birth();
    bad["birthDate"] = json!("30 November");
    assert!(personal::seal(Suite::Ed25519Sha256, &s, bad.as_object().unwrap()).is_err());
    // Content bytes not in canonical form are refused even when the JSON is valid.
    let mut bytes = cairn_module_registry::schema::jcs(&good);
    bytes.insert(1, b' ');
    let tx = c.tx(&key(1), "registry", "put", wire::Call::Put { registry: G.into(), key: "K9".into(), holder: "h".into(), content: bytes }.encode());
    assert_eq!(one(&mut c, tx), "registry.invalid-content");
}

#[test]
fn schemas_are_checked_before_they_reach_a_block() {
    let mut c = chain();
    let bad: Vec<Value> = vec![
        json!({"type": "array"}),
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "x-cairn-personal": ["b"]}),
        json!({"type": "object", "properties": {"a": {"type": "string"}}, "x-cairn-indexed": ["a"], "x-cairn-personal": ["a"]}),
        json!({"type": "object", "properties": {"a": {"$ref": "https://example.com/s.json"}}}),
        json!({"type": "object", "properties": {"a": {"type": 7}}}),
        json!({"type": "object", "properties": {}, "x-cairn-secret": []}),
    ];
    for (i, s) in bad.into_iter().enumerate() {
        let tx = call(&mut c, &key(1), "create", json!({"registry": format!("r{i}"), "schema": s}));
        assert_eq!(code(&c.admit(&tx)), "registry.invalid-schema", "schema {i}");
    }
    // A new schema version: old entries keep theirs, an amendment takes the new one.
    create(&mut c);
    let (content, _) = sealed(birth());
    let put = call(&mut c, &key(1), "put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}));
    assert_eq!(one(&mut c, put), "ok");
    let mut v2 = schema();
    v2["properties"]["hospital"] = json!({"type": "string"});
    let tx = call(&mut c, &key(1), "schema", json!({"registry": G, "schema": v2}));
    assert_eq!(one(&mut c, tx), "ok");
    assert_eq!(entry(&c, "B000001", None).unwrap().current.schema_version, 1);
    let mut amended = content.clone();
    amended["fields"]["hospital"] = json!("Renji");
    let tx = call(&mut c, &key(1), "amend", json!({"registry": G, "key": "B000001", "expected_version": 1, "content": amended}));
    assert_eq!(one(&mut c, tx), "ok");
    assert_eq!(entry(&c, "B000001", None).unwrap().current.schema_version, 2);
}

#[test]
fn the_same_calls_give_the_same_roots() {
    let run = || {
        let mut c = chain();
        create(&mut c);
        for i in 0..20 {
            let mut f = birth();
            f["certificate"] = json!(format!("B{i:06}"));
            // Fixed salts would be needed for equal contents; the digests differ per run, so
            // the contents are built once per index below instead.
            let content = json!({"fields": {"certificate": f["certificate"], "district": "Xuhui"},
                                 "personal": {"birthDate": "00".repeat(32), "name": format!("{i:02}").repeat(32)}});
            let tx = call(&mut c, &key(1), "put", json!({"registry": G, "key": format!("B{i:06}"), "holder": "h", "content": content}));
            assert_eq!(one(&mut c, tx), "ok");
        }
        let tx = call(&mut c, &key(1), "revoke", json!({"registry": G, "key": "B000013", "expected_version": 1}));
        assert_eq!(one(&mut c, tx), "ok");
        c.roots.clone()
    };
    assert_eq!(run(), run());
}

#[test]
fn conformance() {
    let member = key(1);
    let genesis = cairn_exec::conformance::genesis(&member, Params::default());
    let sample = |method: &'static str, args: Value, refused: Option<&'static str>| cairn_exec::conformance::Sample { method, args, refused };
    let content = json!({"fields": {"certificate": "B000001", "district": "Xuhui"}, "personal": {"birthDate": "11".repeat(32), "name": "22".repeat(32)}});
    let samples = vec![
        sample("create", json!({"registry": G, "title_en": "Births", "schema": schema()}), None),
        sample("put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}), None),
        sample("put", json!({"registry": G, "key": "B000001", "holder": "h", "content": content}), Some("registry.entry-exists")),
        sample("amend", json!({"registry": G, "key": "B000001", "expected_version": 1, "content": content}), None),
        sample("suspend", json!({"registry": G, "key": "B000001", "expected_version": 2, "reason": "r"}), None),
        sample("revoke", json!({"registry": G, "key": "B000001", "expected_version": 9}), Some("registry.version-conflict")),
        sample("transfer", json!({"registry": G, "key": "B000001", "expected_version": 3, "holder": "h2"}), None),
    ];
    cairn_exec::conformance::check(cairn_module_registry::module, genesis, &member, &samples);
}

//! A module that is not shipped (a counter) plugs into the executor beside evidence: the
//! framework namespaces its state, stamps its error codes and refuses indexes outside its name.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::{ExecContext, ExecFailure, Executor, IndexEntry, Module, ModuleRefusal, TxEffects, TxError};
use cairn_state::{BlockState, EMPTY, MemStore, state_key};
use cairn_types::genesis::{Genesis, Params};
use cairn_types::tx::{Call, Transaction, TxBody};

const NOW: u64 = 1_800_000_000_000;

#[derive(Debug, thiserror::Error)]
enum CounterError {
    #[error("the counter takes no arguments")]
    Arguments,
}

impl ModuleRefusal for CounterError {
    fn code(&self) -> &'static str {
        "arguments"
    }
    fn http_status(&self) -> u16 {
        422
    }
}

/// `counter.bump`: adds one to the state key "n" (the same key name evidence could use).
struct Counter {
    index: &'static str,
}

impl Module for Counter {
    fn name(&self) -> &'static str {
        "counter"
    }
    fn indexes(&self) -> &'static [&'static str] {
        &["counter.bumps"]
    }
    fn check(&self, call: &Call, _: &Genesis) -> Result<(), TxError> {
        if call.args.is_empty() { Ok(()) } else { Err(CounterError::Arguments.into()) }
    }
    fn execute(&self, ctx: &mut ExecContext<'_, '_>, _: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        let n = ctx.state_get(b"n")?.map_or(0, |v| u64::from_be_bytes(v.try_into().unwrap()));
        ctx.state_put(b"n", (n + 1).to_be_bytes().to_vec());
        out.index.push(IndexEntry { index: self.index, key: (n + 1).to_be_bytes().to_vec(), value: Vec::new() });
        out.leaves.push(ctx.leaf(1, b"bumped"));
        Ok(())
    }
    fn args_from_json(&self, _: &str, _: serde_json::Value) -> Result<Vec<u8>, TxError> {
        Ok(Vec::new())
    }
}

fn counter(_: &Genesis) -> Result<Box<dyn Module>, String> {
    Ok(Box::new(Counter { index: "counter.bumps" }))
}

fn setup() -> (Executor, KeyPair) {
    let member = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[9; 32]).unwrap();
    let genesis = Genesis { chain_id: "modules".into(), ..cairn_exec::conformance::genesis(&member, Params::default()) };
    (Executor::new(genesis, &[cairn_module_evidence::module, counter]), member)
}

fn bump(key: &KeyPair, nonce: u64, args: Vec<u8>) -> Transaction {
    TxBody {
        chain_id: "modules".into(),
        signer: key.public_key(),
        nonce,
        expires_at_ms: NOW + 60_000,
        call: Call { module: "counter".into(), method: "bump".into(), args },
    }
    .sign(key)
}

#[test]
fn a_second_module_gets_its_own_namespace() {
    let (ex, key) = setup();
    assert_eq!(ex.module_names(), vec!["counter", "evidence"]);
    assert!(ex.index_names().contains(&"counter.bumps"));
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    for nonce in 0..3 {
        let tx = ex.admit(&bump(&key, nonce, Vec::new()).encode(), NOW).unwrap();
        let effects = ex.execute(&tx, 1, NOW, nonce, &mut state).unwrap().unwrap();
        assert_eq!(effects.index[0].key, (nonce + 1).to_be_bytes(), "reads its own earlier writes in the block");
    }
    let overlay = state.finish(1).unwrap();
    // Stored under the module's name: the framework built the key, not the module.
    assert_eq!(overlay.values.keys().collect::<Vec<_>>(), vec![&state_key("counter", b"n")]);
    assert_eq!(overlay.values[&state_key("counter", b"n")], Some(3u64.to_be_bytes().to_vec()));
}

#[test]
#[should_panic(expected = "emitted a leaf outside its envelope")]
fn a_leaf_in_another_modules_envelope_is_refused() {
    let (mut ex, key) = setup();
    struct Forger;
    impl Module for Forger {
        fn name(&self) -> &'static str {
            "forger"
        }
        fn indexes(&self) -> &'static [&'static str] {
            &[]
        }
        fn check(&self, _: &Call, _: &Genesis) -> Result<(), TxError> {
            Ok(())
        }
        fn execute(&self, _: &mut ExecContext<'_, '_>, _: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
            out.leaves.push(cairn_types::log::encode_module_leaf("counter", 1, b"not mine"));
            Ok(())
        }
        fn args_from_json(&self, _: &str, _: serde_json::Value) -> Result<Vec<u8>, TxError> {
            Ok(Vec::new())
        }
    }
    ex.register(Box::new(Forger));
    let tx = TxBody {
        chain_id: "modules".into(),
        signer: key.public_key(),
        nonce: 1,
        expires_at_ms: NOW + 60_000,
        call: Call { module: "forger".into(), method: "x".into(), args: vec![] },
    }
    .sign(&key);
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    let _ = ex.execute(&tx, 1, NOW, 0, &mut state);
}

#[test]
fn a_modules_leaves_are_stamped_with_its_name() {
    let (ex, key) = setup();
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    let tx = ex.admit(&bump(&key, 9, Vec::new()).encode(), NOW).unwrap();
    let effects = ex.execute(&tx, 1, NOW, 0, &mut state).unwrap().unwrap();
    let entry = cairn_types::log::LogEntry::decode(&effects.leaves[0]).unwrap();
    assert_eq!(entry, cairn_types::log::LogEntry::Module(cairn_types::log::ModuleLeaf { module: "counter".into(), kind: 1, payload: b"bumped".to_vec() }));
}

#[test]
fn a_modules_refusals_carry_its_name() {
    let (ex, key) = setup();
    let Err(TxError::Module(e)) = ex.admit(&bump(&key, 1, vec![1]).encode(), NOW) else { panic!("arguments accepted") };
    assert_eq!((e.code(), e.http_status), ("counter.arguments", 422));
}

#[test]
#[should_panic(expected = "wrote undeclared index")]
fn an_index_outside_the_modules_declared_ones_is_refused() {
    let (mut ex, key) = setup();
    struct Rogue;
    impl Module for Rogue {
        fn name(&self) -> &'static str {
            "rogue"
        }
        fn indexes(&self) -> &'static [&'static str] {
            &["rogue.mine"]
        }
        fn check(&self, _: &Call, _: &Genesis) -> Result<(), TxError> {
            Ok(())
        }
        fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
            Counter { index: "evidence.digest" }.execute(ctx, tx, out)
        }
        fn args_from_json(&self, _: &str, _: serde_json::Value) -> Result<Vec<u8>, TxError> {
            Ok(Vec::new())
        }
    }
    ex.register(Box::new(Rogue));
    let mut tx = bump(&key, 1, Vec::new());
    tx.body.call.module = "rogue".into();
    let tx = ex.admit(&tx.body.sign(&key).encode(), NOW).unwrap();
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    let _ = ex.execute(&tx, 1, NOW, 0, &mut state);
}

#[test]
#[should_panic(expected = "is not counter.<index>")]
fn index_names_must_carry_the_modules_name() {
    struct Bad;
    impl Module for Bad {
        fn name(&self) -> &'static str {
            "counter"
        }
        fn indexes(&self) -> &'static [&'static str] {
            &["evidence.digest"]
        }
        fn check(&self, _: &Call, _: &Genesis) -> Result<(), TxError> {
            Ok(())
        }
        fn execute(&self, _: &mut ExecContext<'_, '_>, _: &Transaction, _: &mut TxEffects) -> Result<(), ExecFailure> {
            Ok(())
        }
        fn args_from_json(&self, _: &str, _: serde_json::Value) -> Result<Vec<u8>, TxError> {
            Ok(Vec::new())
        }
    }
    Executor::new(setup().0.genesis().clone(), &[|_| Ok(Box::new(Bad))]);
}

/// The permissions hook: a member whose roles genesis lists may deposit only with
/// `evidence.depositor`; a member without listed roles keeps every right.
#[test]
fn a_method_needs_the_role_its_module_names() {
    let (ex, member) = setup();
    let clerk = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7; 32]).unwrap();
    let reader = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[6; 32]).unwrap();
    let mut genesis = ex.genesis().clone();
    let org = &mut genesis.organisations[0];
    org.members.extend([clerk.public_key().to_hex(), reader.public_key().to_hex()]);
    org.roles.insert(clerk.public_key().to_hex(), vec!["evidence.depositor".into()]);
    org.roles.insert(reader.public_key().to_hex(), vec!["evidence.reader".into()]);
    genesis.validate().unwrap();
    let ex = Executor::new(genesis, &[cairn_module_evidence::module, counter]);
    let deposit = |key: &KeyPair| {
        let record = cairn_module_evidence::wire::RecordInput {
            digest_alg: cairn_module_evidence::wire::DigestAlg::Sha256,
            digest: [1; 32],
            size: 1,
            media_type: "text/plain".into(),
            title: "t".into(),
            reference: None,
            metadata: Default::default(),
        };
        let args = cairn_module_evidence::wire::DepositArgs { records: vec![record] }.encode();
        TxBody {
            chain_id: "modules".into(),
            signer: key.public_key(),
            nonce: 1,
            expires_at_ms: NOW + 60_000,
            call: Call { module: "evidence".into(), method: "deposit".into(), args },
        }
        .sign(key)
    };
    assert!(ex.admit(&deposit(&member).encode(), NOW).is_ok(), "no roles listed: every right");
    assert!(ex.admit(&deposit(&clerk).encode(), NOW).is_ok());
    let refused = ex.admit(&deposit(&reader).encode(), NOW).unwrap_err();
    assert_eq!(refused, TxError::Forbidden { role: "evidence.depositor".into() });
    assert_eq!(refused.code(), "forbidden");
    // And at execution, for a transaction that reached a block without admission here.
    let store = MemStore::default();
    let mut state = BlockState::new(Suite::Ed25519Sha256, &store, 0, EMPTY, None, 0).unwrap();
    let tx = ex.decode_member(&deposit(&reader).encode()).unwrap();
    assert_eq!(ex.execute(&tx, 1, NOW, 0, &mut state).unwrap(), Err(TxError::Forbidden { role: "evidence.depositor".into() }));
    // A method with no role (the counter names none) is open to every member.
    assert!(ex.admit(&bump(&reader, 2, Vec::new()).encode(), NOW).is_ok());
}

#[test]
fn genesis_refuses_roles_for_strangers_and_roles_without_a_module() {
    let (ex, member) = setup();
    let mut g = ex.genesis().clone();
    g.organisations[0].roles.insert("00".repeat(32), vec!["evidence.depositor".into()]);
    assert!(g.validate().unwrap_err().to_string().contains("not one of its members"));
    let mut g = ex.genesis().clone();
    g.organisations[0].roles.insert(member.public_key().to_hex(), vec!["depositor".into()]);
    assert!(g.validate().unwrap_err().to_string().contains("must be <module>.<role>"));
    // A genesis without roles keeps its bytes (chains made before roles existed).
    assert!(!ex.genesis().to_json().contains("roles"));
}

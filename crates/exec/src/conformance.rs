//! The module conformance harness: every module's tests call [`check`] with a chain of their
//! choosing and sample calls, and it checks what the platform relies on:
//!
//! * encoding: `args_from_json` gives bytes `check` accepts; those bytes cut short by one, or
//!   with one byte appended, are refused (not a panic), so the argument decoder is canonical;
//! * determinism: the samples executed as one block on two fresh states give the same
//!   verdicts, leaves, index entries and state root;
//! * namespacing: every state key the module writes is under its name (and its readable view,
//!   if it has one, accepts the value), every leaf decodes as a log entry and re-encodes to the
//!   same bytes (a version 2 leaf names the module);
//! * error codes: each refusal has the expected code (`<module>.<code>` for the module's own),
//!   a kebab-case code and a 4xx status.
//!
//! It panics with a message naming the sample and what failed (it is a test harness).

use cairn_crypto::KeyPair;
use cairn_state::{BlockState, EMPTY, MemStore};
use cairn_types::genesis::Genesis;
use cairn_types::log::LogEntry;
use cairn_types::tx::{Call, Transaction, TxBody};

use crate::{Executor, ModuleFactory, TxError};

/// Block time of the harness's block; transactions expire a minute later.
const TIME_MS: u64 = 1_700_000_000_000;
const HEIGHT: u64 = 1;

/// A chain for harness runs: one organisation whose one member is `member`, one validator,
/// the given parameters.
pub fn genesis(member: &KeyPair, params: cairn_types::genesis::Params) -> Genesis {
    let suite = member.suite();
    Genesis {
        chain_id: "conformance".into(),
        suite,
        genesis_time_ms: 0,
        organisations: vec![cairn_types::genesis::Organisation {
            id: "org".into(),
            name: "Org".into(),
            members: vec![member.public_key().to_hex()],
            roles: Default::default(),
        }],
        validators: vec![cairn_types::genesis::ValidatorInfo {
            name: "v".into(),
            organisation: "org".into(),
            public_key: KeyPair::from_secret_bytes(suite, &[8; 32]).expect("a valid secret").public_key().to_hex(),
            address: None,
            consensus_key: None,
            vote_key: None,
            p2p_address: None,
        }],
        params,
    }
}

/// One call and what must come of it.
pub struct Sample {
    pub method: &'static str,
    pub args: serde_json::Value,
    /// `None`: it executes; `Some(code)`: it is refused with that code (at admission or execution).
    pub refused: Option<&'static str>,
}

/// What one sample gave, comparable across runs.
#[derive(Debug, PartialEq, Eq)]
enum Outcome {
    Refused(String),
    Executed { leaves: Vec<Vec<u8>>, index: Vec<(&'static str, Vec<u8>, Vec<u8>)> },
}

fn sign(genesis: &Genesis, key: &KeyPair, module: &str, method: &str, args: Vec<u8>, nonce: u64) -> Vec<u8> {
    TxBody {
        chain_id: genesis.chain_id.clone(),
        signer: key.public_key(),
        nonce,
        expires_at_ms: TIME_MS + 60_000,
        call: Call { module: module.into(), method: method.into(), args },
    }
    .sign(key)
    .encode()
}

fn check_refusal(module: &str, what: &str, e: &TxError) {
    let code = e.code();
    assert!(
        !code.is_empty() && code.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-' || b == b'.'),
        "{what}: code {code:?} is not kebab-case"
    );
    if let TxError::Module(m) = e {
        assert!(code.starts_with(&format!("{module}.")), "{what}: the module's code {code:?} is not stamped with {module}");
        assert!((400..500).contains(&m.http_status), "{what}: status {} is not 4xx", m.http_status);
    }
}

/// Admits and executes the samples as one block on a fresh state.
type Written = std::collections::BTreeMap<Vec<u8>, Option<Vec<u8>>>;

fn run_block(exec: &Executor, module: &str, txs: &[Result<Vec<u8>, TxError>]) -> (Vec<Outcome>, cairn_crypto::Hash, Written) {
    let store = MemStore::default();
    let mut state = BlockState::new(exec.suite(), &store, HEIGHT - 1, EMPTY, None, HEIGHT - 1).expect("an empty parent");
    let mut first_leaf = 0;
    exec.begin_block(HEIGHT, TIME_MS, first_leaf, &mut state).expect("state in memory does not fail");
    let mut outcomes = Vec::new();
    for tx in txs {
        let admitted: Result<Transaction, TxError> = tx.clone().and_then(|bytes| exec.admit(&bytes, TIME_MS));
        let outcome = match admitted {
            Err(e) => Outcome::Refused(e.code().to_string()),
            Ok(tx) => match exec.execute(&tx, HEIGHT, TIME_MS, first_leaf, &mut state).expect("state in memory does not fail") {
                Err(e) => {
                    check_refusal(module, "execution", &e);
                    Outcome::Refused(e.code().to_string())
                }
                Ok(effects) => {
                    first_leaf += effects.leaves.len().max(1) as u64;
                    Outcome::Executed { leaves: effects.leaves, index: effects.index.into_iter().map(|e| (e.index, e.key, e.value)).collect() }
                }
            },
        };
        outcomes.push(outcome);
    }
    exec.end_block(HEIGHT, TIME_MS, first_leaf, &mut state).expect("state in memory does not fail");
    let overlay = state.finish(HEIGHT).expect("state in memory does not fail");
    (outcomes, overlay.root, overlay.values)
}

/// Runs the harness on the module `factory` makes for `genesis`; `signer` must be a member.
pub fn check(factory: ModuleFactory, genesis: Genesis, signer: &KeyPair, samples: &[Sample]) {
    let module_name = factory(&genesis).expect("the genesis parameters are the module's").name();
    let exec = Executor::new(genesis.clone(), &[factory]);
    let module = exec.modules().next().expect("one module");
    let mut txs = Vec::new();
    for (i, s) in samples.iter().enumerate() {
        let what = format!("sample {i} ({module_name}.{})", s.method);
        let args = match module.args_from_json(s.method, s.args.clone()) {
            Ok(a) => a,
            Err(e) => {
                check_refusal(module_name, &what, &e);
                txs.push(Err(e));
                continue;
            }
        };
        let call = Call { module: module_name.into(), method: s.method.into(), args: args.clone() };
        if module.check(&call, &genesis).is_ok() {
            // A canonical decoder refuses the bytes cut short or extended.
            let mut longer = args.clone();
            longer.push(0);
            let mut variants = vec![("one byte appended", longer)];
            if !args.is_empty() {
                variants.push(("cut short by one byte", args[..args.len() - 1].to_vec()));
            }
            for (how, bytes) in variants {
                let v = exec.admit(&sign(&genesis, signer, module_name, s.method, bytes, 1 << 40), TIME_MS);
                match v {
                    Err(e) => check_refusal(module_name, &format!("{what}, arguments {how}"), &e),
                    Ok(_) => panic!("{what}: arguments {how} were admitted; the decoder is not canonical"),
                }
            }
        }
        txs.push(Ok(sign(&genesis, signer, module_name, s.method, args, i as u64)));
    }
    let (first, root, written) = run_block(&exec, module_name, &txs);
    let (second, root_again, _) = run_block(&exec, module_name, &txs);
    assert_eq!(first, second, "{module_name}: the same block executed twice gave different effects");
    assert_eq!(root, root_again, "{module_name}: the same block executed twice gave different state roots");
    // `str module | bytes key`: every key of the module starts with `str module`.
    let mut prefix = (module_name.len() as u32).to_be_bytes().to_vec();
    prefix.extend_from_slice(module_name.as_bytes());
    assert!(cairn_state::state_key(module_name, b"k").starts_with(&prefix), "state keys begin with the module's name");
    for (k, value) in &written {
        assert!(k.starts_with(&prefix), "{module_name} wrote state key {} outside its namespace", hex::encode(k));
        // `str module | bytes key`: the module's own key after its name and a length.
        let own = &k[prefix.len() + 4..];
        if let Some(Err(e)) = module.state_view(own, value.as_deref()) {
            panic!("{module_name}: its own state value under {} has no view: {e}", hex::encode(own));
        }
    }
    for (i, (s, outcome)) in samples.iter().zip(&first).enumerate() {
        let what = format!("sample {i} ({module_name}.{})", s.method);
        match (s.refused, outcome) {
            (None, Outcome::Executed { leaves, .. }) => {
                for leaf in leaves {
                    let entry = LogEntry::decode(leaf).unwrap_or_else(|e| panic!("{what}: a leaf does not decode: {e}"));
                    assert_eq!(&entry.encode(), leaf, "{what}: a leaf does not re-encode to its bytes");
                    if let LogEntry::Module(m) = &entry {
                        assert_eq!(m.module, module_name, "{what}: a leaf names another module");
                    }
                }
            }
            (Some(code), Outcome::Refused(got)) => assert_eq!(got, code, "{what}: refused with another code"),
            (want, got) => panic!("{what}: expected {}, got {got:?}", want.map_or("execution".to_string(), |c| format!("refusal {c}"))),
        }
    }
}

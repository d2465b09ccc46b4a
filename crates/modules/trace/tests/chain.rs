//! Capture through the executor, block by block, on state in memory: hash IDs and eventIDs
//! unique across the chain (rollback refuses, proceed skips), duplicates inside one capture,
//! admission re-deriving every record from its body, the capturer role, strict decoding, and
//! the same state roots on a second run.

use cairn_crypto::{KeyPair, Suite};
use cairn_exec::{Executor, TxError};
use cairn_module_trace::prepare::{parse_document, prepare_document};
use cairn_module_trace::wire::{CaptureArgs, EventRecord, FirstRecord, hash_key};
use cairn_state::{BlockState, EMPTY, MemStore, StateStore, state_key};
use cairn_types::genesis::{Genesis, Organisation, Params, ValidatorInfo};
use cairn_types::tx::{Call, Transaction, TxBody};
use serde_json::json;

const T0: u64 = 1_700_000_000_000;

fn key(seed: u8) -> KeyPair {
    KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[seed; 32]).unwrap()
}

struct Chain {
    exec: Executor,
    store: MemStore,
    height: u64,
    root: cairn_crypto::Hash,
    nonce: u64,
    roots: Vec<cairn_crypto::Hash>,
}

impl Chain {
    /// Two organisations: `farm` (key 1, every right; key 3 a depositor only) and `shop` (key 2,
    /// a capturer).
    fn new() -> Self {
        let org = |id: &str, keys: &[&KeyPair], roles: Vec<(String, Vec<String>)>| Organisation {
            id: id.into(),
            name: id.to_uppercase(),
            members: keys.iter().map(|k| k.public_key().to_hex()).collect(),
            roles: roles.into_iter().collect(),
        };
        let (k1, k2, k3) = (key(1), key(2), key(3));
        let genesis = Genesis {
            chain_id: "trace-test".into(),
            suite: Suite::Ed25519Sha256,
            genesis_time_ms: T0,
            organisations: vec![
                org("farm", &[&k1, &k3], vec![(k3.public_key().to_hex(), vec!["evidence.depositor".into()])]),
                org("shop", &[&k2], vec![(k2.public_key().to_hex(), vec!["trace.capturer".into()])]),
            ],
            validators: vec![ValidatorInfo {
                name: "v1".into(),
                organisation: "farm".into(),
                public_key: key(99).public_key().to_hex(),
                address: None,
                consensus_key: None,
                vote_key: None,
                p2p_address: None,
            }],
            params: Params::default(),
        };
        genesis.validate().unwrap();
        let exec = Executor::new(genesis, &[cairn_module_trace::module]);
        Chain { exec, store: MemStore::default(), height: 0, root: EMPTY, nonce: 0, roots: Vec::new() }
    }

    fn now(&self) -> u64 {
        T0 + (self.height + 1) * 1000
    }

    fn capture(&mut self, signer: &KeyPair, args: &CaptureArgs) -> Transaction {
        self.nonce += 1;
        TxBody {
            chain_id: "trace-test".into(),
            signer: signer.public_key(),
            nonce: self.nonce,
            expires_at_ms: self.now() + 60_000,
            call: Call { module: "trace".into(), method: "capture".into(), args: args.encode() },
        }
        .sign(signer)
    }

    fn admit(&self, tx: &Transaction) -> Result<(), TxError> {
        self.exec.admit(&tx.encode(), self.now()).map(|_| ())
    }

    /// One block; per transaction its verdict and its number of leaves.
    fn block(&mut self, txs: Vec<Transaction>) -> Vec<Result<usize, TxError>> {
        let height = self.height + 1;
        let time = self.now();
        let mut state = BlockState::new(Suite::Ed25519Sha256, &self.store, self.height, self.root, None, self.height).unwrap();
        self.exec.begin_block(height, time, 0, &mut state).unwrap();
        let mut out = Vec::new();
        let mut leaf = 0;
        for tx in &txs {
            let checked = self.exec.admit_many(&[tx.encode()], None).pop().unwrap().map(|_| ());
            let r = checked.and_then(|()| self.exec.execute(tx, height, time, leaf, &mut state).unwrap().map(|fx| fx.leaves.len()));
            if let Ok(n) = &r {
                leaf += *n as u64;
            }
            out.push(r);
        }
        self.exec.end_block(height, time, 0, &mut state).unwrap();
        let overlay = state.finish(height).unwrap();
        self.store.persist(&overlay);
        self.root = overlay.root;
        self.roots.push(overlay.root);
        self.height = height;
        out
    }

    fn first_record(&self, e: &EventRecord) -> Option<FirstRecord> {
        self.store.value_at(&state_key("trace", &hash_key(&e.hash)), self.height).unwrap().map(|v| FirstRecord::decode(&v).unwrap())
    }
}

fn events(n: usize, epc_base: u32) -> Vec<EventRecord> {
    let list: Vec<_> = (0..n)
        .map(|i| {
            json!({"type": "ObjectEvent", "eventTime": format!("2026-05-0{}T10:00:00Z", 1 + i % 9), "eventTimeZoneOffset": "+00:00", "action": "OBSERVE",
                   "bizStep": "shipping", "epcList": [format!("urn:epc:id:sgtin:0614141.107346.{}", epc_base + i as u32)]})
        })
        .collect();
    let doc = json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0",
                     "creationDate": "2026-05-01T00:00:00Z", "epcisBody": {"eventList": list}});
    let (ok, problems) = prepare_document(&parse_document(&doc).unwrap(), false);
    assert!(problems.is_empty(), "{problems:?}");
    ok.into_iter().map(|(_, e)| e).collect()
}

fn code<T>(r: &Result<T, TxError>) -> &str {
    match r {
        Ok(_) => "ok",
        Err(e) => e.code(),
    }
}

#[test]
fn an_event_hash_is_recorded_once_rollback_refuses_and_proceed_skips() {
    let mut c = Chain::new();
    let (farm, shop) = (key(1), key(2));
    let first = events(3, 100);
    let tx = c.capture(&farm, &CaptureArgs { proceed: false, events: first.clone() });
    c.admit(&tx).unwrap();
    assert_eq!(c.block(vec![tx])[0].as_ref().unwrap(), &3);
    let rec = c.first_record(&first[1]).expect("recorded");
    assert_eq!((rec.leaf, rec.height, rec.organisation.as_str()), (1, 1, "farm"));

    // Another organisation captures one of them again, with a new one: all or nothing.
    let again = vec![events(1, 200)[0].clone(), first[1].clone()];
    let tx = c.capture(&shop, &CaptureArgs { proceed: false, events: again.clone() });
    let r = c.block(vec![tx]);
    assert_eq!(code(&r[0]), "trace.duplicate-event");
    let msg = r[0].as_ref().unwrap_err().to_string();
    assert!(msg.contains("event 1") && msg.contains("leaf 1") && msg.contains("farm"), "{msg}");
    assert!(c.first_record(&again[0]).is_none(), "a refused capture leaves no state");
    // proceed: the new one is recorded, the duplicate skipped; the first record stays the farm's.
    let tx = c.capture(&shop, &CaptureArgs { proceed: true, events: again.clone() });
    assert_eq!(c.block(vec![tx])[0].as_ref().unwrap(), &1);
    assert_eq!(c.first_record(&again[0]).unwrap().organisation, "shop");
    assert_eq!(c.first_record(&first[1]).unwrap().organisation, "farm");

    // The same event twice in one capture: read-your-writes inside the block.
    let twice = vec![events(1, 300)[0].clone(), events(1, 300)[0].clone()];
    let tx = c.capture(&farm, &CaptureArgs { proceed: false, events: twice });
    assert_eq!(code(&c.block(vec![tx])[0]), "trace.duplicate-event");
}

#[test]
fn an_event_id_is_unique_too() {
    let mut c = Chain::new();
    let farm = key(1);
    let mut a = events(1, 400)[0].clone();
    a.event_id = "urn:uuid:1".into();
    let mut b = events(1, 401)[0].clone();
    b.event_id = "urn:uuid:1".into();
    // Not admissible as built (the ids are not their bodies'), but a block may carry them.
    let t1 = c.capture(&farm, &CaptureArgs { proceed: false, events: vec![a] });
    let t2 = c.capture(&farm, &CaptureArgs { proceed: false, events: vec![b] });
    let r = c.block(vec![t1, t2]);
    assert_eq!((code(&r[0]), code(&r[1])), ("ok", "trace.duplicate-event-id"));
}

#[test]
fn admission_re_derives_each_record_from_its_body() {
    let mut c = Chain::new();
    let farm = key(1);
    let good = events(2, 500);
    let tx = c.capture(&farm, &CaptureArgs { proceed: false, events: good.clone() });
    assert_eq!(code(&c.admit(&tx)), "ok");
    // Another event's hash, another EPC, another bizStep: each refused at admission.
    type Tamper = Box<dyn Fn(&mut EventRecord)>;
    let tampered: Vec<Tamper> = vec![
        Box::new(|e| e.hash = [9; 32]),
        Box::new(|e| e.ids[0].1 = "https://id.gs1.org/01/10614141073464/21/999".into()),
        Box::new(|e| e.biz_step = "receiving".into()),
        Box::new(|e| e.event_time_ms += 1),
        Box::new(|e| {
            let mut body = e.body.clone().unwrap();
            body.extend_from_slice(b" ");
            e.body = Some(body);
        }),
    ];
    for (i, t) in tampered.iter().enumerate() {
        let mut evs = good.clone();
        t(&mut evs[1]);
        let tx = c.capture(&farm, &CaptureArgs { proceed: false, events: evs });
        let r = c.admit(&tx);
        assert_eq!(code(&r), "trace.invalid-event", "tampering {i}: {r:?}");
    }
    // Hash-only: the capturer's word, no body to re-derive from.
    let mut hash_only = good.clone();
    hash_only[0].body = None;
    let tx = c.capture(&farm, &CaptureArgs { proceed: false, events: hash_only });
    assert_eq!(code(&c.admit(&tx)), "ok");
}

#[test]
fn only_capturers_capture() {
    let mut c = Chain::new();
    let (shop, depositor) = (key(2), key(3));
    let tx = c.capture(&depositor, &CaptureArgs { proceed: false, events: events(1, 600) });
    let r = c.admit(&tx);
    assert_eq!(code(&r), "forbidden");
    assert!(r.unwrap_err().to_string().contains("trace.capturer"));
    assert_eq!(code(&c.block(vec![tx])[0]), "forbidden", "and at execution");
    let tx = c.capture(&shop, &CaptureArgs { proceed: false, events: events(1, 600) });
    assert_eq!(code(&c.block(vec![tx])[0]), "ok");
}

#[test]
fn captures_decode_strictly() {
    let args = CaptureArgs { proceed: true, events: events(2, 700) };
    let bytes = args.encode();
    assert_eq!(CaptureArgs::decode(&bytes).unwrap(), args);
    assert!(CaptureArgs::decode(&[bytes.as_slice(), &[0]].concat()).is_err(), "trailing bytes");
    let mut flags = bytes.clone();
    flags[0] = 0x80;
    assert!(CaptureArgs::decode(&flags).is_err(), "unknown flag");
    assert!(CaptureArgs::decode(&CaptureArgs { proceed: false, events: vec![] }.encode()).is_err(), "no events");
    let mut unsorted = args.clone();
    unsorted.events[0].ids = vec![(cairn_module_trace::wire::Role::Epc, "b".into()), (cairn_module_trace::wire::Role::Epc, "a".into())];
    assert!(CaptureArgs::decode(&unsorted.encode()).is_err(), "identifiers out of order");
    for n in 0..bytes.len() {
        assert!(CaptureArgs::decode(&bytes[..n]).is_err(), "truncated at {n}");
    }
}

#[test]
fn the_same_captures_give_the_same_roots() {
    let run = || {
        let mut c = Chain::new();
        let farm = key(1);
        for i in 0..3 {
            let tx = c.capture(&farm, &CaptureArgs { proceed: true, events: events(5, 800 + i * 3) });
            c.block(vec![tx]);
        }
        c.roots
    };
    let (a, b) = (run(), run());
    assert_eq!(a, b);
    assert!(a.windows(2).all(|w| w[0] != w[1]), "each block changed the state");
}

use std::collections::BTreeMap;
use std::sync::Arc;

use super::*;

const SUITES: [Suite; 2] = [Suite::Ed25519Sha256, Suite::Sm2Sm3];

/// Deterministic test keys and values.
fn kv(i: u64) -> (Vec<u8>, Vec<u8>) {
    (state_key("test", &i.to_be_bytes()), format!("value {i}").into_bytes())
}

/// The root of a set, built from nothing in one batch (the reference for incremental updates).
fn root_of(suite: Suite, set: &BTreeMap<Vec<u8>, Vec<u8>>) -> Hash {
    let mut ups: Vec<(Hash, Option<Hash>)> = set.iter().map(|(k, v)| (key_hash(suite, k), Some(value_hash(suite, v)))).collect();
    ups.sort();
    apply(suite, &NoNodes, 1, Child::EMPTY, &ups).unwrap().root.hash
}

/// A tree in memory: every node ever created, and the current root (one write, one height).
struct Tree {
    suite: Suite,
    nodes: std::collections::HashMap<NodeAt, Node>,
    root: Hash,
    root_at: Child,
    height: u64,
}

impl Tree {
    fn new(suite: Suite) -> Self {
        Tree { suite, nodes: Default::default(), root: EMPTY, root_at: Child::EMPTY, height: 0 }
    }
    fn write(&mut self, batch: &[(Vec<u8>, Option<Vec<u8>>)]) {
        let mut ups: BTreeMap<Hash, Option<Hash>> = BTreeMap::new();
        for (k, v) in batch {
            ups.insert(key_hash(self.suite, k), v.as_ref().map(|v| value_hash(self.suite, v)));
        }
        let ups: Vec<_> = ups.into_iter().collect();
        self.height += 1;
        let u = apply(self.suite, &self.nodes, self.height, self.root_at, &ups).unwrap();
        let height = self.height;
        self.nodes.extend(u.nodes.into_iter().enumerate().map(|(i, n)| (NodeAt { height, index: i as u32 }, n)));
        self.root = u.root.hash;
        self.root_at = u.root;
    }

    fn prove(&self, key_hash: &Hash) -> (StateProof, Option<Hash>) {
        prove(self.suite, &self.nodes, self.root_at, key_hash).unwrap()
    }
}

#[test]
fn root_depends_on_the_set_not_the_order_of_writes() {
    for suite in SUITES {
        let mut set = BTreeMap::new();
        let mut tree = Tree::new(suite);
        // Batches of varying sizes, overwrites included.
        let mut i = 0u64;
        for batch_len in [1usize, 1, 2, 5, 17, 64, 3, 200] {
            let mut batch = Vec::new();
            for _ in 0..batch_len {
                let (k, v) = kv(i * 7 % 251);
                let v = [v, i.to_be_bytes().to_vec()].concat();
                set.insert(k.clone(), v.clone());
                batch.push((k, Some(v)));
                i += 1;
            }
            tree.write(&batch);
            assert_eq!(tree.root, root_of(suite, &set), "after {} writes", i);
        }
    }
}

#[test]
fn deleting_restores_the_earlier_root() {
    for suite in SUITES {
        let mut tree = Tree::new(suite);
        let base: Vec<_> = (0..100).map(kv).map(|(k, v)| (k, Some(v))).collect();
        tree.write(&base);
        let before = tree.root;
        let extra: Vec<_> = (100..140).map(kv).map(|(k, v)| (k, Some(v))).collect();
        tree.write(&extra);
        assert_ne!(tree.root, before);
        let deletes: Vec<_> = (100..140).map(kv).map(|(k, _)| (k, None)).collect();
        tree.write(&deletes);
        assert_eq!(tree.root, before);
        // Deleting everything, in two batches, leaves the empty tree.
        tree.write(&(0..50).map(kv).map(|(k, _)| (k, None)).collect::<Vec<_>>());
        tree.write(&(50..100).map(kv).map(|(k, _)| (k, None)).collect::<Vec<_>>());
        assert_eq!(tree.root, EMPTY);
        // Deleting an absent key changes nothing.
        tree.write(&[(kv(7).0, None)]);
        assert_eq!(tree.root, EMPTY);
    }
}

#[test]
fn proofs_of_presence_and_absence_verify_and_nothing_else_does() {
    for suite in SUITES {
        let mut tree = Tree::new(suite);
        tree.write(&(0..300).map(kv).map(|(k, v)| (k, Some(v))).collect::<Vec<_>>());
        for i in (0..300).step_by(37) {
            let (k, v) = kv(i);
            let kh = key_hash(suite, &k);
            let (proof, found) = tree.prove(&kh);
            assert_eq!(found, Some(value_hash(suite, &v)));
            assert_eq!(proof.terminal, Terminal::Present);
            verify(suite, &tree.root, &kh, Some(&v), &proof).unwrap();
            assert_eq!(StateProof::decode(&proof.encode()).unwrap(), proof);
            assert_eq!(verify(suite, &tree.root, &kh, Some(b"other"), &proof), Err(ProofError::RootMismatch));
            assert!(verify(suite, &tree.root, &kh, None, &proof).is_err());
        }
        let mut kinds = std::collections::BTreeSet::new();
        for i in 300..400 {
            let kh = key_hash(suite, &kv(i).0);
            let (proof, found) = tree.prove(&kh);
            assert_eq!(found, None);
            kinds.insert(proof.encode()[1]);
            verify(suite, &tree.root, &kh, None, &proof).unwrap();
            assert!(verify(suite, &tree.root, &kh, Some(b"x"), &proof).is_err());
            // Every single-bit flip of the encoded proof is refused.
            let bytes = proof.encode();
            for bit in 0..bytes.len() * 8 {
                let mut flipped = bytes.clone();
                flipped[bit / 8] ^= 0x80 >> (bit % 8);
                let ok = StateProof::decode(&flipped).is_ok_and(|p| verify(suite, &tree.root, &kh, None, &p).is_ok());
                assert!(!ok, "flip of bit {bit} accepted");
            }
        }
        assert_eq!(kinds.len(), 2, "both kinds of absence proof were exercised");
    }
}

#[test]
fn the_empty_tree_proves_absence() {
    let kh = key_hash(Suite::Ed25519Sha256, b"k");
    let (proof, found) = prove(Suite::Ed25519Sha256, &NoNodes, Child::EMPTY, &kh).unwrap();
    assert_eq!(found, None);
    assert_eq!(proof.encode(), vec![1, 1, 0, 0]);
    verify(Suite::Ed25519Sha256, &EMPTY, &kh, None, &proof).unwrap();
}

#[test]
fn malformed_proofs_are_refused() {
    for bad in [&[][..], &[2, 0, 0, 0], &[1, 3, 0, 0], &[1, 0, 0, 1], &[1, 0, 1, 1]] {
        assert!(StateProof::decode(bad).is_err(), "{bad:?}");
    }
    let mut deep = vec![1, 1, 1, 1];
    deep.extend(std::iter::repeat_n(0, 32 * 257));
    assert_eq!(StateProof::decode(&deep), Err(ProofError::Malformed("deeper than 256")));
}

#[test]
fn a_missing_node_is_an_error_not_a_wrong_root() {
    let suite = Suite::Ed25519Sha256;
    let mut tree = Tree::new(suite);
    tree.write(&(0..10).map(kv).map(|(k, v)| (k, Some(v))).collect::<Vec<_>>());
    let err = apply(suite, &NoNodes, 2, tree.root_at, &[(key_hash(suite, &kv(50).0), Some([1; 32]))]).unwrap_err();
    assert!(matches!(err, StateError::MissingNode(_)));
}

#[test]
fn blocks_read_their_writes_through_non_durable_parents() {
    let suite = Suite::Ed25519Sha256;
    let mut store = MemStore::default();
    let key = |s: &str| state_key("m", s.as_bytes());
    // Block 1, durable.
    let mut b1 = BlockState::new(suite, &store, 0, EMPTY, None, 0).unwrap();
    b1.put(key("a"), b"1".to_vec());
    b1.commit_tx();
    let o1 = Arc::new(b1.finish(1).unwrap());
    store.persist(&o1);
    // Block 2 on 1 (not durable), then two competing children of 2.
    let mut b2 = BlockState::new(suite, &store, 1, o1.root, Some(o1.clone()), 1).unwrap();
    assert_eq!(b2.get(&key("a")).unwrap(), Some(b"1".to_vec()));
    b2.put(key("b"), b"2".to_vec());
    b2.put(key("gone"), b"x".to_vec());
    b2.abort_tx();
    b2.put(key("b"), b"2".to_vec());
    assert_eq!(b2.get(&key("b")).unwrap(), Some(b"2".to_vec()), "read your own write");
    b2.commit_tx();
    let o2 = Arc::new(b2.finish(2).unwrap());
    let fork = |v: &[u8]| {
        let mut b = BlockState::new(suite, &store, 2, o2.root, Some(o2.clone()), 1).unwrap();
        assert_eq!(b.get(&key("b")).unwrap(), Some(b"2".to_vec()));
        assert_eq!(b.get(&key("gone")).unwrap(), None, "an aborted write is not seen");
        b.put(key("a"), v.to_vec());
        b.commit_tx();
        b.finish(3).unwrap()
    };
    let (x, y) = (fork(b"x"), fork(b"y"));
    assert_ne!(x.root, y.root);
    // The roots equal those of the same sets built from scratch.
    let set = |a: &[u8]| BTreeMap::from([(key("a"), a.to_vec()), (key("b"), b"2".to_vec())]);
    assert_eq!(x.root, root_of(suite, &set(b"x")));
    assert_eq!(y.root, root_of(suite, &set(b"y")));
    // Once block 2 is durable (and one more), its overlay is skipped and the link to it cut.
    store.persist(&o2);
    let x = Arc::new(x);
    store.persist(&x);
    assert_eq!(BlockState::new(suite, &store, 3, x.root, Some(x.clone()), 2).unwrap().chain_len(), 2, "the newest durable overlay is kept");
    let b = BlockState::new(suite, &store, 3, x.root, Some(x), 3).unwrap();
    assert_eq!(b.chain_len(), 1);
    assert_eq!(b.get(&key("a")).unwrap(), Some(b"x".to_vec()));
    assert_eq!(b.get(&key("b")).unwrap(), Some(b"2".to_vec()));
    // As of height 1, "b" did not exist yet.
    assert_eq!(store.value_at(&key("b"), 1).unwrap(), None);
}

/// Vectors for third-party verifiers (`testdata/vectors/state.json`): written when
/// `CAIRN_WRITE_VECTORS=1`, otherwise compared byte for byte.
#[test]
fn vectors() {
    let mut out = Vec::new();
    for suite in SUITES {
        let mut tree = Tree::new(suite);
        let pairs: Vec<(Vec<u8>, Vec<u8>)> = (0..24).map(kv).collect();
        tree.write(&pairs.iter().map(|(k, v)| (k.clone(), Some(v.clone()))).collect::<Vec<_>>());
        let mut proofs = Vec::new();
        for i in [0u64, 5, 23, 24, 25, 99, 1000] {
            let (k, v) = kv(i);
            let (proof, found) = tree.prove(&key_hash(suite, &k));
            proofs.push(serde_json::json!({
                "module": "test",
                "key": hex::encode(i.to_be_bytes()),
                "state_key": hex::encode(&k),
                "value": found.map(|_| hex::encode(&v)),
                "proof": hex::encode(proof.encode()),
            }));
        }
        out.push(serde_json::json!({
            "suite": suite.name(),
            "pairs": pairs.iter().map(|(k, v)| serde_json::json!({"state_key": hex::encode(k), "value": hex::encode(v)})).collect::<Vec<_>>(),
            "root": hex::encode(tree.root),
            "proofs": proofs,
        }));
    }
    let text = serde_json::to_string_pretty(&serde_json::json!({
        "description": "Cairn authenticated state (docs/encoding.md): state keys and values, the tree root, and presence/absence proofs against it",
        "trees": out,
    }))
    .unwrap()
        + "\n";
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/vectors/state.json");
    if std::env::var("CAIRN_WRITE_VECTORS").is_ok() {
        std::fs::write(&path, &text).unwrap();
    }
    assert_eq!(std::fs::read_to_string(&path).expect("state vectors (CAIRN_WRITE_VECTORS=1 writes them)"), text);
}

/// Deep trees, with deletes: only the stored nodes carry the tree from one batch to the next,
/// and every key is provable from them.
#[test]
fn nodes_carry_a_deep_tree_across_batches() {
    let suite = Suite::Ed25519Sha256;
    let mut tree = Tree::new(suite);
    let mut set = BTreeMap::new();
    for round in 0..6u64 {
        let mut batch = Vec::new();
        for i in 0..1500u64 {
            let (k, v) = kv(round * 1000 + i);
            if (round + i) % 7 == 0 {
                set.remove(&k);
                batch.push((k, None));
            } else {
                set.insert(k.clone(), v.clone());
                batch.push((k, Some(v)));
            }
        }
        tree.write(&batch);
        assert_eq!(tree.root, root_of(suite, &set), "round {round}");
    }
    for (k, v) in set.iter().step_by(13) {
        let kh = key_hash(suite, k);
        let (proof, found) = tree.prove(&kh);
        assert_eq!(found, Some(value_hash(suite, v)));
        verify(suite, &tree.root, &kh, Some(v), &proof).unwrap();
    }
}

/// Storage bytes of nodes: a round trip, and every shape a stored node cannot have refused.
#[test]
fn stored_nodes_round_trip_and_bad_shapes_are_refused() {
    let at = |height, index| Some(NodeAt { height, index });
    let leaf = Node::Leaf { key_hash: [3; 32], value_hash: [4; 32] };
    let inner = Node::Inner { left: Child { hash: [5; 32], at: at(7, 9) }, right: Child::EMPTY };
    let here = NodeAt { height: 7, index: 10 };
    for n in [leaf, inner] {
        assert_eq!(Node::decode(&n.encode(), here), Ok(n));
    }
    let refused = Err("child location does not match its hash");
    assert_eq!(Node::decode(&inner.encode(), NodeAt { height: 6, index: 99 }), refused, "a child newer than its parent");
    assert_eq!(Node::decode(&inner.encode(), NodeAt { height: 7, index: 9 }), refused, "a link to itself, or later in its block");
    let mut b = inner.encode();
    b[0] = 0;
    assert_eq!(Node::decode(&b, here), Err("leaf with child locations"));
    let mut b = inner.encode();
    b[33..65].copy_from_slice(&[6; 32]);
    assert_eq!(Node::decode(&b, here), Err("child location does not match its hash"), "a non-empty child without a location");
    let mut b = inner.encode();
    b[1..33].copy_from_slice(&EMPTY);
    assert_eq!(Node::decode(&b, here), Err("child location does not match its hash"), "an empty child with a location");
    let mut b = leaf.encode();
    b[0] = 2;
    assert_eq!(Node::decode(&b, here), Err("unknown tag"));
    assert_eq!(Node::decode(&leaf.encode()[..NODE_BYTES - 1], here), Err("wrong length"));
}

/// A block whose parent root is not what the store holds for the parent's height is an error,
/// not a block built on the wrong state.
#[test]
fn a_parent_root_the_store_does_not_hold_is_refused() {
    let suite = Suite::Ed25519Sha256;
    let mut store = MemStore::default();
    let mut b1 = BlockState::new(suite, &store, 0, EMPTY, None, 0).unwrap();
    b1.put(state_key("m", b"a"), b"1".to_vec());
    b1.commit_tx();
    let o1 = b1.finish(1).unwrap();
    store.persist(&o1);
    assert!(BlockState::new(suite, &store, 1, o1.root, None, 1).is_ok());
    let err = BlockState::new(suite, &store, 1, [9; 32], None, 1).err().expect("a wrong parent root");
    assert!(matches!(err, StateError::RootMismatch { height: 1 }), "{err}");
    // A block that writes nothing keeps its parent's root: the store answers it for height 2.
    assert_eq!(store.root_at(2).unwrap(), o1.root());
}

/// A location that holds another node (corrupt storage, or a losing fork's block reading the
/// winner's nodes) is an error when updating or proving, never a wrong root or proof.
#[test]
fn a_node_at_the_wrong_location_is_an_error_not_a_wrong_root() {
    let suite = Suite::Ed25519Sha256;
    let mut tree = Tree::new(suite);
    tree.write(&(0..50).map(kv).map(|(k, v)| (k, Some(v))).collect::<Vec<_>>());
    let first = NodeAt { height: 1, index: 0 };
    let second = NodeAt { height: 1, index: 1 };
    let (a, b) = (tree.nodes[&first], tree.nodes[&second]);
    tree.nodes.insert(first, b);
    tree.nodes.insert(second, a);
    let mut bad = 0;
    for i in 0..50 {
        let kh = key_hash(suite, &kv(i).0);
        match prove(suite, &tree.nodes, tree.root_at, &kh) {
            Err(StateError::CorruptNode(..)) => bad += 1,
            Ok((proof, found)) => {
                assert!(found.is_some());
                verify(suite, &tree.root, &kh, Some(&kv(i).1), &proof).unwrap();
            }
            Err(e) => panic!("{e}"),
        }
    }
    assert!(bad >= 2, "the keys under the swapped nodes are refused");
    let all: Vec<_> = (0..50).map(|i| (key_hash(suite, &kv(i).0), Some([9; 32]))).collect::<BTreeMap<_, _>>().into_iter().collect();
    assert!(matches!(apply(suite, &tree.nodes, 2, tree.root_at, &all), Err(StateError::CorruptNode(..))));
}

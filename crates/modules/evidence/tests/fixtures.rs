//! Receipts and state receipts made by real chains, kept under `testdata/fixtures/`:
//! receipts issued by an earlier release still verify, state receipts verify, and flipping any
//! bit of what they prove makes them invalid.

use std::path::{Path, PathBuf};

use cairn_module_evidence::receipt::verify_receipt;
use cairn_types::genesis::TrustFile;
use cairn_types::state_receipt::{StateReceipt, StateVerifyError, verify_state_receipt};

/// This verifier knows the evidence module: it checks evidence views.
const VIEWS: cairn_types::state_receipt::StateViews<'static> =
    &|m, k, v| (m == cairn_module_evidence::wire::MODULE).then(|| cairn_module_evidence::state_view(k, v));

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../testdata/fixtures")
}

fn trust(dir: &Path) -> TrustFile {
    TrustFile::from_json(&std::fs::read(dir.join("trust.json")).unwrap()).unwrap()
}

#[test]
fn receipts_of_the_previous_release_still_verify() {
    let root = fixtures().join("receipts-v1");
    let mut checked = 0;
    for chain in ["ed25519-sha256", "sm2-sm3", "testnet-4"] {
        let dir = root.join(chain);
        let trust = trust(&dir);
        for file in ["contract.txt", "photo.bin"] {
            let data = std::fs::read(root.join(file)).unwrap();
            for ext in ["receipt.json", "tlog-proof"] {
                let path = dir.join(format!("{file}.{ext}"));
                let Ok(text) = std::fs::read_to_string(&path) else { continue };
                let v = verify_receipt(&text, &trust, Some(&data)).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
                assert!(v.signers.len() >= trust.quorum);
                // And not with another file.
                assert!(verify_receipt(&text, &trust, Some(b"other bytes")).is_err());
                checked += 1;
            }
        }
    }
    assert_eq!(checked, 10, "every fixture was found");
}

fn state_fixtures() -> Vec<(TrustFile, String, String)> {
    let root = fixtures().join("state-proofs");
    let mut out = Vec::new();
    for suite in ["ed25519-sha256", "sm2-sm3"] {
        let dir = root.join(suite);
        for name in ["present", "present-at-1", "absent"] {
            out.push((trust(&dir), format!("{suite}/{name}"), std::fs::read_to_string(dir.join(format!("{name}.json"))).unwrap()));
        }
    }
    out
}

#[test]
fn state_receipts_verify_and_say_what_the_chain_held() {
    for (trust, name, text) in state_fixtures() {
        let v = verify_state_receipt(&text, &trust, VIEWS).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(v.view_checked, "{name}");
        match name.rsplit('/').next().unwrap() {
            "present" => assert_eq!((v.view["deposits"].as_u64(), v.height), (Some(2), 2), "{name}"),
            "present-at-1" => assert_eq!((v.view["deposits"].as_u64(), v.height), (Some(1), 1), "{name}"),
            _ => assert_eq!(v.view["deposited"], false, "{name}"),
        }
    }
}

/// Every single-bit flip of the bytes a state receipt proves with (value, key, header, proof,
/// inclusion hashes) is refused. (A flipped key of an absence proof is often truly absent too,
/// and the tree proof alone would hold for it; the evidence view names the digest, so the
/// receipt no longer says what its view says.)
#[test]
fn every_flipped_bit_of_a_state_receipt_is_refused() {
    for (trust, name, text) in state_fixtures() {
        let receipt: StateReceipt = serde_json::from_str(&text).unwrap();
        let mut cases = 0;
        let check = |r: &StateReceipt, what: &str| {
            let err = verify_state_receipt(&r.to_json(), &trust, VIEWS).expect_err(&format!("{name}: a flipped bit in {what} was accepted"));
            assert!(!matches!(err, StateVerifyError::Malformed(_)) || what == "format", "{name}: {what}: {err}");
        };
        type Field = fn(&mut StateReceipt) -> &mut Vec<u8>;
        let fields: [(&str, Field); 3] = [("header", |r| &mut r.header), ("proof", |r| &mut r.proof), ("key", |r| &mut r.key)];
        for (what, field) in fields {
            for bit in 0..field(&mut receipt.clone()).len() * 8 {
                let mut r = receipt.clone();
                field(&mut r)[bit / 8] ^= 0x80 >> (bit % 8);
                check(&r, what);
                cases += 1;
            }
        }
        if let Some(value) = &receipt.value {
            for bit in 0..value.len() * 8 {
                let mut r = receipt.clone();
                r.value.as_mut().unwrap()[bit / 8] ^= 0x80 >> (bit % 8);
                check(&r, "value");
                cases += 1;
            }
        }
        for i in 0..receipt.inclusion_proof.len() {
            for bit in 0..256 {
                let mut r = receipt.clone();
                r.inclusion_proof[i][bit / 8] ^= 0x80 >> (bit % 8);
                check(&r, "inclusion proof");
                cases += 1;
            }
        }
        // The claims around them: heights, sizes, the view and the signed note.
        for (m, mutate) in [
            |r: &mut StateReceipt| r.height += 1,
            |r: &mut StateReceipt| r.leaf_index ^= 1,
            |r: &mut StateReceipt| r.tree_size += 1,
            |r: &mut StateReceipt| r.view["deposited"] = serde_json::json!(r.view["deposited"] != true),
            |r: &mut StateReceipt| r.checkpoint = r.checkpoint.replacen("\n\n\u{2014} ", "\n\n\u{2014}  ", 1),
            |r: &mut StateReceipt| r.value = if r.value.is_some() { None } else { Some(vec![1]) },
            |r: &mut StateReceipt| r.module = "other".into(),
        ]
        .into_iter()
        .enumerate()
        {
            if m == 6 && receipt.value.is_none() {
                // Another key on the same path to an empty subtree is truly absent too.
                continue;
            }
            let mut r = receipt.clone();
            mutate(&mut r);
            assert!(verify_state_receipt(&r.to_json(), &trust, VIEWS).is_err(), "{name}: changed claim {m} was accepted");
        }
        assert!(cases > 500, "{name}: {cases} flips");
    }
}

#[test]
fn a_state_receipt_needs_the_chains_trust_file() {
    let all = state_fixtures();
    let (ed, sm) = (&all[0], &all[3]);
    assert!(matches!(verify_state_receipt(&ed.2, &sm.0, VIEWS), Err(StateVerifyError::WrongChain { .. })));
    assert!(verify_state_receipt("{}", &ed.0, VIEWS).is_err());
    assert!(verify_state_receipt("not json", &ed.0, VIEWS).is_err());
}

/// Decoders of outside bytes never panic: truncations and random mutations of real state
/// receipts' headers, leaves, proofs and of the receipt text itself give errors, not crashes.
/// (A deterministic stand-in for a fuzzer run; the seed is fixed so failures replay.)
#[test]
fn decoders_of_outside_bytes_refuse_garbage_without_panicking() {
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut next = move || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for (trust, _, text) in state_fixtures() {
        let r: StateReceipt = serde_json::from_str(&text).unwrap();
        let leaf = cairn_types::log::encode_block_leaf(&cairn_types::block::BlockHeader::decode(&r.header).unwrap());
        for input in [&r.header, &r.proof, &leaf] {
            for cut in 0..input.len() {
                let _ = cairn_types::block::BlockHeader::decode(&input[..cut]);
                let _ = cairn_state::StateProof::decode(&input[..cut]);
                let _ = cairn_module_evidence::wire::EvidenceEntry::from_leaf(trust.suite, &input[..cut]);
            }
            for _ in 0..2000 {
                let mut m = input.clone();
                for _ in 0..1 + next() % 4 {
                    let at = (next() as usize) % m.len();
                    m[at] = next() as u8;
                }
                let _ = cairn_types::block::BlockHeader::decode(&m);
                let _ = cairn_state::StateProof::decode(&m);
                let _ = cairn_module_evidence::wire::EvidenceEntry::from_leaf(trust.suite, &m);
            }
        }
        let bytes = text.as_bytes();
        for _ in 0..300 {
            let mut m = bytes.to_vec();
            let at = (next() as usize) % m.len();
            m[at] = b"{}[]\",:0a-"[(next() % 10) as usize];
            if let Ok(t) = std::str::from_utf8(&m) {
                let _ = verify_state_receipt(t, &trust, VIEWS);
            }
        }
    }
}

/// A batch verification (each distinct checkpoint's signatures checked once) gives the verdict
/// of one-by-one verification for every receipt: good ones, ones with a forged checkpoint
/// signature (whose note text the batch has already seen with its good signature), and forged
/// values.
#[test]
fn batch_verdicts_of_state_receipts_equal_single_verdicts() {
    for (trust, name, text) in state_fixtures() {
        let receipt: StateReceipt = serde_json::from_str(&text).unwrap();
        let mut forged_sig = receipt.clone();
        let at = forged_sig.checkpoint.rfind("— ").unwrap() + 10;
        let mut bytes = forged_sig.checkpoint.into_bytes();
        bytes[at] = if bytes[at] == b'A' { b'B' } else { b'A' };
        forged_sig.checkpoint = String::from_utf8(bytes).unwrap();
        let mut forged_value = receipt.clone();
        forged_value.height += 1;
        let texts = [text.clone(), forged_sig.to_json(), text.clone(), forged_value.to_json()];
        let refs: Vec<&str> = texts.iter().map(String::as_str).collect();
        let batch = cairn_types::state_receipt::verify_state_receipts(&refs, &trust, VIEWS);
        for (i, (t, b)) in texts.iter().zip(&batch).enumerate() {
            let single = verify_state_receipt(t, &trust, VIEWS);
            assert_eq!(single.is_ok(), b.is_ok(), "{name}: receipt {i}");
        }
        assert_eq!(batch.iter().map(Result::is_ok).collect::<Vec<_>>(), [true, false, true, false], "{name}");
    }
}

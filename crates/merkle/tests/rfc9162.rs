//! All 196 RFC 9162 proof cases from the transparency-dev reference tests, plus the known roots.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cairn_crypto::{Hash, Suite};
use cairn_merkle::{MerkleLog, verify_consistency, verify_inclusion};
use serde_json::Value;

fn dir() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata/rfc9162")
}

fn hash(v: &Value) -> Option<Hash> {
    B64.decode(v.as_str().unwrap()).ok()?.try_into().ok()
}

/// Decodes a proof; `None` when any element is not a 32-byte hash (such a proof is rejected).
fn proof(v: &Value) -> Option<Vec<Hash>> {
    v.as_array().map(|a| a.iter().map(hash).collect::<Option<Vec<_>>>()).unwrap_or(Some(vec![]))
}

fn cases(kind: &str) -> Vec<(String, Value)> {
    let mut out = Vec::new();
    let mut stack = vec![dir().join(kind)];
    while let Some(d) = stack.pop() {
        for e in std::fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().is_some_and(|x| x == "json") {
                out.push((p.display().to_string(), serde_json::from_slice(&std::fs::read(&p).unwrap()).unwrap()));
            }
        }
    }
    out.sort_by(|a, b| a.0.cmp(&b.0));
    out
}

#[test]
fn inclusion_cases() {
    let cases = cases("inclusion");
    assert_eq!(cases.len(), 98);
    for (name, c) in cases {
        let want_err = c["wantErr"].as_bool().unwrap();
        let got = (|| {
            let leaf = hash(&c["leafHash"])?;
            let root = B64.decode(c["root"].as_str()?).ok()?;
            let proof = proof(&c["proof"])?;
            Some(verify_inclusion(Suite::Ed25519Sha256, c["leafIdx"].as_u64()?, c["treeSize"].as_u64()?, &leaf, &proof, &root))
        })();
        let accepted = matches!(got, Some(Ok(())));
        assert_eq!(accepted, !want_err, "{name}: {got:?}");
    }
}

#[test]
fn consistency_cases() {
    let cases = cases("consistency");
    assert_eq!(cases.len(), 98);
    for (name, c) in cases {
        let want_err = c["wantErr"].as_bool().unwrap();
        let got = (|| {
            let r1 = B64.decode(c["root1"].as_str()?).ok()?;
            let r2 = B64.decode(c["root2"].as_str()?).ok()?;
            let proof = proof(&c["proof"])?;
            Some(verify_consistency(Suite::Ed25519Sha256, c["size1"].as_u64()?, c["size2"].as_u64()?, &r1, &r2, &proof))
        })();
        let accepted = matches!(got, Some(Ok(())));
        assert_eq!(accepted, !want_err, "{name}: {got:?}");
    }
}

#[test]
fn known_roots() {
    let v: Value = serde_json::from_slice(&std::fs::read(dir().join("roots.json")).unwrap()).unwrap();
    let mut log = MerkleLog::new(Suite::Ed25519Sha256);
    let leaves: Vec<Vec<u8>> = v["leaves_hex"].as_array().unwrap().iter().map(|l| hex::decode(l.as_str().unwrap()).unwrap()).collect();
    assert_eq!(hex::encode(log.root()), v["roots_hex"]["0"].as_str().unwrap());
    for (i, l) in leaves.iter().enumerate() {
        log.push(l);
        let want = v["roots_hex"][(i + 1).to_string()].as_str().unwrap();
        assert_eq!(hex::encode(log.root()), want, "root of {} leaves", i + 1);
    }
}

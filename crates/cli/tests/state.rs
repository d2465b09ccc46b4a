//! State proofs end to end from the CLI, against a real `cairn dev`: "was this file deposited,
//! and when first" and "it had not been deposited as of height H", verified offline with the
//! trust file; the API's refusals name what is wrong.

mod common;

use common::*;
use serde_json::Value;

fn run(args: &[&str]) -> (i32, String) {
    let out = cairn(args);
    (out.status.code().unwrap_or(-1), String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr))
}

fn prove_and_verify(suite: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), suite);
    let (file, later, never) = (tmp.path().join("contract.pdf"), tmp.path().join("later.pdf"), tmp.path().join("never.pdf"));
    std::fs::write(&file, b"%PDF-1.7 the signed contract").unwrap();
    std::fs::write(&later, b"%PDF-1.7 an amendment, deposited later").unwrap();
    std::fs::write(&never, b"%PDF-1.7 never deposited").unwrap();
    let key = node.dir.join("keys/submitter.key");
    let trust = node.trust_path();
    let submit = |f: &std::path::Path| {
        let (code, out) = run(&["evidence", "submit", "--node", &node.url, "--key", key.to_str().unwrap(), "--wait", f.to_str().unwrap()]);
        assert_eq!(code, 0, "{out}");
    };
    submit(&file);
    submit(&file);
    submit(&later);
    let height = node.status()["height"].as_u64().unwrap();
    assert_eq!(height, 3);

    let prove = |f: &std::path::Path, at: Option<u64>, name: &str| {
        let out = tmp.path().join(name);
        let at = at.map(|h| h.to_string());
        let mut args = vec!["evidence", "prove", "--node", &node.url, "--file", f.to_str().unwrap(), "--out", out.to_str().unwrap()];
        if let Some(h) = &at {
            args.extend(["--height", h]);
        }
        let (code, text) = run(&args);
        assert_eq!(code, 0, "{text}");
        let (code, text) = run(&["verify", "--state-proof", out.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
        (code, text, out)
    };
    // Deposited twice, first in block 1.
    let (code, text, proof) = prove(&file, None, "file.json");
    assert_eq!(code, 0, "{text}");
    assert!(text.starts_with("VALID"), "{text}");
    assert!(text.contains("was deposited") && text.contains("in block 1") && text.contains("deposits:   2"), "{text}");
    // As of block 1, the amendment had not been deposited yet; as of block 3 it had.
    let (code, text, _) = prove(&later, Some(1), "later-at-1.json");
    assert_eq!(code, 0, "{text}");
    assert!(text.contains("had not been deposited") && text.contains("as of:      block 1"), "{text}");
    let (code, text, _) = prove(&later, None, "later.json");
    assert!(code == 0 && text.contains("was deposited") && text.contains("in block 3"), "{text}");
    // Never deposited.
    let (code, text, _) = prove(&never, None, "never.json");
    assert!(code == 0 && text.contains("had not been deposited") && text.contains("as of:      block 3"), "{text}");

    // A tampered proof is INVALID with the reason, exit 1.
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(&proof).unwrap()).unwrap();
    v["view"]["deposits"] = Value::from(1);
    let bad = tmp.path().join("bad.json");
    std::fs::write(&bad, v.to_string()).unwrap();
    let (code, text) = run(&["verify", "--state-proof", bad.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert_eq!(code, 1, "{text}");
    assert!(text.starts_with("INVALID: the readable view does not match"), "{text}");
    std::fs::write(&bad, b"{\"format\": \"cairn-state-proof-v1\"").unwrap();
    let (code, text) = run(&["verify", "--state-proof", bad.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert!(code == 1 && text.starts_with("INVALID: state proof is malformed"), "{text}");

    // Refusals: problem documents with stable codes.
    let get = |q: &str| {
        let r = client().get(format!("{}/v1/{q}", node.url)).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap())
    };
    let digest = "00".repeat(32);
    assert_eq!(get(&format!("evidence/state?digest={digest}&height=99")).1["code"], "bad-query");
    assert_eq!(get("evidence/state?digest=XYZ").1["code"], "bad-id");
    assert_eq!(get(&format!("evidence/state?digest={digest}&height=0")).1["code"], "no-state");
    assert_eq!(get(&format!("evidence/state?digest={digest}&alg=md5")).0, 400);
    let (status, v) = get(&format!("state/proof?module=evidence&key={}", "ab".repeat(2000)));
    assert_eq!((status, v["code"].as_str()), (400, Some("bad-query")), "{v}");
    let (status, v) = get("state/proof?module=evidence&key=00");
    assert_eq!((status, v["code"].as_str()), (400, Some("bad-query")), "{v}");
    assert!(v["detail"].as_str().unwrap().contains("not a state key of module evidence"), "{v}");
    // The generic route proves any module's key; an unknown module's key is simply absent.
    let (status, v) = get("state/proof?module=nobody&key=00");
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["value"], Value::Null);
}

#[test]
fn state_proofs_from_the_cli_ed25519() {
    prove_and_verify("ed25519-sha256");
}

#[test]
fn state_proofs_from_the_cli_sm2() {
    prove_and_verify("sm2-sm3");
}

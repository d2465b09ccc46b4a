//! Registries end to end on a real node, through the `cairn registry` CLI: a civil registry in
//! both suites (create, put, amend twice, transfer, suspend, reinstate, revoke), a state proof
//! of every version as of its height and an absence proof, each VALID with `cairn verify
//! --state-proof` and INVALID once changed; credentials issued by the node, checked by `cairn
//! registry credential --verify` (proof, status from the status list credential, disclosures),
//! and every single-bit flip of a JCS credential refused by the verifier; the status list's
//! bits proved from state.

mod common;

use std::path::Path;

use common::{DevNode, cairn, client};
use serde_json::{Value, json};

const G: &str = "civil-births";

fn write(dir: &Path, name: &str, v: &Value) -> String {
    let p = dir.join(name);
    std::fs::write(&p, serde_json::to_vec_pretty(v).unwrap()).unwrap();
    p.to_str().unwrap().to_string()
}

fn schema() -> Value {
    json!({
        "type": "object",
        "properties": {
            "certificate": {"type": "string"}, "district": {"type": "string"},
            "name": {"type": "string"}, "birthDate": {"type": "string", "format": "date"}
        },
        "required": ["certificate", "district", "name", "birthDate"],
        "additionalProperties": false,
        "x-cairn-indexed": ["certificate", "district"],
        "x-cairn-personal": ["name", "birthDate"]
    })
}

/// Runs `cairn registry ARGS --node URL`; its stdout as JSON (or text), panicking on failure.
fn registry(node: &DevNode, args: &[&str]) -> Value {
    let mut all = vec!["registry"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--node", &node.url]);
    let out = cairn(&all);
    assert!(out.status.success(), "cairn {}: {}", all.join(" "), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&out.stdout).into_owned()))
}

fn verify_proof(node: &DevNode, file: &str) -> (bool, String) {
    let out = cairn(&["verify", "--state-proof", file, "--trust", node.trust_path().to_str().unwrap()]);
    (out.status.success(), String::from_utf8_lossy(&out.stdout).into_owned() + &String::from_utf8_lossy(&out.stderr))
}

fn lifecycle(suite: &str) {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), suite);
    let dir = tmp.path();
    let key = node.dir.join("keys/submitter.key");
    let key = key.to_str().unwrap();
    let schema = write(dir, "schema.json", &schema());
    let r = registry(&node, &["create", "--key", key, "--registry", G, "--title-zh", "出生登记", "--title-en", "Birth register", "--schema", &schema]);
    assert_eq!(r["schema_version"], 1);
    let before_entry = node.status()["height"].as_u64().unwrap();

    let fields = |name: &str, district: &str| json!({"certificate": "B000123", "district": district, "name": name, "birthDate": "2026-03-14"});
    let f1 = write(dir, "f1.json", &fields("王小明", "朝阳区"));
    let disclosures = dir.join("d1.json");
    let e = registry(
        &node,
        &[
            "put",
            "--key",
            key,
            "--registry",
            G,
            "--entry",
            "B000123",
            "--holder",
            "did:example:wang",
            "--fields",
            &f1,
            "--disclosures",
            disclosures.to_str().unwrap(),
        ],
    );
    let mut heights = vec![(1u64, e["height"].as_u64().unwrap())];
    let d1: Value = serde_json::from_slice(&std::fs::read(&disclosures).unwrap()).unwrap();
    assert_eq!(d1["disclosures"].as_array().unwrap().len(), 2, "name and birthDate sealed");
    let got = registry(&node, &["get", "--registry", G, "--entry", "B000123"]);
    assert!(!got.to_string().contains("王小明"), "the chain holds no personal data in the clear: {got}");
    assert_eq!(got["content"]["fields"]["district"], "朝阳区");

    for (i, district) in ["海淀区", "东城区"].iter().enumerate() {
        let f = write(dir, &format!("f{}.json", i + 2), &fields("王小明", district));
        let e = registry(
            &node,
            &[
                "amend",
                "--key",
                key,
                "--registry",
                G,
                "--entry",
                "B000123",
                "--fields",
                &f,
                "--disclosures",
                dir.join(format!("d{}.json", i + 2)).to_str().unwrap(),
            ],
        );
        heights.push((e["version"].as_u64().unwrap(), e["height"].as_u64().unwrap()));
    }
    let steps: [(&str, &[&str], &str); 4] = [
        ("transfer", &["--holder", "did:example:guardian"], "active"),
        ("suspend", &["--reason", "under-review"], "suspended"),
        ("reinstate", &[], "active"),
        ("revoke", &["--reason", "void"], "revoked"),
    ];
    let mut credentials = Vec::new();
    for (cmd, extra, status) in steps {
        // The credential of the version before each change, kept to check its status later.
        let out = dir.join(format!("cred-before-{cmd}.json"));
        registry(&node, &["credential", "--registry", G, "--entry", "B000123", "--out", out.to_str().unwrap()]);
        credentials.push(out);
        let mut args = vec![cmd, "--key", key, "--registry", G, "--entry", "B000123"];
        args.extend_from_slice(extra);
        let e = registry(&node, &args);
        assert_eq!(e["status"], status, "{cmd}: {e}");
        heights.push((e["version"].as_u64().unwrap(), e["height"].as_u64().unwrap()));
    }
    assert_eq!(heights.iter().map(|(v, _)| *v).collect::<Vec<_>>(), [1, 2, 3, 4, 5, 6, 7]);
    let history = registry(&node, &["history", "--registry", G, "--entry", "B000123"]);
    assert_eq!(history["versions"].as_array().unwrap().len(), 7, "{history}");

    // A proof of each version as of its height; an absence proof before the entry existed
    // and for a key never written.
    for (v, h) in &heights {
        let out = dir.join(format!("proof-{v}.json"));
        registry(&node, &["prove", "--registry", G, "--entry", "B000123", "--height", &h.to_string(), "--out", out.to_str().unwrap()]);
        let (ok, text) = verify_proof(&node, out.to_str().unwrap());
        assert!(ok && text.contains("VALID"), "version {v} at {h}: {text}");
        let p: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(p["view"]["version"].as_u64(), Some(*v), "{p}");
        // Changed, it is refused.
        let mut forged = p.clone();
        forged["view"]["version"] = json!(v + 1);
        let bad = write(dir, "forged.json", &forged);
        let (ok, text) = verify_proof(&node, &bad);
        assert!(!ok && text.contains("INVALID"), "{text}");
    }
    for (entry, height) in [("B000123", before_entry), ("B999999", heights.last().unwrap().1)] {
        let out = dir.join("absent.json");
        registry(&node, &["prove", "--registry", G, "--entry", entry, "--height", &height.to_string(), "--out", out.to_str().unwrap()]);
        let (ok, text) = verify_proof(&node, out.to_str().unwrap());
        assert!(ok && text.contains("VALID"), "{text}");
        let p: Value = serde_json::from_slice(&std::fs::read(&out).unwrap()).unwrap();
        assert_eq!(p["view"]["exists"], false, "{p}");
    }

    // Credentials: the one before suspension was VALID then; it is INVALID (revoked) now.
    let check = |file: &Path, disclosures: Option<&Path>| {
        let mut args = vec!["registry", "credential", "--verify", file.to_str().unwrap(), "--node", &node.url];
        if let Some(d) = disclosures {
            args.extend_from_slice(&["--disclosures", d.to_str().unwrap()]);
        }
        let out = cairn(&args);
        (out.status.code(), String::from_utf8_lossy(&out.stdout).trim().to_string(), String::from_utf8_lossy(&out.stderr).into_owned())
    };
    let (code, verdict, _) = check(&credentials[0], None);
    assert_eq!((code, verdict.as_str()), (Some(1), "INVALID: status: the entry is revoked"));
    let now = dir.join("now.json");
    registry(&node, &["credential", "--registry", G, "--entry", "B000123", "--version", "3", "--out", now.to_str().unwrap()]);
    let vc: Value = serde_json::from_slice(&std::fs::read(&now).unwrap()).unwrap();
    assert_eq!(vc["credentialSubject"]["version"], 3);
    assert_eq!(vc["credentialSubject"]["fields"]["district"], "东城区");
    // The holder's disclosures of version 3 match its digests; version 1's do not.
    let (_, verdict, err) = check(&now, Some(&dir.join("d3.json")));
    assert!(verdict.starts_with("INVALID: status: the entry is revoked") && !verdict.contains("disclosure"), "{verdict}");
    assert!(err.contains("disclosed name: \"王小明\""), "{err}");
    let (_, verdict, _) = check(&now, Some(&disclosures));
    assert!(verdict.contains("disclosure of name"), "{verdict}");

    // The node's own verdict agrees.
    let v: Value =
        client().post(format!("{}/v1/registry/credentials/verify", node.url)).body(json!({"credential": vc}).to_string()).send().unwrap().json().unwrap();
    assert_eq!(v["valid"], false, "{v}");
    assert_eq!(v["status"]["revocation"], true);
    assert_eq!(v["authority"], "dev-org");

    // The status list's bits come with their state proofs.
    let proofs: Value = client().get(format!("{}/v1/registry/{G}/status/revocation/0/proof", node.url)).send().unwrap().json().unwrap();
    let receipts = proofs["receipts"].as_array().unwrap();
    assert_eq!(receipts.len(), 8);
    for (i, r) in receipts.iter().enumerate() {
        let f = write(dir, "chunk.json", r);
        let (ok, text) = verify_proof(&node, &f);
        assert!(ok, "chunk {i}: {text}");
        if i == 0 {
            assert!(r["view"]["bits"].as_str().unwrap().starts_with("80"), "entry 0's revocation bit is set: {}", r["view"]);
        }
    }

    // Every single-bit flip of a credential is refused (the JCS form: the SM2 suite's, and
    // eddsa-jcs-2022 on Ed25519 chains; the RDFC form is flipped by the browser-side test).
    let jcs = if suite == "sm2-sm3" { None } else { Some("eddsa-jcs-2022") };
    let mut url = format!("{}/v1/registry/{G}/entries/B000123/credential", node.url);
    if let Some(cs) = jcs {
        url += &format!("?cryptosuite={cs}");
    }
    let vc: Value = client().get(url).send().unwrap().json().unwrap();
    let contexts = cairn_module_registry::credential::contexts();
    cairn_vc::proof::verify(&vc, &contexts).unwrap();
    let bytes = serde_json::to_vec(&vc).unwrap();
    let mut checked = 0;
    for i in 0..bytes.len() {
        for b in 0..8 {
            let mut f = bytes.clone();
            f[i] ^= 1 << b;
            let Ok(doc) = serde_json::from_slice::<Value>(&f) else { continue };
            assert!(cairn_vc::proof::verify(&doc, &contexts).is_err(), "bit {b} of byte {i} ({:?})", bytes[i] as char);
            checked += 1;
        }
    }
    assert!(checked > bytes.len(), "{checked} flips parsed and were refused");
}

#[test]
fn a_civil_registry_entry_through_its_life_ed25519() {
    lifecycle("ed25519-sha256");
}

#[test]
fn a_civil_registry_entry_through_its_life_sm2() {
    lifecycle("sm2-sm3");
}

#[test]
fn refusals_name_what_is_wrong() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let dir = tmp.path();
    let key = node.dir.join("keys/submitter.key");
    let key = key.to_str().unwrap();
    let schema = write(dir, "schema.json", &schema());
    registry(&node, &["create", "--key", key, "--registry", G, "--schema", &schema]);
    let get = |path: &str| {
        let r = client().get(format!("{}/v1/registry{path}", node.url)).send().unwrap();
        (r.status().as_u16(), r.json::<Value>().unwrap_or(Value::Null))
    };
    for (path, status, code) in [
        ("/nope", 404, "registry.no-registry"),
        (&format!("/{G}/entries/B1"), 404, "registry.no-entry"),
        (&format!("/{G}/entries/B1/credential"), 404, "registry.no-entry"),
        (&format!("/{G}/entries/B1/credential?cryptosuite=ecdsa-rdfc-2019"), 400, "bad-query"),
        (&format!("/{G}/entries?colour=red"), 400, "bad-query"),
        (&format!("/{G}/status/revocation/1"), 404, "registry.no-status-list"),
        (&format!("/{G}/status/expiry/0"), 404, "registry.no-status-list"),
    ] {
        let (s, body) = get(path);
        assert_eq!((s, body["code"].as_str().unwrap_or("")), (status, code), "{path}: {body}");
    }
    // Content against the schema: a field it does not have, a personal field missing.
    let bad = write(dir, "bad.json", &json!({"certificate": "B1", "district": "x", "name": "n", "birthDate": "2026-01-01", "colour": "red"}));
    let out = cairn(&["registry", "put", "--key", key, "--registry", G, "--entry", "B1", "--fields", &bad, "--node", &node.url]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("colour"), "{}", String::from_utf8_lossy(&out.stderr));
    // A credential check of something that is not one.
    let r = client().post(format!("{}/v1/registry/credentials/verify", node.url)).body("{\"credential\": 1}").send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
    let r = client().post(format!("{}/v1/registry/credentials/verify", node.url)).body("not json").send().unwrap();
    assert_eq!(r.status().as_u16(), 400);
}

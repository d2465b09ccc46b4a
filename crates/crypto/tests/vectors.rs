//! Third-party vectors: Wycheproof Ed25519, GB/T SM3 and SM2, and OpenSSL interop for SM2.

use cairn_crypto::{Domain, KeyPair, PublicKey, Suite, signing_message};
use serde_json::Value;

fn testdata(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(path)
}

fn load(path: &str) -> Value {
    serde_json::from_slice(&std::fs::read(testdata(path)).unwrap()).unwrap()
}

#[test]
fn wycheproof_ed25519_strict() {
    let v = load("wycheproof/ed25519_test.json");
    let mut checked = 0;
    for group in v["testGroups"].as_array().unwrap() {
        let pk_hex = group["publicKey"]["pk"].as_str().unwrap();
        let pk = PublicKey::from_hex(Suite::Ed25519Sha256, pk_hex);
        for t in group["tests"].as_array().unwrap() {
            let msg = hex::decode(t["msg"].as_str().unwrap()).unwrap();
            let sig = hex::decode(t["sig"].as_str().unwrap()).unwrap();
            let valid = t["result"].as_str().unwrap() == "valid";
            let got = match &pk {
                Ok(pk) => pk.verify_raw(&msg, &sig).is_ok(),
                Err(_) => false,
            };
            assert_eq!(got, valid, "tcId {} ({})", t["tcId"], t["comment"]);
            checked += 1;
        }
    }
    assert!(checked >= 150, "only {checked} cases");
}

#[test]
fn gbt_sm3_vectors() {
    let v = load("sm/sm_vectors.json");
    let cases = v["SM3"].as_array().unwrap();
    assert_eq!(hex::encode(Suite::Sm2Sm3.hash(b"abc")), cases[0]["digest"].as_str().unwrap());
    assert_eq!(hex::encode(Suite::Sm2Sm3.hash("abcd".repeat(16).as_bytes())), cases[1]["digest"].as_str().unwrap());
}

fn sm2_example_key() -> (Value, PublicKey) {
    let v = load("sm/sm_vectors.json");
    let ex = v["SM2_recommended_curve"]["signature_example"].clone();
    let pub_hex = format!("04{}{}", ex["Px"].as_str().unwrap(), ex["Py"].as_str().unwrap());
    let pk = PublicKey::from_hex(Suite::Sm2Sm3, &pub_hex).unwrap();
    (ex, pk)
}

#[test]
fn gbt_sm2_signature_example_verifies_with_default_id() {
    let (ex, pk) = sm2_example_key();
    // The GB/T example's (r, s) as DER SEQUENCE{r, s}: both start with a high bit, so each
    // INTEGER gets a leading zero byte.
    let r = hex::decode(ex["r"].as_str().unwrap()).unwrap();
    let s = hex::decode(ex["s"].as_str().unwrap()).unwrap();
    let mut der = vec![0x30, 0x46, 0x02, 0x21, 0x00];
    der.extend_from_slice(&r);
    der.extend_from_slice(&[0x02, 0x21, 0x00]);
    der.extend_from_slice(&s);
    let msg = ex["msg_ascii"].as_str().unwrap().as_bytes();
    pk.verify_raw(msg, &der).unwrap();
    assert!(pk.verify_raw(b"message digesT", &der).is_err());

    // The DER files shipped with the vectors agree.
    let sig_file = std::fs::read(testdata("sm/gbt_sig.der")).unwrap();
    let msg_file = std::fs::read(testdata("sm/gbt_msg.bin")).unwrap();
    pk.verify_raw(&msg_file, &sig_file).unwrap();

    // The secret key from the example signs to a signature the public key accepts.
    let d = hex::decode(ex["d"].as_str().unwrap()).unwrap();
    let kp = KeyPair::from_secret_bytes(Suite::Sm2Sm3, &d).unwrap();
    assert_eq!(kp.public_key(), pk);
    let sig = kp.sign_raw(msg);
    pk.verify_raw(msg, &sig).unwrap();
}

#[test]
fn sm2_non_minimal_der_is_rejected() {
    let (_, pk) = sm2_example_key();
    let sig = std::fs::read(testdata("sm/gbt_sig.der")).unwrap();
    let msg = std::fs::read(testdata("sm/gbt_msg.bin")).unwrap();
    let mut padded = sig.clone();
    padded.push(0);
    assert!(pk.verify_raw(&msg, &padded).is_err());
}

/// OpenSSL 3 verifies our SM2 signatures (with the default ID) against our PEM export.
/// Skipped, with a message, when no `openssl` binary is installed.
#[test]
fn openssl_verifies_our_sm2_signature() {
    let required = std::env::var_os("CAIRN_REQUIRE_OPENSSL").is_some();
    let Ok(out) = std::process::Command::new("openssl").arg("version").output() else {
        assert!(!required, "CAIRN_REQUIRE_OPENSSL is set but openssl is not installed");
        eprintln!("openssl not installed: skipping interop check");
        return;
    };
    if !String::from_utf8_lossy(&out.stdout).starts_with("OpenSSL 3") {
        assert!(!required, "CAIRN_REQUIRE_OPENSSL is set but openssl is not version 3");
        eprintln!("openssl is not version 3: skipping interop check");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kp = KeyPair::generate(Suite::Sm2Sm3);
    let msg = signing_message(Domain::Transaction, "interop-chain", b"evidence");
    let sig = kp.sign_raw(&msg);
    std::fs::write(dir.path().join("pub.pem"), kp.public_key().to_pem().unwrap()).unwrap();
    std::fs::write(dir.path().join("msg.bin"), &msg).unwrap();
    std::fs::write(dir.path().join("sig.der"), &sig).unwrap();
    let verify = |msg_file: &str| {
        std::process::Command::new("openssl")
            .current_dir(dir.path())
            .args(["pkeyutl", "-verify", "-pubin", "-inkey", "pub.pem", "-rawin", "-in", msg_file])
            .args(["-sigfile", "sig.der", "-pkeyopt", "distid:1234567812345678"])
            .output()
            .unwrap()
    };
    let ok = verify("msg.bin");
    assert!(ok.status.success(), "openssl refused: {}", String::from_utf8_lossy(&ok.stderr));
    std::fs::write(dir.path().join("bad.bin"), b"tampered").unwrap();
    assert!(!verify("bad.bin").status.success());

    // And Ed25519 PEM parses as an Ed25519 key.
    let ed = KeyPair::generate(Suite::Ed25519Sha256).public_key().to_pem().unwrap();
    std::fs::write(dir.path().join("ed.pem"), ed).unwrap();
    let out = std::process::Command::new("openssl").current_dir(dir.path()).args(["pkey", "-pubin", "-in", "ed.pem", "-noout", "-text"]).output().unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("ED25519"));
}

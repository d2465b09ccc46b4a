//! The W3C vc-di-eddsa test vectors (testdata/vc-di-eddsa) for eddsa-rdfc-2022 and
//! eddsa-jcs-2022, byte for byte at every step: canonical document and proof configuration,
//! their hashes, the signature, the signed credential; and the JCS vectors of RFC 8785's
//! reference implementation (testdata/jcs). Both are copied in from the shared test material,
//! with their provenance.

use std::path::PathBuf;

use cairn_crypto::{KeyPair, Suite};
use cairn_vc::canon::{Contexts, jcs, rdfc};
use cairn_vc::proof::{self, Cryptosuite, hash_data};
use serde_json::Value;

fn testdata() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../testdata")
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(testdata().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn json(rel: &str) -> Value {
    serde_json::from_str(&read(rel)).unwrap()
}

/// The examples context of VC 2.0 (https://www.w3.org/ns/credentials/examples/v2): one @vocab.
fn contexts() -> Contexts {
    Contexts::new().with("https://www.w3.org/ns/credentials/examples/v2", r#"{"@context":{"@vocab":"https://www.w3.org/ns/credentials/examples#"}}"#)
}

/// The vectors' Ed25519 key: multicodec ed25519-priv (0x1300, varint 80 26) + 32 bytes.
fn key() -> KeyPair {
    let pair = json("vc-di-eddsa/TestVectors/keyPair.json");
    let secret = bs58::decode(&pair["privateKeyMultibase"].as_str().unwrap()[1..]).into_vec().unwrap();
    assert_eq!(&secret[..2], &[0x80, 0x26]);
    let k = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &secret[2..]).unwrap();
    assert_eq!(cairn_vc::did::multikey(&k.public_key()), pair["publicKeyMultibase"].as_str().unwrap());
    k
}

fn check_suite(cs: Cryptosuite, dir: &str, tag: &str) {
    let c = contexts();
    let unsigned = json("vc-di-eddsa/TestVectors/unsigned.json");
    let config = json(&format!("vc-di-eddsa/TestVectors/{dir}/proofConfig{tag}.json"));
    let canon = |v: &Value| -> String {
        match cs {
            Cryptosuite::EddsaRdfc2022 => rdfc(v, &c).unwrap(),
            _ => String::from_utf8(jcs(v).unwrap()).unwrap(),
        }
    };
    assert_eq!(
        canon(&unsigned),
        read(&format!("vc-di-eddsa/TestVectors/{dir}/canonDoc{tag}.txt")).trim_end_matches('\n').to_string()
            + if cs == Cryptosuite::EddsaRdfc2022 { "\n" } else { "" },
        "{dir}: canonical document"
    );
    assert_eq!(
        canon(&config).trim_end(),
        read(&format!("vc-di-eddsa/TestVectors/{dir}/proofCanon{tag}.txt")).trim_end(),
        "{dir}: canonical proof configuration"
    );
    let data = hash_data(cs, &config, &unsigned, &c).unwrap();
    assert_eq!(hex::encode(&data[..32]), read(&format!("vc-di-eddsa/TestVectors/{dir}/proofHash{tag}.txt")).trim(), "{dir}: proof hash");
    assert_eq!(hex::encode(&data[32..]), read(&format!("vc-di-eddsa/TestVectors/{dir}/docHash{tag}.txt")).trim(), "{dir}: document hash");
    assert_eq!(hex::encode(data), read(&format!("vc-di-eddsa/TestVectors/{dir}/combinedHash{tag}.txt")).trim(), "{dir}: hash data");
    let k = key();
    let signed = proof::sign(&unsigned, cs, &k.public_key(), config["created"].as_str().unwrap(), &c, |d| k.sign_raw(d)).unwrap();
    let expected = json(&format!("vc-di-eddsa/TestVectors/{dir}/signed{tag}.json"));
    assert_eq!(
        hex::encode(bs58::decode(&signed["proof"]["proofValue"].as_str().unwrap()[1..]).into_vec().unwrap()),
        read(&format!("vc-di-eddsa/TestVectors/{dir}/sigHex{tag}.txt")).trim()
    );
    assert_eq!(signed, expected, "{dir}: the signed credential");
    let v = proof::verify(&expected, &c).unwrap();
    assert_eq!(v.cryptosuite, cs);
    // The unchanged document with any other proof value, or a changed document, fails.
    let mut forged = expected.clone();
    forged["credentialSubject"]["alumniOf"] = "The School of Forgeries".into();
    assert_eq!(proof::verify(&forged, &c), Err(cairn_vc::VcError::BadSignature));
}

#[test]
fn eddsa_rdfc_2022_vectors() {
    check_suite(Cryptosuite::EddsaRdfc2022, "eddsa-rdfc-2022", "DataInt");
}

#[test]
fn eddsa_jcs_2022_vectors() {
    check_suite(Cryptosuite::EddsaJcs2022, "eddsa-jcs-2022", "JCS");
}

#[test]
fn rfc8785_reference_vectors() {
    let dir = testdata().join("jcs/input");
    let mut n = 0;
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let input: Value = serde_json::from_slice(&std::fs::read(&path).unwrap()).unwrap();
        let expected = std::fs::read(testdata().join("jcs/output").join(&name)).unwrap();
        assert_eq!(String::from_utf8(jcs(&input).unwrap()).unwrap(), String::from_utf8(expected).unwrap().trim_end_matches('\n'), "{name}");
        n += 1;
    }
    assert!(n >= 6, "{n} JCS vectors");
}

#[test]
fn the_sm2_suite_signs_and_verifies_and_refuses_changes() {
    let c = contexts();
    let unsigned = json("vc-di-eddsa/TestVectors/unsigned.json");
    let k = KeyPair::generate(Suite::Sm2Sm3);
    let signed = proof::sign(&unsigned, Cryptosuite::Sm2Sm3Jcs2026, &k.public_key(), "2026-12-03T00:00:00Z", &c, |d| k.sign_raw(d)).unwrap();
    let v = proof::verify(&signed, &c).unwrap();
    assert_eq!(v.key, k.public_key());
    let mut forged = signed.clone();
    forged["validFrom"] = "2023-01-02T00:00:00Z".into();
    assert_eq!(proof::verify(&forged, &c), Err(cairn_vc::VcError::BadSignature));
    // An Ed25519 suite with an SM2 key is refused before anything is signed.
    assert!(proof::sign(&unsigned, Cryptosuite::EddsaRdfc2022, &k.public_key(), "2026-12-03T00:00:00Z", &c, |d| k.sign_raw(d)).is_err());
}

#[test]
fn unknown_contexts_and_malformed_proofs_are_refused() {
    let c = Contexts::new();
    let signed = json("vc-di-eddsa/TestVectors/eddsa-rdfc-2022/signedDataInt.json");
    assert!(matches!(proof::verify(&signed, &c), Err(cairn_vc::VcError::UnknownContext(u)) if u.contains("examples")));
    let c = contexts();
    for (path, value) in [
        ("type", "Ed25519Signature2020"),
        ("cryptosuite", "eddsa-2022"),
        ("proofPurpose", "authentication"),
        ("proofValue", "not base58"),
        ("verificationMethod", "did:web:vc.example#key"),
    ] {
        let mut s = signed.clone();
        s["proof"][path] = value.into();
        assert!(proof::verify(&s, &c).is_err(), "{path} = {value}");
    }
    let mut s = signed.clone();
    s["proof"]["extra"] = true.into();
    assert!(proof::verify(&s, &c).is_err());
}

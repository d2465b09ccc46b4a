//! The table-based SM2 verifier (`cairn_crypto::sm2fast`) against the `sm2` crate and OpenSSL 3:
//! the GB/T example, derived edge cases, and thousands of randomized valid and invalid
//! signatures, each verdict compared with and without a table.

use cairn_crypto::sm2fast::{self, Key, Sig, Table};
use cairn_crypto::{KeyPair, Suite};
use serde_json::Value;
use sm2::elliptic_curve::ff::PrimeField as _;
use sm2::elliptic_curve::ops::Reduce as _;
use sm2::{FieldBytes, Scalar};

fn testdata(path: &str) -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../testdata").join(path)
}

/// A small deterministic generator (splitmix64): the same cases on every run.
struct Gen(u64);
impl Gen {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn bytes(&mut self, n: usize) -> Vec<u8> {
        (0..n).map(|_| self.next() as u8).collect()
    }
    fn key(&mut self) -> KeyPair {
        loop {
            if let Ok(k) = KeyPair::from_secret_bytes(Suite::Sm2Sm3, &self.bytes(32)) {
                return k;
            }
        }
    }
}

fn der(r: &[u8; 32], s: &[u8; 32]) -> Option<Vec<u8>> {
    let sig = sm2::dsa::Signature::from_scalars(FieldBytes::from(*r), FieldBytes::from(*s)).ok()?;
    Some(sig.to_der().as_bytes().to_vec())
}

/// Every verdict of one case: (table, no table, the `sm2` crate).
fn verdicts(key: &Key, table: &Table, message: &[u8], der: &[u8]) -> (bool, bool, bool) {
    let reference = sm2fast::reference_verify(&sm2fast::sec1(key), message, der);
    let Some(sig) = Sig::from_der(der) else {
        // The fast path refuses what does not parse (or is not minimal DER); so must the reference
        // unless the DER is merely non-minimal, which the reference accepts and we refuse on purpose.
        return (false, false, reference && sm2::dsa::Signature::from_der(der).map(|s| s.to_der().as_bytes() == der).unwrap_or(false));
    };
    let e = key.message_hash(message);
    (sm2fast::verify_prehash(key, Some(table), &e, &sig), sm2fast::verify_prehash(key, None, &e, &sig), reference)
}

fn assert_agree(key: &Key, table: &Table, message: &[u8], der: &[u8], what: &str) -> bool {
    let (t, u, r) = verdicts(key, table, message, der);
    assert!(t == r && u == r, "{what}: table {t}, no table {u}, sm2 crate {r} for sig {}", hex::encode(der));
    r
}

#[test]
fn gbt_example_z_e_and_signature() {
    let v: Value = serde_json::from_slice(&std::fs::read(testdata("sm/sm_vectors.json")).unwrap()).unwrap();
    let ex = &v["SM2_recommended_curve"]["signature_example"];
    let h = |k: &str| hex::decode(ex[k].as_str().unwrap()).unwrap();
    let sec1 = [vec![4], h("Px"), h("Py")].concat();
    let key = Key::from_sec1(&sec1).unwrap();
    assert_eq!(key.z().to_vec(), h("Z_A"));
    let msg = ex["msg_ascii"].as_str().unwrap().as_bytes();
    assert_eq!(key.message_hash(msg).to_vec(), h("e"));
    let sig = der(&h("r").try_into().unwrap(), &h("s").try_into().unwrap()).unwrap();
    let table = Table::for_key(&key);
    assert!(assert_agree(&key, &table, msg, &sig, "GB/T example"));
    assert!(!assert_agree(&key, &table, b"message digesT", &sig, "GB/T example, other message"));
    let fixed = [h("r"), h("s")].concat();
    assert!(sm2fast::verify_prehash(&key, Some(&table), &key.message_hash(msg), &Sig::from_fixed(&fixed).unwrap()));
}

#[test]
fn edge_cases_are_refused_by_every_path() {
    let mut g = Gen(7);
    let kp = g.key();
    let key = Key::from_sec1(kp.public_key().as_bytes()).unwrap();
    let table = Table::for_key(&key);
    let msg = b"edge";
    let n_minus = |k: u64| (-Scalar::from(k)).to_repr();
    let zero = [0u8; 32];
    let n: [u8; 32] = hex::decode("FFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123").unwrap().try_into().unwrap();
    let one = Scalar::ONE.to_repr();
    // r or s zero, equal to n, or above n: no parse, in either encoding.
    for (r, s) in [(zero, one.into()), (one.into(), zero), (n, one.into()), (one.into(), n), ([0xff; 32], one.into()), (one.into(), [0xff; 32])] {
        assert!(Sig::from_fixed(&[r, s].concat()).is_none());
        assert!(der(&r, &s).is_none(), "the sm2 crate refuses out-of-range scalars too");
    }
    // t = r + s = 0 mod n: s = n - r.
    let r = Scalar::from(12345u64);
    let t_zero = der(&r.to_repr().into(), &n_minus(12345).into()).unwrap();
    assert!(!assert_agree(&key, &table, msg, &t_zero, "t = 0"));
    // s·G + t·P at infinity: with P = d·G, s = -r·d / (1 + d).
    let d = Scalar::from_repr(FieldBytes::from(kp.secret_bytes())).unwrap();
    let s = -(r * d) * (Scalar::ONE + d).invert().unwrap();
    let infinity = der(&r.to_repr().into(), &s.to_repr().into()).unwrap();
    assert!(!assert_agree(&key, &table, msg, &infinity, "point at infinity"));
    // r = e + x1 with the sum wrapping past n, and r = n - 1, both accepted only when true.
    let high = der(&n_minus(1).into(), &n_minus(2).into()).unwrap();
    assert!(!assert_agree(&key, &table, msg, &high, "r = n - 1"));
    // Non-minimal DER (a padded r) is refused by the fast path on purpose.
    let good = kp.sign_raw(msg);
    let mut padded = good.clone();
    padded.push(0);
    assert!(Sig::from_der(&padded).is_none());
    assert!(assert_agree(&key, &table, msg, &good, "a good signature"));
    // A point off the curve, the identity, and compressed points are not keys.
    let mut off = kp.public_key().as_bytes().to_vec();
    off[64] ^= 1;
    assert!(Key::from_sec1(&off).is_none());
    assert!(Key::from_sec1(&[0u8; 65]).is_none());
    assert!(Key::from_sec1(&off[..33]).is_none());
}

/// 3,000 cases on 10 keys: valid signatures and each kind of invalid one.
#[test]
fn randomized_verdicts_equal_the_sm2_crate() {
    let mut g = Gen(2026);
    let keys: Vec<(KeyPair, Key, Table)> = (0..10)
        .map(|_| {
            let kp = g.key();
            let key = Key::from_sec1(kp.public_key().as_bytes()).unwrap();
            let table = Table::for_key(&key);
            (kp, key, table)
        })
        .collect();
    let (mut valid, mut invalid) = (0, 0);
    for i in 0..3000u64 {
        let (kp, key, table) = &keys[(i % 10) as usize];
        let len = (g.next() % 200) as usize;
        let msg = g.bytes(len);
        let sig = kp.sign_raw(&msg);
        let parsed = sm2::dsa::Signature::from_der(&sig).unwrap();
        let (r, s): ([u8; 32], [u8; 32]) = (parsed.r_bytes().into(), parsed.s_bytes().into());
        let case: Vec<u8> = match i % 8 {
            0 | 1 => sig.clone(),
            2 => {
                let mut m = msg.clone();
                m.push(g.next() as u8);
                if assert_agree(key, table, &m, &sig, "message changed") {
                    valid += 1
                } else {
                    invalid += 1
                }
                continue;
            }
            3 => der(&(Scalar::reduce(&FieldBytes::from(r)) + Scalar::ONE).to_repr().into(), &s).unwrap_or_default(),
            4 => der(&r, &(Scalar::reduce(&FieldBytes::from(s)) - Scalar::ONE).to_repr().into()).unwrap_or_default(),
            5 => {
                let (_, other, other_table) = &keys[((i + 1) % 10) as usize];
                if assert_agree(other, other_table, &msg, &sig, "other key") {
                    valid += 1
                } else {
                    invalid += 1
                }
                continue;
            }
            6 => der(&g.bytes(32).try_into().unwrap(), &g.bytes(32).try_into().unwrap()).unwrap_or_default(),
            _ => {
                let mut flipped = sig.clone();
                let bit = (g.next() as usize) % (flipped.len() * 8);
                flipped[bit / 8] ^= 1 << (bit % 8);
                flipped
            }
        };
        if assert_agree(key, table, &msg, &case, &format!("case {i}")) { valid += 1 } else { invalid += 1 }
    }
    assert!(valid >= 750 && invalid >= 1800, "both kinds were exercised: {valid} valid, {invalid} invalid");
}

/// The cache builds a key's table at its 4th use and keeps verdicts unchanged.
#[test]
fn cached_table_gives_the_same_verdicts() {
    let mut g = Gen(99);
    let kp = g.key();
    let pk = kp.public_key();
    for i in 0..(sm2fast::TABLE_AFTER_USES + 3) {
        let msg = format!("message {i}");
        let sig = kp.sign_raw(msg.as_bytes());
        assert!(pk.verify_raw(msg.as_bytes(), &sig).is_ok());
        assert!(pk.verify_raw(b"another", &sig).is_err());
    }
    assert!(sm2fast::cached_tables() >= 1);
}

/// OpenSSL 3 and the fast path agree on signatures made by either, valid and tampered.
/// Skipped, with a message, when no OpenSSL 3 is installed (required under CAIRN_REQUIRE_OPENSSL).
#[test]
fn verdicts_equal_openssl() {
    let required = std::env::var_os("CAIRN_REQUIRE_OPENSSL").is_some();
    let version = std::process::Command::new("openssl").arg("version").output();
    if !version.map(|o| String::from_utf8_lossy(&o.stdout).starts_with("OpenSSL 3")).unwrap_or(false) {
        assert!(!required, "CAIRN_REQUIRE_OPENSSL is set but OpenSSL 3 is not installed");
        eprintln!("OpenSSL 3 not installed: skipping");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| std::process::Command::new("openssl").current_dir(dir.path()).args(args).output().unwrap();
    assert!(run(&["genpkey", "-algorithm", "SM2", "-out", "key.pem"]).status.success());
    assert!(run(&["pkey", "-in", "key.pem", "-pubout", "-out", "pub.pem"]).status.success());
    let text = String::from_utf8_lossy(&run(&["pkey", "-in", "key.pem", "-noout", "-text"]).stdout).to_string();
    let sec1 = pub_point_from_text(&text);
    let key = Key::from_sec1(&sec1).unwrap();
    let table = Table::for_key(&key);
    let mut g = Gen(5);
    let mut tampered_refused = 0;
    for i in 0..150 {
        let len = 1 + (g.next() % 100) as usize;
        let msg = g.bytes(len);
        std::fs::write(dir.path().join("msg.bin"), &msg).unwrap();
        let signed = run(&["pkeyutl", "-sign", "-inkey", "key.pem", "-rawin", "-in", "msg.bin", "-out", "sig.der", "-pkeyopt", "distid:1234567812345678"]);
        assert!(signed.status.success(), "{}", String::from_utf8_lossy(&signed.stderr));
        let sig = std::fs::read(dir.path().join("sig.der")).unwrap();
        let mut case = sig.clone();
        if i % 2 == 1 {
            let bit = (g.next() as usize) % (case.len() * 8);
            case[bit / 8] ^= 1 << (bit % 8);
        }
        std::fs::write(dir.path().join("case.der"), &case).unwrap();
        let openssl = run(&[
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            "pub.pem",
            "-rawin",
            "-in",
            "msg.bin",
            "-sigfile",
            "case.der",
            "-pkeyopt",
            "distid:1234567812345678",
        ])
        .status
        .success();
        let ours = Sig::from_der(&case).map(|s| sm2fast::verify_prehash(&key, Some(&table), &key.message_hash(&msg), &s)).unwrap_or(false);
        let untabled = Sig::from_der(&case).map(|s| sm2fast::verify_prehash(&key, None, &key.message_hash(&msg), &s)).unwrap_or(false);
        assert_eq!(ours, untabled);
        assert_eq!(ours, openssl, "case {i}: ours and OpenSSL's verdicts");
        if i % 2 == 0 {
            assert!(ours, "case {i}: an untampered OpenSSL signature verifies");
        } else {
            tampered_refused += usize::from(!ours);
        }
    }
    assert_eq!(tampered_refused, 75, "every tampered signature is refused");
}

/// The uncompressed point from `openssl pkey -text` ("pub:" followed by hex lines).
fn pub_point_from_text(text: &str) -> Vec<u8> {
    let after = text.split("pub:").nth(1).expect("a pub: section");
    let hex: String = after.lines().skip(1).take_while(|l| l.starts_with(' ')).flat_map(|l| l.trim().split(':')).collect();
    let bytes = hex::decode(hex).unwrap();
    assert_eq!(bytes.len(), 65);
    bytes
}

/// The batch path (one inversion for many) gives each item the single check's verdict, with
/// invalid items (t = 0, tampered, other keys) mixed in among valid ones.
#[test]
fn batch_verdicts_equal_single_verdicts() {
    let mut g = Gen(31);
    let keys: Vec<(KeyPair, Key, Table)> = (0..4)
        .map(|_| {
            let kp = g.key();
            let key = Key::from_sec1(kp.public_key().as_bytes()).unwrap();
            let table = Table::for_key(&key);
            (kp, key, table)
        })
        .collect();
    let mut cases: Vec<(usize, Vec<u8>, Sig)> = Vec::new();
    for i in 0..400usize {
        let (kp, _, _) = &keys[i % 4];
        let msg = g.bytes(40);
        let der = kp.sign_raw(&msg);
        let sig = Sig::from_der(&der).unwrap();
        match i % 5 {
            0 => cases.push(((i + 1) % 4, msg, sig)),
            1 => {
                let r = Scalar::from(7u64);
                let t_zero = Sig::from_der(&der_of(&r, &-r)).unwrap();
                cases.push((i % 4, msg, t_zero));
            }
            2 => cases.push((i % 4, [msg, vec![1]].concat(), sig)),
            _ => cases.push((i % 4, msg, sig)),
        }
    }
    let prepared: Vec<(&Key, Option<&Table>, [u8; 32], Sig)> =
        cases.iter().enumerate().map(|(i, (k, msg, sig))| (&keys[*k].1, (i % 3 != 0).then_some(&keys[*k].2), keys[*k].1.message_hash(msg), *sig)).collect();
    let batch = sm2fast::verify_prehash_many(&prepared);
    let single: Vec<bool> = prepared.iter().map(|(k, t, e, s)| sm2fast::verify_prehash(k, *t, e, s)).collect();
    assert_eq!(batch, single);
    assert_eq!(batch.iter().filter(|ok| **ok).count(), 160, "the 2 valid kinds of 5, of 400");
    // Through the public batch API too: a transaction-signed batch of both kinds.
    let pk: Vec<_> = keys.iter().map(|(kp, _, _)| kp.public_key()).collect();
    let signed: Vec<(usize, Vec<u8>, Vec<u8>)> = (0..100)
        .map(|i| {
            let m = g.bytes(10);
            let s = keys[i % 4].0.sign(cairn_crypto::Domain::Transaction, "c", &m);
            (i % 4, m, s)
        })
        .collect();
    let items: Vec<cairn_crypto::SignedMessage> = signed
        .iter()
        .enumerate()
        .map(|(i, (k, m, s))| cairn_crypto::SignedMessage {
            key: &pk[if i % 7 == 0 { (k + 1) % 4 } else { *k }],
            domain: cairn_crypto::Domain::Transaction,
            chain_id: "c",
            message: m,
            signature: s,
        })
        .collect();
    let verdicts = cairn_crypto::verify_batch(&items);
    for (i, (it, v)) in items.iter().zip(&verdicts).enumerate() {
        assert_eq!(*v, it.key.verify(it.domain, it.chain_id, it.message, it.signature).is_ok(), "item {i}");
        assert_eq!(*v, i % 7 != 0);
    }
}

fn der_of(r: &Scalar, s: &Scalar) -> Vec<u8> {
    der(&r.to_repr().into(), &s.to_repr().into()).unwrap()
}

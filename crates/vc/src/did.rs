//! `did:key` (W3C CCG did:key method, multikey form): `did:key:z<base58btc(multicodec ||
//! key)>`, whose one verification method is `did:key:z…#z…`. Ed25519 keys carry the
//! multicodec `ed25519-pub` (0xed, varint `ed 01`) and their 32 bytes; SM2 keys `sm2-pub`
//! (0x1206, varint `86 24`) and the 33-byte compressed SEC1 point. A did:key resolves from
//! itself, so a verifier needs no network.

use cairn_crypto::{PublicKey, Suite};

use crate::VcError;

const ED25519_PUB: [u8; 2] = [0xed, 0x01];
const SM2_PUB: [u8; 2] = [0x86, 0x24];
/// GB/T 32918's default distinguishing identifier (the one `cairn-crypto` signs with).
const SM2_DEFAULT_DISTID: &str = "1234567812345678";

/// The multibase (`z` + base58btc) multikey of a public key.
pub fn multikey(key: &PublicKey) -> String {
    let mut bytes = Vec::with_capacity(35);
    match key.suite() {
        Suite::Ed25519Sha256 => {
            bytes.extend_from_slice(&ED25519_PUB);
            bytes.extend_from_slice(key.as_bytes());
        }
        Suite::Sm2Sm3 => {
            // Compressed: the parity of y, then x.
            let b = key.as_bytes();
            bytes.extend_from_slice(&SM2_PUB);
            bytes.push(0x02 | (b[64] & 1));
            bytes.extend_from_slice(&b[1..33]);
        }
    }
    format!("z{}", bs58::encode(bytes).into_string())
}

/// `did:key:z…` of a key.
pub fn did_key(key: &PublicKey) -> String {
    format!("did:key:{}", multikey(key))
}

/// The verification method URL of a key's did:key: `did:key:z…#z…`.
pub fn verification_method(key: &PublicKey) -> String {
    let m = multikey(key);
    format!("did:key:{m}#{m}")
}

/// The key a did:key verification method URL (`did:key:z…#z…`) names. The fragment must be
/// the key itself, as the method defines.
pub fn resolve(method: &str) -> Result<PublicKey, VcError> {
    let bad = |why: &str| VcError::BadDid(format!("{method:?}: {why}"));
    let rest = method.strip_prefix("did:key:").ok_or_else(|| bad("not a did:key"))?;
    let (key, fragment) = rest.split_once('#').ok_or_else(|| bad("no #fragment naming the key"))?;
    if key != fragment {
        return Err(bad("the fragment is not the key"));
    }
    decode_multikey(key).map_err(|e| bad(&e))
}

/// The key of a multibase multikey (`z…`).
pub fn decode_multikey(m: &str) -> Result<PublicKey, String> {
    let b58 = m.strip_prefix('z').ok_or("a multikey is base58btc (z…)")?;
    if b58.len() > 64 {
        return Err("too long for a multikey".into());
    }
    let bytes = bs58::decode(b58).into_vec().map_err(|e| format!("base58: {e}"))?;
    match bytes.get(..2) {
        Some(p) if p == ED25519_PUB => PublicKey::from_bytes(Suite::Ed25519Sha256, &bytes[2..]).map_err(|e| e.to_string()),
        Some(p) if p == SM2_PUB => {
            if bytes.len() != 35 || !matches!(bytes[2], 2 | 3) {
                return Err("an SM2 multikey is a 33-byte compressed point".into());
            }
            use sm2::elliptic_curve::sec1::ToSec1Point as _;
            let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_DISTID, &bytes[2..]).map_err(|_| "not a point of SM2's curve".to_string())?;
            PublicKey::from_bytes(Suite::Sm2Sm3, vk.to_sec1_point(false).as_bytes()).map_err(|e| e.to_string())
        }
        _ => Err("neither an Ed25519 nor an SM2 public key".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::KeyPair;

    #[test]
    fn keys_round_trip_through_their_did() {
        for suite in Suite::ALL {
            for _ in 0..20 {
                let k = KeyPair::generate(suite).public_key();
                let vm = verification_method(&k);
                assert!(vm.starts_with(&did_key(&k)));
                assert_eq!(resolve(&vm).unwrap(), k);
            }
        }
        // The W3C vc-di-eddsa test key.
        let k = decode_multikey("z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2").unwrap();
        assert_eq!(multikey(&k), "z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2");
        assert!(resolve("did:key:z6MkrJVnaZkeFzdQyMZu1cgjg7k1pZZ6pvBQ7XJPt4swbTQ2#z6Mk").is_err());
        assert!(resolve("did:web:example.com#key").is_err());
        assert!(decode_multikey("z111").is_err());
    }
}

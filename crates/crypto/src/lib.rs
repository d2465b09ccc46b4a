//! Cairn's crypto suites: one per chain, chosen at genesis.
//!
//! * `ed25519-sha256`: Ed25519 (strict verification) and SHA-256.
//! * `sm2-sm3`: SM2 signatures with the default distinguishing ID `1234567812345678`
//!   (signatures DER-encoded `SEQUENCE{r,s}`) and SM3.
//!
//! Every protocol signature is domain-separated ([`Domain`]): the signed message is
//! `"CAIRN-SIG-V1" 0x00 || purpose 0x00 || chain id 0x00 || message`, so a signature made for one
//! purpose or chain verifies for no other. Signed notes (checkpoints) are signed raw, as the C2SP
//! signed-note format demands; their text begins with the origin line, which names the chain.

use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::Digest as _;

/// Length of every hash in both suites.
pub const HASH_LEN: usize = 32;
/// A 32-byte digest produced by the chain's suite hash.
pub type Hash = [u8; HASH_LEN];

/// The SM2 default distinguishing ID (GB/T 35276).
pub const SM2_DEFAULT_DISTID: &str = "1234567812345678";

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    #[error("invalid {suite} public key: {reason}")]
    InvalidPublicKey { suite: Suite, reason: &'static str },
    #[error("invalid {suite} secret key")]
    InvalidSecretKey { suite: Suite },
    #[error("malformed {suite} signature")]
    MalformedSignature { suite: Suite },
    #[error("{suite} signature does not verify")]
    BadSignature { suite: Suite },
    #[error("unknown crypto suite {0:?} (expected ed25519-sha256 or sm2-sm3)")]
    UnknownSuite(String),
    #[error("PEM encoding failed: {0}")]
    Pem(String),
}

/// A chain-wide choice of signature scheme and hash function.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub enum Suite {
    #[serde(rename = "ed25519-sha256")]
    Ed25519Sha256,
    #[serde(rename = "sm2-sm3")]
    Sm2Sm3,
}

impl Suite {
    pub const ALL: [Suite; 2] = [Suite::Ed25519Sha256, Suite::Sm2Sm3];

    pub fn name(self) -> &'static str {
        match self {
            Suite::Ed25519Sha256 => "ed25519-sha256",
            Suite::Sm2Sm3 => "sm2-sm3",
        }
    }

    /// One byte that identifies the suite inside canonical encodings.
    pub fn code(self) -> u8 {
        match self {
            Suite::Ed25519Sha256 => 1,
            Suite::Sm2Sm3 => 2,
        }
    }

    pub fn from_code(code: u8) -> Option<Suite> {
        match code {
            1 => Some(Suite::Ed25519Sha256),
            2 => Some(Suite::Sm2Sm3),
            _ => None,
        }
    }

    /// Name of the hash function, as shown to users ("sha-256" / "sm3").
    pub fn hash_name(self) -> &'static str {
        match self {
            Suite::Ed25519Sha256 => "sha-256",
            Suite::Sm2Sm3 => "sm3",
        }
    }

    pub fn hasher(self) -> Hasher {
        match self {
            Suite::Ed25519Sha256 => Hasher::Sha256(sha2::Sha256::new()),
            Suite::Sm2Sm3 => Hasher::Sm3(sm3::Sm3::new()),
        }
    }

    pub fn hash(self, data: &[u8]) -> Hash {
        let mut h = self.hasher();
        h.update(data);
        h.finalize()
    }

    /// Length in bytes of a public key's canonical encoding.
    pub fn public_key_len(self) -> usize {
        match self {
            Suite::Ed25519Sha256 => 32,
            Suite::Sm2Sm3 => 65,
        }
    }
}

impl fmt::Display for Suite {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Suite {
    type Err = CryptoError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "ed25519-sha256" => Ok(Suite::Ed25519Sha256),
            "sm2-sm3" => Ok(Suite::Sm2Sm3),
            other => Err(CryptoError::UnknownSuite(other.to_string())),
        }
    }
}

/// Streaming hasher for the suite's hash function.
#[derive(Clone)]
pub enum Hasher {
    Sha256(sha2::Sha256),
    Sm3(sm3::Sm3),
}

impl Hasher {
    pub fn update(&mut self, data: &[u8]) {
        match self {
            Hasher::Sha256(h) => h.update(data),
            Hasher::Sm3(h) => h.update(data),
        }
    }
    pub fn finalize(self) -> Hash {
        match self {
            Hasher::Sha256(h) => h.finalize().into(),
            Hasher::Sm3(h) => h.finalize().into(),
        }
    }
}

/// Plain SHA-256, independent of the chain suite (C2SP key IDs, file digests).
pub fn sha256(data: &[u8]) -> Hash {
    sha2::Sha256::digest(data).into()
}

/// Plain SM3, independent of the chain suite (file digests).
pub fn sm3(data: &[u8]) -> Hash {
    sm3::Sm3::digest(data).into()
}

/// What a signature is for. Part of every signed message, so signatures never cross purposes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Domain {
    /// A client transaction.
    Transaction,
    /// A validator's block proposal or attestation.
    Block,
}

impl Domain {
    fn label(self) -> &'static [u8] {
        match self {
            Domain::Transaction => b"transaction",
            Domain::Block => b"block",
        }
    }
}

/// The exact bytes that get signed for `domain` on `chain_id`.
pub fn signing_message(domain: Domain, chain_id: &str, message: &[u8]) -> Vec<u8> {
    let label = domain.label();
    let mut out = Vec::with_capacity(16 + label.len() + chain_id.len() + message.len());
    out.extend_from_slice(b"CAIRN-SIG-V1\0");
    out.extend_from_slice(label);
    out.push(0);
    out.extend_from_slice(chain_id.as_bytes());
    out.push(0);
    out.extend_from_slice(message);
    out
}

/// A public key of either suite, in its canonical encoding
/// (Ed25519: 32 bytes; SM2: 65-byte uncompressed SEC1 point), held already decompressed so
/// that each verification skips point decoding. Equality and order are by the encoding.
#[derive(Clone)]
pub struct PublicKey {
    suite: Suite,
    bytes: Vec<u8>,
    parsed: ParsedKey,
}

#[derive(Clone)]
enum ParsedKey {
    Ed25519(ed25519_dalek::VerifyingKey),
    Sm2(Box<sm2::dsa::VerifyingKey>),
}

impl PartialEq for PublicKey {
    fn eq(&self, other: &Self) -> bool {
        self.suite == other.suite && self.bytes == other.bytes
    }
}
impl Eq for PublicKey {}
impl PartialOrd for PublicKey {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for PublicKey {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.suite, &self.bytes).cmp(&(other.suite, &other.bytes))
    }
}
impl std::hash::Hash for PublicKey {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        std::hash::Hash::hash(&self.suite, state);
        std::hash::Hash::hash(&self.bytes, state);
    }
}

impl fmt::Debug for PublicKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PublicKey({}:{})", self.suite, hex::encode(&self.bytes))
    }
}

impl PublicKey {
    /// Parses and validates a key: Ed25519 keys of small order and SM2 points off the curve are refused.
    pub fn from_bytes(suite: Suite, bytes: &[u8]) -> Result<Self, CryptoError> {
        let parsed = match suite {
            Suite::Ed25519Sha256 => {
                let arr: [u8; 32] = bytes.try_into().map_err(|_| CryptoError::InvalidPublicKey { suite, reason: "expected 32 bytes" })?;
                let vk = ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|_| CryptoError::InvalidPublicKey { suite, reason: "not a curve point" })?;
                if vk.is_weak() {
                    return Err(CryptoError::InvalidPublicKey { suite, reason: "small-order point" });
                }
                ParsedKey::Ed25519(vk)
            }
            Suite::Sm2Sm3 => {
                if bytes.len() != 65 || bytes[0] != 4 {
                    return Err(CryptoError::InvalidPublicKey { suite, reason: "expected a 65-byte uncompressed SEC1 point" });
                }
                let vk = sm2::dsa::VerifyingKey::from_sec1_bytes(SM2_DEFAULT_DISTID, bytes)
                    .map_err(|_| CryptoError::InvalidPublicKey { suite, reason: "not a curve point" })?;
                ParsedKey::Sm2(Box::new(vk))
            }
        };
        Ok(PublicKey { suite, bytes: bytes.to_vec(), parsed })
    }

    pub fn from_hex(suite: Suite, s: &str) -> Result<Self, CryptoError> {
        let bytes = hex::decode(s).map_err(|_| CryptoError::InvalidPublicKey { suite, reason: "not hex" })?;
        Self::from_bytes(suite, &bytes)
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn as_bytes(&self) -> &[u8] {
        &self.bytes
    }

    pub fn to_hex(&self) -> String {
        hex::encode(&self.bytes)
    }

    /// Verifies a domain-separated signature.
    pub fn verify(&self, domain: Domain, chain_id: &str, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        self.verify_raw(&signing_message(domain, chain_id, message), signature)
    }

    /// Verifies a signature over `message` exactly (used for C2SP signed notes).
    pub fn verify_raw(&self, message: &[u8], signature: &[u8]) -> Result<(), CryptoError> {
        let suite = self.suite;
        match &self.parsed {
            ParsedKey::Ed25519(vk) => {
                let sig = ed25519_dalek::Signature::from_slice(signature).map_err(|_| CryptoError::MalformedSignature { suite })?;
                // verify_strict: rejects non-canonical S, small-order R and weak keys.
                vk.verify_strict(message, &sig).map_err(|_| CryptoError::BadSignature { suite })
            }
            ParsedKey::Sm2(vk) => {
                use sm2::dsa::signature::Verifier;
                let sig = sm2::dsa::Signature::from_der(signature).map_err(|_| CryptoError::MalformedSignature { suite })?;
                // Refuse non-minimal DER: the signature must round-trip byte for byte.
                if sig.to_der().as_bytes() != signature {
                    return Err(CryptoError::MalformedSignature { suite });
                }
                vk.verify(message, &sig).map_err(|_| CryptoError::BadSignature { suite })
            }
        }
    }

    /// The key as a PEM `SubjectPublicKeyInfo`, readable by OpenSSL 3.
    pub fn to_pem(&self) -> Result<String, CryptoError> {
        use ed25519_dalek::pkcs8::EncodePublicKey as _;
        use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
        match self.suite {
            Suite::Ed25519Sha256 => {
                let arr: [u8; 32] = self.bytes.as_slice().try_into().expect("validated length");
                let vk = ed25519_dalek::VerifyingKey::from_bytes(&arr).map_err(|e| CryptoError::Pem(e.to_string()))?;
                vk.to_public_key_pem(LineEnding::LF).map_err(|e| CryptoError::Pem(e.to_string()))
            }
            Suite::Sm2Sm3 => {
                use sm2::pkcs8::EncodePublicKey as _;
                let pk = sm2::PublicKey::from_sec1_bytes(&self.bytes).map_err(|e| CryptoError::Pem(e.to_string()))?;
                pk.to_public_key_pem(sm2::pkcs8::LineEnding::LF).map_err(|e| CryptoError::Pem(e.to_string()))
            }
        }
    }
}

/// A signing key of either suite.
// A node holds a handful of keys: their size does not matter, so no boxing of the larger one.
#[allow(clippy::large_enum_variant)]
#[derive(Clone)]
pub enum KeyPair {
    Ed25519(ed25519_dalek::SigningKey),
    Sm2(Box<sm2::dsa::SigningKey>),
}

impl fmt::Debug for KeyPair {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "KeyPair({:?})", self.public_key())
    }
}

impl KeyPair {
    /// A fresh key from the operating system's random source.
    pub fn generate(suite: Suite) -> Self {
        use rand::Rng as _;
        let mut rng = rand::rng();
        loop {
            let mut secret = [0u8; 32];
            rng.fill_bytes(&mut secret);
            // An SM2 scalar must be in [1, n-2]; retry the (astronomically rare) miss.
            if let Ok(kp) = Self::from_secret_bytes(suite, &secret) {
                return kp;
            }
        }
    }

    pub fn from_secret_bytes(suite: Suite, secret: &[u8]) -> Result<Self, CryptoError> {
        let arr: [u8; 32] = secret.try_into().map_err(|_| CryptoError::InvalidSecretKey { suite })?;
        match suite {
            Suite::Ed25519Sha256 => Ok(KeyPair::Ed25519(ed25519_dalek::SigningKey::from_bytes(&arr))),
            Suite::Sm2Sm3 => {
                let sk = sm2::dsa::SigningKey::from_slice(SM2_DEFAULT_DISTID, &arr).map_err(|_| CryptoError::InvalidSecretKey { suite })?;
                Ok(KeyPair::Sm2(Box::new(sk)))
            }
        }
    }

    pub fn suite(&self) -> Suite {
        match self {
            KeyPair::Ed25519(_) => Suite::Ed25519Sha256,
            KeyPair::Sm2(_) => Suite::Sm2Sm3,
        }
    }

    pub fn secret_bytes(&self) -> [u8; 32] {
        match self {
            KeyPair::Ed25519(k) => k.to_bytes(),
            KeyPair::Sm2(k) => k.to_bytes().into(),
        }
    }

    pub fn public_key(&self) -> PublicKey {
        match self {
            KeyPair::Ed25519(k) => {
                let vk = k.verifying_key();
                PublicKey { suite: Suite::Ed25519Sha256, bytes: vk.to_bytes().to_vec(), parsed: ParsedKey::Ed25519(vk) }
            }
            KeyPair::Sm2(k) => {
                use sm2::elliptic_curve::sec1::ToSec1Point as _;
                let vk = k.verifying_key().clone();
                let bytes = vk.to_sec1_point(false).as_bytes().to_vec();
                PublicKey { suite: Suite::Sm2Sm3, bytes, parsed: ParsedKey::Sm2(Box::new(vk)) }
            }
        }
    }

    /// Signs a domain-separated message.
    pub fn sign(&self, domain: Domain, chain_id: &str, message: &[u8]) -> Vec<u8> {
        self.sign_raw(&signing_message(domain, chain_id, message))
    }

    /// Signs `message` exactly (C2SP signed notes). SM2 signatures are deterministic (RFC 6979 nonces).
    pub fn sign_raw(&self, message: &[u8]) -> Vec<u8> {
        match self {
            KeyPair::Ed25519(k) => {
                use ed25519_dalek::Signer as _;
                k.sign(message).to_bytes().to_vec()
            }
            KeyPair::Sm2(k) => {
                use sm2::dsa::signature::Signer as _;
                let sig: sm2::dsa::Signature = k.sign(message);
                sig.to_der().as_bytes().to_vec()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suite_names_round_trip() {
        for s in Suite::ALL {
            assert_eq!(s.name().parse::<Suite>().unwrap(), s);
            assert_eq!(Suite::from_code(s.code()), Some(s));
        }
        assert!("rsa".parse::<Suite>().is_err());
    }

    #[test]
    fn sign_verify_and_domain_separation() {
        for suite in Suite::ALL {
            let kp = KeyPair::generate(suite);
            let pk = kp.public_key();
            assert_eq!(pk.as_bytes().len(), suite.public_key_len());
            let sig = kp.sign(Domain::Transaction, "chain-a", b"hello");
            pk.verify(Domain::Transaction, "chain-a", b"hello", &sig).unwrap();
            assert_eq!(pk.verify(Domain::Transaction, "chain-b", b"hello", &sig), Err(CryptoError::BadSignature { suite }));
            assert_eq!(pk.verify(Domain::Block, "chain-a", b"hello", &sig), Err(CryptoError::BadSignature { suite }));
            assert_eq!(pk.verify(Domain::Transaction, "chain-a", b"hellO", &sig), Err(CryptoError::BadSignature { suite }));
            let other = KeyPair::generate(suite).public_key();
            assert!(other.verify(Domain::Transaction, "chain-a", b"hello", &sig).is_err());
            // Secret round trip.
            let again = KeyPair::from_secret_bytes(suite, &kp.secret_bytes()).unwrap();
            assert_eq!(again.public_key(), pk);
            // Key parsing round trip.
            assert_eq!(PublicKey::from_bytes(suite, pk.as_bytes()).unwrap(), pk);
            assert!(PublicKey::from_bytes(suite, &pk.as_bytes()[1..]).is_err());
        }
    }

    #[test]
    fn hashes_match_known_values() {
        assert_eq!(hex::encode(Suite::Ed25519Sha256.hash(b"abc")), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
        assert_eq!(hex::encode(Suite::Sm2Sm3.hash(b"abc")), "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0");
    }
}

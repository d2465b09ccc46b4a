//! W3C Verifiable Credentials 2.0 with Data Integrity proofs, for the ledger's modules that
//! issue credentials (registries first).
//!
//! * [`canon`]: the two transformations, RDF Dataset Canonicalization (RDFC-1.0 over the
//!   JSON-LD to RDF conversion, `oxjsonld` + `oxrdf`) and JCS (RFC 8785), with the contexts
//!   embedded (no context is ever fetched from the network);
//! * [`proof`]: `DataIntegrityProof` with the cryptosuites `eddsa-rdfc-2022` and
//!   `eddsa-jcs-2022` (W3C vc-di-eddsa) and, for SM2 chains, `cairn-sm2sm3-jcs-2026` (JCS, SM3,
//!   SM2; specified in docs/encoding.md): creation and verification;
//! * [`did`]: `did:key` identifiers of Ed25519 and SM2 keys (multikey, base58btc);
//! * [`status`]: Bitstring Status List `encodedList` values (GZIP, multibase base64url).
//!
//! Pure functions over `serde_json` values and bytes: no I/O, no clock, no randomness (Ed25519
//! and this crate's SM2 signatures are deterministic), so the same credential is issued twice
//! byte for byte.

pub mod canon;
pub mod did;
pub mod proof;
pub mod status;

pub use proof::{Cryptosuite, Verified};

/// Why a credential or one of its parts was refused.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum VcError {
    #[error("not a JSON-LD document this verifier can read: {0}")]
    JsonLd(String),
    #[error("the document loads a context this verifier does not have: {0}")]
    UnknownContext(String),
    #[error("malformed credential: {0}")]
    Malformed(String),
    #[error("unsupported proof: {0}")]
    Unsupported(String),
    #[error("not a did:key this verifier can resolve: {0}")]
    BadDid(String),
    #[error("the signature does not verify")]
    BadSignature,
    #[error("bad status list: {0}")]
    BadStatusList(String),
}

//! Offline check of a finalization certificate: a quorum of the genesis validators' consensus
//! keys signed "finalize" for a block digest. With [`crate::block_digest`] the digest links to
//! the ledger's block header, so the certificate is a proof of finality independent of the
//! checkpoint signatures.

use commonware_codec::Read as _;
use commonware_consensus::simplex::scheme::ed25519::Scheme as EdScheme;
use commonware_consensus::simplex::types::Finalization;
use commonware_cryptography::certificate::Verifier as _;
use commonware_cryptography::ed25519;
use commonware_cryptography::sha256::Digest;
use commonware_parallel::Sequential;
use commonware_utils::TryCollect as _;
use commonware_utils::ordered::Set;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CertificateError {
    #[error("certificate does not decode: {0}")]
    Malformed(String),
    #[error("invalid validator consensus key: {0}")]
    Key(String),
    #[error("certificate signatures do not verify against the trusted validators (or fall short of a quorum)")]
    BadSignatures,
}

/// What a valid certificate proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Finalized {
    /// The block digest that was finalized.
    pub digest: [u8; 32],
    pub view: u64,
}

/// Checks `certificate` (Commonware's encoded ed25519 finalization) against the consensus keys
/// of `validators` for chain `chain_id`.
pub fn verify(chain_id: &str, validators: &[[u8; 32]], certificate: &[u8]) -> Result<Finalized, CertificateError> {
    use commonware_codec::DecodeExt as _;
    let mut keys = Vec::with_capacity(validators.len());
    for v in validators {
        keys.push(ed25519::PublicKey::decode(v.to_vec()).map_err(|e| CertificateError::Key(e.to_string()))?);
    }
    let set: Set<ed25519::PublicKey> = keys.into_iter().try_collect().map_err(|_| CertificateError::Key("repeated key".into()))?;
    let scheme = EdScheme::verifier(&crate::consensus_namespace(chain_id), set);
    let mut buf = bytes::Bytes::copy_from_slice(certificate);
    let f = Finalization::<EdScheme, Digest>::read_cfg(&mut buf, &scheme.certificate_codec_config()).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    if bytes::Buf::has_remaining(&buf) {
        return Err(CertificateError::Malformed(format!("{} trailing bytes", bytes::Buf::remaining(&buf))));
    }
    // Ed25519 certificate verification is deterministic; the generator is only for batching.
    let mut rng = rand::rng();
    if !f.verify(&mut rng, &scheme, &Sequential) {
        return Err(CertificateError::BadSignatures);
    }
    Ok(Finalized { digest: f.proposal.payload.0, view: f.proposal.round.view().get() })
}

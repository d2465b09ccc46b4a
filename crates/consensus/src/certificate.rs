//! Offline check of a finalization certificate: a quorum of the genesis validators' vote keys
//! (Ed25519 consensus keys, or SM2 vote keys on `sm2-sm3` chains that name them) signed
//! "finalize" for a block digest. With [`crate::block_digest`] the digest links to the ledger's
//! block header, so the certificate is a proof of finality independent of the checkpoint
//! signatures.

use commonware_codec::Read as _;
use commonware_consensus::simplex::scheme::ed25519::Scheme as EdScheme;
use commonware_consensus::simplex::types::Finalization;
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

/// The validators a certificate is checked against, in genesis order.
#[derive(Clone, Debug)]
pub enum Committee {
    /// Ed25519 consensus keys: they vote (Commonware's ed25519 scheme).
    Ed25519(Vec<[u8; 32]>),
    /// (Ed25519 consensus key, SM2 vote key) pairs: the SM2 keys vote ([`crate::sm2::Scheme`]).
    Sm2(Vec<([u8; 32], cairn_crypto::PublicKey)>),
}

fn identities(keys: impl Iterator<Item = [u8; 32]>) -> Result<Vec<ed25519::PublicKey>, CertificateError> {
    use commonware_codec::DecodeExt as _;
    keys.map(|v| ed25519::PublicKey::decode(v.to_vec()).map_err(|e| CertificateError::Key(e.to_string()))).collect()
}

/// Checks `certificate` (Commonware's encoded finalization, in the committee's scheme) against
/// `committee` for chain `chain_id`.
pub fn verify(chain_id: &str, committee: &Committee, certificate: &[u8]) -> Result<Finalized, CertificateError> {
    let namespace = crate::consensus_namespace(chain_id);
    match committee {
        Committee::Ed25519(keys) => {
            let set: Set<ed25519::PublicKey> =
                identities(keys.iter().copied())?.into_iter().try_collect().map_err(|_| CertificateError::Key("repeated key".into()))?;
            check(&EdScheme::verifier(&namespace, set), certificate)
        }
        Committee::Sm2(pairs) => {
            let ids = identities(pairs.iter().map(|(id, _)| *id))?;
            let pairs = ids.into_iter().zip(pairs.iter().map(|(_, k)| k.clone())).collect();
            let scheme = crate::sm2::Scheme::verifier(&namespace, pairs).map_err(|e| CertificateError::Key(e.to_string()))?;
            check(&scheme, certificate)
        }
    }
}

fn check<V: crate::engine::VoteScheme>(scheme: &V, certificate: &[u8]) -> Result<Finalized, CertificateError> {
    let mut buf = bytes::Bytes::copy_from_slice(certificate);
    let f = Finalization::<V, Digest>::read_cfg(&mut buf, &scheme.certificate_codec_config()).map_err(|e| CertificateError::Malformed(e.to_string()))?;
    if bytes::Buf::has_remaining(&buf) {
        return Err(CertificateError::Malformed(format!("{} trailing bytes", bytes::Buf::remaining(&buf))));
    }
    // Both schemes verify deterministically; the generator is only for batching.
    let mut rng = rand::rng();
    if !f.verify(&mut rng, scheme, &Sequential) {
        return Err(CertificateError::BadSignatures);
    }
    Ok(Finalized { digest: f.proposal.payload.0, view: f.proposal.round.view().get() })
}

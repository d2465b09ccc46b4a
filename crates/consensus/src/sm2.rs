//! An SM2 certificate scheme for simplex, modelled on Commonware's secp256r1 scheme: votes are
//! SM2 signatures (SM3 hash, default ID "1234567812345678") by each validator's SM2 consensus
//! key; a certificate is the signer bitmap plus one signature per signer. Attributable, like
//! ed25519: a single vote is evidence a third party can check.
//!
//! Participants are identified by their p2p identity (`P`, ed25519 in Cairn: Commonware's
//! `authenticated` network needs it) and sign with their SM2 key, as in the secp256r1 scheme.
//!
//! Wire forms (docs/encoding.md, "Consensus certificates"):
//! * a signature is `r ‖ s`, 32 bytes each, big-endian, each in `1..n`;
//! * the signed message is `varint(len(ns)) ‖ ns ‖ message` (Commonware's `union_unique`),
//!   `ns` the vote kind's namespace (`…_NOTARIZE`, `…_NULLIFY`, `…_FINALIZE`);
//! * a certificate is Commonware's signer bitmap, then a length-prefixed vector of signatures
//!   in signer order.

use bytes::BufMut;
use cairn_crypto::sm2fast;
use commonware_codec::Buf;
use commonware_codec::{EncodeSize, Error as CodecError, FixedSize, Read, ReadRangeExt as _, Write, types::lazy::Lazy};
use commonware_consensus::simplex::{scheme::Namespace, types::Subject};
use commonware_cryptography::Digest;
use commonware_cryptography::certificate::{
    AssemblyError, Attestation, Membership, Namespace as _, Scheme as CertificateScheme, Signers, Subject as _, Verification, Verifier,
};
use commonware_parallel::Strategy;
use commonware_utils::ordered::{Quorum as _, Set};
use commonware_utils::{N3f1, Participant, iter::NonEmpty, union_unique};
use rand_core::CryptoRng;

/// An SM2 vote signature, `r ‖ s`. Decoding checks that both are in `1..n`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Signature(pub [u8; 64]);

impl Write for Signature {
    fn write(&self, writer: &mut impl BufMut) {
        writer.put_slice(&self.0);
    }
}

impl FixedSize for Signature {
    const SIZE: usize = 64;
}

impl Read for Signature {
    type Cfg = ();
    fn read_cfg(reader: &mut impl Buf, _: &()) -> Result<Self, CodecError> {
        if reader.remaining() < 64 {
            return Err(CodecError::EndOfBuffer);
        }
        let mut bytes = [0u8; 64];
        reader.copy_to_slice(&mut bytes);
        if sm2fast::Sig::from_fixed(&bytes).is_none() {
            return Err(CodecError::Invalid("cairn::sm2::Signature", "r or s outside 1..n"));
        }
        Ok(Signature(bytes))
    }
}

/// Signers and their signatures, in signer order.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Certificate {
    pub signers: Signers,
    pub signatures: Vec<Lazy<Signature>>,
}

impl Write for Certificate {
    fn write(&self, writer: &mut impl BufMut) {
        self.signers.write(writer);
        self.signatures.write(writer);
    }
}

impl EncodeSize for Certificate {
    fn encode_size(&self) -> usize {
        self.signers.encode_size() + self.signatures.encode_size()
    }
}

impl Read for Certificate {
    /// The most participants a certificate may name.
    type Cfg = usize;
    fn read_cfg(reader: &mut impl Buf, participants: &usize) -> Result<Self, CodecError> {
        let signers = Signers::read_cfg(reader, participants)?;
        if signers.count() == 0 {
            return Err(CodecError::Invalid("cairn::sm2::Certificate", "no signers"));
        }
        let signatures = Vec::<Lazy<Signature>>::read_range(reader, ..=*participants)?;
        if signatures.len() != signers.count() {
            return Err(CodecError::Invalid("cairn::sm2::Certificate", "signers and signatures counts differ"));
        }
        Ok(Certificate { signers, signatures })
    }
}

/// The SM2 scheme: participants (by identity, sorted) with their SM2 keys at the same index.
#[derive(Clone)]
pub struct Scheme<P: commonware_cryptography::PublicKey> {
    participants: Set<P>,
    keys: Vec<cairn_crypto::PublicKey>,
    signer: Option<(Participant, cairn_crypto::KeyPair)>,
    member: Option<Participant>,
    namespace: Namespace,
}

impl<P: commonware_cryptography::PublicKey> std::fmt::Debug for Scheme<P> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("sm2::Scheme").field("participants", &self.participants.len()).field("signer", &self.signer.as_ref().map(|(i, _)| *i)).finish()
    }
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SchemeError {
    #[error("repeated validator identity")]
    RepeatedIdentity,
    #[error("validator {0}'s consensus key is not an SM2 key")]
    NotSm2(usize),
    #[error("the signing key is not a participant's consensus key")]
    NotParticipant,
}

impl<P: commonware_cryptography::PublicKey> Scheme<P> {
    /// A verifier over `participants`: (identity, SM2 consensus key) pairs, in any order.
    pub fn verifier(namespace: &[u8], participants: Vec<(P, cairn_crypto::PublicKey)>) -> Result<Self, SchemeError> {
        let mut participants = participants;
        participants.sort_by(|a, b| a.0.cmp(&b.0));
        if participants.windows(2).any(|w| w[0].0 == w[1].0) {
            return Err(SchemeError::RepeatedIdentity);
        }
        if let Some(i) = participants.iter().position(|(_, k)| k.sm2_key().is_none()) {
            return Err(SchemeError::NotSm2(i));
        }
        let (ids, keys): (Vec<P>, Vec<cairn_crypto::PublicKey>) = participants.into_iter().unzip();
        let participants = Set::from_iter_dedup(ids);
        Ok(Scheme { participants, keys, signer: None, member: None, namespace: Namespace::derive(namespace) })
    }

    /// A signer: the verifier plus the SM2 key of one participant.
    pub fn signer(namespace: &[u8], participants: Vec<(P, cairn_crypto::PublicKey)>, key: cairn_crypto::KeyPair) -> Result<Self, SchemeError> {
        let mut scheme = Self::verifier(namespace, participants)?;
        let index = scheme.keys.iter().position(|k| *k == key.public_key()).ok_or(SchemeError::NotParticipant)?;
        scheme.signer = Some((Participant::from_usize(index), key));
        Ok(scheme)
    }

    fn message(&self, subject: &Subject<'_, impl Digest>) -> Vec<u8> {
        union_unique(subject.namespace(&self.namespace), &subject.message())
    }

    fn key(&self, signer: Participant) -> Option<&sm2fast::Key> {
        self.keys.get(signer.get() as usize).and_then(|k| k.sm2_key())
    }

    /// Verdicts of many (signer, signature) pairs over one message, checked together.
    fn verify_many(&self, message: &[u8], items: &[(Participant, &Signature)]) -> Vec<bool> {
        let mut verdicts = vec![false; items.len()];
        let mut index = Vec::with_capacity(items.len());
        let mut batch = Vec::with_capacity(items.len());
        for (i, (signer, sig)) in items.iter().enumerate() {
            if let (Some(key), Some(sig)) = (self.key(*signer), sm2fast::Sig::from_fixed(&sig.0)) {
                index.push(i);
                batch.push((key, message, sig));
            }
        }
        for (i, ok) in index.into_iter().zip(sm2fast::verify_many(&batch)) {
            verdicts[i] = ok;
        }
        verdicts
    }

    fn verify_certificate_inner<D: Digest>(&self, subject: Subject<'_, D>, certificate: &Certificate) -> bool {
        if certificate.signers.len() != self.participants.len()
            || certificate.signers.count() != certificate.signatures.len()
            || certificate.signers.count() < self.participants.quorum::<N3f1>() as usize
        {
            return false;
        }
        let mut items = Vec::with_capacity(certificate.signatures.len());
        for (signer, signature) in certificate.signers.iter().zip(&certificate.signatures) {
            let Some(signature) = signature.get() else { return false };
            items.push((signer, signature));
        }
        let message = self.message(&subject);
        self.verify_many(&message, &items).into_iter().all(|ok| ok)
    }
}

impl<P: commonware_cryptography::PublicKey> Verifier for Scheme<P> {
    type Subject<'a, D: Digest> = Subject<'a, D>;
    type Faults = N3f1;
    type PublicKey = P;
    type Certificate = Certificate;

    fn verify_certificate<R: CryptoRng, D: Digest>(
        &self,
        _rng: &mut R,
        subject: Self::Subject<'_, D>,
        certificate: &Self::Certificate,
        _strategy: &impl Strategy,
    ) -> bool {
        self.verify_certificate_inner(subject, certificate)
    }

    fn verify_certificates<'a, R, D, I>(&self, _rng: &mut R, certificates: NonEmpty<I>, _strategy: &impl Strategy) -> bool
    where
        R: CryptoRng,
        D: Digest,
        I: Iterator<Item = (Self::Subject<'a, D>, &'a Self::Certificate)>,
    {
        certificates.into_iter().all(|(subject, certificate)| self.verify_certificate_inner(subject, certificate))
    }

    fn is_batchable() -> bool {
        false
    }

    fn max_certificate_size(participants: u32) -> usize {
        // The signer bitmap (a u64 bit count and the bits), then a varint count (at most 5
        // bytes for a u32) and 64-byte signatures.
        let n = participants as usize;
        8 + n.div_ceil(8) + 5 + n * Signature::SIZE
    }

    fn certificate_codec_config(&self) -> usize {
        self.participants.len()
    }

    fn certificate_codec_config_unbounded() -> usize {
        u32::MAX as usize
    }
}

impl<P: commonware_cryptography::PublicKey> CertificateScheme for Scheme<P> {
    type Signature = Signature;

    fn me(&self) -> Option<Membership> {
        self.signer.as_ref().map(|(i, _)| Membership::Signer(*i)).or(self.member.map(Membership::Member))
    }

    fn participants(&self) -> &Set<P> {
        &self.participants
    }

    fn sign<D: Digest>(&self, subject: Self::Subject<'_, D>) -> Option<Attestation<Self>> {
        let (index, key) = self.signer.as_ref()?;
        let der = key.sign_raw(&self.message(&subject));
        let fixed = sm2fast::Sig::der_to_fixed(&der)?;
        Some(Attestation { signer: *index, signature: Signature(fixed).into() })
    }

    fn verify_attestation<R: CryptoRng, D: Digest>(
        &self,
        _rng: &mut R,
        subject: Self::Subject<'_, D>,
        attestation: &Attestation<Self>,
        _strategy: &impl Strategy,
    ) -> bool {
        let Some(signature) = attestation.signature.get() else { return false };
        self.verify_many(&self.message(&subject), &[(attestation.signer, signature)])[0]
    }

    fn verify_attestations<R, D, I>(&self, _rng: &mut R, subject: Self::Subject<'_, D>, attestations: I, _strategy: &impl Strategy) -> Verification<Self>
    where
        R: CryptoRng,
        D: Digest,
        I: IntoIterator<Item = Attestation<Self>>,
    {
        let attestations: Vec<Attestation<Self>> = attestations.into_iter().collect();
        let mut invalid = std::collections::BTreeSet::new();
        let mut candidates = Vec::with_capacity(attestations.len());
        for (i, a) in attestations.iter().enumerate() {
            match a.signature.get() {
                Some(sig) => candidates.push((i, a.signer, sig)),
                None => {
                    invalid.insert(a.signer);
                }
            }
        }
        let message = self.message(&subject);
        let items: Vec<(Participant, &Signature)> = candidates.iter().map(|(_, s, sig)| (*s, *sig)).collect();
        let verdicts = self.verify_many(&message, &items);
        let mut ok = vec![false; attestations.len()];
        for ((i, signer, _), v) in candidates.iter().zip(verdicts) {
            if v {
                ok[*i] = true;
            } else {
                invalid.insert(*signer);
            }
        }
        let verified = attestations.into_iter().zip(ok).filter_map(|(a, ok)| ok.then_some(a)).collect();
        Verification::new(verified, invalid.into_iter().collect())
    }

    fn optimistic_assemble<'a, R, D, I, J>(
        &self,
        rng: &mut R,
        subject: Self::Subject<'_, D>,
        pending: I,
        verified: J,
        strategy: &impl Strategy,
    ) -> Result<Self::Certificate, Verification<Self>>
    where
        R: CryptoRng,
        D: Digest,
        I: IntoIterator<Item = Attestation<Self>>,
        I::IntoIter: ExactSizeIterator + Send,
        J: IntoIterator<Item = &'a Attestation<Self>>,
        J::IntoIter: Send,
    {
        commonware_cryptography::certificate::verify_then_assemble::<Self, _, D, _, _>(self, rng, subject, pending, verified, strategy)
    }

    fn assemble<I>(&self, attestations: NonEmpty<I>, _strategy: &impl Strategy) -> Result<Self::Certificate, AssemblyError>
    where
        I: Iterator<Item = Attestation<Self>> + Send,
    {
        let mut entries = Vec::new();
        for Attestation { signer, signature } in attestations {
            if signer.get() as usize >= self.participants.len() {
                return Err(AssemblyError::UnknownSigner(signer));
            }
            let signature = *signature.get().ok_or(AssemblyError::MalformedSignature(signer))?;
            entries.push((signer, signature));
        }
        entries.sort_by_key(|(signer, _)| *signer);
        let (signers, signatures): (Vec<Participant>, Vec<Signature>) = entries.into_iter().unzip();
        let signers = Signers::try_from((&self.participants, signers))?;
        let quorum = self.participants.quorum::<N3f1>();
        if (signers.count() as u32) < quorum {
            return Err(AssemblyError::InsufficientAttestations(quorum, signers.count() as u32));
        }
        Ok(Certificate { signers, signatures: signatures.into_iter().map(Lazy::from).collect() })
    }

    fn is_attributable() -> bool {
        true
    }
}

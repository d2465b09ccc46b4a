//! The SM2 certificate scheme: votes signed and checked, certificates assembled at a quorum and
//! verified (also as simplex finalizations, the form `cairn verify --certificate` reads), and
//! every tampering refused.

use cairn_consensus::sm2::{Certificate, Scheme, Signature};
use cairn_crypto::{KeyPair, Suite};
use commonware_codec::{Decode as _, DecodeExt as _, Encode as _, Read as _};
use commonware_consensus::simplex::types::{Finalization, Proposal, Subject};
use commonware_consensus::types::{Epoch, Round, View};
use commonware_cryptography::certificate::{Scheme as _, Verifier as _};
use commonware_cryptography::sha256::Digest;
use commonware_cryptography::{Signer as _, ed25519};
use commonware_parallel::Sequential;
use commonware_utils::Participant;

const NS: &[u8] = b"CAIRN-CONSENSUS-V1/sm2-test";

fn committee(n: u64) -> (Vec<Scheme<ed25519::PublicKey>>, Scheme<ed25519::PublicKey>) {
    let keys: Vec<KeyPair> = (0..n).map(|_| KeyPair::generate(Suite::Sm2Sm3)).collect();
    let participants: Vec<(ed25519::PublicKey, cairn_crypto::PublicKey)> =
        keys.iter().enumerate().map(|(i, k)| (ed25519::PrivateKey::from_seed(i as u64).public_key(), k.public_key())).collect();
    let signers = keys.into_iter().map(|k| Scheme::signer(NS, participants.clone(), k).unwrap()).collect();
    (signers, Scheme::verifier(NS, participants).unwrap())
}

fn proposal(payload: u8) -> Proposal<Digest> {
    Proposal::new(Round::new(Epoch::zero(), View::new(7)), View::new(6), Digest([payload; 32]))
}

#[test]
fn votes_and_certificates_verify_and_tampering_is_refused() {
    let (signers, verifier) = committee(4);
    let mut rng = rand::rng();
    let p = proposal(1);
    let subject = || Subject::Finalize { proposal: &p };
    let votes: Vec<_> = signers.iter().map(|s| s.sign::<Digest>(subject()).unwrap()).collect();
    for v in &votes {
        assert!(verifier.verify_attestation(&mut rng, subject(), v, &Sequential));
        // A finalize vote is not a notarize vote, nor a vote for another block.
        assert!(!verifier.verify_attestation(&mut rng, Subject::Notarize { proposal: &p }, v, &Sequential));
        let other = proposal(2);
        assert!(!verifier.verify_attestation(&mut rng, Subject::Finalize { proposal: &other }, v, &Sequential));
    }
    // A vote claimed by another signer is invalid and named.
    let mut forged = votes[0].clone();
    forged.signer = Participant::new(1);
    let checked = verifier.verify_attestations(&mut rng, subject(), vec![votes[2].clone(), forged], &Sequential);
    assert_eq!(checked.verified.len(), 1);
    assert_eq!(checked.invalid, vec![Participant::new(1)]);

    // Two votes of four are short of the quorum (3).
    assert!(verifier.assemble(commonware_utils::iter::NonEmpty::try_new(votes[..2].iter().cloned()).unwrap(), &Sequential).is_err());
    let cert = verifier.assemble(commonware_utils::iter::NonEmpty::try_new(votes[..3].iter().cloned()).unwrap(), &Sequential).unwrap();
    assert!(verifier.verify_certificate(&mut rng, subject(), &cert, &Sequential));
    let other = proposal(3);
    assert!(!verifier.verify_certificate(&mut rng, Subject::Finalize { proposal: &other }, &cert, &Sequential));

    // Round trip, then every single-bit flip of the encoding is refused (by decoding or checking).
    let bytes = cert.encode().to_vec();
    let decoded = Certificate::decode_cfg(bytes::Bytes::from(bytes.clone()), &4).unwrap();
    assert_eq!(decoded, cert);
    for bit in 0..bytes.len() * 8 {
        let mut b = bytes.clone();
        b[bit / 8] ^= 1 << (bit % 8);
        if let Ok(c) = Certificate::decode_cfg(bytes::Bytes::from(b), &4) {
            assert!(!verifier.verify_certificate(&mut rng, subject(), &c, &Sequential), "bit {bit} flipped still verifies");
        }
    }
    // A certificate for another committee size is refused.
    let (_, five) = committee(5);
    assert!(!five.verify_certificate(&mut rng, subject(), &cert, &Sequential));
}

#[test]
fn a_finalization_round_trips_and_verifies_offline() {
    let (signers, verifier) = committee(4);
    let mut rng = rand::rng();
    let p = proposal(9);
    let votes: Vec<_> = signers.iter().map(|s| s.sign::<Digest>(Subject::Finalize { proposal: &p }).unwrap()).collect();
    let certificate = verifier.assemble(commonware_utils::iter::NonEmpty::try_new(votes.into_iter()).unwrap(), &Sequential).unwrap();
    let f = Finalization::<Scheme<ed25519::PublicKey>, Digest> { proposal: p.clone(), certificate };
    let bytes = f.encode().to_vec();
    let mut buf = bytes::Bytes::from(bytes.clone());
    let read = Finalization::<Scheme<ed25519::PublicKey>, Digest>::read_cfg(&mut buf, &verifier.certificate_codec_config()).unwrap();
    assert!(read.verify(&mut rng, &verifier, &Sequential));
    assert_eq!(read.proposal.payload, Digest([9; 32]));
    // Signatures out of range do not decode.
    let mut bad = [0u8; 64];
    bad[63] = 0;
    assert!(Signature::decode(bytes::Bytes::copy_from_slice(&bad)).is_err());
}

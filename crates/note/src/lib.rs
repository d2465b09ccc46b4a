//! C2SP text formats: signed notes, tlog checkpoints and tlog proofs.
//!
//! * [`SignedNote`]: c2sp.org/signed-note. Ed25519 uses signature type `0x01`. SM2 (default ID,
//!   DER `SEQUENCE{r,s}` signature) uses the escape type `0xff` followed by the identifier
//!   [`SM2_TYPE_ID`], as the spec recommends for types it does not assign; the key material is
//!   the 65-byte uncompressed SEC1 point. Key IDs are `SHA-256(name || 0x0A || type || key)[:4]`
//!   for both, as the spec recommends.
//! * [`Checkpoint`]: c2sp.org/tlog-checkpoint (origin, size, base64 root, optional extensions).
//! * [`TlogProof`]: c2sp.org/tlog-proof@v1. For `sm2-sm3` chains the proof hashes are SM3.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use cairn_crypto::{Hash, KeyPair, PublicKey, Suite};

/// Identifier that follows the `0xff` signature type byte for SM2 note signatures.
pub const SM2_TYPE_ID: &[u8] = b"cairn.dev/sm2-sm3-note-v1";
/// Most signatures a note may carry; the spec requires accepting at least 16.
pub const MAX_SIGNATURES: usize = 64;
/// Largest note (text plus signatures) we parse.
pub const MAX_NOTE_BYTES: usize = 64 * 1024;

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum NoteError {
    #[error("malformed note: {0}")]
    Malformed(&'static str),
    #[error("malformed checkpoint: {0}")]
    MalformedCheckpoint(&'static str),
    #[error("malformed tlog proof: {0}")]
    MalformedProof(&'static str),
    #[error("malformed verifier key: {0}")]
    MalformedVerifierKey(&'static str),
    #[error("signature by {name} does not verify")]
    BadSignature { name: String },
    #[error("note has {got} valid signatures from trusted keys, {need} required")]
    NotEnoughSignatures { got: usize, need: usize },
}

fn type_bytes(suite: Suite) -> Vec<u8> {
    match suite {
        Suite::Ed25519Sha256 => vec![0x01],
        Suite::Sm2Sm3 => {
            let mut v = vec![0xff];
            v.extend_from_slice(SM2_TYPE_ID);
            v
        }
    }
}

fn valid_key_name(name: &str) -> bool {
    !name.is_empty() && !name.chars().any(|c| c.is_whitespace() || c == '+')
}

/// A public key under a name, as a note verifier (vkey).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteVerifier {
    pub name: String,
    pub key_id: [u8; 4],
    pub public_key: PublicKey,
}

impl NoteVerifier {
    pub fn new(name: &str, public_key: PublicKey) -> Result<Self, NoteError> {
        if !valid_key_name(name) {
            return Err(NoteError::MalformedVerifierKey("key name empty or contains space or '+'"));
        }
        let mut buf = name.as_bytes().to_vec();
        buf.push(b'\n');
        buf.extend_from_slice(&type_bytes(public_key.suite()));
        buf.extend_from_slice(public_key.as_bytes());
        let h = cairn_crypto::sha256(&buf);
        Ok(NoteVerifier { name: name.to_string(), key_id: [h[0], h[1], h[2], h[3]], public_key })
    }

    /// `name+hex(key id)+base64(type || key)`.
    pub fn to_vkey(&self) -> String {
        let mut material = type_bytes(self.public_key.suite());
        material.extend_from_slice(self.public_key.as_bytes());
        format!("{}+{}+{}", self.name, hex::encode(self.key_id), B64.encode(material))
    }

    pub fn from_vkey(vkey: &str) -> Result<Self, NoteError> {
        // The base64 key may itself contain '+': split at the first two only.
        let mut parts = vkey.splitn(3, '+');
        let (Some(name), Some(id), Some(material)) = (parts.next(), parts.next(), parts.next()) else {
            return Err(NoteError::MalformedVerifierKey("expected name+keyid+key"));
        };
        let material = B64.decode(material).map_err(|_| NoteError::MalformedVerifierKey("key is not base64"))?;
        let (suite, key) = if material.first() == Some(&0x01) {
            (Suite::Ed25519Sha256, &material[1..])
        } else if material.starts_with(&type_bytes(Suite::Sm2Sm3)) {
            (Suite::Sm2Sm3, &material[1 + SM2_TYPE_ID.len()..])
        } else {
            return Err(NoteError::MalformedVerifierKey("unsupported signature type"));
        };
        let pk = PublicKey::from_bytes(suite, key).map_err(|_| NoteError::MalformedVerifierKey("bad public key"))?;
        let v = NoteVerifier::new(name, pk)?;
        if hex::encode(v.key_id) != id {
            return Err(NoteError::MalformedVerifierKey("key ID does not match the key"));
        }
        Ok(v)
    }
}

/// One signature line of a note.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NoteSignature {
    pub name: String,
    pub key_id: [u8; 4],
    pub signature: Vec<u8>,
}

/// A note: text plus signature lines.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SignedNote {
    /// The signed text, ending in a newline.
    pub text: String,
    pub signatures: Vec<NoteSignature>,
}

impl SignedNote {
    pub fn new(text: String) -> Self {
        debug_assert!(text.ends_with('\n'));
        SignedNote { text, signatures: Vec::new() }
    }

    /// Adds this key's signature over the text.
    pub fn sign(&mut self, name: &str, key: &KeyPair) -> Result<(), NoteError> {
        let verifier = NoteVerifier::new(name, key.public_key())?;
        let signature = key.sign_raw(self.text.as_bytes());
        self.signatures.push(NoteSignature { name: name.to_string(), key_id: verifier.key_id, signature });
        Ok(())
    }

    pub fn to_text(&self) -> String {
        let mut out = self.text.clone();
        out.push('\n');
        for s in &self.signatures {
            let mut blob = s.key_id.to_vec();
            blob.extend_from_slice(&s.signature);
            out.push_str(&format!("\u{2014} {} {}\n", s.name, B64.encode(blob)));
        }
        out
    }

    pub fn parse(note: &str) -> Result<Self, NoteError> {
        if note.len() > MAX_NOTE_BYTES {
            return Err(NoteError::Malformed("note too large"));
        }
        if note.chars().any(|c| c < ' ' && c != '\n') {
            return Err(NoteError::Malformed("control character"));
        }
        if !note.ends_with('\n') {
            return Err(NoteError::Malformed("does not end in newline"));
        }
        let split = note.rfind("\n\n").ok_or(NoteError::Malformed("no blank line before signatures"))?;
        let text = &note[..split + 1];
        let sigs = &note[split + 2..];
        let mut signatures = Vec::new();
        for line in sigs.lines() {
            let rest = line.strip_prefix("\u{2014} ").ok_or(NoteError::Malformed("signature line must start with em dash"))?;
            let (name, b64) = rest.split_once(' ').ok_or(NoteError::Malformed("signature line lacks a signature"))?;
            if !valid_key_name(name) {
                return Err(NoteError::Malformed("bad key name"));
            }
            let blob = B64.decode(b64).map_err(|_| NoteError::Malformed("signature is not base64"))?;
            if blob.len() < 5 {
                return Err(NoteError::Malformed("signature too short"));
            }
            signatures.push(NoteSignature { name: name.to_string(), key_id: [blob[0], blob[1], blob[2], blob[3]], signature: blob[4..].to_vec() });
            if signatures.len() > MAX_SIGNATURES {
                return Err(NoteError::Malformed("too many signatures"));
            }
        }
        if signatures.is_empty() {
            return Err(NoteError::Malformed("no signatures"));
        }
        Ok(SignedNote { text: text.to_string(), signatures })
    }

    /// Verifies signatures from known keys. Unknown keys are ignored (as the spec requires); a
    /// known key whose signature fails rejects the whole note. Returns the names of the
    /// distinct known keys that signed, in the order of `verifiers`.
    pub fn verify(&self, verifiers: &[NoteVerifier]) -> Result<Vec<String>, NoteError> {
        let mut signed = vec![false; verifiers.len()];
        for s in &self.signatures {
            for (i, v) in verifiers.iter().enumerate() {
                if v.name == s.name && v.key_id == s.key_id {
                    v.public_key.verify_raw(self.text.as_bytes(), &s.signature).map_err(|_| NoteError::BadSignature { name: v.name.clone() })?;
                    signed[i] = true;
                }
            }
        }
        // One key counts once, however many times the verifier list names it.
        let mut keys = std::collections::BTreeSet::new();
        Ok(verifiers.iter().zip(signed).filter(|(v, s)| *s && keys.insert(v.public_key.as_bytes().to_vec())).map(|(v, _)| v.name.clone()).collect())
    }

    /// Verifies and demands signatures from at least `quorum` distinct known keys.
    pub fn verify_quorum(&self, verifiers: &[NoteVerifier], quorum: usize) -> Result<Vec<String>, NoteError> {
        let names = self.verify(verifiers)?;
        if names.len() < quorum.max(1) {
            return Err(NoteError::NotEnoughSignatures { got: names.len(), need: quorum.max(1) });
        }
        Ok(names)
    }
}

/// The body of a tlog checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Checkpoint {
    pub origin: String,
    pub size: u64,
    pub root: Hash,
    pub extensions: Vec<String>,
}

impl Checkpoint {
    pub fn to_text(&self) -> String {
        let mut s = format!("{}\n{}\n{}\n", self.origin, self.size, B64.encode(self.root));
        for e in &self.extensions {
            s.push_str(e);
            s.push('\n');
        }
        s
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let body = text.strip_suffix('\n').ok_or(NoteError::MalformedCheckpoint("no final newline"))?;
        let mut lines = body.split('\n');
        let origin = lines.next().filter(|o| !o.is_empty()).ok_or(NoteError::MalformedCheckpoint("empty origin"))?;
        let size = lines.next().ok_or(NoteError::MalformedCheckpoint("no size line"))?;
        if size.is_empty() || (size.len() > 1 && size.starts_with('0')) || !size.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoteError::MalformedCheckpoint("size is not a decimal without leading zeros"));
        }
        let size: u64 = size.parse().map_err(|_| NoteError::MalformedCheckpoint("size out of range"))?;
        let root = lines.next().ok_or(NoteError::MalformedCheckpoint("no root line"))?;
        let root: Hash = B64.decode(root).ok().and_then(|r| r.try_into().ok()).ok_or(NoteError::MalformedCheckpoint("root is not a base64 32-byte hash"))?;
        let extensions: Vec<String> = lines.map(str::to_string).collect();
        if extensions.iter().any(|e| e.is_empty()) {
            return Err(NoteError::MalformedCheckpoint("empty extension line"));
        }
        Ok(Checkpoint { origin: origin.to_string(), size, root, extensions })
    }
}

/// c2sp.org/tlog-proof@v1: an entry's index, its inclusion proof and the signed checkpoint.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlogProof {
    pub extra: Option<Vec<u8>>,
    pub index: u64,
    pub proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

const TLOG_PROOF_HEADER: &str = "c2sp.org/tlog-proof@v1";

impl TlogProof {
    pub fn to_text(&self) -> String {
        let mut s = format!("{TLOG_PROOF_HEADER}\n");
        if let Some(extra) = &self.extra {
            s.push_str(&format!("extra {}\n", B64.encode(extra)));
        }
        s.push_str(&format!("index {}\n", self.index));
        for h in &self.proof {
            s.push_str(&B64.encode(h));
            s.push('\n');
        }
        s.push('\n');
        s.push_str(&self.checkpoint);
        s
    }

    pub fn parse(text: &str) -> Result<Self, NoteError> {
        let rest = text
            .strip_prefix(TLOG_PROOF_HEADER)
            .and_then(|r| r.strip_prefix('\n'))
            .ok_or(NoteError::MalformedProof("missing c2sp.org/tlog-proof@v1 header"))?;
        let (head, checkpoint) = rest.split_once("\n\n").ok_or(NoteError::MalformedProof("no blank line before the checkpoint"))?;
        let mut lines = head.split('\n').peekable();
        let mut extra = None;
        if let Some(line) = lines.peek().and_then(|l| l.strip_prefix("extra ")) {
            extra = Some(B64.decode(line).map_err(|_| NoteError::MalformedProof("extra is not base64"))?);
            lines.next();
        }
        let index = lines.next().and_then(|l| l.strip_prefix("index ")).ok_or(NoteError::MalformedProof("missing index line"))?;
        if index.is_empty() || (index.len() > 1 && index.starts_with('0')) || !index.bytes().all(|b| b.is_ascii_digit()) {
            return Err(NoteError::MalformedProof("index is not a decimal without leading zeros"));
        }
        let index = index.parse().map_err(|_| NoteError::MalformedProof("index out of range"))?;
        let proof = lines
            .map(|l| B64.decode(l).ok().and_then(|h| h.try_into().ok()))
            .collect::<Option<Vec<Hash>>>()
            .ok_or(NoteError::MalformedProof("proof line is not a base64 32-byte hash"))?;
        Ok(TlogProof { extra, index, proof, checkpoint: checkpoint.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The example note and vkey from the signed-note spec verify with our code.
    #[test]
    fn spec_example_note_verifies() {
        let vkey = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
        let note = "This is an example message.\n\n\u{2014} example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
        let v = NoteVerifier::from_vkey(vkey).unwrap();
        assert_eq!(v.to_vkey(), vkey);
        let n = SignedNote::parse(note).unwrap();
        assert_eq!(n.to_text(), note);
        assert_eq!(n.verify(std::slice::from_ref(&v)).unwrap(), vec!["example.com/foo".to_string()]);
        let tampered = note.replace("example message", "example messagE");
        assert!(matches!(SignedNote::parse(&tampered).unwrap().verify(&[v]), Err(NoteError::BadSignature { .. })));
    }

    #[test]
    fn checkpoint_notes_round_trip_both_suites() {
        for suite in Suite::ALL {
            let k1 = KeyPair::generate(suite);
            let k2 = KeyPair::generate(suite);
            let cp = Checkpoint { origin: "cairn.dev/test".into(), size: 7, root: [9; 32], extensions: vec![] };
            let mut note = SignedNote::new(cp.to_text());
            note.sign("v1", &k1).unwrap();
            note.sign("v2", &k2).unwrap();
            let text = note.to_text();
            let parsed = SignedNote::parse(&text).unwrap();
            assert_eq!(Checkpoint::parse(&parsed.text).unwrap(), cp);
            let v1 = NoteVerifier::new("v1", k1.public_key()).unwrap();
            let v2 = NoteVerifier::new("v2", k2.public_key()).unwrap();
            assert_eq!(NoteVerifier::from_vkey(&v2.to_vkey()).unwrap(), v2);
            assert_eq!(parsed.verify_quorum(&[v1.clone(), v2.clone()], 2).unwrap().len(), 2);
            assert_eq!(parsed.verify_quorum(std::slice::from_ref(&v1), 2), Err(NoteError::NotEnoughSignatures { got: 1, need: 2 }));
            // An unknown key is ignored; no known key at all rejects.
            let stranger = NoteVerifier::new("v3", KeyPair::generate(suite).public_key()).unwrap();
            assert!(parsed.verify_quorum(&[stranger], 1).is_err());
        }
    }

    #[test]
    fn tlog_proof_round_trip() {
        let p = TlogProof { extra: Some(vec![1, 2, 3]), index: 12, proof: vec![[1; 32], [2; 32]], checkpoint: "o\n1\nAAAA\n\n\u{2014} k AAAAAAA=\n".into() };
        assert_eq!(TlogProof::parse(&p.to_text()).unwrap(), p);
        let q = TlogProof { extra: None, index: 0, proof: vec![], checkpoint: p.checkpoint.clone() };
        assert_eq!(TlogProof::parse(&q.to_text()).unwrap(), q);
        assert!(TlogProof::parse("c2sp.org/tlog-proof@v1\nindex 01\n\nx").is_err());
    }

    #[test]
    fn malformed_inputs_are_rejected() {
        assert!(SignedNote::parse("text\n\n- k AAAAAAA=\n").is_err());
        assert!(SignedNote::parse("text\n\n").is_err());
        assert!(SignedNote::parse("te\u{1}xt\n\n\u{2014} k AAAAAAA=\n").is_err());
        assert!(Checkpoint::parse("origin\n007\nAAAA\n").is_err());
        assert!(Checkpoint::parse("origin\n7\nAAAA\n").is_err());
        assert!(NoteVerifier::from_vkey("a+00000000+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k").is_err());
    }
}

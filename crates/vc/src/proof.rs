//! `DataIntegrityProof` (W3C VC Data Integrity 1.0) with three cryptosuites:
//!
//! * `eddsa-rdfc-2022`: RDFC-1.0 canonical N-Quads, SHA-256, Ed25519 (W3C vc-di-eddsa);
//! * `eddsa-jcs-2022`: JCS, SHA-256, Ed25519 (W3C vc-di-eddsa);
//! * `cairn-sm2sm3-jcs-2026`: JCS, SM3, SM2 with the default distinguishing identifier, the
//!   signature DER-encoded (ours; docs/encoding.md specifies it for third parties).
//!
//! All three sign `hashData = H(canonical proof configuration) || H(canonical document without
//! its proof)`; the proof configuration is the proof without `proofValue`, with the document's
//! `@context`. `proofValue` is `z` + base58btc of the signature. The JCS suites keep `@context`
//! in the attached proof, `eddsa-rdfc-2022` does not (as the W3C vectors do).

use cairn_crypto::{PublicKey, Suite};
use serde_json::{Map, Value};

use crate::VcError;
use crate::canon::{Contexts, jcs, rdfc};
use crate::did;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Cryptosuite {
    EddsaRdfc2022,
    EddsaJcs2022,
    Sm2Sm3Jcs2026,
}

impl Cryptosuite {
    pub const ALL: [Cryptosuite; 3] = [Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022, Cryptosuite::Sm2Sm3Jcs2026];

    pub fn name(self) -> &'static str {
        match self {
            Cryptosuite::EddsaRdfc2022 => "eddsa-rdfc-2022",
            Cryptosuite::EddsaJcs2022 => "eddsa-jcs-2022",
            Cryptosuite::Sm2Sm3Jcs2026 => "cairn-sm2sm3-jcs-2026",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|c| c.name() == s)
    }

    /// The key suite it signs with.
    pub fn suite(self) -> Suite {
        match self {
            Cryptosuite::EddsaRdfc2022 | Cryptosuite::EddsaJcs2022 => Suite::Ed25519Sha256,
            Cryptosuite::Sm2Sm3Jcs2026 => Suite::Sm2Sm3,
        }
    }

    /// The cryptosuites a key of `suite` signs with; the first is the default.
    pub fn for_suite(suite: Suite) -> &'static [Cryptosuite] {
        match suite {
            Suite::Ed25519Sha256 => &[Cryptosuite::EddsaRdfc2022, Cryptosuite::EddsaJcs2022],
            Suite::Sm2Sm3 => &[Cryptosuite::Sm2Sm3Jcs2026],
        }
    }

    fn rdf(self) -> bool {
        self == Cryptosuite::EddsaRdfc2022
    }

    fn canonical(self, v: &Value, contexts: &Contexts) -> Result<Vec<u8>, VcError> {
        if self.rdf() { rdfc(v, contexts).map(String::into_bytes) } else { jcs(v) }
    }

    fn hash(self, bytes: &[u8]) -> [u8; 32] {
        match self.suite() {
            Suite::Ed25519Sha256 => cairn_crypto::sha256(bytes),
            Suite::Sm2Sm3 => cairn_crypto::sm3(bytes),
        }
    }
}

/// What a verified proof said.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Verified {
    pub cryptosuite: Cryptosuite,
    pub key: PublicKey,
    pub verification_method: String,
    pub created: String,
}

/// The 64 bytes a proof signs (proof configuration hash, then document hash).
pub fn hash_data(cs: Cryptosuite, proof_config: &Value, document: &Value, contexts: &Contexts) -> Result<[u8; 64], VcError> {
    let mut out = [0u8; 64];
    out[..32].copy_from_slice(&cs.hash(&cs.canonical(proof_config, contexts)?));
    out[32..].copy_from_slice(&cs.hash(&cs.canonical(document, contexts)?));
    Ok(out)
}

/// `document` with a proof by `key` (its did:key verification method) made `created` (an XML
/// Schema dateTime, as the issuer's facts give it), for `assertionMethod`. `sign` signs the 64
/// bytes of hash data with the key's secret.
pub fn sign(
    document: &Value,
    cs: Cryptosuite,
    key: &PublicKey,
    created: &str,
    contexts: &Contexts,
    sign: impl FnOnce(&[u8; 64]) -> Vec<u8>,
) -> Result<Value, VcError> {
    if key.suite() != cs.suite() {
        return Err(VcError::Unsupported(format!("{} signs with {} keys", cs.name(), cs.suite())));
    }
    let Value::Object(doc) = document else { return Err(VcError::Malformed("a credential is a JSON object".into())) };
    if doc.contains_key("proof") {
        return Err(VcError::Malformed("the document has a proof already".into()));
    }
    let mut proof = Map::new();
    proof.insert("type".into(), "DataIntegrityProof".into());
    proof.insert("cryptosuite".into(), cs.name().into());
    proof.insert("created".into(), created.into());
    proof.insert("verificationMethod".into(), did::verification_method(key).into());
    proof.insert("proofPurpose".into(), "assertionMethod".into());
    let context = doc.get("@context").cloned().ok_or_else(|| VcError::Malformed("the document has no @context".into()))?;
    let mut config = proof.clone();
    config.insert("@context".into(), context.clone());
    let data = hash_data(cs, &Value::Object(config), document, contexts)?;
    let signature = sign(&data);
    if !cs.rdf() {
        proof.insert("@context".into(), context);
    }
    proof.insert("proofValue".into(), format!("z{}", bs58::encode(signature).into_string()).into());
    let mut out = doc.clone();
    out.insert("proof".into(), Value::Object(proof));
    Ok(Value::Object(out))
}

/// Checks a secured document's one proof: its form, its key (a did:key, which must be the
/// document's `issuer` where it names one) and its signature.
pub fn verify(secured: &Value, contexts: &Contexts) -> Result<Verified, VcError> {
    let bad = |m: &str| VcError::Malformed(m.to_string());
    let Value::Object(doc) = secured else { return Err(bad("a credential is a JSON object")) };
    let proof = match doc.get("proof") {
        Some(Value::Object(p)) => p,
        Some(Value::Array(_)) => return Err(VcError::Unsupported("proof sets and chains".into())),
        _ => return Err(bad("no proof")),
    };
    let s = |k: &str| proof.get(k).and_then(Value::as_str).ok_or_else(|| VcError::Malformed(format!("proof.{k} is a string")));
    if s("type")? != "DataIntegrityProof" {
        return Err(VcError::Unsupported(format!("proof type {:?}", s("type")?)));
    }
    let cs = Cryptosuite::from_name(s("cryptosuite")?).ok_or_else(|| VcError::Unsupported(format!("cryptosuite {:?}", proof["cryptosuite"])))?;
    if s("proofPurpose")? != "assertionMethod" {
        return Err(VcError::Unsupported(format!("proof purpose {:?}", s("proofPurpose")?)));
    }
    let created = s("created")?.to_string();
    let method = s("verificationMethod")?.to_string();
    let value = s("proofValue")?;
    let known = ["type", "cryptosuite", "created", "verificationMethod", "proofPurpose", "proofValue", "@context"];
    if let Some(k) = proof.keys().find(|k| !known.contains(&k.as_str())) {
        return Err(VcError::Unsupported(format!("proof member {k:?}")));
    }
    let key = did::resolve(&method)?;
    if key.suite() != cs.suite() {
        return Err(VcError::Unsupported(format!("{} with a {} key", cs.name(), key.suite())));
    }
    // An issuer that is a DID must be the key's own; any other issuer (an https URL) is the
    // caller's to relate to the key.
    if let Some(issuer) = issuer_id(doc)
        && issuer.starts_with("did:")
        && !method.starts_with(&format!("{issuer}#"))
    {
        return Err(bad("the proof's key is not the issuer's"));
    }
    let signature = value.strip_prefix('z').and_then(|v| bs58::decode(v).into_vec().ok()).ok_or_else(|| bad("proofValue is z + base58btc"))?;
    let context = doc.get("@context").cloned().ok_or_else(|| bad("the document has no @context"))?;
    match proof.get("@context") {
        None if !cs.rdf() => return Err(bad("a JCS proof carries the document's @context")),
        Some(c) if *c != context => return Err(bad("the proof's @context is not the document's")),
        _ => {}
    }
    let mut config = proof.clone();
    config.remove("proofValue");
    config.insert("@context".into(), context);
    let mut unsecured = doc.clone();
    unsecured.remove("proof");
    let data = hash_data(cs, &Value::Object(config), &Value::Object(unsecured), contexts)?;
    key.verify_raw(&data, &signature).map_err(|_| VcError::BadSignature)?;
    Ok(Verified { cryptosuite: cs, key, verification_method: method, created })
}

fn issuer_id(doc: &Map<String, Value>) -> Option<&str> {
    match doc.get("issuer")? {
        Value::String(s) => Some(s),
        Value::Object(o) => o.get("id").and_then(Value::as_str),
        _ => None,
    }
}

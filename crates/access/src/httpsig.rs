//! HTTP Message Signatures (RFC 9421), as Cairn profiles them for reads by members.
//!
//! A client signs the request's method, path and query (`("@method" "@path" "@query")`) with
//! `created` (Unix seconds), `keyid` (its member public key, hex) and `alg` (`ed25519`, or
//! `sm2-sm3` on SM2 chains: an SM2 signature with the default ID over the signature base, DER
//! encoded), under the label `cairn`:
//!
//! ```text
//! Signature-Input: cairn=("@method" "@path" "@query");created=1764620000;keyid="6a1c…";alg="ed25519"
//! Signature: cairn=:<base64 signature>:
//! ```
//!
//! The verifier accepts any RFC 9421 signature that covers at least those three components,
//! with header fields and `@authority` too, and `expires`, `nonce` and `tag` parameters. It
//! checks the first label of `Signature-Input` that `Signature` also has (`cairn` first).
//! A signature is good for [`MAX_AGE_S`] after `created`: long enough for clock skew and slow
//! links, short enough that a captured request (TLS aside) is soon useless. Reads are
//! idempotent, so no nonce cache is kept.

use cairn_crypto::{KeyPair, PublicKey, Suite};
use sfv::{BareItem, Dictionary, FieldType as _, InnerList, Item, KeyRef, ListEntry, Parameters, Parser};

use crate::AuthError;

/// The label Cairn's clients sign under.
pub const LABEL: &str = "cairn";
/// What every accepted signature must cover: without these, a signature made for one read
/// would serve for any other.
pub const REQUIRED_COMPONENTS: [&str; 3] = ["@method", "@path", "@query"];
/// How long after `created` a signature is accepted (5 minutes).
pub const MAX_AGE_S: u64 = 300;
/// How far in the future `created` may lie (clocks of clients drift).
pub const MAX_SKEW_S: u64 = 30;
/// Components a signature may cover (a bound on the work one request can ask for).
const MAX_COMPONENTS: usize = 16;

/// The parts of a request that a signature may cover. `header` answers a field by its
/// lowercase name, several values joined by `", "` (RFC 9421 §2.1), or `None`.
pub struct Request<'a> {
    pub method: &'a str,
    /// `host[:port]` as the client addressed it, if known.
    pub authority: Option<&'a str>,
    pub path: &'a str,
    /// The query without its `?`; `None` when the target has none.
    pub query: Option<&'a str>,
    pub header: &'a dyn Fn(&str) -> Option<String>,
}

/// The `alg` name of a suite's signatures.
pub fn alg_name(suite: Suite) -> &'static str {
    match suite {
        Suite::Ed25519Sha256 => "ed25519",
        Suite::Sm2Sm3 => "sm2-sm3",
    }
}

/// The two header values that sign a request for `key` at `created_s`.
pub struct SignatureHeaders {
    pub signature_input: String,
    pub signature: String,
}

/// Signs `method`, `path` and `query` (without `?`; `None` for none) with Cairn's profile.
pub fn sign(key: &KeyPair, method: &str, path: &str, query: Option<&str>, created_s: u64) -> SignatureHeaders {
    let params = Parameters::from_iter([
        (key_of("created").to_owned(), BareItem::Integer(sfv::Integer::try_from(created_s as i64).expect("a time in seconds fits an sf-integer"))),
        (key_of("keyid").to_owned(), BareItem::String(sf_string(&key.public_key().to_hex()))),
        (key_of("alg").to_owned(), BareItem::String(sf_string(alg_name(key.suite())))),
    ]);
    let items = REQUIRED_COMPONENTS.iter().map(|c| Item::new(BareItem::String(sf_string(c)))).collect();
    let inner = InnerList { items, params };
    let request = Request { method, authority: None, path, query, header: &|_| None };
    let base = signature_base(&request, &inner).expect("the derived components are always present");
    let signature = key.sign_raw(base.as_bytes());
    let mut input = Dictionary::new();
    input.insert(key_of(LABEL).to_owned(), ListEntry::InnerList(inner));
    let mut sig = Dictionary::new();
    sig.insert(key_of(LABEL).to_owned(), ListEntry::Item(Item::new(BareItem::ByteSequence(signature))));
    SignatureHeaders { signature_input: input.serialize().expect("one member"), signature: sig.serialize().expect("one member") }
}

fn key_of(name: &str) -> &KeyRef {
    KeyRef::from_str(name).expect("a fixed valid key")
}

fn sf_string(s: &str) -> sfv::String {
    sfv::String::from_string(s.to_string()).expect("printable ASCII")
}

/// A signature that verified: the key that made it.
pub struct Verified {
    pub key: PublicKey,
}

/// Verifies the request's signature at `now_s` (Unix seconds). `required`: components it must
/// cover. `key_of`: the public key for a `keyid`, or why that key is refused.
pub fn verify(
    request: &Request<'_>,
    suite: Suite,
    now_s: u64,
    required: &[&str],
    key_of: impl Fn(&[u8]) -> Result<PublicKey, AuthError>,
) -> Result<Verified, AuthError> {
    verify_with(request, suite, now_s, required, |keyid| {
        let bytes = hex::decode(keyid).map_err(|_| AuthError::Malformed("keyid is not a hex public key".into()))?;
        key_of(&bytes)
    })
}

/// [`verify`] with the `keyid` handed over as written (RFC 9421's examples name keys, not
/// hex).
pub fn verify_with(
    request: &Request<'_>,
    suite: Suite,
    now_s: u64,
    required: &[&str],
    key_of: impl Fn(&str) -> Result<PublicKey, AuthError>,
) -> Result<Verified, AuthError> {
    let (input, signatures) = match ((request.header)("signature-input"), (request.header)("signature")) {
        (None, None) => return Err(AuthError::Missing),
        (Some(i), Some(s)) => (i, s),
        _ => return Err(malformed("Signature-Input and Signature come together")),
    };
    let input: Dictionary = Parser::new(&input).parse().map_err(|e| malformed(format!("Signature-Input: {e}")))?;
    let signatures: Dictionary = Parser::new(&signatures).parse().map_err(|e| malformed(format!("Signature: {e}")))?;
    let label = pick_label(&input, &signatures)?;
    let Some(ListEntry::InnerList(inner)) = input.get(label) else {
        return Err(malformed("a Signature-Input member is an inner list of components"));
    };
    let Some(ListEntry::Item(Item { bare_item: BareItem::ByteSequence(signature), .. })) = signatures.get(label) else {
        return Err(malformed("a Signature member is a byte sequence"));
    };
    let components = components(inner)?;
    if let Some(missing) = required.iter().find(|r| !components.contains(r)) {
        return Err(malformed(format!("the signature must cover {missing}")));
    }
    let params = Params::read(&inner.params)?;
    params.check_time(now_s)?;
    if let Some(alg) = &params.alg
        && alg != alg_name(suite)
    {
        return Err(malformed(format!("alg {alg:?} is not this chain's ({})", alg_name(suite))));
    }
    let key = key_of(&params.keyid)?;
    let base = signature_base(request, inner)?;
    key.verify_raw(base.as_bytes(), signature).map_err(|_| AuthError::BadSignature)?;
    Ok(Verified { key })
}

fn malformed(why: impl Into<String>) -> AuthError {
    AuthError::Malformed(why.into())
}

/// `cairn` if both fields have it, else the first label of `Signature-Input` that `Signature`
/// also has.
fn pick_label<'d>(input: &'d Dictionary, signatures: &Dictionary) -> Result<&'d sfv::Key, AuthError> {
    let preferred = input.keys().find(|k| k.as_str() == LABEL && signatures.contains_key(*k));
    preferred.or_else(|| input.keys().find(|k| signatures.contains_key(*k))).ok_or_else(|| malformed("no label is in both Signature-Input and Signature"))
}

/// The covered component names, in order: strings without parameters, each once.
fn components(inner: &InnerList) -> Result<Vec<&str>, AuthError> {
    if inner.items.len() > MAX_COMPONENTS {
        return Err(malformed(format!("more than {MAX_COMPONENTS} components")));
    }
    let mut out: Vec<&str> = Vec::with_capacity(inner.items.len());
    for item in &inner.items {
        let BareItem::String(name) = &item.bare_item else { return Err(malformed("a component identifier is a string")) };
        if !item.params.is_empty() {
            return Err(malformed(format!("component parameters (on {}) are not supported", name.as_str())));
        }
        if out.contains(&name.as_str()) {
            return Err(malformed(format!("component {} is covered twice", name.as_str())));
        }
        out.push(name.as_str());
    }
    Ok(out)
}

struct Params {
    created_s: u64,
    expires_s: Option<u64>,
    keyid: String,
    alg: Option<String>,
}

impl Params {
    fn read(params: &Parameters) -> Result<Self, AuthError> {
        let mut out = Params { created_s: 0, expires_s: None, keyid: String::new(), alg: None };
        let mut created = None;
        for (name, value) in params {
            match (name.as_str(), value) {
                ("created", BareItem::Integer(i)) => created = Some(seconds(*i)?),
                ("expires", BareItem::Integer(i)) => out.expires_s = Some(seconds(*i)?),
                ("keyid", BareItem::String(s)) => out.keyid = s.as_str().to_string(),
                ("alg", BareItem::String(s)) => out.alg = Some(s.as_str().to_string()),
                ("nonce" | "tag", BareItem::String(_)) => {}
                (other, _) => return Err(malformed(format!("signature parameter {other:?} is unknown or of the wrong type"))),
            }
        }
        out.created_s = created.ok_or_else(|| malformed("the signature lacks created"))?;
        if out.keyid.is_empty() {
            return Err(malformed("the signature lacks keyid"));
        }
        Ok(out)
    }

    fn check_time(&self, now_s: u64) -> Result<(), AuthError> {
        if self.created_s > now_s.saturating_add(MAX_SKEW_S) {
            return Err(AuthError::Expired(format!("created {} is in the future (now {now_s}); check the client's clock", self.created_s)));
        }
        if now_s.saturating_sub(self.created_s) > MAX_AGE_S {
            return Err(AuthError::Expired(format!("created {} is more than {MAX_AGE_S} s ago (now {now_s})", self.created_s)));
        }
        match self.expires_s {
            Some(e) if e <= now_s => Err(AuthError::Expired(format!("expired at {e} (now {now_s})"))),
            _ => Ok(()),
        }
    }
}

fn seconds(i: sfv::Integer) -> Result<u64, AuthError> {
    u64::try_from(i64::from(i)).map_err(|_| malformed("a time is a non-negative integer"))
}

/// The signature base (RFC 9421 §2.5): one line per covered component, then
/// `"@signature-params"` with the inner list serialised again.
fn signature_base(request: &Request<'_>, inner: &InnerList) -> Result<String, AuthError> {
    let mut base = String::new();
    for name in components(inner)? {
        let value = component_value(request, name)?;
        if value.contains('\n') || value.contains('\r') {
            return Err(malformed(format!("component {name} holds a line break")));
        }
        base.push_str(&format!("\"{name}\": {value}\n"));
    }
    let params = vec![ListEntry::InnerList(inner.clone())].serialize().expect("a list of one inner list serialises");
    base.push_str(&format!("\"@signature-params\": {params}"));
    Ok(base)
}

fn component_value(request: &Request<'_>, name: &str) -> Result<String, AuthError> {
    match name {
        "@method" => Ok(request.method.to_string()),
        "@authority" => request.authority.map(|a| a.to_ascii_lowercase()).ok_or_else(|| malformed("the request names no authority (Host)")),
        "@path" => Ok(if request.path.is_empty() { "/".into() } else { request.path.to_string() }),
        "@query" => Ok(format!("?{}", request.query.unwrap_or(""))),
        derived if derived.starts_with('@') => Err(malformed(format!("derived component {derived} is not supported"))),
        field if field.bytes().any(|b| b.is_ascii_uppercase()) => Err(malformed(format!("component {field:?} must be lowercase"))),
        field => (request.header)(field).map(|v| v.trim().to_string()).ok_or_else(|| malformed(format!("the request has no {field} field"))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;
    use base64::engine::general_purpose::STANDARD;

    fn request<'a>(method: &'a str, path: &'a str, query: Option<&'a str>, header: &'a dyn Fn(&str) -> Option<String>) -> Request<'a> {
        Request { method, authority: Some("node.example:8080"), path, query, header }
    }

    fn headers(h: &SignatureHeaders) -> impl Fn(&str) -> Option<String> + '_ {
        move |name| match name {
            "signature-input" => Some(h.signature_input.clone()),
            "signature" => Some(h.signature.clone()),
            _ => None,
        }
    }

    /// RFC 9421 B.2.6: its Ed25519 test key signs its example request; our signature base
    /// of that request verifies under the RFC's signature, and is what the RFC prints.
    #[test]
    fn rfc9421_b26_ed25519_example_verifies() {
        use base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let secret = URL_SAFE_NO_PAD.decode("n4Ni-HpISpVObnQMW0wOhCKROaIKqKtW_2ZYb2p9KcU").unwrap();
        let public = URL_SAFE_NO_PAD.decode("JrQLj5P_89iXES9-vFgrIy29clF9CC_oPPsw3c5D0bs").unwrap();
        let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &secret).unwrap();
        assert_eq!(key.public_key().as_bytes(), &public[..]);
        let input = r#"sig-b26=("date" "@method" "@path" "@authority" "content-type" "content-length");created=1618884473;keyid="test-key-ed25519""#;
        let signature = "sig-b26=:wqcAqbmYJ2ji2glfAMaRy4gruYYnx2nEFN2HN6jrnDnQCK1u02Gb04v9EDgwUPiu4A0w6vuQv5lIp5WPpBKRCw==:";
        let header = |name: &str| match name {
            "date" => Some("Tue, 20 Apr 2021 02:07:55 GMT".to_string()),
            "content-type" => Some("application/json".into()),
            "content-length" => Some("18".into()),
            "signature-input" => Some(input.into()),
            "signature" => Some(signature.into()),
            _ => None,
        };
        let req = Request { method: "POST", authority: Some("example.com"), path: "/foo", query: Some("param=Value&Pet=dog"), header: &header };
        let parsed: Dictionary = Parser::new(input).parse().unwrap();
        let Some(ListEntry::InnerList(inner)) = parsed.get("sig-b26") else { panic!() };
        let expected = "\"date\": Tue, 20 Apr 2021 02:07:55 GMT\n\"@method\": POST\n\"@path\": /foo\n\"@authority\": example.com\n\"content-type\": application/json\n\"content-length\": 18\n\"@signature-params\": (\"date\" \"@method\" \"@path\" \"@authority\" \"content-type\" \"content-length\");created=1618884473;keyid=\"test-key-ed25519\"";
        assert_eq!(signature_base(&req, inner).unwrap(), expected);
        // Ed25519 is deterministic: the RFC's key gives the RFC's signature over that base.
        assert_eq!(STANDARD.encode(key.sign_raw(expected.as_bytes())), signature.trim_start_matches("sig-b26=:").trim_end_matches(':'));
        let pk = key.public_key();
        let ok = verify_with(&req, Suite::Ed25519Sha256, 1_618_884_473, &[], |id| {
            if id == "test-key-ed25519" { Ok(pk.clone()) } else { Err(AuthError::NotAMember(id.into())) }
        });
        assert!(ok.is_ok());
        // Our profile requires @query, which the RFC's example does not cover.
        let refused = verify_with(&req, Suite::Ed25519Sha256, 1_618_884_473, &REQUIRED_COMPONENTS, |_| Ok(pk.clone()));
        assert!(matches!(refused, Err(AuthError::Malformed(m)) if m.contains("@query")));
    }

    /// The profile's exact wire form, pinned: a change here breaks every client.
    #[test]
    fn profile_wire_form_is_pinned() {
        let key = KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[7u8; 32]).unwrap();
        let h = sign(&key, "GET", "/v1/evidence", Some("reference=case-1"), 1_764_620_000);
        assert_eq!(
            h.signature_input,
            format!("cairn=(\"@method\" \"@path\" \"@query\");created=1764620000;keyid=\"{}\";alg=\"ed25519\"", key.public_key().to_hex())
        );
        let sig = STANDARD.decode(h.signature.trim_start_matches("cairn=:").trim_end_matches(':')).unwrap();
        let base = format!(
            "\"@method\": GET\n\"@path\": /v1/evidence\n\"@query\": ?reference=case-1\n\"@signature-params\": (\"@method\" \"@path\" \"@query\");created=1764620000;keyid=\"{}\";alg=\"ed25519\"",
            key.public_key().to_hex()
        );
        key.public_key().verify_raw(base.as_bytes(), &sig).unwrap();
    }

    #[test]
    fn both_suites_sign_and_verify_and_refuse_tampering() {
        for suite in Suite::ALL {
            let key = KeyPair::generate(suite);
            let pk = key.public_key();
            let h = sign(&key, "GET", "/v1/status", None, 1000);
            let hdr = headers(&h);
            let lookup = |k: &[u8]| if k == pk.as_bytes() { Ok(pk.clone()) } else { Err(AuthError::NotAMember(hex::encode(k))) };
            let ok = verify(&request("GET", "/v1/status", None, &hdr), suite, 1000, &REQUIRED_COMPONENTS, lookup);
            assert!(ok.is_ok(), "{suite:?}");
            for (method, path, query) in [("POST", "/v1/status", None), ("GET", "/v1/genesis", None), ("GET", "/v1/status", Some("x=1"))] {
                let r = verify(&request(method, path, query, &hdr), suite, 1000, &REQUIRED_COMPONENTS, lookup);
                assert_eq!(r.err(), Some(AuthError::BadSignature), "{suite:?} {method} {path} {query:?}");
            }
            let other = Suite::ALL.into_iter().find(|s| *s != suite).unwrap();
            let r = verify(&request("GET", "/v1/status", None, &hdr), other, 1000, &REQUIRED_COMPONENTS, lookup);
            assert!(matches!(r, Err(AuthError::Malformed(m)) if m.contains("alg")), "{suite:?}");
        }
    }

    #[test]
    fn time_window_is_enforced() {
        let key = KeyPair::generate(Suite::Ed25519Sha256);
        let pk = key.public_key();
        let h = sign(&key, "GET", "/v1/status", None, 10_000);
        let hdr = headers(&h);
        let at = |now| verify(&request("GET", "/v1/status", None, &hdr), Suite::Ed25519Sha256, now, &REQUIRED_COMPONENTS, |_| Ok(pk.clone()));
        assert!(at(10_000 + MAX_AGE_S).is_ok());
        assert!(matches!(at(10_001 + MAX_AGE_S), Err(AuthError::Expired(_))));
        assert!(at(10_000 - MAX_SKEW_S).is_ok());
        assert!(matches!(at(9_999 - MAX_SKEW_S), Err(AuthError::Expired(_))));
    }

    #[test]
    fn malformed_inputs_are_refused_with_a_reason() {
        let key = KeyPair::generate(Suite::Ed25519Sha256);
        let pk = key.public_key();
        let good = sign(&key, "GET", "/v1/status", None, 1000);
        let cases: Vec<(String, String, &str)> = vec![
            ("cairn=(\"@method\")".into(), good.signature.clone(), "must cover"),
            (good.signature_input.replace(";alg", ";zzz=1;alg"), good.signature.clone(), "unknown"),
            (good.signature_input.replace("created=1000;", ""), good.signature.clone(), "created"),
            ("cairn=\"x\"".into(), good.signature.clone(), "inner list"),
            (good.signature_input.clone(), "cairn=1".into(), "byte sequence"),
            (good.signature_input.clone(), "other=:AAAA:".into(), "no label"),
            ("((((".into(), good.signature.clone(), "Signature-Input"),
            (good.signature_input.replace("(\"@method\"", "(\"@method\" \"@method\""), good.signature.clone(), "twice"),
            (good.signature_input.replace("(\"@method\"", "(\"@target-uri\" \"@method\""), good.signature.clone(), "not supported"),
            (good.signature_input.replace("(\"@method\"", "(\"x-missing\" \"@method\""), good.signature.clone(), "no x-missing"),
            (good.signature_input.replace("created=1000", "created=-5"), good.signature.clone(), "non-negative"),
        ];
        for (input, signature, why) in cases {
            let hdr = |name: &str| match name {
                "signature-input" => Some(input.clone()),
                "signature" => Some(signature.clone()),
                _ => None,
            };
            let r = verify(&request("GET", "/v1/status", None, &hdr), Suite::Ed25519Sha256, 1000, &REQUIRED_COMPONENTS, |_| Ok(pk.clone()));
            assert!(matches!(&r, Err(AuthError::Malformed(m)) if m.contains(why)), "{input} / {signature}: {:?}", r.err());
        }
        let none = |_: &str| None;
        assert_eq!(verify(&request("GET", "/", None, &none), Suite::Ed25519Sha256, 0, &[], |_| Ok(pk.clone())).err(), Some(AuthError::Missing));
    }
}

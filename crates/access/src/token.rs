//! Access tokens: what an organisation's admin issues for a service that cannot hold a member
//! key (a dashboard, a Prometheus scraper), sent as `Authorization: Bearer <token>`.
//!
//! ```text
//! cairn-token-v1.<base64url(claims JSON)>.<base64url(signature)>
//! ```
//!
//! The signature is the issuer's, over `CAIRN-TOKEN-V1\0` followed by the claims bytes exactly
//! as they appear (so no canonical JSON is needed), with the chain's suite. Tokens are
//! stateless: a node checks the signature, the times and that the issuer is still a member
//! allowed to issue ([`crate::ADMIN_ROLE`]). Removing the issuer's key (or denying it on a
//! node) voids every token it issued; otherwise a token lives at most [`MAX_LIFETIME_MS`].

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use cairn_crypto::{KeyPair, PublicKey, Suite};
use serde::{Deserialize, Serialize};

use crate::AuthError;

pub const PREFIX: &str = "cairn-token-v1.";
const SIGNING_PREFIX: &[u8] = b"CAIRN-TOKEN-V1\0";
/// The longest a token may be valid: a quarter, so a forgotten token does not outlive the
/// review cycle of the organisation that issued it.
pub const MAX_LIFETIME_MS: u64 = 92 * 24 * 3600 * 1000;
/// Longest token accepted (claims are a few hundred bytes; this bounds the work of a forged one).
pub const MAX_TOKEN_BYTES: usize = 2048;
/// How far in the future `issued_ms` may lie (clocks drift).
const MAX_SKEW_MS: u64 = 30_000;

/// What a token says.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Claims {
    pub chain_id: String,
    pub organisation: String,
    /// The issuing member key, hex.
    pub issuer: String,
    /// The service the token is for (a name the admin chose; shown in logs).
    pub service: String,
    pub issued_ms: u64,
    pub expires_ms: u64,
}

/// Issues a token. The caller checks that `key` may issue for `claims.organisation`.
pub fn issue(key: &KeyPair, claims: &Claims) -> Result<String, String> {
    if claims.expires_ms <= claims.issued_ms || claims.expires_ms - claims.issued_ms > MAX_LIFETIME_MS {
        return Err(format!("a token is valid for more than 0 and at most {} days", MAX_LIFETIME_MS / 86_400_000));
    }
    if claims.issuer != key.public_key().to_hex() {
        return Err("the issuer in the claims is not the signing key".into());
    }
    let payload = serde_json::to_vec(claims).expect("claims serialise");
    let mut message = SIGNING_PREFIX.to_vec();
    message.extend_from_slice(&payload);
    let signature = key.sign_raw(&message);
    Ok(format!("{PREFIX}{}.{}", URL_SAFE_NO_PAD.encode(&payload), URL_SAFE_NO_PAD.encode(signature)))
}

/// Checks a token for `chain_id` at `now_ms`; `issuer_key` answers the key of a member that may
/// issue tokens, or why it may not.
pub fn verify(token: &str, suite: Suite, chain_id: &str, now_ms: u64, issuer_key: impl Fn(&[u8]) -> Result<PublicKey, AuthError>) -> Result<Claims, AuthError> {
    let malformed = |why: &str| AuthError::Malformed(format!("access token: {why}"));
    if token.len() > MAX_TOKEN_BYTES {
        return Err(malformed("too long"));
    }
    let rest = token.strip_prefix(PREFIX).ok_or_else(|| malformed("it does not start with cairn-token-v1."))?;
    let (payload, signature) = rest.split_once('.').ok_or_else(|| malformed("it has no signature part"))?;
    let payload = URL_SAFE_NO_PAD.decode(payload).map_err(|_| malformed("the claims are not base64url"))?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| malformed("the signature is not base64url"))?;
    cairn_types::strict_json::check(&payload).map_err(|e| AuthError::Malformed(format!("access token claims: {e}")))?;
    let claims: Claims = serde_json::from_slice(&payload).map_err(|e| AuthError::Malformed(format!("access token claims: {e}")))?;
    if claims.chain_id != chain_id {
        return Err(AuthError::Malformed(format!("the token is for chain {:?}, not {chain_id:?}", claims.chain_id)));
    }
    let issuer = hex::decode(&claims.issuer).map_err(|_| malformed("the issuer is not hex"))?;
    let key = issuer_key(&issuer)?;
    if key.suite() != suite {
        return Err(malformed("the issuer's suite is not the chain's"));
    }
    let mut message = SIGNING_PREFIX.to_vec();
    message.extend_from_slice(&payload);
    key.verify_raw(&message, &signature).map_err(|_| AuthError::BadSignature)?;
    if claims.expires_ms.saturating_sub(claims.issued_ms) > MAX_LIFETIME_MS {
        return Err(AuthError::Expired("the token claims a lifetime longer than allowed".into()));
    }
    if claims.issued_ms > now_ms.saturating_add(MAX_SKEW_MS) {
        return Err(AuthError::Expired("the token is issued in the future; check the issuer's clock".into()));
    }
    if now_ms >= claims.expires_ms {
        return Err(AuthError::Expired(format!("the token expired at {} ms", claims.expires_ms)));
    }
    Ok(claims)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn claims(key: &KeyPair, issued_ms: u64, expires_ms: u64) -> Claims {
        Claims { chain_id: "c".into(), organisation: "court".into(), issuer: key.public_key().to_hex(), service: "dashboard".into(), issued_ms, expires_ms }
    }

    #[test]
    fn issued_tokens_verify_until_they_expire_in_both_suites() {
        for suite in Suite::ALL {
            let key = KeyPair::generate(suite);
            let pk = key.public_key();
            let t = issue(&key, &claims(&key, 1000, 5000)).unwrap();
            let ok = |k: &[u8]| if k == pk.as_bytes() { Ok(pk.clone()) } else { Err(AuthError::NotAMember(hex::encode(k))) };
            assert_eq!(verify(&t, suite, "c", 4999, ok).unwrap().service, "dashboard");
            assert!(matches!(verify(&t, suite, "c", 5000, ok), Err(AuthError::Expired(_))));
            assert!(matches!(verify(&t, suite, "other", 2000, ok), Err(AuthError::Malformed(_))));
            // The issuer stops being a member: the token is void.
            let gone = |k: &[u8]| Err(AuthError::NotAMember(hex::encode(k)));
            assert!(matches!(verify(&t, suite, "c", 2000, gone), Err(AuthError::NotAMember(_))));
        }
    }

    #[test]
    fn forged_and_malformed_tokens_are_refused() {
        let key = KeyPair::generate(Suite::Ed25519Sha256);
        let pk = key.public_key();
        let ok = |_: &[u8]| Ok(pk.clone());
        let t = issue(&key, &claims(&key, 1000, 5000)).unwrap();
        // Claims changed after signing (a later expiry).
        let (head, sig) = t.rsplit_once('.').unwrap();
        let payload = String::from_utf8(URL_SAFE_NO_PAD.decode(head.strip_prefix(PREFIX).unwrap()).unwrap()).unwrap();
        let longer = payload.replace("5000", "9000");
        let forged = format!("{PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(longer));
        assert_eq!(verify(&forged, Suite::Ed25519Sha256, "c", 2000, ok).err(), Some(AuthError::BadSignature));
        let dup = payload.replacen('{', "{\"service\":\"x\",", 1);
        let dup = format!("{PREFIX}{}.{sig}", URL_SAFE_NO_PAD.encode(dup));
        assert!(matches!(verify(&dup, Suite::Ed25519Sha256, "c", 2000, ok), Err(AuthError::Malformed(_))));
        for bad in ["", "cairn-token-v1.", "cairn-token-v1.!!.x", "bearer", &"x".repeat(5000)] {
            assert!(matches!(verify(bad, Suite::Ed25519Sha256, "c", 2000, ok), Err(AuthError::Malformed(_))), "{bad:.20}");
        }
        assert!(issue(&key, &claims(&key, 0, MAX_LIFETIME_MS + 1)).is_err());
        assert!(issue(&key, &claims(&key, 10, 10)).is_err());
    }
}

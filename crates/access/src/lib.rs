//! Who may read what. A node in `members` mode serves a route only to a caller who shows a
//! credential of a current member: an HTTP message signature by a member key ([`httpsig`]) or
//! a bearer token an organisation's admin issued ([`token`]). This crate checks credentials
//! against [`Members`]; it knows no HTTP framework.
//!
//! Invariants:
//! - A credential is only as good as its key's membership *now*: a token names the key that
//!   issued it, and is refused as soon as that key is no member (or is denied on this node).
//! - Every refusal is an [`AuthError`] with a stable code; none says more than the caller
//!   showed (a refusal never tells whether some other key is a member).

use std::collections::{BTreeMap, BTreeSet};

use cairn_crypto::{PublicKey, Suite};
use cairn_types::genesis::Genesis;

pub mod httpsig;
pub mod token;

/// The role an organisation's member needs to issue tokens for its services (a member whose
/// roles genesis does not list keeps every right, as for transactions).
pub const ADMIN_ROLE: &str = "org.admin";

/// A route's read policy, declared by the core for its routes and by each module for its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Policy {
    /// Anyone: health, the trust file, checkpoints, consistency proofs, the console's files.
    Public,
    /// Any current member (in `members` mode).
    Members,
    /// Members only, and the handler answers only what concerns the caller's organisation
    /// (it reads [`Caller`] from the request).
    Parties,
}

/// Who a request comes from, once its credential is checked. Handlers of `parties` routes read
/// it from the request's extensions; in `open` mode there is none.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// The member's organisation id.
    pub organisation: String,
    /// The member key that signed the request or issued the token (hex).
    pub key: String,
    /// For a token: the service it was issued for.
    pub service: Option<String>,
}

/// Why a credential was refused. Every one is a `401` with [`AuthError::code`].
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum AuthError {
    #[error(
        "this ledger serves members only: sign the request (HTTP Message Signatures, RFC 9421, label \"cairn\") with a member key, or send an access token (Authorization: Bearer)"
    )]
    Missing,
    #[error("malformed credential: {0}")]
    Malformed(String),
    #[error("the signature does not verify for this request and key")]
    BadSignature,
    #[error("the credential is outside its validity: {0}")]
    Expired(String),
    #[error("key {0} is not a member of this chain")]
    NotAMember(String),
    #[error("key {0} is denied on this node")]
    Denied(String),
    #[error("key {0} may not issue access tokens (it lacks the {ADMIN_ROLE} role)")]
    NotAnAdmin(String),
}

impl AuthError {
    /// The problem code of the refusal (stable; clients branch on it).
    pub fn code(&self) -> &'static str {
        match self {
            AuthError::Missing => "unauthenticated",
            AuthError::Malformed(_) => "malformed-credential",
            AuthError::BadSignature => "bad-signature",
            AuthError::Expired(_) => "credential-expired",
            AuthError::NotAMember(_) => "not-a-member",
            AuthError::Denied(_) => "key-denied",
            AuthError::NotAnAdmin(_) => "not-an-admin",
        }
    }
}

/// A member key as [`Members::from_entries`] takes it.
pub struct MemberEntry {
    pub key: PublicKey,
    pub organisation: String,
    /// `None`: no roles listed (every right).
    pub roles: Option<Vec<String>>,
}

struct Member {
    key: PublicKey,
    organisation: String,
    /// `None`: genesis lists no roles for the key (every right).
    roles: Option<Vec<String>>,
}

/// The chain's member keys as credentials are checked against them. Built from genesis today;
/// governance will rebuild it from state when members change.
pub struct Members {
    suite: Suite,
    chain_id: String,
    by_key: BTreeMap<Vec<u8>, Member>,
    denied: BTreeSet<Vec<u8>>,
}

impl Members {
    /// The members of `genesis`, less the keys in `deny` (hex public keys: a node-local list
    /// that takes a leaked key out at once, before governance removes it chain-wide).
    pub fn from_genesis(genesis: &Genesis, deny: &[String]) -> Result<Self, String> {
        let suite = genesis.suite;
        let mut entries = Vec::new();
        for org in &genesis.organisations {
            for hex_key in &org.members {
                let key = PublicKey::from_hex(suite, hex_key).map_err(|e| format!("member key {hex_key}: {e}"))?;
                entries.push(MemberEntry { key, organisation: org.id.clone(), roles: org.roles.get(hex_key).cloned() });
            }
        }
        Self::from_entries(genesis, entries, deny)
    }

    /// The current members of a chain whose membership is state (governance): `entries` are
    /// the keys that may sign now (neither frozen nor removed), less the keys in `deny`.
    pub fn from_entries(genesis: &Genesis, entries: impl IntoIterator<Item = MemberEntry>, deny: &[String]) -> Result<Self, String> {
        let suite = genesis.suite;
        let by_key = entries.into_iter().map(|e| (e.key.as_bytes().to_vec(), Member { key: e.key, organisation: e.organisation, roles: e.roles })).collect();
        let mut denied = BTreeSet::new();
        for hex_key in deny {
            let key = PublicKey::from_hex(suite, hex_key).map_err(|e| format!("[access] deny_keys: {hex_key}: {e}"))?;
            denied.insert(key.as_bytes().to_vec());
        }
        Ok(Members { suite, chain_id: genesis.chain_id.clone(), by_key, denied })
    }

    pub fn suite(&self) -> Suite {
        self.suite
    }

    pub fn chain_id(&self) -> &str {
        &self.chain_id
    }

    /// The current member holding `key` (raw bytes), or why it is refused.
    fn member(&self, key: &[u8]) -> Result<&Member, AuthError> {
        if self.denied.contains(key) {
            return Err(AuthError::Denied(hex::encode(key)));
        }
        self.by_key.get(key).ok_or_else(|| AuthError::NotAMember(hex::encode(key)))
    }

    fn caller(&self, member: &Member, service: Option<String>) -> Caller {
        Caller { organisation: member.organisation.clone(), key: member.key.to_hex(), service }
    }

    /// Checks a request's signature headers (RFC 9421) at `now_s` (Unix seconds).
    pub fn check_signature(&self, request: &httpsig::Request<'_>, now_s: u64) -> Result<Caller, AuthError> {
        let signed = httpsig::verify(request, self.suite, now_s, &httpsig::REQUIRED_COMPONENTS, |key| self.member(key).map(|m| m.key.clone()))?;
        let member = self.member(signed.key.as_bytes())?;
        Ok(self.caller(member, None))
    }

    /// Checks a bearer token at `now_ms` (Unix milliseconds).
    pub fn check_token(&self, bearer: &str, now_ms: u64) -> Result<Caller, AuthError> {
        let claims = token::verify(bearer, self.suite, &self.chain_id, now_ms, |key| self.issuer(key))?;
        let member = self.member(&hex::decode(&claims.issuer).map_err(|_| AuthError::Malformed("issuer is not hex".into()))?)?;
        if member.organisation != claims.organisation {
            return Err(AuthError::Malformed(format!("the issuer is a member of {}, not of {}", member.organisation, claims.organisation)));
        }
        Ok(self.caller(member, Some(claims.service)))
    }

    /// The key of a member that may issue tokens.
    fn issuer(&self, key: &[u8]) -> Result<PublicKey, AuthError> {
        let m = self.member(key)?;
        match &m.roles {
            Some(roles) if !roles.iter().any(|r| r == ADMIN_ROLE) => Err(AuthError::NotAnAdmin(m.key.to_hex())),
            _ => Ok(m.key.clone()),
        }
    }

    /// The organisation of a member key (raw bytes) that may issue tokens, for `cairn token
    /// issue` to check before it signs.
    pub fn issuer_organisation(&self, key: &[u8]) -> Result<&str, AuthError> {
        self.issuer(key)?;
        Ok(&self.member(key)?.organisation)
    }
}

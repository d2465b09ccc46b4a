//! What a proposal may do, and its canonical bytes (the `governance.propose` arguments will
//! carry one). Decoding is strict: one encoding per action, keys of the chain's suite, names
//! and roles in the genesis alphabet, every list bounded.
//!
//! ```text
//! action = u8 tag, then:
//!   1 add organisation     str id | str name | list<member>        (at least one admin)
//!   2 remove organisation  str id
//!   3 add member           str org | member
//!   4 remove member        str org | bytes key
//!   5 set roles            str org | bytes key | list<str role>
//!   6 rotate key           str org | bytes old key | bytes new key
//!   7 set parameter        str name | u64 value
//!   8 validator set        (reserved: refused until consensus epochs land)
//! member = bytes key | list<str role>
//! ```

use cairn_crypto::{PublicKey, Suite};
use cairn_types::codec::{DecodeError, Reader, Writer};

use crate::policy::ActionKind;

/// The role that lets a member propose and vote for its organisation (and issue access
/// tokens: the same role `cairn-access` checks).
pub const ADMIN_ROLE: &str = cairn_module::ADMIN_ROLE;
/// Members an added organisation may bring at once.
pub const MAX_MEMBERS: usize = 256;
/// Roles one member may hold.
pub const MAX_ROLES: usize = 16;
const MAX_NAME_BYTES: usize = 128;
const MAX_ID_BYTES: usize = 64;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub key: PublicKey,
    pub roles: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    AddOrganisation { id: String, name: String, members: Vec<Member> },
    RemoveOrganisation { id: String },
    AddMember { organisation: String, member: Member },
    RemoveMember { organisation: String, key: PublicKey },
    SetRoles { organisation: String, key: PublicKey, roles: Vec<String> },
    RotateKey { organisation: String, old: PublicKey, new: PublicKey },
    SetParameter { name: String, value: u64 },
    ValidatorSet,
}

impl Action {
    /// Who decides it (see [`crate::policy::Policy::electorate`]).
    pub fn kind(&self) -> ActionKind {
        match self {
            Action::AddOrganisation { .. } => ActionKind::AddOrganisation,
            Action::RemoveOrganisation { id } => ActionKind::RemoveOrganisation(id.clone()),
            Action::AddMember { organisation, .. }
            | Action::RemoveMember { organisation, .. }
            | Action::SetRoles { organisation, .. }
            | Action::RotateKey { organisation, .. } => ActionKind::WithinOrganisation(organisation.clone()),
            Action::SetParameter { .. } => ActionKind::Parameters,
            Action::ValidatorSet => ActionKind::ValidatorSet,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Action::AddOrganisation { id, name, members } => {
                w.u8(1).str(id).str(name).u32(members.len() as u32);
                for m in members {
                    write_member(&mut w, m);
                }
            }
            Action::RemoveOrganisation { id } => {
                w.u8(2).str(id);
            }
            Action::AddMember { organisation, member } => {
                w.u8(3).str(organisation);
                write_member(&mut w, member);
            }
            Action::RemoveMember { organisation, key } => {
                w.u8(4).str(organisation).bytes(key.as_bytes());
            }
            Action::SetRoles { organisation, key, roles } => {
                w.u8(5).str(organisation).bytes(key.as_bytes());
                write_roles(&mut w, roles);
            }
            Action::RotateKey { organisation, old, new } => {
                w.u8(6).str(organisation).bytes(old.as_bytes()).bytes(new.as_bytes());
            }
            Action::SetParameter { name, value } => {
                w.u8(7).str(name).u64(*value);
            }
            Action::ValidatorSet => {
                w.u8(8);
            }
        }
        w.into_bytes()
    }

    /// Decodes an action of a chain of `suite`.
    pub fn decode(bytes: &[u8], suite: Suite) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let action = match r.u8("action tag")? {
            1 => {
                let id = id(&mut r, "organisation id")?;
                let name = r.str("organisation name", MAX_NAME_BYTES)?.to_string();
                if name.is_empty() || name.chars().any(char::is_control) {
                    return Err(invalid("organisation name", "empty or holds control characters"));
                }
                let n = r.count("members", MAX_MEMBERS)?;
                let members = (0..n).map(|_| read_member(&mut r, suite)).collect::<Result<Vec<_>, _>>()?;
                if !members.iter().any(|m| m.roles.iter().any(|x| x == ADMIN_ROLE)) {
                    return Err(invalid("members", "an organisation needs at least one admin"));
                }
                let mut keys: Vec<&[u8]> = members.iter().map(|m| m.key.as_bytes()).collect();
                keys.sort();
                if keys.windows(2).any(|w| w[0] == w[1]) {
                    return Err(invalid("members", "a key is listed twice"));
                }
                Action::AddOrganisation { id, name, members }
            }
            2 => Action::RemoveOrganisation { id: id(&mut r, "organisation id")? },
            3 => Action::AddMember { organisation: id(&mut r, "organisation id")?, member: read_member(&mut r, suite)? },
            4 => Action::RemoveMember { organisation: id(&mut r, "organisation id")?, key: key(&mut r, suite, "key")? },
            5 => Action::SetRoles { organisation: id(&mut r, "organisation id")?, key: key(&mut r, suite, "key")?, roles: read_roles(&mut r)? },
            6 => {
                let organisation = id(&mut r, "organisation id")?;
                let (old, new) = (key(&mut r, suite, "old key")?, key(&mut r, suite, "new key")?);
                if old == new {
                    return Err(invalid("new key", "the same as the old key"));
                }
                Action::RotateKey { organisation, old, new }
            }
            7 => Action::SetParameter { name: id(&mut r, "parameter name")?, value: r.u64("parameter value")? },
            8 => Action::ValidatorSet,
            _ => return Err(invalid("action tag", "unknown action")),
        };
        r.finish()?;
        Ok(action)
    }
}

fn invalid(field: &'static str, reason: &'static str) -> DecodeError {
    DecodeError::Invalid { field, reason }
}

/// 1-64 of `[a-z0-9._-]`, as genesis names organisations.
fn valid_id(s: &str) -> bool {
    !s.is_empty() && s.len() <= MAX_ID_BYTES && s.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'-' | b'.' | b'_'))
}

fn id(r: &mut Reader<'_>, what: &'static str) -> Result<String, DecodeError> {
    let s = r.str(what, MAX_ID_BYTES)?;
    if !valid_id(s) {
        return Err(invalid(what, "must be 1-64 of [a-z0-9._-]"));
    }
    Ok(s.to_string())
}

fn key(r: &mut Reader<'_>, suite: Suite, what: &'static str) -> Result<PublicKey, DecodeError> {
    let bytes = r.bytes(what, suite.public_key_len())?;
    PublicKey::from_bytes(suite, bytes).map_err(|_| invalid(what, "not a public key of the chain's suite"))
}

/// `<module>.<role>` (`org.admin`, `evidence.depositor`), as genesis names roles.
pub(crate) fn valid_role(s: &str) -> bool {
    s.split_once('.').is_some_and(|(m, r)| valid_id(m) && valid_id(r) && !r.contains('.') && !m.contains('.'))
}

fn read_roles(r: &mut Reader<'_>) -> Result<Vec<String>, DecodeError> {
    let n = r.count("roles", MAX_ROLES)?;
    let mut roles = Vec::with_capacity(n);
    for _ in 0..n {
        let role = r.str("role", MAX_ID_BYTES * 2)?;
        if !valid_role(role) {
            return Err(invalid("role", "must be <module>.<role>"));
        }
        // Sorted and unique: one encoding per set of roles.
        if roles.last().is_some_and(|last: &String| last.as_str() >= role) {
            return Err(invalid("roles", "must be sorted and unique"));
        }
        roles.push(role.to_string());
    }
    Ok(roles)
}

fn write_roles(w: &mut Writer, roles: &[String]) {
    w.u32(roles.len() as u32);
    for role in roles {
        w.str(role);
    }
}

fn read_member(r: &mut Reader<'_>, suite: Suite) -> Result<Member, DecodeError> {
    Ok(Member { key: key(r, suite, "member key")?, roles: read_roles(r)? })
}

fn write_member(w: &mut Writer, m: &Member) {
    w.bytes(m.key.as_bytes());
    write_roles(w, &m.roles);
}

#[cfg(test)]
mod tests {
    use super::*;
    use cairn_crypto::KeyPair;

    fn key_of(seed: u8, suite: Suite) -> PublicKey {
        KeyPair::from_secret_bytes(suite, &[seed; 32]).unwrap().public_key()
    }

    fn every_action(suite: Suite) -> Vec<Action> {
        let admin = Member { key: key_of(1, suite), roles: vec!["evidence.depositor".into(), "org.admin".into()] };
        vec![
            Action::AddOrganisation {
                id: "court-5".into(),
                name: "第五法院 Court 5".into(),
                members: vec![admin.clone(), Member { key: key_of(2, suite), roles: vec![] }],
            },
            Action::RemoveOrganisation { id: "bank-2".into() },
            Action::AddMember { organisation: "court-5".into(), member: Member { key: key_of(3, suite), roles: vec!["evidence.depositor".into()] } },
            Action::RemoveMember { organisation: "court-5".into(), key: key_of(3, suite) },
            Action::SetRoles { organisation: "court-5".into(), key: key_of(2, suite), roles: vec!["org.admin".into()] },
            Action::RotateKey { organisation: "court-5".into(), old: key_of(1, suite), new: key_of(4, suite) },
            Action::SetParameter { name: "max_tx_bytes".into(), value: 1 << 20 },
            Action::ValidatorSet,
        ]
    }

    #[test]
    fn every_action_round_trips_in_both_suites_and_every_truncation_is_refused() {
        for suite in Suite::ALL {
            for a in every_action(suite) {
                let bytes = a.encode();
                assert_eq!(Action::decode(&bytes, suite).unwrap(), a);
                for n in 0..bytes.len() {
                    assert!(Action::decode(&bytes[..n], suite).is_err(), "{a:?} cut at {n}");
                }
                let mut longer = bytes.clone();
                longer.push(0);
                assert_eq!(Action::decode(&longer, suite), Err(DecodeError::TrailingBytes(1)));
            }
        }
    }

    /// The bytes of one action, pinned: a change here is a format change.
    #[test]
    fn the_encoding_is_pinned() {
        let a = Action::SetParameter { name: "max_tx_bytes".into(), value: 1 << 20 };
        assert_eq!(hex::encode(a.encode()), "070000000c6d61785f74785f62797465730000000000100000");
        let r = Action::RemoveOrganisation { id: "bank-2".into() };
        assert_eq!(hex::encode(r.encode()), "020000000662616e6b2d32");
    }

    #[test]
    fn malformed_actions_are_refused_with_the_field() {
        let suite = Suite::Ed25519Sha256;
        let no_admin = Action::AddOrganisation { id: "x".into(), name: "X".into(), members: vec![Member { key: key_of(1, suite), roles: vec![] }] };
        assert!(matches!(Action::decode(&no_admin.encode(), suite), Err(DecodeError::Invalid { field: "members", .. })));
        let twice = Member { key: key_of(1, suite), roles: vec!["org.admin".into()] };
        let dup = Action::AddOrganisation { id: "x".into(), name: "X".into(), members: vec![twice.clone(), twice] };
        assert!(matches!(Action::decode(&dup.encode(), suite), Err(DecodeError::Invalid { field: "members", .. })));
        let unsorted = Action::SetRoles { organisation: "x".into(), key: key_of(1, suite), roles: vec!["org.admin".into(), "evidence.depositor".into()] };
        assert!(matches!(Action::decode(&unsorted.encode(), suite), Err(DecodeError::Invalid { field: "roles", .. })));
        let bad_role = Action::SetRoles { organisation: "x".into(), key: key_of(1, suite), roles: vec!["root".into()] };
        assert!(matches!(Action::decode(&bad_role.encode(), suite), Err(DecodeError::Invalid { field: "role", .. })));
        let bad_id = Action::RemoveOrganisation { id: "Bank 2".into() };
        assert!(matches!(Action::decode(&bad_id.encode(), suite), Err(DecodeError::Invalid { field: "organisation id", .. })));
        let same = Action::RotateKey { organisation: "x".into(), old: key_of(1, suite), new: key_of(1, suite) };
        assert!(matches!(Action::decode(&same.encode(), suite), Err(DecodeError::Invalid { field: "new key", .. })));
        // An Ed25519 key on an SM2 chain.
        let wrong_suite = Action::RemoveMember { organisation: "x".into(), key: key_of(1, suite) };
        assert!(Action::decode(&wrong_suite.encode(), Suite::Sm2Sm3).is_err());
        assert!(matches!(Action::decode(&[9], suite), Err(DecodeError::Invalid { field: "action tag", .. })));
    }

    #[test]
    fn each_action_is_decided_by_its_electorate() {
        let kinds: Vec<ActionKind> = every_action(Suite::Ed25519Sha256).iter().map(Action::kind).collect();
        assert_eq!(kinds[0], ActionKind::AddOrganisation);
        assert_eq!(kinds[1], ActionKind::RemoveOrganisation("bank-2".into()));
        for k in &kinds[2..6] {
            assert_eq!(*k, ActionKind::WithinOrganisation("court-5".into()));
        }
        assert_eq!(kinds[6], ActionKind::Parameters);
        assert_eq!(kinds[7], ActionKind::ValidatorSet);
    }
}

//! The module's state: organisations, member keys, proposals, and their canonical bytes.
//!
//! ```text
//! key                    value
//! orgs                   list<str id>                      every organisation ever, sorted
//! org/<id>               str name | u8 removed (0, or 1 then u64 height) | list<bytes key>
//!                        (its current keys, sorted; removed keys leave the list)
//! key/<public key>       str org | u8 has roles (0: every right, 1 then list<str role>) |
//!                        u8 status (0 active, 1 frozen, 2 removed) | u64 since | u64 changed
//! prop/<u64 id>          bytes action | bytes proposer key | str org | u64 made at | bytes tx id |
//!                        tally | u8 outcome (0 pending, 1 applied then u64 height,
//!                        2 failed then u64 height, str reason)
//! next                   u64                               the next proposal's id
//! open                   list<u64 id>                      proposals end_block still looks at
//! param/<name>           u64                               a chain parameter set by vote
//! ```
//! Every decoder is strict (one encoding per value, bounded lists), as a state proof's
//! verifier reads these bytes.

use cairn_crypto::{PublicKey, Suite};
pub use cairn_module::MemberStatus;
use cairn_module::MemberView;
use cairn_types::codec::{DecodeError, Reader, Writer};

use crate::action::{Action, MAX_ROLES};
use crate::policy::Tally;

pub const KEY_ORGS: &[u8] = b"orgs";
pub const KEY_NEXT: &[u8] = b"next";
pub const KEY_OPEN: &[u8] = b"open";
/// Organisations a chain may hold (an `orgs` list stays a small value).
pub const MAX_ORGANISATIONS: usize = 1024;
/// Keys one organisation may hold at once.
pub const MAX_KEYS_PER_ORG: usize = 1024;
/// Proposals open (or passed, not yet applied) at once: bounds what `end_block` reads.
pub const MAX_OPEN: usize = 64;
const MAX_REASON_BYTES: usize = 512;

pub fn org_key(id: &str) -> Vec<u8> {
    [b"org/".as_slice(), id.as_bytes()].concat()
}

pub fn member_key(key: &[u8]) -> Vec<u8> {
    [b"key/".as_slice(), key].concat()
}

pub fn proposal_key(id: u64) -> Vec<u8> {
    [b"prop/".as_slice(), &id.to_be_bytes()].concat()
}

pub fn param_key(name: &str) -> Vec<u8> {
    [b"param/".as_slice(), name.as_bytes()].concat()
}

fn invalid(field: &'static str, reason: &'static str) -> DecodeError {
    DecodeError::Invalid { field, reason }
}

pub fn encode_ids(ids: &[String]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(ids.len() as u32);
    for id in ids {
        w.str(id);
    }
    w.into_bytes()
}

pub fn decode_ids(bytes: &[u8]) -> Result<Vec<String>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = r.count("organisations", MAX_ORGANISATIONS)?;
    let mut ids: Vec<String> = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.str("organisation", 64)?.to_string();
        if ids.last().is_some_and(|l| *l >= id) {
            return Err(invalid("organisations", "must be sorted and unique"));
        }
        ids.push(id);
    }
    r.finish()?;
    Ok(ids)
}

pub fn encode_u64s(ids: &[u64]) -> Vec<u8> {
    let mut w = Writer::new();
    w.u32(ids.len() as u32);
    for id in ids {
        w.u64(*id);
    }
    w.into_bytes()
}

pub fn decode_u64s(bytes: &[u8]) -> Result<Vec<u64>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = r.count("open proposals", MAX_OPEN)?;
    let mut ids: Vec<u64> = Vec::with_capacity(n);
    for _ in 0..n {
        let id = r.u64("proposal id")?;
        if ids.last().is_some_and(|l| *l >= id) {
            return Err(invalid("open proposals", "must be sorted and unique"));
        }
        ids.push(id);
    }
    r.finish()?;
    Ok(ids)
}

pub fn decode_u64(bytes: &[u8], field: &'static str) -> Result<u64, DecodeError> {
    let mut r = Reader::new(bytes);
    let v = r.u64(field)?;
    r.finish()?;
    Ok(v)
}

/// An organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrgRecord {
    pub name: String,
    pub removed_at: Option<u64>,
    /// Its current keys (raw bytes), sorted.
    pub keys: Vec<Vec<u8>>,
}

impl OrgRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.name);
        match self.removed_at {
            None => w.u8(0),
            Some(h) => w.u8(1).u64(h),
        };
        w.u32(self.keys.len() as u32);
        for k in &self.keys {
            w.bytes(k);
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8], suite: Suite) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let name = r.str("organisation name", 128)?.to_string();
        let removed_at = match r.u8("removed")? {
            0 => None,
            1 => Some(r.u64("removed at")?),
            _ => return Err(invalid("removed", "must be 0 or 1")),
        };
        let n = r.count("keys", MAX_KEYS_PER_ORG)?;
        let mut keys: Vec<Vec<u8>> = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.bytes("key", suite.public_key_len())?.to_vec();
            if keys.last().is_some_and(|l| *l >= k) {
                return Err(invalid("keys", "must be sorted and unique"));
            }
            keys.push(k);
        }
        r.finish()?;
        Ok(OrgRecord { name, removed_at, keys })
    }

    pub fn active(&self) -> bool {
        self.removed_at.is_none()
    }
}

/// A member key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberRecord {
    pub organisation: String,
    /// `None`: every right (a genesis member whose roles genesis does not list).
    pub roles: Option<Vec<String>>,
    pub status: MemberStatus,
    /// The height it joined (0: genesis).
    pub since: u64,
    /// The height its status or roles last changed.
    pub changed: u64,
}

impl MemberRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.organisation);
        match &self.roles {
            None => {
                w.u8(0);
            }
            Some(roles) => {
                w.u8(1).u32(roles.len() as u32);
                for r in roles {
                    w.str(r);
                }
            }
        }
        w.u8(match self.status {
            MemberStatus::Active => 0,
            MemberStatus::Frozen => 1,
            MemberStatus::Removed => 2,
        });
        w.u64(self.since).u64(self.changed);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let organisation = r.str("organisation", 64)?.to_string();
        let roles = match r.u8("has roles")? {
            0 => None,
            1 => {
                let n = r.count("roles", MAX_ROLES)?;
                let mut roles: Vec<String> = Vec::with_capacity(n);
                for _ in 0..n {
                    let role = r.str("role", 128)?.to_string();
                    if roles.last().is_some_and(|l| *l >= role) {
                        return Err(invalid("roles", "must be sorted and unique"));
                    }
                    roles.push(role);
                }
                Some(roles)
            }
            _ => return Err(invalid("has roles", "must be 0 or 1")),
        };
        let status = match r.u8("status")? {
            0 => MemberStatus::Active,
            1 => MemberStatus::Frozen,
            2 => MemberStatus::Removed,
            _ => return Err(invalid("status", "must be 0, 1 or 2")),
        };
        let (since, changed) = (r.u64("since")?, r.u64("changed")?);
        r.finish()?;
        Ok(MemberRecord { organisation, roles, status, since, changed })
    }

    pub fn holds(&self, role: &str) -> bool {
        self.roles.as_ref().is_none_or(|r| r.iter().any(|x| x == role))
    }

    pub fn view(&self, key: PublicKey) -> MemberView {
        MemberView { key, organisation: self.organisation.clone(), roles: self.roles.clone(), status: self.status }
    }
}

/// What became of a passed proposal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Pending,
    Applied {
        at: u64,
    },
    /// It passed but could not apply (another decision got there first), with why.
    Failed {
        at: u64,
        reason: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Proposal {
    pub action: Action,
    pub proposer: PublicKey,
    pub organisation: String,
    pub made_at: u64,
    /// The transaction that made it.
    pub tx: [u8; 32],
    pub tally: Tally,
    pub outcome: Outcome,
}

impl Proposal {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.bytes(&self.action.encode()).bytes(self.proposer.as_bytes()).str(&self.organisation).u64(self.made_at).bytes(&self.tx);
        self.tally.encode(&mut w);
        match &self.outcome {
            Outcome::Pending => {
                w.u8(0);
            }
            Outcome::Applied { at } => {
                w.u8(1).u64(*at);
            }
            Outcome::Failed { at, reason } => {
                w.u8(2).u64(*at).str(reason);
            }
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8], suite: Suite) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let action = Action::decode(r.bytes("action", 1 << 20)?, suite)?;
        let proposer = PublicKey::from_bytes(suite, r.bytes("proposer", suite.public_key_len())?).map_err(|_| invalid("proposer", "not a public key"))?;
        let organisation = r.str("organisation", 64)?.to_string();
        let made_at = r.u64("made at")?;
        let tx: [u8; 32] = r.bytes("tx", 32)?.try_into().map_err(|_| invalid("tx", "must be 32 bytes"))?;
        let tally = Tally::decode(&mut r)?;
        let outcome = match r.u8("outcome")? {
            0 => Outcome::Pending,
            1 => Outcome::Applied { at: r.u64("applied at")? },
            2 => Outcome::Failed { at: r.u64("failed at")?, reason: r.str("reason", MAX_REASON_BYTES)?.to_string() },
            _ => return Err(invalid("outcome", "unknown outcome")),
        };
        r.finish()?;
        if outcome != Outcome::Pending && !matches!(tally.status(), crate::policy::Status::Passed { .. }) {
            return Err(invalid("outcome", "only a passed proposal has one"));
        }
        Ok(Proposal { action, proposer, organisation, made_at, tx, tally, outcome })
    }
}

/// A failure reason as stored: bounded.
pub fn reason(s: String) -> String {
    if s.len() <= MAX_REASON_BYTES {
        return s;
    }
    let mut end = MAX_REASON_BYTES;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    s[..end].to_string()
}

//! The JSON forms of the module's arguments and state (the API, the CLI and state receipts'
//! views). Arguments are checked by encoding them and decoding the bytes strictly, so the JSON
//! path accepts exactly what the canonical decoder accepts.

use cairn_crypto::{PublicKey, Suite};
use cairn_module::{MemberStatus, TxError};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::action::{Action, Member};
use crate::policy::{Status, Vote};
use crate::state::{self, MemberRecord, OrgRecord, Outcome, Proposal};
use crate::{METHOD_FREEZE, METHOD_PROPOSE, METHOD_VOTE, MODULE};

/// An action as JSON: `{"type": "add-organisation", ...}`.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(tag = "type", rename_all = "kebab-case", deny_unknown_fields)]
pub enum ActionJson {
    AddOrganisation { id: String, name: String, members: Vec<MemberJson> },
    RemoveOrganisation { id: String },
    AddMember { organisation: String, key: String, roles: Vec<String> },
    RemoveMember { organisation: String, key: String },
    SetRoles { organisation: String, key: String, roles: Vec<String> },
    RotateKey { organisation: String, old_key: String, new_key: String },
    SetParameter { name: String, value: u64 },
    ValidatorSet {},
}

#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct MemberJson {
    pub key: String,
    #[serde(default)]
    pub roles: Vec<String>,
}

fn key(suite: Suite, hex: &str, what: &str) -> Result<PublicKey, TxError> {
    PublicKey::from_hex(suite, hex).map_err(|e| TxError::InvalidArgs(format!("{what}: {e}")))
}

/// Roles as a set: sorted, each once (the canonical form).
fn roles(mut r: Vec<String>) -> Vec<String> {
    r.sort();
    r.dedup();
    r
}

impl ActionJson {
    /// The action, checked as its canonical decoder checks it.
    pub fn to_action(&self, suite: Suite) -> Result<Action, TxError> {
        let a = match self.clone() {
            ActionJson::AddOrganisation { id, name, members } => Action::AddOrganisation {
                id,
                name,
                members: members
                    .into_iter()
                    .map(|m| Ok(Member { key: key(suite, &m.key, "member key")?, roles: roles(m.roles) }))
                    .collect::<Result<_, TxError>>()?,
            },
            ActionJson::RemoveOrganisation { id } => Action::RemoveOrganisation { id },
            ActionJson::AddMember { organisation, key: k, roles: r } => {
                Action::AddMember { organisation, member: Member { key: key(suite, &k, "key")?, roles: roles(r) } }
            }
            ActionJson::RemoveMember { organisation, key: k } => Action::RemoveMember { organisation, key: key(suite, &k, "key")? },
            ActionJson::SetRoles { organisation, key: k, roles: r } => Action::SetRoles { organisation, key: key(suite, &k, "key")?, roles: roles(r) },
            ActionJson::RotateKey { organisation, old_key, new_key } => {
                Action::RotateKey { organisation, old: key(suite, &old_key, "old_key")?, new: key(suite, &new_key, "new_key")? }
            }
            ActionJson::SetParameter { name, value } => Action::SetParameter { name, value },
            ActionJson::ValidatorSet {} => Action::ValidatorSet,
        };
        Action::decode(&a.encode(), suite).map_err(|e| TxError::InvalidArgs(e.to_string()))
    }

    pub fn of(a: &Action) -> Self {
        match a.clone() {
            Action::AddOrganisation { id, name, members } => {
                ActionJson::AddOrganisation { id, name, members: members.into_iter().map(|m| MemberJson { key: m.key.to_hex(), roles: m.roles }).collect() }
            }
            Action::RemoveOrganisation { id } => ActionJson::RemoveOrganisation { id },
            Action::AddMember { organisation, member } => ActionJson::AddMember { organisation, key: member.key.to_hex(), roles: member.roles },
            Action::RemoveMember { organisation, key } => ActionJson::RemoveMember { organisation, key: key.to_hex() },
            Action::SetRoles { organisation, key, roles } => ActionJson::SetRoles { organisation, key: key.to_hex(), roles },
            Action::RotateKey { organisation, old, new } => ActionJson::RotateKey { organisation, old_key: old.to_hex(), new_key: new.to_hex() },
            Action::SetParameter { name, value } => ActionJson::SetParameter { name, value },
            Action::ValidatorSet => ActionJson::ValidatorSet {},
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposeJson {
    action: ActionJson,
    expires_height: u64,
}

#[derive(Deserialize, Serialize, Clone, Copy, Debug, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum VoteJson {
    Approve,
    Reject,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct VoteArgsJson {
    proposal: u64,
    vote: VoteJson,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct FreezeJson {
    key: String,
}

/// Canonical argument bytes from a call's JSON arguments.
pub fn args_from_json(suite: Suite, method: &str, args: Value) -> Result<Vec<u8>, TxError> {
    let bad = |e: serde_json::Error| TxError::InvalidArgs(e.to_string());
    match method {
        METHOD_PROPOSE => {
            let p: ProposeJson = serde_json::from_value(args).map_err(bad)?;
            Ok(crate::encode_propose(&p.action.to_action(suite)?, p.expires_height))
        }
        METHOD_VOTE => {
            let v: VoteArgsJson = serde_json::from_value(args).map_err(bad)?;
            Ok(crate::encode_vote(v.proposal, if v.vote == VoteJson::Approve { Vote::Approve } else { Vote::Reject }))
        }
        METHOD_FREEZE => {
            let f: FreezeJson = serde_json::from_value(args).map_err(bad)?;
            Ok(crate::encode_freeze(&key(suite, &f.key, "key")?))
        }
        _ => Err(TxError::UnknownMethod { module: MODULE.into(), method: method.into() }),
    }
}

pub fn status_name(s: MemberStatus) -> &'static str {
    match s {
        MemberStatus::Active => "active",
        MemberStatus::Frozen => "frozen",
        MemberStatus::Removed => "removed",
    }
}

pub fn member_json(key_hex: &str, m: &MemberRecord) -> Value {
    json!({
        "key": key_hex,
        "organisation": m.organisation,
        // null: every right (a genesis member whose roles genesis does not list).
        "roles": m.roles,
        "status": status_name(m.status),
        "since_height": m.since,
        "changed_height": m.changed,
    })
}

pub fn org_json(id: &str, o: &OrgRecord) -> Value {
    json!({
        "id": id,
        "name": o.name,
        "status": if o.active() { "active" } else { "removed" },
        "removed_height": o.removed_at,
        "keys": o.keys.iter().map(hex::encode).collect::<Vec<_>>(),
    })
}

pub fn proposal_json(id: u64, p: &Proposal) -> Value {
    let (status, decided) = match p.tally.status() {
        Status::Open => ("open", None),
        Status::Passed { at } => ("passed", Some(at)),
        Status::Rejected { at } => ("rejected", Some(at)),
        Status::Expired { at } => ("expired", Some(at)),
    };
    let outcome = match &p.outcome {
        Outcome::Pending => Value::Null,
        Outcome::Applied { at } => json!({"applied": true, "height": at}),
        Outcome::Failed { at, reason } => json!({"applied": false, "height": at, "reason": reason}),
    };
    let votes: serde_json::Map<String, Value> =
        p.tally.votes().iter().map(|(o, v)| (o.clone(), Value::String(if *v == Vote::Approve { "approve" } else { "reject" }.into()))).collect();
    let t = p.tally.threshold();
    json!({
        "id": id,
        "action": ActionJson::of(&p.action),
        "proposer": p.proposer.to_hex(),
        "organisation": p.organisation,
        "made_height": p.made_at,
        "tx_id": hex::encode(p.tx),
        "expires_height": p.tally.expires_height(),
        "electorate": p.tally.electorate(),
        "threshold": format!("{}/{}", t.num, t.den),
        "approvals": p.tally.approvals(),
        "votes": votes,
        "status": status,
        "decided_height": decided,
        "outcome": outcome,
    })
}

/// The readable view of one of the module's state values (state receipts carry it; an offline
/// verifier that knows the module checks it against the proven bytes).
pub fn state_view(suite: Suite, key: &[u8], value: Option<&[u8]>) -> Result<Value, String> {
    let e = |e: cairn_types::codec::DecodeError| e.to_string();
    if let Some(k) = key.strip_prefix(b"key/") {
        let pk = PublicKey::from_bytes(suite, k).map_err(|_| "not a public key of the chain's suite".to_string())?;
        return Ok(match value {
            None => json!({"key": pk.to_hex(), "member": null}),
            Some(v) => json!({"key": pk.to_hex(), "member": member_json(&pk.to_hex(), &MemberRecord::decode(v).map_err(e)?)}),
        });
    }
    if let Some(id) = key.strip_prefix(b"org/") {
        let id = std::str::from_utf8(id).map_err(|_| "organisation id is not UTF-8".to_string())?;
        return Ok(match value {
            None => json!({"organisation": id, "record": null}),
            Some(v) => json!({"organisation": id, "record": org_json(id, &OrgRecord::decode(v, suite).map_err(e)?)}),
        });
    }
    if let Some(id) = key.strip_prefix(b"prop/") {
        let id = u64::from_be_bytes(id.try_into().map_err(|_| "a proposal key ends in a u64".to_string())?);
        return Ok(match value {
            None => json!({"proposal": id, "record": null}),
            Some(v) => json!({"proposal": id, "record": proposal_json(id, &Proposal::decode(v, suite).map_err(e)?)}),
        });
    }
    match key {
        state::KEY_ORGS => Ok(json!({"organisations": value.map(state::decode_ids).transpose().map_err(e)?})),
        state::KEY_OPEN => Ok(json!({"open": value.map(state::decode_u64s).transpose().map_err(e)?})),
        state::KEY_NEXT => Ok(json!({"next": value.map(|v| state::decode_u64(v, "next")).transpose().map_err(e)?})),
        _ => Err("not a governance state key".into()),
    }
}

/// What a block's writes to governance state mean, as live events: for each proposal written,
/// what happened to it in this block (`proposed`, `passed`, `rejected`, `expired`, `applied`,
/// `failed`, in that order; `voted` when a vote changed nothing else), with the proposal; for
/// each key frozen, `frozen`.
/// Block 1's seeding of genesis membership is not an event.
pub fn events(suite: Suite, height: u64, writes: &[(&[u8], Option<&[u8]>)]) -> Vec<Value> {
    let mut out = Vec::new();
    for (key, value) in writes {
        let Some(value) = value else { continue };
        if let Some(id) = key.strip_prefix(b"prop/").and_then(|b| b.try_into().ok()).map(u64::from_be_bytes) {
            let Ok(p) = Proposal::decode(value, suite) else { continue };
            let mut what = Vec::new();
            if p.made_at == height {
                what.push("proposed");
            }
            match p.tally.status() {
                Status::Passed { at } if at == height => what.push("passed"),
                Status::Rejected { at } if at == height => what.push("rejected"),
                Status::Expired { at } if at == height => what.push("expired"),
                _ => {}
            }
            match &p.outcome {
                Outcome::Applied { at } if *at == height => what.push("applied"),
                Outcome::Failed { at, .. } if *at == height => what.push("failed"),
                _ => {}
            }
            // A write with none of these is a vote that did not decide it.
            if what.is_empty() {
                what.push("voted");
            }
            out.push(json!({"height": height, "events": what, "proposal": proposal_json(id, &p)}));
        } else if let Some(k) = key.strip_prefix(b"key/") {
            let Ok(m) = MemberRecord::decode(value) else { continue };
            if m.status == MemberStatus::Frozen && m.changed == height {
                out.push(json!({"height": height, "events": ["frozen"], "member": member_json(&hex::encode(k), &m)}));
            }
        }
    }
    out
}

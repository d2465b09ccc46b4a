//! `governance`: organisations, member keys and roles, changed by the organisations' votes
//! (issue 10; the design is `docs/governance.md`). On a chain whose genesis enables it
//! (`params.modules.governance`), this module keeps the chain's membership in its state: the
//! executor asks it who a signer is ([`Module::member`]), so a key removed by a vote is refused
//! from the next block on, and "key K belongs to O with roles R as of height H" is a state
//! proof of `key/<K>`.
//!
//! * [`policy`]: who votes on what and a proposal's tally (pure, deterministic);
//! * [`action`]: what a proposal may do, and its canonical bytes;
//! * [`state`]: the state keys and their canonical values;
//! * [`json`]: the JSON forms of actions, proposals and members (API and CLI).
//!
//! Methods: `propose {action, expires_height}`, `vote {proposal, approve}` (role
//! `org.admin`), `freeze {key}` (role `org.admin`, applies at once). A passed proposal applies
//! at the end of the block that passed it ([`Module::end_block`]); one still open at the end
//! of its `expires_height` block expires.

use std::collections::BTreeSet;

use cairn_crypto::{PublicKey, Suite};
use cairn_module::{ExecContext, ExecFailure, IndexEntry, MemberStatus, MemberView, Module, ModuleRefusal, StateRead, TxEffects, TxError};
use cairn_state::StateError;
use cairn_types::codec::{DecodeError, Reader, Writer};
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction};

pub mod action;
pub mod cli;
pub mod json;
pub mod policy;
pub mod routes;
pub mod state;

use action::{ADMIN_ROLE, Action};
use policy::{Policy, PolicyError, Status, Tally, Threshold, Vote};
use state::{MemberRecord, OrgRecord, Outcome, Proposal};

pub const MODULE: &str = "governance";
pub const METHOD_PROPOSE: &str = "propose";
pub const METHOD_VOTE: &str = "vote";
pub const METHOD_FREEZE: &str = "freeze";
/// Index: the transaction that made a proposal → its id (`u64`), so a client finds the id of
/// the proposal it submitted.
pub const INDEX_BY_TX: &str = "governance.by-tx";
/// Longest voting period a proposal may ask for, in blocks: an expiry bounds how long a
/// proposal holds one of the [`state::MAX_OPEN`] places.
pub const MAX_VOTING_BLOCKS: u64 = 1_000_000;

/// Leaf kinds (the module's envelope `0x02 | str governance | u8 kind | payload`).
pub const LEAF_PROPOSED: u8 = 1;
pub const LEAF_VOTED: u8 = 2;
pub const LEAF_FROZEN: u8 = 3;

/// The module's own refusals (codes `governance.<code>` in API errors).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum GovernanceError {
    #[error("this chain's genesis does not enable governance; its membership is genesis's")]
    NotEnabled,
    #[error("expires_height {got} must be above the current height {height} and at most {max}")]
    BadExpiry { got: u64, height: u64, max: u64 },
    #[error("no proposal {0}")]
    UnknownProposal(u64),
    #[error("proposal {id} is closed ({why})")]
    Closed { id: u64, why: &'static str },
    #[error("proposal {id} expired at height {at}")]
    Expired { id: u64, at: u64 },
    #[error("organisation {0} may not vote on this proposal")]
    NotEligible(String),
    #[error("no current organisation {0}")]
    UnknownOrganisation(String),
    #[error("organisation id {0} is taken (ids are never reused)")]
    OrganisationExists(String),
    #[error("key {0} is already a member key, or was one (keys are never reused)")]
    KeyInUse(String),
    #[error("key {key} is not a current key of organisation {organisation}")]
    NotAKeyOf { key: String, organisation: String },
    #[error("organisation {0} would be left without an active admin key")]
    LastAdmin(String),
    #[error("{0} proposals are open; close one (vote, or let it expire) before making another")]
    TooManyOpen(usize),
    #[error("validator-set changes are not supported yet (they will use consensus epochs)")]
    Unsupported,
    #[error("no chain parameter {0:?} may be set by vote (see docs/governance.md)")]
    UnknownParameter(String),
    #[error("parameter {name} must be {least} to 4294967295")]
    ParameterRange { name: String, least: u64 },
    #[error("key {0} is not active")]
    NotActive(String),
    #[error("a rotation is proposed by the key it retires ({0}), which proves it holds it")]
    RotateByOldKey(String),
    #[error("{0} would exceed its limit")]
    Limit(&'static str),
}

impl ModuleRefusal for GovernanceError {
    fn code(&self) -> &'static str {
        match self {
            GovernanceError::NotEnabled => "not-enabled",
            GovernanceError::BadExpiry { .. } => "bad-expiry",
            GovernanceError::UnknownProposal(_) => "unknown-proposal",
            GovernanceError::Closed { .. } => "closed",
            GovernanceError::Expired { .. } => "expired",
            GovernanceError::NotEligible(_) => "not-eligible",
            GovernanceError::UnknownOrganisation(_) => "unknown-organisation",
            GovernanceError::OrganisationExists(_) => "organisation-exists",
            GovernanceError::KeyInUse(_) => "key-in-use",
            GovernanceError::NotAKeyOf { .. } => "not-a-key-of",
            GovernanceError::LastAdmin(_) => "last-admin",
            GovernanceError::TooManyOpen(_) => "too-many-open",
            GovernanceError::Unsupported => "unsupported",
            GovernanceError::UnknownParameter(_) => "unknown-parameter",
            GovernanceError::ParameterRange { .. } => "parameter-range",
            GovernanceError::NotActive(_) => "not-active",
            GovernanceError::RotateByOldKey(_) => "rotate-by-old-key",
            GovernanceError::Limit(_) => "limit",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            GovernanceError::NotEnabled
            | GovernanceError::BadExpiry { .. }
            | GovernanceError::Unsupported
            | GovernanceError::UnknownParameter(_)
            | GovernanceError::ParameterRange { .. }
            | GovernanceError::NotAKeyOf { .. } => 400,
            GovernanceError::NotEligible(_) | GovernanceError::RotateByOldKey(_) => 403,
            GovernanceError::UnknownProposal(_) | GovernanceError::UnknownOrganisation(_) => 404,
            GovernanceError::Closed { .. }
            | GovernanceError::Expired { .. }
            | GovernanceError::OrganisationExists(_)
            | GovernanceError::KeyInUse(_)
            | GovernanceError::LastAdmin(_)
            | GovernanceError::TooManyOpen(_)
            | GovernanceError::NotActive(_)
            | GovernanceError::Limit(_) => 409,
        }
    }
}

/// Chain parameters a vote may set, each with the least value it may take. Each lowers a
/// genesis limit (genesis's value stays the ceiling: admission checks it statelessly; a vote
/// above it leaves genesis's in force). The least values keep governance itself working: a
/// vote or a parameter proposal always fits.
pub const PARAMETERS: &[(&str, u64)] = &[("evidence.max_records_per_tx", 1), ("max_tx_bytes", 4096)];

/// The module's genesis parameters: `params.modules.governance` (`{"policy": {"add_organisation":
/// "2/3", "remove_organisation": "2/3", "parameters": "2/3", "within_organisation": "1/1"}}`,
/// each optional). Absent: governance is off and membership is genesis's.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct GovernanceParams {
    pub policy: Policy,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsJson {
    #[serde(default)]
    policy: PolicyJson,
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct PolicyJson {
    add_organisation: Option<String>,
    remove_organisation: Option<String>,
    parameters: Option<String>,
    within_organisation: Option<String>,
}

impl GovernanceParams {
    /// `None`: the chain does not enable governance.
    pub fn of(genesis: &Genesis) -> Result<Option<Self>, String> {
        let Some(json) = genesis.params.module(MODULE) else { return Ok(None) };
        let j: ParamsJson = serde_json::from_value(serde_json::Value::Object(json.clone())).map_err(|e| format!("genesis params.modules.governance: {e}"))?;
        let d = Policy::default();
        let t = |s: Option<String>, default: Threshold| -> Result<Threshold, String> {
            s.map_or(Ok(default), |s| Threshold::parse(&s).map_err(|e| format!("genesis params.modules.governance.policy: {e}")))
        };
        let policy = Policy {
            add_organisation: t(j.policy.add_organisation, d.add_organisation)?,
            remove_organisation: t(j.policy.remove_organisation, d.remove_organisation)?,
            parameters: t(j.policy.parameters, d.parameters)?,
            within_organisation: t(j.policy.within_organisation, d.within_organisation)?,
        };
        Ok(Some(GovernanceParams { policy }))
    }

    /// Genesis parameters of a chain made today.
    pub fn to_json(&self) -> serde_json::Map<String, serde_json::Value> {
        let p = &self.policy;
        let s = |t: Threshold| serde_json::Value::String(format!("{}/{}", t.num, t.den));
        let policy = serde_json::json!({
            "add_organisation": s(p.add_organisation),
            "remove_organisation": s(p.remove_organisation),
            "parameters": s(p.parameters),
            "within_organisation": s(p.within_organisation),
        });
        let mut m = serde_json::Map::new();
        m.insert("policy".into(), policy);
        m
    }
}

/// The module for a chain.
pub fn module(genesis: &Genesis) -> Result<Box<dyn Module>, String> {
    let genesis_orgs = genesis_orgs(genesis.suite, &genesis.organisations);
    Ok(Box::new(GovernanceModule { suite: genesis.suite, params: GovernanceParams::of(genesis)?, genesis_orgs }))
}

pub struct GovernanceModule {
    suite: Suite,
    /// `None`: not enabled on this chain.
    params: Option<GovernanceParams>,
    /// What block 1 seeds.
    genesis_orgs: GenesisOrgs,
}

/// Arguments of `propose`: `bytes action | u64 expires_height`.
pub fn encode_propose(action: &Action, expires_height: u64) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(&action.encode()).u64(expires_height);
    w.into_bytes()
}

pub fn decode_propose(args: &[u8], suite: Suite) -> Result<(Action, u64), DecodeError> {
    let mut r = Reader::new(args);
    let action = Action::decode(r.bytes("action", 1 << 20)?, suite)?;
    let expires = r.u64("expires_height")?;
    r.finish()?;
    Ok((action, expires))
}

/// Arguments of `vote`: `u64 proposal | u8 vote (1 approve, 2 reject)`.
pub fn encode_vote(proposal: u64, vote: Vote) -> Vec<u8> {
    let mut w = Writer::new();
    w.u64(proposal).u8(match vote {
        Vote::Approve => 1,
        Vote::Reject => 2,
    });
    w.into_bytes()
}

pub fn decode_vote(args: &[u8]) -> Result<(u64, Vote), DecodeError> {
    let mut r = Reader::new(args);
    let id = r.u64("proposal")?;
    let vote = match r.u8("vote")? {
        1 => Vote::Approve,
        2 => Vote::Reject,
        _ => return Err(DecodeError::Invalid { field: "vote", reason: "must be 1 (approve) or 2 (reject)" }),
    };
    r.finish()?;
    Ok((id, vote))
}

/// Arguments of `freeze`: `bytes key`.
pub fn encode_freeze(key: &PublicKey) -> Vec<u8> {
    let mut w = Writer::new();
    w.bytes(key.as_bytes());
    w.into_bytes()
}

pub fn decode_freeze(args: &[u8], suite: Suite) -> Result<PublicKey, DecodeError> {
    let mut r = Reader::new(args);
    let key = PublicKey::from_bytes(suite, r.bytes("key", suite.public_key_len())?)
        .map_err(|_| DecodeError::Invalid { field: "key", reason: "not a public key of the chain's suite" })?;
    r.finish()?;
    Ok(key)
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> StateError {
    StateError::Storage(format!("governance state {what}: {e}"))
}

fn args_error(e: DecodeError) -> TxError {
    TxError::InvalidArgs(e.to_string())
}

/// Reads of the module's state, whether in a block or durable.
struct Reads<'a> {
    suite: Suite,
    state: &'a dyn StateRead,
}

/// A block's state as the executing call sees it.
struct CtxRead<'c, 'a, 'b>(&'c ExecContext<'a, 'b>);

impl StateRead for CtxRead<'_, '_, '_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.0.state_get(key)
    }
}

impl Reads<'_> {
    fn orgs(&self) -> Result<Option<Vec<String>>, StateError> {
        self.state.get(state::KEY_ORGS)?.map(|b| state::decode_ids(&b).map_err(|e| corrupt("orgs", e))).transpose()
    }

    fn org(&self, id: &str) -> Result<Option<OrgRecord>, StateError> {
        self.state.get(&state::org_key(id))?.map(|b| OrgRecord::decode(&b, self.suite).map_err(|e| corrupt("org", e))).transpose()
    }

    fn member(&self, key: &[u8]) -> Result<Option<MemberRecord>, StateError> {
        self.state.get(&state::member_key(key))?.map(|b| MemberRecord::decode(&b).map_err(|e| corrupt("key", e))).transpose()
    }

    fn proposal(&self, id: u64) -> Result<Option<Proposal>, StateError> {
        self.state.get(&state::proposal_key(id))?.map(|b| Proposal::decode(&b, self.suite).map_err(|e| corrupt("proposal", e))).transpose()
    }

    fn open(&self) -> Result<Vec<u64>, StateError> {
        Ok(self.state.get(state::KEY_OPEN)?.map(|b| state::decode_u64s(&b).map_err(|e| corrupt("open", e))).transpose()?.unwrap_or_default())
    }

    fn next(&self) -> Result<u64, StateError> {
        Ok(self.state.get(state::KEY_NEXT)?.map(|b| state::decode_u64(&b, "next").map_err(|e| corrupt("next", e))).transpose()?.unwrap_or(1))
    }

    fn active_orgs(&self) -> Result<BTreeSet<String>, StateError> {
        let mut active = BTreeSet::new();
        for id in self.orgs()?.unwrap_or_default() {
            if self.org(&id)?.is_some_and(|o| o.active()) {
                active.insert(id);
            }
        }
        Ok(active)
    }

    /// Active admin keys of an organisation, but `except` (a key about to lose the role).
    fn admins_but(&self, org: &OrgRecord, except: &[u8]) -> Result<usize, StateError> {
        let mut n = 0;
        for k in org.keys.iter().filter(|k| k.as_slice() != except) {
            if self.member(k)?.is_some_and(|m| m.status == MemberStatus::Active && m.holds(ADMIN_ROLE)) {
                n += 1;
            }
        }
        Ok(n)
    }
}

impl From<GovernanceError> for ExecFailure {
    fn from(e: GovernanceError) -> Self {
        ExecFailure::Refused(e.into())
    }
}

fn policy_error(id: u64, e: PolicyError) -> GovernanceError {
    match e {
        PolicyError::Closed(why) => GovernanceError::Closed { id, why },
        PolicyError::Expired(at) => GovernanceError::Expired { id, at },
        PolicyError::NotEligible(o) => GovernanceError::NotEligible(o),
        PolicyError::UnknownOrganisation(o) => GovernanceError::UnknownOrganisation(o),
        PolicyError::Unsupported => GovernanceError::Unsupported,
        PolicyError::EmptyElectorate | PolicyError::ElectorateTooLarge | PolicyError::BadThreshold(_) => GovernanceError::Limit("the electorate"),
    }
}

/// The state a block writes through, with reads that see its writes.
struct Writes<'c, 'a, 'b> {
    ctx: &'c mut ExecContext<'a, 'b>,
}

impl Writes<'_, '_, '_> {
    fn with_reads<T>(&self, f: impl FnOnce(&Reads<'_>) -> T) -> T {
        f(&Reads { suite: self.ctx.suite, state: &CtxRead(self.ctx) })
    }

    fn put_org(&mut self, id: &str, o: &OrgRecord) {
        self.ctx.state_put(&state::org_key(id), o.encode());
    }

    fn put_member(&mut self, key: &[u8], m: &MemberRecord) {
        self.ctx.state_put(&state::member_key(key), m.encode());
    }

    fn put_proposal(&mut self, id: u64, p: &Proposal) {
        self.ctx.state_put(&state::proposal_key(id), p.encode());
    }
}

impl GovernanceModule {
    fn enabled(&self) -> Result<&GovernanceParams, TxError> {
        self.params.as_ref().ok_or_else(|| GovernanceError::NotEnabled.into())
    }

    /// Whether `action` can apply to the state now; the reason if not. Checked when it is
    /// proposed and again when it applies (another decision may have got there first).
    fn check_applicable(&self, r: &Reads<'_>, action: &Action) -> Result<(), ExecFailure> {
        let current_org = |id: &str| -> Result<OrgRecord, ExecFailure> {
            match r.org(id)? {
                Some(o) if o.active() => Ok(o),
                _ => Err(GovernanceError::UnknownOrganisation(id.to_string()).into()),
            }
        };
        let unused = |k: &PublicKey| -> Result<(), ExecFailure> {
            if r.member(k.as_bytes())?.is_some() {
                return Err(GovernanceError::KeyInUse(k.to_hex()).into());
            }
            Ok(())
        };
        let key_of = |org: &str, k: &PublicKey| -> Result<MemberRecord, ExecFailure> {
            match r.member(k.as_bytes())? {
                Some(m) if m.organisation == org && m.status != MemberStatus::Removed => Ok(m),
                _ => Err(GovernanceError::NotAKeyOf { key: k.to_hex(), organisation: org.to_string() }.into()),
            }
        };
        match action {
            Action::AddOrganisation { id, members, .. } => {
                if r.org(id)?.is_some() {
                    return Err(GovernanceError::OrganisationExists(id.clone()).into());
                }
                if r.orgs()?.unwrap_or_default().len() >= state::MAX_ORGANISATIONS {
                    return Err(GovernanceError::Limit("the number of organisations").into());
                }
                for m in members {
                    unused(&m.key)?;
                }
            }
            Action::RemoveOrganisation { id } => {
                current_org(id)?;
            }
            Action::AddMember { organisation, member } => {
                if current_org(organisation)?.keys.len() >= state::MAX_KEYS_PER_ORG {
                    return Err(GovernanceError::Limit("the organisation's keys").into());
                }
                unused(&member.key)?;
            }
            Action::RemoveMember { organisation, key } => {
                let org = current_org(organisation)?;
                let m = key_of(organisation, key)?;
                if m.status == MemberStatus::Active && m.holds(ADMIN_ROLE) && r.admins_but(&org, key.as_bytes())? == 0 {
                    return Err(GovernanceError::LastAdmin(organisation.clone()).into());
                }
            }
            Action::SetRoles { organisation, key, roles } => {
                let org = current_org(organisation)?;
                let m = key_of(organisation, key)?;
                let loses_admin = m.status == MemberStatus::Active && m.holds(ADMIN_ROLE) && !roles.iter().any(|x| x == ADMIN_ROLE);
                if loses_admin && r.admins_but(&org, key.as_bytes())? == 0 {
                    return Err(GovernanceError::LastAdmin(organisation.clone()).into());
                }
            }
            Action::RotateKey { organisation, old, new } => {
                current_org(organisation)?;
                key_of(organisation, old)?;
                unused(new)?;
            }
            Action::SetParameter { name, value } => {
                let Some((_, least)) = PARAMETERS.iter().find(|(n, _)| n == name) else {
                    return Err(GovernanceError::UnknownParameter(name.clone()).into());
                };
                if value < least || *value > u64::from(u32::MAX) {
                    return Err(GovernanceError::ParameterRange { name: name.clone(), least: *least }.into());
                }
            }
            Action::ValidatorSet => return Err(GovernanceError::Unsupported.into()),
        }
        Ok(())
    }

    /// Applies a passed action (checked applicable first, so nothing half-applies).
    fn apply(&self, w: &mut Writes<'_, '_, '_>, action: &Action) -> Result<(), ExecFailure> {
        w.with_reads(|r| self.check_applicable(r, action))?;
        let height = w.ctx.height;
        let fresh = |org: &str, roles: &[String]| MemberRecord {
            organisation: org.to_string(),
            roles: Some(roles.to_vec()),
            status: MemberStatus::Active,
            since: height,
            changed: height,
        };
        match action {
            Action::AddOrganisation { id, name, members } => {
                let mut orgs = w.with_reads(|r| r.orgs())?.unwrap_or_default();
                orgs.push(id.clone());
                orgs.sort();
                w.ctx.state_put(state::KEY_ORGS, state::encode_ids(&orgs));
                let mut keys: Vec<Vec<u8>> = members.iter().map(|m| m.key.as_bytes().to_vec()).collect();
                keys.sort();
                w.put_org(id, &OrgRecord { name: name.clone(), removed_at: None, keys });
                for m in members {
                    w.put_member(m.key.as_bytes(), &fresh(id, &m.roles));
                }
            }
            Action::RemoveOrganisation { id } => {
                let mut org = w.with_reads(|r| r.org(id))?.expect("checked applicable");
                for k in std::mem::take(&mut org.keys) {
                    let mut m = w.with_reads(|r| r.member(&k))?.ok_or_else(|| corrupt("org", "lists a key without a record"))?;
                    m.status = MemberStatus::Removed;
                    m.changed = height;
                    w.put_member(&k, &m);
                }
                org.removed_at = Some(height);
                w.put_org(id, &org);
            }
            Action::AddMember { organisation, member } => {
                let mut org = w.with_reads(|r| r.org(organisation))?.expect("checked applicable");
                org.keys.push(member.key.as_bytes().to_vec());
                org.keys.sort();
                w.put_org(organisation, &org);
                w.put_member(member.key.as_bytes(), &fresh(organisation, &member.roles));
            }
            Action::RemoveMember { organisation, key } => {
                let mut org = w.with_reads(|r| r.org(organisation))?.expect("checked applicable");
                org.keys.retain(|k| k.as_slice() != key.as_bytes());
                w.put_org(organisation, &org);
                let mut m = w.with_reads(|r| r.member(key.as_bytes()))?.expect("checked applicable");
                m.status = MemberStatus::Removed;
                m.changed = height;
                w.put_member(key.as_bytes(), &m);
            }
            Action::SetRoles { key, roles, .. } => {
                let mut m = w.with_reads(|r| r.member(key.as_bytes()))?.expect("checked applicable");
                m.roles = Some(roles.clone());
                m.changed = height;
                w.put_member(key.as_bytes(), &m);
            }
            Action::RotateKey { organisation, old, new } => {
                let mut org = w.with_reads(|r| r.org(organisation))?.expect("checked applicable");
                org.keys.retain(|k| k.as_slice() != old.as_bytes());
                org.keys.push(new.as_bytes().to_vec());
                org.keys.sort();
                w.put_org(organisation, &org);
                let mut m = w.with_reads(|r| r.member(old.as_bytes()))?.expect("checked applicable");
                let roles = m.roles.clone();
                m.status = MemberStatus::Removed;
                m.changed = height;
                w.put_member(old.as_bytes(), &m);
                w.put_member(new.as_bytes(), &MemberRecord { roles, ..fresh(organisation, &[]) });
            }
            Action::SetParameter { name, value } => {
                w.ctx.state_put(&state::param_key(name), value.to_be_bytes().to_vec());
            }
            Action::ValidatorSet => unreachable!("refused as not applicable"),
        }
        Ok(())
    }

    fn propose(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        let params = self.enabled().map_err(ExecFailure::Refused)?;
        let (action, expires_height) = decode_propose(&tx.body.call.args, self.suite).map_err(|e| ExecFailure::Refused(args_error(e)))?;
        let max = ctx.height.saturating_add(MAX_VOTING_BLOCKS);
        if expires_height <= ctx.height || expires_height > max {
            return Err(GovernanceError::BadExpiry { got: expires_height, height: ctx.height, max }.into());
        }
        let signer = tx.body.signer.as_bytes();
        let mut w = Writes { ctx };
        let proposer = w.with_reads(|r| r.member(signer))?.ok_or_else(|| corrupt("key", "the signer has no record"))?;
        match &action {
            Action::RotateKey { old, .. } if old.as_bytes() != signer => return Err(GovernanceError::RotateByOldKey(old.to_hex()).into()),
            Action::RotateKey { .. } => {}
            _ if !proposer.holds(ADMIN_ROLE) => return Err(ExecFailure::Refused(TxError::Forbidden { role: ADMIN_ROLE.into() })),
            _ => {}
        }
        w.with_reads(|r| self.check_applicable(r, &action))?;
        let organisations = w.with_reads(|r| r.active_orgs())?;
        let (electorate, threshold) = params.policy.electorate(&action.kind(), &organisations).map_err(|e| ExecFailure::from(policy_error(0, e)))?;
        let mut open = w.with_reads(|r| r.open())?;
        if open.len() >= state::MAX_OPEN {
            return Err(GovernanceError::TooManyOpen(open.len()).into());
        }
        let id = w.with_reads(|r| r.next())?;
        let height = w.ctx.height;
        let mut tally = Tally::new(electorate, threshold, expires_height).map_err(|e| ExecFailure::from(policy_error(id, e)))?;
        // Proposing is approving, when the proposer's organisation votes on it (a rotation by
        // a key without the admin role still waits for an admin's vote).
        if tally.electorate().contains(&proposer.organisation) && proposer.holds(ADMIN_ROLE) {
            tally.vote(&proposer.organisation, Vote::Approve, height).map_err(|e| ExecFailure::from(policy_error(id, e)))?;
        }
        let proposal = Proposal {
            action: action.clone(),
            proposer: tx.body.signer.clone(),
            organisation: proposer.organisation.clone(),
            made_at: height,
            tx: tx.id,
            tally,
            outcome: Outcome::Pending,
        };
        w.put_proposal(id, &proposal);
        w.ctx.state_put(state::KEY_NEXT, (id + 1).to_be_bytes().to_vec());
        open.push(id);
        w.ctx.state_put(state::KEY_OPEN, state::encode_u64s(&open));
        let mut payload = Writer::new();
        payload.u64(id).bytes(&action.encode()).u64(expires_height).str(&proposer.organisation);
        out.leaves.push(w.ctx.leaf(LEAF_PROPOSED, &payload.into_bytes()));
        out.index.push(IndexEntry { index: INDEX_BY_TX, key: tx.id.to_vec(), value: id.to_be_bytes().to_vec() });
        Ok(())
    }

    fn vote(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        self.enabled().map_err(ExecFailure::Refused)?;
        let (id, vote) = decode_vote(&tx.body.call.args).map_err(|e| ExecFailure::Refused(args_error(e)))?;
        let mut w = Writes { ctx };
        let mut p = w.with_reads(|r| r.proposal(id))?.ok_or(GovernanceError::UnknownProposal(id))?;
        let organisation = w.ctx.organisation.to_string();
        let status = p.tally.vote(&organisation, vote, w.ctx.height).map_err(|e| ExecFailure::from(policy_error(id, e)))?;
        w.put_proposal(id, &p);
        let mut payload = Writer::new();
        payload.u64(id).str(&organisation).u8(if vote == Vote::Approve { 1 } else { 2 }).u8(status_code(status));
        out.leaves.push(w.ctx.leaf(LEAF_VOTED, &payload.into_bytes()));
        Ok(())
    }

    fn freeze(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        self.enabled().map_err(ExecFailure::Refused)?;
        let key = decode_freeze(&tx.body.call.args, self.suite).map_err(|e| ExecFailure::Refused(args_error(e)))?;
        let mut w = Writes { ctx };
        let organisation = w.ctx.organisation.to_string();
        let mut m = match w.with_reads(|r| r.member(key.as_bytes()))? {
            Some(m) if m.organisation == organisation && m.status != MemberStatus::Removed => m,
            _ => return Err(GovernanceError::NotAKeyOf { key: key.to_hex(), organisation }.into()),
        };
        if m.status != MemberStatus::Active {
            return Err(GovernanceError::NotActive(key.to_hex()).into());
        }
        let org = w.with_reads(|r| r.org(&organisation))?.ok_or_else(|| corrupt("org", "a member's organisation has no record"))?;
        if m.holds(ADMIN_ROLE) && w.with_reads(|r| r.admins_but(&org, key.as_bytes()))? == 0 {
            return Err(GovernanceError::LastAdmin(organisation).into());
        }
        m.status = MemberStatus::Frozen;
        m.changed = w.ctx.height;
        w.put_member(key.as_bytes(), &m);
        let mut payload = Writer::new();
        payload.bytes(key.as_bytes()).str(&organisation);
        out.leaves.push(w.ctx.leaf(LEAF_FROZEN, &payload.into_bytes()));
        Ok(())
    }

    /// Block 1 writes genesis's membership into state, before its transactions.
    fn seed(&self, ctx: &mut ExecContext<'_, '_>, genesis_orgs: &GenesisOrgs) {
        for (key, value) in genesis_state(genesis_orgs) {
            ctx.state_put(&key, value);
        }
    }

    fn settle(&self, ctx: &mut ExecContext<'_, '_>) -> Result<(), StateError> {
        let mut w = Writes { ctx };
        let open = w.with_reads(|r| r.open())?;
        if open.is_empty() {
            return Ok(());
        }
        let height = w.ctx.height;
        let mut still_open = Vec::with_capacity(open.len());
        // In proposal order: of two conflicting decisions passed in one block, the older
        // proposal applies and the other fails with the reason.
        for id in open {
            let mut p = w.with_reads(|r| r.proposal(id))?.ok_or_else(|| corrupt("open", "names a missing proposal"))?;
            match p.tally.status() {
                Status::Passed { .. } => {
                    p.outcome = match self.apply(&mut w, &p.action) {
                        Ok(()) => Outcome::Applied { at: height },
                        Err(ExecFailure::Storage(e)) => return Err(e),
                        Err(ExecFailure::Refused(e)) => {
                            // Stamped as the API stamps it: the reason names `governance.<code>`.
                            let e = match e {
                                TxError::Module(m) => TxError::Module(m.stamp(MODULE)),
                                e => e,
                            };
                            Outcome::Failed { at: height, reason: state::reason(format!("{}: {e}", e.code())) }
                        }
                    };
                    w.put_proposal(id, &p);
                }
                Status::Open if p.tally.expire(height) => w.put_proposal(id, &p),
                Status::Open => still_open.push(id),
                Status::Rejected { .. } | Status::Expired { .. } => {}
            }
        }
        w.ctx.state_put(state::KEY_OPEN, state::encode_u64s(&still_open));
        Ok(())
    }
}

fn status_code(s: Status) -> u8 {
    match s {
        Status::Open => 0,
        Status::Passed { .. } => 1,
        Status::Rejected { .. } => 2,
        Status::Expired { .. } => 3,
    }
}

/// The state block 1 seeds from genesis's organisations: (key, value), in key order.
pub fn genesis_state(genesis_orgs: &GenesisOrgs) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    let mut out = std::collections::BTreeMap::new();
    let mut ids: Vec<String> = genesis_orgs.iter().map(|(id, _, _)| id.clone()).collect();
    ids.sort();
    out.insert(state::KEY_ORGS.to_vec(), state::encode_ids(&ids));
    for (id, name, members) in genesis_orgs {
        let mut keys: Vec<Vec<u8>> = members.iter().map(|(k, _)| k.clone()).collect();
        keys.sort();
        out.insert(state::org_key(id), OrgRecord { name: name.clone(), removed_at: None, keys }.encode());
        for (k, roles) in members {
            let mut roles = roles.clone();
            if let Some(r) = roles.as_mut() {
                r.sort();
                r.dedup();
            }
            let m = MemberRecord { organisation: id.clone(), roles, status: MemberStatus::Active, since: 0, changed: 0 };
            out.insert(state::member_key(k), m.encode());
        }
    }
    out
}

/// The membership a chain starts with, as block 1 will seed it (what the routes answer
/// before the first block).
pub fn genesis_state_of(genesis: &Genesis) -> std::collections::BTreeMap<Vec<u8>, Vec<u8>> {
    genesis_state(&genesis_orgs(genesis.suite, &genesis.organisations))
}

/// Genesis's organisations as block 1 seeds them: (id, name, [(key, roles)]).
pub type GenesisOrgs = Vec<(String, String, Vec<(Vec<u8>, Option<Vec<String>>)>)>;

fn genesis_orgs(genesis_suite: Suite, genesis: &[cairn_types::genesis::Organisation]) -> GenesisOrgs {
    genesis
        .iter()
        .map(|o| {
            let members = o
                .members
                .iter()
                .map(|m| (PublicKey::from_hex(genesis_suite, m).expect("validated genesis").as_bytes().to_vec(), o.roles.get(m).cloned()))
                .collect();
            (o.id.clone(), o.name.clone(), members)
        })
        .collect()
}

impl Module for GovernanceModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[INDEX_BY_TX]
    }

    fn required_role(&self, method: &str) -> Option<&'static str> {
        // `propose` checks its own (a rotation is proposed by the key it retires).
        matches!(method, METHOD_VOTE | METHOD_FREEZE).then_some(ADMIN_ROLE)
    }

    fn keeps_membership(&self) -> bool {
        self.params.is_some()
    }

    fn member(&self, state: &dyn StateRead, key: &PublicKey) -> Result<Option<MemberView>, StateError> {
        let Some(m) = (Reads { suite: self.suite, state }).member(key.as_bytes())? else { return Ok(None) };
        Ok(Some(m.view(key.clone())))
    }

    fn members(&self, state: &dyn StateRead) -> Result<Option<Vec<MemberView>>, StateError> {
        let r = Reads { suite: self.suite, state };
        let Some(orgs) = r.orgs()? else { return Ok(None) };
        let mut out = Vec::new();
        for id in orgs {
            let Some(org) = r.org(&id)? else { return Err(corrupt("orgs", "names a missing organisation")) };
            for k in &org.keys {
                let m = r.member(k)?.ok_or_else(|| corrupt("org", "lists a key without a record"))?;
                let key = PublicKey::from_bytes(self.suite, k).map_err(|e| corrupt("key", e))?;
                out.push(m.view(key));
            }
        }
        Ok(Some(out))
    }

    fn parameters(&self, state: &dyn StateRead) -> Result<std::collections::BTreeMap<String, u64>, StateError> {
        let mut out = std::collections::BTreeMap::new();
        for (name, _) in PARAMETERS {
            if let Some(v) = state.get(&state::param_key(name))? {
                out.insert(name.to_string(), state::decode_u64(&v, "parameter").map_err(|e| corrupt("param", e))?);
            }
        }
        Ok(out)
    }

    fn begin_block(&self, ctx: &mut ExecContext<'_, '_>) -> Result<(), StateError> {
        // Block 1 holds genesis's membership before its first transaction, so every member
        // has a state proof from the first block on (docs/governance.md).
        if self.params.is_some() && ctx.height == 1 && ctx.state_get(state::KEY_ORGS)?.is_none() {
            self.seed(ctx, &self.genesis_orgs);
        }
        Ok(())
    }

    fn end_block(&self, ctx: &mut ExecContext<'_, '_>) -> Result<(), StateError> {
        if self.params.is_none() {
            return Ok(());
        }
        self.settle(ctx)
    }

    fn publishes_events(&self) -> bool {
        self.params.is_some()
    }

    fn events(&self, height: u64, writes: &[(&[u8], Option<&[u8]>)]) -> Vec<serde_json::Value> {
        json::events(self.suite, height, writes)
    }

    fn check(&self, call: &Call, _genesis: &Genesis) -> Result<(), TxError> {
        self.enabled()?;
        match call.method.as_str() {
            METHOD_PROPOSE => decode_propose(&call.args, self.suite).map(|_| ()),
            METHOD_VOTE => decode_vote(&call.args).map(|_| ()),
            METHOD_FREEZE => decode_freeze(&call.args, self.suite).map(|_| ()),
            _ => return Err(TxError::UnknownMethod { module: MODULE.into(), method: call.method.clone() }),
        }
        .map_err(args_error)
    }

    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        match tx.body.call.method.as_str() {
            METHOD_PROPOSE => self.propose(ctx, tx, out),
            METHOD_VOTE => self.vote(ctx, tx, out),
            METHOD_FREEZE => self.freeze(ctx, tx, out),
            m => Err(ExecFailure::Refused(TxError::UnknownMethod { module: MODULE.into(), method: m.into() })),
        }
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        json::args_from_json(self.suite, method, args)
    }

    fn state_view(&self, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        Some(json::state_view(self.suite, key, value))
    }

    fn routes(&self) -> axum::Router<cairn_module::Query> {
        routes::router()
    }

    fn openapi(&self) -> serde_json::Value {
        serde_json::from_str(include_str!("../openapi.json")).expect("the governance OpenAPI fragment is JSON")
    }

    fn console(&self) -> &'static [cairn_module::ConsoleFile] {
        &[cairn_module::ConsoleFile { name: "page.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../console/page.js") }]
    }
}

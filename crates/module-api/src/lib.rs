//! What a module sees of Cairn: the [`Module`] trait, the contexts it is called with and the
//! errors it answers with. A module crate (`crates/modules/<name>`) depends on this crate and on
//! the wire types it needs, never on the node.
//!
//! The framework stamps the module's name on everything a module names, so namespacing is
//! enforced, not a convention:
//! * state keys: [`ExecContext::state_get`] / [`ExecContext::state_put`] take the module's own
//!   key; the framework stores it under `str module | bytes key` (`cairn_state::state_key`);
//! * error codes: a [`ModuleError`] gets the code `<module>.<code>` when the framework wraps it;
//! * index names: [`IndexEntry::index`] must be one of [`Module::indexes`], each named
//!   `<module>.<index>` (checked when the module is registered).
//!
//! Execution must be deterministic: no clocks (block time is [`ExecContext::time_ms`]), no
//! randomness, no hash-map iteration; the deterministic simulation replays every block.

#![forbid(unsafe_code)]

pub mod cli;
pub mod host;

pub use cairn_access::{ADMIN_ROLE, Caller, Policy};
pub use cli::{CliEnv, CliError, ModuleCli};
pub use host::{Agent, ConsoleFile, Host, HostError, LeafProof, Query, Refusal, TxLeaves, TxState, problem, problem_body};

use cairn_crypto::{PublicKey, Suite};
use cairn_state::{BlockState, StateError, StateStore, state_key};
use cairn_types::codec::DecodeError;
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction};

/// A module's own refusal: a stable code (unique within the module), the HTTP status the API
/// answers with, and a message for the submitter (no internal details).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ModuleError {
    pub code: &'static str,
    pub http_status: u16,
    pub message: String,
    /// `<module>.<code>`, set by the framework.
    pub stamped: String,
}

impl ModuleError {
    pub fn new(code: &'static str, http_status: u16, message: impl Into<String>) -> Self {
        debug_assert!((400..500).contains(&http_status), "a module refuses with a 4xx status");
        ModuleError { code, http_status, message: message.into(), stamped: code.to_string() }
    }

    /// The stable code API errors carry: `<module>.<code>` once the framework stamped it.
    pub fn code(&self) -> &str {
        &self.stamped
    }

    /// The framework's stamp: the module's name before the code.
    pub fn stamp(mut self, module: &str) -> Self {
        self.stamped = format!("{module}.{}", self.code);
        self
    }
}

/// A module's error enum turns into a [`ModuleError`] through this (code, status, message).
pub trait ModuleRefusal: std::fmt::Display {
    fn code(&self) -> &'static str;
    fn http_status(&self) -> u16;
}

impl<E: ModuleRefusal> From<E> for TxError {
    fn from(e: E) -> Self {
        TxError::Module(ModuleError::new(e.code(), e.http_status(), e.to_string()))
    }
}

/// Why a transaction was refused. `code()` is stable and appears in API errors.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TxError {
    #[error("transaction is {len} bytes, the limit is {max}")]
    Oversized { len: usize, max: usize },
    #[error("malformed transaction: {0}")]
    Malformed(#[from] DecodeError),
    #[error("transaction is for chain {got:?}, this is {want:?}")]
    WrongChain { got: String, want: String },
    #[error("transaction uses suite {got}, this chain uses {want}")]
    WrongSuite { got: Suite, want: Suite },
    #[error("signer {0} is not a member of any organisation")]
    UnknownSigner(String),
    #[error("signer {0} is frozen by its organisation")]
    FrozenSigner(String),
    #[error("signature does not verify")]
    BadSignature,
    #[error("transaction expired at {expires_at_ms} ms (now {now_ms} ms)")]
    Expired { expires_at_ms: u64, now_ms: u64 },
    #[error("expiry {expires_at_ms} ms is more than {max_ttl_ms} ms ahead")]
    ExpiryTooFar { expires_at_ms: u64, max_ttl_ms: u64 },
    #[error("transaction {0} was already submitted")]
    Replay(String),
    #[error("unknown module {0:?}")]
    UnknownModule(String),
    #[error("module {module} has no method {method:?}")]
    UnknownMethod { module: String, method: String },
    #[error("invalid arguments: {0}")]
    InvalidArgs(String),
    #[error("the signer lacks role {role}, which this method needs")]
    Forbidden { role: String },
    /// A module's own refusal, its code stamped with the module's name by the framework.
    #[error("{0}")]
    Module(ModuleError),
}

impl TxError {
    /// The stable code API errors carry: the core's, or `<module>.<code>` for a module's.
    pub fn code(&self) -> &str {
        match self {
            TxError::Oversized { .. } => "oversized",
            TxError::Malformed(_) => "malformed",
            TxError::WrongChain { .. } => "wrong-chain",
            TxError::WrongSuite { .. } => "wrong-suite",
            TxError::UnknownSigner(_) => "unknown-signer",
            TxError::FrozenSigner(_) => "frozen-signer",
            TxError::BadSignature => "bad-signature",
            TxError::Expired { .. } => "expired",
            TxError::ExpiryTooFar { .. } => "expiry-too-far",
            TxError::Replay(_) => "replay",
            TxError::UnknownModule(_) => "unknown-module",
            TxError::UnknownMethod { .. } => "unknown-method",
            TxError::InvalidArgs(_) => "invalid-args",
            TxError::Forbidden { .. } => "forbidden",
            TxError::Module(e) => &e.stamped,
        }
    }
}

/// Why executing a transaction did not produce effects: the transaction was refused (a
/// deterministic verdict, the same on every validator), or the node could not read its state
/// (a local failure: the block is not executed at all).
#[derive(Debug, thiserror::Error)]
pub enum ExecFailure {
    #[error(transparent)]
    Refused(#[from] TxError),
    #[error(transparent)]
    Storage(#[from] StateError),
}

/// Where and when a transaction executes, on whose behalf, and the module's view of the state.
pub struct ExecContext<'a, 'b> {
    pub suite: Suite,
    pub height: u64,
    pub time_ms: u64,
    pub organisation: &'a str,
    /// Log index the transaction's first leaf will get.
    pub first_leaf: u64,
    /// The module executing: every state key it names is stamped with it.
    module: &'static str,
    state: &'a mut BlockState<'b>,
}

impl<'a, 'b> ExecContext<'a, 'b> {
    /// Made by the executor for one call of `module` (its name stamps every state key).
    pub fn new(suite: Suite, height: u64, time_ms: u64, organisation: &'a str, first_leaf: u64, module: &'static str, state: &'a mut BlockState<'b>) -> Self {
        ExecContext { suite, height, time_ms, organisation, first_leaf, module, state }
    }

    /// The value of one of this module's state keys, as of this point in the block.
    pub fn state_get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.state.get(&state_key(self.module, key))
    }

    pub fn state_put(&mut self, key: &[u8], value: Vec<u8>) {
        self.state.put(state_key(self.module, key), value);
    }

    pub fn state_delete(&mut self, key: &[u8]) {
        self.state.delete(state_key(self.module, key));
    }

    /// A chain parameter the members set by vote, in force for this block (`None`: genesis's
    /// value stands). Names are `<module>.<name>` for a module's own limits
    /// (`evidence.max_records_per_tx`) and bare for the core's (`max_tx_bytes`).
    pub fn param(&self, name: &str) -> Option<u64> {
        self.state.param(name)
    }

    /// A leaf of this module: the version 2 envelope `0x02 | str module | u8 kind | payload`,
    /// stamped with the module's name (the executor refuses envelopes naming another module).
    pub fn leaf(&self, kind: u8, payload: &[u8]) -> Vec<u8> {
        cairn_types::log::encode_module_leaf(self.module, kind, payload)
    }
}

/// Read access to one module's state keys (stamped with its name), at a block or at a durable
/// height: what membership lookups read through.
pub trait StateRead {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError>;
}

/// A module's keys in a block's state, as of this point in the block.
pub struct BlockRead<'s, 'b> {
    pub module: &'static str,
    pub state: &'s BlockState<'b>,
}

impl StateRead for BlockRead<'_, '_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.state.get(&state_key(self.module, key))
    }
}

/// A module's keys in durable state after block `height`.
pub struct StoreRead<'s> {
    pub module: &'static str,
    pub store: &'s dyn StateStore,
    pub height: u64,
}

impl StateRead for StoreRead<'_> {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StateError> {
        self.store.value_at(&state_key(self.module, key), self.height)
    }
}

/// Whether a member key may sign now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MemberStatus {
    Active,
    /// Frozen by its organisation's admin: refused (`frozen-signer`) until removed or rotated.
    Frozen,
    /// Removed (with its organisation, on its own, or rotated away): refused as `unknown-signer`.
    Removed,
}

/// One member key as the platform checks signers against it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberView {
    pub key: PublicKey,
    pub organisation: String,
    /// `None`: no roles listed (a genesis member of a chain made before roles: every right).
    pub roles: Option<Vec<String>>,
    pub status: MemberStatus,
}

impl MemberView {
    /// Whether the key holds `role` (or has every right).
    pub fn holds(&self, role: &str) -> bool {
        self.roles.as_ref().is_none_or(|r| r.iter().any(|x| x == role))
    }
}

/// One entry of a module's secondary index (each index is its own keyspace in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub index: &'static str,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
}

/// A module's standard binding: its root (`/epcis`) and its routes, relative to the root.
pub struct Binding {
    pub root: &'static str,
    pub router: axum::Router<Query>,
}

/// What executing one transaction produced.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct TxEffects {
    pub leaves: Vec<Vec<u8>>,
    pub index: Vec<IndexEntry>,
}

/// A module: a namespace of methods with their own argument encoding and effects.
pub trait Module: Send + Sync {
    fn name(&self) -> &'static str;
    /// Names of the secondary indexes the module writes (`<module>.<index>`).
    fn indexes(&self) -> &'static [&'static str];
    /// The role a method needs (`<module>.<role>`), if any. The framework checks it at
    /// admission and again at execution, and refuses with `403 forbidden` naming the role.
    fn required_role(&self, _method: &str) -> Option<&'static str> {
        None
    }
    /// Whether this module keeps the chain's membership in its state on this chain (governance,
    /// when genesis enables it). Then the executor asks it, through [`Module::member`], who a
    /// signer is at execution (authoritative), and admission checks against the snapshot
    /// [`Module::members`] gives after each block that changed the module's state. At most
    /// one module keeps membership; otherwise membership is genesis's, fixed.
    fn keeps_membership(&self) -> bool {
        false
    }
    /// The member holding `key`, read from the module's state (on every transaction's
    /// execution: the key comes parsed, so the view costs no key decoding).
    fn member(&self, _state: &dyn StateRead, _key: &PublicKey) -> Result<Option<MemberView>, StateError> {
        Ok(None)
    }
    /// Every member key (any status), read from the module's state; `None` while the state
    /// holds no membership yet (before the first block: genesis's is the same).
    fn members(&self, _state: &dyn StateRead) -> Result<Option<Vec<MemberView>>, StateError> {
        Ok(None)
    }
    /// The chain parameters set by vote, read from the membership keeper's state before each
    /// block's first transaction ([`ExecContext::param`] answers from them all block long).
    fn parameters(&self, _state: &dyn StateRead) -> Result<std::collections::BTreeMap<String, u64>, StateError> {
        Ok(std::collections::BTreeMap::new())
    }
    /// State writes before a block's first transaction (governance seeds genesis membership
    /// in block 1). Deterministic, like `execute`; no leaves.
    fn begin_block(&self, _ctx: &mut ExecContext<'_, '_>) -> Result<(), StateError> {
        Ok(())
    }
    /// State writes after a block's last transaction (governance applies the proposals the
    /// block passed and expires those whose height it reached). Deterministic; no leaves:
    /// the outcome is state, provable, and covered by the block's state root.
    fn end_block(&self, _ctx: &mut ExecContext<'_, '_>) -> Result<(), StateError> {
        Ok(())
    }
    /// Whether the module turns its state writes into live events ([`Module::events`]); the
    /// node looks through a block's writes for those that do only.
    fn publishes_events(&self) -> bool {
        false
    }
    /// What a durable block's writes to this module's state (its own keys, `None`: deleted)
    /// mean for listeners of `/v1/events`: each value is sent as an event named after the
    /// module. Governance: a proposal made, voted on, passed, applied, rejected or expired,
    /// a key frozen.
    fn events(&self, _height: u64, _writes: &[(&[u8], Option<&[u8]>)]) -> Vec<serde_json::Value> {
        Vec::new()
    }
    /// Stateless checks of a call's arguments (decoding, limits).
    fn check(&self, call: &Call, genesis: &Genesis) -> Result<(), TxError>;
    /// What the node takes from now on, beyond what a block may hold: checked when a new
    /// transaction is submitted or gossiped, never when a block is verified or replayed (so
    /// tightening it needs no coordinated upgrade and old chains still replay). Evidence
    /// refuses control characters in text fields here.
    fn admission_policy(&self, _call: &Call) -> Result<(), TxError> {
        Ok(())
    }
    /// Effects of an admitted call. Must be deterministic: it may read and write the module's
    /// state through `ctx`; if it fails, its state writes are dropped.
    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure>;
    /// Canonical argument bytes from the JSON form of a call.
    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError>;

    /// Fields the submit answer adds for an admitted call, known before it commits (evidence:
    /// `record_ids`). Must be cheap: it runs for every admitted transaction.
    fn admitted_fields(&self, _tx: &Transaction) -> serde_json::Map<String, serde_json::Value> {
        serde_json::Map::new()
    }

    /// The readable form of one of its state values, put in state receipts beside the bytes
    /// (`value: None`: the key is absent). `Some(Err)`: not a key this module can hold (the
    /// request is refused rather than answered with an absence proof). `None`: no view. An
    /// offline verifier that knows the module checks the view against the proven bytes.
    fn state_view(&self, _key: &[u8], _value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        None
    }

    /// The module's queries: an HTTP router the framework mounts at `/v1/<module>` (paths here
    /// are relative to it; `/` is `/v1/<module>` itself). Handlers read through [`Query`].
    fn routes(&self) -> axum::Router<Query> {
        axum::Router::new()
    }

    /// A standard's own HTTP binding, served at a root of its own beside `/v1` (GS1 EPCIS 2.0
    /// at `/epcis`), for clients that speak the standard and know nothing of Cairn. The root is
    /// one path segment, claimed by one module, never `v1`, `console` or a core route (checked
    /// when the node starts). Every route of a binding is `Members` in `members` mode; its
    /// OpenAPI paths (in [`Module::openapi`]) lie under the root.
    fn binding(&self) -> Option<Binding> {
        None
    }

    /// Who may call one of its routes when the node serves members only (`method` upper case,
    /// `path` relative to `/v1/<module>` as in [`Module::routes`]). `Members` unless the module
    /// says otherwise; a `Parties` route's handler reads the request's [`Caller`] (an
    /// `Option<axum::Extension<Caller>>`: absent in `open` mode) and answers only what
    /// concerns the caller's organisation.
    fn read_policy(&self, _method: &str, _path: &str) -> Policy {
        Policy::Members
    }

    /// The module's OpenAPI 3.1 fragment, `{"paths": {..}, "components": {"schemas": {..}}}`,
    /// merged into `/v1/openapi.json`. Paths are absolute and must lie under `/v1/<module>`;
    /// schema names must not collide with the core's or another module's (both checked when
    /// the node starts). `Null`: no routes documented.
    fn openapi(&self) -> serde_json::Value {
        serde_json::Value::Null
    }

    /// The module's console page: `page.js` (an ES module, see the console's `kit.js` for its
    /// shape) and any files it imports, served at `/console/modules/<module>/<name>`.
    fn console(&self) -> &'static [ConsoleFile] {
        &[]
    }
}

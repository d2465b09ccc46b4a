//! Transaction admission and execution.
//!
//! [`Executor::admit`] applies every check that needs no ledger state (size, encoding, chain,
//! membership, expiry, module arguments, signature), so it can run in parallel before a block
//! is built. [`Executor::execute`] turns an admitted transaction into log leaves and index
//! entries at a given height and time; it is deterministic (no clocks, no randomness, no hash
//! map iteration), so every validator that runs it gets the same bytes.
//!
//! Modules plug in through [`Module`] (crate `cairn-module`); the binary registers them
//! (`crates/modules/*`). The executor stamps each module's name on its state keys and error
//! codes and checks the index names it writes.

pub mod conformance;
pub mod testing;

use std::collections::BTreeMap;
use std::sync::{Arc, RwLock};

use cairn_crypto::Suite;
pub use cairn_module::{
    BlockRead, ExecContext, ExecFailure, IndexEntry, MemberStatus, MemberView, Module, ModuleError, ModuleRefusal, StoreRead, TxEffects, TxError,
};
use cairn_state::{BlockState, StateError, StateStore};
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction, TxBody};

/// The core's limit a vote may lower: the encoded transaction's size (genesis's
/// `max_tx_bytes` stays the ceiling).
pub const PARAM_MAX_TX_BYTES: &str = "max_tx_bytes";

/// Member keys (raw bytes) → who they are: the membership admission checks against.
pub type Members = BTreeMap<Vec<u8>, MemberView>;

pub struct Executor {
    genesis: Genesis,
    /// The membership of the latest durable block (genesis's until a block changes it):
    /// admission's view. Execution reads the block's own state instead when a module keeps
    /// membership ([`Module::keeps_membership`]); otherwise genesis's membership never changes.
    members: RwLock<Arc<Members>>,
    /// The module that keeps membership on this chain, if any.
    keeper: Option<&'static str>,
    modules: BTreeMap<&'static str, Box<dyn Module>>,
}

/// Genesis's membership: every member key with its organisation and listed roles.
pub fn genesis_members(genesis: &Genesis) -> Members {
    let mut members = BTreeMap::new();
    for org in &genesis.organisations {
        for m in &org.members {
            let key = cairn_crypto::PublicKey::from_hex(genesis.suite, m).expect("validated genesis");
            let view = MemberView { key: key.clone(), organisation: org.id.clone(), roles: org.roles.get(m).cloned(), status: MemberStatus::Active };
            members.insert(key.as_bytes().to_vec(), view);
        }
    }
    members
}

/// Why a member may not sign, if it may not.
fn signer_refusal(member: Option<&MemberView>, signer: &cairn_crypto::PublicKey) -> Option<TxError> {
    match member.map(|m| m.status) {
        Some(MemberStatus::Active) => None,
        Some(MemberStatus::Frozen) => Some(TxError::FrozenSigner(signer.to_hex())),
        Some(MemberStatus::Removed) | None => Some(TxError::UnknownSigner(signer.to_hex())),
    }
}

/// Makes a module for a chain (its parameters come from genesis). The binary lists the
/// factories of every module it ships; the executor registers one module from each.
/// Makes a module for a chain, reading its parameters (`genesis.params.modules.<name>`); an
/// `Err` says what is wrong with them.
pub type ModuleFactory = fn(&Genesis) -> Result<Box<dyn Module>, String>;

/// A module's refusal carries its name: `<module>.<code>`.
fn stamp(module: &str, e: TxError) -> TxError {
    match e {
        TxError::Module(m) => TxError::Module(m.stamp(module)),
        e => e,
    }
}

impl Executor {
    /// An executor with one module from each factory.
    /// An executor for a genesis whose module parameters are known to be valid (tests, and
    /// chains already opened once); [`Executor::try_new`] says what is wrong otherwise.
    pub fn new(genesis: Genesis, modules: &[ModuleFactory]) -> Self {
        Self::try_new(genesis, modules).unwrap_or_else(|e| panic!("{e}"))
    }

    /// Registers the modules, each made with its genesis parameters. Refuses parameters a
    /// module rejects, and parameters for a module this executor does not run.
    pub fn try_new(genesis: Genesis, modules: &[ModuleFactory]) -> Result<Self, String> {
        let members = RwLock::new(Arc::new(genesis_members(&genesis)));
        let mut ex = Executor { genesis, members, keeper: None, modules: BTreeMap::new() };
        for make in modules {
            let module = make(&ex.genesis)?;
            ex.register(module);
        }
        let keepers: Vec<&'static str> = ex.modules.values().filter(|m| m.keeps_membership()).map(|m| m.name()).collect();
        if keepers.len() > 1 {
            return Err(format!("modules {keepers:?} each keep membership; at most one may"));
        }
        ex.keeper = keepers.first().copied();
        if let Some(name) = ex.genesis.params.modules.keys().find(|m| !ex.modules.contains_key(m.as_str())) {
            return Err(format!("genesis params.modules names {name:?}, a module this node does not run"));
        }
        Ok(ex)
    }

    /// Adds a module. Its name must be a valid state namespace and every index it declares
    /// must be named `<module>.<index>`.
    pub fn register(&mut self, m: Box<dyn Module>) {
        let name = m.name();
        assert!(!name.is_empty() && name.len() <= cairn_state::MAX_MODULE_NAME && name != cairn_types::log::CORE_MODULE, "module name {name:?}");
        for index in m.indexes() {
            assert!(
                index.strip_prefix(name).is_some_and(|rest| rest.starts_with('.') && rest.len() > 1),
                "index {index:?} of module {name} is not {name}.<index>"
            );
        }
        let prev = self.modules.insert(name, m);
        assert!(prev.is_none(), "module {name} registered twice");
    }

    /// Names of the registered modules, in order.
    pub fn module_names(&self) -> Vec<&'static str> {
        self.modules.keys().copied().collect()
    }

    /// The registered modules, ordered by name.
    pub fn modules(&self) -> impl Iterator<Item = &dyn Module> {
        self.modules.values().map(|m| m.as_ref())
    }

    /// Every index any registered module writes, so the store can open them up front.
    pub fn index_names(&self) -> Vec<&'static str> {
        self.modules.values().flat_map(|m| m.indexes().iter().copied()).collect()
    }

    pub fn genesis(&self) -> &Genesis {
        &self.genesis
    }

    pub fn suite(&self) -> Suite {
        self.genesis.suite
    }

    /// The permissions hook: a member whose roles are listed may call a method only with the
    /// role the module names for it.
    fn authorize(module: &dyn Module, method: &str, member: &MemberView) -> Result<(), TxError> {
        match module.required_role(method) {
            Some(role) if !member.holds(role) => Err(TxError::Forbidden { role: role.into() }),
            _ => Ok(()),
        }
    }

    /// The membership admission checks against (the latest durable block's).
    pub fn members(&self) -> Arc<Members> {
        self.members.read().expect("membership lock").clone()
    }

    /// The module that keeps membership in its state on this chain, if any: a block that
    /// writes its state may change who may sign, so the node calls
    /// [`Executor::refresh_members`] after it is durable.
    pub fn membership_keeper(&self) -> Option<&'static str> {
        self.keeper
    }

    /// Reloads admission's membership from durable state after block `height`. Returns
    /// whether the state held a membership (before block 1 it holds none: genesis's stands).
    pub fn refresh_members(&self, store: &dyn StateStore, height: u64) -> Result<bool, StateError> {
        let Some(keeper) = self.keeper.and_then(|k| self.modules.get(k)) else { return Ok(false) };
        let Some(list) = keeper.members(&StoreRead { module: keeper.name(), store, height })? else { return Ok(false) };
        let members: Members = list.into_iter().map(|m| (m.key.as_bytes().to_vec(), m)).collect();
        *self.members.write().expect("membership lock") = Arc::new(members);
        Ok(true)
    }

    fn module(&self, call: &Call) -> Result<&dyn Module, TxError> {
        self.modules.get(call.module.as_str()).map(|m| m.as_ref()).ok_or_else(|| TxError::UnknownModule(call.module.clone()))
    }

    /// Decodes a transaction from a member, without checking its body or signature (for a
    /// block whose transactions were admitted before: see the mempool's signature cache).
    pub fn decode_member(&self, bytes: &[u8]) -> Result<Transaction, TxError> {
        let suite = self.genesis.suite;
        let members = self.members();
        // Known keys come parsed; any other is parsed from its bytes (and refused by the checks).
        Ok(Transaction::decode_with_keys(bytes, &|s, k| if s == suite { members.get(k).map(|m| m.key.clone()) } else { None })?)
    }

    /// Every check that needs no ledger state; the signature last, as it costs the most.
    pub fn admit(&self, bytes: &[u8], now_ms: u64) -> Result<Transaction, TxError> {
        self.admit_many(&[bytes], Some(now_ms)).pop().expect("one verdict per input")
    }

    /// The admission checks of transactions already decoded (with [`Executor::decode_member`]),
    /// each with its encoded length: the cheap checks one by one, then the signatures of those
    /// that pass as one batch. `now_ms: None` (a transaction inside a proposed or final block)
    /// skips the expiry window, which depends on a clock: `execute` decides expiry against the
    /// block's time, so every validator reaches the same verdict whether or not it admitted the
    /// transaction before.
    pub fn check_decoded_many(&self, txs: &[(&Transaction, usize)], now_ms: Option<u64>) -> Vec<Result<(), TxError>> {
        self.check_decoded_many_known(txs, now_ms, &|_| false)
    }

    /// [`Executor::check_decoded_many`], skipping the signature check of transactions for which
    /// `verified` says this exact transaction's signature verified before (a cache; it cannot
    /// change a verdict, only save the work).
    pub fn check_decoded_many_known(
        &self,
        txs: &[(&Transaction, usize)],
        now_ms: Option<u64>,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Vec<Result<(), TxError>> {
        self.check_decoded(txs, now_ms, true, verified)
    }

    fn check_decoded(
        &self,
        txs: &[(&Transaction, usize)],
        now_ms: Option<u64>,
        policy: bool,
        verified: &dyn Fn(&Transaction) -> bool,
    ) -> Vec<Result<(), TxError>> {
        let members = self.members();
        let mut verdicts: Vec<Result<(), TxError>> =
            txs.iter().map(|(tx, len)| self.check_size(*len).and_then(|()| self.check_body(&tx.body, now_ms, policy, &members))).collect();
        let to_verify: Vec<usize> = (0..txs.len()).filter(|i| verdicts[*i].is_ok() && !verified(txs[*i].0)).collect();
        let items: Vec<cairn_crypto::SignedMessage<'_>> = to_verify.iter().map(|i| txs[*i].0.signed_message()).collect();
        for (i, ok) in to_verify.into_iter().zip(cairn_crypto::verify_batch(&items)) {
            if !ok {
                verdicts[i] = Err(TxError::BadSignature);
            }
        }
        verdicts
    }

    /// [`Executor::admit`] for many transactions (`now_ms: None` in a block, see
    /// [`Executor::check_decoded_many`]), signatures checked as a batch. One verdict per input,
    /// in order.
    pub fn admit_many<B: AsRef<[u8]>>(&self, txs: &[B], now_ms: Option<u64>) -> Vec<Result<Transaction, TxError>> {
        self.admit_many_with(txs, now_ms, true)
    }

    /// [`Executor::admit_many`] of new submissions signed by this node's own agent key from
    /// arguments a module's route derived itself a moment before: every check but the modules'
    /// admission policies, which would only derive the same again (peers that receive them by
    /// gossip still run them).
    pub fn admit_many_own<B: AsRef<[u8]>>(&self, txs: &[B], now_ms: u64) -> Vec<Result<Transaction, TxError>> {
        self.admit_many_with(txs, Some(now_ms), false)
    }

    fn admit_many_with<B: AsRef<[u8]>>(&self, txs: &[B], now_ms: Option<u64>, policy: bool) -> Vec<Result<Transaction, TxError>> {
        // Size before decoding: an oversized input is refused without being parsed.
        let decoded: Vec<Result<Transaction, TxError>> =
            txs.iter().map(|b| self.check_size(b.as_ref().len()).and_then(|()| self.decode_member(b.as_ref()))).collect();
        let ok: Vec<(&Transaction, usize)> = decoded.iter().zip(txs).filter_map(|(d, b)| d.as_ref().ok().map(|t| (t, b.as_ref().len()))).collect();
        let mut checks = self.check_decoded(&ok, now_ms, policy, &|_| false).into_iter();
        decoded.into_iter().map(|d| d.and_then(|tx| checks.next().expect("one check per decoded transaction").map(|()| tx))).collect()
    }

    fn check_size(&self, len: usize) -> Result<(), TxError> {
        let max = self.genesis.params.max_tx_bytes as usize;
        if len > max {
            return Err(TxError::Oversized { len, max });
        }
        Ok(())
    }

    fn check_body(&self, body: &TxBody, now_ms: Option<u64>, policy: bool, members: &Members) -> Result<(), TxError> {
        let g = &self.genesis;
        if body.chain_id != g.chain_id {
            return Err(TxError::WrongChain { got: body.chain_id.clone(), want: g.chain_id.clone() });
        }
        if body.signer.suite() != g.suite {
            return Err(TxError::WrongSuite { got: body.signer.suite(), want: g.suite });
        }
        // A block's transaction on a chain whose membership is state: its block may be built on
        // blocks that changed membership since the snapshot, so execution alone decides.
        let member = if now_ms.is_some() || self.keeper.is_none() {
            let member = members.get(body.signer.as_bytes());
            if let Some(refusal) = signer_refusal(member, &body.signer) {
                return Err(refusal);
            }
            member
        } else {
            None
        };
        if let Some(now_ms) = now_ms {
            check_expiry(body.expires_at_ms, now_ms, g.params.max_tx_ttl_ms)?;
        }
        let module = self.module(&body.call)?;
        if let Some(member) = member {
            Self::authorize(module, &body.call.method, member)?;
        }
        module.check(&body.call, g).map_err(|e| stamp(module.name(), e))?;
        if now_ms.is_some() && policy {
            // A new submission (API or gossip), not a block's transaction.
            module.admission_policy(&body.call).map_err(|e| stamp(module.name(), e))?;
        }
        Ok(())
    }

    /// Executes an admitted transaction in a block at `height`, time `time_ms`, on `state`.
    /// The outer error is the node's (state storage), the inner one the transaction's verdict.
    pub fn execute(
        &self,
        tx: &Transaction,
        height: u64,
        time_ms: u64,
        first_leaf: u64,
        state: &mut BlockState<'_>,
    ) -> Result<Result<TxEffects, TxError>, StateError> {
        let mut out = TxEffects::default();
        let result = self.execute_in(tx, height, time_ms, first_leaf, state, &mut out);
        match result {
            Ok(()) => {
                state.commit_tx();
                Ok(Ok(out))
            }
            Err(ExecFailure::Refused(e)) => {
                state.abort_tx();
                Ok(Err(e))
            }
            Err(ExecFailure::Storage(e)) => {
                state.abort_tx();
                Err(e)
            }
        }
    }

    fn execute_in(
        &self,
        tx: &Transaction,
        height: u64,
        time_ms: u64,
        first_leaf: u64,
        state: &mut BlockState<'_>,
        out: &mut TxEffects,
    ) -> Result<(), ExecFailure> {
        // Expiry against the block's time, so every validator decides alike.
        if tx.body.expires_at_ms < time_ms {
            return Err(TxError::Expired { expires_at_ms: tx.body.expires_at_ms, now_ms: time_ms }.into());
        }
        // A limit the members lowered by vote (genesis's is the ceiling, checked at admission).
        if let Some(max) = state.param(PARAM_MAX_TX_BYTES) {
            let len = tx.body_bytes.len() + 4 + tx.signature.len();
            if len as u64 > max {
                return Err(TxError::Oversized { len, max: max as usize }.into());
            }
        }
        let member = self.member_at(&tx.body.signer, state)?;
        if let Some(refusal) = signer_refusal(member.as_ref(), &tx.body.signer) {
            return Err(refusal.into());
        }
        let member = member.expect("an active member");
        let module = self.module(&tx.body.call)?;
        // Again at execution: with governance, roles are state and may change between the two.
        Self::authorize(module, &tx.body.call.method, &member)?;
        let mut ctx = ExecContext::new(self.genesis.suite, height, time_ms, &member.organisation, first_leaf, module.name(), state);
        match module.execute(&mut ctx, tx, out) {
            Err(ExecFailure::Refused(e)) => return Err(ExecFailure::Refused(stamp(module.name(), e))),
            other => other?,
        }
        // The framework, not the module, keeps indexes and leaves in the module's namespace.
        for entry in &out.index {
            assert!(module.indexes().contains(&entry.index), "module {} wrote undeclared index {}", module.name(), entry.index);
        }
        for leaf in &out.leaves {
            assert!(leaf_is_of(leaf, module.name()), "module {} emitted a leaf outside its envelope", module.name());
        }
        Ok(())
    }

    /// The member holding `key` as the block's state says (genesis's when no module keeps
    /// membership).
    fn member_at(&self, key: &cairn_crypto::PublicKey, state: &BlockState<'_>) -> Result<Option<MemberView>, StateError> {
        match self.keeper.and_then(|k| self.modules.get(k)) {
            None => Ok(self.members().get(key.as_bytes()).cloned()),
            Some(keeper) => keeper.member(&BlockRead { module: keeper.name(), state }, key),
        }
    }

    /// Runs every module's [`Module::begin_block`] on `state`, before a block's transactions.
    /// Then reads the chain parameters in force for the block from the membership keeper.
    pub fn begin_block(&self, height: u64, time_ms: u64, first_leaf: u64, state: &mut BlockState<'_>) -> Result<(), StateError> {
        self.block_hook(height, time_ms, first_leaf, state, |m, ctx| m.begin_block(ctx))?;
        if let Some(keeper) = self.keeper.and_then(|k| self.modules.get(k)) {
            let params = keeper.parameters(&BlockRead { module: keeper.name(), state })?;
            state.set_params(params);
        }
        Ok(())
    }

    /// Runs every module's [`Module::end_block`] on `state`, after a block's transactions.
    pub fn end_block(&self, height: u64, time_ms: u64, first_leaf: u64, state: &mut BlockState<'_>) -> Result<(), StateError> {
        self.block_hook(height, time_ms, first_leaf, state, |m, ctx| m.end_block(ctx))
    }

    fn block_hook(
        &self,
        height: u64,
        time_ms: u64,
        first_leaf: u64,
        state: &mut BlockState<'_>,
        hook: impl Fn(&dyn Module, &mut ExecContext<'_, '_>) -> Result<(), StateError>,
    ) -> Result<(), StateError> {
        for module in self.modules.values() {
            let mut ctx = ExecContext::new(self.genesis.suite, height, time_ms, "", first_leaf, module.name(), state);
            if let Err(e) = hook(module.as_ref(), &mut ctx) {
                state.abort_tx();
                return Err(e);
            }
            state.commit_tx();
        }
        Ok(())
    }

    /// The readable view of a state value, from its module ([`Module::state_view`]); `None`
    /// for a module this node does not run or one without views.
    pub fn state_view(&self, module: &str, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        self.modules.get(module).and_then(|m| m.state_view(key, value))
    }

    /// What the submit answer says of an admitted transaction beyond its id (its module's
    /// [`Module::admitted_fields`]).
    pub fn admitted_fields(&self, tx: &Transaction) -> serde_json::Map<String, serde_json::Value> {
        self.module(&tx.body.call).map(|m| m.admitted_fields(tx)).unwrap_or_default()
    }

    /// Canonical transaction bytes from the JSON form
    /// `{chain_id, signer, nonce, expires_at_ms, call: {module, method, args}, signature}`.
    pub fn tx_from_json(&self, v: serde_json::Value) -> Result<Vec<u8>, TxError> {
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct JsonCall {
            module: String,
            method: String,
            args: serde_json::Value,
        }
        #[derive(serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        struct JsonTx {
            chain_id: String,
            signer: String,
            nonce: u64,
            expires_at_ms: u64,
            call: JsonCall,
            signature: String,
        }
        let j: JsonTx = serde_json::from_value(v).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        let signer = cairn_crypto::PublicKey::from_hex(self.genesis.suite, &j.signer).map_err(|e| TxError::InvalidArgs(format!("signer: {e}")))?;
        let module = self.modules.get(j.call.module.as_str()).ok_or_else(|| TxError::UnknownModule(j.call.module.clone()))?;
        let args = module.args_from_json(&j.call.method, j.call.args).map_err(|e| stamp(module.name(), e))?;
        let body = TxBody {
            chain_id: j.chain_id,
            signer,
            nonce: j.nonce,
            expires_at_ms: j.expires_at_ms,
            call: Call { module: j.call.module, method: j.call.method, args },
        };
        let signature = cairn_types::hexfmt::decode_strict(&j.signature).map_err(|e| TxError::InvalidArgs(format!("signature: {e}")))?;
        let mut w = cairn_types::codec::Writer { buf: body.encode() };
        w.bytes(&signature);
        Ok(w.into_bytes())
    }
}

/// A module's leaf is its own envelope (`0x02 | str module | ..`); only evidence (`V1_RECORD_MODULE`) keeps the
/// version 1 record leaves that receipts already issued pin.
fn leaf_is_of(leaf: &[u8], module: &str) -> bool {
    let mut r = cairn_types::codec::Reader::new(leaf);
    match r.u8("leaf version") {
        Ok(cairn_types::log::LEAF_VERSION_ENVELOPE) => r.str("leaf module", 64).is_ok_and(|m| m == module),
        Ok(cairn_types::log::LEAF_VERSION) => module == cairn_types::log::V1_RECORD_MODULE,
        _ => false,
    }
}

pub fn check_expiry(expires_at_ms: u64, now_ms: u64, max_ttl_ms: u64) -> Result<(), TxError> {
    if expires_at_ms <= now_ms {
        return Err(TxError::Expired { expires_at_ms, now_ms });
    }
    if expires_at_ms > now_ms.saturating_add(max_ttl_ms) {
        return Err(TxError::ExpiryTooFar { expires_at_ms, max_ttl_ms });
    }
    Ok(())
}

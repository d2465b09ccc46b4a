//! Transaction admission and execution.
//!
//! [`Executor::admit`] applies every check that needs no ledger state (size, encoding, chain,
//! membership, expiry, module arguments, signature), so it can run in parallel before a block
//! is built. [`Executor::execute`] turns an admitted transaction into log leaves and index
//! entries at a given height and time; it is deterministic (no clocks, no randomness, no hash
//! map iteration), so every validator that runs it gets the same bytes.
//!
//! Modules plug in through [`Module`]; `evidence` is the first.

pub mod evidence;

use std::collections::BTreeMap;

use cairn_crypto::Suite;
use cairn_state::{BlockState, StateError, state_key};
use cairn_types::codec::DecodeError;
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction, TxBody};

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
    #[error("signer {0} is not a member of any organisation in genesis")]
    UnknownSigner(String),
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
    #[error("{count} records in one transaction, the limit is {max}")]
    TooManyRecords { count: usize, max: usize },
}

impl TxError {
    pub fn code(&self) -> &'static str {
        match self {
            TxError::Oversized { .. } => "oversized",
            TxError::Malformed(_) => "malformed",
            TxError::WrongChain { .. } => "wrong-chain",
            TxError::WrongSuite { .. } => "wrong-suite",
            TxError::UnknownSigner(_) => "unknown-signer",
            TxError::BadSignature => "bad-signature",
            TxError::Expired { .. } => "expired",
            TxError::ExpiryTooFar { .. } => "expiry-too-far",
            TxError::Replay(_) => "replay",
            TxError::UnknownModule(_) => "unknown-module",
            TxError::UnknownMethod { .. } => "unknown-method",
            TxError::InvalidArgs(_) => "invalid-args",
            TxError::TooManyRecords { .. } => "too-many-records",
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

impl ExecContext<'_, '_> {
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
}

/// One entry of a module's secondary index (each index is its own keyspace in the store).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub index: &'static str,
    pub key: Vec<u8>,
    pub value: Vec<u8>,
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
    /// Stateless checks of a call's arguments (decoding, limits).
    fn check(&self, call: &Call, genesis: &Genesis) -> Result<(), TxError>;
    /// Effects of an admitted call. Must be deterministic: it may read and write the module's
    /// state through `ctx`; if it fails, its state writes are dropped.
    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure>;
    /// Canonical argument bytes from the JSON form of a call.
    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError>;
}

pub struct Executor {
    genesis: Genesis,
    /// Member public key bytes → (parsed key, organisation id).
    members: BTreeMap<Vec<u8>, (cairn_crypto::PublicKey, String)>,
    modules: BTreeMap<&'static str, Box<dyn Module>>,
}

impl Executor {
    /// An executor with the built-in modules.
    pub fn new(genesis: Genesis) -> Self {
        let mut members = BTreeMap::new();
        for org in &genesis.organisations {
            for m in &org.members {
                let key = cairn_crypto::PublicKey::from_hex(genesis.suite, m).expect("validated genesis");
                members.insert(key.as_bytes().to_vec(), (key, org.id.clone()));
            }
        }
        let mut ex = Executor { genesis, members, modules: BTreeMap::new() };
        let digest_state = ex.genesis.params.evidence_digest_state;
        ex.register(Box::new(evidence::EvidenceModule { digest_state }));
        ex
    }

    pub fn register(&mut self, m: Box<dyn Module>) {
        let prev = self.modules.insert(m.name(), m);
        assert!(prev.is_none(), "module registered twice");
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

    pub fn organisation_of(&self, key: &[u8]) -> Option<&str> {
        self.members.get(key).map(|(_, org)| org.as_str())
    }

    fn module(&self, call: &Call) -> Result<&dyn Module, TxError> {
        self.modules.get(call.module.as_str()).map(|m| m.as_ref()).ok_or_else(|| TxError::UnknownModule(call.module.clone()))
    }

    /// Decodes a transaction from a member, without checking its body or signature (for a
    /// block whose transactions were admitted before: see the mempool's signature cache).
    pub fn decode_member(&self, bytes: &[u8]) -> Result<Transaction, TxError> {
        let suite = self.genesis.suite;
        Ok(Transaction::decode_with_keys(bytes, &|s, k| if s == suite { self.members.get(k).map(|(key, _)| key.clone()) } else { None })?)
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
        let mut verdicts: Vec<Result<(), TxError>> =
            txs.iter().map(|(tx, len)| self.check_size(*len).and_then(|()| self.check_body(&tx.body, now_ms))).collect();
        let to_verify: Vec<usize> = (0..txs.len()).filter(|i| verdicts[*i].is_ok()).collect();
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
        // Size before decoding: an oversized input is refused without being parsed.
        let decoded: Vec<Result<Transaction, TxError>> =
            txs.iter().map(|b| self.check_size(b.as_ref().len()).and_then(|()| self.decode_member(b.as_ref()))).collect();
        let ok: Vec<(&Transaction, usize)> = decoded.iter().zip(txs).filter_map(|(d, b)| d.as_ref().ok().map(|t| (t, b.as_ref().len()))).collect();
        let mut checks = self.check_decoded_many(&ok, now_ms).into_iter();
        decoded.into_iter().map(|d| d.and_then(|tx| checks.next().expect("one check per decoded transaction").map(|()| tx))).collect()
    }

    fn check_size(&self, len: usize) -> Result<(), TxError> {
        let max = self.genesis.params.max_tx_bytes as usize;
        if len > max {
            return Err(TxError::Oversized { len, max });
        }
        Ok(())
    }

    fn check_body(&self, body: &TxBody, now_ms: Option<u64>) -> Result<(), TxError> {
        let g = &self.genesis;
        if body.chain_id != g.chain_id {
            return Err(TxError::WrongChain { got: body.chain_id.clone(), want: g.chain_id.clone() });
        }
        if body.signer.suite() != g.suite {
            return Err(TxError::WrongSuite { got: body.signer.suite(), want: g.suite });
        }
        if !self.members.contains_key(body.signer.as_bytes()) {
            return Err(TxError::UnknownSigner(body.signer.to_hex()));
        }
        if let Some(now_ms) = now_ms {
            check_expiry(body.expires_at_ms, now_ms, g.params.max_tx_ttl_ms)?;
        }
        self.module(&body.call)?.check(&body.call, g)
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
        let organisation = self.organisation_of(tx.body.signer.as_bytes()).ok_or_else(|| TxError::UnknownSigner(tx.body.signer.to_hex()))?;
        let module = self.module(&tx.body.call)?;
        let mut ctx = ExecContext { suite: self.genesis.suite, height, time_ms, organisation, first_leaf, module: module.name(), state };
        module.execute(&mut ctx, tx, out)
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
        let args = module.args_from_json(&j.call.method, j.call.args)?;
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

pub fn check_expiry(expires_at_ms: u64, now_ms: u64, max_ttl_ms: u64) -> Result<(), TxError> {
    if expires_at_ms <= now_ms {
        return Err(TxError::Expired { expires_at_ms, now_ms });
    }
    if expires_at_ms > now_ms.saturating_add(max_ttl_ms) {
        return Err(TxError::ExpiryTooFar { expires_at_ms, max_ttl_ms });
    }
    Ok(())
}

//! The evidence module: deposit content digests (one or many records per signature), find them
//! by id, digest or reference, and keep each digest's first deposit and count as state, so
//! anyone can prove "this file was deposited, first at height H" or "had not been, as of H".
//!
//! A record is found by id through its transaction (`RecordId` = tx id + index). Indexes:
//! `evidence.digest`: digest[32] leaf[8] → ∅ ·
//! `evidence.ref`: u16 len ref first_leaf[8] → u32 offsets of the transaction's records that
//! carry this reference (a batch filed under one case number is one entry, not one per record). Digest and reference keys end in the leaf index,
//! so a prefix scan returns every deposit of the same digest in log order.

use cairn_crypto::Hash;
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction};
use wire::{
    DepositArgs, DigestAlg, DigestState, METHOD_DEPOSIT, MODULE, RecordId, decode_deposit_in_place, digest_of_state_key, digest_state_key, encode_leaf,
};

use cairn_module::{ConsoleFile, ExecContext, ExecFailure, IndexEntry, Module, ModuleRefusal, TxEffects, TxError};

pub mod cli;
pub mod receipt;
pub mod routes;
pub mod wire;

/// The readable view of one of the module's state values (a digest's first deposit and count):
/// what the node answers in state receipts, and what offline verifiers check them against.
pub fn state_view(key: &[u8], value: Option<&[u8]>) -> Result<serde_json::Value, String> {
    let (alg, digest) = digest_of_state_key(key).ok_or("not an evidence digest key")?;
    let state = value.map(DigestState::decode).transpose().map_err(|e| e.to_string())?;
    Ok(DigestState::view(alg, &digest, state.as_ref()))
}

/// The module's OpenAPI fragment (paths under `/v1/evidence`, its schemas).
const OPENAPI: &str = include_str!("../openapi.json");

/// The console's evidence pages (record, deposit, search).
/// The console page and the files it imports: the wire types (`wire.js`) and the receipt
/// verifier (`receipt.js`) the shell's Verify page uses for evidence receipts and state proofs.
const CONSOLE: &[ConsoleFile] = &[
    ConsoleFile { name: "page.js", content_type: JS, body: include_str!("../console/page.js") },
    ConsoleFile { name: "wire.js", content_type: JS, body: include_str!("../console/wire.js") },
    ConsoleFile { name: "receipt.js", content_type: JS, body: include_str!("../console/receipt.js") },
];
const JS: &str = "text/javascript; charset=utf-8";

/// The evidence module's own refusals (codes `evidence.<code>` in API errors).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum EvidenceError {
    #[error("{count} records in one transaction, the limit is {max}")]
    TooManyRecords { count: usize, max: usize },
    #[error(
        "record {index}: {field} contains a control character (U+{code:04X}); text fields are printed by verifiers and must not carry line breaks or terminal escapes"
    )]
    ControlCharacter { index: usize, field: &'static str, code: u32 },
}

impl ModuleRefusal for EvidenceError {
    fn code(&self) -> &'static str {
        match self {
            EvidenceError::TooManyRecords { .. } => "too-many-records",
            EvidenceError::ControlCharacter { .. } => "control-character",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            EvidenceError::TooManyRecords { .. } | EvidenceError::ControlCharacter { .. } => 400,
        }
    }
}

/// The module for a chain, with its genesis parameters.
pub fn module(genesis: &Genesis) -> Result<Box<dyn Module>, String> {
    Ok(Box::new(EvidenceModule { params: EvidenceParams::of(genesis)? }))
}

/// The module's genesis parameters: `params.modules.evidence` (`{"max_records_per_tx": n,
/// "digest_state": bool}`, each optional), or in a genesis made before module parameters the
/// core's legacy members `max_records_per_tx` and `evidence_digest_state`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct EvidenceParams {
    /// Most records one deposit may carry (1 ..= [`wire::MAX_RECORDS_PER_CALL`]).
    pub max_records_per_tx: u32,
    /// Keep each digest's first deposit and count as state (what `cairn evidence prove`
    /// proves). A chain's choice: it costs a state-tree update per record (README,
    /// Performance). `cairn dev` and `cairn testnet init` turn it on.
    pub digest_state: bool,
}

/// The JSON members of `params.modules.evidence`.
#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct ParamsJson {
    max_records_per_tx: Option<u32>,
    digest_state: Option<bool>,
}

const DEFAULT_MAX_RECORDS_PER_TX: u32 = 10_000;

impl EvidenceParams {
    pub fn of(genesis: &Genesis) -> Result<Self, String> {
        let p = &genesis.params;
        let params = match p.module(MODULE) {
            // Earlier releases took any positive limit; decoding caps it at the most one call carries.
            None => EvidenceParams {
                max_records_per_tx: p.max_records_per_tx.unwrap_or(DEFAULT_MAX_RECORDS_PER_TX).min(wire::MAX_RECORDS_PER_CALL as u32),
                digest_state: p.evidence_digest_state,
            },
            Some(json) => {
                let j: ParamsJson =
                    serde_json::from_value(serde_json::Value::Object(json.clone())).map_err(|e| format!("genesis params.modules.evidence: {e}"))?;
                EvidenceParams { max_records_per_tx: j.max_records_per_tx.unwrap_or(DEFAULT_MAX_RECORDS_PER_TX), digest_state: j.digest_state.unwrap_or(false) }
            }
        };
        if params.max_records_per_tx == 0 || params.max_records_per_tx as usize > wire::MAX_RECORDS_PER_CALL {
            return Err(format!("genesis evidence max_records_per_tx must be 1 to {}, not {}", wire::MAX_RECORDS_PER_CALL, params.max_records_per_tx));
        }
        Ok(params)
    }

    /// Genesis parameters of a chain made today: `params.modules.evidence`.
    pub fn to_json(self) -> serde_json::Map<String, serde_json::Value> {
        let mut m = serde_json::Map::new();
        m.insert("max_records_per_tx".into(), self.max_records_per_tx.into());
        m.insert("digest_state".into(), self.digest_state.into());
        m
    }
}

impl Default for EvidenceParams {
    fn default() -> Self {
        EvidenceParams { max_records_per_tx: DEFAULT_MAX_RECORDS_PER_TX, digest_state: false }
    }
}

/// Counts a deposit of `digest` in the module's state, remembering its first deposit.
fn record_deposit(ctx: &mut ExecContext<'_, '_>, alg: DigestAlg, digest: Hash, record: RecordId) -> Result<(), ExecFailure> {
    let key = digest_state_key(alg, &digest);
    let state = match ctx.state_get(&key)? {
        None => DigestState { first_record: record, first_height: ctx.height, first_time_ms: ctx.time_ms, deposits: 1, last_height: ctx.height },
        Some(bytes) => {
            let mut s = DigestState::decode(&bytes).map_err(|e| cairn_state::StateError::Storage(format!("evidence state of {}: {e}", hex::encode(digest))))?;
            s.deposits += 1;
            s.last_height = ctx.height;
            s
        }
    };
    ctx.state_put(&key, state.encode());
    Ok(())
}

pub struct EvidenceModule {
    pub params: EvidenceParams,
}

/// The role `evidence.deposit` needs (for members whose roles genesis lists).
pub const ROLE_DEPOSITOR: &str = "evidence.depositor";
pub const INDEX_DIGEST: &str = "evidence.digest";
/// The chain parameter (set by governance vote) that lowers `max_records_per_tx`.
pub const PARAM_MAX_RECORDS_PER_TX: &str = "evidence.max_records_per_tx";
pub const INDEX_REFERENCE: &str = "evidence.ref";

pub fn reference_prefix(reference: &str) -> Vec<u8> {
    let len = u16::try_from(reference.len()).unwrap_or(u16::MAX);
    [len.to_be_bytes().as_slice(), reference.as_bytes()].concat()
}

/// Leaf indexes of a reference index entry: the key ends in the transaction's first leaf, the
/// value lists offsets from it.
pub fn reference_leaves(key: &[u8], value: &[u8]) -> Vec<u64> {
    let Some(first) = leaf_of_key(key) else { return Vec::new() };
    value.chunks_exact(4).map(|c| first + u32::from_be_bytes(c.try_into().unwrap()) as u64).collect()
}

/// The leaf index at the end of a digest or reference key.
pub fn leaf_of_key(key: &[u8]) -> Option<u64> {
    key.len().checked_sub(8).map(|at| u64::from_be_bytes(key[at..].try_into().unwrap()))
}

impl Module for EvidenceModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[INDEX_DIGEST, INDEX_REFERENCE]
    }

    fn required_role(&self, method: &str) -> Option<&'static str> {
        (method == METHOD_DEPOSIT).then_some(ROLE_DEPOSITOR)
    }

    fn check(&self, call: &Call, _genesis: &Genesis) -> Result<(), TxError> {
        if call.method != METHOD_DEPOSIT {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: call.method.clone() });
        }
        let records = decode_deposit_in_place(&call.args).map_err(|e| match e {
            cairn_types::codec::DecodeError::TooLong { field: "records", len, max } => EvidenceError::TooManyRecords { count: len, max }.into(),
            e => TxError::InvalidArgs(e.to_string()),
        })?;
        let max = self.params.max_records_per_tx as usize;
        if records.len() > max {
            return Err(EvidenceError::TooManyRecords { count: records.len(), max }.into());
        }
        Ok(())
    }

    fn admission_policy(&self, call: &Call) -> Result<(), TxError> {
        let records = decode_deposit_in_place(&call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        for (index, r) in records.iter().enumerate() {
            let fields = [("title", r.title), ("media_type", r.media_type), ("reference", r.reference.unwrap_or_default())];
            let meta = r.metadata.iter().flat_map(|(k, v)| [("a metadata key", *k), ("a metadata value", *v)]);
            for (field, text) in fields.into_iter().chain(meta) {
                if let Some(c) = text.chars().find(|c| c.is_control()) {
                    return Err(EvidenceError::ControlCharacter { index, field, code: c as u32 }.into());
                }
            }
        }
        Ok(())
    }

    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        // Decoded in place: each leaf embeds its record's canonical bytes verbatim.
        let records = decode_deposit_in_place(&tx.body.call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        // A limit the members lowered by vote (genesis's, checked at admission, is the ceiling).
        if let Some(max) = ctx.param(PARAM_MAX_RECORDS_PER_TX)
            && records.len() as u64 > max
        {
            return Err(TxError::from(EvidenceError::TooManyRecords { count: records.len(), max: max as usize }).into());
        }
        out.leaves.reserve(records.len());
        out.index.reserve(records.len() * 2);
        let submitter = tx.body.signer.as_bytes();
        let first_leaf = ctx.first_leaf + out.leaves.len() as u64;
        // Reference → offsets of the records carrying it (ordered map: deterministic output).
        let mut by_reference: std::collections::BTreeMap<&str, Vec<u8>> = std::collections::BTreeMap::new();
        for (i, record) in records.iter().enumerate() {
            let leaf_be = (first_leaf + i as u64).to_be_bytes();
            out.index.push(IndexEntry { index: INDEX_DIGEST, key: [record.digest.as_slice(), &leaf_be].concat(), value: Vec::new() });
            if let Some(r) = record.reference {
                by_reference.entry(r).or_default().extend_from_slice(&(i as u32).to_be_bytes());
            }
            out.leaves.push(encode_leaf(&tx.id, i as u32, ctx.height, ctx.time_ms, ctx.organisation, submitter, record.bytes));
            if self.params.digest_state {
                record_deposit(ctx, record.digest_alg, record.digest, RecordId { tx_id: tx.id, index: i as u32 })?;
            }
        }
        for (r, offsets) in by_reference {
            out.index.push(IndexEntry { index: INDEX_REFERENCE, key: [reference_prefix(r).as_slice(), &first_leaf.to_be_bytes()].concat(), value: offsets });
        }
        Ok(())
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        if method != METHOD_DEPOSIT {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: method.into() });
        }
        let args: DepositArgs = serde_json::from_value(args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        for r in &args.records {
            r.validate().map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        }
        Ok(args.encode())
    }

    fn admitted_fields(&self, tx: &Transaction) -> serde_json::Map<String, serde_json::Value> {
        let mut fields = serde_json::Map::new();
        if tx.body.call.method == METHOD_DEPOSIT {
            // Admission already decoded the arguments; only the count is needed here.
            let n = tx.body.call.args.get(..4).map_or(0, |b| u32::from_be_bytes(b.try_into().expect("4 bytes")));
            // Record ids are `<tx id>-<index>`: the transaction id encoded once, not per record.
            let id = hex::encode(tx.id);
            fields.insert("record_ids".into(), (0..n).map(|i| serde_json::Value::String(format!("{id}-{i}"))).collect());
        }
        fields
    }

    fn state_view(&self, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        // The same function the offline verifier checks views with (`cli::CLI.state_view`).
        Some(state_view(key, value))
    }

    fn routes(&self) -> axum::Router<cairn_module::Query> {
        routes::router(self.params.digest_state)
    }

    fn openapi(&self) -> serde_json::Value {
        serde_json::from_str(OPENAPI).expect("the evidence OpenAPI fragment is JSON")
    }

    fn console(&self) -> &'static [ConsoleFile] {
        CONSOLE
    }
}

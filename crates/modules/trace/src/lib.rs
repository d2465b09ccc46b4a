//! The traceability module: a GS1 EPCIS 2.0 repository that many organisations share, every
//! event notarised. Capture (the EPCIS 2.0 REST binding at `/epcis`, or `cairn trace capture`
//! signing with the member's own key) turns each event into one log leaf with its CBV 2.0 event
//! hash, the capturing organisation and the block's time as record time; the event's hash ID
//! and `eventID` are state, so no event is captured twice and anyone can prove that an event was
//! (or had not been) recorded as of a height.
//!
//! Indexes (node-local, written after each durable block):
//! `trace.log`: leaf[8] → ∅ (record-time order) ·
//! `trace.time`: event_time_ms[8] leaf[8] → ∅ ·
//! `trace.id`: u16 len identifier u8 role leaf[8] → ∅ (the `MATCH_*` queries and the trace) ·
//! `trace.field`: u8 field u16 len value leaf[8] → ∅ (event type, action, bizStep,
//! disposition, readPoint, bizLocation).

use cairn_module::{ConsoleFile, ExecContext, ExecFailure, IndexEntry, Module, ModuleRefusal, TxEffects, TxError};
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction};

pub mod cli;
pub mod prepare;
pub mod query;
pub mod routes;
pub mod trace;
pub mod verify;
pub mod wire;

use wire::{CaptureArgs, EventEntry, EventRecord, FirstRecord, KIND_EVENT, METHOD_CAPTURE, MODULE, event_id_key, hash_key};

/// The role `trace.capture` needs (for members whose roles are listed).
pub const ROLE_CAPTURER: &str = "trace.capturer";
pub const INDEX_LOG: &str = "trace.log";
pub const INDEX_TIME: &str = "trace.time";
pub const INDEX_ID: &str = "trace.id";
pub const INDEX_FIELD: &str = "trace.field";

/// The fields `trace.field` indexes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Field {
    Type = 1,
    Action = 2,
    BizStep = 3,
    Disposition = 4,
    ReadPoint = 5,
    BizLocation = 6,
}

const OPENAPI: &str = include_str!("../openapi.json");
const JS: &str = "text/javascript; charset=utf-8";
const CONSOLE: &[ConsoleFile] = &[ConsoleFile { name: "page.js", content_type: JS, body: include_str!("../console/page.js") }];

/// The module's own refusals (codes `trace.<code>`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum TraceError {
    #[error("event {index}: event hash ID {hash_id} was recorded already, first in log leaf {first_leaf} by {organisation}")]
    DuplicateEvent { index: usize, hash_id: String, first_leaf: u64, organisation: String },
    #[error("event {index}: eventID {event_id} was recorded already (event hash ID {hash_id})")]
    DuplicateEventId { index: usize, event_id: String, hash_id: String },
    #[error("{0}")]
    InvalidEvent(String),
}

impl ModuleRefusal for TraceError {
    fn code(&self) -> &'static str {
        match self {
            TraceError::DuplicateEvent { .. } => "duplicate-event",
            TraceError::DuplicateEventId { .. } => "duplicate-event-id",
            TraceError::InvalidEvent(_) => "invalid-event",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            TraceError::DuplicateEvent { .. } | TraceError::DuplicateEventId { .. } => 409,
            TraceError::InvalidEvent(_) => 400,
        }
    }
}

/// The module for a chain (it has no genesis parameters yet).
pub fn module(genesis: &Genesis) -> Result<Box<dyn Module>, String> {
    if let Some(p) = genesis.params.module(MODULE)
        && let Some(k) = p.keys().next()
    {
        return Err(format!("genesis params.modules.trace: unknown parameter {k:?}"));
    }
    Ok(Box::new(TraceModule))
}

pub struct TraceModule;

/// `u16 len | text`: a length-prefixed index key part, so no value is a prefix of another.
pub fn key_part(text: &str) -> Vec<u8> {
    let len = u16::try_from(text.len()).unwrap_or(u16::MAX);
    [len.to_be_bytes().as_slice(), text.as_bytes()].concat()
}

/// The `trace.field` prefix of a field's value.
pub fn field_prefix(field: Field, value: &str) -> Vec<u8> {
    [[field as u8].as_slice(), &key_part(value)].concat()
}

/// The leaf index at the end of an index key.
pub fn leaf_of_key(key: &[u8]) -> Option<u64> {
    key.len().checked_sub(8).map(|at| u64::from_be_bytes(key[at..].try_into().expect("8 bytes")))
}

fn index_entries(e: &EventRecord, leaf: u64, out: &mut Vec<IndexEntry>) {
    let leaf_be = leaf.to_be_bytes();
    let entry = |index, key: Vec<u8>| IndexEntry { index, key: [key.as_slice(), &leaf_be].concat(), value: Vec::new() };
    out.push(entry(INDEX_LOG, Vec::new()));
    out.push(entry(INDEX_TIME, e.event_time_ms.to_be_bytes().to_vec()));
    for (role, id) in &e.ids {
        out.push(entry(INDEX_ID, [key_part(id).as_slice(), &[*role as u8]].concat()));
    }
    let fields = [
        (Field::Type, e.event_type.name()),
        (Field::Action, e.action.name().unwrap_or("")),
        (Field::BizStep, &e.biz_step),
        (Field::Disposition, &e.disposition),
        (Field::ReadPoint, &e.read_point),
        (Field::BizLocation, &e.biz_location),
    ];
    for (field, value) in fields.into_iter().filter(|(_, v)| !v.is_empty()) {
        out.push(entry(INDEX_FIELD, field_prefix(field, value)));
    }
}

/// Whether event `index` may be recorded: `Ok(false)` when its hash or event ID is on chain
/// already and the capture proceeds past duplicates; a refusal under `rollback`.
fn is_new(ctx: &ExecContext<'_, '_>, index: usize, e: &EventRecord, proceed: bool) -> Result<bool, ExecFailure> {
    let hash_id = || cairn_epcis::hash::hash_id_string(&e.hash);
    if let Some(first) = ctx.state_get(&hash_key(&e.hash))? {
        let first = FirstRecord::decode(&first).map_err(|err| cairn_state::StateError::Storage(format!("trace state of {}: {err}", hash_id())))?;
        if proceed {
            return Ok(false);
        }
        return Err(TxError::from(TraceError::DuplicateEvent { index, hash_id: hash_id(), first_leaf: first.leaf, organisation: first.organisation }).into());
    }
    if !e.event_id.is_empty() && ctx.state_get(&event_id_key(&e.event_id))?.is_some() {
        if proceed {
            return Ok(false);
        }
        return Err(TxError::from(TraceError::DuplicateEventId { index, event_id: e.event_id.clone(), hash_id: hash_id() }).into());
    }
    Ok(true)
}

impl Module for TraceModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[INDEX_LOG, INDEX_TIME, INDEX_ID, INDEX_FIELD]
    }

    fn required_role(&self, method: &str) -> Option<&'static str> {
        (method == METHOD_CAPTURE).then_some(ROLE_CAPTURER)
    }

    fn check(&self, call: &Call, _genesis: &Genesis) -> Result<(), TxError> {
        if call.method != METHOD_CAPTURE {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: call.method.clone() });
        }
        CaptureArgs::decode(&call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        Ok(())
    }

    fn admission_policy(&self, call: &Call) -> Result<(), TxError> {
        let args = CaptureArgs::decode(&call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        for (i, e) in args.events.iter().enumerate() {
            prepare::verify_record(i, e).map_err(|p| TraceError::InvalidEvent(p.to_string()))?;
        }
        Ok(())
    }

    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        let args = CaptureArgs::decode(&tx.body.call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        let submitter = tx.body.signer.as_bytes().to_vec();
        for (i, event) in args.events.into_iter().enumerate() {
            if !is_new(ctx, i, &event, args.proceed)? {
                continue;
            }
            let leaf = ctx.first_leaf + out.leaves.len() as u64;
            let first = FirstRecord { leaf, height: ctx.height, time_ms: ctx.time_ms, organisation: ctx.organisation.to_string() };
            ctx.state_put(&hash_key(&event.hash), first.encode());
            if !event.event_id.is_empty() {
                ctx.state_put(&event_id_key(&event.event_id), event.hash.to_vec());
            }
            index_entries(&event, leaf, &mut out.index);
            let entry = EventEntry {
                tx_id: tx.id,
                index: i as u32,
                height: ctx.height,
                time_ms: ctx.time_ms,
                organisation: ctx.organisation.to_string(),
                submitter: submitter.clone(),
                event,
            };
            out.leaves.push(ctx.leaf(KIND_EVENT, &entry.encode_payload()));
        }
        Ok(())
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        if method != METHOD_CAPTURE {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: method.into() });
        }
        // `{"document": EPCISDocument, "proceed": bool, "hash_only": bool}`.
        let proceed = args.get("proceed").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let hash_only = args.get("hash_only").and_then(serde_json::Value::as_bool).unwrap_or(false);
        let doc = args.get("document").ok_or_else(|| TxError::InvalidArgs("capture takes {\"document\": an EPCIS document}".into()))?;
        let doc = prepare::parse_document(doc).map_err(|p| TxError::InvalidArgs(p.to_string()))?;
        let (events, problems) = prepare::prepare_document(&doc, hash_only);
        if let Some(p) = problems.first() {
            return Err(TxError::InvalidArgs(p.to_string()));
        }
        Ok(CaptureArgs { proceed, events: events.into_iter().map(|(_, e)| e).collect() }.encode())
    }

    fn state_view(&self, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        Some(state_view(key, value))
    }

    fn routes(&self) -> axum::Router<cairn_module::Query> {
        routes::api_router()
    }

    fn binding(&self) -> Option<cairn_module::Binding> {
        Some(cairn_module::Binding { root: "/epcis", router: routes::epcis_router() })
    }

    fn openapi(&self) -> serde_json::Value {
        serde_json::from_str(OPENAPI).expect("the trace OpenAPI fragment is JSON")
    }

    fn console(&self) -> &'static [ConsoleFile] {
        CONSOLE
    }
}

/// The readable view of one of the module's state values: an event hash's first record, or
/// the hash an event ID names.
pub fn state_view(key: &[u8], value: Option<&[u8]>) -> Result<serde_json::Value, String> {
    match key.split_first() {
        Some((b'h', hash)) if hash.len() == 32 => {
            let hash: cairn_crypto::Hash = hash.try_into().expect("32 bytes");
            let first = value.map(FirstRecord::decode).transpose().map_err(|e| e.to_string())?;
            Ok(serde_json::json!({
                "event_hash_id": cairn_epcis::hash::hash_id_string(&hash),
                "first": first.map(|f| serde_json::json!({"leaf_index": f.leaf, "height": f.height, "time_ms": f.time_ms, "organisation": f.organisation})),
            }))
        }
        Some((b'i', id)) => {
            let id = std::str::from_utf8(id).map_err(|_| "an event ID key is UTF-8".to_string())?;
            let hash = value.map(|v| <[u8; 32]>::try_from(v).map_err(|_| "an event ID's value is a 32-byte hash".to_string())).transpose()?;
            Ok(serde_json::json!({"event_id": id, "event_hash_id": hash.map(|h| cairn_epcis::hash::hash_id_string(&h))}))
        }
        _ => Err("not a trace state key".into()),
    }
}

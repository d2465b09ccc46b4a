//! The evidence module's queries, mounted by the framework at `/v1/evidence`:
//! `GET /` (by digest or reference), `GET /state` (a digest's state receipt), `GET /{id}` (a
//! record) and `GET /{id}/receipt` (its receipt, JSON or C2SP tlog-proof).

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use crate::receipt::{RECEIPT_FORMAT, Receipt};
use crate::wire::{DigestAlg, EvidenceEntry, RecordId, digest_state_key};
use axum::Router;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_crypto::Hash;
use cairn_module::{HostError, Query, problem};
use serde::Deserialize;
use serde_json::json;

use crate::{INDEX_DIGEST, INDEX_REFERENCE, leaf_of_key, reference_leaves, reference_prefix};

/// Most records one search returns.
const MAX_SEARCH_RESULTS: usize = 1000;
const DEFAULT_SEARCH_RESULTS: usize = 100;

/// The module's routes; `digest_state`: whether the chain keeps digest state (its genesis
/// parameters), without which `/state` has nothing true to prove.
pub fn router(digest_state: bool) -> Router<Query> {
    let state = get(move |q, p| digest_state_route(q, p, digest_state));
    Router::new().route("/", get(search)).route("/state", state).route("/{id}", get(record)).route("/{id}/receipt", get(receipt))
}

fn parse_record_id(s: &str) -> Result<RecordId, Response> {
    s.parse().map_err(|e: String| problem(StatusCode::BAD_REQUEST, "bad-id", e))
}

fn parse_hash(s: &str, what: &str) -> Result<Hash, Response> {
    cairn_types::hexfmt::decode_strict(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| problem(StatusCode::BAD_REQUEST, "bad-id", format!("{what} must be 64 lowercase hex digits")))
}

/// The evidence record in leaf `leaf`, if that leaf is one.
fn entry_at(q: &Query, leaf: u64) -> Result<Option<EvidenceEntry>, HostError> {
    let Some(bytes) = q.leaf(leaf)? else { return Ok(None) };
    EvidenceEntry::from_leaf(q.suite(), &bytes).map_err(|e| HostError::internal(format!("leaf {leaf} does not decode: {e}")))
}

/// The leaf of record `id`: found through its transaction.
pub fn record_leaf(q: &Query, id: &RecordId) -> Result<Option<u64>, HostError> {
    Ok(q.tx_leaves(&id.tx_id)?.filter(|loc| id.index < loc.leaf_count).map(|loc| loc.first_leaf + id.index as u64))
}

pub fn record_by_id(q: &Query, id: &RecordId) -> Result<Option<(u64, EvidenceEntry)>, HostError> {
    let Some(leaf) = record_leaf(q, id)? else { return Ok(None) };
    Ok(entry_at(q, leaf)?.map(|e| (leaf, e)))
}

/// Index hits whose leaf really holds a matching record: entries written for a block that
/// never became durable (a crash between the parallel writes) are skipped.
fn records_at(
    q: &Query,
    leaves: impl IntoIterator<Item = u64>,
    limit: usize,
    matches: impl Fn(&EvidenceEntry) -> bool,
) -> Result<Vec<(u64, EvidenceEntry)>, HostError> {
    let size = q.log_size();
    let mut out = Vec::new();
    for leaf in leaves {
        if out.len() >= limit {
            break;
        }
        if leaf >= size {
            continue;
        }
        if let Some(e) = entry_at(q, leaf)?
            && matches(&e)
        {
            out.push((leaf, e));
        }
    }
    Ok(out)
}

/// Every deposit of `digest`, in log order.
pub fn records_by_digest(q: &Query, digest: &Hash, limit: usize) -> Result<Vec<(u64, EvidenceEntry)>, HostError> {
    let keys = q.index_prefix(INDEX_DIGEST, digest, limit)?;
    let leaves = keys.iter().filter(|(k, _)| k.len() == 40).filter_map(|(k, _)| leaf_of_key(k));
    records_at(q, leaves, limit, |e| &e.record.digest == digest)
}

/// Every record filed under `reference`, in log order.
pub fn records_by_reference(q: &Query, reference: &str, limit: usize) -> Result<Vec<(u64, EvidenceEntry)>, HostError> {
    let prefix = reference_prefix(reference);
    // One entry per transaction: `limit` entries hold at least `limit` records.
    let entries = q.index_prefix(INDEX_REFERENCE, &prefix, limit)?;
    let leaves = entries.iter().filter(|(k, _)| k.len() == prefix.len() + 8).flat_map(|(k, v)| reference_leaves(k, v));
    records_at(q, leaves, limit, |e| e.record.reference.as_deref() == Some(reference))
}

/// The receipt for record `id` against the latest signed checkpoint.
pub fn record_receipt(q: &Query, id: &RecordId) -> Result<Option<Receipt>, HostError> {
    let Some(leaf_index) = record_leaf(q, id)? else { return Ok(None) };
    let proof = q.leaf_proof(leaf_index)?;
    let Some(entry) = EvidenceEntry::from_leaf(q.suite(), &proof.leaf).map_err(|e| HostError::internal(format!("leaf {leaf_index}: {e}")))? else {
        return Err(HostError::internal(format!("leaf {leaf_index} of record {id} is not an evidence record")));
    };
    Ok(Some(Receipt {
        format: RECEIPT_FORMAT.into(),
        chain_id: q.genesis().chain_id.clone(),
        record: entry.view(),
        leaf_index,
        leaf: proof.leaf,
        tree_size: proof.tree_size,
        inclusion_proof: proof.inclusion_proof,
        checkpoint: proof.checkpoint,
    }))
}

#[derive(Deserialize)]
struct SearchQuery {
    digest: Option<String>,
    reference: Option<String>,
    limit: Option<usize>,
}

async fn search(State(q): State<Query>, UrlQuery(p): UrlQuery<SearchQuery>) -> Response {
    let limit = match p.limit {
        None => DEFAULT_SEARCH_RESULTS,
        Some(n) if (1..=MAX_SEARCH_RESULTS).contains(&n) => n,
        Some(n) => return problem(StatusCode::BAD_REQUEST, "bad-query", format!("limit {n} is outside 1 to {MAX_SEARCH_RESULTS}")),
    };
    let found = match (&p.digest, &p.reference) {
        (Some(d), None) => match parse_hash(d, "digest") {
            Ok(d) => records_by_digest(&q, &d, limit),
            Err(r) => return r,
        },
        (None, Some(r)) => records_by_reference(&q, r, limit),
        _ => return problem(StatusCode::BAD_REQUEST, "bad-query", "give exactly one of ?digest= or ?reference="),
    };
    match found {
        Ok(list) => axum::Json(json!({
            "records": list.into_iter().map(|(leaf, e)| json!({"leaf_index": leaf, "record": e.view()})).collect::<Vec<_>>()
        }))
        .into_response(),
        Err(e) => e.into_response(),
    }
}

async fn record(State(q): State<Query>, Path(id): Path<String>) -> Response {
    let id = match parse_record_id(&id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    match record_by_id(&q, &id) {
        Ok(Some((leaf, e))) => axum::Json(json!({"leaf_index": leaf, "record": e.view()})).into_response(),
        Ok(None) => problem(StatusCode::NOT_FOUND, "unknown-record", format!("no evidence record {id}")),
        Err(e) => e.into_response(),
    }
}

#[derive(Deserialize)]
struct ReceiptQuery {
    format: Option<String>,
}

async fn receipt(State(q): State<Query>, Path(id): Path<String>, UrlQuery(p): UrlQuery<ReceiptQuery>) -> Response {
    let id = match parse_record_id(&id) {
        Ok(h) => h,
        Err(r) => return r,
    };
    let r = match record_receipt(&q, &id) {
        Ok(Some(r)) => r,
        Ok(None) => return problem(StatusCode::NOT_FOUND, "unknown-record", format!("no evidence record {id}")),
        Err(e) => return e.into_response(),
    };
    match p.format.as_deref() {
        None | Some("json") => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Some("tlog-proof") => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], r.to_tlog_proof().to_text()).into_response(),
        Some(other) => problem(StatusCode::BAD_REQUEST, "bad-format", format!("format {other:?}: use json or tlog-proof")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct DigestStateQuery {
    digest: String,
    /// `sha-256` or `sm3` (default: the chain suite's hash).
    alg: Option<String>,
    height: Option<u64>,
}

/// `GET /v1/evidence/state?digest=`: a state receipt saying whether (and when first) a digest
/// was deposited, as of a height.
async fn digest_state_route(State(q): State<Query>, UrlQuery(p): UrlQuery<DigestStateQuery>, kept: bool) -> Response {
    if !kept {
        // An absence proof here would be true of the tree and false of the deposits.
        return problem(StatusCode::NOT_FOUND, "no-digest-state", "this chain keeps no evidence digest state (its genesis turns digest_state off)");
    }
    let digest = match parse_hash(&p.digest, "digest") {
        Ok(d) => d,
        Err(r) => return r,
    };
    let alg = match p.alg.as_deref() {
        None => DigestAlg::for_suite(q.suite()),
        Some("sha-256") => DigestAlg::Sha256,
        Some("sm3") => DigestAlg::Sm3,
        Some(other) => return problem(StatusCode::BAD_REQUEST, "bad-query", format!("alg {other:?}: use sha-256 or sm3")),
    };
    match q.state_receipt(&digest_state_key(alg, &digest), p.height) {
        Ok(r) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Err(e) => e.into_response(),
    }
}

//! The module's queries, mounted by the framework at `/v1/registry`:
//!
//! * `GET /` the registries; `GET /{g}` one, with its latest schema; `GET /{g}/schemas/{v}`;
//! * `GET /{g}/entries[?holder=|field=&value=|status=][&after=&limit=]` entries by key, holder,
//!   indexed field or status (index candidates, each checked against the entry's current state);
//! * `GET /{g}/entries/{k}[?height=]` an entry as of a height, with its content;
//! * `GET /{g}/entries/{k}/history` every version, each with its receipt;
//! * `GET /{g}/entries/{k}/proof[?height=]` a state receipt: "entry K of registry G is at
//!   version v with content digest c and status s" or "has no entry K", as of a height;
//! * `GET /{g}/status/{purpose}` the registry's status list (bits from state).

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_module::{HostError, Query, problem};
use cairn_types::codec::Reader;
use cairn_types::receipt::{LEAF_RECEIPT_FORMAT, LeafReceipt};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json::{entry_json, registry_json, version_json};
use crate::wire::{self, Entry, MAX_KEY, MODULE, Purpose, Registry, STATUS_CHUNK_BITS, Status, Version};
use crate::{INDEX_FIELD, INDEX_HOLDER, INDEX_KEYS, INDEX_REGISTRIES, INDEX_STATUS, str_key};

/// Most entries or registries one listing returns, and the default.
const MAX_LIST: usize = 500;
const DEFAULT_LIST: usize = 50;
/// Most index candidates one listing looks at (stale ones, from an entry's earlier holder,
/// field values or status, are skipped).
const MAX_CANDIDATES: usize = 20_000;
/// Most versions one history returns (each with a receipt).
const MAX_HISTORY: u32 = 1000;

pub fn router() -> Router<Query> {
    Router::new()
        .route("/", get(registries))
        .route("/{g}", get(registry))
        .route("/{g}/schemas/{v}", get(schema))
        .route("/{g}/entries", get(entries))
        .route("/{g}/entries/{k}", get(entry))
        .route("/{g}/entries/{k}/history", get(history))
        .route("/{g}/entries/{k}/proof", get(proof))
        .route("/{g}/status/{purpose}", get(status_list))
}

fn json_response(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

fn bad(detail: impl Into<String>) -> Response {
    problem(StatusCode::BAD_REQUEST, "bad-query", detail)
}

fn params<T: serde::de::DeserializeOwned>(raw: Option<String>, takes: &str) -> Result<T, Response> {
    serde_urlencoded::from_str(raw.as_deref().unwrap_or("")).map_err(|e| bad(format!("{e} (this query takes {takes})")))
}

fn host(e: HostError) -> Response {
    e.into_response()
}

fn no_registry(g: &str) -> Response {
    problem(StatusCode::NOT_FOUND, "registry.no-registry", format!("no registry {g:?}"))
}

fn decode<T>(what: &str, r: Result<T, cairn_types::codec::DecodeError>) -> Result<T, Response> {
    r.map_err(|e| host(HostError::internal(format!("registry state {what}: {e}"))))
}

/// A registry as of `height` (latest durable: `None`).
pub fn registry_at(q: &Query, g: &str, height: Option<u64>) -> Result<Registry, Response> {
    if !wire::valid_registry_id(g) {
        return Err(no_registry(g));
    }
    let v = q.state_value(&wire::registry_key(g), height).map_err(host)?.ok_or_else(|| no_registry(g))?;
    decode(g, Registry::decode(&v))
}

/// An entry as of `height`, if it exists then.
pub fn entry_at(q: &Query, g: &str, k: &str, height: Option<u64>) -> Result<Option<Entry>, Response> {
    if k.is_empty() || k.len() > MAX_KEY {
        return Ok(None);
    }
    let v = q.state_value(&wire::entry_state_key(g, k), height).map_err(host)?;
    v.map(|v| decode(k, Entry::decode(&v))).transpose()
}

fn schema_json(q: &Query, g: &str, v: u32) -> Result<Value, Response> {
    let bytes = q.state_value(&wire::schema_key(g, v), None).map_err(host)?;
    let bytes = bytes.ok_or_else(|| problem(StatusCode::NOT_FOUND, "registry.no-schema", format!("registry {g:?} has no schema version {v}")))?;
    serde_json::from_slice(&bytes).map_err(|e| host(HostError::internal(format!("registry {g} schema {v}: {e}"))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ListParams {
    after: Option<String>,
    limit: Option<usize>,
}

async fn registries(State(q): State<Query>, RawQuery(raw): RawQuery) -> Response {
    let p: ListParams = match params(raw, "after, limit") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST);
    let lower = p.after.as_deref().map(|a| [str_key(&[a]), vec![0]].concat()).unwrap_or_default();
    let hits = match q.index_range(INDEX_REGISTRIES, &lower, None, false, limit) {
        Ok(h) => h,
        Err(e) => return host(e),
    };
    let mut out = Vec::new();
    for (k, _) in hits {
        let Ok(g) = Reader::new(&k).str("registry", wire::MAX_REGISTRY_ID).map(str::to_string) else { continue };
        match registry_at(&q, &g, None) {
            Ok(r) => out.push(registry_json(&g, &r)),
            Err(r) => return r,
        }
    }
    json_response(json!({"registries": out}))
}

async fn registry(State(q): State<Query>, Path(g): Path<String>) -> Response {
    let r = match registry_at(&q, &g, None) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let mut v = registry_json(&g, &r);
    match schema_json(&q, &g, r.schema_version) {
        Ok(s) => v["schema"] = s,
        Err(r) => return r,
    }
    json_response(v)
}

async fn schema(State(q): State<Query>, Path((g, v)): Path<(String, u32)>) -> Response {
    if let Err(r) = registry_at(&q, &g, None) {
        return r;
    }
    match schema_json(&q, &g, v) {
        Ok(s) => json_response(json!({"registry": g, "schema_version": v, "schema": s})),
        Err(r) => r,
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct EntriesParams {
    holder: Option<String>,
    field: Option<String>,
    value: Option<String>,
    status: Option<String>,
    after: Option<String>,
    limit: Option<usize>,
}

/// The smallest byte string above every string that starts with `prefix`.
fn prefix_end(prefix: &[u8]) -> Option<Vec<u8>> {
    let mut end = prefix.to_vec();
    while let Some(last) = end.pop() {
        if last < 0xff {
            end.push(last + 1);
            return Some(end);
        }
    }
    None
}

async fn entries(State(q): State<Query>, Path(g): Path<String>, RawQuery(raw): RawQuery) -> Response {
    let p: EntriesParams = match params(raw, "holder, field and value, status, after, limit") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let registry = match registry_at(&q, &g, None) {
        Ok(r) => r,
        Err(r) => return r,
    };
    let status = match p.status.as_deref().map(|s| Status::from_name(s).ok_or(s)) {
        None => None,
        Some(Ok(s)) => Some(s),
        Some(Err(s)) => return bad(format!("status {s:?} is not active, suspended or revoked")),
    };
    let (index, prefix, filter): (&'static str, Vec<u8>, Box<dyn Fn(&Entry, &Value) -> bool + Send>) = match (&p.holder, &p.field, &p.value, status) {
        (None, None, None, None) => (INDEX_KEYS, str_key(&[&g]), Box::new(|_, _| true)),
        (Some(h), None, None, None) => {
            let h2 = h.clone();
            (INDEX_HOLDER, str_key(&[&g, h]), Box::new(move |e, _| e.current.holder == h2))
        }
        (None, Some(f), Some(v), None) => {
            let indexed = match schema_json(&q, &g, registry.schema_version) {
                Ok(s) => s["x-cairn-indexed"].as_array().is_some_and(|a| a.iter().any(|x| x == f.as_str())),
                Err(r) => return r,
            };
            if !indexed {
                return bad(format!("field {f:?} is not indexed in registry {g:?} (its schema's x-cairn-indexed)"));
            }
            let (f2, v2) = (f.clone(), v.clone());
            (INDEX_FIELD, str_key(&[&g, f, v]), Box::new(move |_, c| c.pointer(&format!("/fields/{f2}")).is_some_and(|x| crate::schema::index_value(x) == v2)))
        }
        (None, None, None, Some(s)) => {
            let mut w = cairn_types::codec::Writer::new();
            w.str(&g).u8(s as u8);
            (INDEX_STATUS, w.into_bytes(), Box::new(move |e, _| e.current.status == s))
        }
        _ => return bad("give at most one of holder, field with value, status"),
    };
    let limit = p.limit.unwrap_or(DEFAULT_LIST).clamp(1, MAX_LIST);
    let lower = match &p.after {
        Some(a) => [prefix.as_slice(), &str_key(&[a]), &[0]].concat(),
        None => prefix.clone(),
    };
    let upper = prefix_end(&prefix);
    let mut out = Vec::new();
    let mut next = None;
    let mut seen = 0;
    let mut from = lower;
    'pages: while seen < MAX_CANDIDATES {
        let hits = match q.index_range(index, &from, upper.as_deref(), false, limit) {
            Ok(h) => h,
            Err(e) => return host(e),
        };
        if hits.is_empty() {
            break;
        }
        for (k, _) in &hits {
            seen += 1;
            let Ok(key) = Reader::new(&k[prefix.len()..]).str("key", MAX_KEY).map(str::to_string) else { continue };
            let Some(e) = (match entry_at(&q, &g, &key, None) {
                Ok(e) => e,
                Err(r) => return r,
            }) else {
                continue;
            };
            let content = if index == INDEX_FIELD {
                match content_at(&q, &e, None) {
                    Ok(c) => c,
                    Err(r) => return r,
                }
            } else {
                Value::Null
            };
            if filter(&e, &content) {
                out.push(entry_json(&g, &key, &e));
                if out.len() == limit {
                    next = Some(key);
                    break 'pages;
                }
            }
        }
        from = [hits.last().expect("not empty").0.as_slice(), &[0]].concat();
    }
    json_response(json!({"registry": g, "entries": out, "next_after": next}))
}

/// The content of an entry's version (from state, by its digest).
fn content_at(q: &Query, e: &Entry, height: Option<u64>) -> Result<Value, Response> {
    let bytes = q.state_value(&wire::content_key(&e.current.content_digest), height).map_err(host)?;
    let bytes = bytes.ok_or_else(|| host(HostError::internal("registry content missing for its digest")))?;
    serde_json::from_slice(&bytes).map_err(|e| host(HostError::internal(format!("registry content: {e}"))))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct AtParams {
    height: Option<u64>,
}

fn no_entry(g: &str, k: &str, height: Option<u64>) -> Response {
    let at = height.map(|h| format!(" as of block {h}")).unwrap_or_default();
    problem(StatusCode::NOT_FOUND, "registry.no-entry", format!("registry {g:?} has no entry {k:?}{at}"))
}

async fn entry(State(q): State<Query>, Path((g, k)): Path<(String, String)>, RawQuery(raw): RawQuery) -> Response {
    let p: AtParams = match params(raw, "height") {
        Ok(p) => p,
        Err(r) => return r,
    };
    if let Err(r) = registry_at(&q, &g, p.height) {
        return r;
    }
    let e = match entry_at(&q, &g, &k, p.height) {
        Ok(Some(e)) => e,
        Ok(None) => return no_entry(&g, &k, p.height),
        Err(r) => return r,
    };
    let mut v = entry_json(&g, &k, &e);
    match content_at(&q, &e, p.height) {
        Ok(c) => v["content"] = c,
        Err(r) => return r,
    }
    v["as_of_height"] = json!(p.height.unwrap_or_else(|| q.height()));
    json_response(v)
}

/// The receipt of the leaf `leaf` (a version or schema leaf of this module).
pub fn leaf_receipt(q: &Query, leaf: u64, kind: u8) -> Result<LeafReceipt, HostError> {
    let p = q.leaf_proof(leaf)?;
    Ok(LeafReceipt {
        format: LEAF_RECEIPT_FORMAT.into(),
        chain_id: q.genesis().chain_id.clone(),
        module: MODULE.into(),
        kind,
        leaf_index: p.leaf_index,
        leaf: p.leaf,
        tree_size: p.tree_size,
        inclusion_proof: p.inclusion_proof,
        checkpoint: p.checkpoint,
    })
}

async fn history(State(q): State<Query>, Path((g, k)): Path<(String, String)>) -> Response {
    if let Err(r) = registry_at(&q, &g, None) {
        return r;
    }
    let e = match entry_at(&q, &g, &k, None) {
        Ok(Some(e)) => e,
        Ok(None) => return no_entry(&g, &k, None),
        Err(r) => return r,
    };
    let q2 = q.clone();
    let run = tokio::task::spawn_blocking(move || -> Result<Vec<Value>, Response> {
        let first = e.current.version.saturating_sub(MAX_HISTORY - 1).max(1);
        let mut out = Vec::new();
        for n in first..=e.current.version {
            let bytes = q2.state_value(&wire::version_key(&g, &k, n), None).map_err(host)?;
            let v = decode(&k, Version::decode(&bytes.ok_or_else(|| host(HostError::internal("a version record is missing")))?))?;
            let mut j = version_json(&v);
            j["receipt"] = match leaf_receipt(&q2, v.leaf, wire::KIND_VERSION) {
                Ok(r) => serde_json::to_value(r).expect("a receipt serialises"),
                // Durable but not yet under a signed checkpoint, or not yet durable.
                Err(_) => Value::Null,
            };
            out.push(j);
        }
        Ok(out)
    })
    .await;
    match run {
        Ok(Ok(versions)) => json_response(json!({"versions": versions})),
        Ok(Err(r)) => r,
        Err(e) => host(HostError::internal(format!("history task: {e}"))),
    }
}

async fn proof(State(q): State<Query>, Path((g, k)): Path<(String, String)>, RawQuery(raw): RawQuery) -> Response {
    let p: AtParams = match params(raw, "height") {
        Ok(p) => p,
        Err(r) => return r,
    };
    if !wire::valid_registry_id(&g) {
        return no_registry(&g);
    }
    if k.is_empty() || k.len() > MAX_KEY || k.chars().any(char::is_control) {
        return bad("an entry key is 1 to 256 bytes without control characters");
    }
    match q.state_receipt(&wire::entry_state_key(&g, &k), p.height) {
        Ok(r) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Err(e) => host(e),
    }
}

/// The bits of a registry's status list (`entries` of them, at least one chunk), as of the
/// latest durable block.
pub fn status_bits(q: &Query, g: &str, purpose: Purpose, entries: u64) -> Result<Vec<u8>, Response> {
    let chunks = entries.div_ceil(STATUS_CHUNK_BITS).max(1);
    let mut bits = Vec::with_capacity((chunks * STATUS_CHUNK_BITS / 8) as usize);
    for c in 0..chunks {
        let chunk = q.state_value(&wire::status_chunk_key(g, purpose, c as u32), None).map_err(host)?;
        bits.extend(chunk.unwrap_or_else(|| vec![0; (STATUS_CHUNK_BITS / 8) as usize]));
    }
    Ok(bits)
}

async fn status_list(State(q): State<Query>, Path((g, purpose)): Path<(String, String)>) -> Response {
    let Some(purpose) = Purpose::from_name(&purpose) else {
        return problem(StatusCode::NOT_FOUND, "registry.no-status-list", format!("no status list {purpose:?} (revocation or suspension)"));
    };
    let r = match registry_at(&q, &g, None) {
        Ok(r) => r,
        Err(r) => return r,
    };
    match status_bits(&q, &g, purpose, r.entries) {
        Ok(bits) => json_response(json!({
            "registry": g, "purpose": purpose.name(), "entries": r.entries, "as_of_height": q.height(),
            "bits": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, bits),
        })),
        Err(r) => r,
    }
}

//! The module's queries, mounted by the framework at `/v1/registry`:
//!
//! * `GET /` the registries; `GET /{g}` one, with its latest schema; `GET /{g}/schemas/{v}`;
//! * `GET /{g}/entries[?holder=|field=&value=|status=][&after=&limit=]` entries by key, holder,
//!   indexed field or status (index candidates, each checked against the entry's current state);
//! * `GET /{g}/entries/{k}[?height=]` an entry as of a height, with its content;
//! * `GET /{g}/entries/{k}/history` every version, each with its receipt;
//! * `GET /{g}/entries/{k}/proof[?height=]` a state receipt: "entry K of registry G is at
//!   version v with content digest c and status s" or "has no entry K", as of a height;
//! * `GET /{g}/status/{purpose}` the registry's status list (bits from state);
//! * `GET /{g}/entries/{k}/credential[?version=&cryptosuite=]` an entry version as a W3C
//!   Verifiable Credential signed by this node's agent (a registrar of the authority);
//! * `GET /{g}/status/{purpose}/{page}` a page of the status list as a Bitstring Status List
//!   credential; `.../{page}/proof` the state receipts of its bits;
//! * `GET /credentials/context/v1` the JSON-LD context of registry credentials;
//! * `POST /credentials/verify` `{"credential", "disclosures"?}`: this node's verdict on a
//!   registry credential (its proof, its issuer a member key of the registry's authority, its
//!   status now from state, each disclosure against its digest).

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_module::{HostError, Query, problem};
use cairn_types::codec::Reader;
use cairn_types::receipt::{LEAF_RECEIPT_FORMAT, LeafReceipt};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::json::{entry_json, registry_json, version_json};
use crate::wire::{self, Entry, MAX_KEY, MODULE, Purpose, Registry, STATUS_CHUNK_BITS, Status, Version};
use crate::{INDEX_FIELD, INDEX_HOLDER, INDEX_KEYS, INDEX_REGISTRIES, INDEX_STATUS, str_key};

/// Whether an index candidate (an entry, its content) still matches a listing's filter.
type Filter = dyn Fn(&Entry, &Value) -> bool + Send;

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
        .route("/{g}/entries/{k}/credential", get(credential))
        .route("/credentials/verify", post(verify_credential))
        .route("/credentials/context/v1", get(context))
        .route("/{g}/status/{purpose}/{page}", get(status_list_credential))
        .route("/{g}/status/{purpose}/{page}/proof", get(status_list_proof))
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
    let (index, prefix, filter): (&'static str, Vec<u8>, Box<Filter>) = match (&p.holder, &p.field, &p.value, status) {
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
    chunk_bits(q, g, purpose, 0..chunks as u32)
}

/// The bits of chunks `chunks` of a status list (a chunk never written: all clear).
fn chunk_bits(q: &Query, g: &str, purpose: Purpose, chunks: std::ops::Range<u32>) -> Result<Vec<u8>, Response> {
    let mut bits = Vec::with_capacity(chunks.len() * (STATUS_CHUNK_BITS / 8) as usize);
    for c in chunks {
        let chunk = q.state_value(&wire::status_chunk_key(g, purpose, c), None).map_err(host)?;
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

/// The agent, if it may issue for registry `r`: a node issues only for its own organisation's
/// registries, with its own organisation's key.
fn issuer(q: &Query, g: &str, r: &Registry) -> Result<cairn_crypto::PublicKey, Response> {
    let Some(agent) = q.agent() else {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "registry.no-agent",
            "this node has no agent key (agent_key in its config): credentials are issued by the authority's own node",
        ));
    };
    if agent.organisation != r.authority {
        return Err(problem(
            StatusCode::FORBIDDEN,
            "registry.not-authority",
            format!("registry {g:?} belongs to {:?}; this node signs for {:?}: ask the authority's node", r.authority, agent.organisation),
        ));
    }
    cairn_crypto::PublicKey::from_hex(q.suite(), &agent.key).map_err(|e| host(HostError::internal(format!("agent key: {e}"))))
}

fn cryptosuite(q: &Query, name: Option<&str>) -> Result<cairn_vc::Cryptosuite, Response> {
    let allowed = cairn_vc::Cryptosuite::for_suite(q.suite());
    match name {
        None => Ok(allowed[0]),
        Some(n) => allowed.iter().copied().find(|c| c.name() == n).ok_or_else(|| {
            let names: Vec<&str> = allowed.iter().map(|c| c.name()).collect();
            bad(format!("cryptosuite {n:?}: a {} chain signs with {}", q.suite(), names.join(" or ")))
        }),
    }
}

fn sign(q: &Query, unsigned: &Value, cs: cairn_vc::Cryptosuite, key: &cairn_crypto::PublicKey, created: &str) -> Result<Value, Response> {
    let mut refusal = None;
    let signed = cairn_vc::proof::sign(unsigned, cs, key, created, &crate::credential::contexts(), |data| match q.sign_as_agent(data) {
        Ok(s) => s,
        Err(e) => {
            refusal = Some(e);
            Vec::new()
        }
    });
    if let Some(e) = refusal {
        return Err(problem(StatusCode::from_u16(e.status).unwrap_or(StatusCode::FORBIDDEN), &e.code, e.detail));
    }
    signed.map_err(|e| host(HostError::internal(format!("credential: {e}"))))
}

fn vc_response(v: &Value) -> Response {
    ([(header::CONTENT_TYPE, "application/vc")], serde_json::to_string_pretty(v).expect("JSON")).into_response()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialParams {
    version: Option<u32>,
    cryptosuite: Option<String>,
}

async fn credential(State(q): State<Query>, Path((g, k)): Path<(String, String)>, RawQuery(raw): RawQuery, headers: axum::http::HeaderMap) -> Response {
    let p: CredentialParams = match params(raw, "version, cryptosuite") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let built = (|| {
        let cs = cryptosuite(&q, p.cryptosuite.as_deref())?;
        let r = registry_at(&q, &g, None)?;
        let e = entry_at(&q, &g, &k, None)?.ok_or_else(|| no_entry(&g, &k, None))?;
        let version = match p.version {
            None => e.current.clone(),
            Some(n) if n == e.current.version => e.current.clone(),
            Some(n) => {
                let bytes = q.state_value(&wire::version_key(&g, &k, n), None).map_err(host)?;
                let bytes = bytes.ok_or_else(|| problem(StatusCode::NOT_FOUND, "registry.no-version", format!("entry {k:?} has no version {n}")))?;
                decode("version", Version::decode(&bytes))?
            }
        };
        let key = issuer(&q, &g, &r)?;
        let bytes = q.state_value(&wire::content_key(&version.content_digest), None).map_err(host)?;
        let bytes = bytes.ok_or_else(|| host(HostError::internal("registry content missing for its digest")))?;
        let content: Value = serde_json::from_slice(&bytes).map_err(|e| host(HostError::internal(format!("registry content: {e}"))))?;
        let base = q.public_base(headers.get(header::HOST).and_then(|h| h.to_str().ok()));
        let chain = hex::encode(q.genesis().hash());
        let facts = crate::credential::Facts {
            base: &base,
            chain: &chain,
            registry_id: &g,
            registry: &r,
            key: &k,
            entry: &e,
            version: &version,
            content: &content,
            issuer: &key,
        };
        let unsigned = crate::credential::entry_credential(&facts);
        sign(&q, &unsigned, cs, &key, &cairn_types::format_time_ms(version.time_ms))
    })();
    match built {
        Ok(v) => vc_response(&v),
        Err(r) => r,
    }
}

/// The purpose, registry and page of a status list request, with the page's chunk numbers.
fn status_page(q: &Query, g: &str, purpose: &str, page: &str) -> Result<(Purpose, Registry, u64, std::ops::Range<u32>), Response> {
    let Some(purpose) = Purpose::from_name(purpose) else {
        return Err(problem(StatusCode::NOT_FOUND, "registry.no-status-list", format!("no status list {purpose:?} (revocation or suspension)")));
    };
    let r = registry_at(q, g, None)?;
    let pages = r.entries.div_ceil(crate::credential::STATUS_LIST_BITS).max(1);
    let page: u64 = page.parse().ok().filter(|p| *p < pages).ok_or_else(|| {
        problem(StatusCode::NOT_FOUND, "registry.no-status-list", format!("registry {g:?} has status list pages 0 to {}, not {page:?}", pages - 1))
    })?;
    let per_page = (crate::credential::STATUS_LIST_BITS / STATUS_CHUNK_BITS) as u32;
    let first = u32::try_from(page).ok().and_then(|p| p.checked_mul(per_page)).ok_or_else(|| bad("no such page"))?;
    Ok((purpose, r, page, first..first + per_page))
}

async fn status_list_credential(
    State(q): State<Query>,
    Path((g, purpose, page)): Path<(String, String, String)>,
    RawQuery(raw): RawQuery,
    headers: axum::http::HeaderMap,
) -> Response {
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct P {
        cryptosuite: Option<String>,
    }
    let p: P = match params(raw, "cryptosuite") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let built = (|| {
        let cs = cryptosuite(&q, p.cryptosuite.as_deref())?;
        let (purpose, r, page, chunks) = status_page(&q, &g, &purpose, &page)?;
        let key = issuer(&q, &g, &r)?;
        let bits = chunk_bits(&q, &g, purpose, chunks)?;
        let base = q.public_base(headers.get(header::HOST).and_then(|h| h.to_str().ok()));
        let unsigned = crate::credential::status_list_credential(&base, &g, purpose, page, &bits, &key);
        // The list changes with every status change; its proof's time is the registry's
        // creation block's, so the same bits give the same credential.
        sign(&q, &unsigned, cs, &key, &cairn_types::format_time_ms(r.created_time_ms))
    })();
    match built {
        Ok(v) => {
            let mut resp = vc_response(&v);
            resp.headers_mut().insert("cairn-state-height", q.height().into());
            resp
        }
        Err(r) => r,
    }
}

/// The state receipts of a status list page's chunks as of one height: with them anyone can
/// check that the list's bits are the chain's (a chunk never written is an absence proof: all
/// its bits are clear).
async fn status_list_proof(State(q): State<Query>, Path((g, purpose, page)): Path<(String, String, String)>, RawQuery(raw): RawQuery) -> Response {
    let p: AtParams = match params(raw, "height") {
        Ok(p) => p,
        Err(r) => return r,
    };
    let built = (|| {
        let (purpose, _, page, chunks) = status_page(&q, &g, &purpose, &page)?;
        let height = p.height.unwrap_or_else(|| q.height());
        let mut receipts = Vec::new();
        for c in chunks {
            let r = q.state_receipt(&wire::status_chunk_key(&g, purpose, c), Some(height)).map_err(host)?;
            receipts.push(serde_json::to_value(&r).expect("a receipt is JSON"));
        }
        Ok::<_, Response>(
            json!({"registry": g, "purpose": purpose.name(), "page": page, "as_of_height": height, "first_chunk": page * 8, "receipts": receipts}),
        )
    })();
    match built {
        Ok(v) => json_response(v),
        Err(r) => r,
    }
}

async fn context() -> Response {
    ([(header::CONTENT_TYPE, "application/ld+json")], serde_json::to_string_pretty(&crate::credential::context_document()).expect("JSON")).into_response()
}

/// Largest credential-check request.
const MAX_VERIFY_BYTES: usize = 256 * 1024;

async fn verify_credential(State(q): State<Query>, body: axum::body::Bytes) -> Response {
    if body.len() > MAX_VERIFY_BYTES {
        return problem(StatusCode::PAYLOAD_TOO_LARGE, "too-large", format!("a credential check is at most {MAX_VERIFY_BYTES} bytes"));
    }
    let req: Value = match serde_json::from_slice(&body) {
        Ok(v @ Value::Object(_)) => v,
        Ok(_) => return bad("the body is {\"credential\": {...}, \"disclosures\": [...]}"),
        Err(e) => return bad(format!("the body is not JSON: {e}")),
    };
    if let Some(k) = req.as_object().and_then(|o| o.keys().find(|k| !["credential", "disclosures"].contains(&k.as_str()))) {
        return bad(format!("unknown member {k:?} (credential, disclosures)"));
    }
    let vc = &req["credential"];
    if !vc.is_object() {
        return bad("\"credential\" is the credential, a JSON object");
    }
    if req.get("disclosures").is_some_and(|d| !d.is_array()) {
        return bad("\"disclosures\" is an array of disclosures");
    }
    json_response(check_credential(&q, vc, req.get("disclosures")))
}

/// The node's verdict on a credential: every check that failed is named.
pub fn check_credential(q: &Query, vc: &Value, disclosures: Option<&Value>) -> Value {
    let mut problems: Vec<String> = Vec::new();
    let verified = match cairn_vc::proof::verify(vc, &crate::credential::contexts()) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("proof: {e}"));
            None
        }
    };
    let subject = &vc["credentialSubject"];
    let (g, k) = (subject["registry"].as_str().unwrap_or(""), subject["entryKey"].as_str().unwrap_or(""));
    let mut status = json!({});
    let mut authority = Value::Null;
    match registry_at(q, g, None) {
        Err(_) => problems.push(format!("this chain has no registry {g:?}")),
        Ok(r) => {
            authority = json!(r.authority);
            if let Some(v) = &verified {
                match q.member_organisation(v.key.as_bytes()) {
                    Some(o) if o == r.authority => {}
                    Some(o) => problems.push(format!("signed by a key of {o:?}, not of the registry's authority {:?}", r.authority)),
                    None => problems.push("signed by a key that is no (longer a) member of this chain".into()),
                }
            }
            match entry_at(q, g, k, None) {
                Ok(Some(e)) => {
                    for entry in vc["credentialStatus"].as_array().into_iter().flatten() {
                        let index = entry["statusListIndex"].as_str().and_then(|i| i.parse::<u64>().ok());
                        if index != Some(e.status_index % crate::credential::STATUS_LIST_BITS) {
                            problems.push("its status list index is not the entry's".into());
                        }
                    }
                    for p in Purpose::ALL {
                        let set = p.bit(e.current.status);
                        status[p.name()] = json!(set);
                        if set {
                            problems.push(format!("the entry is {} (version {})", e.current.status.name(), e.current.version));
                        }
                    }
                    let v = subject["version"].as_u64().unwrap_or(0);
                    if v != u64::from(e.current.version) {
                        status["current_version"] = json!(e.current.version);
                    }
                }
                Ok(None) => problems.push(format!("registry {g:?} has no entry {k:?}")),
                Err(_) => problems.push("the entry could not be read".into()),
            }
        }
    }
    let mut disclosed = serde_json::Map::new();
    if let Some(list) = disclosures {
        let content = json!({"personal": subject["personalDigests"]});
        for d in list.as_array().into_iter().flatten().take(64) {
            let field = d["field"].as_str().unwrap_or("?").to_string();
            match crate::personal::verify_disclosure(q.suite(), &content, d) {
                Ok(()) => {
                    disclosed.insert(field, d["value"].clone());
                }
                Err(e) => problems.push(format!("disclosure of {field:?}: {e}")),
            }
        }
    }
    json!({
        "valid": problems.is_empty(),
        "problems": problems,
        "cryptosuite": verified.as_ref().map(|v| v.cryptosuite.name()),
        "verification_method": verified.as_ref().map(|v| v.verification_method.clone()),
        "authority": authority,
        "registry": g,
        "key": k,
        "version": subject["version"],
        "status": status,
        "disclosed": disclosed,
        "as_of_height": q.height(),
    })
}

//! The HTTP/JSON API under `/v1`, plus `/metrics`, `/healthz` and the web page at `/`.
//! Errors are RFC 7807 `application/problem+json`.

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use cairn_crypto::Hash;
use cairn_exec::TxError;
use cairn_types::hexfmt;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::error::{Error, Result};
use crate::ledger::{Admitted, Ledger, NotYetSigned, SubmitError, TxOutcome, TxStatus};

/// The core's own OpenAPI document; each module's fragment is merged into it.
pub const OPENAPI: &str = include_str!("openapi.json");

/// The API router: the core's routes, then each module's router mounted at `/v1/<module>`
/// (so a module's routes cannot leave its namespace), its OpenAPI fragment merged in and its
/// console files served. Fails if a module's fragment is malformed or collides.
pub fn router(ledger: Arc<Ledger>) -> Result<Router> {
    let body_limit = ledger.config.limits.max_request_bytes;
    // Both documents are fixed once the node runs: serialised once, shared by every answer.
    let openapi = Bytes::from(openapi_document(ledger.executor())?);
    let modules: Vec<Value> = ledger
        .executor()
        .modules()
        .map(|m| {
            let console = m.console().iter().any(|f| f.name == "page.js").then(|| format!("/console/modules/{}/page.js", m.name()));
            json!({"name": m.name(), "console": console})
        })
        .collect();
    let modules = Bytes::from(json!({ "modules": modules }).to_string());
    let host: Arc<dyn cairn_module::Host> = ledger.clone();
    let guard = Arc::new(crate::access::Guard::new(&ledger.config.access, ledger.genesis(), Some(Arc::clone(&ledger)))?);
    let access = Bytes::from(access_document(&guard, ledger.genesis().suite));
    let mut app = Router::new()
        .route("/", get(crate::console::index))
        .route("/console/{name}", get(crate::console::asset))
        .route("/console/modules/{module}/{file}", get(crate::console::module_asset))
        .route("/v1/events", get(crate::console::events))
        .route("/v1/qr", get(crate::console::qr))
        .route("/healthz", get(healthz))
        .route("/metrics", get(metrics))
        .route("/v1/openapi.json", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi) }))
        .route("/v1/modules", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], modules) }))
        .route("/v1/access", get(move || async move { ([(header::CONTENT_TYPE, "application/json")], access) }))
        .route("/v1/status", get(status))
        .route("/v1/genesis", get(genesis))
        .route("/v1/trust", get(trust))
        .route("/v1/transactions", post(submit))
        .route("/v1/transactions/{id}", get(tx_status))
        .route("/v1/state/proof", get(state_proof))
        .route("/v1/leaves/{index}/receipt", get(leaf_receipt))
        .route("/v1/checkpoint", get(checkpoint))
        .route("/v1/consistency", get(consistency))
        .route("/v1/blocks", get(blocks))
        .route("/v1/blocks/{id}", get(block))
        .route("/v1/finality", get(finality))
        .route("/v1/faults", get(faults))
        .with_state(Arc::clone(&ledger));
    let mut roots: Vec<&str> = Vec::new();
    for m in ledger.executor().modules() {
        let query = cairn_module::Query::new(m.name(), m.indexes(), Arc::clone(&host));
        app = app.nest(&format!("/v1/{}", m.name()), m.routes().with_state(query.clone()));
        if let Some(b) = m.binding() {
            check_binding_root(b.root, &roots).map_err(|why| Error::OpenApi { module: m.name().to_string(), why })?;
            roots.push(b.root);
            app = app.nest(b.root, b.router.with_state(query));
        }
    }
    Ok(app
        .fallback(|| async { problem(StatusCode::NOT_FOUND, "not-found", "no such endpoint; see /v1/openapi.json") })
        .layer(axum::middleware::from_fn_with_state(guard, crate::access::guard))
        .layer(DefaultBodyLimit::max(body_limit)))
}

/// A binding's root is one path segment of its own: not the core's, not another binding's.
fn check_binding_root(root: &str, taken: &[&str]) -> Result<(), String> {
    let segment = root.strip_prefix('/').unwrap_or_default();
    let valid = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid || ["v1", "console", "metrics", "healthz"].contains(&segment) {
        return Err(format!("binding root {root:?} is not a path segment of its own"));
    }
    if taken.contains(&root) {
        return Err(format!("binding root {root} is claimed by another module"));
    }
    Ok(())
}

/// What `GET /v1/access` answers: the mode and how to authenticate (for the console and
/// clients to know before a `401`).
fn access_document(guard: &crate::access::Guard, suite: cairn_crypto::Suite) -> String {
    json!({
        "mode": guard.mode(),
        "signature": {"label": cairn_access::httpsig::LABEL, "components": cairn_access::httpsig::REQUIRED_COMPONENTS, "alg": cairn_access::httpsig::alg_name(suite), "max_age_s": cairn_access::httpsig::MAX_AGE_S},
        "bearer": {"prefix": cairn_access::token::PREFIX},
    })
    .to_string()
}

/// The core's OpenAPI document with every module's fragment merged in. A module's paths must
/// lie under `/v1/<module>`; its schema names must be new.
pub fn openapi_document(exec: &cairn_exec::Executor) -> Result<String> {
    let mut doc: Value = serde_json::from_str(OPENAPI).expect("the core OpenAPI document is JSON");
    for m in exec.modules() {
        let root = m.binding().map(|b| b.root);
        merge_fragment(&mut doc, m.name(), root, m.openapi()).map_err(|why| Error::OpenApi { module: m.name().to_string(), why })?;
    }
    Ok(serde_json::to_string_pretty(&doc).expect("JSON serialises"))
}

fn merge_fragment(doc: &mut Value, module: &str, binding_root: Option<&str>, fragment: Value) -> Result<(), String> {
    let Value::Object(mut fragment) = fragment else {
        return if fragment.is_null() { Ok(()) } else { Err("not a JSON object".into()) };
    };
    let prefix = format!("/v1/{module}");
    let under = |path: &str, root: &str| path == root || path.starts_with(&format!("{root}/"));
    if let Some(paths) = fragment.remove("paths") {
        let Value::Object(paths) = paths else { return Err("\"paths\" is not an object".into()) };
        for (path, item) in paths {
            if !under(&path, &prefix) && !binding_root.is_some_and(|root| under(&path, root)) {
                return Err(format!("path {path} is outside {prefix}"));
            }
            let slot = &mut doc["paths"][&path];
            if !slot.is_null() {
                return Err(format!("path {path} is already documented"));
            }
            *slot = item;
        }
    }
    if let Some(components) = fragment.remove("components") {
        let Value::Object(components) = components else { return Err("\"components\" is not an object".into()) };
        for (kind, entries) in components {
            let Value::Object(entries) = entries else { return Err(format!("components.{kind} is not an object")) };
            for (name, schema) in entries {
                let slot = &mut doc["components"][&kind][&name];
                if !slot.is_null() {
                    return Err(format!("components.{kind}.{name} is already defined"));
                }
                *slot = schema;
            }
        }
    }
    match fragment.keys().next() {
        Some(other) => Err(format!("unexpected member {other:?} (a fragment has paths and components)")),
        None => Ok(()),
    }
}

pub use cairn_module::{problem, problem_body};

/// A node-side failure: logged in full (with its causes), answered without details.
fn internal(e: Error) -> Response {
    cairn_module::host::internal_problem(&e.report().to_string())
}

fn tx_error_status(e: &TxError) -> StatusCode {
    match e {
        TxError::Oversized { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        TxError::UnknownSigner(_) | TxError::FrozenSigner(_) | TxError::Forbidden { .. } => StatusCode::FORBIDDEN,
        TxError::BadSignature => StatusCode::UNAUTHORIZED,
        TxError::Replay(_) => StatusCode::CONFLICT,
        TxError::Malformed(_)
        | TxError::WrongChain { .. }
        | TxError::WrongSuite { .. }
        | TxError::Expired { .. }
        | TxError::ExpiryTooFar { .. }
        | TxError::UnknownModule(_)
        | TxError::UnknownMethod { .. }
        | TxError::InvalidArgs(_) => StatusCode::BAD_REQUEST,
        TxError::Module(e) => StatusCode::from_u16(e.http_status).unwrap_or(StatusCode::BAD_REQUEST),
    }
}

/// The status `/v1/transactions` answers a refusal with.
pub(crate) fn submit_error_status(e: &SubmitError) -> StatusCode {
    match e {
        SubmitError::MempoolFull | SubmitError::Stopped(_) => StatusCode::SERVICE_UNAVAILABLE,
        SubmitError::OrgShare => StatusCode::TOO_MANY_REQUESTS,
        SubmitError::Tx(t) => tx_error_status(t),
    }
}

fn submit_error_response(e: &SubmitError) -> Response {
    match e {
        SubmitError::MempoolFull => {
            let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.to_string());
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        SubmitError::OrgShare => {
            let mut r = problem(StatusCode::TOO_MANY_REQUESTS, e.code(), e.to_string());
            r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            r
        }
        SubmitError::Tx(t) => problem(tx_error_status(t), e.code(), e.to_string()),
        SubmitError::Stopped(_) => problem(StatusCode::SERVICE_UNAVAILABLE, e.code(), e.to_string()),
    }
}

fn parse_hash(s: &str, what: &str) -> Result<Hash, Response> {
    hexfmt::decode_strict(s)
        .ok()
        .and_then(|v| v.try_into().ok())
        .ok_or_else(|| problem(StatusCode::BAD_REQUEST, "bad-id", format!("{what} must be 64 lowercase hex digits")))
}

async fn metrics(State(l): State<Arc<Ledger>>) -> impl IntoResponse {
    ([(header::CONTENT_TYPE, "application/openmetrics-text; version=1.0.0; charset=utf-8")], l.metrics.encode())
}

/// `ok` while the node does its job; a `503` problem naming the fault once a stage failed.
async fn healthz(State(l): State<Arc<Ledger>>) -> Response {
    match l.fatal() {
        None => {
            // Who answers: a validator starting under the same name asks (`twin.rs`).
            let who = [
                (header::HeaderName::from_static(crate::twin::VALIDATOR_HEADER), l.config.validator_name.clone()),
                (header::HeaderName::from_static(crate::twin::INSTANCE_HEADER), format!("{:016x}", l.instance)),
            ];
            let mut r = "ok\n".into_response();
            for (name, value) in who {
                if let Ok(v) = HeaderValue::from_str(&value) {
                    r.headers_mut().insert(name, v);
                }
            }
            r
        }
        Some(why) => problem(StatusCode::SERVICE_UNAVAILABLE, "node-stopped", format!("the node stopped after a fault and must be restarted: {why}")),
    }
}

async fn status(State(l): State<Arc<Ledger>>) -> Response {
    let g = l.genesis();
    let cp = l.latest_checkpoint();
    let consensus = l.consensus_status();
    axum::Json(json!({
        "chain_id": g.chain_id,
        "suite": g.suite,
        "genesis_hash": hex::encode(l.genesis_hash()),
        "origin": g.origin(),
        "height": l.height(),
        "finalized_height": consensus.as_ref().map_or(l.height(), |c| c.finalized_height),
        "log_size": l.log_size(),
        "state_root": l.state_root().ok().flatten().map(hex::encode),
        "checkpoint_size": cp.map(|c| c.0),
        "mempool_txs": l.mempool_len(),
        "disk_bytes": l.disk_bytes(),
        "validator": l.validator_name(),
        "role": if l.is_replicated() { "validator" } else { "validator (single node)" },
        "consensus": consensus,
        "validators": g.validators.len(),
        "organisations": g.organisations.iter().map(|o| json!({"id": o.id, "name": o.name})).collect::<Vec<_>>(),
        "block_interval_ms": g.params.block_interval_ms,
        "uptime_s": l.uptime().as_secs(),
        "version": env!("CARGO_PKG_VERSION"),
    }))
    .into_response()
}

async fn genesis(State(l): State<Arc<Ledger>>) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], l.genesis().to_json()).into_response()
}

async fn trust(State(l): State<Arc<Ledger>>) -> Response {
    axum::Json(l.genesis().trust_file()).into_response()
}

#[derive(Deserialize)]
struct SubmitQuery {
    #[serde(default)]
    wait: bool,
    timeout_ms: Option<u64>,
}

/// Splits a request body into transactions: `application/octet-stream` is a sequence of
/// `u32 length || transaction bytes`; JSON is `{"transactions": [..], "wait": bool}`, a list,
/// or one transaction, each transaction either hex of its canonical bytes or its JSON form.
fn parse_submission(l: &Ledger, headers: &HeaderMap, body: &[u8]) -> Result<(Vec<Vec<u8>>, bool), Response> {
    let max = l.config.limits.max_txs_per_request;
    let too_many = |n: usize| problem(StatusCode::PAYLOAD_TOO_LARGE, "too-many-transactions", format!("{n} transactions in one request, the limit is {max}"));
    let is_binary = headers.get(header::CONTENT_TYPE).is_some_and(|v| v.as_bytes().starts_with(b"application/octet-stream"));
    if is_binary {
        let mut txs = Vec::new();
        let mut rest = body;
        while !rest.is_empty() {
            if rest.len() < 4 {
                return Err(problem(StatusCode::BAD_REQUEST, "malformed", "body ends inside a length prefix"));
            }
            let len = u32::from_be_bytes(rest[..4].try_into().unwrap()) as usize;
            if rest.len() - 4 < len {
                return Err(problem(StatusCode::BAD_REQUEST, "malformed", format!("transaction {} is truncated", txs.len())));
            }
            txs.push(rest[4..4 + len].to_vec());
            rest = &rest[4 + len..];
            if txs.len() > max {
                return Err(too_many(txs.len()));
            }
        }
        if txs.is_empty() {
            return Err(problem(StatusCode::BAD_REQUEST, "malformed", "no transactions in the request"));
        }
        return Ok((txs, false));
    }
    let max_tx_bytes = l.genesis().params.max_tx_bytes as usize;
    let submission = crate::submission::parse(body, max, max_tx_bytes).map_err(|r| match r {
        crate::submission::Refusal::NotJson(why) => problem(StatusCode::BAD_REQUEST, "malformed-json", why),
        crate::submission::Refusal::Malformed(why) => problem(StatusCode::BAD_REQUEST, "malformed", why),
        crate::submission::Refusal::TooMany { max } => too_many(max + 1),
        crate::submission::Refusal::TooLarge { index, max_bytes } => {
            problem(StatusCode::PAYLOAD_TOO_LARGE, "transaction-too-large", format!("transaction {index} is longer than the chain's {max_bytes}-byte limit"))
        }
    })?;
    let mut txs = Vec::with_capacity(submission.items.len());
    for (i, item) in submission.items.into_iter().enumerate() {
        let bytes = match item {
            crate::submission::Item::Hex(s) => {
                hexfmt::decode_strict(s).map_err(|e| problem(StatusCode::BAD_REQUEST, "malformed", format!("transaction {i}: {e}")))?
            }
            crate::submission::Item::Json(raw) => {
                // One transaction's tree at a time in the whole node, from a slice the parser
                // already bounded: concurrent JSON submissions cannot multiply that memory.
                static ONE_TREE_AT_A_TIME: std::sync::Mutex<()> = std::sync::Mutex::new(());
                let _one = ONE_TREE_AT_A_TIME.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
                let obj: Value = serde_json::from_str(raw.get()).map_err(|e| problem(StatusCode::BAD_REQUEST, "malformed", format!("transaction {i}: {e}")))?;
                l.executor().tx_from_json(obj).map_err(|e| problem(tx_error_status(&e), e.code(), format!("transaction {i}: {e}")))?
            }
        };
        txs.push(bytes);
    }
    Ok((txs, submission.wait))
}

async fn submit(State(l): State<Arc<Ledger>>, Query(q): Query<SubmitQuery>, headers: HeaderMap, body: Bytes) -> Response {
    // Parsing and admission (signature checks) are CPU work: one task off the async workers.
    let ledger = Arc::clone(&l);
    let admitted = tokio::task::spawn_blocking(move || {
        let (txs, body_wait) = parse_submission(&ledger, &headers, &body)?;
        drop(body);
        Ok::<_, Response>((txs.len() == 1, body_wait, ledger.submit(&txs)))
    })
    .await;
    let (single, body_wait, verdicts) = match admitted {
        Ok(Ok(a)) => a,
        Ok(Err(r)) => return r,
        Err(source) => return internal(Error::Task { what: "admission task failed", source }),
    };
    let wait = q.wait || body_wait;
    if single && let Err(e) = &verdicts[0] {
        return submit_error_response(e);
    }
    if let Some(Err(e @ (SubmitError::MempoolFull | SubmitError::OrgShare))) = verdicts.first()
        && verdicts.iter().all(|v| matches!(v, Err(SubmitError::MempoolFull | SubmitError::OrgShare)))
    {
        // Nothing taken, and retrying later can help.
        return submit_error_response(e);
    }
    if let Some(Err(e @ SubmitError::Stopped(_))) = verdicts.first() {
        return submit_error_response(e);
    }
    if verdicts.iter().all(Result::is_err) {
        // Nothing was admitted: retrying the same request cannot help.
        let results: Vec<Value> = verdicts
            .iter()
            .filter_map(|v| v.as_ref().err())
            .map(|e| json!({"status": "rejected", "error": {"code": e.code(), "detail": e.to_string()}}))
            .collect();
        let mut body = problem_body(StatusCode::UNPROCESSABLE_ENTITY, "all-rejected", format!("all {} transactions were refused; see results", results.len()));
        body["results"] = Value::Array(results);
        return (StatusCode::UNPROCESSABLE_ENTITY, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response();
    }
    let timeout = Duration::from_millis(q.timeout_ms.unwrap_or(l.config.limits.max_wait_ms).min(l.config.limits.max_wait_ms));
    let mut results = Vec::with_capacity(verdicts.len());
    let mut all_committed = true;
    // Register every waiter before awaiting any, so none misses its block.
    let watches: Vec<_> = verdicts
        .iter()
        .map(|v| match v {
            Ok(a) if wait => l.watch(a.id),
            _ => None,
        })
        .collect();
    let deadline = tokio::time::Instant::now() + timeout;
    for (v, w) in verdicts.into_iter().zip(watches) {
        let item = match (v, w) {
            (Err(e), _) => {
                all_committed = false;
                json!({"status": "rejected", "error": {"code": e.code(), "detail": e.to_string()}})
            }
            (Ok(a), None) => {
                all_committed = false;
                admitted_json(a, "pending")
            }
            (Ok(a), Some(rx)) => match tokio::time::timeout_at(deadline, rx).await {
                Ok(Ok(TxOutcome::Committed(loc))) => {
                    let mut j = admitted_json(a, "committed");
                    j["block_height"] = json!(loc.height);
                    j["first_leaf"] = json!(loc.first_leaf);
                    j
                }
                Ok(Ok(TxOutcome::Rejected(e))) => {
                    all_committed = false;
                    let j = json!({"id": hex::encode(a.id), "status": "rejected", "error": {"code": e.code(), "detail": e.to_string()}});
                    if single {
                        // A single transaction refused at execution: its own status and code.
                        return problem(tx_error_status(&e), e.code(), e.to_string());
                    }
                    j
                }
                _ => {
                    all_committed = false;
                    l.unwatch(&a.id);
                    admitted_json(a, "pending")
                }
            },
        };
        results.push(item);
    }
    let status = if wait && all_committed { StatusCode::OK } else { StatusCode::ACCEPTED };
    (status, axum::Json(json!({"results": results}))).into_response()
}

fn admitted_json(a: Admitted, status: &str) -> Value {
    let mut j = a.fields;
    j.insert("id".into(), json!(hex::encode(a.id)));
    j.insert("status".into(), json!(status));
    Value::Object(j)
}

async fn tx_status(State(l): State<Arc<Ledger>>, Path(id): Path<String>) -> Response {
    let id = match parse_hash(&id, "transaction id") {
        Ok(h) => h,
        Err(r) => return r,
    };
    let hid = hex::encode(id);
    match l.status(&id) {
        TxStatus::Committed(loc) => axum::Json(json!({
            "id": hid, "status": "committed", "block_height": loc.height, "index_in_block": loc.index_in_block,
            "first_leaf": loc.first_leaf, "leaf_count": loc.leaf_count,
        }))
        .into_response(),
        TxStatus::Pending => axum::Json(json!({"id": hid, "status": "pending"})).into_response(),
        TxStatus::Rejected(e) => axum::Json(json!({"id": hid, "status": "rejected", "error": {"code": e.code(), "detail": e.to_string()}})).into_response(),
        TxStatus::Unknown => problem(StatusCode::NOT_FOUND, "unknown-transaction", format!("no transaction {hid} is known to this node")),
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StateProofQuery {
    module: String,
    /// The module's key, hex.
    key: String,
    height: Option<u64>,
}

/// `/v1/state/proof?module=&key=`: a state receipt for any module's key.
async fn state_proof(State(l): State<Arc<Ledger>>, Query(q): Query<StateProofQuery>) -> Response {
    let key = match cairn_types::hexfmt::decode_strict(&q.key) {
        Ok(k) => k,
        Err(e) => return problem(StatusCode::BAD_REQUEST, "bad-query", format!("key: {e}")),
    };
    state_receipt_response(&l, &q.module, &key, q.height)
}

fn state_receipt_response(l: &Ledger, module: &str, key: &[u8], height: Option<u64>) -> Response {
    use crate::ledger::StateQueryError;
    match l.state_receipt(module, key, height) {
        Ok(Ok(r)) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Ok(Err(e @ StateQueryError::NoStateYet(_))) => problem(StatusCode::NOT_FOUND, "no-state", e.to_string()),
        Ok(Err(e)) => problem(StatusCode::BAD_REQUEST, "bad-query", e.to_string()),
        Err(Error::NotYetSigned(e)) => not_yet_signed(&e),
        Err(e) => internal(e),
    }
}

/// `/v1/leaves/{index}/receipt`: the receipt of a module's own leaf.
async fn leaf_receipt(State(l): State<Arc<Ledger>>, Path(index): Path<String>) -> Response {
    use crate::ledger::LeafQueryError;
    let Ok(index) = index.parse::<u64>() else {
        return problem(StatusCode::BAD_REQUEST, "bad-id", "a leaf is named by its index in the log");
    };
    match l.leaf_receipt(index) {
        Ok(Ok(r)) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Ok(Err(e @ LeafQueryError::Unknown(_))) => problem(StatusCode::NOT_FOUND, "unknown-leaf", e.to_string()),
        Ok(Err(e @ LeafQueryError::NotAModuleLeaf(_))) => problem(StatusCode::BAD_REQUEST, "not-a-module-leaf", e.to_string()),
        Err(Error::NotYetSigned(e)) => not_yet_signed(&e),
        Err(e) => internal(e),
    }
}

/// A final record or block not yet under a quorum checkpoint: 503, retry in a second.
fn not_yet_signed(e: &NotYetSigned) -> Response {
    let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "not-yet-signed", e.to_string());
    r.headers_mut().insert(header::RETRY_AFTER, header::HeaderValue::from_static("1"));
    r
}

async fn checkpoint(State(l): State<Arc<Ledger>>) -> Response {
    match l.latest_checkpoint() {
        Some((_, note)) => ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], note).into_response(),
        None => problem(StatusCode::NOT_FOUND, "no-checkpoint", "no block has been committed yet"),
    }
}

#[derive(Deserialize)]
struct FinalityQuery {
    height: Option<u64>,
    log_size: Option<u64>,
}

/// The finality proof (consensus certificate) for a block, or for the block whose log a
/// checkpoint of `log_size` signs.
async fn finality(State(l): State<Arc<Ledger>>, Query(q): Query<FinalityQuery>) -> Response {
    if !l.is_replicated() {
        return problem(StatusCode::NOT_FOUND, "single-node", "a single-node chain has no consensus certificates");
    }
    let height = match (q.height, q.log_size) {
        (Some(h), None) => Some(h),
        (None, Some(size)) => match l.block_with_log_size(size) {
            Ok(h) => h,
            Err(e) => return internal(e),
        },
        _ => return problem(StatusCode::BAD_REQUEST, "bad-query", "give height=H or log_size=N"),
    };
    let Some(height) = height else {
        return problem(StatusCode::NOT_FOUND, "unknown-block", "no final block has that height or log size");
    };
    match l.certificate(height) {
        Ok(Some(p)) => axum::Json(crate::finality::FinalityProof::from_certificate(&l.genesis().chain_id, &p)).into_response(),
        Ok(None) => problem(
            StatusCode::NOT_FOUND,
            "no-certificate",
            format!(
                "this node holds no finalization certificate for block {height} or a later one yet (blocks it fetched while catching up have none); ask another validator or retry"
            ),
        ),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct FaultsQuery {
    limit: Option<usize>,
}

/// Misbehaviour evidence consensus reported (conflicting votes), newest first.
async fn faults(State(l): State<Arc<Ledger>>, Query(q): Query<FaultsQuery>) -> Response {
    let limit = match bounded_limit(q.limit, 100, 1000) {
        Ok(n) => n,
        Err(r) => return r,
    };
    match l.faults(limit) {
        Ok(list) => axum::Json(json!({
            "faults": list.into_iter().map(|(seq, evidence)| json!({"seq": seq, "evidence": evidence})).collect::<Vec<_>>(),
        }))
        .into_response(),
        Err(e) => internal(e),
    }
}

#[derive(Deserialize)]
struct ConsistencyQuery {
    from: u64,
    to: u64,
}

async fn consistency(State(l): State<Arc<Ledger>>, Query(q): Query<ConsistencyQuery>) -> Response {
    match l.consistency(q.from, q.to) {
        Ok(Ok(p)) => axum::Json(json!({
            "from": q.from, "to": q.to,
            "proof": p.proof.iter().map(hex::encode).collect::<Vec<_>>(),
            "from_checkpoint": p.from_checkpoint, "to_checkpoint": p.to_checkpoint,
        }))
        .into_response(),
        Ok(Err(msg)) => problem(StatusCode::BAD_REQUEST, "bad-sizes", msg),
        Err(e) => internal(e),
    }
}

fn block_json(l: &Ledger, h: &cairn_types::block::BlockHeader, txs: Option<&[Vec<u8>]>) -> Value {
    let suite = l.genesis().suite;
    let mut j = json!({
        "height": h.height, "hash": hex::encode(h.hash(suite)), "parent": hex::encode(h.parent),
        "time_ms": h.time_ms, "time": cairn_types::format_time_ms(h.time_ms), "tx_count": h.tx_count,
        "tx_root": hex::encode(h.tx_root), "log_size": h.log_size, "log_root": hex::encode(h.log_root),
        "state_root": h.state_root.map(hex::encode), "version": h.version(),
    });
    if let Some(txs) = txs {
        j["transactions"] = txs.iter().map(|t| hex::encode(suite.hash(tx_body(t)))).collect();
    }
    j
}

/// The body part of canonical transaction bytes (everything before the signature).
fn tx_body(tx: &[u8]) -> &[u8] {
    match cairn_types::tx::Transaction::decode(tx) {
        Ok(t) => &tx[..t.body_bytes.len()],
        Err(_) => tx,
    }
}

#[derive(Deserialize)]
struct BlocksQuery {
    before: Option<u64>,
    limit: Option<usize>,
}

/// A `?limit=`: `default` when absent; 1 to `max`, else `400 bad-query` (as the OpenAPI
/// document says: a server looser than its document hides client mistakes).
fn bounded_limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize, Response> {
    match limit {
        None => Ok(default),
        Some(n) if (1..=max).contains(&n) => Ok(n),
        Some(n) => Err(problem(StatusCode::BAD_REQUEST, "bad-query", format!("limit {n} is outside 1 to {max}"))),
    }
}

async fn blocks(State(l): State<Arc<Ledger>>, Query(q): Query<BlocksQuery>) -> Response {
    let limit = match bounded_limit(q.limit, 20, 100) {
        Ok(n) => n as u64,
        Err(r) => return r,
    };
    // Storage reads: off the async workers, so /healthz answers while large blocks are listed.
    let listed = tokio::task::spawn_blocking(move || -> Result<Value> {
        let top = q.before.map_or(l.height(), |b| b.saturating_sub(1).min(l.height()));
        let mut out = Vec::new();
        let mut h = top;
        while h >= 1 && (out.len() as u64) < limit {
            // Headers only: a listing never decodes a block's transactions.
            let Some(header) = l.block_header(h)? else { break };
            out.push(block_json(&l, &header, None));
            h -= 1;
        }
        Ok(json!({"height": l.height(), "blocks": out}))
    })
    .await;
    match listed {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => internal(e),
        Err(source) => internal(Error::Task { what: "listing blocks", source }),
    }
}

async fn block(State(l): State<Arc<Ledger>>, Path(id): Path<String>) -> Response {
    let height = if id.len() == 64 {
        match parse_hash(&id, "block hash").map(|h| l.block_height_by_hash(&h)) {
            Ok(Ok(Some(h))) => h,
            Ok(Ok(None)) => return problem(StatusCode::NOT_FOUND, "unknown-block", format!("no block {id}")),
            Ok(Err(e)) => return internal(e),
            Err(r) => return r,
        }
    } else {
        match id.parse::<u64>() {
            Ok(h) => h,
            Err(_) => return problem(StatusCode::BAD_REQUEST, "bad-id", "a block is named by height or 64-hex hash"),
        }
    };
    let found = tokio::task::spawn_blocking(move || l.block(height).map(|b| b.map(|b| block_json(&l, &b.header, Some(&b.txs))))).await;
    match found {
        Ok(Ok(Some(v))) => axum::Json(v).into_response(),
        Ok(Ok(None)) => problem(StatusCode::NOT_FOUND, "unknown-block", format!("no block at height {height}")),
        Ok(Err(e)) => internal(e),
        Err(source) => internal(Error::Task { what: "reading a block", source }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn core() -> Value {
        serde_json::from_str(OPENAPI).unwrap()
    }

    #[test]
    fn a_modules_openapi_fragment_is_merged_inside_its_namespace_only() {
        let mut doc = core();
        let ok = json!({"paths": {"/v1/demo": {"get": {}}, "/v1/demo/{id}": {"get": {}}}, "components": {"schemas": {"DemoThing": {"type": "object"}}}});
        merge_fragment(&mut doc, "demo", None, ok).unwrap();
        assert!(doc["paths"]["/v1/demo/{id}"]["get"].is_object());
        assert!(doc["components"]["schemas"]["DemoThing"].is_object());
        merge_fragment(&mut doc, "demo", None, Value::Null).unwrap();

        let refused = |module: &str, fragment: Value, want: &str| {
            let err = merge_fragment(&mut core(), module, None, fragment).expect_err("refused");
            assert!(err.contains(want), "expected {want:?}, got {err:?}");
        };
        refused("demo", json!({"paths": {"/v1/status": {"get": {}}}}), "outside /v1/demo");
        refused("demo", json!({"paths": {"/v1/demonstration": {"get": {}}}}), "outside /v1/demo");
        refused("demo", json!({"components": {"schemas": {"Problem": {}}}}), "already defined");
        refused("demo", json!({"paths": []}), "not an object");
        refused("demo", json!({"paths": {}, "servers": []}), "unexpected member");
        refused("demo", json!([1]), "not a JSON object");
        // A path documented by another module is not taken over.
        let mut doc = core();
        merge_fragment(&mut doc, "demo", None, json!({"paths": {"/v1/demo/x": {}}})).unwrap();
        assert!(merge_fragment(&mut doc, "demo", None, json!({"paths": {"/v1/demo/x": {}}})).unwrap_err().contains("already documented"));
        // A module with a binding documents it under its root, and nowhere else.
        let mut doc = core();
        merge_fragment(&mut doc, "demo", Some("/std"), json!({"paths": {"/std/capture": {"post": {}}, "/v1/demo": {}}})).unwrap();
        assert!(doc["paths"]["/std/capture"]["post"].is_object());
        assert!(merge_fragment(&mut core(), "demo", Some("/std"), json!({"paths": {"/standard": {}}})).unwrap_err().contains("outside"));
    }

    #[test]
    fn a_binding_root_is_a_segment_of_its_own() {
        assert!(check_binding_root("/epcis", &[]).is_ok());
        for bad in ["/v1", "/console", "epcis", "/", "/a/b", "/EPCIS", "/metrics"] {
            assert!(check_binding_root(bad, &[]).is_err(), "{bad}");
        }
        assert!(check_binding_root("/epcis", &["/epcis"]).unwrap_err().contains("another module"));
    }
}

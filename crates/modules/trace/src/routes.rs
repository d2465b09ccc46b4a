//! HTTP: the GS1 EPCIS 2.0 REST binding at `/epcis` (capture, capture jobs, events, named
//! queries, live subscriptions by server-sent events, and `/epcis/trace`), and the module's own
//! API at `/v1/trace` (an event with its ledger facts, its receipt, its state proof).
//!
//! Capture through the binding is signed by the node's agent key (the config's `agent_key`,
//! a member of the node's organisation): in `members` mode only callers of that organisation
//! may capture. A capture document is one transaction, so `rollback` is all or nothing.

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Extension, Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_module::{Caller, HostError, Query, TxState};
use cairn_types::receipt::{LEAF_RECEIPT_FORMAT, LeafReceipt};
use serde_json::{Map, Value, json};

use crate::prepare::{EventProblem, parse_document, prepare_event};
use crate::query::{Cursor, EventQuery, QueryError, entry_at, leaf_of_event_id};
use crate::trace::{DEFAULT_HOPS, Direction, MAX_HOPS};
use crate::wire::{CaptureArgs, EventEntry, EventRecord, FirstRecord, KIND_EVENT, MAX_EVENTS_PER_CAPTURE, METHOD_CAPTURE, MODULE, hash_key};

pub const EPCIS_VERSION: &str = "2.0.0";
pub const CBV_VERSION: &str = "2.0.0";
const EPCIS_CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// Capture jobs remembered (in memory; after a restart a committed job is still answered from
/// the ledger, by its id, which is its transaction's).
const MAX_JOBS: usize = 10_000;
/// Named queries a node keeps (in memory).
const MAX_NAMED_QUERIES: usize = 1000;
/// Live subscriptions at once, and how often each looks for new events.
const MAX_SUBSCRIPTIONS: usize = 64;
const SUBSCRIPTION_POLL_MS: u64 = 250;
/// How long `POST /epcis/events` waits for its block before answering `202` with the job.
const EVENT_WAIT_MS: u64 = 10_000;
const POLL_MS: u64 = 20;

/// One capture job: what was submitted and what was refused before submission.
#[derive(Clone)]
struct Job {
    created_ms: u64,
    proceed: bool,
    /// Index in the document of each submitted event, in order.
    submitted: Vec<usize>,
    /// Events refused before submission (`proceed`: the rest went on).
    problems: Vec<Value>,
}

#[derive(Default)]
struct Shared {
    jobs: Mutex<BTreeMap<String, Job>>,
    queries: Mutex<BTreeMap<String, Vec<(String, String)>>>,
}

/// The GS1 EPCIS 2.0 binding, mounted at `/epcis`. Its jobs and named queries are shared by
/// its handlers through an [`axum::Extension`].
pub fn epcis_router() -> Router<Query> {
    Router::new()
        .route("/capture", get(list_jobs).post(capture).options(capture_options))
        .route("/capture/{id}", get(job))
        .route("/events", get(events).post(capture_one).options(events_options))
        .route("/events/{id}", get(event_by_id))
        .route("/queries", get(list_queries).post(create_query))
        .route("/queries/{name}", get(get_query))
        .route("/queries/{name}/events", get(query_events))
        .route("/trace", get(trace_route))
        .layer(axum::Extension(Arc::new(Shared::default())))
        .layer(axum::middleware::map_response(version_headers))
}

/// `/v1/trace`: an event's ledger facts, receipt and state proof.
pub fn api_router() -> Router<Query> {
    Router::new().route("/events/{id}", get(api_event)).route("/events/{id}/receipt", get(api_receipt)).route("/state", get(api_state))
}

async fn version_headers(mut r: Response) -> Response {
    let h = r.headers_mut();
    h.insert("gs1-epcis-version", HeaderValue::from_static(EPCIS_VERSION));
    h.insert("gs1-cbv-version", HeaderValue::from_static(CBV_VERSION));
    r
}

/// An EPCIS problem (RFC 7807) of the binding's exception `kind`, with Cairn's code and, for
/// an event, where it is.
fn epcis_problem(status: StatusCode, kind: &str, code: &str, detail: impl Into<String>, extra: Map<String, Value>) -> Response {
    let mut body = json!({
        "type": format!("epcisException:{kind}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail.into(),
    });
    body.as_object_mut().expect("object").extend(extra);
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

fn validation_problem(p: &EventProblem) -> Response {
    epcis_problem(StatusCode::BAD_REQUEST, "ValidationException", "trace.invalid-event", p.to_string(), p.members())
}

fn host_problem(e: HostError) -> Response {
    match e {
        HostError::Internal(m) => {
            tracing::error!(error = %m, "trace query failed");
            epcis_problem(StatusCode::INTERNAL_SERVER_ERROR, "ImplementationException", "internal", "the node could not answer; its log says why", Map::new())
        }
        e => e.into_response(),
    }
}

fn query_problem(e: QueryError) -> Response {
    match e {
        QueryError::Parameter(m) => epcis_problem(StatusCode::BAD_REQUEST, "QueryParameterException", "trace.bad-query", m, Map::new()),
        QueryError::TooLarge(m) => epcis_problem(StatusCode::PAYLOAD_TOO_LARGE, "QueryTooLargeException", "trace.query-too-large", m, Map::new()),
        QueryError::Host(e) => host_problem(e),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

fn time_text(ms: u64) -> String {
    cairn_types::format_time_ms(ms)
}

/// The query pairs of a raw query string, percent-decoded.
fn pairs(raw: &Option<String>) -> Vec<(String, String)> {
    raw.as_deref().map(|r| url::form_urlencoded::parse(r.as_bytes()).into_owned().collect()).unwrap_or_default()
}

// ---- capture ----

/// Who may capture with the node's key: anyone in `open` mode, a caller of the agent's
/// organisation in `members` mode.
fn check_capturer(q: &Query, caller: &Option<axum::Extension<Caller>>) -> Result<(), Response> {
    let Some(agent) = q.agent() else {
        return Err(epcis_problem(
            StatusCode::FORBIDDEN,
            "SecurityException",
            "trace.no-agent",
            "this node captures for no one: its config names no agent_key (a member key of its organisation with the trace.capturer role); sign captures yourself with `cairn trace capture`",
            Map::new(),
        ));
    };
    match caller {
        Some(axum::Extension(c)) if c.organisation != agent.organisation => Err(epcis_problem(
            StatusCode::FORBIDDEN,
            "SecurityException",
            "trace.other-organisation",
            format!("this node captures for {}; a member of {} captures through its own organisation's node", agent.organisation, c.organisation),
            Map::new(),
        )),
        _ => Ok(()),
    }
}

fn parse_json_body(headers: &HeaderMap, body: &[u8]) -> Result<Value, Response> {
    let ct = headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
    let media = ct.split(';').next().unwrap_or("").trim();
    if !["application/json", "application/ld+json"].contains(&media) {
        return Err(epcis_problem(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "UnsupportedMediaTypeException",
            "trace.unsupported-media-type",
            format!("content type {ct:?}: send application/json or application/ld+json"),
            Map::new(),
        ));
    }
    // Plain JSON, decimals and all (serde_json bounds nesting at 128 levels). A member given
    // twice keeps its last value, as in the GS1 examples; the body kept is the parsed one,
    // so what is hashed and what is stored never differ.
    serde_json::from_slice(body)
        .map_err(|e| epcis_problem(StatusCode::BAD_REQUEST, "ValidationException", "trace.malformed-json", format!("not JSON: {e}"), Map::new()))
}

fn error_behaviour(headers: &HeaderMap) -> Result<bool, Response> {
    match headers.get("gs1-capture-error-behaviour").map(|v| v.to_str().unwrap_or("?")) {
        None | Some("rollback") => Ok(false),
        Some("proceed") => Ok(true),
        Some(other) => Err(epcis_problem(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "trace.bad-header",
            format!("GS1-Capture-Error-Behaviour {other:?}: use rollback or proceed"),
            Map::new(),
        )),
    }
}

fn hash_only(raw: &Option<String>) -> Result<bool, Response> {
    match pairs(raw).as_slice() {
        [] => Ok(false),
        [(k, v)] if k == "hashOnly" && (v == "true" || v == "false") => Ok(v == "true"),
        _ => Err(epcis_problem(
            StatusCode::BAD_REQUEST,
            "ValidationException",
            "trace.bad-query",
            "capture takes one parameter, hashOnly=true|false",
            Map::new(),
        )),
    }
}

/// Whether a prepared event is on chain already: its first record, as a `409` naming it.
fn already_recorded(q: &Query, index: usize, e: &EventRecord) -> Result<Option<Response>, Response> {
    let hash_id = cairn_epcis::hash::hash_id_string(&e.hash);
    let first = q.state_value(&hash_key(&e.hash), None).map_err(host_problem)?.and_then(|v| FirstRecord::decode(&v).ok());
    let mut extra = Map::new();
    extra.insert("eventIndex".into(), index.into());
    extra.insert("eventHashID".into(), hash_id.clone().into());
    if let Some(f) = first {
        extra.insert("firstRecord".into(), first_record_json(&f));
        let detail = format!(
            "event {index}: event hash ID {hash_id} was recorded already, first in log leaf {} by {} at {}",
            f.leaf,
            f.organisation,
            time_text(f.time_ms)
        );
        return Ok(Some(epcis_problem(StatusCode::CONFLICT, "ResourceAlreadyExistsException", "trace.duplicate-event", detail, extra)));
    }
    if !e.event_id.is_empty() && leaf_of_event_id(q, &e.event_id).map_err(host_problem)?.is_some() {
        extra.insert("eventID".into(), e.event_id.clone().into());
        let detail = format!("event {index}: eventID {} was recorded already", e.event_id);
        return Ok(Some(epcis_problem(StatusCode::CONFLICT, "ResourceAlreadyExistsException", "trace.duplicate-event-id", detail, extra)));
    }
    Ok(None)
}

fn first_record_json(f: &FirstRecord) -> Value {
    json!({"leafIndex": f.leaf, "height": f.height, "recordTime": time_text(f.time_ms), "organisation": f.organisation, "event": format!("/v1/trace/events/{}", f.leaf)})
}

/// Prepares a document's events off the async workers; `Err` is the answer to send.
async fn prepare_all(q: &Query, value: Value, proceed: bool, hash_only: bool) -> Result<(Vec<(usize, EventRecord)>, Vec<Value>), Response> {
    let doc = parse_document(&value).map_err(|p| validation_problem(&p))?;
    if doc.events.len() > MAX_EVENTS_PER_CAPTURE {
        return Err(epcis_problem(
            StatusCode::PAYLOAD_TOO_LARGE,
            "CaptureLimitExceededException",
            "trace.capture-limit",
            format!("{} events in one capture; the limit is {MAX_EVENTS_PER_CAPTURE} (GS1-EPCIS-Capture-Limit): split the document", doc.events.len()),
            Map::new(),
        ));
    }
    if doc.events.is_empty() {
        return Err(validation_problem(&EventProblem {
            index: None,
            event_id: None,
            field: Some("/epcisBody/eventList".into()),
            detail: "no events to capture".into(),
        }));
    }
    let prepared =
        tokio::task::spawn_blocking(move || doc.events.iter().enumerate().map(|(i, e)| prepare_event(i, e, &doc.context, hash_only)).collect::<Vec<_>>())
            .await
            .map_err(|e| host_problem(HostError::internal(format!("capture task: {e}"))))?;
    let mut events = Vec::new();
    let mut problems = Vec::new();
    for (i, r) in prepared.into_iter().enumerate() {
        match r {
            Ok(e) => match already_recorded(q, i, &e)? {
                None => events.push((i, e)),
                Some(conflict) if !proceed => return Err(conflict),
                Some(_) => problems.push(
                    json!({"eventIndex": i, "detail": format!("event {i} was recorded already"), "eventHashID": cairn_epcis::hash::hash_id_string(&e.hash)}),
                ),
            },
            Err(p) if !proceed => return Err(validation_problem(&p)),
            Err(p) => {
                let mut m = p.members();
                m.insert("detail".into(), p.to_string().into());
                problems.push(Value::Object(m));
            }
        }
    }
    Ok((events, problems))
}

/// Submits prepared events as one capture signed by the agent: the job id (its transaction's).
fn submit(q: &Query, shared: &Shared, events: Vec<(usize, EventRecord)>, problems: Vec<Value>, proceed: bool) -> Result<String, Response> {
    let submitted: Vec<usize> = events.iter().map(|(i, _)| *i).collect();
    let args = CaptureArgs { proceed, events: events.into_iter().map(|(_, e)| e).collect() }.encode();
    let id = match q.submit_as_agent(METHOD_CAPTURE, args) {
        Ok(id) => hex::encode(id),
        Err(r) => {
            let status = StatusCode::from_u16(r.status).unwrap_or(StatusCode::BAD_REQUEST);
            let kind = match status.as_u16() {
                403 => "SecurityException",
                413 => "CaptureLimitExceededException",
                409 => "ResourceAlreadyExistsException",
                s if s >= 500 => "ImplementationException",
                _ => "ValidationException",
            };
            let mut resp = epcis_problem(status, kind, &r.code, r.detail, Map::new());
            if status == StatusCode::SERVICE_UNAVAILABLE || status == StatusCode::TOO_MANY_REQUESTS {
                resp.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
            }
            return Err(resp);
        }
    };
    let mut jobs = shared.jobs.lock().expect("jobs lock");
    if jobs.len() >= MAX_JOBS
        && let Some(oldest) = jobs.iter().min_by_key(|(_, j)| j.created_ms).map(|(k, _)| k.clone())
    {
        jobs.remove(&oldest);
    }
    jobs.insert(id.clone(), Job { created_ms: now_ms(), proceed, submitted, problems });
    Ok(id)
}

async fn capture(
    State(q): State<Query>,
    Extension(shared): Extension<Arc<Shared>>,
    caller: Option<axum::Extension<Caller>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = async {
        check_capturer(&q, &caller)?;
        let proceed = error_behaviour(&headers)?;
        let hash_only = hash_only(&raw)?;
        let value = parse_json_body(&headers, &body)?;
        let (events, problems) = prepare_all(&q, value, proceed, hash_only).await?;
        if events.is_empty() {
            // `proceed` with nothing left: a finished job of errors, with no transaction.
            let id = format!("none-{}", hex::encode(&cairn_crypto::sha256(&body)[..16]));
            shared.jobs.lock().expect("jobs lock").insert(id.clone(), Job { created_ms: now_ms(), proceed, submitted: Vec::new(), problems });
            return Ok(id);
        }
        submit(&q, &shared, events, problems, proceed)
    };
    match run.await {
        Ok(id) => {
            let location = format!("/epcis/capture/{id}");
            (StatusCode::ACCEPTED, [(header::LOCATION, location.clone())], axum::Json(json!({"captureID": id, "location": location}))).into_response()
        }
        Err(r) => r,
    }
}

async fn capture_options(State(q): State<Query>) -> Response {
    let file_limit = q.genesis().params.max_tx_bytes;
    (
        StatusCode::NO_CONTENT,
        [
            (header::ALLOW, "OPTIONS, POST, GET".to_string()),
            (header::HeaderName::from_static("gs1-epcis-capture-limit"), MAX_EVENTS_PER_CAPTURE.to_string()),
            (header::HeaderName::from_static("gs1-epcis-capture-file-size-limit"), file_limit.to_string()),
            (header::HeaderName::from_static("gs1-capture-error-behaviour"), "rollback, proceed".to_string()),
            (header::HeaderName::from_static("gs1-epcis-min"), EPCIS_VERSION.to_string()),
            (header::HeaderName::from_static("gs1-epcis-max"), EPCIS_VERSION.to_string()),
            (header::HeaderName::from_static("gs1-cbv-min"), CBV_VERSION.to_string()),
            (header::HeaderName::from_static("gs1-cbv-max"), CBV_VERSION.to_string()),
            (header::HeaderName::from_static("gs1-epc-format"), "No_Preference, Always_GS1_Digital_Link".to_string()),
        ],
    )
        .into_response()
}

async fn events_options() -> Response {
    (StatusCode::NO_CONTENT, [(header::ALLOW, "OPTIONS, GET, POST")]).into_response()
}

/// The job document of `id` (the binding's `CaptureJob`).
fn job_json(q: &Query, id: &str, job: Option<&Job>) -> Option<Value> {
    // Job ids are transaction ids in lowercase hex, as the capture answered them.
    let tx = hex::decode(id).ok().and_then(|b| <[u8; 32]>::try_from(b).ok()).filter(|t| hex::encode(t) == id);
    let state = tx.map_or(TxState::Unknown, |t| q.tx_state(&t));
    if job.is_none() {
        // Forgotten (a restart): a committed capture still answers, from its leaves; any other
        // transaction is no capture job.
        let TxState::Committed(loc) = &state else { return None };
        if loc.leaf_count == 0 || !matches!(entry_at(q, loc.first_leaf), Ok(Some(_))) {
            return None;
        }
    }
    let mut errors: Vec<Value> = job.map(|j| j.problems.clone()).unwrap_or_default();
    let (running, failed) = match &state {
        TxState::Pending => (true, false),
        // In the store, its leaves not yet in the log the node serves: a moment more.
        TxState::Committed(loc) if loc.first_leaf + loc.leaf_count as u64 > q.log_size() => (true, false),
        TxState::Committed(loc) => {
            // Events the chain skipped (recorded already: `proceed`) have no leaf.
            let logged: std::collections::BTreeSet<u32> =
                (loc.first_leaf..loc.first_leaf + loc.leaf_count as u64).filter_map(|l| entry_at(q, l).ok().flatten()).map(|e| e.index).collect();
            if let Some(j) = job {
                for (k, doc_index) in j.submitted.iter().enumerate() {
                    if !logged.contains(&(k as u32)) {
                        errors.push(json!({"eventIndex": doc_index, "detail": format!("event {doc_index} was recorded already (by an earlier capture)")}));
                    }
                }
            }
            (false, false)
        }
        TxState::Rejected { code, detail } => {
            errors.push(json!({"code": code, "detail": detail}));
            (false, true)
        }
        TxState::Unknown if job.is_some_and(|j| j.submitted.is_empty()) => (false, false),
        TxState::Unknown => {
            errors.push(json!({"code": "dropped", "detail": "the capture's transaction is no longer pending and not in the ledger (it expired or the node restarted); capture again"}));
            (false, true)
        }
    };
    let rejected_all = failed || job.is_some_and(|j| j.submitted.is_empty());
    let mut v = json!({
        "captureID": id,
        "running": running,
        "success": errors.is_empty() && !rejected_all,
        "captureErrorBehaviour": if job.is_some_and(|j| j.proceed) { "proceed" } else { "rollback" },
        "errors": errors,
    });
    if let Some(j) = job {
        v["createdAt"] = time_text(j.created_ms).into();
    }
    if let TxState::Committed(loc) = state {
        v["height"] = loc.height.into();
        v["firstLeaf"] = loc.first_leaf.into();
        v["eventCount"] = loc.leaf_count.into();
    }
    Some(v)
}

async fn job(State(q): State<Query>, Extension(shared): Extension<Arc<Shared>>, Path(id): Path<String>) -> Response {
    let job = shared.jobs.lock().expect("jobs lock").get(&id).cloned();
    match job_json(&q, &id, job.as_ref()) {
        Some(v) => axum::Json(v).into_response(),
        None => epcis_problem(StatusCode::NOT_FOUND, "NoSuchResourceException", "trace.unknown-capture", format!("no capture job {id}"), Map::new()),
    }
}

async fn list_jobs(State(q): State<Query>, Extension(shared): Extension<Arc<Shared>>) -> Response {
    let jobs: Vec<(String, Job)> = shared.jobs.lock().expect("jobs lock").iter().map(|(k, j)| (k.clone(), j.clone())).collect();
    let mut list: Vec<Value> = jobs.iter().filter_map(|(id, j)| job_json(&q, id, Some(j))).collect();
    list.sort_by(|a, b| b["createdAt"].as_str().cmp(&a["createdAt"].as_str()));
    list.truncate(crate::query::MAX_PER_PAGE);
    axum::Json(list).into_response()
}

/// `POST /epcis/events`: one event, answered once its block is durable (`201`), or `202` with
/// its job when the block is slow.
async fn capture_one(
    State(q): State<Query>,
    Extension(shared): Extension<Arc<Shared>>,
    caller: Option<axum::Extension<Caller>>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let run = async {
        check_capturer(&q, &caller)?;
        let hash_only = hash_only(&raw)?;
        let value = parse_json_body(&headers, &body)?;
        if value.get("type").and_then(Value::as_str).is_none_or(|t| crate::wire::EventType::from_name(t).is_none()) {
            return Err(validation_problem(&EventProblem {
                index: None,
                event_id: None,
                field: Some("/type".into()),
                detail: "POST /epcis/events takes one event (capture documents at /epcis/capture)".into(),
            }));
        }
        let (events, problems) = prepare_all(&q, value, false, hash_only).await?;
        debug_assert!(problems.is_empty(), "rollback returns the first problem");
        let record_id = events[0].1.id();
        let id = submit(&q, &shared, events, problems, false)?;
        Ok((id, record_id))
    };
    let (id, record_id) = match run.await {
        Ok(x) => x,
        Err(r) => return r,
    };
    let tx: [u8; 32] = hex::decode(&id).ok().and_then(|b| b.try_into().ok()).expect("a submitted job's id is its transaction id");
    let deadline = std::time::Instant::now() + Duration::from_millis(EVENT_WAIT_MS);
    while std::time::Instant::now() < deadline {
        match q.tx_state(&tx) {
            TxState::Committed(loc) => {
                let location = format!("/epcis/events/{}", url::form_urlencoded::byte_serialize(record_id.as_bytes()).collect::<String>());
                let body = json!({"eventID": record_id, "leafIndex": loc.first_leaf, "height": loc.height, "captureID": id});
                return (StatusCode::CREATED, [(header::LOCATION, location)], axum::Json(body)).into_response();
            }
            TxState::Rejected { code, detail } => {
                let status = if code.starts_with("trace.duplicate") { StatusCode::CONFLICT } else { StatusCode::BAD_REQUEST };
                let kind = if status == StatusCode::CONFLICT { "ResourceAlreadyExistsException" } else { "ValidationException" };
                return epcis_problem(status, kind, &code, detail, Map::new());
            }
            _ => tokio::time::sleep(Duration::from_millis(POLL_MS)).await,
        }
    }
    let location = format!("/epcis/capture/{id}");
    (StatusCode::ACCEPTED, [(header::LOCATION, location.clone())], axum::Json(json!({"captureID": id, "location": location}))).into_response()
}

// ---- events as the binding returns them ----

/// How identifiers are written in answers (`GS1-EPC-Format`).
#[derive(Clone, Copy, PartialEq, Eq)]
enum EpcFormat {
    AsCaptured,
    DigitalLink,
}

fn epc_format(headers: &HeaderMap) -> Result<EpcFormat, Response> {
    match headers.get("gs1-epc-format").map(|v| v.to_str().unwrap_or("?")) {
        None | Some("No_Preference") | Some("Always_EPC_URN") | Some("Never_Translates") => Ok(EpcFormat::AsCaptured),
        Some("Always_GS1_Digital_Link") => Ok(EpcFormat::DigitalLink),
        Some(other) => Err(epcis_problem(
            StatusCode::NOT_ACCEPTABLE,
            "NotAcceptableException",
            "trace.bad-epc-format",
            format!("GS1-EPC-Format {other:?}: this repository answers No_Preference (identifiers as captured) or Always_GS1_Digital_Link"),
            Map::new(),
        )),
    }
}

fn to_digital_link(v: &mut Value) {
    let convert = |s: &mut Value| {
        if let Some(dl) = s.as_str().and_then(cairn_epcis::epc::urn_to_digital_link) {
            *s = Value::String(dl);
        }
    };
    for list in ["epcList", "childEPCs", "inputEPCList", "outputEPCList"] {
        for x in v.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            convert(x);
        }
    }
    if let Some(p) = v.get_mut("parentID") {
        convert(p);
    }
    for list in ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"] {
        for q in v.get_mut(list).and_then(Value::as_array_mut).into_iter().flatten() {
            if let Some(c) = q.get_mut("epcClass") {
                convert(c);
            }
        }
    }
    for loc in ["readPoint", "bizLocation"] {
        if let Some(id) = v.get_mut(loc).and_then(|l| l.get_mut("id")) {
            convert(id);
        }
    }
}

/// An event as the binding answers it: its captured JSON-LD (a hash-only event: what the chain
/// holds of it), with its `eventID` (its hash ID if it had none) and record time.
fn event_json(e: &EventEntry, format: EpcFormat) -> Value {
    let r = &e.event;
    let mut v = match r.body.as_ref().and_then(|b| serde_json::from_slice::<Value>(b).ok()) {
        Some(v) => v,
        None => hash_only_view(r),
    };
    if let Some(m) = v.as_object_mut() {
        m.entry("eventID").or_insert_with(|| r.id().into());
        m.insert("recordTime".into(), time_text(e.time_ms).into());
    }
    if format == EpcFormat::DigitalLink {
        to_digital_link(&mut v);
    }
    v
}

fn hash_only_view(r: &EventRecord) -> Value {
    let mut m = Map::new();
    m.insert("type".into(), r.event_type.name().into());
    m.insert("eventTime".into(), time_text(r.event_time_ms).into());
    m.insert("eventTimeZoneOffset".into(), "+00:00".into());
    if let Some(a) = r.action.name() {
        m.insert("action".into(), a.into());
    }
    for (k, v) in [("bizStep", &r.biz_step), ("disposition", &r.disposition)] {
        if !v.is_empty() {
            m.insert(k.into(), v.clone().into());
        }
    }
    for (k, v) in [("readPoint", &r.read_point), ("bizLocation", &r.biz_location)] {
        if !v.is_empty() {
            m.insert(k.into(), json!({"id": v}));
        }
    }
    let list = |roles: &[crate::wire::Role]| r.ids.iter().filter(|(x, _)| roles.contains(x)).map(|(_, id)| Value::from(id.clone())).collect::<Vec<_>>();
    use crate::wire::Role;
    for (k, roles) in [("epcList", &[Role::Epc][..]), ("childEPCs", &[Role::Child]), ("inputEPCList", &[Role::Input]), ("outputEPCList", &[Role::Output])] {
        let l = list(roles);
        if !l.is_empty() {
            m.insert(k.into(), l.into());
        }
    }
    if let Some(p) = r.ids_in(Role::Parent).next() {
        m.insert("parentID".into(), p.into());
    }
    m.insert("eventHashOnly".into(), true.into());
    Value::Object(m)
}

fn query_document(events: Vec<Value>, query_name: &str) -> Value {
    json!({
        "@context": [EPCIS_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": time_text(now_ms()),
        "epcisBody": {"queryResults": {"queryName": query_name, "resultsBody": {"eventList": events}}},
    })
}

#[derive(serde::Serialize, serde::Deserialize)]
struct Token {
    /// The query's fingerprint.
    q: String,
    c: Cursor,
}

fn decode_token(s: &str, fingerprint: &str) -> Result<Cursor, Response> {
    use base64::Engine;
    let bad = || {
        epcis_problem(
            StatusCode::BAD_REQUEST,
            "QueryParameterException",
            "trace.bad-page-token",
            "nextPageToken is not one this repository issued for this query",
            Map::new(),
        )
    };
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(s).map_err(|_| bad())?;
    let t: Token = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if t.q != fingerprint {
        return Err(bad());
    }
    Ok(t.c)
}

fn encode_token(fingerprint: &str, c: Cursor) -> String {
    use base64::Engine;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(serde_json::to_vec(&Token { q: fingerprint.to_string(), c }).expect("token serialises"))
}

/// One page of a query's answers as an `EPCISQueryDocument`, with the `Link` header of the next.
async fn answer(q: Query, params: Vec<(String, String)>, headers: HeaderMap, name: &str, base: &str) -> Response {
    let format = match epc_format(&headers) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let borrowed = || params.iter().map(|(k, v)| (k.as_str(), v.as_str()));
    let query = match EventQuery::parse(borrowed()) {
        Ok(x) => x,
        Err(e) => return query_problem(e),
    };
    let fingerprint = EventQuery::fingerprint(borrowed());
    let cursor = match params.iter().find(|(k, _)| k == "nextPageToken") {
        Some((_, t)) => match decode_token(t, &fingerprint) {
            Ok(c) => Some(c),
            Err(r) => return r,
        },
        None => None,
    };
    let run = tokio::task::spawn_blocking(move || crate::query::run(&q, &query, cursor.as_ref())).await;
    let page = match run {
        Ok(Ok(p)) => p,
        Ok(Err(e)) => return query_problem(e),
        Err(e) => return host_problem(HostError::internal(format!("query task: {e}"))),
    };
    let events: Vec<Value> = page.events.iter().map(|(_, e)| event_json(e, format)).collect();
    let mut resp = axum::Json(query_document(events, name)).into_response();
    if let Some(next) = page.next {
        let token = encode_token(&fingerprint, next);
        // A named query's link carries only the paging (its route takes no other parameter).
        let named = base.starts_with("/epcis/queries/");
        let mut kept: Vec<(String, String)> = params.into_iter().filter(|(k, _)| k != "nextPageToken" && (!named || k == "perPage")).collect();
        kept.push(("nextPageToken".into(), token));
        let qs: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(kept).finish();
        if let Ok(v) = HeaderValue::from_str(&format!("<{base}?{qs}>; rel=\"next\"")) {
            resp.headers_mut().insert(header::LINK, v);
        }
    }
    resp
}

fn wants_stream(headers: &HeaderMap) -> bool {
    headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/event-stream"))
}

async fn events(State(q): State<Query>, RawQuery(raw): RawQuery, headers: HeaderMap) -> Response {
    let params = pairs(&raw);
    if wants_stream(&headers) {
        return subscribe(q, params, headers).await;
    }
    answer(q, params, headers, "SimpleEventQuery", "/epcis/events").await
}

async fn event_by_id(State(q): State<Query>, Path(id): Path<String>, headers: HeaderMap) -> Response {
    let format = match epc_format(&headers) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let found = leaf_of_event_id(&q, &id).and_then(|leaf| leaf.map(|l| entry_at(&q, l)).transpose().map(Option::flatten));
    match found {
        Ok(Some(e)) => axum::Json(event_json(&e, format)).into_response(),
        Ok(None) => epcis_problem(StatusCode::NOT_FOUND, "NoSuchResourceException", "trace.unknown-event", format!("no event {id}"), Map::new()),
        Err(e) => host_problem(e),
    }
}

// ---- named queries and subscriptions ----

async fn create_query(Extension(shared): Extension<Arc<Shared>>, body: Bytes) -> Response {
    let bad = |m: String| epcis_problem(StatusCode::BAD_REQUEST, "QueryValidationException", "trace.bad-query", m, Map::new());
    let v: Value = match serde_json::from_slice(&body) {
        Ok(v) => v,
        Err(e) => return bad(format!("not JSON: {e}")),
    };
    let Some(name) = v
        .get("name")
        .and_then(Value::as_str)
        .filter(|n| !n.is_empty() && n.len() <= 128 && n.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b)))
    else {
        return bad("a named query has a name: 1 to 128 letters, digits, '-', '_' or '.'".into());
    };
    let Some(Value::Object(params)) = v.get("query") else { return bad("a named query has a query: {parameter: value}".into()) };
    let mut list = Vec::new();
    for (k, v) in params {
        let text = match v {
            Value::String(s) => s.clone(),
            Value::Number(n) => n.to_string(),
            Value::Array(a) => a.iter().map(|x| x.as_str().map(str::to_string).unwrap_or_else(|| x.to_string())).collect::<Vec<_>>().join(","),
            other => return bad(format!("{k}: {other} is not a string, number or list")),
        };
        list.push((k.clone(), text));
    }
    if let Err(e) = EventQuery::parse(list.iter().map(|(k, v)| (k.as_str(), v.as_str()))) {
        return query_problem(e);
    }
    let mut queries = shared.queries.lock().expect("queries lock");
    if queries.contains_key(name) {
        return epcis_problem(StatusCode::CONFLICT, "ResourceAlreadyExistsException", "trace.query-exists", format!("a query named {name} exists"), Map::new());
    }
    if queries.len() >= MAX_NAMED_QUERIES {
        return epcis_problem(
            StatusCode::INSUFFICIENT_STORAGE,
            "ImplementationException",
            "trace.too-many-queries",
            format!("this node keeps at most {MAX_NAMED_QUERIES} named queries"),
            Map::new(),
        );
    }
    queries.insert(name.to_string(), list);
    (StatusCode::CREATED, [(header::LOCATION, format!("/epcis/queries/{name}"))], axum::Json(json!({"name": name}))).into_response()
}

fn query_view(name: &str, params: &[(String, String)]) -> Value {
    json!({"name": name, "query": params.iter().map(|(k, v)| (k.clone(), Value::from(v.clone()))).collect::<Map<_, _>>()})
}

async fn list_queries(Extension(shared): Extension<Arc<Shared>>) -> Response {
    let queries = shared.queries.lock().expect("queries lock");
    axum::Json(queries.iter().map(|(n, p)| query_view(n, p)).collect::<Vec<_>>()).into_response()
}

async fn get_query(Extension(shared): Extension<Arc<Shared>>, Path(name): Path<String>) -> Response {
    match shared.queries.lock().expect("queries lock").get(&name) {
        Some(p) => axum::Json(query_view(&name, p)).into_response(),
        None => epcis_problem(StatusCode::NOT_FOUND, "NoSuchNameException", "trace.unknown-query", format!("no query named {name}"), Map::new()),
    }
}

async fn query_events(
    State(q): State<Query>,
    Extension(shared): Extension<Arc<Shared>>,
    Path(name): Path<String>,
    RawQuery(raw): RawQuery,
    headers: HeaderMap,
) -> Response {
    let Some(mut params) = shared.queries.lock().expect("queries lock").get(&name).cloned() else {
        return epcis_problem(StatusCode::NOT_FOUND, "NoSuchNameException", "trace.unknown-query", format!("no query named {name}"), Map::new());
    };
    // Paging parameters of this request on top of the query's own.
    for (k, v) in pairs(&raw) {
        if k != "nextPageToken" && k != "perPage" {
            return query_problem(QueryError::Parameter(format!("{k}: a named query's events take only perPage and nextPageToken")));
        }
        params.push((k, v));
    }
    if wants_stream(&headers) {
        return subscribe(q, params, headers).await;
    }
    answer(q, params, headers, &name, &format!("/epcis/queries/{name}/events")).await
}

/// A live subscription: server-sent events, one `event` per new matching event (its JSON-LD),
/// from the log's end when the subscription starts.
async fn subscribe(q: Query, params: Vec<(String, String)>, headers: HeaderMap) -> Response {
    static ACTIVE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let format = match epc_format(&headers) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let query = match EventQuery::parse(params.iter().filter(|(k, _)| k != "perPage" && k != "nextPageToken").map(|(k, v)| (k.as_str(), v.as_str()))) {
        Ok(x) => x,
        Err(e) => return query_problem(e),
    };
    if ACTIVE.fetch_add(1, std::sync::atomic::Ordering::AcqRel) >= MAX_SUBSCRIPTIONS {
        ACTIVE.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        let mut r = epcis_problem(
            StatusCode::SERVICE_UNAVAILABLE,
            "ImplementationException",
            "trace.too-many-subscriptions",
            format!("this node serves at most {MAX_SUBSCRIPTIONS} live subscriptions"),
            Map::new(),
        );
        r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("5"));
        return r;
    }
    struct Release;
    impl Drop for Release {
        fn drop(&mut self) {
            ACTIVE.fetch_sub(1, std::sync::atomic::Ordering::AcqRel);
        }
    }
    let start = q.log_size();
    let stream = futures_util::stream::unfold((q, query, start, Release), move |(q, query, mut at, release)| async move {
        loop {
            let size = q.log_size();
            if size > at {
                let q2 = q.clone();
                let query2 = query.clone();
                let from = at;
                let found = tokio::task::spawn_blocking(move || {
                    let mut out = Vec::new();
                    for leaf in from..size {
                        if let Ok(Some(e)) = entry_at(&q2, leaf)
                            && query2.matches(&e)
                        {
                            out.push(e);
                        }
                    }
                    out
                })
                .await
                .unwrap_or_default();
                at = size;
                if !found.is_empty() {
                    let text: String = found.iter().map(|e| format!("event: epcis\ndata: {}\n\n", event_json(e, format))).collect();
                    return Some((Ok::<_, std::convert::Infallible>(text), (q, query, at, release)));
                }
            }
            tokio::time::sleep(Duration::from_millis(SUBSCRIPTION_POLL_MS)).await;
        }
    });
    let first = futures_util::stream::once(async { Ok::<_, std::convert::Infallible>(": subscribed\n\n".to_string()) });
    let body = axum::body::Body::from_stream(futures_util::StreamExt::chain(first, stream));
    ([(header::CONTENT_TYPE, "text/event-stream"), (header::CACHE_CONTROL, "no-cache")], body).into_response()
}

// ---- the trace ----

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct TraceParams {
    epc: String,
    direction: Option<String>,
    hops: Option<u32>,
    receipts: Option<bool>,
}

async fn trace_route(State(q): State<Query>, RawQuery(raw): RawQuery) -> Response {
    let p: TraceParams = match serde_urlencoded::from_str(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return query_problem(QueryError::Parameter(format!("{e} (trace takes epc, direction=back|forward, hops, receipts)"))),
    };
    let direction = match p.direction.as_deref() {
        None | Some("back") => Direction::Back,
        Some("forward") => Direction::Forward,
        Some(other) => return query_problem(QueryError::Parameter(format!("direction {other:?}: use back or forward"))),
    };
    let hops = p.hops.unwrap_or(DEFAULT_HOPS);
    if hops > MAX_HOPS {
        return query_problem(QueryError::Parameter(format!("hops {hops}: at most {MAX_HOPS}")));
    }
    let receipts = p.receipts.unwrap_or(true);
    let run = tokio::task::spawn_blocking(move || trace_json(&q, &p.epc, direction, hops, receipts)).await;
    match run {
        Ok(Ok(v)) => axum::Json(v).into_response(),
        Ok(Err(e)) => host_problem(e),
        Err(e) => host_problem(HostError::internal(format!("trace task: {e}"))),
    }
}

/// The trace as JSON: identifiers reached, events (each with its receipt), edges between them.
pub fn trace_json(q: &Query, epc: &str, direction: Direction, hops: u32, receipts: bool) -> Result<Value, HostError> {
    let t = crate::trace::trace(q, epc, direction, hops)?;
    let mut events = Vec::with_capacity(t.events.len());
    for (leaf, e) in &t.events {
        let mut v = event_summary(*leaf, e);
        v["event"] = event_json(e, EpcFormat::AsCaptured);
        if receipts {
            v["receipt"] = match leaf_receipt(q, *leaf) {
                Ok(r) => serde_json::to_value(r).expect("receipt serialises"),
                Err(HostError::NotYetSigned) => Value::Null,
                Err(e) => return Err(e),
            };
        }
        events.push(v);
    }
    // Edges: along each identifier, its events (with the one that brought it in) in
    // event-time order, earlier to later: the goods' flow, one connected history.
    let mut edges = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for r in &t.reached {
        let names = |e: &EventEntry| e.event.ids.iter().any(|(_, id)| *id == r.id);
        let mut along: Vec<(u64, u64)> =
            t.events.iter().filter(|(l, e)| names(e) || r.from_leaf == Some(**l)).map(|(l, e)| (e.event.event_time_ms, *l)).collect();
        along.sort_unstable();
        for w in along.windows(2) {
            if seen.insert((w[0].1, w[1].1)) {
                edges.push(json!({"from": w[0].1, "to": w[1].1, "via": r.via.name(), "identifier": r.id}));
            }
        }
    }
    Ok(json!({
        "epc": cairn_epcis::epc::canonical_identifier(epc),
        "direction": if direction == Direction::Back { "back" } else { "forward" },
        "hops": hops,
        "truncated": t.truncated,
        "identifiers": t.reached.iter().map(|r| json!({"id": r.id, "hop": r.hop, "via": r.via.name(), "fromLeaf": r.from_leaf})).collect::<Vec<_>>(),
        "events": events,
        "edges": edges,
    }))
}

/// What the chain says of an event: where it is in the log, who recorded it when.
pub fn event_summary(leaf: u64, e: &EventEntry) -> Value {
    let r = &e.event;
    json!({
        "leafIndex": leaf,
        "eventHashID": cairn_epcis::hash::hash_id_string(&r.hash),
        "eventID": r.id(),
        "type": r.event_type.name(),
        "eventTime": time_text(r.event_time_ms),
        "recordTime": time_text(e.time_ms),
        "organisation": e.organisation,
        "submitter": hex::encode(&e.submitter),
        "height": e.height,
        "txID": hex::encode(e.tx_id),
        "action": r.action.name(),
        "bizStep": r.biz_step,
        "disposition": r.disposition,
        "readPoint": r.read_point,
        "bizLocation": r.biz_location,
        "identifiers": r.ids.iter().map(|(role, id)| json!({"role": role.name(), "id": id})).collect::<Vec<_>>(),
        "hashOnly": r.body.is_none(),
    })
}

/// The receipt of the event in leaf `leaf`.
pub fn leaf_receipt(q: &Query, leaf: u64) -> Result<LeafReceipt, HostError> {
    let p = q.leaf_proof(leaf)?;
    Ok(LeafReceipt {
        format: LEAF_RECEIPT_FORMAT.into(),
        chain_id: q.genesis().chain_id.clone(),
        module: MODULE.into(),
        kind: KIND_EVENT,
        leaf_index: p.leaf_index,
        leaf: p.leaf,
        tree_size: p.tree_size,
        inclusion_proof: p.inclusion_proof,
        checkpoint: p.checkpoint,
    })
}

// ---- /v1/trace ----

/// An event by leaf index (digits) or by event ID / hash ID.
fn find(q: &Query, id: &str) -> Result<Option<(u64, EventEntry)>, HostError> {
    let leaf = match id.parse::<u64>() {
        Ok(l) => Some(l),
        Err(_) => leaf_of_event_id(q, id)?,
    };
    let Some(leaf) = leaf else { return Ok(None) };
    Ok(entry_at(q, leaf)?.map(|e| (leaf, e)))
}

async fn api_event(State(q): State<Query>, Path(id): Path<String>) -> Response {
    match find(&q, &id) {
        Ok(Some((leaf, e))) => {
            let mut v = event_summary(leaf, &e);
            v["event"] = event_json(&e, EpcFormat::AsCaptured);
            v["receiptURL"] = format!("/v1/trace/events/{leaf}/receipt").into();
            axum::Json(v).into_response()
        }
        Ok(None) => cairn_module::problem(StatusCode::NOT_FOUND, "trace.unknown-event", format!("no trace event {id}")),
        Err(e) => e.into_response(),
    }
}

async fn api_receipt(State(q): State<Query>, Path(id): Path<String>) -> Response {
    match find(&q, &id) {
        Ok(Some((leaf, _))) => match leaf_receipt(&q, leaf) {
            Ok(r) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
            Err(e) => e.into_response(),
        },
        Ok(None) => cairn_module::problem(StatusCode::NOT_FOUND, "trace.unknown-event", format!("no trace event {id}")),
        Err(e) => e.into_response(),
    }
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct StateParams {
    /// An event hash ID (`ni:///sha-256;…?ver=CBV2.0`).
    event: String,
    height: Option<u64>,
}

/// `GET /v1/trace/state?event=ni:...`: a state receipt saying whether (and when first) an
/// event was recorded, as of a height.
async fn api_state(State(q): State<Query>, RawQuery(raw): RawQuery) -> Response {
    let p: StateParams = match serde_urlencoded::from_str(raw.as_deref().unwrap_or("")) {
        Ok(p) => p,
        Err(e) => return cairn_module::problem(StatusCode::BAD_REQUEST, "bad-query", format!("{e} (state takes event, height)")),
    };
    let Some(hash) = cairn_epcis::hash::parse_hash_id(&p.event) else {
        return cairn_module::problem(StatusCode::BAD_REQUEST, "bad-query", "event must be an event hash ID: ni:///sha-256;<64 hex>?ver=CBV2.0");
    };
    match q.state_receipt(&hash_key(&hash), p.height) {
        Ok(r) => ([(header::CONTENT_TYPE, "application/json")], r.to_json()).into_response(),
        Err(e) => e.into_response(),
    }
}

//! The module's queries, mounted by the framework at `/v1/governance`: `GET /` (the policy),
//! `/proposals[?open=true|tx=<id>]`, `/proposals/{id}`, `/organisations`,
//! `/members[?org=<id>]`, `/members/{key}` and `/members/{key}/proof[?height=]` (a state
//! receipt: "key K belongs to O with roles R as of height H", checked offline with the trust
//! file by `cairn verify`).

// Helpers return a finished problem `Response` as their error, the way handlers use it.
#![allow(clippy::result_large_err)]

use axum::Router;
use axum::extract::{Path, Query as UrlQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_crypto::PublicKey;
use cairn_module::{HostError, Query, problem};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::state::{self, MemberRecord, OrgRecord, Proposal};
use crate::{GovernanceParams, INDEX_BY_TX, json as j};

/// Most proposals one listing returns.
const MAX_PROPOSALS: usize = 200;
const DEFAULT_PROPOSALS: usize = 50;

pub fn router() -> Router<Query> {
    Router::new()
        .route("/", get(summary))
        .route("/proposals", get(proposals))
        .route("/proposals/{id}", get(proposal))
        .route("/organisations", get(organisations))
        .route("/members", get(members))
        .route("/members/{key}", get(member))
        .route("/members/{key}/proof", get(member_proof))
}

/// Whether the chain's genesis enables governance (its parameters were checked when the
/// module was made, so only their presence is looked at here).
fn enabled(q: &Query) -> Result<(), Response> {
    match q.genesis().params.module(crate::MODULE) {
        Some(_) => Ok(()),
        None => Err(problem(StatusCode::NOT_FOUND, "governance.not-enabled", "this chain's genesis does not enable governance; its membership is genesis's")),
    }
}

fn json_response(v: Value) -> Response {
    ([(header::CONTENT_TYPE, "application/json")], v.to_string()).into_response()
}

/// A state value as of the latest durable block; before block 1 has seeded genesis's
/// membership, the value block 1 will write.
fn get_value(q: &Query, key: &[u8]) -> Result<Option<Vec<u8>>, Response> {
    let value = q.state_value(key, None).map_err(IntoResponse::into_response)?;
    if value.is_some() || q.state_value(state::KEY_ORGS, None).map_err(IntoResponse::into_response)?.is_some() {
        return Ok(value);
    }
    Ok(crate::genesis_state_of(q.genesis()).remove(key))
}

fn corrupt(what: &str, e: impl std::fmt::Display) -> Response {
    HostError::internal(format!("governance state {what}: {e}")).into_response()
}

fn read_proposal(q: &Query, id: u64) -> Result<Option<Proposal>, Response> {
    get_value(q, &state::proposal_key(id))?.map(|b| Proposal::decode(&b, q.suite()).map_err(|e| corrupt("proposal", e))).transpose()
}

fn read_org(q: &Query, id: &str) -> Result<Option<OrgRecord>, Response> {
    get_value(q, &state::org_key(id))?.map(|b| OrgRecord::decode(&b, q.suite()).map_err(|e| corrupt("org", e))).transpose()
}

fn read_orgs(q: &Query) -> Result<Vec<String>, Response> {
    Ok(get_value(q, state::KEY_ORGS)?.map(|b| state::decode_ids(&b).map_err(|e| corrupt("orgs", e))).transpose()?.unwrap_or_default())
}

fn read_member(q: &Query, key: &[u8]) -> Result<Option<MemberRecord>, Response> {
    get_value(q, &state::member_key(key))?.map(|b| MemberRecord::decode(&b).map_err(|e| corrupt("key", e))).transpose()
}

async fn summary(State(q): State<Query>) -> Response {
    if let Err(r) = enabled(&q) {
        return r;
    }
    let Ok(Some(p)) = GovernanceParams::of(q.genesis()) else { return HostError::internal("genesis governance parameters").into_response() };
    let next = match get_value(&q, state::KEY_NEXT) {
        Ok(v) => v.and_then(|b| state::decode_u64(&b, "next").ok()).unwrap_or(1),
        Err(r) => return r,
    };
    json_response(json!({
        "height": q.height(),
        "policy": p.to_json()["policy"],
        "proposals": next - 1,
        "max_open": state::MAX_OPEN,
        "max_voting_blocks": crate::MAX_VOTING_BLOCKS,
        "parameters": parameters(&q),
    }))
}

/// The parameters a vote may set, with their least value and the value a vote set (null:
/// genesis's stands).
fn parameters(q: &Query) -> Value {
    let mut out = serde_json::Map::new();
    for (name, least) in crate::PARAMETERS {
        let set = get_value(q, &state::param_key(name)).ok().flatten().and_then(|v| state::decode_u64(&v, "parameter").ok());
        out.insert(name.to_string(), json!({"least": least, "value": set}));
    }
    Value::Object(out)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProposalsQuery {
    open: Option<bool>,
    tx: Option<String>,
    limit: Option<usize>,
}

async fn proposals(State(q): State<Query>, UrlQuery(p): UrlQuery<ProposalsQuery>) -> Response {
    match list_proposals(&q, p) {
        Ok(v) => json_response(v),
        Err(r) => r,
    }
}

fn list_proposals(q: &Query, p: ProposalsQuery) -> Result<Value, Response> {
    enabled(q)?;
    let limit = p.limit.unwrap_or(DEFAULT_PROPOSALS);
    if !(1..=MAX_PROPOSALS).contains(&limit) {
        return Err(problem(StatusCode::BAD_REQUEST, "bad-query", format!("limit must be 1 to {MAX_PROPOSALS}")));
    }
    let ids: Vec<u64> = if let Some(tx) = &p.tx {
        let id = cairn_types::hexfmt::decode_strict(tx)
            .ok()
            .filter(|b| b.len() == 32)
            .ok_or_else(|| problem(StatusCode::BAD_REQUEST, "bad-query", "tx must be 64 lowercase hex digits"))?;
        let hits = q.index_prefix(INDEX_BY_TX, &id, 1).map_err(IntoResponse::into_response)?;
        hits.into_iter().filter_map(|(_, v)| v.try_into().ok().map(u64::from_be_bytes)).collect()
    } else if p.open == Some(true) {
        let open = get_value(q, state::KEY_OPEN)?.map(|b| state::decode_u64s(&b).map_err(|e| corrupt("open", e))).transpose()?.unwrap_or_default();
        open.into_iter().rev().take(limit).collect()
    } else {
        let next = get_value(q, state::KEY_NEXT)?.map(|b| state::decode_u64(&b, "next").map_err(|e| corrupt("next", e))).transpose()?.unwrap_or(1);
        (1..next).rev().take(limit).collect()
    };
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        if let Some(prop) = read_proposal(q, id)? {
            out.push(j::proposal_json(id, &prop));
        }
    }
    Ok(json!({ "height": q.height(), "proposals": out }))
}

async fn proposal(State(q): State<Query>, Path(id): Path<String>) -> Response {
    let run = || -> Result<Value, Response> {
        enabled(&q)?;
        let id: u64 = id.parse().map_err(|_| problem(StatusCode::BAD_REQUEST, "bad-id", "a proposal id is a positive integer"))?;
        let p = read_proposal(&q, id)?.ok_or_else(|| problem(StatusCode::NOT_FOUND, "governance.unknown-proposal", format!("no proposal {id}")))?;
        Ok(j::proposal_json(id, &p))
    };
    run().map_or_else(|r| r, json_response)
}

async fn organisations(State(q): State<Query>) -> Response {
    let run = || -> Result<Value, Response> {
        enabled(&q)?;
        let mut out = Vec::new();
        for id in read_orgs(&q)? {
            if let Some(o) = read_org(&q, &id)? {
                out.push(j::org_json(&id, &o));
            }
        }
        Ok(json!({ "height": q.height(), "organisations": out }))
    };
    run().map_or_else(|r| r, json_response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MembersQuery {
    org: Option<String>,
}

async fn members(State(q): State<Query>, UrlQuery(m): UrlQuery<MembersQuery>) -> Response {
    let run = || -> Result<Value, Response> {
        enabled(&q)?;
        let ids = match m.org {
            Some(o) => vec![o],
            None => read_orgs(&q)?,
        };
        let mut out = Vec::new();
        for id in ids {
            let Some(org) = read_org(&q, &id)? else {
                return Err(problem(StatusCode::NOT_FOUND, "governance.unknown-organisation", format!("no organisation {id}")));
            };
            for k in &org.keys {
                if let Some(rec) = read_member(&q, k)? {
                    out.push(j::member_json(&hex::encode(k), &rec));
                }
            }
        }
        Ok(json!({ "height": q.height(), "members": out }))
    };
    run().map_or_else(|r| r, json_response)
}

fn parse_key(q: &Query, s: &str) -> Result<PublicKey, Response> {
    PublicKey::from_hex(q.suite(), s).map_err(|e| problem(StatusCode::BAD_REQUEST, "bad-id", format!("key: {e}")))
}

async fn member(State(q): State<Query>, Path(key): Path<String>) -> Response {
    let run = || -> Result<Value, Response> {
        enabled(&q)?;
        let k = parse_key(&q, &key)?;
        let rec = read_member(&q, k.as_bytes())?
            .ok_or_else(|| problem(StatusCode::NOT_FOUND, "governance.unknown-key", format!("{} is not and never was a member key", k.to_hex())))?;
        Ok(j::member_json(&k.to_hex(), &rec))
    };
    run().map_or_else(|r| r, json_response)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ProofQuery {
    height: Option<u64>,
}

async fn member_proof(State(q): State<Query>, Path(key): Path<String>, UrlQuery(p): UrlQuery<ProofQuery>) -> Response {
    let run = || -> Result<Value, Response> {
        enabled(&q)?;
        let k = parse_key(&q, &key)?;
        let receipt = q.state_receipt(&state::member_key(k.as_bytes()), p.height).map_err(IntoResponse::into_response)?;
        serde_json::from_str(&receipt.to_json()).map_err(|e| corrupt("receipt", e))
    };
    run().map_or_else(|r| r, json_response)
}

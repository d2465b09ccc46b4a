//! `testkit`: the smallest module that uses every plug-in point of the platform (execution with
//! state and its own leaves, an error enum, HTTP routes, an OpenAPI fragment, a console page).
//! It lives here, not in `crates/modules`, and no shared file names it: a test checks that.
//!
//! `testkit.put` arguments: `str key | bytes value` (key 1..=64 bytes of UTF-8, value at most
//! 1 KiB of UTF-8). State: key → `u64 height | value`. Leaf: kind 1, payload = the arguments.
//! A key whose value is `locked` refuses further puts (`testkit.locked`, 409): a refusal that
//! depends on state.

use axum::Router;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use cairn_module::{Caller, ConsoleFile, ExecContext, ExecFailure, Module, ModuleRefusal, Policy, Query, TxEffects, TxError, problem};
use cairn_types::codec::{Reader, Writer};
use cairn_types::genesis::Genesis;
use cairn_types::tx::{Call, Transaction};
use serde_json::json;

pub const NAME: &str = "testkit";
pub const METHOD_PUT: &str = "put";
const MAX_KEY_BYTES: usize = 64;
const MAX_VALUE_BYTES: usize = 1024;
const LEAF_PUT: u8 = 1;

/// The binary's modules: the shipped ones and this.
pub const MODULES: &[cairn_exec::ModuleFactory] =
    &[cairn_module_evidence::module, cairn_module_governance::module, cairn_module_trace::module, cairn_module_registry::module, module];

pub fn module(_: &Genesis) -> Result<Box<dyn Module>, String> {
    Ok(Box::new(Testkit))
}

/// The module's own refusals (`testkit.<code>`).
#[derive(Debug, thiserror::Error)]
pub enum TestkitError {
    #[error("the key is empty")]
    EmptyKey,
    #[error("key {0:?} is locked: its value is \"locked\"")]
    Locked(String),
}

impl ModuleRefusal for TestkitError {
    fn code(&self) -> &'static str {
        match self {
            TestkitError::EmptyKey => "empty-key",
            TestkitError::Locked(_) => "locked",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            TestkitError::EmptyKey => 400,
            TestkitError::Locked(_) => 409,
        }
    }
}

/// A signed `testkit.put` (a random nonce; it expires `ttl_ms` after `now_ms`).
pub fn sign_put(key: &cairn_crypto::KeyPair, chain_id: &str, name: &str, value: &str, now_ms: u64, ttl_ms: u64) -> Transaction {
    cairn_types::tx::TxBody {
        chain_id: chain_id.into(),
        signer: key.public_key(),
        nonce: rand::random(),
        expires_at_ms: now_ms + ttl_ms,
        call: Call { module: NAME.into(), method: METHOD_PUT.into(), args: encode_put(name, value) },
    }
    .sign(key)
}

pub fn encode_put(key: &str, value: &str) -> Vec<u8> {
    let mut w = Writer::new();
    w.str(key).str(value);
    w.into_bytes()
}

fn decode_put(args: &[u8]) -> Result<(&str, &str), TxError> {
    let mut r = Reader::new(args);
    let key = r.str("key", MAX_KEY_BYTES)?;
    let value = r.str("value", MAX_VALUE_BYTES)?;
    r.finish()?;
    if key.is_empty() {
        return Err(TestkitError::EmptyKey.into());
    }
    Ok((key, value))
}

pub struct Testkit;

impl Module for Testkit {
    fn name(&self) -> &'static str {
        NAME
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[]
    }

    fn check(&self, call: &Call, _: &Genesis) -> Result<(), TxError> {
        if call.method != METHOD_PUT {
            return Err(TxError::UnknownMethod { module: NAME.into(), method: call.method.clone() });
        }
        decode_put(&call.args).map(|_| ())
    }

    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        let (key, value) = decode_put(&tx.body.call.args)?;
        // A refusal that depends on state: a key whose value is "locked" keeps it.
        if ctx.state_get(key.as_bytes())?.is_some_and(|old| old.get(8..) == Some(b"locked".as_slice())) {
            return Err(TxError::from(TestkitError::Locked(key.into())).into());
        }
        let mut stored = ctx.height.to_be_bytes().to_vec();
        stored.extend_from_slice(value.as_bytes());
        ctx.state_put(key.as_bytes(), stored);
        out.leaves.push(ctx.leaf(LEAF_PUT, &tx.body.call.args));
        Ok(())
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        if method != METHOD_PUT {
            return Err(TxError::UnknownMethod { module: NAME.into(), method: method.into() });
        }
        let (Some(key), Some(value)) = (args["key"].as_str(), args["value"].as_str()) else {
            return Err(TxError::InvalidArgs("give {\"key\": string, \"value\": string}".into()));
        };
        Ok(encode_put(key, value))
    }

    fn state_view(&self, _key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        Some(match value {
            None => Ok(json!({"present": false})),
            Some(v) if v.len() >= 8 => {
                let height = u64::from_be_bytes(v[..8].try_into().expect("8 bytes"));
                Ok(json!({"present": true, "value": String::from_utf8_lossy(&v[8..]), "height": height}))
            }
            Some(_) => Err("a value is u64 height | value".into()),
        })
    }

    fn routes(&self) -> Router<Query> {
        Router::new().route("/values/{key}", get(value)).route("/about", get(about)).route("/mine", get(mine))
    }

    /// `/about` is public, `/mine` answers only about the caller's organisation, the rest is
    /// for members (when the node serves members only).
    fn read_policy(&self, _method: &str, path: &str) -> Policy {
        match path {
            "/about" => Policy::Public,
            "/mine" => Policy::Parties,
            _ => Policy::Members,
        }
    }

    fn openapi(&self) -> serde_json::Value {
        json!({
            "paths": {
            "/v1/testkit/about": {"get": {
                "summary": "What this module is (public)",
                "security": [{}],
                "responses": {"200": {"description": "The module", "content": {"application/json": {"schema": {"type": "object"}}}}}
            }},
            "/v1/testkit/mine": {"get": {
                "summary": "The caller's organisation, as the node authenticated it (parties only)",
                "responses": {"200": {"description": "The caller", "content": {"application/json": {"schema": {"type": "object", "required": ["organisation"], "properties": {"organisation": {"type": ["string", "null"]}}}}}}}
            }},
            "/v1/testkit/values/{key}": {"get": {
                "summary": "The value last put under a key",
                "parameters": [{"name": "key", "in": "path", "required": true, "schema": {"type": "string"}}],
                "responses": {
                    "200": {"description": "The value", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/TestkitValue"}}}},
                    "404": {"description": "No such key", "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}}
                }
            }}},
            "components": {"schemas": {"TestkitValue": {
                "type": "object", "required": ["key", "value", "height"],
                "properties": {"key": {"type": "string"}, "value": {"type": "string"}, "height": {"type": "integer"}}
            }}}
        })
    }

    fn console(&self) -> &'static [ConsoleFile] {
        &[ConsoleFile { name: "page.js", content_type: "text/javascript; charset=utf-8", body: include_str!("../console/page.js") }]
    }
}

async fn about() -> Response {
    axum::Json(json!({"module": NAME, "about": "the platform's test module"})).into_response()
}

/// A `parties` route: the caller's own organisation (`null` in `open` mode, where no caller is
/// authenticated).
async fn mine(caller: Option<axum::Extension<Caller>>) -> Response {
    axum::Json(json!({"organisation": caller.map(|c| c.0.organisation)})).into_response()
}

async fn value(State(q): State<Query>, Path(key): Path<String>) -> Response {
    match q.state_value(key.as_bytes(), None) {
        Ok(Some(v)) if v.len() >= 8 => {
            let height = u64::from_be_bytes(v[..8].try_into().expect("8 bytes"));
            axum::Json(json!({"key": key, "value": String::from_utf8_lossy(&v[8..]), "height": height})).into_response()
        }
        Ok(_) => problem(StatusCode::NOT_FOUND, "testkit.unknown-key", format!("no value under {key:?}")),
        Err(e) => e.into_response(),
    }
}

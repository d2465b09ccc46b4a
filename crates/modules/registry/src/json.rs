//! The JSON forms: a call's arguments (`POST /v1/tx` with JSON arguments, the CLI) and the
//! readable views of state values (state receipts, queries).

use cairn_module::TxError;
use serde_json::{Map, Value, json};

use crate::schema::jcs;
use crate::wire::{Action, Call, Entry, METHOD_CREATE, METHOD_PUT, METHOD_SCHEMA, Registry, StateKey, Version};

fn invalid(m: impl Into<String>) -> TxError {
    TxError::InvalidArgs(m.into())
}

/// `{"registry", ...}` for each method; unknown members are refused.
pub fn args_from_json(method: &str, args: Value) -> Result<Call, TxError> {
    let Value::Object(o) = args else { return Err(invalid("arguments are a JSON object")) };
    let allowed: &[&str] = match method {
        METHOD_CREATE => &["registry", "title_zh", "title_en", "schema"],
        METHOD_SCHEMA => &["registry", "schema"],
        METHOD_PUT => &["registry", "key", "holder", "content"],
        "amend" => &["registry", "key", "expected_version", "content"],
        "transfer" => &["registry", "key", "expected_version", "holder"],
        "suspend" | "reinstate" | "revoke" => &["registry", "key", "expected_version", "reason"],
        m => return Err(TxError::UnknownMethod { module: crate::wire::MODULE.into(), method: m.into() }),
    };
    if let Some(k) = o.keys().find(|k| !allowed.contains(&k.as_str())) {
        return Err(invalid(format!("{method} takes {}; not {k:?}", allowed.join(", "))));
    }
    let s = |k: &str| -> Result<String, TxError> {
        o.get(k).and_then(Value::as_str).map(str::to_string).ok_or_else(|| invalid(format!("{method}: {k} is a string")))
    };
    let opt = |k: &str| -> Result<String, TxError> {
        match o.get(k) {
            None => Ok(String::new()),
            Some(v) => v.as_str().map(str::to_string).ok_or_else(|| invalid(format!("{method}: {k} is a string"))),
        }
    };
    let obj = |k: &str| -> Result<Vec<u8>, TxError> {
        match o.get(k) {
            Some(v @ Value::Object(_)) => Ok(jcs(v)),
            _ => Err(invalid(format!("{method}: {k} is a JSON object"))),
        }
    };
    let version = || -> Result<u32, TxError> {
        o.get("expected_version")
            .and_then(Value::as_u64)
            .and_then(|v| u32::try_from(v).ok())
            .ok_or_else(|| invalid(format!("{method}: expected_version is the entry's current version")))
    };
    let registry = s("registry")?;
    let call = match method {
        METHOD_CREATE => Call::Create { registry, title_zh: opt("title_zh")?, title_en: opt("title_en")?, schema: obj("schema")? },
        METHOD_SCHEMA => Call::Schema { registry, schema: obj("schema")? },
        METHOD_PUT => Call::Put { registry, key: s("key")?, holder: opt("holder")?, content: obj("content")? },
        "amend" => Call::Amend { registry, key: s("key")?, expected_version: version()?, content: obj("content")? },
        "transfer" => Call::Transfer { registry, key: s("key")?, expected_version: version()?, holder: s("holder")? },
        m => Call::Status {
            action: Action::from_method(m).expect("listed above"),
            registry,
            key: s("key")?,
            expected_version: version()?,
            reason: opt("reason")?,
        },
    };
    // The same limits and rules as the bytes are decoded with.
    let bytes = call.encode();
    Call::decode(method, &bytes).map_err(|e| invalid(e.to_string()))
}

pub fn registry_json(id: &str, r: &Registry) -> Value {
    json!({
        "id": id,
        "authority": r.authority,
        "title": {"zh": r.title_zh, "en": r.title_en},
        "schema_version": r.schema_version,
        "entries": r.entries,
        "created_height": r.created_height,
        "created_time_ms": r.created_time_ms,
    })
}

pub fn version_json(v: &Version) -> Value {
    json!({
        "version": v.version,
        "action": v.action.name(),
        "status": v.status.name(),
        "reason": v.reason,
        "holder": v.holder,
        "schema_version": v.schema_version,
        "content_digest": hex::encode(v.content_digest),
        "height": v.height,
        "time_ms": v.time_ms,
        "leaf_index": v.leaf,
    })
}

pub fn entry_json(registry: &str, key: &str, e: &Entry) -> Value {
    let mut v = version_json(&e.current);
    let o = v.as_object_mut().expect("an object");
    o.insert("registry".into(), json!(registry));
    o.insert("key".into(), json!(key));
    o.insert("status_index".into(), json!(e.status_index));
    o.insert("created_height".into(), json!(e.created_height));
    v
}

/// The readable view of one of the module's state values (`None`: the key is absent).
pub fn state_view(key: &[u8], value: Option<&[u8]>) -> Result<Value, String> {
    let k = StateKey::parse(key).map_err(|e| format!("not a registry state key: {e}"))?;
    let err = |e: cairn_types::codec::DecodeError| e.to_string();
    Ok(match k {
        StateKey::Registry(g) => json!({"registry": g, "exists": value.is_some(),
            "value": value.map(Registry::decode).transpose().map_err(err)?.map(|r| registry_json(&g, &r))}),
        StateKey::Schema(g, v) => {
            let schema = value.map(|b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string())).transpose()?;
            json!({"registry": g, "schema_version": v, "schema": schema})
        }
        StateKey::Entry(g, k) => match value {
            None => json!({"registry": g, "key": k, "exists": false}),
            Some(b) => {
                let mut v = entry_json(&g, &k, &Entry::decode(b).map_err(err)?);
                v.as_object_mut().expect("an object").insert("exists".into(), json!(true));
                v
            }
        },
        StateKey::Version(g, k, n) => {
            json!({"registry": g, "key": k, "version": n, "value": value.map(Version::decode).transpose().map_err(err)?.map(|v| version_json(&v))})
        }
        StateKey::StatusChunk(g, p, c) => json!({"registry": g, "purpose": p.name(), "chunk": c, "bits": value.map(hex::encode)}),
        StateKey::Content(d) => {
            let content = value.map(|b| serde_json::from_slice::<Value>(b).map_err(|e| e.to_string())).transpose()?;
            json!({"content_digest": hex::encode(d), "content": content})
        }
    })
}

/// A map of clear fields from a JSON value (the CLI's `--fields`).
pub fn clear_fields(v: Value) -> Result<Map<String, Value>, String> {
    match v {
        Value::Object(o) => Ok(o),
        _ => Err("the fields are a JSON object".into()),
    }
}

//! A registry's entry schema: a JSON Schema (draft 2020-12, no remote references) over an
//! entry's fields in the clear, with two annotations of ours:
//!
//! ```json
//! { "type": "object", "properties": { ... }, "required": [ ... ],
//!   "x-cairn-indexed": ["surname"], "x-cairn-personal": ["name", "birthDate"] }
//! ```
//!
//! Indexed fields can be looked up (`GET /v1/registry/{g}/entries?field=..&value=..`); their
//! values are scalars. Personal fields never reach the chain in the clear: an entry's content
//! on chain is `{"fields": {public fields}, "personal": {name: salted digest (hex)}}`, and
//! execution checks it against the *chain form* of the schema, the schema with each personal
//! field's constraints replaced by "a digest" (the clear values are checked against the full
//! schema by the registrar's client before salting, and by anyone a holder discloses them to).
//!
//! Validation runs at execution, so it is deterministic: the schema is immutable once on chain
//! (a change is a new version), the validator is a pure function of it and the content, and it
//! resolves no remote reference.

use std::collections::BTreeSet;

use serde_json::{Map, Value, json};

/// Most fields a schema names, and most that are indexed.
pub const MAX_FIELDS: usize = 256;
pub const MAX_INDEXED: usize = 16;
/// Longest field name.
pub const MAX_FIELD_NAME: usize = 64;
/// Longest value of an indexed field (as the index key holds it).
pub const MAX_INDEXED_VALUE: usize = 256;

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum SchemaError {
    #[error("the schema is not JSON: {0}")]
    NotJson(String),
    #[error("the schema is not in RFC 8785 canonical form (JCS)")]
    NotCanonical,
    #[error("the schema {0}")]
    Shape(String),
    #[error("the schema is not a valid JSON Schema: {0}")]
    Invalid(String),
}

#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum ContentError {
    #[error("the content is not JSON: {0}")]
    NotJson(String),
    #[error("the content is not in RFC 8785 canonical form (JCS)")]
    NotCanonical,
    #[error("the content {0}")]
    Shape(String),
    #[error("the content does not match the registry's schema: {0}")]
    Schema(String),
}

/// RFC 8785 canonical bytes of a JSON value.
pub fn jcs(value: &Value) -> Vec<u8> {
    serde_json_canonicalizer::to_vec(value).expect("a serde_json value canonicalises")
}

fn canonical(bytes: &[u8]) -> Result<Value, Option<String>> {
    let v: Value = serde_json::from_slice(bytes).map_err(|e| Some(e.to_string()))?;
    if jcs(&v) != bytes {
        return Err(None);
    }
    Ok(v)
}

/// A schema version, parsed and compiled for the chain form of content.
pub struct EntrySchema {
    pub document: Value,
    pub indexed: Vec<String>,
    pub personal: BTreeSet<String>,
    /// Personal fields the schema requires.
    required_personal: BTreeSet<String>,
    chain: jsonschema::Validator,
    /// Lengths of a personal digest in hex (the suite's hash).
    digest_hex: usize,
}

impl std::fmt::Debug for EntrySchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("EntrySchema").field("indexed", &self.indexed).field("personal", &self.personal).finish_non_exhaustive()
    }
}

fn names(doc: &Map<String, Value>, member: &str, properties: &Map<String, Value>) -> Result<Vec<String>, SchemaError> {
    let Some(list) = doc.get(member) else { return Ok(Vec::new()) };
    let list = list.as_array().ok_or_else(|| SchemaError::Shape(format!("{member} is not an array of field names")))?;
    let mut out = Vec::new();
    for n in list {
        let n = n.as_str().ok_or_else(|| SchemaError::Shape(format!("{member} holds a non-string")))?;
        if !properties.contains_key(n) {
            return Err(SchemaError::Shape(format!("{member} names {n:?}, which is not among its properties")));
        }
        if out.iter().any(|o| o == n) {
            return Err(SchemaError::Shape(format!("{member} names {n:?} twice")));
        }
        out.push(n.to_string());
    }
    Ok(out)
}

impl EntrySchema {
    /// Parses and compiles canonical schema bytes for a chain whose hash is `digest_len` bytes.
    pub fn parse(bytes: &[u8], digest_len: usize) -> Result<Self, SchemaError> {
        let document = canonical(bytes).map_err(|e| e.map_or(SchemaError::NotCanonical, SchemaError::NotJson))?;
        let doc = document.as_object().ok_or_else(|| SchemaError::Shape("is not a JSON object".into()))?;
        if doc.get("type") != Some(&json!("object")) {
            return Err(SchemaError::Shape("must have \"type\": \"object\"".into()));
        }
        let properties = doc.get("properties").and_then(Value::as_object).ok_or_else(|| SchemaError::Shape("has no \"properties\" object".into()))?;
        if properties.len() > MAX_FIELDS {
            return Err(SchemaError::Shape(format!("names {} fields, at most {MAX_FIELDS}", properties.len())));
        }
        if let Some(n) = properties.keys().find(|n| n.is_empty() || n.len() > MAX_FIELD_NAME || n.chars().any(char::is_control)) {
            return Err(SchemaError::Shape(format!("field name {n:?} is empty, longer than {MAX_FIELD_NAME} bytes or holds a control character")));
        }
        if let Some(k) = doc.keys().find(|k| k.starts_with("x-cairn-") && *k != "x-cairn-indexed" && *k != "x-cairn-personal") {
            return Err(SchemaError::Shape(format!("has an unknown annotation {k:?}")));
        }
        if let Some(r) = remote_reference(&document) {
            // A reference outside the schema is a second document the chain does not hold.
            return Err(SchemaError::Shape(format!("refers to {r:?} (only references inside the schema, \"#...\")")));
        }
        let indexed = names(doc, "x-cairn-indexed", properties)?;
        let personal: BTreeSet<String> = names(doc, "x-cairn-personal", properties)?.into_iter().collect();
        if indexed.len() > MAX_INDEXED {
            return Err(SchemaError::Shape(format!("indexes {} fields, at most {MAX_INDEXED}", indexed.len())));
        }
        if let Some(n) = indexed.iter().find(|n| personal.contains(*n)) {
            return Err(SchemaError::Shape(format!("marks {n:?} both indexed and personal (a salted digest cannot be looked up)")));
        }
        // The full schema must compile: the registrar's client checks clear values against it.
        compile(&without_annotations(&document))?;
        let required: Vec<String> =
            doc.get("required").and_then(Value::as_array).map(|r| r.iter().filter_map(|v| v.as_str().map(str::to_string)).collect()).unwrap_or_default();
        let required_personal = required.iter().filter(|r| personal.contains(*r)).cloned().collect();
        let chain = compile(&chain_form(&document, &personal))?;
        Ok(EntrySchema { document, indexed, personal, required_personal, chain, digest_hex: digest_len * 2 })
    }

    /// Checks content in its chain form: canonical, `{"fields", "personal"}`, no personal field
    /// in the clear, a digest for each personal field given, the public fields valid.
    pub fn check_content(&self, bytes: &[u8]) -> Result<Value, ContentError> {
        let content = canonical(bytes).map_err(|e| e.map_or(ContentError::NotCanonical, ContentError::NotJson))?;
        let obj = content.as_object().ok_or_else(|| ContentError::Shape("is not a JSON object".into()))?;
        if let Some(k) = obj.keys().find(|k| *k != "fields" && *k != "personal") {
            return Err(ContentError::Shape(format!("has a member {k:?} (only \"fields\" and \"personal\")")));
        }
        let fields = obj.get("fields").and_then(Value::as_object).ok_or_else(|| ContentError::Shape("has no \"fields\" object".into()))?;
        let empty = Map::new();
        let personal = match obj.get("personal") {
            None => &empty,
            Some(p) => p.as_object().ok_or_else(|| ContentError::Shape("\"personal\" is not an object".into()))?,
        };
        if let Some(n) = fields.keys().find(|n| self.personal.contains(*n)) {
            return Err(ContentError::Shape(format!("holds personal field {n:?} in the clear (give its salted digest under \"personal\")")));
        }
        for (n, d) in personal {
            if !self.personal.contains(n) {
                return Err(ContentError::Shape(format!("gives a digest for {n:?}, which the schema does not mark personal")));
            }
            let ok = d.as_str().is_some_and(|d| d.len() == self.digest_hex && d.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
            if !ok {
                return Err(ContentError::Shape(format!("personal field {n:?} is not a {}-character lower-case hex digest", self.digest_hex)));
            }
        }
        if let Some(n) = self.required_personal.iter().find(|n| !personal.contains_key(*n)) {
            return Err(ContentError::Schema(format!("required personal field {n:?} has no digest")));
        }
        for n in &self.indexed {
            match fields.get(n) {
                None | Some(Value::String(_) | Value::Number(_) | Value::Bool(_)) => {}
                Some(_) => return Err(ContentError::Schema(format!("indexed field {n:?} is not a string, number or boolean"))),
            }
            if fields.get(n).is_some_and(|v| index_value(v).len() > MAX_INDEXED_VALUE) {
                return Err(ContentError::Schema(format!("indexed field {n:?} is longer than {MAX_INDEXED_VALUE} bytes")));
            }
        }
        if let Some(e) = self.chain.iter_errors(&Value::Object(fields.clone())).next() {
            return Err(ContentError::Schema(format!("{} at {}", e, if e.instance_path().as_str().is_empty() { "/" } else { e.instance_path().as_str() })));
        }
        Ok(content)
    }

    /// Checks fields in the clear (the registrar's client, before salting) against the full
    /// schema.
    pub fn check_clear(&self, fields: &Value) -> Result<(), ContentError> {
        let full = compile(&without_annotations(&self.document)).map_err(|e| ContentError::Schema(e.to_string()))?;
        match full.iter_errors(fields).next() {
            Some(e) => Err(ContentError::Schema(format!("{} at {}", e, if e.instance_path().as_str().is_empty() { "/" } else { e.instance_path().as_str() }))),
            None => Ok(()),
        }
    }
}

/// The first `$ref`, `$dynamicRef` or `$id` anywhere in `v` that is not a fragment of the
/// schema itself.
fn remote_reference(v: &Value) -> Option<String> {
    match v {
        Value::Object(o) => o.iter().find_map(|(k, x)| match (k.as_str(), x) {
            ("$ref" | "$dynamicRef" | "$id", Value::String(s)) if !s.starts_with('#') => Some(s.clone()),
            _ => remote_reference(x),
        }),
        Value::Array(a) => a.iter().find_map(remote_reference),
        _ => None,
    }
}

/// The text an indexed value is indexed and looked up as.
pub fn index_value(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn without_annotations(doc: &Value) -> Value {
    let mut d = doc.clone();
    if let Some(o) = d.as_object_mut() {
        o.retain(|k, _| !k.starts_with("x-cairn-"));
    }
    d
}

/// The schema of the public fields: personal fields dropped from `properties` and `required`
/// (they are checked as digests, and may not appear among the fields at all).
fn chain_form(doc: &Value, personal: &BTreeSet<String>) -> Value {
    let mut d = without_annotations(doc);
    let o = d.as_object_mut().expect("checked: an object");
    if let Some(p) = o.get_mut("properties").and_then(Value::as_object_mut) {
        p.retain(|k, _| !personal.contains(k));
    }
    if let Some(r) = o.get_mut("required").and_then(Value::as_array_mut) {
        r.retain(|v| v.as_str().is_none_or(|s| !personal.contains(s)));
    }
    d
}

fn compile(schema: &Value) -> Result<jsonschema::Validator, SchemaError> {
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .should_validate_formats(true)
        .build(schema)
        .map_err(|e| SchemaError::Invalid(e.to_string()))
}

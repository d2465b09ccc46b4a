//! The CBV 2.0 event hash ID (GS1 Core Business Vocabulary 2.0, section 8.9 "Event hash ID"):
//! the canonical pre-hash string of an EPCIS 2.0 JSON/JSON-LD event and its SHA-256 as an RFC
//! 6920 `ni` URI, `ni:///sha-256;<lowercase hex>?ver=CBV2.0`.
//!
//! The pre-hash string is `eventType=<type>`, then the standard fields in the canonical property
//! order (eventTime, eventTimeZoneOffset, certificationInfo, parentID, the EPC and quantity
//! lists, action, transformationID, bizStep, disposition, persistentDisposition, readPoint,
//! bizLocation, sensorElementList), then every remaining field —
//! `bizTransactionList`, `sourceList`, `destinationList`, `ilmd` and user extensions — each
//! rendered to a string and the strings sorted. Within a field: `key=value` for values, `key`
//! followed by the children for objects; siblings of the same name sorted; extensions inside
//! standard objects (readPoint, sensorReport, …) after that object's standard fields, sorted.
//! Values are trimmed and canonicalised: bare CBV terms and CURIEs expanded, CBV 1.x URNs
//! replaced by Web URIs, numbers canonical, EPC URNs and Digital Links through
//! [`crate::epc::canonical_identifier`], timestamps in UTC milliseconds. Extension keys become
//! `{namespace IRI}localName`. Not hashed: `eventID`, `recordTime`, `errorDeclaration` (an error
//! declaration keeps the hash of the event it corrects), `rdfs:comment`/`comment`, `@context`.
//!
//! Where the standard text and the reference implementation (RalphTro/epcis-event-hash-generator)
//! leave room, the reference's published vectors decide; the remaining choices are listed in the
//! crate README.

use std::collections::{BTreeMap, BTreeSet};

use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::canon;
use crate::epc::canonical_identifier;
use crate::vocab::{self, Vocab};

/// Deepest nesting of objects and arrays rendered inside an event. Standard EPCIS nests four
/// levels (sensorElementList → sensorElement → sensorReport → value) and extensions rarely a few
/// more; deeper input is refused so hostile documents cannot exhaust the stack.
pub const MAX_DEPTH: usize = 32;

/// Longest value quoted back in an error message.
const MAX_QUOTED: usize = 80;

const HASH_ID_PREFIX: &str = "ni:///sha-256;";
const HASH_ID_SUFFIX: &str = "?ver=CBV2.0";

/// The rdfs:comment IRI, split as extension keys are: comments are not hashed.
const RDFS_COMMENT: &str = "{http://www.w3.org/2000/01/rdf-schema#}comment";

/// Namespace prefixes (prefix -> IRI) declared by a document's/event's @context objects.
///
/// Lookups fall back to the prefixes the standard EPCIS 2.0.0 context declares (`cbv`, `cbvmda`,
/// `dcterms`, `epcis`, `gs1`, `owl`, `rdfs`, `xsd`), which are not stored here.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Namespaces(pub BTreeMap<String, String>);

impl Namespaces {
    /// The prefixes a `@context` value declares: accepts a string, an object, or an array of
    /// both; strings (remote contexts) are ignored, as are keywords (`@vocab`, …) and term
    /// definitions that are not plain IRI strings.
    pub fn from_context(context: &Value) -> Namespaces {
        let mut ns = Namespaces::default();
        ns.add_context(context);
        ns
    }

    /// Adds (overriding) the prefixes a further `@context` value declares.
    pub fn add_context(&mut self, context: &Value) {
        match context {
            Value::Object(entries) => self.add_entries(entries),
            Value::Array(items) => items.iter().filter_map(Value::as_object).for_each(|entries| self.add_entries(entries)),
            _ => {}
        }
    }

    fn add_entries(&mut self, entries: &Map<String, Value>) {
        for (prefix, iri) in entries {
            if let Value::String(iri) = iri
                && !prefix.starts_with('@')
                && !iri.starts_with('@')
            {
                self.0.insert(prefix.clone(), iri.clone());
            }
        }
    }

    /// The IRI `prefix` stands for: a declared one, else a standard EPCIS context prefix.
    pub fn resolve(&self, prefix: &str) -> Option<&str> {
        let standard = || vocab::STANDARD_PREFIXES.iter().find(|(p, _)| *p == prefix).map(|(_, iri)| *iri);
        self.0.get(prefix).map(String::as_str).or_else(standard)
    }
}

/// Why an event has no hash.
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum HashError {
    /// Something that must be a JSON object is not.
    #[error("{0} is not a JSON object")]
    NotAnObject(&'static str),
    /// A document without `epcisBody.eventList`, `epcisBody.queryResults.resultsBody.eventList`
    /// or `epcisBody.event`.
    #[error("the document has no epcisBody.eventList, epcisBody.queryResults.resultsBody.eventList or epcisBody.event")]
    NoEventList,
    /// A required field is absent.
    #[error("the event has no `{0}` field")]
    MissingField(&'static str),
    /// A field holds the wrong kind of JSON value.
    #[error("field `{field}` must be {expected}")]
    WrongType {
        /// The field.
        field: String,
        /// What it must hold.
        expected: &'static str,
    },
    /// A timestamp field that is not an xsd:dateTime in years 0001–9999.
    #[error("field `{field}` holds `{value}`, which is not a timestamp like 2020-03-04T11:00:30.000+01:00")]
    BadTime {
        /// The field.
        field: String,
        /// Its value (cut to 80 characters).
        value: String,
    },
    /// A key `prefix:name` whose prefix no `@context` (nor the standard EPCIS context) declares.
    #[error("key `{0}` uses a namespace prefix that no @context declares")]
    UnknownPrefix(String),
    /// Nesting deeper than [`MAX_DEPTH`].
    #[error("field `{field}` nests deeper than {limit} levels")]
    TooDeep {
        /// The field at which the limit was reached.
        field: String,
        /// The limit.
        limit: usize,
    },
}

// ---------------------------------------------------------------------------------------------
// The canonical property order.

/// How a field's value is rendered.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Kind {
    /// A value: CURIEs, CBV URNs, numbers and identifiers canonicalised.
    Text,
    /// An xsd:dateTimeStamp, in UTC milliseconds.
    Time,
    /// A value that may be a bare standard-vocabulary term.
    Vocab(Vocab),
    /// An array whose elements appear under the given name, once under the list's name.
    List(&'static str, &'static Kind),
    /// An object with its own canonical order; other members follow it, sorted.
    Object(&'static [Field]),
}

/// A standard field and how it renders.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Field {
    name: &'static str,
    kind: Kind,
}

const fn field(name: &'static str, kind: Kind) -> Field {
    Field { name, kind }
}

const TEXT: Kind = Kind::Text;
const QUANTITY_ELEMENT: Kind = Kind::Object(&[field("epcClass", TEXT), field("quantity", TEXT), field("uom", TEXT)]);
const ID_ONLY: &[Field] = &[field("id", TEXT)];
const PERSISTENT_DISPOSITION: &[Field] = &[field("set", Kind::Vocab(vocab::DISPOSITION)), field("unset", Kind::Vocab(vocab::DISPOSITION))];

const SENSOR_METADATA: &[Field] = &[
    field("time", Kind::Time),
    field("startTime", Kind::Time),
    field("endTime", Kind::Time),
    field("deviceID", TEXT),
    field("deviceMetadata", TEXT),
    field("rawData", TEXT),
    field("dataProcessingMethod", TEXT),
    field("bizRules", TEXT),
];

const SENSOR_REPORT: &[Field] = &[
    field("type", Kind::Vocab(vocab::MEASUREMENT_TYPE)),
    field("exception", Kind::Vocab(vocab::SENSOR_ALERT)),
    field("deviceID", TEXT),
    field("deviceMetadata", TEXT),
    field("rawData", TEXT),
    field("dataProcessingMethod", TEXT),
    field("time", Kind::Time),
    field("microorganism", TEXT),
    field("chemicalSubstance", TEXT),
    field("value", TEXT),
    field("component", Kind::Vocab(vocab::COMPONENT)),
    field("stringValue", TEXT),
    field("booleanValue", TEXT),
    field("hexBinaryValue", TEXT),
    field("uriValue", TEXT),
    field("minValue", TEXT),
    field("maxValue", TEXT),
    field("meanValue", TEXT),
    field("sDev", TEXT),
    field("percRank", TEXT),
    field("percValue", TEXT),
    field("uom", TEXT),
    field("coordinateReferenceSystem", TEXT),
];

const SENSOR_ELEMENT: Kind = Kind::Object(&[field("sensorMetadata", Kind::Object(SENSOR_METADATA)), field("sensorReport", Kind::Object(SENSOR_REPORT))]);

/// The canonical property order of CBV 2.0 section 8.9 (after `eventType`), as the reference
/// implementation applies it.
pub(crate) const EVENT_ORDER: &[Field] = &[
    field("eventTime", Kind::Time),
    field("eventTimeZoneOffset", TEXT),
    field("certificationInfo", TEXT),
    field("parentID", TEXT),
    field("epcList", Kind::List("epc", &TEXT)),
    field("inputEPCList", Kind::List("epc", &TEXT)),
    field("childEPCs", Kind::List("epc", &TEXT)),
    field("quantityList", Kind::List("quantityElement", &QUANTITY_ELEMENT)),
    field("childQuantityList", Kind::List("quantityElement", &QUANTITY_ELEMENT)),
    field("inputQuantityList", Kind::List("quantityElement", &QUANTITY_ELEMENT)),
    field("outputEPCList", Kind::List("epc", &TEXT)),
    field("outputQuantityList", Kind::List("quantityElement", &QUANTITY_ELEMENT)),
    field("action", TEXT),
    field("transformationID", TEXT),
    field("bizStep", Kind::Vocab(vocab::BIZ_STEP)),
    field("disposition", Kind::Vocab(vocab::DISPOSITION)),
    field("persistentDisposition", Kind::Object(PERSISTENT_DISPOSITION)),
    field("readPoint", Kind::Object(ID_ONLY)),
    field("bizLocation", Kind::Object(ID_ONLY)),
    field("sensorElementList", Kind::List("sensorElement", &SENSOR_ELEMENT)),
];

/// Lists of typed entries (`{"type": …, "<element>": …}`), rendered `type=…<element>=…` each.
/// They sort with the extensions after the ordered fields, as the reference vectors show.
const TYPED_LISTS: &[(&str, &str, Vocab)] = &[
    ("bizTransactionList", "bizTransaction", vocab::BIZ_TRANSACTION_TYPE),
    ("sourceList", "source", vocab::SOURCE_DESTINATION_TYPE),
    ("destinationList", "destination", vocab::SOURCE_DESTINATION_TYPE),
];

/// Top-level fields that are not hashed (besides `type`, which gives `eventType`).
const NOT_HASHED: &[&str] = &["@context", "eventID", "recordTime", "errorDeclaration"];

/// Keys dropped at every level: comments and XML-conversion text nodes.
fn dropped_everywhere(key: &str) -> bool {
    matches!(key, "@context" | "rdfs:comment" | "comment" | "#text")
}

// ---------------------------------------------------------------------------------------------
// Public entry points.

/// The CBV 2.0 pre-hash string of `event` (one element of an EPCIS 2.0 JSON/JSON-LD
/// `eventList`). `ns` are the document's namespaces; the event's own `@context` adds to them.
///
/// # Errors
/// [`HashError`] when `type` is missing or not a string, a timestamp field is not a timestamp,
/// a key's prefix is undeclared, or the event nests deeper than [`MAX_DEPTH`].
pub fn pre_hash_string(event: &Map<String, Value>, ns: &Namespaces) -> Result<String, HashError> {
    pre_hash_string_ignoring(event, ns, &[])
}

/// [`pre_hash_string`], leaving out the top-level fields named in `ignored` (as written in the
/// document, `prefix:name` or plain; compared after namespace expansion). For repositories that
/// add their own bookkeeping fields to events, as the reference implementation's
/// `ignoreFields` convention does.
///
/// # Errors
/// As [`pre_hash_string`].
pub fn pre_hash_string_ignoring(event: &Map<String, Value>, ns: &Namespaces, ignored: &[&str]) -> Result<String, HashError> {
    let mut ns = ns.clone();
    if let Some(context) = event.get("@context") {
        ns.add_context(context);
    }
    let renderer = Renderer { ns: &ns };
    let event_type = match event.get("type") {
        Some(Value::String(t)) if !t.trim().is_empty() => t.trim(),
        Some(_) => return Err(HashError::WrongType { field: "type".into(), expected: "a non-empty string" }),
        None => return Err(HashError::MissingField("type")),
    };
    let ignored: BTreeSet<String> = ignored.iter().map(|name| renderer.expand_key(name).unwrap_or_else(|_| (*name).to_owned())).collect();
    let mut out = format!("eventType={event_type}");
    out.push_str(&renderer.ordered(event, EVENT_ORDER, 1)?);
    out.push_str(&renderer.event_rest(event, &ignored)?);
    Ok(out)
}

/// SHA-256 of the pre-hash string's UTF-8.
///
/// # Errors
/// As [`pre_hash_string`].
pub fn event_hash(event: &Map<String, Value>, ns: &Namespaces) -> Result<[u8; 32], HashError> {
    Ok(Sha256::digest(pre_hash_string(event, ns)?.as_bytes()).into())
}

/// `hash` as the CBV 2.0 event hash ID: `ni:///sha-256;<64 lowercase hex digits>?ver=CBV2.0`.
pub fn hash_id_string(hash: &[u8; 32]) -> String {
    format!("{HASH_ID_PREFIX}{}{HASH_ID_SUFFIX}", hex::encode(hash))
}

/// The hash in an event hash ID as [`hash_id_string`] writes it (lowercase hex only), or `None`.
pub fn parse_hash_id(s: &str) -> Option<[u8; 32]> {
    let digits = s.strip_prefix(HASH_ID_PREFIX)?.strip_suffix(HASH_ID_SUFFIX)?;
    if digits.len() != 64 || !digits.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        return None;
    }
    let mut out = [0u8; 32];
    hex::decode_to_slice(digits, &mut out).ok()?;
    Some(out)
}

/// The events of an EPCIS 2.0 JSON/JSON-LD document, in document order: `epcisBody.eventList`,
/// `epcisBody.queryResults.resultsBody.eventList` (query documents) or `epcisBody.event`.
///
/// # Errors
/// [`HashError::NotAnObject`] for a document or event that is not an object,
/// [`HashError::NoEventList`] when none of those paths exists.
pub fn document_events(doc: &Value) -> Result<Vec<&Map<String, Value>>, HashError> {
    let body = doc.as_object().ok_or(HashError::NotAnObject("the EPCIS document"))?.get("epcisBody").ok_or(HashError::NoEventList)?;
    let results = || body.get("queryResults")?.get("resultsBody")?.get("eventList");
    match body.get("eventList").or_else(results) {
        Some(Value::Array(events)) => events.iter().map(|e| e.as_object().ok_or(HashError::NotAnObject("an entry of eventList"))).collect(),
        Some(_) => Err(HashError::WrongType { field: "eventList".into(), expected: "an array of events" }),
        None => match body.get("event") {
            Some(Value::Object(event)) => Ok(vec![event]),
            Some(_) => Err(HashError::NotAnObject("epcisBody.event")),
            None => Err(HashError::NoEventList),
        },
    }
}

/// The namespaces a document's top-level `@context` declares.
pub fn document_namespaces(doc: &Value) -> Namespaces {
    doc.get("@context").map(Namespaces::from_context).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------------
// Rendering.

struct Renderer<'a> {
    ns: &'a Namespaces,
}

/// Sorted and concatenated: how siblings join in the pre-hash string.
fn joined(mut parts: Vec<String>) -> String {
    parts.sort();
    parts.concat()
}

/// The elements of an array, or the value itself as the only one.
fn items(value: &Value) -> &[Value] {
    match value {
        Value::Array(items) => items,
        other => std::slice::from_ref(other),
    }
}

/// A scalar as text (`None` for arrays, objects and null).
fn scalar_text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.trim().to_owned()),
        Value::Number(n) => Some(n.to_string()),
        Value::Bool(b) => Some(b.to_string()),
        _ => None,
    }
}

fn quoted(value: &str) -> String {
    value.chars().take(MAX_QUOTED).collect()
}

impl Renderer<'_> {
    fn depth_ok(name: &str, depth: usize) -> Result<(), HashError> {
        if depth > MAX_DEPTH {
            return Err(HashError::TooDeep { field: name.to_owned(), limit: MAX_DEPTH });
        }
        Ok(())
    }

    /// The fields of `order` present in `obj`, in that order, same-named entries sorted.
    fn ordered(&self, obj: &Map<String, Value>, order: &[Field], depth: usize) -> Result<String, HashError> {
        let mut out = String::new();
        for f in order {
            if let Some(value) = obj.get(f.name) {
                out.push_str(&joined(self.field(f.name, f.kind, value, depth)?));
            }
        }
        Ok(out)
    }

    /// A standard field's entries: one per value (arrays give several), none if empty.
    fn field(&self, name: &str, kind: Kind, value: &Value, depth: usize) -> Result<Vec<String>, HashError> {
        Self::depth_ok(name, depth)?;
        match (kind, value) {
            (_, Value::Null) => Ok(Vec::new()),
            (Kind::List(element, element_kind), _) => self.list(name, element, *element_kind, value, depth),
            (_, Value::Array(values)) => self.each(values, |v| self.field(name, kind, v, depth + 1)),
            (Kind::Object(order), Value::Object(obj)) => {
                let body = format!("{}{}", self.ordered(obj, order, depth + 1)?, self.others(obj, order, depth + 1)?);
                Ok(if body.is_empty() { Vec::new() } else { vec![format!("{name}{body}")] })
            }
            (_, Value::Object(_)) => self.generic(name, value, depth),
            (Kind::Time, _) => self.time(name, value).map(|t| t.into_iter().collect()),
            (Kind::Vocab(v), _) => Ok(self.value_entry(name, value, Some(v)).into_iter().collect()),
            _ => Ok(self.value_entry(name, value, None).into_iter().collect()),
        }
    }

    fn each(&self, values: &[Value], mut render: impl FnMut(&Value) -> Result<Vec<String>, HashError>) -> Result<Vec<String>, HashError> {
        let mut out = Vec::new();
        for v in values {
            out.extend(render(v)?);
        }
        Ok(out)
    }

    /// `name` once, followed by the sorted entries of its elements; nothing if there are none.
    fn list(&self, name: &str, element: &str, kind: Kind, value: &Value, depth: usize) -> Result<Vec<String>, HashError> {
        let children = self.each(items(value), |v| self.field(element, kind, v, depth + 1))?;
        Ok(if children.is_empty() { Vec::new() } else { vec![format!("{name}{}", joined(children))] })
    }

    /// `name=value` for a non-empty scalar.
    fn value_entry(&self, name: &str, value: &Value, vocab: Option<Vocab>) -> Option<String> {
        let text = scalar_text(value).filter(|t| !t.is_empty())?;
        Some(format!("{name}={}", self.canonical_value(&text, vocab)))
    }

    fn time(&self, name: &str, value: &Value) -> Result<Option<String>, HashError> {
        let bad = |text: String| HashError::BadTime { field: name.to_owned(), value: quoted(&text) };
        match value {
            Value::String(s) if s.trim().is_empty() => Ok(None),
            Value::String(s) => canon::timestamp(s.trim()).map(|t| Some(format!("{name}={t}"))).ok_or_else(|| bad(s.clone())),
            other => Err(bad(other.to_string())),
        }
    }

    /// Members of a standard object outside its order, rendered generically and sorted.
    fn others(&self, obj: &Map<String, Value>, order: &[Field], depth: usize) -> Result<String, HashError> {
        let mut parts = Vec::new();
        for (key, value) in obj {
            if order.iter().any(|f| f.name == key) || dropped_everywhere(key) {
                continue;
            }
            parts.extend(self.member(key, value, depth)?);
        }
        Ok(joined(parts))
    }

    /// Everything at the top level outside the canonical order, each rendered, then sorted.
    fn event_rest(&self, event: &Map<String, Value>, ignored: &BTreeSet<String>) -> Result<String, HashError> {
        let mut parts = Vec::new();
        for (key, value) in event {
            if key == "type" || NOT_HASHED.contains(&key.as_str()) || EVENT_ORDER.iter().any(|f| f.name == key) || dropped_everywhere(key) {
                continue;
            }
            if let Some(&(_, element, vocab)) = TYPED_LISTS.iter().find(|(list, _, _)| list == key) {
                parts.extend(self.typed_list(key, element, vocab, value)?);
                continue;
            }
            let name = self.expand_key(key)?;
            if !ignored.contains(&name) && !ignored.contains(key) && name != RDFS_COMMENT {
                parts.extend(self.generic(&name, value, 1)?);
            }
        }
        Ok(joined(parts))
    }

    /// `bizTransactionList` and friends: `list` then, sorted, `type=…element=…[extensions]`.
    fn typed_list(&self, list: &str, element: &str, vocab: Vocab, value: &Value) -> Result<Vec<String>, HashError> {
        let entry = |item: &Value| -> Result<Vec<String>, HashError> {
            let Value::Object(obj) = item else { return self.field(element, TEXT, item, 2) };
            let mut s = String::new();
            if let Some(t) = obj.get("type") {
                s.push_str(&joined(self.field("type", Kind::Vocab(vocab), t, 2)?));
            }
            if let Some(v) = obj.get(element) {
                s.push_str(&joined(self.field(element, TEXT, v, 2)?));
            }
            s.push_str(&self.typed_extras(obj, element)?);
            Ok(if s.is_empty() { Vec::new() } else { vec![s] })
        };
        let entries = self.each(items(value), entry)?;
        Ok(if entries.is_empty() { Vec::new() } else { vec![format!("{list}{}", joined(entries))] })
    }

    /// Members of a typed entry besides `type` and its element, sorted.
    fn typed_extras(&self, obj: &Map<String, Value>, element: &str) -> Result<String, HashError> {
        let mut parts = Vec::new();
        for (key, value) in obj {
            if key != "type" && key != element && !dropped_everywhere(key) {
                parts.extend(self.member(key, value, 2)?);
            }
        }
        Ok(joined(parts))
    }

    /// A member outside any order: its key expanded, its value rendered generically.
    fn member(&self, key: &str, value: &Value, depth: usize) -> Result<Vec<String>, HashError> {
        let name = self.expand_key(key)?;
        if name == RDFS_COMMENT {
            return Ok(Vec::new());
        }
        self.generic(&name, value, depth)
    }

    /// A value outside the canonical order: `name=value`, `name` + sorted children for objects,
    /// one entry per element for arrays; a name ending in `List` wraps its elements, which take
    /// the name without `List` (the EPCIS XML/JSON list correspondence).
    fn generic(&self, name: &str, value: &Value, depth: usize) -> Result<Vec<String>, HashError> {
        Self::depth_ok(name, depth)?;
        if let Some(element) = name.strip_suffix("List").filter(|e| !e.is_empty() && !value.is_null()) {
            let children = self.each(items(value), |v| self.generic(element, v, depth + 1))?;
            return Ok(if children.is_empty() { Vec::new() } else { vec![format!("{name}{}", joined(children))] });
        }
        match value {
            Value::Null => Ok(Vec::new()),
            Value::Array(values) => self.each(values, |v| self.generic(name, v, depth + 1)),
            Value::Object(obj) => {
                let mut children = Vec::new();
                for (key, v) in obj {
                    if !dropped_everywhere(key) {
                        children.extend(self.member(key, v, depth + 1)?);
                    }
                }
                Ok(vec![format!("{name}{}", joined(children))])
            }
            _ => Ok(vec![self.value_entry(name, value, None).unwrap_or_else(|| name.to_owned())]),
        }
    }

    /// `prefix:local` as `{iri}local`; absolute IRIs (`scheme://…`, `urn:…`) split after their
    /// last `/`, `#` or `:`; plain keys unchanged.
    fn expand_key(&self, key: &str) -> Result<String, HashError> {
        let Some((prefix, local)) = key.split_once(':') else { return Ok(key.to_owned()) };
        if let Some(iri) = self.ns.resolve(prefix) {
            return Ok(format!("{{{iri}}}{local}"));
        }
        if local.starts_with("//") || prefix.eq_ignore_ascii_case("urn") {
            let cut = key.rfind(['/', '#', ':']).map_or(key.len(), |i| i + 1);
            let (namespace, local) = key.split_at_checked(cut).unwrap_or((key, ""));
            return Ok(format!("{{{namespace}}}{local}"));
        }
        Err(HashError::UnknownPrefix(quoted(key)))
    }

    /// A trimmed, non-empty value in canonical form.
    fn canonical_value(&self, text: &str, vocab: Option<Vocab>) -> String {
        if let Some(expanded) = vocab.and_then(|v| v.expand(text)) {
            return expanded;
        }
        let text = self.expand_curie(text);
        let text = vocab::cbv_urn_to_web_uri(&text).unwrap_or(text);
        canon::number(&text).unwrap_or_else(|| canonical_identifier(&text))
    }

    /// `prefix:rest` as the prefix's IRI + `rest` when the prefix is declared (not `scheme://`).
    fn expand_curie(&self, text: &str) -> String {
        match text.split_once(':') {
            Some((prefix, rest)) if !rest.starts_with("//") => match self.ns.resolve(prefix) {
                Some(iri) => format!("{iri}{rest}"),
                None => text.to_owned(),
            },
            _ => text.to_owned(),
        }
    }
}

#[cfg(test)]
mod tests;

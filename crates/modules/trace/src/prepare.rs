//! From EPCIS 2.0 JSON-LD to the records the chain keeps: a document's events checked against
//! the GS1 JSON schema and the CBV rules, each with its CBV 2.0 event hash and its identifiers
//! in canonical form. The node's capture routes, `cairn trace capture` and admission all call
//! [`prepare_event`], so what a capturer signs is what any node re-derives from the body.

use std::sync::OnceLock;

use cairn_epcis::hash::Namespaces;
use serde_json::{Map, Value};

use crate::wire::{Action, EventRecord, EventType, MAX_BODY_BYTES, MAX_IDS_PER_EVENT, MAX_TEXT, Role};

/// The GS1 EPCIS 2.0 JSON schema (draft 7), unchanged (`schema/PROVENANCE.txt`).
const SCHEMA: &str = include_str!("../schema/EPCIS-JSON-Schema.json");
/// Most schema violations one refusal lists: enough to fix a document, bounded for a hostile one.
const MAX_SCHEMA_PROBLEMS: usize = 20;

/// Why an event (or the document around it) is refused: where, which field, what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{}{}: {detail}", .index.map(|i| format!("event {i}")).unwrap_or_else(|| "document".into()), .field.as_ref().map(|f| format!(", field {f}")).unwrap_or_default())]
pub struct EventProblem {
    /// The event's position in the document's event list (`None`: the document itself).
    pub index: Option<usize>,
    /// The event's `eventID`, when it has one.
    pub event_id: Option<String>,
    /// The field, as a JSON pointer below the event (or the document).
    pub field: Option<String>,
    pub detail: String,
}

impl EventProblem {
    fn document(field: Option<&str>, detail: impl Into<String>) -> Self {
        EventProblem { index: None, event_id: None, field: field.map(str::to_string), detail: detail.into() }
    }

    fn event(index: usize, event: &Map<String, Value>, field: Option<&str>, detail: impl Into<String>) -> Self {
        let event_id = event.get("eventID").and_then(Value::as_str).map(str::to_string);
        EventProblem { index: Some(index), event_id, field: field.map(str::to_string), detail: detail.into() }
    }

    /// The problem as JSON members (`eventIndex`, `eventID`, `field`) for a problem response.
    pub fn members(&self) -> Map<String, Value> {
        let mut m = Map::new();
        if let Some(i) = self.index {
            m.insert("eventIndex".into(), i.into());
        }
        if let Some(id) = &self.event_id {
            m.insert("eventID".into(), id.clone().into());
        }
        if let Some(f) = &self.field {
            m.insert("field".into(), f.clone().into());
        }
        m
    }
}

/// A document's events with the context they are read in.
pub struct Document {
    /// The document's `@context`, given to every event that has none of its own.
    pub context: Value,
    pub events: Vec<Map<String, Value>>,
}

fn validator() -> &'static jsonschema::Validator {
    static V: OnceLock<jsonschema::Validator> = OnceLock::new();
    V.get_or_init(|| {
        let schema: Value = serde_json::from_str(SCHEMA).expect("the EPCIS schema is JSON");
        jsonschema::options().with_draft(jsonschema::Draft::Draft7).should_validate_formats(true).build(&schema).expect("the EPCIS schema compiles")
    })
}

/// The events of an `EPCISDocument` or `EPCISQueryDocument`, or a single event (what
/// `POST /epcis/events` takes), with the document's context.
pub fn parse_document(doc: &Value) -> Result<Document, EventProblem> {
    let Value::Object(obj) = doc else { return Err(EventProblem::document(None, "not a JSON object")) };
    let Some(context) = obj.get("@context") else {
        return Err(EventProblem::document(Some("/@context"), "missing @context: EPCIS 2.0 JSON is JSON-LD and names its context"));
    };
    let list = match obj.get("type").and_then(Value::as_str) {
        Some("EPCISDocument") => doc.pointer("/epcisBody/eventList"),
        Some("EPCISQueryDocument") => doc.pointer("/epcisBody/queryResults/resultsBody/eventList"),
        Some(t) if EventType::from_name(t).is_some() => return Ok(Document { context: context.clone(), events: vec![obj.clone()] }),
        Some(t) => return Err(EventProblem::document(Some("/type"), format!("type {t:?} is not an EPCIS document or event type"))),
        None => return Err(EventProblem::document(Some("/type"), "missing type")),
    };
    let Some(Value::Array(list)) = list else { return Err(EventProblem::document(Some("/epcisBody"), "missing epcisBody.eventList")) };
    let mut events = Vec::with_capacity(list.len());
    for (i, e) in list.iter().enumerate() {
        match e {
            Value::Object(m) => events.push(m.clone()),
            _ => return Err(EventProblem::document(Some(&format!("/epcisBody/eventList/{i}")), "an event is a JSON object")),
        }
    }
    Ok(Document { context: context.clone(), events })
}

/// The event as stored: its own members, with the document's `@context` unless it has one.
pub fn standalone(event: &Map<String, Value>, context: &Value) -> Map<String, Value> {
    let mut e = event.clone();
    if !e.contains_key("@context") {
        e.insert("@context".into(), context.clone());
    }
    e
}

/// Checks a standalone event (with its `@context`) against the GS1 schema.
fn check_schema(index: usize, event: &Map<String, Value>) -> Result<(), EventProblem> {
    let value = Value::Object(event.clone());
    let mut problems = validator().iter_errors(&value).take(MAX_SCHEMA_PROBLEMS).peekable();
    let Some(first) = problems.next() else { return Ok(()) };
    let field = first.instance_path().to_string();
    let mut detail = format!("{first}");
    let more = problems.count();
    if more > 0 {
        detail.push_str(&format!(" (and {more} more schema violation{})", if more == 1 { "" } else { "s" }));
    }
    Err(EventProblem::event(index, event, Some(if field.is_empty() { "/" } else { &field }), format!("does not match the EPCIS 2.0 schema: {detail}")))
}

/// Milliseconds since 1970 of an RFC 3339 / xsd:dateTime with a time zone (`Z` or `±hh:mm`).
pub fn parse_time_ms(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let num = |r: std::ops::Range<usize>| -> Option<i64> { std::str::from_utf8(b.get(r)?).ok()?.parse::<i64>().ok() };
    if b.len() < 20 || b[4] != b'-' || b[7] != b'-' || (b[10] != b'T' && b[10] != b't') || b[13] != b':' || b[16] != b':' {
        return None;
    }
    let (y, mo, d, h, mi, sec) = (num(0..4)?, num(5..7)?, num(8..10)?, num(11..13)?, num(14..16)?, num(17..19)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&d) || h > 23 || mi > 59 || sec > 60 {
        return None;
    }
    let mut at = 19;
    let mut ms = 0i64;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        let digits = &s[start..at];
        if digits.is_empty() || digits.len() > 9 {
            return None;
        }
        // Milliseconds, truncated as the CBV event hash rounds down.
        ms = format!("{digits:0<3}")[..3].parse().ok()?;
    }
    let offset_min = match &s[at..] {
        "Z" | "z" => 0,
        tz if tz.len() == 6 && (tz.starts_with('+') || tz.starts_with('-')) && tz.as_bytes()[3] == b':' => {
            let (oh, om) = (tz[1..3].parse::<i64>().ok()?, tz[4..6].parse::<i64>().ok()?);
            if oh > 14 || om > 59 {
                return None;
            }
            if tz.starts_with('-') { -(oh * 60 + om) } else { oh * 60 + om }
        }
        _ => return None,
    };
    let days = days_from_civil(y, mo, d);
    Some(((days * 24 + h) * 60 + mi - offset_min) * 60_000 + sec * 1000 + ms)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// A CBV value in its short form: `shipping` for `shipping`,
/// `https://ref.gs1.org/cbv/BizStep-shipping` and `urn:epcglobal:cbv:bizstep:shipping`;
/// any other URI unchanged.
pub fn cbv_short(value: &str, web_prefix: &str, urn_prefix: &str) -> String {
    value
        .strip_prefix("https://ref.gs1.org/cbv/")
        .and_then(|v| v.strip_prefix(web_prefix))
        .or_else(|| value.strip_prefix(urn_prefix))
        .unwrap_or(value)
        .to_string()
}

pub fn biz_step_short(v: &str) -> String {
    cbv_short(v, "BizStep-", "urn:epcglobal:cbv:bizstep:")
}

pub fn disposition_short(v: &str) -> String {
    cbv_short(v, "Disp-", "urn:epcglobal:cbv:disp:")
}

fn text<'a>(index: usize, event: &'a Map<String, Value>, field: &str) -> Result<Option<&'a str>, EventProblem> {
    match event.get(field) {
        None => Ok(None),
        Some(Value::String(s)) if s.len() <= MAX_TEXT => Ok(Some(s)),
        Some(Value::String(_)) => Err(EventProblem::event(index, event, Some(&format!("/{field}")), format!("longer than {MAX_TEXT} bytes"))),
        Some(_) => Err(EventProblem::event(index, event, Some(&format!("/{field}")), "must be a string")),
    }
}

fn location(index: usize, event: &Map<String, Value>, field: &str) -> Result<String, EventProblem> {
    match event.get(field) {
        None => Ok(String::new()),
        Some(v) => match v.get("id").and_then(Value::as_str) {
            Some(id) if id.len() <= MAX_TEXT => Ok(cairn_epcis::epc::canonical_identifier(id)),
            _ => Err(EventProblem::event(index, event, Some(&format!("/{field}/id")), "needs an id: a URI of at most 512 bytes")),
        },
    }
}

/// The identifiers of an event, each with its role, canonical, sorted, without repeats.
fn identifiers(index: usize, event: &Map<String, Value>) -> Result<Vec<(Role, String)>, EventProblem> {
    let mut ids = Vec::new();
    let lists = [("epcList", Role::Epc), ("childEPCs", Role::Child), ("inputEPCList", Role::Input), ("outputEPCList", Role::Output)];
    for (field, role) in lists {
        for (i, v) in event.get(field).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(s) = v.as_str().filter(|s| !s.is_empty() && s.len() <= MAX_TEXT) else {
                return Err(EventProblem::event(index, event, Some(&format!("/{field}/{i}")), "an EPC is a URI of at most 512 bytes"));
            };
            ids.push((role, cairn_epcis::epc::canonical_identifier(s)));
        }
    }
    if let Some(parent) = text(index, event, "parentID")?.filter(|s| !s.is_empty()) {
        ids.push((Role::Parent, cairn_epcis::epc::canonical_identifier(parent)));
    }
    let quantities =
        [("quantityList", Role::Class), ("childQuantityList", Role::Class), ("inputQuantityList", Role::InputClass), ("outputQuantityList", Role::OutputClass)];
    for (field, role) in quantities {
        for (i, q) in event.get(field).and_then(Value::as_array).into_iter().flatten().enumerate() {
            let Some(class) = q.get("epcClass").and_then(Value::as_str).filter(|s| !s.is_empty() && s.len() <= MAX_TEXT) else {
                return Err(EventProblem::event(index, event, Some(&format!("/{field}/{i}/epcClass")), "a quantity element names its epcClass"));
            };
            ids.push((role, cairn_epcis::epc::canonical_identifier(class)));
        }
    }
    ids.sort();
    ids.dedup();
    if ids.len() > MAX_IDS_PER_EVENT {
        return Err(EventProblem::event(index, event, None, format!("{} identifiers; an event may name at most {MAX_IDS_PER_EVENT}", ids.len())));
    }
    Ok(ids)
}

/// The record of event `index` of a document read in `context`: schema and CBV checks, its
/// event hash and identifiers; with its body unless `hash_only`.
pub fn prepare_event(index: usize, event: &Map<String, Value>, context: &Value, hash_only: bool) -> Result<EventRecord, EventProblem> {
    let event = standalone(event, context);
    check_schema(index, &event)?;
    let type_name = text(index, &event, "type")?.unwrap_or_default();
    let event_type = EventType::from_name(type_name)
        .ok_or_else(|| EventProblem::event(index, &event, Some("/type"), format!("{type_name:?} is not an EPCIS 2.0 event type")))?;
    let time = text(index, &event, "eventTime")?.ok_or_else(|| EventProblem::event(index, &event, Some("/eventTime"), "missing eventTime"))?;
    let event_time_ms = parse_time_ms(time)
        .and_then(|t| u64::try_from(t).ok())
        .ok_or_else(|| EventProblem::event(index, &event, Some("/eventTime"), format!("{time:?} is not a date-time with a time zone after 1970")))?;
    let action = match text(index, &event, "action")? {
        Some(a) => Action::from_name(a).ok_or_else(|| EventProblem::event(index, &event, Some("/action"), format!("{a:?} is not ADD, OBSERVE or DELETE")))?,
        None if event_type == EventType::Transformation => Action::None,
        None => return Err(EventProblem::event(index, &event, Some("/action"), format!("missing action: a {type_name} has one"))),
    };
    let ns = Namespaces::from_context(context);
    let hash = cairn_epcis::hash::event_hash(&event, &ns).map_err(|e| EventProblem::event(index, &event, None, format!("no event hash: {e}")))?;
    let hash_id = cairn_epcis::hash::hash_id_string(&hash);
    let event_id = text(index, &event, "eventID")?.filter(|id| *id != hash_id).unwrap_or_default().to_string();
    let body = if hash_only {
        None
    } else {
        let bytes = serde_json::to_vec(&event).expect("JSON serialises");
        if bytes.len() > MAX_BODY_BYTES {
            return Err(EventProblem::event(
                index,
                &event,
                None,
                format!("{} bytes of JSON; an event kept on chain is at most {MAX_BODY_BYTES} (capture it hash-only)", bytes.len()),
            ));
        }
        Some(bytes)
    };
    Ok(EventRecord {
        hash,
        event_id,
        event_type,
        event_time_ms,
        action,
        biz_step: text(index, &event, "bizStep")?.map(biz_step_short).unwrap_or_default(),
        disposition: text(index, &event, "disposition")?.map(disposition_short).unwrap_or_default(),
        read_point: location(index, &event, "readPoint")?,
        biz_location: location(index, &event, "bizLocation")?,
        ids: identifiers(index, &event)?,
        body,
    })
}

/// Every event of a document prepared, or the first problem (`rollback`); with `proceed`, the
/// events that pass and the problems of those that do not.
pub fn prepare_document(doc: &Document, hash_only: bool) -> (Vec<(usize, EventRecord)>, Vec<EventProblem>) {
    let mut ok = Vec::with_capacity(doc.events.len());
    let mut problems = Vec::new();
    for (i, e) in doc.events.iter().enumerate() {
        match prepare_event(i, e, &doc.context, hash_only) {
            Ok(r) => ok.push((i, r)),
            Err(p) => problems.push(p),
        }
    }
    (ok, problems)
}

/// What admission checks of a signed event: a body re-derives to exactly the record (hash,
/// identifiers, fields), so no capturer can file an event under another's hash or EPCs; a
/// hash-only record is the capturer's word, checked for form.
pub fn verify_record(index: usize, record: &EventRecord) -> Result<(), EventProblem> {
    let Some(body) = &record.body else { return Ok(()) };
    let value: Value = serde_json::from_slice(body).map_err(|e| EventProblem::document(None, format!("event {index}: body is not JSON: {e}")))?;
    let Value::Object(event) = value else { return Err(EventProblem::document(None, format!("event {index}: body is not a JSON object"))) };
    let context = event.get("@context").cloned().unwrap_or(Value::Null);
    let derived = prepare_event(index, &event, &context, false)?;
    if derived != *record {
        return Err(EventProblem::event(index, &event, None, "the record's hash, identifiers or fields are not its body's"));
    }
    Ok(())
}

//! The EPCIS 2.0 SimpleEventQuery over the chain's events: parameters parsed from a URL query
//! (`GET /epcis/events?...`) or a named query's definition, run against the module's indexes,
//! answered page by page (`perPage`, `nextPageToken`).
//!
//! A query reads one index (the most selective its parameters allow: event IDs, then `MATCH_*`
//! identifiers, then one `EQ_` field value, then the event-time range, else the whole log in
//! record-time order) and checks every other parameter on each event it finds.

use std::collections::BTreeSet;

use cairn_module::{HostError, Query};
use serde_json::Value;

use crate::prepare::{biz_step_short, disposition_short, parse_time_ms};
use crate::wire::{Action, EventEntry, EventType, Role};
use crate::{Field, INDEX_FIELD, INDEX_ID, INDEX_LOG, INDEX_TIME, field_prefix, key_part, leaf_of_key};

/// Default and largest page.
pub const DEFAULT_PER_PAGE: usize = 100;
pub const MAX_PER_PAGE: usize = 1000;
/// Most events a set-based query (event IDs, identifiers) or a re-ordered one considers: past
/// it the query is too large (`QueryTooLargeException`) and must be narrowed.
pub const MAX_CANDIDATES: usize = 50_000;
/// Most index entries one page reads while filtering a stream: a page that finds too few
/// matches in them ends early with a token to go on.
const MAX_SCAN_PER_PAGE: usize = 100_000;
/// Index entries read per step of a stream.
const SCAN_CHUNK: usize = 1024;

/// Why a query is refused.
#[derive(Debug, thiserror::Error)]
pub enum QueryError {
    /// A parameter the query language does not have, or a value it cannot take (400,
    /// `QueryParameterException`).
    #[error("{0}")]
    Parameter(String),
    /// The query would consider too many events (413, `QueryTooLargeException`).
    #[error("{0}")]
    TooLarge(String),
    #[error(transparent)]
    Host(#[from] HostError),
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cmp {
    Eq,
    Gt,
    Ge,
    Lt,
    Le,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum OrderBy {
    EventTime,
    RecordTime,
}

/// A parsed SimpleEventQuery.
#[derive(Clone, Debug, Default)]
pub struct EventQuery {
    pub event_types: Vec<EventType>,
    pub ge_event_time: Option<u64>,
    pub lt_event_time: Option<u64>,
    pub ge_record_time: Option<u64>,
    pub lt_record_time: Option<u64>,
    pub actions: Vec<Action>,
    pub biz_steps: Vec<String>,
    pub dispositions: Vec<String>,
    pub read_points: Vec<String>,
    pub biz_locations: Vec<String>,
    /// One entry per `MATCH_*` parameter: the roles it looks in and the identifiers it takes.
    pub matches: Vec<(Vec<Role>, Vec<String>)>,
    pub event_ids: Vec<String>,
    quantities: Vec<(Cmp, f64)>,
    pub order_by: Option<OrderBy>,
    pub descending: bool,
    pub event_count_limit: Option<usize>,
    pub per_page: usize,
}

fn values(v: &str) -> Vec<String> {
    v.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

fn time(name: &str, v: &str) -> Result<u64, QueryError> {
    parse_time_ms(v).and_then(|t| u64::try_from(t).ok()).ok_or_else(|| QueryError::Parameter(format!("{name}: {v:?} is not a date-time with a time zone")))
}

fn roles_of(name: &str) -> Option<Vec<Role>> {
    Some(match name {
        "MATCH_epc" => vec![Role::Epc, Role::Child],
        "MATCH_parentID" => vec![Role::Parent],
        "MATCH_inputEPC" => vec![Role::Input],
        "MATCH_outputEPC" => vec![Role::Output],
        "MATCH_anyEPC" => vec![Role::Epc, Role::Child, Role::Parent, Role::Input, Role::Output],
        "MATCH_epcClass" => vec![Role::Class],
        "MATCH_inputEPCClass" => vec![Role::InputClass],
        "MATCH_outputEPCClass" => vec![Role::OutputClass],
        "MATCH_anyEPCClass" => vec![Role::Class, Role::InputClass, Role::OutputClass],
        _ => return None,
    })
}

/// Query parameters that are the binding's, not the query's.
const PAGING: [&str; 2] = ["nextPageToken", "perPage"];

impl EventQuery {
    /// Parses SimpleEventQuery parameters (values comma-separated or repeated). Unknown
    /// parameters are refused, so a typo is not a silently broader answer.
    pub fn parse<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> Result<Self, QueryError> {
        let mut q = EventQuery { per_page: DEFAULT_PER_PAGE, ..Default::default() };
        for (name, v) in params {
            q.set(name, v)?;
        }
        Ok(q)
    }

    fn set(&mut self, name: &str, v: &str) -> Result<(), QueryError> {
        let bad = |what: &str| QueryError::Parameter(format!("{name}: {v:?} {what}"));
        match name {
            "eventType" => {
                for t in values(v) {
                    self.event_types.push(EventType::from_name(&t).ok_or_else(|| bad("is not an EPCIS event type"))?);
                }
            }
            "GE_eventTime" => self.ge_event_time = Some(time(name, v)?),
            "LT_eventTime" => self.lt_event_time = Some(time(name, v)?),
            "GE_recordTime" => self.ge_record_time = Some(time(name, v)?),
            "LT_recordTime" => self.lt_record_time = Some(time(name, v)?),
            "EQ_action" => {
                for a in values(v) {
                    self.actions.push(Action::from_name(&a).ok_or_else(|| bad("is not ADD, OBSERVE or DELETE"))?);
                }
            }
            "EQ_bizStep" => self.biz_steps.extend(values(v).iter().map(|s| biz_step_short(s))),
            "EQ_disposition" => self.dispositions.extend(values(v).iter().map(|s| disposition_short(s))),
            "EQ_readPoint" => self.read_points.extend(values(v).iter().map(|s| cairn_epcis::epc::canonical_identifier(s))),
            "EQ_bizLocation" => self.biz_locations.extend(values(v).iter().map(|s| cairn_epcis::epc::canonical_identifier(s))),
            "EQ_eventID" => self.event_ids.extend(values(v)),
            "EQ_quantity" | "GT_quantity" | "GE_quantity" | "LT_quantity" | "LE_quantity" => {
                let cmp = match &name[..2] {
                    "EQ" => Cmp::Eq,
                    "GT" => Cmp::Gt,
                    "GE" => Cmp::Ge,
                    "LT" => Cmp::Lt,
                    _ => Cmp::Le,
                };
                let n: f64 = v.parse().ok().filter(|n: &f64| n.is_finite()).ok_or_else(|| bad("is not a number"))?;
                self.quantities.push((cmp, n));
            }
            "orderBy" => {
                self.order_by = Some(match v {
                    "eventTime" => OrderBy::EventTime,
                    "recordTime" => OrderBy::RecordTime,
                    _ => return Err(bad("is not eventTime or recordTime")),
                });
                // The binding's default direction once an order is asked for.
                self.descending = true;
            }
            "orderDirection" => {
                self.descending = match v {
                    "ASC" => false,
                    "DESC" => true,
                    _ => return Err(bad("is not ASC or DESC")),
                }
            }
            "eventCountLimit" => self.event_count_limit = Some(v.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("is not a positive integer"))?),
            "perPage" => {
                self.per_page = v.parse().ok().filter(|n| (1..=MAX_PER_PAGE).contains(n)).ok_or_else(|| bad(&format!("is not 1 to {MAX_PER_PAGE}")))?;
            }
            "nextPageToken" => {}
            _ => match roles_of(name) {
                Some(roles) => self.matches.push((roles, values(v).iter().map(|s| cairn_epcis::epc::canonical_identifier(s)).collect())),
                None => return Err(QueryError::Parameter(format!("{name} is not a SimpleEventQuery parameter this repository supports"))),
            },
        }
        Ok(())
    }

    /// Whether an event satisfies every parameter.
    pub fn matches(&self, e: &EventEntry) -> bool {
        let r = &e.event;
        let any = |want: &[String], have: &str| want.is_empty() || want.iter().any(|w| w == have);
        (self.event_types.is_empty() || self.event_types.contains(&r.event_type))
            && self.ge_event_time.is_none_or(|t| r.event_time_ms >= t)
            && self.lt_event_time.is_none_or(|t| r.event_time_ms < t)
            && self.ge_record_time.is_none_or(|t| e.time_ms >= t)
            && self.lt_record_time.is_none_or(|t| e.time_ms < t)
            && (self.actions.is_empty() || self.actions.contains(&r.action))
            && any(&self.biz_steps, &r.biz_step)
            && any(&self.dispositions, &r.disposition)
            && any(&self.read_points, &r.read_point)
            && any(&self.biz_locations, &r.biz_location)
            && self.matches.iter().all(|(roles, ids)| r.ids.iter().any(|(role, id)| roles.contains(role) && ids.contains(id)))
            && (self.event_ids.is_empty() || self.event_ids.contains(&r.id()))
            && (self.quantities.is_empty() || self.quantities_match(e))
    }

    /// Quantity comparisons hold of some quantity element of the event's body (a hash-only
    /// event has none to compare).
    fn quantities_match(&self, e: &EventEntry) -> bool {
        let Some(body) = e.event.body.as_ref().and_then(|b| serde_json::from_slice::<Value>(b).ok()) else { return false };
        let lists = ["quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"];
        lists.iter().flat_map(|l| body.get(l).and_then(Value::as_array).into_iter().flatten()).filter_map(|q| q.get("quantity").and_then(Value::as_f64)).any(
            |n| {
                self.quantities.iter().all(|(cmp, v)| match cmp {
                    Cmp::Eq => n == *v,
                    Cmp::Gt => n > *v,
                    Cmp::Ge => n >= *v,
                    Cmp::Lt => n < *v,
                    Cmp::Le => n <= *v,
                })
            },
        )
    }

    /// A fingerprint of the query without its paging, so a page token serves only its query.
    pub fn fingerprint<'a>(params: impl IntoIterator<Item = (&'a str, &'a str)>) -> String {
        let mut kept: Vec<(&str, &str)> = params.into_iter().filter(|(k, _)| !PAGING.contains(k)).collect();
        kept.sort();
        let text: String = kept.iter().map(|(k, v)| format!("{k}={v}\n")).collect();
        hex::encode(&cairn_crypto::sha256(text.as_bytes())[..8])
    }
}

/// Where a query reads its events from.
enum Source {
    /// A known set of leaves (event IDs, identifiers), all considered.
    Set(Vec<u64>),
    /// One index range in its own order: `(index, prefix)`; record-time order unless it is the
    /// event-time index.
    Stream { index: &'static str, prefix: Vec<u8>, lower: Vec<u8>, upper: Option<Vec<u8>> },
}

fn leaves_of_ids(q: &Query, roles: &[Role], ids: &[String], out: &mut BTreeSet<u64>) -> Result<(), QueryError> {
    for id in ids {
        let prefix = key_part(id);
        let hits = q.index_prefix(INDEX_ID, &prefix, MAX_CANDIDATES + 1)?;
        for (k, _) in hits {
            let role = k.get(prefix.len()).copied().and_then(Role::from_code);
            if k.len() == prefix.len() + 9 && role.is_some_and(|r| roles.contains(&r)) {
                out.insert(leaf_of_key(&k).expect("9 bytes after the prefix"));
            }
        }
        if out.len() > MAX_CANDIDATES {
            return Err(QueryError::TooLarge(format!("more than {MAX_CANDIDATES} events name these identifiers; narrow the query")));
        }
    }
    Ok(())
}

/// The leaf of an event known by its event ID or hash ID.
pub fn leaf_of_event_id(q: &Query, id: &str) -> Result<Option<u64>, HostError> {
    // An eventID as its capturer gave it first (one may be a hash ID string that is not the
    // event's own), then a hash ID.
    let named = q.state_value(&crate::wire::event_id_key(id), None)?.and_then(|v| <[u8; 32]>::try_from(v.as_slice()).ok());
    let hash = named.or_else(|| cairn_epcis::hash::parse_hash_id(id));
    let Some(hash) = hash else { return Ok(None) };
    let first = q.state_value(&crate::wire::hash_key(&hash), None)?;
    Ok(first.and_then(|f| crate::wire::FirstRecord::decode(&f).ok()).map(|f| f.leaf))
}

fn source(q: &Query, query: &EventQuery) -> Result<Source, QueryError> {
    if !query.event_ids.is_empty() {
        let mut leaves = Vec::new();
        for id in &query.event_ids {
            leaves.extend(leaf_of_event_id(q, id)?);
        }
        leaves.sort_unstable();
        leaves.dedup();
        return Ok(Source::Set(leaves));
    }
    if let Some((roles, ids)) = query.matches.first() {
        let mut leaves = BTreeSet::new();
        leaves_of_ids(q, roles, ids, &mut leaves)?;
        return Ok(Source::Set(leaves.into_iter().collect()));
    }
    let single = [
        (Field::BizStep, &query.biz_steps),
        (Field::Disposition, &query.dispositions),
        (Field::ReadPoint, &query.read_points),
        (Field::BizLocation, &query.biz_locations),
    ];
    if let Some((field, v)) = single.iter().find(|(_, v)| v.len() == 1) {
        let prefix = field_prefix(*field, &v[0]);
        return Ok(Source::Stream { index: INDEX_FIELD, lower: prefix.clone(), upper: None, prefix });
    }
    if query.event_types.len() == 1 && query.order_by != Some(OrderBy::EventTime) {
        let prefix = field_prefix(Field::Type, query.event_types[0].name());
        return Ok(Source::Stream { index: INDEX_FIELD, lower: prefix.clone(), upper: None, prefix });
    }
    if query.ge_event_time.is_some() || query.lt_event_time.is_some() || query.order_by == Some(OrderBy::EventTime) {
        let lower = query.ge_event_time.unwrap_or(0).to_be_bytes().to_vec();
        let upper = query.lt_event_time.map(|t| t.to_be_bytes().to_vec());
        return Ok(Source::Stream { index: INDEX_TIME, prefix: Vec::new(), lower, upper });
    }
    Ok(Source::Stream { index: INDEX_LOG, prefix: Vec::new(), lower: Vec::new(), upper: None })
}

/// A page of answers and where the next one starts.
pub struct Page {
    pub events: Vec<(u64, EventEntry)>,
    /// The cursor of the next page (`None`: this was the last).
    pub next: Option<Cursor>,
}

/// Where a query's next page starts: an offset into a set, or the next key of a stream; and
/// how many events earlier pages returned (for `eventCountLimit`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Cursor {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub offset: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none", with = "opt_hex")]
    pub key: Option<Vec<u8>>,
    pub returned: usize,
}

mod opt_hex {
    pub fn serialize<S: serde::Serializer>(v: &Option<Vec<u8>>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(b) => s.serialize_str(&hex::encode(b)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<Vec<u8>>, D::Error> {
        let s: Option<String> = serde::Deserialize::deserialize(d)?;
        s.map(|s| hex::decode(s).map_err(serde::de::Error::custom)).transpose()
    }
}

/// The event in durable leaf `leaf`, if it is one.
pub fn entry_at(q: &Query, leaf: u64) -> Result<Option<EventEntry>, HostError> {
    if leaf >= q.log_size() {
        // An index entry of a block that never became durable (a crash between writes).
        return Ok(None);
    }
    let Some(bytes) = q.leaf(leaf)? else { return Ok(None) };
    EventEntry::from_leaf(&bytes).map_err(|e| HostError::internal(format!("leaf {leaf} does not decode as a trace event: {e}")))
}

fn sort_key(order: OrderBy, leaf: u64, e: &EventEntry) -> (u64, u64) {
    match order {
        OrderBy::EventTime => (e.event.event_time_ms, leaf),
        OrderBy::RecordTime => (leaf, 0),
    }
}

/// Runs a query for one page.
pub fn run(q: &Query, query: &EventQuery, cursor: Option<&Cursor>) -> Result<Page, QueryError> {
    let returned = cursor.map_or(0, |c| c.returned);
    let room = query.event_count_limit.map_or(usize::MAX, |l| l.saturating_sub(returned));
    let want = query.per_page.min(room);
    if want == 0 {
        return Ok(Page { events: Vec::new(), next: None });
    }
    match source(q, query)? {
        Source::Set(leaves) => run_set(q, query, leaves, cursor, want, returned),
        Source::Stream { index, prefix, lower, upper } => {
            let natural = if index == INDEX_TIME { OrderBy::EventTime } else { OrderBy::RecordTime };
            if query.order_by.is_some_and(|o| o != natural) || query.descending {
                // Another order than the index's: every match considered, then sorted.
                let mut leaves = Vec::new();
                let mut at = lower.clone();
                loop {
                    let hits = q.index_range(index, &at, upper.as_deref(), false, SCAN_CHUNK)?;
                    let done = hits.len() < SCAN_CHUNK;
                    for (k, _) in hits.iter().filter(|(k, _)| k.starts_with(&prefix)) {
                        leaves.extend(leaf_of_key(k));
                    }
                    if leaves.len() > MAX_CANDIDATES {
                        return Err(QueryError::TooLarge(format!("more than {MAX_CANDIDATES} events to sort; narrow the query")));
                    }
                    match hits.last() {
                        Some((k, _)) if !done && k.starts_with(&prefix) => at = successor(k),
                        _ => break,
                    }
                }
                return run_set(q, query, leaves, cursor, want, returned);
            }
            run_stream(q, query, index, &prefix, cursor.and_then(|c| c.key.clone()).unwrap_or(lower), upper.as_deref(), want, returned)
        }
    }
}

/// The smallest key after `k`.
fn successor(k: &[u8]) -> Vec<u8> {
    let mut next = k.to_vec();
    next.push(0);
    next
}

fn run_set(q: &Query, query: &EventQuery, leaves: Vec<u64>, cursor: Option<&Cursor>, want: usize, returned: usize) -> Result<Page, QueryError> {
    let mut found = Vec::new();
    for leaf in leaves {
        if let Some(e) = entry_at(q, leaf)?
            && query.matches(&e)
        {
            found.push((leaf, e));
        }
    }
    let order = query.order_by.unwrap_or(OrderBy::RecordTime);
    found.sort_by_key(|(leaf, e)| sort_key(order, *leaf, e));
    if query.descending {
        found.reverse();
    }
    let offset = cursor.and_then(|c| c.offset).unwrap_or(0);
    let total = found.len();
    let events: Vec<_> = found.into_iter().skip(offset).take(want).collect();
    let end = offset + events.len();
    let next = (end < total && events.len() == want).then(|| Cursor { offset: Some(end), key: None, returned: returned + events.len() });
    Ok(Page { events, next })
}

#[allow(clippy::too_many_arguments)]
fn run_stream(
    q: &Query,
    query: &EventQuery,
    index: &'static str,
    prefix: &[u8],
    mut at: Vec<u8>,
    upper: Option<&[u8]>,
    want: usize,
    returned: usize,
) -> Result<Page, QueryError> {
    let mut events = Vec::new();
    let mut scanned = 0;
    loop {
        let hits = q.index_range(index, &at, upper, false, SCAN_CHUNK)?;
        let exhausted = hits.len() < SCAN_CHUNK;
        for (k, _) in &hits {
            if !k.starts_with(prefix) {
                return Ok(Page { events, next: None });
            }
            at = successor(k);
            scanned += 1;
            let Some(leaf) = leaf_of_key(k) else { continue };
            if let Some(e) = entry_at(q, leaf)?
                && query.matches(&e)
            {
                events.push((leaf, e));
                if events.len() == want {
                    let more = Cursor { offset: None, key: Some(at.clone()), returned: returned + want };
                    return Ok(Page { events, next: Some(more) });
                }
            }
        }
        if exhausted {
            return Ok(Page { events, next: None });
        }
        if scanned >= MAX_SCAN_PER_PAGE {
            let more = Cursor { offset: None, key: Some(at), returned: returned + events.len() };
            return Ok(Page { events, next: Some(more) });
        }
    }
}

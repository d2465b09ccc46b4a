//! Tracing a product through the events of every organisation: from one identifier, back to
//! where it came from or forward to where it went, following aggregation (a child travels with
//! its parent: the pallet's events are the item's), transformation (inputs become outputs) and
//! the events naming it. Each hop is an identifier newly reached; a search is bounded in hops,
//! identifiers and events.
//!
//! Back: an identifier reached through a transformation at time T brings in its events at or
//! before T (an output brings in the inputs). Forward: at or after T (an input brings in the
//! outputs). A container shares the time window of the content that reached it. Both: a child brings in its parent (as a container: its other children are not
//! followed), and the identifier traced from brings in its children (a pallet's contents).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use cairn_module::{HostError, Query};

use crate::query::entry_at;
use crate::wire::{EventEntry, EventType, Role};
use crate::{INDEX_ID, key_part, leaf_of_key};

/// Default and largest number of hops.
pub const DEFAULT_HOPS: u32 = 10;
pub const MAX_HOPS: u32 = 32;
/// Most events one trace returns and most identifiers it visits: a trace through a
/// distribution centre's pallets stays an answer, not a dump of the repository.
pub const MAX_TRACE_EVENTS: usize = 2000;
pub const MAX_TRACE_IDS: usize = 5000;
/// Most events of one identifier a trace reads.
const MAX_EVENTS_PER_ID: usize = 10_000;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    Back,
    Forward,
}

/// How an identifier was reached.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Via {
    Start,
    /// Parent of a child reached before: its events count, its other children do not.
    Container,
    /// Child of the identifier traced from.
    Content,
    /// Input or output of a transformation.
    Transformation,
    /// Named together in a transaction event's parent.
    Transaction,
}

impl Via {
    pub fn name(self) -> &'static str {
        match self {
            Via::Start => "start",
            Via::Container => "aggregation (container)",
            Via::Content => "aggregation (content)",
            Via::Transformation => "transformation",
            Via::Transaction => "transaction",
        }
    }
}

/// An identifier the trace reached, when and how.
#[derive(Clone, Debug)]
pub struct Reached {
    pub id: String,
    pub hop: u32,
    pub via: Via,
    /// The event that brought it in (its leaf), `None` for the start.
    pub from_leaf: Option<u64>,
    /// The time bound it was reached with (back: at or before; forward: at or after).
    pub bound_ms: Option<u64>,
}

/// A trace's answer: the identifiers reached and the events found, by leaf.
pub struct Trace {
    pub reached: Vec<Reached>,
    pub events: BTreeMap<u64, EventEntry>,
    /// Whether a bound stopped the search before it ran out of leads.
    pub truncated: bool,
}

fn events_naming(q: &Query, id: &str) -> Result<Vec<(Role, u64)>, HostError> {
    let prefix = key_part(id);
    let hits = q.index_prefix(INDEX_ID, &prefix, MAX_EVENTS_PER_ID)?;
    Ok(hits.iter().filter(|(k, _)| k.len() == prefix.len() + 9).filter_map(|(k, _)| Some((Role::from_code(k[prefix.len()])?, leaf_of_key(k)?))).collect())
}

/// Runs a trace from `start`.
pub fn trace(q: &Query, start: &str, direction: Direction, max_hops: u32) -> Result<Trace, HostError> {
    let start = cairn_epcis::epc::canonical_identifier(start);
    let mut out = Trace { reached: Vec::new(), events: BTreeMap::new(), truncated: false };
    let mut seen: BTreeSet<String> = BTreeSet::from([start.clone()]);
    let mut queue = VecDeque::from([Reached { id: start, hop: 0, via: Via::Start, from_leaf: None, bound_ms: None }]);
    while let Some(at) = queue.pop_front() {
        for (role, leaf) in events_naming(q, &at.id)? {
            if out.events.len() >= MAX_TRACE_EVENTS {
                out.truncated = true;
                break;
            }
            let entry = match out.events.get(&leaf) {
                Some(e) => e.clone(),
                None => match entry_at(q, leaf)? {
                    Some(e) => e,
                    None => continue,
                },
            };
            let t = entry.event.event_time_ms;
            let in_time = at.bound_ms.is_none_or(|b| match direction {
                Direction::Back => t <= b,
                Direction::Forward => t >= b,
            });
            if !in_time {
                continue;
            }
            if at.hop < max_hops {
                for (id, via) in leads(&entry, role, &at, direction) {
                    if seen.len() >= MAX_TRACE_IDS {
                        out.truncated = true;
                        break;
                    }
                    if seen.insert(id.clone()) {
                        // A container shares its content's window (the pallet's shipping after
                        // the packing is the item's); a transformation starts a new one.
                        let bound_ms = if matches!(via, Via::Container | Via::Content) { at.bound_ms } else { Some(t) };
                        queue.push_back(Reached { id, hop: at.hop + 1, via, from_leaf: Some(leaf), bound_ms });
                    }
                }
            } else if !leads(&entry, role, &at, direction).is_empty() {
                out.truncated = true;
            }
            out.events.insert(leaf, entry);
        }
        out.reached.push(at);
    }
    Ok(out)
}

/// The identifiers an event leads to from an identifier in `role`.
fn leads(e: &EventEntry, role: Role, at: &Reached, direction: Direction) -> Vec<(String, Via)> {
    let ev = &e.event;
    let ids = |roles: &[Role]| ev.ids.iter().filter(|(r, _)| roles.contains(r)).map(|(_, id)| id.clone()).collect::<Vec<_>>();
    let with = |list: Vec<String>, via: Via| list.into_iter().map(|id| (id, via)).collect::<Vec<_>>();
    match (ev.event_type, role, direction) {
        (EventType::Transformation, Role::Output | Role::OutputClass, Direction::Back) => with(ids(&[Role::Input, Role::InputClass]), Via::Transformation),
        (EventType::Transformation, Role::Input | Role::InputClass, Direction::Forward) => with(ids(&[Role::Output, Role::OutputClass]), Via::Transformation),
        (EventType::Aggregation | EventType::Association, Role::Child | Role::Class, _) => with(ids(&[Role::Parent]), Via::Container),
        // A container's own contents, only for the identifier traced from or reached as content.
        (EventType::Aggregation | EventType::Association, Role::Parent, _) if matches!(at.via, Via::Start | Via::Content) => {
            with(ids(&[Role::Child, Role::Class]), Via::Content)
        }
        (EventType::Transaction, Role::Epc | Role::Class, _) => with(ids(&[Role::Parent]), Via::Transaction),
        _ => Vec::new(),
    }
}

//! Wire types of the traceability module and their canonical encodings (`docs/encoding.md`,
//! "trace"): the capture call, the event record every validator stores, the leaf that logs it
//! and the state that makes an event's hash ID unique.
//!
//! ```text
//! capture := u8 flags (bit 0: proceed) | u32 n | n × event
//! event   := hash[32] | str event_id | u8 type | u64 event_time_ms | u8 action
//!            | str biz_step | str disposition | str read_point | str biz_location
//!            | u32 m | m × (u8 role | str identifier) | u8 has_body | [bytes body]
//! leaf    := 0x02 | str "trace" | u8 kind = 1 | u8 version = 1 | tx_id[32] | u32 index_in_tx
//!            | u64 height | u64 time_ms | str organisation | bytes submitter | event
//! state   "h" | hash[32]  → u64 leaf | u64 height | u64 time_ms | str organisation
//!         "i" | event_id  → hash[32]
//! ```
//!
//! `hash` is the event's CBV 2.0 event hash (`ni:///sha-256;…?ver=CBV2.0`, whatever the chain's
//! suite: the standard names SHA-256). `event_id` is the `eventID` the capturer gave, empty
//! when it gave none (the event is then known by its hash ID). Identifiers are canonical (GS1
//! Digital Link where the EPC converts), so a query by EPC URN or by Digital Link finds the
//! same events. `body` is the event's JSON-LD (its `@context` included) or absent for a
//! hash-only capture, whose body stays with the capturer.

use cairn_crypto::Hash;
use cairn_types::codec::{DecodeError, Reader, Writer};

pub const MODULE: &str = "trace";
pub const METHOD_CAPTURE: &str = "capture";
/// The leaf kind of a captured event.
pub const KIND_EVENT: u8 = 1;
const EVENT_LEAF_VERSION: u8 = 1;

/// Most events one capture carries: a GS1 capture job of this many events is one transaction,
/// all or nothing (`GS1-EPCIS-Capture-Limit`).
pub const MAX_EVENTS_PER_CAPTURE: usize = 1000;
/// Longest `eventID`, identifier, CBV value or location URI.
pub const MAX_TEXT: usize = 512;
/// Most identifiers one event indexes (EPCs, parent, children, inputs, outputs, classes).
pub const MAX_IDS_PER_EVENT: usize = 4096;
/// Longest event body kept on chain (its JSON-LD): a full event with sensor reports fits;
/// larger bodies are captured hash-only.
pub const MAX_BODY_BYTES: usize = 64 * 1024;

const FLAG_PROCEED: u8 = 1;

/// The five EPCIS 2.0 event types.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum EventType {
    Object = 1,
    Aggregation = 2,
    Transaction = 3,
    Transformation = 4,
    Association = 5,
}

impl EventType {
    pub const ALL: [EventType; 5] = [EventType::Object, EventType::Aggregation, EventType::Transaction, EventType::Transformation, EventType::Association];

    pub fn name(self) -> &'static str {
        match self {
            EventType::Object => "ObjectEvent",
            EventType::Aggregation => "AggregationEvent",
            EventType::Transaction => "TransactionEvent",
            EventType::Transformation => "TransformationEvent",
            EventType::Association => "AssociationEvent",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.name() == s)
    }

    fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|t| *t as u8 == c)
    }
}

/// An event's `action` (absent for transformation events).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    None = 0,
    Add = 1,
    Observe = 2,
    Delete = 3,
}

impl Action {
    pub fn name(self) -> Option<&'static str> {
        match self {
            Action::None => None,
            Action::Add => Some("ADD"),
            Action::Observe => Some("OBSERVE"),
            Action::Delete => Some("DELETE"),
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        [Action::Add, Action::Observe, Action::Delete].into_iter().find(|a| a.name() == Some(s))
    }

    fn from_code(c: u8) -> Option<Self> {
        [Action::None, Action::Add, Action::Observe, Action::Delete].into_iter().find(|a| *a as u8 == c)
    }
}

/// The part an identifier plays in an event: what `MATCH_epc`, `MATCH_parentID`,
/// `MATCH_inputEPC`, `MATCH_outputEPC`, `MATCH_epcClass`… and the trace follow.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Role {
    /// `epcList` (object, transaction events).
    Epc = 1,
    /// `parentID` (aggregation, transaction, association events).
    Parent = 2,
    /// `childEPCs` (aggregation, association events).
    Child = 3,
    /// `inputEPCList` (transformation events).
    Input = 4,
    /// `outputEPCList` (transformation events).
    Output = 5,
    /// `quantityList` and `childQuantityList` classes.
    Class = 6,
    /// `inputQuantityList` classes.
    InputClass = 7,
    /// `outputQuantityList` classes.
    OutputClass = 8,
}

impl Role {
    pub const ALL: [Role; 8] = [Role::Epc, Role::Parent, Role::Child, Role::Input, Role::Output, Role::Class, Role::InputClass, Role::OutputClass];

    pub fn name(self) -> &'static str {
        match self {
            Role::Epc => "epc",
            Role::Parent => "parentID",
            Role::Child => "childEPC",
            Role::Input => "inputEPC",
            Role::Output => "outputEPC",
            Role::Class => "epcClass",
            Role::InputClass => "inputEPCClass",
            Role::OutputClass => "outputEPCClass",
        }
    }

    pub fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|r| *r as u8 == c)
    }

    /// Whether the role names a class of objects (a quantity element) rather than an instance.
    pub fn is_class(self) -> bool {
        matches!(self, Role::Class | Role::InputClass | Role::OutputClass)
    }
}

/// One event as the chain keeps it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventRecord {
    pub hash: Hash,
    /// The capturer's `eventID`; empty: none given (its hash ID is its id).
    pub event_id: String,
    pub event_type: EventType,
    pub event_time_ms: u64,
    pub action: Action,
    pub biz_step: String,
    pub disposition: String,
    pub read_point: String,
    pub biz_location: String,
    /// (role, canonical identifier), sorted and without repeats.
    pub ids: Vec<(Role, String)>,
    /// The event's JSON-LD; `None`: captured hash-only.
    pub body: Option<Vec<u8>>,
}

impl EventRecord {
    pub fn encode_into(&self, w: &mut Writer) {
        w.fixed(&self.hash)
            .str(&self.event_id)
            .u8(self.event_type as u8)
            .u64(self.event_time_ms)
            .u8(self.action as u8)
            .str(&self.biz_step)
            .str(&self.disposition)
            .str(&self.read_point)
            .str(&self.biz_location)
            .u32(self.ids.len() as u32);
        for (role, id) in &self.ids {
            w.u8(*role as u8).str(id);
        }
        match &self.body {
            None => w.u8(0),
            Some(b) => w.u8(1).bytes(b),
        };
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let hash = r.fixed::<32>("hash")?;
        let event_id = r.str("event_id", MAX_TEXT)?.to_string();
        let event_type = EventType::from_code(r.u8("type")?).ok_or(DecodeError::Invalid { field: "type", reason: "unknown event type" })?;
        let event_time_ms = r.u64("event_time_ms")?;
        let action = Action::from_code(r.u8("action")?).ok_or(DecodeError::Invalid { field: "action", reason: "unknown action" })?;
        let biz_step = r.str("biz_step", MAX_TEXT)?.to_string();
        let disposition = r.str("disposition", MAX_TEXT)?.to_string();
        let read_point = r.str("read_point", MAX_TEXT)?.to_string();
        let biz_location = r.str("biz_location", MAX_TEXT)?.to_string();
        let n = r.count("ids", MAX_IDS_PER_EVENT)?;
        let mut ids = Vec::with_capacity(n);
        for _ in 0..n {
            let role = Role::from_code(r.u8("role")?).ok_or(DecodeError::Invalid { field: "role", reason: "unknown identifier role" })?;
            let id = r.str("identifier", MAX_TEXT)?;
            if id.is_empty() {
                return Err(DecodeError::Invalid { field: "identifier", reason: "empty" });
            }
            ids.push((role, id.to_string()));
        }
        if !ids.windows(2).all(|w| w[0] < w[1]) {
            return Err(DecodeError::Invalid { field: "ids", reason: "not sorted or repeated" });
        }
        let body = match r.u8("has_body")? {
            0 => None,
            1 => Some(r.bytes("body", MAX_BODY_BYTES)?.to_vec()),
            _ => return Err(DecodeError::Invalid { field: "has_body", reason: "not 0 or 1" }),
        };
        if action == Action::None && event_type != EventType::Transformation {
            return Err(DecodeError::Invalid { field: "action", reason: "only transformation events have no action" });
        }
        Ok(EventRecord { hash, event_id, event_type, event_time_ms, action, biz_step, disposition, read_point, biz_location, ids, body })
    }

    /// The id an event is known by: its `eventID`, or its hash ID.
    pub fn id(&self) -> String {
        if self.event_id.is_empty() { cairn_epcis::hash::hash_id_string(&self.hash) } else { self.event_id.clone() }
    }

    /// Identifiers of the event in `role`.
    pub fn ids_in(&self, role: Role) -> impl Iterator<Item = &str> {
        self.ids.iter().filter(move |(r, _)| *r == role).map(|(_, id)| id.as_str())
    }
}

/// The arguments of `trace.capture`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CaptureArgs {
    /// `GS1-Capture-Error-Behaviour: proceed`: an event whose hash ID or event ID the chain
    /// already holds is skipped (no leaf), not a refusal of the whole capture.
    pub proceed: bool,
    pub events: Vec<EventRecord>,
}

impl CaptureArgs {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(if self.proceed { FLAG_PROCEED } else { 0 }).u32(self.events.len() as u32);
        for e in &self.events {
            e.encode_into(&mut w);
        }
        w.into_bytes()
    }

    /// Strict decode: known flags, at most [`MAX_EVENTS_PER_CAPTURE`] events, no trailing bytes.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let flags = r.u8("flags")?;
        if flags & !FLAG_PROCEED != 0 {
            return Err(DecodeError::Invalid { field: "flags", reason: "unknown flag" });
        }
        let n = r.count("events", MAX_EVENTS_PER_CAPTURE)?;
        if n == 0 {
            return Err(DecodeError::Invalid { field: "events", reason: "a capture has at least one event" });
        }
        let mut events = Vec::with_capacity(n);
        for _ in 0..n {
            events.push(EventRecord::decode_from(&mut r)?);
        }
        r.finish()?;
        Ok(CaptureArgs { proceed: flags & FLAG_PROCEED != 0, events })
    }
}

/// A captured event as its leaf logs it: the event and who recorded it when.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EventEntry {
    pub tx_id: Hash,
    pub index: u32,
    pub height: u64,
    /// Record time: the block's time.
    pub time_ms: u64,
    pub organisation: String,
    pub submitter: Vec<u8>,
    pub event: EventRecord,
}

impl EventEntry {
    /// The leaf payload (inside the module envelope).
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(EVENT_LEAF_VERSION).fixed(&self.tx_id).u32(self.index).u64(self.height).u64(self.time_ms).str(&self.organisation).bytes(&self.submitter);
        self.event.encode_into(&mut w);
        w.into_bytes()
    }

    pub fn decode_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        if r.u8("version")? != EVENT_LEAF_VERSION {
            return Err(DecodeError::Invalid { field: "version", reason: "unknown trace leaf version" });
        }
        let tx_id = r.fixed::<32>("tx_id")?;
        let index = r.u32("index")?;
        let height = r.u64("height")?;
        let time_ms = r.u64("time_ms")?;
        let organisation = r.str("organisation", 256)?.to_string();
        let submitter = r.bytes("submitter", 128)?.to_vec();
        let event = EventRecord::decode_from(&mut r)?;
        r.finish()?;
        Ok(EventEntry { tx_id, index, height, time_ms, organisation, submitter, event })
    }

    /// The entry in a log leaf, if the leaf is a trace event.
    pub fn from_leaf(leaf: &[u8]) -> Result<Option<Self>, DecodeError> {
        match cairn_types::log::decode_envelope(leaf) {
            Ok((MODULE, KIND_EVENT, payload)) => Self::decode_payload(payload).map(Some),
            _ => Ok(None),
        }
    }
}

/// Where and when an event hash was first recorded: the state of `"h" | hash`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FirstRecord {
    pub leaf: u64,
    pub height: u64,
    pub time_ms: u64,
    pub organisation: String,
}

impl FirstRecord {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u64(self.leaf).u64(self.height).u64(self.time_ms).str(&self.organisation);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let f =
            FirstRecord { leaf: r.u64("leaf")?, height: r.u64("height")?, time_ms: r.u64("time_ms")?, organisation: r.str("organisation", 256)?.to_string() };
        r.finish()?;
        Ok(f)
    }
}

/// The state key of an event hash.
pub fn hash_key(hash: &Hash) -> Vec<u8> {
    [b"h".as_slice(), hash].concat()
}

/// The state key of an event ID.
pub fn event_id_key(event_id: &str) -> Vec<u8> {
    [b"i".as_slice(), event_id.as_bytes()].concat()
}

//! Wire types of the registry module and their canonical encodings (`docs/encoding.md`,
//! "registry"): the calls a registrar makes, the state that holds each registry, each entry
//! and each of its versions, and the leaves that log every change.
//!
//! ```text
//! create    := str registry | str title_zh | str title_en | bytes schema
//! schema    := str registry | bytes schema
//! put       := str registry | str key | str holder | bytes content
//! amend     := str registry | str key | u32 expected_version | bytes content
//! transfer  := str registry | str key | u32 expected_version | str holder
//! suspend, reinstate, revoke := str registry | str key | u32 expected_version | str reason
//!
//! state "g" | str registry                    → registry
//!       "s" | str registry | u32 version      → schema (its canonical JSON)
//!       "e" | str registry | str key          → entry (the current version)
//!       "v" | str registry | str key | u32 v  → version (every version kept)
//!       "b" | str registry | u8 purpose | u32 chunk → status bits (2,048 bytes)
//!       "c" | digest                          → content (canonical JSON) of some version
//! ```
//!
//! `str` is the canonical `u32 len | UTF-8`, so no key of one registry is a prefix of another's.
//! `content` and `schema` are RFC 8785 (JCS) canonical JSON: the content digest is the suite's
//! hash of those bytes. Personal fields are on chain only as salted digests (see
//! [`crate::personal`]).

use cairn_crypto::Hash;
use cairn_types::codec::{DecodeError, Reader, Writer};

pub const MODULE: &str = "registry";
pub const METHOD_CREATE: &str = "create";
pub const METHOD_SCHEMA: &str = "schema";
pub const METHOD_PUT: &str = "put";
pub const METHOD_AMEND: &str = "amend";
pub const METHOD_TRANSFER: &str = "transfer";
pub const METHOD_SUSPEND: &str = "suspend";
pub const METHOD_REINSTATE: &str = "reinstate";
pub const METHOD_REVOKE: &str = "revoke";
pub const METHODS: [&str; 8] = [METHOD_CREATE, METHOD_SCHEMA, METHOD_PUT, METHOD_AMEND, METHOD_TRANSFER, METHOD_SUSPEND, METHOD_REINSTATE, METHOD_REVOKE];

/// Leaf kinds: a version of an entry, a registry's creation or new schema version.
pub const KIND_VERSION: u8 = 1;
pub const KIND_SCHEMA: u8 = 2;
const LEAF_VERSION: u8 = 1;

/// Longest registry id (`[a-z0-9][a-z0-9-]*`: it appears in URLs and DIDs as is).
pub const MAX_REGISTRY_ID: usize = 64;
/// Longest entry key, holder and reason.
pub const MAX_KEY: usize = 256;
pub const MAX_HOLDER: usize = 256;
pub const MAX_REASON: usize = 256;
/// Longest title, each language.
pub const MAX_TITLE: usize = 256;
/// Largest schema: a registry's fields with their constraints fit with room.
pub const MAX_SCHEMA_BYTES: usize = 32 * 1024;
/// Largest entry content (public fields and personal digests): a certificate's record, not a
/// document (a scan belongs in evidence, its digest in a field).
pub const MAX_CONTENT_BYTES: usize = 16 * 1024;
/// Entries whose status one state value of bits holds (2,048 bytes).
pub const STATUS_CHUNK_BITS: u64 = 16_384;
/// Most entries a registry holds: the status list's indices are u32 chunks of bits.
pub const MAX_ENTRIES: u64 = STATUS_CHUNK_BITS * 65_536;

/// What a change did to an entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    Put = 1,
    Amend = 2,
    Transfer = 3,
    Suspend = 4,
    Reinstate = 5,
    Revoke = 6,
}

impl Action {
    pub const ALL: [Action; 6] = [Action::Put, Action::Amend, Action::Transfer, Action::Suspend, Action::Reinstate, Action::Revoke];

    pub fn name(self) -> &'static str {
        match self {
            Action::Put => "put",
            Action::Amend => "amend",
            Action::Transfer => "transfer",
            Action::Suspend => "suspend",
            Action::Reinstate => "reinstate",
            Action::Revoke => "revoke",
        }
    }

    pub fn from_method(m: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|a| a.name() == m)
    }

    fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|a| *a as u8 == c)
    }
}

/// An entry's status.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Status {
    Active = 1,
    Suspended = 2,
    Revoked = 3,
}

impl Status {
    pub const ALL: [Status; 3] = [Status::Active, Status::Suspended, Status::Revoked];

    pub fn name(self) -> &'static str {
        match self {
            Status::Active => "active",
            Status::Suspended => "suspended",
            Status::Revoked => "revoked",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }

    fn from_code(c: u8) -> Option<Self> {
        Self::ALL.into_iter().find(|x| *x as u8 == c)
    }
}

/// The two status lists of a registry (W3C Bitstring Status List purposes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Purpose {
    Revocation = 1,
    Suspension = 2,
}

impl Purpose {
    pub const ALL: [Purpose; 2] = [Purpose::Revocation, Purpose::Suspension];

    pub fn name(self) -> &'static str {
        match self {
            Purpose::Revocation => "revocation",
            Purpose::Suspension => "suspension",
        }
    }

    pub fn from_name(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|x| x.name() == s)
    }

    /// Whether an entry of `status` has its bit set in this list.
    pub fn bit(self, status: Status) -> bool {
        matches!((self, status), (Purpose::Revocation, Status::Revoked) | (Purpose::Suspension, Status::Suspended))
    }
}

/// A registrar's call.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Call {
    Create {
        registry: String,
        title_zh: String,
        title_en: String,
        schema: Vec<u8>,
    },
    Schema {
        registry: String,
        schema: Vec<u8>,
    },
    Put {
        registry: String,
        key: String,
        holder: String,
        content: Vec<u8>,
    },
    Amend {
        registry: String,
        key: String,
        expected_version: u32,
        content: Vec<u8>,
    },
    Transfer {
        registry: String,
        key: String,
        expected_version: u32,
        holder: String,
    },
    /// Suspend, reinstate or revoke.
    Status {
        action: Action,
        registry: String,
        key: String,
        expected_version: u32,
        reason: String,
    },
}

impl Call {
    pub fn method(&self) -> &'static str {
        match self {
            Call::Create { .. } => METHOD_CREATE,
            Call::Schema { .. } => METHOD_SCHEMA,
            Call::Put { .. } => METHOD_PUT,
            Call::Amend { .. } => METHOD_AMEND,
            Call::Transfer { .. } => METHOD_TRANSFER,
            Call::Status { action, .. } => action.name(),
        }
    }

    pub fn registry(&self) -> &str {
        match self {
            Call::Create { registry, .. }
            | Call::Schema { registry, .. }
            | Call::Put { registry, .. }
            | Call::Amend { registry, .. }
            | Call::Transfer { registry, .. }
            | Call::Status { registry, .. } => registry,
        }
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        match self {
            Call::Create { registry, title_zh, title_en, schema } => w.str(registry).str(title_zh).str(title_en).bytes(schema),
            Call::Schema { registry, schema } => w.str(registry).bytes(schema),
            Call::Put { registry, key, holder, content } => w.str(registry).str(key).str(holder).bytes(content),
            Call::Amend { registry, key, expected_version, content } => w.str(registry).str(key).u32(*expected_version).bytes(content),
            Call::Transfer { registry, key, expected_version, holder } => w.str(registry).str(key).u32(*expected_version).str(holder),
            Call::Status { registry, key, expected_version, reason, .. } => w.str(registry).str(key).u32(*expected_version).str(reason),
        };
        w.into_bytes()
    }

    /// Strict decoding of `method`'s arguments (limits and identifier rules checked).
    pub fn decode(method: &str, bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let registry = registry_id(&mut r)?;
        let call = match method {
            METHOD_CREATE => Call::Create {
                registry,
                title_zh: text(&mut r, "title_zh", MAX_TITLE)?,
                title_en: text(&mut r, "title_en", MAX_TITLE)?,
                schema: r.bytes("schema", MAX_SCHEMA_BYTES)?.to_vec(),
            },
            METHOD_SCHEMA => Call::Schema { registry, schema: r.bytes("schema", MAX_SCHEMA_BYTES)?.to_vec() },
            METHOD_PUT => Call::Put {
                registry,
                key: entry_key(&mut r)?,
                holder: text(&mut r, "holder", MAX_HOLDER)?,
                content: r.bytes("content", MAX_CONTENT_BYTES)?.to_vec(),
            },
            METHOD_AMEND => Call::Amend {
                registry,
                key: entry_key(&mut r)?,
                expected_version: r.u32("expected_version")?,
                content: r.bytes("content", MAX_CONTENT_BYTES)?.to_vec(),
            },
            METHOD_TRANSFER => {
                Call::Transfer { registry, key: entry_key(&mut r)?, expected_version: r.u32("expected_version")?, holder: text(&mut r, "holder", MAX_HOLDER)? }
            }
            m => {
                let action = Action::from_method(m)
                    .filter(|a| matches!(a, Action::Suspend | Action::Reinstate | Action::Revoke))
                    .ok_or(DecodeError::Invalid { field: "method", reason: "not a registry method" })?;
                Call::Status {
                    action,
                    registry,
                    key: entry_key(&mut r)?,
                    expected_version: r.u32("expected_version")?,
                    reason: text(&mut r, "reason", MAX_REASON)?,
                }
            }
        };
        r.finish()?;
        Ok(call)
    }
}

fn text(r: &mut Reader<'_>, what: &'static str, max: usize) -> Result<String, DecodeError> {
    let s = r.str(what, max)?;
    if s.chars().any(char::is_control) {
        return Err(DecodeError::Invalid { field: what, reason: "holds a control character" });
    }
    Ok(s.to_string())
}

fn registry_id(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let id = r.str("registry", MAX_REGISTRY_ID)?;
    if !valid_registry_id(id) {
        return Err(DecodeError::Invalid { field: "registry", reason: "not [a-z0-9][a-z0-9-]* (at most 64)" });
    }
    Ok(id.to_string())
}

fn entry_key(r: &mut Reader<'_>) -> Result<String, DecodeError> {
    let key = text(r, "key", MAX_KEY)?;
    if key.is_empty() || key.trim() != key {
        return Err(DecodeError::Invalid { field: "key", reason: "empty, or space at an end" });
    }
    Ok(key)
}

/// `[a-z0-9][a-z0-9-]*`, at most [`MAX_REGISTRY_ID`] bytes.
pub fn valid_registry_id(id: &str) -> bool {
    let b = id.as_bytes();
    // `credentials` is a route of its own (`/v1/registry/credentials/...`), `verify` a console
    // page's (`#/registry/verify`).
    id != "credentials"
        && id != "verify"
        && !b.is_empty()
        && b.len() <= MAX_REGISTRY_ID
        && (b[0].is_ascii_lowercase() || b[0].is_ascii_digit())
        && b.iter().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'-')
}

/// A registry, as state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Registry {
    /// The organisation whose registrars alone write it.
    pub authority: String,
    pub title_zh: String,
    pub title_en: String,
    /// The latest schema version (1 at creation).
    pub schema_version: u32,
    /// Entries ever created (each entry's status-list index is its number among them).
    pub entries: u64,
    pub created_height: u64,
    /// The creation block's time (the status list credentials' proof time).
    pub created_time_ms: u64,
}

impl Registry {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.str(&self.authority)
            .str(&self.title_zh)
            .str(&self.title_en)
            .u32(self.schema_version)
            .u64(self.entries)
            .u64(self.created_height)
            .u64(self.created_time_ms);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Registry {
            authority: r.str("authority", MAX_HOLDER)?.to_string(),
            title_zh: r.str("title_zh", MAX_TITLE)?.to_string(),
            title_en: r.str("title_en", MAX_TITLE)?.to_string(),
            schema_version: r.u32("schema_version")?,
            entries: r.u64("entries")?,
            created_height: r.u64("created_height")?,
            created_time_ms: r.u64("created_time_ms")?,
        };
        r.finish()?;
        if v.schema_version == 0 {
            return Err(DecodeError::Invalid { field: "schema_version", reason: "versions start at 1" });
        }
        Ok(v)
    }
}

/// One version of an entry: what the change made it. The entry's current state is its latest
/// version plus where it sits in the status lists.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Version {
    pub version: u32,
    pub action: Action,
    pub status: Status,
    /// Why it was suspended, reinstated or revoked (empty otherwise).
    pub reason: String,
    pub holder: String,
    pub schema_version: u32,
    pub content_digest: Hash,
    pub height: u64,
    pub time_ms: u64,
    /// The log leaf that holds this version in full.
    pub leaf: u64,
}

impl Version {
    pub fn encode_into(&self, w: &mut Writer) {
        w.u32(self.version)
            .u8(self.action as u8)
            .u8(self.status as u8)
            .str(&self.reason)
            .str(&self.holder)
            .u32(self.schema_version)
            .fixed(&self.content_digest)
            .u64(self.height)
            .u64(self.time_ms)
            .u64(self.leaf);
    }

    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.encode_into(&mut w);
        w.into_bytes()
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        let version = r.u32("version")?;
        let action = Action::from_code(r.u8("action")?).ok_or(DecodeError::Invalid { field: "action", reason: "unknown action" })?;
        let status = Status::from_code(r.u8("status")?).ok_or(DecodeError::Invalid { field: "status", reason: "unknown status" })?;
        let v = Version {
            version,
            action,
            status,
            reason: r.str("reason", MAX_REASON)?.to_string(),
            holder: r.str("holder", MAX_HOLDER)?.to_string(),
            schema_version: r.u32("schema_version")?,
            content_digest: r.fixed("content_digest")?,
            height: r.u64("height")?,
            time_ms: r.u64("time_ms")?,
            leaf: r.u64("leaf")?,
        };
        if v.version == 0 || v.schema_version == 0 {
            return Err(DecodeError::Invalid { field: "version", reason: "versions start at 1" });
        }
        Ok(v)
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let v = Self::decode_from(&mut r)?;
        r.finish()?;
        Ok(v)
    }
}

/// An entry's current state: its latest version, its place in the status lists and when it
/// was created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Entry {
    pub current: Version,
    pub status_index: u64,
    pub created_height: u64,
}

impl Entry {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        self.current.encode_into(&mut w);
        w.u64(self.status_index).u64(self.created_height);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        let e = Entry { current: Version::decode_from(&mut r)?, status_index: r.u64("status_index")?, created_height: r.u64("created_height")? };
        r.finish()?;
        if e.status_index >= MAX_ENTRIES {
            return Err(DecodeError::Invalid { field: "status_index", reason: "beyond the status lists" });
        }
        Ok(e)
    }
}

/// The leaf payload of one version: the change in full (content included), who made it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VersionLeaf {
    pub tx_id: Hash,
    pub registry: String,
    pub key: String,
    pub organisation: String,
    pub signer: Vec<u8>,
    pub version: Version,
    pub content: Vec<u8>,
}

impl VersionLeaf {
    /// `u8 version = 1 | tx_id | str registry | str key | str organisation | bytes signer |
    /// version (its leaf field is this leaf's index) | bytes content`.
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(LEAF_VERSION).fixed(&self.tx_id).str(&self.registry).str(&self.key).str(&self.organisation).bytes(&self.signer);
        self.version.encode_into(&mut w);
        w.bytes(&self.content);
        w.into_bytes()
    }

    pub fn decode_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        if r.u8("leaf version")? != LEAF_VERSION {
            return Err(DecodeError::Invalid { field: "leaf version", reason: "unknown registry leaf version" });
        }
        let v = VersionLeaf {
            tx_id: r.fixed("tx_id")?,
            registry: r.str("registry", MAX_REGISTRY_ID)?.to_string(),
            key: r.str("key", MAX_KEY)?.to_string(),
            organisation: r.str("organisation", MAX_HOLDER)?.to_string(),
            signer: r.bytes("signer", 256)?.to_vec(),
            version: Version::decode_from(&mut r)?,
            content: r.bytes("content", MAX_CONTENT_BYTES)?.to_vec(),
        };
        r.finish()?;
        Ok(v)
    }
}

/// The leaf payload of a schema version (version 1: the registry's creation).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SchemaLeaf {
    pub tx_id: Hash,
    pub registry: String,
    pub organisation: String,
    pub schema_version: u32,
    pub title_zh: String,
    pub title_en: String,
    pub schema: Vec<u8>,
}

impl SchemaLeaf {
    pub fn encode_payload(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(LEAF_VERSION)
            .fixed(&self.tx_id)
            .str(&self.registry)
            .str(&self.organisation)
            .u32(self.schema_version)
            .str(&self.title_zh)
            .str(&self.title_en)
            .bytes(&self.schema);
        w.into_bytes()
    }

    pub fn decode_payload(payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        if r.u8("leaf version")? != LEAF_VERSION {
            return Err(DecodeError::Invalid { field: "leaf version", reason: "unknown registry leaf version" });
        }
        let v = SchemaLeaf {
            tx_id: r.fixed("tx_id")?,
            registry: r.str("registry", MAX_REGISTRY_ID)?.to_string(),
            organisation: r.str("organisation", MAX_HOLDER)?.to_string(),
            schema_version: r.u32("schema_version")?,
            title_zh: r.str("title_zh", MAX_TITLE)?.to_string(),
            title_en: r.str("title_en", MAX_TITLE)?.to_string(),
            schema: r.bytes("schema", MAX_SCHEMA_BYTES)?.to_vec(),
        };
        r.finish()?;
        Ok(v)
    }
}

fn key(tag: u8, registry: &str) -> Writer {
    let mut w = Writer::new();
    w.u8(tag).str(registry);
    w
}

pub fn registry_key(registry: &str) -> Vec<u8> {
    key(b'g', registry).into_bytes()
}

pub fn schema_key(registry: &str, version: u32) -> Vec<u8> {
    let mut w = key(b's', registry);
    w.u32(version);
    w.into_bytes()
}

pub fn entry_state_key(registry: &str, entry: &str) -> Vec<u8> {
    let mut w = key(b'e', registry);
    w.str(entry);
    w.into_bytes()
}

pub fn version_key(registry: &str, entry: &str, version: u32) -> Vec<u8> {
    let mut w = key(b'v', registry);
    w.str(entry).u32(version);
    w.into_bytes()
}

pub fn status_chunk_key(registry: &str, purpose: Purpose, chunk: u32) -> Vec<u8> {
    let mut w = key(b'b', registry);
    w.u8(purpose as u8).u32(chunk);
    w.into_bytes()
}

/// `"c" | digest`: an entry content by its digest (shared by every version that carries it,
/// so a transfer or status change copies it into its leaf without the registrar resending it).
pub fn content_key(digest: &[u8]) -> Vec<u8> {
    [b"c".as_slice(), digest].concat()
}

/// A state key taken apart (for state views and offline verifiers).
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum StateKey {
    Registry(String),
    Schema(String, u32),
    Entry(String, String),
    Version(String, String, u32),
    StatusChunk(String, Purpose, u32),
    Content(Vec<u8>),
}

impl StateKey {
    pub fn parse(key: &[u8]) -> Result<Self, DecodeError> {
        let (tag, rest) = key.split_first().ok_or(DecodeError::Truncated("state key"))?;
        if *tag == b'c' {
            if rest.len() != 32 {
                return Err(DecodeError::Invalid { field: "content key", reason: "a 32-byte digest" });
            }
            return Ok(StateKey::Content(rest.to_vec()));
        }
        let mut r = Reader::new(rest);
        let registry = registry_id(&mut r)?;
        let k = match tag {
            b'g' => StateKey::Registry(registry),
            b's' => StateKey::Schema(registry, r.u32("schema version")?),
            b'e' => StateKey::Entry(registry, entry_key(&mut r)?),
            b'v' => {
                let entry = entry_key(&mut r)?;
                StateKey::Version(registry, entry, r.u32("version")?)
            }
            b'b' => {
                let purpose = match r.u8("purpose")? {
                    1 => Purpose::Revocation,
                    2 => Purpose::Suspension,
                    _ => return Err(DecodeError::Invalid { field: "purpose", reason: "unknown status purpose" }),
                };
                StateKey::StatusChunk(registry, purpose, r.u32("chunk")?)
            }
            _ => return Err(DecodeError::Invalid { field: "state key", reason: "unknown tag" }),
        };
        r.finish()?;
        Ok(k)
    }
}

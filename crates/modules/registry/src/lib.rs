//! The registry module: authoritative records (civil status, business licences, titles,
//! qualifications) kept by their authority on the shared ledger. A registry belongs to the
//! organisation that created it; only that organisation's registrars (role
//! `registry.registrar`) write it. Every entry has one current version, status and holder
//! (state, provable as of any height) and its full history (each version state and a log
//! leaf, each with a receipt). Personal fields are on chain only as salted digests
//! ([`personal`]).
//!
//! Indexes (node-local, written after each durable block; candidates, checked against the
//! entry's current state when read):
//! `registry.registries`: str registry → ∅ ·
//! `registry.keys`: str registry | str key → ∅ ·
//! `registry.holder`: str registry | str holder | str key → ∅ ·
//! `registry.field`: str registry | str field | str value | str key → ∅ ·
//! `registry.status`: str registry | u8 status | str key → ∅.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use cairn_module::{ExecContext, ExecFailure, IndexEntry, Module, ModuleRefusal, TxEffects, TxError};
use cairn_state::StateError;
use cairn_types::codec::Writer;
use cairn_types::genesis::Genesis;
use cairn_types::tx::Transaction;

pub mod cli;
pub mod credential;
pub mod json;
pub mod personal;
pub mod routes;
pub mod schema;
pub mod wire;

use schema::EntrySchema;
use wire::{Action, Call, Entry, MODULE, Purpose, Registry, STATUS_CHUNK_BITS, SchemaLeaf, Status, Version, VersionLeaf, content_key};

/// The role every registry method needs (for members whose roles are listed).
pub const ROLE_REGISTRAR: &str = "registry.registrar";
pub const INDEX_REGISTRIES: &str = "registry.registries";
pub const INDEX_KEYS: &str = "registry.keys";
pub const INDEX_HOLDER: &str = "registry.holder";
pub const INDEX_FIELD: &str = "registry.field";
pub const INDEX_STATUS: &str = "registry.status";

/// Compiled schemas kept (by their bytes: a schema version is immutable on a chain, but two
/// forks may hold different schemas under one registry and version).
const SCHEMA_CACHE_ENTRIES: usize = 64;

const OPENAPI: &str = include_str!("../openapi.json");
const JS: &str = "text/javascript; charset=utf-8";
const CONSOLE: &[cairn_module::ConsoleFile] = &[
    cairn_module::ConsoleFile { name: "page.js", content_type: JS, body: include_str!("../console/page.js") },
    cairn_module::ConsoleFile { name: "vc.js", content_type: JS, body: include_str!("../console/vc.js") },
];

/// The module's own refusals (codes `registry.<code>`).
#[derive(Debug, thiserror::Error, Clone, PartialEq, Eq)]
pub enum RegistryError {
    #[error("registry {0:?} exists already")]
    RegistryExists(String),
    #[error("no registry {0:?}")]
    NoRegistry(String),
    #[error("registry {registry:?} belongs to organisation {authority:?}; a registrar of {organisation:?} cannot write it")]
    NotAuthority { registry: String, authority: String, organisation: String },
    #[error("registry {registry:?} has an entry {key:?} already")]
    EntryExists { registry: String, key: String },
    #[error("registry {registry:?} has no entry {key:?}")]
    NoEntry { registry: String, key: String },
    #[error("entry {key:?} is at version {current}, not {expected} (read it again, then retry)")]
    VersionConflict { key: String, expected: u32, current: u32 },
    #[error("entry {key:?} is {status}: it cannot be {action}")]
    BadTransition { key: String, status: &'static str, action: &'static str },
    #[error("registry {0:?} is full")]
    RegistryFull(String),
    #[error("{0}")]
    InvalidSchema(String),
    #[error("{0}")]
    InvalidContent(String),
}

impl ModuleRefusal for RegistryError {
    fn code(&self) -> &'static str {
        match self {
            RegistryError::RegistryExists(_) => "registry-exists",
            RegistryError::NoRegistry(_) => "no-registry",
            RegistryError::NotAuthority { .. } => "not-authority",
            RegistryError::EntryExists { .. } => "entry-exists",
            RegistryError::NoEntry { .. } => "no-entry",
            RegistryError::VersionConflict { .. } => "version-conflict",
            RegistryError::BadTransition { .. } => "bad-transition",
            RegistryError::RegistryFull(_) => "registry-full",
            RegistryError::InvalidSchema(_) => "invalid-schema",
            RegistryError::InvalidContent(_) => "invalid-content",
        }
    }

    fn http_status(&self) -> u16 {
        match self {
            RegistryError::NoRegistry(_) | RegistryError::NoEntry { .. } => 404,
            RegistryError::NotAuthority { .. } => 403,
            RegistryError::InvalidSchema(_) | RegistryError::InvalidContent(_) => 400,
            _ => 409,
        }
    }
}

fn refuse(e: RegistryError) -> ExecFailure {
    ExecFailure::Refused(TxError::from(e))
}

/// The module for a chain (it has no genesis parameters yet).
pub fn module(genesis: &Genesis) -> Result<Box<dyn Module>, String> {
    if let Some(p) = genesis.params.module(MODULE)
        && let Some(k) = p.keys().next()
    {
        return Err(format!("genesis params.modules.registry: unknown parameter {k:?}"));
    }
    Ok(Box::new(RegistryModule { digest_len: genesis.suite.hash(b"").len(), schemas: Mutex::new(BTreeMap::new()) }))
}

pub struct RegistryModule {
    digest_len: usize,
    schemas: Mutex<BTreeMap<Vec<u8>, Arc<EntrySchema>>>,
}

/// State read with a decoder, a corrupt value being the node's failure.
fn read<T>(ctx: &ExecContext<'_, '_>, key: &[u8], decode: fn(&[u8]) -> Result<T, cairn_types::codec::DecodeError>) -> Result<Option<T>, StateError> {
    ctx.state_get(key)?.map(|v| decode(&v).map_err(|e| StateError::Storage(format!("registry state {}: {e}", hex::encode(key))))).transpose()
}

impl RegistryModule {
    /// The compiled schema of a stored schema version.
    fn schema(&self, ctx: &ExecContext<'_, '_>, registry: &str, version: u32) -> Result<Arc<EntrySchema>, StateError> {
        let bytes = ctx
            .state_get(&wire::schema_key(registry, version))?
            .ok_or_else(|| StateError::Storage(format!("registry {registry}: schema version {version} missing")))?;
        let mut cache = self.schemas.lock().expect("the schema cache lock is never poisoned");
        if let Some(s) = cache.get(&bytes) {
            return Ok(Arc::clone(s));
        }
        let s = Arc::new(
            EntrySchema::parse(&bytes, self.digest_len).map_err(|e| StateError::Storage(format!("registry {registry}: stored schema {version}: {e}")))?,
        );
        if cache.len() >= SCHEMA_CACHE_ENTRIES {
            cache.clear();
        }
        cache.insert(bytes, Arc::clone(&s));
        Ok(s)
    }

    /// The registry a write names, if the signer's organisation is its authority.
    fn authority(ctx: &ExecContext<'_, '_>, registry: &str) -> Result<Registry, ExecFailure> {
        let r = read(ctx, &wire::registry_key(registry), Registry::decode)?.ok_or_else(|| refuse(RegistryError::NoRegistry(registry.into())))?;
        if r.authority != ctx.organisation {
            return Err(refuse(RegistryError::NotAuthority { registry: registry.into(), authority: r.authority, organisation: ctx.organisation.into() }));
        }
        Ok(r)
    }

    fn execute_call(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, call: Call, out: &mut TxEffects) -> Result<(), ExecFailure> {
        match call {
            Call::Create { registry, title_zh, title_en, schema } => {
                if ctx.state_get(&wire::registry_key(&registry))?.is_some() {
                    return Err(refuse(RegistryError::RegistryExists(registry)));
                }
                let r = Registry {
                    authority: ctx.organisation.into(),
                    title_zh,
                    title_en,
                    schema_version: 1,
                    entries: 0,
                    created_height: ctx.height,
                    created_time_ms: ctx.time_ms,
                };
                out.index.push(IndexEntry { index: INDEX_REGISTRIES, key: str_key(&[&registry]), value: Vec::new() });
                Self::write_schema(ctx, tx, &registry, &r, schema, out);
                Ok(())
            }
            Call::Schema { registry, schema } => {
                let mut r = Self::authority(ctx, &registry)?;
                r.schema_version += 1;
                Self::write_schema(ctx, tx, &registry, &r, schema, out);
                Ok(())
            }
            Call::Put { registry, key, holder, content } => {
                let mut r = Self::authority(ctx, &registry)?;
                if ctx.state_get(&wire::entry_state_key(&registry, &key))?.is_some() {
                    return Err(refuse(RegistryError::EntryExists { registry, key }));
                }
                if r.entries >= wire::MAX_ENTRIES {
                    return Err(refuse(RegistryError::RegistryFull(registry)));
                }
                let checked = self.check_content(ctx, &registry, r.schema_version, &content)?;
                let version = self.new_version(ctx, 1, Action::Put, Status::Active, String::new(), holder, r.schema_version, &content, out);
                let entry = Entry { current: version, status_index: r.entries, created_height: ctx.height };
                r.entries += 1;
                ctx.state_put(&wire::registry_key(&registry), r.encode());
                out.index.push(IndexEntry { index: INDEX_KEYS, key: str_key(&[&registry, &key]), value: Vec::new() });
                self.record(ctx, tx, &registry, &key, &entry, content, Some(&checked), out);
                Ok(())
            }
            Call::Amend { registry, key, expected_version, content } => {
                let r = Self::authority(ctx, &registry)?;
                let entry = Self::current(ctx, &registry, &key, expected_version, Action::Amend)?;
                // An amended entry takes the registry's latest schema.
                let checked = self.check_content(ctx, &registry, r.schema_version, &content)?;
                let c = &entry.current;
                let v = self.new_version(ctx, c.version + 1, Action::Amend, c.status, c.reason.clone(), c.holder.clone(), r.schema_version, &content, out);
                self.record(ctx, tx, &registry, &key, &Entry { current: v, ..entry }, content, Some(&checked), out);
                Ok(())
            }
            Call::Transfer { registry, key, expected_version, holder } => {
                Self::authority(ctx, &registry)?;
                let entry = Self::current(ctx, &registry, &key, expected_version, Action::Transfer)?;
                let content = Self::content_of(ctx, &entry)?;
                let c = &entry.current;
                let v = self.new_version(ctx, c.version + 1, Action::Transfer, c.status, c.reason.clone(), holder, c.schema_version, &content, out);
                self.record(ctx, tx, &registry, &key, &Entry { current: v, ..entry }, content, None, out);
                Ok(())
            }
            Call::Status { action, registry, key, expected_version, reason } => {
                Self::authority(ctx, &registry)?;
                let entry = Self::current(ctx, &registry, &key, expected_version, action)?;
                let to = match (entry.current.status, action) {
                    (Status::Active, Action::Suspend) => Status::Suspended,
                    (Status::Suspended, Action::Reinstate) => Status::Active,
                    (Status::Active | Status::Suspended, Action::Revoke) => Status::Revoked,
                    (from, _) => return Err(refuse(RegistryError::BadTransition { key, status: from.name(), action: past(action) })),
                };
                let content = Self::content_of(ctx, &entry)?;
                let c = &entry.current;
                let v = self.new_version(ctx, c.version + 1, action, to, reason, c.holder.clone(), c.schema_version, &content, out);
                for purpose in Purpose::ALL {
                    if purpose.bit(entry.current.status) != purpose.bit(to) {
                        set_status_bit(ctx, &registry, purpose, entry.status_index, purpose.bit(to))?;
                    }
                }
                self.record(ctx, tx, &registry, &key, &Entry { current: v, ..entry }, content, None, out);
                Ok(())
            }
        }
    }

    fn write_schema(ctx: &mut ExecContext<'_, '_>, tx: &Transaction, registry: &str, r: &Registry, schema: Vec<u8>, out: &mut TxEffects) {
        ctx.state_put(&wire::registry_key(registry), r.encode());
        ctx.state_put(&wire::schema_key(registry, r.schema_version), schema.clone());
        let leaf = SchemaLeaf {
            tx_id: tx.id,
            registry: registry.into(),
            organisation: ctx.organisation.into(),
            schema_version: r.schema_version,
            title_zh: r.title_zh.clone(),
            title_en: r.title_en.clone(),
            schema,
        };
        out.leaves.push(ctx.leaf(wire::KIND_SCHEMA, &leaf.encode_payload()));
    }

    fn check_content(&self, ctx: &ExecContext<'_, '_>, registry: &str, schema_version: u32, content: &[u8]) -> Result<serde_json::Value, ExecFailure> {
        let schema = self.schema(ctx, registry, schema_version)?;
        schema.check_content(content).map_err(|e| refuse(RegistryError::InvalidContent(e.to_string())))
    }

    /// The entry a change names, at the version the registrar read.
    fn current(ctx: &ExecContext<'_, '_>, registry: &str, key: &str, expected: u32, action: Action) -> Result<Entry, ExecFailure> {
        let entry = read(ctx, &wire::entry_state_key(registry, key), Entry::decode)?
            .ok_or_else(|| refuse(RegistryError::NoEntry { registry: registry.into(), key: key.into() }))?;
        if entry.current.version != expected {
            return Err(refuse(RegistryError::VersionConflict { key: key.into(), expected, current: entry.current.version }));
        }
        if entry.current.status == Status::Revoked {
            return Err(refuse(RegistryError::BadTransition { key: key.into(), status: Status::Revoked.name(), action: past(action) }));
        }
        Ok(entry)
    }

    /// The content of an entry's current version, which a transfer or status change carries
    /// into its new version (the leaf holds it; state holds its digest).
    fn content_of(ctx: &ExecContext<'_, '_>, entry: &Entry) -> Result<Vec<u8>, StateError> {
        let key = content_key(&entry.current.content_digest);
        ctx.state_get(&key)?.ok_or_else(|| StateError::Storage(format!("registry content {} missing", hex::encode(entry.current.content_digest))))
    }

    #[allow(clippy::too_many_arguments)]
    fn new_version(
        &self,
        ctx: &mut ExecContext<'_, '_>,
        version: u32,
        action: Action,
        status: Status,
        reason: String,
        holder: String,
        schema_version: u32,
        content: &[u8],
        out: &TxEffects,
    ) -> Version {
        let content_digest = ctx.suite.hash(content);
        // Contents are state by digest, so a transfer or status change finds what it carries.
        ctx.state_put(&content_key(&content_digest), content.to_vec());
        Version {
            version,
            action,
            status,
            reason,
            holder,
            schema_version,
            content_digest,
            height: ctx.height,
            time_ms: ctx.time_ms,
            leaf: ctx.first_leaf + out.leaves.len() as u64,
        }
    }

    /// Writes an entry's new current version: its state, its version record, its leaf and
    /// its index entries.
    #[allow(clippy::too_many_arguments)]
    fn record(
        &self,
        ctx: &mut ExecContext<'_, '_>,
        tx: &Transaction,
        registry: &str,
        key: &str,
        entry: &Entry,
        content: Vec<u8>,
        checked: Option<&serde_json::Value>,
        out: &mut TxEffects,
    ) {
        let v = &entry.current;
        ctx.state_put(&wire::entry_state_key(registry, key), entry.encode());
        ctx.state_put(&wire::version_key(registry, key, v.version), v.encode());
        out.index.push(IndexEntry { index: INDEX_HOLDER, key: str_key(&[registry, &v.holder, key]), value: Vec::new() });
        let mut w = Writer::new();
        w.str(registry).u8(v.status as u8).str(key);
        out.index.push(IndexEntry { index: INDEX_STATUS, key: w.into_bytes(), value: Vec::new() });
        if let Some(content) = checked
            && let Ok(schema) = self.schema(ctx, registry, v.schema_version)
        {
            for field in &schema.indexed {
                if let Some(value) = content.pointer(&format!("/fields/{}", field.replace('~', "~0").replace('/', "~1"))) {
                    out.index.push(IndexEntry { index: INDEX_FIELD, key: str_key(&[registry, field, &schema::index_value(value), key]), value: Vec::new() });
                }
            }
        }
        let leaf = VersionLeaf {
            tx_id: tx.id,
            registry: registry.into(),
            key: key.into(),
            organisation: ctx.organisation.into(),
            signer: tx.body.signer.as_bytes().to_vec(),
            version: v.clone(),
            content,
        };
        debug_assert_eq!(v.leaf, ctx.first_leaf + out.leaves.len() as u64, "the version names its own leaf");
        out.leaves.push(ctx.leaf(wire::KIND_VERSION, &leaf.encode_payload()));
    }
}

fn past(a: Action) -> &'static str {
    match a {
        Action::Put => "created",
        Action::Amend => "amended",
        Action::Transfer => "transferred",
        Action::Suspend => "suspended",
        Action::Reinstate => "reinstated",
        Action::Revoke => "revoked",
    }
}

/// Index keys: canonical strings one after another (none a prefix of another).
pub fn str_key(parts: &[&str]) -> Vec<u8> {
    let mut w = Writer::new();
    for p in parts {
        w.str(p);
    }
    w.into_bytes()
}

/// Sets or clears an entry's bit in one of its registry's status lists (index 0 is the
/// left-most bit of the first byte, as the W3C Bitstring Status List counts).
fn set_status_bit(ctx: &mut ExecContext<'_, '_>, registry: &str, purpose: Purpose, index: u64, on: bool) -> Result<(), StateError> {
    let chunk = u32::try_from(index / STATUS_CHUNK_BITS).expect("indices below MAX_ENTRIES");
    let key = wire::status_chunk_key(registry, purpose, chunk);
    let mut bits = ctx.state_get(&key)?.unwrap_or_else(|| vec![0; (STATUS_CHUNK_BITS / 8) as usize]);
    if bits.len() != (STATUS_CHUNK_BITS / 8) as usize {
        return Err(StateError::Storage(format!("registry {registry}: a status chunk of {} bytes", bits.len())));
    }
    let at = (index % STATUS_CHUNK_BITS) as usize;
    let mask = 0x80u8 >> (at % 8);
    if on {
        bits[at / 8] |= mask;
    } else {
        bits[at / 8] &= !mask;
    }
    ctx.state_put(&key, bits);
    Ok(())
}

impl Module for RegistryModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[INDEX_REGISTRIES, INDEX_KEYS, INDEX_HOLDER, INDEX_FIELD, INDEX_STATUS]
    }

    fn required_role(&self, method: &str) -> Option<&'static str> {
        wire::METHODS.contains(&method).then_some(ROLE_REGISTRAR)
    }

    fn check(&self, call: &cairn_types::tx::Call, _genesis: &Genesis) -> Result<(), TxError> {
        if !wire::METHODS.contains(&call.method.as_str()) {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: call.method.clone() });
        }
        let decoded = Call::decode(&call.method, &call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        if let Call::Create { schema, .. } | Call::Schema { schema, .. } = &decoded {
            EntrySchema::parse(schema, self.digest_len).map_err(|e| TxError::from(RegistryError::InvalidSchema(e.to_string())))?;
        }
        Ok(())
    }

    fn execute(&self, ctx: &mut ExecContext<'_, '_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), ExecFailure> {
        let call = Call::decode(&tx.body.call.method, &tx.body.call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        self.execute_call(ctx, tx, call, out)
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        json::args_from_json(method, args).map(|c| c.encode())
    }

    fn state_view(&self, key: &[u8], value: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
        Some(json::state_view(key, value))
    }

    /// Status list credentials and the credentials' context are public: any verifier of a
    /// credential fetches them, and a list of 131,072 bits names no one. Everything else is
    /// for members.
    fn read_policy(&self, method: &str, path: &str) -> cairn_module::Policy {
        let parts: Vec<&str> = path.trim_matches('/').split('/').collect();
        if method == "GET" && ((parts.len() == 4 && parts[1] == "status") || path == "/credentials/context/v1") {
            return cairn_module::Policy::Public;
        }
        cairn_module::Policy::Members
    }

    fn openapi(&self) -> serde_json::Value {
        serde_json::from_str(OPENAPI).expect("the registry OpenAPI fragment is JSON")
    }

    fn console(&self) -> &'static [cairn_module::ConsoleFile] {
        CONSOLE
    }

    fn routes(&self) -> axum::Router<cairn_module::Query> {
        routes::router()
    }
}

//! Leaves of the verifiable log. Every committed transaction appends at least one leaf: an
//! evidence deposit one per record, any other call one transaction leaf.
//!
//! Leaf bytes (format version 1), hashed as RFC 9162 leaves with the chain's suite:
//! ```text
//! u8 version = 1 | u8 kind
//! kind 1 (evidence record): the evidence module's record (`cairn_module_evidence::wire`)
//! kind 2 (transaction):     tx_id[32] | u64 height | u64 time_ms | str module | str method
//! ```
//! Format version 2 is the module envelope: `u8 version = 2 | str module | u8 kind | payload`.
//! The core's own (module `cairn`) is the block leaf (kind 1, payload the block header),
//! appended after the transaction leaves of every block with transactions, so that a
//! checkpoint covers each block's state root. Any other module name is a module's leaf: the
//! executor checks that a module emits envelopes with its own name only; the payload is the
//! module's to define (evidence records keep their version 1 leaves, which receipts already
//! issued pin).

use cairn_crypto::Hash;

use crate::block::BlockHeader;
use crate::codec::{DecodeError, Reader, Writer};
pub const LEAF_VERSION: u8 = 1;
/// Version 1 kind 1: a record of the evidence module, the one module whose leaves predate the
/// envelope. Its payload is the module's to decode.
pub const KIND_V1_RECORD: u8 = 1;
/// The module that owns version 1 records (the executor lets no other module emit them).
pub const V1_RECORD_MODULE: &str = "evidence";
const KIND_TRANSACTION: u8 = 2;
/// The module envelope.
pub const LEAF_VERSION_ENVELOPE: u8 = 2;
/// The framework's own leaves.
pub const CORE_MODULE: &str = "cairn";
pub const KIND_BLOCK: u8 = 1;

/// The block leaf of a header: `0x02 | str "cairn" | 0x01 | header bytes`.
pub fn encode_block_leaf(header: &BlockHeader) -> Vec<u8> {
    let mut w = Writer::new();
    w.u8(LEAF_VERSION_ENVELOPE).str(CORE_MODULE).u8(KIND_BLOCK);
    header.encode_into(&mut w);
    w.into_bytes()
}

/// A module's leaf: `0x02 | str module | u8 kind | payload`.
pub fn encode_module_leaf(module: &str, kind: u8, payload: &[u8]) -> Vec<u8> {
    let mut w = Writer { buf: Vec::with_capacity(4 + module.len() + payload.len()) };
    w.u8(LEAF_VERSION_ENVELOPE).str(module).u8(kind).fixed(payload);
    w.into_bytes()
}

/// The parts of a version 2 envelope: (module, kind, payload).
pub fn decode_envelope(leaf: &[u8]) -> Result<(&str, u8, &[u8]), DecodeError> {
    let mut r = Reader::new(leaf);
    if r.u8("leaf version")? != LEAF_VERSION_ENVELOPE {
        return Err(DecodeError::Invalid { field: "leaf version", reason: "not a module envelope (version 2)" });
    }
    let module = r.str("leaf module", 64)?;
    if module.is_empty() {
        return Err(DecodeError::Invalid { field: "leaf module", reason: "empty" });
    }
    let kind = r.u8("leaf kind")?;
    Ok((module, kind, r.rest()))
}

/// A leaf in a module's envelope, not interpreted by the core (the module's crate reads it).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ModuleLeaf {
    pub module: String,
    pub kind: u8,
    pub payload: Vec<u8>,
}

/// A transaction that produced no module-specific leaf.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TxEntry {
    pub tx_id: Hash,
    pub height: u64,
    pub time_ms: u64,
    pub module: String,
    pub method: String,
}

// Entries are decoded one at a time for proofs and pages, never stored in bulk: no boxing.
#[allow(clippy::large_enum_variant)]
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LogEntry {
    /// A version 1 evidence record: the bytes after `0x01 0x01`, decoded by the evidence module.
    V1Record(Vec<u8>),
    Transaction(TxEntry),
    /// A block leaf: the header of the block whose transaction leaves precede it.
    Block(BlockHeader),
    /// A module's own leaf (version 2 envelope with the module's name).
    Module(ModuleLeaf),
}

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            LogEntry::V1Record(payload) => [&[LEAF_VERSION, KIND_V1_RECORD][..], payload].concat(),
            LogEntry::Transaction(t) => {
                let mut w = Writer::new();
                w.u8(LEAF_VERSION).u8(KIND_TRANSACTION).fixed(&t.tx_id).u64(t.height).u64(t.time_ms).str(&t.module).str(&t.method);
                w.into_bytes()
            }
            LogEntry::Block(header) => encode_block_leaf(header),
            LogEntry::Module(m) => encode_module_leaf(&m.module, m.kind, &m.payload),
        }
    }

    /// The leaf's envelope and the core's own leaves are checked here; a module's payload
    /// (version 2, or a version 1 record) is the module's to decode.
    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        match r.u8("leaf version")? {
            LEAF_VERSION => {}
            LEAF_VERSION_ENVELOPE => return Self::decode_envelope(r),
            _ => return Err(DecodeError::Invalid { field: "leaf version", reason: "unsupported" }),
        }
        let entry = match r.u8("leaf kind")? {
            KIND_V1_RECORD => LogEntry::V1Record(r.rest().to_vec()),
            KIND_TRANSACTION => LogEntry::Transaction(TxEntry {
                tx_id: r.fixed::<32>("tx_id")?,
                height: r.u64("height")?,
                time_ms: r.u64("time_ms")?,
                module: r.str("module", 64)?.to_string(),
                method: r.str("method", 64)?.to_string(),
            }),
            _ => return Err(DecodeError::Invalid { field: "leaf kind", reason: "unknown" }),
        };
        r.finish()?;
        Ok(entry)
    }

    fn decode_envelope(mut r: Reader<'_>) -> Result<Self, DecodeError> {
        let module = r.str("leaf module", 64)?;
        let kind = r.u8("leaf kind")?;
        if module.is_empty() {
            return Err(DecodeError::Invalid { field: "leaf module", reason: "empty" });
        }
        if module != CORE_MODULE {
            let payload = r.rest().to_vec();
            return Ok(LogEntry::Module(ModuleLeaf { module: module.to_string(), kind, payload }));
        }
        if kind != KIND_BLOCK {
            return Err(DecodeError::Invalid { field: "leaf kind", reason: "unknown kind of the core module" });
        }
        let header = BlockHeader::decode_from(&mut r)?;
        if header.state_root.is_none() {
            return Err(DecodeError::Invalid { field: "block leaf", reason: "header without a state root" });
        }
        r.finish()?;
        Ok(LogEntry::Block(header))
    }
}

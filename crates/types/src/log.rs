//! Leaves of the verifiable log. Every committed transaction appends at least one leaf: an
//! evidence deposit one per record, any other call one transaction leaf.
//!
//! Leaf bytes (format version 1), hashed as RFC 9162 leaves with the chain's suite:
//! ```text
//! u8 version = 1 | u8 kind
//! kind 1 (evidence record): tx_id[32] | u32 index_in_tx | u64 height | u64 time_ms
//!                           | str organisation | bytes submitter | RecordInput
//! kind 2 (transaction):     tx_id[32] | u64 height | u64 time_ms | str module | str method
//! ```
//! Format version 2 is the module envelope: `u8 version = 2 | str module | u8 kind | payload`.
//! The core's own (module `cairn`) is the block leaf (kind 1, payload the block header),
//! appended after the transaction leaves of every block with transactions, so that a
//! checkpoint covers each block's state root. Any other module name is a module's leaf: the
//! executor checks that a module emits envelopes with its own name only; the payload is the
//! module's to define (evidence records keep their version 1 leaves, which receipts already
//! issued pin).

use cairn_crypto::{Hash, PublicKey, Suite};

use crate::block::BlockHeader;
use crate::codec::{DecodeError, Reader, Writer};
use crate::evidence::{EvidenceEntry, RecordInput};

pub const LEAF_VERSION: u8 = 1;
const KIND_EVIDENCE: u8 = 1;
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
    Evidence(EvidenceEntry),
    Transaction(TxEntry),
    /// A block leaf: the header of the block whose transaction leaves precede it.
    Block(BlockHeader),
    /// A module's own leaf (version 2 envelope with the module's name).
    Module(ModuleLeaf),
}

/// Leaf bytes of an evidence record, from its parts; `record` is the record's canonical
/// encoding (as carried in the deposit). Equal to `LogEntry::Evidence(..).encode()`.
#[allow(clippy::too_many_arguments)]
pub fn encode_evidence_leaf(tx_id: &Hash, index_in_tx: u32, height: u64, time_ms: u64, organisation: &str, submitter: &[u8], record: &[u8]) -> Vec<u8> {
    let mut w = Writer { buf: Vec::with_capacity(2 + 32 + 4 + 16 + 8 + organisation.len() + submitter.len() + record.len()) };
    w.u8(LEAF_VERSION).u8(KIND_EVIDENCE).fixed(tx_id).u32(index_in_tx).u64(height).u64(time_ms).str(organisation).bytes(submitter).fixed(record);
    w.into_bytes()
}

impl LogEntry {
    pub fn encode(&self) -> Vec<u8> {
        match self {
            LogEntry::Evidence(e) => {
                let mut record = Writer::new();
                e.record.encode_into(&mut record);
                encode_evidence_leaf(&e.tx_id, e.index_in_tx, e.height, e.time_ms, &e.organisation, e.submitter.as_bytes(), &record.buf)
            }
            LogEntry::Transaction(t) => {
                let mut w = Writer::new();
                w.u8(LEAF_VERSION).u8(KIND_TRANSACTION).fixed(&t.tx_id).u64(t.height).u64(t.time_ms).str(&t.module).str(&t.method);
                w.into_bytes()
            }
            LogEntry::Block(header) => encode_block_leaf(header),
            LogEntry::Module(m) => encode_module_leaf(&m.module, m.kind, &m.payload),
        }
    }

    pub fn decode(suite: Suite, bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        match r.u8("leaf version")? {
            LEAF_VERSION => {}
            LEAF_VERSION_ENVELOPE => return Self::decode_envelope(r),
            _ => return Err(DecodeError::Invalid { field: "leaf version", reason: "unsupported" }),
        }
        let entry = match r.u8("leaf kind")? {
            KIND_EVIDENCE => {
                let tx_id = r.fixed::<32>("tx_id")?;
                let index_in_tx = r.u32("index_in_tx")?;
                let height = r.u64("height")?;
                let time_ms = r.u64("time_ms")?;
                let organisation = r.str("organisation", 128)?.to_string();
                let submitter = PublicKey::from_bytes(suite, r.bytes("submitter", 128)?)
                    .map_err(|_| DecodeError::Invalid { field: "submitter", reason: "not a valid public key" })?;
                let record = RecordInput::decode_from(&mut r)?;
                LogEntry::Evidence(EvidenceEntry { tx_id, index_in_tx, height, time_ms, organisation, submitter, record })
            }
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::codec::Reader;
    use crate::evidence::{DigestAlg, RecordRef};

    #[test]
    fn leaf_from_parts_equals_leaf_from_entry() {
        let key = cairn_crypto::KeyPair::from_secret_bytes(Suite::Ed25519Sha256, &[3; 32]).unwrap();
        let mut metadata = std::collections::BTreeMap::new();
        metadata.insert("a".to_string(), "1".to_string());
        metadata.insert("b".to_string(), "2".to_string());
        let record = RecordInput {
            digest_alg: DigestAlg::Sha256,
            digest: [5; 32],
            size: 9,
            media_type: "text/plain".into(),
            title: "t".into(),
            reference: Some("r".into()),
            metadata,
        };
        let mut w = Writer::new();
        record.encode_into(&mut w);
        let bytes = w.into_bytes();
        let parsed = RecordRef::decode_from(&mut Reader::new(&bytes)).unwrap();
        assert_eq!(parsed.bytes, bytes.as_slice());
        assert_eq!(parsed.to_owned(), record);
        let entry = EvidenceEntry { tx_id: [1; 32], index_in_tx: 4, height: 7, time_ms: 99, organisation: "org".into(), submitter: key.public_key(), record };
        let from_parts = encode_evidence_leaf(&[1; 32], 4, 7, 99, "org", key.public_key().as_bytes(), parsed.bytes);
        assert_eq!(from_parts, LogEntry::Evidence(entry.clone()).encode());
        assert_eq!(LogEntry::decode(Suite::Ed25519Sha256, &from_parts).unwrap(), LogEntry::Evidence(entry));
    }
}

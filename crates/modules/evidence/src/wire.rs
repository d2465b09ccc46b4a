//! Wire types of the evidence module and their canonical encodings (`docs/encoding.md`):
//! deposit arguments, the record each deposit logs (a version 1 leaf, kind 1, which receipts
//! issued since the first release pin), and each digest's state.
//!
//! ```text
//! leaf := u8 version = 1 | u8 kind = 1 | tx_id[32] | u32 index_in_tx | u64 height | u64 time_ms
//!         | str organisation | bytes submitter | RecordInput
//! ```

use std::collections::BTreeMap;

use cairn_crypto::{Hash, PublicKey, Suite};
use serde::{Deserialize, Serialize};

use cairn_types::codec::{DecodeError, Reader, Writer};
use cairn_types::hexfmt;
use cairn_types::log::{KIND_V1_RECORD, LEAF_VERSION, LogEntry};

pub const MODULE: &str = "evidence";
pub const METHOD_DEPOSIT: &str = "deposit";

/// Field limits of a record. The genesis may set lower ones; these are the codec ceilings.
pub const MAX_TITLE: usize = 512;
pub const MAX_MEDIA_TYPE: usize = 128;
pub const MAX_REFERENCE: usize = 256;
pub const MAX_METADATA_ENTRIES: usize = 32;
pub const MAX_METADATA_KEY: usize = 64;
pub const MAX_METADATA_VALUE: usize = 1024;
pub const MAX_RECORDS_PER_CALL: usize = 10_000;

/// Hash function that produced a record's content digest.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum DigestAlg {
    #[serde(rename = "sha-256")]
    Sha256,
    #[serde(rename = "sm3")]
    Sm3,
}

impl DigestAlg {
    pub fn code(self) -> u8 {
        match self {
            DigestAlg::Sha256 => 1,
            DigestAlg::Sm3 => 2,
        }
    }
    pub fn from_code(c: u8) -> Option<Self> {
        match c {
            1 => Some(DigestAlg::Sha256),
            2 => Some(DigestAlg::Sm3),
            _ => None,
        }
    }
    pub fn digest(self, data: &[u8]) -> Hash {
        match self {
            DigestAlg::Sha256 => cairn_crypto::sha256(data),
            DigestAlg::Sm3 => cairn_crypto::sm3(data),
        }
    }
    pub fn name(self) -> &'static str {
        match self {
            DigestAlg::Sha256 => "sha-256",
            DigestAlg::Sm3 => "sm3",
        }
    }
    /// The digest a chain's suite uses natively.
    pub fn for_suite(suite: Suite) -> Self {
        match suite {
            Suite::Ed25519Sha256 => DigestAlg::Sha256,
            Suite::Sm2Sm3 => DigestAlg::Sm3,
        }
    }
}

/// What a depositor states about one piece of evidence. The file itself stays with them.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecordInput {
    pub digest_alg: DigestAlg,
    #[serde(with = "hexfmt::hash")]
    pub digest: Hash,
    pub size: u64,
    pub media_type: String,
    pub title: String,
    #[serde(default)]
    pub reference: Option<String>,
    #[serde(default)]
    pub metadata: BTreeMap<String, String>,
}

impl RecordInput {
    pub fn encode_into(&self, w: &mut Writer) {
        w.u8(self.digest_alg.code())
            .fixed(&self.digest)
            .u64(self.size)
            .str(&self.media_type)
            .str(&self.title)
            .opt_str(self.reference.as_deref())
            .u32(self.metadata.len() as u32);
        for (k, v) in &self.metadata {
            w.str(k).str(v);
        }
    }

    pub fn decode_from(r: &mut Reader<'_>) -> Result<Self, DecodeError> {
        Ok(RecordRef::decode_from(r)?.to_owned())
    }

    /// Checks the limits a decoder cannot see from JSON input.
    pub fn validate(&self) -> Result<(), DecodeError> {
        let check = |field, len: usize, max: usize| {
            if len > max { Err(DecodeError::TooLong { field, len, max }) } else { Ok(()) }
        };
        check("title", self.title.len(), MAX_TITLE)?;
        check("media_type", self.media_type.len(), MAX_MEDIA_TYPE)?;
        check("reference", self.reference.as_ref().map_or(0, |r| r.len()), MAX_REFERENCE)?;
        check("metadata", self.metadata.len(), MAX_METADATA_ENTRIES)?;
        for (k, v) in &self.metadata {
            check("metadata key", k.len(), MAX_METADATA_KEY)?;
            check("metadata value", v.len(), MAX_METADATA_VALUE)?;
        }
        if self.title.is_empty() {
            return Err(DecodeError::Invalid { field: "title", reason: "must not be empty" });
        }
        Ok(())
    }
}

/// A record decoded in place: every check of [`RecordInput::decode_from`], no copies. `bytes`
/// is the record's canonical encoding, which a log leaf embeds verbatim.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RecordRef<'a> {
    pub digest_alg: DigestAlg,
    pub digest: Hash,
    pub size: u64,
    pub media_type: &'a str,
    pub title: &'a str,
    pub reference: Option<&'a str>,
    pub metadata: Vec<(&'a str, &'a str)>,
    pub bytes: &'a [u8],
}

impl<'a> RecordRef<'a> {
    pub fn decode_from(r: &mut Reader<'a>) -> Result<Self, DecodeError> {
        let start = r.position();
        let digest_alg = DigestAlg::from_code(r.u8("digest_alg")?).ok_or(DecodeError::Invalid { field: "digest_alg", reason: "unknown digest algorithm" })?;
        let digest = r.fixed::<32>("digest")?;
        let size = r.u64("size")?;
        let media_type = r.str("media_type", MAX_MEDIA_TYPE)?;
        let title = r.str("title", MAX_TITLE)?;
        let reference = r.opt_str("reference", MAX_REFERENCE)?;
        let n = r.count("metadata", MAX_METADATA_ENTRIES)?;
        let mut metadata = Vec::with_capacity(n);
        for _ in 0..n {
            let k = r.str("metadata key", MAX_METADATA_KEY)?;
            let v = r.str("metadata value", MAX_METADATA_VALUE)?;
            // Canonical: keys strictly ascending, so each map has one encoding.
            if metadata.last().is_some_and(|(l, _): &(&str, &str)| *l >= k) {
                return Err(DecodeError::Invalid { field: "metadata", reason: "keys must be unique and sorted" });
            }
            metadata.push((k, v));
        }
        let bytes = r.slice_from(start);
        Ok(RecordRef { digest_alg, digest, size, media_type, title, reference, metadata, bytes })
    }

    pub fn to_owned(&self) -> RecordInput {
        RecordInput {
            digest_alg: self.digest_alg,
            digest: self.digest,
            size: self.size,
            media_type: self.media_type.to_string(),
            title: self.title.to_string(),
            reference: self.reference.map(str::to_string),
            metadata: self.metadata.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
        }
    }
}

/// The records of `evidence.deposit` arguments, decoded in place and checked as
/// [`DepositArgs::decode`] checks them.
pub fn decode_deposit_in_place(bytes: &[u8]) -> Result<Vec<RecordRef<'_>>, DecodeError> {
    let mut r = Reader::new(bytes);
    let n = r.count("records", MAX_RECORDS_PER_CALL)?;
    if n == 0 {
        return Err(DecodeError::Invalid { field: "records", reason: "a deposit needs at least one record" });
    }
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        let rec = RecordRef::decode_from(&mut r)?;
        if rec.title.is_empty() {
            return Err(DecodeError::Invalid { field: "title", reason: "must not be empty" });
        }
        records.push(rec);
    }
    r.finish()?;
    Ok(records)
}

/// Arguments of `evidence.deposit`: one or many records under one signature.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DepositArgs {
    pub records: Vec<RecordInput>,
}

impl DepositArgs {
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u32(self.records.len() as u32);
        for r in &self.records {
            r.encode_into(&mut w);
        }
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        Ok(DepositArgs { records: decode_deposit_in_place(bytes)?.iter().map(RecordRef::to_owned).collect() })
    }
}

/// Identifier of a deposited record: its transaction and its position there, written
/// `<tx id hex>-<index>` (like a transaction outpoint). The client knows it before commit, and
/// the node finds the record through the transaction, with no index of its own.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct RecordId {
    pub tx_id: Hash,
    pub index: u32,
}

impl std::fmt::Display for RecordId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}-{}", hex::encode(self.tx_id), self.index)
    }
}

impl std::str::FromStr for RecordId {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let err = || format!("record id {s:?} is not <64 lowercase hex>-<index>");
        let (tx, index) = s.split_once('-').ok_or_else(err)?;
        let tx_id = hexfmt::decode_strict(tx).ok().and_then(|v| v.try_into().ok()).ok_or_else(err)?;
        // Canonical decimal only: no sign, no leading zeros.
        if index.is_empty() || (index.len() > 1 && index.starts_with('0')) || !index.bytes().all(|b| b.is_ascii_digit()) {
            return Err(err());
        }
        Ok(RecordId { tx_id, index: index.parse().map_err(|_| err())? })
    }
}

impl Serialize for RecordId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for RecordId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        String::deserialize(d)?.parse().map_err(serde::de::Error::custom)
    }
}

/// A committed evidence record: the deposit plus where and when the chain took it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct EvidenceEntry {
    pub tx_id: Hash,
    pub index_in_tx: u32,
    pub height: u64,
    pub time_ms: u64,
    pub organisation: String,
    pub submitter: PublicKey,
    pub record: RecordInput,
}

/// The JSON face of an [`EvidenceEntry`], used by the API and inside receipts.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvidenceView {
    pub id: RecordId,
    pub digest_alg: DigestAlg,
    #[serde(with = "hexfmt::hash")]
    pub digest: Hash,
    pub size: u64,
    pub media_type: String,
    pub title: String,
    pub reference: Option<String>,
    pub metadata: BTreeMap<String, String>,
    pub organisation: String,
    pub submitter: String,
    #[serde(with = "hexfmt::hash")]
    pub tx_id: Hash,
    pub index_in_tx: u32,
    pub block_height: u64,
    pub time_ms: u64,
    /// `time_ms` as RFC 3339 UTC, for people.
    pub time: String,
}

/// Leaf bytes of an evidence record, from its parts; `record` is the record's canonical
/// encoding (as carried in the deposit). Equal to [`EvidenceEntry::encode_leaf`].
#[allow(clippy::too_many_arguments)]
pub fn encode_leaf(tx_id: &Hash, index_in_tx: u32, height: u64, time_ms: u64, organisation: &str, submitter: &[u8], record: &[u8]) -> Vec<u8> {
    let mut w = Writer { buf: Vec::with_capacity(2 + 32 + 4 + 16 + 8 + organisation.len() + submitter.len() + record.len()) };
    w.u8(LEAF_VERSION).u8(KIND_V1_RECORD).fixed(tx_id).u32(index_in_tx).u64(height).u64(time_ms).str(organisation).bytes(submitter).fixed(record);
    w.into_bytes()
}

impl EvidenceEntry {
    pub fn encode_leaf(&self) -> Vec<u8> {
        let mut record = Writer::new();
        self.record.encode_into(&mut record);
        encode_leaf(&self.tx_id, self.index_in_tx, self.height, self.time_ms, &self.organisation, self.submitter.as_bytes(), &record.buf)
    }

    /// The record a log leaf holds: `Ok(None)` for a leaf of another kind, an error for an
    /// evidence record that does not decode.
    pub fn from_leaf(suite: Suite, leaf: &[u8]) -> Result<Option<Self>, DecodeError> {
        match LogEntry::decode(leaf)? {
            LogEntry::V1Record(payload) => Self::decode_payload(suite, &payload).map(Some),
            _ => Ok(None),
        }
    }

    fn decode_payload(suite: Suite, payload: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(payload);
        let tx_id = r.fixed::<32>("tx_id")?;
        let index_in_tx = r.u32("index_in_tx")?;
        let height = r.u64("height")?;
        let time_ms = r.u64("time_ms")?;
        let organisation = r.str("organisation", 128)?.to_string();
        let submitter = PublicKey::from_bytes(suite, r.bytes("submitter", 128)?)
            .map_err(|_| DecodeError::Invalid { field: "submitter", reason: "not a valid public key" })?;
        let record = RecordInput::decode_from(&mut r)?;
        r.finish()?;
        Ok(EvidenceEntry { tx_id, index_in_tx, height, time_ms, organisation, submitter, record })
    }

    pub fn id(&self) -> RecordId {
        RecordId { tx_id: self.tx_id, index: self.index_in_tx }
    }

    pub fn view(&self) -> EvidenceView {
        let r = &self.record;
        EvidenceView {
            id: self.id(),
            digest_alg: r.digest_alg,
            digest: r.digest,
            size: r.size,
            media_type: r.media_type.clone(),
            title: r.title.clone(),
            reference: r.reference.clone(),
            metadata: r.metadata.clone(),
            organisation: self.organisation.clone(),
            submitter: self.submitter.to_hex(),
            tx_id: self.tx_id,
            index_in_tx: self.index_in_tx,
            block_height: self.height,
            time_ms: self.time_ms,
            time: cairn_types::format_time_ms(self.time_ms),
        }
    }
}

/// What the chain's state says of one content digest: its first deposit and how many there were.
/// Key `u8 digest_alg | digest[32]` in the evidence module's state (see `docs/encoding.md`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct DigestState {
    pub first_record: RecordId,
    pub first_height: u64,
    pub first_time_ms: u64,
    pub deposits: u64,
    pub last_height: u64,
}

const DIGEST_STATE_VERSION: u8 = 1;

/// The evidence module's state key for a digest.
pub fn digest_state_key(alg: DigestAlg, digest: &Hash) -> Vec<u8> {
    [&[alg.code()][..], digest].concat()
}

/// The digest a state key names, if it is one.
pub fn digest_of_state_key(key: &[u8]) -> Option<(DigestAlg, Hash)> {
    if key.len() != 33 {
        return None;
    }
    Some((DigestAlg::from_code(key[0])?, key[1..].try_into().ok()?))
}

impl DigestState {
    /// `u8 version | hash first tx_id | u32 first index | u64 first height | u64 first time_ms
    /// | u64 deposits | u64 last height`.
    pub fn encode(&self) -> Vec<u8> {
        let mut w = Writer::new();
        w.u8(DIGEST_STATE_VERSION)
            .fixed(&self.first_record.tx_id)
            .u32(self.first_record.index)
            .u64(self.first_height)
            .u64(self.first_time_ms)
            .u64(self.deposits)
            .u64(self.last_height);
        w.into_bytes()
    }

    pub fn decode(bytes: &[u8]) -> Result<Self, DecodeError> {
        let mut r = Reader::new(bytes);
        if r.u8("digest state version")? != DIGEST_STATE_VERSION {
            return Err(DecodeError::Invalid { field: "digest state version", reason: "unsupported" });
        }
        let s = DigestState {
            first_record: RecordId { tx_id: r.fixed::<32>("first tx_id")?, index: r.u32("first index")? },
            first_height: r.u64("first height")?,
            first_time_ms: r.u64("first time_ms")?,
            deposits: r.u64("deposits")?,
            last_height: r.u64("last height")?,
        };
        r.finish()?;
        if s.deposits == 0 || s.last_height < s.first_height {
            return Err(DecodeError::Invalid { field: "digest state", reason: "no deposits, or last before first" });
        }
        Ok(s)
    }

    /// The readable form in state receipts (`view`): present or absent.
    pub fn view(alg: DigestAlg, digest: &Hash, state: Option<&DigestState>) -> serde_json::Value {
        match state {
            None => serde_json::json!({"digest_alg": alg.name(), "digest": hex::encode(digest), "deposited": false}),
            Some(s) => serde_json::json!({
                "digest_alg": alg.name(),
                "digest": hex::encode(digest),
                "deposited": true,
                "first_record": s.first_record.to_string(),
                "first_height": s.first_height,
                "first_time_ms": s.first_time_ms,
                "deposits": s.deposits,
                "last_height": s.last_height,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let from_parts = encode_leaf(&[1; 32], 4, 7, 99, "org", key.public_key().as_bytes(), parsed.bytes);
        assert_eq!(from_parts, entry.encode_leaf());
        assert_eq!(EvidenceEntry::from_leaf(Suite::Ed25519Sha256, &from_parts).unwrap(), Some(entry));
        // A cut leaf is an error, a leaf of another kind is not a record.
        assert!(EvidenceEntry::from_leaf(Suite::Ed25519Sha256, &from_parts[..from_parts.len() - 1]).is_err());
        assert_eq!(EvidenceEntry::from_leaf(Suite::Ed25519Sha256, &cairn_types::log::encode_module_leaf("x", 1, b"p")).unwrap(), None);
    }
}

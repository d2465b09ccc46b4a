//! Evidence receipts and their offline verification.
//!
//! A receipt proves that a record is leaf `leaf_index` of the log whose root a quorum of
//! validators signed. Two equivalent forms: JSON ([`Receipt`]) and C2SP `tlog-proof@v1` text,
//! whose `extra` line carries the leaf bytes. [`verify_receipt`] accepts either; the checks
//! every receipt shares are `cairn_types::receipt::verify_in_log`.

use cairn_crypto::Hash;
use cairn_note::TlogProof;
use cairn_types::genesis::TrustFile;
use cairn_types::hexfmt;
use cairn_types::receipt::{VerifyError, verify_in_log};
use serde::{Deserialize, Serialize};

use crate::wire::{EvidenceEntry, EvidenceView};

pub const RECEIPT_FORMAT: &str = "cairn-receipt-v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub format: String,
    pub chain_id: String,
    /// The record, for people; the verifier checks it against `leaf`.
    pub record: EvidenceView,
    pub leaf_index: u64,
    /// The leaf's canonical bytes (hex).
    #[serde(with = "hexfmt::bytes")]
    pub leaf: Vec<u8>,
    pub tree_size: u64,
    #[serde(with = "hexfmt::hashes")]
    pub inclusion_proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl Receipt {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("receipt serialises")
    }

    pub fn to_tlog_proof(&self) -> TlogProof {
        TlogProof { extra: Some(self.leaf.clone()), index: self.leaf_index, proof: self.inclusion_proof.clone(), checkpoint: self.checkpoint.clone() }
    }
}

/// What a valid receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedReceipt {
    pub record: EvidenceView,
    pub leaf_index: u64,
    pub tree_size: u64,
    /// The signed log root.
    pub root: Hash,
    /// Note key names of the validators whose signatures verified.
    pub signers: Vec<String>,
    /// Whether a file was checked against the recorded digest.
    pub file_checked: bool,
}

/// Verifies a receipt (JSON or tlog-proof text) against a trust file, optionally with the file.
pub fn verify_receipt(text: &str, trust: &TrustFile, file: Option<&[u8]>) -> Result<VerifiedReceipt, VerifyError> {
    let suite = trust.suite;
    let (leaf, index, tree_size, proof, note, claimed_record) = if text.starts_with("c2sp.org/tlog-proof@v1") {
        let p = TlogProof::parse(text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        let leaf = p.extra.ok_or_else(|| VerifyError::Malformed("tlog proof has no extra line with the leaf".into()))?;
        (leaf, p.index, None, p.proof, p.checkpoint, None)
    } else {
        cairn_types::strict_json::check(text.as_bytes()).map_err(VerifyError::Malformed)?;
        let r: Receipt = serde_json::from_str(text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
        if r.format != RECEIPT_FORMAT {
            return Err(VerifyError::Malformed(format!("format {:?} is not {RECEIPT_FORMAT}", r.format)));
        }
        if r.chain_id != trust.chain_id {
            return Err(VerifyError::WrongChain { got: r.chain_id, want: trust.chain_id.clone() });
        }
        (r.leaf, r.leaf_index, Some(r.tree_size), r.inclusion_proof, r.checkpoint, Some(r.record))
    };

    // 1. The record: decode the logged leaf; the receipt's readable record must be exactly it.
    let entry = EvidenceEntry::from_leaf(suite, &leaf).map_err(|e| VerifyError::BadLeaf(e.to_string()))?;
    let Some(entry) = entry else {
        return Err(VerifyError::BadLeaf("the leaf is not an evidence record".into()));
    };
    let record = entry.view();
    if claimed_record.is_some_and(|c| c != record) {
        return Err(VerifyError::RecordMismatch);
    }

    // 2. The file, when given.
    if let Some(data) = file {
        let got = entry.record.digest_alg.digest(data);
        if got != entry.record.digest {
            return Err(VerifyError::FileDigestMismatch { alg: entry.record.digest_alg.name(), got: hex::encode(got), want: hex::encode(entry.record.digest) });
        }
        if data.len() as u64 != entry.record.size {
            return Err(VerifyError::FileSizeMismatch { got: data.len() as u64, want: entry.record.size });
        }
    }

    // 3. The checkpoint (right origin, a quorum's signatures) and the leaf's inclusion under it.
    let (checkpoint, signers) = verify_in_log(trust, &note, &leaf, index, tree_size, &proof)?;

    Ok(VerifiedReceipt { record, leaf_index: index, tree_size: checkpoint.size, root: checkpoint.root, signers, file_checked: file.is_some() })
}

//! Receipts and their offline verification: what every receipt checks (the checkpoint's origin
//! and quorum, the leaf's inclusion under it: [`verify_in_log`]), and the receipt of a module's
//! own leaf ([`LeafReceipt`]). A module's receipts with more to check (evidence's, with the
//! record and the file) are the module's, built on these.

use cairn_crypto::Hash;
use cairn_merkle::{leaf_hash, verify_inclusion};
use cairn_note::{Checkpoint, SignedNote};
use serde::{Deserialize, Serialize};

use crate::genesis::TrustFile;
use crate::hexfmt;

/// Why a receipt is not valid. Each message is shown to the user after "INVALID: ".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum VerifyError {
    #[error("receipt is malformed: {0}")]
    Malformed(String),
    #[error("receipt is for chain {got:?}, the trust file is for {want:?}")]
    WrongChain { got: String, want: String },
    #[error("the leaf bytes do not decode: {0}")]
    BadLeaf(String),
    #[error("the receipt's record does not match the logged leaf")]
    RecordMismatch,
    #[error("the file's {alg} digest {got} differs from the recorded {want}")]
    FileDigestMismatch { alg: &'static str, got: String, want: String },
    #[error("the file is {got} bytes long, the record says {want}")]
    FileSizeMismatch { got: u64, want: u64 },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("checkpoint origin {got:?} is not this chain's {want:?}")]
    WrongOrigin { got: String, want: String },
    #[error("checkpoint signatures: {0}")]
    Signatures(String),
    #[error("receipt says tree size {receipt}, its checkpoint says {checkpoint}")]
    TreeSizeMismatch { receipt: u64, checkpoint: u64 },
    #[error("inclusion proof does not lead to the signed root: {0}")]
    Inclusion(String),
}

/// Why a receipt's checkpoint is not one the trust file accepts (shared by receipts and state
/// receipts, each with its own error type).
#[derive(Debug, Clone)]
pub(crate) enum CheckpointFailure {
    Parse(String),
    WrongOrigin { got: String, want: String },
    Signatures(String),
}

/// A signed checkpoint note with this chain's origin and a quorum of the trust file's
/// signatures: the checkpoint, and the key names of the validators whose signatures verified.
pub(crate) fn verify_checkpoint(note: &str, trust: &TrustFile) -> Result<(Checkpoint, Vec<String>), CheckpointFailure> {
    let note = SignedNote::parse(note).map_err(|e| CheckpointFailure::Parse(e.to_string()))?;
    let checkpoint = Checkpoint::parse(&note.text).map_err(|e| CheckpointFailure::Parse(e.to_string()))?;
    if checkpoint.origin != trust.origin {
        return Err(CheckpointFailure::WrongOrigin { got: checkpoint.origin, want: trust.origin.clone() });
    }
    let verifiers = trust.verifiers().map_err(|e| CheckpointFailure::Signatures(e.to_string()))?;
    let signers = note.verify_quorum(&verifiers, trust.quorum).map_err(|e| CheckpointFailure::Signatures(e.to_string()))?;
    Ok((checkpoint, signers))
}

impl From<CheckpointFailure> for VerifyError {
    fn from(f: CheckpointFailure) -> Self {
        match f {
            CheckpointFailure::Parse(e) => VerifyError::Checkpoint(e),
            CheckpointFailure::WrongOrigin { got, want } => VerifyError::WrongOrigin { got, want },
            CheckpointFailure::Signatures(e) => VerifyError::Signatures(e),
        }
    }
}

/// A leaf is in the log a quorum signed: the checkpoint note has this chain's origin and a
/// quorum of signatures, the receipt's tree size (if it states one) is the checkpoint's, and the
/// inclusion proof leads from the leaf to the signed root. Answers the checkpoint and signers.
pub fn verify_in_log(
    trust: &TrustFile,
    note: &str,
    leaf: &[u8],
    index: u64,
    tree_size: Option<u64>,
    proof: &[Hash],
) -> Result<(Checkpoint, Vec<String>), VerifyError> {
    let suite = trust.suite;
    let (checkpoint, signers) = verify_checkpoint(note, trust)?;
    if let Some(size) = tree_size
        && size != checkpoint.size
    {
        return Err(VerifyError::TreeSizeMismatch { receipt: size, checkpoint: checkpoint.size });
    }
    verify_inclusion(suite, index, checkpoint.size, &leaf_hash(suite, leaf), proof, &checkpoint.root).map_err(|e| VerifyError::Inclusion(e.to_string()))?;
    Ok((checkpoint, signers))
}

pub const LEAF_RECEIPT_FORMAT: &str = "cairn-leaf-receipt-v1";

/// A receipt for a module's own leaf (a version 2 envelope): proves that module `module`
/// logged this leaf of `kind` at `leaf_index`, under a checkpoint a quorum signed. A verifier
/// that does not know the module checks everything but the payload's meaning.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LeafReceipt {
    pub format: String,
    pub chain_id: String,
    pub module: String,
    pub kind: u8,
    pub leaf_index: u64,
    #[serde(with = "hexfmt::bytes")]
    pub leaf: Vec<u8>,
    pub tree_size: u64,
    #[serde(with = "hexfmt::hashes")]
    pub inclusion_proof: Vec<Hash>,
    pub checkpoint: String,
}

impl LeafReceipt {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("receipt serialises")
    }
}

/// What a valid leaf receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedLeaf {
    pub module: String,
    pub kind: u8,
    pub payload: Vec<u8>,
    pub leaf_index: u64,
    pub tree_size: u64,
    pub root: Hash,
    pub signers: Vec<String>,
}

/// Verifies a leaf receipt (JSON) against a trust file.
pub fn verify_leaf_receipt(text: &str, trust: &TrustFile) -> Result<VerifiedLeaf, VerifyError> {
    crate::strict_json::check(text.as_bytes()).map_err(VerifyError::Malformed)?;
    let r: LeafReceipt = serde_json::from_str(text).map_err(|e| VerifyError::Malformed(e.to_string()))?;
    if r.format != LEAF_RECEIPT_FORMAT {
        return Err(VerifyError::Malformed(format!("format {:?} is not {LEAF_RECEIPT_FORMAT}", r.format)));
    }
    if r.chain_id != trust.chain_id {
        return Err(VerifyError::WrongChain { got: r.chain_id, want: trust.chain_id.clone() });
    }
    // 1. The leaf: a version 2 envelope naming the receipt's module and kind.
    let (module, kind, payload) = crate::log::decode_envelope(&r.leaf).map_err(|e| VerifyError::BadLeaf(e.to_string()))?;
    if module != r.module || kind != r.kind {
        return Err(VerifyError::RecordMismatch);
    }
    // 2. The checkpoint (right origin, a quorum's signatures) and the leaf's inclusion under it.
    let (checkpoint, signers) = verify_in_log(trust, &r.checkpoint, &r.leaf, r.leaf_index, Some(r.tree_size), &r.inclusion_proof)?;
    Ok(VerifiedLeaf {
        module: module.to_string(),
        kind,
        payload: payload.to_vec(),
        leaf_index: r.leaf_index,
        tree_size: checkpoint.size,
        root: checkpoint.root,
        signers,
    })
}

//! State receipts (`cairn-state-proof-v1`) and their offline verification.
//!
//! A state receipt proves what one state key held after block `height`, or that it held
//! nothing: a state proof against the block header's `state_root`, the header's block leaf with
//! its RFC 9162 inclusion proof, and the checkpoint a quorum signed. The trust file is all a
//! verifier needs (`docs/encoding.md`, "State receipts").

use cairn_crypto::Hash;
use cairn_merkle::{leaf_hash, verify_inclusion};
use cairn_state::{StateProof, key_hash, state_key};
use serde::{Deserialize, Serialize};

use crate::block::BlockHeader;
use crate::genesis::TrustFile;
use crate::hexfmt;
use crate::log::encode_block_leaf;
use crate::receipt::{CheckpointFailure, verify_checkpoint};

pub const STATE_RECEIPT_FORMAT: &str = "cairn-state-proof-v1";

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StateReceipt {
    pub format: String,
    pub chain_id: String,
    pub module: String,
    /// The module's key (hex), before the framework's namespacing.
    #[serde(with = "hexfmt::bytes")]
    pub key: Vec<u8>,
    /// The value (hex), or null when the key had none.
    #[serde(with = "hexfmt::opt_bytes")]
    pub value: Option<Vec<u8>>,
    /// The module's readable form of the value, checked against it by verifiers that know the module.
    pub view: serde_json::Value,
    pub height: u64,
    /// The block header (v2) whose state root the proof leads to.
    #[serde(with = "hexfmt::bytes")]
    pub header: Vec<u8>,
    /// The state proof bytes.
    #[serde(with = "hexfmt::bytes")]
    pub proof: Vec<u8>,
    /// Index of the header's block leaf in the log.
    pub leaf_index: u64,
    pub tree_size: u64,
    #[serde(with = "hexfmt::hashes")]
    pub inclusion_proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

impl StateReceipt {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).expect("state receipt serialises")
    }
}

/// Why a state receipt is not valid. Each message is shown after "INVALID: ".
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum StateVerifyError {
    #[error("state proof is malformed: {0}")]
    Malformed(String),
    #[error("state proof is for chain {got:?}, the trust file is for {want:?}")]
    WrongChain { got: String, want: String },
    #[error("the block header: {0}")]
    BadHeader(String),
    #[error("the block leaf index {got} is not the header's log size {want}")]
    LeafIndex { got: u64, want: u64 },
    #[error("checkpoint: {0}")]
    Checkpoint(String),
    #[error("checkpoint origin {got:?} is not this chain's {want:?}")]
    WrongOrigin { got: String, want: String },
    #[error("checkpoint signatures: {0}")]
    Signatures(String),
    #[error("receipt says tree size {receipt}, its checkpoint says {checkpoint}")]
    TreeSizeMismatch { receipt: u64, checkpoint: u64 },
    #[error("inclusion proof of the block does not lead to the signed root: {0}")]
    Inclusion(String),
    #[error("{0}")]
    State(#[from] cairn_state::ProofError),
    #[error("the readable view does not match the proven value")]
    ViewMismatch,
}

impl From<CheckpointFailure> for StateVerifyError {
    fn from(f: CheckpointFailure) -> Self {
        match f {
            CheckpointFailure::Parse(e) => StateVerifyError::Checkpoint(e),
            CheckpointFailure::WrongOrigin { got, want } => StateVerifyError::WrongOrigin { got, want },
            CheckpointFailure::Signatures(e) => StateVerifyError::Signatures(e),
        }
    }
}

/// What a valid state receipt proves.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct VerifiedState {
    pub module: String,
    pub key: Vec<u8>,
    pub value: Option<Vec<u8>>,
    pub view: serde_json::Value,
    pub height: u64,
    pub time_ms: u64,
    pub state_root: Hash,
    pub tree_size: u64,
    pub signers: Vec<String>,
    /// Whether the module is one this verifier knows, so the view was checked.
    pub view_checked: bool,
}

/// The readable view a module gives one of its state values (`Module::state_view`, and the
/// same function for offline verifiers): `None` for a module the verifier does not know.
pub type StateViews<'a> = &'a dyn Fn(&str, &[u8], Option<&[u8]>) -> Option<Result<serde_json::Value, String>>;

/// Knows no module: views are not checked.
pub fn no_views(_: &str, _: &[u8], _: Option<&[u8]>) -> Option<Result<serde_json::Value, String>> {
    None
}

/// Verifies a state receipt (JSON) against a trust file; `views` checks the readable view of
/// the modules the verifier knows.
pub fn verify_state_receipt(text: &str, trust: &TrustFile, views: StateViews<'_>) -> Result<VerifiedState, StateVerifyError> {
    verify_with(text, trust, views, &mut |note| verify_checkpoint(note, trust))
}

/// Checkpoints one batch verification keeps (a batch from one node shares a few).
const BATCH_CHECKPOINTS: usize = 64;

/// Verifies many state receipts against one trust file, as [`verify_state_receipt`] does each
/// one, checking each distinct checkpoint note's signatures once (a verifier of a thousand
/// entries of one registry, fetched together, holds a handful of checkpoints).
pub fn verify_state_receipts(texts: &[&str], trust: &TrustFile, views: StateViews<'_>) -> Vec<Result<VerifiedState, StateVerifyError>> {
    type Verified = Result<(cairn_note::Checkpoint, Vec<String>), CheckpointFailure>;
    let mut seen: std::collections::BTreeMap<String, Verified> = std::collections::BTreeMap::new();
    texts
        .iter()
        .map(|text| {
            verify_with(text, trust, views, &mut |note| {
                if let Some(v) = seen.get(note) {
                    return v.clone();
                }
                let v = verify_checkpoint(note, trust);
                if seen.len() < BATCH_CHECKPOINTS {
                    seen.insert(note.to_string(), v.clone());
                }
                v
            })
        })
        .collect()
}

type CheckpointCheck<'a> = dyn FnMut(&str) -> Result<(cairn_note::Checkpoint, Vec<String>), CheckpointFailure> + 'a;

fn verify_with(text: &str, trust: &TrustFile, views: StateViews<'_>, checkpoint_check: &mut CheckpointCheck<'_>) -> Result<VerifiedState, StateVerifyError> {
    let suite = trust.suite;
    crate::strict_json::check(text.as_bytes()).map_err(StateVerifyError::Malformed)?;
    let r: StateReceipt = serde_json::from_str(text).map_err(|e| StateVerifyError::Malformed(e.to_string()))?;
    if r.format != STATE_RECEIPT_FORMAT {
        return Err(StateVerifyError::Malformed(format!("format {:?} is not {STATE_RECEIPT_FORMAT}", r.format)));
    }
    if r.chain_id != trust.chain_id {
        return Err(StateVerifyError::WrongChain { got: r.chain_id, want: trust.chain_id.clone() });
    }

    // 1. The header: this chain's, version 2, at the stated height; its block leaf's index.
    let header = BlockHeader::decode(&r.header).map_err(|e| StateVerifyError::BadHeader(e.to_string()))?;
    let Some(state_root) = header.state_root else { return Err(StateVerifyError::BadHeader("version 1 headers carry no state root".into())) };
    if header.chain_id != trust.chain_id || header.height != r.height {
        return Err(StateVerifyError::BadHeader(format!(
            "header is block {} of {:?}, the receipt says {} of {:?}",
            header.height, header.chain_id, r.height, trust.chain_id
        )));
    }
    if r.leaf_index != header.log_size {
        return Err(StateVerifyError::LeafIndex { got: r.leaf_index, want: header.log_size });
    }

    // 2. The checkpoint: right origin, signed by a quorum of the trust file's validators.
    let (checkpoint, signers) = checkpoint_check(&r.checkpoint)?;
    if r.tree_size != checkpoint.size {
        return Err(StateVerifyError::TreeSizeMismatch { receipt: r.tree_size, checkpoint: checkpoint.size });
    }

    // 3. The block leaf is in the signed log.
    let leaf = encode_block_leaf(&header);
    verify_inclusion(suite, r.leaf_index, checkpoint.size, &leaf_hash(suite, &leaf), &r.inclusion_proof, &checkpoint.root)
        .map_err(|e| StateVerifyError::Inclusion(e.to_string()))?;

    // 4. The value (or its absence) is in the block's state.
    let proof = StateProof::decode(&r.proof)?;
    let kh = key_hash(suite, &state_key(&r.module, &r.key));
    cairn_state::verify(suite, &state_root, &kh, r.value.as_deref(), &proof)?;

    // 5. The readable view says what the value says (for modules this verifier knows).
    let view_checked = match views(&r.module, &r.key, r.value.as_deref()) {
        None => false,
        Some(Ok(view)) if view == r.view => true,
        Some(_) => return Err(StateVerifyError::ViewMismatch),
    };
    Ok(VerifiedState {
        module: r.module,
        key: r.key,
        value: r.value,
        view: r.view,
        height: header.height,
        time_ms: header.time_ms,
        state_root,
        tree_size: checkpoint.size,
        signers,
        view_checked,
    })
}

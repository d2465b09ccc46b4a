//! Finality proofs: the consensus finalization certificate of a block, with the block headers
//! that link it to a checkpoint. A second proof beside the checkpoint's cosignatures, made by
//! other keys (the validators' vote keys: Ed25519 consensus keys, or SM2 vote keys on `sm2-sm3`
//! chains that name them) through another protocol.
//!
//! Format `cairn-finality-v1` (JSON): `blocks` from the block whose header commits to the
//! checkpoint's log (size and root) up to the certified block, each with its consensus parent
//! digest, encoded header and body hash; `certificate` is Commonware's encoded finalization
//! (ed25519, or Cairn's SM2 scheme, docs/encoding.md). Block digest = `H(parent ‖ height ‖
//! header hash ‖ body hash)`, `H` SHA-256, or SM3 where votes are SM2.
//!
//! A header commits to the log before its block leaf; a checkpoint signed after a block with
//! a block leaf covers one leaf more. `log_extension` then carries the RFC 9162 consistency
//! proof from the header's log to the checkpoint's size, so the certificate still backs it.

use cairn_crypto::Hash;
use cairn_types::block::BlockHeader;
use cairn_types::genesis::TrustFile;
use serde::{Deserialize, Serialize};

use crate::ledger::CertificateProof;

pub const FINALITY_FORMAT: &str = "cairn-finality-v1";

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalityBlock {
    pub height: u64,
    /// Consensus digest of the parent block (hex).
    pub parent_digest: String,
    /// Canonical block header (hex).
    pub header: String,
    /// Hash of the whole block (hex): SHA-256, or SM3 on chains that vote in SM2.
    pub body_hash: String,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FinalityProof {
    pub format: String,
    pub chain_id: String,
    pub blocks: Vec<FinalityBlock>,
    /// Finalization certificate (hex).
    pub certificate: String,
    /// From the first header's log to the checkpoint's (its block leaf added).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub log_extension: Option<LogExtension>,
}

#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LogExtension {
    pub tree_size: u64,
    #[serde(with = "cairn_types::hexfmt::hashes")]
    pub consistency_proof: Vec<Hash>,
}

impl FinalityProof {
    pub fn from_certificate(chain_id: &str, p: &CertificateProof) -> Self {
        FinalityProof {
            format: FINALITY_FORMAT.into(),
            chain_id: chain_id.into(),
            blocks: p
                .chain
                .iter()
                .map(|l| FinalityBlock {
                    height: l.height,
                    parent_digest: hex::encode(l.parent),
                    header: hex::encode(l.header.encode()),
                    body_hash: hex::encode(l.body_hash),
                })
                .collect(),
            certificate: hex::encode(&p.certificate),
            log_extension: p.extension.clone().map(|(tree_size, consistency_proof)| LogExtension { tree_size, consistency_proof }),
        }
    }
}

/// What a valid finality proof shows.
#[derive(Debug)]
pub struct Finality {
    /// The certified block.
    pub height: u64,
    /// Whose signatures certified it: "SM2 vote keys" or "Ed25519 consensus keys".
    pub signed_with: &'static str,
    pub view: u64,
    /// The first block's log: the checkpoint it backs.
    pub log_size: u64,
    pub log_root: Hash,
    /// A longer log the proof also backs: (tree size, consistency proof from `log_size`).
    pub extension: Option<(u64, Vec<Hash>)>,
}

impl Finality {
    /// Whether the certified log is the checkpoint's (`size`, `root`), or extends to it by the
    /// proof's consistency proof.
    pub fn backs(&self, suite: cairn_crypto::Suite, size: u64, root: &Hash) -> bool {
        if self.log_size == size {
            return self.log_root == *root;
        }
        match &self.extension {
            Some((ext_size, proof)) if *ext_size == size => cairn_merkle::verify_consistency(suite, self.log_size, size, &self.log_root, root, proof).is_ok(),
            _ => false,
        }
    }
}

fn hex32(s: &str, what: &str) -> Result<[u8; 32], String> {
    hex::decode(s).ok().and_then(|b| b.try_into().ok()).ok_or_else(|| format!("{what} is not 32 bytes of hex"))
}

/// The validators' vote keys from the trust file: SM2 vote keys where it lists them (every
/// validator or none), else the Ed25519 consensus keys.
fn committee(trust: &TrustFile) -> Result<cairn_consensus::certificate::Committee, String> {
    use cairn_consensus::certificate::Committee;
    let mut ids = Vec::with_capacity(trust.validators.len());
    for v in &trust.validators {
        let Some(k) = v.consensus_key.as_deref() else {
            return Err(format!("trust file has no consensus key for {} (a single-node chain has no certificates)", v.name));
        };
        ids.push(hex32(k, "consensus key")?);
    }
    let with_vote_keys = trust.validators.iter().filter(|v| v.vote_key.is_some()).count();
    if with_vote_keys == 0 {
        return Ok(Committee::Ed25519(ids));
    }
    if with_vote_keys != trust.validators.len() {
        return Err("trust file lists vote keys for some validators only".into());
    }
    let mut pairs = Vec::with_capacity(ids.len());
    for (id, v) in ids.into_iter().zip(&trust.validators) {
        let key = cairn_crypto::PublicKey::from_hex(cairn_crypto::Suite::Sm2Sm3, v.vote_key.as_deref().expect("counted"))
            .map_err(|e| format!("vote key of {}: {e}", v.name))?;
        pairs.push((id, key));
    }
    Ok(Committee::Sm2(pairs))
}

/// Checks a finality proof against the trust file's vote keys.
pub fn verify(proof_json: &str, trust: &TrustFile) -> Result<Finality, String> {
    let p: FinalityProof = serde_json::from_str(proof_json).map_err(|e| format!("not a finality proof: {e}"))?;
    if p.format != FINALITY_FORMAT {
        return Err(format!("format {:?} is not {FINALITY_FORMAT}", p.format));
    }
    if p.chain_id != trust.chain_id {
        return Err(format!("proof is for chain {}, the trust file for {}", p.chain_id, trust.chain_id));
    }
    let committee = committee(trust)?;
    let (block_hash, signed_with) = match committee {
        cairn_consensus::certificate::Committee::Ed25519(_) => (cairn_consensus::BlockHash::Sha256, "Ed25519 consensus keys"),
        cairn_consensus::certificate::Committee::Sm2(_) => (cairn_consensus::BlockHash::Sm3, "SM2 vote keys"),
    };
    if p.blocks.is_empty() {
        return Err("proof names no block".into());
    }
    let mut prev: Option<([u8; 32], BlockHeader)> = None;
    for b in &p.blocks {
        let header = BlockHeader::decode(&hex::decode(&b.header).map_err(|_| "header is not hex".to_string())?).map_err(|e| format!("header: {e}"))?;
        if header.height != b.height || header.chain_id != trust.chain_id {
            return Err(format!("header of block {} names another height or chain", b.height));
        }
        let parent = hex32(&b.parent_digest, "parent digest")?;
        if let Some((prev_digest, prev_header)) = &prev
            && (parent != *prev_digest || header.parent != prev_header.hash(trust.suite) || header.height != prev_header.height + 1)
        {
            return Err(format!("block {} does not extend block {}", b.height, prev_header.height));
        }
        let digest = cairn_consensus::block_digest(block_hash, &parent, b.height, &header.hash(trust.suite), &hex32(&b.body_hash, "body hash")?);
        prev = Some((digest, header));
    }
    let (last_digest, last) = prev.expect("non-empty");
    let certificate = hex::decode(&p.certificate).map_err(|_| "certificate is not hex".to_string())?;
    let f = cairn_consensus::certificate::verify(&trust.chain_id, &committee, &certificate).map_err(|e| e.to_string())?;
    if f.digest != last_digest {
        return Err(format!("the certificate finalizes another block than block {}", last.height));
    }
    let first = BlockHeader::decode(&hex::decode(&p.blocks[0].header).expect("checked")).expect("checked");
    let extension = p.log_extension.map(|e| (e.tree_size, e.consistency_proof));
    Ok(Finality { height: last.height, signed_with, view: f.view, log_size: first.log_size, log_root: first.log_root, extension })
}

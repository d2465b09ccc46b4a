//! The evidence module: deposit content digests (one or many records per signature) and find
//! them by id, digest or reference.
//!
//! A record is found by id through its transaction (`RecordId` = tx id + index). Indexes:
//! `evidence.digest`: digest[32] leaf[8] → ∅ · `evidence.ref`: u16 len ref leaf[8] → ∅. Digest and reference keys end in the leaf index,
//! so a prefix scan returns every deposit of the same digest in log order.

use cairn_types::evidence::{DepositArgs, EvidenceEntry, METHOD_DEPOSIT, MODULE};
use cairn_types::genesis::Genesis;
use cairn_types::log::LogEntry;
use cairn_types::tx::{Call, Transaction};

use crate::{ExecContext, IndexEntry, Module, TxEffects, TxError};

pub struct EvidenceModule;

pub const INDEX_DIGEST: &str = "evidence.digest";
pub const INDEX_REFERENCE: &str = "evidence.ref";

pub fn reference_prefix(reference: &str) -> Vec<u8> {
    let len = u16::try_from(reference.len()).unwrap_or(u16::MAX);
    [len.to_be_bytes().as_slice(), reference.as_bytes()].concat()
}

/// The leaf index at the end of a digest or reference key.
pub fn leaf_of_key(key: &[u8]) -> Option<u64> {
    key.len().checked_sub(8).map(|at| u64::from_be_bytes(key[at..].try_into().unwrap()))
}

impl Module for EvidenceModule {
    fn name(&self) -> &'static str {
        MODULE
    }

    fn indexes(&self) -> &'static [&'static str] {
        &[INDEX_DIGEST, INDEX_REFERENCE]
    }

    fn check(&self, call: &Call, genesis: &Genesis) -> Result<(), TxError> {
        if call.method != METHOD_DEPOSIT {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: call.method.clone() });
        }
        let args = DepositArgs::decode(&call.args).map_err(|e| match e {
            cairn_types::codec::DecodeError::TooLong { field: "records", len, max } => TxError::TooManyRecords { count: len, max },
            e => TxError::InvalidArgs(e.to_string()),
        })?;
        let max = genesis.params.max_records_per_tx as usize;
        if args.records.len() > max {
            return Err(TxError::TooManyRecords { count: args.records.len(), max });
        }
        Ok(())
    }

    fn execute(&self, ctx: &ExecContext<'_>, tx: &Transaction, out: &mut TxEffects) -> Result<(), TxError> {
        let args = DepositArgs::decode(&tx.body.call.args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        out.leaves.reserve(args.records.len());
        out.index.reserve(args.records.len() * 3);
        for (i, record) in args.records.into_iter().enumerate() {
            let leaf_index = ctx.first_leaf + out.leaves.len() as u64;
            let leaf_be = leaf_index.to_be_bytes();
            let entry = EvidenceEntry {
                tx_id: tx.id,
                index_in_tx: i as u32,
                height: ctx.height,
                time_ms: ctx.time_ms,
                organisation: ctx.organisation.to_string(),
                submitter: tx.body.signer.clone(),
                record,
            };
            out.index.push(IndexEntry { index: INDEX_DIGEST, key: [entry.record.digest.as_slice(), &leaf_be].concat(), value: Vec::new() });
            if let Some(r) = &entry.record.reference {
                out.index.push(IndexEntry { index: INDEX_REFERENCE, key: [reference_prefix(r).as_slice(), &leaf_be].concat(), value: Vec::new() });
            }
            out.leaves.push(LogEntry::Evidence(entry).encode());
        }
        Ok(())
    }

    fn args_from_json(&self, method: &str, args: serde_json::Value) -> Result<Vec<u8>, TxError> {
        if method != METHOD_DEPOSIT {
            return Err(TxError::UnknownMethod { module: MODULE.into(), method: method.into() });
        }
        let args: DepositArgs = serde_json::from_value(args).map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        for r in &args.records {
            r.validate().map_err(|e| TxError::InvalidArgs(e.to_string()))?;
        }
        Ok(args.encode())
    }
}

//! The ledger as modules' queries see it ([`cairn_module::Host`]): durable blocks only, every
//! node-side failure turned into [`HostError::Internal`] (logged in full by the API layer,
//! answered without details).

use cairn_crypto::Hash;
use cairn_module::{Host, HostError, LeafProof, TxLeaves};
use cairn_types::genesis::Genesis;
use cairn_types::state_receipt::StateReceipt;

use crate::error::Error;
use crate::ledger::{Ledger, StateQueryError};

fn node_error(e: Error) -> HostError {
    match e {
        Error::NotYetSigned(_) => HostError::NotYetSigned,
        e => HostError::Internal(e.report().to_string()),
    }
}

impl From<StateQueryError> for HostError {
    fn from(e: StateQueryError) -> Self {
        match e {
            StateQueryError::NoStateYet(_) => HostError::NoState(e.to_string()),
            e => HostError::BadQuery(e.to_string()),
        }
    }
}

impl Host for Ledger {
    fn genesis(&self) -> &Genesis {
        Ledger::genesis(self)
    }

    fn height(&self) -> u64 {
        Ledger::height(self)
    }

    fn log_size(&self) -> u64 {
        Ledger::log_size(self)
    }

    fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>, HostError> {
        if index >= Ledger::log_size(self) {
            return Ok(None);
        }
        self.store().leaf(index).map_err(|e| node_error(e.into()))
    }

    fn tx_leaves(&self, id: &Hash) -> Result<Option<TxLeaves>, HostError> {
        let loc = self.store().tx(id).map_err(|e| node_error(e.into()))?;
        Ok(loc.map(|l| TxLeaves { height: l.height, first_leaf: l.first_leaf, leaf_count: l.leaf_count }))
    }

    fn index_prefix(&self, index: &str, prefix: &[u8], limit: usize) -> Result<Vec<cairn_module::host::IndexHit>, HostError> {
        self.store().index_prefix(index, prefix, limit).map_err(|e| node_error(e.into()))
    }

    fn state_value(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<Option<Vec<u8>>, HostError> {
        self.state_value(module, key, height).map_err(node_error)?.map_err(HostError::from)
    }

    fn state_receipt(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<StateReceipt, HostError> {
        Ledger::state_receipt(self, module, key, height).map_err(node_error)?.map_err(HostError::from)
    }

    fn leaf_proof(&self, index: u64) -> Result<LeafProof, HostError> {
        Ledger::leaf_proof(self, index).map_err(node_error)?.ok_or_else(|| HostError::BadQuery(format!("leaf {index} is not in the durable log")))
    }
}

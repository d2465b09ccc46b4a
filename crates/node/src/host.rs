//! The ledger as modules' queries see it ([`cairn_module::Host`]): durable blocks only, every
//! node-side failure turned into [`HostError::Internal`] (logged in full by the API layer,
//! answered without details).

use cairn_crypto::Hash;
use cairn_module::{Agent, Host, HostError, LeafProof, Refusal, TxLeaves, TxState};
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

    fn index_range(
        &self,
        index: &str,
        lower: &[u8],
        upper: Option<&[u8]>,
        reverse: bool,
        limit: usize,
    ) -> Result<Vec<cairn_module::host::IndexHit>, HostError> {
        self.store().index_range(index, lower, upper, reverse, limit).map_err(|e| node_error(e.into()))
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

    fn agent(&self) -> Option<Agent> {
        let key = self.agent.as_ref()?.public_key();
        // Its organisation as admission sees it now (governance may have moved or removed it).
        let member = self.executor().members().get(key.as_bytes()).cloned();
        let organisation = member.filter(|m| m.status == cairn_exec::MemberStatus::Active).map(|m| m.organisation)?;
        Some(Agent { organisation, key: key.to_hex() })
    }

    fn submit_as_agent(&self, module: &str, method: &str, args: Vec<u8>) -> Result<cairn_crypto::Hash, Refusal> {
        let Some(key) = self.agent.as_ref() else {
            return Err(Refusal { status: 403, code: "no-agent".into(), detail: "this node has no agent key (agent_key in its config)".into() });
        };
        let body = cairn_types::tx::TxBody {
            chain_id: self.genesis().chain_id.clone(),
            signer: key.public_key(),
            nonce: rand::random(),
            expires_at_ms: crate::ledger::now_ms() + AGENT_TX_TTL_MS.min(self.genesis().params.max_tx_ttl_ms),
            call: cairn_types::tx::Call { module: module.into(), method: method.into(), args },
        };
        let tx = body.sign(key);
        let verdict = self.submit_own(&[tx.encode()]).pop().expect("one verdict per transaction");
        match verdict {
            Ok(admitted) => Ok(admitted.id),
            Err(e) => Err(Refusal { status: crate::api::submit_error_status(&e).as_u16(), code: e.code().to_string(), detail: e.to_string() }),
        }
    }

    fn sign_as_agent(&self, hash_data: &[u8; 64]) -> Result<Vec<u8>, Refusal> {
        let Some(key) = self.agent.as_ref() else {
            return Err(Refusal { status: 403, code: "no-agent".into(), detail: "this node has no agent key (agent_key in its config)".into() });
        };
        Ok(key.sign_raw(hash_data))
    }

    fn member_organisation(&self, key: &[u8]) -> Option<String> {
        let member = self.executor().members().get(key).cloned();
        member.filter(|m| m.status == cairn_exec::MemberStatus::Active).map(|m| m.organisation)
    }

    fn public_base(&self, host_header: Option<&str>) -> String {
        if let Some(url) = self.config.public_url.as_deref() {
            return url.trim_end_matches('/').to_string();
        }
        let scheme = if self.config.tls.is_some() { "https" } else { "http" };
        // A Host header is a host and an optional port; anything else falls back to the
        // listen address.
        let host = host_header.filter(|h| !h.is_empty() && h.len() <= 255 && h.bytes().all(|b| b.is_ascii_alphanumeric() || b".-:[]".contains(&b)));
        format!("{scheme}://{}", host.map(str::to_string).unwrap_or_else(|| self.config.listen.to_string()))
    }

    fn tx_state(&self, id: &cairn_crypto::Hash) -> TxState {
        match self.status(id) {
            crate::ledger::TxStatus::Committed(l) => TxState::Committed(TxLeaves { height: l.height, first_leaf: l.first_leaf, leaf_count: l.leaf_count }),
            crate::ledger::TxStatus::Pending => TxState::Pending,
            crate::ledger::TxStatus::Rejected(e) => TxState::Rejected { code: e.code().to_string(), detail: e.to_string() },
            crate::ledger::TxStatus::Unknown => TxState::Unknown,
        }
    }
}

/// How long an agent's transaction may wait for a block: long enough for a busy mempool,
/// short enough that a client retrying after a timeout is not double-counted for long.
const AGENT_TX_TTL_MS: u64 = 60_000;

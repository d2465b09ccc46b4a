//! What a module's queries and HTTP routes see of the node: [`Query`], the module's own
//! window onto durable state, indexes and the log, stamped with its name by the framework.
//!
//! The framework mounts a module's [`axum::Router`] at `/v1/<module>` (so its routes cannot
//! leave its namespace), merges its OpenAPI fragment into `/v1/openapi.json` (every path must
//! lie under `/v1/<module>`) and serves its console files at `/console/modules/<module>/`.
//! Errors are RFC 7807 problems ([`problem`]); a node-side failure is logged with its details
//! and answered with a generic `internal` problem, never with the details.

use std::sync::Arc;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use cairn_crypto::{Hash, Suite};
use cairn_types::genesis::Genesis;
use cairn_types::state_receipt::StateReceipt;

/// An RFC 7807 problem response (`application/problem+json`), the one error shape of the API.
pub fn problem(status: StatusCode, code: &str, detail: impl Into<String>) -> Response {
    let body = problem_body(status, code, detail);
    (status, [(header::CONTENT_TYPE, "application/problem+json")], body.to_string()).into_response()
}

/// The JSON of [`problem`], for a response that adds extension members.
pub fn problem_body(status: StatusCode, code: &str, detail: impl Into<String>) -> serde_json::Value {
    serde_json::json!({
        "type": format!("urn:cairn:problem:{code}"),
        "title": status.canonical_reason().unwrap_or("error"),
        "status": status.as_u16(),
        "code": code,
        "detail": detail.into(),
    })
}

/// One index entry: (key, value).
pub type IndexHit = (Vec<u8>, Vec<u8>);

/// Where a transaction's leaves are in the log.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TxLeaves {
    pub height: u64,
    pub first_leaf: u64,
    pub leaf_count: u32,
}

/// A durable leaf with what proves it: its inclusion in the log of the latest signed checkpoint.
#[derive(Debug, Clone)]
pub struct LeafProof {
    pub leaf_index: u64,
    pub leaf: Vec<u8>,
    pub tree_size: u64,
    pub inclusion_proof: Vec<Hash>,
    /// The signed checkpoint note, verbatim.
    pub checkpoint: String,
}

/// Why the node could not answer a module's query.
#[derive(Debug, thiserror::Error)]
pub enum HostError {
    /// The caller's mistake (a key the module cannot hold, a height in the future): 400.
    #[error("{0}")]
    BadQuery(String),
    /// Nothing proves the answer yet (no block with state at or below the height): 404.
    #[error("{0}")]
    NoState(String),
    /// Final but not yet under a quorum checkpoint: 503 with `Retry-After`.
    #[error("final but not yet covered by a checkpoint signed by a quorum; retry in a moment")]
    NotYetSigned,
    /// The node's own failure (storage, corruption). Logged in full; clients see only `internal`.
    #[error("{0}")]
    Internal(String),
}

impl HostError {
    pub fn internal(e: impl std::fmt::Display) -> Self {
        HostError::Internal(e.to_string())
    }
}

impl IntoResponse for HostError {
    fn into_response(self) -> Response {
        match self {
            HostError::BadQuery(m) => problem(StatusCode::BAD_REQUEST, "bad-query", m),
            HostError::NoState(m) => problem(StatusCode::NOT_FOUND, "no-state", m),
            HostError::NotYetSigned => {
                let mut r = problem(StatusCode::SERVICE_UNAVAILABLE, "not-yet-signed", self.to_string());
                r.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
                r
            }
            HostError::Internal(m) => internal_problem(&m),
        }
    }
}

/// A node-side failure: logged with its details, answered without them.
pub fn internal_problem(details: &str) -> Response {
    tracing::error!(error = %details, "request failed");
    problem(StatusCode::INTERNAL_SERVER_ERROR, "internal", "the node could not answer; its log says why")
}

/// The node, as the framework offers it to module queries. Implemented by the node; every
/// answer is about durable (final) blocks only.
pub trait Host: Send + Sync + 'static {
    fn genesis(&self) -> &Genesis;
    /// Height of the last durable block.
    fn height(&self) -> u64;
    /// Leaves of the log up to the last durable block.
    fn log_size(&self) -> u64;
    fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>, HostError>;
    fn tx_leaves(&self, id: &Hash) -> Result<Option<TxLeaves>, HostError>;
    /// Entries of one index whose key starts with `prefix`, in key order, at most `limit`.
    /// Only entries of durable blocks exist: the store writes an index after its block.
    fn index_prefix(&self, index: &str, prefix: &[u8], limit: usize) -> Result<Vec<IndexHit>, HostError>;
    /// Entries of one index with keys in `lower..upper` (`None`: to the end), in key order or
    /// from the last (`reverse`), at most `limit`: pages and descending orders.
    fn index_range(&self, index: &str, lower: &[u8], upper: Option<&[u8]>, reverse: bool, limit: usize) -> Result<Vec<IndexHit>, HostError>;
    /// The value of a state key after the latest block with transactions at or below `height`.
    fn state_value(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<Option<Vec<u8>>, HostError>;
    /// A state receipt (value or absence proof + block leaf + signed checkpoint).
    fn state_receipt(&self, module: &str, key: &[u8], height: Option<u64>) -> Result<StateReceipt, HostError>;
    /// A durable leaf with its inclusion proof against the latest signed checkpoint.
    fn leaf_proof(&self, index: u64) -> Result<LeafProof, HostError>;
    /// The node's agent key, if its config names one.
    fn agent(&self) -> Option<Agent>;
    /// Signs a call with the agent key and submits it as any transaction is (admission, the
    /// mempool): its id, or why the node did not take it. The module derived `args` itself, so
    /// this node skips the module's own `admission_policy` for it; peers that receive it by
    /// gossip run it, and execution checks what it always does.
    fn submit_as_agent(&self, module: &str, method: &str, args: Vec<u8>) -> Result<Hash, Refusal>;
    /// What became of a transaction.
    fn tx_state(&self, id: &Hash) -> TxState;
    /// Signs the 64 bytes of a W3C Data Integrity proof's hash data (two digests: the proof
    /// configuration's, then the document's) with the agent key. Nothing else the node signs
    /// is 64 bytes of digests (transaction messages start `CAIRN-SIG-V1`, notes are text), so
    /// this lends the key to no other purpose.
    fn sign_as_agent(&self, hash_data: &[u8; 64]) -> Result<Vec<u8>, Refusal>;
    /// The organisation of an active member key (its canonical bytes), as admission sees it
    /// now: `None` for a key that is no member, or no longer one.
    fn member_organisation(&self, key: &[u8]) -> Option<String>;
    /// The node's public base URL (`public_url` in its config; else the scheme it serves and
    /// the request's `Host`), no trailing slash: the URLs of issued credentials.
    fn public_base(&self, host_header: Option<&str>) -> String;
}

/// The node's agent: the member key (of the node's organisation) it signs transactions with
/// for the clients of a standard's binding, who cannot sign Cairn transactions themselves
/// (EPCIS 2.0 capture clients). Named by the node's config (`agent_key`); a module that signs
/// with it checks that the caller belongs to the agent's organisation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub organisation: String,
    /// The agent's public key (hex).
    pub key: String,
}

/// Why the node did not take a transaction: the status and problem code the API would answer
/// `/v1/transactions` with, and the detail.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{detail}")]
pub struct Refusal {
    pub status: u16,
    pub code: String,
    pub detail: String,
}

/// What became of a transaction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TxState {
    /// In a durable block.
    Committed(TxLeaves),
    /// Admitted, not yet in a durable block.
    Pending,
    /// Refused when its block executed (this node remembers refusals for a while).
    Rejected { code: String, detail: String },
    /// Never seen, or forgotten.
    Unknown,
}

/// One module's window onto the node: the state of its routes. Every state key and index it
/// names is its own (the framework stamps the module's name; foreign indexes are refused).
#[derive(Clone)]
pub struct Query {
    module: &'static str,
    indexes: &'static [&'static str],
    host: Arc<dyn Host>,
}

impl Query {
    /// Made by the framework for `module`, whose declared indexes are `indexes`.
    pub fn new(module: &'static str, indexes: &'static [&'static str], host: Arc<dyn Host>) -> Self {
        Query { module, indexes, host }
    }

    pub fn module(&self) -> &'static str {
        self.module
    }

    pub fn genesis(&self) -> &Genesis {
        self.host.genesis()
    }

    pub fn suite(&self) -> Suite {
        self.host.genesis().suite
    }

    pub fn height(&self) -> u64 {
        self.host.height()
    }

    pub fn log_size(&self) -> u64 {
        self.host.log_size()
    }

    pub fn leaf(&self, index: u64) -> Result<Option<Vec<u8>>, HostError> {
        self.host.leaf(index)
    }

    pub fn tx_leaves(&self, id: &Hash) -> Result<Option<TxLeaves>, HostError> {
        self.host.tx_leaves(id)
    }

    pub fn leaf_proof(&self, index: u64) -> Result<LeafProof, HostError> {
        self.host.leaf_proof(index)
    }

    /// Entries of one of this module's indexes. Panics on another module's index: that is a
    /// bug in the module, not a query.
    pub fn index_prefix(&self, index: &'static str, prefix: &[u8], limit: usize) -> Result<Vec<IndexHit>, HostError> {
        assert!(self.indexes.contains(&index), "module {} reads index {index}, which it does not declare", self.module);
        self.host.index_prefix(index, prefix, limit)
    }

    /// A key range of one of this module's indexes ([`Host::index_range`]).
    pub fn index_range(&self, index: &'static str, lower: &[u8], upper: Option<&[u8]>, reverse: bool, limit: usize) -> Result<Vec<IndexHit>, HostError> {
        assert!(self.indexes.contains(&index), "module {} reads index {index}, which it does not declare", self.module);
        self.host.index_range(index, lower, upper, reverse, limit)
    }

    /// The value of one of this module's state keys (latest durable, or as of `height`).
    pub fn state_value(&self, key: &[u8], height: Option<u64>) -> Result<Option<Vec<u8>>, HostError> {
        self.host.state_value(self.module, key, height)
    }

    /// A state receipt for one of this module's keys.
    pub fn state_receipt(&self, key: &[u8], height: Option<u64>) -> Result<StateReceipt, HostError> {
        self.host.state_receipt(self.module, key, height)
    }

    /// The node's agent key, if its config names one.
    pub fn agent(&self) -> Option<Agent> {
        self.host.agent()
    }

    /// Signs a call of this module with the agent key and submits it.
    pub fn submit_as_agent(&self, method: &str, args: Vec<u8>) -> Result<Hash, Refusal> {
        self.host.submit_as_agent(self.module, method, args)
    }

    pub fn tx_state(&self, id: &Hash) -> TxState {
        self.host.tx_state(id)
    }

    /// Signs a Data Integrity proof's hash data with the agent key ([`Host::sign_as_agent`]).
    pub fn sign_as_agent(&self, hash_data: &[u8; 64]) -> Result<Vec<u8>, Refusal> {
        self.host.sign_as_agent(hash_data)
    }

    /// The organisation of an active member key ([`Host::member_organisation`]).
    pub fn member_organisation(&self, key: &[u8]) -> Option<String> {
        self.host.member_organisation(key)
    }

    /// The node's public base URL ([`Host::public_base`]).
    pub fn public_base(&self, host_header: Option<&str>) -> String {
        self.host.public_base(host_header)
    }
}

/// One file of a module's console page, served at `/console/modules/<module>/<name>`.
#[derive(Debug, Clone, Copy)]
pub struct ConsoleFile {
    pub name: &'static str,
    pub content_type: &'static str,
    pub body: &'static str,
}

//! Prometheus metrics of a node.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct CodeLabel {
    pub code: String,
}

pub struct Metrics {
    registry: Registry,
    pub tx_accepted: Counter,
    pub tx_rejected: Family<CodeLabel, Counter>,
    pub tx_committed: Counter,
    pub records_committed: Counter,
    pub blocks: Counter,
    pub height: Gauge,
    pub log_size: Gauge,
    pub mempool_txs: Gauge,
    /// Seconds from the first transaction taken from the mempool to the block being durable.
    pub block_commit_seconds: Histogram,
    pub block_txs: Histogram,
    /// Seconds from a block's proposal time to this node committing it final (consensus).
    pub finalization_seconds: Histogram,
    /// Views that ended without a block (leader timeout or invalid proposal).
    pub view_changes: Counter,
    /// Finalized blocks this node had not verified itself (fetched while catching up).
    pub blocks_fetched: Counter,
    /// Misbehaviour evidence consensus reported.
    pub faults: Counter,
    /// Validators heard from in the last few seconds (this one excluded).
    pub peers_connected: Gauge,
    /// Log size of the latest checkpoint signed by a quorum.
    pub cosigned_log_size: Gauge,
    /// Transactions in proposals whose signature was checked during verification (not already
    /// admitted through the API or gossip).
    pub proposal_signatures_checked: Counter,
    /// Gossip messages dropped because a bounded queue was full.
    pub gossip_dropped: Counter,
    /// The API's connection cap in force (configured, and kept below the open-file limit).
    pub api_max_connections: Gauge,
}

impl Default for Metrics {
    fn default() -> Self {
        let mut registry = Registry::with_prefix("cairn");
        let m = Metrics {
            tx_accepted: Counter::default(),
            tx_rejected: Family::default(),
            tx_committed: Counter::default(),
            records_committed: Counter::default(),
            blocks: Counter::default(),
            height: Gauge::default(),
            log_size: Gauge::default(),
            mempool_txs: Gauge::default(),
            block_commit_seconds: Histogram::new(exponential_buckets(0.001, 2.0, 14)),
            block_txs: Histogram::new(exponential_buckets(1.0, 4.0, 10)),
            finalization_seconds: Histogram::new(exponential_buckets(0.005, 2.0, 14)),
            view_changes: Counter::default(),
            blocks_fetched: Counter::default(),
            faults: Counter::default(),
            peers_connected: Gauge::default(),
            cosigned_log_size: Gauge::default(),
            proposal_signatures_checked: Counter::default(),
            gossip_dropped: Counter::default(),
            api_max_connections: Gauge::default(),
            registry: Registry::default(),
        };
        registry.register("tx_accepted", "Transactions admitted to the mempool", m.tx_accepted.clone());
        registry.register("tx_rejected", "Transactions refused, by reason", m.tx_rejected.clone());
        registry.register("tx_committed", "Transactions committed in durable blocks", m.tx_committed.clone());
        registry.register("records_committed", "Log leaves committed", m.records_committed.clone());
        registry.register("blocks", "Blocks committed", m.blocks.clone());
        registry.register("height", "Height of the last committed block", m.height.clone());
        registry.register("log_size", "Leaves in the verifiable log", m.log_size.clone());
        registry.register("mempool_txs", "Transactions waiting in the mempool", m.mempool_txs.clone());
        registry.register("block_commit_seconds", "Time to execute, sign and fsync a block", m.block_commit_seconds.clone());
        registry.register("block_txs", "Transactions per block", m.block_txs.clone());
        registry.register("finalization_seconds", "Block proposal time to final commit on this node", m.finalization_seconds.clone());
        registry.register("view_changes", "Consensus views that ended without a block", m.view_changes.clone());
        registry.register("blocks_fetched", "Finalized blocks fetched from peers to catch up", m.blocks_fetched.clone());
        registry.register("faults", "Misbehaviour evidence reported by consensus", m.faults.clone());
        registry.register("peers_connected", "Validators heard from in the last 5 s", m.peers_connected.clone());
        registry.register(
            "proposal_signatures_checked",
            "Proposal transactions whose signature had to be checked while verifying",
            m.proposal_signatures_checked.clone(),
        );
        registry.register("gossip_dropped", "Gossip messages dropped on a full queue", m.gossip_dropped.clone());
        registry.register("cosigned_log_size", "Leaves covered by the latest quorum-signed checkpoint", m.cosigned_log_size.clone());
        registry.register("api_max_connections", "Open API connections allowed at once", m.api_max_connections.clone());
        Metrics { registry, ..m }
    }
}

impl Metrics {
    pub fn encode(&self) -> String {
        let mut out = String::new();
        prometheus_client::encoding::text::encode(&mut out, &self.registry).expect("metrics encode");
        out
    }

    pub fn rejected(&self, code: &str) {
        self.tx_rejected.get_or_create(&CodeLabel { code: code.to_string() }).inc();
    }
}

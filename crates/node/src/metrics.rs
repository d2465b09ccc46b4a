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

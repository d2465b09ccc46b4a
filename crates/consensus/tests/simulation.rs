//! The cluster in Commonware's deterministic runtime: safety (every validator that has a
//! height has the same block there), liveness, replay from a seed, a partition and its healing,
//! message loss, and a validator that proposes invalid blocks. A failing seed is printed.

use std::time::Duration;

use cairn_consensus::network::Gossip;
use cairn_consensus::sim::{Partition, SimConfig, SimReport, simulate};
use cairn_consensus::{Ack, BlockInfo, BlockLogic, FinalizedBlock};

/// Honest logic: a payload names its height; anything else gets no vote.
#[derive(Clone)]
struct Counter {
    /// Proposes payloads that honest validators refuse.
    byzantine: bool,
}

impl BlockLogic for Counter {
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]> {
        Some(cairn_consensus::sha256(payload))
    }
    fn propose(&self, _parent: &BlockInfo, height: u64, _now_ms: u64, _allow_empty: bool) -> Option<Vec<u8>> {
        Some(if self.byzantine { b"not a valid block".to_vec() } else { format!("block {height}").into_bytes() })
    }
    fn verify(&self, _parent: &BlockInfo, height: u64, payload: &[u8], _now_ms: u64) -> bool {
        payload == format!("block {height}").as_bytes()
    }
    fn finalized(&self, _block: FinalizedBlock, ack: Ack) {
        ack.acknowledge();
    }
}

fn honest(_: usize, _: Gossip) -> Counter {
    Counter { byzantine: false }
}

/// Safety: at every height, every validator that finalized it has the same block; each
/// validator's blocks link by parent digest. Liveness: everyone reached `target`.
fn check(report: &SimReport, target: u64, seed: u64) {
    check_honest(report, target, seed, None);
}

fn check_honest(report: &SimReport, target: u64, seed: u64, byzantine: Option<usize>) {
    let mut by_height: std::collections::BTreeMap<u64, &BlockInfo> = std::collections::BTreeMap::new();
    for (v, chain) in report.finalized.iter().enumerate().filter(|(v, _)| Some(*v) != byzantine) {
        let mut last: Option<&BlockInfo> = None;
        for b in chain {
            if let Some(first) = by_height.get(&b.height) {
                assert_eq!(*first, b, "seed {seed}: validator {v} finalized another block at height {}", b.height);
            } else {
                by_height.insert(b.height, b);
            }
            if let Some(prev) = last
                && b.height == prev.height + 1
            {
                assert_eq!(b.parent, prev.digest, "seed {seed}: validator {v} chain breaks at height {}", b.height);
            }
            last = Some(b);
        }
        let top = chain.last().map_or(0, |b| b.height);
        assert!(top >= target, "seed {seed}: validator {v} stopped at height {top} (target {target})");
    }
    for b in by_height.values().filter(|b| b.height > 0) {
        assert_eq!(b.payload, format!("block {}", b.height).into_bytes(), "seed {seed}: an invalid block was finalized");
    }
}

#[test]
fn same_seed_same_history_and_state() {
    let cfg = SimConfig { seed: 42, target_height: 15, ..SimConfig::default() };
    let a = simulate(cfg.clone(), honest);
    let b = simulate(cfg, honest);
    check(&a, 15, 42);
    assert_eq!(a.state, b.state, "seed 42 replayed to another state");
    assert_eq!(a.finalized, b.finalized);
    assert!(a.faults.is_empty(), "{:?}", a.faults);
}

#[test]
fn bounded_seed_sweep() {
    for seed in 1..=3u64 {
        eprintln!("simulation seed {seed} (replay: SimConfig {{ seed: {seed}, .. }})");
        let report = simulate(SimConfig { seed, target_height: 10, delivery_percent: 95, ..SimConfig::default() }, honest);
        check(&report, 10, seed);
    }
}

#[test]
fn partitioned_validator_catches_up_after_healing() {
    let partition = Partition { validator: 3, from: Duration::from_secs(2), until: Duration::from_secs(10) };
    let report = simulate(SimConfig { seed: 7, target_height: 25, partition: Some(partition), ..SimConfig::default() }, honest);
    check(&report, 25, 7);
    // While cut off, validator 3 fell behind and the other three (a quorum) kept finalizing.
    let at_heal = report.heights_at_heal.expect("the partition healed");
    assert!(at_heal[3] + 3 < at_heal[0].min(at_heal[1]).min(at_heal[2]), "heights when healed: {at_heal:?}");
}

#[test]
fn byzantine_proposer_gets_no_invalid_block_through() {
    let report = simulate(SimConfig { seed: 11, target_height: 12, ..SimConfig::default() }, |i, _| Counter { byzantine: i == 0 });
    // Validator 0 still finalizes (it verifies others' blocks honestly); nothing invalid lands.
    check(&report, 12, 11);
}

#[test]
fn equivocating_validator_is_reported_and_honest_validators_keep_going() {
    let seed = 5;
    let report = simulate(SimConfig { seed, target_height: 12, equivocator: Some(2), ..SimConfig::default() }, honest);
    check_honest(&report, 12, seed, Some(2));
    // The honest validators saw its conflicting votes and reported them as evidence.
    assert!(
        report.faults.iter().any(|f| f.starts_with("conflicting notarize") || f.starts_with("conflicting finalize")),
        "seed {seed}: faults {:?}",
        report.faults
    );
}

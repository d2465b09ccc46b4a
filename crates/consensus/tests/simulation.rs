//! The cluster in Commonware's deterministic runtime: safety (every validator that has a
//! height has the same block there), liveness, replay from a seed, a partition and its healing,
//! message loss, and a validator that proposes invalid blocks. A failing seed is printed. The
//! same with SM2 votes (`sm2_votes`), whose certificates are also checked offline.

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

/// Finalized blocks with the certificate consensus delivered them with.
type Certificates = std::sync::Arc<std::sync::Mutex<Vec<(BlockInfo, Vec<u8>)>>>;

/// Honest logic that keeps the certificates consensus hands it, to check them offline.
#[derive(Clone, Default)]
struct Certified {
    certificates: Certificates,
}

impl BlockLogic for Certified {
    fn commitment(&self, payload: &[u8]) -> Option<[u8; 32]> {
        Some(cairn_consensus::sha256(payload))
    }
    fn propose(&self, _parent: &BlockInfo, height: u64, _now_ms: u64, _allow_empty: bool) -> Option<Vec<u8>> {
        Some(format!("block {height}").into_bytes())
    }
    fn verify(&self, _parent: &BlockInfo, height: u64, payload: &[u8], _now_ms: u64) -> bool {
        payload == format!("block {height}").as_bytes()
    }
    fn finalized(&self, block: FinalizedBlock, ack: Ack) {
        if let Some(c) = block.certificate {
            self.certificates.lock().unwrap().push((block.info, c));
        }
        ack.acknowledge();
    }
}

fn sm2_committee(n: usize) -> cairn_consensus::certificate::Committee {
    let (_, ids) = sim_identities(n);
    let votes = cairn_consensus::sim::sm2_vote_keys(n);
    cairn_consensus::certificate::Committee::Sm2(ids.into_iter().zip(votes.iter().map(|k| k.public_key())).collect())
}

/// The simulation's p2p identities (Ed25519, seeds 0..n), in validator order.
fn sim_identities(n: usize) -> (Vec<[u8; 32]>, Vec<[u8; 32]>) {
    use commonware_cryptography::Signer as _;
    let ids: Vec<[u8; 32]> =
        (0..n as u64).map(|i| commonware_cryptography::ed25519::PrivateKey::from_seed(i).public_key().as_ref().try_into().unwrap()).collect();
    (ids.clone(), ids)
}

#[test]
fn sm2_votes_finalize_replay_from_the_seed_and_certify_sm3_digests_offline() {
    use cairn_consensus::certificate::{CertificateError, Committee, verify};
    let cfg = SimConfig { seed: 42, target_height: 12, sm2_votes: true, ..SimConfig::default() };
    let logic = Certified::default();
    let shared = logic.clone();
    let a = simulate(cfg.clone(), move |_, _| shared.clone());
    let b = simulate(cfg, |_, _| Certified::default());
    check(&a, 12, 42);
    assert_eq!(a.finalized, b.finalized, "the same seed gives the same blocks");
    assert_eq!(a.state, b.state, "seed 42 replayed to another state (SM2 votes use RFC 6979 nonces)");
    assert!(a.faults.is_empty(), "{:?}", a.faults);
    // Block digests are SM3: the chain signs no SHA-256 digest.
    for chain in &a.finalized {
        for pair in chain.windows(2) {
            let (parent, b) = (&pair[0], &pair[1]);
            let commitment = cairn_consensus::sha256(&b.payload);
            let sm3 = cairn_crypto::sm3(&b.payload);
            assert_eq!(b.digest, cairn_consensus::block_digest(cairn_consensus::BlockHash::Sm3, &parent.digest, b.height, &commitment, &sm3));
        }
    }
    let certificates = logic.certificates.lock().unwrap().clone();
    assert!(certificates.len() >= 12, "{} certificates", certificates.len());
    let committee = sm2_committee(4);
    for (block, certificate) in &certificates {
        let f = verify("sim", &committee, certificate).unwrap_or_else(|e| panic!("height {}: {e}", block.height));
        assert_eq!(f.digest, block.digest);
    }
    // Offline, the certificate is SM2 and only SM2: not an ed25519 certificate, not another
    // chain's, not with another committee's keys, not with a flipped byte.
    let (block, certificate) = &certificates[certificates.len() / 2];
    let (ids, _) = sim_identities(4);
    assert!(matches!(verify("sim", &Committee::Ed25519(ids), certificate), Err(CertificateError::Malformed(_) | CertificateError::BadSignatures)));
    assert_eq!(verify("other-chain", &committee, certificate), Err(CertificateError::BadSignatures));
    let Committee::Sm2(mut pairs) = sm2_committee(4) else { unreachable!() };
    pairs[0].1 = cairn_crypto::KeyPair::generate(cairn_crypto::Suite::Sm2Sm3).public_key();
    pairs[1].1 = cairn_crypto::KeyPair::generate(cairn_crypto::Suite::Sm2Sm3).public_key();
    let refused = verify("sim", &Committee::Sm2(pairs), certificate);
    // Two unknown keys leave at most two valid signatures: below the quorum of three.
    assert_eq!(refused, Err(CertificateError::BadSignatures), "block {}", block.height);
    let mut flipped = certificate.clone();
    let last = flipped.len() - 1;
    flipped[last] ^= 1;
    assert!(verify("sim", &committee, &flipped).is_err());
}

#[test]
fn sm2_votes_survive_loss_and_a_partition() {
    let partition = Partition { validator: 2, from: Duration::from_secs(2), until: Duration::from_secs(9) };
    let cfg = SimConfig { seed: 9, target_height: 15, delivery_percent: 90, partition: Some(partition), sm2_votes: true, ..SimConfig::default() };
    let report = simulate(cfg, honest);
    check(&report, 15, 9);
}

#[test]
fn sm2_equivocation_is_reported_as_evidence() {
    let seed = 5;
    let report = simulate(SimConfig { seed, target_height: 12, equivocator: Some(2), sm2_votes: true, ..SimConfig::default() }, honest);
    check_honest(&report, 12, seed, Some(2));
    assert!(report.faults.iter().any(|f| f.starts_with("conflicting notarize") || f.starts_with("conflicting finalize")), "faults {:?}", report.faults);
}

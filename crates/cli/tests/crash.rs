//! Crash safety: kill -9 the node at random moments under load and restart it. Every
//! transaction reported committed is still there, its receipts verify, and the log only grew
//! (each new checkpoint is consistent with the one before the crash).
//! After each kill, `cairn replay` re-executes every block on a fresh state and must reach the
//! state root the node then reports, and acknowledged deposits have valid state receipts.
//! The schedule comes from a seed (printed; set CAIRN_TEST_SEED to replay one).

mod common;

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_module_evidence::receipt::verify_receipt;
use cairn_module_evidence::wire::{DigestAlg, RecordInput};
use cairn_types::genesis::TrustFile;
use cairn_types::state_receipt::verify_state_receipt;
use common::*;
use rand::{RngExt, SeedableRng};
use serde_json::Value;

const ROUNDS: usize = 4;
const WRITERS: usize = 3;

fn checkpoint_root(note: &str) -> (u64, [u8; 32]) {
    let cp = cairn_note::Checkpoint::parse(&cairn_note::SignedNote::parse(note).unwrap().text).unwrap();
    (cp.size, cp.root)
}

#[test]
fn kill_9_under_load_loses_nothing_acknowledged() {
    let seed: u64 = std::env::var("CAIRN_TEST_SEED").ok().and_then(|s| s.parse().ok()).unwrap_or_else(|| rand::rng().random());
    eprintln!("crash test seed: {seed} (replay with CAIRN_TEST_SEED={seed})");
    let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
    let tmp = tempfile::tempdir().unwrap();
    let mut node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let trust = TrustFile::from_json(&std::fs::read(node.trust_path()).unwrap()).unwrap();
    // (tx id, record ids) of every transaction the node reported committed.
    type Acknowledged = Vec<(String, Vec<String>)>;
    let acknowledged: Arc<Mutex<Acknowledged>> = Arc::default();
    let mut last_checkpoint: Option<String> = None;
    let mut nonce = 0u64;

    for round in 0..ROUNDS {
        let stop = Arc::new(AtomicBool::new(false));
        let writers: Vec<_> = (0..WRITERS)
            .map(|w| {
                let (url, key, chain, stop, ack) = (node.url.clone(), key.clone(), chain.clone(), Arc::clone(&stop), Arc::clone(&acknowledged));
                let base = nonce + (w as u64) * 1_000_000;
                std::thread::spawn(move || {
                    let mut n = base;
                    while !stop.load(Ordering::Relaxed) {
                        n += 1;
                        let tx = deposit_tx(&key, &chain, n, records(n, 1 + (n % 5) as usize));
                        let Ok(r) = client()
                            .post(format!("{url}/v1/transactions?wait=true"))
                            .header("content-type", "application/octet-stream")
                            .body(frame(&[tx]))
                            .send()
                        else {
                            break;
                        };
                        if r.status().as_u16() != 200 {
                            continue;
                        }
                        let Ok(v) = r.json::<Value>() else { break };
                        let res = &v["results"][0];
                        if res["status"] == "committed" {
                            let ids = res["record_ids"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()).collect();
                            ack.lock().unwrap().push((res["id"].as_str().unwrap().to_string(), ids));
                        }
                    }
                })
            })
            .collect();
        nonce += 10_000_000;
        std::thread::sleep(Duration::from_millis(rng.random_range(300..1500)));
        node.kill9();
        stop.store(true, Ordering::Relaxed);
        for w in writers {
            w.join().unwrap();
        }
        // The state on disk is what the blocks say, whatever moment the kill hit.
        let replay = cairn(&["replay", "--config", node.dir.join("config.toml").to_str().unwrap()]);
        let replay_out = String::from_utf8_lossy(&replay.stdout).to_string();
        assert!(replay.status.success(), "replay after kill -9: {replay_out}{} (seed {seed})", String::from_utf8_lossy(&replay.stderr));
        let replayed_root = replay_out.trim().rsplit(' ').next().unwrap().to_string();
        node.spawn();
        assert_eq!(node.status()["state_root"].as_str(), Some(replayed_root.as_str()), "state root after restart (seed {seed})");

        let acked = acknowledged.lock().unwrap().clone();
        eprintln!("round {round}: {} transactions acknowledged so far", acked.len());
        for (tx, records) in &acked {
            let v: Value = client().get(format!("{}/v1/transactions/{tx}", node.url)).send().unwrap().json().unwrap();
            assert_eq!(v["status"], "committed", "acknowledged transaction {tx} lost after kill -9 (seed {seed})");
            for id in records {
                let receipt = client().get(format!("{}/v1/evidence/{id}/receipt", node.url)).send().unwrap().text().unwrap();
                let v = verify_receipt(&receipt, &trust, None).unwrap_or_else(|e| panic!("receipt {id}: {e} (seed {seed})"));
                if id.ends_with("-0") {
                    // Its digest is in the state, provably.
                    let url = format!("{}/v1/evidence/state?digest={}", node.url, hex::encode(v.record.digest));
                    let proof = client().get(url).send().unwrap().text().unwrap();
                    let s = verify_state_receipt(&proof, &trust, &cairn_node::module_state_view)
                        .unwrap_or_else(|e| panic!("state receipt of {id}: {e} (seed {seed})"));
                    assert_eq!(s.view["deposited"], true, "{id} (seed {seed})");
                }
            }
        }
        // The log only grew: the new checkpoint is consistent with the one before the crash.
        let note = client().get(format!("{}/v1/checkpoint", node.url)).send().unwrap().text().unwrap();
        if let Some(prev) = &last_checkpoint {
            let (s1, r1) = checkpoint_root(prev);
            let (s2, r2) = checkpoint_root(&note);
            assert!(s2 >= s1, "log shrank from {s1} to {s2} (seed {seed})");
            if s1 > 0 && s2 > s1 {
                let v: Value = client().get(format!("{}/v1/consistency?from={s1}&to={s2}", node.url)).send().unwrap().json().unwrap();
                let proof: Vec<[u8; 32]> =
                    v["proof"].as_array().unwrap().iter().map(|h| hex::decode(h.as_str().unwrap()).unwrap().try_into().unwrap()).collect();
                cairn_merkle::verify_consistency(trust.suite, s1, s2, &r1, &r2, &proof).unwrap();
            } else {
                assert_eq!(r1, r2);
            }
        }
        last_checkpoint = Some(note);
    }
    assert!(!acknowledged.lock().unwrap().is_empty(), "the load never committed anything");
}

/// Signing without the node's helpers, as an independent client would.
/// Indexes are derived data: with the index database gone, a restart rebuilds it from blocks.
#[test]
fn lost_index_is_rebuilt_from_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = DevNode::start(&tmp.path().join("data"), "sm2-sm3");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let digest = DigestAlg::Sm3.digest(b"evidence kept through a lost index");
    let record = RecordInput {
        digest_alg: DigestAlg::Sm3,
        digest,
        size: 34,
        media_type: "text/plain".into(),
        title: "kept".into(),
        reference: Some("case-lost-index".into()),
        metadata: Default::default(),
    };
    for n in 0..3 {
        let tx = deposit_tx(&key, &chain, n, vec![record.clone()]);
        let (s, v) = post_txs(&node.url, &[tx], true);
        assert_eq!(s, 200, "{v}");
    }
    node.kill9();
    std::fs::remove_dir_all(node.dir.join("db/index")).unwrap();
    node.spawn();
    let v: Value = client().get(format!("{}/v1/evidence?digest={}", node.url, hex::encode(digest))).send().unwrap().json().unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 3, "{v}");
    let v: Value = client().get(format!("{}/v1/evidence?reference=case-lost-index", node.url)).send().unwrap().json().unwrap();
    assert_eq!(v["records"].as_array().unwrap().len(), 3, "{v}");
}

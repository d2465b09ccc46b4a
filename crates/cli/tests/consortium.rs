//! Four validator processes on loopback, each with its own keys and disk, running consensus
//! over the authenticated p2p network: faults at the process level. Safety is checked
//! directly: at every height, every node that has the height has the same block.
//!
//! The tests in this file take turns (one cluster at a time on a 2-core machine).

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use cairn_crypto::KeyPair;
use cairn_module_evidence::receipt::verify_receipt;
use cairn_types::genesis::TrustFile;
use common::*;
use serde_json::Value;

static ONE_CLUSTER_AT_A_TIME: Mutex<()> = Mutex::new(());

struct Validator {
    dir: PathBuf,
    url: String,
    child: Option<Child>,
}

struct Consortium {
    _tmp: tempfile::TempDir,
    root: PathBuf,
    nodes: Vec<Validator>,
    trust: TrustFile,
    chain: String,
}

/// A base port with `n` free ports after it (for p2p and API). Below Linux's ephemeral range
/// (32768 and up): there, a node's outgoing connection can take a port that a validator
/// started a moment later wants to listen on.
fn free_ports(n: u16) -> (u16, u16) {
    use rand::RngExt as _;
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    loop {
        let base: u16 = rand::rng().random_range(20_000..32_000);
        if (0..2 * n).all(|i| free(base + i)) {
            return (base, base + n);
        }
    }
}

impl Consortium {
    fn start(n: usize, suite: &str) -> Self {
        let tmp = tempfile::tempdir().unwrap();
        let root = tmp.path().join("net");
        let (p2p, api) = free_ports(n as u16);
        let out = cairn(&[
            "testnet",
            "init",
            "--validators",
            &n.to_string(),
            "--dir",
            root.to_str().unwrap(),
            "--suite",
            suite,
            "--p2p-port",
            &p2p.to_string(),
            "--api-port",
            &api.to_string(),
        ]);
        assert!(out.status.success(), "testnet init: {}", String::from_utf8_lossy(&out.stderr));
        let trust = TrustFile::from_json(&std::fs::read(root.join("trust.json")).unwrap()).unwrap();
        let chain = trust.chain_id.clone();
        let nodes = (0..n)
            .map(|i| Validator { dir: root.join(format!("validator-{}", i + 1)), url: format!("http://127.0.0.1:{}", api + i as u16), child: None })
            .collect();
        let mut c = Consortium { _tmp: tmp, root, nodes, trust, chain };
        for i in 0..n {
            c.spawn(i);
        }
        c
    }

    fn spawn(&mut self, i: usize) {
        let v = &mut self.nodes[i];
        let log = std::fs::OpenOptions::new().create(true).append(true).open(v.dir.join("node.log")).unwrap();
        let child =
            Command::new(CAIRN).args(["node", "--config"]).arg(v.dir.join("config.toml")).stdout(Stdio::null()).stderr(log).spawn().expect("start cairn node");
        v.child = Some(child);
        let url = v.url.clone();
        wait_for(Duration::from_secs(30), "the API", || client().get(format!("{url}/healthz")).send().ok().filter(|r| r.status().is_success()));
    }

    fn kill9(&mut self, i: usize) {
        if let Some(mut c) = self.nodes[i].child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    /// `rounds` deposits of `per_tx` records (seeds from `seed`), each to the next of the first
    /// `nodes` validators and waited for; the result of each.
    fn deposit_rounds(&self, key: &KeyPair, rounds: u64, nodes: usize, seed: u64, per_tx: usize) -> Vec<Value> {
        (0..rounds)
            .map(|n| {
                let (status, body) = post_txs(&self.nodes[n as usize % nodes].url, &[deposit_tx(key, &self.chain, n, records(seed + n, per_tx))], true);
                assert_eq!(status, 200, "{body}");
                body["results"][0].clone()
            })
            .collect()
    }

    fn submitter(&self, i: usize) -> KeyPair {
        cairn_node::keys::read_key(&self.nodes[i].dir.join("keys/submitter.key")).unwrap()
    }

    fn status(&self, i: usize) -> Option<Value> {
        client().get(format!("{}/v1/status", self.nodes[i].url)).timeout(Duration::from_secs(5)).send().ok()?.json().ok()
    }

    fn height(&self, i: usize) -> u64 {
        self.status(i).map_or(0, |s| s["height"].as_u64().unwrap())
    }

    fn block(&self, i: usize, h: u64) -> Value {
        client().get(format!("{}/v1/blocks/{h}", self.nodes[i].url)).send().unwrap().json().unwrap()
    }

    /// Waits until every running node reached `height`.
    fn wait_all_at(&self, height: u64, timeout: Duration) {
        wait_for(timeout, &format!("all nodes at height {height}"), || {
            self.nodes.iter().enumerate().filter(|(_, v)| v.child.is_some()).all(|(i, _)| self.height(i) >= height).then_some(())
        });
    }

    /// Safety: at every height up to `top`, all nodes have the same block (hash, log size and
    /// root), and each block's parent is the block below.
    fn assert_same_history(&self, top: u64) {
        let mut parent: Option<String> = None;
        for h in 1..=top {
            let blocks: Vec<Value> = (0..self.nodes.len()).map(|i| self.block(i, h)).collect();
            for (i, b) in blocks.iter().enumerate() {
                assert_eq!(b["hash"], blocks[0]["hash"], "height {h}: validator {} has another block than validator 1", i + 1);
                assert_eq!(b["log_root"], blocks[0]["log_root"], "height {h}: log roots differ");
                assert_eq!(b["log_size"], blocks[0]["log_size"], "height {h}: log sizes differ");
            }
            if let Some(p) = &parent {
                assert_eq!(&blocks[0]["parent"], p, "height {h}: parent link broken");
            }
            parent = Some(blocks[0]["hash"].as_str().unwrap().to_string());
        }
    }

    /// A receipt from node `i`, verified offline against the trust file (quorum of cosigners).
    fn verified_receipt(&self, i: usize, record: &str) -> String {
        let url = format!("{}/v1/evidence/{record}/receipt", self.nodes[i].url);
        let text = wait_for(Duration::from_secs(30), "a receipt", || {
            let r = client().get(&url).send().ok()?;
            r.status().is_success().then(|| r.text().unwrap())
        });
        let v = verify_receipt(&text, &self.trust, None).unwrap_or_else(|e| panic!("receipt of {record} from validator {}: {e}", i + 1));
        assert!(v.signers.len() >= self.trust.quorum, "a quorum cosigned");
        text
    }
}

impl Drop for Consortium {
    fn drop(&mut self) {
        for i in 0..self.nodes.len() {
            self.kill9(i);
        }
        if std::thread::panicking() {
            for v in &self.nodes {
                let log = std::fs::read_to_string(v.dir.join("node.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(15).collect();
                eprintln!("--- {} (last lines) ---", v.dir.display());
                for l in tail.into_iter().rev() {
                    eprintln!("{l}");
                }
            }
        }
        let _ = &self.root;
    }
}

/// Writers submitting single deposits (wait=true) to the given nodes until stopped; returns
/// the record ids reported committed.
fn load(c: &Consortium, targets: &[usize], stop: &Arc<AtomicBool>, seq: &Arc<AtomicU64>) -> Vec<std::thread::JoinHandle<Vec<String>>> {
    targets
        .iter()
        .map(|&t| {
            let (url, key, chain, stop, seq) = (c.nodes[t].url.clone(), c.submitter(t), c.chain.clone(), Arc::clone(stop), Arc::clone(seq));
            std::thread::spawn(move || {
                let mut acked = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let n = seq.fetch_add(1, Ordering::Relaxed);
                    let batch: Vec<Vec<u8>> = (0..5).map(|k| deposit_tx(&key, &chain, n * 10 + k, records(n * 10 + k, 1))).collect();
                    let Ok(r) =
                        client().post(format!("{url}/v1/transactions?wait=true")).header("content-type", "application/octet-stream").body(frame(&batch)).send()
                    else {
                        std::thread::sleep(Duration::from_millis(100));
                        continue;
                    };
                    let Ok(v) = r.json::<Value>() else { continue };
                    for res in v["results"].as_array().into_iter().flatten() {
                        if res["status"] == "committed" {
                            acked.extend(res["record_ids"].as_array().unwrap().iter().map(|x| x.as_str().unwrap().to_string()));
                        }
                    }
                }
                acked
            })
        })
        .collect()
}

#[test]
fn one_of_four_killed_under_load_the_rest_finalize_and_it_catches_up() {
    one_of_four_killed(("ed25519-sha256", "ed25519"));
}

#[test]
fn sm2_votes_one_of_four_killed_under_load_the_rest_finalize_and_it_catches_up() {
    one_of_four_killed(("sm2-sm3", "sm2"));
}

fn one_of_four_killed((suite, votes): (&str, &str)) {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Consortium::start(4, suite);
    c.wait_all_at(2, Duration::from_secs(60));
    let stop = Arc::new(AtomicBool::new(false));
    let seq = Arc::new(AtomicU64::new(1));
    let writers = load(&c, &[0, 1, 2], &stop, &seq);
    std::thread::sleep(Duration::from_secs(2));
    c.kill9(3);
    let after_kill = (0..3).map(|i| c.height(i)).max().unwrap();
    // The other three keep finalizing, under load.
    wait_for(Duration::from_secs(60), "progress without validator 4", || ((0..3).all(|i| c.height(i) >= after_kill + 5)).then_some(()));
    stop.store(true, Ordering::Relaxed);
    let acked: Vec<String> = writers.into_iter().flat_map(|w| w.join().unwrap()).collect();
    assert!(!acked.is_empty(), "deposits were committed");

    c.spawn(3);
    let top = (0..3).map(|i| c.height(i)).max().unwrap();
    c.wait_all_at(top, Duration::from_secs(120));
    c.assert_same_history(top);
    // Every acknowledged record is on the restarted node too, with a receipt a quorum signed.
    for id in &acked {
        c.verified_receipt(3, id);
    }
    let s = c.status(3).unwrap();
    assert_eq!(s["consensus"]["validators"], 4);
    assert_eq!(s["consensus"]["votes"], votes);
    eprintln!("{} records acknowledged; histories agree up to height {top}", acked.len());
}

#[test]
fn two_of_four_stopped_no_progress_no_divergence_then_resume_losing_nothing() {
    two_of_four_stopped("ed25519-sha256");
}

#[test]
fn sm2_votes_two_of_four_stopped_no_progress_no_divergence_then_resume_losing_nothing() {
    two_of_four_stopped("sm2-sm3");
}

fn two_of_four_stopped(suite: &str) {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Consortium::start(4, suite);
    c.wait_all_at(1, Duration::from_secs(60));
    let key = c.submitter(0);
    let first = deposit_tx(&key, &c.chain, 1, records(1, 2));
    let (status, body) = post_txs(&c.nodes[0].url, std::slice::from_ref(&first), true);
    assert_eq!(status, 200, "{body}");
    let first_record = body["results"][0]["record_ids"][0].as_str().unwrap().to_string();
    // The same transaction submitted to another validator is a replay there too, once that
    // validator has the block (a quorum finalised it; the fourth may still be catching up, and
    // gossip may have reached it before it was connected).
    let final_height = body["results"][0]["block_height"].as_u64().unwrap();
    c.wait_all_at(final_height, Duration::from_secs(60));
    let (status, body) = post_txs(&c.nodes[3].url, &[first], false);
    assert_eq!(status, 409, "{body}");

    c.kill9(2);
    c.kill9(3);
    std::thread::sleep(Duration::from_secs(2));
    let stuck = (c.height(0), c.height(1));
    // Accepted into the mempool, but two of four cannot finalize anything.
    let pending = deposit_tx(&key, &c.chain, 2, records(2, 3));
    let (status, body) = post_txs(&c.nodes[1].url, &[pending], false);
    assert_eq!(status, 202, "{body}");
    let pending_id = body["results"][0]["id"].as_str().unwrap().to_string();
    let pending_record = body["results"][0]["record_ids"][2].as_str().unwrap().to_string();
    std::thread::sleep(Duration::from_secs(5));
    assert_eq!((c.height(0), c.height(1)), stuck, "no block is final without a quorum");
    let tx: Value = client().get(format!("{}/v1/transactions/{pending_id}", c.nodes[1].url)).send().unwrap().json().unwrap();
    assert_eq!(tx["status"], "pending");

    c.spawn(2);
    c.spawn(3);
    wait_for(Duration::from_secs(90), "the pending deposit to commit", || {
        let tx: Value = client().get(format!("{}/v1/transactions/{pending_id}", c.nodes[0].url)).send().ok()?.json().ok()?;
        (tx["status"] == "committed").then_some(())
    });
    let top = (0..4).map(|i| c.height(i)).max().unwrap();
    c.wait_all_at(top, Duration::from_secs(60));
    c.assert_same_history(top);
    for i in 0..4 {
        c.verified_receipt(i, &first_record);
        c.verified_receipt(i, &pending_record);
    }
}

#[test]
fn a_validator_with_a_wiped_data_folder_resyncs_from_its_peers() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Consortium::start(4, "sm2-sm3");
    c.wait_all_at(1, Duration::from_secs(60));
    let results = c.deposit_rounds(&c.submitter(2), 5, 3, 100, 3);
    let ids: Vec<String> = results.iter().map(|r| r["record_ids"][1].as_str().unwrap().to_string()).collect();
    c.kill9(1);
    let dir: &Path = &c.nodes[1].dir;
    std::fs::remove_dir_all(dir.join("db")).unwrap();
    std::fs::remove_dir_all(dir.join("consensus")).unwrap();
    let top = (0..4).filter(|i| *i != 1).map(|i| c.height(i)).max().unwrap();
    c.spawn(1);
    c.wait_all_at(top, Duration::from_secs(120));
    c.assert_same_history(top);
    for id in &ids {
        c.verified_receipt(1, id);
    }
    // Blocks fetched while resyncing get their own finalization certificate when marshal
    // received one with them (best effort: some arrive through a descendant's); shown, not
    // asserted.
    let own_certificate = |i: usize, h: u64| -> bool {
        client()
            .get(format!("{}/v1/finality?height={h}", c.nodes[i].url))
            .send()
            .ok()
            .and_then(|r| r.json::<Value>().ok())
            .and_then(|v| v["blocks"].as_array().map(|b| b.len() == 1))
            .unwrap_or(false)
    };
    std::thread::sleep(Duration::from_secs(1));
    let count = |i: usize| (1..=top).filter(|h| own_certificate(i, *h)).count();
    eprintln!("blocks 1..={top} with a certificate of their own: validator 1 {}, resynced validator 2 {}", count(0), count(1));
    // The finality proof of a receipt's checkpoint checks out with `cairn verify --certificate`.
    let receipt = c.verified_receipt(0, &ids[4]);
    let size = serde_json::from_str::<Value>(&receipt).unwrap()["tree_size"].as_u64().unwrap();
    let proof = wait_for(Duration::from_secs(30), "a finality proof", || {
        let r = client().get(format!("{}/v1/finality?log_size={size}", c.nodes[0].url)).send().ok()?;
        r.status().is_success().then(|| r.text().unwrap())
    });
    let tmp = tempfile::tempdir().unwrap();
    let (rp, fp) = (tmp.path().join("receipt.json"), tmp.path().join("finality.json"));
    std::fs::write(&rp, &receipt).unwrap();
    std::fs::write(&fp, &proof).unwrap();
    let trust = c.root.join("trust.json");
    let out = cairn(&["verify", "--receipt", rp.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--certificate", fp.to_str().unwrap()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success() && text.contains("finality:") && text.contains("by a quorum of SM2 vote keys"), "{text}");
    // The votes are SM2 and nothing else: with the vote keys taken out of the trust file
    // (so it expects Ed25519 votes), the same certificate is refused.
    let mut ed_trust: Value = serde_json::from_str(&std::fs::read_to_string(&trust).unwrap()).unwrap();
    for v in ed_trust["validators"].as_array_mut().unwrap() {
        assert!(v.as_object_mut().unwrap().remove("vote_key").is_some(), "an sm2-sm3 test network names SM2 vote keys");
    }
    let ed_trust_path = tmp.path().join("trust-ed25519.json");
    std::fs::write(&ed_trust_path, ed_trust.to_string()).unwrap();
    let out = cairn(&["verify", "--receipt", rp.to_str().unwrap(), "--trust", ed_trust_path.to_str().unwrap(), "--certificate", fp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
    // A finality proof for another checkpoint does not back this receipt.
    let mut other: Value = serde_json::from_str(&proof).unwrap();
    other["blocks"][0]["body_hash"] = Value::String("00".repeat(32));
    std::fs::write(&fp, other.to_string()).unwrap();
    let out = cairn(&["verify", "--receipt", rp.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--certificate", fp.to_str().unwrap()]);
    assert_eq!(out.status.code(), Some(1), "{}", String::from_utf8_lossy(&out.stdout));
}

/// A validator whose ledger lost blocks it had acknowledged (half its journal gone) does not
/// sign a second root: it sets its ledger and consensus data aside, fetches the chain from its
/// peers, checks it against the checkpoint it signed, and serves the same history again.
#[test]
fn a_validator_whose_ledger_lost_blocks_heals_from_its_peers() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let mut c = Consortium::start(4, "ed25519-sha256");
    c.wait_all_at(1, Duration::from_secs(60));
    let results = c.deposit_rounds(&c.submitter(0), 6, 4, 200, 2);
    let ids: Vec<String> = results.iter().map(|r| r["record_ids"][0].as_str().unwrap().to_string()).collect();
    let signed = c.status(1).unwrap()["checkpoint_size"].as_u64().unwrap();
    c.kill9(1);
    let dir = c.nodes[1].dir.clone();
    lose_half_the_journal(&dir.join("db/ledger"));
    let top = (0..4).filter(|i| *i != 1).map(|i| c.height(i)).max().unwrap();
    c.spawn(1);
    c.wait_all_at(top, Duration::from_secs(120));
    c.assert_same_history(top);
    for id in &ids {
        c.verified_receipt(1, id);
    }
    assert!(c.status(1).unwrap()["checkpoint_size"].as_u64().unwrap() >= signed);
    let aside: Vec<String> =
        std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).filter(|n| n.contains(".lost-")).collect();
    assert!(aside.iter().any(|n| n.starts_with("db.lost-")) && aside.iter().any(|n| n.starts_with("consensus.lost-")), "{aside:?}");
    let log = std::fs::read_to_string(dir.join("node.log")).unwrap();
    // The mark may be a little past the checkpoint served before the kill (signed, not yet cosigned).
    let marked: u64 = log
        .split("signed a checkpoint of ")
        .nth(1)
        .and_then(|rest| rest.split(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("the loss is reported: {log}"));
    assert!(marked >= signed && log.contains("fetching the chain from the peers"), "{log}");

    // A second process started with this validator's keys (a copied config, other ports and
    // folders) finds it running and refuses to join.
    let twin = tempfile::tempdir().unwrap();
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(dir.join("config.toml")).unwrap()).unwrap();
    for key in ["genesis", "validator_key", "agent_key"] {
        let p = dir.join(doc[key].as_str().unwrap());
        doc.insert(key.into(), p.to_str().unwrap().into());
    }
    doc.insert("listen".into(), format!("127.0.0.1:{}", free_port()).into());
    doc.insert("db".into(), twin.path().join("db").to_str().unwrap().into());
    let consensus = doc.get_mut("consensus").unwrap().as_table_mut().unwrap();
    let key = dir.join(consensus["key"].as_str().unwrap());
    consensus.insert("key".into(), key.to_str().unwrap().into());
    consensus.insert("listen".into(), format!("127.0.0.1:{}", free_port()).into());
    consensus.insert("data".into(), twin.path().join("consensus").to_str().unwrap().into());
    let config = twin.path().join("config.toml");
    std::fs::write(&config, toml::to_string(&doc).unwrap()).unwrap();
    let out = Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").output().unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success() && stderr.contains("is already running at"), "{stderr}");
}

/// Mistakes in a validator's set-up stop it at start-up with a message that says what to fix.
#[test]
fn start_up_errors_name_the_fix() {
    // It runs a validator too: not beside a cluster whose ports it could take (or lose to).
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("net");
    let (p2p, api) = free_ports(4);
    let out = cairn(&["testnet", "init", "--validators", "4", "--dir", root.to_str().unwrap(), "--p2p-port", &p2p.to_string(), "--api-port", &api.to_string()]);
    assert!(out.status.success());
    let v1 = root.join("validator-1");
    let config = v1.join("config.toml");
    let run = || {
        let out = std::process::Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").output().unwrap();
        assert!(!out.status.success(), "the node must refuse to start");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    // A consensus key that is not this validator's in genesis.
    let key = v1.join("keys/consensus.key");
    let original = std::fs::read(&key).unwrap();
    std::fs::remove_file(&key).unwrap();
    cairn_node::keys::write_key(&key, &KeyPair::generate(cairn_crypto::Suite::Ed25519Sha256)).unwrap();
    assert!(run().contains("is not validator validator-1's consensus_key in genesis"));
    // A truncated key file.
    std::fs::write(&key, &original[..original.len() / 2]).unwrap();
    let err = run();
    assert!(err.contains("is not a Cairn key file"), "{err}");
    std::fs::write(&key, &original).unwrap();
    // A validator name not in genesis.
    let text = std::fs::read_to_string(&config).unwrap();
    std::fs::write(&config, text.replace("validator_name = \"validator-1\"", "validator_name = \"validator-9\"")).unwrap();
    assert!(run().contains("is not in genesis"));
    // No [consensus] section although genesis has a validator set.
    let no_consensus = text.split("[consensus]").next().unwrap().to_string();
    std::fs::write(&config, &no_consensus).unwrap();
    assert!(run().contains("needs a [consensus] section"));
    // A genesis other than the one the database was made with.
    std::fs::write(&config, &text).unwrap();
    std::fs::create_dir_all(v1.join("db")).unwrap();
    let genesis_path = root.join("genesis.json");
    let genesis = std::fs::read_to_string(&genesis_path).unwrap();
    {
        // Opening once records this genesis in the database; the node then runs, so stop it.
        let mut child = std::process::Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").spawn().unwrap();
        let url = format!("http://127.0.0.1:{api}/healthz");
        wait_for(Duration::from_secs(30), "the node", || client().get(&url).send().ok().filter(|r| r.status().is_success()));
        child.kill().unwrap();
        child.wait().unwrap();
    }
    // The p2p port held by another process: the node names the address instead of running
    // without peers.
    {
        let _squatter = std::net::TcpListener::bind(("127.0.0.1", p2p)).unwrap();
        let err = run();
        assert!(err.contains(&format!("cannot listen for peers on 127.0.0.1:{p2p}")), "{err}");
    }
    std::fs::write(&genesis_path, genesis.replace("Organisation 2", "Organisation Two")).unwrap();
    assert!(run().contains("genesis mismatch"));

    // An sm2-sm3 network votes with SM2 keys: the config must name this validator's.
    let sm2 = tmp.path().join("sm2");
    let args = ["testnet", "init", "--validators", "4", "--suite", "sm2-sm3", "--dir", sm2.to_str().unwrap(), "--p2p-port", &p2p.to_string(), "--api-port"];
    assert!(cairn(&[&args[..], &[&api.to_string()]].concat()).status.success());
    let v1 = sm2.join("validator-1");
    let config = v1.join("config.toml");
    let run = || {
        let out = std::process::Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").output().unwrap();
        assert!(!out.status.success(), "the node must refuse to start");
        String::from_utf8_lossy(&out.stderr).to_string()
    };
    let text = std::fs::read_to_string(&config).unwrap();
    assert!(text.contains("vote_key = \"keys/vote.key\""), "{text}");
    std::fs::write(&config, text.replace("vote_key = \"keys/vote.key\"", "")).unwrap();
    let err = run();
    assert!(err.contains("genesis names SM2 vote keys, so [consensus] needs vote_key"), "{err}");
    std::fs::write(&config, &text).unwrap();
    let key = v1.join("keys/vote.key");
    std::fs::remove_file(&key).unwrap();
    cairn_node::keys::write_key(&key, &KeyPair::generate(cairn_crypto::Suite::Sm2Sm3)).unwrap();
    let err = run();
    assert!(err.contains("is not validator validator-1's vote_key in genesis"), "{err}");
    std::fs::remove_file(&key).unwrap();
    cairn_node::keys::write_key(&key, &KeyPair::generate(cairn_crypto::Suite::Ed25519Sha256)).unwrap();
    let err = run();
    assert!(err.contains("must be an sm2-sm3 key"), "{err}");
}

/// `cairn testnet up` starts every validator of the folder and stops them all on Ctrl-C.
#[test]
fn testnet_up_runs_the_network_and_stops_it_on_ctrl_c() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path().join("net");
    let (p2p, api) = free_ports(4);
    let out = cairn(&["testnet", "init", "--validators", "4", "--dir", root.to_str().unwrap(), "--p2p-port", &p2p.to_string(), "--api-port", &api.to_string()]);
    assert!(out.status.success());
    let mut up = Command::new(CAIRN).args(["testnet", "up", "--dir", root.to_str().unwrap()]).stdout(Stdio::null()).stderr(Stdio::null()).spawn().unwrap();
    let urls: Vec<String> = (0..4).map(|i| format!("http://127.0.0.1:{}", api + i)).collect();
    for u in &urls {
        wait_for(Duration::from_secs(60), "a validator's first block", || {
            let s: Value = client().get(format!("{u}/v1/status")).send().ok()?.json().ok()?;
            (s["height"].as_u64()? >= 1).then_some(())
        });
    }
    let key = cairn_node::keys::read_key(&root.join("validator-3/keys/submitter.key")).unwrap();
    let chain = TrustFile::from_json(&std::fs::read(root.join("trust.json")).unwrap()).unwrap().chain_id;
    let (status, body) = post_txs(&urls[2], &[deposit_tx(&key, &chain, 1, records(1, 1))], true);
    assert_eq!(status, 200, "{body}");
    unsafe { libc::kill(up.id() as i32, libc::SIGINT) };
    let exit = wait_for(Duration::from_secs(30), "testnet up to stop", || up.try_wait().unwrap());
    assert!(exit.success(), "testnet up exited with {exit}");
    for u in &urls {
        assert!(client().get(format!("{u}/healthz")).timeout(Duration::from_secs(2)).send().is_err(), "{u} still answers after Ctrl-C");
    }
}

/// `cairn gov ...` against a running validator, with `key` (a key file); its standard output
/// as JSON.
fn gov(c: &Consortium, node: usize, args: &[&str]) -> Value {
    // `--node` right after the command: after an action's subcommand it would be the action's.
    let node_url = c.nodes[node].url.clone();
    let mut all = vec!["gov", args[0], "--node", &node_url];
    all.extend_from_slice(&args[1..]);
    let out = cairn(&all);
    assert!(out.status.success(), "cairn {}: {}", all.join(" "), String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("cairn {}: {e}: {}", all.join(" "), String::from_utf8_lossy(&out.stdout)))
}

/// The code of a refused submission (one transaction: the problem's own code).
fn refusal(body: &Value) -> &str {
    body["results"][0]["error"]["code"].as_str().or(body["code"].as_str()).unwrap_or("none")
}

fn key_file(c: &Consortium, i: usize) -> String {
    c.nodes[i].dir.join("keys/submitter.key").to_str().unwrap().to_string()
}

#[test]
fn four_organisations_admit_a_fifth_by_three_votes_and_remove_one() {
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = Consortium::start(4, "ed25519-sha256");
    c.wait_all_at(1, Duration::from_secs(60));
    // org-4 deposits while it is a member: its receipt must outlive its membership.
    let d = c.submitter(3);
    let (status, body) = post_txs(&c.nodes[3].url, &[deposit_tx(&d, &c.chain, 1, records(400, 1))], true);
    assert_eq!(status, 200, "{body}");
    let old_record = body["results"][0]["record_ids"][0].as_str().unwrap().to_string();
    let old_receipt = c.verified_receipt(3, &old_record);

    // org-5: an admin key and a clerk who deposits.
    let (admin5, clerk5) = (KeyPair::generate(cairn_crypto::Suite::Ed25519Sha256), KeyPair::generate(cairn_crypto::Suite::Ed25519Sha256));
    let clerk_deposit = |n: u64| deposit_tx(&clerk5, &c.chain, n, records(500 + n, 1));
    let (status, body) = post_txs(&c.nodes[0].url, &[clerk_deposit(1)], true);
    assert_eq!((status, refusal(&body)), (403, "unknown-signer"), "{body}");

    let clerk_arg = format!("{}:evidence.depositor", clerk5.public_key().to_hex());
    let admin_hex = admin5.public_key().to_hex();
    let p = gov(
        &c,
        0,
        &["propose", "--key", &key_file(&c, 0), "add-org", "--id", "org-5", "--name", "Fifth Court 第五法院", "--admin", &admin_hex, "--member", &clerk_arg],
    );
    assert_eq!((p["id"].as_u64(), p["status"].as_str(), p["approvals"].as_u64()), (Some(1), Some("open"), Some(1)), "{p}");
    let p = gov(&c, 1, &["vote", "--key", &key_file(&c, 1), "--proposal", "1", "approve"]);
    assert_eq!((p["status"].as_str(), p["approvals"].as_u64()), (Some("open"), Some(2)), "two of four are not enough: {p}");
    let (status, body) = post_txs(&c.nodes[1].url, &[clerk_deposit(2)], true);
    assert_eq!((status, refusal(&body)), (403, "unknown-signer"), "still not a member: {body}");
    let p = gov(&c, 2, &["vote", "--key", &key_file(&c, 2), "--proposal", "1", "approve"]);
    assert_eq!((p["status"].as_str(), p["outcome"]["applied"].as_bool()), (Some("passed"), Some(true)), "{p}");
    let applied_at = p["outcome"]["height"].as_u64().unwrap();

    // Every validator now takes the clerk's deposit; its receipt verifies offline.
    c.wait_all_at(applied_at, Duration::from_secs(60));
    let (status, body) = post_txs(&c.nodes[3].url, &[clerk_deposit(3)], true);
    assert_eq!(status, 200, "{body}");
    let clerk_record = body["results"][0]["record_ids"][0].as_str().unwrap().to_string();
    let deposit_height = body["results"][0]["block_height"].as_u64().unwrap();
    let clerk_receipt = c.verified_receipt(0, &clerk_record);
    let members = gov(&c, 3, &["members", "--org", "org-5"]);
    assert_eq!(members["members"].as_array().unwrap().len(), 2, "{members}");

    // A membership proof, checked offline with the trust file: as of now, and absent before.
    let dir = tempfile::tempdir().unwrap();
    let trust = c.root.join("trust.json");
    for (height, expect) in [(None, "\"status\": \"active\""), (Some(applied_at - 1), "\"member\": null")] {
        let out = dir.path().join("proof.json");
        let mut args = vec!["prove".to_string(), "--member".to_string(), clerk5.public_key().to_hex()];
        let h = height.map(|h: u64| h.to_string());
        if let Some(h) = &h {
            args.extend(["--height".to_string(), h.clone()]);
        }
        args.extend(["--out".to_string(), out.to_str().unwrap().to_string()]);
        let mut all: Vec<&str> = vec!["gov"];
        all.extend(args.iter().map(String::as_str));
        all.extend(["--node", &c.nodes[1].url]);
        let got = wait_for(Duration::from_secs(30), "a signed membership proof", || {
            let o = cairn(&all);
            o.status.success().then_some(o)
        });
        assert!(got.status.success());
        let text = std::fs::read_to_string(&out).unwrap();
        assert!(text.replace(' ', "").contains(&expect.replace(' ', "")), "{text}");
        let v = cairn(&["verify", "--state-proof", out.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    }

    // `cairn verify` shows the depositor's membership at the deposit's block, and refuses a
    // proof of another height.
    let rp = dir.path().join("clerk.receipt.json");
    std::fs::write(&rp, &clerk_receipt).unwrap();
    for (height, ok) in [(deposit_height, true), (applied_at - 1, false)] {
        let mp = dir.path().join(format!("membership-{height}.json"));
        let h = height.to_string();
        let clerk_hex = clerk5.public_key().to_hex();
        wait_for(Duration::from_secs(30), "a membership proof", || {
            cairn(&["gov", "prove", "--node", &c.nodes[2].url, "--member", &clerk_hex, "--height", &h, "--out", mp.to_str().unwrap()])
                .status
                .success()
                .then_some(())
        });
        let v = cairn(&["verify", "--receipt", rp.to_str().unwrap(), "--trust", trust.to_str().unwrap(), "--membership", mp.to_str().unwrap()]);
        let out = String::from_utf8_lossy(&v.stdout);
        assert_eq!(v.status.success(), ok, "{out}");
        if ok {
            assert!(out.contains("member:") && out.contains("org-5 with roles evidence.depositor (active)"), "{out}");
        } else {
            assert!(out.starts_with("INVALID: membership proof"), "{out}");
        }
    }

    // Removing org-4: the other four organisations vote, 2/3 of four is three.
    let p = gov(&c, 0, &["propose", "--key", &key_file(&c, 0), "remove-org", "--id", "org-4"]);
    let id = p["id"].as_u64().unwrap().to_string();
    assert_eq!(p["electorate"].as_array().unwrap().len(), 4, "org-4 does not vote on its own removal: {p}");
    gov(&c, 1, &["vote", "--key", &key_file(&c, 1), "--proposal", &id, "approve"]);
    let p = gov(&c, 2, &["vote", "--key", &key_file(&c, 2), "--proposal", &id, "approve"]);
    assert_eq!(p["outcome"]["applied"].as_bool(), Some(true), "{p}");
    c.wait_all_at(p["outcome"]["height"].as_u64().unwrap(), Duration::from_secs(60));
    let (status, body) = post_txs(&c.nodes[3].url, &[deposit_tx(&d, &c.chain, 2, records(401, 1))], true);
    assert_eq!((status, refusal(&body)), (403, "unknown-signer"), "{body}");
    // Its old receipt still verifies offline.
    let rp = dir.path().join("old.receipt.json");
    std::fs::write(&rp, &old_receipt).unwrap();
    let v = cairn(&["verify", "--receipt", rp.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));

    let top = (0..4).map(|i| c.height(i)).min().unwrap();
    c.assert_same_history(top);
    let roots: Vec<Value> = (0..4).map(|i| c.block(i, top)["state_root"].clone()).collect();
    assert!(roots.iter().all(|r| *r == roots[0] && !r.is_null()), "one state root at height {top}: {roots:?}");
}

/// Milk powder through four organisations, each capturing at its own validator through the
/// EPCIS binding (signed by its node's agent key): traced back from one can on the shelf and
/// forward from the farm's batch on any validator, each event's receipt signed by a quorum.
#[test]
fn four_organisations_trace_milk_powder_from_farm_to_shelf() {
    use serde_json::json;
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = Consortium::start(4, "ed25519-sha256");
    c.wait_all_at(1, Duration::from_secs(60));
    const MILK: &str = "urn:epc:class:lgtin:4012345.011111.MILK-B1";
    const PALLET: &str = "urn:epc:id:sscc:4012345.0000000001";
    let can = |i: u32| format!("urn:epc:id:sgtin:4012345.022222.{i}");
    let cans: Vec<String> = (1..=3).map(can).collect();
    let milk = json!([{"epcClass": MILK, "quantity": 1000, "uom": "LTR"}]);
    let ev = |ty: &str, day: u32, fields: Value| {
        let mut e = json!({"type": ty, "eventTime": format!("2026-04-{day:02}T09:00:00.000+08:00"), "eventTimeZoneOffset": "+08:00"});
        e.as_object_mut().unwrap().extend(fields.as_object().unwrap().clone());
        e
    };
    let parties = [
        // org-1, the farm: the milk batch made and shipped.
        vec![
            ev("ObjectEvent", 1, json!({"action": "ADD", "bizStep": "commissioning", "quantityList": milk})),
            ev("ObjectEvent", 2, json!({"action": "OBSERVE", "bizStep": "shipping", "quantityList": milk})),
        ],
        // org-2, the processor: received, turned into cans, packed on a pallet, shipped.
        vec![
            ev("ObjectEvent", 3, json!({"action": "OBSERVE", "bizStep": "receiving", "quantityList": milk})),
            ev("TransformationEvent", 4, json!({"bizStep": "commissioning", "inputQuantityList": milk, "outputEPCList": cans})),
            ev("AggregationEvent", 5, json!({"action": "ADD", "bizStep": "packing", "parentID": PALLET, "childEPCs": cans})),
            ev("ObjectEvent", 6, json!({"action": "OBSERVE", "bizStep": "shipping", "epcList": [PALLET]})),
        ],
        // org-3, the distributor: received and unpacked.
        vec![
            ev("ObjectEvent", 7, json!({"action": "OBSERVE", "bizStep": "receiving", "epcList": [PALLET]})),
            ev("AggregationEvent", 8, json!({"action": "DELETE", "bizStep": "unpacking", "parentID": PALLET, "childEPCs": cans})),
        ],
        // org-4, the retailer: one can sold.
        vec![ev("ObjectEvent", 9, json!({"action": "OBSERVE", "bizStep": "retail_selling", "epcList": [can(2)]}))],
    ];
    for (i, events) in parties.into_iter().enumerate() {
        let doc = json!({"@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"], "type": "EPCISDocument", "schemaVersion": "2.0",
                         "creationDate": "2026-04-01T00:00:00Z", "epcisBody": {"eventList": events}});
        let resp = client().post(format!("{}/epcis/capture", c.nodes[i].url)).header("content-type", "application/json").body(doc.to_string()).send().unwrap();
        assert_eq!(resp.status().as_u16(), 202, "validator {}", i + 1);
        let job_url = format!("{}{}", c.nodes[i].url, resp.headers()["location"].to_str().unwrap());
        let job: Value = wait_for(Duration::from_secs(60), "the capture job", || {
            let j: Value = client().get(&job_url).send().ok()?.json().ok()?;
            (j["running"] == false).then_some(j)
        });
        assert_eq!(job["success"], true, "validator {}: {job}", i + 1);
    }
    let trace = |node: usize, epc: &str, direction: &str| -> Value {
        let url =
            format!("{}/epcis/trace?epc={}&direction={direction}", c.nodes[node].url, url::form_urlencoded::byte_serialize(epc.as_bytes()).collect::<String>());
        wait_for(Duration::from_secs(30), "all nine events and their signed receipts on the validator", || {
            let v: Value = client().get(&url).send().ok()?.json().ok()?;
            let events = v["events"].as_array()?;
            (events.len() == 9 && events.iter().all(|e| e["receipt"].is_object())).then_some(v)
        })
    };
    for (node, epc, direction) in [(0, can(2), "back"), (3, MILK.to_string(), "forward"), (2, can(2), "back")] {
        let v = trace(node, &epc, direction);
        let events = v["events"].as_array().unwrap();
        let orgs: std::collections::BTreeSet<&str> = events.iter().map(|e| e["organisation"].as_str().unwrap()).collect();
        assert_eq!(orgs.into_iter().collect::<Vec<_>>(), ["org-1", "org-2", "org-3", "org-4"], "{direction} from {epc} on validator {}", node + 1);
        for e in events {
            let receipt = e["receipt"].to_string();
            let ok = cairn_module_trace::verify::verify_event(&receipt, &c.trust, Some(e["event"].to_string().as_bytes()))
                .unwrap_or_else(|why| panic!("receipt of leaf {}: {why}", e["leafIndex"]));
            assert!(ok.signers.len() >= c.trust.quorum);
            assert_eq!(ok.entry.organisation, e["organisation"].as_str().unwrap());
        }
    }
}

/// `cairn registry ARGS --node URL` at validator `node`: (success, stdout JSON, stderr).
fn reg(c: &Consortium, node: usize, args: &[&str]) -> (bool, Value, String) {
    let mut all = vec!["registry"];
    all.extend_from_slice(args);
    all.extend_from_slice(&["--node", &c.nodes[node].url]);
    let out = cairn(&all);
    (out.status.success(), serde_json::from_slice(&out.stdout).unwrap_or(Value::Null), String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn two_authorities_keep_their_registries_on_four_validators() {
    use serde_json::json;
    let _turn = ONE_CLUSTER_AT_A_TIME.lock().unwrap_or_else(|e| e.into_inner());
    let c = Consortium::start(4, "ed25519-sha256");
    c.wait_all_at(1, Duration::from_secs(60));
    let dir = c.root.clone();
    let write = |name: &str, v: &Value| {
        let p = dir.join(name);
        std::fs::write(&p, v.to_string()).unwrap();
        p.to_str().unwrap().to_string()
    };
    // org-1 keeps the civil registry, org-2 the business licences.
    let civil = write(
        "civil.json",
        &json!({"type": "object", "properties": {"name": {"type": "string"}, "district": {"type": "string"}},
        "required": ["name", "district"], "x-cairn-indexed": ["district"], "x-cairn-personal": ["name"]}),
    );
    let licence = write(
        "licence.json",
        &json!({"type": "object", "properties": {"company": {"type": "string"}, "scope": {"type": "string"}},
        "required": ["company"], "x-cairn-indexed": ["company"]}),
    );
    let (k1, k2) = (key_file(&c, 0), key_file(&c, 1));
    let ok = |r: (bool, Value, String)| {
        assert!(r.0, "{}", r.2);
        r.1
    };
    ok(reg(&c, 0, &["create", "--key", &k1, "--registry", "civil-births", "--title-en", "Births", "--schema", &civil]));
    ok(reg(&c, 1, &["create", "--key", &k2, "--registry", "business-licences", "--title-zh", "营业执照", "--schema", &licence]));
    let f = |name: &str, district: &str| write(&format!("{name}-{district}.json"), &json!({"name": name, "district": district}));
    let mut heights = Vec::new();
    let e = ok(reg(
        &c,
        0,
        &[
            "put",
            "--key",
            &k1,
            "--registry",
            "civil-births",
            "--entry",
            "B1",
            "--holder",
            "did:example:li",
            "--fields",
            &f("李雷", "A"),
            "--disclosures",
            &write("d.json", &json!({})),
        ],
    ));
    heights.push((1, e["height"].as_u64().unwrap()));
    for (i, district) in ["B", "C"].iter().enumerate() {
        let e = ok(reg(
            &c,
            0,
            &[
                "amend",
                "--key",
                &k1,
                "--registry",
                "civil-births",
                "--entry",
                "B1",
                "--fields",
                &f("李雷", district),
                "--disclosures",
                &write(&format!("d{i}.json"), &json!({})),
            ],
        ));
        heights.push((e["version"].as_u64().unwrap(), e["height"].as_u64().unwrap()));
    }
    for (cmd, extra) in
        [("transfer", vec!["--holder", "did:example:han"]), ("suspend", vec!["--reason", "audit"]), ("reinstate", vec![]), ("revoke", vec!["--reason", "void"])]
    {
        let mut args = vec![cmd, "--key", k1.as_str(), "--registry", "civil-births", "--entry", "B1"];
        args.extend(extra);
        let e = ok(reg(&c, 0, &args));
        heights.push((e["version"].as_u64().unwrap(), e["height"].as_u64().unwrap()));
    }
    let l = write("l.json", &json!({"company": "Hanmeimei Tea Ltd", "scope": "tea"}));
    ok(reg(
        &c,
        1,
        &[
            "put",
            "--key",
            &k2,
            "--registry",
            "business-licences",
            "--entry",
            "91110000-1",
            "--holder",
            "did:example:tea",
            "--fields",
            &l,
            "--disclosures",
            &write("dl.json", &json!({})),
        ],
    ));
    ok(reg(&c, 1, &["transfer", "--key", &k2, "--registry", "business-licences", "--entry", "91110000-1", "--holder", "did:example:tea-holdings"]));

    // A registrar of another organisation is refused, at each authority's registry.
    let (done, _, err) = reg(
        &c,
        1,
        &["amend", "--key", &k2, "--registry", "civil-births", "--entry", "B1", "--fields", &f("X", "Z"), "--disclosures", &write("dx.json", &json!({}))],
    );
    assert!(!done && err.contains("not-authority"), "{err}");
    let (done, _, err) = reg(&c, 2, &["suspend", "--key", &key_file(&c, 2), "--registry", "business-licences", "--entry", "91110000-1"]);
    assert!(!done && err.contains("not-authority"), "{err}");

    // Proofs of every version as of its height, and an absence proof, from validators other
    // than the writer's, checked offline with the trust file.
    let trust = c.root.join("trust.json");
    for (i, (v, h)) in heights.iter().enumerate() {
        let node = 1 + i % 3;
        let out = dir.join(format!("proof-{v}.json"));
        let (_, p, _) = wait_for(Duration::from_secs(30), "the validator to have the version's block", || {
            let r = reg(&c, node, &["prove", "--registry", "civil-births", "--entry", "B1", "--height", &h.to_string(), "--out", out.to_str().unwrap()]);
            r.0.then(|| (r.0, serde_json::from_slice::<Value>(&std::fs::read(&out).unwrap()).unwrap(), r.2))
        });
        assert_eq!(p["view"]["version"].as_u64(), Some(*v), "{p}");
        let v = cairn(&["verify", "--state-proof", out.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
        assert!(v.status.success(), "{}", String::from_utf8_lossy(&v.stdout));
    }
    let out = dir.join("absent.json");
    assert!(reg(&c, 3, &["prove", "--registry", "civil-births", "--entry", "B404", "--out", out.to_str().unwrap()]).0);
    let v = cairn(&["verify", "--state-proof", out.to_str().unwrap(), "--trust", trust.to_str().unwrap()]);
    assert!(v.status.success());
    assert_eq!(serde_json::from_slice::<Value>(&std::fs::read(&out).unwrap()).unwrap()["view"]["exists"], false);

    // Each authority's node issues its own registry's credentials, not the other's.
    let cred = |node: usize, g: &str, k: &str| client().get(format!("{}/v1/registry/{g}/entries/{k}/credential", c.nodes[node].url)).send().unwrap();
    assert_eq!(cred(1, "civil-births", "B1").json::<Value>().unwrap()["code"], "registry.not-authority");
    let vc: Value = cred(1, "business-licences", "91110000-1").json().unwrap();
    assert_eq!(vc["issuer"]["name"], "org-2");
    assert_eq!(vc["credentialSubject"]["holder"], "did:example:tea-holdings");
    // Any validator's node gives its verdict: valid, signed by org-2's member key.
    let verdict: Value =
        client().post(format!("{}/v1/registry/credentials/verify", c.nodes[3].url)).body(json!({"credential": vc}).to_string()).send().unwrap().json().unwrap();
    assert_eq!(verdict["valid"], true, "{verdict}");
    let revoked: Value = cred(0, "civil-births", "B1").json().unwrap();
    let verdict: Value = client()
        .post(format!("{}/v1/registry/credentials/verify", c.nodes[2].url))
        .body(json!({"credential": revoked}).to_string())
        .send()
        .unwrap()
        .json()
        .unwrap();
    assert_eq!(verdict["valid"], false);
    assert_eq!(verdict["status"]["revocation"], true, "{verdict}");
}

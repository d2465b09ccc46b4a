//! `cairn bench-state`: the authenticated state on its own, on a real store in a temporary
//! folder: blocks of state writes (one new key per transaction, as a module that writes one
//! key per call would), each block's root computed and committed in the block's batch as a node
//! does; then state proofs generated from disk and verified, on one core; the process's
//! resident memory at the end.

use std::time::Instant;

use anyhow::Context;
use cairn_crypto::Suite;
use cairn_state::{BlockState, EMPTY, StateStore, StoreNodes, key_hash, state_key};
use cairn_store::{BlockCommit, Store};

#[derive(clap::Args, Clone)]
pub struct BenchStateArgs {
    #[arg(long, default_value = "ed25519-sha256")]
    pub suite: Suite,
    /// Keys written in all (one per transaction).
    #[arg(long, default_value_t = 1_000_000)]
    pub keys: u64,
    /// Keys written per block.
    #[arg(long, default_value_t = 20_000)]
    pub keys_per_block: u64,
    /// State proofs generated and verified after the writes.
    #[arg(long, default_value_t = 20_000)]
    pub proofs: u64,
}

/// The `n`th key and its value: 32 bytes of key, as a digest would be, and 61 bytes of value.
fn key_value(suite: Suite, n: u64) -> (Vec<u8>, Vec<u8>) {
    let key = suite.hash(&n.to_be_bytes()).to_vec();
    let value = [&[1u8][..], &suite.hash(&key), &n.to_be_bytes(), &[0u8; 20]].concat();
    (state_key("bench", &key), value)
}

fn rss_mib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmRSS:"))?;
    Some(line.split_whitespace().nth(1)?.parse::<u64>().ok()? / 1024)
}

pub fn run(args: BenchStateArgs) -> anyhow::Result<()> {
    anyhow::ensure!(args.keys_per_block > 0 && args.keys > 0, "--keys and --keys-per-block must be positive");
    let dir = tempfile::tempdir()?;
    let store = Store::open(dir.path(), &[]).context("opening the benchmark store")?;
    let suite = args.suite;
    let blocks = args.keys.div_ceil(args.keys_per_block);
    eprintln!("writing {} keys in {blocks} blocks of {} ({suite})…", args.keys, args.keys_per_block);
    let (mut root, mut written) = (EMPTY, 0u64);
    let (mut execute_s, mut commit_s) = (0f64, 0f64);
    let started = Instant::now();
    for height in 1..=blocks {
        let t = Instant::now();
        let mut state = BlockState::new(suite, &store, height - 1, root, None, height - 1)?;
        let end = (written + args.keys_per_block).min(args.keys);
        for n in written..end {
            let (k, v) = key_value(suite, n);
            // As a module does: read the key first (absent here), then write it.
            anyhow::ensure!(state.get(&k)?.is_none(), "key {n} already written");
            state.put(k, v);
            state.commit_tx();
        }
        let overlay = state.finish(height)?;
        execute_s += t.elapsed().as_secs_f64();
        let t = Instant::now();
        let commit = BlockCommit {
            height,
            block_bytes: height.to_be_bytes().to_vec(),
            state_values: overlay.values.iter().map(|(k, v)| (k.clone(), v.clone())).collect(),
            state_nodes: overlay.nodes.clone(),
            state_root: Some(overlay.root()),
            ..BlockCommit::default()
        };
        store.commit_block(&commit)?;
        commit_s += t.elapsed().as_secs_f64();
        root = overlay.root;
        written = end;
        if height % 50 == 0 || height == blocks {
            eprintln!("  {written} keys, {:.0} keys/s so far, rss {} MiB", written as f64 / started.elapsed().as_secs_f64(), rss_mib().unwrap_or(0));
        }
    }
    let total_s = started.elapsed().as_secs_f64();
    println!(
        "state writes: {:.0} keys/s ({} keys in {:.1} s: executing and computing roots {:.1} s, committing {:.1} s), one block of {} keys per root",
        args.keys as f64 / total_s,
        args.keys,
        total_s,
        execute_s,
        commit_s,
        args.keys_per_block
    );

    // Proofs of keys spread over the whole set, from disk, on this thread (one core).
    let nodes = StoreNodes(&store);
    let root_at = store.root_at(blocks)?;
    anyhow::ensure!(root_at.hash == root, "the stored root is the last block's");
    let sample: Vec<(Vec<u8>, Vec<u8>)> = (0..args.proofs).map(|i| key_value(suite, i * 7919 % args.keys)).collect();
    let t = Instant::now();
    let mut proofs = Vec::with_capacity(sample.len());
    for (k, _) in &sample {
        let (proof, found) = cairn_state::prove(suite, &nodes, root_at, &key_hash(suite, k))?;
        anyhow::ensure!(found.is_some(), "a written key is missing from the tree");
        proofs.push(proof);
    }
    let prove_rate = sample.len() as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    for ((k, v), proof) in sample.iter().zip(&proofs) {
        cairn_state::verify(suite, &root, &key_hash(suite, k), Some(v), proof).context("a proof did not verify")?;
    }
    let verify_rate = sample.len() as f64 / t.elapsed().as_secs_f64();
    let depth = proofs.iter().map(|p| p.siblings.len()).sum::<usize>() as f64 / proofs.len().max(1) as f64;
    println!("state proofs: generated {prove_rate:.0}/s, verified {verify_rate:.0}/s on one core (mean depth {depth:.1}, {} proofs)", proofs.len());
    println!("memory: {} MiB resident; on disk {} MiB", rss_mib().unwrap_or(0), store.disk_space() >> 20);
    Ok(())
}

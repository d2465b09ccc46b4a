//! `cairn bench-registry`: a fresh single node in this process, one registry, N entries written
//! by presigned `registry.put` transactions (one entry each, as a registrar writes them) over
//! HTTP; then lookups by key over the registry of N entries, state proofs of entries generated
//! by the node (over HTTP, one connection) and verified offline on one core.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::Context as _;
use cairn_crypto::KeyPair;
use cairn_module_evidence::cli::frame;
use cairn_module_registry::wire::{Call, MODULE};
use cairn_types::tx::{Call as TxCall, TxBody};
use clap::Args;
use serde_json::json;

use crate::bench::percentile;
use crate::client::http;

const G: &str = "bench-licences";

#[derive(Args, Debug)]
pub struct BenchRegistryArgs {
    /// Entries written.
    #[arg(long, default_value_t = 100_000)]
    pub entries: usize,
    #[arg(long, default_value_t = 500)]
    pub txs_per_request: usize,
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Lookups by key, timed one by one.
    #[arg(long, default_value_t = 1000)]
    pub lookups: usize,
    /// State proofs fetched (and then verified offline).
    #[arg(long, default_value_t = 1000)]
    pub proofs: usize,
}

fn schema() -> Vec<u8> {
    cairn_module_registry::schema::jcs(&json!({
        "type": "object",
        "properties": {"licence": {"type": "string"}, "company": {"type": "string"}, "district": {"type": "string"}},
        "required": ["licence", "company"],
        "x-cairn-indexed": ["district"],
    }))
}

fn put(i: usize) -> Call {
    let content = json!({"fields": {"licence": format!("L{i:08}"), "company": format!("Company {i} Ltd"), "district": format!("D{}", i % 50)}, "personal": {}});
    Call::Put { registry: G.into(), key: format!("L{i:08}"), holder: format!("did:example:company-{i}"), content: cairn_module_registry::schema::jcs(&content) }
}

fn sign(key: &KeyPair, chain: &str, call: &Call, expires: u64) -> Vec<u8> {
    TxBody {
        chain_id: chain.into(),
        signer: key.public_key(),
        nonce: rand::random(),
        expires_at_ms: expires,
        call: TxCall { module: MODULE.into(), method: call.method().into(), args: call.encode() },
    }
    .sign(key)
    .encode()
}

pub fn run(args: BenchRegistryArgs) -> anyhow::Result<()> {
    let tmp = tempfile::tempdir()?;
    let (paths, _) = cairn_node::dev::init_dev(&tmp.path().join("chain"), "127.0.0.1:0".parse()?, cairn_crypto::Suite::Ed25519Sha256)?;
    let key = cairn_node::keys::read_key(&paths.submitter_key)?;
    let config = cairn_node::NodeConfig::load(&paths.config)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let node = rt.block_on(cairn_node::RunningNode::start(config))?;
    let genesis = node.ledger.genesis().clone();
    let base = format!("http://{}", node.addr);
    let target = crate::bench::Target::InProcess { node, rt };
    let chain = genesis.chain_id.clone();

    eprintln!("presigning {} entries…", args.entries);
    let expires = cairn_node::ledger::now_ms() + 50 * 60 * 1000;
    let create =
        sign(&key, &chain, &Call::Create { registry: G.into(), title_zh: "营业执照".into(), title_en: "Business licences".into(), schema: schema() }, expires);
    let requests: Vec<Vec<u8>> =
        crate::bench::presign_with(args.entries, |i, expires| sign(&key, &chain, &put(i), expires)).chunks(args.txs_per_request.max(1)).map(frame).collect();

    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let client = http();
    client_rt.block_on(crate::bench::post(&client, &format!("{base}/v1/transactions?wait=true"), frame(&[create])))?;
    let before = client_rt.block_on(crate::client::get_json(&client, &format!("{base}/v1/status")))?["log_size"].as_u64().unwrap_or(0);
    eprintln!("write phase: {} requests over {} connections…", requests.len(), args.connections);
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    client_rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..args.connections.max(1) {
            let (client, requests, next, url) = (client.clone(), Arc::clone(&requests), Arc::clone(&next), format!("{base}/v1/transactions"));
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = requests.get(i) else { return Ok::<_, anyhow::Error>(()) };
                    crate::bench::post(&client, &url, body.clone()).await?;
                }
            }));
        }
        for t in tasks {
            t.await??;
        }
        crate::bench::wait_for_log(&client, &base, before + args.entries as u64).await
    })?;
    let write_s = start.elapsed().as_secs_f64();

    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let mut random = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let lookup_urls: Vec<String> = (0..args.lookups).map(|_| format!("{base}/v1/registry/{G}/entries/L{:08}", random(args.entries))).collect();
    let proof_urls: Vec<String> = (0..args.proofs).map(|_| format!("{base}/v1/registry/{G}/entries/L{:08}/proof", random(args.entries))).collect();
    eprintln!("read phase: {} lookups, {} proofs…", lookup_urls.len(), proof_urls.len());
    let (lookups, proofs, proof_s) = client_rt.block_on(async {
        let ms = crate::bench_trace::timed_gets(&client, &lookup_urls, |v| v["version"] == 1).await?;
        let t = Instant::now();
        let mut proofs = Vec::with_capacity(proof_urls.len());
        for u in &proof_urls {
            proofs.push(client.get(u).send().await?.error_for_status()?.text().await?);
        }
        anyhow::Ok((ms, proofs, t.elapsed().as_secs_f64()))
    })?;
    // Generation in the node itself (what a proof costs the node, without HTTP), one thread.
    let keys: Vec<Vec<u8>> = (0..args.proofs).map(|_| cairn_module_registry::wire::entry_state_key(G, &format!("L{:08}", random(args.entries)))).collect();
    let (gen_count, gen_s) = match &target {
        crate::bench::Target::InProcess { node, .. } => {
            let t = Instant::now();
            for k in &keys {
                let r = node.ledger.state_receipt(MODULE, k, None)?.map_err(|e| anyhow::anyhow!("state receipt: {e}"))?;
                anyhow::ensure!(r.value.is_some(), "an entry's proof shows it");
            }
            (keys.len(), t.elapsed().as_secs_f64())
        }
        crate::bench::Target::Processes(_) => (0, 1.0),
    };
    let trust = genesis.trust_file();
    let vstart = Instant::now();
    let mut verified = 0usize;
    while vstart.elapsed() < Duration::from_secs(1) {
        for p in &proofs {
            let v = cairn_types::state_receipt::verify_state_receipt(p, &trust, &cairn_node::module_state_view).map_err(|e| anyhow::anyhow!("proof: {e}"))?;
            anyhow::ensure!(v.view["exists"] == true, "an entry's proof shows it");
            verified += 1;
        }
    }
    let verify_rate = verified as f64 / vstart.elapsed().as_secs_f64();
    // The same proofs as one batch: each distinct checkpoint's signatures checked once.
    let refs: Vec<&str> = proofs.iter().map(String::as_str).collect();
    let bstart = Instant::now();
    let mut batch_verified = 0usize;
    while bstart.elapsed() < Duration::from_secs(1) {
        for v in cairn_types::state_receipt::verify_state_receipts(&refs, &trust, &cairn_node::module_state_view) {
            let v = v.map_err(|e| anyhow::anyhow!("proof: {e}"))?;
            anyhow::ensure!(v.view["exists"] == true, "an entry's proof shows it");
            batch_verified += 1;
        }
    }
    let batch_rate = batch_verified as f64 / bstart.elapsed().as_secs_f64();
    // Lookups again, once the store has had the proof phase to settle (compactions of the
    // write phase finish in the background).
    let settled = client_rt.block_on(crate::bench_trace::timed_gets(&client, &lookup_urls, |v| v["version"] == 1))?;
    let disk = match &target {
        crate::bench::Target::InProcess { node, .. } => node.ledger.disk_bytes(),
        crate::bench::Target::Processes(_) => 0,
    };
    target.stop().context("stopping the node")?;

    let writes = args.entries as f64 / write_s;
    println!("cairn bench-registry: {} entries in one registry, single node, ed25519-sha256", args.entries);
    println!("  entry writes (registry.put, one per signed transaction, {} connections): {writes:.0} entries/s ({write_s:.1} s)", args.connections);
    println!(
        "  lookup by key over {} entries ({} lookups): right after the writes p50 {:.2} ms, p99 {:.2} ms; after the proof phase p50 {:.2} ms, p99 {:.2} ms",
        args.entries,
        lookups.len(),
        percentile(&lookups, 0.5),
        percentile(&lookups, 0.99),
        percentile(&settled, 0.5),
        percentile(&settled, 0.99)
    );
    println!(
        "  state proofs of entries: generated {:.0}/s in the node (one thread), {:.0}/s over HTTP (one connection); verified offline on one core {verify_rate:.0}/s one by one, {batch_rate:.0}/s as a batch ({} checkpoints)",
        gen_count as f64 / gen_s,
        proofs.len() as f64 / proof_s,
        proofs
            .iter()
            .filter_map(|p| serde_json::from_str::<serde_json::Value>(p).ok().and_then(|v| v["checkpoint"].as_str().map(str::to_string)))
            .collect::<std::collections::BTreeSet<_>>()
            .len()
    );
    println!("  disk: {:.0} MB ({:.0} bytes per entry)", disk as f64 / 1e6, disk as f64 / args.entries as f64);
    Ok(())
}

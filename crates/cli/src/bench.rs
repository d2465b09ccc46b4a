//! `cairn bench`: a load generator against a fresh single-node chain (in this process, on
//! loopback, through the HTTP API). Transactions are signed before the clock starts. In the
//! same run it measures this machine's single-core signature verifications per second, so
//! throughput can be read as a ratio of what the hardware allows.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use cairn_crypto::{Domain, KeyPair, Suite};
use cairn_module_evidence::wire::{DigestAlg, RecordInput};

use crate::client::http;
use cairn_module_evidence::cli::{frame, sign_deposit};

#[derive(clap::Args, Clone)]
pub struct BenchArgs {
    #[arg(long, default_value = "ed25519-sha256")]
    pub suite: Suite,
    /// Transactions in the throughput phase.
    #[arg(long, default_value_t = 100_000)]
    pub txs: usize,
    /// Evidence records per transaction (1 = individually signed deposits; 1000 = batch deposits).
    #[arg(long, default_value_t = 1)]
    pub records_per_tx: usize,
    /// Transactions per HTTP request.
    #[arg(long, default_value_t = 250)]
    pub txs_per_request: usize,
    /// Concurrent HTTP connections.
    #[arg(long, default_value_t = 4)]
    pub connections: usize,
    /// Load for the latency phase, in transactions per second (default: half the measured peak).
    #[arg(long)]
    pub latency_rate: Option<f64>,
    /// Length of the latency phase.
    #[arg(long, default_value_t = 10)]
    pub latency_seconds: u64,
    /// Data folder for the benchmark chain (default: a temporary folder, removed afterwards).
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
    /// Validators: 1 runs a single node in this process; more start a consortium of `cairn
    /// node` processes on loopback (`cairn testnet`) and spread the load over all of them.
    #[arg(long, default_value_t = 1)]
    pub validators: usize,
    /// Make the benchmark chain (single node or consortium) without evidence digest state
    /// (genesis `evidence_digest_state = false`), to measure what the state costs.
    #[arg(long)]
    pub no_digest_state: bool,
}

/// Verifications per second on all cores at once (the machine's signature-checking capacity),
/// one signature at a time or (`batched`) as validators check them: in batches.
fn verify_rate_all_cores(suite: Suite, batched: bool) -> f64 {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    std::thread::scope(|s| {
        let hs: Vec<_> = (0..threads).map(|_| s.spawn(move || if batched { verify_rate_batched(suite) } else { verify_rate(suite) })).collect();
        hs.into_iter().map(|h| h.join().expect("verifier thread")).sum()
    })
}

/// Single-core verifications per second of transaction-sized messages from 16 signers, checked
/// 128 at a time with `cairn_crypto::verify_batch` (as admission and block checks do).
fn verify_rate_batched(suite: Suite) -> f64 {
    let keys: Vec<KeyPair> = (0..16).map(|_| KeyPair::generate(suite)).collect();
    let pks: Vec<_> = keys.iter().map(|k| k.public_key()).collect();
    let msgs: Vec<Vec<u8>> = (0..128u32).map(|i| [i.to_be_bytes().as_slice(), &[7u8; 196]].concat()).collect();
    let sigs: Vec<Vec<u8>> = msgs.iter().enumerate().map(|(i, m)| keys[i % 16].sign(Domain::Transaction, "bench", m)).collect();
    let items: Vec<cairn_crypto::SignedMessage> = msgs
        .iter()
        .zip(&sigs)
        .enumerate()
        .map(|(i, (m, s))| cairn_crypto::SignedMessage { key: &pks[i % 16], domain: Domain::Transaction, chain_id: "bench", message: m, signature: s })
        .collect();
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(1500) {
        assert!(cairn_crypto::verify_batch(&items).iter().all(|ok| *ok), "bench signatures verify");
        n += items.len() as u64;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

/// The chain under load: a node in this process, or validator processes.
pub(crate) enum Target {
    InProcess { node: cairn_node::RunningNode, rt: tokio::runtime::Runtime },
    Processes(Validators),
}

/// Validator processes; a failed run leaves none behind.
pub(crate) struct Validators(Vec<std::process::Child>);

impl Drop for Validators {
    fn drop(&mut self) {
        for c in self.0.iter_mut() {
            // SIGINT first: each node stops the way Ctrl-C stops it.
            unsafe { libc::kill(c.id() as i32, libc::SIGINT) };
        }
        for c in self.0.iter_mut() {
            let _ = c.wait();
        }
    }
}

impl Target {
    pub(crate) fn stop(self) -> anyhow::Result<()> {
        match self {
            Target::InProcess { node, rt } => Ok(rt.block_on(node.shutdown())?),
            Target::Processes(validators) => {
                drop(validators);
                Ok(())
            }
        }
    }
}

pub(crate) fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

/// Single-core SM2 verifications per second of a 200-byte message, each way in the same run:
/// the `sm2` crate's (the reference), ours before a key has a table, and ours with one; and the
/// milliseconds one key's table takes to build.
pub(crate) struct Sm2Rates {
    pub reference: f64,
    pub untabled: f64,
    pub tabled: f64,
    pub tabled_batched: f64,
    pub table_build_ms: f64,
}

pub(crate) fn sm2_rates() -> Sm2Rates {
    use cairn_crypto::sm2fast;
    let key = KeyPair::generate(Suite::Sm2Sm3);
    let sec1 = key.public_key().as_bytes().to_vec();
    let msg = vec![7u8; 200];
    let der = key.sign_raw(&msg);
    let parsed = sm2fast::Key::from_sec1(&sec1).expect("a generated key");
    let rate = |f: &dyn Fn() -> bool| {
        let start = Instant::now();
        let mut n = 0u64;
        while start.elapsed() < Duration::from_millis(1500) {
            for _ in 0..50 {
                assert!(f(), "bench signature verifies");
            }
            n += 50;
        }
        n as f64 / start.elapsed().as_secs_f64()
    };
    let build = Instant::now();
    let table = sm2fast::Table::for_key(&parsed);
    let table_build_ms = build.elapsed().as_secs_f64() * 1e3;
    let reference = rate(&|| sm2fast::reference_verify(&sec1, &msg, &der));
    let untabled = rate(&|| sm2fast::Sig::from_der(&der).is_some_and(|s| sm2fast::verify_prehash(&parsed, None, &parsed.message_hash(&msg), &s)));
    let tabled = rate(&|| sm2fast::Sig::from_der(&der).is_some_and(|s| sm2fast::verify_prehash(&parsed, Some(&table), &parsed.message_hash(&msg), &s)));
    let sig = sm2fast::Sig::from_der(&der).expect("a minimal DER signature");
    let batch: Vec<(&sm2fast::Key, Option<&sm2fast::Table>, [u8; 32], sm2fast::Sig)> =
        (0..64).map(|_| (&parsed, Some(&table), parsed.message_hash(&msg), sig)).collect();
    // `rate` counts calls; each call checks 64 signatures.
    let tabled_batched = rate(&|| sm2fast::verify_prehash_many(&batch[..]).iter().all(|ok| *ok)) * 64.0;
    Sm2Rates { reference, untabled, tabled, tabled_batched, table_build_ms }
}

/// Single-core verifications per second of a transaction-sized message.
fn verify_rate(suite: Suite) -> f64 {
    let key = KeyPair::generate(suite);
    let pk = key.public_key();
    let msg = vec![7u8; 200];
    let sig = key.sign(Domain::Transaction, "bench", &msg);
    let start = Instant::now();
    let mut n = 0u64;
    while start.elapsed() < Duration::from_millis(1500) {
        for _ in 0..100 {
            pk.verify(Domain::Transaction, "bench", &msg, &sig).expect("verifies");
        }
        n += 100;
    }
    n as f64 / start.elapsed().as_secs_f64()
}

fn records(suite: Suite, seed: u64, n: usize) -> Vec<RecordInput> {
    let alg = DigestAlg::for_suite(suite);
    (0..n)
        .map(|i| RecordInput {
            digest_alg: alg,
            digest: alg.digest(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()),
            size: 1024,
            media_type: "application/pdf".into(),
            title: format!("bench record {seed}-{i}"),
            reference: Some(format!("bench-{}", seed % 1000)),
            metadata: Default::default(),
        })
        .collect()
}

/// Signs `n` deposits on all cores (not timed).
fn presign(key: &KeyPair, chain: &str, suite: Suite, n: usize, per_tx: usize, seed: u64) -> Vec<Vec<u8>> {
    presign_with(n, |i, expires| sign_deposit(key, chain, records(suite, seed + i as u64, per_tx), expires).encode())
}

/// `n` transactions made by `make(i, expires_at_ms)`, signed on every core.
pub(crate) fn presign_with(n: usize, make: impl Fn(usize, u64) -> Vec<u8> + Sync) -> Vec<Vec<u8>> {
    let threads = std::thread::available_parallelism().map_or(2, |n| n.get());
    let expires = cairn_node::ledger::now_ms() + 50 * 60 * 1000;
    let chunk = n.div_ceil(threads).max(1);
    let make = &make;
    std::thread::scope(|s| {
        let handles: Vec<_> =
            (0..n).step_by(chunk).map(|start| s.spawn(move || (start..(start + chunk).min(n)).map(|i| make(i, expires)).collect::<Vec<_>>())).collect();
        handles.into_iter().flat_map(|h| h.join().expect("signer thread")).collect()
    })
}

pub(crate) async fn post(client: &reqwest::Client, url: &str, body: Vec<u8>) -> anyhow::Result<reqwest::StatusCode> {
    let mut delay = Duration::from_millis(5);
    for _ in 0..200 {
        let resp = client.post(url).header("content-type", "application/octet-stream").body(body.clone()).send().await?;
        let status = resp.status();
        let text = resp.text().await?;
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(200));
            continue;
        }
        if !status.is_success() {
            bail!("{status}: {text}");
        }
        if text.contains("\"rejected\"") {
            bail!("transactions rejected: {}", &text[..text.len().min(500)]);
        }
        return Ok(status);
    }
    bail!("mempool stayed full")
}

pub(crate) async fn wait_for_log(client: &reqwest::Client, base: &str, leaves: u64) -> anyhow::Result<()> {
    loop {
        let s = crate::client::get_json(client, &format!("{base}/v1/status")).await?;
        if s["log_size"].as_u64().unwrap_or(0) >= leaves {
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Starts `n` validator processes of a fresh test network in `dir`; returns them with the
/// API base URLs, a submitter key and the genesis.
pub(crate) fn start_consortium(
    dir: &std::path::Path,
    n: usize,
    suite: Suite,
    digest_state: bool,
) -> anyhow::Result<(Target, Vec<String>, KeyPair, cairn_types::genesis::Genesis)> {
    let free = |p: u16| std::net::TcpListener::bind(("127.0.0.1", p)).is_ok();
    let base = (20_000u16..32_000).step_by(97).find(|b| (0..2 * n as u16).all(|i| free(b + i))).context("no free ports")?;
    let mut genesis = crate::testnet::init(dir, &crate::testnet::InitOptions { validators: n, suite, p2p_base_port: base, api_base_port: base + n as u16 })?;
    if !digest_state {
        // Every validator reads the one genesis.json (the trust file does not name the setting).
        digest_state_off(&mut genesis)?;
        std::fs::write(dir.join("genesis.json"), genesis.to_json())?;
    }
    let exe = std::env::current_exe()?;
    let mut validators = Validators(Vec::new());
    let mut urls = Vec::new();
    for i in 1..=n {
        let vdir = crate::testnet::validator_dir(dir, i);
        let log = std::fs::File::create(vdir.join("node.log"))?;
        validators
            .0
            .push(std::process::Command::new(&exe).args(["node", "--config"]).arg(vdir.join("config.toml")).stdout(log.try_clone()?).stderr(log).spawn()?);
        urls.push(format!("http://127.0.0.1:{}", base + n as u16 + i as u16 - 1));
    }
    let key = cairn_node::keys::read_key(&crate::testnet::validator_dir(dir, 1).join("keys/submitter.key"))?;
    let client = reqwest::blocking::Client::new();
    for u in &urls {
        let start = Instant::now();
        while client.get(format!("{u}/healthz")).send().is_err() {
            if start.elapsed() > Duration::from_secs(30) {
                bail!("validator at {u} did not start; see {}", dir.display());
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
    // Wait for the first final block, so the throughput phase does not time the start-up.
    let start = Instant::now();
    while urls.iter().any(|u| {
        client.get(format!("{u}/v1/status")).send().ok().and_then(|r| r.json::<serde_json::Value>().ok()).is_none_or(|s| s["height"].as_u64().unwrap_or(0) < 1)
    }) {
        if start.elapsed() > Duration::from_secs(60) {
            bail!("the consortium finalized no block in 60 s; see the node logs in {}", dir.display());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok((Target::Processes(validators), urls, key, genesis))
}

pub fn run(args: BenchArgs) -> anyhow::Result<()> {
    let suite = args.suite;
    eprintln!("measuring single-core {suite} verifications per second…");
    let verifies = verify_rate(suite);
    let verifies_all = verify_rate_all_cores(suite, false);
    let verifies_all_batched = verify_rate_all_cores(suite, true);
    let sm2 = (suite == Suite::Sm2Sm3).then(sm2_rates);

    let tmp;
    let dir = match &args.data_dir {
        Some(d) => d.clone(),
        None => {
            tmp = tempfile::tempdir()?;
            tmp.path().join("chain")
        }
    };
    let (target, urls, key, genesis) = if args.validators > 1 {
        eprintln!("starting {} validators…", args.validators);
        start_consortium(&dir, args.validators, suite, !args.no_digest_state)?
    } else {
        let (paths, _) = cairn_node::dev::init_dev(&dir, "127.0.0.1:0".parse()?, suite)?;
        if args.no_digest_state {
            let mut g = cairn_types::genesis::Genesis::from_json(&std::fs::read(&paths.genesis)?)?;
            digest_state_off(&mut g)?;
            std::fs::write(&paths.genesis, g.to_json())?;
        }
        let config = cairn_node::NodeConfig::load(&paths.config)?;
        let key = cairn_node::keys::read_key(&paths.submitter_key)?;
        let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
        let node = rt.block_on(cairn_node::RunningNode::start(config))?;
        let urls = vec![format!("http://{}", node.addr)];
        let genesis = node.ledger.genesis().clone();
        (Target::InProcess { node, rt }, urls, key, genesis)
    };
    let base = urls[0].clone();
    let chain = genesis.chain_id.clone();

    eprintln!("signing {} transactions of {} record(s)…", args.txs, args.records_per_tx);
    let txs = presign(&key, &chain, suite, args.txs, args.records_per_tx, 1);
    let bytes: usize = txs.iter().map(Vec::len).sum();
    let requests: Vec<Vec<u8>> = txs.chunks(args.txs_per_request).map(frame).collect();
    drop(txs);

    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let client = http();
    let leaves_before = client_rt.block_on(crate::client::get_json(&client, &format!("{base}/v1/status")))?["log_size"].as_u64().unwrap_or(0);
    let expected = leaves_before + (args.txs * args.records_per_tx) as u64;
    eprintln!("throughput phase: {} requests over {} connections…", requests.len(), args.connections);
    let requests = Arc::new(requests);
    let next = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    client_rt.block_on(async {
        let mut tasks = Vec::new();
        for c in 0..args.connections {
            // Connections spread over the validators: a client may submit to any of them.
            let url = format!("{}/v1/transactions", urls[c % urls.len()]);
            let (client, requests, next) = (client.clone(), Arc::clone(&requests), Arc::clone(&next));
            tasks.push(tokio::spawn(async move {
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = requests.get(i) else { return Ok::<_, anyhow::Error>(()) };
                    post(&client, &url, body.clone()).await?;
                }
            }));
        }
        for t in tasks {
            t.await??;
        }
        wait_for_log(&client, &base, expected).await
    })?;
    let elapsed = start.elapsed().as_secs_f64();
    let tps = args.txs as f64 / elapsed;
    let rps = (args.txs * args.records_per_tx) as f64 / elapsed;

    // Latency at a fixed load: paced requests with wait=true, each timed submit → committed.
    let rate = args.latency_rate.unwrap_or(tps / 2.0);
    let tick = Duration::from_millis(20);
    let per_tick = ((rate * tick.as_secs_f64()).round() as usize).max(1);
    let ticks = (args.latency_seconds * 1000 / tick.as_millis() as u64) as usize;
    eprintln!("latency phase: {:.0} tx/s for {}s ({} tx every {:?})…", rate, args.latency_seconds, per_tick, tick);
    let lat_txs = presign(&key, &chain, suite, per_tick * ticks, args.records_per_tx, 10_000_000);
    let lat_requests: Vec<Vec<u8>> = lat_txs.chunks(per_tick).map(frame).collect();
    let mut latencies: Vec<f64> = client_rt.block_on(async {
        let mut interval = tokio::time::interval(tick);
        interval.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Burst);
        let mut tasks = Vec::new();
        for (i, body) in lat_requests.into_iter().enumerate() {
            interval.tick().await;
            let (client, url) = (client.clone(), format!("{}/v1/transactions?wait=true", urls[i % urls.len()]));
            tasks.push(tokio::spawn(async move {
                let t = Instant::now();
                let status = post(&client, &url, body).await?;
                if status != reqwest::StatusCode::OK {
                    bail!("not all committed within the wait ({status})");
                }
                Ok::<_, anyhow::Error>(t.elapsed().as_secs_f64() * 1000.0)
            }));
        }
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await??);
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    latencies.sort_by(|a, b| a.partial_cmp(b).unwrap());

    // Offline receipt verification, one core.
    let sample: Vec<String> = client_rt.block_on(async {
        let mut out = Vec::new();
        let found = crate::client::get_json(&client, &format!("{base}/v1/evidence?reference=bench-1&limit=200")).await?;
        for r in found["records"].as_array().context("records")? {
            let id = r["record"]["id"].as_str().context("id")?;
            out.push(client.get(format!("{base}/v1/evidence/{id}/receipt")).send().await?.text().await?);
        }
        Ok::<_, anyhow::Error>(out)
    })?;
    let trust = genesis.trust_file();
    let vstart = Instant::now();
    let mut verified = 0usize;
    while vstart.elapsed() < Duration::from_secs(1) && !sample.is_empty() {
        for r in &sample {
            cairn_module_evidence::receipt::verify_receipt(r, &trust, None).map_err(|e| anyhow::anyhow!("receipt invalid: {e}"))?;
            verified += 1;
        }
    }
    let receipts_per_s = verified as f64 / vstart.elapsed().as_secs_f64();

    let m = client_rt.block_on(async { client.get(format!("{base}/metrics")).send().await?.text().await })?;
    target.stop()?;

    let n = args.validators.max(1);
    println!(
        "cairn bench  suite={suite}  validators={n}  records/tx={}  txs={}  request={} txs  connections={}",
        args.records_per_tx, args.txs, args.txs_per_request, args.connections
    );
    println!(
        "  machine: {} cores; {suite} verifications/s: {:.0} on one core, {:.0} on all cores; {:.0} on all cores in batches of 128",
        std::thread::available_parallelism().map_or(0, |n| n.get()),
        verifies,
        verifies_all,
        verifies_all_batched
    );
    if let Some(r) = &sm2 {
        println!(
            "  sm2 verify on one core: {:.0}/s with a key's table in batches of 64 ({:.0}/s one at a time), {:.0}/s before it has one, {:.0}/s by the sm2 crate (reference); ratio batched / reference = {:.2}, single / reference = {:.2} (target >= 4); a table takes {:.1} ms to build",
            r.tabled_batched,
            r.tabled,
            r.untabled,
            r.reference,
            r.tabled_batched / r.reference,
            r.tabled / r.reference,
            r.table_build_ms
        );
    }
    println!("  throughput: {:.0} tx/s committed, {:.0} records/s ({:.1} MB/s of transactions) in {:.2}s", tps, rps, bytes as f64 / elapsed / 1e6, elapsed);
    println!("  ratio: committed tx/s / single-core verifications/s = {:.3}", tps / verifies);
    if n > 1 {
        println!("  ratio: (finalized tx/s x {n} validators) / all-core verifications/s = {:.3}", tps * n as f64 / verifies_all);
        println!("  ratio: (finalized tx/s x {n} validators) / all-core batched verifications/s = {:.3}", tps * n as f64 / verifies_all_batched);
    }
    println!(
        "  latency at {:.0} tx/s (submit → committed: durable, and with validators final and under a quorum checkpoint; per request of {} tx): p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} requests)",
        rate,
        per_tick,
        percentile(&latencies, 0.5),
        percentile(&latencies, 0.99),
        latencies.last().copied().unwrap_or(f64::NAN),
        latencies.len()
    );
    println!("  offline receipt verification: {:.0} receipts/s on one core ({} distinct receipts)", receipts_per_s, sample.len());
    for line in m.lines().filter(|l| {
        [
            "cairn_block_commit_seconds_sum",
            "cairn_block_commit_seconds_count",
            "cairn_blocks_total",
            "cairn_view_changes_total",
            "cairn_proposal_signatures_checked_total",
            "cairn_gossip_dropped_total",
            "cairn_finalization_seconds_sum",
            "cairn_finalization_seconds_count",
        ]
        .iter()
        .any(|p| l.starts_with(p))
    }) {
        println!("  node: {line}");
    }
    Ok(())
}

/// Turns the evidence module's digest state off in a genesis `cairn dev` or `testnet init` made.
fn digest_state_off(g: &mut cairn_types::genesis::Genesis) -> anyhow::Result<()> {
    let params = cairn_module_evidence::EvidenceParams { digest_state: false, ..cairn_module_evidence::EvidenceParams::of(g).map_err(anyhow::Error::msg)? };
    g.params.modules.insert(cairn_module_evidence::wire::MODULE.to_string(), params.to_json());
    // A genesis of the legacy form names them in the core's members: they move.
    g.params.max_records_per_tx = None;
    g.params.evidence_digest_state = false;
    Ok(())
}

//! `cairn bench-trace`: the traceability module on a fresh single-node chain in this process (or
//! `--validators N` processes of a fresh test network), through its GS1 EPCIS 2.0 binding on
//! loopback, as a warehouse system would use it: capture throughput (documents of 100 events,
//! signed by the node's agent key), then, over the store that built, queries by EPC and 10-hop
//! traces (p50/p99 over many). In the same run it measures how many events one core prepares
//! per second (schema check and CBV 2.0 hash: what the capturing node does to each event, and
//! each other validator again when the capture reaches it by gossip), the limit the capture
//! rate is read against.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, bail};
use serde_json::{Value, json};

use crate::bench::percentile;
use crate::client::http;

#[derive(clap::Args, Clone)]
pub struct BenchTraceArgs {
    /// Events captured in all (the store queries and traces then run over).
    #[arg(long, default_value_t = 100_000)]
    pub events: usize,
    /// Events per captured document.
    #[arg(long, default_value_t = 100)]
    pub events_per_document: usize,
    /// Concurrent HTTP connections during capture.
    #[arg(long, default_value_t = 2)]
    pub connections: usize,
    /// Queries by EPC measured (each a random captured EPC).
    #[arg(long, default_value_t = 1000)]
    pub queries: usize,
    /// Traces measured (each back through a 10-hop chain of transformations).
    #[arg(long, default_value_t = 200)]
    pub traces: usize,
    /// Validator processes of a fresh test network (each captures at its own agent key; the
    /// connections spread over them); 1: a single node in this process.
    #[arg(long, default_value_t = 1)]
    pub validators: usize,
}

const CONTEXT: &str = "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld";
/// Hops of the transformation chains the traces follow (the 10-hop trace).
const CHAIN_HOPS: usize = 10;
const BIZ_STEPS: [&str; 5] = ["commissioning", "packing", "shipping", "receiving", "storing"];

fn epc(n: usize) -> String {
    format!("urn:epc:id:sgtin:4012345.{:06}.{}", 100_000 + n % 900_000, n)
}

fn object_event(n: usize) -> Value {
    json!({
        "type": "ObjectEvent",
        "eventTime": format!("2026-06-{:02}T{:02}:{:02}:00.000+08:00", 1 + n % 28, n % 24, n % 60),
        "eventTimeZoneOffset": "+08:00",
        "epcList": [epc(n)],
        "action": "OBSERVE",
        "bizStep": BIZ_STEPS[n % BIZ_STEPS.len()],
        "disposition": "in_progress",
        "readPoint": {"id": format!("urn:epc:id:sgln:4012345.{:05}.0", n % 1000)},
    })
}

/// Chain `c`'s hop `h`: a transformation of lot h into lot h+1, a day apart.
fn chain_event(c: usize, h: usize) -> Value {
    let lot = |k: usize| format!("urn:epc:class:lgtin:4012345.099999.C{c}-L{k}");
    json!({
        "type": "TransformationEvent",
        "eventTime": format!("2026-07-{:02}T10:00:00.000+08:00", 1 + h),
        "eventTimeZoneOffset": "+08:00",
        "inputQuantityList": [{"epcClass": lot(h), "quantity": 100, "uom": "KGM"}],
        "outputQuantityList": [{"epcClass": lot(h + 1), "quantity": 95, "uom": "KGM"}],
        "bizStep": "commissioning",
    })
}

fn document(events: Vec<Value>) -> Value {
    json!({"@context": [CONTEXT], "type": "EPCISDocument", "schemaVersion": "2.0", "creationDate": "2026-06-01T00:00:00Z", "epcisBody": {"eventList": events}})
}

/// Events one core prepares per second (schema, CBV rules, event hash, identifiers).
fn prepare_rate() -> f64 {
    let doc = document((0..100).map(object_event).collect());
    let parsed = cairn_module_trace::prepare::parse_document(&doc).expect("bench document");
    let start = Instant::now();
    let mut n = 0usize;
    while start.elapsed() < Duration::from_millis(1500) {
        let (ok, problems) = cairn_module_trace::prepare::prepare_document(&parsed, false);
        assert!(problems.is_empty(), "{problems:?}");
        n += ok.len();
    }
    n as f64 / start.elapsed().as_secs_f64()
}

async fn capture(client: &reqwest::Client, base: &str, body: Vec<u8>) -> anyhow::Result<String> {
    let mut delay = Duration::from_millis(5);
    for _ in 0..400 {
        let resp = client.post(format!("{base}/epcis/capture")).header("content-type", "application/json").body(body.clone()).send().await?;
        let status = resp.status();
        if status == reqwest::StatusCode::SERVICE_UNAVAILABLE || status == reqwest::StatusCode::TOO_MANY_REQUESTS {
            tokio::time::sleep(delay).await;
            delay = (delay * 2).min(Duration::from_millis(200));
            continue;
        }
        let location = resp.headers().get("location").and_then(|l| l.to_str().ok()).map(str::to_string);
        let text = resp.text().await?;
        match (status.as_u16(), location) {
            (202, Some(l)) => return Ok(l),
            _ => bail!("capture: {status}: {text}"),
        }
    }
    bail!("capture: the node stayed busy")
}

async fn wait_job(client: &reqwest::Client, base: &str, location: &str) -> anyhow::Result<()> {
    loop {
        let job = crate::client::get_json(client, &format!("{base}{location}")).await?;
        if job["running"] == false {
            if job["success"] != true {
                bail!("capture job failed: {job}");
            }
            return Ok(());
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

pub(crate) async fn timed_gets(client: &reqwest::Client, urls: &[String], check: impl Fn(&Value) -> bool) -> anyhow::Result<Vec<f64>> {
    let mut ms = Vec::with_capacity(urls.len());
    for url in urls {
        let start = Instant::now();
        let v = crate::client::get_json(client, url).await?;
        ms.push(start.elapsed().as_secs_f64() * 1000.0);
        if !check(&v) {
            bail!("unexpected answer from {url}: {}", v.to_string().chars().take(300).collect::<String>());
        }
    }
    ms.sort_by(f64::total_cmp);
    Ok(ms)
}

pub fn run(args: BenchTraceArgs) -> anyhow::Result<()> {
    eprintln!("measuring single-core event preparation…");
    let prepare = prepare_rate();
    let tmp = tempfile::tempdir()?;
    let n = args.validators.max(1);
    let (target, urls) = start(tmp.path(), n)?;
    let base = urls[0].clone();

    let chains = (args.traces / 20).max(1);
    let per_doc = args.events_per_document.clamp(1, 1000);
    eprintln!("building {} documents of {per_doc} events…", args.events.div_ceil(per_doc));
    let mut docs: Vec<Vec<u8>> = (0..args.events)
        .step_by(per_doc)
        .map(|s| serde_json::to_vec(&document((s..(s + per_doc).min(args.events)).map(object_event).collect())).unwrap())
        .collect();
    let chain_docs: Vec<Vec<u8>> = (0..chains).map(|c| serde_json::to_vec(&document((0..CHAIN_HOPS).map(|h| chain_event(c, h)).collect())).unwrap()).collect();

    let client_rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let client = http();
    let total_docs = docs.len();
    let docs = Arc::new(std::mem::take(&mut docs));
    let next = Arc::new(AtomicUsize::new(0));
    eprintln!("capture phase: {} events over {} connections…", args.events, args.connections);
    let start = Instant::now();
    client_rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..args.connections.max(1) {
            // Connections spread over the validators: each captures at its own.
            let (client, docs, next, at) = (client.clone(), Arc::clone(&docs), Arc::clone(&next), urls[tasks.len() % n].clone());
            tasks.push(tokio::spawn(async move {
                let mut jobs = Vec::new();
                loop {
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(body) = docs.get(i) else { break };
                    jobs.push((at.clone(), capture(&client, &at, body.clone()).await?));
                }
                Ok::<_, anyhow::Error>(jobs)
            }));
        }
        let mut jobs = Vec::new();
        for t in tasks {
            jobs.extend(t.await??);
        }
        for (at, j) in &jobs {
            wait_job(&client, at, j).await?;
        }
        // Queries run at the first validator: every capture must be in its log first.
        let mut leaves = 0;
        for u in &urls {
            leaves = leaves.max(crate::client::get_json(&client, &format!("{u}/v1/status")).await?["log_size"].as_u64().unwrap_or(0));
        }
        crate::bench::wait_for_log(&client, &base, leaves).await?;
        anyhow::Ok(())
    })?;
    let capture_s = start.elapsed().as_secs_f64();
    let rate = args.events as f64 / capture_s;
    client_rt.block_on(async {
        for d in &chain_docs {
            let job = capture(&client, &base, d.clone()).await?;
            wait_job(&client, &base, &job).await?;
        }
        anyhow::Ok(())
    })?;

    eprintln!("query phase: {} queries by EPC, {} traces of {CHAIN_HOPS} hops…", args.queries, args.traces);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let mut random = |n: usize| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        (seed % n as u64) as usize
    };
    let query_urls: Vec<String> = (0..args.queries).map(|_| format!("{base}/epcis/events?MATCH_epc={}", epc(random(args.events)))).collect();
    let trace_urls: Vec<String> =
        (0..args.traces).map(|i| format!("{base}/epcis/trace?epc={}&direction=back&hops={CHAIN_HOPS}", url_lot(i % chains, CHAIN_HOPS))).collect();
    let (queries, traces) = client_rt.block_on(async {
        let q = timed_gets(&client, &query_urls, |v| {
            v.pointer("/epcisBody/queryResults/resultsBody/eventList").and_then(Value::as_array).is_some_and(|l| l.len() == 1)
        })
        .await?;
        let t = timed_gets(&client, &trace_urls, |v| v["events"].as_array().is_some_and(|l| l.len() == CHAIN_HOPS)).await?;
        anyhow::Ok((q, t))
    })?;
    let disk = match &target {
        crate::bench::Target::InProcess { node, .. } => node.ledger.disk_bytes(),
        crate::bench::Target::Processes(_) => dir_bytes(&crate::testnet::validator_dir(tmp.path(), 1))?,
    };
    target.stop().context("stopping the chain")?;

    let nodes = if n == 1 { "single node".to_string() } else { format!("{n} validators (disk: validator 1's folder)") };
    println!("cairn bench-trace: {} events in {total_docs} documents of {per_doc}, {nodes}, ed25519-sha256", args.events);
    println!("  event preparation (schema + CBV 2.0 hash), one core: {prepare:.0} events/s");
    println!(
        "  capture through /epcis/capture ({} connections): {rate:.0} events/s ({capture_s:.1} s) = {:.2} x one core's preparation rate",
        args.connections,
        rate / prepare
    );
    println!(
        "  query by EPC over {} events ({} queries): p50 {:.2} ms, p99 {:.2} ms",
        args.events,
        queries.len(),
        percentile(&queries, 0.5),
        percentile(&queries, 0.99)
    );
    println!(
        "  {CHAIN_HOPS}-hop trace with receipts ({} traces): p50 {:.2} ms, p99 {:.2} ms",
        traces.len(),
        percentile(&traces, 0.5),
        percentile(&traces, 0.99)
    );
    println!("  disk: {:.0} MB ({:.0} bytes per event)", disk as f64 / 1e6, disk as f64 / args.events as f64);
    Ok(())
}

/// A single node in this process, or `n` validator processes of a fresh test network in
/// `dir`: the chain and its API base URLs.
fn start(dir: &std::path::Path, n: usize) -> anyhow::Result<(crate::bench::Target, Vec<String>)> {
    if n > 1 {
        eprintln!("starting {n} validators…");
        let (target, urls, _, _) = crate::bench::start_consortium(dir, n, cairn_crypto::Suite::Ed25519Sha256, true)?;
        return Ok((target, urls));
    }
    let (paths, _) = cairn_node::dev::init_dev(&dir.join("chain"), "127.0.0.1:0".parse()?, cairn_crypto::Suite::Ed25519Sha256)?;
    let config = cairn_node::NodeConfig::load(&paths.config)?;
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build()?;
    let node = rt.block_on(cairn_node::RunningNode::start(config))?;
    let url = format!("http://{}", node.addr);
    Ok((crate::bench::Target::InProcess { node, rt }, vec![url]))
}

/// Bytes of the files under `dir`.
fn dir_bytes(dir: &std::path::Path) -> anyhow::Result<u64> {
    let mut total = 0;
    for entry in std::fs::read_dir(dir)? {
        let entry = entry?;
        let meta = entry.metadata()?;
        total += if meta.is_dir() { dir_bytes(&entry.path())? } else { meta.len() };
    }
    Ok(total)
}

fn url_lot(c: usize, k: usize) -> String {
    url::form_urlencoded::byte_serialize(format!("urn:epc:class:lgtin:4012345.099999.C{c}-L{k}").as_bytes()).collect()
}

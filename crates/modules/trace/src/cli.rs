//! `cairn trace ...`: capture EPCIS 2.0 documents signed with your own member key (the events
//! checked and hashed here, as the node would), query the repository, trace a product back or
//! forward. Talks to a node over its HTTP API.

use std::io::Write;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use cairn_module::cli::{CliEnv, CliError, Context, Http, ModuleCli};
use cairn_types::tx::{Call, TxBody};
use clap::{Args, FromArgMatches, Subcommand};
use serde_json::Value;

use crate::prepare::{parse_document, prepare_event};
use crate::wire::{CaptureArgs, EventRecord, MAX_EVENTS_PER_CAPTURE, METHOD_CAPTURE};

const TX_TTL_MS: u64 = 10 * 60 * 1000;
const HTTP_TIMEOUT_S: u64 = 120;
/// Room left in a transaction for its envelope and signature beyond the capture's arguments.
const TX_OVERHEAD_BYTES: usize = 1024;

pub const CLI: ModuleCli = ModuleCli { module: crate::wire::MODULE, command, run, state_view: Some(crate::state_view) };

#[derive(Args)]
#[command(about = "Traceability: capture GS1 EPCIS 2.0 events, query them, trace products")]
struct TraceArgs {
    #[command(subcommand)]
    command: TraceCommand,
}

#[derive(Args)]
struct Node {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
}

#[derive(Subcommand)]
enum TraceCommand {
    /// Capture EPCIS documents (or single events), signed with your member key.
    Capture {
        #[command(flatten)]
        node: Node,
        /// A member key with the trace.capturer role.
        #[arg(long)]
        key: PathBuf,
        /// Skip events the chain holds already (and, before signing, events that fail checks)
        /// instead of refusing the document (GS1-Capture-Error-Behaviour: proceed).
        #[arg(long)]
        proceed: bool,
        /// Put only each event's hash ID and indexed identifiers on chain; the bodies stay with you.
        #[arg(long)]
        hash_only: bool,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Query events (SimpleEventQuery parameters, e.g. MATCH_epc=urn:epc:id:sgtin:... EQ_bizStep=shipping).
    Query {
        #[command(flatten)]
        node: Node,
        /// All pages, not only the first.
        #[arg(long)]
        all: bool,
        params: Vec<String>,
    },
    /// Where did it come from: the events behind an EPC, across organisations.
    Back(TraceFrom),
    /// Where did it go: the events after an EPC, across organisations.
    Forward(TraceFrom),
}

#[derive(Args)]
struct TraceFrom {
    #[command(flatten)]
    node: Node,
    #[arg(long, default_value_t = crate::trace::DEFAULT_HOPS)]
    hops: u32,
    /// Print the answer as JSON.
    #[arg(long)]
    json: bool,
    epc: String,
}

fn command() -> clap::Command {
    TraceArgs::augment_args(clap::Command::new(crate::wire::MODULE))
}

fn run(matches: &clap::ArgMatches, env: &CliEnv) -> Result<ExitCode, CliError> {
    let args = TraceArgs::from_arg_matches(matches).map_err(|e| CliError(e.to_string()))?;
    match args.command {
        TraceCommand::Capture { node, key, proceed, hash_only, files } => capture(env, &node.node, &key, proceed, hash_only, &files),
        TraceCommand::Query { node, all, params } => query(env, &node.node, all, &params),
        TraceCommand::Back(t) => trace(env, &t, "back"),
        TraceCommand::Forward(t) => trace(env, &t, "forward"),
    }
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64)
}

/// One line of progress on stderr (a terminal sees it rewritten in place).
fn progress(done: usize, total: usize, what: &str) {
    let width = 30;
    let filled = (done * width).checked_div(total).unwrap_or(width);
    eprint!("\r[{}{}] {done}/{total} events {what}   ", "#".repeat(filled), "-".repeat(width - filled));
    let _ = std::io::stderr().flush();
}

/// The events of one file, prepared as the node would: the first problem refuses the file
/// unless `proceed`, which skips the event and says so.
fn prepare_file(path: &std::path::Path, proceed: bool, hash_only: bool) -> Result<Vec<EventRecord>, CliError> {
    let text = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let value: Value = serde_json::from_slice(&text).with_context(|| format!("{}: not JSON", path.display()))?;
    let doc = parse_document(&value).map_err(|p| CliError(format!("{}: {p}", path.display())))?;
    let mut out = Vec::with_capacity(doc.events.len());
    for (i, e) in doc.events.iter().enumerate() {
        match prepare_event(i, e, &doc.context, hash_only) {
            Ok(r) => out.push(r),
            Err(p) if proceed => eprintln!("{}: skipped {p}", path.display()),
            Err(p) => return Err(CliError(format!("{}: {p}", path.display()))),
        }
    }
    Ok(out)
}

/// Splits events into captures within the event limit and the chain's transaction size.
fn batches(events: Vec<EventRecord>, max_tx_bytes: usize, proceed: bool) -> Vec<CaptureArgs> {
    let budget = max_tx_bytes.saturating_sub(TX_OVERHEAD_BYTES);
    let mut out = Vec::new();
    let mut current = CaptureArgs { proceed, events: Vec::new() };
    let mut bytes = 5;
    for e in events {
        let size = {
            let mut w = cairn_types::codec::Writer::new();
            e.encode_into(&mut w);
            w.into_bytes().len()
        };
        if !current.events.is_empty() && (current.events.len() == MAX_EVENTS_PER_CAPTURE || bytes + size > budget) {
            out.push(std::mem::replace(&mut current, CaptureArgs { proceed, events: Vec::new() }));
            bytes = 5;
        }
        bytes += size;
        current.events.push(e);
    }
    if !current.events.is_empty() {
        out.push(current);
    }
    out
}

fn capture(env: &CliEnv, node: &str, key: &std::path::Path, proceed: bool, hash_only: bool, files: &[PathBuf]) -> Result<ExitCode, CliError> {
    let key = (env.read_key)(key).map_err(CliError)?;
    let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
    let (chain_id, _) = http.chain_info(node)?;
    let genesis = http.get_json(&format!("{node}/v1/genesis"))?;
    let max_tx_bytes = genesis["params"]["max_tx_bytes"].as_u64().unwrap_or(1 << 20) as usize;
    let mut events = Vec::new();
    for f in files {
        events.extend(prepare_file(f, proceed, hash_only)?);
    }
    let total = events.len();
    let mut done = 0;
    let mut logged = 0u64;
    progress(0, total, "captured");
    for batch in batches(events, max_tx_bytes, proceed) {
        let n = batch.events.len();
        let tx = TxBody {
            chain_id: chain_id.clone(),
            signer: key.public_key(),
            nonce: rand::random(),
            expires_at_ms: now_ms() + TX_TTL_MS,
            call: Call { module: crate::wire::MODULE.into(), method: METHOD_CAPTURE.into(), args: batch.encode() },
        }
        .sign(&key);
        let result = http.submit_and_wait(node, &tx).inspect_err(|_| eprintln!())?;
        logged += result["leaf_count"].as_u64().unwrap_or(n as u64);
        done += n;
        progress(done, total, "captured");
    }
    eprintln!();
    println!("captured {logged} of {total} events{}", if logged < total as u64 { " (the rest were recorded already)" } else { "" });
    Ok(ExitCode::SUCCESS)
}

fn query(env: &CliEnv, node: &str, all: bool, params: &[String]) -> Result<ExitCode, CliError> {
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    let mut pairs = Vec::new();
    for p in params {
        let (k, v) = p.split_once('=').ok_or_else(|| CliError(format!("{p:?}: parameters are NAME=VALUE")))?;
        pairs.push((k.to_string(), v.to_string()));
    }
    let qs: String = url::form_urlencoded::Serializer::new(String::new()).extend_pairs(&pairs).finish();
    let mut url = format!("{node}/epcis/events?{qs}");
    let mut events = Vec::new();
    loop {
        let resp = http.get(&url).send().with_context(|| format!("GET {url}"))?;
        if !resp.status().is_success() {
            return Err(cairn_module::cli::read_problem(resp));
        }
        let next = resp
            .headers()
            .get("link")
            .and_then(|l| l.to_str().ok())
            .and_then(|l| l.split_once('<'))
            .and_then(|(_, r)| r.split_once('>'))
            .map(|(u, _)| u.to_string());
        let doc: Value = resp.json().context("the node's answer")?;
        events.extend(doc.pointer("/epcisBody/queryResults/resultsBody/eventList").and_then(Value::as_array).cloned().unwrap_or_default());
        match next {
            Some(n) if all => url = format!("{node}{n}"),
            _ => break,
        }
    }
    println!("{}", serde_json::to_string_pretty(&events).expect("JSON"));
    Ok(ExitCode::SUCCESS)
}

fn trace(env: &CliEnv, t: &TraceFrom, direction: &str) -> Result<ExitCode, CliError> {
    let (node, epc, hops, json) = (t.node.node.as_str(), t.epc.as_str(), t.hops, t.json);
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    let epc_q: String = url::form_urlencoded::byte_serialize(epc.as_bytes()).collect();
    let v = http.get_json(&format!("{node}/epcis/trace?epc={epc_q}&direction={direction}&hops={hops}&receipts={json}"))?;
    if json {
        println!("{}", serde_json::to_string_pretty(&v).expect("JSON"));
        return Ok(ExitCode::SUCCESS);
    }
    let mut events: Vec<&Value> = v["events"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
    events.sort_by(|a, b| a["eventTime"].as_str().cmp(&b["eventTime"].as_str()));
    println!(
        "{} {} ({} events{})",
        if direction == "back" { "where it came from:" } else { "where it went:" },
        v["epc"].as_str().unwrap_or(epc),
        events.len(),
        if v["truncated"] == true { ", truncated" } else { "" }
    );
    for e in events {
        let text = |k: &str| e[k].as_str().unwrap_or("").chars().filter(|c| !c.is_control()).collect::<String>();
        println!(
            "  {}  {:<20} {:<12} {:<16} by {:<12} leaf {}",
            text("eventTime"),
            text("type"),
            text("action"),
            text("bizStep"),
            text("organisation"),
            e["leafIndex"]
        );
    }
    Ok(ExitCode::SUCCESS)
}

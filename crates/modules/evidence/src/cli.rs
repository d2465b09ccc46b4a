//! `cairn evidence ...`: deposit files (hashed here, never uploaded), look records up, and
//! fetch state proofs of digests. Talks to a node over its HTTP API.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use crate::wire::{DepositArgs, DigestAlg, RecordInput};
use cairn_crypto::{KeyPair, Suite};
use cairn_module::cli::{CliEnv, CliError, Context, Http, HttpEnv, ModuleCli, read_problem};
use cairn_types::tx::{Call, Transaction, TxBody};
use clap::{Args, FromArgMatches, Subcommand};
use serde_json::Value;

/// Records per signed transaction when depositing many files.
const FILES_PER_TX: usize = 1000;
const TX_TTL_MS: u64 = 10 * 60 * 1000;
/// A deposit waits for its block at most this long (the node caps it further).
const HTTP_TIMEOUT_S: u64 = 120;

/// The subcommand, for `cairn_node::MODULE_CLIS`.
pub const CLI: ModuleCli = ModuleCli { module: crate::wire::MODULE, command, run, state_view: Some(crate::state_view) };

#[derive(Args)]
#[command(about = "Deposit and look up evidence")]
struct EvidenceArgs {
    #[command(subcommand)]
    command: EvidenceCommand,
}

#[derive(Subcommand)]
enum EvidenceCommand {
    /// Hash files locally and deposit their fingerprints (one signed batch per 1,000 files).
    Submit {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        #[arg(long)]
        key: PathBuf,
        /// Wait until committed and print the receipts.
        #[arg(long)]
        wait: bool,
        /// Title (default: the file name).
        #[arg(long)]
        title: Option<String>,
        /// Reference such as a case number or contract id.
        #[arg(long)]
        reference: Option<String>,
        #[arg(long, default_value = "application/octet-stream")]
        media_type: String,
        /// Metadata entries KEY=VALUE.
        #[arg(long = "meta", value_parser = parse_kv)]
        metadata: Vec<(String, String)>,
        /// Folder to write `<file>.receipt.json` and `<file>.tlog-proof` into (with --wait).
        #[arg(long)]
        out: Option<PathBuf>,
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// A state proof of whether (and when first) a digest was deposited, as of a height:
    /// verify it offline with `cairn verify --state-proof`.
    Prove {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        #[arg(long)]
        digest: Option<String>,
        /// Hash this file locally and prove its digest.
        #[arg(long)]
        file: Option<PathBuf>,
        /// As of this height (default: the latest).
        #[arg(long)]
        height: Option<u64>,
        /// Where to write the proof (default: standard output).
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// Look up records by id, digest, file or reference.
    Get {
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        node: String,
        #[arg(long)]
        id: Option<String>,
        #[arg(long)]
        digest: Option<String>,
        /// Hash this file locally and look up its digest.
        #[arg(long)]
        file: Option<PathBuf>,
        #[arg(long)]
        reference: Option<String>,
        /// Print the record's receipt instead (with --id).
        #[arg(long)]
        receipt: bool,
    },
}

fn parse_kv(s: &str) -> Result<(String, String), String> {
    s.split_once('=').map(|(k, v)| (k.to_string(), v.to_string())).ok_or_else(|| format!("{s:?} is not KEY=VALUE"))
}

fn command() -> clap::Command {
    EvidenceArgs::augment_args(clap::Command::new(crate::MODULE))
}

fn run(matches: &clap::ArgMatches, env: &CliEnv) -> Result<ExitCode, CliError> {
    let args = EvidenceArgs::from_arg_matches(matches).map_err(|e| CliError::new(e.to_string()))?;
    match args.command {
        EvidenceCommand::Submit { node, key, wait, title, reference, media_type, metadata, out, files } => {
            let key = (env.read_key)(&key).map_err(CliError)?;
            let opts = DepositOptions { title, reference, media_type, metadata: metadata.into_iter().collect() };
            submit_files(&env.http, &node, &key, &files, &opts, wait, out.as_deref())?;
        }
        EvidenceCommand::Get { node, id, digest, file, reference, receipt } => get(&env.http, &node, id, digest, file, reference, receipt)?,
        EvidenceCommand::Prove { node, digest, file, height, out } => prove(&env.http, &node, digest, file, height, out.as_deref())?,
    }
    Ok(ExitCode::SUCCESS)
}

pub struct DepositOptions {
    pub title: Option<String>,
    pub reference: Option<String>,
    pub media_type: String,
    pub metadata: BTreeMap<String, String>,
}

/// Streams a file through a digest algorithm; returns (digest, size).
pub fn hash_file(path: &Path, alg: DigestAlg) -> Result<([u8; 32], u64), CliError> {
    let suite = match alg {
        DigestAlg::Sha256 => Suite::Ed25519Sha256,
        DigestAlg::Sm3 => Suite::Sm2Sm3,
    };
    let mut h = suite.hasher();
    let mut f = std::fs::File::open(path).with_context(|| format!("opening {}", path.display()))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut size = 0u64;
    loop {
        let n = f.read(&mut buf).with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        size += n as u64;
        h.update(&buf[..n]);
    }
    Ok((h.finalize(), size))
}

/// A signed `evidence.deposit` of `records` (a random nonce).
pub fn sign_deposit(key: &KeyPair, chain_id: &str, records: Vec<RecordInput>, expires_at_ms: u64) -> Transaction {
    TxBody {
        chain_id: chain_id.to_string(),
        signer: key.public_key(),
        nonce: rand::random(),
        expires_at_ms,
        call: Call { module: crate::MODULE.into(), method: crate::METHOD_DEPOSIT.into(), args: DepositArgs { records }.encode() },
    }
    .sign(key)
}

/// The binary submission body: `u32 length | transaction` for each.
pub fn frame(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(txs.iter().map(|t| t.len() + 4).sum());
    for t in txs {
        body.extend_from_slice(&(t.len() as u32).to_be_bytes());
        body.extend_from_slice(t);
    }
    body
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn write(path: &Path, bytes: impl AsRef<[u8]>) -> Result<(), CliError> {
    std::fs::write(path, bytes).with_context(|| format!("writing {}", path.display()))
}

fn submit_files(env: &HttpEnv, node: &str, key: &KeyPair, files: &[PathBuf], opts: &DepositOptions, wait: bool, out: Option<&Path>) -> Result<(), CliError> {
    let client = Http::new(env, Some(key), Duration::from_secs(HTTP_TIMEOUT_S))?;
    let (chain_id, suite) = client.chain_info(node)?;
    if key.suite() != suite {
        return Err(CliError(format!("the key is {}, the chain uses {suite}", key.suite())));
    }
    let alg = DigestAlg::for_suite(suite);
    let mut records = Vec::new();
    for f in files {
        let (digest, size) = hash_file(f, alg)?;
        let name = f.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| f.display().to_string());
        records.push((
            f.clone(),
            RecordInput {
                digest_alg: alg,
                digest,
                size,
                media_type: opts.media_type.clone(),
                title: opts.title.clone().unwrap_or(name),
                reference: opts.reference.clone(),
                metadata: opts.metadata.clone(),
            },
        ));
    }
    let expires = now_ms() + TX_TTL_MS;
    for chunk in records.chunks(FILES_PER_TX) {
        let tx = sign_deposit(key, &chain_id, chunk.iter().map(|(_, r)| r.clone()).collect(), expires);
        let url = format!("{node}/v1/transactions{}", if wait { "?wait=true" } else { "" });
        let resp =
            client.post(&url).header("content-type", "application/octet-stream").body(frame(&[tx.encode()])).send().with_context(|| format!("POST {url}"))?;
        if !resp.status().is_success() {
            return Err(CliError(format!("deposit refused: {}", read_problem(resp))));
        }
        let v: Value = resp.json().context("the node's answer")?;
        let result = &v["results"][0];
        let status = result["status"].as_str().unwrap_or("?");
        let ids: Vec<String> = result["record_ids"].as_array().map(|a| a.iter().filter_map(|x| x.as_str().map(String::from)).collect()).unwrap_or_default();
        eprintln!(
            "transaction {} {status}{}",
            result["id"].as_str().unwrap_or("?"),
            result["block_height"].as_u64().map(|h| format!(" in block {h}")).unwrap_or_default()
        );
        for ((path, _), id) in chunk.iter().zip(&ids) {
            eprintln!("  {}  record {id}", path.display());
            if wait && status == "committed" {
                let receipt = client.get(format!("{node}/v1/evidence/{id}/receipt")).send().context("fetching the receipt")?;
                if !receipt.status().is_success() {
                    return Err(CliError(format!("fetching the receipt: {}", read_problem(receipt))));
                }
                let json = receipt.text().context("reading the receipt")?;
                println!("{json}");
                if let Some(dir) = out {
                    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
                    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| id.clone());
                    write(&dir.join(format!("{base}.receipt.json")), &json)?;
                    let tlog = client
                        .get(format!("{node}/v1/evidence/{id}/receipt?format=tlog-proof"))
                        .send()
                        .and_then(|r| r.text())
                        .context("fetching the tlog-proof receipt")?;
                    write(&dir.join(format!("{base}.tlog-proof")), tlog)?;
                }
            } else if wait {
                return Err(CliError(format!("transaction not committed: {result}")));
            }
        }
    }
    Ok(())
}

fn get(
    env: &HttpEnv,
    node: &str,
    id: Option<String>,
    digest: Option<String>,
    file: Option<PathBuf>,
    reference: Option<String>,
    receipt: bool,
) -> Result<(), CliError> {
    let client = Http::new(env, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    let url = match (id, digest, file, reference) {
        (Some(id), None, None, None) if receipt => format!("{node}/v1/evidence/{id}/receipt"),
        (Some(id), None, None, None) => format!("{node}/v1/evidence/{id}"),
        (None, Some(d), None, None) => format!("{node}/v1/evidence?digest={d}"),
        (None, None, Some(f), None) => {
            let (_, suite) = client.chain_info(node)?;
            let (d, _) = hash_file(&f, DigestAlg::for_suite(suite))?;
            format!("{node}/v1/evidence?digest={}", hex::encode(d))
        }
        (None, None, None, Some(r)) => {
            let mut u = reqwest::Url::parse(&format!("{node}/v1/evidence")).context("the node URL")?;
            u.query_pairs_mut().append_pair("reference", &r);
            u.to_string()
        }
        _ => return Err(CliError::new("give exactly one of --id, --digest, --file, --reference")),
    };
    let v = client.get_json(&url)?;
    println!("{}", serde_json::to_string_pretty(&v).expect("JSON serialises"));
    Ok(())
}

/// `cairn evidence prove`: fetches the state receipt for a digest (or a file's digest) and
/// writes it to `out` (or prints it).
fn prove(env: &HttpEnv, node: &str, digest: Option<String>, file: Option<PathBuf>, height: Option<u64>, out: Option<&Path>) -> Result<(), CliError> {
    let client = Http::new(env, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    let digest = match (digest, file) {
        (Some(d), None) => d,
        (None, Some(f)) => {
            let (_, suite) = client.chain_info(node)?;
            hex::encode(hash_file(&f, DigestAlg::for_suite(suite))?.0)
        }
        _ => return Err(CliError::new("give exactly one of --digest, --file")),
    };
    let mut url = reqwest::Url::parse(&format!("{node}/v1/evidence/state")).context("the node URL")?;
    url.query_pairs_mut().append_pair("digest", &digest);
    if let Some(h) = height {
        url.query_pairs_mut().append_pair("height", &h.to_string());
    }
    let v = client.get_json(url.as_str())?;
    let text = serde_json::to_string_pretty(&v).expect("JSON serialises") + "\n";
    let view = &v["view"];
    match view["deposited"].as_bool() {
        Some(true) => eprintln!(
            "deposited: first as record {} in block {}, {} deposit(s) as of block {}",
            view["first_record"].as_str().unwrap_or("?"),
            view["first_height"],
            view["deposits"],
            v["height"]
        ),
        _ => eprintln!("not deposited as of block {}", v["height"]),
    }
    match out {
        Some(path) => write(path, text)?,
        None => print!("{text}"),
    }
    Ok(())
}

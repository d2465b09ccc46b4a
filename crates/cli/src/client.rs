//! HTTP client side of the CLI: deposit files, look records up, fetch trust files.

use std::collections::BTreeMap;
use std::io::Read as _;
use std::path::{Path, PathBuf};

use anyhow::{Context, bail};
use cairn_crypto::{KeyPair, Suite};
use cairn_types::evidence::{DepositArgs, DigestAlg, RecordInput};
use cairn_types::genesis::TrustFile;
use cairn_types::tx::{Call, TxBody};
use serde_json::Value;

pub struct DepositOptions {
    pub title: Option<String>,
    pub reference: Option<String>,
    pub media_type: String,
    pub metadata: BTreeMap<String, String>,
}

/// Records per signed transaction when depositing many files.
const FILES_PER_TX: usize = 1000;
const TX_TTL_MS: u64 = 10 * 60 * 1000;

pub fn http() -> reqwest::Client {
    reqwest::Client::builder().pool_max_idle_per_host(64).build().expect("HTTP client")
}

async fn read_problem(resp: reqwest::Response) -> anyhow::Error {
    let status = resp.status();
    let text = resp.text().await.unwrap_or_default();
    match serde_json::from_str::<Value>(&text) {
        Ok(v) if v.get("detail").is_some() => anyhow::anyhow!("{} ({}): {}", status, v["code"].as_str().unwrap_or("?"), v["detail"].as_str().unwrap_or("")),
        _ => anyhow::anyhow!("{status}: {text}"),
    }
}

pub async fn get_json(client: &reqwest::Client, url: &str) -> anyhow::Result<Value> {
    let resp = client.get(url).send().await.with_context(|| format!("GET {url}"))?;
    if !resp.status().is_success() {
        return Err(read_problem(resp).await);
    }
    Ok(resp.json().await?)
}

/// Chain id and suite of the node at `node`.
pub async fn chain_info(client: &reqwest::Client, node: &str) -> anyhow::Result<(String, Suite)> {
    let s = get_json(client, &format!("{node}/v1/status")).await?;
    let chain = s["chain_id"].as_str().context("status lacks chain_id")?.to_string();
    let suite: Suite = s["suite"].as_str().context("status lacks suite")?.parse()?;
    Ok((chain, suite))
}

/// Streams a file through the suite's hash; returns (digest, size).
pub fn hash_file(path: &Path, alg: DigestAlg) -> anyhow::Result<([u8; 32], u64)> {
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

pub fn sign_deposit(key: &KeyPair, chain_id: &str, records: Vec<RecordInput>, expires_at_ms: u64) -> cairn_types::tx::Transaction {
    let mut nonce = [0u8; 8];
    rand::Rng::fill_bytes(&mut rand::rng(), &mut nonce);
    TxBody {
        chain_id: chain_id.to_string(),
        signer: key.public_key(),
        nonce: u64::from_be_bytes(nonce),
        expires_at_ms,
        call: Call { module: "evidence".into(), method: "deposit".into(), args: DepositArgs { records }.encode() },
    }
    .sign(key)
}

pub fn frame(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::with_capacity(txs.iter().map(|t| t.len() + 4).sum());
    for t in txs {
        body.extend_from_slice(&(t.len() as u32).to_be_bytes());
        body.extend_from_slice(t);
    }
    body
}

pub async fn submit_files(node: &str, key: &KeyPair, files: &[PathBuf], opts: &DepositOptions, wait: bool, out: Option<&Path>) -> anyhow::Result<()> {
    let client = http();
    let (chain_id, suite) = chain_info(&client, node).await?;
    if key.suite() != suite {
        bail!("the key is {}, the chain uses {suite}", key.suite());
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
    let expires = cairn_node::ledger::now_ms() + TX_TTL_MS;
    for chunk in records.chunks(FILES_PER_TX) {
        let tx = sign_deposit(key, &chain_id, chunk.iter().map(|(_, r)| r.clone()).collect(), expires);
        let url = format!("{node}/v1/transactions{}", if wait { "?wait=true" } else { "" });
        let resp = client
            .post(&url)
            .header("content-type", "application/octet-stream")
            .body(frame(&[tx.encode()]))
            .send()
            .await
            .with_context(|| format!("POST {url}"))?;
        if !resp.status().is_success() {
            return Err(read_problem(resp).await.context("deposit refused"));
        }
        let v: Value = resp.json().await?;
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
                let receipt = client.get(format!("{node}/v1/evidence/{id}/receipt")).send().await?;
                if !receipt.status().is_success() {
                    return Err(read_problem(receipt).await.context("fetching receipt"));
                }
                let json = receipt.text().await?;
                println!("{json}");
                if let Some(dir) = out {
                    std::fs::create_dir_all(dir)?;
                    let base = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_else(|| id.clone());
                    std::fs::write(dir.join(format!("{base}.receipt.json")), &json)?;
                    let tlog = client.get(format!("{node}/v1/evidence/{id}/receipt?format=tlog-proof")).send().await?.text().await?;
                    std::fs::write(dir.join(format!("{base}.tlog-proof")), tlog)?;
                }
            } else if wait {
                bail!("transaction not committed: {}", result);
            }
        }
    }
    Ok(())
}

pub async fn get(
    node: &str,
    id: Option<String>,
    digest: Option<String>,
    file: Option<PathBuf>,
    reference: Option<String>,
    receipt: bool,
) -> anyhow::Result<()> {
    let client = http();
    let url = match (id, digest, file, reference) {
        (Some(id), None, None, None) if receipt => format!("{node}/v1/evidence/{id}/receipt"),
        (Some(id), None, None, None) => format!("{node}/v1/evidence/{id}"),
        (None, Some(d), None, None) => format!("{node}/v1/evidence?digest={d}"),
        (None, None, Some(f), None) => {
            let (_, suite) = chain_info(&client, node).await?;
            let (d, _) = hash_file(&f, DigestAlg::for_suite(suite))?;
            format!("{node}/v1/evidence?digest={}", hex::encode(d))
        }
        (None, None, None, Some(r)) => {
            let mut u = reqwest::Url::parse(&format!("{node}/v1/evidence"))?;
            u.query_pairs_mut().append_pair("reference", &r);
            u.to_string()
        }
        _ => bail!("give exactly one of --id, --digest, --file, --reference"),
    };
    let v = get_json(&client, &url).await?;
    println!("{}", serde_json::to_string_pretty(&v)?);
    Ok(())
}

pub async fn fetch_trust(node: &str) -> anyhow::Result<TrustFile> {
    let v = get_json(&http(), &format!("{node}/v1/trust")).await?;
    let t = TrustFile::from_json(&serde_json::to_vec(&v)?)?;
    Ok(t)
}

/// `cairn evidence prove`: fetches the state receipt for a digest (or a file's digest) and
/// writes it to `out` (or prints it).
pub async fn prove(node: &str, digest: Option<String>, file: Option<PathBuf>, height: Option<u64>, out: Option<&Path>) -> anyhow::Result<()> {
    let client = http();
    let digest = match (digest, file) {
        (Some(d), None) => d,
        (None, Some(f)) => {
            let (_, suite) = chain_info(&client, node).await?;
            hex::encode(hash_file(&f, DigestAlg::for_suite(suite))?.0)
        }
        _ => bail!("give exactly one of --digest, --file"),
    };
    let mut url = reqwest::Url::parse(&format!("{node}/v1/evidence/state"))?;
    url.query_pairs_mut().append_pair("digest", &digest);
    if let Some(h) = height {
        url.query_pairs_mut().append_pair("height", &h.to_string());
    }
    let v = get_json(&client, url.as_str()).await?;
    let text = serde_json::to_string_pretty(&v)? + "\n";
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
        Some(path) => std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?,
        None => print!("{text}"),
    }
    Ok(())
}

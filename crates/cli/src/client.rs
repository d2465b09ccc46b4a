//! HTTP client side of the CLI's own commands (trust files, benchmarks); modules bring their
//! own (`cairn evidence` is in `cairn-module-evidence`).

use anyhow::Context;
use cairn_types::genesis::TrustFile;
use serde_json::Value;

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

/// The trust file a node serves (public in every access mode), trusting `roots` beside the
/// system's TLS roots.
pub async fn fetch_trust(node: &str, roots: Vec<reqwest::Certificate>) -> anyhow::Result<TrustFile> {
    let client = roots.into_iter().fold(reqwest::Client::builder(), |b, cert| b.add_root_certificate(cert)).build()?;
    let v = get_json(&client, &format!("{node}/v1/trust")).await?;
    let t = TrustFile::from_json(&serde_json::to_vec(&v)?)?;
    Ok(t)
}

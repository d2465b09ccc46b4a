//! Two processes must never run as one validator: with the same keys they would sign
//! conflicting votes and checkpoints, and the peers keep only one of their connections, so the
//! other runs silently without peers. Before a validator joins the network it asks the API of
//! every validator genesis lists (`address`) who answers there (`/healthz` names the validator
//! and a random id of its process); one that answers with this validator's name and another id
//! stops the start, saying where it runs.

use std::time::Duration;

use crate::error::{Error, Result};

/// `/healthz` answers with the name of the validator the process runs as…
pub const VALIDATOR_HEADER: &str = "cairn-validator";
/// …and a random id of the process.
pub const INSTANCE_HEADER: &str = "cairn-instance";
/// How long each listed address has to answer: an address that is down (the usual case at a
/// consortium's first start) costs a start no more than this, as all are asked at once.
const PROBE_TIMEOUT: Duration = Duration::from_secs(2);

/// Whether `address` (a URL) names this node's own API at `listen` (not asked: it does not
/// serve yet, and would only make the start wait).
pub fn is_own(address: &str, listen: std::net::SocketAddr) -> bool {
    let Ok(url) = reqwest::Url::parse(address) else { return false };
    let host = url.host_str().unwrap_or("").trim_matches(['[', ']']);
    let ip = match host {
        "localhost" => std::net::IpAddr::V4(std::net::Ipv4Addr::LOCALHOST),
        h => match h.parse::<std::net::IpAddr>() {
            Ok(ip) => ip,
            Err(_) => return false,
        },
    };
    url.port_or_known_default() == Some(listen.port()) && (ip == listen.ip() || (listen.ip().is_unspecified() && ip.is_loopback()))
}

/// Refuses to start if another live process answers as `name` at one of `addresses`.
pub async fn check_no_twin(name: &str, instance: u64, addresses: Vec<String>) -> Result<()> {
    let client = reqwest::Client::builder().timeout(PROBE_TIMEOUT).build().map_err(|e| Error::Config(format!("making the HTTP client: {e}")))?;
    let me = format!("{instance:016x}");
    let me = me.as_str();
    let probes = addresses.into_iter().map(|address| {
        let client = client.clone();
        async move {
            let url = format!("{}/healthz", address.trim_end_matches('/'));
            let r = client.get(&url).send().await.ok()?;
            let header = |h: &str| r.headers().get(h).and_then(|v| v.to_str().ok()).map(str::to_string);
            let (who, id) = (header(VALIDATOR_HEADER)?, header(INSTANCE_HEADER)?);
            (who == name && id != me).then_some(address)
        }
    });
    if let Some(address) = futures_util::future::join_all(probes).await.into_iter().flatten().next() {
        return Err(Error::Config(format!(
            "validator {name} is already running at {address}: two processes must never share a validator's keys (they would sign conflicting votes). \
             Stop one of them; if this is a new machine for {name}, stop the old one first"
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn own_addresses_are_recognised() {
        let listen: std::net::SocketAddr = "127.0.0.1:8081".parse().unwrap();
        assert!(is_own("http://127.0.0.1:8081", listen));
        assert!(is_own("http://localhost:8081/", listen));
        assert!(!is_own("http://127.0.0.1:8082", listen));
        assert!(!is_own("http://10.0.0.5:8081", listen));
        assert!(is_own("http://127.0.0.1:8081", "0.0.0.0:8081".parse().unwrap()));
        assert!(!is_own("not a url", listen));
    }
}

//! Who may read what (issue 9): a node in `members` mode refuses unsigned, wrongly signed,
//! stale and non-member reads with `401`, serves member signatures and admin-issued tokens,
//! keeps its public routes public, refuses a denied key and every token it issued; receipts
//! still verify offline; and the API speaks TLS with a certificate from the config.

mod common;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::Duration;

use cairn_access::httpsig;
use cairn_crypto::{KeyPair, Suite};
use common::*;
use serde_json::Value;

/// Sets `[access]` in a dev data folder's config (the node must be stopped).
fn set_access(dir: &Path, mode: &str, deny: &[String]) {
    edit_config(dir, |doc| {
        let mut access = toml::Table::new();
        access.insert("mode".into(), toml::Value::String(mode.into()));
        access.insert("deny_keys".into(), toml::Value::Array(deny.iter().map(|k| toml::Value::String(k.clone())).collect()));
        doc.insert("access".into(), toml::Value::Table(access));
    });
}

fn now_s() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs()
}

/// GET `path` (with its query) signed by `key` as of `created_s`; (status, body).
fn signed_get(base: &str, path: &str, key: &KeyPair, created_s: u64) -> (u16, Value) {
    let url = reqwest::Url::parse(&format!("{base}{path}")).unwrap();
    let h = httpsig::sign(key, "GET", url.path(), url.query(), created_s);
    let r = client().get(url).header("signature-input", h.signature_input).header("signature", h.signature).send().unwrap();
    (r.status().as_u16(), r.json().unwrap_or(Value::Null))
}

fn get(base: &str, path: &str, auth: Option<&str>) -> (u16, Value, reqwest::header::HeaderMap) {
    let mut req = client().get(format!("{base}{path}"));
    if let Some(token) = auth {
        req = req.bearer_auth(token);
    }
    let r = req.send().unwrap();
    let (status, headers) = (r.status().as_u16(), r.headers().clone());
    (status, r.json().unwrap_or(Value::Null), headers)
}

fn issue_token(dir: &Path) -> String {
    let key = dir.join("keys/submitter.key");
    let genesis = dir.join("genesis.json");
    let out = cairn(&["token", "issue", "--key", key.to_str().unwrap(), "--genesis", genesis.to_str().unwrap(), "--service", "dashboard", "--days", "7"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).unwrap().trim().to_string()
}

#[test]
fn members_mode_serves_members_only_and_keeps_public_routes_public() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = DevNode::start(dir.path(), "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let (s, v) = post_txs(&node.url, &[deposit_tx(&key, &chain, 1, records(1, 1))], true);
    assert_eq!(s, 200, "{v}");
    let record = v["results"][0]["record_ids"][0].as_str().unwrap().to_string();
    let receipt = client().get(format!("{}/v1/evidence/{record}/receipt", node.url)).send().unwrap().text().unwrap();
    let receipt_path = dir.path().join("r.json");
    std::fs::write(&receipt_path, &receipt).unwrap();
    node.kill9();
    set_access(dir.path(), "members", &[]);
    node.spawn();
    let url = node.url.clone();

    // Public: what offline verifiers, monitors and the console's first load need.
    for path in ["/healthz", "/v1/trust", "/v1/checkpoint", "/v1/access", "/v1/openapi.json", "/", "/console/app.js"] {
        let r = client().get(format!("{url}{path}")).send().unwrap();
        assert_eq!(r.status().as_u16(), 200, "{path} must stay public");
    }
    let note = client().get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap();
    let size: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let (_, access, _) = get(&url, "/v1/access", None);
    assert_eq!(access["mode"], "members");

    // Everything else needs a credential: 401 problem+json with how to authenticate.
    for path in ["/v1/status", "/v1/genesis", "/v1/blocks", &format!("/v1/evidence/{record}"), "/v1/evidence?reference=x", "/metrics", "/v1/events"] {
        let (s, v, h) = get(&url, path, None);
        assert_eq!((s, v["code"].as_str()), (401, Some("unauthenticated")), "{path}: {v}");
        assert!(h.get("www-authenticate").is_some() && h.get("accept-signature").is_some(), "{path}");
    }

    // A member's signature reads.
    let (s, v) = signed_get(&url, &format!("/v1/evidence/{record}"), &key, now_s());
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["record"]["id"], record.as_str());
    let (s, _) = signed_get(&url, "/v1/evidence?reference=x&limit=5", &key, now_s());
    assert_eq!(s, 200);

    // A key that is no member, a signature made for another read, a stale one.
    let (s, v) = signed_get(&url, "/v1/status", &KeyPair::generate(Suite::Ed25519Sha256), now_s());
    assert_eq!((s, v["code"].as_str()), (401, Some("not-a-member")), "{v}");
    let h = httpsig::sign(&key, "GET", "/v1/status", None, now_s());
    let r = client().get(format!("{url}/v1/genesis")).header("signature-input", h.signature_input).header("signature", h.signature).send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().unwrap()["code"], "bad-signature");
    let (s, v) = signed_get(&url, "/v1/status", &key, now_s() - httpsig::MAX_AGE_S - 60);
    assert_eq!((s, v["code"].as_str()), (401, Some("credential-expired")), "{v}");
    let r = client().get(format!("{url}/v1/status")).header("signature-input", "cairn=(").header("signature", "cairn=:AA==:").send().unwrap();
    assert_eq!(r.status().as_u16(), 401);
    assert_eq!(r.json::<Value>().unwrap()["code"], "malformed-credential");

    // An admin-issued token reads; a tampered one does not.
    let token = issue_token(dir.path());
    let (s, v, _) = get(&url, "/v1/status", Some(&token));
    assert_eq!(s, 200, "{v}");
    assert_eq!(v["chain_id"], chain.as_str());
    let mut forged = token.clone();
    let last = forged.pop().unwrap();
    forged.push(if last == 'A' { 'B' } else { 'A' });
    let (s, v, _) = get(&url, "/v1/status", Some(&forged));
    assert_eq!(s, 401, "{v}");

    // A submission carries its own authority (each transaction's member signature).
    let (s, v) = post_txs(&url, &[deposit_tx(&key, &chain, 2, records(2, 1))], true);
    assert_eq!(s, 200, "{v}");
    let note = client().get(format!("{url}/v1/checkpoint")).send().unwrap().text().unwrap();
    let grown: u64 = note.lines().nth(1).unwrap().parse().unwrap();
    let r = client().get(format!("{url}/v1/consistency?from={size}&to={grown}")).send().unwrap();
    assert_eq!(r.status().as_u16(), 200, "consistency proofs stay public");

    // The CLI: refused without a credential, served with the member key or the token.
    let out = cairn(&["evidence", "get", "--node", &url, "--id", &record]);
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("401"), "{}", String::from_utf8_lossy(&out.stderr));
    let key_path = dir.path().join("keys/submitter.key");
    let out = cairn(&["--auth-key", key_path.to_str().unwrap(), "evidence", "get", "--node", &url, "--id", &record]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = Command::new(CAIRN).args(["evidence", "get", "--node", &url, "--reference", "x"]).env("CAIRN_TOKEN", &token).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    // `evidence submit --key` signs its own reads (status, receipts) with that key.
    let file = dir.path().join("doc.txt");
    std::fs::write(&file, "members only").unwrap();
    let out = cairn(&["evidence", "submit", "--node", &url, "--key", key_path.to_str().unwrap(), "--wait", file.to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));

    // Receipts verify offline, with the node gone.
    node.kill9();
    let out = cairn(&["verify", "--receipt", receipt_path.to_str().unwrap(), "--trust", node.trust_path().to_str().unwrap()]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("VALID"));
}

#[test]
fn a_denied_key_is_refused_with_every_token_it_issued() {
    let dir = tempfile::tempdir().unwrap();
    let mut node = DevNode::start(dir.path(), "ed25519-sha256");
    let key = node.submitter();
    node.kill9();
    let token = issue_token(dir.path());
    set_access(dir.path(), "members", &[]);
    node.spawn();
    assert_eq!(get(&node.url, "/v1/status", Some(&token)).0, 200);
    node.kill9();
    set_access(dir.path(), "members", &[key.public_key().to_hex()]);
    node.spawn();
    let (s, v) = signed_get(&node.url, "/v1/status", &key, now_s());
    assert_eq!((s, v["code"].as_str()), (401, Some("key-denied")), "{v}");
    let (s, v, _) = get(&node.url, "/v1/status", Some(&token));
    assert_eq!((s, v["code"].as_str()), (401, Some("key-denied")), "{v}");
    assert_eq!(get(&node.url, "/v1/trust", None).0, 200);
}

/// A `cairn node` with `[tls]` serves HTTPS only: a client that trusts the certificate reads,
/// one that does not is refused at the handshake, plain HTTP gets no answer; a key file others
/// may read stops the node with the `chmod` to run.
#[test]
fn the_api_speaks_tls_with_the_configured_certificate() {
    let dir = tempfile::tempdir().unwrap();
    let node = DevNode::start(dir.path(), "ed25519-sha256");
    drop(node);
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("api.crt"), dir.path().join("api.key"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o644)).unwrap();
    let config = dir.path().join("config.toml");
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(&config).unwrap()).unwrap();
    let mut tls = toml::Table::new();
    tls.insert("cert".into(), "api.crt".into());
    tls.insert("key".into(), "api.key".into());
    doc.insert("tls".into(), toml::Value::Table(tls));

    // A loose key file: refused, with the fix.
    doc.insert("listen".into(), format!("127.0.0.1:{}", free_port()).into());
    std::fs::write(&config, toml::to_string(&doc).unwrap()).unwrap();
    let out = Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("chmod 600"), "{}", String::from_utf8_lossy(&out.stderr));
    std::fs::set_permissions(&key_path, std::fs::Permissions::from_mode(0o600)).unwrap();

    let trusting = reqwest::blocking::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(cert.cert.pem().as_bytes()).unwrap())
        .timeout(Duration::from_secs(10))
        .build()
        .unwrap();
    // Another program may take the port between choosing and binding it: retry on another.
    let (mut child, port) = (0..5)
        .find_map(|_| {
            let port = free_port();
            doc.insert("listen".into(), format!("127.0.0.1:{port}").into());
            std::fs::write(&config, toml::to_string(&doc).unwrap()).unwrap();
            let mut child =
                Command::new(CAIRN).args(["node", "--config", config.to_str().unwrap()]).env("RUST_LOG", "error").stderr(Stdio::inherit()).spawn().unwrap();
            for _ in 0..300 {
                if trusting.get(format!("https://localhost:{port}/healthz")).send().is_ok_and(|r| r.status().is_success()) {
                    return Some((child, port));
                }
                if child.try_wait().unwrap().is_some() {
                    return None;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
            let _ = child.kill();
            None
        })
        .expect("the TLS node came up");
    let base = format!("https://localhost:{port}");
    let status: Value = trusting.get(format!("{base}/v1/status")).send().unwrap().json().unwrap();
    assert!(status["chain_id"].as_str().is_some());
    // Without the certificate trusted: refused at the handshake.
    assert!(client().get(format!("{base}/healthz")).send().is_err());
    // Plain HTTP to the TLS port: no HTTP answer.
    assert!(client().get(format!("http://localhost:{port}/healthz")).timeout(Duration::from_secs(12)).send().is_err());
    // The CLI trusts a given CA.
    let out = cairn(&["--ca-cert", cert_path.to_str().unwrap(), "evidence", "get", "--node", &base, "--reference", "x"]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let out = cairn(&["evidence", "get", "--node", &base, "--reference", "x"]);
    assert!(!out.status.success());
    let _ = child.kill();
    let _ = child.wait();
}

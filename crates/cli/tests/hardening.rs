//! A node against hostile and careless clients (issue 9's attacks, bounded): idle and slow
//! connections under a 1,024-descriptor limit, bodies declared too long, large JSON bodies at
//! once, refusals that must all be problem+json, and a closed output pipe.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Raises this test process's own open-file limit (it opens more connections than 1,024).
fn raise_own_fd_limit() -> u64 {
    let mut lim = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: plain libc calls on a struct we own.
    unsafe {
        assert_eq!(libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim), 0);
        lim.rlim_cur = lim.rlim_max;
        libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim);
    }
    #[allow(clippy::unnecessary_cast)] // rlim_t is not u64 everywhere
    let cur = lim.rlim_cur as u64;
    cur
}

/// A raw HTTP/1.1 exchange: sends `request`, returns the status line and the body.
fn raw(port: u16, request: &[u8]) -> (String, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(30))).unwrap();
    s.write_all(request).unwrap();
    let mut out = Vec::new();
    let _ = s.read_to_end(&mut out);
    let text = String::from_utf8_lossy(&out).to_string();
    let status = text.lines().next().unwrap_or("").to_string();
    let body = text.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default();
    (status, body)
}

/// A dev node in `dir` with `blocks` deposits committed, one block each.
fn with_deposits(dir: &std::path::Path, blocks: u64, records_per_block: usize) -> DevNode {
    let node = DevNode::start(dir, "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    for nonce in 1..=blocks {
        let (s, v) = post_txs(&node.url, &[deposit_tx(&key, &chain, nonce, records(nonce, records_per_block))], true);
        assert_eq!(s, 200, "{v}");
    }
    node
}

fn healthz_ok(url: &str) -> bool {
    reqwest::blocking::Client::builder()
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
        .get(format!("{url}/healthz"))
        .send()
        .is_ok_and(|r| r.status().is_success())
}

#[test]
fn idle_and_slow_connections_under_a_1024_descriptor_limit_do_not_stop_the_node() {
    let own = raise_own_fd_limit();
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    // Create the folder, then shorten the header timeout so the test runs in seconds.
    drop(DevNode::start(&dir, "ed25519-sha256"));
    set_limits(&dir, &[("header_timeout_ms", 2_000)]);
    let mut node = DevNode::start_with(&dir, "ed25519-sha256", Some(1024));
    let metrics = client().get(format!("{}/metrics", node.url)).send().unwrap().text().unwrap();
    let cap: u64 = metrics.lines().find_map(|l| l.strip_prefix("cairn_api_max_connections ")).expect("the cap is reported").trim().parse().unwrap();
    assert!(cap < 1024, "the connection cap {cap} leaves no descriptors for storage");

    // 1,100 idle connections (fewer if this process cannot open that many) and 300 slow ones
    // that send a header one byte per second, from addresses of their own (each below the
    // per-address cap, so together they press on the node's whole connection cap).
    let idle_n = 1100.min(own.saturating_sub(500) as usize);
    let mut idle = Vec::with_capacity(idle_n);
    for i in 0..idle_n {
        if let Ok(s) = connect_from([127, 0, 1, (i / 400) as u8 + 1], node.port) {
            idle.push(s);
        }
    }
    let slow: Vec<TcpStream> = (0..300).filter_map(|_| connect_from([127, 0, 2, 1], node.port).ok()).collect();
    let trickle = std::thread::spawn({
        let mut slow: Vec<TcpStream> = slow.iter().map(|s| s.try_clone().unwrap()).collect();
        move || {
            for b in b"GET /healthz HTTP/1.1\r\nHost: x".iter().take(6) {
                for s in &mut slow {
                    let _ = s.write_all(&[*b]);
                }
                std::thread::sleep(Duration::from_secs(1));
            }
        }
    });

    // Other clients are still served and their deposits commit.
    assert!(healthz_ok(&node.url), "/healthz while {} idle and {} slow connections are open", idle.len(), slow.len());
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let (s, v) = post_txs(&node.url, &[deposit_tx(&key, &chain, 1, records(1, 3))], true);
    assert_eq!(s, 200, "{v}");
    trickle.join().unwrap();

    // The slow ones were cut off: reading gives end of file (or a reset), never a hang.
    let mut cut = 0;
    for mut s in slow {
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        let mut buf = [0u8; 256];
        let start = Instant::now();
        loop {
            match s.read(&mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {}
            }
        }
        if start.elapsed() < Duration::from_secs(10) {
            cut += 1;
        }
    }
    assert_eq!(cut, 300, "every slow connection is closed by the header timeout");
    assert!(healthz_ok(&node.url));
    assert!(node.alive(), "the node did not exit");
    drop(idle);
}

/// One address cannot take every connection: beyond its cap it is answered `429
/// too-many-connections` and closed, while other addresses are served; closing its connections
/// gives the slots back.
#[test]
fn one_client_address_cannot_take_every_connection() {
    let tmp = tempfile::tempdir().unwrap();
    let node = dev_node_with_limits(&tmp.path().join("data"), &[("max_connections_per_client", 20)]);
    let held: Vec<TcpStream> = (0..20).map(|_| connect_from([127, 0, 3, 1], node.port).unwrap()).collect();
    // Give the accept loop time to count them (it accepts in order).
    std::thread::sleep(Duration::from_millis(300));
    let mut over = connect_from([127, 0, 3, 1], node.port).unwrap();
    over.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
    let mut answer = String::new();
    let _ = over.read_to_string(&mut answer);
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("\"code\":\"too-many-connections\"") && answer.contains("retry-after: 1"), "{answer}");
    assert!(healthz_ok(&node.url), "another address is served");
    drop(held);
    wait_for(Duration::from_secs(10), "the slots to come back", || {
        let mut s = connect_from([127, 0, 3, 1], node.port).ok()?;
        s.write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").ok()?;
        let mut out = String::new();
        s.read_to_string(&mut out).ok()?;
        out.starts_with("HTTP/1.1 200").then_some(())
    });
}

#[test]
fn bodies_too_long_and_large_json_at_once_are_refused_with_bounded_memory() {
    let tmp = tempfile::tempdir().unwrap();
    let mut node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");

    // A declared length over the limit is refused before any body byte is sent.
    let (status, body) = raw(node.port, b"POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 10000000000\r\n\r\n");
    assert!(status.contains(" 413 "), "{status}");
    let v: Value = serde_json::from_str(body.trim()).unwrap_or(Value::Null);
    assert_eq!(v["code"], "too-large", "{body}");

    // Twenty 64 MiB bodies of `[0,0,…]` at once: each refused (413 at the list's 10,001st
    // element, or 503 busy while others are received), and the node's peak memory stays under
    // 1 GiB.
    let mut zeros = vec![b'['];
    // Just under the 64 MiB request limit, so the body is received, not refused up front.
    while zeros.len() < (64 << 20) - 16 {
        zeros.extend_from_slice(b"0,");
    }
    zeros.push(b'0');
    zeros.push(b']');
    let zeros = std::sync::Arc::new(zeros);
    let port = node.port;
    let senders: Vec<_> = (0..20)
        .map(|_| {
            let zeros = std::sync::Arc::clone(&zeros);
            std::thread::spawn(move || {
                let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
                s.set_read_timeout(Some(Duration::from_secs(60))).unwrap();
                let head = format!(
                    "POST /v1/transactions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
                    zeros.len()
                );
                let _ = s.write_all(head.as_bytes()).and_then(|()| s.write_all(&zeros));
                let mut out = Vec::new();
                let _ = s.read_to_end(&mut out);
                String::from_utf8_lossy(&out).lines().next().unwrap_or("").to_string()
            })
        })
        .collect();
    let statuses: Vec<String> = senders.into_iter().map(|t| t.join().unwrap()).collect();
    for s in &statuses {
        assert!(s.is_empty() || s.contains(" 413 ") || s.contains(" 503 "), "status {s:?} (all: {statuses:?})");
    }
    assert!(statuses.iter().any(|s| s.contains(" 413 ")), "at least one body was read and refused: {statuses:?}");
    let status = std::fs::read_to_string(format!("/proc/{}/status", node.pid())).unwrap();
    let peak_kib: u64 = status.lines().find_map(|l| l.strip_prefix("VmHWM:")).unwrap().trim().trim_end_matches(" kB").trim().parse().unwrap();
    assert!(peak_kib < 1 << 20, "peak memory {peak_kib} KiB");
    assert!(healthz_ok(&node.url));
    assert!(node.alive());
}

#[test]
fn every_refusal_is_problem_json_with_a_code() {
    let tmp = tempfile::tempdir().unwrap();
    let node = DevNode::start(&tmp.path().join("data"), "ed25519-sha256");
    let url = &node.url;
    let check = |r: reqwest::blocking::Response, status: u16, code: &str| {
        assert_eq!(r.status().as_u16(), status, "{}", r.url());
        assert_eq!(r.headers()["content-type"], "application/problem+json", "{}", r.url());
        let v: Value = r.json().unwrap();
        assert_eq!(v["code"], code, "{v}");
        assert_eq!(v["status"], status, "{v}");
        v
    };
    // The router's own refusals: a method the path does not take, a query that does not parse,
    // an overlong URL.
    check(client().get(format!("{url}/v1/transactions")).send().unwrap(), 405, "method-not-allowed");
    check(client().get(format!("{url}/v1/blocks?limit=many")).send().unwrap(), 400, "bad-request");
    check(client().get(format!("{url}/v1/status?pad={}", "a".repeat(9000))).send().unwrap(), 414, "uri-too-long");
    // An empty binary body is not "mempool full": nothing to retry.
    let r = client().post(format!("{url}/v1/transactions")).header("content-type", "application/octet-stream").body(Vec::new()).send().unwrap();
    assert!(r.headers().get("retry-after").is_none());
    check(r, 400, "malformed");
    // A batch of which every transaction is refused is not "accepted".
    let (s, v) = post_txs(url, &[vec![1, 2, 3], vec![4, 5, 6]], false);
    assert_eq!((s, v["code"].as_str()), (422, Some("all-rejected")), "{v}");
    assert_eq!(v["results"].as_array().map(Vec::len), Some(2), "{v}");
    // A JSON list longer than a request may carry, refused while parsing.
    let many = format!("[{}\"00\"]", "\"00\",".repeat(10_000));
    check(client().post(format!("{url}/v1/transactions")).header("content-type", "application/json").body(many).send().unwrap(), 413, "too-many-transactions");
}

#[test]
fn a_closed_output_pipe_ends_cairn_verify_quietly() {
    use std::os::fd::FromRawFd as _;
    use std::os::unix::process::ExitStatusExt as _;
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let node = DevNode::start(&dir, "ed25519-sha256");
    let key = node.submitter();
    let chain = node.status()["chain_id"].as_str().unwrap().to_string();
    let tx = deposit_body(&key, &chain, 1, records(7, 1)).sign(&key);
    let (s, v) = post_txs(&node.url, &[tx.encode()], true);
    assert_eq!(s, 200, "{v}");
    let receipt = client().get(format!("{}/v1/evidence/{}-0/receipt", node.url, hex::encode(tx.id))).send().unwrap().text().unwrap();
    let path = tmp.path().join("r.json");
    std::fs::write(&path, receipt).unwrap();
    // stdout is a pipe whose reader is already gone: the first line written fails.
    let mut fds = [0; 2];
    // SAFETY: pipe writes two descriptors we then own.
    assert_eq!(unsafe { libc::pipe(fds.as_mut_ptr()) }, 0);
    drop(unsafe { std::fs::File::from_raw_fd(fds[0]) });
    let writer = unsafe { std::fs::File::from_raw_fd(fds[1]) };
    let out = std::process::Command::new(CAIRN)
        .args(["verify", "--receipt", path.to_str().unwrap(), "--trust", node.trust_path().to_str().unwrap()])
        .stdout(writer)
        .stderr(std::process::Stdio::piped())
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("panicked"), "{stderr}");
    assert_eq!(out.status.signal(), Some(libc::SIGPIPE), "ended by the closed pipe, as other tools are: {:?}", out.status);
}

#[test]
fn a_ledger_that_lost_acknowledged_blocks_refuses_to_sign_again() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    let mut node = with_deposits(&dir, 6, 2);
    let signed_size = node.status()["checkpoint_size"].as_u64().unwrap();
    node.kill9();
    // Half of what the ledger's journal holds is lost (a disk that dropped writes, a careless copy).
    lose_half_the_journal(&dir.join("db/ledger"));

    let mut child = std::process::Command::new(CAIRN)
        .args(["dev", "--data-dir", dir.to_str().unwrap(), "--listen", &format!("127.0.0.1:{}", free_port())])
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if start.elapsed() > Duration::from_secs(30) {
            child.kill().unwrap();
            panic!("the node started on a ledger that lost acknowledged blocks");
        }
        std::thread::sleep(Duration::from_millis(50));
    };
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(!status.success());
    assert!(stderr.contains(&format!("signed a checkpoint of {signed_size} leaves")), "{stderr}");
    assert!(stderr.contains("restore the data folder"), "{stderr}");
}

#[test]
fn a_corrupt_index_is_set_aside_and_rebuilt_from_the_blocks() {
    let tmp = tempfile::tempdir().unwrap();
    let dir = tmp.path().join("data");
    with_deposits(&dir, 4, 3).kill9();
    // Garbage over the middle of what the evidence index's journal holds.
    let index = dir.join("db/index/evidence");
    let (path, written, mut bytes) = journal(&index);
    for b in &mut bytes[written / 3..written / 3 + 64] {
        *b = 0xab;
    }
    std::fs::write(&path, &bytes).unwrap();
    // And its version marker, so that the database does not open at all.
    std::fs::write(index.join("version"), b"garbage").unwrap();

    let node = DevNode::start(&dir, "ed25519-sha256");
    let folders: Vec<String> = std::fs::read_dir(dir.join("db/index")).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    assert!(folders.iter().any(|f| f.starts_with("evidence.corrupt-")), "the corrupt index is kept aside for inspection: {folders:?}");
    use cairn_module_evidence::wire::DigestAlg;
    for nonce in 1..=4u64 {
        let digest = hex::encode(DigestAlg::Sha256.digest(&[nonce.to_be_bytes(), 2u64.to_be_bytes()].concat()));
        let v: Value = client().get(format!("{}/v1/evidence?digest={digest}", node.url)).send().unwrap().json().unwrap();
        assert_eq!(v["records"].as_array().map(Vec::len), Some(1), "deposit {nonce} found by digest after the rebuild: {v}");
    }
}

#[test]
fn a_client_over_its_request_rate_is_told_to_retry() {
    let tmp = tempfile::tempdir().unwrap();
    let node = dev_node_with_limits(&tmp.path().join("data"), &[("max_requests_per_client_per_s", 20)]);
    std::thread::sleep(Duration::from_secs(3)); // the start-up polls spent part of the burst
    let c = client();
    let answers: Vec<reqwest::blocking::Response> = (0..100).map(|_| c.get(format!("{}/v1/status", node.url)).send().unwrap()).collect();
    let limited: Vec<_> = answers.into_iter().filter(|r| r.status().as_u16() == 429).collect();
    assert!(limited.len() >= 50, "{} of 100 rapid requests limited", limited.len());
    let r = limited.into_iter().next().unwrap();
    assert_eq!(r.headers()["retry-after"], "1");
    assert_eq!(r.headers()["content-type"], "application/problem+json");
    assert_eq!(r.json::<Value>().unwrap()["code"], "rate-limited");
    std::thread::sleep(Duration::from_secs(1));
    assert_eq!(c.get(format!("{}/v1/status", node.url)).send().unwrap().status().as_u16(), 200, "served again after Retry-After");
}

//! Test harness: real `cairn` processes on loopback, real disks, real signatures.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use cairn_crypto::KeyPair;
use serde_json::Value;

pub const CAIRN: &str = env!("CARGO_BIN_EXE_cairn");

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

pub struct DevNode {
    pub dir: PathBuf,
    pub url: String,
    pub port: u16,
    pub suite: String,
    /// Open-file limit (soft and hard) the node process runs under; `None`: inherited.
    pub fd_limit: Option<u64>,
    child: Option<Child>,
}

impl DevNode {
    pub fn start(dir: &Path, suite: &str) -> Self {
        Self::start_with(dir, suite, None)
    }

    /// [`DevNode::start`] under an open-file limit it cannot raise.
    pub fn start_with(dir: &Path, suite: &str, fd_limit: Option<u64>) -> Self {
        let port = free_port();
        let mut n = DevNode { dir: dir.to_path_buf(), url: format!("http://127.0.0.1:{port}"), port, suite: suite.into(), fd_limit, child: None };
        n.spawn();
        n
    }

    pub fn pid(&self) -> u32 {
        self.child.as_ref().expect("running").id()
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child.as_mut().is_some_and(|c| c.try_wait().unwrap().is_none())
    }

    /// Starts the node; if it exits before serving (its port was taken meanwhile by another
    /// program), starts it again on another free port.
    pub fn spawn(&mut self) {
        for _attempt in 0..5 {
            if self.try_spawn() {
                return;
            }
            self.port = free_port();
            self.url = format!("http://127.0.0.1:{}", self.port);
        }
        panic!("node did not come up (5 ports tried, last {})", self.url);
    }

    fn try_spawn(&mut self) -> bool {
        let mut command = Command::new(CAIRN);
        command
            .args(["dev", "--data-dir", self.dir.to_str().unwrap(), "--listen", &format!("127.0.0.1:{}", self.port), "--suite", &self.suite])
            .env("RUST_LOG", "warn")
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        if let Some(limit) = self.fd_limit {
            use std::os::unix::process::CommandExt as _;
            // SAFETY: setrlimit is async-signal-safe; nothing else runs between fork and exec.
            unsafe {
                command.pre_exec(move || {
                    let lim = libc::rlimit { rlim_cur: limit as libc::rlim_t, rlim_max: limit as libc::rlim_t };
                    if libc::setrlimit(libc::RLIMIT_NOFILE, &lim) != 0 {
                        return Err(std::io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        let child = command.spawn().expect("start cairn dev");
        self.child = Some(child);
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(30) {
            if let Ok(r) = client().get(format!("{}/healthz", self.url)).send()
                && r.status().is_success()
            {
                return true;
            }
            if !self.alive() {
                self.child = None;
                return false;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("node did not come up on {}", self.url);
    }

    /// kill -9: no chance to flush anything.
    pub fn kill9(&mut self) {
        if let Some(mut c) = self.child.take() {
            c.kill().unwrap();
            c.wait().unwrap();
        }
    }

    pub fn submitter(&self) -> KeyPair {
        cairn_node::keys::read_key(&self.dir.join("keys/submitter.key")).unwrap()
    }

    pub fn trust_path(&self) -> PathBuf {
        self.dir.join("trust.json")
    }

    pub fn status(&self) -> Value {
        client().get(format!("{}/v1/status", self.url)).send().unwrap().json().unwrap()
    }
}

impl Drop for DevNode {
    fn drop(&mut self) {
        self.kill9();
    }
}

pub fn client() -> reqwest::blocking::Client {
    reqwest::blocking::Client::builder().timeout(Duration::from_secs(60)).build().unwrap()
}

pub fn cairn(args: &[&str]) -> std::process::Output {
    Command::new(CAIRN).args(args).env("RUST_LOG", "warn").output().expect("run cairn")
}

/// The binary submit framing: `u32` length + bytes, repeated.
pub fn frame(txs: &[Vec<u8>]) -> Vec<u8> {
    let mut body = Vec::new();
    for t in txs {
        body.extend_from_slice(&(t.len() as u32).to_be_bytes());
        body.extend_from_slice(t);
    }
    body
}

/// POSTs canonical transactions (binary framing); returns (status, body).
pub fn post_txs(url: &str, txs: &[Vec<u8>], wait: bool) -> (u16, Value) {
    let body = frame(txs);
    let r = client()
        .post(format!("{url}/v1/transactions{}", if wait { "?wait=true" } else { "" }))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .unwrap();
    let status = r.status().as_u16();
    (status, r.json().unwrap_or(Value::Null))
}

/// The unsigned body of an evidence deposit of `records`, valid for ten minutes.
pub fn deposit_body(key: &KeyPair, chain: &str, nonce: u64, records: Vec<cairn_module_evidence::wire::RecordInput>) -> cairn_types::tx::TxBody {
    use cairn_module_evidence::wire::DepositArgs;
    use cairn_types::tx::{Call, TxBody};
    TxBody {
        chain_id: chain.into(),
        signer: key.public_key(),
        nonce,
        expires_at_ms: cairn_node::ledger::now_ms() + 600_000,
        call: Call { module: "evidence".into(), method: "deposit".into(), args: DepositArgs { records }.encode() },
    }
}

/// A signed evidence deposit of `records` (canonical bytes).
pub fn deposit_tx(key: &KeyPair, chain: &str, nonce: u64, records: Vec<cairn_module_evidence::wire::RecordInput>) -> Vec<u8> {
    deposit_body(key, chain, nonce, records).sign(key).encode()
}

/// `n` distinct small records derived from `seed`.
pub fn records(seed: u64, n: usize) -> Vec<cairn_module_evidence::wire::RecordInput> {
    use cairn_module_evidence::wire::{DigestAlg, RecordInput};
    (0..n)
        .map(|i| RecordInput {
            digest_alg: DigestAlg::Sha256,
            digest: DigestAlg::Sha256.digest(&[seed.to_be_bytes(), (i as u64).to_be_bytes()].concat()),
            size: 1,
            media_type: "text/plain".into(),
            title: format!("record {seed}/{i}"),
            reference: None,
            metadata: Default::default(),
        })
        .collect()
}

/// Polls `f` every 100 ms until it returns `Some` or `timeout` passes.
pub fn wait_for<T>(timeout: Duration, what: &str, mut f: impl FnMut() -> Option<T>) -> T {
    let start = Instant::now();
    loop {
        if let Some(v) = f() {
            return v;
        }
        if start.elapsed() > timeout {
            panic!("timed out after {timeout:?} waiting for {what}");
        }
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// The newest journal of a fjall database folder, and how many of its bytes were written (the
/// file is preallocated with zeros).
pub fn journal(folder: &std::path::Path) -> (std::path::PathBuf, usize, Vec<u8>) {
    let mut journals: Vec<_> = std::fs::read_dir(folder).unwrap().map(|e| e.unwrap().path()).filter(|p| p.extension().is_some_and(|e| e == "jnl")).collect();
    journals.sort();
    let path = journals.pop().expect("a journal");
    let bytes = std::fs::read(&path).unwrap();
    let written = bytes.iter().rposition(|b| *b != 0).expect("a written journal") + 1;
    (path, written, bytes)
}

/// A TCP connection to 127.0.0.1:`port` from the loopback address `from` (127.0.0.2 and up:
/// another client, as far as per-address limits go).
pub fn connect_from(from: [u8; 4], port: u16) -> std::io::Result<std::net::TcpStream> {
    let socket = socket2::Socket::new(socket2::Domain::IPV4, socket2::Type::STREAM, None)?;
    socket.bind(&std::net::SocketAddr::from((from, 0)).into())?;
    socket.connect(&std::net::SocketAddr::from(([127, 0, 0, 1], port)).into())?;
    Ok(socket.into())
}

/// Edits a data folder's `config.toml` (the node must be stopped).
pub fn edit_config(dir: &Path, edit: impl FnOnce(&mut toml::Table)) {
    let path = dir.join("config.toml");
    let mut doc: toml::Table = toml::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    edit(&mut doc);
    std::fs::write(&path, toml::to_string(&doc).unwrap()).unwrap();
}

/// Sets `[limits]` keys in a dev data folder's config (the node must be stopped).
pub fn set_limits(dir: &Path, pairs: &[(&str, i64)]) {
    edit_config(dir, |doc| {
        let limits = doc.entry("limits").or_insert(toml::Value::Table(Default::default())).as_table_mut().unwrap();
        for (k, v) in pairs {
            limits.insert((*k).into(), toml::Value::Integer(*v));
        }
    });
}

/// A dev node in `dir` (new) running with these `[limits]`: made once, stopped, configured, started.
pub fn dev_node_with_limits(dir: &Path, pairs: &[(&str, i64)]) -> DevNode {
    drop(DevNode::start(dir, "ed25519-sha256"));
    set_limits(dir, pairs);
    DevNode::start(dir, "ed25519-sha256")
}

/// Loses the second half of what the newest journal of a fjall folder holds (a disk that
/// dropped writes, a careless copy).
pub fn lose_half_the_journal(folder: &Path) {
    let (path, written, _) = journal(folder);
    std::fs::OpenOptions::new().write(true).open(&path).unwrap().set_len(written as u64 / 2).unwrap();
}

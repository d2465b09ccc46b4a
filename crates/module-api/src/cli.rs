//! A module's `cairn <module> ...` subcommand: its clap definition and what runs it. The
//! binary adds every module's command to its own and hands the matches over, with what only the
//! binary has ([`CliEnv`]). Output: results on standard output, progress on standard error.

use std::path::Path;
use std::process::ExitCode;

use cairn_crypto::KeyPair;

/// What the binary lends a module's subcommand.
pub struct CliEnv {
    /// Reads a key file (refusing unsafe permissions and wrong formats), as every `cairn`
    /// command does.
    pub read_key: fn(&Path) -> Result<KeyPair, String>,
    /// How requests reach the node (`cairn --ca-cert`, `--auth-key`, `--token`).
    pub http: HttpEnv,
}

/// A read's credential for a node that serves members only.
pub enum Credential {
    /// A member key: each request is signed (RFC 9421, see `cairn-access`).
    Key(Box<KeyPair>),
    /// An access token an organisation's admin issued (`cairn token issue`).
    Token(String),
}

/// What every `cairn` command that talks to a node shares: extra trusted TLS roots and the
/// credential reads are made with.
#[derive(Default)]
pub struct HttpEnv {
    /// PEM certificates trusted beside the system's roots (a consortium's own CA).
    pub ca_certs: Vec<Vec<u8>>,
    pub credential: Option<Credential>,
}

impl HttpEnv {
    /// The extra roots as certificates, for any HTTP client (`cairn trust export` builds an
    /// async one).
    pub fn root_certificates(&self) -> Result<Vec<reqwest::Certificate>, CliError> {
        let mut out = Vec::new();
        for pem in &self.ca_certs {
            out.extend(reqwest::Certificate::from_pem_bundle(pem).context("reading a --ca-cert file")?);
        }
        Ok(out)
    }

    /// A blocking HTTP client trusting the extra roots, with a whole-request timeout.
    pub fn client(&self, timeout: std::time::Duration) -> Result<reqwest::blocking::Client, CliError> {
        let b = reqwest::blocking::Client::builder().timeout(timeout);
        self.root_certificates()?.into_iter().fold(b, |b, cert| b.add_root_certificate(cert)).build().context("making the HTTP client")
    }

    /// `req` with its credential: the configured one, else `fallback` (a command's own signing
    /// key, such as `evidence submit --key`), else none.
    pub fn authorize(&self, req: reqwest::blocking::RequestBuilder, fallback: Option<&KeyPair>) -> reqwest::blocking::RequestBuilder {
        match (&self.credential, fallback) {
            (Some(Credential::Token(t)), _) => req.bearer_auth(t),
            (Some(Credential::Key(k)), _) => sign(req, k),
            (None, Some(k)) => sign(req, k),
            (None, None) => req,
        }
    }
}

/// Signs a request under Cairn's RFC 9421 profile, at the local clock.
fn sign(req: reqwest::blocking::RequestBuilder, key: &KeyPair) -> reqwest::blocking::RequestBuilder {
    let Some(built) = req.try_clone().and_then(|r| r.build().ok()) else { return req };
    let url = built.url();
    let now_s = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_secs()).unwrap_or(0);
    let h = cairn_access::httpsig::sign(key, built.method().as_str(), url.path(), url.query(), now_s);
    req.header("signature-input", h.signature_input).header("signature", h.signature)
}

/// A module's subcommand, and what `cairn verify` needs of the module offline.
#[derive(Clone, Copy)]
pub struct ModuleCli {
    /// The module's name.
    pub module: &'static str,
    /// The subcommand's definition; its name is the module's.
    pub command: fn() -> clap::Command,
    pub run: fn(&clap::ArgMatches, &CliEnv) -> Result<ExitCode, CliError>,
    /// The readable view of the module's state values (what its `Module::state_view` answers),
    /// which `cairn verify --state-proof` checks against a receipt's view.
    pub state_view: Option<StateViewFn>,
}

/// A module's own key and value (`None`: absent) → their readable view, or why there is none.
pub type StateViewFn = fn(&[u8], Option<&[u8]>) -> Result<serde_json::Value, String>;

/// Why a module's subcommand failed: one line for the user, its causes joined by ": ".
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct CliError(pub String);

impl CliError {
    pub fn new(message: impl Into<String>) -> Self {
        CliError(message.into())
    }
}

/// `.context("doing X")` for any error that displays, as in the binary.
pub trait Context<T> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, CliError>;
    fn with_context<S: std::fmt::Display>(self, what: impl FnOnce() -> S) -> Result<T, CliError>;
}

impl<T, E: std::fmt::Display> Context<T> for Result<T, E> {
    fn context(self, what: impl std::fmt::Display) -> Result<T, CliError> {
        self.map_err(|e| CliError(format!("{what}: {e}")))
    }

    fn with_context<S: std::fmt::Display>(self, what: impl FnOnce() -> S) -> Result<T, CliError> {
        self.map_err(|e| CliError(format!("{}: {e}", what())))
    }
}

/// A blocking client for one command: the connection settings, and the command's own key as
/// the fallback credential of its reads.
pub struct Http<'a> {
    pub client: reqwest::blocking::Client,
    pub env: &'a HttpEnv,
    pub key: Option<&'a KeyPair>,
}

impl<'a> Http<'a> {
    pub fn new(env: &'a HttpEnv, key: Option<&'a KeyPair>, timeout: std::time::Duration) -> Result<Self, CliError> {
        Ok(Http { client: env.client(timeout)?, env, key })
    }

    pub fn get(&self, url: impl reqwest::IntoUrl) -> reqwest::blocking::RequestBuilder {
        self.env.authorize(self.client.get(url), self.key)
    }

    pub fn post(&self, url: impl reqwest::IntoUrl) -> reqwest::blocking::RequestBuilder {
        self.env.authorize(self.client.post(url), self.key)
    }

    /// `GET url` as JSON; an error answer becomes its problem's one line.
    pub fn get_json(&self, url: &str) -> Result<serde_json::Value, CliError> {
        let resp = self.get(url).send().with_context(|| format!("GET {url}"))?;
        if !resp.status().is_success() {
            return Err(read_problem(resp));
        }
        resp.json().with_context(|| format!("GET {url}: the answer"))
    }

    /// Chain id and suite of the node at `node`.
    pub fn chain_info(&self, node: &str) -> Result<(String, cairn_crypto::Suite), CliError> {
        let s = self.get_json(&format!("{node}/v1/status"))?;
        let chain = s["chain_id"].as_str().ok_or_else(|| CliError::new("the node's status lacks chain_id"))?.to_string();
        let suite: cairn_crypto::Suite =
            s["suite"].as_str().ok_or_else(|| CliError::new("the node's status lacks suite"))?.parse().context("the node's suite")?;
        Ok((chain, suite))
    }

    /// Submits one signed transaction and waits for its block: the submit answer's result
    /// (`status` "committed"), or the refusal as one line.
    pub fn submit_and_wait(&self, node: &str, tx: &cairn_types::tx::Transaction) -> Result<serde_json::Value, CliError> {
        let url = format!("{node}/v1/transactions?wait=true");
        let bytes = tx.encode();
        let mut body = Vec::with_capacity(bytes.len() + 4);
        body.extend_from_slice(&(bytes.len() as u32).to_be_bytes());
        body.extend_from_slice(&bytes);
        let resp = self.post(&url).header("content-type", "application/octet-stream").body(body).send().with_context(|| format!("POST {url}"))?;
        let status = resp.status();
        let text = resp.text().context("the node's answer")?;
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|_| CliError(format!("{status}: {text}")))?;
        let result = v["results"][0].clone();
        if let Some(code) = result["error"]["code"].as_str() {
            return Err(CliError(format!("refused ({code}): {}", result["error"]["detail"].as_str().unwrap_or(""))));
        }
        if !status.is_success() {
            return Err(CliError(format!("{status} ({}): {}", v["code"].as_str().unwrap_or("?"), v["detail"].as_str().unwrap_or(""))));
        }
        match result["status"].as_str() {
            Some("committed") => Ok(result),
            _ => Err(CliError(format!("not committed yet: {result}"))),
        }
    }
}

/// An error answer as one line: status, problem code and detail.
pub fn read_problem(resp: reqwest::blocking::Response) -> CliError {
    let status = resp.status();
    let text = resp.text().unwrap_or_default();
    match serde_json::from_str::<serde_json::Value>(&text) {
        Ok(v) if v.get("detail").is_some() => CliError(format!("{} ({}): {}", status, v["code"].as_str().unwrap_or("?"), v["detail"].as_str().unwrap_or(""))),
        _ => CliError(format!("{status}: {text}")),
    }
}

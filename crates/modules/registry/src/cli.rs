//! `cairn registry ...`: create registries and schema versions, write entries (sealing
//! personal fields on this machine: the node never sees them in the clear), and read entries,
//! histories and proofs. Talks to a node over its HTTP API; writes are signed with the
//! registrar's own key.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use cairn_crypto::KeyPair;
use cairn_module::cli::{CliEnv, CliError, Context, Http, ModuleCli};
use cairn_types::tx::{Call as TxCall, TxBody};
use clap::{Args, FromArgMatches, Subcommand};
use serde_json::{Value, json};

use crate::schema::{EntrySchema, jcs};
use crate::wire::{Action, Call, MODULE};

const TX_TTL_MS: u64 = 10 * 60 * 1000;
/// A submission waits for its block at most this long (the node caps it further).
const HTTP_TIMEOUT_S: u64 = 120;

pub const CLI: ModuleCli = ModuleCli { module: MODULE, command, run, state_view: Some(crate::json::state_view) };

#[derive(Args)]
#[command(about = "Registries: authoritative entries with history, state proofs and credentials")]
struct RegistryArgs {
    #[command(subcommand)]
    command: Command,
}

#[derive(Args)]
struct Node {
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    node: String,
}

#[derive(Args)]
struct Signer {
    #[command(flatten)]
    node: Node,
    /// The registrar's member key file (role registry.registrar in the registry's authority).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Args)]
struct Target {
    /// The registry id.
    #[arg(long)]
    registry: String,
    /// The entry's key in its registry.
    #[arg(long)]
    entry: String,
}

#[derive(Args)]
struct Change {
    #[command(flatten)]
    signer: Signer,
    #[command(flatten)]
    target: Target,
    /// The version the change applies to (default: the entry's current version, read now).
    #[arg(long)]
    expected_version: Option<u32>,
}

#[derive(Subcommand)]
enum Command {
    /// Create a registry (your organisation becomes its authority).
    Create {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        registry: String,
        #[arg(long, default_value = "")]
        title_zh: String,
        #[arg(long, default_value = "")]
        title_en: String,
        /// The entry schema (JSON Schema with x-cairn-indexed and x-cairn-personal).
        #[arg(long)]
        schema: PathBuf,
    },
    /// Add a schema version (entries keep theirs until amended).
    Schema {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        registry: String,
        #[arg(long)]
        schema: PathBuf,
    },
    /// Create an entry from its fields in the clear; personal fields are salted and digested
    /// here, their disclosures (the holder's, with the salts) written to --disclosures.
    Put {
        #[command(flatten)]
        signer: Signer,
        #[command(flatten)]
        target: Target,
        #[arg(long, default_value = "")]
        holder: String,
        /// The entry's fields in the clear (a JSON object).
        #[arg(long)]
        fields: PathBuf,
        /// Where the personal fields' disclosures go (default: <entry>.disclosures.json).
        #[arg(long)]
        disclosures: Option<PathBuf>,
    },
    /// A new version of an entry's fields.
    Amend {
        #[command(flatten)]
        change: Change,
        #[arg(long)]
        fields: PathBuf,
        #[arg(long)]
        disclosures: Option<PathBuf>,
    },
    /// Change an entry's holder.
    Transfer {
        #[command(flatten)]
        change: Change,
        #[arg(long)]
        holder: String,
    },
    Suspend {
        #[command(flatten)]
        change: Change,
        #[arg(long, default_value = "")]
        reason: String,
    },
    Reinstate {
        #[command(flatten)]
        change: Change,
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// Revoke an entry (final).
    Revoke {
        #[command(flatten)]
        change: Change,
        /// The reason code.
        #[arg(long, default_value = "")]
        reason: String,
    },
    /// An entry (as of a height) with its content.
    Get {
        #[command(flatten)]
        node: Node,
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        height: Option<u64>,
    },
    /// Every version of an entry, each with its receipt.
    History {
        #[command(flatten)]
        node: Node,
        #[command(flatten)]
        target: Target,
    },
    /// A state proof of an entry (or of its absence) as of a height: verify it offline with
    /// `cairn verify --state-proof`.
    Prove {
        #[command(flatten)]
        node: Node,
        #[command(flatten)]
        target: Target,
        #[arg(long)]
        height: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
    /// An entry version as a W3C Verifiable Credential, signed by the authority's node; or,
    /// with --verify, check one: its proof, its status (from its status list credential) and
    /// any disclosures of personal fields against its digests.
    Credential {
        #[command(flatten)]
        node: Node,
        #[arg(long, required_unless_present = "verify")]
        registry: Option<String>,
        #[arg(long, required_unless_present = "verify")]
        entry: Option<String>,
        /// An earlier version (default: the current one).
        #[arg(long)]
        version: Option<u32>,
        /// eddsa-rdfc-2022 (default on Ed25519 chains) or eddsa-jcs-2022; SM2 chains sign with
        /// cairn-sm2sm3-jcs-2026.
        #[arg(long)]
        cryptosuite: Option<String>,
        #[arg(long)]
        out: Option<PathBuf>,
        /// A credential file to check instead.
        #[arg(long, conflicts_with_all = ["registry", "entry", "version", "cryptosuite", "out"])]
        verify: Option<PathBuf>,
        /// With --verify: the holder's disclosures file (from `put`/`amend`) to check.
        #[arg(long, requires = "verify")]
        disclosures: Option<PathBuf>,
    },
}

fn command() -> clap::Command {
    RegistryArgs::augment_args(clap::Command::new(MODULE))
}

fn read_json(path: &Path) -> Result<Value, CliError> {
    let text = std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    serde_json::from_str(&text).with_context(|| format!("{} is not JSON", path.display()))
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

fn url(node: &str, t: &Target, tail: &str) -> String {
    let enc = crate::credential::segment;
    format!("{node}/v1/registry/{}/entries/{}{tail}", enc(&t.registry), enc(&t.entry))
}

/// Signs and submits one call, waiting for its block; the submit result.
fn submit(http: &Http<'_>, node: &str, key: &KeyPair, call: &Call) -> Result<Value, CliError> {
    let (chain_id, suite) = http.chain_info(node)?;
    if key.suite() != suite {
        return Err(CliError(format!("the key is {}, the chain uses {suite}", key.suite())));
    }
    let tx = TxBody {
        chain_id,
        signer: key.public_key(),
        nonce: rand::random(),
        expires_at_ms: now_ms() + TX_TTL_MS,
        call: TxCall { module: MODULE.into(), method: call.method().into(), args: call.encode() },
    }
    .sign(key);
    let result = http.submit_and_wait(node, &tx)?;
    eprintln!("transaction {} committed in block {}", result["id"].as_str().unwrap_or("?"), result["block_height"]);
    Ok(result)
}

/// Reads a schema file and returns its canonical bytes (checked as the chain will check them).
fn schema_bytes(path: &Path, digest_len: usize) -> Result<Vec<u8>, CliError> {
    let bytes = jcs(&read_json(path)?);
    EntrySchema::parse(&bytes, digest_len).map_err(|e| CliError(format!("{}: {e}", path.display())))?;
    Ok(bytes)
}

/// Seals fields in the clear against the registry's latest schema: the chain content, and the
/// disclosures written for the holder.
fn seal(http: &Http<'_>, node: &str, t: &Target, fields: &Path, out: Option<PathBuf>) -> Result<Value, CliError> {
    let (_, suite) = http.chain_info(node)?;
    let registry = http.get_json(&format!("{node}/v1/registry/{}", crate::credential::segment(&t.registry)))?;
    let schema = EntrySchema::parse(&jcs(&registry["schema"]), suite.hash(b"").len()).map_err(|e| CliError(format!("the registry's schema: {e}")))?;
    let clear = crate::json::clear_fields(read_json(fields)?).map_err(CliError)?;
    let (content, disclosures) = crate::personal::seal(suite, &schema, &clear).map_err(|e| CliError(format!("{}: {e}", fields.display())))?;
    let path = out.unwrap_or_else(|| PathBuf::from(format!("{}.disclosures.json", t.entry.replace(['/', '\\'], "_"))));
    let doc = json!({"registry": t.registry, "key": t.entry, "suite": suite.name(), "disclosures": disclosures});
    write(&path, &(serde_json::to_string_pretty(&doc).expect("JSON") + "\n"))?;
    if !disclosures.is_empty() {
        eprintln!("{} personal field(s) sealed; their disclosures (keep them private, give them to the holder): {}", disclosures.len(), path.display());
    }
    serde_json::from_slice(&content).context("sealed content")
}

fn current_version(http: &Http<'_>, node: &str, c: &Change) -> Result<u32, CliError> {
    if let Some(v) = c.expected_version {
        return Ok(v);
    }
    let e = http.get_json(&url(node, &c.target, ""))?;
    e["version"].as_u64().and_then(|v| u32::try_from(v).ok()).ok_or_else(|| CliError::new("the entry's answer has no version"))
}

fn change(env: &CliEnv, c: &Change, make: impl FnOnce(&Http<'_>, u32) -> Result<Call, CliError>) -> Result<ExitCode, CliError> {
    let key = (env.read_key)(&c.signer.key).map_err(CliError)?;
    let node = &c.signer.node.node;
    let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
    let v = current_version(&http, node, c)?;
    let call = make(&http, v)?;
    submit(&http, node, &key, &call)?;
    print_json(&http.get_json(&url(node, &c.target, ""))?);
    Ok(ExitCode::SUCCESS)
}

fn run(matches: &clap::ArgMatches, env: &CliEnv) -> Result<ExitCode, CliError> {
    let args = RegistryArgs::from_arg_matches(matches).map_err(|e| CliError(e.to_string()))?;
    match args.command {
        Command::Create { signer, registry, title_zh, title_en, schema } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
            let (_, suite) = http.chain_info(&signer.node.node)?;
            let schema = schema_bytes(&schema, suite.hash(b"").len())?;
            submit(&http, &signer.node.node, &key, &Call::Create { registry: registry.clone(), title_zh, title_en, schema })?;
            print_json(&http.get_json(&format!("{}/v1/registry/{}", signer.node.node, crate::credential::segment(&registry)))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Schema { signer, registry, schema } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
            let (_, suite) = http.chain_info(&signer.node.node)?;
            let schema = schema_bytes(&schema, suite.hash(b"").len())?;
            submit(&http, &signer.node.node, &key, &Call::Schema { registry: registry.clone(), schema })?;
            print_json(&http.get_json(&format!("{}/v1/registry/{}", signer.node.node, crate::credential::segment(&registry)))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Put { signer, target, holder, fields, disclosures } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let node = &signer.node.node;
            let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
            let content = jcs(&seal(&http, node, &target, &fields, disclosures)?);
            submit(&http, node, &key, &Call::Put { registry: target.registry.clone(), key: target.entry.clone(), holder, content })?;
            print_json(&http.get_json(&url(node, &target, ""))?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Amend { change: c, fields, disclosures } => change(env, &c, |http, v| {
            let content = jcs(&seal(http, &c.signer.node.node, &c.target, &fields, disclosures)?);
            Ok(Call::Amend { registry: c.target.registry.clone(), key: c.target.entry.clone(), expected_version: v, content })
        }),
        Command::Transfer { change: c, holder } => {
            change(env, &c, |_, v| Ok(Call::Transfer { registry: c.target.registry.clone(), key: c.target.entry.clone(), expected_version: v, holder }))
        }
        Command::Suspend { change: c, reason } => status(env, &c, Action::Suspend, reason),
        Command::Reinstate { change: c, reason } => status(env, &c, Action::Reinstate, reason),
        Command::Revoke { change: c, reason } => status(env, &c, Action::Revoke, reason),
        Command::Get { node, target, height } => read(env, &url(&node.node, &target, &height.map(|h| format!("?height={h}")).unwrap_or_default())),
        Command::History { node, target } => read(env, &url(&node.node, &target, "/history")),
        Command::Prove { node, target, height, out } => {
            let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
            let v = http.get_json(&url(&node.node, &target, &format!("/proof{}", height.map(|h| format!("?height={h}")).unwrap_or_default())))?;
            match v["view"]["exists"].as_bool() {
                Some(true) => eprintln!(
                    "entry {} of {}: version {}, {}, as of block {}",
                    target.entry,
                    target.registry,
                    v["view"]["version"],
                    v["view"]["status"].as_str().unwrap_or("?"),
                    v["height"]
                ),
                _ => eprintln!("registry {} has no entry {} as of block {}", target.registry, target.entry, v["height"]),
            }
            let text = serde_json::to_string_pretty(&v).context("the proof")? + "\n";
            match out {
                Some(p) => write(&p, &text)?,
                None => print!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Credential { node, registry, entry, version, cryptosuite, out, verify, disclosures } => match verify {
            Some(path) => verify_credential(env, &path, disclosures.as_deref()),
            None => fetch_credential(env, &node.node, registry.as_deref().unwrap_or(""), entry.as_deref().unwrap_or(""), version, cryptosuite, out),
        },
    }
}

/// Fetches a credential and checks its proof before writing it.
fn fetch_credential(
    env: &CliEnv,
    node: &str,
    registry: &str,
    entry: &str,
    version: Option<u32>,
    cryptosuite: Option<String>,
    out: Option<PathBuf>,
) -> Result<ExitCode, CliError> {
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    let mut query = Vec::new();
    if let Some(v) = version {
        query.push(format!("version={v}"));
    }
    if let Some(c) = cryptosuite {
        query.push(format!("cryptosuite={}", crate::credential::segment(&c)));
    }
    let tail = if query.is_empty() { "/credential".to_string() } else { format!("/credential?{}", query.join("&")) };
    let t = Target { registry: registry.into(), entry: entry.into() };
    let vc = http.get_json(&url(node, &t, &tail))?;
    let verified = cairn_vc::proof::verify(&vc, &crate::credential::contexts()).map_err(|e| CliError(format!("the node's credential does not verify: {e}")))?;
    eprintln!(
        "credential of {entry} in {registry}, version {}, signed {} by {}",
        vc["credentialSubject"]["version"],
        verified.cryptosuite.name(),
        verified.verification_method
    );
    let text = serde_json::to_string_pretty(&vc).context("the credential")? + "\n";
    match out {
        Some(p) => write(&p, &text)?,
        None => print!("{text}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// Checks a credential file: proof, status lists (fetched from their URLs, their own proofs
/// checked and their issuer matched), disclosures. Prints VALID or INVALID with the reasons.
fn verify_credential(env: &CliEnv, path: &Path, disclosures: Option<&Path>) -> Result<ExitCode, CliError> {
    let vc = read_json(path)?;
    let contexts = crate::credential::contexts();
    let mut problems = Vec::new();
    let verified = match cairn_vc::proof::verify(&vc, &contexts) {
        Ok(v) => Some(v),
        Err(e) => {
            problems.push(format!("proof: {e}"));
            None
        }
    };
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    for entry in vc["credentialStatus"].as_array().into_iter().flatten() {
        let purpose = entry["statusPurpose"].as_str().unwrap_or("?");
        let checked = (|| -> Result<bool, String> {
            let url = entry["statusListCredential"].as_str().ok_or("no statusListCredential")?;
            let index: usize = entry["statusListIndex"].as_str().and_then(|i| i.parse().ok()).ok_or("statusListIndex is a decimal string")?;
            let list = http.get_json(url).map_err(|e| e.0)?;
            let v = cairn_vc::proof::verify(&list, &contexts).map_err(|e| format!("its list's proof: {e}"))?;
            if let Some(mine) = &verified
                && v.key != mine.key
            {
                return Err("its list is signed by another key than the credential".into());
            }
            if list["credentialSubject"]["statusPurpose"].as_str() != Some(purpose) {
                return Err("its list is for another purpose".into());
            }
            let bits = cairn_vc::status::decode(list["credentialSubject"]["encodedList"].as_str().unwrap_or("")).map_err(|e| e.to_string())?;
            cairn_vc::status::bit(&bits, index).ok_or_else(|| "index past the list's end".into())
        })();
        match checked {
            Ok(false) => eprintln!("status {purpose}: clear"),
            Ok(true) => problems.push(format!("status: the entry is {}", if purpose == "revocation" { "revoked" } else { "suspended" })),
            Err(e) => problems.push(format!("status {purpose}: {e}")),
        }
    }
    if let Some(d) = disclosures {
        let doc = read_json(d)?;
        let content = json!({"personal": vc["credentialSubject"]["personalDigests"]});
        let suite = verified.as_ref().map(|v| v.key.suite()).unwrap_or(cairn_crypto::Suite::Ed25519Sha256);
        for disclosure in doc["disclosures"].as_array().into_iter().flatten() {
            let field = disclosure["field"].as_str().unwrap_or("?");
            match crate::personal::verify_disclosure(suite, &content, disclosure) {
                Ok(()) => eprintln!("disclosed {field}: {}", disclosure["value"]),
                Err(e) => problems.push(format!("disclosure of {field}: {e}")),
            }
        }
    }
    if problems.is_empty() {
        println!("VALID");
        Ok(ExitCode::SUCCESS)
    } else {
        println!("INVALID: {}", problems.join("; "));
        Ok(ExitCode::from(1))
    }
}

fn status(env: &CliEnv, c: &Change, action: Action, reason: String) -> Result<ExitCode, CliError> {
    change(env, c, |_, v| Ok(Call::Status { action, registry: c.target.registry.clone(), key: c.target.entry.clone(), expected_version: v, reason }))
}

fn read(env: &CliEnv, url: &str) -> Result<ExitCode, CliError> {
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    print_json(&http.get_json(url)?);
    Ok(ExitCode::SUCCESS)
}

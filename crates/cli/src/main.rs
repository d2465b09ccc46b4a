//! `cairn`: run a node, manage keys, deposit evidence, verify receipts, benchmark.

mod bench;
mod bench_registry;
mod bench_state;
mod bench_trace;
mod client;
mod testnet;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, bail};
use cairn_crypto::{KeyPair, Suite};
use cairn_node::dev::init_dev;
use cairn_node::{NodeConfig, RunningNode};
use cairn_types::genesis::{Genesis, TrustFile};
use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};

#[derive(Parser)]
#[command(name = "cairn", version, about = "Cairn: a tokenless consortium ledger with offline-verifiable receipts")]
struct Cli {
    #[command(flatten)]
    connection: ConnectionArgs,
    #[command(subcommand)]
    command: Command,
}

/// How every command that talks to a node reaches it.
#[derive(clap::Args)]
struct ConnectionArgs {
    /// A PEM certificate (or bundle) to trust beside the system's roots, for a node whose TLS
    /// certificate a consortium CA issued.
    #[arg(long, global = true, env = "CAIRN_CA_CERT", value_name = "FILE")]
    ca_cert: Option<PathBuf>,
    /// Sign reads with this member key (RFC 9421), for a node that serves members only.
    #[arg(long, global = true, env = "CAIRN_AUTH_KEY", value_name = "KEY", conflicts_with = "token")]
    auth_key: Option<PathBuf>,
    /// Send this access token with reads (`cairn token issue`).
    #[arg(long, global = true, env = "CAIRN_TOKEN", value_name = "TOKEN", hide_env_values = true)]
    token: Option<String>,
}

impl ConnectionArgs {
    fn from_matches(m: &clap::ArgMatches) -> Self {
        ConnectionArgs { ca_cert: m.get_one("ca_cert").cloned(), auth_key: m.get_one("auth_key").cloned(), token: m.get_one("token").cloned() }
    }

    fn http_env(&self) -> anyhow::Result<cairn_module::cli::HttpEnv> {
        let ca_certs = match &self.ca_cert {
            Some(p) => vec![std::fs::read(p).with_context(|| format!("reading --ca-cert {}", p.display()))?],
            None => vec![],
        };
        let credential = match (&self.auth_key, &self.token) {
            (Some(k), _) => Some(cairn_module::cli::Credential::Key(Box::new(cairn_node::keys::read_key(k)?))),
            (None, Some(t)) => Some(cairn_module::cli::Credential::Token(t.clone())),
            (None, None) => None,
        };
        Ok(cairn_module::cli::HttpEnv { ca_certs, credential })
    }
}

#[derive(Subcommand)]
enum Command {
    /// Create (first run) or reopen a single-node development chain and serve it.
    Dev {
        #[arg(long, default_value = "./cairn-data")]
        data_dir: PathBuf,
        #[arg(long, default_value = "127.0.0.1:8080")]
        listen: SocketAddr,
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
    },
    /// Run a node from a config file.
    Node {
        #[arg(long)]
        config: PathBuf,
    },
    /// Re-execute a stopped node's blocks from genesis and check every header's state root
    /// (exit 0 when all match, 1 when one differs).
    Replay {
        #[arg(long)]
        config: PathBuf,
    },
    /// Key files.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Verify a receipt or a state proof offline: prints VALID or INVALID with the reason (exit 0 or 1).
    Verify {
        /// Receipt file (JSON or C2SP tlog-proof text).
        #[arg(long, required_unless_present = "state_proof", conflicts_with = "state_proof")]
        receipt: Option<PathBuf>,
        /// State proof file (`cairn evidence prove`, `GET /v1/state/proof`).
        #[arg(long)]
        state_proof: Option<PathBuf>,
        /// Trust file (`cairn trust export`).
        #[arg(long)]
        trust: PathBuf,
        /// The original file, to check its digest too.
        #[arg(long)]
        file: Option<PathBuf>,
        /// A finality proof (`GET /v1/finality?log_size=N`, N the receipt's tree size): checks
        /// the consensus certificate as a second, independent proof.
        #[arg(long)]
        certificate: Option<PathBuf>,
        /// A membership proof of the receipt's signer as of its deposit's block (`cairn gov
        /// prove --member <submitter> --height <block>`): shows the organisation and roles the
        /// key had when it deposited.
        #[arg(long, conflicts_with = "state_proof")]
        membership: Option<PathBuf>,
        /// An EPCIS 2.0 event (or a document holding it) whose trace receipt this is: its CBV
        /// 2.0 event hash ID is recomputed and must be the one recorded.
        #[arg(long, conflicts_with_all = ["state_proof", "file", "membership"])]
        epcis: Option<PathBuf>,
        /// Accept a trust file whose quorum is below 2f+1 of its validators, down to K
        /// signatures (refused otherwise: fewer validators could then sign a false log).
        #[arg(long, value_name = "K")]
        accept_quorum: Option<usize>,
    },
    /// A consortium of validators on this machine (local try-out, tests, benchmarks).
    #[command(subcommand)]
    Testnet(TestnetCommand),
    /// Trust files for offline verification.
    #[command(subcommand)]
    Trust(TrustCommand),
    /// Access tokens for services that read a members-only node.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Load generator: signs transactions ahead, drives the HTTP API, reports throughput and latency.
    Bench(bench::BenchArgs),
    /// The authenticated state alone: blocks of state writes with a root per block, proofs
    /// generated and verified, memory.
    BenchState(bench_state::BenchStateArgs),
    /// Benchmark the traceability module: EPCIS capture throughput, queries by EPC and traces.
    BenchTrace(bench_trace::BenchTraceArgs),
    /// Benchmark the registry module: entry writes, lookups by key, state proofs of entries.
    BenchRegistry(bench_registry::BenchRegistryArgs),
}

#[derive(Subcommand)]
enum TestnetCommand {
    /// Write genesis, trust file, and a config and keys per validator.
    Init {
        #[arg(long, default_value_t = 4)]
        validators: usize,
        #[arg(long)]
        dir: PathBuf,
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
        /// p2p port of validator-1 (the others follow).
        #[arg(long, default_value_t = 9001)]
        p2p_port: u16,
        /// API port of validator-1 (the others follow).
        #[arg(long, default_value_t = 8081)]
        api_port: u16,
    },
    /// Start every validator of DIR on loopback; Ctrl-C stops them all.
    Up {
        #[arg(long)]
        dir: PathBuf,
    },
}

#[derive(Subcommand)]
enum KeysCommand {
    /// Generate a key file.
    Generate {
        #[arg(long, default_value = "ed25519-sha256")]
        suite: Suite,
        #[arg(long)]
        out: PathBuf,
    },
    /// Print a key file's public key as PEM (SubjectPublicKeyInfo), e.g. for OpenSSL.
    ExportPem {
        #[arg(long)]
        key: PathBuf,
    },
}

#[derive(Subcommand)]
enum TokenCommand {
    /// Issue a token for a service, signed with an admin's member key (a member of its
    /// organisation with the `org.admin` role, or with no roles listed). Prints the token.
    Issue {
        /// The admin's member key file.
        #[arg(long)]
        key: PathBuf,
        /// The chain's genesis file (the key must be a member in it).
        #[arg(long)]
        genesis: PathBuf,
        /// The service the token is for (shown in the node's logs).
        #[arg(long)]
        service: String,
        /// Days the token is valid (at most 92).
        #[arg(long, default_value_t = 30)]
        days: u64,
    },
}

#[derive(Subcommand)]
enum TrustCommand {
    /// Write the trust file of a chain, from a node or a genesis file.
    Export {
        #[arg(long, conflicts_with = "genesis")]
        node: Option<String>,
        #[arg(long)]
        genesis: Option<PathBuf>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| {
            "info,fjall=warn,lsm_tree=warn,commonware_consensus=warn,commonware_runtime=warn,commonware_storage=warn,commonware_broadcast=warn,commonware_resolver=warn".into()
        }))
        .with_writer(std::io::stderr)
        // Colour only on a terminal: `testnet up` sends each node's output to a log file.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .init();
    // Each module's `cairn <module> ...` subcommand joins the binary's own.
    let mut command = Cli::command();
    for m in cairn_node::MODULE_CLIS {
        command = command.subcommand((m.command)());
    }
    let matches = command.get_matches();
    if !matches!(matches.subcommand_name(), Some("dev" | "node" | "testnet" | "bench" | "bench-state")) {
        quiet_on_closed_pipe();
    }
    if let Some((name, sub)) = matches.subcommand()
        && let Some(m) = cairn_node::MODULE_CLIS.iter().find(|m| (m.command)().get_name() == name)
    {
        let http = match ConnectionArgs::from_matches(&matches).http_env() {
            Ok(h) => h,
            Err(e) => {
                eprintln!("error: {e:#}");
                return ExitCode::from(2);
            }
        };
        let env = cairn_module::CliEnv { read_key: |path| cairn_node::keys::read_key(path).map_err(|e| e.report().to_string()), http };
        return match (m.run)(sub, &env) {
            Ok(code) => code,
            Err(e) => {
                eprintln!("error: {e}");
                ExitCode::from(2)
            }
        };
    }
    let cli = match Cli::from_arg_matches(&matches) {
        Ok(cli) => cli,
        Err(e) => e.exit(),
    };
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::from(2)
        }
    }
}

/// A command whose output is piped into a reader that stops early (`cairn verify … | head -1`)
/// ends quietly, as other Unix tools do, instead of panicking in `println!`. Not for the
/// commands that serve: their sockets never raise SIGPIPE (Rust sends with MSG_NOSIGNAL), but
/// a node should not be killed by a closed terminal pipe either.
fn quiet_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called before any other thread exists; SIG_DFL is a valid disposition.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn runtime() -> anyhow::Result<tokio::runtime::Runtime> {
    Ok(tokio::runtime::Builder::new_multi_thread().enable_all().build()?)
}

fn run(cli: Cli) -> anyhow::Result<ExitCode> {
    match cli.command {
        Command::Dev { data_dir, listen, suite } => {
            let (paths, created) = init_dev(&data_dir, listen, suite)?;
            let config = NodeConfig::load(&paths.config)?;
            runtime()?.block_on(async move {
                let node = RunningNode::start(config).await?;
                let g = node.ledger.genesis();
                println!("Cairn dev chain {} ({}) {}", g.chain_id, g.suite, if created { "created" } else { "reopened" });
                println!("  API:           http://{}/v1  (web page: http://{}/)", node.addr, node.addr);
                println!("  submitter key: {}", paths.submitter_key.display());
                println!("  trust file:    {}", paths.trust.display());
                println!("  data folder:   {}", data_dir.display());
                println!("Press Ctrl-C to stop.");
                tokio::signal::ctrl_c().await?;
                eprintln!("stopping…");
                anyhow::Ok(node.shutdown().await?)
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Replay { config } => {
            let config = NodeConfig::load(&config)?;
            let genesis =
                cairn_types::genesis::Genesis::from_json(&std::fs::read(&config.genesis).with_context(|| format!("reading {}", config.genesis.display()))?)?;
            let r = cairn_node::replay::replay(&config.db, &genesis)?;
            if let Some(why) = r.mismatch {
                println!("MISMATCH: {why}");
                return Ok(ExitCode::from(1));
            }
            println!("replayed {} blocks: the state roots of {} match, final state root {}", r.blocks, r.checked, hex::encode(r.state_root));
            Ok(ExitCode::SUCCESS)
        }
        Command::Node { config } => {
            let config = NodeConfig::load(&config)?;
            runtime()?.block_on(async move {
                let mut node = RunningNode::start(config).await?;
                tracing::info!(addr = %node.addr, "API listening");
                tokio::select! {
                    r = tokio::signal::ctrl_c() => {
                        r?;
                        anyhow::Ok(node.shutdown().await?)
                    }
                    why = node.failed() => {
                        // Stop rather than linger: a supervisor (or `testnet up`) sees the exit.
                        tracing::error!(%why, "validator cannot continue; stopping");
                        node.shutdown().await?;
                        bail!("{why}")
                    }
                }
            })?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::Generate { suite, out }) => {
            let key = KeyPair::generate(suite);
            cairn_node::keys::write_key(&out, &key)?;
            println!("{}", key.public_key().to_hex());
            Ok(ExitCode::SUCCESS)
        }
        Command::Keys(KeysCommand::ExportPem { key }) => {
            print!("{}", cairn_node::keys::read_key(&key)?.public_key().to_pem()?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Verify { state_proof: Some(proof), trust, file, certificate, accept_quorum, .. } => {
            if certificate.is_some() {
                bail!("--certificate goes with --receipt: a state proof's block is under the quorum checkpoint it carries");
            }
            verify_state(&proof, &read_trust(&trust, accept_quorum)?, file.as_deref())
        }
        Command::Verify { receipt: Some(receipt), trust, epcis: Some(event), accept_quorum, .. } => {
            verify_epcis(&receipt, &read_trust(&trust, accept_quorum)?, &event)
        }
        Command::Verify { receipt, trust, file, certificate, membership, accept_quorum, .. } => verify(
            &receipt.context("give --receipt or --state-proof")?,
            &read_trust(&trust, accept_quorum)?,
            file.as_deref(),
            certificate.as_deref(),
            membership.as_deref(),
        ),
        Command::Testnet(TestnetCommand::Init { validators, dir, suite, p2p_port, api_port }) => {
            let g = testnet::init(&dir, &testnet::InitOptions { validators, suite, p2p_base_port: p2p_port, api_base_port: api_port })?;
            println!("Test network {} ({} validators, {}, quorum {}) written to {}", g.chain_id, validators, g.suite, g.quorum(), dir.display());
            for (i, v) in g.validators.iter().enumerate() {
                println!(
                    "  {:<14} API {}  config {}",
                    v.name,
                    v.address.as_deref().unwrap_or("-"),
                    testnet::validator_dir(&dir, i + 1).join("config.toml").display()
                );
            }
            println!("Start them all: cairn testnet up --dir {}", dir.display());
            Ok(ExitCode::SUCCESS)
        }
        Command::Testnet(TestnetCommand::Up { dir }) => {
            testnet::up(&dir)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Token(TokenCommand::Issue { key, genesis, service, days }) => {
            let key = cairn_node::keys::read_key(&key)?;
            let bytes = std::fs::read(&genesis).with_context(|| format!("reading {}", genesis.display()))?;
            let genesis = Genesis::from_json(&bytes)?;
            let members = cairn_access::Members::from_genesis(&genesis, &[]).map_err(anyhow::Error::msg)?;
            let organisation = members.issuer_organisation(key.public_key().as_bytes())?.to_string();
            let issued_ms = cairn_node::ledger::now_ms();
            let claims = cairn_access::token::Claims {
                chain_id: genesis.chain_id.clone(),
                organisation,
                issuer: key.public_key().to_hex(),
                service,
                issued_ms,
                expires_ms: issued_ms.saturating_add(days.saturating_mul(86_400_000)),
            };
            println!("{}", cairn_access::token::issue(&key, &claims).map_err(anyhow::Error::msg)?);
            Ok(ExitCode::SUCCESS)
        }
        Command::Trust(TrustCommand::Export { node, genesis, out }) => {
            let trust: TrustFile = match (node, genesis) {
                (Some(url), None) => runtime()?.block_on(client::fetch_trust(&url, cli.connection.http_env()?.root_certificates()?))?,
                (None, Some(path)) => {
                    let bytes = std::fs::read(&path).with_context(|| format!("reading {}", path.display()))?;
                    Genesis::from_json(&bytes)?.trust_file()
                }
                _ => bail!("give --node URL or --genesis FILE"),
            };
            let json = serde_json::to_string_pretty(&trust)? + "\n";
            match out {
                Some(p) => std::fs::write(&p, json).with_context(|| format!("writing {}", p.display()))?,
                None => print!("{json}"),
            }
            Ok(ExitCode::SUCCESS)
        }
        Command::Bench(args) => {
            bench::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchState(args) => {
            bench_state::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchTrace(args) => {
            bench_trace::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::BenchRegistry(args) => {
            bench_registry::run(args)?;
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn read_trust(trust: &std::path::Path, accept_quorum: Option<usize>) -> anyhow::Result<TrustFile> {
    let trust_bytes = std::fs::read(trust).with_context(|| format!("reading trust file {}", trust.display()))?;
    TrustFile::from_json_accepting(&trust_bytes, accept_quorum).with_context(|| format!("trust file {}", trust.display()))
}

/// Text from a receipt as the verdict prints it: control characters (line breaks, terminal
/// escapes) are shown escaped, so a record's title cannot forge a line of the verdict.
fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { c.escape_unicode().to_string() } else { c.to_string() }).collect()
}

/// The verdict's line for a trust file whose lowered quorum the user accepted.
fn print_lowered_quorum(trust: &TrustFile) {
    if trust.quorum_lowered() {
        println!(
            "  quorum:     {} of {} signatures, below 2f+1 = {}, accepted by --accept-quorum",
            trust.quorum,
            trust.validators.len(),
            cairn_types::genesis::quorum(trust.validators.len())
        );
    }
}

/// `cairn verify --state-proof`: VALID with what the state said, or INVALID with why.
fn verify_state(proof: &std::path::Path, trust: &TrustFile, file: Option<&std::path::Path>) -> anyhow::Result<ExitCode> {
    let data = file.map(|f| std::fs::read(f).with_context(|| format!("reading {}", f.display()))).transpose()?;
    let Ok(text) = String::from_utf8(std::fs::read(proof).with_context(|| format!("reading state proof {}", proof.display()))?) else {
        println!("INVALID: state proof {} is not UTF-8 text", proof.display());
        return Ok(ExitCode::from(1));
    };
    match cairn_types::state_receipt::verify_state_receipt(&text, trust, &cairn_node::module_state_view) {
        Ok(v) => {
            if let Some(data) = &data {
                // The file must be the content the proof is about.
                let Some((alg, digest)) =
                    (v.module == cairn_module_evidence::wire::MODULE).then(|| cairn_module_evidence::wire::digest_of_state_key(&v.key)).flatten()
                else {
                    println!("INVALID: --file is checked against evidence state proofs only; this one is about module {:?}", v.module);
                    return Ok(ExitCode::from(1));
                };
                let got = alg.digest(data);
                if got != digest {
                    println!("INVALID: the file's {} digest {} is not the proof's {}", alg.name(), hex::encode(got), hex::encode(digest));
                    return Ok(ExitCode::from(1));
                }
            }
            println!("VALID");
            print_lowered_quorum(trust);
            print_state_claim(&v);
            if data.is_some() {
                println!("  file:       matches the proven digest");
            }
            println!("  as of:      block {} ({})", v.height, cairn_types::format_time_ms(v.time_ms));
            println!("  state root: {}", hex::encode(v.state_root));
            println!("  signed by:  {} (quorum {}, log of {} leaves)", v.signers.join(", "), trust.quorum, v.tree_size);
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

fn print_state_claim(v: &cairn_types::state_receipt::VerifiedState) {
    let view = &v.view;
    if v.module == cairn_module_evidence::wire::MODULE && v.view_checked {
        let digest = format!("{} {}", view["digest_alg"].as_str().unwrap_or("?"), view["digest"].as_str().unwrap_or("?"));
        if view["deposited"] == true {
            println!("  digest:     {digest} was deposited");
            println!(
                "  first:      record {} in block {} ({})",
                view["first_record"].as_str().unwrap_or("?"),
                view["first_height"],
                cairn_types::format_time_ms(view["first_time_ms"].as_u64().unwrap_or(0))
            );
            println!("  deposits:   {} (the latest in block {})", view["deposits"], view["last_height"]);
        } else {
            println!("  digest:     {digest} had not been deposited");
        }
        return;
    }
    println!("  module:     {}", v.module);
    println!("  key:        {}", hex::encode(&v.key));
    match &v.value {
        Some(value) => println!("  value:      {}", hex::encode(value)),
        None => println!("  value:      none (the key is absent)"),
    }
}

fn verify(
    receipt: &std::path::Path,
    trust: &TrustFile,
    file: Option<&std::path::Path>,
    certificate: Option<&std::path::Path>,
    membership: Option<&std::path::Path>,
) -> anyhow::Result<ExitCode> {
    let text = match std::fs::read(receipt) {
        Ok(b) => match String::from_utf8(b) {
            Ok(t) => t,
            Err(_) => {
                println!("INVALID: receipt {} is not UTF-8 text", receipt.display());
                return Ok(ExitCode::from(1));
            }
        },
        Err(e) => bail!("reading receipt {}: {e}", receipt.display()),
    };
    let data = match file {
        Some(f) => Some(std::fs::read(f).with_context(|| format!("reading {}", f.display()))?),
        None => None,
    };
    if is_leaf_receipt(&text) {
        if data.is_some() || certificate.is_some() || membership.is_some() {
            bail!("a leaf receipt is checked alone: --file, --certificate and --membership go with evidence receipts");
        }
        return Ok(verify_leaf(&text, trust));
    }
    match cairn_module_evidence::receipt::verify_receipt(&text, trust, data.as_deref()) {
        Ok(v) => {
            let mut finality = None;
            if let Some(path) = certificate {
                let text = std::fs::read_to_string(path).with_context(|| format!("reading finality proof {}", path.display()))?;
                match cairn_node::finality::verify(&text, trust) {
                    Ok(f) if f.backs(trust.suite, v.tree_size, &v.root) => finality = Some(f),
                    Ok(f) => {
                        println!(
                            "INVALID: the finality proof backs a log of {} leaves with another root, not this receipt's checkpoint ({} leaves)",
                            f.log_size, v.tree_size
                        );
                        return Ok(ExitCode::from(1));
                    }
                    Err(e) => {
                        println!("INVALID: finality proof: {e}");
                        return Ok(ExitCode::from(1));
                    }
                }
            }
            let member = match membership {
                None => None,
                Some(path) => match signer_membership(path, trust, &v.record) {
                    Ok(m) => Some(m),
                    Err(why) => {
                        println!("INVALID: membership proof: {why}");
                        return Ok(ExitCode::from(1));
                    }
                },
            };
            println!("VALID");
            print_lowered_quorum(trust);
            println!("  record:     {} ({})", v.record.id, printable(&v.record.title));
            println!(
                "  digest:     {} {}{}",
                v.record.digest_alg.name(),
                hex::encode(v.record.digest),
                if v.file_checked { " (file matches)" } else { " (file not checked)" }
            );
            println!("  deposited:  {} by {} in block {}", v.record.time, printable(&v.record.organisation), v.record.block_height);
            println!("  log:        leaf {} of {}", v.leaf_index, v.tree_size);
            println!("  signed by:  {} (quorum {})", printable(&v.signers.join(", ")), trust.quorum);
            if let Some(f) = finality {
                println!("  finality:   certificate of block {} (view {}) by a quorum of {}", f.height, f.view, f.signed_with);
            }
            if let Some(m) = member {
                println!("  member:     {m}");
            }
            Ok(ExitCode::SUCCESS)
        }
        Err(e) => {
            println!("INVALID: {e}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Checks a governance state proof of the receipt's submitter key as of the deposit's block:
/// what the key was then (its organisation, roles and status), or why the proof does not
/// show it.
fn signer_membership(path: &std::path::Path, trust: &TrustFile, record: &cairn_module_evidence::wire::EvidenceView) -> Result<String, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("reading {}: {e}", path.display()))?;
    let v = cairn_types::state_receipt::verify_state_receipt(&text, trust, &cairn_node::module_state_view).map_err(|e| e.to_string())?;
    let submitter = hex::decode(&record.submitter).map_err(|_| "the receipt's submitter is not hex".to_string())?;
    if v.module != cairn_module_governance::MODULE || v.key != cairn_module_governance::state::member_key(&submitter) {
        return Err(format!("it is about {} key {}, not the submitter {}", v.module, hex::encode(&v.key), record.submitter));
    }
    if v.height != record.block_height {
        return Err(format!("it is as of block {}, the deposit is in block {}", v.height, record.block_height));
    }
    let m = &v.view["member"];
    if m.is_null() {
        return Err(format!("the key was no member as of block {}", v.height));
    }
    if m["organisation"] != record.organisation.as_str() {
        return Err(format!("the key belonged to {} as of block {}, the receipt says {}", m["organisation"], v.height, record.organisation));
    }
    let roles = match m["roles"].as_array() {
        None => "every right (genesis)".to_string(),
        Some(r) => r.iter().filter_map(|x| x.as_str()).collect::<Vec<_>>().join(", "),
    };
    Ok(format!(
        "{} of {} with roles {} ({}) as of block {}, state proof signed by {}",
        record.submitter,
        printable(&record.organisation),
        printable(&roles),
        m["status"].as_str().unwrap_or("?"),
        v.height,
        printable(&v.signers.join(", "))
    ))
}

/// Prints the verdict on a trace event receipt with the event's JSON-LD.
fn verify_epcis(receipt: &std::path::Path, trust: &TrustFile, event: &std::path::Path) -> anyhow::Result<ExitCode> {
    let text = std::fs::read_to_string(receipt).with_context(|| format!("reading receipt {}", receipt.display()))?;
    let event_bytes = std::fs::read(event).with_context(|| format!("reading event {}", event.display()))?;
    match cairn_module_trace::verify::verify_event(&text, trust, Some(&event_bytes)) {
        Ok(v) => {
            let e = &v.entry;
            println!("VALID");
            print_lowered_quorum(trust);
            println!(
                "  event:      {} ({}), hash ID {} (recomputed from the event file)",
                e.event.event_type.name(),
                printable(&e.event.id()),
                v.document_hash_id.unwrap_or_default()
            );
            println!("  event time: {}", cairn_types::format_time_ms(e.event.event_time_ms));
            println!("  recorded:   {} by {} in block {}", cairn_types::format_time_ms(e.time_ms), printable(&e.organisation), e.height);
            println!("  log:        leaf {} of {}", v.leaf_index, v.tree_size);
            println!("  signed by:  {} (quorum {})", printable(&v.signers.join(", ")), trust.quorum);
            Ok(ExitCode::SUCCESS)
        }
        Err(why) => {
            println!("INVALID: {why}");
            Ok(ExitCode::from(1))
        }
    }
}

/// Whether a receipt file is a module leaf receipt (`cairn-leaf-receipt-v1`).
fn is_leaf_receipt(text: &str) -> bool {
    serde_json::from_str::<serde_json::Value>(text).is_ok_and(|v| v["format"] == cairn_types::receipt::LEAF_RECEIPT_FORMAT)
}

/// Prints the verdict on a module leaf receipt.
fn verify_leaf(text: &str, trust: &TrustFile) -> ExitCode {
    match cairn_types::receipt::verify_leaf_receipt(text, trust) {
        Ok(v) => {
            println!("VALID");
            print_lowered_quorum(trust);
            println!("  leaf of:    module {} (kind {}), {} payload bytes", v.module, v.kind, v.payload.len());
            // The payload is the module's; shown as hex, since its text could be anything.
            println!("  payload:    {}", hex::encode(&v.payload[..v.payload.len().min(64)]) + if v.payload.len() > 64 { "…" } else { "" });
            println!("  log:        leaf {} of {}", v.leaf_index, v.tree_size);
            println!("  signed by:  {} (quorum {})", printable(&v.signers.join(", ")), trust.quorum);
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("INVALID: {e}");
            ExitCode::from(1)
        }
    }
}

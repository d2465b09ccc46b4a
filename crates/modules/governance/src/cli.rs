//! `cairn governance ...` (alias `cairn gov`): propose, vote, freeze, and read proposals,
//! organisations, members and membership proofs. Talks to a node over its HTTP API.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::time::Duration;

use cairn_crypto::KeyPair;
use cairn_module::cli::{CliEnv, CliError, Context, Http, ModuleCli};
use cairn_types::tx::{Call, TxBody};
use clap::{Args, FromArgMatches, Subcommand};
use serde_json::Value;

use crate::json::{ActionJson, MemberJson};
use crate::policy::Vote;

const TX_TTL_MS: u64 = 10 * 60 * 1000;
/// A submission waits for its block at most this long (the node caps it further).
const HTTP_TIMEOUT_S: u64 = 120;
/// Blocks a proposal stays open unless `--expires-in` says otherwise.
const DEFAULT_VOTING_BLOCKS: u64 = 1000;

pub const CLI: ModuleCli = ModuleCli { module: crate::MODULE, command, run, state_view: Some(offline_view) };

/// The state view `cairn verify --state-proof` checks a receipt's against. Offline there is
/// no genesis, so the suite is the one whose key sizes the bytes fit (exactly one fits a
/// record that holds keys; the others hold none).
fn offline_view(key: &[u8], value: Option<&[u8]>) -> Result<Value, String> {
    let mut last = String::new();
    for suite in cairn_crypto::Suite::ALL {
        match crate::json::state_view(suite, key, value) {
            Ok(v) => return Ok(v),
            Err(e) => last = e,
        }
    }
    Err(last)
}

#[derive(Args)]
#[command(about = "Propose and vote on changes to organisations, member keys and roles")]
struct GovArgs {
    #[command(subcommand)]
    command: GovCommand,
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
    /// The member key that signs (an admin of its organisation, or for rotate-key the key it retires).
    #[arg(long)]
    key: PathBuf,
}

#[derive(Subcommand)]
enum GovCommand {
    /// Make a proposal (its organisation's approval counts at once, when it votes on it).
    Propose {
        #[command(flatten)]
        signer: Signer,
        /// Blocks it stays open for votes.
        #[arg(long, default_value_t = DEFAULT_VOTING_BLOCKS)]
        expires_in: u64,
        #[command(subcommand)]
        action: ActionCommand,
    },
    /// Vote for your organisation (a later vote replaces an earlier one while it is open).
    Vote {
        #[command(flatten)]
        signer: Signer,
        #[arg(long)]
        proposal: u64,
        #[arg(value_parser = ["approve", "reject"])]
        vote: String,
    },
    /// Freeze a key of your organisation at once (emergency; undone only by removing or rotating it).
    Freeze {
        #[command(flatten)]
        signer: Signer,
        /// The key to freeze (hex public key).
        #[arg(long)]
        target: String,
    },
    /// One proposal with its votes and outcome.
    Show {
        #[command(flatten)]
        node: Node,
        id: u64,
    },
    /// Proposals, newest first.
    List {
        #[command(flatten)]
        node: Node,
        /// Only those still open.
        #[arg(long)]
        open: bool,
    },
    /// Organisations and their status.
    Orgs {
        #[command(flatten)]
        node: Node,
    },
    /// Member keys with their organisation, roles and status.
    Members {
        #[command(flatten)]
        node: Node,
        #[arg(long)]
        org: Option<String>,
    },
    /// A state proof of a key's membership as of a height: verify it offline with
    /// `cairn verify --state-proof`.
    Prove {
        #[command(flatten)]
        node: Node,
        /// The member key (hex).
        #[arg(long = "member")]
        member: String,
        #[arg(long)]
        height: Option<u64>,
        #[arg(long)]
        out: Option<PathBuf>,
    },
}

#[derive(Subcommand)]
enum ActionCommand {
    /// Admit an organisation with its admin and member keys.
    AddOrg {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        /// An admin key (hex), with role org.admin and any roles after a colon: KEY[:role,role].
        #[arg(long = "admin", required = true)]
        admins: Vec<String>,
        /// A member key with its roles: KEY[:role,role].
        #[arg(long = "member")]
        members: Vec<String>,
    },
    /// Remove an organisation (its keys are refused from the next block; its records stay valid).
    RemoveOrg {
        #[arg(long)]
        id: String,
    },
    AddMember {
        #[arg(long)]
        org: String,
        /// KEY[:role,role]
        #[arg(long)]
        member: String,
    },
    RemoveMember {
        #[arg(long)]
        org: String,
        #[arg(long = "member")]
        key: String,
    },
    /// Replace a key's roles (none listed: no rights).
    SetRoles {
        #[arg(long)]
        org: String,
        #[arg(long = "member")]
        key: String,
        #[arg(long = "role")]
        roles: Vec<String>,
    },
    /// Replace the signing key (--key) by a new one, keeping its roles.
    RotateKey {
        #[arg(long)]
        org: String,
        /// The new public key (hex).
        #[arg(long)]
        new_key: String,
    },
    SetParameter {
        #[arg(long)]
        name: String,
        #[arg(long)]
        value: u64,
    },
    /// Validator-set changes (refused until consensus epochs land).
    ValidatorSet,
}

fn command() -> clap::Command {
    GovArgs::augment_args(clap::Command::new(crate::MODULE)).visible_alias("gov")
}

fn member_arg(s: &str, admin: bool) -> MemberJson {
    let (key, roles) = s.split_once(':').unwrap_or((s, ""));
    let mut roles: Vec<String> = roles.split(',').filter(|r| !r.is_empty()).map(String::from).collect();
    if admin {
        roles.push(crate::action::ADMIN_ROLE.into());
    }
    MemberJson { key: key.to_string(), roles }
}

fn run(matches: &clap::ArgMatches, env: &CliEnv) -> Result<ExitCode, CliError> {
    let args = GovArgs::from_arg_matches(matches).map_err(|e| CliError(e.to_string()))?;
    match args.command {
        GovCommand::Propose { signer, expires_in, action } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let action = match action {
                ActionCommand::AddOrg { id, name, admins, members } => ActionJson::AddOrganisation {
                    id,
                    name,
                    members: admins.iter().map(|a| member_arg(a, true)).chain(members.iter().map(|m| member_arg(m, false))).collect(),
                },
                ActionCommand::RemoveOrg { id } => ActionJson::RemoveOrganisation { id },
                ActionCommand::AddMember { org, member } => {
                    let m = member_arg(&member, false);
                    ActionJson::AddMember { organisation: org, key: m.key, roles: m.roles }
                }
                ActionCommand::RemoveMember { org, key } => ActionJson::RemoveMember { organisation: org, key },
                ActionCommand::SetRoles { org, key, roles } => ActionJson::SetRoles { organisation: org, key, roles },
                ActionCommand::RotateKey { org, new_key } => ActionJson::RotateKey { organisation: org, old_key: key.public_key().to_hex(), new_key },
                ActionCommand::SetParameter { name, value } => ActionJson::SetParameter { name, value },
                ActionCommand::ValidatorSet => ActionJson::ValidatorSet {},
            };
            propose(env, &signer.node.node, &key, &action, expires_in)
        }
        GovCommand::Vote { signer, proposal, vote } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let v = if vote == "approve" { Vote::Approve } else { Vote::Reject };
            let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
            submit(&http, &signer.node.node, &key, crate::METHOD_VOTE, crate::encode_vote(proposal, v))?;
            print_json(&http.get_json(&format!("{}/v1/governance/proposals/{proposal}", signer.node.node))?);
            Ok(ExitCode::SUCCESS)
        }
        GovCommand::Freeze { signer, target } => {
            let key = (env.read_key)(&signer.key).map_err(CliError)?;
            let http = Http::new(&env.http, Some(&key), Duration::from_secs(HTTP_TIMEOUT_S))?;
            let (_, suite) = http.chain_info(&signer.node.node)?;
            let target = cairn_crypto::PublicKey::from_hex(suite, &target).context("--target")?;
            submit(&http, &signer.node.node, &key, crate::METHOD_FREEZE, crate::encode_freeze(&target))?;
            print_json(&http.get_json(&format!("{}/v1/governance/members/{}", signer.node.node, target.to_hex()))?);
            Ok(ExitCode::SUCCESS)
        }
        GovCommand::Show { node, id } => read(env, &format!("{}/v1/governance/proposals/{id}", node.node)),
        GovCommand::List { node, open } => read(env, &format!("{}/v1/governance/proposals{}", node.node, if open { "?open=true" } else { "" })),
        GovCommand::Orgs { node } => read(env, &format!("{}/v1/governance/organisations", node.node)),
        GovCommand::Members { node, org } => read(env, &format!("{}/v1/governance/members{}", node.node, org.map(|o| format!("?org={o}")).unwrap_or_default())),
        GovCommand::Prove { node, member, height, out } => {
            let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
            let url = format!("{}/v1/governance/members/{member}/proof{}", node.node, height.map(|h| format!("?height={h}")).unwrap_or_default());
            let v = http.get_json(&url)?;
            let text = serde_json::to_string_pretty(&v).context("the proof")?;
            match out {
                Some(p) => write(&p, &text)?,
                None => println!("{text}"),
            }
            Ok(ExitCode::SUCCESS)
        }
    }
}

fn write(path: &Path, text: &str) -> Result<(), CliError> {
    std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))
}

fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

fn read(env: &CliEnv, url: &str) -> Result<ExitCode, CliError> {
    let http = Http::new(&env.http, None, Duration::from_secs(HTTP_TIMEOUT_S))?;
    print_json(&http.get_json(url)?);
    Ok(ExitCode::SUCCESS)
}

fn now_ms() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_millis() as u64).unwrap_or(0)
}

/// Signs and submits one governance call, waiting for its block; the submit result.
fn submit(http: &Http<'_>, node: &str, key: &KeyPair, method: &str, args: Vec<u8>) -> Result<Value, CliError> {
    let (chain_id, suite) = http.chain_info(node)?;
    if key.suite() != suite {
        return Err(CliError(format!("the key is {}, the chain uses {suite}", key.suite())));
    }
    let tx = TxBody {
        chain_id,
        signer: key.public_key(),
        nonce: rand::random(),
        expires_at_ms: now_ms() + TX_TTL_MS,
        call: Call { module: crate::MODULE.into(), method: method.into(), args },
    }
    .sign(key);
    let result = http.submit_and_wait(node, &tx)?;
    eprintln!("transaction {} committed in block {}", result["id"].as_str().unwrap_or("?"), result["block_height"]);
    Ok(result)
}

fn propose(env: &CliEnv, node: &str, key: &KeyPair, action: &ActionJson, expires_in: u64) -> Result<ExitCode, CliError> {
    let http = Http::new(&env.http, Some(key), Duration::from_secs(HTTP_TIMEOUT_S))?;
    let (_, suite) = http.chain_info(node)?;
    let action = action.to_action(suite).map_err(|e| CliError(e.to_string()))?;
    let height = http.get_json(&format!("{node}/v1/status"))?["height"].as_u64().unwrap_or(0);
    let result = submit(&http, node, key, crate::METHOD_PROPOSE, crate::encode_propose(&action, height + expires_in))?;
    let tx = result["id"].as_str().unwrap_or_default();
    let found = http.get_json(&format!("{node}/v1/governance/proposals?tx={tx}"))?;
    match found["proposals"].get(0) {
        Some(p) => print_json(p),
        None => return Err(CliError(format!("transaction {tx} committed, but its proposal is not listed yet"))),
    }
    Ok(ExitCode::SUCCESS)
}

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

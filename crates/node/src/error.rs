//! The node's errors: what failed, with its cause as the [`std::error::Error::source`], so the
//! binary shows the whole chain. Callers of this crate get [`Error`]; what only the caller can
//! fix (a bad query, a refused transaction) has its own types next to the query.

use std::fmt;
use std::path::PathBuf;

use crate::ledger::NotYetSigned;

pub type Result<T, E = Error> = std::result::Result<T, E>;

/// Why the node could not do what it was asked: its own failure (storage, a corrupt or
/// inconsistent database, a final block it cannot apply) or a mistake in its files.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    // ---- failures of the crates below, shown as they are ----
    #[error(transparent)]
    Store(#[from] cairn_store::StoreError),
    #[error(transparent)]
    State(#[from] cairn_state::StateError),
    #[error(transparent)]
    Decode(#[from] cairn_types::codec::DecodeError),
    #[error(transparent)]
    Genesis(#[from] cairn_types::genesis::GenesisError),
    /// The Merkle log cannot give a root or proof it should have.
    #[error(transparent)]
    Proof(#[from] cairn_merkle::ProofError),
    /// A stored checkpoint that does not parse.
    #[error(transparent)]
    Note(#[from] cairn_note::NoteError),
    /// Serialising JSON (not expected to fail).
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// Serialising TOML (not expected to fail).
    #[error(transparent)]
    Toml(#[from] toml::ser::Error),
    /// A final record not yet under a quorum checkpoint: the caller retries in a moment.
    #[error(transparent)]
    NotYetSigned(#[from] NotYetSigned),

    // ---- what the node was doing when a lower layer failed ----
    /// A file or folder could not be read, written or created; `what` names it.
    #[error("{what}")]
    Io {
        what: String,
        #[source]
        source: std::io::Error,
    },
    #[error("config {} is invalid", path.display())]
    ConfigSyntax {
        path: PathBuf,
        #[source]
        source: toml::de::Error,
    },
    #[error("genesis {}", path.display())]
    GenesisFile {
        path: PathBuf,
        #[source]
        source: cairn_types::genesis::GenesisError,
    },
    #[error("key file {} is not a Cairn key file", path.display())]
    NotAKeyFile {
        path: PathBuf,
        #[source]
        source: serde_json::Error,
    },
    #[error("key file {}: secret_key is not hex", path.display())]
    KeyNotHex {
        path: PathBuf,
        #[source]
        source: hex::FromHexError,
    },
    #[error("key file {}", path.display())]
    BadKey {
        path: PathBuf,
        #[source]
        source: cairn_crypto::CryptoError,
    },
    #[error("opening database {}", path.display())]
    OpenDatabase {
        path: PathBuf,
        #[source]
        source: cairn_store::StoreError,
    },
    #[error("committing block {height}")]
    CommitBlock {
        height: u64,
        #[source]
        source: cairn_store::StoreError,
    },
    #[error("final block does not decode")]
    FinalBlockDecode(#[source] cairn_types::codec::DecodeError),
    #[error("starting consensus")]
    StartConsensus(#[source] cairn_consensus::network::NetworkError),
    /// A task of the node's runtime panicked or was cancelled; `what` names the task.
    #[error("{what}")]
    Task {
        what: &'static str,
        #[source]
        source: tokio::task::JoinError,
    },

    // ---- the node's own findings ----
    /// A mistake in the config, genesis or key files, named with its fix.
    #[error("{0}")]
    Config(String),
    /// A module's OpenAPI fragment is malformed or collides with another's.
    #[error("module {module}: OpenAPI fragment: {why}")]
    OpenApi { module: String, why: String },
    /// The stored chain disagrees with itself (found when opening the database).
    #[error("database is inconsistent: {0}")]
    Inconsistent(String),
    /// A validator's ledger lost blocks it had acknowledged; `open_with` sets it aside and
    /// fetches the chain from the peers.
    #[error("{detail}")]
    LostBlocks { size: u64, root: cairn_crypto::Hash, detail: String },
    /// The database lacks or garbles something it must hold.
    #[error("{0}")]
    Corrupt(String),
    /// A final block this node cannot apply (its ledger is behind or diverged).
    #[error("{0}")]
    Consensus(String),
}

impl Error {
    /// The error and its causes, `: `-separated (as the binary prints errors): for logs,
    /// fault reasons and the details of `internal` answers.
    pub fn report(&self) -> impl fmt::Display + '_ {
        Report(self)
    }
}

struct Report<'a>(&'a (dyn std::error::Error + 'static));

impl fmt::Display for Report<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.0)?;
        let mut cause = self.0.source();
        while let Some(e) = cause {
            write!(f, ": {e}")?;
            cause = e.source();
        }
        Ok(())
    }
}

/// `.io_context(|| ...)` on I/O results: names the file or folder an I/O error is about.
pub(crate) trait IoContext<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T>;
}

impl<T> IoContext<T> for std::io::Result<T> {
    fn io_context(self, what: impl FnOnce() -> String) -> Result<T> {
        self.map_err(|source| Error::Io { what: what(), source })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_names_every_cause() {
        let e = Error::Io { what: "reading config c.toml".into(), source: std::io::Error::other("disk on fire") };
        assert_eq!(e.to_string(), "reading config c.toml");
        assert_eq!(e.report().to_string(), "reading config c.toml: disk on fire");
        let e = Error::Inconsistent("tip block 3 is not stored".into());
        assert_eq!(e.report().to_string(), "database is inconsistent: tip block 3 is not stored");
    }
}

//! Cairn's wire types and their canonical encodings: transactions, evidence records, log
//! leaves, blocks, genesis, trust files and receipts. Formats are versioned and pinned by test
//! vectors (`docs/encoding.md`, `testdata/vectors/`); a change to any of them is a format change.

pub mod block;
pub mod codec;
pub mod evidence;
pub mod genesis;
pub mod hexfmt;
pub mod log;
pub mod receipt;
pub mod tx;

pub use cairn_crypto::{Hash, Suite};

/// `ms` since the Unix epoch as RFC 3339 UTC with milliseconds.
pub fn format_time_ms(ms: u64) -> String {
    let t = std::time::UNIX_EPOCH + std::time::Duration::from_millis(ms);
    humantime::format_rfc3339_millis(t).to_string()
}

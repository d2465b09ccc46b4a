//! Cairn's core wire types and their canonical encodings: transactions, log leaves, blocks,
//! genesis, trust files and receipts (modules own theirs, in their crates). Formats are versioned and pinned by test
//! vectors (`docs/encoding.md`, `testdata/vectors/`); a change to any of them is a format change.

pub mod block;
pub mod codec;
pub mod genesis;
pub mod hexfmt;
pub mod log;
pub mod receipt;
pub mod state_receipt;
pub mod strict_json;
pub mod tx;

pub use cairn_crypto::{Hash, Suite};

/// `ms` since the Unix epoch as RFC 3339 UTC with milliseconds. Total: any `u64` formats
/// (years past 9999 get more digits), because receipts may carry any value.
pub fn format_time_ms(ms: u64) -> String {
    let secs = ms / 1000;
    let (days, rem) = (secs / 86_400, secs % 86_400);
    // Howard Hinnant's civil_from_days, for days since 1970-01-01 (never negative here).
    let z = days as i128 + 719_468;
    let era = z / 146_097;
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + if month <= 2 { 1 } else { 0 };
    format!("{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{:03}Z", rem / 3600, (rem % 3600) / 60, rem % 60, ms % 1000)
}

#[cfg(test)]
mod tests {
    #[test]
    fn times_format_as_rfc3339() {
        assert_eq!(super::format_time_ms(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(super::format_time_ms(1_795_760_073_106), "2026-11-27T06:14:33.106Z");
        assert_eq!(super::format_time_ms(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert!(super::format_time_ms(u64::MAX).ends_with('Z'));
    }
}

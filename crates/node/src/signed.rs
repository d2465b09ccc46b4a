//! The last checkpoint this validator signed, kept durably beside the ledger (not in its
//! journal), so that a ledger that lost acknowledged blocks (a truncated journal, a restored
//! old copy) is noticed at start instead of signing a second root for a size it already signed.
//!
//! The file (`<db>/signed-checkpoint`, 48 bytes: magic, size, root) is rewritten in place and
//! fsync'd after each block is durable and before its checkpoint is served or gossiped; at
//! open the ledger's log must reach that size with that root. A validator that lost blocks
//! starts over on a fresh ledger and fetches the chain from its peers, carrying the mark: it
//! only ever grows, and the commit stage checks the fetched chain's root when it reaches the
//! marked size ([`SignedMark::check_reached`]).

use std::fs::File;
use std::path::{Path, PathBuf};

use cairn_crypto::Hash;

use crate::error::{Error, IoContext, Result};

const MAGIC: &[u8; 8] = b"cairnsg1";
const LEN: usize = 8 + 8 + 32;
pub const FILE: &str = "signed-checkpoint";

pub(crate) struct SignedMark {
    file: File,
    path: PathBuf,
    /// The highest (size, root) recorded: what this validator promised never to contradict.
    highest: std::sync::Mutex<Option<(u64, Hash)>>,
}

impl SignedMark {
    /// Opens (or creates) the mark in `db`; returns it with the last (size, root) it holds.
    pub(crate) fn open(db: &Path) -> Result<(Self, Option<(u64, Hash)>)> {
        let path = db.join(FILE);
        let file =
            std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(false).open(&path).io_context(|| format!("opening {}", path.display()))?;
        let bytes = std::fs::read(&path).io_context(|| format!("reading {}", path.display()))?;
        if bytes.is_empty() {
            // A new file: its directory entry must survive a crash as well.
            File::open(db).and_then(|d| d.sync_all()).io_context(|| format!("syncing {}", db.display()))?;
        }
        let last = match bytes.len() {
            0 => None,
            LEN if &bytes[..8] == MAGIC => {
                let size = u64::from_be_bytes(bytes[8..16].try_into().expect("8 bytes"));
                Some((size, bytes[16..48].try_into().expect("32 bytes")))
            }
            _ => {
                return Err(Error::Corrupt(format!(
                    "{} is not a signed-checkpoint mark ({} bytes); it records the last checkpoint this validator signed: \
                     restore it, or remove it only if this ledger is known to be complete",
                    path.display(),
                    bytes.len()
                )));
            }
        };
        Ok((SignedMark { file, path, highest: std::sync::Mutex::new(last) }, last))
    }

    /// The highest (size, root) this validator signed.
    pub(crate) fn highest(&self) -> Option<(u64, Hash)> {
        *self.highest.lock().unwrap()
    }

    /// Checks a log that grew from `from` to `to` leaves against the mark: if it passed the
    /// marked size, its root there (`root_at`) must be the one signed.
    pub(crate) fn check_reached(&self, from: u64, to: u64, root_at: impl FnOnce(u64) -> Result<Hash>) -> Result<()> {
        let Some((size, root)) = self.highest() else { return Ok(()) };
        if from < size && size <= to && root_at(size)? != root {
            return Err(Error::Inconsistent(format!(
                "the chain this validator fetched has another root at size {size} than the checkpoint it signed ({}): it will not sign it",
                hex::encode(root)
            )));
        }
        Ok(())
    }

    /// Records that this validator signed the checkpoint of `size` leaves with `root`; durable
    /// on return. A size below the mark (a ledger catching up on what it signed before) leaves
    /// the mark as it is; the mark's own size with another root is refused.
    pub(crate) fn record(&self, size: u64, root: &Hash) -> Result<()> {
        use std::os::unix::fs::FileExt as _;
        let mut highest = self.highest.lock().unwrap();
        match *highest {
            Some((s, r)) if s == size && r != *root => {
                return Err(Error::Inconsistent(format!("refusing to sign a second root for size {size}")));
            }
            Some((s, _)) if s >= size => return Ok(()),
            _ => {}
        }
        let mut buf = [0u8; LEN];
        buf[..8].copy_from_slice(MAGIC);
        buf[8..16].copy_from_slice(&size.to_be_bytes());
        buf[16..].copy_from_slice(root);
        self.file.write_all_at(&buf, 0).and_then(|()| self.file.sync_data()).io_context(|| format!("writing {}", self.path.display()))?;
        *highest = Some((size, *root));
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The mark only grows, refuses a second root for its size, survives a reopen, and a log
    /// that passes it must have the signed root there.
    #[test]
    fn the_mark_only_grows_and_holds_the_fetched_chain_to_it() {
        let dir = tempfile::tempdir().unwrap();
        let (mark, last) = SignedMark::open(dir.path()).unwrap();
        assert_eq!(last, None);
        mark.record(10, &[1; 32]).unwrap();
        mark.record(5, &[9; 32]).unwrap(); // catching up below the mark: kept as it is
        assert!(mark.record(10, &[2; 32]).is_err());
        drop(mark);
        let (mark, last) = SignedMark::open(dir.path()).unwrap();
        assert_eq!(last, Some((10, [1; 32])));
        assert!(mark.check_reached(0, 9, |_| unreachable!()).is_ok());
        assert!(mark.check_reached(8, 12, |s| Ok(if s == 10 { [1; 32] } else { [0; 32] })).is_ok());
        assert!(mark.check_reached(8, 12, |_| Ok([3; 32])).is_err());
        assert!(mark.check_reached(10, 20, |_| unreachable!()).is_ok());
        mark.record(11, &[4; 32]).unwrap();
        assert_eq!(mark.highest(), Some((11, [4; 32])));
    }
}

//! The last checkpoint this validator signed, kept durably beside the ledger (not in its
//! journal), so that a ledger that lost acknowledged blocks (a truncated journal, a restored
//! old copy) is noticed at start instead of signing a second root for a size it already signed.
//!
//! The file (`<db>/signed-checkpoint`, 48 bytes: magic, size, root) is rewritten in place and
//! fsync'd after each block is durable and before its checkpoint is served or gossiped; at
//! open the ledger's log must reach that size with that root.

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
        Ok((SignedMark { file, path }, last))
    }

    /// Records that this validator signed the checkpoint of `size` leaves with `root`; durable
    /// on return.
    pub(crate) fn record(&self, size: u64, root: &Hash) -> Result<()> {
        use std::os::unix::fs::FileExt as _;
        let mut buf = [0u8; LEN];
        buf[..8].copy_from_slice(MAGIC);
        buf[8..16].copy_from_slice(&size.to_be_bytes());
        buf[16..].copy_from_slice(root);
        self.file.write_all_at(&buf, 0).and_then(|()| self.file.sync_data()).io_context(|| format!("writing {}", self.path.display()))
    }
}

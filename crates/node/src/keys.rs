//! Key files: JSON `{format, suite, public_key, secret_key}`, written owner-readable only.

use std::path::Path;

use cairn_crypto::{KeyPair, Suite};
use serde::{Deserialize, Serialize};

use crate::error::{Error, IoContext, Result};

pub const KEY_FORMAT: &str = "cairn-key-v1";

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct KeyFile {
    format: String,
    suite: Suite,
    public_key: String,
    secret_key: String,
}

pub fn write_key(path: &Path, key: &KeyPair) -> Result<()> {
    let kf = KeyFile { format: KEY_FORMAT.into(), suite: key.suite(), public_key: key.public_key().to_hex(), secret_key: hex::encode(key.secret_bytes()) };
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).io_context(|| format!("creating {}", dir.display()))?;
    }
    let json = serde_json::to_string_pretty(&kf)? + "\n";
    let mut opts = std::fs::OpenOptions::new();
    opts.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
    use std::io::Write as _;
    let mut f = opts.open(path).io_context(|| format!("creating key file {} (it must not exist yet)", path.display()))?;
    f.write_all(json.as_bytes()).and_then(|()| f.sync_all()).io_context(|| format!("writing key file {}", path.display()))?;
    Ok(())
}

/// Reads a key file. Refused, as ssh refuses a private key others can read, when its
/// permissions let anyone but its owner read or write it.
pub fn read_key(path: &Path) -> Result<KeyPair> {
    check_private(path)?;
    let bytes = std::fs::read(path).io_context(|| format!("reading key file {}", path.display()))?;
    let kf: KeyFile = serde_json::from_slice(&bytes).map_err(|source| Error::NotAKeyFile { path: path.to_path_buf(), source })?;
    if kf.format != KEY_FORMAT {
        return Err(Error::Config(format!("key file {}: format {:?}, expected {KEY_FORMAT}", path.display(), kf.format)));
    }
    let secret = hex::decode(&kf.secret_key).map_err(|source| Error::KeyNotHex { path: path.to_path_buf(), source })?;
    let key = KeyPair::from_secret_bytes(kf.suite, &secret).map_err(|source| Error::BadKey { path: path.to_path_buf(), source })?;
    if key.public_key().to_hex() != kf.public_key {
        return Err(Error::Config(format!("key file {}: public_key does not belong to secret_key", path.display())));
    }
    Ok(key)
}

#[cfg(unix)]
pub fn check_private(path: &Path) -> Result<()> {
    use std::os::unix::fs::PermissionsExt as _;
    let mode = std::fs::metadata(path).io_context(|| format!("reading key file {}", path.display()))?.permissions().mode();
    if mode & 0o077 != 0 {
        return Err(Error::Config(format!(
            "key file {} is readable or writable by others (mode {:o}); it holds a secret key: run `chmod 600 {}`",
            path.display(),
            mode & 0o777,
            path.display()
        )));
    }
    Ok(())
}

#[cfg(not(unix))]
pub fn check_private(_path: &Path) -> Result<()> {
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[cfg(unix)]
    #[test]
    fn a_key_file_others_can_read_is_refused_with_the_fix() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("k.key");
        write_key(&path, &KeyPair::generate(Suite::Ed25519Sha256)).unwrap();
        read_key(&path).expect("written owner-only");
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        let e = read_key(&path).unwrap_err().to_string();
        assert!(e.contains("chmod 600") && e.contains("644"), "{e}");
    }
}

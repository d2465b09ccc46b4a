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

pub fn read_key(path: &Path) -> Result<KeyPair> {
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

//! Files that hold secrets (the webhook secret, the POS API's TLS key, a configuration with a
//! token in it): read only when no one but their owner can read them.

use super::Config;
use std::{io, path::Path};

impl Config {
    /// What is wrong when the configuration file holds a secret (`[pos] token`,
    /// `[webhooks] secret`) and group or others can read it.
    pub fn secrets_open_to_others(&self) -> Option<String> {
        let path = self.source.as_ref()?;
        let keys: Vec<&str> = [
            ("pos.token", self.pos.token.is_some()),
            ("webhooks.secret", self.webhooks.secret.is_some()),
        ]
        .into_iter()
        .filter_map(|(k, set)| set.then_some(k))
        .collect();
        if keys.is_empty() {
            return None;
        }
        let mode = open_to_others(path).ok().flatten()?;
        Some(format!(
            "{} holds {} but group or others can read it (mode {mode:04o}): chmod 600 it, or move the secret to the environment",
            path.display(),
            keys.join(" and ")
        ))
    }
}

/// The file's permission bits when group or others may read it (Unix); `None` when only its
/// owner can, or where there are no such bits.
pub fn open_to_others(path: &Path) -> io::Result<Option<u32>> {
    let meta = std::fs::metadata(path)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        Ok((mode & 0o044 != 0).then_some(mode))
    }
    #[cfg(not(unix))]
    {
        let _ = meta;
        Ok(None)
    }
}

/// A secret from `path` (trimmed), refused when the file can be read by group or others.
/// `Err` says what is wrong and what to do.
pub fn read_secret_file(path: &Path) -> Result<String, String> {
    read_private(path).map(|s| s.trim().to_string())
}

/// The bytes of `path`, refused when the file can be read by group or others.
pub(super) fn read_private(path: &Path) -> Result<String, String> {
    match open_to_others(path) {
        Ok(None) => {}
        Ok(Some(mode)) => {
            return Err(format!(
                "{} holds a secret but group or others can read it (mode {mode:04o}): chmod 600 it",
                path.display()
            ));
        }
        Err(e) => return Err(format!("cannot read {}: {e}", path.display())),
    }
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

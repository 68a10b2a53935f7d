//! Values that identify a customer or unlock an account: turned into something safe to log,
//! and compared without telling an attacker how much of a guess was right.
//!
//! Fingerprints are keyed (HMAC-SHA-256) with a random key of this install, kept in the state
//! directory (`fingerprint.key` beside the journal, private to its owner): the same value gives
//! the same fingerprint across restarts of one lane, so logs can still be correlated, but
//! without the key a fingerprint cannot be matched against the few hundred million phone
//! numbers there are. A lane without a state directory uses a key of its own per run.

use hmac::{Hmac, Mac};
use sha2::Sha256;
use std::{
    io::{self, Read, Write},
    path::{Path, PathBuf},
    sync::OnceLock,
};

/// The key file's name in the state directory.
pub const KEY_FILE: &str = "fingerprint.key";

const KEY_LEN: usize = 32;

static KEY: OnceLock<[u8; KEY_LEN]> = OnceLock::new();

fn random_key() -> io::Result<[u8; KEY_LEN]> {
    let mut key = [0u8; KEY_LEN];
    getrandom::getrandom(&mut key).map_err(|e| io::Error::other(e.to_string()))?;
    Ok(key)
}

/// The key in use: the install's once `use_install_key` has run, else one for this run.
fn key() -> &'static [u8; KEY_LEN] {
    KEY.get_or_init(|| {
        // Without randomness at all, fingerprints still hide the value from a reader of the
        // log who does not also have this binary and the time it started.
        random_key().unwrap_or_else(|_| {
            let mut k = [0u8; KEY_LEN];
            let t = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_nanos())
                .unwrap_or_default();
            k[..16].copy_from_slice(&t.to_le_bytes());
            k
        })
    })
}

/// Reads the install's key from `dir`, creating it (private to its owner) on first start.
pub fn load_or_create_key(dir: &Path) -> io::Result<[u8; KEY_LEN]> {
    let path = dir.join(KEY_FILE);
    match std::fs::File::open(&path) {
        Ok(f) => {
            let mut bytes = Vec::new();
            f.take(KEY_LEN as u64 + 1).read_to_end(&mut bytes)?;
            bytes.try_into().map_err(|_| {
                io::Error::new(
                    io::ErrorKind::InvalidData,
                    format!("{} is not a {KEY_LEN}-byte key", path.display()),
                )
            })
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => create_key(&path),
        Err(e) => Err(e),
    }
}

fn create_key(path: &PathBuf) -> io::Result<[u8; KEY_LEN]> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let key = random_key()?;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut f = match options.open(path) {
        Ok(f) => f,
        // Another process made it first: use that one.
        Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
            return load_or_create_key(path.parent().unwrap_or(Path::new(".")));
        }
        Err(e) => return Err(e),
    };
    f.write_all(&key)?;
    f.sync_all()?;
    Ok(key)
}

/// Keys this process's fingerprints with the install's key from `dir` (see the module doc).
/// Call it before anything is fingerprinted; `Err` says why the key could not be had (the
/// fingerprints then use a key of this run).
pub fn use_install_key(dir: &Path) -> io::Result<()> {
    let key = load_or_create_key(dir)?;
    KEY.set(key).map_err(|_| {
        io::Error::other("fingerprints were keyed already (the install key came too late)")
    })
}

/// A short fingerprint of `value` under `key`.
fn fingerprint_with(key: &[u8], value: &str) -> String {
    // HMAC takes keys of any length: this cannot fail.
    let hex = match <Hmac<Sha256> as Mac>::new_from_slice(key) {
        Ok(mut mac) => {
            mac.update(value.as_bytes());
            mac.finalize()
                .into_bytes()
                .iter()
                .take(4)
                .map(|b| format!("{b:02x}"))
                .collect()
        }
        Err(_) => String::from("????????"),
    };
    format!("<{} chars #{hex}>", value.chars().count())
}

/// A short, stable fingerprint of a sensitive value: the same code gives the same fingerprint
/// within an install, so logs can still be correlated, but the value itself cannot be read
/// back, nor guessed and checked without the install's key.
pub fn fingerprint(value: &str) -> String {
    fingerprint_with(key(), value)
}

/// Constant-time comparison, so a token or signature cannot be guessed byte by byte from
/// timings.
pub fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fingerprint_is_stable_and_hides_the_value() {
        let a = fingerprint("https://qr.vipps.no/p/4712345678");
        assert_eq!(a, fingerprint("https://qr.vipps.no/p/4712345678"));
        assert_ne!(a, fingerprint("https://qr.vipps.no/p/4712345679"));
        assert!(!a.contains("4712345678"));
        assert!(a.starts_with("<32 chars #"));
    }

    #[test]
    fn fingerprints_are_keyed_and_not_plain_sha256() {
        use sha2::Digest;
        let phone = "4791234567";
        let plain: String = sha2::Sha256::digest(phone.as_bytes())
            .iter()
            .take(4)
            .map(|b| format!("{b:02x}"))
            .collect();
        // The unkeyed hash (what anyone can compute for every phone number) is not it.
        assert!(
            !fingerprint(phone).contains(&plain),
            "{}",
            fingerprint(phone)
        );
        assert_ne!(
            fingerprint_with(&[1; 32], phone),
            fingerprint_with(&[2; 32], phone)
        );
    }

    #[test]
    fn the_install_key_is_made_once_private_and_differs_between_installs() {
        let base = std::env::temp_dir().join(format!("vipps-kiosk-key-{}", std::process::id()));
        let (one, two) = (base.join("one"), base.join("two"));
        let _ = std::fs::remove_dir_all(&base);
        let a = load_or_create_key(&one).expect("created");
        assert_eq!(load_or_create_key(&one).expect("read back"), a);
        let b = load_or_create_key(&two).expect("another install");
        assert_ne!(a, b);
        let phone = "4791234567";
        assert_eq!(fingerprint_with(&a, phone), fingerprint_with(&a, phone));
        assert_ne!(fingerprint_with(&a, phone), fingerprint_with(&b, phone));
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(one.join(KEY_FILE))
                .expect("key file")
                .permissions()
                .mode();
            assert_eq!(mode & 0o077, 0, "mode {mode:o}");
        }
        // A damaged key file is said, not silently replaced.
        std::fs::write(one.join(KEY_FILE), b"short").expect("write");
        assert!(load_or_create_key(&one).is_err());
        let _ = std::fs::remove_dir_all(&base);
    }

    #[test]
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"token-123", b"token-123"));
        assert!(!constant_time_eq(b"token-123", b"token-124"));
        assert!(!constant_time_eq(b"token-123", b"token-12"));
        assert!(constant_time_eq(b"", b""));
    }
}

//! Values that identify a customer or unlock an account: turned into something safe to log,
//! and compared without telling an attacker how much of a guess was right.

use sha2::{Digest, Sha256};

/// A short, stable fingerprint of a sensitive value: the same code gives the same fingerprint, so
/// logs can still be correlated, but the value itself cannot be read back.
pub fn fingerprint(value: &str) -> String {
    let digest = Sha256::digest(value.as_bytes());
    let hex: String = digest.iter().take(4).map(|b| format!("{b:02x}")).collect();
    format!("<{} chars #{hex}>", value.chars().count())
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
    fn constant_time_eq_compares_whole_values() {
        assert!(constant_time_eq(b"token-123", b"token-123"));
        assert!(!constant_time_eq(b"token-123", b"token-124"));
        assert!(!constant_time_eq(b"token-123", b"token-12"));
        assert!(constant_time_eq(b"", b""));
    }
}

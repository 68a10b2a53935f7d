//! References, idempotency keys and retry timing: everything derived rather than stored.

use super::config::Config;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// A reference per order and attempt: `<orderId>-<n>`, shortened with a hash past 64 chars.
pub fn reference_for(order_id: &str, attempt: u32) -> String {
    let suffix = format!("-{attempt}");
    if order_id.len() + suffix.len() <= 64 {
        format!("{order_id}{suffix}")
    } else {
        format!(
            "{}-{}{suffix}",
            &order_id[..40],
            &hex_digest(order_id)[..12]
        )
    }
}

/// The round a key of operation `op` was built with (see `key`).
pub fn round_of(key: &str, op: &str) -> Option<u32> {
    let rest = key.strip_prefix(op)?;
    let (round, _) = rest.split_once('-')?;
    round.parse().ok()
}

/// Idempotency keys derive from the reference and operation; at most 50 characters.
pub(super) fn key(op: &str, reference: &str, round: u32) -> String {
    let k = format!("{op}{round}-{reference}");
    if k.len() <= 50 {
        k
    } else {
        format!("{op}{round}-{}", &hex_digest(reference)[..40])
    }
}

/// Wait before the next try after `failures` failed calls in a row: 1, 2, 4 … poll intervals.
pub(super) fn backoff(config: &Config, failures: u32) -> Duration {
    config
        .poll_interval
        .saturating_mul(2u32.saturating_pow(failures.saturating_sub(1).min(8)))
        .min(config.max_backoff)
}

fn hex_digest(s: &str) -> String {
    Sha256::digest(s.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

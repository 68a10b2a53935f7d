//! References, idempotency keys and retry timing: everything derived rather than stored.

use super::config::Config;
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Longest reference ePayment takes.
pub const EPAYMENT_REFERENCE_MAX: usize = 64;
/// Longest `orderId` eCom takes (the kiosk's reference is the eCom order id).
pub const ECOM_ORDER_ID_MAX: usize = 50;
/// Attempts an order's references leave room for (`-999`).
const ATTEMPT_DIGITS: usize = 3;

/// A reference per lane, order and attempt: `<prefix>-<orderId>-<n>`, where the prefix names
/// the lane (and the store, where configured), so that lanes and installs of one sales unit
/// never share a reference. Shortened with a hash when it would pass `max` characters (only
/// for order ids the POS API did not check, e.g. from an older journal).
pub fn reference_for(prefix: &str, order_id: &str, attempt: u32, max: usize) -> String {
    let head = match prefix {
        "" => order_id.to_string(),
        p => format!("{p}-{order_id}"),
    };
    let suffix = format!("-{attempt}");
    if head.len() + suffix.len() <= max {
        return format!("{head}{suffix}");
    }
    // Keep what can be read of the start, and a digest of the whole for uniqueness.
    let digest = &hex_digest(&head)[..12];
    let keep = max.saturating_sub(digest.len() + 1 + suffix.len());
    let start: String = head.chars().take(keep).collect();
    format!("{start}-{digest}{suffix}")
}

/// Whether every reference of `order_id` on this lane reads in full within `max` characters.
pub fn reference_fits(prefix: &str, order_id: &str, max: usize) -> bool {
    let prefix_len = if prefix.is_empty() {
        0
    } else {
        prefix.len() + 1
    };
    prefix_len + order_id.len() + 1 + ATTEMPT_DIGITS <= max
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

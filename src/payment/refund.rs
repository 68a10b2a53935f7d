//! Staff refunds of captured orders. They move money, so they take the same path as every
//! other request: the machine asks for them as an effect, the lane journals that before it
//! goes out, and the answer comes back as an input whose effect tells the POS.

use super::{Effect, input::ApiError, machine::Machine};
use crate::vipps::model::Amount;

/// The idempotency key of a staff refund: the POS's own id makes a resend safe, and the
/// payment's reference scopes it, so the same id on two orders are two refunds. At most 50
/// characters: readable when it fits, else a digest of both.
pub fn refund_key(reference: &str, refund_id: &str) -> String {
    let k = format!("refund-{refund_id}-{reference}");
    if k.len() <= 50 {
        return k;
    }
    use sha2::{Digest, Sha256};
    let digest: String = Sha256::digest(format!("{reference}\n{refund_id}").as_bytes())
        .iter()
        .take(20)
        .map(|b| format!("{b:02x}"))
        .collect();
    format!("refund-{digest}")
}

impl Machine {
    pub(super) fn on_refund_requested(
        &mut self,
        order_id: String,
        reference: String,
        amount: Amount,
        refund_id: &str,
        fx: &mut Vec<Effect>,
    ) {
        let idempotency_key = refund_key(&reference, refund_id);
        // The same refund asked for again while it is under way: one request, one answer.
        if !self.refunds.insert(idempotency_key.clone()) {
            return;
        }
        tracing::info!(order = %order_id, %reference, amount = amount.value, "refunding");
        fx.push(Effect::Refund {
            order_id,
            reference,
            amount,
            idempotency_key,
        });
    }

    pub(super) fn on_refunded(
        &mut self,
        order_id: String,
        idempotency_key: String,
        result: Result<Amount, ApiError>,
        fx: &mut Vec<Effect>,
    ) {
        if !self.refunds.remove(&idempotency_key) {
            return; // not asked for, or answered already
        }
        match &result {
            Ok(total) => tracing::info!(order = %order_id, refunded = total.value, "refunded"),
            Err(e) => tracing::warn!(order = %order_id, error = %e.message, "refund failed"),
        }
        fx.push(Effect::RefundDone {
            order_id,
            idempotency_key,
            result,
        });
    }
}

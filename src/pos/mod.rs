//! The POS API: the lane's POS hands over orders and learns outcomes over local HTTP (axum,
//! 127.0.0.1 by default, bearer token), or over TLS (`tls`) when it listens beyond this
//! machine.
//!
//! The payment machine stays the only owner of payment state: the API sends `Command`s to the
//! app (one-shot replies), and the app writes every status change into the `Hub`, which the
//! API reads and streams as server-sent events.

mod api;
mod customer;
mod hub;
pub mod tls;

pub use api::{router, serve, serve_on};
pub use hub::{Health, Hub, WebhookHealth};

use crate::{
    payment::{FailureReason, Method, Order, OrderStatus, OrderUpdate, PushTo},
    sync::lock,
    vipps::model::{Amount, Currency},
};
use serde::{Deserialize, Serialize};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Largest order body accepted (a 500-line order is well under this).
pub const MAX_BODY_BYTES: usize = 256 * 1024;

/// What the POS sees of an order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderRecord {
    pub order_id: String,
    pub status: OrderStatus,
    /// Every payment reference tried for this order, oldest first.
    pub references: Vec<String>,
    pub method: Option<Method>,
    /// Captured amount in minor units, once captured.
    pub captured_amount: Option<i64>,
    /// The payment that was captured (not always the last tried: an earlier QR of the order
    /// may be approved first), which a refund goes to.
    #[serde(default)]
    pub captured_reference: Option<String>,
    /// Refunded so far (staff refunds through this API), in minor units.
    #[serde(default)]
    pub refunded_amount: Option<i64>,
    pub currency: Currency,
    pub total_amount: i64,
    /// Why the last payment attempt failed, for the POS to act on.
    pub reason: Option<FailureReason>,
    pub created_at: String,
    pub updated_at: String,
}

impl OrderRecord {
    /// An order just accepted, at `at` (RFC 3339).
    pub fn new(order: &Order, at: String) -> OrderRecord {
        OrderRecord {
            order_id: order.order_id.clone(),
            status: OrderStatus::Waiting,
            references: Vec::new(),
            method: None,
            captured_amount: None,
            captured_reference: None,
            refunded_amount: None,
            currency: order.currency,
            total_amount: order.total_amount,
            reason: None,
            created_at: at.clone(),
            updated_at: at,
        }
    }

    /// Folds in a status change from the payment machine, made at `at`.
    pub fn apply(&mut self, u: &OrderUpdate, at: String) {
        self.status = u.status;
        if let Some(reference) = &u.reference
            && !self.references.contains(reference)
        {
            self.references.push(reference.clone());
        }
        self.method = u.method.or(self.method);
        if let Some(c) = u.captured {
            self.captured_amount = Some(c.value);
        }
        if u.status == OrderStatus::Captured && u.reference.is_some() {
            self.captured_reference.clone_from(&u.reference);
        }
        self.reason = u.reason;
        self.updated_at = at;
    }
}

/// What the lane can take: the market's currency, and order ids whose references read in
/// full on this lane (`<prefix>-<orderId>-<n>` within `reference_max`: 64 for ePayment, 50
/// where the one-time QR is eCom's).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRules {
    pub currency: Currency,
    pub reference_prefix: String,
    pub reference_max: usize,
}

impl OrderRules {
    /// Orders in `currency`, with references of up to 64 characters and no prefix.
    pub fn new(currency: Currency) -> OrderRules {
        OrderRules {
            currency,
            reference_prefix: String::new(),
            reference_max: crate::payment::EPAYMENT_REFERENCE_MAX,
        }
    }

    /// The order's own checks, and that its id fits this lane's references.
    pub fn check(&self, order: &Order) -> Result<(), crate::payment::OrderError> {
        order.validate(self.currency)?;
        if !crate::payment::reference_fits(
            &self.reference_prefix,
            &order.order_id,
            self.reference_max,
        ) {
            let prefix = match self.reference_prefix.len() {
                0 => 0,
                n => n + 1,
            };
            let room = self.reference_max.saturating_sub(prefix + 4);
            return Err(crate::payment::OrderError {
                field: "orderId".into(),
                reason: format!(
                    "at most {room} characters on this lane (its payment references are \"{}-<orderId>-<attempt>\", at most {})",
                    self.reference_prefix, self.reference_max
                ),
            });
        }
        Ok(())
    }
}

/// Why the app did not take a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Another order is being paid.
    Busy,
    /// No such active order (or it has ended).
    NotActive,
    /// The customer has paid: it cannot be withdrawn, only refunded.
    AlreadyPaid,
    /// The lane cannot take payments (out of service).
    OutOfService,
    /// The journal knows this order id already (the order, or that it was once used).
    Reused,
    /// The journal could not record it, so nothing was done (health says why).
    Unrecorded,
    /// A payment is already on its way to a customer (waiting for their approval, or the
    /// one-time QR being switched off for it): the hand-over is not taken.
    InProgress,
}

/// Why a staff refund did not happen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RefundRefused {
    /// Vipps refused (a status) or did not answer (none): what it said, for the POS, and
    /// how long Vipps asked to wait before the next try (429's `Retry-After`).
    Vipps {
        status: Option<u16>,
        code: Option<u32>,
        retry_after: Option<std::time::Duration>,
    },
    /// The lane cannot take payments (out of service).
    OutOfService,
    /// The journal could not record it, so it was not sent (health says why).
    Unrecorded,
}

/// A one-shot reply that can travel in a `Clone` message.
#[derive(Debug)]
pub struct Reply<T = Result<(), Refusal>>(Arc<Mutex<Option<oneshot::Sender<T>>>>);

impl<T> Clone for Reply<T> {
    fn clone(&self) -> Self {
        Reply(self.0.clone())
    }
}

impl<T> Reply<T> {
    /// A reply and where its answer arrives.
    pub fn new() -> (Reply<T>, oneshot::Receiver<T>) {
        let (tx, rx) = oneshot::channel();
        (Reply(Arc::new(Mutex::new(Some(tx)))), rx)
    }

    pub fn send(&self, result: T) {
        if let Some(tx) = lock(&self.0).take() {
            let _ = tx.send(result);
        }
    }
}

/// A staff refund to make, as the POS asked for it (checked against the order's record).
#[derive(Debug, Clone)]
pub struct RefundOrder {
    pub order_id: String,
    /// The captured payment.
    pub reference: String,
    pub amount: Amount,
    /// The POS's own id: the same one sent again never refunds twice.
    pub refund_id: String,
}

#[derive(Debug, Clone)]
pub enum Command {
    Submit(Box<Order>, Reply),
    /// An order that comes with its customer (cashier-assisted): pushed at once, no one-time QR.
    SubmitAssisted(Box<Order>, PushTo, Reply),
    /// The cashier hands over the customer of the order on screen.
    HandOver {
        order_id: String,
        to: PushTo,
        reply: Reply,
    },
    Cancel(String, Reply),
    /// A staff refund; the reply comes once Vipps has answered (the record then holds the
    /// refunded total).
    Refund(RefundOrder, Reply<Result<(), RefundRefused>>),
}

/// Answers a command when the lane cannot take payments.
pub fn reject_out_of_service(command: Command) {
    match command {
        Command::Submit(_, reply)
        | Command::SubmitAssisted(_, _, reply)
        | Command::HandOver { reply, .. }
        | Command::Cancel(_, reply) => reply.send(Err(Refusal::OutOfService)),
        Command::Refund(_, reply) => reply.send(Err(RefundRefused::OutOfService)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_ids_must_fit_the_lanes_references() {
        let order = |id: &str| Order {
            order_id: id.into(),
            ..crate::payment::order::tests::order("order-0001")
        };
        let ecom_lane = OrderRules {
            currency: Currency::Nok,
            reference_prefix: "store7-lane-1".into(),
            reference_max: crate::payment::ECOM_ORDER_ID_MAX,
        };
        assert_eq!(ecom_lane.check(&order("order-0001")), Ok(()));
        // 13 + 1 + 32 + 1 + 3 = 50: the longest id that still reads in full.
        assert_eq!(ecom_lane.check(&order(&"a".repeat(32))), Ok(()));
        let e = ecom_lane
            .check(&order(&"a".repeat(33)))
            .expect_err("too long for eCom on this lane");
        assert_eq!(e.field, "orderId");
        assert!(e.reason.contains("at most 32"), "{}", e.reason);
        // The order's own rules still apply.
        assert!(
            OrderRules::new(Currency::Dkk)
                .check(&order("order-0001"))
                .is_err()
        );
    }
}

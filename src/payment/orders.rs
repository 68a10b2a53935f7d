//! Handlers for what the POS and the customer do: orders in and withdrawn, scans, taps.

use super::attempt::Payment;
use super::config::{Method, PushTo};
use super::effect::{Effect, OrderStatus};
use super::machine::Machine;
use super::order::Order;
use super::reason::{FailureReason, Notice};
use super::state::{AfterCancel, State};
use std::time::Instant;

impl Machine {
    pub(super) fn on_order(&mut self, order: Order, now: Instant, fx: &mut Vec<Effect>) {
        if !self.accepts_orders() {
            fx.push(Effect::Refused {
                order_id: order.order_id,
                why: if self.out_of_service.is_some() {
                    "the lane is out of service"
                } else {
                    "another order is being paid"
                },
            });
            return;
        }
        self.notice = None;
        self.stats = Default::default();
        self.start(order, Method::OneTimeQr, None, now, fx);
    }

    pub(super) fn on_withdraw(&mut self, order_id: &str, now: Instant, fx: &mut Vec<Effect>) {
        if self.order().is_none_or(|o| o.order_id != order_id) {
            fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "no such active order",
            });
            return;
        }
        // The order ends: its other payments are not needed any more.
        let id = order_id.to_string();
        match &self.state {
            State::Waiting { .. } | State::Scanned { .. } | State::Cancelling { .. } => {
                self.begin_cancel(AfterCancel::Withdraw, false, fx);
                self.release_others_of(&id, now, fx);
            }
            State::Failed {
                order: Some(order),
                attempt,
                ..
            } => {
                let attempt = *attempt;
                fx.push(Self::notify(order, OrderStatus::Cancelled, None));
                self.release_others_of(&id, now, fx);
                self.state = State::Failed {
                    order: None,
                    attempt,
                    reason: FailureReason::Cancelled,
                    until: now + self.config.failed_display,
                };
            }
            State::Capturing { .. } | State::Approved { .. } => fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "the customer has paid; refund instead",
            }),
            State::Idle | State::Failed { order: None, .. } => {}
        }
    }

    pub(super) fn on_scan(&mut self, text: String, now: Instant, fx: &mut Vec<Effect>) {
        let Some(code) = crate::scan::personal_qr(&text) else {
            tracing::info!(scan = %crate::redact::fingerprint(&text), "scan is not a personal QR");
            self.show_notice(Notice::NotVippsCode, now);
            return;
        };
        self.on_push_to(PushTo::PersonalQr(code), now, fx);
    }

    /// The customer (or the cashier) says whom to push to: a scanned personal QR, a typed
    /// phone number, or a customer handed over by the POS. First wins: the one-time QR is
    /// cancelled transaction-only first, and if it was approved meanwhile (6060) that payment
    /// is captured instead.
    pub(super) fn on_push_to(&mut self, to: PushTo, now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Idle | State::Approved { .. } | State::Failed { order: None, .. } => {
                self.show_notice(Notice::NoOrder, now);
            }
            State::Waiting { .. } => {
                self.notice = None;
                self.begin_cancel(AfterCancel::Push(to), true, fx);
            }
            State::Failed { order: Some(_), .. } => {
                let State::Failed {
                    order: Some(order), ..
                } = std::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                self.notice = None;
                self.start(order, to.method(), Some(to), now, fx);
            }
            State::Scanned { payment, .. } if pushes_to(payment, &to) => {
                // The same code read twice (or the same number sent again): nothing to do.
            }
            State::Cancelling {
                after: AfterCancel::Push(next),
                ..
            } if *next == to => {
                // The same again while the one-time QR is being stopped for it: the push
                // follows once, as asked.
            }
            State::Scanned { .. } | State::Cancelling { .. } | State::Capturing { .. } => {
                self.show_notice(Notice::AlreadyInProgress, now);
            }
        }
    }

    /// The POS hands over the customer of the active order `order_id` (cashier-assisted).
    pub(super) fn on_customer_handed_over(
        &mut self,
        order_id: &str,
        to: PushTo,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let open = match &self.state {
            State::Waiting { .. }
            | State::Scanned { .. }
            | State::Failed { order: Some(_), .. } => true,
            State::Cancelling {
                after: AfterCancel::Push(next),
                ..
            } => *next == to,
            _ => false,
        };
        if !open || self.order().is_none_or(|o| o.order_id != order_id) {
            fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "the order is not waiting for its payment",
            });
            return;
        }
        self.on_push_to(to, now, fx);
    }

    /// An order that comes with its customer (cashier-assisted): pushed at once, with no
    /// one-time QR shown.
    pub(super) fn on_assisted_order(
        &mut self,
        order: Order,
        to: PushTo,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if !self.accepts_orders() {
            self.on_order(order, now, fx); // refused the same way
            return;
        }
        self.notice = None;
        self.stats = Default::default();
        self.start(order, to.method(), Some(to), now, fx);
    }

    pub(super) fn on_cancel_tapped(&mut self, _now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Scanned { .. } => self.begin_cancel(AfterCancel::BackToWaiting, true, fx),
            // Still switching from the one-time QR: stay with it instead.
            State::Cancelling { after, .. } if matches!(after, AfterCancel::Push(_)) => {
                *after = AfterCancel::BackToWaiting;
            }
            _ => {}
        }
    }

    pub(super) fn on_dismiss(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Approved { until, .. } | State::Failed { until, .. } => {
                *until = now;
                self.on_tick(now, fx);
            }
            _ => {}
        }
    }
}

/// Whether `payment` already pushes to `to` (a second scan of the same code).
fn pushes_to(payment: &Payment, to: &PushTo) -> bool {
    let customer = payment.request.customer.as_ref();
    match to {
        PushTo::PersonalQr(code) => {
            customer.and_then(|c| c.personal_qr.as_deref()) == Some(code.as_str())
        }
        PushTo::Phone(n) => {
            customer.and_then(|c| c.phone_number.as_deref()) == Some(n.msisdn().as_str())
        }
    }
}

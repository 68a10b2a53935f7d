//! How a payment ends: captured, or final without money (and what follows).

use super::config::Method;
use super::effect::{Effect, OrderStatus, OrderUpdate};
use super::machine::Machine;
use super::order::Order;
use super::reason::FailureReason;
use super::state::{Active, AfterCancel, State};
use crate::vipps::model::Amount;
use std::time::Instant;

impl Machine {
    pub(super) fn finish_captured(&mut self, captured: Amount, now: Instant, fx: &mut Vec<Effect>) {
        let Some(Active { order, payment, .. }) = self.state.take_active(true) else {
            return;
        };
        tracing::info!(reference = %payment.reference, captured = captured.value, "payment captured");
        fx.push(Effect::Notify(OrderUpdate {
            order_id: order.order_id.clone(),
            status: OrderStatus::Captured,
            reference: Some(payment.reference.clone()),
            method: Some(payment.method),
            captured: Some(captured),
            reason: None,
        }));
        // Paid: any other payment of the order is released (money rule 1).
        self.release_others_of(&order.order_id, now, fx);
        self.state = State::Approved {
            order,
            reference: payment.reference,
            method: payment.method,
            captured,
            until: now + self.config.approved_display,
        };
    }

    /// The current payment is final without money (or never existed). Carry on with what was
    /// planned, or show `reason`. A payment being captured that ends this way has lost its
    /// authorization: the order ends (`captureRefused`).
    pub(super) fn proceed_without_money(
        &mut self,
        reason: Option<FailureReason>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if matches!(self.state, State::Capturing { .. }) {
            self.end_order(FailureReason::CaptureRefused, now, fx);
            return;
        }
        if let Some(active) = self.state.take_active(false) {
            self.proceed(active, reason, now, fx);
        }
    }

    /// What follows a payment (taken out of its state as `active`) that ended without money.
    pub(super) fn proceed(
        &mut self,
        active: Active,
        reason: Option<FailureReason>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let Active {
            order,
            attempt,
            payment,
            after,
        } = active;
        let until = now + self.config.failed_display;
        let failed = |order: Option<Order>, reason| State::Failed {
            order,
            attempt,
            reason,
            until,
        };
        match (after, reason) {
            (Some(AfterCancel::Withdraw), _) => {
                fx.push(Self::notify(&order, OrderStatus::Cancelled, Some(&payment)));
                self.release_others_of(&order.order_id, now, fx);
                self.state = failed(None, FailureReason::Cancelled);
            }
            (Some(AfterCancel::WalkAway), _) => {
                tracing::info!(order = %order.order_id, "the customer walked away; order ended");
                fx.push(Self::notify(&order, OrderStatus::Expired, Some(&payment)));
                self.release_others_of(&order.order_id, now, fx);
                self.state = failed(None, FailureReason::Expired);
            }
            (Some(AfterCancel::Push(to)), None) => {
                self.start(order, to.method(), Some(to), now, fx);
            }
            (Some(AfterCancel::BackToWaiting), None) => {
                self.start(order, Method::OneTimeQr, None, now, fx);
            }
            (None, None) => {
                // An unscanned one-time QR ran out: another, unless they keep dying young.
                if payment.method == Method::OneTimeQr && !self.qr_ended(payment.started_at, now) {
                    self.state = failed(Some(order), FailureReason::QrUnavailable);
                    self.qr_trouble(now, fx);
                    return;
                }
                self.start(order, Method::OneTimeQr, None, now, fx);
            }
            (_, Some(reason)) => {
                fx.push(Effect::Notify(OrderUpdate {
                    order_id: order.order_id.clone(),
                    status: OrderStatus::Failed,
                    reference: Some(payment.reference.clone()),
                    method: Some(payment.method),
                    captured: None,
                    reason: Some(reason),
                }));
                self.state = failed(Some(order), reason);
            }
        }
    }
}

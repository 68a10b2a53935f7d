//! Payments followed besides the current one. An order's earlier one-time QR stays open after
//! a renewal (Vipps: never cancel a QR payment inside its window, a customer may be approving
//! it), so it is followed until it ends by itself, and if it is approved first it is the one
//! captured. Once an order has ended, or another payment of it won, every other payment of it
//! is released: cancelled (transaction only, so a last-second approval is seen), and any
//! authorization it gets is cancelled in full. Each is followed until Vipps says it is final.

use super::attempt::{AtVipps, Call, Op, Payment};
use super::effect::{Effect, OrderStatus};
use super::input::{ApiError, Observed};
use super::keys::backoff;
use super::machine::Machine;
use super::state::{Active, State};
use crate::vipps::model::PaymentState;
use std::time::Instant;

/// Refused cancels of a payment being released before the kiosk stops asking (it keeps
/// reading it until Vipps says it is final).
pub(super) const MAX_RELEASE_ROUNDS: u32 = 3;

/// A payment followed besides the current one.
#[derive(Debug, Clone, PartialEq)]
pub struct Other {
    pub order_id: String,
    pub attempt: u32,
    pub payment: Payment,
    pub role: Role,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Role {
    /// An earlier QR of the open order: it runs out by itself; approved first, it is captured.
    Trailing,
    /// It must end without money: cancelled, its authorization (if any) released in full.
    Release,
}

impl Other {
    pub(super) fn new(order_id: &str, attempt: u32, payment: Payment, role: Role) -> Other {
        Other {
            order_id: order_id.to_string(),
            attempt,
            payment,
            role,
        }
    }
}

impl Machine {
    /// The payment of `reference` among the others, if it is one.
    pub(super) fn other_index(&self, reference: &str) -> Option<usize> {
        self.others
            .iter()
            .position(|o| o.payment.reference == reference)
    }

    /// Every other payment of `order_id` is to be released now (the order ended, or another
    /// payment of it won).
    pub(super) fn release_others_of(&mut self, order_id: &str, now: Instant, fx: &mut Vec<Effect>) {
        for i in 0..self.others.len() {
            if self.others[i].order_id == order_id && self.others[i].role == Role::Trailing {
                self.others[i].role = Role::Release;
                self.release(i, now, fx);
            }
        }
    }

    /// Starts releasing other payment `i`: a transaction-only cancel while it may be
    /// unauthorized, once it exists; the answer (or a read) decides what follows.
    pub(super) fn release(&mut self, i: usize, _now: Instant, fx: &mut Vec<Effect>) {
        let p = &mut self.others[i].payment;
        if p.at_vipps == AtVipps::Created && p.call == Call::Idle && p.refusals < MAX_RELEASE_ROUNDS
        {
            tracing::info!(reference = %p.reference, "releasing a payment the order no longer needs");
            fx.push(p.send(Op::Cancel));
        }
    }

    /// `payment` of `order_id` is no longer the current one and must end without money: it is
    /// followed among the others (if it may exist at Vipps) and released.
    pub(super) fn hand_over(
        &mut self,
        order_id: &str,
        attempt: u32,
        payment: Payment,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let exists =
            payment.at_vipps != AtVipps::NotCreated || payment.call == Call::Sent(Op::Create);
        if exists {
            let i = self.others.len();
            self.others
                .push(Other::new(order_id, attempt, payment, Role::Release));
            self.release(i, now, fx);
        }
    }

    /// `payment` of the open order `order_id` is no longer the current one but may still be
    /// approved: it is followed among the others, and captured if approved first.
    pub(super) fn trail(&mut self, order_id: &str, attempt: u32, payment: Payment) {
        self.others
            .push(Other::new(order_id, attempt, payment, Role::Trailing));
    }

    /// Hands the current payment (if any) over to be released, and takes the order out of its
    /// active state: for a payment that won instead of it.
    fn hand_over_current(
        &mut self,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) -> Option<(String, super::order::Order)> {
        match std::mem::replace(&mut self.state, State::Idle) {
            State::Failed {
                order: Some(order), ..
            } => Some((order.order_id.clone(), order)),
            active @ (State::Waiting { .. } | State::Scanned { .. } | State::Cancelling { .. }) => {
                self.state = active;
                let Active {
                    order,
                    attempt,
                    payment,
                    ..
                } = self.state.take_active(false)?;
                let order_id = order.order_id.clone();
                self.hand_over(&order_id, attempt, payment, now, fx);
                Some((order_id, order))
            }
            other => {
                self.state = other;
                None
            }
        }
    }

    /// Other payment `i` is approved while its order is still open: it is the one. The
    /// current payment is released, and this one captured.
    fn promote(&mut self, i: usize, now: Instant, fx: &mut Vec<Effect>) -> bool {
        let order_id = self.others[i].order_id.clone();
        if self.order().is_none_or(|o| o.order_id != order_id) || !self.order_open() {
            return false;
        }
        let Other {
            attempt,
            mut payment,
            ..
        } = self.others.remove(i);
        let Some((_, order)) = self.hand_over_current(now, fx) else {
            // Not open after all: put it back to be released.
            self.others
                .push(Other::new(&order_id, attempt, payment, Role::Release));
            return false;
        };
        tracing::info!(reference = %payment.reference, "an earlier QR of the order was approved; capturing it");
        payment.failures = 0;
        payment.call = Call::Idle;
        fx.push(payment.send(Op::Capture));
        fx.push(Self::notify(&order, OrderStatus::Approved, Some(&payment)));
        self.state = State::Capturing {
            order,
            attempt,
            payment,
        };
        self.release_others_of(&order_id, now, fx);
        true
    }

    /// Whether the current order can still be paid by another of its payments.
    fn order_open(&self) -> bool {
        match &self.state {
            State::Waiting { .. }
            | State::Scanned { .. }
            | State::Failed { order: Some(_), .. } => true,
            State::Cancelling { after, .. } => {
                !matches!(after, super::state::AfterCancel::Withdraw)
            }
            _ => false,
        }
    }

    /// Other payment `i` is final: forgotten, and the journal told.
    fn settle(&mut self, i: usize, why: &str, fx: &mut Vec<Effect>) {
        let o = self.others.remove(i);
        tracing::info!(reference = %o.payment.reference, why, "payment followed to its end");
        fx.push(Effect::Settled {
            reference: o.payment.reference,
        });
    }

    /// What Vipps says about other payment `i`.
    pub(super) fn on_other_observed(
        &mut self,
        i: usize,
        o: Observed,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let (amount, role) = (self.others[i].payment.amount, self.others[i].role);
        let a = &o.aggregate;
        let open_authorization =
            a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
        match o.state {
            PaymentState::Created | PaymentState::Unknown => {
                self.others[i].payment.set_at_vipps(AtVipps::Created);
                if role == Role::Release {
                    self.release(i, now, fx);
                }
            }
            PaymentState::Authorized if a.captured_amount.value >= amount.value => {
                // Only the current payment is ever captured; say so loudly if not.
                tracing::error!(reference = %self.others[i].payment.reference, "a payment followed for release is captured");
                self.settle(i, "captured", fx);
            }
            PaymentState::Authorized if open_authorization <= 0 => self.settle(i, "released", fx),
            PaymentState::Authorized => {
                let reference = self.others[i].payment.reference.clone();
                if role == Role::Trailing && self.promote(i, now, fx) {
                    return;
                }
                let Some(i) = self.other_index(&reference) else {
                    return;
                };
                let other = &mut self.others[i];
                other.role = Role::Release;
                let p = &mut other.payment;
                p.set_at_vipps(AtVipps::Created);
                if p.cancel_transaction_only {
                    tracing::warn!(reference = %p.reference, "a payment the order does not need was approved; releasing the money");
                    p.cancel_transaction_only = false;
                    p.cancel_round += 1;
                }
                if p.call == Call::Idle && p.refusals < MAX_RELEASE_ROUNDS {
                    fx.push(p.send(Op::Cancel));
                }
            }
            PaymentState::Aborted | PaymentState::Expired | PaymentState::Terminated => {
                self.settle(i, "ended without money", fx);
            }
        }
    }

    pub(super) fn on_other_polled(
        &mut self,
        i: usize,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let interval = self.config.poll_interval;
        let p = &mut self.others[i].payment;
        if !p.read_answered() {
            return;
        }
        match result {
            Ok(o) => {
                p.failures = 0;
                p.verify = false;
                p.next_poll = now + interval;
                self.on_other_observed(i, o, now, fx);
            }
            Err(e) if e.status == Some(404) && p.at_vipps != AtVipps::Created => {
                // Resumed, and it never reached Vipps.
                self.settle(i, "never created", fx);
            }
            Err(e) => {
                p.failures += 1;
                p.next_poll = now + interval.max(e.retry_after.unwrap_or_default());
            }
        }
    }

    pub(super) fn on_other_cancel_answered(
        &mut self,
        i: usize,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let p = &mut self.others[i].payment;
        if !p.answered(&Op::Cancel) {
            return;
        }
        match result {
            Ok(o) => self.on_other_observed(i, o, now, fx),
            Err(e) if e.code == Some(6060) => {
                // Approved before the cancel: read it, and the read decides (release or win).
                p.next_poll = now;
            }
            Err(e) if e.code == Some(5090) || e.status == Some(404) => {
                self.settle(i, "never created", fx);
            }
            Err(e) => {
                p.failures += 1;
                p.verify = e.status != Some(429);
                let wait = backoff(&self.config, p.failures).max(e.retry_after.unwrap_or_default());
                if e.transient {
                    p.call = Call::Retry(Op::Cancel, now + wait);
                } else {
                    // A new key next time; read it first. Past the rounds, only read it until
                    // Vipps says it is final.
                    p.cancel_round += 1;
                    p.refusals += 1;
                    p.next_poll = now;
                    if p.refusals < MAX_RELEASE_ROUNDS {
                        p.call = Call::Retry(Op::Cancel, now + wait);
                    } else {
                        tracing::error!(reference = %p.reference, error = %e.message, "Vipps keeps refusing to cancel a payment the order does not need; following it until it ends");
                    }
                }
            }
        }
    }

    /// A create answer for a payment handed over while its create was under way.
    pub(super) fn on_other_created(
        &mut self,
        i: usize,
        result: Result<Option<String>, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let p = &mut self.others[i].payment;
        if !p.answered(&Op::Create) {
            return;
        }
        match result {
            Ok(_) => {
                p.set_at_vipps(AtVipps::Created);
                self.release(i, now, fx);
            }
            Err(e) if e.transient || e.unreadable => {
                // It may exist: the reads decide.
                p.set_at_vipps(AtVipps::Unknown);
                p.next_poll = now;
            }
            Err(_) => self.settle(i, "never created", fx),
        }
    }

    /// Time passes for the other payments: calls due again, and reads.
    pub(super) fn tick_others(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        for o in &mut self.others {
            let p = &mut o.payment;
            if let Some(retry) = p.retry_due(now) {
                fx.push(retry);
                continue;
            }
            if p.at_vipps != AtVipps::NotCreated
                && !p.read.in_flight()
                && (p.call == Call::Idle || p.verify)
                && now >= p.next_poll.max(p.earliest_read(now))
            {
                fx.push(p.poll(now));
            }
        }
    }

    /// A webhook event for another payment: read it now (within the read budget).
    pub(super) fn on_other_webhook(&mut self, i: usize, now: Instant, fx: &mut Vec<Effect>) {
        let p = &mut self.others[i].payment;
        if p.read.in_flight() || p.call.is_sent() {
            return;
        }
        p.next_poll = p.next_poll.min(p.earliest_read(now));
        if now >= p.next_poll {
            fx.push(p.poll(now));
        }
    }
}

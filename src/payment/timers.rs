//! Time passing: the walk-away timer, QR renewal, retries and polls on each tick.

use super::attempt::{AtVipps, Call, Payment};
use super::config::{Config, Method};
use super::effect::Effect;
use super::limits::MIN_QR_LIFE;
use super::machine::Machine;
use super::state::{Active, AfterCancel, State};
use std::time::Instant;

impl Machine {
    /// When the customer counts as gone, if the Waiting screen is showing.
    pub(super) fn walk_away_at(&self) -> Option<Instant> {
        match &self.state {
            State::Waiting { payment, .. } if payment.created => {
                self.config.walk_away_after.map(|d| self.last_activity + d)
            }
            _ => None,
        }
    }

    pub(super) fn on_tick(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        if self
            .out_of_service
            .as_ref()
            .is_some_and(|(_, until)| now >= *until)
        {
            tracing::info!("the lane takes orders again");
            self.out_of_service = None;
        }
        self.tick_others(now, fx);
        let walked_away = self.walk_away_at().is_some_and(|at| now >= at);
        // Renewed shortly before Vipps' window closes, but never younger than `MIN_QR_LIFE`,
        // whatever validity Vipps gives.
        let renew_at = |p: &Payment, c: &Config| {
            let before_window = p
                .deadline
                .checked_sub(c.qr_renew_before)
                .unwrap_or(p.deadline);
            before_window.max(p.started_at + MIN_QR_LIFE)
        };
        match &mut self.state {
            State::Idle => {}
            State::Approved { until, .. } => {
                if now >= *until {
                    self.state = State::Idle;
                }
            }
            State::Failed { order, until, .. } => {
                if now >= *until {
                    match order.take() {
                        Some(order) => {
                            // The Waiting screen comes back: the walk-away timer starts anew
                            // (the customer spent the time on another screen).
                            self.last_activity = now;
                            self.start(order, Method::OneTimeQr, None, now, fx)
                        }
                        None => self.state = State::Idle,
                    }
                }
            }
            State::Waiting { payment, .. } if walked_away && !payment.call.is_sent() => {
                self.begin_cancel(AfterCancel::WalkAway, true, fx);
            }
            State::Waiting { payment, .. }
                if payment.created
                    && !payment.call.is_sent()
                    && now >= renew_at(payment, &self.config) =>
            {
                self.renew(now, fx);
            }
            State::Waiting { .. }
            | State::Scanned { .. }
            | State::Cancelling { .. }
            | State::Capturing { .. } => self.tick_payment(now, fx),
        }
    }

    /// Time passes for the payment under way: a failed call is sent again when due; otherwise
    /// the payment is polled while waiting for the customer, and to verify after a refused
    /// call.
    fn tick_payment(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let Some(p) = self.state.active_mut() else {
            return;
        };
        if let Some(retry) = p.retry_due(now) {
            fx.push(retry);
            return;
        }
        let waiting_for_customer = p.call == Call::Idle;
        if p.at_vipps != AtVipps::NotCreated
            && !p.read.in_flight()
            && now >= p.next_poll.max(p.earliest_read(now))
            && (waiting_for_customer || p.verify)
        {
            fx.push(p.poll(now));
        }
    }

    /// A fresh one-time QR replaces the one on screen. The old payment is not cancelled (a
    /// customer may be approving it): it is followed until it ends by itself, and if it is
    /// approved first, it is the one captured. Bounded: QRs that keep dying young stop the
    /// renewals.
    pub(super) fn renew(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let State::Waiting { payment, .. } = &self.state else {
            return;
        };
        let started_at = payment.started_at;
        let Some(Active {
            order,
            attempt,
            payment,
            ..
        }) = self.state.take_active(false)
        else {
            return;
        };
        tracing::info!(reference = %payment.reference, "renewing the one-time QR; the old one is followed until it ends");
        let order_id = order.order_id.clone();
        self.trail(&order_id, attempt, payment);
        if !self.qr_ended(started_at, now) {
            self.state = State::Failed {
                order: Some(order),
                attempt,
                reason: super::reason::FailureReason::QrUnavailable,
                until: now,
            };
            self.qr_trouble(now, fx);
            return;
        }
        self.start(order, Method::OneTimeQr, None, now, fx);
    }

    /// The shown QR can no longer be used (its image link is gone): replace it. Its payment
    /// is still followed, but its QR is not shown again.
    pub(super) fn renew_expired_qr(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        if let State::Waiting { payment, .. } = &mut self.state
            && payment.created
            && !payment.call.is_sent()
        {
            payment.qr = None;
            self.renew(now, fx);
        }
    }
}

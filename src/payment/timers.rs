//! Time passing: the walk-away timer, QR renewal, retries and polls on each tick.

use super::attempt::{AtVipps, Call, Payment};
use super::config::{Config, Method};
use super::effect::Effect;
use super::machine::Machine;
use super::state::{AfterCancel, State};
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
        let walked_away = self.walk_away_at().is_some_and(|at| now >= at);
        let renew_at = |p: &Payment, c: &Config| {
            p.deadline
                .checked_sub(c.qr_renew_before)
                .unwrap_or(p.deadline)
        };
        match &mut self.state {
            State::Idle => {}
            State::Approved { until, .. } => {
                if now >= *until {
                    self.state = State::Idle;
                }
            }
            State::Failed {
                order,
                attempt,
                until,
                ..
            } => {
                if now >= *until {
                    let attempt = *attempt;
                    match order.take() {
                        Some(order) => {
                            self.start(order, attempt + 1, Method::OneTimeQr, None, now, fx)
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
                self.begin_cancel(AfterCancel::Renew, true, fx);
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
            && now >= p.next_poll
            && (waiting_for_customer || p.failures > 0)
        {
            fx.push(p.poll());
        }
    }

    /// The shown QR can no longer be used: replace it, as when its window closes.
    pub(super) fn renew_expired_qr(&mut self, fx: &mut Vec<Effect>) {
        if let State::Waiting { payment, .. } = &self.state
            && payment.created
            && !payment.call.is_sent()
        {
            self.begin_cancel(AfterCancel::Renew, true, fx);
        }
    }
}

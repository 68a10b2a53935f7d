//! Time passing: the walk-away timer, QR renewal, retries and polls on each tick.

use super::config::{Config, Method};
use super::effect::Effect;
use super::machine::{Machine, Payment};
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
            State::Waiting { payment, .. } if walked_away && !payment.busy => {
                self.begin_cancel(AfterCancel::WalkAway, true, fx);
            }
            State::Waiting { payment, .. }
                if payment.created && !payment.busy && now >= renew_at(payment, &self.config) =>
            {
                self.begin_cancel(AfterCancel::Renew, true, fx);
            }
            State::Waiting { .. }
            | State::Scanned { .. }
            | State::Cancelling { .. }
            | State::Capturing { .. } => {
                let capturing = matches!(self.state, State::Capturing { .. });
                let Some(p) = self.state.active_mut() else {
                    return;
                };
                if !p.busy && p.retry_at.is_some_and(|t| now >= t) {
                    p.retry_at = None;
                    p.busy = true;
                    fx.push(if p.exchange.is_some() {
                        Self::exchange_effect(p)
                    } else if !p.created {
                        Self::create_effect(p)
                    } else if capturing {
                        Self::capture_effect(p)
                    } else {
                        Self::cancel_effect(p)
                    });
                    return;
                }
                // Poll while waiting for the customer, and to verify after a refused call.
                let waiting_for_customer = !p.busy && p.retry_at.is_none();
                if (p.created || p.resuming)
                    && !p.poll_in_flight
                    && now >= p.next_poll
                    && (waiting_for_customer || p.failures > 0)
                {
                    p.poll_in_flight = true;
                    fx.push(Effect::Poll {
                        reference: p.reference.clone(),
                        api: p.api,
                    });
                }
            }
        }
    }

    /// The shown QR can no longer be used: replace it, as when its window closes.
    pub(super) fn renew_expired_qr(&mut self, fx: &mut Vec<Effect>) {
        if let State::Waiting { payment, .. } = &self.state
            && payment.created
            && !payment.busy
        {
            self.begin_cancel(AfterCancel::Renew, true, fx);
        }
    }
}

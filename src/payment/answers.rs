//! Handlers for the answers to a capture and to a cancel. Definitive refusals are bounded:
//! past `MAX_CAPTURE_ROUNDS` an authorization that cannot be captured is released and the
//! order ends (`captureRefused`); past `MAX_CANCEL_ROUNDS` the kiosk stops asking and only
//! follows the payment, and carries on with what the cancel was for.

use super::attempt::{Call, Op};
use super::effect::Effect;
use super::input::{ApiError, Observed};
use super::keys::backoff;
use super::limits::{MAX_CANCEL_ROUNDS, MAX_CAPTURE_ROUNDS};
use super::machine::Machine;
use super::reason::FailureReason;
use super::state::{Active, AfterCancel, State};
use crate::vipps::model::{Aggregate, PaymentState};
use std::time::{Duration, Instant};

/// How long to wait before sending a failed call again: the backoff, or what Vipps asked for.
fn wait(config: &super::config::Config, failures: u32, e: &ApiError) -> Duration {
    backoff(config, failures).max(e.retry_after.unwrap_or_default())
}

impl Machine {
    pub(super) fn on_captured(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let State::Capturing { payment: p, .. } = &mut self.state else {
            return;
        };
        if !p.answered(&Op::Capture) {
            return;
        }
        let e = match result {
            Ok(observed) => return self.on_observed(observed, now, fx),
            Err(e) => e,
        };
        p.failures += 1;
        p.verify = e.status != Some(429);
        tracing::warn!(reference = %p.reference, error = %e.message, "capture failed");
        if !e.transient {
            p.refusals += 1;
            if p.refusals >= MAX_CAPTURE_ROUNDS {
                tracing::error!(reference = %p.reference, "Vipps keeps refusing the capture; releasing the authorization");
                self.end_order(FailureReason::CaptureRefused, now, fx);
                return;
            }
            // Read the payment back before anything else; a new key for the next try.
            p.capture_round += 1;
            p.next_poll = now;
        }
        p.call = Call::Retry(Op::Capture, now + wait(&self.config, p.failures, &e));
    }

    pub(super) fn on_cancel_answered(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let State::Cancelling { payment: p, .. } = &mut self.state else {
            return;
        };
        if !p.answered(&Op::Cancel) {
            return;
        }
        match result {
            Ok(observed) => self.on_observed(observed, now, fx),
            Err(e) if e.code == Some(6060) => {
                // Approved before the cancel: this payment is the one (money rule 1).
                tracing::info!(reference = %p.reference, "cancel met an approval");
                let observed = Observed {
                    redirect_url: None,
                    opened: false,
                    state: PaymentState::Authorized,
                    aggregate: Aggregate {
                        authorized_amount: p.amount,
                        ..Aggregate::zero(p.amount.currency)
                    },
                };
                self.on_observed(observed, now, fx);
            }
            Err(e) if e.code == Some(5090) || e.status == Some(404) => {
                tracing::info!(reference = %p.reference, "nothing to cancel: the payment does not exist");
                self.proceed_without_money(None, now, fx);
            }
            Err(e) => {
                p.failures += 1;
                p.verify = e.status != Some(429);
                tracing::warn!(reference = %p.reference, error = %e.message, "cancel failed");
                if !e.transient {
                    p.refusals += 1;
                    if p.refusals >= MAX_CANCEL_ROUNDS {
                        self.give_up_cancel(now, fx);
                        return;
                    }
                    p.cancel_round += 1;
                    p.next_poll = now;
                }
                p.call = Call::Retry(Op::Cancel, now + wait(&self.config, p.failures, &e));
            }
        }
    }

    /// Vipps keeps refusing the cancel: the payment is followed among the others until it
    /// ends, and the machine goes on with what the cancel was for, as if it had gone through.
    /// A one-time QR stopped for a push stays the order's (first wins: approved before the
    /// push, it is the one captured and the push is released); any other is released (an
    /// authorization it gets is cancelled in full).
    fn give_up_cancel(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let Some(Active {
            order,
            attempt,
            payment,
            after,
        }) = self.state.take_active(false)
        else {
            return;
        };
        tracing::error!(reference = %payment.reference, "Vipps keeps refusing the cancel; following the payment until it ends");
        let shown = payment.clone();
        if matches!(after, Some(AfterCancel::Push(_))) {
            self.trail(&order.order_id, attempt, payment);
        } else {
            self.hand_over(&order.order_id, attempt, payment, now, fx);
        }
        self.proceed(
            Active {
                order,
                attempt,
                payment: shown,
                after,
            },
            None,
            now,
            fx,
        );
    }
}

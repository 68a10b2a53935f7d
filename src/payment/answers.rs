//! Handlers for the answers to a capture and to a cancel.

use super::attempt::{Call, Op};
use super::effect::Effect;
use super::input::{ApiError, Observed};
use super::keys::backoff;
use super::machine::Machine;
use super::state::State;
use crate::vipps::model::{Aggregate, PaymentState};
use std::time::Instant;

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
        match result {
            Ok(observed) => self.on_observed(observed, now, fx),
            Err(e) => {
                p.failures += 1;
                tracing::warn!(reference = %p.reference, error = %e.message, "capture failed");
                if !e.transient {
                    // Read the payment back before anything else; a new key for the next try.
                    p.capture_round += 1;
                    p.next_poll = now;
                }
                p.call = Call::Retry(Op::Capture, now + backoff(&self.config, p.failures));
            }
        }
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
                tracing::warn!(reference = %p.reference, error = %e.message, "cancel failed");
                if !e.transient {
                    p.cancel_round += 1;
                    p.next_poll = now;
                }
                p.call = Call::Retry(Op::Cancel, now + backoff(&self.config, p.failures));
            }
        }
    }
}

//! Picking up a payment the journal found unfinished after a restart.

use super::attempt::{Op, Payment};
use super::effect::Effect;
use super::input::Resume;
use super::machine::Machine;
use super::state::{AfterCancel, State};
use std::time::Instant;

impl Machine {
    /// Picks up a payment that was under way when the kiosk stopped. Nothing is assumed about
    /// what reached Vipps: a GET comes first (a 404 sends the journaled create again, with the
    /// same key), and a withdrawn order gets its full cancel sent again.
    pub(super) fn on_resume(&mut self, r: Resume, now: Instant, fx: &mut Vec<Effect>) {
        if !matches!(self.state, State::Idle) {
            fx.push(Effect::Refused {
                order_id: r.order.order_id,
                why: "a payment is already under way",
            });
            return;
        }
        let withdrawn = r.withdrawn;
        let (order, attempt) = (r.order.clone(), r.attempt);
        self.stats = super::limits::OrderStats {
            max_attempt: attempt,
            ..Default::default()
        };
        let mut payment = Payment::resumed(&self.config, r, now);
        let method = payment.method;
        tracing::info!(reference = %payment.reference, ?method, withdrawn, "resuming a payment from the journal");
        self.notice = None;
        if withdrawn {
            payment.cancel_transaction_only = false;
            fx.push(payment.send(Op::Cancel));
            self.state = State::Cancelling {
                order,
                attempt,
                payment,
                after: AfterCancel::Withdraw,
            };
            return;
        }
        fx.push(payment.poll(now));
        self.state = State::awaiting(method, order, attempt, payment);
    }
}

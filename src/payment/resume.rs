//! Picking up a payment the journal found unfinished after a restart.

use super::config::{Api, ECOM_QR_WINDOW, Method};
use super::effect::Effect;
use super::input::Resume;
use super::machine::{Machine, Payment};
use super::state::{AfterCancel, State};
use crate::vipps::model::UserFlow;
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
        let (method, window) = match r.request.user_flow {
            UserFlow::PushMessage => (Method::PersonalQr, self.config.push_window),
            _ if r.api == Api::Ecom => (Method::OneTimeQr, ECOM_QR_WINDOW),
            _ => (Method::OneTimeQr, self.config.qr_window),
        };
        let mut payment = Payment {
            reference: r.request.reference.clone(),
            method,
            api: r.api,
            opened: false,
            amount: r.request.amount,
            request: r.request,
            // Unknown until the first read: a cancel asked for meanwhile waits for it.
            created: r.withdrawn,
            qr: None,
            deadline: now + window.saturating_sub(r.age),
            busy: false,
            retry_at: None,
            poll_in_flight: false,
            next_poll: now + self.config.poll_interval,
            failures: 0,
            capture_round: r.capture_round.max(1),
            cancel_round: r.cancel_round.max(1),
            cancel_transaction_only: true,
            resuming: true,
            webhook_seen: false,
            webhook_changes: 0,
            repoll: false,
            exchange: None,
        };
        let (order, attempt) = (r.order, r.attempt);
        tracing::info!(reference = %payment.reference, ?method, withdrawn = r.withdrawn, "resuming a payment from the journal");
        self.notice = None;
        if r.withdrawn {
            payment.resuming = false;
            payment.cancel_transaction_only = false;
            payment.busy = true;
            fx.push(Self::cancel_effect(&payment));
            self.state = State::Cancelling {
                order,
                attempt,
                payment,
                after: AfterCancel::Withdraw,
            };
            return;
        }
        payment.poll_in_flight = true;
        fx.push(Effect::Poll {
            reference: payment.reference.clone(),
            api: payment.api,
        });
        self.state = State::awaiting(method, order, attempt, payment);
    }
}

//! Handlers for what Vipps says about a payment: GET answers, observations from any source,
//! the QR opened in the app, and webhook events.

use super::attempt::{AtVipps, Call, Op, Read};
use super::config::Method;
use super::effect::{Effect, OrderStatus};
use super::input::{ApiError, Observed};
use super::keys::backoff;
use super::machine::Machine;
use super::reason::FailureReason;
use super::state::{Active, AfterCancel, State};
use crate::vipps::model::PaymentState;
use std::time::Instant;

impl Machine {
    pub(super) fn on_polled(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let cancelling = matches!(self.state, State::Cancelling { .. });
        let Some(p) = self.state.active_mut() else {
            return;
        };
        if !p.read_answered() {
            return;
        }
        let resuming = p.at_vipps == AtVipps::Unknown;
        match result {
            Ok(observed) => self.on_read(observed, resuming, now, fx),
            Err(e) if resuming && e.status == Some(404) => {
                p.set_at_vipps(AtVipps::NotCreated);
                if cancelling {
                    tracing::info!(reference = %p.reference, "resumed payment never reached Vipps; nothing to cancel");
                    self.proceed_without_money(None, now, fx);
                    return;
                }
                // The create never reached Vipps before the restart: send it now, same key.
                tracing::info!(reference = %p.reference, "resumed payment does not exist yet; creating it");
                fx.push(p.send(Op::Create));
            }
            Err(e) => {
                // Reads keep their pace (within Vipps' budget), so an approval is seen within
                // a poll interval of the trouble clearing; unless Vipps asks to wait longer.
                p.failures += 1;
                let failures = p.failures;
                tracing::warn!(reference = %p.reference, error = %e.message, failures, "poll failed");
                let interval = p.poll_interval(&self.config);
                p.next_poll = now + interval.max(e.retry_after.unwrap_or_default());
            }
        }
    }

    /// A GET of the current payment succeeded (`resuming`: the first one after a restart).
    fn on_read(&mut self, observed: Observed, resuming: bool, now: Instant, fx: &mut Vec<Effect>) {
        let Some(p) = self.state.active_mut() else {
            return;
        };
        p.failures = 0;
        p.verify = false;
        if p.webhook_seen
            && p.webhook_changes == 0
            && !matches!(
                observed.state,
                PaymentState::Created | PaymentState::Unknown
            )
        {
            // The payment moved and no webhook said so: they are not keeping up.
            tracing::info!(reference = %p.reference, "webhooks quiet; polling at the normal interval");
            p.webhook_seen = false;
        }
        p.next_poll = if p.read_succeeded() {
            now
        } else {
            now + p.poll_interval(&self.config)
        };
        if resuming {
            p.set_at_vipps(AtVipps::Created);
            if p.method == Method::OneTimeQr {
                p.qr = observed.redirect_url.clone();
            }
        }
        let opened = observed.opened;
        self.on_observed(observed, now, fx);
        if opened {
            self.on_opened(now, fx);
        }
        match &mut self.state {
            // A cancel asked for while the resumed payment was being read.
            State::Cancelling { payment, .. } if resuming && !payment.call.is_sent() => {
                fx.push(payment.send(Op::Cancel));
            }
            // A one-time QR that Vipps gives no link for (resumed, or its create answer lost):
            // show a fresh one, and follow this one until it ends.
            State::Waiting { payment, .. }
                if payment.created && payment.qr.is_none() && !payment.call.is_sent() =>
            {
                self.renew(now, fx);
            }
            _ => {}
        }
    }

    /// What Vipps says about the current payment, from any source.
    pub(super) fn on_observed(&mut self, o: Observed, now: Instant, fx: &mut Vec<Effect>) {
        let Some(p) = self.payment() else { return };
        let (amount, reference) = (p.amount, p.reference.clone());
        let captured = o.aggregate.captured_amount.value;
        let cancelled = o.aggregate.cancelled_amount.value;
        match o.state {
            PaymentState::Created | PaymentState::Unknown => {}
            PaymentState::Authorized if captured >= amount.value => {
                self.finish_captured(o.aggregate.captured_amount, now, fx);
            }
            PaymentState::Authorized
                if cancelled > 0 && captured + cancelled >= o.aggregate.authorized_amount.value =>
            {
                // Fully released (a withdrawal's cancel went through).
                self.proceed_without_money(None, now, fx);
            }
            PaymentState::Authorized => {
                let withdraw = matches!(
                    self.state,
                    State::Cancelling {
                        after: AfterCancel::Withdraw,
                        ..
                    }
                );
                if withdraw {
                    // The POS withdrew the order: release the money (money rule 2).
                    self.begin_cancel(AfterCancel::Withdraw, false, fx);
                    return;
                }
                if let State::Capturing { payment, .. } = &mut self.state {
                    // Authorized but not (fully) captured yet: send the capture again soon.
                    if payment.call == Call::Idle {
                        payment.failures += 1;
                        let at = now + backoff(&self.config, payment.failures);
                        payment.call = Call::Retry(Op::Capture, at);
                    }
                    return;
                }
                let Some(Active {
                    order,
                    attempt,
                    mut payment,
                    ..
                }) = self.state.take_active(false)
                else {
                    return;
                };
                tracing::info!(%reference, "payment approved; capturing");
                payment.failures = 0;
                fx.push(payment.send(Op::Capture));
                fx.push(Self::notify(&order, OrderStatus::Approved, Some(&payment)));
                self.state = State::Capturing {
                    order,
                    attempt,
                    payment,
                };
            }
            PaymentState::Aborted | PaymentState::Expired | PaymentState::Terminated => {
                tracing::info!(%reference, state = ?o.state, "payment ended without money");
                let age_limit = self.order().is_some_and(|o| o.minimum_age().is_some());
                let reason = match (&self.state, o.state) {
                    (State::Cancelling { .. }, _) => None,
                    // An unscanned one-time QR running out is routine: just show a new one.
                    (State::Waiting { .. }, PaymentState::Expired | PaymentState::Terminated) => {
                        None
                    }
                    // The app refuses a customer under the age limit without telling the
                    // merchant: with a limit, a decline may be that.
                    (_, PaymentState::Aborted) if age_limit => Some(FailureReason::AgeLimit),
                    (_, PaymentState::Aborted) => Some(FailureReason::CancelledInApp),
                    (_, PaymentState::Expired) => Some(FailureReason::Expired),
                    _ => Some(FailureReason::Cancelled),
                };
                self.proceed_without_money(reason, now, fx);
            }
        }
    }

    /// The customer opened the one-time QR in the app (eCom): the screen asks them to approve
    /// there, with the time the app gives them, and the POS hears "scanned".
    pub(super) fn on_opened(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let State::Waiting { payment, .. } = &self.state else {
            return;
        };
        if payment.opened || payment.call.is_sent() {
            return;
        }
        let Some(Active {
            order,
            attempt,
            mut payment,
            ..
        }) = self.state.take_active(false)
        else {
            return;
        };
        tracing::info!(reference = %payment.reference, "the customer opened the QR in the app");
        payment.opened = true;
        payment.deadline = now + self.config.push_window;
        fx.push(Self::notify(&order, OrderStatus::Scanned, Some(&payment)));
        self.state = State::Scanned {
            order,
            attempt,
            payment,
        };
    }

    pub(super) fn on_webhook(
        &mut self,
        name: crate::vipps::model::PaymentEventName,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        use crate::vipps::model::PaymentEventName;
        let Some(p) = self.state.active_mut() else {
            return;
        };
        p.webhook_seen = true;
        if name == PaymentEventName::Created {
            return;
        }
        p.webhook_changes += 1;
        // A create, capture or cancel under way answers for itself.
        if !p.created || p.call.is_sent() {
            return;
        }
        if p.read.in_flight() {
            p.read = Read::InFlight { again: true };
            return;
        }
        // Read now, or as soon as Vipps' read budget allows, however many events arrive.
        p.next_poll = p.next_poll.min(p.earliest_read(now));
        if now >= p.next_poll {
            tracing::debug!(reference = %p.reference, ?name, "webhook: reading the payment now");
            fx.push(p.poll(now));
        }
    }

    /// A webhook delivery failed verification: stop relying on them for this payment.
    pub(super) fn on_webhook_trouble(&mut self, now: Instant) {
        let interval = self.config.poll_interval;
        if let Some(p) = self.state.active_mut()
            && p.webhook_seen
        {
            p.webhook_seen = false;
            p.next_poll = p.next_poll.min(now + interval);
        }
    }
}

//! Handlers for the answers that bring a payment into being: the create, and the personal
//! QR exchange before a push payment's create.

use super::attempt::{AtVipps, Call, Op};
use super::config::Method;
use super::effect::Effect;
use super::input::ApiError;
use super::keys::backoff;
use super::machine::Machine;
use super::reason::FailureReason;
use super::state::State;
use crate::vipps::model::Customer;
use std::time::{Duration, Instant};

impl Machine {
    pub(super) fn on_created(
        &mut self,
        result: Result<Option<String>, ApiError>,
        valid_for: Option<Duration>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let interval = self.config.poll_interval;
        let cancelling = matches!(self.state, State::Cancelling { .. });
        let Some(p) = self.state.active_mut() else {
            return;
        };
        if !p.answered(&Op::Create) {
            return; // a duplicate answer
        }
        match result {
            Ok(redirect) => {
                p.set_at_vipps(AtVipps::Created);
                p.failures = 0;
                p.qr = redirect;
                if let Some(valid) = valid_for {
                    p.deadline = p.deadline.min(now + valid);
                }
                p.next_poll = now + interval;
                tracing::info!(reference = %p.reference, "payment created");
                // A cancel was waiting for the payment to exist.
                if let State::Cancelling { payment, .. } = &mut self.state {
                    fx.push(payment.send(Op::Cancel));
                }
            }
            Err(e) if e.transient => {
                p.failures += 1;
                tracing::warn!(reference = %p.reference, error = %e.message, "create failed; will retry with the same key");
                p.call = Call::Retry(Op::Create, now + backoff(&self.config, p.failures));
            }
            Err(e) if cancelling => {
                // Nothing exists to cancel: go on with what the cancel was for.
                tracing::warn!(reference = %p.reference, error = %e.message, "create refused while cancelling");
                self.proceed_without_money(None, now, fx);
            }
            Err(e) => {
                tracing::warn!(reference = %p.reference, error = %e.message, "create refused");
                let reason = match (p.method, e.code) {
                    (Method::PersonalQr, Some(4060 | 4050)) => FailureReason::NotVippsCode,
                    (Method::PersonalQr, Some(7010 | 4070)) => FailureReason::CustomerNotFound,
                    (Method::PersonalQr, Some(5080)) => FailureReason::PushNotAllowed,
                    _ => FailureReason::ServiceTrouble,
                };
                // Nothing exists on Vipps' side: carry on without it.
                self.proceed_without_money(Some(reason), now, fx);
            }
        }
    }

    pub(super) fn on_exchanged(
        &mut self,
        result: Result<crate::vipps::Secret, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let cancelling = matches!(self.state, State::Cancelling { .. });
        let Some(p) = self.state.active_mut() else {
            return;
        };
        let code = match &p.call {
            Call::Sent(Op::Exchange(code)) => code.clone(),
            _ => return, // a duplicate answer
        };
        p.call = Call::Idle;
        if cancelling {
            // Nothing was created: go on with what the cancel was for.
            self.proceed_without_money(None, now, fx);
            return;
        }
        match result {
            Ok(number) => {
                p.failures = 0;
                p.request.customer = Some(Customer {
                    phone_number: Some(number.expose().to_string()),
                    ..Customer::default()
                });
                tracing::info!(reference = %p.reference, "personal QR exchanged; creating the push payment");
                fx.push(p.send(Op::Create));
            }
            Err(e) if e.transient => {
                p.failures += 1;
                tracing::warn!(reference = %p.reference, error = %e.message, "QR exchange failed; will retry");
                p.call = Call::Retry(Op::Exchange(code), now + backoff(&self.config, p.failures));
            }
            Err(e) => {
                tracing::warn!(reference = %p.reference, error = %e.message, "QR exchange refused");
                let reason = match e.status {
                    Some(400) => FailureReason::NotVippsCode,
                    _ => FailureReason::ServiceTrouble,
                };
                self.proceed_without_money(Some(reason), now, fx);
            }
        }
    }
}

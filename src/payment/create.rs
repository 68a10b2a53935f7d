//! Handlers for the answers that bring a payment into being: the create, and the personal
//! QR exchange before a push payment's create.

use super::attempt::{AtVipps, Call, Op};
use super::config::Method;
use super::effect::Effect;
use super::input::ApiError;
use super::keys::backoff;
use super::limits::MAX_CREATE_REFUSALS;
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
        let age_limit = self.order().is_some_and(|o| o.minimum_age().is_some());
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
                self.refused_orders = 0;
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
            Err(e) if e.status == Some(429) => {
                // Not carried out (Vipps' limit, or the client's budget for the payment): the
                // same create again once the wait is over.
                p.failures += 1;
                let wait = backoff(&self.config, p.failures).max(e.retry_after.unwrap_or_default());
                p.call = Call::Retry(Op::Create, now + wait);
            }
            Err(e) if e.transient || e.unreadable => {
                // The payment may exist (the answer was lost, or could not be read): read it
                // before anything else; only a 404 sends the create again, with the same key.
                p.failures += 1;
                p.set_at_vipps(AtVipps::Unknown);
                p.next_poll = p
                    .earliest_read(now)
                    .max(now + e.retry_after.unwrap_or_default());
                tracing::warn!(reference = %p.reference, error = %e.message, "create answer lost or unreadable; reading the payment");
            }
            Err(e) if cancelling => {
                // Nothing exists to cancel: go on with what the cancel was for.
                tracing::warn!(reference = %p.reference, error = %e.message, "create refused while cancelling");
                self.proceed_without_money(None, now, fx);
            }
            Err(e) => {
                tracing::warn!(reference = %p.reference, error = %e.message, "create refused");
                let reason = match (p.method, e.code) {
                    (Method::PersonalQr | Method::PhoneNumber, Some(4060 | 4050)) => {
                        FailureReason::NotVippsCode
                    }
                    // Vipps answers 7010 also for a customer under the payment's age limit.
                    (Method::PersonalQr | Method::PhoneNumber, Some(7010)) if age_limit => {
                        FailureReason::AgeLimit
                    }
                    (Method::PersonalQr | Method::PhoneNumber, Some(7010 | 4070)) => {
                        FailureReason::CustomerNotFound
                    }
                    (Method::PersonalQr | Method::PhoneNumber, Some(5080)) => {
                        FailureReason::PushNotAllowed
                    }
                    _ => FailureReason::ServiceTrouble,
                };
                // Vipps refusing the request (a 4xx) would refuse it again; anything else (a
                // payment the driver replaced, a server's error) is not counted.
                let refused = e.status.is_some_and(|s| (400..500).contains(&s));
                if reason == FailureReason::ServiceTrouble && refused {
                    // Not the customer's doing: the same refusal would come again. Bounded.
                    self.stats.create_refusals += 1;
                    if self.stats.create_refusals >= MAX_CREATE_REFUSALS {
                        self.end_order(FailureReason::CreateRefused, now, fx);
                        return;
                    }
                }
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
                let wait = backoff(&self.config, p.failures).max(e.retry_after.unwrap_or_default());
                p.call = Call::Retry(Op::Exchange(code), now + wait);
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

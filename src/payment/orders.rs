//! Handlers for what the POS and the customer do: orders in and withdrawn, scans, taps.

use super::config::Method;
use super::effect::{Effect, OrderStatus};
use super::machine::Machine;
use super::order::Order;
use super::reason::{FailureReason, Notice};
use super::state::{AfterCancel, State};
use std::time::Instant;

impl Machine {
    pub(super) fn on_order(&mut self, order: Order, now: Instant, fx: &mut Vec<Effect>) {
        if !self.accepts_orders() {
            fx.push(Effect::Refused {
                order_id: order.order_id,
                why: if self.out_of_service.is_some() {
                    "the lane is out of service"
                } else {
                    "another order is being paid"
                },
            });
            return;
        }
        self.notice = None;
        self.stats = Default::default();
        self.start(order, Method::OneTimeQr, None, now, fx);
    }

    pub(super) fn on_withdraw(&mut self, order_id: &str, now: Instant, fx: &mut Vec<Effect>) {
        if self.order().is_none_or(|o| o.order_id != order_id) {
            fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "no such active order",
            });
            return;
        }
        // The order ends: its other payments are not needed any more.
        let id = order_id.to_string();
        match &self.state {
            State::Waiting { .. } | State::Scanned { .. } | State::Cancelling { .. } => {
                self.begin_cancel(AfterCancel::Withdraw, false, fx);
                self.release_others_of(&id, now, fx);
            }
            State::Failed {
                order: Some(order),
                attempt,
                ..
            } => {
                let attempt = *attempt;
                fx.push(Self::notify(order, OrderStatus::Cancelled, None));
                self.release_others_of(&id, now, fx);
                self.state = State::Failed {
                    order: None,
                    attempt,
                    reason: FailureReason::Cancelled,
                    until: now + self.config.failed_display,
                };
            }
            State::Capturing { .. } | State::Approved { .. } => fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "the customer has paid; refund instead",
            }),
            State::Idle | State::Failed { order: None, .. } => {}
        }
    }

    pub(super) fn on_scan(&mut self, text: String, now: Instant, fx: &mut Vec<Effect>) {
        let Some(code) = crate::scan::personal_qr(&text) else {
            tracing::info!(scan = %crate::redact::fingerprint(&text), "scan is not a personal QR");
            self.show_notice(Notice::NotVippsCode, now);
            return;
        };
        match &mut self.state {
            State::Idle | State::Approved { .. } | State::Failed { order: None, .. } => {
                self.show_notice(Notice::NoOrder, now);
            }
            State::Waiting { .. } => {
                self.notice = None;
                self.begin_cancel(AfterCancel::Push(code), true, fx);
            }
            State::Failed { order: Some(_), .. } => {
                let State::Failed {
                    order: Some(order), ..
                } = std::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                self.notice = None;
                self.start(order, Method::PersonalQr, Some(code), now, fx);
            }
            State::Scanned { payment, .. }
                if payment
                    .request
                    .customer
                    .as_ref()
                    .and_then(|c| c.personal_qr.as_deref())
                    == Some(code.as_str()) =>
            {
                // The same code read twice: nothing to do.
            }
            State::Scanned { .. } | State::Cancelling { .. } | State::Capturing { .. } => {
                self.show_notice(Notice::AlreadyInProgress, now);
            }
        }
    }

    pub(super) fn on_cancel_tapped(&mut self, _now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Scanned { .. } => self.begin_cancel(AfterCancel::BackToWaiting, true, fx),
            // Still switching from the one-time QR: stay with it instead.
            State::Cancelling { after, .. } if matches!(after, AfterCancel::Push(_)) => {
                *after = AfterCancel::BackToWaiting;
            }
            _ => {}
        }
    }

    pub(super) fn on_dismiss(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Approved { until, .. } | State::Failed { until, .. } => {
                *until = now;
                self.on_tick(now, fx);
            }
            _ => {}
        }
    }
}

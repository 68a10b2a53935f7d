//! The `Machine`: its public face (`step` and what the screens read), and starting and
//! cancelling payments. The handlers of each input live in the files named in the module doc.

use super::attempt::Op;
pub use super::attempt::Payment;
use super::config::{Config, Method, PushTo};
use super::effect::{Effect, OrderStatus, OrderUpdate};
use super::input::Input;
use super::limits::OrderStats;
use super::order::Order;
use super::others::Other;
use super::reason::Notice;
use super::state::Active;
pub use super::state::{AfterCancel, State};
use std::time::{Duration, Instant};

#[derive(Debug, Clone)]
pub struct Machine {
    pub(super) config: Config,
    pub(super) state: State,
    pub(super) notice: Option<(Notice, Instant)>,
    /// The customer's last sign of life: an order arriving, a scan, a tap.
    pub(super) last_activity: Instant,
    /// Staff refunds sent and not answered yet, by idempotency key.
    pub(super) refunds: std::collections::BTreeSet<String>,
    /// Payments followed besides the current one (`others.rs`).
    pub(super) others: Vec<Other>,
    /// What the current order has been through (`limits.rs`).
    pub(super) stats: OrderStats,
    /// Why the lane takes no orders now, and until when.
    pub(super) out_of_service: Option<(String, Instant)>,
    /// Orders in a row that ended because Vipps refused every payment of theirs.
    pub(super) refused_orders: u32,
}

impl Machine {
    pub fn new(config: Config) -> Self {
        Machine {
            config,
            state: State::Idle,
            notice: None,
            last_activity: Instant::now(),
            refunds: std::collections::BTreeSet::new(),
            others: Vec::new(),
            stats: OrderStats::default(),
            out_of_service: None,
            refused_orders: 0,
        }
    }

    /// Time left before a silent customer counts as gone, while the "still there?" warning
    /// should show.
    pub fn walk_away_warning(&self, now: Instant) -> Option<Duration> {
        let at = self.walk_away_at()?;
        let left = at.saturating_duration_since(now);
        (left <= self.config.walk_away_warning).then_some(left)
    }

    pub fn state(&self) -> &State {
        &self.state
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// The notice to show now, if any.
    pub fn notice(&self, now: Instant) -> Option<Notice> {
        self.notice
            .filter(|(_, until)| now < *until)
            .map(|(n, _)| n)
    }

    /// The order being paid, if any.
    pub fn order(&self) -> Option<&Order> {
        match &self.state {
            State::Approved { order, .. } => Some(order),
            State::Failed { order, .. } => order.as_ref(),
            active => active.active().map(|(order, _, _)| order),
        }
    }

    /// The attempt number of the payment under way, if any.
    pub fn attempt(&self) -> Option<u32> {
        self.state.active().map(|(_, attempt, _)| attempt)
    }

    /// The payment under way, if any.
    pub fn payment(&self) -> Option<&Payment> {
        self.state.active().map(|(_, _, payment)| payment)
    }

    /// Whether a new order could start now (nothing active, or only a result screen showing,
    /// and the lane not out of service).
    pub fn accepts_orders(&self) -> bool {
        self.out_of_service.is_none()
            && matches!(
                self.state,
                State::Idle | State::Approved { .. } | State::Failed { order: None, .. }
            )
    }

    /// Why the lane takes no orders now (Vipps keeps refusing its payments), if it does not.
    pub fn out_of_service(&self) -> Option<&str> {
        self.out_of_service.as_ref().map(|(why, _)| why.as_str())
    }

    /// The payments followed besides the current one.
    pub fn others(&self) -> &[Other] {
        &self.others
    }

    /// While a fresh one-time QR is being created, the QR it replaces (still valid: it stays
    /// on screen until the new one can be shown).
    pub fn replaced_qr(&self) -> Option<&Payment> {
        let order = self.order()?;
        self.others
            .iter()
            .rev()
            .find(|o| o.order_id == order.order_id && o.role == super::others::Role::Trailing)
            .map(|o| &o.payment)
            .filter(|p| p.qr.is_some())
    }

    pub fn step(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(
            input,
            Input::OrderReceived(_)
                | Input::Scan(_)
                | Input::PhoneEntered(_)
                | Input::AssistedOrder { .. }
                | Input::CancelTapped
                | Input::DismissTapped
                | Input::MoreTimeTapped
                | Input::Resume(_)
        ) {
            self.last_activity = now;
        }
        match input {
            Input::OrderReceived(order) => self.on_order(order, now, &mut fx),
            Input::OrderWithdrawn(id) => self.on_withdraw(&id, now, &mut fx),
            Input::Scan(scan) => self.on_scan(scan.0, now, &mut fx),
            Input::PhoneEntered(number) => self.on_push_to(PushTo::Phone(number), now, &mut fx),
            Input::CustomerHandedOver { order_id, to } => {
                self.on_customer_handed_over(&order_id, to, now, &mut fx)
            }
            Input::AssistedOrder { order, to } => self.on_assisted_order(order, to, now, &mut fx),
            Input::CancelTapped => self.on_cancel_tapped(now, &mut fx),
            Input::DismissTapped => self.on_dismiss(now, &mut fx),
            Input::MoreTimeTapped => {} // counted as activity above
            Input::Created {
                reference,
                result,
                valid_for,
            } => {
                if self.is_current(&reference) {
                    self.on_created(result, valid_for, now, &mut fx);
                } else if let Some(i) = self.other_index(&reference) {
                    self.on_other_created(i, result, now, &mut fx);
                }
            }
            Input::QrUnavailable { reference } => {
                if self.is_current(&reference) {
                    tracing::warn!(reference, "the QR image link has expired; replacing the QR");
                    self.renew_expired_qr(now, &mut fx);
                }
            }
            Input::Polled { reference, result } => {
                if self.is_current(&reference) {
                    self.on_polled(result, now, &mut fx);
                } else if let Some(i) = self.other_index(&reference) {
                    self.on_other_polled(i, result, now, &mut fx);
                }
            }
            Input::Captured { reference, result } => {
                if self.is_current(&reference) {
                    self.on_captured(result, now, &mut fx);
                }
            }
            Input::CancelAnswered { reference, result } => {
                if self.is_current(&reference) {
                    self.on_cancel_answered(result, now, &mut fx);
                } else if let Some(i) = self.other_index(&reference) {
                    self.on_other_cancel_answered(i, result, now, &mut fx);
                }
            }
            Input::Resume(r) => self.on_resume(*r, now, &mut fx),
            Input::Exchanged { reference, result } => {
                if self.is_current(&reference) {
                    self.on_exchanged(result, now, &mut fx);
                }
            }
            Input::Webhook { reference, name } => {
                if self.is_current(&reference) {
                    self.on_webhook(name, now, &mut fx);
                } else if let Some(i) = self.other_index(&reference) {
                    self.on_other_webhook(i, now, &mut fx);
                }
            }
            Input::WebhookTrouble => self.on_webhook_trouble(now),
            Input::RefundRequested {
                order_id,
                reference,
                amount,
                refund_id,
            } => self.on_refund_requested(order_id, reference, amount, &refund_id, &mut fx),
            Input::Refunded {
                order_id,
                idempotency_key,
                result,
            } => self.on_refunded(order_id, idempotency_key, result, &mut fx),
            Input::Tick => self.on_tick(now, &mut fx),
        }
        fx
    }

    /// Whether `reference` is the current payment's. Answers for neither it nor a payment
    /// followed besides it are stale, and ignored.
    pub(super) fn is_current(&self, reference: &str) -> bool {
        let current = self.payment().is_some_and(|p| p.reference == reference);
        if !current && self.other_index(reference).is_none() {
            tracing::debug!(reference, "ignoring a stale answer");
        }
        current
    }

    pub(super) fn show_notice(&mut self, notice: Notice, now: Instant) {
        self.notice = Some((notice, now + self.config.notice_display));
    }

    // ---- starting and cancelling payments ------------------------------------------------

    pub(super) fn notify(order: &Order, status: OrderStatus, payment: Option<&Payment>) -> Effect {
        Effect::Notify(OrderUpdate {
            order_id: order.order_id.clone(),
            status,
            reference: payment.map(|p| p.reference.clone()),
            method: payment.map(|p| p.method),
            captured: None,
            reason: None,
        })
    }

    /// Starts the next payment attempt for `order`.
    pub(super) fn start(
        &mut self,
        order: Order,
        method: Method,
        to: Option<PushTo>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        if !self.attempts_left() {
            // The order's references have no room left: it ends.
            self.state = State::Failed {
                order: Some(order),
                attempt: self.stats.max_attempt,
                reason: super::reason::FailureReason::ServiceTrouble,
                until: now,
            };
            self.end_order(super::reason::FailureReason::ServiceTrouble, now, fx);
            return;
        }
        let attempt = self.next_attempt();
        let mut payment = Payment::attempt(&self.config, &order, attempt, method, to.as_ref(), now);
        let first = match (to, self.config.exchange_personal_qr) {
            (Some(PushTo::PersonalQr(code)), true) => {
                // The phone number first; the create follows its answer.
                payment.request.customer = None;
                Op::Exchange(code)
            }
            _ => Op::Create,
        };
        fx.push(payment.send(first));
        let status = match method {
            Method::OneTimeQr => OrderStatus::Waiting,
            Method::PersonalQr | Method::PhoneNumber => OrderStatus::Scanned,
        };
        fx.push(Self::notify(&order, status, Some(&payment)));
        tracing::info!(reference = %payment.reference, ?method, "creating payment");
        self.state = State::awaiting(method, order, attempt, payment);
    }

    /// Starts a cancel of the current payment, to be followed by `after`.
    pub(super) fn begin_cancel(
        &mut self,
        after: AfterCancel,
        transaction_only: bool,
        fx: &mut Vec<Effect>,
    ) {
        let Some(Active {
            order,
            attempt,
            mut payment,
            ..
        }) = self.state.take_active(false)
        else {
            return;
        };
        if payment.cancel_transaction_only != transaction_only {
            payment.cancel_transaction_only = transaction_only;
            payment.cancel_round += 1;
        }
        // While the create is still under way, the cancel waits for its answer.
        if payment.created && !payment.call.is_sent() {
            fx.push(payment.send(Op::Cancel));
        }
        tracing::info!(reference = %payment.reference, ?after, "cancelling payment");
        self.state = State::Cancelling {
            order,
            attempt,
            payment,
            after,
        };
    }
}

/// What the scenario tests (`use super::*`) name besides the machine's own items.
#[cfg(test)]
use {
    super::{
        config::Api,
        input::{ApiError, Observed, Resume},
        keys::{key, reference_fits, reference_for, round_of},
        others::Role,
        reason::FailureReason,
    },
    crate::vipps::model::{
        Aggregate, Amount, CreatePaymentRequest, CustomerInteraction, PaymentState, QrFormatKind,
        UserFlow,
    },
};

#[cfg(test)]
#[path = "tests/mod.rs"]
mod tests;

//! The payment state machine. Pure: no clock, no I/O. The app feeds it `Input`s with the current
//! time and carries out the `Effect`s it returns; results come back as more inputs, each tagged
//! with the payment reference it belongs to, so stale answers are recognised and ignored.
//!
//! Money rules (DESIGN.md §3) and where they live:
//! 1. One captured payment per order: payments of an order are strictly one after the other. A
//!    new payment is only created once Vipps has confirmed the previous one final without money
//!    (`proceed`); a cancel that meets an approval (6060) captures that payment instead.
//! 2. Every AUTHORIZED payment is captured, or fully cancelled when the POS withdrew the order
//!    (`on_observed`).
//! 3. A timeout is not a failure: the same request is sent again with the same key
//!    (`transient` branches), or the payment is read back.
//! 4. References and keys derive from the order id and attempt number (`reference_for`, `key`).
//! 5. Nothing is given up before Vipps says final: polling never stops on its own.

use super::config::{Api, Config, ECOM_QR_WINDOW, Method};
use super::effect::{Effect, OrderStatus, OrderUpdate};
use super::input::{ApiError, Input, Observed, Resume};
#[cfg(test)]
use super::keys::round_of;
use super::keys::{backoff, key, reference_for};
use super::order::Order;
use super::reason::{FailureReason, Notice};
use super::state::Active;
pub use super::state::{AfterCancel, State};
use crate::scan::PersonalQr;
use crate::vipps::model::{
    Aggregate, Amount, CreatePaymentRequest, Customer, CustomerInteraction, PaymentMethod,
    PaymentMethodType, PaymentState, QrFormat, QrFormatKind, UserFlow,
};
use std::time::{Duration, Instant};

/// One payment attempt and the bookkeeping of its calls.
#[derive(Debug, Clone, PartialEq)]
pub struct Payment {
    pub reference: String,
    pub method: Method,
    pub api: Api,
    /// The customer opened the one-time QR in the app (eCom): now it waits for approval.
    pub opened: bool,
    pub amount: Amount,
    /// The create request, kept to be sent again unchanged after a timeout.
    pub(crate) request: CreatePaymentRequest,
    /// Vipps confirmed the payment exists.
    pub created: bool,
    /// For a one-time QR: what to show (target URL or image link).
    pub qr: Option<String>,
    /// When Vipps' window for the customer closes.
    pub deadline: Instant,
    /// A create, capture or cancel call is under way.
    busy: bool,
    /// When a failed call is to be sent again.
    retry_at: Option<Instant>,
    poll_in_flight: bool,
    next_poll: Instant,
    /// Consecutive failed calls: drives the backoff and the "connection trouble" hint.
    pub failures: u32,
    /// Bumped after a definitive refusal, so the next request gets a fresh idempotency key.
    capture_round: u32,
    cancel_round: u32,
    /// The last cancel asked to cancel only an unauthorized payment.
    cancel_transaction_only: bool,
    /// Resumed after a restart: the first GET decides whether the create went out at all.
    resuming: bool,
    /// Webhook events arrive for this payment: polling may relax.
    webhook_seen: bool,
    /// Webhook events other than `created` for this payment.
    webhook_changes: u32,
    /// An event came while a GET was under way (which may predate it): read again.
    repoll: bool,
    /// The personal QR still to be exchanged for a phone number before the create.
    exchange: Option<PersonalQr>,
}

impl Payment {
    /// Its QR is a link to an image Vipps renders, not text to draw.
    pub fn shows_vipps_image(&self) -> bool {
        self.request
            .qr_format
            .as_ref()
            .is_some_and(|f| f.format != QrFormatKind::TextTargetUrl)
    }
}

#[derive(Debug, Clone)]
pub struct Machine {
    config: Config,
    state: State,
    notice: Option<(Notice, Instant)>,
    /// The customer's last sign of life: an order arriving, a scan, a tap.
    last_activity: Instant,
}

impl Machine {
    pub fn new(config: Config) -> Self {
        Machine {
            config,
            state: State::Idle,
            notice: None,
            last_activity: Instant::now(),
        }
    }

    /// When the customer counts as gone, if the Waiting screen is showing.
    fn walk_away_at(&self) -> Option<Instant> {
        match &self.state {
            State::Waiting { payment, .. } if payment.created => {
                self.config.walk_away_after.map(|d| self.last_activity + d)
            }
            _ => None,
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

    /// Whether a new order could start now (nothing active, or only a result screen showing).
    pub fn accepts_orders(&self) -> bool {
        matches!(
            self.state,
            State::Idle | State::Approved { .. } | State::Failed { order: None, .. }
        )
    }

    pub fn step(&mut self, input: Input, now: Instant) -> Vec<Effect> {
        let mut fx = Vec::new();
        if matches!(
            input,
            Input::OrderReceived(_)
                | Input::Scan(_)
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
                }
            }
            Input::QrUnavailable { reference } => {
                if self.is_current(&reference) {
                    tracing::warn!(reference, "the QR image link has expired; replacing the QR");
                    self.renew_expired_qr(&mut fx);
                }
            }
            Input::Polled { reference, result } => {
                if self.is_current(&reference) {
                    self.on_polled(result, now, &mut fx);
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
                }
            }
            Input::WebhookTrouble => {
                let interval = self.config.poll_interval;
                if let Some(p) = self.state.active_mut()
                    && p.webhook_seen
                {
                    p.webhook_seen = false;
                    p.next_poll = p.next_poll.min(now + interval);
                }
            }
            Input::Tick => self.on_tick(now, &mut fx),
        }
        fx
    }

    fn is_current(&self, reference: &str) -> bool {
        let current = self.payment().is_some_and(|p| p.reference == reference);
        if !current {
            tracing::debug!(reference, "ignoring a stale answer");
        }
        current
    }

    fn show_notice(&mut self, notice: Notice, now: Instant) {
        self.notice = Some((notice, now + self.config.notice_display));
    }

    // ---- building payments -------------------------------------------------------------

    fn new_payment(
        &self,
        order: &Order,
        attempt: u32,
        method: Method,
        qr: Option<&PersonalQr>,
        now: Instant,
    ) -> Payment {
        let reference = reference_for(&order.order_id, attempt);
        let api = match method {
            Method::OneTimeQr => self.config.one_time_qr_api,
            Method::PersonalQr => Api::Epayment,
        };
        let (user_flow, customer, qr_format, window) = match method {
            Method::OneTimeQr => (
                UserFlow::Qr,
                None,
                Some(QrFormat {
                    format: if self.config.qr_image {
                        QrFormatKind::ImagePng
                    } else {
                        QrFormatKind::TextTargetUrl
                    },
                    size: None,
                }),
                match api {
                    Api::Epayment => self.config.qr_window,
                    Api::Ecom => self.config.qr_window.min(ECOM_QR_WINDOW),
                },
            ),
            Method::PersonalQr => (
                UserFlow::PushMessage,
                qr.map(|q| Customer {
                    personal_qr: Some(q.as_str().to_string()),
                    ..Customer::default()
                }),
                None,
                self.config.push_window,
            ),
        };
        let request = CreatePaymentRequest {
            amount: order.total(),
            customer,
            customer_interaction: Some(CustomerInteraction::CustomerPresent),
            payment_method: PaymentMethod {
                kind: PaymentMethodType::Wallet,
            },
            reference: reference.clone(),
            user_flow,
            return_url: None,
            payment_description: Some(self.config.payment_description.clone()),
            qr_format,
            receipt: Some(order.receipt()),
        };
        Payment {
            reference,
            method,
            api,
            opened: false,
            amount: order.total(),
            request,
            created: false,
            qr: None,
            deadline: now + window,
            busy: true,
            retry_at: None,
            poll_in_flight: false,
            next_poll: now + self.config.poll_interval,
            failures: 0,
            capture_round: 1,
            cancel_round: 1,
            cancel_transaction_only: true,
            resuming: false,
            webhook_seen: false,
            webhook_changes: 0,
            repoll: false,
            exchange: None,
        }
    }

    fn create_effect(p: &Payment) -> Effect {
        Effect::Create {
            request: Box::new(p.request.clone()),
            idempotency_key: key("create", &p.reference, 1),
            api: p.api,
        }
    }

    fn exchange_effect(p: &Payment) -> Effect {
        Effect::Exchange {
            reference: p.reference.clone(),
            code: p.exchange.clone().unwrap_or_else(|| PersonalQr::new("")),
        }
    }

    fn cancel_effect(p: &Payment) -> Effect {
        Effect::Cancel {
            reference: p.reference.clone(),
            transaction_only: p.cancel_transaction_only,
            idempotency_key: key(
                if p.cancel_transaction_only {
                    "cancelq"
                } else {
                    "cancel"
                },
                &p.reference,
                p.cancel_round,
            ),
            api: p.api,
        }
    }

    fn capture_effect(p: &Payment) -> Effect {
        Effect::Capture {
            reference: p.reference.clone(),
            amount: p.amount,
            idempotency_key: key("capture", &p.reference, p.capture_round),
            api: p.api,
        }
    }

    fn notify(order: &Order, status: OrderStatus, payment: Option<&Payment>) -> Effect {
        Effect::Notify(OrderUpdate {
            order_id: order.order_id.clone(),
            status,
            reference: payment.map(|p| p.reference.clone()),
            method: payment.map(|p| p.method),
            captured: None,
            reason: None,
        })
    }

    /// Starts a new payment attempt for `order`.
    fn start(
        &mut self,
        order: Order,
        attempt: u32,
        method: Method,
        qr: Option<PersonalQr>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let mut payment = self.new_payment(&order, attempt, method, qr.as_ref(), now);
        match (&qr, self.config.exchange_personal_qr) {
            (Some(code), true) => {
                // The phone number first; the create follows its answer.
                payment.request.customer = None;
                payment.exchange = Some(code.clone());
                fx.push(Self::exchange_effect(&payment));
            }
            _ => fx.push(Self::create_effect(&payment)),
        }
        let status = match method {
            Method::OneTimeQr => OrderStatus::Waiting,
            Method::PersonalQr => OrderStatus::Scanned,
        };
        fx.push(Self::notify(&order, status, Some(&payment)));
        tracing::info!(reference = %payment.reference, ?method, "creating payment");
        self.state = State::awaiting(method, order, attempt, payment);
    }

    /// Starts a cancel of the current payment, to be followed by `after`.
    fn begin_cancel(&mut self, after: AfterCancel, transaction_only: bool, fx: &mut Vec<Effect>) {
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
        if payment.created && !payment.busy {
            payment.busy = true;
            payment.retry_at = None;
            fx.push(Self::cancel_effect(&payment));
        }
        tracing::info!(reference = %payment.reference, ?after, "cancelling payment");
        self.state = State::Cancelling {
            order,
            attempt,
            payment,
            after,
        };
    }

    // ---- inputs --------------------------------------------------------------------------

    fn on_order(&mut self, order: Order, now: Instant, fx: &mut Vec<Effect>) {
        if !self.accepts_orders() {
            fx.push(Effect::Refused {
                order_id: order.order_id,
                why: "another order is being paid",
            });
            return;
        }
        self.notice = None;
        self.start(order, 1, Method::OneTimeQr, None, now, fx);
    }

    /// Picks up a payment that was under way when the kiosk stopped. Nothing is assumed about
    /// what reached Vipps: a GET comes first (a 404 sends the journaled create again, with the
    /// same key), and a withdrawn order gets its full cancel sent again.
    fn on_resume(&mut self, r: Resume, now: Instant, fx: &mut Vec<Effect>) {
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

    /// The interval to the next poll of `p`: relaxed while its webhooks are arriving.
    fn poll_interval(config: &Config, p: &Payment) -> Duration {
        match config.relaxed_poll_interval {
            Some(relaxed) if p.webhook_seen => relaxed.max(config.poll_interval),
            _ => config.poll_interval,
        }
    }

    fn on_webhook(
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
        if !p.created || p.busy {
            return;
        }
        if p.poll_in_flight {
            p.repoll = true;
            return;
        }
        p.poll_in_flight = true;
        p.next_poll = now;
        tracing::debug!(reference = %p.reference, ?name, "webhook: reading the payment now");
        fx.push(Effect::Poll {
            reference: p.reference.clone(),
            api: p.api,
        });
    }

    fn on_exchanged(
        &mut self,
        result: Result<crate::vipps::Secret, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let cancelling = matches!(self.state, State::Cancelling { .. });
        let Some(p) = self.state.active_mut() else {
            return;
        };
        if p.exchange.is_none() || !p.busy {
            return; // a duplicate answer
        }
        if cancelling {
            // Nothing was created: go on with what the cancel was for.
            p.exchange = None;
            self.proceed_without_money(None, now, fx);
            return;
        }
        match result {
            Ok(number) => {
                p.exchange = None;
                p.failures = 0;
                p.request.customer = Some(Customer {
                    phone_number: Some(number.expose().to_string()),
                    ..Customer::default()
                });
                tracing::info!(reference = %p.reference, "personal QR exchanged; creating the push payment");
                fx.push(Self::create_effect(p));
            }
            Err(e) if e.transient => {
                p.busy = false;
                p.failures += 1;
                tracing::warn!(reference = %p.reference, error = %e.message, "QR exchange failed; will retry");
                p.retry_at = Some(now + backoff(&self.config, p.failures));
            }
            Err(e) => {
                tracing::warn!(reference = %p.reference, error = %e.message, "QR exchange refused");
                p.exchange = None;
                let reason = match e.status {
                    Some(400) => FailureReason::NotVippsCode,
                    _ => FailureReason::ServiceTrouble,
                };
                self.proceed_without_money(Some(reason), now, fx);
            }
        }
    }

    fn on_withdraw(&mut self, order_id: &str, now: Instant, fx: &mut Vec<Effect>) {
        if self.order().is_none_or(|o| o.order_id != order_id) {
            fx.push(Effect::Refused {
                order_id: order_id.into(),
                why: "no such active order",
            });
            return;
        }
        match &self.state {
            State::Waiting { .. } | State::Scanned { .. } | State::Cancelling { .. } => {
                self.begin_cancel(AfterCancel::Withdraw, false, fx);
            }
            State::Failed {
                order: Some(order),
                attempt,
                ..
            } => {
                fx.push(Self::notify(order, OrderStatus::Cancelled, None));
                self.state = State::Failed {
                    order: None,
                    attempt: *attempt,
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

    fn on_scan(&mut self, text: String, now: Instant, fx: &mut Vec<Effect>) {
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
                    order: Some(order),
                    attempt,
                    ..
                } = std::mem::replace(&mut self.state, State::Idle)
                else {
                    return;
                };
                self.notice = None;
                self.start(order, attempt + 1, Method::PersonalQr, Some(code), now, fx);
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

    fn on_cancel_tapped(&mut self, _now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Scanned { .. } => self.begin_cancel(AfterCancel::BackToWaiting, true, fx),
            // Still switching from the one-time QR: stay with it instead.
            State::Cancelling { after, .. } if matches!(after, AfterCancel::Push(_)) => {
                *after = AfterCancel::BackToWaiting;
            }
            _ => {}
        }
    }

    fn on_dismiss(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        match &mut self.state {
            State::Approved { until, .. } | State::Failed { until, .. } => {
                *until = now;
                self.on_tick(now, fx);
            }
            _ => {}
        }
    }

    /// The shown QR can no longer be used: replace it, as when its window closes.
    fn renew_expired_qr(&mut self, fx: &mut Vec<Effect>) {
        if let State::Waiting { payment, .. } = &self.state
            && payment.created
            && !payment.busy
        {
            self.begin_cancel(AfterCancel::Renew, true, fx);
        }
    }

    fn on_created(
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
        if p.created || !p.busy {
            return; // a duplicate answer
        }
        p.busy = false;
        match result {
            Ok(redirect) => {
                p.created = true;
                p.failures = 0;
                p.qr = redirect;
                if let Some(valid) = valid_for {
                    p.deadline = p.deadline.min(now + valid);
                }
                p.next_poll = now + interval;
                tracing::info!(reference = %p.reference, "payment created");
                // A cancel was waiting for the payment to exist.
                if let State::Cancelling { payment, .. } = &mut self.state {
                    payment.busy = true;
                    fx.push(Self::cancel_effect(payment));
                }
            }
            Err(e) if e.transient => {
                p.failures += 1;
                tracing::warn!(reference = %p.reference, error = %e.message, "create failed; will retry with the same key");
                p.retry_at = Some(now + backoff(&self.config, p.failures));
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

    fn on_polled(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let cancelling = matches!(self.state, State::Cancelling { .. });
        let Some(p) = self.state.active_mut() else {
            return;
        };
        if !p.poll_in_flight {
            return;
        }
        p.poll_in_flight = false;
        let resuming = p.resuming;
        match result {
            Ok(observed) => {
                p.failures = 0;
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
                p.next_poll = if std::mem::take(&mut p.repoll) {
                    now
                } else {
                    now + Self::poll_interval(&self.config, p)
                };
                if resuming {
                    p.resuming = false;
                    p.created = true;
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
                    State::Cancelling { payment, .. } if resuming && !payment.busy => {
                        payment.busy = true;
                        fx.push(Self::cancel_effect(payment));
                    }
                    // A resumed one-time QR that Vipps gives no link for: replace it.
                    State::Waiting { payment, .. }
                        if payment.created && payment.qr.is_none() && !payment.busy =>
                    {
                        self.begin_cancel(AfterCancel::Renew, true, fx);
                    }
                    _ => {}
                }
            }
            Err(e) if resuming && e.status == Some(404) => {
                p.resuming = false;
                if cancelling {
                    tracing::info!(reference = %p.reference, "resumed payment never reached Vipps; nothing to cancel");
                    self.proceed_without_money(None, now, fx);
                    return;
                }
                // The create never reached Vipps before the restart: send it now, same key.
                tracing::info!(reference = %p.reference, "resumed payment does not exist yet; creating it");
                p.busy = true;
                fx.push(Self::create_effect(p));
            }
            Err(e) => {
                p.failures += 1;
                let failures = p.failures;
                tracing::warn!(reference = %p.reference, error = %e.message, failures, "poll failed");
                p.next_poll = now + backoff(&self.config, failures);
            }
        }
    }

    /// The customer opened the one-time QR in the app (eCom): the screen asks them to approve
    /// there, with the time the app gives them, and the POS hears "scanned".
    fn on_opened(&mut self, now: Instant, fx: &mut Vec<Effect>) {
        let State::Waiting { payment, .. } = &self.state else {
            return;
        };
        if payment.opened || payment.busy {
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

    fn on_captured(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let State::Capturing { payment: p, .. } = &mut self.state else {
            return;
        };
        if !p.busy {
            return;
        }
        p.busy = false;
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
                p.retry_at = Some(now + backoff(&self.config, p.failures));
            }
        }
    }

    fn on_cancel_answered(
        &mut self,
        result: Result<Observed, ApiError>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let State::Cancelling { payment: p, .. } = &mut self.state else {
            return;
        };
        if !p.busy {
            return;
        }
        p.busy = false;
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
                p.retry_at = Some(now + backoff(&self.config, p.failures));
            }
        }
    }

    /// What Vipps says about the current payment, from any source.
    fn on_observed(&mut self, o: Observed, now: Instant, fx: &mut Vec<Effect>) {
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
                    if !payment.busy && payment.retry_at.is_none() {
                        payment.failures += 1;
                        payment.retry_at = Some(now + backoff(&self.config, payment.failures));
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
                payment.busy = true;
                payment.retry_at = None;
                payment.failures = 0;
                fx.push(Self::capture_effect(&payment));
                fx.push(Self::notify(&order, OrderStatus::Approved, Some(&payment)));
                self.state = State::Capturing {
                    order,
                    attempt,
                    payment,
                };
            }
            PaymentState::Aborted | PaymentState::Expired | PaymentState::Terminated => {
                tracing::info!(%reference, state = ?o.state, "payment ended without money");
                let reason = match (&self.state, o.state) {
                    (State::Cancelling { .. }, _) => None,
                    // An unscanned one-time QR running out is routine: just show a new one.
                    (State::Waiting { .. }, PaymentState::Expired | PaymentState::Terminated) => {
                        None
                    }
                    (_, PaymentState::Aborted) => Some(FailureReason::CancelledInApp),
                    (_, PaymentState::Expired) => Some(FailureReason::Expired),
                    _ => Some(FailureReason::Cancelled),
                };
                self.proceed_without_money(reason, now, fx);
            }
        }
    }

    fn finish_captured(&mut self, captured: Amount, now: Instant, fx: &mut Vec<Effect>) {
        let Some(Active { order, payment, .. }) = self.state.take_active(true) else {
            return;
        };
        tracing::info!(reference = %payment.reference, captured = captured.value, "payment captured");
        fx.push(Effect::Notify(OrderUpdate {
            order_id: order.order_id.clone(),
            status: OrderStatus::Captured,
            reference: Some(payment.reference.clone()),
            method: Some(payment.method),
            captured: Some(captured),
            reason: None,
        }));
        self.state = State::Approved {
            order,
            reference: payment.reference,
            method: payment.method,
            captured,
            until: now + self.config.approved_display,
        };
    }

    /// The current payment is final without money (or never existed). Carry on with what was
    /// planned, or show `reason`.
    fn proceed_without_money(
        &mut self,
        reason: Option<FailureReason>,
        now: Instant,
        fx: &mut Vec<Effect>,
    ) {
        let Some(Active {
            order,
            attempt,
            payment,
            after,
        }) = self.state.take_active(false)
        else {
            return;
        };
        let failed = |order: Option<Order>, reason| State::Failed {
            order,
            attempt,
            reason,
            until: now + self.config.failed_display,
        };
        match (after, reason) {
            (Some(AfterCancel::Withdraw), _) => {
                fx.push(Self::notify(&order, OrderStatus::Cancelled, Some(&payment)));
                self.state = failed(None, FailureReason::Cancelled);
            }
            (Some(AfterCancel::WalkAway), _) => {
                tracing::info!(order = %order.order_id, "the customer walked away; order ended");
                fx.push(Self::notify(&order, OrderStatus::Expired, Some(&payment)));
                self.state = failed(None, FailureReason::Expired);
            }
            (Some(AfterCancel::Push(code)), None) => {
                self.start(order, attempt + 1, Method::PersonalQr, Some(code), now, fx);
            }
            (Some(AfterCancel::Renew | AfterCancel::BackToWaiting), None) | (None, None) => {
                self.start(order, attempt + 1, Method::OneTimeQr, None, now, fx);
            }
            (_, Some(reason)) => {
                fx.push(Effect::Notify(OrderUpdate {
                    order_id: order.order_id.clone(),
                    status: OrderStatus::Failed,
                    reference: Some(payment.reference.clone()),
                    method: Some(payment.method),
                    captured: None,
                    reason: Some(reason),
                }));
                self.state = failed(Some(order), reason);
            }
        }
    }

    fn on_tick(&mut self, now: Instant, fx: &mut Vec<Effect>) {
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
}

#[cfg(test)]
#[path = "machine_tests.rs"]
mod tests;

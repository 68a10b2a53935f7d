//! One payment attempt, self-contained: its create request, whether it exists at Vipps, the
//! call and the read under way, and the effects that send them. Built in one place, for a new
//! attempt and for a resume alike.

use super::config::{Api, Config, ECOM_QR_WINDOW, Method, PushTo};
use super::effect::Effect;
use super::input::Resume;
use super::keys::{ECOM_ORDER_ID_MAX, EPAYMENT_REFERENCE_MAX, key, reference_for};
use super::order::Order;
use crate::scan::PersonalQr;
use crate::vipps::model::{
    Amount, CreatePaymentRequest, Customer, CustomerInteraction, PaymentMethod, PaymentMethodType,
    QrFormat, QrFormatKind, UserFlow,
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
    /// Vipps confirmed the payment exists: `at_vipps == AtVipps::Created`, kept as a field for
    /// the screens (set only through `set_at_vipps`).
    pub created: bool,
    /// For a one-time QR: what to show (target URL or image link).
    pub qr: Option<String>,
    /// When Vipps' window for the customer closes.
    pub deadline: Instant,
    /// Whether the payment exists at Vipps.
    pub(super) at_vipps: AtVipps,
    /// The exchange, create, capture or cancel call: under way, waiting to be sent again, or
    /// none.
    pub(super) call: Call,
    /// The GET of the payment.
    pub(super) read: Read,
    pub(super) next_poll: Instant,
    /// Consecutive failed calls: drives the backoff and the "connection trouble" hint.
    pub failures: u32,
    /// Bumped after a definitive refusal, so the next request gets a fresh idempotency key.
    pub(super) capture_round: u32,
    pub(super) cancel_round: u32,
    /// The last cancel asked to cancel only an unauthorized payment.
    pub(super) cancel_transaction_only: bool,
    /// Webhook events arrive for this payment: polling may relax.
    pub(super) webhook_seen: bool,
    /// Webhook events other than `created` for this payment.
    pub(super) webhook_changes: u32,
    /// When the attempt began (for QRs that die young).
    pub(super) started_at: Instant,
    /// When it was last read (reads are spaced to stay within Vipps' budget).
    pub(super) last_read_at: Option<Instant>,
    /// Definitive refusals of its change calls so far: bounded, then given up.
    pub(super) refusals: u32,
    /// A change call failed in a way that may have taken effect (a lost answer, a refusal to
    /// check): the payment is read while the call waits to be sent again. Not after a 429:
    /// that was not carried out, and reading would only spend the budget the retry needs.
    pub(super) verify: bool,
}

/// Reads of one payment are at least this far apart: Vipps allows 120 a minute per reference,
/// and this leaves a sixth of that for the client's own reads (a capture confirmed from the
/// events log, eCom's details before a cancel).
pub const MIN_READ_GAP: Duration = Duration::from_millis(600);

/// Whether the payment exists at Vipps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum AtVipps {
    /// Resumed after a restart: the first GET decides whether the create went out at all.
    Unknown,
    /// Not created yet (or never reached Vipps): the create is under way or still to send.
    NotCreated,
    /// Vipps confirmed it (or, for a withdrawn order resumed, it is treated as existing).
    Created,
}

/// A change call of the payment: one at a time.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Call {
    /// None under way and none to send again.
    Idle,
    /// Sent: its answer is awaited.
    Sent(Op),
    /// Failed: to be sent again, unchanged, at this time.
    Retry(Op, Instant),
}

/// What a change call does.
#[derive(Debug, Clone, PartialEq)]
pub(super) enum Op {
    /// Ask for the phone number behind this personal QR (before the create of a push).
    Exchange(PersonalQr),
    Create,
    Capture,
    Cancel,
}

/// The payment's GET: one at a time.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Read {
    /// None under way.
    Idle,
    /// Under way. `again`: a webhook event came meanwhile (this GET may predate it), so the
    /// payment is read again as soon as a GET succeeds.
    InFlight { again: bool },
    /// None under way, but the last one failed with `again` set: the read it owed is still
    /// owed, and the next GET carries it.
    Owed,
}

impl Call {
    /// A call is under way.
    pub(super) fn is_sent(&self) -> bool {
        matches!(self, Call::Sent(_))
    }
}

impl Read {
    pub(super) fn in_flight(self) -> bool {
        matches!(self, Read::InFlight { .. })
    }
}

impl Payment {
    /// The one constructor: `request` as it is (or was) sent, Vipps' window closing at
    /// `deadline`, the first poll due at `next_poll`. No call or read under way yet.
    fn new(
        request: CreatePaymentRequest,
        method: Method,
        api: Api,
        at_vipps: AtVipps,
        deadline: Instant,
        now: Instant,
        next_poll: Instant,
    ) -> Payment {
        Payment {
            reference: request.reference.clone(),
            method,
            api,
            opened: false,
            amount: request.amount,
            request,
            created: at_vipps == AtVipps::Created,
            qr: None,
            deadline,
            at_vipps,
            call: Call::Idle,
            read: Read::Idle,
            next_poll,
            failures: 0,
            capture_round: 1,
            cancel_round: 1,
            cancel_transaction_only: true,
            webhook_seen: false,
            webhook_changes: 0,
            started_at: now,
            last_read_at: None,
            refusals: 0,
            verify: false,
        }
    }

    /// A new attempt `attempt` at paying `order`, to push to `qr` for a personal QR. Its first
    /// call is for the caller to send.
    pub(super) fn attempt(
        config: &Config,
        order: &Order,
        attempt: u32,
        method: Method,
        to: Option<&PushTo>,
        now: Instant,
    ) -> Payment {
        let api = match method {
            // eCom cannot carry an age limit: an order with one is paid through ePayment,
            // whose `minimumUserAge` Vipps checks.
            Method::OneTimeQr if order.minimum_age().is_none() => config.one_time_qr_api,
            Method::OneTimeQr | Method::PersonalQr | Method::PhoneNumber => Api::Epayment,
        };
        let max = match api {
            Api::Epayment => EPAYMENT_REFERENCE_MAX,
            Api::Ecom => ECOM_ORDER_ID_MAX,
        };
        let reference = reference_for(&config.reference_prefix, &order.order_id, attempt, max);
        let window = match (method, api) {
            (Method::OneTimeQr, Api::Epayment) => config.qr_window,
            (Method::OneTimeQr, Api::Ecom) => config.qr_window.min(ECOM_QR_WINDOW),
            (Method::PersonalQr | Method::PhoneNumber, _) => config.push_window,
        };
        let request = create_request(config, order, reference, method, to);
        let (deadline, next_poll) = (now + window, now + config.poll_interval);
        Payment::new(
            request,
            method,
            api,
            AtVipps::NotCreated,
            deadline,
            now,
            next_poll,
        )
    }

    /// A payment found unfinished in the journal, with its request and rounds as they were
    /// sent. Whether it exists is unknown (the first GET decides), except for a withdrawn order,
    /// which is treated as existing so that its full cancel goes out again.
    pub(super) fn resumed(config: &Config, r: Resume, now: Instant) -> Payment {
        let (method, window) = match r.request.user_flow {
            UserFlow::PushMessage => {
                let to_phone = r
                    .request
                    .customer
                    .as_ref()
                    .is_some_and(|c| c.personal_qr.is_none());
                let method = if to_phone {
                    Method::PhoneNumber
                } else {
                    Method::PersonalQr
                };
                (method, config.push_window)
            }
            _ if r.api == Api::Ecom => (Method::OneTimeQr, ECOM_QR_WINDOW),
            _ => (Method::OneTimeQr, config.qr_window),
        };
        let at_vipps = if r.withdrawn {
            AtVipps::Created
        } else {
            AtVipps::Unknown
        };
        let deadline = now + window.saturating_sub(r.age);
        let next_poll = now + config.poll_interval;
        let mut payment =
            Payment::new(r.request, method, r.api, at_vipps, deadline, now, next_poll);
        payment.capture_round = r.capture_round.max(1);
        payment.cancel_round = r.cancel_round.max(1);
        payment
    }

    /// A payment followed again after a restart: whether it exists is unknown until it is read.
    pub(super) fn followed(config: &Config, f: &super::input::Followed, now: Instant) -> Payment {
        let method = match f.request.user_flow {
            UserFlow::PushMessage => Method::PersonalQr,
            _ => Method::OneTimeQr,
        };
        let window = match (method, f.api) {
            (Method::OneTimeQr, Api::Ecom) => ECOM_QR_WINDOW,
            (Method::OneTimeQr, _) => config.qr_window,
            _ => config.push_window,
        };
        let deadline = now + window.saturating_sub(f.age);
        let mut payment = Payment::new(
            f.request.clone(),
            method,
            f.api,
            AtVipps::Unknown,
            deadline,
            now,
            now,
        );
        payment.cancel_round = f.cancel_round.max(1);
        if f.release {
            payment.cancel_transaction_only = true;
        }
        payment
    }

    /// Its QR is a link to an image Vipps renders, not text to draw.
    pub fn shows_vipps_image(&self) -> bool {
        self.request
            .qr_format
            .as_ref()
            .is_some_and(|f| f.format != QrFormatKind::TextTargetUrl)
    }

    pub(super) fn set_at_vipps(&mut self, at_vipps: AtVipps) {
        self.at_vipps = at_vipps;
        self.created = at_vipps == AtVipps::Created;
    }

    /// Sends `op`: it is the call under way now (any retry waiting is dropped).
    pub(super) fn send(&mut self, op: Op) -> Effect {
        let effect = self.effect(&op);
        self.call = Call::Sent(op);
        effect
    }

    /// The answer to `op` came: whether that call was under way (it is no longer). Anything
    /// else is a duplicate or stale answer.
    pub(super) fn answered(&mut self, op: &Op) -> bool {
        let sent = matches!(&self.call, Call::Sent(sent) if sent == op);
        if sent {
            self.call = Call::Idle;
        }
        sent
    }

    /// Sends the call waiting to be retried, if its time has come.
    pub(super) fn retry_due(&mut self, now: Instant) -> Option<Effect> {
        match std::mem::replace(&mut self.call, Call::Idle) {
            Call::Retry(op, at) if now >= at => Some(self.send(op)),
            other => {
                self.call = other;
                None
            }
        }
    }

    /// The earliest a read may go out at `now`, keeping reads `MIN_READ_GAP` apart.
    pub(super) fn earliest_read(&self, now: Instant) -> Instant {
        self.last_read_at
            .map_or(now, |t| (t + MIN_READ_GAP).max(now))
    }

    /// Sends a GET at `now` (none may be under way), carrying a read still owed.
    pub(super) fn poll(&mut self, now: Instant) -> Effect {
        self.last_read_at = Some(now);
        self.read = Read::InFlight {
            again: self.read == Read::Owed,
        };
        Effect::Poll {
            reference: self.reference.clone(),
            api: self.api,
        }
    }

    /// A GET answered: whether one was under way (it is no longer). A read owed to an event
    /// stays owed until a GET succeeds.
    pub(super) fn read_answered(&mut self) -> bool {
        let Read::InFlight { again } = self.read else {
            return false;
        };
        self.read = if again { Read::Owed } else { Read::Idle };
        true
    }

    /// A GET succeeded: whether the payment is to be read again at once, for an event that
    /// came while this GET (or a failed one before it) was under way.
    pub(super) fn read_succeeded(&mut self) -> bool {
        std::mem::replace(&mut self.read, Read::Idle) == Read::Owed
    }

    /// The interval to the next poll: relaxed while its webhooks are arriving.
    pub(super) fn poll_interval(&self, config: &Config) -> Duration {
        match config.relaxed_poll_interval {
            Some(relaxed) if self.webhook_seen => relaxed.max(config.poll_interval),
            _ => config.poll_interval,
        }
    }

    fn effect(&self, op: &Op) -> Effect {
        let reference = self.reference.clone();
        match op {
            Op::Exchange(code) => Effect::Exchange {
                reference,
                code: code.clone(),
            },
            Op::Create => Effect::Create {
                request: Box::new(self.request.clone()),
                idempotency_key: key("create", &self.reference, 1),
                api: self.api,
            },
            Op::Capture => Effect::Capture {
                reference,
                amount: self.amount,
                idempotency_key: key("capture", &self.reference, self.capture_round),
                api: self.api,
            },
            Op::Cancel => Effect::Cancel {
                reference,
                transaction_only: self.cancel_transaction_only,
                idempotency_key: key(
                    if self.cancel_transaction_only {
                        "cancelq"
                    } else {
                        "cancel"
                    },
                    &self.reference,
                    self.cancel_round,
                ),
                api: self.api,
            },
        }
    }
}

/// The create request of a new attempt: a one-time QR, or a push to the customer.
fn create_request(
    config: &Config,
    order: &Order,
    reference: String,
    method: Method,
    to: Option<&PushTo>,
) -> CreatePaymentRequest {
    let (user_flow, customer, qr_format) = match method {
        Method::OneTimeQr => (
            UserFlow::Qr,
            None,
            Some(QrFormat {
                format: if config.qr_image {
                    QrFormatKind::ImagePng
                } else {
                    QrFormatKind::TextTargetUrl
                },
                size: None,
            }),
        ),
        Method::PersonalQr | Method::PhoneNumber => (
            UserFlow::PushMessage,
            to.map(|to| match to {
                PushTo::PersonalQr(q) => Customer {
                    personal_qr: Some(q.as_str().to_string()),
                    ..Customer::default()
                },
                PushTo::Phone(n) => Customer {
                    phone_number: Some(n.msisdn()),
                    ..Customer::default()
                },
            }),
            None,
        ),
    };
    CreatePaymentRequest {
        amount: order.total(),
        customer,
        minimum_user_age: order.minimum_age(),
        customer_interaction: Some(CustomerInteraction::CustomerPresent),
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        reference,
        user_flow,
        return_url: None,
        payment_description: Some(order.description(&config.payment_description)),
        qr_format,
        receipt: Some(order.receipt()),
    }
}

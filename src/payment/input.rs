//! What the machine is fed: `Input`, and the API answers it carries (`ApiError`, `Observed`)
//! or the journal hands back (`Resume`).

use super::config::Api;
use super::order::Order;
use crate::scan::RawScan;
use crate::vipps::model::{Aggregate, Amount, CreatePaymentRequest, PaymentState};
use std::time::Duration;

/// An API failure reduced to what the machine decides on: status and code, never text.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ApiError {
    pub status: Option<u16>,
    pub code: Option<u32>,
    /// Sending the same request again may succeed (timeout, 5xx, 429, payment busy).
    pub transient: bool,
    /// Vipps (or the client's own budget for the reference) asks to wait this long before the
    /// next call for the payment.
    pub retry_after: Option<Duration>,
    /// An answer came but could not be read: the call may have taken effect.
    pub unreadable: bool,
    /// For the log only.
    pub message: String,
}

impl From<&crate::vipps::Error> for ApiError {
    /// A request the client's budget held back reads as Vipps' own 429: nothing was carried
    /// out, send it again (same key) after `retry_after`.
    fn from(e: &crate::vipps::Error) -> Self {
        let throttled = matches!(e, crate::vipps::Error::Throttled { .. });
        ApiError {
            status: e.status().or(throttled.then_some(429)),
            code: e.code(),
            transient: e.is_transient(),
            retry_after: e.retry_after(),
            unreadable: matches!(e, crate::vipps::Error::Decode(_)),
            message: e.to_string(),
        }
    }
}

/// A payment's state and money as Vipps reports it (GET, capture and cancel answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Observed {
    pub state: PaymentState,
    pub aggregate: Aggregate,
    /// What a GET says to show for a one-time QR (used when resuming after a restart).
    pub redirect_url: Option<String>,
    /// The customer has opened the one-time QR in the app (eCom only; ePayment cannot tell).
    pub opened: bool,
}

/// A payment the journal found unfinished after a restart: its order, and the create request
/// as it was sent, so the same reference and idempotency keys are used again.
#[derive(Debug, Clone, PartialEq)]
pub struct Resume {
    pub order: Order,
    pub attempt: u32,
    pub api: Api,
    pub request: CreatePaymentRequest,
    /// How long ago the create request was first sent.
    pub age: Duration,
    /// The POS withdrew the order before the restart.
    pub withdrawn: bool,
    /// The rounds of the last capture and full cancel sent, so their keys are reused.
    pub capture_round: u32,
    pub cancel_round: u32,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Input {
    OrderReceived(Order),
    /// The POS withdraws the order.
    OrderWithdrawn(String),
    /// Raw text from the scanner.
    Scan(RawScan),
    /// The customer typed their phone number on the keypad and sent it.
    PhoneEntered(crate::phone::PhoneNumber),
    /// The POS hands over the customer of the active order (cashier-assisted).
    CustomerHandedOver {
        order_id: String,
        to: super::config::PushTo,
    },
    /// An order that comes with its customer: pushed at once, no one-time QR.
    AssistedOrder {
        order: Order,
        to: super::config::PushTo,
    },
    /// The customer tapped Cancel while being asked to approve in the app.
    CancelTapped,
    /// The customer tapped to leave a result screen early.
    DismissTapped,
    /// The customer asked for more time before the order is given up.
    MoreTimeTapped,
    Created {
        reference: String,
        /// What to show for a one-time QR (the text to encode, or an image link).
        result: Result<Option<String>, ApiError>,
        /// How long that QR stays valid, when Vipps says (eCom's `expiresIn`).
        valid_for: Option<Duration>,
    },
    Polled {
        reference: String,
        result: Result<Observed, ApiError>,
    },
    Captured {
        reference: String,
        result: Result<Observed, ApiError>,
    },
    CancelAnswered {
        reference: String,
        result: Result<Observed, ApiError>,
    },
    /// The answer to an `Exchange`: the phone number behind the personal QR.
    Exchanged {
        reference: String,
        result: Result<crate::vipps::Secret, ApiError>,
    },
    /// The QR image link of `reference` answers 404: that QR has expired; show a new one.
    QrUnavailable {
        reference: String,
    },
    /// Carry on with a payment found unfinished in the journal (only from Idle).
    Resume(Box<Resume>),
    /// A verified webhook event: something happened to `reference`. Never moves money by
    /// itself; it makes the machine read the payment now.
    Webhook {
        reference: String,
        name: crate::vipps::model::PaymentEventName,
    },
    /// A webhook delivery failed verification: stop relying on them for this payment.
    WebhookTrouble,
    /// Staff ask, through the POS, to refund `amount` of the captured payment `reference` of
    /// order `order_id`; `refund_id` is the POS's own id, which makes a resend safe.
    RefundRequested {
        order_id: String,
        reference: String,
        amount: Amount,
        refund_id: String,
    },
    /// The answer to a `Refund`: the payment's refunded total since.
    Refunded {
        order_id: String,
        idempotency_key: String,
        result: Result<Amount, ApiError>,
    },
    Tick,
}

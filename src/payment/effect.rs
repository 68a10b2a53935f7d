//! What the machine asks for: `Effect`s, and the order updates the POS hears.

use super::config::{Api, Method};
use super::reason::FailureReason;
use crate::scan::PersonalQr;
use crate::vipps::model::{Amount, CreatePaymentRequest};
use serde::{Deserialize, Serialize};

/// The order's status as the POS sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum OrderStatus {
    Waiting,
    Scanned,
    Approved,
    Captured,
    Cancelled,
    /// The customer walked away; the kiosk ended the order.
    Expired,
    Failed,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderUpdate {
    pub order_id: String,
    pub status: OrderStatus,
    pub reference: Option<String>,
    pub method: Option<Method>,
    pub captured: Option<Amount>,
    pub reason: Option<FailureReason>,
}

#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    Create {
        request: Box<CreatePaymentRequest>,
        idempotency_key: String,
        api: Api,
    },
    Poll {
        reference: String,
        api: Api,
    },
    Capture {
        reference: String,
        amount: Amount,
        idempotency_key: String,
        api: Api,
    },
    Cancel {
        reference: String,
        transaction_only: bool,
        idempotency_key: String,
        api: Api,
    },
    /// Ask for the phone number behind a personal QR (before a push payment's create).
    Exchange {
        reference: String,
        code: PersonalQr,
    },
    /// Refund part of a captured payment (staff, through the POS).
    Refund {
        order_id: String,
        reference: String,
        amount: Amount,
        idempotency_key: String,
    },
    /// A refund's outcome for the POS: the payment's refunded total, or why Vipps did not.
    RefundDone {
        order_id: String,
        idempotency_key: String,
        result: Result<Amount, super::input::ApiError>,
    },
    /// A payment followed besides the current one has ended (final at Vipps, or released):
    /// the journal need not bring it back after a restart.
    Settled {
        reference: String,
    },
    /// A status change for the POS and the log.
    Notify(OrderUpdate),
    /// An order was refused (another is active, or the machine cannot take it now).
    Refused {
        order_id: String,
        why: &'static str,
    },
}

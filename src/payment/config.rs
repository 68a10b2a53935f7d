//! The machine's settings (`Config`), the APIs a payment can be made with, and how the
//! customer pays.

use serde::{Deserialize, Serialize};
use std::time::Duration;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Leads every reference: the lane's id, after the store's where configured
    /// (`store7-lane-3`). Empty only in tests.
    pub reference_prefix: String,
    pub poll_interval: Duration,
    /// How long Vipps keeps a one-time QR payment open (10 min).
    pub qr_window: Duration,
    /// How long a push payment waits for the customer (5 min).
    pub push_window: Duration,
    /// The one-time QR is replaced this long before its window closes.
    pub qr_renew_before: Duration,
    pub approved_display: Duration,
    pub failed_display: Duration,
    pub notice_display: Duration,
    /// Longest wait between retries of a failing call.
    pub max_backoff: Duration,
    /// Shown in the app and on the customer's statement.
    pub payment_description: String,
    /// A customer who does nothing on the Waiting screen this long has walked away: the
    /// order ends (after a warning). `None`: wait for the POS.
    pub walk_away_after: Option<Duration>,
    /// How long before that the customer is asked "still there?" and offered more time.
    pub walk_away_warning: Duration,
    /// With webhooks: the poll interval once a payment's events are seen arriving. `None`:
    /// webhooks are off and polling alone keeps time.
    pub relaxed_poll_interval: Option<Duration>,
    /// Exchange a scanned personal QR for the phone number (QR API) and push to the number,
    /// rather than sending the code itself.
    pub exchange_personal_qr: bool,
    /// Which API makes the one-time QR payment (push payments are always ePayment).
    pub one_time_qr_api: Api,
    /// Show the QR image Vipps renders (a PNG link) rather than drawing the QR here.
    pub qr_image: bool,
    /// The sales unit may draw its own QR: when Vipps' images keep dying young, draw it here.
    pub local_qr_fallback: bool,
}

/// The API a payment is made and followed with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Api {
    /// ePayment (`/epayment/v1`): the default, and the only one for push payments.
    #[default]
    Epayment,
    /// The legacy eCom v2 API with the QR API's one-time QR (Norway only). Its details show
    /// when the customer has opened the QR, so the kiosk can move on to "approve in the app".
    Ecom,
}

/// An eCom one-time QR must be opened within 5 minutes of the initiate.
pub const ECOM_QR_WINDOW: Duration = Duration::from_secs(300);

impl Default for Config {
    fn default() -> Self {
        Config {
            reference_prefix: String::new(),
            poll_interval: Duration::from_secs(1),
            qr_window: Duration::from_secs(600),
            push_window: Duration::from_secs(300),
            qr_renew_before: Duration::from_secs(60),
            approved_display: Duration::from_secs(6),
            failed_display: Duration::from_secs(8),
            notice_display: Duration::from_secs(5),
            max_backoff: Duration::from_secs(5),
            payment_description: "Purchase".into(),
            walk_away_after: Some(Duration::from_secs(300)),
            walk_away_warning: Duration::from_secs(60),
            relaxed_poll_interval: None,
            exchange_personal_qr: false,
            one_time_qr_api: Api::Epayment,
            qr_image: false,
            local_qr_fallback: false,
        }
    }
}

/// How the customer pays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub enum Method {
    /// The kiosk shows a one-time QR; the customer scans it with the app.
    OneTimeQr,
    /// The customer shows their personal QR to the scanner (or the cashier scans it); the
    /// kiosk pushes a payment.
    PersonalQr,
    /// The customer types their phone number on the keypad (or the cashier hands it over);
    /// the kiosk pushes a payment.
    PhoneNumber,
}

impl Method {
    /// A payment pushed to the customer's phone (as opposed to the QR on screen).
    pub fn is_push(self) -> bool {
        !matches!(self, Method::OneTimeQr)
    }
}

/// Whom a push payment goes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PushTo {
    /// The customer's personal QR, scanned (sent whole, or exchanged for the number first).
    PersonalQr(crate::scan::PersonalQr),
    /// The customer's phone number.
    Phone(crate::phone::PhoneNumber),
}

impl PushTo {
    pub fn method(&self) -> Method {
        match self {
            PushTo::PersonalQr(_) => Method::PersonalQr,
            PushTo::Phone(_) => Method::PhoneNumber,
        }
    }
}

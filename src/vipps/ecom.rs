//! The legacy eCom v2 API (`/ecomm/v2/payments`, Norway and NOK only) and the QR API's
//! one-time payment QR (`POST /qr/v1`), field for field as in `ecom-openapi.yaml` 2.0.3 and
//! `qr-openapi.yaml`. Shared by the client and the simulator.
//!
//! eCom has what ePayment lacks: `transactionId` appears on the INITIATE entry of a payment's
//! log once the customer has opened the QR in the app, so the kiosk can say "approve in the
//! app" before the approval comes.

use super::model::{Aggregate, Amount, Currency, PaymentState};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiatePaymentCommand {
    pub customer_info: CustomerInfo,
    pub merchant_info: MerchantInfo,
    pub transaction: InitiateTransaction,
}

/// Left empty for a one-time QR: whoever scans it pays.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CustomerInfo {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mobile_number: Option<String>,
}

impl std::fmt::Debug for CustomerInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let number = self
            .mobile_number
            .as_ref()
            .map(|n| crate::redact::fingerprint(n));
        f.debug_struct("CustomerInfo")
            .field("mobile_number", &number)
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantInfo {
    pub merchant_serial_number: String,
    /// HTTPS; Vipps POSTs `{prefix}/v2/payments/{orderId}` once, with a 3 s timeout. The
    /// kiosk polls and does not depend on it.
    pub callback_prefix: String,
    /// Where a browser lands afterwards (HTTPS or an app scheme).
    #[serde(rename = "fallBack")]
    pub fall_back: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub is_app: Option<bool>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_type: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct InitiateTransaction {
    /// Øre, at least 100.
    pub amount: i64,
    /// `^[a-zA-Z0-9-]{1,50}$`; the kiosk uses its payment reference.
    pub order_id: String,
    /// At most 100 characters, shown in the app.
    pub transaction_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub skip_landing_page: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentInitiationResponse {
    pub order_id: String,
    /// The landing-page link, valid for 5 minutes: what the one-time QR carries.
    pub url: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Operation {
    Initiate,
    Reserve,
    Sale,
    Capture,
    Refund,
    Cancel,
    Void,
    #[serde(other)]
    Unknown,
}

/// One entry of a payment's history (`TransactionLogHistory`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    pub amount: i64,
    pub operation: Operation,
    pub operation_success: bool,
    pub transaction_text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_stamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionSummary {
    pub captured_amount: i64,
    pub refunded_amount: i64,
    pub remaining_amount_to_capture: i64,
    pub remaining_amount_to_refund: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bank_identification_number: Option<i64>,
}

/// `GET /ecomm/v2/payments/{orderId}/details`: the history, newest first.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionDetails {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub order_id: Option<String>,
    #[serde(default)]
    pub transaction_log_history: Vec<LogEntry>,
    /// Missing until the customer has acted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_summary: Option<TransactionSummary>,
}

/// A payment's details in the ePayment terms the payment machine decides on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct EcomView {
    pub state: PaymentState,
    pub aggregate: Aggregate,
    /// The customer has opened the QR in the app (`transactionId` on INITIATE).
    pub opened: bool,
}

impl TransactionDetails {
    /// Reads the history oldest first: RESERVE (or SALE) is the approval; CAPTURE, REFUND and
    /// VOID move money; CANCEL before any approval ends the payment without money. A CANCEL
    /// after the QR was opened is the customer's (or a timeout after opening): `ABORTED`;
    /// before, nobody took the QR: `EXPIRED`. Only successful entries count.
    pub fn view(&self) -> EcomView {
        let mut reserved = 0;
        let mut captured = 0;
        let mut refunded = 0;
        let mut voided = false;
        let mut cancelled = false;
        let mut opened = false;
        for e in self.transaction_log_history.iter().rev() {
            if e.operation == Operation::Initiate
                && e.transaction_id.as_deref().is_some_and(|t| !t.is_empty())
            {
                opened = true;
            }
            if !e.operation_success {
                continue;
            }
            match e.operation {
                Operation::Reserve => reserved = e.amount,
                Operation::Sale => {
                    reserved = e.amount;
                    captured = e.amount;
                }
                Operation::Capture => captured += e.amount,
                Operation::Refund => refunded += e.amount,
                Operation::Void => voided = true,
                Operation::Cancel if reserved == 0 => cancelled = true,
                Operation::Cancel => voided = true,
                Operation::Initiate | Operation::Unknown => {}
            }
        }
        if let Some(s) = self.transaction_summary {
            captured = s.captured_amount;
            refunded = s.refunded_amount;
        }
        let nok = |value| Amount::new(Currency::Nok, value);
        let mut aggregate = Aggregate::zero(Currency::Nok);
        let state = if reserved > 0 {
            aggregate.authorized_amount = nok(reserved);
            aggregate.captured_amount = nok(captured);
            aggregate.refunded_amount = nok(refunded);
            if voided {
                aggregate.cancelled_amount = nok(reserved - captured);
            }
            PaymentState::Authorized
        } else if cancelled {
            if opened {
                PaymentState::Aborted
            } else {
                PaymentState::Expired
            }
        } else {
            PaymentState::Created
        };
        EcomView {
            state,
            aggregate,
            opened,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MerchantInfoPayment {
    pub merchant_serial_number: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ActionTransaction {
    /// Øre; 0 or left out captures everything reserved.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub amount: Option<i64>,
    pub transaction_text: String,
}

/// Body of capture and refund (`PaymentActionsRequest`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentActionsRequest {
    pub merchant_info: MerchantInfoPayment,
    pub transaction: ActionTransaction,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelTransaction {
    pub transaction_text: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelPaymentActionRequest {
    pub merchant_info: MerchantInfoPayment,
    pub transaction: CancelTransaction,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub should_release_remaining_funds: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionInfo {
    pub amount: i64,
    /// `Cancelled`, `Captured` or `Refund`.
    pub status: String,
    pub time_stamp: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_id: Option<String>,
    pub transaction_text: String,
}

/// The answer to capture and cancel (`TransactionResponse`, `CancelTransactionResponse`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TransactionResponse {
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payment_instrument: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_info: Option<TransactionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_summary: Option<TransactionSummary>,
}

/// The answer to a refund (`RefundTransactionResponse`: `transaction`, not `transactionInfo`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct RefundTransactionResponse {
    pub order_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction: Option<TransactionInfo>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub transaction_summary: Option<TransactionSummary>,
}

/// One element of eCom's error array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EcomError {
    /// `Authentication`, `Payment`, `InvalidRequest`, `VippsError`, `User` or `Merchant`.
    pub error_group: String,
    /// A number, as a string (e.g. `"34"`).
    pub error_code: String,
    pub error_message: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub context_id: Option<String>,
}

/// eCom error codes the kiosk acts on. The spec lists none; these are the documented ones.
pub mod codes {
    /// The orderId was used before (a lost initiate answer, resent).
    pub const ORDER_ID_USED: u32 = 34;
    /// No payment with this orderId.
    pub const ORDER_NOT_FOUND: u32 = 35;
    /// The capture is higher than what is reserved and not yet captured.
    pub const CAPTURE_TOO_HIGH: u32 = 61;
    /// Nothing is reserved to capture (not approved, or cancelled).
    pub const NOT_RESERVED: u32 = 62;
    /// A refund higher than what is captured and not yet refunded.
    pub const REFUND_TOO_HIGH: u32 = 71;
    /// The payment cannot be cancelled in its state (captured, or already ended).
    pub const CANNOT_CANCEL: u32 = 76;
}

/// What `POST /qr/v1` is asked to return (`Accept` header).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QrAccept {
    /// The URL to encode, for a kiosk approved to draw its own QR.
    #[serde(rename = "text/targetUrl")]
    TargetUrl,
    /// A link to a PNG Vipps renders (`Size` 100-2000 px).
    #[serde(rename = "image/png")]
    Png,
    /// A link to an SVG (also for `image/*`).
    #[serde(rename = "image/svg+xml")]
    Svg,
}

impl QrAccept {
    pub fn header(self) -> &'static str {
        match self {
            QrAccept::TargetUrl => "text/targetUrl",
            QrAccept::Png => "image/png",
            QrAccept::Svg => "image/svg+xml",
        }
    }

    /// Parses an `Accept` header value as the QR API reads it.
    pub fn parse(accept: &str) -> Option<QrAccept> {
        match accept.trim() {
            "text/targetUrl" => Some(QrAccept::TargetUrl),
            "image/png" => Some(QrAccept::Png),
            "image/svg+xml" | "image/*" => Some(QrAccept::Svg),
            _ => None,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimePaymentQrRequest {
    pub url: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OneTimePaymentQrResponse {
    /// The image link, or with `text/targetUrl` the text to encode.
    pub url: String,
    /// Seconds the QR stays valid.
    pub expires_in: u64,
}

/// The eCom `X-Request-Id` (at most 40 characters) for a kiosk idempotency key (at most 50):
/// the key itself when short enough, else a digest of it, so a resend carries the same id.
pub fn request_id(key: &str) -> String {
    use sha2::{Digest, Sha256};
    if key.len() <= 40 {
        return key.to_string();
    }
    let digest = Sha256::digest(key.as_bytes());
    digest.iter().take(20).map(|b| format!("{b:02x}")).collect()
}

/// eCom expects this content type on its bodies.
const ECOM_JSON: (&str, &str) = ("Content-Type", "application/json;charset=UTF-8");

impl super::Client {
    /// `POST /ecomm/v2/payments`. eCom has no idempotency key for it: a resend after a lost
    /// answer meets error 34 (orderId used).
    pub async fn ecom_initiate(
        &self,
        command: &InitiatePaymentCommand,
    ) -> Result<PaymentInitiationResponse, super::Error> {
        self.call(
            reqwest::Method::POST,
            "/ecomm/v2/payments",
            Some(command),
            &[ECOM_JSON],
            Some((
                command.transaction.order_id.as_str(),
                super::budget::Kind::Initiate,
            )),
        )
        .await
    }

    /// `GET /ecomm/v2/payments/{orderId}/details`.
    pub async fn ecom_details(&self, order_id: &str) -> Result<TransactionDetails, super::Error> {
        let path = format!(
            "/ecomm/v2/payments/{}/details",
            super::http::path_segment(order_id)
        );
        self.call(
            reqwest::Method::GET,
            &path,
            None::<&()>,
            &[],
            Some((order_id, super::budget::Kind::Read)),
        )
        .await
    }

    fn merchant_info(&self) -> MerchantInfoPayment {
        MerchantInfoPayment {
            merchant_serial_number: self.merchant_serial_number().to_string(),
        }
    }

    /// `POST …/capture` with `X-Request-Id` derived from `idempotency_key`.
    pub async fn ecom_capture(
        &self,
        order_id: &str,
        amount: i64,
        text: &str,
        idempotency_key: &str,
    ) -> Result<TransactionResponse, super::Error> {
        self.ecom_action("capture", order_id, amount, text, idempotency_key)
            .await
    }

    /// A capture or refund (`op`): the same body, and an `X-Request-Id` from the key.
    async fn ecom_action<T: serde::de::DeserializeOwned>(
        &self,
        op: &str,
        order_id: &str,
        amount: i64,
        text: &str,
        idempotency_key: &str,
    ) -> Result<T, super::Error> {
        let path = format!(
            "/ecomm/v2/payments/{}/{op}",
            super::http::path_segment(order_id)
        );
        let body = PaymentActionsRequest {
            merchant_info: self.merchant_info(),
            transaction: ActionTransaction {
                amount: Some(amount),
                transaction_text: text.to_string(),
            },
        };
        let id = request_id(idempotency_key);
        self.call(
            reqwest::Method::POST,
            &path,
            Some(&body),
            &[ECOM_JSON, ("X-Request-Id", &id)],
            Some((order_id, super::budget::Kind::Change)),
        )
        .await
    }

    /// `PUT …/cancel`: an initiated payment ends; a reserved one is released (VOID).
    pub async fn ecom_cancel(
        &self,
        order_id: &str,
        text: &str,
    ) -> Result<TransactionResponse, super::Error> {
        let path = format!(
            "/ecomm/v2/payments/{}/cancel",
            super::http::path_segment(order_id)
        );
        let body = CancelPaymentActionRequest {
            merchant_info: self.merchant_info(),
            transaction: CancelTransaction {
                transaction_text: text.to_string(),
            },
            should_release_remaining_funds: None,
        };
        self.call(
            reqwest::Method::PUT,
            &path,
            Some(&body),
            &[ECOM_JSON],
            Some((order_id, super::budget::Kind::Change)),
        )
        .await
    }

    /// `POST …/refund` with `X-Request-Id` derived from `idempotency_key`.
    pub async fn ecom_refund(
        &self,
        order_id: &str,
        amount: i64,
        text: &str,
        idempotency_key: &str,
    ) -> Result<RefundTransactionResponse, super::Error> {
        self.ecom_action("refund", order_id, amount, text, idempotency_key)
            .await
    }

    /// `POST /qr/v1`: a one-time QR for the landing-page `url` of eCom payment `order_id`, as
    /// `accept` asks (an image link, or the text to encode), with the seconds it stays valid.
    /// `size` is for PNG only.
    pub async fn one_time_qr(
        &self,
        order_id: &str,
        url: &str,
        accept: QrAccept,
        size: Option<u32>,
    ) -> Result<OneTimePaymentQrResponse, super::Error> {
        let body = OneTimePaymentQrRequest {
            url: url.to_string(),
        };
        let size = size.map(|s| s.clamp(100, 2000).to_string());
        let mut headers = vec![("Accept", accept.header())];
        if let (QrAccept::Png, Some(size)) = (accept, size.as_deref()) {
            headers.push(("Size", size));
        }
        self.call(
            reqwest::Method::POST,
            "/qr/v1",
            Some(&body),
            &headers,
            Some((order_id, super::budget::Kind::OneTimeQr)),
        )
        .await
    }
}

#[cfg(test)]
#[path = "ecom_tests.rs"]
mod tests;

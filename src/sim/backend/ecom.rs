//! The simulated eCom v2 API (the QR API's one-time QR for its landing page is in `qr`). As at
//! Vipps, an eCom payment is an ePayment payment underneath: the same states and money, read
//! out as eCom's transaction log, with eCom's bodies and error array.

use super::{Backend, ECOM_QR_EXPIRY_S, Reply, SimApi, SimPayment, fxhash};
use crate::vipps::{
    ecom::{
        EcomError, InitiatePaymentCommand, InitiateTransaction, LogEntry, Operation,
        PaymentActionsRequest, TransactionDetails, TransactionInfo, TransactionResponse,
        TransactionSummary, codes,
    },
    model::{
        Amount, CreatePaymentRequest, Currency, PaymentEventName, PaymentMethod, PaymentMethodType,
        PaymentState, QrFormat, QrFormatKind, UserFlow,
    },
};
use serde_json::{Value, json};

/// An eCom error: an array of `{errorGroup, errorCode, errorMessage, contextId}`.
pub fn ecom_error(status: u16, group: &str, code: u32, message: &str) -> Reply {
    Reply {
        status,
        body: serde_json::to_value(vec![EcomError {
            error_group: group.into(),
            error_code: code.to_string(),
            error_message: message.into(),
            context_id: Some(format!("sim-{:08x}", fxhash(message) ^ code)),
        }])
        .unwrap_or(Value::Null),
    }
}

fn invalid(message: &str) -> Reply {
    ecom_error(400, "InvalidRequest", 0, message)
}

fn not_found() -> Reply {
    ecom_error(
        404,
        "Merchant",
        codes::ORDER_NOT_FOUND,
        "Requested order not found",
    )
}

fn order_id_ok(id: &str) -> bool {
    (1..=50).contains(&id.len()) && id.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

fn msn_ok(msn: &str) -> bool {
    (5..=6).contains(&msn.len()) && msn.chars().all(|c| c.is_ascii_digit())
}

impl Backend {
    fn ecom_payment(&self, order_id: &str) -> Option<&SimPayment> {
        self.payments
            .get(order_id)
            .filter(|p| p.api == SimApi::Ecom)
    }

    /// `POST /ecomm/v2/payments`.
    pub fn ecom_initiate(&mut self, body: &Value, now: f64) -> Reply {
        let cmd: InitiatePaymentCommand = match serde_json::from_value(body.clone()) {
            Ok(c) => c,
            Err(e) => return invalid(&format!("invalid request body: {e}")),
        };
        if let Err(refusal) = self.check_initiate(&cmd) {
            return refusal;
        }
        let m = &cmd.merchant_info;
        let t = &cmd.transaction;
        let request = payment_request(t);
        let created = self.create_new(
            &serde_json::to_value(&request).unwrap_or_default(),
            &m.merchant_serial_number,
            now,
        );
        if !created.is_success() {
            return invalid(created.body["detail"].as_str().unwrap_or("invalid request"));
        }
        let Some(p) = self.payments.get_mut(&t.order_id) else {
            return ecom_error(500, "VippsError", 91, "payment not stored");
        };
        p.api = SimApi::Ecom;
        p.payment_description = Some(t.transaction_text.clone());
        p.qr_expires_at = now + ECOM_QR_EXPIRY_S;
        let token = p.code.clone();
        p.redirect_url = None;
        Reply::ok(
            200,
            json!({
                "orderId": t.order_id,
                "url": format!(
                    "{}/dwo-api-application/v1/deeplink/vippsgateway?v=2&token={token}",
                    self.base_url
                ),
            }),
        )
    }

    /// An initiate's merchant and transaction fields, the sales unit's market, and a fresh
    /// orderId, checked in that order.
    fn check_initiate(&self, cmd: &InitiatePaymentCommand) -> Result<(), Reply> {
        let m = &cmd.merchant_info;
        let t = &cmd.transaction;
        if !msn_ok(&m.merchant_serial_number) {
            return Err(invalid(
                "merchantInfo.merchantSerialNumber must be 5-6 digits",
            ));
        }
        if !m.callback_prefix.starts_with("https://") || m.callback_prefix.len() > 255 {
            return Err(invalid("merchantInfo.callbackPrefix must be an HTTPS URL"));
        }
        if m.fall_back.is_empty() || m.fall_back.len() > 255 || m.fall_back.starts_with("http://") {
            return Err(invalid(
                "merchantInfo.fallBack must be an HTTPS URL or an app scheme",
            ));
        }
        if !order_id_ok(&t.order_id) {
            return Err(invalid(
                "transaction.orderId must match ^[a-zA-Z0-9-]{1,50}$",
            ));
        }
        if t.transaction_text.is_empty() || t.transaction_text.chars().count() > 100 {
            return Err(invalid(
                "transaction.transactionText must be 1-100 characters",
            ));
        }
        if t.amount < 100 {
            return Err(invalid("transaction.amount must be at least 100 øre"));
        }
        if self.currency.is_some_and(|c| c != Currency::Nok) {
            return Err(ecom_error(
                403,
                "Merchant",
                37,
                "eCom is only available for Vipps sales units in Norway (NOK)",
            ));
        }
        if self.payments.contains_key(&t.order_id) {
            return Err(ecom_error(
                400,
                "Merchant",
                codes::ORDER_ID_USED,
                "Unique constraint violation of the orderId",
            ));
        }
        Ok(())
    }

    /// `GET /ecomm/v2/payments/{orderId}/details`: the events as eCom's log, newest first.
    pub fn ecom_details(&self, order_id: &str) -> Reply {
        let Some(p) = self.ecom_payment(order_id) else {
            return not_found();
        };
        Reply::ok(200, details_of(p))
    }

    /// `POST …/capture`: an ePayment capture keyed by the `X-Request-Id`.
    pub fn ecom_capture(
        &mut self,
        order_id: &str,
        request_id: Option<&str>,
        body: &Value,
    ) -> Reply {
        self.ecom_modify(order_id, request_id, body, Op::Capture)
    }

    /// `POST …/refund`.
    pub fn ecom_refund(&mut self, order_id: &str, request_id: Option<&str>, body: &Value) -> Reply {
        self.ecom_modify(order_id, request_id, body, Op::Refund)
    }

    fn ecom_modify(
        &mut self,
        order_id: &str,
        request_id: Option<&str>,
        body: &Value,
        op: Op,
    ) -> Reply {
        let Some(request_id) = request_id.filter(|r| !r.is_empty() && r.len() <= 40) else {
            return invalid("X-Request-Id is required (at most 40 characters)");
        };
        let req: PaymentActionsRequest = match serde_json::from_value(body.clone()) {
            Ok(r) => r,
            Err(e) => return invalid(&format!("invalid request body: {e}")),
        };
        if !msn_ok(&req.merchant_info.merchant_serial_number) {
            return invalid("merchantInfo.merchantSerialNumber must be 5-6 digits");
        }
        if req.transaction.transaction_text.is_empty() {
            return invalid("transaction.transactionText is required");
        }
        let Some(p) = self.ecom_payment(order_id) else {
            return not_found();
        };
        let a = p.aggregate;
        let amount = match (op, req.transaction.amount) {
            (_, Some(v)) if v > 0 => v,
            (Op::Capture, _) => {
                a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value
            }
            (Op::Refund, _) => a.captured_amount.value - a.refunded_amount.value,
        };
        let modification = json!({ "modificationAmount": { "currency": "NOK", "value": amount } });
        let (name, key) = match op {
            Op::Capture => ("capture", format!("ecom-capture-{order_id}-{request_id}")),
            Op::Refund => ("refund", format!("ecom-refund-{order_id}-{request_id}")),
        };
        let reply = match op {
            Op::Capture => self.capture(order_id, &key, modification),
            Op::Refund => self.refund(order_id, &key, modification),
        };
        if !reply.is_success() {
            return ecom_refusal(&reply, name);
        }
        self.ecom_modified(order_id, amount, op)
    }

    /// A capture's or refund's answer: the transaction and the payment's summary.
    fn ecom_modified(&self, order_id: &str, amount: i64, op: Op) -> Reply {
        let status = match op {
            Op::Capture => "Captured",
            Op::Refund => "Refund",
        };
        let Some(p) = self.ecom_payment(order_id) else {
            return not_found();
        };
        let info = transaction_info(p, amount, status);
        let summary = summary_of(p);
        match op {
            Op::Capture => Reply::ok(
                200,
                TransactionResponse {
                    order_id: order_id.into(),
                    payment_instrument: None,
                    transaction_info: Some(info),
                    transaction_summary: Some(summary),
                },
            ),
            Op::Refund => Reply::ok(
                200,
                json!({ "orderId": order_id, "transaction": info, "transactionSummary": summary }),
            ),
        }
    }

    /// `PUT …/cancel`: ends an initiated payment, or releases a reserved one (VOID). A
    /// captured payment, or one that already ended, cannot be cancelled.
    pub fn ecom_cancel(&mut self, order_id: &str, body: &Value) -> Reply {
        if body["merchantInfo"]["merchantSerialNumber"]
            .as_str()
            .is_none_or(|m| !msn_ok(m))
        {
            return invalid("merchantInfo.merchantSerialNumber must be 5-6 digits");
        }
        if body["transaction"]["transactionText"]
            .as_str()
            .is_none_or(str::is_empty)
        {
            return invalid("transaction.transactionText is required");
        }
        let Some(p) = self.ecom_payment(order_id) else {
            return not_found();
        };
        let a = p.aggregate;
        let open = match p.state {
            PaymentState::Created => true,
            PaymentState::Authorized => {
                a.captured_amount.value == 0 && a.authorized_amount.value > a.cancelled_amount.value
            }
            _ => false,
        };
        if !open {
            return ecom_error(
                400,
                "Payment",
                codes::CANNOT_CANCEL,
                "The payment cannot be cancelled in its current state",
            );
        }
        let reply = self.cancel(order_id, None, Value::Null);
        if !reply.is_success() {
            return invalid(reply.body["detail"].as_str().unwrap_or("refused"));
        }
        let Some(p) = self.ecom_payment(order_id) else {
            return not_found();
        };
        Reply::ok(
            200,
            TransactionResponse {
                order_id: order_id.into(),
                payment_instrument: None,
                transaction_info: Some(transaction_info(p, p.amount.value, "Cancelled")),
                transaction_summary: Some(summary_of(p)),
            },
        )
    }
}

/// The ePayment refusal of an eCom capture or refund (`name`), in eCom's words.
fn ecom_refusal(reply: &Reply, name: &str) -> Reply {
    let code = reply.body["extraDetails"][0]["reason"]
        .as_str()
        .and_then(|c| c.parse::<u32>().ok());
    match code {
        Some(6080) => ecom_error(
            400,
            "Payment",
            codes::NOT_RESERVED,
            "The amount you tried to capture is not reserved",
        ),
        Some(6090) => ecom_error(
            400,
            "Payment",
            codes::CAPTURE_TOO_HIGH,
            "Captured amount exceeds the reserved amount",
        ),
        Some(6150) => ecom_error(
            400,
            "Payment",
            codes::REFUND_TOO_HIGH,
            "Cannot refund more than captured amount",
        ),
        Some(4010 | 4150) => ecom_error(
            409,
            "InvalidRequest",
            0,
            &format!("X-Request-Id was already used for another {name}"),
        ),
        _ => invalid(reply.body["detail"].as_str().unwrap_or("refused")),
    }
}

/// The ePayment payment under an eCom one: a QR payment whose target is the landing page's.
fn payment_request(t: &InitiateTransaction) -> CreatePaymentRequest {
    CreatePaymentRequest {
        amount: Amount::new(Currency::Nok, t.amount),
        customer: None,
        minimum_user_age: None,
        customer_interaction: None,
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        reference: t.order_id.clone(),
        user_flow: UserFlow::Qr,
        return_url: None,
        payment_description: None,
        qr_format: Some(QrFormat {
            format: QrFormatKind::TextTargetUrl,
            size: None,
        }),
        receipt: None,
    }
}

#[derive(Clone, Copy)]
enum Op {
    Capture,
    Refund,
}

fn transaction_info(p: &SimPayment, amount: i64, status: &str) -> TransactionInfo {
    TransactionInfo {
        amount,
        status: status.into(),
        time_stamp: crate::clock::now_rfc3339(),
        transaction_id: p.opened.clone(),
        transaction_text: p.payment_description.clone().unwrap_or_default(),
    }
}

fn summary_of(p: &SimPayment) -> TransactionSummary {
    let a = p.aggregate;
    TransactionSummary {
        captured_amount: a.captured_amount.value,
        refunded_amount: a.refunded_amount.value,
        remaining_amount_to_capture: (a.authorized_amount.value
            - a.captured_amount.value
            - a.cancelled_amount.value)
            .max(0),
        remaining_amount_to_refund: a.captured_amount.value - a.refunded_amount.value,
        bank_identification_number: None,
    }
}

/// The payment's events as eCom's transaction log, newest first.
pub fn details_of(p: &SimPayment) -> TransactionDetails {
    let mut log: Vec<LogEntry> = p
        .events
        .iter()
        .filter_map(|e| {
            let operation = match e.name {
                PaymentEventName::Created => Operation::Initiate,
                PaymentEventName::Authorized => Operation::Reserve,
                PaymentEventName::Aborted
                | PaymentEventName::Expired
                | PaymentEventName::Terminated => Operation::Cancel,
                PaymentEventName::Cancelled => Operation::Void,
                PaymentEventName::Captured => Operation::Capture,
                PaymentEventName::Refunded => Operation::Refund,
                PaymentEventName::Unknown => return None,
            };
            // The merchant's X-Request-Id, as it was sent.
            let request_id = e.idempotency_key.as_deref().map(|k| {
                let prefix = format!("-{}-", p.reference);
                k.split_once(&prefix).map_or(k, |(_, id)| id).to_string()
            });
            Some(LogEntry {
                amount: e.amount.value,
                operation,
                operation_success: e.success,
                transaction_text: p.payment_description.clone().unwrap_or_default(),
                request_id,
                time_stamp: Some(e.timestamp.clone()),
                transaction_id: p.opened.clone(),
            })
        })
        .collect();
    log.reverse();
    TransactionDetails {
        order_id: Some(p.reference.clone()),
        transaction_log_history: log,
        transaction_summary: (p.state != PaymentState::Created).then(|| summary_of(p)),
    }
}

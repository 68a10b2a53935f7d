//! The simulated Vipps backend: payments, their states and money, idempotency and expiry. Pure
//! data and rules; the HTTP layer in `mod.rs` maps requests onto it. Time is the simulator's own
//! clock in seconds (real time multiplied by the time scale), passed in.

use crate::vipps::model::*;
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::HashMap;

/// Default windows, in simulator seconds: a QR payment must be approved within 10 minutes, a
/// push payment within 5.
pub const QR_EXPIRY_S: f64 = 600.0;
pub const PUSH_EXPIRY_S: f64 = 300.0;
/// An eCom landing-page link (and its one-time QR) must be opened within 5 minutes.
pub const ECOM_QR_EXPIRY_S: f64 = 300.0;

pub mod ecom;

/// Which API made a payment: eCom payments are ePayment payments underneath, with their own
/// endpoints and the "opened in the app" signal ePayment lacks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum SimApi {
    #[default]
    Epayment,
    Ecom,
}

#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct SimPayment {
    pub reference: String,
    pub state: PaymentState,
    pub user_flow: UserFlow,
    pub amount: Amount,
    pub aggregate: Aggregate,
    pub customer: Option<Customer>,
    pub psp_reference: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_target_url: Option<String>,
    pub receipt: Option<Receipt>,
    pub payment_description: Option<String>,
    pub created_at: f64,
    pub expires_at: f64,
    #[serde(skip)]
    pub redirect_url: Option<String>,
    #[serde(skip)]
    pub events: Vec<PaymentEvent>,
    /// The sales unit that created it (for webhook payloads).
    #[serde(skip)]
    pub msn: String,
    pub api: SimApi,
    /// The transaction id given when the customer opened the QR in the app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub opened: Option<String>,
    /// Until when the QR can be opened (eCom: 5 minutes; ePayment: the whole window).
    pub qr_expires_at: f64,
}

/// An answer: HTTP status and JSON body. Errors carry a problem+json body.
#[derive(Debug, Clone, PartialEq)]
pub struct Reply {
    pub status: u16,
    pub body: Value,
}

impl Reply {
    fn ok(status: u16, body: impl Serialize) -> Reply {
        Reply {
            status,
            body: serde_json::to_value(body).unwrap_or(Value::Null),
        }
    }
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
}

/// A problem+json answer with the numeric Vipps error code in `extraDetails`.
pub fn problem(status: u16, code: Option<u32>, title: &str, detail: &str) -> Reply {
    let mut p = Problem {
        kind: "https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors".into(),
        title: title.into(),
        detail: Some(detail.into()),
        status,
        trace_id: format!("sim-{:08x}", fxhash(detail) ^ u64::from(status) as u32),
        instance: None,
        extra_details: None,
    };
    if let Some(code) = code {
        p.extra_details = Some(vec![ExtraDetail {
            name: "ErrorCode".into(),
            reason: code.to_string(),
        }]);
    }
    Reply::ok(status, p)
}

fn fxhash(s: &str) -> u32 {
    s.bytes().fold(0x811c_9dc5u32, |h, b| {
        (h ^ u32::from(b)).wrapping_mul(0x0100_0193)
    })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Op {
    Create,
    Capture,
    Cancel,
    Refund,
}

#[derive(Debug, Clone)]
struct StoredReply {
    op: Op,
    reference: String,
    request: Value,
    reply: Reply,
}

/// What the phone does to a payment, via the control API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PhoneAction {
    /// The customer opened the one-time QR in the app (scanned it).
    Open,
    Approve,
    Reject,
    Expire,
}

#[derive(Debug, Default)]
pub struct Backend {
    payments: HashMap<String, SimPayment>,
    /// In creation order, for the control API's list.
    order: Vec<String>,
    idempotency: HashMap<String, StoredReply>,
    psp_counter: u64,
    /// When set, CREATED payments are approved this many simulator seconds after creation.
    pub auto_approve_after_s: Option<f64>,
    /// The only currency the simulated sales unit accepts (error 5040 otherwise); any when None.
    pub currency: Option<Currency>,
    /// Public base URL of this simulator, for QR target and image links.
    pub base_url: String,
    /// Events not yet handed to webhook delivery.
    outbox: Vec<PaymentEvent>,
}

impl Backend {
    /// Takes the events since the last call, each with its payment's MSN (webhook delivery).
    pub fn take_outbox(&mut self) -> Vec<(String, PaymentEvent)> {
        let events = std::mem::take(&mut self.outbox);
        events
            .into_iter()
            .map(|e| {
                let msn = self
                    .payments
                    .get(&e.reference)
                    .map(|p| p.msn.clone())
                    .unwrap_or_default();
                (msn, e)
            })
            .collect()
    }

    /// Records which sales unit created `reference`.
    pub fn set_msn(&mut self, reference: &str, msn: &str) {
        if let Some(p) = self.payments.get_mut(reference) {
            p.msn = msn.to_string();
        }
    }
}

fn valid_reference(r: &str) -> bool {
    (8..=64).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

/// Test codes: a personal QR whose token starts with these maps to the named error, so the
/// kiosk's error screens can be exercised.
pub const TEST_QR_NOT_FOUND_PREFIX: &str = "https://qr.vipps.no/p/notfound";
pub const TEST_QR_INVALID_PREFIX: &str = "https://qr.vipps.no/p/invalid";

impl Backend {
    pub fn new(base_url: impl Into<String>) -> Self {
        Backend {
            base_url: base_url.into(),
            ..Backend::default()
        }
    }

    fn next_psp(&mut self) -> String {
        self.psp_counter += 1;
        format!("{}", 7_000_000_000u64 + self.psp_counter)
    }

    fn push_event(
        &mut self,
        reference: &str,
        name: PaymentEventName,
        amount: Amount,
        key: Option<&str>,
        success: bool,
    ) {
        let psp = self.next_psp();
        if let Some(p) = self.payments.get_mut(reference) {
            let event = PaymentEvent {
                reference: reference.into(),
                psp_reference: psp,
                name,
                amount,
                timestamp: crate::clock::now_rfc3339(),
                idempotency_key: key.map(str::to_string),
                success,
            };
            p.events.push(event.clone());
            self.outbox.push(event);
        }
    }

    /// Applies what time alone does: auto-approval and expiry.
    pub fn advance(&mut self, now: f64) {
        let due: Vec<(String, PhoneAction)> = self
            .payments
            .values()
            .filter(|p| p.state == PaymentState::Created)
            .filter_map(|p| {
                let unopened_qr_gone = p.opened.is_none() && now >= p.qr_expires_at;
                if now >= p.expires_at || unopened_qr_gone {
                    Some((p.reference.clone(), PhoneAction::Expire))
                } else if self
                    .auto_approve_after_s
                    .is_some_and(|d| now >= p.created_at + d)
                {
                    Some((p.reference.clone(), PhoneAction::Approve))
                } else {
                    None
                }
            })
            .collect();
        for (reference, action) in due {
            let _ = self.phone(&reference, action);
        }
    }

    /// The customer's phone acting on a CREATED payment.
    pub fn phone(&mut self, reference: &str, action: PhoneAction) -> Reply {
        let Some(p) = self.payments.get_mut(reference) else {
            return problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            );
        };
        if p.state != PaymentState::Created {
            return problem(
                409,
                None,
                "Conflict",
                &format!("the payment is {:?}, not CREATED", p.state),
            );
        }
        let amount = p.amount;
        // Approving or rejecting in the app means the customer opened the payment first.
        if action != PhoneAction::Expire && p.opened.is_none() {
            p.opened = Some(format!(
                "{}",
                5_000_000_000u64 + u64::from(fxhash(reference))
            ));
        }
        let name = match action {
            PhoneAction::Open => return Reply::ok(200, self.get_body(reference)),
            PhoneAction::Approve => {
                p.state = PaymentState::Authorized;
                p.aggregate.authorized_amount = amount;
                PaymentEventName::Authorized
            }
            PhoneAction::Reject => {
                p.state = PaymentState::Aborted;
                PaymentEventName::Aborted
            }
            PhoneAction::Expire => {
                p.state = PaymentState::Expired;
                PaymentEventName::Expired
            }
        };
        self.push_event(reference, name, amount, None, true);
        Reply::ok(200, self.get_body(reference))
    }

    /// Same key and same request: the stored answer. Same key, other request: 409.
    fn replay(&self, key: &str, op: Op, reference: &str, request: &Value) -> Option<Reply> {
        let stored = self.idempotency.get(key)?;
        if stored.op != op {
            return Some(problem(
                409,
                Some(4020),
                "Conflict",
                "the Idempotency-Key was already used for another operation",
            ));
        }
        if stored.reference != reference || &stored.request != request {
            let code = match op {
                Op::Refund => 4150,
                _ => 4010,
            };
            return Some(problem(
                409,
                Some(code),
                "Conflict",
                "the Idempotency-Key was already used with another request body",
            ));
        }
        Some(stored.reply.clone())
    }

    fn remember(&mut self, key: &str, op: Op, reference: &str, request: Value, reply: &Reply) {
        // A 5xx is not an answer to remember: the same request may be sent again.
        if reply.status < 500 {
            self.idempotency.insert(
                key.to_string(),
                StoredReply {
                    op,
                    reference: reference.into(),
                    request,
                    reply: reply.clone(),
                },
            );
        }
    }

    pub fn create(&mut self, key: &str, request: Value, now: f64) -> Reply {
        let reference = request
            .get("reference")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string();
        if let Some(r) = self.replay(key, Op::Create, &reference, &request) {
            return r;
        }
        let reply = self.create_new(&request, now);
        self.remember(key, Op::Create, &reference, request, &reply);
        reply
    }

    fn create_new(&mut self, request: &Value, now: f64) -> Reply {
        let req: CreatePaymentRequest = match serde_json::from_value(request.clone()) {
            Ok(r) => r,
            Err(e) => {
                return problem(
                    400,
                    Some(4140),
                    "Bad Request",
                    &format!("invalid request body: {e}"),
                );
            }
        };
        if !valid_reference(&req.reference) {
            return problem(
                400,
                None,
                "Bad Request",
                "reference must match ^[a-zA-Z0-9-]{8,64}$",
            );
        }
        if self.payments.contains_key(&req.reference) {
            return problem(
                409,
                Some(4150),
                "Conflict",
                "a payment with this reference already exists",
            );
        }
        let amount = req.amount;
        if let Some(c) = self.currency
            && amount.currency != c
        {
            return problem(
                400,
                Some(5040),
                "Bad Request",
                &format!(
                    "currency {} is not allowed for this sales unit",
                    amount.currency
                ),
            );
        }
        if amount.value < amount.currency.minimum_amount() {
            return problem(400, Some(6010), "Bad Request", "amount is too small");
        }
        if amount.value > 65_000_000 {
            return problem(400, Some(4040), "Bad Request", "amount is too large");
        }
        if let Some(d) = &req.payment_description
            && !(3..=100).contains(&d.chars().count())
        {
            return problem(
                400,
                None,
                "Bad Request",
                "paymentDescription must be 3-100 characters",
            );
        }
        if let Some(r) = &req.receipt
            && let Err(reason) = check_receipt(r, amount.currency)
        {
            return problem(400, None, "Bad Request", &reason);
        }
        let given = req.customer.as_ref().map_or(0, |c| {
            usize::from(c.phone_number.is_some())
                + usize::from(c.personal_qr.is_some())
                + usize::from(c.customer_token.is_some())
        });
        if given > 1 {
            return problem(
                400,
                None,
                "Bad Request",
                "customer: set exactly one of phoneNumber, personalQr, customerToken",
            );
        }
        let expiry = match req.user_flow {
            UserFlow::PushMessage => {
                let Some(customer) = req.customer.as_ref().filter(|_| given == 1) else {
                    return problem(
                        400,
                        Some(4140),
                        "Bad Request",
                        "PUSH_MESSAGE requires customer",
                    );
                };
                if let Some(reply) = check_customer(customer) {
                    return reply;
                }
                PUSH_EXPIRY_S
            }
            _ => QR_EXPIRY_S,
        };
        let psp = self.next_psp();
        let token = format!(
            "{:08x}{:04x}",
            fxhash(&req.reference),
            self.psp_counter & 0xffff
        );
        let (qr_target_url, redirect_url) = match req.user_flow {
            UserFlow::Qr => {
                let target = format!("{}/_sim/qr/{token}", self.base_url);
                let redirect = match req.qr_format.as_ref().map(|f| f.format) {
                    Some(QrFormatKind::TextTargetUrl) => target.clone(),
                    Some(QrFormatKind::ImagePng) => {
                        format!("{}/_sim/qr-image/{token}.png", self.base_url)
                    }
                    Some(QrFormatKind::ImageSvg) | None => {
                        format!("{}/_sim/qr-image/{token}.svg", self.base_url)
                    }
                };
                (Some(target), Some(redirect))
            }
            UserFlow::WebRedirect | UserFlow::NativeRedirect => (
                None,
                Some(format!("{}/_sim/landing/{token}", self.base_url)),
            ),
            UserFlow::PushMessage => (None, None),
        };
        let payment = SimPayment {
            reference: req.reference.clone(),
            state: PaymentState::Created,
            user_flow: req.user_flow,
            amount,
            aggregate: Aggregate::zero(amount.currency),
            customer: req.customer.clone(),
            psp_reference: psp,
            qr_target_url,
            receipt: req.receipt.clone(),
            payment_description: req.payment_description.clone(),
            created_at: now,
            expires_at: now + expiry,
            redirect_url: redirect_url.clone(),
            events: Vec::new(),
            msn: String::new(),
            api: SimApi::Epayment,
            opened: None,
            qr_expires_at: now + expiry,
        };
        self.payments.insert(req.reference.clone(), payment);
        self.order.push(req.reference.clone());
        self.push_event(
            &req.reference,
            PaymentEventName::Created,
            amount,
            None,
            true,
        );
        Reply::ok(
            201,
            CreatePaymentResponse {
                reference: req.reference,
                redirect_url,
            },
        )
    }

    fn get_body(&self, reference: &str) -> Option<GetPaymentResponse> {
        let p = self.payments.get(reference)?;
        Some(GetPaymentResponse {
            aggregate: p.aggregate,
            amount: p.amount,
            state: p.state,
            payment_method: PaymentMethod {
                kind: PaymentMethodType::Wallet,
            },
            profile: ProfileResponse::default(),
            psp_reference: p.psp_reference.clone(),
            redirect_url: p.redirect_url.clone(),
            reference: p.reference.clone(),
        })
    }

    pub fn get(&self, reference: &str) -> Reply {
        match self.get_body(reference) {
            Some(b) => Reply::ok(200, b),
            None => problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            ),
        }
    }

    pub fn events(&self, reference: &str) -> Reply {
        match self.payments.get(reference) {
            Some(p) => Reply::ok(200, &p.events),
            None => problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            ),
        }
    }

    fn modification(&self, reference: &str) -> Reply {
        let Some(p) = self.payments.get(reference) else {
            return problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            );
        };
        Reply::ok(
            200,
            ModificationResponse {
                amount: p.amount,
                state: p.state,
                aggregate: p.aggregate,
                psp_reference: p.psp_reference.clone(),
                reference: p.reference.clone(),
            },
        )
    }

    /// Answers a keyed modification: replayed when the key was seen, else `apply`ed and
    /// remembered under the key.
    fn keyed(
        &mut self,
        key: &str,
        op: Op,
        reference: &str,
        request: Value,
        apply: fn(&mut Self, &str, &str, &Value) -> Reply,
    ) -> Reply {
        if let Some(r) = self.replay(key, op, reference, &request) {
            return r;
        }
        let reply = apply(self, reference, key, &request);
        self.remember(key, op, reference, request, &reply);
        reply
    }

    /// A capture's or refund's body and the payment it is for.
    fn modification_of(
        &mut self,
        reference: &str,
        request: &Value,
    ) -> Result<(ModificationRequest, &mut SimPayment), Reply> {
        let req: ModificationRequest = serde_json::from_value(request.clone()).map_err(|e| {
            problem(
                400,
                Some(4140),
                "Bad Request",
                &format!("invalid request body: {e}"),
            )
        })?;
        let p = self.payments.get_mut(reference).ok_or_else(|| {
            problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            )
        })?;
        Ok((req, p))
    }

    pub fn capture(&mut self, reference: &str, key: &str, request: Value) -> Reply {
        self.keyed(key, Op::Capture, reference, request, Self::capture_new)
    }

    fn capture_new(&mut self, reference: &str, key: &str, request: &Value) -> Reply {
        let (req, p) = match self.modification_of(reference, request) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        if p.state != PaymentState::Authorized {
            return problem(
                400,
                Some(6080),
                "Bad Request",
                "the payment is not authorized",
            );
        }
        let a = &mut p.aggregate;
        if req.modification_amount.currency != p.amount.currency {
            return problem(
                400,
                Some(4040),
                "Bad Request",
                "capture currency differs from the payment's",
            );
        }
        let remaining =
            a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
        if req.modification_amount.value <= 0 || req.modification_amount.value > remaining {
            return problem(
                400,
                Some(6090),
                "Bad Request",
                "capture amount exceeds what can be captured",
            );
        }
        a.captured_amount.value += req.modification_amount.value;
        let amount = req.modification_amount;
        self.push_event(
            reference,
            PaymentEventName::Captured,
            amount,
            Some(key),
            true,
        );
        self.modification(reference)
    }

    /// `POST …/refund`: gives back (part of) what was captured.
    pub fn refund(&mut self, reference: &str, key: &str, request: Value) -> Reply {
        self.keyed(key, Op::Refund, reference, request, Self::refund_new)
    }

    fn refund_new(&mut self, reference: &str, key: &str, request: &Value) -> Reply {
        let (req, p) = match self.modification_of(reference, request) {
            Ok(x) => x,
            Err(reply) => return reply,
        };
        if req.modification_amount.currency != p.amount.currency {
            return problem(
                400,
                Some(4040),
                "Bad Request",
                "refund currency differs from the payment's",
            );
        }
        let a = &mut p.aggregate;
        let refundable = a.captured_amount.value - a.refunded_amount.value;
        if req.modification_amount.value <= 0 || req.modification_amount.value > refundable {
            return problem(
                400,
                Some(6150),
                "Bad Request",
                "refund amount exceeds what was captured and not yet refunded",
            );
        }
        a.refunded_amount.value += req.modification_amount.value;
        let amount = req.modification_amount;
        self.push_event(
            reference,
            PaymentEventName::Refunded,
            amount,
            Some(key),
            true,
        );
        self.modification(reference)
    }

    pub fn cancel(&mut self, reference: &str, key: Option<&str>, request: Value) -> Reply {
        if let Some(key) = key
            && let Some(r) = self.replay(key, Op::Cancel, reference, &request)
        {
            return r;
        }
        let reply = self.cancel_new(reference, key, &request);
        if let Some(key) = key {
            self.remember(key, Op::Cancel, reference, request, &reply);
        }
        reply
    }

    fn cancel_new(&mut self, reference: &str, key: Option<&str>, request: &Value) -> Reply {
        let req: CancelModificationRequest = if request.is_null() {
            CancelModificationRequest::default()
        } else {
            match serde_json::from_value(request.clone()) {
                Ok(r) => r,
                Err(e) => {
                    return problem(
                        400,
                        Some(4140),
                        "Bad Request",
                        &format!("invalid request body: {e}"),
                    );
                }
            }
        };
        let Some(p) = self.payments.get_mut(reference) else {
            return problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            );
        };
        match p.state {
            PaymentState::Created => {
                p.state = PaymentState::Terminated;
                let amount = p.amount;
                self.push_event(reference, PaymentEventName::Terminated, amount, key, true);
            }
            PaymentState::Authorized => {
                if req.cancel_transaction_only == Some(true) {
                    return problem(
                        400,
                        Some(6060),
                        "Bad Request",
                        "the payment is authorized; cancelTransactionOnly cancelled nothing",
                    );
                }
                let a = &mut p.aggregate;
                let remaining =
                    a.authorized_amount.value - a.captured_amount.value - a.cancelled_amount.value;
                if remaining <= 0 {
                    return problem(
                        400,
                        Some(6040),
                        "Bad Request",
                        "nothing left to cancel; refund instead",
                    );
                }
                a.cancelled_amount.value += remaining;
                let amount = Amount::new(p.amount.currency, remaining);
                self.push_event(reference, PaymentEventName::Cancelled, amount, key, true);
            }
            // Already final without money: cancelling again changes nothing.
            PaymentState::Aborted
            | PaymentState::Expired
            | PaymentState::Terminated
            | PaymentState::Unknown => {}
        }
        self.modification(reference)
    }

    /// Every payment, oldest first, as the control API shows them.
    pub fn list(&self) -> Vec<&SimPayment> {
        self.order
            .iter()
            .filter_map(|r| self.payments.get(r))
            .collect()
    }

    pub fn payment(&self, reference: &str) -> Option<&SimPayment> {
        self.payments.get(reference)
    }

    pub fn by_qr_token(&self, token: &str) -> Option<&SimPayment> {
        let suffix = format!("/{token}");
        self.payments.values().find(|p| {
            p.qr_target_url
                .as_deref()
                .is_some_and(|u| u.ends_with(&suffix))
        })
    }
}

/// The number the simulator's QR exchange gives for a `…/p/notfound` code: no user has it,
/// so a push payment to it answers 7010.
pub const TEST_PHONE_NOT_FOUND: &str = "4700000000";

/// `POST /qr/v1/exchange`: a personal QR's phone number (`MSISDN`). The answer and errors
/// follow `QrExchangeResponse` and `QrExchangeErrorResponse`.
pub fn exchange(body: &Value, now_epoch: i64) -> Reply {
    let code = body["qrCode"].as_str().unwrap_or_default();
    let bad = |reason: &str| Reply {
        status: 400,
        body: json!({
            "title": "Bad Request",
            "status": 400,
            "detail": "One or more validation errors occurred.",
            "extraDetails": [{"name": "qrCode", "reason": reason}],
        }),
    };
    if let Some(requested) = body.get("requestedData")
        && requested != &json!(["MSISDN"])
    {
        return Reply {
            status: 400,
            body: json!({
                "title": "Bad Request",
                "status": 400,
                "detail": "One or more validation errors occurred.",
                "extraDetails": [{"name": "requestedData", "reason": "only MSISDN can be requested"}],
            }),
        };
    }
    if code.is_empty() {
        return bad("The qrCode field is required.");
    }
    if code.starts_with(TEST_QR_INVALID_PREFIX) || !code.starts_with("https://qr.vipps.no/") {
        return bad("Incomplete or invalid QR data.");
    }
    let msisdn = if code.starts_with(TEST_QR_NOT_FOUND_PREFIX) {
        TEST_PHONE_NOT_FOUND.to_string()
    } else {
        format!("47{:08}", fxhash(code) % 100_000_000)
    };
    // Tokenized codes (`/p/`) are version 2.0 and carry when they were made.
    let v2 = code.starts_with("https://qr.vipps.no/p/");
    let mut answer = json!({ "msisdn": msisdn, "version": if v2 { "2.0" } else { "1.0" } });
    if v2 {
        answer["timestamp"] = json!(now_epoch);
    }
    Reply {
        status: 200,
        body: answer,
    }
}

fn check_customer(c: &Customer) -> Option<Reply> {
    if let Some(qr) = &c.personal_qr {
        if !(5..=255).contains(&qr.len()) {
            return Some(problem(
                400,
                Some(4060),
                "Bad Request",
                "invalid personalQr",
            ));
        }
        if qr.starts_with(TEST_QR_NOT_FOUND_PREFIX) {
            return Some(problem(
                400,
                Some(7010),
                "Bad Request",
                "customer not found",
            ));
        }
        if qr.starts_with(TEST_QR_INVALID_PREFIX) || !qr.starts_with("https://qr.vipps.no/") {
            return Some(problem(
                400,
                Some(4060),
                "Bad Request",
                "invalid personalQr",
            ));
        }
    }
    if c.phone_number.as_deref() == Some(TEST_PHONE_NOT_FOUND) {
        return Some(problem(
            400,
            Some(7010),
            "Bad Request",
            "customer not found",
        ));
    }
    if let Some(phone) = &c.phone_number
        && !((9..=15).contains(&phone.len()) && phone.chars().all(|c| c.is_ascii_digit()))
    {
        return Some(problem(
            400,
            Some(4070),
            "Bad Request",
            "invalid phone number",
        ));
    }
    None
}

fn check_receipt(r: &Receipt, currency: Currency) -> Result<(), String> {
    if r.order_lines.is_empty() {
        return Err("receipt.orderLines must have at least one line".into());
    }
    if r.bottom_line.currency != currency {
        return Err("receipt.bottomLine.currency differs from amount.currency".into());
    }
    for (i, l) in r.order_lines.iter().enumerate() {
        if l.tax_rate.is_some_and(|t| t > 10_000) {
            return Err(format!("receipt.orderLines[{i}].taxRate must be 0-10000"));
        }
        if let Some(u) = &l.unit_info {
            let q = &u.quantity;
            let ok = q.len() <= 10
                && q.split_once('.').map_or(
                    !q.is_empty() && q.chars().all(|c| c.is_ascii_digit()),
                    |(a, b)| {
                        !a.is_empty()
                            && a.chars().all(|c| c.is_ascii_digit())
                            && (1..=8).contains(&b.len())
                            && b.chars().all(|c| c.is_ascii_digit())
                    },
                );
            if !ok {
                return Err(format!(
                    "receipt.orderLines[{i}].unitInfo.quantity is not a decimal number"
                ));
            }
        }
    }
    Ok(())
}

/// The control API's view of a payment.
pub fn control_view(p: &SimPayment) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("events".into(), json!(p.events));
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn create_body(reference: &str, flow: &str) -> Value {
        let mut v = json!({
            "amount": {"currency": "NOK", "value": 49800},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": flow,
            "customerInteraction": "CUSTOMER_PRESENT",
        });
        if flow == "PUSH_MESSAGE" {
            v["customer"] = json!({"personalQr": "https://qr.vipps.no/p/AbC-123_xyz?v=2"});
        } else {
            v["qrFormat"] = json!({"format": "TEXT/TARGETURL"});
        }
        v
    }

    fn code(r: &Reply) -> Option<u64> {
        r.body["extraDetails"][0]["reason"]
            .as_str()
            .and_then(|s| s.parse().ok())
    }

    #[test]
    fn qr_payment_returns_target_url_and_expires_after_ten_minutes() {
        let mut b = Backend::new("http://sim");
        let r = b.create("k1", create_body("order-0001-1", "QR"), 0.0);
        assert_eq!(r.status, 201);
        let url = r.body["redirectUrl"]
            .as_str()
            .unwrap_or_default()
            .to_string();
        assert!(url.starts_with("http://sim/_sim/qr/"), "{url}");
        assert_eq!(
            b.payment("order-0001-1")
                .and_then(|p| p.qr_target_url.clone()),
            Some(url)
        );
        b.advance(599.0);
        assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
        b.advance(600.0);
        assert_eq!(b.get("order-0001-1").body["state"], "EXPIRED");
    }

    #[test]
    fn push_payment_expires_after_five_minutes() {
        let mut b = Backend::new("http://sim");
        assert_eq!(
            b.create("k1", create_body("order-0001-1", "PUSH_MESSAGE"), 10.0)
                .status,
            201
        );
        b.advance(309.0);
        assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
        b.advance(310.0);
        assert_eq!(b.get("order-0001-1").body["state"], "EXPIRED");
    }

    #[test]
    fn idempotency_replays_same_body_and_refuses_another() {
        let mut b = Backend::new("http://sim");
        let first = b.create("k1", create_body("order-0001-1", "QR"), 0.0);
        let again = b.create("k1", create_body("order-0001-1", "QR"), 1.0);
        assert_eq!(first, again);
        assert_eq!(b.list().len(), 1);
        let mut other = create_body("order-0001-1", "QR");
        other["amount"]["value"] = json!(100);
        let conflict = b.create("k1", other, 2.0);
        assert_eq!(conflict.status, 409);
        let dup = b.create("k2", create_body("order-0001-1", "QR"), 3.0);
        assert_eq!((dup.status, code(&dup)), (409, Some(4150)));
    }

    #[test]
    fn validation_answers_with_codes() {
        let mut b = Backend::new("http://sim");
        b.currency = Some(Currency::Nok);
        assert_eq!(b.create("a", create_body("short", "QR"), 0.0).status, 400);
        let mut small = create_body("order-0001-1", "QR");
        small["amount"]["value"] = json!(99);
        assert_eq!(code(&b.create("b", small, 0.0)), Some(6010));
        let mut dkk = create_body("order-0001-2", "QR");
        dkk["amount"]["currency"] = json!("DKK");
        assert_eq!(code(&b.create("c", dkk, 0.0)), Some(5040));
        let mut bad_qr = create_body("order-0001-3", "PUSH_MESSAGE");
        bad_qr["customer"] = json!({"personalQr": "https://example.com/not-vipps"});
        assert_eq!(code(&b.create("d", bad_qr, 0.0)), Some(4060));
        let mut unknown = create_body("order-0001-4", "PUSH_MESSAGE");
        unknown["customer"] = json!({"personalQr": format!("{TEST_QR_NOT_FOUND_PREFIX}-1")});
        assert_eq!(code(&b.create("e", unknown, 0.0)), Some(7010));
        let mut no_customer = create_body("order-0001-5", "PUSH_MESSAGE");
        no_customer.as_object_mut().map(|o| o.remove("customer"));
        assert_eq!(b.create("f", no_customer, 0.0).status, 400);
        assert!(b.list().is_empty(), "nothing invalid was created");
    }

    #[test]
    fn cancel_transaction_only_refuses_an_authorized_payment() {
        let mut b = Backend::new("http://sim");
        b.create("k", create_body("order-0001-1", "QR"), 0.0);
        assert_eq!(b.phone("order-0001-1", PhoneAction::Approve).status, 200);
        let r = b.cancel(
            "order-0001-1",
            Some("c1"),
            json!({"cancelTransactionOnly": true}),
        );
        assert_eq!((r.status, code(&r)), (400, Some(6060)));
        assert_eq!(
            b.get("order-0001-1").body["aggregate"]["cancelledAmount"]["value"],
            0
        );
        let full = b.cancel("order-0001-1", Some("c2"), json!({}));
        assert_eq!(full.status, 200);
        assert_eq!(full.body["state"], "AUTHORIZED");
        assert_eq!(full.body["aggregate"]["cancelledAmount"]["value"], 49800);
    }

    #[test]
    fn cancel_before_approval_terminates_and_phone_cannot_approve_after() {
        let mut b = Backend::new("http://sim");
        b.create("k", create_body("order-0001-1", "QR"), 0.0);
        let r = b.cancel(
            "order-0001-1",
            Some("c1"),
            json!({"cancelTransactionOnly": true}),
        );
        assert_eq!(r.body["state"], "TERMINATED");
        assert_eq!(b.phone("order-0001-1", PhoneAction::Approve).status, 409);
    }

    #[test]
    fn capture_rules_and_replay() {
        let mut b = Backend::new("http://sim");
        b.create("k", create_body("order-0001-1", "QR"), 0.0);
        let body = json!({"modificationAmount": {"currency": "NOK", "value": 49800}});
        let early = b.capture("order-0001-1", "cap-1", body.clone());
        assert_eq!(code(&early), Some(6080));
        b.phone("order-0001-1", PhoneAction::Approve);
        // The early refusal is remembered for that key: a corrected request needs a new key.
        assert_eq!(
            code(&b.capture("order-0001-1", "cap-1", body.clone())),
            Some(6080)
        );
        let ok = b.capture("order-0001-1", "cap-2", body.clone());
        assert_eq!(ok.status, 200);
        assert_eq!(ok.body["aggregate"]["capturedAmount"]["value"], 49800);
        let replay = b.capture("order-0001-1", "cap-2", body.clone());
        assert_eq!(
            replay, ok,
            "same key, same body: same answer, no second capture"
        );
        let again = b.capture("order-0001-1", "cap-3", body);
        assert_eq!(
            code(&again),
            Some(6090),
            "cannot capture more than authorized"
        );
        let captured: Vec<_> = b
            .payment("order-0001-1")
            .map(|p| {
                p.events
                    .iter()
                    .filter(|e| e.name == PaymentEventName::Captured)
                    .count()
            })
            .into_iter()
            .collect();
        assert_eq!(captured, vec![1]);
    }

    #[test]
    fn auto_approve_after_delay() {
        let mut b = Backend::new("http://sim");
        b.auto_approve_after_s = Some(3.0);
        b.create("k", create_body("order-0001-1", "QR"), 0.0);
        b.advance(2.9);
        assert_eq!(b.get("order-0001-1").body["state"], "CREATED");
        b.advance(3.0);
        assert_eq!(b.get("order-0001-1").body["state"], "AUTHORIZED");
    }
}

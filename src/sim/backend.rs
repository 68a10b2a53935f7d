//! The simulated Vipps backend: payments, their states and money, idempotency and expiry. Pure
//! data and rules; the HTTP layer (a file per API family in `sim/`) maps requests onto it. Time is
//! the simulator's own clock in seconds (real time multiplied by the time scale), passed in.
//!
//! Here: the payment, the backend's state, the phone and time acting on payments, and
//! idempotency. By family: `epayment` (create, get, events; its checks in `checks`), `modify`
//! (capture, cancel, refund), `ecom` (eCom v2) and `qr` (the QR API).

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

mod approve;
mod checks;
pub mod customers;
pub mod ecom;
mod epayment;
pub mod links;
mod modify;
mod qr;
#[cfg(test)]
mod tests;

pub use qr::{TEST_PHONE_NOT_FOUND, TEST_QR_INVALID_PREFIX, TEST_QR_NOT_FOUND_PREFIX, exchange};

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
    /// The age the customer must have reached (`minimumUserAge`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub minimum_user_age: Option<u16>,
    pub psp_reference: String,
    /// The payment's own code: the last part of its QR target URL, carried by its image and
    /// landing-page links, and what the control API opens it by.
    pub code: String,
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
    /// Public base URL of this simulator, for the links it serves itself.
    pub base_url: String,
    /// Where the links handed out point: Vipps' hosts, or this simulator.
    pub links: links::Links,
    /// The day the simulator takes as today (the landing domains depend on it); the real date
    /// when None.
    pub today: Option<time::Date>,
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
}

impl Backend {
    pub fn new(base_url: impl Into<String>) -> Self {
        Backend {
            base_url: base_url.into(),
            ..Backend::default()
        }
    }

    /// The day it is for the simulator.
    pub fn today(&self) -> time::Date {
        self.today
            .unwrap_or_else(|| time::OffsetDateTime::now_utc().date())
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
}

/// The control API's view of a payment.
pub fn control_view(p: &SimPayment) -> Value {
    let mut v = serde_json::to_value(p).unwrap_or(Value::Null);
    if let Some(o) = v.as_object_mut() {
        o.insert("events".into(), json!(p.events));
    }
    v
}

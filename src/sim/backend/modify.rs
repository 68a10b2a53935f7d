//! ePayment's modifications of a payment: capture, refund and cancel, each idempotent by its
//! key (a capture or refund always has one; a cancel may). eCom's capture, refund and cancel
//! are these underneath.

use super::{Backend, Op, Reply, SimPayment, problem};
use crate::vipps::model::{
    Amount, CancelModificationRequest, ModificationRequest, ModificationResponse, PaymentEventName,
    PaymentState,
};
use serde_json::Value;

impl Backend {
    pub(super) fn modification(&self, reference: &str) -> Reply {
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
}

//! The test environment's force approve (`POST /epayment/v1/test/payments/{reference}/approve`,
//! ePayment spec `forceApprove`): approves a CREATED payment as the customer would in the app.
//! The body is `{}`, or names the customer (`customer`, one way only, checked as a create's)
//! or the payment's landing-page `token`; a payment that names its customer is approved only
//! by that customer. Refusals are problem+json, as the spec's other errors.

use super::{
    Backend, PhoneAction, Reply,
    checks::{check_customer, ways_named},
    customers,
    links::code_of_token,
    problem,
};
use crate::vipps::model::{Customer, PaymentState};
use serde::Deserialize;
use serde_json::Value;

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
struct ForceApprove {
    customer: Option<Customer>,
    token: Option<String>,
}

impl Backend {
    pub fn force_approve(&mut self, reference: &str, body: &Value) -> Reply {
        match self.check_force_approve(reference, body) {
            Ok(Some(minimum)) => {
                // The app tells the customer they are too young and the payment ends; the
                // merchant sees it end, never why.
                let _ = self.phone(reference, PhoneAction::Reject);
                problem(
                    400,
                    None,
                    "Bad Request",
                    &format!("the customer does not meet the payment's minimumUserAge ({minimum})"),
                )
            }
            Ok(None) => {
                let approved = self.phone(reference, PhoneAction::Approve);
                if approved.is_success() {
                    Reply {
                        status: 200,
                        body: Value::Null,
                    }
                } else {
                    approved
                }
            }
            Err(refusal) => refusal,
        }
    }

    /// `Ok(Some(age))`: the approving customer is younger than the payment's `minimumUserAge`.
    fn check_force_approve(&self, reference: &str, body: &Value) -> Result<Option<u16>, Reply> {
        let req: ForceApprove = if body.is_null() {
            ForceApprove::default()
        } else {
            serde_json::from_value(body.clone()).map_err(|e| {
                problem(
                    400,
                    Some(4140),
                    "Bad Request",
                    &format!("invalid request body: {e}"),
                )
            })?
        };
        let p = self.payments.get(reference).ok_or_else(|| {
            problem(
                404,
                Some(5090),
                "Not Found",
                "no payment with that reference",
            )
        })?;
        if p.state != PaymentState::Created {
            return Err(problem(
                400,
                None,
                "Bad Request",
                &format!(
                    "only a CREATED payment can be approved; this one is {:?}",
                    p.state
                ),
            ));
        }
        if let Some(c) = &req.customer {
            if ways_named(c)? == 0 {
                return Err(problem(
                    400,
                    None,
                    "Bad Request",
                    "customer: set one of phoneNumber, personalQr, customerToken",
                ));
            }
            if let Some(refusal) = check_customer(c) {
                return Err(refusal);
            }
            if p.customer.as_ref().is_some_and(|named| named != c) {
                return Err(problem(
                    400,
                    None,
                    "Bad Request",
                    "the customer is not the one the payment was sent to",
                ));
            }
        }
        if let Some(token) = &req.token
            && code_of_token(token).as_deref() != Some(p.code.as_str())
        {
            return Err(problem(
                400,
                None,
                "Bad Request",
                "token is not the one in this payment's redirectUrl",
            ));
        }
        let customer = req.customer.as_ref().or(p.customer.as_ref());
        Ok(p.minimum_user_age
            .filter(|_| customer.is_some_and(|c| customers::under_age(c, p.minimum_user_age))))
    }
}

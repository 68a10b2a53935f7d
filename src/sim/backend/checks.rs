//! The checks a create request passes before a payment exists, in the order Vipps makes
//! them: the body, the reference, the amount, the description, the receipt, and the customer
//! a push payment goes to. Each refusal carries Vipps' error code where it has one.

use super::{
    Backend, PUSH_EXPIRY_S, QR_EXPIRY_S, Reply, TEST_PHONE_NOT_FOUND, TEST_QR_INVALID_PREFIX,
    TEST_QR_NOT_FOUND_PREFIX, customers, problem,
};
use crate::vipps::model::{Amount, CreatePaymentRequest, Currency, Customer, Receipt, UserFlow};
use serde_json::Value;

/// The create request's body, or 400 (4140) when it is not one.
pub(super) fn parse_create(request: &Value) -> Result<CreatePaymentRequest, Reply> {
    serde_json::from_value(request.clone()).map_err(|e| {
        problem(
            400,
            Some(4140),
            "Bad Request",
            &format!("invalid request body: {e}"),
        )
    })
}

impl Backend {
    /// Checks a parsed create request; its window in simulator seconds (QR or push) when it
    /// passes.
    pub(super) fn check_create(&self, req: &CreatePaymentRequest) -> Result<f64, Reply> {
        self.check_reference(&req.reference)?;
        self.check_amount(req.amount)?;
        if let Some(d) = &req.payment_description
            && !(3..=100).contains(&d.chars().count())
        {
            return Err(problem(
                400,
                None,
                "Bad Request",
                "paymentDescription must be 3-100 characters",
            ));
        }
        if let Some(r) = &req.receipt
            && let Err(reason) = check_receipt(r, req.amount.currency)
        {
            return Err(problem(400, None, "Bad Request", &reason));
        }
        if req.minimum_user_age.is_some_and(|a| a > 100) {
            return Err(problem(
                400,
                None,
                "Bad Request",
                "minimumUserAge must be 0-100",
            ));
        }
        let expiry = expiry_of(req)?;
        // A push to a customer under the age limit is not sent, and Vipps answers as for a
        // customer it does not know (7010), so the merchant learns nothing of their age.
        if req.user_flow == UserFlow::PushMessage
            && let Some(c) = &req.customer
            && customers::under_age(c, req.minimum_user_age)
        {
            return Err(problem(
                400,
                Some(7010),
                "Bad Request",
                "customer not found",
            ));
        }
        Ok(expiry)
    }

    /// The reference is well formed and not taken.
    fn check_reference(&self, reference: &str) -> Result<(), Reply> {
        if !valid_reference(reference) {
            return Err(problem(
                400,
                None,
                "Bad Request",
                "reference must match ^[a-zA-Z0-9-]{8,64}$",
            ));
        }
        if self.payments.contains_key(reference) {
            return Err(problem(
                409,
                Some(4150),
                "Conflict",
                "a payment with this reference already exists",
            ));
        }
        Ok(())
    }

    /// The sales unit's currency, and an amount within Vipps' bounds.
    fn check_amount(&self, amount: Amount) -> Result<(), Reply> {
        if let Some(c) = self.currency
            && amount.currency != c
        {
            return Err(problem(
                400,
                Some(5040),
                "Bad Request",
                &format!(
                    "currency {} is not allowed for this sales unit",
                    amount.currency
                ),
            ));
        }
        if amount.value < amount.currency.minimum_amount() {
            return Err(problem(
                400,
                Some(6010),
                "Bad Request",
                "amount is too small",
            ));
        }
        if amount.value > 65_000_000 {
            return Err(problem(
                400,
                Some(4040),
                "Bad Request",
                "amount is too large",
            ));
        }
        Ok(())
    }
}

/// At most one way to name the customer, and a valid one for a push payment; the window the
/// payment's flow gives.
fn expiry_of(req: &CreatePaymentRequest) -> Result<f64, Reply> {
    let given = req.customer.as_ref().map_or(Ok(0), ways_named)?;
    match req.user_flow {
        UserFlow::PushMessage => {
            let Some(customer) = req.customer.as_ref().filter(|_| given == 1) else {
                return Err(problem(
                    400,
                    Some(4140),
                    "Bad Request",
                    "PUSH_MESSAGE requires customer",
                ));
            };
            if let Some(reply) = check_customer(customer) {
                return Err(reply);
            }
            Ok(PUSH_EXPIRY_S)
        }
        _ => Ok(QR_EXPIRY_S),
    }
}

/// How many ways `c` names the customer; more than one is refused.
pub(super) fn ways_named(c: &Customer) -> Result<usize, Reply> {
    let given = usize::from(c.phone_number.is_some())
        + usize::from(c.personal_qr.is_some())
        + usize::from(c.customer_token.is_some());
    if given > 1 {
        return Err(problem(
            400,
            None,
            "Bad Request",
            "customer: set exactly one of phoneNumber, personalQr, customerToken",
        ));
    }
    Ok(given)
}

fn valid_reference(r: &str) -> bool {
    (8..=64).contains(&r.len()) && r.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
}

pub(super) fn check_customer(c: &Customer) -> Option<Reply> {
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
        // The spec's minimums; an unknown quantityUnit does not parse at all (4140).
        if l.discount.is_some_and(|d| d < 0) {
            return Err(format!(
                "receipt.orderLines[{i}].discount must be at least 0"
            ));
        }
        if let Some(u) = &l.unit_info {
            if u.unit_price < 0 {
                return Err(format!(
                    "receipt.orderLines[{i}].unitInfo.unitPrice must be at least 0"
                ));
            }
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

//! The test customers the simulator knows by age, as Vipps knows its users' ages: a payment
//! with `minimumUserAge` is refused to a younger customer without the merchant being told why.
//! Everyone else (any other number or personal QR) is an adult.
//!
//! What the merchant sees follows Vipps: a push (`PUSH_MESSAGE`) to a customer under the limit
//! is refused at creation with 7010 "customer not found", the same answer as for an unknown
//! customer (Vipps' error list: 7010 is also returned when `minimumUserAge` blocks); a customer
//! under the limit who opens the payment in the app is told there why they cannot pay, and the
//! payment ends (`ABORTED`) without a reason the merchant can read.

use crate::vipps::model::Customer;

/// A test customer: their phone number, the start of their personal QR, and their age.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TestCustomer {
    pub phone: &'static str,
    pub personal_qr: &'static str,
    pub age: u16,
}

/// The test customers with an age of their own (Norwegian mobile numbers no one has).
pub const TEST_CUSTOMERS: [TestCustomer; 2] = [
    TestCustomer {
        phone: "4791000016",
        personal_qr: "https://qr.vipps.no/p/age16-",
        age: 16,
    },
    TestCustomer {
        phone: "4791000019",
        personal_qr: "https://qr.vipps.no/p/age19-",
        age: 19,
    },
];

/// The age of every customer not in the list.
pub const ADULT_AGE: u16 = 35;

/// The test customer behind a personal QR, if it is one of theirs.
pub fn by_personal_qr(code: &str) -> Option<&'static TestCustomer> {
    TEST_CUSTOMERS
        .iter()
        .find(|t| code.starts_with(t.personal_qr))
}

/// How old `customer` is.
pub fn age_of(customer: &Customer) -> u16 {
    let known = TEST_CUSTOMERS.iter().find(|t| {
        customer.phone_number.as_deref() == Some(t.phone)
            || customer
                .personal_qr
                .as_deref()
                .is_some_and(|q| q.starts_with(t.personal_qr))
    });
    known.map_or(ADULT_AGE, |t| t.age)
}

/// Whether `customer` is too young for a payment that asks for `minimum` years.
pub fn under_age(customer: &Customer, minimum: Option<u16>) -> bool {
    minimum.is_some_and(|m| age_of(customer) < m)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn test_customers_have_their_ages_and_everyone_else_is_an_adult() {
        let phone = |p: &str| Customer {
            phone_number: Some(p.into()),
            ..Customer::default()
        };
        let qr = |q: &str| Customer {
            personal_qr: Some(q.into()),
            ..Customer::default()
        };
        assert_eq!(age_of(&phone("4791000016")), 16);
        assert_eq!(age_of(&qr("https://qr.vipps.no/p/age19-x1")), 19);
        assert_eq!(age_of(&phone("4741234567")), ADULT_AGE);
        assert!(under_age(&phone("4791000016"), Some(18)));
        assert!(!under_age(&phone("4791000019"), Some(18)));
        assert!(under_age(&phone("4791000019"), Some(20)));
        assert!(!under_age(&phone("4791000016"), None));
        assert_eq!(
            by_personal_qr("https://qr.vipps.no/p/age16-demo").map(|t| t.phone),
            Some("4791000016")
        );
    }
}

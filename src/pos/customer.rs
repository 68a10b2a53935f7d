//! The customer a cashier hands over (cashier-assisted lanes): `{"personalQr": "…"}` or
//! `{"phoneNumber": "4712345678"}`, exactly one, checked as the kiosk checks a scan or a typed
//! number. Never printed in clear: `PushTo`'s Debug shows a fingerprint.

use crate::{payment::PushTo, phone::PhoneNumber};
use serde::Deserialize;

/// The body as the POS sends it (its Debug shows fingerprints only).
#[derive(Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct CustomerBody {
    #[serde(default)]
    personal_qr: Option<String>,
    #[serde(default)]
    phone_number: Option<String>,
}

impl std::fmt::Debug for CustomerBody {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let print = |v: &Option<String>| v.as_deref().map(crate::redact::fingerprint);
        f.debug_struct("CustomerBody")
            .field("personal_qr", &print(&self.personal_qr))
            .field("phone_number", &print(&self.phone_number))
            .finish()
    }
}

/// Why a handed-over customer was refused: the field (under `prefix`) and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadCustomer {
    pub field: String,
    pub reason: String,
}

impl CustomerBody {
    /// Whom to push to; `prefix` names the object in the request (`"customer."` in an order,
    /// `""` when the body is the customer).
    pub fn push_to(self, prefix: &str) -> Result<PushTo, BadCustomer> {
        let bad = |field: &str, reason: String| BadCustomer {
            field: format!("{prefix}{field}"),
            reason,
        };
        match (self.personal_qr, self.phone_number) {
            (Some(qr), None) => crate::scan::personal_qr(&qr)
                .map(PushTo::PersonalQr)
                .ok_or_else(|| {
                    bad(
                        "personalQr",
                        "not a Vipps MobilePay personal QR (send the scanned text whole)".into(),
                    )
                }),
            (None, Some(number)) => PhoneNumber::from_msisdn(&number)
                .map(PushTo::Phone)
                .map_err(|e| {
                    bad(
                        "phoneNumber",
                        format!(
                            "{e}: country code and mobile number, digits only (e.g. 4712345678)"
                        ),
                    )
                }),
            _ => Err(BadCustomer {
                field: match prefix.strip_suffix('.') {
                    Some(object) => object.to_string(),
                    None => "(body)".to_string(),
                },
                reason: "exactly one of personalQr and phoneNumber".into(),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(json: serde_json::Value) -> CustomerBody {
        serde_json::from_value(json).expect("parses")
    }

    #[test]
    fn the_body_never_prints_the_number_or_the_code() {
        let b = body(serde_json::json!({"phoneNumber": "4741234567"}));
        assert!(!format!("{b:?}").contains("41234567"), "{b:?}");
        let b = body(serde_json::json!({"personalQr": "https://qr.vipps.no/AbCdEf123456"}));
        assert!(!format!("{b:?}").contains("AbCdEf123456"), "{b:?}");
    }

    #[test]
    fn one_valid_way_to_name_the_customer_and_the_field_when_not() {
        let to = body(serde_json::json!({"phoneNumber": "4741234567"})).push_to("customer.");
        assert!(matches!(to, Ok(PushTo::Phone(n)) if n.msisdn() == "4741234567"));
        let to = body(serde_json::json!({"personalQr": "https://qr.mobilepay.dk/AbCdEf123456"}))
            .push_to("");
        assert!(matches!(to, Ok(PushTo::PersonalQr(_))));
        let field = |json, prefix| body(json).push_to(prefix).map(|_| ()).map_err(|e| e.field);
        assert_eq!(
            field(
                serde_json::json!({"phoneNumber": "4721234567"}),
                "customer."
            ),
            Err("customer.phoneNumber".into()),
            "not a mobile number"
        );
        assert_eq!(
            field(serde_json::json!({"personalQr": "7038010055680"}), ""),
            Err("personalQr".into()),
            "a product barcode"
        );
        assert_eq!(
            field(
                serde_json::json!({"personalQr": "https://qr.vipps.no/p/x1", "phoneNumber": "4741234567"}),
                "customer."
            ),
            Err("customer".into())
        );
        assert_eq!(field(serde_json::json!({}), ""), Err("(body)".into()));
        assert!(serde_json::from_value::<CustomerBody>(serde_json::json!({"email": "x"})).is_err());
    }
}

//! Request and response bodies of the Vipps MobilePay APIs the kiosk uses, field for field as in
//! the official OpenAPI specs (ePayment 1.8.1, Access token 2.0). Shared by the client and the
//! simulator; the tests below parse the specs' own examples so that a shared mistake shows.

use serde::{Deserialize, Serialize};
use std::fmt;

/// ISO 4217 currencies Vipps MobilePay accepts. Each market has exactly one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub enum Currency {
    #[serde(rename = "NOK")]
    Nok,
    #[serde(rename = "DKK")]
    Dkk,
    #[serde(rename = "EUR")]
    Eur,
}

impl Currency {
    pub fn code(self) -> &'static str {
        match self {
            Currency::Nok => "NOK",
            Currency::Dkk => "DKK",
            Currency::Eur => "EUR",
        }
    }

    /// The smallest amount Vipps accepts (error 6010 below it), in minor units.
    pub fn minimum_amount(self) -> i64 {
        match self {
            Currency::Nok => 100,
            Currency::Dkk | Currency::Eur => 1,
        }
    }
}

impl fmt::Display for Currency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// An amount of money in minor units (øre, cent). Never a float.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct Amount {
    pub currency: Currency,
    pub value: i64,
}

impl Amount {
    pub fn new(currency: Currency, value: i64) -> Self {
        Amount { currency, value }
    }
    pub fn zero(currency: Currency) -> Self {
        Amount { currency, value: 0 }
    }
}

/// Payment state as the ePayment API reports it. `Unknown` keeps a value a newer API might add
/// from breaking the parse: the kiosk then keeps polling.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentState {
    Created,
    Aborted,
    Expired,
    Authorized,
    Terminated,
    #[serde(other)]
    Unknown,
}

impl PaymentState {
    /// A final state never changes again (money may still move on an AUTHORIZED payment).
    pub fn is_final(self) -> bool {
        !matches!(self, PaymentState::Created | PaymentState::Unknown)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UserFlow {
    PushMessage,
    NativeRedirect,
    WebRedirect,
    Qr,
}

/// How the customer paid (`paymentMethod.type` in a GET). `Unknown` keeps a method Vipps adds
/// later from breaking every read of a payment; the kiosk only ever sends `Wallet`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentMethodType {
    Wallet,
    Card,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PaymentMethod {
    #[serde(rename = "type")]
    pub kind: PaymentMethodType,
}

/// `customer` is a oneOf in the spec: exactly one of these is set.
#[derive(Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Customer {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub phone_number: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub personal_qr: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_token: Option<String>,
}

impl fmt::Debug for Customer {
    /// Phone numbers and scanned personal QR codes identify a person: never printed in clear.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mask = |v: &Option<String>| v.as_ref().map(|s| crate::redact::fingerprint(s));
        f.debug_struct("Customer")
            .field("phone_number", &mask(&self.phone_number))
            .field("personal_qr", &mask(&self.personal_qr))
            .field("customer_token", &mask(&self.customer_token))
            .finish()
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum QrFormatKind {
    #[serde(rename = "TEXT/TARGETURL")]
    TextTargetUrl,
    #[serde(rename = "IMAGE/SVG+XML")]
    ImageSvg,
    #[serde(rename = "IMAGE/PNG")]
    ImagePng,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct QrFormat {
    pub format: QrFormatKind,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u32>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CustomerInteraction {
    CustomerPresent,
    CustomerNotPresent,
}

/// The receipt's units (`QuantityUnitEnum`); Vipps shows PCS when none is given.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum QuantityUnit {
    Pcs,
    Kg,
    Km,
    Minute,
    Litre,
    Kwh,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct UnitInfo {
    /// Per unit, tax included and discount not taken off.
    pub unit_price: i64,
    /// A decimal string in the spec (`^\d+(\.\d{1,8})?$`).
    pub quantity: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub quantity_unit: Option<QuantityUnit>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OrderLine {
    pub name: String,
    pub id: String,
    pub total_amount: i64,
    pub total_amount_excluding_tax: i64,
    pub total_tax_amount: i64,
    /// Hundredths of a percent: 2500 = 25 %.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tax_rate: Option<u32>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub unit_info: Option<UnitInfo>,
    /// The line's whole discount in minor units, already taken off `total_amount`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub discount: Option<i64>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct BottomLine {
    pub currency: Currency,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pos_id: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt_number: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Receipt {
    pub order_lines: Vec<OrderLine>,
    pub bottom_line: BottomLine,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentRequest {
    pub amount: Amount,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer: Option<Customer>,
    /// The age in whole years (0-100) the customer must have reached (ePayment's
    /// `minimumUserAge`): Vipps refuses a younger customer without telling the merchant why.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub minimum_user_age: Option<u16>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub customer_interaction: Option<CustomerInteraction>,
    pub payment_method: PaymentMethod,
    pub reference: String,
    pub user_flow: UserFlow,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub return_url: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payment_description: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub qr_format: Option<QrFormat>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub receipt: Option<Receipt>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CreatePaymentResponse {
    pub reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Aggregate {
    pub authorized_amount: Amount,
    pub cancelled_amount: Amount,
    pub captured_amount: Amount,
    pub refunded_amount: Amount,
}

impl Aggregate {
    pub fn zero(currency: Currency) -> Self {
        let z = Amount::zero(currency);
        Aggregate {
            authorized_amount: z,
            cancelled_amount: z,
            captured_amount: z,
            refunded_amount: z,
        }
    }
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProfileResponse {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GetPaymentResponse {
    pub aggregate: Aggregate,
    pub amount: Amount,
    pub state: PaymentState,
    pub payment_method: PaymentMethod,
    pub profile: ProfileResponse,
    pub psp_reference: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub redirect_url: Option<String>,
    pub reference: String,
}

/// An event in a payment's log or a webhook. `Unknown`: an event Vipps adds later, which
/// the kiosk ignores (a webhook of it triggers no read; the log is only searched for
/// `Captured`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum PaymentEventName {
    Created,
    Aborted,
    Expired,
    Cancelled,
    Captured,
    Refunded,
    Authorized,
    Terminated,
    #[serde(other)]
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PaymentEvent {
    pub reference: String,
    pub psp_reference: String,
    pub name: PaymentEventName,
    pub amount: Amount,
    pub timestamp: String,
    #[serde(default)]
    pub idempotency_key: Option<String>,
    pub success: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationRequest {
    pub modification_amount: Amount,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct CancelModificationRequest {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel_transaction_only: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ModificationResponse {
    pub amount: Amount,
    pub state: PaymentState,
    pub aggregate: Aggregate,
    pub psp_reference: String,
    pub reference: String,
}

/// Access token response: every field is a string, numbers included.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessTokenResponse {
    pub token_type: String,
    pub expires_in: String,
    pub ext_expires_in: String,
    pub expires_on: String,
    pub not_before: String,
    pub resource: String,
    pub access_token: String,
}

impl fmt::Debug for AccessTokenResponse {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AccessTokenResponse")
            .field("token_type", &self.token_type)
            .field("expires_in", &self.expires_in)
            .field("access_token", &"<redacted>")
            .finish()
    }
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExtraDetail {
    pub name: String,
    pub reason: String,
}

/// RFC 7807 problem body (`application/problem+json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Problem {
    #[serde(rename = "type")]
    pub kind: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub detail: Option<String>,
    pub status: u16,
    #[serde(default)]
    pub trace_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub instance: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub extra_details: Option<Vec<ExtraDetail>>,
}

impl Problem {
    /// The numeric error code (`extraDetails: [{name: "ErrorCode", reason: "6060"}]`).
    pub fn code(&self) -> Option<u32> {
        self.extra_details
            .iter()
            .flatten()
            .find(|d| d.name == "ErrorCode")
            .and_then(|d| d.reason.trim().parse().ok())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn create_request_serializes_with_spec_field_names() {
        let req = CreatePaymentRequest {
            amount: Amount::new(Currency::Nok, 1234),
            customer: Some(Customer {
                personal_qr: Some("https://qr.vipps.no/p/4796844569".into()),
                ..Customer::default()
            }),
            minimum_user_age: Some(18),
            customer_interaction: Some(CustomerInteraction::CustomerPresent),
            payment_method: PaymentMethod {
                kind: PaymentMethodType::Wallet,
            },
            reference: "acme-shop-123-order123abc".into(),
            user_flow: UserFlow::PushMessage,
            return_url: None,
            payment_description: Some("Purchase of socks".into()),
            qr_format: None,
            receipt: None,
        };
        let v = serde_json::to_value(&req).unwrap_or_default();
        assert_eq!(v["amount"]["currency"], "NOK");
        assert_eq!(v["amount"]["value"], 1234);
        assert_eq!(
            v["customer"]["personalQr"],
            "https://qr.vipps.no/p/4796844569"
        );
        assert!(
            v["customer"].get("phoneNumber").is_none(),
            "oneOf: only one customer field"
        );
        assert_eq!(v["minimumUserAge"], 18);
        assert_eq!(v["customerInteraction"], "CUSTOMER_PRESENT");
        assert_eq!(v["paymentMethod"]["type"], "WALLET");
        assert_eq!(v["userFlow"], "PUSH_MESSAGE");
        assert_eq!(v["paymentDescription"], "Purchase of socks");
        assert!(v.get("qrFormat").is_none());
    }

    #[test]
    fn qr_format_uses_spec_spelling() {
        let f = QrFormat {
            format: QrFormatKind::TextTargetUrl,
            size: None,
        };
        assert_eq!(
            serde_json::to_string(&f).unwrap_or_default(),
            r#"{"format":"TEXT/TARGETURL"}"#
        );
    }

    #[test]
    fn parses_spec_get_payment_example_and_unknown_state() {
        let body = r#"{
          "aggregate": {
            "authorizedAmount": {"currency": "NOK", "value": 1000},
            "cancelledAmount": {"currency": "NOK", "value": 0},
            "capturedAmount": {"currency": "NOK", "value": 0},
            "refundedAmount": {"currency": "NOK", "value": 0}
          },
          "amount": {"currency": "NOK", "value": 1000},
          "state": "AUTHORIZED",
          "paymentMethod": {"type": "WALLET"},
          "profile": {},
          "pspReference": "8839fa12-b7b5-4dd7-b79d-e3e8f5c6a5b3",
          "reference": "acme-shop-123-order123abc"
        }"#;
        let p: GetPaymentResponse = serde_json::from_str(body).expect("spec example parses");
        assert_eq!(p.state, PaymentState::Authorized);
        assert_eq!(p.aggregate.authorized_amount.value, 1000);
        let newer = body.replace("AUTHORIZED", "SOMETHING_NEW");
        let p: GetPaymentResponse = serde_json::from_str(&newer).expect("unknown state parses");
        assert_eq!(p.state, PaymentState::Unknown);
        assert!(!p.state.is_final());
    }

    /// Every enum the kiosk reads from Vipps takes a value it does not know yet, and the
    /// answer around it still parses.
    #[test]
    fn a_new_payment_method_or_event_name_does_not_break_the_read() {
        let get = r#"{"aggregate":{"authorizedAmount":{"currency":"NOK","value":0},
            "cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":0},
            "refundedAmount":{"currency":"NOK","value":0}},"amount":{"currency":"NOK","value":1000},
            "state":"CREATED","paymentMethod":{"type":"PAY_LATER","cardBin":"4925"},"profile":{},
            "pspReference":"p","reference":"kiosk-order-1"}"#;
        let p: GetPaymentResponse = serde_json::from_str(get).expect("new method parses");
        assert_eq!(p.payment_method.kind, PaymentMethodType::Unknown);
        let p: GetPaymentResponse =
            serde_json::from_str(&get.replace("PAY_LATER", "CARD")).expect("card");
        assert_eq!(p.payment_method.kind, PaymentMethodType::Card);
        let events = r#"[{"reference":"kiosk-order-1","pspReference":"p","name":"CREATED",
            "amount":{"currency":"NOK","value":1000},"timestamp":"2026-01-01T00:00:00Z","success":true},
            {"reference":"kiosk-order-1","pspReference":"p2","name":"DISPUTED",
            "amount":{"currency":"NOK","value":1000},"timestamp":"2026-01-01T00:00:01Z","success":true}]"#;
        let e: Vec<PaymentEvent> = serde_json::from_str(events).expect("new event parses");
        assert_eq!(
            e.iter().map(|e| e.name).collect::<Vec<_>>(),
            [PaymentEventName::Created, PaymentEventName::Unknown]
        );
        let modification = r#"{"amount":{"currency":"NOK","value":1000},"state":"PARTIALLY_SETTLED",
            "aggregate":{"authorizedAmount":{"currency":"NOK","value":1000},
            "cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":1000},
            "refundedAmount":{"currency":"NOK","value":0}},"pspReference":"p","reference":"kiosk-order-1"}"#;
        let m: ModificationResponse =
            serde_json::from_str(modification).expect("new state in a capture answer parses");
        assert_eq!(m.state, PaymentState::Unknown);
    }

    #[test]
    fn token_numbers_are_strings() {
        let body = r#"{"token_type":"Bearer","expires_in":"86398","ext_expires_in":"0",
            "expires_on":"1547823408","not_before":"1547736708","resource":"00000002-0000-0000-c000-000000000000",
            "access_token":"eyJ0eXAiOiJKV1QiLCJhbGciOiJSUzI1NiIsIng1dCI6Ik"}"#;
        let t: AccessTokenResponse = serde_json::from_str(body).expect("token parses");
        assert_eq!(t.expires_in, "86398");
        assert!(
            !format!("{t:?}").contains("eyJ0eXAi"),
            "token must not show in Debug"
        );
    }

    #[test]
    fn problem_code_comes_from_extra_details() {
        let body = r#"{"type":"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors",
            "title":"Bad Request","detail":"Cannot cancel an authorized payment","status":400,
            "traceId":"abc","extraDetails":[{"name":"ErrorCode","reason":"6060"}]}"#;
        let p: Problem = serde_json::from_str(body).expect("problem parses");
        assert_eq!(p.code(), Some(6060));
        let no_code: Problem =
            serde_json::from_str(r#"{"type":"x","title":"t","status":500,"traceId":"t"}"#)
                .expect("problem without code parses");
        assert_eq!(no_code.code(), None);
    }

    #[test]
    fn customer_debug_hides_phone_number() {
        let c = Customer {
            phone_number: Some("4712345678".into()),
            ..Customer::default()
        };
        assert!(!format!("{c:?}").contains("12345678"));
    }
}

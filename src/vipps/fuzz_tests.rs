//! Property tests of how the client reads Vipps' answers (`http::decode`, `parse_problem`, the
//! token's lifetime, eCom's transaction log): whatever the status and body, an answer or an
//! error, never a panic. Each runs a few thousand cases (`cargo test --lib vipps::fuzz`).

use super::{
    Error,
    ecom::TransactionDetails,
    http::{decode, parse_problem},
    model::{AccessTokenResponse, GetPaymentResponse, ModificationResponse, PaymentEvent},
    token::CachedToken,
};
use proptest::prelude::*;
use serde_json::{Value, json};

fn config() -> ProptestConfig {
    ProptestConfig {
        cases: 2000,
        failure_persistence: None,
        ..ProptestConfig::default()
    }
}

/// Field names the answers use, so generated objects often hit real fields.
const NAMES: &[&str] = &[
    "type",
    "title",
    "detail",
    "status",
    "traceId",
    "instance",
    "extraDetails",
    "invalidParams",
    "name",
    "reason",
    "errorGroup",
    "errorCode",
    "errorMessage",
    "contextId",
    "responseInfo",
    "responseMessage",
    "result",
    "message",
    "amount",
    "value",
    "currency",
    "state",
    "aggregate",
    "reference",
    "pspReference",
    "operation",
    "operationSuccess",
    "transactionText",
    "transactionId",
    "transactionLogHistory",
    "transactionSummary",
    "capturedAmount",
    "refundedAmount",
    "remainingAmountToCapture",
    "remainingAmountToRefund",
    "expires_in",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        prop::sample::select(vec![i64::MAX, i64::MIN, 0, -1, 1, 100]).prop_map(Value::from),
        Just(Value::from(u64::MAX)),
        any::<f64>().prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        prop::sample::select(vec![
            "NOK",
            "EUR",
            "AUTHORIZED",
            "CAPTURE",
            "RESERVE",
            "VOID",
            "CANCEL",
            "SALE",
            "REFUND",
            "INITIATE",
            "18446744073709551615",
            "3600",
            "-5",
            "",
        ])
        .prop_map(Value::from),
    ]
}

/// Any JSON, objects keyed mostly by the answers' own field names.
pub(crate) fn json() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        let key = prop_oneof![
            3 => prop::sample::select(NAMES).prop_map(str::to_string),
            1 => "[a-zA-Z]{1,6}",
        ];
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((key, inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// `base` with the value at one of its paths (chosen by `at`) replaced by `with`.
pub(crate) fn mutate(mut base: Value, at: usize, with: Value) -> Value {
    fn paths(v: &Value, here: String, out: &mut Vec<String>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => m
                .iter()
                .for_each(|(k, v)| paths(v, format!("{here}/{k}"), out)),
            Value::Array(a) => a
                .iter()
                .enumerate()
                .for_each(|(i, v)| paths(v, format!("{here}/{i}"), out)),
            _ => {}
        }
    }
    let mut all = Vec::new();
    paths(&base, String::new(), &mut all);
    let path = &all[at % all.len()];
    match base.pointer_mut(path) {
        Some(slot) => *slot = with,
        None => base = with,
    }
    base
}

fn amount(v: i64) -> Value {
    json!({"currency": "NOK", "value": v})
}

fn payment() -> Value {
    json!({
        "aggregate": {"authorizedAmount": amount(35300), "cancelledAmount": amount(0),
                      "capturedAmount": amount(0), "refundedAmount": amount(0)},
        "amount": amount(35300), "state": "AUTHORIZED", "paymentMethod": {"type": "WALLET"},
        "profile": {}, "pspReference": "p-1", "reference": "order-1-1"
    })
}

fn ecom_details() -> Value {
    json!({
        "orderId": "order-1-1",
        "transactionLogHistory": [
            {"amount": 35300, "operation": "CAPTURE", "operationSuccess": true, "transactionText": "t"},
            {"amount": 35300, "operation": "RESERVE", "operationSuccess": true, "transactionText": "t"},
            {"amount": 35300, "operation": "INITIATE", "operationSuccess": true, "transactionText": "t", "transactionId": "5001"}
        ],
        "transactionSummary": {"capturedAmount": 35300, "refundedAmount": 0,
            "remainingAmountToCapture": 0, "remainingAmountToRefund": 35300}
    })
}

fn token() -> Value {
    json!({"token_type": "Bearer", "expires_in": "3600", "ext_expires_in": "3600",
           "expires_on": "1", "not_before": "1", "resource": "r", "access_token": "t"})
}

fn problem() -> Value {
    json!({"type": "about:blank", "title": "Bad Request", "status": 400, "traceId": "x",
           "extraDetails": [{"name": "code", "reason": "6260"}]})
}

/// One answer, decoded as `T` the way every call decodes it.
fn decode_as<T: serde::de::DeserializeOwned>(status: u16, body: Vec<u8>) -> Result<T, Error> {
    let response = axum::http::Response::builder()
        .status(status)
        .header("retry-after", "5")
        .body(body)
        .map(reqwest::Response::from);
    let Ok(response) = response else {
        return Err(Error::Decode("not a status".into()));
    };
    futures_util::FutureExt::now_or_never(decode::<T>(response))
        .unwrap_or_else(|| Err(Error::Decode("the body did not arrive at once".into())))
}

fn bodies() -> impl Strategy<Value = Vec<u8>> {
    let samples = vec![payment(), ecom_details(), token(), problem()];
    prop_oneof![
        prop::collection::vec(any::<u8>(), 0..64),
        json().prop_map(|v| v.to_string().into_bytes()),
        (prop::sample::select(samples), any::<usize>(), json())
            .prop_map(|(base, at, with)| mutate(base, at, with).to_string().into_bytes()),
    ]
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn any_answer_decodes_to_a_value_or_an_error(
        status in prop::sample::select(vec![200u16, 201, 204, 400, 401, 404, 409, 429, 500, 502, 503]),
        body in bodies(),
    ) {
        let _ = decode_as::<GetPaymentResponse>(status, body.clone());
        let _ = decode_as::<Vec<PaymentEvent>>(status, body.clone());
        let _ = decode_as::<ModificationResponse>(status, body.clone());
        if let Ok(details) = decode_as::<TransactionDetails>(status, body.clone()) {
            let _ = details.view();
        }
        if let Ok(t) = decode_as::<AccessTokenResponse>(status, body.clone()) {
            let _ = CachedToken::from_answer(t, std::time::Instant::now());
        }
        if let Err(Error::Api { problem: Some(p), .. }) = decode_as::<Value>(status, body) {
            let _ = p.code();
        }
    }

    #[test]
    fn any_ecom_transaction_log_reads_as_a_view(
        log in prop::collection::vec((
            prop::sample::select(vec![i64::MAX, i64::MIN, -1, 0, 1, 35300]),
            prop::sample::select(vec!["INITIATE", "RESERVE", "SALE", "CAPTURE", "REFUND", "VOID", "CANCEL", "OTHER"]),
            any::<bool>(),
        ), 0..8),
        summary in prop::option::of(prop::array::uniform4(prop::sample::select(vec![i64::MAX, i64::MIN, 0, 35300]))),
    ) {
        let entries: Vec<Value> = log
            .iter()
            .map(|(amount, op, ok)| json!({"amount": amount, "operation": op, "operationSuccess": ok, "transactionText": "t"}))
            .collect();
        let mut details = json!({"transactionLogHistory": entries});
        if let Some([c, r, rc, rr]) = summary {
            details["transactionSummary"] = json!({"capturedAmount": c, "refundedAmount": r,
                "remainingAmountToCapture": rc, "remainingAmountToRefund": rr});
        }
        let details: TransactionDetails = serde_json::from_value(details).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let view = details.view();
        prop_assert_eq!(view.opened, false, "no INITIATE here carries a transactionId");
    }

    #[test]
    fn any_token_lifetime_gives_a_token_or_an_error(
        expires_in in prop_oneof![
            any::<u64>().prop_map(|n| n.to_string()),
            prop::sample::select(vec![u64::MAX, u64::MAX / 1000, 0, 1, 3600]).prop_map(|n| format!(" {n} ")),
            "\\PC{0,8}",
        ],
    ) {
        let mut answer = token();
        answer["expires_in"] = Value::from(expires_in.clone());
        let answer: AccessTokenResponse = serde_json::from_value(answer).map_err(|e| TestCaseError::fail(e.to_string()))?;
        let now = std::time::Instant::now();
        match CachedToken::from_answer(answer, now) {
            Ok(t) => prop_assert!(t.refresh_at <= t.expires_at && t.refresh_at >= now),
            Err(_) => prop_assert!(expires_in.trim().parse::<u64>().is_err()),
        }
    }

    #[test]
    fn any_error_body_reads_as_a_problem_or_none(status in any::<u16>(), body in bodies()) {
        if let Some(p) = parse_problem(status, &body) {
            prop_assert!(p.status == status || serde_json::from_slice::<Value>(&body).is_ok());
            let _ = p.code();
        }
    }
}

/// Found by `any_ecom_transaction_log_reads_as_a_view`: two captures of `i64::MAX` in eCom's
/// log overflowed the sum (a panic in the lane's driver task).
#[test]
fn an_ecom_log_whose_amounts_overflow_is_read_not_a_panic() {
    let entry = |amount: i64, op: &str| json!({"amount": amount, "operation": op, "operationSuccess": true, "transactionText": "t"});
    let details: TransactionDetails = serde_json::from_value(json!({
        "transactionLogHistory": [
            entry(i64::MAX, "VOID"), entry(i64::MAX, "REFUND"), entry(i64::MAX, "REFUND"),
            entry(i64::MIN, "CAPTURE"), entry(i64::MIN, "CAPTURE"), entry(1, "RESERVE")
        ]
    }))
    .expect("a log");
    let view = details.view();
    assert_eq!(view.aggregate.captured_amount.value, i64::MIN);
    assert_eq!(view.aggregate.refunded_amount.value, i64::MAX);
    assert_eq!(view.aggregate.cancelled_amount.value, i64::MAX);
}

#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The Vipps client against a recording mock server: the headers the spec asks for, the token
//! cache, retries that reuse the Idempotency-Key, 401 handling, problem+json and timeouts.

#[path = "vipps_client/mock.rs"]
mod mock;

use axum::http::Method;
use mock::*;
use std::{sync::Arc, time::Duration};
use vipps_kiosk::vipps::{
    Error,
    budget::{Budget, Clock, Kind, Limits},
    model::{
        Amount, CreatePaymentRequest, Currency, PaymentMethod, PaymentMethodType, PaymentState,
        UserFlow,
    },
};

fn create_request() -> CreatePaymentRequest {
    CreatePaymentRequest {
        amount: Amount::new(Currency::Nok, 1000),
        customer: None,
        minimum_user_age: None,
        customer_interaction: None,
        payment_method: PaymentMethod {
            kind: PaymentMethodType::Wallet,
        },
        reference: "order-0001-1".into(),
        user_flow: UserFlow::Qr,
        return_url: None,
        payment_description: None,
        qr_format: None,
        receipt: None,
    }
}

#[tokio::test]
async fn every_call_carries_the_required_headers_and_one_token_serves_many() {
    let (m, client, _s) = mock(vec![(
        201,
        r#"{"reference":"order-0001-1","redirectUrl":"https://x/qr"}"#,
        None,
    )])
    .await;
    let created = client
        .create_payment(&create_request(), "create1-order-0001-1")
        .await
        .unwrap();
    assert_eq!(created.redirect_url.as_deref(), Some("https://x/qr"));
    client
        .capture(
            "order-0001-1",
            Amount::new(Currency::Nok, 1000),
            "capture1-order-0001-1",
        )
        .await
        .unwrap();
    client
        .cancel("order-0001-1", true, "cancelq1-order-0001-1")
        .await
        .unwrap();

    let seen = m.seen.lock().unwrap().clone();
    let tokens: Vec<_> = seen
        .iter()
        .filter(|s| s.path == "/accesstoken/get")
        .collect();
    assert_eq!(tokens.len(), 1, "the token is cached");
    let t = tokens[0];
    assert_eq!(header(t, "client_id"), Some("the-client-id"));
    assert_eq!(header(t, "client_secret"), Some("the-client-secret"));
    assert_eq!(header(t, "Ocp-Apim-Subscription-Key"), Some("the-sub-key"));

    let calls = api_calls(&m);
    assert_eq!(
        calls.iter().map(|c| c.path.as_str()).collect::<Vec<_>>(),
        [
            "/epayment/v1/payments",
            "/epayment/v1/payments/order-0001-1/capture",
            "/epayment/v1/payments/order-0001-1/cancel",
        ]
    );
    for c in &calls {
        assert_eq!(c.method, Method::POST);
        assert_eq!(header(c, "Authorization"), Some("Bearer tok-1"));
        assert_eq!(header(c, "Ocp-Apim-Subscription-Key"), Some("the-sub-key"));
        assert_eq!(header(c, "Merchant-Serial-Number"), Some("123456"));
        assert_eq!(header(c, "Vipps-System-Name"), Some("kiosk-test"));
        assert_eq!(header(c, "Vipps-System-Version"), Some("9.9"));
        assert_eq!(header(c, "Vipps-System-Plugin-Name"), Some("p"));
        assert_eq!(header(c, "Vipps-System-Plugin-Version"), Some("1"));
        assert_eq!(header(c, "Content-Type"), Some("application/json"));
    }
    assert_eq!(
        header(&calls[0], "Idempotency-Key"),
        Some("create1-order-0001-1")
    );
    assert_eq!(
        header(&calls[1], "Idempotency-Key"),
        Some("capture1-order-0001-1")
    );
    let capture: serde_json::Value = serde_json::from_slice(&calls[1].body).unwrap();
    assert_eq!(
        capture,
        serde_json::json!({"modificationAmount": {"currency": "NOK", "value": 1000}})
    );
    let cancel: serde_json::Value = serde_json::from_slice(&calls[2].body).unwrap();
    assert_eq!(cancel, serde_json::json!({"cancelTransactionOnly": true}));
}

/// Reads are retried inside the call; changes are not (the machine sends them again with the
/// same key once it has heard the answer, and a lost answer is followed by a read).
#[tokio::test]
async fn reads_are_retried_inside_a_call_and_changes_are_not() {
    let (m, client, _s) = mock(vec![
        (
            503,
            r#"{"type":"x","title":"Unavailable","status":503,"traceId":"t1"}"#,
            None,
        ),
        (200, MODIFICATION, Some(Duration::from_millis(600))), // times out
        (200, GET_PAYMENT, None),
    ])
    .await;
    let r = client.get_payment("order-0001-1").await;
    assert_eq!(r.map(|p| p.state).ok(), Some(PaymentState::Authorized));
    assert_eq!(api_calls(&m).len(), 3);

    let (m, client, _s) = mock(vec![(
        503,
        r#"{"type":"x","title":"Unavailable","status":503,"traceId":"t1"}"#,
        None,
    )])
    .await;
    let err = client
        .capture(
            "order-0001-1",
            Amount::new(Currency::Nok, 1000),
            "capture1-order-0001-1",
        )
        .await
        .unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(err.is_transient(), "the machine sends it again");
    assert_eq!(api_calls(&m).len(), 1, "one change sent, not three");
}

#[tokio::test]
async fn retries_are_bounded_and_the_last_error_is_kept() {
    let (m, client, _s) = mock(vec![
        (
            500,
            r#"{"type":"x","title":"Boom","status":500,"traceId":"t9"}"#,
            None
        );
        5
    ])
    .await;
    let err = client.get_payment("order-0001-1").await.unwrap_err();
    assert_eq!(err.status(), Some(500));
    assert!(err.to_string().contains("t9"), "{err}");
    assert_eq!(api_calls(&m).len(), 3);
}

#[tokio::test]
async fn a_refused_token_is_replaced_once() {
    let (m, client, _s) = mock(vec![
        (
            401,
            r#"{"type":"x","title":"Unauthorized","status":401,"traceId":"t"}"#,
            None,
        ),
        (
            401,
            r#"{"type":"x","title":"Unauthorized","status":401,"traceId":"t"}"#,
            None,
        ),
    ])
    .await;
    let err = client.get_payment("order-0001-1").await.unwrap_err();
    assert_eq!(err.status(), Some(401));
    let tokens = m
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/accesstoken/get")
        .count();
    assert_eq!(
        tokens, 2,
        "one fresh token after the first 401, then the error"
    );
    assert_eq!(api_calls(&m).len(), 2, "retried once, not forever");
}

#[tokio::test]
async fn client_errors_keep_the_problem_and_are_not_retried() {
    let body = r#"{"type":"https://developer.vippsmobilepay.com/docs/APIs/epayment-api/api-guide/errors","title":"Bad Request","detail":"authorized","status":400,"traceId":"abc","extraDetails":[{"name":"ErrorCode","reason":"6060"}]}"#;
    let (m, client, _s) = mock(vec![(400, body, None)]).await;
    let err = client
        .cancel("order-0001-1", true, "cancelq1-order-0001-1")
        .await
        .unwrap_err();
    assert_eq!((err.status(), err.code()), (Some(400), Some(6060)));
    assert!(!err.is_transient());
    assert_eq!(api_calls(&m).len(), 1);
}

#[tokio::test]
async fn a_hung_server_is_a_timeout_not_a_failure_of_the_payment() {
    let (_m, client, _s) = mock(vec![(200, MODIFICATION, Some(Duration::from_secs(2))); 3]).await;
    let err = client.get_payment("order-0001-1").await.unwrap_err();
    assert!(matches!(err, Error::Timeout), "{err:?}");
    assert!(err.is_transient());
}

#[tokio::test]
async fn nothing_listening_is_a_transport_error() {
    let (_m, client, server) = mock(vec![]).await;
    server.abort();
    let _ = server.await;
    tokio::time::sleep(Duration::from_millis(20)).await;
    let err = client.get_payment("order-0001-1").await.unwrap_err();
    assert!(
        matches!(err, Error::Transport(_) | Error::Timeout),
        "{err:?}"
    );
}

#[tokio::test]
async fn a_failing_token_endpoint_is_retried_too() {
    let (m, client, _s) = mock(vec![]).await;
    *m.token_failures.lock().unwrap() = 2;
    let r = client
        .capture(
            "order-0001-1",
            Amount::new(Currency::Nok, 1000),
            "capture1-order-0001-1",
        )
        .await;
    assert!(r.is_ok(), "{r:?}");
    let tokens = m
        .seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path == "/accesstoken/get")
        .count();
    assert_eq!(tokens, 3);
    assert_eq!(api_calls(&m).len(), 1, "the call itself went out once");
    // Bounded: a token endpoint that keeps failing ends in an error, not a hang.
    let (m, client, _s) = mock(vec![]).await;
    *m.token_failures.lock().unwrap() = 10;
    let err = client.get_payment("order-0001-1").await.unwrap_err();
    assert_eq!(err.status(), Some(503));
    assert!(api_calls(&m).is_empty());
}

/// The payment a seen request is for: the path's reference, or a create's body.
fn reference_of(s: &Seen) -> String {
    let rest = s.path.split_once("/payments/").map(|(_, r)| r);
    match rest {
        Some(r) => r.split('/').next().unwrap_or_default().to_string(),
        None => serde_json::from_slice::<serde_json::Value>(&s.body)
            .ok()
            .and_then(|v| v["reference"].as_str().map(str::to_string))
            .unwrap_or_default(),
    }
}

const PROBLEM_503: &str = r#"{"type":"x","title":"Unavailable","status":503,"traceId":"t"}"#;
const PROBLEM_401: &str = r#"{"type":"x","title":"Unauthorized","status":401,"traceId":"t"}"#;
const PROBLEM_500: &str = r#"{"type":"x","title":"Boom","status":500,"traceId":"t"}"#;

/// Vipps' budget per reference holds whatever the answers are: every layer's tries (the
/// caller's, the client's own retries of reads, the resend after a refused token) are counted
/// together. 100 rounds of every call for one payment, against answers that fail in turn
/// with 503, 401, 500 and 502: at most 5 changes and 120 reads of it reach the server; the
/// rest fail at once, transient, with the wait.
#[tokio::test]
async fn however_the_answers_fail_a_payment_gets_at_most_5_changes_and_120_reads_a_minute() {
    let (m, client, _s) = mock(vec![]).await;
    *m.fallback.lock().unwrap() = Some(|n| match n % 4 {
        0 => (503, PROBLEM_503),
        1 => (401, PROBLEM_401),
        2 => (500, PROBLEM_500),
        _ => (502, "<html>bad gateway</html>"),
    });
    let amount = Amount::new(Currency::Nok, 1000);
    let r = "order-0001-1";
    let mut held_back = 0;
    for i in 0..100 {
        let key = format!("k{i}");
        let results = [
            client.create_payment(&create_request(), &key).await.err(),
            client.capture(r, amount, &key).await.err(),
            client.cancel(r, true, &key).await.err(),
            client.refund(r, amount, &key).await.err(),
            client.get_payment(r).await.err(),
            client.payment_events(r).await.err(),
            client.ecom_details(r).await.err(),
        ];
        for e in results.into_iter().flatten() {
            if let Error::Throttled { retry_after, .. } = e {
                assert!(e.is_transient());
                assert!(
                    retry_after > Duration::ZERO && retry_after <= Duration::from_secs(62),
                    "{retry_after:?}"
                );
                held_back += 1;
            }
        }
    }
    let calls: Vec<Seen> = api_calls(&m)
        .into_iter()
        .filter(|c| reference_of(c) == r)
        .collect();
    let reads = calls.iter().filter(|c| c.method == Method::GET).count();
    let changes = calls.len() - reads;
    assert_eq!(changes, 5, "changes of {r}: {calls:#?}");
    assert_eq!(reads, 120, "reads of {r}");
    assert!(held_back > 500, "{held_back}");
    // Another payment has budgets of its own.
    *m.fallback.lock().unwrap() = None;
    client
        .capture("order-0002-1", amount, "k")
        .await
        .expect("another payment's change goes out");
}

/// A budget on a clock the test moves forward (seconds).
fn movable_budget() -> (Budget, impl Fn(u64)) {
    let start = std::time::Instant::now();
    let offset = Arc::new(std::sync::atomic::AtomicU64::new(0));
    let o = offset.clone();
    let clock: Clock =
        Arc::new(move || start + Duration::from_secs(o.load(std::sync::atomic::Ordering::SeqCst)));
    let advance = move |s| {
        offset.fetch_add(s, std::sync::atomic::Ordering::SeqCst);
    };
    (Budget::with_clock(Limits::default(), clock), advance)
}

/// A 429 with `Retry-After: 90` is honoured for that payment at its full length: the call
/// returns at once with the wait (nothing sleeps 90 s inside it, nothing clamps it to 5 s),
/// no further read of that payment goes out for 90 s, and other payments, and the payment's
/// changes, are not held back.
#[tokio::test]
async fn a_long_retry_after_holds_that_payment_back_for_all_of_it() {
    let (budget, advance) = movable_budget();
    let (m, client, _s) = mock_with(
        vec![(
            429,
            r#"{"type":"x","title":"Too Many Requests","status":429,"traceId":"t"}"#,
            None,
        )],
        budget,
    )
    .await;
    *m.retry_after_s.lock().unwrap() = Some(90);
    *m.fallback.lock().unwrap() = Some(|_| (200, GET_PAYMENT));
    let r = "order-0001-1";
    let started = std::time::Instant::now();
    let err = client.get_payment(r).await.unwrap_err();
    assert!(started.elapsed() < Duration::from_secs(2), "not slept in");
    assert_eq!(
        (err.status(), err.retry_after()),
        (Some(429), Some(Duration::from_secs(90)))
    );
    let seen = vipps_kiosk::payment::ApiError::from(&err);
    assert!(seen.transient);
    assert_eq!(seen.retry_after, Some(Duration::from_secs(90)));
    let sent = || {
        api_calls(&m)
            .iter()
            .filter(|c| reference_of(c) == r && c.method == Method::GET)
            .count()
    };
    // At 0 s, 30 s and 89 s.
    for step in [0, 30, 59] {
        advance(step);
        let err = client.get_payment(r).await.unwrap_err();
        assert!(
            matches!(
                err,
                Error::Throttled {
                    kind: Kind::Read,
                    ..
                }
            ),
            "{err:?}"
        );
        let seen = vipps_kiosk::payment::ApiError::from(&err);
        assert_eq!(
            (seen.status, seen.transient),
            (Some(429), true),
            "read by the machine as Vipps' own 429"
        );
        assert!(seen.retry_after.is_some_and(|w| w > Duration::ZERO));
    }
    assert_eq!(sent(), 1, "nothing sent while Retry-After runs");
    client
        .get_payment("order-0002-1")
        .await
        .expect("another payment is read");
    client
        .capture(r, Amount::new(Currency::Nok, 1000), "k")
        .await
        .expect("the payment's changes are not held back by a 429 for reads");
    advance(1);
    client.get_payment(r).await.expect("read once 90 s passed");
    assert_eq!(sent(), 2);
}

/// A state and a payment method Vipps adds later: the GET still reads (Unknown), the driver
/// hands the machine an observation, and the machine treats it as "not final": no capture,
/// no cancel, no failure, it keeps polling, and captures once the state is AUTHORIZED.
#[tokio::test]
async fn a_new_state_from_vipps_is_followed_not_fatal() {
    use std::time::Instant;
    use vipps_kiosk::{
        lane::driver,
        payment::{Api, Config, Effect, Input, Machine, Order, State},
    };
    let newer = GET_PAYMENT
        .replace("AUTHORIZED", "PENDING_REVIEW")
        .replace("WALLET", "PAY_LATER");
    let newer: &'static str = Box::leak(newer.into_boxed_str());
    let (_m, client, _s) = mock(vec![(200, newer, None), (200, GET_PAYMENT, None)]).await;
    let order: Order = serde_json::from_value(serde_json::json!({
        "orderId": "order-0001",
        "currency": "NOK",
        "lines": [{"id": "1", "name": "Socks", "quantity": "1", "unitPrice": 1000,
                   "totalAmount": 1000, "totalAmountExcludingTax": 800,
                   "totalTaxAmount": 200, "taxRate": 2500}],
        "totalAmount": 1000,
    }))
    .expect("order");
    let mut machine = Machine::new(Config::default());
    let t0 = Instant::now();
    let fx = machine.step(Input::OrderReceived(order), t0);
    let reference = fx
        .iter()
        .find_map(|e| match e {
            Effect::Create { request, .. } => Some(request.reference.clone()),
            _ => None,
        })
        .expect("a create");
    machine.step(
        Input::Created {
            reference: reference.clone(),
            result: Ok(Some("https://qr.example/x".into())),
            valid_for: None,
        },
        t0,
    );
    let poll = Effect::Poll {
        reference: reference.clone(),
        api: Api::Epayment,
    };
    let read = driver::execute(client.clone(), poll.clone()).await.unwrap();
    let Input::Polled { result: Ok(o), .. } = &read else {
        panic!("a reading: {read:?}");
    };
    assert_eq!(o.state, PaymentState::Unknown);
    let fx = machine.step(read.clone(), t0 + Duration::from_secs(2));
    assert!(
        !fx.iter()
            .any(|e| matches!(e, Effect::Capture { .. } | Effect::Cancel { .. })),
        "{fx:?}"
    );
    assert!(
        matches!(machine.state(), State::Waiting { .. }),
        "{:?}",
        machine.state()
    );
    let fx = machine.step(Input::Tick, t0 + Duration::from_secs(4));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Poll { .. })),
        "keeps polling: {fx:?}"
    );
    let read = driver::execute(client, poll).await.unwrap();
    let fx = machine.step(read, t0 + Duration::from_secs(5));
    assert!(
        fx.iter().any(|e| matches!(e, Effect::Capture { .. })),
        "captured once AUTHORIZED: {fx:?}"
    );
}

/// An answer far larger than any Vipps sends is not read into memory to the end: it is an
/// unreadable answer (so a create is read back, never assumed), and the client goes on.
#[tokio::test]
async fn an_oversized_answer_is_unreadable_not_read_to_the_end() {
    let huge: &'static str = Box::leak(
        format!(
            "{{\"reference\":\"order-0001-1\",\"pad\":\"{}\"}}",
            "x".repeat(3 << 20)
        )
        .into_boxed_str(),
    );
    let (_m, client, _s) = mock(vec![(200, huge, None), (200, GET_PAYMENT, None)]).await;
    match client.get_payment("order-0001-1").await {
        Err(Error::Decode(why)) => assert!(why.contains("larger than"), "{why}"),
        other => panic!("{other:?}"),
    }
    let again = client.get_payment("order-0001-1").await;
    assert!(again.is_ok(), "{again:?}");
}

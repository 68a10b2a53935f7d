#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The Vipps client against a recording mock server: the headers the spec asks for, the token
//! cache, retries that reuse the Idempotency-Key, 401 handling, problem+json and timeouts.

use axum::{
    Router,
    body::Bytes,
    extract::State,
    http::{HeaderMap, Method, StatusCode, Uri},
    response::{IntoResponse, Response},
    routing::any,
};
use std::{
    collections::VecDeque,
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use vipps_kiosk::vipps::{
    self, ClientConfig, Credentials, Error, RetryPolicy, Secret, SystemInfo,
    model::{Amount, CreatePaymentRequest, Currency, PaymentMethod, PaymentMethodType, UserFlow},
};

#[derive(Debug, Clone)]
struct Seen {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

/// Canned answers per call, in order; after they run out every call gets a 200 `{}`-ish body.
#[derive(Default)]
struct Mock {
    seen: Mutex<Vec<Seen>>,
    answers: Mutex<VecDeque<(u16, String, Option<Duration>)>>,
    /// How many token requests fail with 503 before one succeeds.
    token_failures: Mutex<u32>,
}

const TOKEN: &str = r#"{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"0","expires_on":"0","not_before":"0","resource":"r","access_token":"tok-1"}"#;
const MODIFICATION: &str = r#"{"amount":{"currency":"NOK","value":1000},"state":"AUTHORIZED","aggregate":{"authorizedAmount":{"currency":"NOK","value":1000},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":1000},"refundedAmount":{"currency":"NOK","value":0}},"pspReference":"p1","reference":"order-0001-1"}"#;

async fn handle(
    State(m): State<Arc<Mock>>,
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    body: Bytes,
) -> Response {
    let path = uri.path().to_string();
    m.seen.lock().unwrap().push(Seen {
        method,
        path: path.clone(),
        headers,
        body,
    });
    if path == "/accesstoken/get" {
        let failures = &mut *m.token_failures.lock().unwrap();
        if *failures > 0 {
            *failures -= 1;
            return (StatusCode::SERVICE_UNAVAILABLE, "busy").into_response();
        }
        return (StatusCode::OK, TOKEN).into_response();
    }
    let next = m.answers.lock().unwrap().pop_front();
    let (status, body, delay) = next.unwrap_or((200, MODIFICATION.into(), None));
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    let ct = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    (status, [("content-type", ct)], body).into_response()
}

async fn mock(
    answers: Vec<(u16, &str, Option<Duration>)>,
) -> (Arc<Mock>, vipps::Client, tokio::task::JoinHandle<()>) {
    let m = Arc::new(Mock::default());
    m.answers
        .lock()
        .unwrap()
        .extend(answers.into_iter().map(|(s, b, d)| (s, b.to_string(), d)));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = Router::new().fallback(any(handle)).with_state(m.clone());
    let server = tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    let client = vipps::Client::new(ClientConfig {
        base_url: format!("http://{addr}"),
        credentials: Credentials {
            client_id: Secret::new("the-client-id"),
            client_secret: Secret::new("the-client-secret"),
            subscription_key: Secret::new("the-sub-key"),
            merchant_serial_number: "123456".into(),
        },
        system: SystemInfo {
            name: "kiosk-test".into(),
            version: "9.9".into(),
            plugin_name: "p".into(),
            plugin_version: "1".into(),
        },
        timeout: Duration::from_millis(300),
        retry: RetryPolicy {
            max_attempts: 3,
            base_delay: Duration::from_millis(10),
            max_delay: Duration::from_millis(50),
        },
        ecom: Default::default(),
    })
    .unwrap();
    (m, client, server)
}

fn header<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.headers.get(name).and_then(|v| v.to_str().ok())
}

fn api_calls(m: &Mock) -> Vec<Seen> {
    m.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path != "/accesstoken/get")
        .cloned()
        .collect()
}

fn create_request() -> CreatePaymentRequest {
    CreatePaymentRequest {
        amount: Amount::new(Currency::Nok, 1000),
        customer: None,
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

#[tokio::test]
async fn server_errors_and_timeouts_are_retried_with_the_same_key() {
    let (m, client, _s) = mock(vec![
        (
            503,
            r#"{"type":"x","title":"Unavailable","status":503,"traceId":"t1"}"#,
            None,
        ),
        (200, MODIFICATION, Some(Duration::from_millis(600))), // times out
        (200, MODIFICATION, None),
    ])
    .await;
    let r = client
        .capture(
            "order-0001-1",
            Amount::new(Currency::Nok, 1000),
            "capture1-order-0001-1",
        )
        .await;
    assert_eq!(
        r.map(|m| m.aggregate.captured_amount.value).ok(),
        Some(1000)
    );
    let keys: Vec<_> = api_calls(&m)
        .iter()
        .map(|c| header(c, "Idempotency-Key").unwrap_or_default().to_string())
        .collect();
    assert_eq!(keys, vec!["capture1-order-0001-1"; 3]);
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

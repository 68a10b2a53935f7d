//! The recording mock server the client tests talk to: canned answers in order, then a
//! fallback; every request kept as it arrived.
#![allow(dead_code)]

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
    self, ClientConfig, Credentials, RetryPolicy, Secret, SystemInfo,
    budget::{Budget, Limits},
};

#[derive(Debug, Clone)]
pub struct Seen {
    pub method: Method,
    pub path: String,
    pub headers: HeaderMap,
    pub body: Bytes,
}

/// The status and body of the n-th answer.
pub type Answer = fn(usize) -> (u16, &'static str);

/// Canned answers per call, in order; after they run out every call gets a 200 `{}`-ish body.
#[derive(Default)]
pub struct Mock {
    pub seen: Mutex<Vec<Seen>>,
    pub answers: Mutex<VecDeque<(u16, String, Option<Duration>)>>,
    /// How many token requests fail with 503 before one succeeds.
    pub token_failures: Mutex<u32>,
    /// The `Retry-After` (seconds) of every 429 answered.
    pub retry_after_s: Mutex<Option<u64>>,
    /// When the canned answers have run out: the answer to the n-th call after that.
    pub fallback: Mutex<Option<Answer>>,
    pub fallback_calls: Mutex<usize>,
}

pub const TOKEN: &str = r#"{"token_type":"Bearer","expires_in":"3600","ext_expires_in":"0","expires_on":"0","not_before":"0","resource":"r","access_token":"tok-1"}"#;
pub const GET_PAYMENT: &str = r#"{"aggregate":{"authorizedAmount":{"currency":"NOK","value":1000},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":0},"refundedAmount":{"currency":"NOK","value":0}},"amount":{"currency":"NOK","value":1000},"state":"AUTHORIZED","paymentMethod":{"type":"WALLET"},"profile":{},"pspReference":"p1","reference":"order-0001-1"}"#;
pub const MODIFICATION: &str = r#"{"amount":{"currency":"NOK","value":1000},"state":"AUTHORIZED","aggregate":{"authorizedAmount":{"currency":"NOK","value":1000},"cancelledAmount":{"currency":"NOK","value":0},"capturedAmount":{"currency":"NOK","value":1000},"refundedAmount":{"currency":"NOK","value":0}},"pspReference":"p1","reference":"order-0001-1"}"#;

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
    let fallback = *m.fallback.lock().unwrap();
    let (status, body, delay) = next.unwrap_or_else(|| match fallback {
        Some(f) => {
            let n = &mut *m.fallback_calls.lock().unwrap();
            *n += 1;
            let (status, body) = f(*n - 1);
            (status, body.to_string(), None)
        }
        None => (200, MODIFICATION.into(), None),
    });
    if let Some(d) = delay {
        tokio::time::sleep(d).await;
    }
    let status = StatusCode::from_u16(status).unwrap();
    let ct = if status.is_success() {
        "application/json"
    } else {
        "application/problem+json"
    };
    let mut r = (status, [("content-type", ct)], body).into_response();
    if let (StatusCode::TOO_MANY_REQUESTS, Some(s)) = (status, *m.retry_after_s.lock().unwrap()) {
        r.headers_mut()
            .insert("retry-after", s.to_string().parse().unwrap());
    }
    r
}

pub async fn mock(
    answers: Vec<(u16, &str, Option<Duration>)>,
) -> (Arc<Mock>, vipps::Client, tokio::task::JoinHandle<()>) {
    mock_with(answers, Budget::new(Limits::default())).await
}

/// `mock`, the client's requests per payment kept within `budget`.
pub async fn mock_with(
    answers: Vec<(u16, &str, Option<Duration>)>,
    budget: Budget,
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
    let client = vipps::Client::with_budget(
        ClientConfig {
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
        },
        budget,
    )
    .unwrap();
    (m, client, server)
}

pub fn header<'a>(s: &'a Seen, name: &str) -> Option<&'a str> {
    s.headers.get(name).and_then(|v| v.to_str().ok())
}

pub fn api_calls(m: &Mock) -> Vec<Seen> {
    m.seen
        .lock()
        .unwrap()
        .iter()
        .filter(|s| s.path != "/accesstoken/get")
        .cloned()
        .collect()
}

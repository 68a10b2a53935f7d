#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The simulator delivering webhooks as Vipps does: a refused delivery (any 4xx, a 5xx, no
//! answer) is retried with backoff and holds back the later events of its registration; an
//! event is given up after 7 days; a registration failing for two weeks is deleted. Time
//! scales make the days pass in seconds. The receiver here is a recorder that answers as told.

use serde_json::{Value, json};
use std::{
    net::SocketAddr,
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};
use vipps_kiosk::{
    sim::{SimConfig, Simulator},
    webhooks::EPAYMENT_EVENTS,
};

mod common;

/// What the recorder received (event names, in order) and how it answers the next ones: the
/// first `refuse` deliveries with these statuses, then 200.
#[derive(Default)]
struct Recorder {
    received: Vec<String>,
    refuse: Vec<u16>,
}

async fn recorder(refuse: Vec<u16>) -> (String, Arc<Mutex<Recorder>>) {
    use axum::{extract::State, routing::post};
    async fn receive(
        State(r): State<Arc<Mutex<Recorder>>>,
        body: axum::body::Bytes,
    ) -> axum::http::StatusCode {
        let v: Value = serde_json::from_slice(&body).unwrap_or_default();
        let mut r = r.lock().unwrap();
        r.received
            .push(v["name"].as_str().unwrap_or("?").to_string());
        let status = if r.refuse.is_empty() {
            200
        } else {
            r.refuse.remove(0)
        };
        axum::http::StatusCode::from_u16(status).unwrap()
    }
    let state = Arc::new(Mutex::new(Recorder {
        refuse,
        ..Recorder::default()
    }));
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    let app = axum::Router::new()
        .route("/hook", post(receive))
        .with_state(state.clone());
    tokio::spawn(async move { axum::serve(listener, app).await });
    (url, state)
}

struct Api {
    http: reqwest::Client,
    base: String,
    token: String,
}

impl Api {
    async fn new(sim: &Simulator) -> Api {
        let http = vipps_kiosk::vipps::plain_http_client();
        let base = sim.base_url();
        let t: Value = common::request_token(&http, &base)
            .await
            .json()
            .await
            .unwrap();
        Api {
            http,
            base,
            token: t["access_token"].as_str().unwrap().to_string(),
        }
    }

    async fn call(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> u16 {
        let reference = body.as_ref().and_then(|b| b["reference"].as_str());
        let key = format!("k-{}", reference.unwrap_or(path));
        let mut r = self
            .http
            .request(method, format!("{}{path}", self.base))
            .bearer_auth(&self.token)
            .header("Ocp-Apim-Subscription-Key", "sub")
            .header("Merchant-Serial-Number", "123456")
            .header("Idempotency-Key", key);
        if let Some(b) = body {
            r = r.json(&b);
        }
        r.send().await.unwrap().status().as_u16()
    }

    async fn create_qr(&self, reference: &str) {
        let body = json!({
            "amount": {"currency": "NOK", "value": 1000},
            "paymentMethod": {"type": "WALLET"},
            "reference": reference,
            "userFlow": "QR",
            "qrFormat": {"format": "TEXT/TARGETURL"},
        });
        let status = self
            .call(reqwest::Method::POST, "/epayment/v1/payments", Some(body))
            .await;
        assert_eq!(status, 201);
    }

    async fn control(&self) -> Value {
        self.http
            .get(format!("{}/_sim/webhooks", self.base))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap()
    }
}

async fn sim(time_scale: f64) -> Simulator {
    Simulator::start(
        SocketAddr::from(([127, 0, 0, 1], 0)),
        SimConfig {
            time_scale,
            ..SimConfig::default()
        },
    )
    .await
    .unwrap()
}

async fn until(what: &str, limit: Duration, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// 4xx answers (400, 409, 404) are failed deliveries: the first event is tried again until
/// it is answered 2xx, and the later ones wait behind it, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_event_is_retried_and_holds_back_the_later_ones() {
    // 20 simulator seconds a second: the waits of 1, 2 and 4 s take 50, 100 and 200 ms.
    let sim = sim(20.0).await;
    let api = Api::new(&sim).await;
    let (url, rec) = recorder(vec![400, 409, 404]).await;
    let client = common::client_for(&sim.base_url());
    client
        .register_webhook(&url, &EPAYMENT_EVENTS)
        .await
        .unwrap();
    api.create_qr("whd-order-0001-1").await;
    let approved = api
        .call(
            reqwest::Method::POST,
            "/epayment/v1/test/payments/whd-order-0001-1/approve",
            Some(json!({})),
        )
        .await;
    assert_eq!(approved, 200);
    let status = api
        .call(
            reqwest::Method::POST,
            "/epayment/v1/payments/whd-order-0001-1/cancel",
            None,
        )
        .await;
    assert_eq!(status, 200);
    until("six deliveries", Duration::from_secs(5), || {
        rec.lock().unwrap().received.len() >= 6
    })
    .await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(
        rec.lock().unwrap().received,
        [
            "CREATED",
            "CREATED",
            "CREATED",
            "CREATED",
            "AUTHORIZED",
            "CANCELLED"
        ]
    );
    let counts = sim.webhook_counts();
    assert_eq!(
        (
            counts.sent,
            counts.failed,
            counts.retried,
            counts.pending,
            counts.abandoned
        ),
        (3, 3, 3, 0, 0),
        "{counts:?}"
    );
    let control = api.control().await;
    assert_eq!(control["deliveries"]["retried"], 3, "{control:#}");
    assert_eq!(control["webhooks"][0]["pending"], 0, "{control:#}");
}

/// A receiver that never answers 2xx: each event is tried for 7 days (in order) and given
/// up, and after two weeks of failures the registration is deleted; later events go nowhere.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_is_given_up_after_7_days_and_the_registration_after_two_weeks() {
    // A million simulator seconds a second: two weeks take 1.2 s.
    let sim = sim(1_000_000.0).await;
    let api = Api::new(&sim).await;
    let (url, rec) = recorder(vec![500; 100_000]).await;
    let client = common::client_for(&sim.base_url());
    client
        .register_webhook(&url, &EPAYMENT_EVENTS)
        .await
        .unwrap();
    api.create_qr("whd-order-0002-1").await;
    // The QR payment's 10 minutes are gone at once: reading it makes it EXPIRED.
    tokio::time::sleep(Duration::from_millis(5)).await;
    api.call(
        reqwest::Method::GET,
        "/epayment/v1/payments/whd-order-0002-1",
        None,
    )
    .await;
    until("the registration deleted", Duration::from_secs(20), || {
        sim.webhook_counts().removed == 1
    })
    .await;
    let counts = sim.webhook_counts();
    assert_eq!(counts.sent, 0, "{counts:?}");
    assert!(
        counts.abandoned >= 1,
        "CREATED given up after 7 days: {counts:?}"
    );
    assert_eq!(counts.pending, 0, "{counts:?}");
    assert!(client.list_webhooks().await.unwrap().is_empty());
    let received = rec.lock().unwrap().received.clone();
    eprintln!(
        "{} tries over two weeks, {} events given up",
        received.len(),
        counts.abandoned
    );
    let first_expired = received.iter().position(|n| n == "EXPIRED").unwrap();
    assert!(
        first_expired > 10,
        "CREATED tried many times first: {received:?}"
    );
    assert!(
        received[first_expired..].iter().all(|n| n == "EXPIRED"),
        "in order: {received:?}"
    );
    // Retried with backoff: at most an hour apart, so about one try an hour for 14 days,
    // not thousands.
    assert!(
        (200..2000).contains(&received.len()),
        "{} tries",
        received.len()
    );
    // Nothing goes to a deleted registration.
    let before = received.len();
    api.create_qr("whd-order-0003-1").await;
    tokio::time::sleep(Duration::from_millis(100)).await;
    assert_eq!(rec.lock().unwrap().received.len(), before);
}

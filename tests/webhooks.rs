#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Webhooks end to end: registration through the client, the simulator delivering signed
//! events to the kiosk's receiver, and a lane run by `lane::run` finishing payments with them:
//! faster than its polling could, with duplicated and reordered deliveries, and with every
//! delivery lost (polling alone). Signature checks themselves are unit tests in `webhooks.rs`.

use serde_json::Value;
use std::{
    net::SocketAddr,
    sync::Arc,
    time::{Duration, SystemTime},
};
use vipps_kiosk::{
    payment::{self, State},
    pos::Hub,
    sim::{Simulator, backend::PhoneAction, webhooks::Faults},
    webhooks::{self, EPAYMENT_EVENTS, ReceiverSetup},
};

mod common;

struct Rig {
    sim: Simulator,
    lane: common::RunningLane,
    hub: Arc<Hub>,
    receiver: String,
}

fn free_addr() -> SocketAddr {
    std::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .unwrap()
        .local_addr()
        .unwrap()
}

/// How deliveries reach the lane's receiver.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Route {
    /// Registered at the receiver's own address and path.
    Direct,
    /// Registered at a proxy's address and path, which forwards to the receiver (another
    /// Host, another path, no query); `public_url`: the receiver is told the registered URL.
    Proxied { public_url: bool },
}

/// A lane polling every `poll`, with webhooks registered at the simulator (when `webhooks`).
async fn rig(poll: Duration, webhooks: bool) -> Rig {
    rig_via(poll, webhooks.then_some(Route::Direct)).await
}

/// A TLS proxy's part in front of the receiver: what arrives at `/public/hook` is sent on to
/// `target` with its signature headers and body, under the proxy's own Host and path.
async fn proxy_to(target: String) -> SocketAddr {
    use axum::{extract::State, http::HeaderMap, routing::post};
    async fn forward(
        State(target): State<String>,
        h: HeaderMap,
        body: axum::body::Bytes,
    ) -> axum::http::StatusCode {
        let mut r = vipps_kiosk::vipps::plain_http_client().post(&target);
        for name in [
            "x-ms-date",
            "x-ms-content-sha256",
            "authorization",
            "content-type",
        ] {
            if let Some(v) = h.get(name) {
                r = r.header(name, v);
            }
        }
        let status = r
            .body(body)
            .send()
            .await
            .map_or(502, |a| a.status().as_u16());
        axum::http::StatusCode::from_u16(status).unwrap()
    }
    let listener = tokio::net::TcpListener::bind(SocketAddr::from(([127, 0, 0, 1], 0)))
        .await
        .unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new()
        .route("/public/hook", post(forward))
        .with_state(target);
    tokio::spawn(async move { axum::serve(listener, app).await });
    addr
}

async fn rig_via(poll: Duration, route: Option<Route>) -> Rig {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    let addr = free_addr();
    let mut receiver = format!("http://{addr}/vipps/webhooks?lane=1");
    let mut public_url = None;
    if let Some(Route::Proxied { public_url: told }) = route {
        let proxy = proxy_to(format!("http://{addr}/vipps/webhooks")).await;
        receiver = format!("http://{proxy}/public/hook?lane=1");
        public_url = told.then(|| reqwest::Url::parse(&receiver).unwrap());
    }
    let mut hints = None;
    let mut relaxed = None;
    if route.is_some() {
        let (_id, secret) = client
            .register_webhook(&receiver, &EPAYMENT_EVENTS)
            .await
            .expect("registered");
        hints = Some(
            webhooks::serve(
                ReceiverSetup {
                    listen: addr,
                    path: "/vipps/webhooks".into(),
                    public_url,
                    secret,
                },
                Some(hub.clone()),
            )
            .await
            .expect("receiver listens"),
        );
        relaxed = Some(poll * 3);
    }
    let lane = common::RunningLane::start(
        client,
        payment::Config {
            poll_interval: poll,
            relaxed_poll_interval: relaxed,
            approved_display: Duration::from_millis(200),
            ..payment::Config::default()
        },
        Some(hub.clone()),
        hints,
    );
    Rig {
        sim,
        lane,
        hub,
        receiver,
    }
}

impl Rig {
    /// Order in; once its QR payment exists, the customer approves. Returns the time from the
    /// approval to the Approved screen.
    async fn pay(&self, id: &str, limit: Duration) -> Duration {
        self.lane.submit(id).await;
        self.lane
            .wait(
                "QR payment created",
                Duration::from_secs(5),
                |s| matches!(s, State::Waiting { payment, .. } if payment.created),
            )
            .await;
        assert!(self.sim.phone(&format!("{id}-1"), PhoneAction::Approve));
        let took = self
            .lane
            .wait("approved", limit, |s| matches!(s, State::Approved { .. }))
            .await;
        // Back to idle for the next order.
        self.lane
            .wait("idle", Duration::from_secs(5), |s| matches!(s, State::Idle))
            .await;
        took
    }

    fn captures_of(&self, id: &str) -> Vec<Value> {
        self.sim
            .payments()
            .into_iter()
            .filter(|p| p["reference"].as_str().unwrap().starts_with(id))
            .filter(|p| p["aggregate"]["capturedAmount"]["value"].as_i64() > Some(0))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn registrations_can_be_made_listed_and_deleted() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let (id, secret) = client
        .register_webhook("https://store.example/vipps", &EPAYMENT_EVENTS)
        .await
        .expect("registered");
    assert!(!secret.expose().is_empty());
    let listed = client.list_webhooks().await.expect("list");
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].id, id);
    assert_eq!(listed[0].events.len(), EPAYMENT_EVENTS.len());
    client.delete_webhook(&id).await.expect("deleted");
    assert!(client.list_webhooks().await.expect("list").is_empty());
    let gone = client.delete_webhook(&id).await.expect_err("already gone");
    assert_eq!(gone.status(), Some(404));
    // Plain HTTP to another machine is refused, as Vipps refuses anything but HTTPS.
    let refused = client
        .register_webhook("http://store.example/vipps", &EPAYMENT_EVENTS)
        .await
        .expect_err("http refused");
    assert_eq!(refused.status(), Some(400));
}

/// Polling every 30 s cannot finish a payment within the limit; the webhook does.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_approval_reaches_the_screen_through_the_webhook() {
    let rig = rig(Duration::from_secs(30), true).await;
    // The QR payment is created (the first read comes 30 s later): only the webhook can tell.
    let took = rig.pay("whk-order-0001", Duration::from_secs(5)).await;
    assert_eq!(rig.captures_of("whk-order-0001").len(), 1);
    let health = rig.hub.health().webhooks.expect("webhooks on");
    assert!(health.verified >= 2, "{health:?}");
    assert_eq!(health.rejected, 0);
    eprintln!("approval to Approved through the webhook: {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicated_and_reordered_deliveries_are_harmless() {
    let rig = rig(Duration::from_secs(30), true).await;
    rig.sim.set_webhook_faults(Faults {
        duplicate: 1.0,
        reorder_ms: 40,
        ..Faults::default()
    });
    for i in 0..4 {
        let id = format!("whk-dup-000{i}");
        rig.pay(&id, Duration::from_secs(5)).await;
        assert_eq!(rig.captures_of(&id).len(), 1, "{id}");
    }
    // The copies come a second later, signed anew; nothing captures twice.
    tokio::time::sleep(Duration::from_millis(1500)).await;
    for i in 0..4 {
        let captured = rig.captures_of(&format!("whk-dup-000{i}"));
        assert_eq!(captured.len(), 1);
        assert_eq!(
            captured[0]["aggregate"]["capturedAmount"]["value"],
            captured[0]["amount"]["value"]
        );
    }
    // Created, authorized and captured for each payment, each twice.
    let counts = rig.sim.webhook_counts();
    assert!(counts.sent >= 4 * 3 * 2 && counts.failed == 0, "{counts:?}");
    let health = rig.hub.health().webhooks.expect("on");
    assert_eq!(health.rejected, 0, "{health:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_every_delivery_lost_polling_alone_finishes_every_payment() {
    let rig = rig(Duration::from_millis(200), true).await;
    rig.sim.set_webhook_faults(Faults {
        drop: 1.0,
        ..Faults::default()
    });
    for i in 0..3 {
        let id = format!("whk-lost-000{i}");
        rig.pay(&id, Duration::from_secs(5)).await;
        assert_eq!(rig.captures_of(&id).len(), 1, "{id}");
    }
    let counts = rig.sim.webhook_counts();
    assert_eq!(counts.sent, 0, "{counts:?}");
    assert!(counts.dropped > 0, "{counts:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn forged_deliveries_are_refused_and_reported() {
    let rig = rig(Duration::from_millis(200), true).await;
    let http = vipps_kiosk::vipps::plain_http_client();
    let body = br#"{"msn":"123456","reference":"x-1","pspReference":"p","name":"AUTHORIZED","amount":{"currency":"NOK","value":100},"timestamp":"2026-11-22T10:00:00Z","success":true}"#;
    let url = reqwest::Url::parse(&rig.receiver).unwrap();
    let host = format!("{}:{}", url.host_str().unwrap(), url.port().unwrap());
    let signed = webhooks::sign(
        "not-the-secret",
        "/vipps/webhooks?lane=1",
        &host,
        body,
        SystemTime::now(),
    );
    let resp = http
        .post(url.clone())
        .header("x-ms-date", signed.date)
        .header("x-ms-content-sha256", signed.content_sha256)
        .header("authorization", signed.authorization)
        .body(body.to_vec())
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status().as_u16(), 401);
    let unsigned = http.post(url).body(body.to_vec()).send().await.unwrap();
    assert_eq!(unsigned.status().as_u16(), 401);
    let health = rig.hub.health().webhooks.expect("webhooks on");
    assert_eq!(health.rejected, 2, "{health:?}");
    assert!(health.last_rejection.is_some());
    // The lane carries on: a payment still goes through.
    rig.pay("whk-forged-0001", Duration::from_secs(5)).await;
}

/// Behind a proxy that forwards to another Host and path, signatures hold against the URL
/// that was registered (`public_url`): the approval still arrives through the webhook. Told
/// nothing, the receiver checks the Host and path it sees, and every delivery fails (Vipps
/// then retries them).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn behind_a_proxy_signatures_are_checked_against_the_registered_url() {
    let rig = rig_via(
        Duration::from_secs(30),
        Some(Route::Proxied { public_url: true }),
    )
    .await;
    rig.pay("whk-proxy-0001", Duration::from_secs(5)).await;
    let health = rig.hub.health().webhooks.expect("on");
    assert!(health.verified >= 2 && health.rejected == 0, "{health:?}");
    assert_eq!(rig.sim.webhook_counts().failed, 0);

    let blind = rig_via(
        Duration::from_millis(200),
        Some(Route::Proxied { public_url: false }),
    )
    .await;
    blind.pay("whk-proxy-0002", Duration::from_secs(5)).await;
    let health = blind.hub.health().webhooks.expect("on");
    assert!(health.rejected >= 1 && health.verified == 0, "{health:?}");
    let counts = blind.sim.webhook_counts();
    assert!(counts.failed >= 1, "{counts:?}");
}

/// Every authentic delivery is answered 2xx, repeats and late retries included, and neither
/// is acted on; only an unauthentic one is refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn repeats_and_late_retries_are_answered_2xx_and_not_acted_on() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    let addr = free_addr();
    let url = format!("http://{addr}/vipps/webhooks");
    let secret = "the-registration-secret";
    let mut hints = webhooks::serve(
        ReceiverSetup {
            listen: addr,
            path: "/vipps/webhooks".into(),
            public_url: None,
            secret: vipps_kiosk::vipps::Secret::new(secret),
        },
        Some(hub.clone()),
    )
    .await
    .unwrap();
    drop(client);
    let http = vipps_kiosk::vipps::plain_http_client();
    let event = |reference: &str| {
        format!(
            r#"{{"msn":"123456","reference":"{reference}","pspReference":"p","name":"AUTHORIZED","amount":{{"currency":"NOK","value":100}},"timestamp":"2026-11-22T10:00:00Z","success":true}}"#
        )
        .into_bytes()
    };
    let send = |body: Vec<u8>, signed: webhooks::Signed| {
        http.post(&url)
            .header("x-ms-date", signed.date)
            .header("x-ms-content-sha256", signed.content_sha256)
            .header("authorization", signed.authorization)
            .body(body)
            .send()
    };
    let host = addr.to_string();
    let now = SystemTime::now();
    let first = event("whk-rep-0001-1");
    let signed = webhooks::sign(secret, "/vipps/webhooks", &host, &first, now);
    let status = |r: reqwest::Response| r.status().as_u16();
    assert_eq!(
        status(send(first.clone(), signed.clone()).await.unwrap()),
        200
    );
    // The same delivery byte for byte, and the same event signed anew.
    assert_eq!(status(send(first.clone(), signed).await.unwrap()), 200);
    let resigned = webhooks::sign(
        secret,
        "/vipps/webhooks",
        &host,
        &first,
        now + Duration::from_secs(2),
    );
    assert_eq!(status(send(first, resigned).await.unwrap()), 200);
    // A retry of an event never seen, dated 10 minutes ago.
    let late = event("whk-rep-0002-1");
    let old = webhooks::sign(
        secret,
        "/vipps/webhooks",
        &host,
        &late,
        now - Duration::from_secs(600),
    );
    assert_eq!(status(send(late.clone(), old).await.unwrap()), 200);
    // Forged: refused.
    let forged = webhooks::sign("not-the-secret", "/vipps/webhooks", &host, &late, now);
    assert_eq!(status(send(late, forged).await.unwrap()), 401);

    let health = hub.health().webhooks.expect("on");
    assert_eq!(
        (health.verified, health.replays, health.rejected),
        (1, 3, 1),
        "{health:?}"
    );
    // Only the first delivery asked the lane for a read; the forged one reported trouble.
    let mut inputs = Vec::new();
    while let Ok(i) = hints.try_recv() {
        inputs.push(i);
    }
    assert!(
        matches!(&inputs[..], [payment::Input::Webhook { reference, .. }, payment::Input::WebhookTrouble] if reference == "whk-rep-0001-1"),
        "{inputs:?}"
    );
}

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

/// A lane polling every `poll`, with webhooks registered at the simulator (when `webhooks`).
async fn rig(poll: Duration, webhooks: bool) -> Rig {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = Hub::new();
    let addr = free_addr();
    let receiver = format!("http://{addr}/vipps/webhooks?lane=1");
    let mut hints = None;
    let mut relaxed = None;
    if webhooks {
        let (_id, secret) = client
            .register_webhook(&receiver, &EPAYMENT_EVENTS)
            .await
            .expect("registered");
        hints = Some(
            webhooks::serve(
                ReceiverSetup {
                    listen: addr,
                    path: "/vipps/webhooks".into(),
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

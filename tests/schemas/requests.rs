//! Every request body the kiosk sends, captured on its way to the simulator (a recording
//! proxy between the kiosk's own client and it) while lanes pay orders both ways with both
//! APIs, and checked against the request schema of the official spec, `pattern`s included.

use super::common::{self, RunningLane, recorder::Recorder};
use super::validator::spec;
use reqwest::Method;
use serde_json::Value;
use std::time::Duration;
use vipps_kiosk::{
    lane::ScanEvent,
    payment::{self, Api, State},
    pos::{Command, RefundOrder, Reply},
    scan::RawScan,
    sim::{Simulator, backend::PhoneAction},
};

/// The spec and its path template for a request the kiosk sent.
fn route(method: &Method, path: &str) -> Option<(&'static str, String)> {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let m = method.as_str();
    Some(match (m, segments.as_slice()) {
        ("POST", ["epayment", "v1", "payments"]) => {
            ("epayment-openapi.yaml", "/v1/payments".into())
        }
        (
            "POST",
            [
                "epayment",
                "v1",
                "payments",
                _,
                op @ ("capture" | "cancel" | "refund"),
            ],
        ) => (
            "epayment-openapi.yaml",
            format!("/v1/payments/{{Reference}}/{op}"),
        ),
        ("POST", ["qr", "v1"]) => ("qr-openapi.yaml", "/v1".into()),
        ("POST", ["qr", "v1", "exchange"]) => ("qr-openapi.yaml", "/v1/exchange".into()),
        ("POST", ["ecomm", "v2", "payments"]) => ("ecom-openapi.yaml", "/ecomm/v2/payments".into()),
        (
            "POST" | "PUT",
            [
                "ecomm",
                "v2",
                "payments",
                _,
                op @ ("capture" | "cancel" | "refund"),
            ],
        ) => (
            "ecom-openapi.yaml",
            format!("/ecomm/v2/payments/{{orderId}}/{op}"),
        ),
        ("POST", ["webhooks", "v1", "webhooks"]) => {
            ("webhooks-openapi.yaml", "/v1/webhooks".into())
        }
        _ => return None,
    })
}

fn lane_config(api: Api, exchange: bool) -> payment::Config {
    payment::Config {
        poll_interval: Duration::from_millis(50),
        approved_display: Duration::from_millis(50),
        failed_display: Duration::from_millis(50),
        one_time_qr_api: api,
        exchange_personal_qr: exchange,
        ..payment::Config::default()
    }
}

/// Order `id` paid on `lane`: by the on-screen QR, or by scanning a personal QR first.
async fn pay(sim: &Simulator, lane: &RunningLane, id: &str, personal: bool) -> String {
    let limit = Duration::from_secs(20);
    lane.submit(id).await;
    lane.wait(
        "the QR",
        limit,
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    if personal {
        lane.scans
            .send(ScanEvent::Scan(RawScan(common::PERSONAL_QR.into())))
            .await
            .unwrap();
        lane.wait(
            "the push",
            limit,
            |s| matches!(s, State::Scanned { payment, .. } if payment.created),
        )
        .await;
    }
    let reference = match lane.state() {
        State::Waiting { payment, .. } | State::Scanned { payment, .. } => payment.reference,
        other => panic!("nothing to approve: {other:?}"),
    };
    assert!(sim.phone(&reference, PhoneAction::Approve));
    lane.wait("approved", limit, |s| matches!(s, State::Approved { .. }))
        .await;
    lane.wait("idle", limit, |s| matches!(s, State::Idle)).await;
    reference
}

async fn refund(lane: &RunningLane, id: &str, reference: &str) {
    let (reply, answer) = Reply::new();
    let order = RefundOrder {
        order_id: id.into(),
        reference: reference.into(),
        amount: vipps_kiosk::vipps::model::Amount::new(
            vipps_kiosk::vipps::model::Currency::Nok,
            100,
        ),
        refund_id: format!("refund-{id}"),
    };
    lane.commands
        .send(Command::Refund(order, reply))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), Ok(()), "refund of {id}");
}

/// What a request is, for the list of kinds the run must have covered.
fn kind(method: &Method, path: &str, body: &Value) -> String {
    let mut k = format!(
        "{method} {}",
        route(method, path).map(|r| r.1).unwrap_or_default()
    );
    if path == "/epayment/v1/payments" {
        let customer = &body["customer"];
        let with = ["phoneNumber", "personalQr"]
            .into_iter()
            .find(|f| !customer[f].is_null())
            .unwrap_or("qr");
        k.push_str(&format!(
            " ({} {with})",
            body["userFlow"].as_str().unwrap_or("")
        ));
    }
    if body["cancelTransactionOnly"] == true {
        k.push_str(" (transaction only)");
    }
    k
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_request_the_kiosk_sends_fits_the_official_schema() {
    let sim = common::simulator().await;
    let rec = Recorder::start(&sim.base_url()).await;
    let client = common::client_for(&rec.base_url());

    // ePayment: the on-screen QR, a personal QR sent as it is, then one exchanged first; a
    // staff refund.
    let lane = RunningLane::start(
        client.clone(),
        lane_config(Api::Epayment, false),
        None,
        None,
    );
    let paid = pay(&sim, &lane, "req-epay-0001", false).await;
    pay(&sim, &lane, "req-epay-0002", true).await;
    refund(&lane, "req-epay-0001", &paid).await;
    drop(lane);
    let lane = RunningLane::start(client.clone(), lane_config(Api::Epayment, true), None, None);
    pay(&sim, &lane, "req-xchg-0001", true).await;
    drop(lane);

    // eCom: the one-time QR paid, and one given up for a scanned personal QR.
    let lane = RunningLane::start(client.clone(), lane_config(Api::Ecom, false), None, None);
    let paid = pay(&sim, &lane, "req-ecom-0001", false).await;
    pay(&sim, &lane, "req-ecom-0002", true).await;
    drop(lane);
    // eCom's own refund and full cancel, which the lane does not use (refunds go through
    // ePayment, which serves eCom payments too): from the same client.
    client
        .ecom_refund(&paid, 100, "Returned", "refund-req-ecom-0001")
        .await
        .expect("eCom refund");
    let lane = RunningLane::start(client.clone(), lane_config(Api::Ecom, false), None, None);
    lane.submit("req-ecom-0003").await;
    lane.wait(
        "the QR",
        Duration::from_secs(20),
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    drop(lane);
    client
        .ecom_cancel("req-ecom-0003-1", "Cancelled")
        .await
        .expect("eCom cancel");

    // Webhooks: the registration `webhooks register` makes.
    client
        .register_webhook(
            "https://store.example/vipps/webhooks",
            &vipps_kiosk::webhooks::EPAYMENT_EVENTS,
        )
        .await
        .expect("registered");

    let mut seen = std::collections::BTreeSet::new();
    for sent in rec.sent() {
        if sent.body.is_empty() {
            continue;
        }
        let Some((file, path)) = route(&sent.method, &sent.path) else {
            panic!(
                "a body sent to an endpoint the test does not know: {} {}",
                sent.method, sent.path
            );
        };
        let body = sent.json();
        spec(file).validate_request(&path, &sent.method.as_str().to_lowercase(), &body);
        seen.insert(kind(&sent.method, &sent.path, &body));
    }
    let want = [
        "POST /v1/payments (QR qr)",
        "POST /v1/payments (PUSH_MESSAGE personalQr)",
        "POST /v1/payments (PUSH_MESSAGE phoneNumber)",
        "POST /v1/payments/{Reference}/capture",
        "POST /v1/payments/{Reference}/cancel (transaction only)",
        "POST /v1/payments/{Reference}/refund",
        "POST /v1/exchange",
        "POST /ecomm/v2/payments",
        "POST /v1",
        "POST /ecomm/v2/payments/{orderId}/capture",
        "PUT /ecomm/v2/payments/{orderId}/cancel",
        "POST /ecomm/v2/payments/{orderId}/refund",
        "POST /v1/webhooks",
    ];
    let missing: Vec<_> = want.iter().filter(|k| !seen.contains(**k)).collect();
    assert!(missing.is_empty(), "not sent: {missing:?}; sent: {seen:#?}");
}

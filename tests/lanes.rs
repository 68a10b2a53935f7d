#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! Several lanes on one sales unit: their references never collide, so one lane can never
//! follow, or report as its own, a payment another lane made for the same order id.

use std::time::Duration;
use vipps_kiosk::{
    payment::{self, State},
    sim::backend::PhoneAction,
};

mod common;

fn lane_config(prefix: &str) -> payment::Config {
    payment::Config {
        reference_prefix: prefix.into(),
        poll_interval: Duration::from_millis(50),
        approved_display: Duration::from_secs(30),
        ..payment::Config::default()
    }
}

fn reference(state: &State) -> Option<String> {
    match state {
        State::Waiting { payment, .. } if payment.created => Some(payment.reference.clone()),
        _ => None,
    }
}

#[tokio::test]
async fn two_lanes_with_the_same_order_id_pay_separately() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let one = common::RunningLane::start(client.clone(), lane_config("store7-lane-1"), None, None);
    let two = common::RunningLane::start(client, lane_config("store7-lane-2"), None, None);
    let limit = Duration::from_secs(10);
    // The same POS order id, the same basket, on both lanes.
    one.submit("shared-0001").await;
    two.submit("shared-0001").await;
    one.wait("lane 1's QR", limit, |s| reference(s).is_some())
        .await;
    two.wait("lane 2's QR", limit, |s| reference(s).is_some())
        .await;
    let (r1, r2) = (
        reference(&one.state()).unwrap(),
        reference(&two.state()).unwrap(),
    );
    assert_ne!(r1, r2, "each lane has a payment of its own");
    assert!(r1.starts_with("store7-lane-1-shared-0001-"), "{r1}");
    assert_eq!(common::payments_of(&sim, "shared-0001").len(), 2);

    // The customer at lane 1 pays; lane 2's customer has not.
    assert!(sim.phone(&r1, PhoneAction::Approve));
    one.wait("lane 1 captured", limit, |s| {
        matches!(s, State::Approved { .. })
    })
    .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert!(
        matches!(two.state(), State::Waiting { ref payment, .. } if payment.reference == r2),
        "lane 2 still waits for its own customer: {:?}",
        two.state()
    );
    let captured: Vec<_> = common::payments_of(&sim, "shared-0001")
        .into_iter()
        .filter(|p| common::amount(p, "capturedAmount") > 0)
        .map(|p| p["reference"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(captured, vec![r1]);
}

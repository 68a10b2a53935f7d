#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The edges of money against the simulator: a renewed QR approved after its successor was
//! shown, answers to a create that are lost, captures refused for good. Each test checks the
//! simulator's books: at most one capture per order, nothing left authorized.

use std::time::{Duration, Instant};
use vipps_kiosk::{
    payment::{self, State},
    sim::{ApiFault, ApiFaults, backend::PhoneAction},
};

mod common;

fn quick() -> payment::Config {
    payment::Config {
        reference_prefix: "lane-1".into(),
        poll_interval: Duration::from_millis(100),
        approved_display: Duration::from_secs(30),
        failed_display: Duration::from_secs(30),
        max_backoff: Duration::from_millis(400),
        ..payment::Config::default()
    }
}

fn captured(sim: &vipps_kiosk::sim::Simulator, order_id: &str) -> Vec<String> {
    common::payments_of(sim, order_id)
        .into_iter()
        .filter(|p| common::amount(p, "capturedAmount") > 0)
        .map(|p| p["reference"].as_str().unwrap_or_default().to_string())
        .collect()
}

/// A renewal shows a fresh QR; the customer approves the old one (still open at Vipps): it is
/// captured, and the fresh one is cancelled, never captured.
#[tokio::test]
async fn the_old_qr_approved_after_a_renewal_is_captured_once() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let lane = common::RunningLane::start(
        client,
        payment::Config {
            qr_window: Duration::from_secs(3),
            qr_renew_before: Duration::from_secs(2),
            walk_away_after: None,
            ..quick()
        },
        None,
        None,
    );
    lane.submit("edge-renew-0001").await;
    let limit = Duration::from_secs(20);
    // The renewal comes at `MIN_QR_LIFE` (30 s) at the earliest: wait for attempt 2.
    lane.wait(
        "a fresh QR",
        Duration::from_secs(45),
        |s| matches!(s, State::Waiting { attempt: 2, payment, .. } if payment.created),
    )
    .await;
    let payments = common::payments_of(&sim, "edge-renew-0001");
    assert_eq!(payments.len(), 2);
    assert_eq!(
        payments[0]["state"], "CREATED",
        "the old QR was not cancelled"
    );
    assert!(sim.phone("lane-1-edge-renew-0001-1", PhoneAction::Approve));
    lane.wait("captured", limit, |s| matches!(s, State::Approved { .. }))
        .await;
    // The fresh QR is cancelled; the books show one capture and nothing open.
    let start = Instant::now();
    loop {
        let payments = common::payments_of(&sim, "edge-renew-0001");
        if payments[1]["state"] == "TERMINATED" {
            break;
        }
        assert!(start.elapsed() < limit, "{payments:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        captured(&sim, "edge-renew-0001"),
        vec!["lane-1-edge-renew-0001-1".to_string()]
    );
    common::assert_nothing_left_authorized(&common::payments_of(&sim, "edge-renew-0001"));
}

/// Every answer to the create is lost for a while: the payment (which exists at Vipps) is
/// read, never created again, and an approval is seen within a poll interval or so of the
/// fault clearing.
#[tokio::test]
async fn lost_create_answers_are_read_back_and_the_approval_seen_soon_after() {
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let lane = common::RunningLane::start(client, quick(), None, None);
    sim.set_faults(ApiFaults {
        rules: vec![
            ApiFault {
                endpoint: "create".into(),
                drop_answer: 1.0,
                ..ApiFault::default()
            },
            ApiFault {
                endpoint: "get".into(),
                drop_answer: 1.0,
                ..ApiFault::default()
            },
        ],
        ..ApiFaults::default()
    });
    lane.submit("edge-lost-0001").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let payments = common::payments_of(&sim, "edge-lost-0001");
    assert_eq!(payments.len(), 1, "one payment at Vipps: {payments:#?}");
    let reference = payments[0]["reference"].as_str().unwrap().to_string();
    // The customer approves while the answers are still lost; then the fault clears.
    assert!(sim.phone(&reference, PhoneAction::Approve));
    sim.set_faults(ApiFaults::default());
    let seen = lane
        .wait("approved after the fault", Duration::from_secs(10), |s| {
            matches!(s, State::Capturing { .. } | State::Approved { .. })
        })
        .await;
    assert!(
        seen < Duration::from_millis(1500),
        "seen {seen:?} after the fault cleared (poll interval 100 ms)"
    );
    lane.wait("captured", Duration::from_secs(10), |s| {
        matches!(s, State::Approved { .. })
    })
    .await;
    assert_eq!(common::payments_of(&sim, "edge-lost-0001").len(), 1);
    assert_eq!(captured(&sim, "edge-lost-0001"), vec![reference]);
}

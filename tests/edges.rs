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

/// A lane stopped (as by a crash) after a renewal, while the old QR is still open at Vipps;
/// the customer approves the old one while it is down. Restarted on its journal, the lane
/// follows the old QR again, captures it once, and cancels the fresh one.
#[tokio::test]
async fn after_a_restart_the_old_qr_of_a_renewed_order_is_still_followed() {
    use std::sync::{Arc, Mutex};
    use vipps_kiosk::lane::{self, Inputs, Lane};
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let dir = std::env::temp_dir().join(format!("kiosk-edges-restart-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let path = dir.join("journal.jsonl");
    let config = payment::Config {
        qr_window: Duration::from_secs(3),
        qr_renew_before: Duration::from_secs(2),
        walk_away_after: None,
        ..quick()
    };
    let start = |config: payment::Config| {
        let lane = Arc::new(Mutex::new(
            Lane::open(config, &path, None).expect("journal"),
        ));
        let (feed, inputs) = Inputs::channel();
        let task = tokio::spawn(lane::run(
            lane.clone(),
            client.clone(),
            inputs,
            Duration::from_millis(20),
        ));
        (lane, feed, task)
    };
    let state = |lane: &Arc<Mutex<Lane>>| lane.lock().unwrap().machine().state().clone();
    let (first, feed, task) = start(config.clone());
    let (reply, answer) = vipps_kiosk::pos::Reply::new();
    feed.commands
        .send(vipps_kiosk::pos::Command::Submit(
            Box::new(common::order("edge-restart-0001")),
            reply,
        ))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), Ok(()));
    let deadline = Instant::now() + Duration::from_secs(45);
    while !matches!(state(&first), State::Waiting { attempt: 2, ref payment, .. } if payment.created)
    {
        assert!(Instant::now() < deadline, "renewed: {:?}", state(&first));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // The crash.
    task.abort();
    let _ = task.await;
    drop(feed);
    drop(first);
    assert!(sim.phone("lane-1-edge-restart-0001-1", PhoneAction::Approve));
    // The restart.
    let (second, _feed, _task) = start(config);
    let deadline = Instant::now() + Duration::from_secs(20);
    while !matches!(state(&second), State::Approved { .. }) {
        assert!(Instant::now() < deadline, "captured: {:?}", state(&second));
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let payments = common::payments_of(&sim, "edge-restart-0001");
        if payments.get(1).is_some_and(|p| p["state"] == "TERMINATED") {
            break;
        }
        assert!(Instant::now() < deadline, "{payments:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert_eq!(
        captured(&sim, "edge-restart-0001"),
        vec!["lane-1-edge-restart-0001-1".to_string()]
    );
    common::assert_nothing_left_authorized(&common::payments_of(&sim, "edge-restart-0001"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Vipps refuses every capture of an approved payment: after a bounded number of rounds the
/// authorization is released (cancelled, never captured), the POS hears the order failed with
/// `captureRefused`, and the lane takes the next order, which is captured once the fault ends.
#[tokio::test]
async fn a_capture_refused_for_good_releases_the_money_and_frees_the_lane() {
    use vipps_kiosk::payment::{FailureReason, OrderStatus};
    use vipps_kiosk::sim::Refuse;
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = vipps_kiosk::pos::Hub::new();
    let lane = common::RunningLane::start(client, quick(), Some(hub.clone()), None);
    sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            endpoint: "capture".into(),
            refuse: Some(Refuse {
                status: 400,
                code: None,
                share: 1.0,
            }),
            ..ApiFault::default()
        }],
        ..ApiFaults::default()
    });
    lane.submit("edge-refcap-0001").await;
    lane.wait(
        "a QR",
        Duration::from_secs(10),
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    assert!(sim.phone("lane-1-edge-refcap-0001-1", PhoneAction::Approve));
    lane.wait("given up", Duration::from_secs(20), |s| {
        matches!(s, State::Failed { .. })
    })
    .await;
    // Released: cancelled at Vipps, nothing captured, nothing left authorized.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let payments = common::payments_of(&sim, "edge-refcap-0001");
        if common::amount(&payments[0], "cancelledAmount") > 0 {
            break;
        }
        assert!(Instant::now() < deadline, "not released: {payments:#?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(captured(&sim, "edge-refcap-0001").is_empty());
    common::assert_nothing_left_authorized(&common::payments_of(&sim, "edge-refcap-0001"));
    let refused = sim.fault_counts().refused;
    assert_eq!(
        refused, 3,
        "three rounds of capture (each a fresh key after reading the payment back), not a loop"
    );
    let record = hub
        .get("edge-refcap-0001")
        .expect("the POS knows the order");
    assert_eq!(record.status, OrderStatus::Failed);
    assert_eq!(record.reason, Some(FailureReason::CaptureRefused));
    // The lane is ready: the next order is paid and captured once Vipps captures again.
    sim.set_faults(ApiFaults::default());
    lane.submit("edge-refcap-0002").await;
    lane.wait(
        "the next QR",
        Duration::from_secs(10),
        |s| matches!(s, State::Waiting { payment, .. } if payment.created),
    )
    .await;
    assert!(sim.phone("lane-1-edge-refcap-0002-1", PhoneAction::Approve));
    lane.wait("captured", Duration::from_secs(10), |s| {
        matches!(s, State::Approved { .. })
    })
    .await;
    assert_eq!(
        captured(&sim, "edge-refcap-0002"),
        vec!["lane-1-edge-refcap-0002-1".to_string()]
    );
}

/// Vipps refuses every payment this lane creates (a sales unit switched off, say): each order
/// ends `createRefused` after a bounded number of tries, and after two such orders the lane is
/// out of service for a while, saying why in health, and refuses new orders with that answer
/// instead of trying again and again.
#[tokio::test]
async fn creates_refused_for_good_end_the_order_then_take_the_lane_out_of_service() {
    use vipps_kiosk::payment::{FailureReason, OrderStatus};
    use vipps_kiosk::pos::{Command, Refusal, Reply};
    use vipps_kiosk::sim::Refuse;
    let sim = common::simulator().await;
    let client = common::client_for(&sim.base_url());
    let hub = vipps_kiosk::pos::Hub::new();
    let config = payment::Config {
        failed_display: Duration::from_millis(300),
        ..quick()
    };
    let lane = common::RunningLane::start(client, config, Some(hub.clone()), None);
    sim.set_faults(ApiFaults {
        rules: vec![ApiFault {
            endpoint: "create".into(),
            refuse: Some(Refuse {
                status: 403,
                code: None,
                share: 1.0,
            }),
            ..ApiFault::default()
        }],
        ..ApiFaults::default()
    });
    for id in ["edge-refcr-0001", "edge-refcr-0002"] {
        lane.submit(id).await;
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let record = hub.get(id).expect("known");
            // An attempt fails (`serviceTrouble`) and is tried again; the order ends refused.
            if record.reason == Some(FailureReason::CreateRefused) {
                assert_eq!(record.status, OrderStatus::Failed);
                break;
            }
            assert!(Instant::now() < deadline, "still {record:?}");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        assert!(common::payments_of(&sim, id).is_empty(), "nothing made");
    }
    let refused = sim.fault_counts().refused;
    assert_eq!(refused, 4, "two tries per order, no more");
    let health = hub.health();
    let reason = health.out_of_service.expect("health says why");
    assert!(reason.contains("refus"), "{reason}");
    let (reply, answer) = Reply::new();
    lane.commands
        .send(Command::Submit(
            Box::new(common::order("edge-refcr-0003")),
            reply,
        ))
        .await
        .unwrap();
    assert_eq!(answer.await.unwrap(), Err(Refusal::OutOfService));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(sim.fault_counts().refused, refused, "no more tries");
}

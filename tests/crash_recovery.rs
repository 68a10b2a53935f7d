#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The crash-safe journal, tested the hard way: the real binary (`--headless`, POS API, stdin
//! scanner, journal) is killed with SIGKILL at every step of a flow, then restarted. A step is
//! a journal write (the requests it records have not gone out yet) or an API answer arriving
//! (Vipps has acted; the kiosk has not recorded it). The kiosk freezes itself at step k
//! (`KIOSK_TEST_FREEZE_AT`) and the test kills it there, for k = 1, 2, … until a run finishes
//! without reaching step k.
//!
//! After each run the simulator's books must show exactly one captured payment for a paid
//! order (none for a withdrawn one), no payment left authorized, and the POS API, asked again
//! after one more restart, must tell the same.

use serde_json::{Value, json};
use std::time::{Duration, Instant};
use vipps_kiosk::sim::{Simulator, backend::PhoneAction};

mod common;

use common::kiosk::LaneRig;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Flow {
    /// The customer scans the on-screen QR and approves.
    OneTimeQr,
    /// The customer shows a personal QR to the scanner and approves the push.
    PersonalQr,
    /// The POS withdraws the order while the QR is showing.
    Withdraw,
}

struct Rig {
    sim: Simulator,
    lane: LaneRig,
}

impl Rig {
    async fn new(name: &str) -> Rig {
        let sim = common::simulator().await;
        let lane = LaneRig::new(&format!("crash-{name}"), &sim.base_url(), "", "");
        Rig { sim, lane }
    }

    fn payments_of(&self, order_id: &str) -> Vec<Value> {
        common::payments_of(&self.sim, order_id)
    }
}

impl std::ops::Deref for Rig {
    type Target = LaneRig;
    fn deref(&self) -> &LaneRig {
        &self.lane
    }
}

use common::amount;

/// One run of `flow` with a freeze at step `freeze_at`. Returns whether the freeze happened.
async fn run(rig: &Rig, flow: Flow, freeze_at: u64) -> bool {
    rig.reset_journal();
    let order = common::order(&format!("crash-{freeze_at:03}-{}", flow as u8));
    let order_id = order.order_id.clone();
    let total = order.total_amount;
    let mut kiosk = rig.start(Some(freeze_at)).await;
    let mut froze = false;
    let mut withdrawn = false;
    // Push flow: the QR payments this kiosk process has been shown a personal QR for.
    let mut scanned_for: Vec<String> = Vec::new();
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(30),
            "{flow:?} with a freeze at step {freeze_at} never finished; payments {:#?}\nlog:\n{}",
            rig.payments_of(&order_id),
            kiosk.log()
        );
        if kiosk.frozen() {
            assert!(!froze, "frozen twice");
            froze = true;
            kiosk.kill();
            kiosk = rig.start(None).await;
            scanned_for.clear();
            continue;
        }
        kiosk.assert_running();
        let status = match rig.get(&format!("/v1/orders/{order_id}")).await {
            Some((200, v)) => v["status"].as_str().unwrap_or_default().to_string(),
            Some((404, _)) => String::new(),
            _ => {
                tokio::time::sleep(Duration::from_millis(20)).await;
                continue;
            }
        };
        if status.is_empty() {
            // Not (durably) taken yet: send it (again, as a POS does when the answer was lost
            // with the process).
            rig.post("/v1/orders", serde_json::to_value(&order).unwrap())
                .await;
            continue;
        }
        let payments = rig.payments_of(&order_id);
        let created = |flow: &str| {
            payments
                .iter()
                .filter(|p| p["state"] == "CREATED" && p["userFlow"] == flow)
                .filter_map(|p| p["reference"].as_str().map(str::to_string))
                .collect::<Vec<_>>()
        };
        let settled = payments.iter().all(|p| {
            p["state"] != "CREATED"
                && (p["state"] != "AUTHORIZED"
                    || amount(p, "capturedAmount") + amount(p, "cancelledAmount")
                        >= amount(p, "authorizedAmount"))
        });
        let want = if flow == Flow::Withdraw {
            "cancelled"
        } else {
            "captured"
        };
        if status == want && settled {
            break;
        }
        match flow {
            Flow::OneTimeQr => {
                for r in created("QR") {
                    rig.sim.phone(&r, PhoneAction::Approve);
                }
            }
            Flow::PersonalQr => {
                for r in created("QR") {
                    if status == "waiting" && !scanned_for.contains(&r) {
                        kiosk.scan(common::PERSONAL_QR);
                        scanned_for.push(r);
                    }
                }
                for r in created("PUSH_MESSAGE") {
                    rig.sim.phone(&r, PhoneAction::Approve);
                }
            }
            Flow::Withdraw => {
                if !withdrawn && !created("QR").is_empty() {
                    withdrawn = rig
                        .post(&format!("/v1/orders/{order_id}/cancel"), json!({}))
                        .await
                        .is_some_and(|s| s == 202);
                }
            }
        }
        tokio::time::sleep(Duration::from_millis(30)).await;
    }
    kiosk.kill();

    // The simulator's books.
    let payments = rig.payments_of(&order_id);
    let captured: Vec<&Value> = payments
        .iter()
        .filter(|p| amount(p, "capturedAmount") > 0)
        .collect();
    match flow {
        Flow::Withdraw => assert!(captured.is_empty(), "{payments:#?}"),
        _ => {
            assert_eq!(captured.len(), 1, "exactly one capture: {payments:#?}");
            assert_eq!(amount(captured[0], "capturedAmount"), total);
        }
    }
    if flow == Flow::PersonalQr {
        assert_eq!(captured[0]["userFlow"], "PUSH_MESSAGE", "{payments:#?}");
    }
    common::assert_nothing_left_authorized(&payments);
    // The POS hears the truth from the journal after one more restart.
    let kiosk = rig.start(None).await;
    let (code, record) = rig
        .get(&format!("/v1/orders/{order_id}"))
        .await
        .expect("the POS API answers");
    assert_eq!(code, 200, "{record}");
    match flow {
        Flow::Withdraw => assert_eq!(record["status"], "cancelled", "{record}"),
        _ => {
            assert_eq!(record["status"], "captured", "{record}");
            assert_eq!(record["capturedAmount"], total, "{record}");
            let reference = captured[0]["reference"].as_str().unwrap();
            assert!(
                record["references"]
                    .as_array()
                    .unwrap()
                    .iter()
                    .any(|r| r == reference),
                "{record}"
            );
        }
    }
    let (_, health) = rig.get("/v1/health").await.unwrap();
    assert_eq!(health["journal"], "ok", "{health}");
    kiosk.kill();
    froze
}

/// Kills the kiosk at step 1, 2, … of `flow` until a run gets through without reaching the
/// step; returns how many steps were covered.
async fn every_step(flow: Flow) -> u64 {
    let rig = Rig::new(&format!("{flow:?}")).await;
    let mut k = 1;
    while run(&rig, flow, k).await {
        k += 1;
        assert!(k < 200, "{flow:?} never ran through");
    }
    let _ = std::fs::remove_dir_all(&rig.dir);
    eprintln!("{flow:?}: killed and recovered at each of {} steps", k - 1);
    k - 1
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_time_qr_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::OneTimeQr).await;
    // Order + create, created, a poll or more, approved + capture, captured.
    assert!(steps >= 5, "only {steps} steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn personal_qr_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::PersonalQr).await;
    assert!(steps >= 8, "only {steps} steps");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn withdrawal_survives_a_kill_at_every_step() {
    let steps = every_step(Flow::Withdraw).await;
    assert!(steps >= 4, "only {steps} steps");
}

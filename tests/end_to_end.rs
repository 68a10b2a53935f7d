#![allow(clippy::expect_used, clippy::unwrap_used)] // a failed setup step should stop a test loudly
//! The whole chain without a window: simulator ↔ Vipps client ↔ payment machine, driven through
//! the same `driver::execute` the app uses. Each test checks the simulator's own books: exactly
//! one captured payment per paid order, every other payment ended without money.

use serde_json::Value;
use std::time::{Duration, Instant};
use vipps_kiosk::{
    lane::driver,
    payment::{self, Api, FailureReason, Input, Machine, Method, Order, State},
    scan::RawScan,
    sim::{Simulator, backend::PhoneAction},
    ui::qr,
    vipps::{self},
};

mod common;
use common::PERSONAL_QR;

struct Lane {
    sim: Simulator,
    client: vipps::Client,
    machine: Machine,
}

fn order(id: &str) -> Order {
    common::order(id)
}

async fn lane() -> Lane {
    lane_with(false).await
}

/// `exchange`: personal QRs are exchanged for the phone number first (QR API).
async fn lane_with(exchange: bool) -> Lane {
    lane_from(payment::Config {
        exchange_personal_qr: exchange,
        ..payment::Config::default()
    })
    .await
}

/// A lane whose machine has `config`, polling fast.
async fn lane_from(config: payment::Config) -> Lane {
    // A kiosk that fetches Vipps' QR image from a simulator gets links to the simulator
    // itself (as `cli::parts` starts it); else Vipps' own.
    let links = if config.qr_image {
        vipps_kiosk::sim::Links::Local
    } else {
        vipps_kiosk::sim::Links::Vipps
    };
    let sim = vipps_kiosk::sim::Simulator::start(
        std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
        vipps_kiosk::sim::SimConfig {
            currency: Some(vipps_kiosk::vipps::model::Currency::Nok),
            links,
            ..vipps_kiosk::sim::SimConfig::default()
        },
    )
    .await
    .expect("simulator starts");
    let client = common::client_for(&sim.base_url());
    let machine = Machine::new(payment::Config {
        poll_interval: Duration::from_millis(50),
        failed_display: Duration::from_millis(200),
        approved_display: Duration::from_secs(60),
        ..config
    });
    Lane {
        sim,
        client,
        machine,
    }
}

impl Lane {
    /// Feeds `input`, then carries out every effect (and the effects of their answers).
    async fn feed(&mut self, input: Input) {
        let mut queue = vec![input];
        while let Some(input) = queue.pop() {
            for effect in self.machine.step(input, Instant::now()) {
                if let Some(answer) = driver::execute(self.client.clone(), effect).await {
                    queue.push(answer);
                }
            }
        }
    }

    /// Ticks until `done` holds (at most five seconds).
    async fn run_until(&mut self, what: &str, done: impl Fn(&State) -> bool) {
        let start = Instant::now();
        while !done(self.machine.state()) {
            assert!(
                start.elapsed() < Duration::from_secs(5),
                "timed out waiting for {what}; state {:?}",
                self.machine.state()
            );
            self.feed(Input::Tick).await;
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    fn sim_payments(&self) -> Vec<Value> {
        self.sim.payments()
    }

    /// The simulator's books: (captured references, references still open).
    fn books(&self) -> (Vec<String>, Vec<String>) {
        let mut captured = Vec::new();
        let mut open = Vec::new();
        for p in self.sim_payments() {
            let reference = p["reference"].as_str().unwrap_or_default().to_string();
            let captured_value = p["aggregate"]["capturedAmount"]["value"]
                .as_i64()
                .unwrap_or(0);
            let authorized = p["aggregate"]["authorizedAmount"]["value"]
                .as_i64()
                .unwrap_or(0);
            let cancelled = p["aggregate"]["cancelledAmount"]["value"]
                .as_i64()
                .unwrap_or(0);
            if captured_value > 0 {
                captured.push(reference.clone());
            }
            let state = p["state"].as_str().unwrap_or_default();
            if state == "CREATED"
                || (state == "AUTHORIZED" && captured_value + cancelled < authorized)
            {
                open.push(reference);
            }
        }
        (captured, open)
    }
}

fn decode_qr(text: &str) -> String {
    let (side, px) = qr::render_luma(text).expect("encodes");
    let mut img = rqrr::PreparedImage::prepare_from_greyscale(side, side, |x, y| px[y * side + x]);
    let grids = img.detect_grids();
    assert_eq!(grids.len(), 1, "one QR code in the bitmap");
    grids[0].decode().expect("decodes").1
}

/// The reference of the payment the lane is on now.
fn current_reference(lane: &Lane) -> String {
    lane.machine
        .payment()
        .map(|p| p.reference.clone())
        .unwrap_or_default()
}

fn waiting_qr(state: &State) -> bool {
    matches!(state, State::Waiting { payment, .. } if payment.qr.is_some())
}

#[tokio::test]
async fn one_time_qr_pays_and_captures_once() {
    let mut lane = lane().await;
    let o = order("e2e-qr-0001");
    let total = o.total_amount;
    lane.feed(Input::OrderReceived(o)).await;
    lane.run_until("the QR", waiting_qr).await;

    // What the screen shows decodes to the simulator's target URL for this payment.
    let shown = lane
        .machine
        .payment()
        .and_then(|p| p.qr.clone())
        .expect("qr text");
    let sim_view = &lane.sim_payments()[0];
    assert_eq!(sim_view["userFlow"], "QR");
    assert_eq!(
        sim_view["receipt"]["orderLines"].as_array().map(Vec::len),
        Some(6)
    );
    assert_eq!(
        decode_qr(&shown),
        sim_view["qrTargetUrl"].as_str().unwrap_or_default()
    );

    let reference = current_reference(&lane);
    assert!(lane.sim.phone(&reference, PhoneAction::Approve));
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;

    let State::Approved {
        captured, method, ..
    } = lane.machine.state()
    else {
        unreachable!()
    };
    assert_eq!((captured.value, *method), (total, Method::OneTimeQr));
    let (captured_refs, open) = lane.books();
    assert_eq!(captured_refs, vec![reference]);
    assert!(open.is_empty(), "nothing left open: {open:?}");
}

#[tokio::test]
async fn personal_qr_cancels_the_qr_payment_and_pushes() {
    let mut lane = lane().await;
    lane.feed(Input::OrderReceived(order("e2e-push-0001")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until(
        "the push",
        |s| matches!(s, State::Scanned { payment, .. } if payment.created),
    )
    .await;

    let payments = lane.sim_payments();
    assert_eq!(payments.len(), 2);
    assert_eq!(
        payments[0]["state"], "TERMINATED",
        "the one-time QR payment was cancelled first"
    );
    assert_eq!(payments[1]["userFlow"], "PUSH_MESSAGE");
    assert_eq!(
        payments[1]["customer"]["personalQr"], PERSONAL_QR,
        "the whole scan is forwarded"
    );

    let reference = payments[1]["reference"]
        .as_str()
        .unwrap_or_default()
        .to_string();
    assert!(lane.sim.phone(&reference, PhoneAction::Approve));
    lane.run_until("approved", |s| {
        matches!(
            s,
            State::Approved {
                method: Method::PersonalQr,
                ..
            }
        )
    })
    .await;
    let (captured, open) = lane.books();
    assert_eq!(captured, vec![reference]);
    assert!(open.is_empty(), "{open:?}");
}

#[tokio::test]
async fn qr_approved_just_before_a_scan_is_the_one_captured() {
    let mut lane = lane().await;
    lane.feed(Input::OrderReceived(order("e2e-race-0001")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    let qr_reference = current_reference(&lane);
    // The customer approves the on-screen QR while also showing a personal QR to the scanner.
    assert!(lane.sim.phone(&qr_reference, PhoneAction::Approve));
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;

    let (captured, open) = lane.books();
    assert_eq!(captured, vec![qr_reference]);
    assert!(open.is_empty());
    assert_eq!(lane.sim_payments().len(), 1, "no push payment was created");
}

#[tokio::test]
async fn rejected_push_fails_then_offers_a_fresh_qr() {
    let mut lane = lane().await;
    lane.feed(Input::OrderReceived(order("e2e-reject-01")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until(
        "the push",
        |s| matches!(s, State::Scanned { payment, .. } if payment.created),
    )
    .await;
    let push = current_reference(&lane);
    assert!(lane.sim.phone(&push, PhoneAction::Reject));
    lane.run_until("the failure", |s| {
        matches!(
            s,
            State::Failed {
                reason: FailureReason::CancelledInApp,
                ..
            }
        )
    })
    .await;
    lane.run_until("a fresh QR", waiting_qr).await;
    let fresh = current_reference(&lane);
    assert_eq!(fresh, "e2e-reject-01-3");
    let (captured, _) = lane.books();
    assert!(captured.is_empty());
}

#[tokio::test]
async fn unknown_customer_and_garbage_scans() {
    let mut lane = lane().await;
    lane.feed(Input::OrderReceived(order("e2e-errors-01")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    // Garbage: a notice, and no API call at all.
    lane.feed(Input::Scan(RawScan("7038010055680".into())))
        .await;
    assert_eq!(lane.sim_payments().len(), 1);
    assert!(waiting_qr(lane.machine.state()));
    // A Vipps code the simulator knows no customer for (7010).
    let unknown = format!("{}-x", vipps_kiosk::sim::backend::TEST_QR_NOT_FOUND_PREFIX);
    lane.feed(Input::Scan(RawScan(unknown))).await;
    lane.run_until("the failure", |s| {
        matches!(
            s,
            State::Failed {
                reason: FailureReason::CustomerNotFound,
                ..
            }
        )
    })
    .await;
}

#[tokio::test]
async fn withdrawn_order_leaves_nothing_open() {
    let mut lane = lane().await;
    lane.feed(Input::OrderReceived(order("e2e-withdraw-1")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    lane.feed(Input::OrderWithdrawn("e2e-withdraw-1".into()))
        .await;
    lane.run_until("ended", |s| matches!(s, State::Failed { order: None, .. }))
        .await;
    let (captured, open) = lane.books();
    assert!(
        captured.is_empty() && open.is_empty(),
        "{captured:?} {open:?}"
    );
}

#[tokio::test]
async fn exchanged_personal_qr_pushes_to_the_phone_number() {
    let mut lane = lane_with(true).await;
    lane.feed(Input::OrderReceived(order("e2e-exch-0001")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until(
        "the push",
        |s| matches!(s, State::Scanned { payment, .. } if payment.created),
    )
    .await;
    let payments = lane.sim_payments();
    assert_eq!(payments[1]["userFlow"], "PUSH_MESSAGE");
    let customer = &payments[1]["customer"];
    assert!(customer["personalQr"].is_null(), "{customer}");
    let number = customer["phoneNumber"].as_str().unwrap_or_default();
    assert!(
        number.len() == 10 && number.starts_with("47"),
        "the exchanged MSISDN: {customer}"
    );
    let reference = payments[1]["reference"].as_str().unwrap().to_string();
    assert!(lane.sim.phone(&reference, PhoneAction::Approve));
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;
    let (captured, open) = lane.books();
    assert_eq!(captured, vec![reference]);
    assert!(open.is_empty(), "{open:?}");
}

/// An unknown customer reads as "not found" (7010 from the push), never as a wrong number; an
/// invalid code as "not a Vipps code" (the exchange's 400). No money moves either way.
#[tokio::test]
async fn exchange_errors_reach_the_customer_as_the_right_message() {
    use vipps_kiosk::sim::backend::{TEST_QR_INVALID_PREFIX, TEST_QR_NOT_FOUND_PREFIX};
    for (code, reason) in [
        (
            format!("{TEST_QR_NOT_FOUND_PREFIX}-x"),
            FailureReason::CustomerNotFound,
        ),
        (
            format!("{TEST_QR_INVALID_PREFIX}-x"),
            FailureReason::NotVippsCode,
        ),
    ] {
        let mut lane = lane_with(true).await;
        lane.feed(Input::OrderReceived(order("e2e-exch-0002")))
            .await;
        lane.run_until("the QR", waiting_qr).await;
        lane.feed(Input::Scan(RawScan(code.clone()))).await;
        lane.run_until(
            "the failure",
            |s| matches!(s, State::Failed { reason: r, .. } if *r == reason),
        )
        .await;
        let (captured, open) = lane.books();
        assert!(
            captured.is_empty() && open.is_empty(),
            "{captured:?} {open:?}"
        );
    }
}

// ---- the legacy eCom flow and Vipps' QR images -------------------------------------------

async fn ecom_lane() -> Lane {
    lane_from(payment::Config {
        one_time_qr_api: Api::Ecom,
        ..payment::Config::default()
    })
    .await
}

/// The phone opens what the QR on screen says: a Vipps target URL (`https://qr.vipps.no/C`),
/// which the simulator's control API opens by its code.
async fn open_in_phone(sim: &vipps_kiosk::sim::Simulator, target: &str) {
    let code = target
        .strip_prefix("https://qr.vipps.no/")
        .unwrap_or_else(|| panic!("a Vipps target URL: {target}"));
    let status = vipps::plain_http_client()
        .get(format!("{}/_sim/qr/{code}", sim.base_url()))
        .send()
        .await
        .expect("the QR's target answers")
        .status();
    assert!(status.is_success(), "opening the QR: {status}");
}

#[tokio::test]
async fn ecom_qr_shows_opened_then_pays_and_captures_once() {
    let mut lane = ecom_lane().await;
    let o = order("e2e-ecom-0001");
    let total = o.total_amount;
    lane.feed(Input::OrderReceived(o)).await;
    lane.run_until("the QR", waiting_qr).await;
    let reference = current_reference(&lane);
    let sim_view = &lane.sim_payments()[0];
    assert_eq!(sim_view["api"], "ecom", "made with the eCom API");
    let shown = lane
        .machine
        .payment()
        .and_then(|p| p.qr.clone())
        .expect("qr");
    let target = decode_qr(&shown);
    assert_eq!(target, sim_view["qrTargetUrl"].as_str().unwrap_or_default());

    // Opening the QR in the app is what eCom (unlike ePayment) reports: "approve in the app".
    open_in_phone(&lane.sim, &target).await;
    lane.run_until("opened", |s| {
        matches!(s, State::Scanned { payment, .. } if payment.opened && payment.method == Method::OneTimeQr)
    })
    .await;

    assert!(lane.sim.phone(&reference, PhoneAction::Approve));
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;
    let State::Approved { captured, .. } = lane.machine.state() else {
        unreachable!()
    };
    assert_eq!(captured.value, total);
    let (captured_refs, open) = lane.books();
    assert_eq!(captured_refs, vec![reference.clone()]);
    assert!(open.is_empty(), "{open:?}");

    // eCom's own log: one successful capture, carrying the X-Request-Id the kiosk sent.
    let details = lane.client.ecom_details(&reference).await.expect("details");
    let captures: Vec<_> = details
        .transaction_log_history
        .iter()
        .filter(|e| e.operation == vipps::ecom::Operation::Capture)
        .collect();
    assert_eq!(captures.len(), 1, "{details:?}");
    assert!(captures[0].operation_success);
    assert_eq!(
        captures[0].request_id.as_deref(),
        Some(vipps::ecom::request_id(&format!("capture1-{reference}")).as_str())
    );
}

#[tokio::test]
async fn ecom_qr_is_cancelled_before_a_push_and_an_approved_one_is_kept() {
    // A personal QR while the eCom QR is live: the eCom payment ends, the push is ePayment.
    let mut lane = ecom_lane().await;
    lane.feed(Input::OrderReceived(order("e2e-ecom-0002")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until(
        "the push",
        |s| matches!(s, State::Scanned { payment, .. } if payment.created && payment.method == Method::PersonalQr),
    )
    .await;
    let payments = lane.sim_payments();
    assert_eq!(
        (payments[0]["api"].as_str(), payments[0]["state"].as_str()),
        (Some("ecom"), Some("TERMINATED"))
    );
    assert_eq!(payments[1]["api"], "epayment");
    let push = payments[1]["reference"].as_str().unwrap().to_string();
    assert!(lane.sim.phone(&push, PhoneAction::Approve));
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;
    let (captured, open) = lane.books();
    assert_eq!(captured, vec![push]);
    assert!(open.is_empty(), "{open:?}");

    // Approved on the phone just before the scan: eCom has no cancelTransactionOnly, yet the
    // kiosk keeps that payment and captures it, and creates no push.
    let mut lane = ecom_lane().await;
    lane.feed(Input::OrderReceived(order("e2e-ecom-0003")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    let qr_reference = current_reference(&lane);
    assert!(lane.sim.phone(&qr_reference, PhoneAction::Approve));
    lane.feed(Input::Scan(RawScan(PERSONAL_QR.into()))).await;
    lane.run_until("approved", |s| matches!(s, State::Approved { .. }))
        .await;
    let (captured, open) = lane.books();
    assert_eq!(captured, vec![qr_reference]);
    assert!(open.is_empty(), "{open:?}");
    assert_eq!(lane.sim_payments().len(), 1, "no push payment was created");
}

#[tokio::test]
async fn ecom_cancel_after_opening_and_withdrawal_leave_nothing_open() {
    let mut lane = ecom_lane().await;
    lane.feed(Input::OrderReceived(order("e2e-ecom-0004")))
        .await;
    lane.run_until("the QR", waiting_qr).await;
    let first = current_reference(&lane);
    assert!(lane.sim.phone(&first, PhoneAction::Open));
    lane.run_until(
        "opened",
        |s| matches!(s, State::Scanned { payment, .. } if payment.opened),
    )
    .await;
    // Cancel tapped while the payment is open in the app: not cancelled under the customer (an
    // approval under way would be voided); once they close it there, a fresh QR follows.
    lane.feed(Input::CancelTapped).await;
    for _ in 0..20 {
        lane.feed(Input::Tick).await;
    }
    let state = lane.machine.state();
    assert!(!waiting_qr(state), "{state:?}");
    assert!(lane.sim.phone(&first, PhoneAction::Reject), "still open");
    lane.run_until("a fresh QR", |s| {
        waiting_qr(s) && !matches!(s, State::Waiting { payment, .. } if payment.reference == first)
    })
    .await;
    // The customer rejects in the app after opening the new one: "cancelled in the app".
    let second = current_reference(&lane);
    assert!(lane.sim.phone(&second, PhoneAction::Reject));
    lane.run_until("the failure", |s| {
        matches!(
            s,
            State::Failed {
                reason: FailureReason::CancelledInApp,
                ..
            }
        )
    })
    .await;
    lane.run_until("a third QR", waiting_qr).await;
    // Approved in the app, and the POS withdraws the order before the kiosk saw it: the
    // approval is released (eCom VOID), nothing captured.
    let third = current_reference(&lane);
    assert!(lane.sim.phone(&third, PhoneAction::Approve));
    lane.feed(Input::OrderWithdrawn("e2e-ecom-0004".into()))
        .await;
    lane.run_until("ended", |s| matches!(s, State::Failed { order: None, .. }))
        .await;
    let (captured, open) = lane.books();
    assert!(open.is_empty(), "nothing left open: {open:?}");
    assert!(captured.is_empty(), "{captured:?}");
    let third_view = lane
        .sim_payments()
        .into_iter()
        .find(|p| p["reference"] == third.as_str())
        .expect("third payment");
    assert_eq!(
        third_view["aggregate"]["cancelledAmount"]["value"],
        third_view["amount"]["value"]
    );
}

/// `qr_source = "vipps-image"`: the QR on screen is Vipps' PNG, for both APIs. It decodes to
/// the payment's target, and its link answers 404 once the QR is no longer open.
#[tokio::test]
async fn vipps_image_qr_is_a_png_that_decodes_and_expires() {
    for api in [Api::Epayment, Api::Ecom] {
        let mut lane = lane_from(payment::Config {
            one_time_qr_api: api,
            qr_image: true,
            ..payment::Config::default()
        })
        .await;
        lane.feed(Input::OrderReceived(order("e2e-image-0001")))
            .await;
        lane.run_until("the QR", waiting_qr).await;
        let link = lane
            .machine
            .payment()
            .and_then(|p| p.qr.clone())
            .expect("link");
        assert!(
            link.contains("/_sim/qr-image/v1?token="),
            "{api:?}: an image link: {link}"
        );
        let http = vipps::plain_http_client();
        let png = vipps::qr_image::fetch(&http, &link).await.expect("the PNG");
        let luma: Vec<u8> = png.rgba.chunks(4).map(|p| p[0]).collect();
        let (w, h) = (png.width as usize, png.height as usize);
        let mut img = rqrr::PreparedImage::prepare_from_greyscale(w, h, |x, y| luma[y * w + x]);
        let grids = img.detect_grids();
        assert_eq!(grids.len(), 1, "{api:?}: one QR in Vipps' image");
        let target = grids[0].decode().expect("decodes").1;
        assert_eq!(
            target,
            lane.sim_payments()[0]["qrTargetUrl"]
                .as_str()
                .unwrap_or_default()
        );

        // The customer walks off; the POS withdraws. The image link is dead afterwards.
        lane.feed(Input::OrderWithdrawn("e2e-image-0001".into()))
            .await;
        lane.run_until("ended", |s| matches!(s, State::Failed { order: None, .. }))
            .await;
        let gone = vipps::qr_image::fetch(&http, &link).await;
        assert_eq!(gone.err().and_then(|e| e.status()), Some(404), "{api:?}");
    }
}
